"""The web app in a real browser (Debian's chromium under Playwright) against the deployed sandbox:
sign-in, upload, comments, and the open page following the runbook (fenced, failover, primary
outage, fail back) without a reload. A screenshot of each step goes to test-artifacts/browser/.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Request, Route, expect

from components.routes import route_named
from ops.appclient import AppUser, new_photo_id
from sandbox.up import Sandbox
from tests.e2e.browser_support import (
    UI_TIMEOUT_MS,
    assert_not_reloaded,
    author_label,
    chromium,
    expect_banner,
    fill_sign_in,
    gallery_from,
    mark_document,
    new_page,
    open_photo,
    ops,
    png,
    screenshot,
    session_owner,
    sign_in,
    stored_session,
    tile,
)
from tests.e2e.conftest import WAIT

FENCED_NOTICE = "The application is fenced for a region switch; writes are paused"
TRICKY = 'she said "hi" 👋 & <b>bold</b>'


@pytest.fixture(scope="module")
def browser(sandbox: Sandbox) -> Iterator[Browser]:
    # Depends on the sandbox: it is deployed (Pulumi, asyncio) before the sync API takes the thread's loop.
    if not sandbox.web or not (sandbox.web.dist_dir / "index.html").is_file():
        pytest.fail("the web app is not built: run `cd webapp && npm ci && npm run build` (or `make setup`)",
                    pytrace=False)
    with chromium() as running:
        yield running


@pytest.fixture
def open_page(browser: Browser, sandbox: Sandbox) -> Iterator[Callable[[], Page]]:
    """Fresh pages, each in a context of its own; fails the test if the app threw an uncaught exception."""
    errors: list[str] = []
    pages: list[Page] = []

    def make() -> Page:
        assert sandbox.web_url, "the sandbox serves no web app"
        pages.append(new_page(browser, sandbox.web_url, errors))
        return pages[-1]

    yield make
    for page in pages:
        page.context.close()
    assert not errors, f"uncaught exceptions in the page: {errors}"


@pytest.fixture
def page(open_page: Callable[[], Page]) -> Page:
    return open_page()


def region(sandbox: Sandbox, role: str) -> str:
    return sandbox.ui_config[role]["region"]


def comment_posts(sandbox: Sandbox, role: str, owner: str) -> Callable[[Request], bool]:
    """Matches the browser's POST of a comment by `owner` to `role`'s photos API (not the CORS preflight)."""
    route = route_named("postComment")
    prefix = sandbox.ui_config[role]["photosApi"].rstrip("/") + route.url_path(owner=owner, photoId="")
    return lambda request: request.method == route.method and request.url.startswith(prefix)


def expect_authors(page: Page, labels: list[str]) -> None:
    """The open photo's comment authors, in order."""
    expect(page.locator("li.comment .comment-meta strong")).to_have_text(labels, timeout=UI_TIMEOUT_MS)


def post_comment(page: Page, message: str) -> None:
    page.get_by_label("Comment").fill(message)
    page.get_by_role("button", name="Post").click()
    expect(page.locator("li.comment .comment-text").last).to_have_text(message, timeout=UI_TIMEOUT_MS)
    expect(page.get_by_label("Comment")).to_have_value("")


# -- 1. sign-in ---------------------------------------------------------------------------------------------
def test_sign_in_refuses_a_wrong_password_and_then_shows_the_gallery_from_the_primary(
        sandbox: Sandbox, page: Page) -> None:
    page.goto("/")
    fill_sign_in(page, sandbox.demo_user["username"], "Not-the-password-1")
    expect(page.get_by_role("alert")).to_have_text("Wrong username or password", timeout=UI_TIMEOUT_MS)
    expect(page.get_by_role("heading", name="Gallery")).to_have_count(0)
    screenshot(page, "01-sign-in-wrong-password")

    page.get_by_label("Password").fill(sandbox.demo_user["password"])
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Gallery")).to_be_visible(timeout=UI_TIMEOUT_MS)
    expect_banner(page, "active", region(sandbox, "primary"))
    gallery_from(page, region(sandbox, "primary"))
    expect(page.locator(".account")).to_contain_text(f"Signed in as {sandbox.demo_user['username']}")
    expect(page.get_by_role("alert")).to_have_count(0)
    screenshot(page, "01-sign-in-gallery")


