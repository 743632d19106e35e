"""Helpers of the browser tests: Debian's chromium driven by Playwright (sync API), a tiny PNG,
screenshots under test-artifacts/browser/, and the page actions the tests share.

No browser is ever downloaded: the tests drive /usr/bin/chromium and fail (never skip) without it.
"""

from __future__ import annotations

import json
import re
import struct
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Playwright, expect, sync_playwright
from typer.testing import CliRunner

from components.contract import USERNAME_PATTERN
from ops.cli import app
from ops.factory import Factory

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"
SESSION_KEY = "multi-region-app.session.v1"  # webapp/src/auth.ts

UI_TIMEOUT_MS = 15_000  # routing is polled every 10 s: a state change shows within one poll and some margin
ACTION_TIMEOUT_MS = 10_000


# -- the browser --------------------------------------------------------------------------------------
@contextmanager
def chromium() -> Iterator[Browser]:
    """Debian's chromium, headless. Must be entered before anything else in the thread uses asyncio:
    while it runs, the sync API marks its event loop as the thread's running loop."""
    if not CHROMIUM.is_file():
        pytest.fail(f"{CHROMIUM} is missing: the browser tests drive Debian's chromium and download no browser; "
                    "install it with `apt-get install chromium` (or `make setup`)", pytrace=False)
    with sync_playwright() as playwright:
        browser = _launch(playwright)
        try:
            yield browser
        finally:
            browser.close()


def _launch(playwright: Playwright) -> Browser:
    try:
        return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
    except Exception as error:  # turned into a clear failure
        pytest.fail(f"{CHROMIUM} does not start under Playwright: {error}", pytrace=False)


def new_page(browser: Browser, base_url: str, page_errors: list[str]) -> Page:
    """A page in a context of its own (own sessionStorage: signed out); uncaught exceptions of the app
    are appended to `page_errors`."""
    context = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    page = context.new_page()
    page.on("pageerror", lambda error: page_errors.append(f"{page.url}: {error}"))
    return page


def screenshot(page: Page, step: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{step}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


# -- the app ------------------------------------------------------------------------------------------
def fill_sign_in(page: Page, username: str, password: str) -> None:
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def sign_in(page: Page, user: dict[str, str]) -> None:
    page.goto("/")
    fill_sign_in(page, user["username"], user["password"])
    expect(page.get_by_role("heading", name="Gallery")).to_be_visible(timeout=UI_TIMEOUT_MS)
    gallery_loaded(page)


def gallery_loaded(page: Page) -> None:
    """The gallery knows its region and is not loading (its Refresh button is enabled then)."""
    expect(page.get_by_role("button", name="Refresh")).to_be_enabled(timeout=UI_TIMEOUT_MS)


def expect_banner(page: Page, state: str, region: str, timeout: int = UI_TIMEOUT_MS) -> None:
    expect(page.get_by_test_id("app-state")).to_have_text(state, timeout=timeout)
    expect(page.get_by_test_id("region")).to_have_text(region, timeout=timeout)


def gallery_from(page: Page, region: str) -> None:
    expect(page.locator(".gallery .section-head")).to_contain_text(f"from {region}", timeout=UI_TIMEOUT_MS)


def tile(page: Page, photo_id: str) -> Any:
    return page.locator(f'li.tile[data-photo-id="{photo_id}"]')


def open_photo(page: Page, photo_id: str) -> None:
    """Open a photo from the gallery (Refresh first: it may have been added behind the page's back)."""
    if tile(page, photo_id).count() == 0:
        page.get_by_role("button", name="Refresh").click()
    tile(page, photo_id).get_by_role("button").click()
    expect(page.get_by_role("dialog")).to_be_visible()
    expect(page).to_have_url(re.compile(rf"/photos/{re.escape(photo_id)}$"))


def stored_session(page: Page) -> dict[str, Any]:
    """The signed-in session as the app stored it (webapp/src/auth.ts)."""
    return json.loads(page.evaluate(f"sessionStorage.getItem({json.dumps(SESSION_KEY)})"))


def session_owner(page: Page) -> str:
    """The owner value of the page's session: the user-pool username, the author of what it writes."""
    return str(stored_session(page)["owner"])


def author_label(user: str, me: str) -> str:
    """webapp/src/format.ts authorLabel: "you", another username as itself, an old identity id shortened."""
    if not user:
        return "unknown"
    if user == me:
        return "you"
    if re.fullmatch(USERNAME_PATTERN, user):
        return user
    compact = re.sub(r"[^A-Za-z0-9]", "", user.split(":", 1)[-1])
    return f"user {compact[:8] or user[:8]}"


def mark_document(page: Page) -> None:
    """A marker that a reload (or a navigation) would wipe."""
    page.evaluate("window.__marker = 1")


def assert_not_reloaded(page: Page) -> None:
    assert page.evaluate("window.__marker") == 1, "the page was reloaded"


# -- data and the operator's CLI -------------------------------------------------------------------------
def png(width: int = 48, height: int = 32) -> bytes:
    """A valid RGB PNG (a colour gradient), built by hand."""
    rows = b"".join(b"\x00" + b"".join(bytes((x * 255 // width, y * 255 // height, 160)) for x in range(width))
                    for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def ops(session_file: Path, *args: str) -> str:
    """`python -m ops --sandbox ...` in-process; its output. Fails the test unless it exits 0."""
    result = CliRunner().invoke(app, ["--sandbox", *args], obj=Factory(session_file=session_file))
    assert result.exit_code == 0, f"ops {' '.join(args)} exited {result.exit_code}: {result.output}"
    return result.output
