"""The deployed APIs over HTTP: signatures, permissions, validation, escaping, fencing."""

from __future__ import annotations

import json
import shutil
import subprocess
import urllib.request

import pytest

from components.contract import photo_key
from components.route import Route
from components.routes import PHOTOS_ROUTES
from ops.appclient import AppUser, new_photo_id
from sandbox.up import Sandbox
from tests.e2e.conftest import set_state_everywhere

HARD_MESSAGES = {
    "double quotes": 'she said "hello"',
    "single quotes": "it's 'quoted'",
    "backslashes": "C:\\path\\to\\file \\n not a newline \\u0041",
    "script tag": "</script><script>alert(1)</script>",
    "emoji": "photo 📷 of a 🐈‍⬛ with 👍🏽",
    "velocity syntax": "#set($x = 1) ${x} $util.escapeJavaScript('a')",
    "json breaking": '"}, "user": {"S": "admin"}, "x": {"S": "',
    "1000 characters": "é" * 400 + "x" * 599 + "!",
    "newlines and tabs": "line one\nline two\ttabbed\r\n",
}


def test_state_get_answers_active_to_a_signed_app_user(user: AppUser) -> None:
    for role in ("primary", "secondary"):
        answer = user.state(role)
        assert answer.status == 200
        assert answer.body["state"] == "active"


def test_signed_curl_reads_the_state_as_the_operator(sandbox: Sandbox) -> None:
    if shutil.which("curl") is None:
        pytest.fail("curl is needed for the documented --aws-sigv4 example")
    keys = sandbox.operator
    out = subprocess.run(
        ["curl", "-sS", "--max-time", "5", "--aws-sigv4", "aws:amz:us-east-1:execute-api",
         "--user", f"{keys['accessKeyId']}:{keys['secretAccessKey']}", sandbox.outputs["primary"]["stateUrl"]],
        capture_output=True, text=True, check=True)
    assert json.loads(out.stdout)["state"] == "active"


def test_operator_may_put_the_state_and_it_is_versioned(sandbox: Sandbox, operator: AppUser) -> None:
    url, region = sandbox.outputs["primary"]["stateUrl"], sandbox.outputs["primary"]["region"]
    before = operator.call("GET", url, region).body["version"]
    answer = operator.call("PUT", url, region, {"state": "fenced", "expectedVersion": before})
    assert answer.status == 200, answer.body
    now = operator.call("GET", url, region).body
    assert now == {"state": "fenced", "version": before + 1}


def test_operator_put_with_a_stale_version_is_409(sandbox: Sandbox, operator: AppUser) -> None:
    url, region = sandbox.outputs["primary"]["stateUrl"], sandbox.outputs["primary"]["region"]
    stale = operator.call("GET", url, region).body["version"] - 1
    answer = operator.call("PUT", url, region, {"state": "fenced", "expectedVersion": stale})
    assert answer.status == 409
    assert operator.call("GET", url, region).body["state"] == "active"


def test_app_user_may_not_put_the_state(sandbox: Sandbox, user: AppUser) -> None:
    answer = user.call("PUT", sandbox.outputs["primary"]["stateUrl"], "us-east-1", {"state": "failover"})
    assert answer.status == 403
    assert answer.body["code"] == "ACCESS_DENIED"
    assert user.state("primary").body["state"] == "active"


@pytest.mark.parametrize("body", [{"state": "bogus"}, {"state": ""}, {}, {"state": "fenced", "expectedVersion": -1},
                                  {"state": 3}])
def test_invalid_state_change_is_400(sandbox: Sandbox, operator: AppUser, body: dict) -> None:
    answer = operator.call("PUT", sandbox.outputs["primary"]["stateUrl"], "us-east-1", body)
    assert answer.status == 400
    assert answer.body["code"] == "BAD_REQUEST_BODY"