# -- 2. upload ----------------------------------------------------------------------------------------------
def test_upload_shows_progress_then_the_photo_in_the_gallery_without_reload_and_refuses_non_images(
        sandbox: Sandbox, user: AppUser, page: Page) -> None:
    sign_in(page, sandbox.demo_user)
    expect_banner(page, "active", region(sandbox, "primary"))
    expect(page.get_by_label("Upload photo")).to_be_enabled(timeout=UI_TIMEOUT_MS)
    mark_document(page)
    before = set(page.locator("li.tile").evaluate_all("tiles => tiles.map(t => t.dataset.photoId)"))

    # Hold the S3 PUT a moment, long enough to see (and photograph) the progress.
    primary = sandbox.ui_config["primary"]
    bucket_url = f"{primary['endpoint']}/{primary['objectStoreBucketName']}/"

    def slow_put(route: Route) -> None:
        if route.request.method == "PUT":
            page.wait_for_timeout(1000)
        route.continue_()

    page.route(re.compile(re.escape(bucket_url) + ".*"), slow_put)
    image = png()
    page.get_by_label("Upload photo").set_input_files({"name": "gradient.png", "mimeType": "image/png",
                                                      "buffer": image})
    expect(page.get_by_role("progressbar", name="Upload progress")).to_be_visible(timeout=UI_TIMEOUT_MS)
    expect(page.locator(".upload .progress")).to_contain_text("Uploading…")
    screenshot(page, "02-upload-progress")

    expect(page.locator(".upload .notice.ok")).to_have_text(
        f'"gradient.png" was uploaded to {region(sandbox, "primary")}.', timeout=UI_TIMEOUT_MS)
    expect(page.get_by_role("progressbar", name="Upload progress")).to_have_count(0)
    first = page.locator("li.tile").first
    photo_id = first.get_attribute("data-photo-id")
    assert photo_id and photo_id not in before, "the new photo is not first in the gallery"
    expect(first.locator(".img-frame")).to_have_attribute("data-phase", "loaded", timeout=UI_TIMEOUT_MS)
    assert first.locator("img").evaluate("img => [img.naturalWidth, img.naturalHeight]") == [48, 32]
    assert_not_reloaded(page)
    screenshot(page, "02-upload-in-gallery")
    page.unroute(re.compile(re.escape(bucket_url) + ".*"))

    stored = {p["photoId"]: p for p in user.photos("primary")}
    assert stored[photo_id]["size"] == len(image) and stored[photo_id]["contentType"] == "image/png"
    assert user.get_object("primary", photo_id).body == image

    page.get_by_label("Upload photo").set_input_files({"name": "notes.txt", "mimeType": "text/plain",
                                                      "buffer": b"not an image"})
    expect(page.locator(".upload").get_by_role("alert")).to_contain_text('"notes.txt" is not an image',
                                                                         timeout=UI_TIMEOUT_MS)
    expect(page.locator("li.tile")).to_have_count(len(before) + 1)
    assert_not_reloaded(page)
    screenshot(page, "02-upload-not-an-image")


# -- 3. comments --------------------------------------------------------------------------------------------
def test_a_comment_with_quotes_emoji_and_markup_shows_in_order_with_its_author_and_is_stored_exactly(
        sandbox: Sandbox, user: AppUser, page: Page) -> None:
    photo = new_photo_id("browser-comment-")
    user.upload_photo("primary", photo, png())
    user.post_comment("primary", photo, "first, from the API")
    sign_in(page, sandbox.demo_user)
    expect_banner(page, "active", region(sandbox, "primary"))
    open_photo(page, photo)
    expect(page.locator("li.comment .comment-text")).to_have_text(["first, from the API"], timeout=UI_TIMEOUT_MS)

    post_comment(page, TRICKY)
    me = session_owner(page)
    assert me == user.owner == sandbox.demo_user["username"]  # the username, not the region's identity id
    stored = user.comments("primary", photo)
    assert [c["message"] for c in stored] == ["first, from the API", TRICKY]
    assert [c["user"] for c in stored] == [me, me]
    expected = [author_label(c["user"], me) for c in stored]
    assert expected == ["you", "you"]
    expect(page.locator("li.comment .comment-text")).to_have_text(["first, from the API", TRICKY])
    expect_authors(page, expected)
    expect(page.locator("li.comment .comment-text b")).to_have_count(0)  # text, never markup
    screenshot(page, "03-comment-posted")

    page.reload()  # what the server stored, read back: same order, same text
    expect(page.get_by_role("dialog")).to_be_visible(timeout=UI_TIMEOUT_MS)
    expect(page.locator("li.comment .comment-text")).to_have_text(["first, from the API", TRICKY],
                                                                   timeout=UI_TIMEOUT_MS)
    expect_authors(page, expected)
    screenshot(page, "03-comment-after-reload")


# -- 4-7. the runbook, seen from an open page ---------------------------------------------------------------
def test_the_open_page_follows_fence_failover_primary_outage_and_fail_back_without_reload(
        sandbox: Sandbox, user: AppUser, session_file: Path, open_page: Callable[[], Page]) -> None:
    primary, secondary = region(sandbox, "primary"), region(sandbox, "secondary")
    photo = new_photo_id("browser-runbook-")
    user.upload_photo("primary", photo, png())
    user.post_comment("primary", photo, "before the switch")
    assert sandbox.cloud.wait_replication_idle(WAIT)

    page = open_page()
    sign_in(page, sandbox.demo_user)
    expect_banner(page, "active", primary)
    open_photo(page, photo)
    expect(page.locator("li.comment .comment-text")).to_have_text(["before the switch"], timeout=UI_TIMEOUT_MS)
    expect(page.get_by_label("Comment")).to_be_enabled()
    mark_document(page)
    screenshot(page, "04-active")

    # 4. fenced: writes are paused on the open page, no reload
    ops(session_file, "state", "set", "fenced", "--reason", "browser test")
    expect_banner(page, "fenced", primary)
    expect(page.get_by_label("Upload photo")).to_be_disabled()
    expect(page.get_by_label("Comment")).to_be_disabled()
    expect(page.get_by_role("button", name="Post")).to_be_disabled()
    expect(page.get_by_role("dialog").get_by_text(FENCED_NOTICE)).to_be_visible()
    assert_not_reloaded(page)
    screenshot(page, "04-fenced")

    # 5. failover: reads and writes move to the secondary, no reload
    ops(session_file, "state", "set", "failover", "--via", "secondary")
    expect_banner(page, "failover", secondary)
    gallery_from(page, secondary)
    expect(page.get_by_label("Comment")).to_be_enabled()
    expect(page.locator("li.comment .comment-text")).to_have_text(["before the switch"], timeout=UI_TIMEOUT_MS)
    assert_not_reloaded(page)
    with page.expect_request(comment_posts(sandbox, "secondary", user.owner), timeout=UI_TIMEOUT_MS) as posted:
        post_comment(page, "written during the failover")
    response = posted.value.response()
    assert response is not None and response.status == 200, "the comment was not accepted by the secondary"
    assert [c["message"] for c in user.comments("secondary", photo)] == ["before the switch",
                                                                         "written during the failover"]
    assert_not_reloaded(page)
    screenshot(page, "05-failover")

    # 6. the primary is down: the same person signs in on a fresh page, through the secondary's user pool and
    # identity pool (another identity id): what they wrote through the primary is still theirs ("you"), and
    # what they write now carries the same owner value
    sandbox.cloud.set_outage("primary", True)
    visitor = open_page()
    visitor.goto("/")
    fill_sign_in(visitor, sandbox.demo_user["username"], sandbox.demo_user["password"])
    expect(visitor.get_by_role("heading", name="Gallery")).to_be_visible(timeout=UI_TIMEOUT_MS)
    expect(visitor.locator(".account")).to_contain_text(f"via {secondary}")
    expect_banner(visitor, "failover", secondary)
    gallery_from(visitor, secondary)
    there = stored_session(visitor)
    assert there["role"] == "secondary" and there["identityId"] != stored_session(page)["identityId"]
    assert there["owner"] == user.owner
    expect(tile(visitor, photo).locator(".img-frame")).to_have_attribute("data-phase", "loaded",
                                                                          timeout=UI_TIMEOUT_MS)
    expect(tile(visitor, photo).locator(".tile-meta span")).to_have_text("you")
    open_photo(visitor, photo)
    expect(visitor.get_by_role("dialog").get_by_role("heading", name="Photo by you")).to_be_visible()
    expect(visitor.locator("li.comment .comment-text")).to_have_text(
        ["before the switch", "written during the failover"], timeout=UI_TIMEOUT_MS)
    expect_authors(visitor, ["you", "you"])
    with visitor.expect_request(comment_posts(sandbox, "secondary", user.owner), timeout=UI_TIMEOUT_MS) as posted:
        post_comment(visitor, "written through the secondary's sign-in")
    response = posted.value.response()
    assert response is not None and response.status == 200, "the secondary refused the visitor's comment"
    expect_authors(visitor, ["you", "you", "you"])
    assert [c["user"] for c in user.comments("secondary", photo)] == [user.owner] * 3
    screenshot(visitor, "06-primary-outage-new-visitor")
    expect_banner(page, "failover", secondary)  # the open page is not disturbed by the outage
    screenshot(page, "06-primary-outage-open-page")

    # 7. fail back: the open page returns to the primary, no reload; writes go to the primary again
    sandbox.cloud.set_outage("primary", False)
    ops(session_file, "state", "set", "fenced", "--via", "secondary", "--reason", "fail back")
    assert sandbox.cloud.wait_replication_idle(WAIT), "replication did not drain"
    ops(session_file, "state", "set", "active", "--via", "primary", "--reason", "fail back")
    expect_banner(page, "active", primary)
    gallery_from(page, primary)
    expect(page.get_by_label("Comment")).to_be_enabled()
    assert_not_reloaded(page)
    with page.expect_request(comment_posts(sandbox, "primary", user.owner), timeout=UI_TIMEOUT_MS) as posted:
        post_comment(page, "back in the primary")
    response = posted.value.response()
    assert response is not None and response.status == 200, "the comment was not accepted by the primary"
    assert [c["message"] for c in user.comments("primary", photo)] == [
        "before the switch", "written during the failover", "written through the secondary's sign-in",
        "back in the primary"]
    screenshot(page, "07-fail-back")
    expect_banner(visitor, "active", primary)  # a session from the secondary's pool reads the primary too
    screenshot(visitor, "07-fail-back-visitor")