@pytest.mark.parametrize("route", PHOTOS_ROUTES, ids=lambda r: r.name)
def test_unsigned_calls_are_403_json(sandbox: Sandbox, user: AppUser, route: Route) -> None:
    url = sandbox.ui_config["primary"]["photosApi"] + user.path(route.name, photoId="p1")
    request = urllib.request.Request(url, data=b'{"message": "hi"}' if route.method == "POST" else None,
                                     method=route.method, headers={"Content-Type": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=5)
    assert refused.value.code == 403
    assert json.loads(refused.value.read())["message"]


def test_a_badly_signed_call_is_403(sandbox: Sandbox, user: AppUser) -> None:
    forged = AppUser(identity_id=user.identity_id, regions=user.regions, endpoints=user.endpoints,
                     credentials=type(user.credentials)(user.credentials.access_key, "not-the-secret",
                                                        user.credentials.token))
    answer = forged.api("GET", "primary", user.path("listPhotos"))
    assert answer.status == 403
    assert answer.body["code"] in ("INVALID_SIGNATURE", "ACCESS_DENIED")


@pytest.mark.parametrize("name", sorted(HARD_MESSAGES))
def test_comment_messages_round_trip_unchanged(user: AppUser, name: str) -> None:
    photo = new_photo_id("rt-")
    posted = user.post_comment("primary", photo, HARD_MESSAGES[name])
    [stored] = user.comments("primary", photo)
    assert stored["message"] == HARD_MESSAGES[name]
    assert stored["commentId"] == posted["commentId"]


def test_a_1001_character_comment_is_400_and_not_stored(user: AppUser) -> None:
    photo = new_photo_id("long-")
    answer = user.api("POST", "primary", user.path("postComment", photoId=photo), {"message": "x" * 1001})
    # API Gateway's own message: the validator's details are not JSON-safe in a gateway response template.
    assert (answer.status, answer.body) == (400, {"code": "BAD_REQUEST_BODY", "message": "Invalid request body"})
    assert user.comments("primary", photo) == []


@pytest.mark.parametrize("body", [{}, {"message": ""}, {"message": 42}, ["message"]])
def test_bad_comment_bodies_are_400(user: AppUser, body: object) -> None:
    answer = user.api("POST", "primary", user.path("postComment", photoId="p-bad"), body)
    assert answer.status == 400
    assert answer.body["code"] == "BAD_REQUEST_BODY"


def test_a_body_that_is_not_json_is_400(user: AppUser, sandbox: Sandbox) -> None:
    url = sandbox.ui_config["primary"]["photosApi"] + user.path("postComment", photoId="p-bad")
    answer = user.call("POST", url, "us-east-1", data=b'{"message": "unterminated')
    assert answer.status == 400
    assert answer.body["code"] == "BAD_REQUEST_BODY"


def test_the_author_is_the_callers_username_whatever_the_body_says(sandbox: Sandbox, user: AppUser) -> None:
    photo = new_photo_id("auth-")
    answer = user.api("POST", "primary", user.path("postComment", photoId=photo),
                      {"message": "hi", "user": "mallory", "owner": "mallory", "photoId": "other"})
    assert answer.status == 200, answer.body
    [stored] = user.comments("primary", photo)
    assert stored["user"] == user.owner == sandbox.demo_user["username"]  # the verified owner, not an identity id
    assert stored["photoId"] == photo


def test_the_photo_owner_and_key_are_the_callers_whatever_the_body_says(sandbox: Sandbox, user: AppUser) -> None:
    photo = new_photo_id("own-body-")
    assert user.put_object("primary", photo, b"\x89PNG body", "image/png").status == 200
    answer = user.api("POST", "primary", user.path("registerPhoto"), {
        "photoId": photo, "size": 10, "contentType": "image/png", "owner": "mallory", "key": "public/mallory/x"})
    assert answer.status == 200, answer.body
    [stored] = [p for p in user.photos("primary") if p["photoId"] == photo]
    assert (stored["owner"], stored["key"]) == (sandbox.demo_user["username"], photo_key(user.owner, photo))


@pytest.mark.parametrize("body", [
    {"photoId": "has space", "size": 10, "contentType": "image/png"},
    {"photoId": "ok", "size": 0, "contentType": "image/png"},
    {"photoId": "ok", "size": 10 * 1024 * 1024 + 1, "contentType": "image/png"},
    {"photoId": "ok", "size": 10, "contentType": "text/html"},
    {"photoId": "ok", "size": 10},
])
def test_bad_photo_records_are_400(user: AppUser, body: dict) -> None:
    answer = user.api("POST", "primary", user.path("registerPhoto"), body)
    assert answer.status == 400
    assert answer.body["code"] == "BAD_REQUEST_BODY"


def test_photo_record_is_listed_newest_first_with_its_owner(user: AppUser) -> None:
    first, second = new_photo_id("order-a-"), new_photo_id("order-b-")
    user.upload_photo("primary", first, b"\x89PNG first")
    user.upload_photo("primary", second, b"\x89PNG second")
    listed = [p for p in user.photos("primary") if p["photoId"] in (first, second)]
    assert [p["photoId"] for p in listed] == [second, first]
    assert all(p["owner"] == user.owner and p["key"] == photo_key(user.owner, p["photoId"]) for p in listed)
    assert user.get_object("primary", second).body == b"\x89PNG second"


def test_fenced_refuses_writes_in_both_regions_with_409(sandbox: Sandbox, user: AppUser) -> None:
    set_state_everywhere(sandbox, "fenced")
    for role in ("primary", "secondary"):
        comment = user.send_comment(role, "fenced", "refused")
        photo = user.register_photo(role, new_photo_id(), 3)
        assert (comment.status, photo.status) == (409, 409)
        assert comment.body["code"] == photo.body["code"] == "READ_ONLY"
    assert user.comments("primary", "fenced") == []


def test_failover_accepts_writes_in_the_secondary_only(sandbox: Sandbox, user: AppUser) -> None:
    set_state_everywhere(sandbox, "failover")
    photo = new_photo_id("fo-")
    assert user.send_comment("primary", photo, "primary").status == 409
    assert user.send_comment("secondary", photo, "secondary").status == 200
    assert [c["message"] for c in user.comments("secondary", photo)] == ["secondary"]
