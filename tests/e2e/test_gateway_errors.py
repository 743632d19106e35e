"""Errors API Gateway itself answers, through the deployed program over HTTP: the program's gateway
responses (substitution only) give {code, message} JSON with the CORS headers the web app needs,
and the stage's throttling (the program's method settings) answers 429 THROTTLED the same way."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest

from components.contract import PROJECT, STAGE, RegionOut
from components.routes import route_named
from components.settings import config_schema
from harness.program import stack_config
from ops.appclient import AppUser
from sandbox.up import STACK, Sandbox


def fetch(method: str, url: str, *, user: AppUser | None = None, region: str = "", body: bytes = b"",
          headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], Any]:
    """(status, headers, parsed JSON body) of one request, signed as `user` when given."""
    all_headers = {"Content-Type": "application/json", **(headers or {})}
    if user is not None:
        request = AWSRequest(method=method, url=url, data=body, headers=all_headers)
        SigV4Auth(user.credentials, "execute-api", region).add_auth(request)
        all_headers = dict(request.headers.items())
    prepared = urllib.request.Request(url, data=body or None, method=method, headers=all_headers)
    try:
        with urllib.request.urlopen(prepared, timeout=10) as response:
            return response.status, dict(response.headers.items()), json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers.items()), json.loads(error.read() or b"null")


def photos_api(sandbox: Sandbox) -> tuple[str, str, str]:
    """(base URL, region, API id) of the primary photos API."""
    block = sandbox.outputs["primary"]
    return sandbox.ui_config["primary"][RegionOut.PHOTOS_API], block[RegionOut.REGION], block[RegionOut.PHOTOS_API_ID]


def assert_json_error_with_cors(answer: tuple[int, dict[str, str], Any], status: int, code: str,
                                sandbox: Sandbox) -> None:
    got_status, headers, body = answer
    assert got_status == status, body
    assert set(body) == {"code", "message"} and body["code"] == code and body["message"]
    assert headers["Access-Control-Allow-Origin"] == sandbox.web_url
    assert "Authorization" in headers["Access-Control-Allow-Headers"]


def test_the_stage_throttles_as_the_sandbox_stack_declares(sandbox: Sandbox) -> None:
    _, region, api_id = photos_api(sandbox)
    stage = sandbox.client("apigateway", region).get_stage(restApiId=api_id, stageName=STAGE)
    config, schema = stack_config(STACK), config_schema()

    def declared(key: str) -> float:
        return float(config.get(f"{PROJECT}:{key}") or schema[key]["default"])

    assert stage["methodSettings"]["*/*"]["throttlingRateLimit"] == declared("apiThrottleRateLimit")
    assert stage["methodSettings"]["*/*"]["throttlingBurstLimit"] == declared("apiThrottleBurstLimit")


NOWHERE = "/nowhere"  # a path no route has


@pytest.mark.parametrize(
    ("method", "route", "body", "headers", "signed", "status", "code"),
    [
        ("GET", "listPhotos", b"", {}, False, 403, "MISSING_AUTHENTICATION_TOKEN"),
        ("GET", NOWHERE, b"", {}, True, 403, "MISSING_AUTHENTICATION_TOKEN"),
        ("POST", "postComment", b'{"message": ""}', {}, True, 400, "BAD_REQUEST_BODY"),
        ("POST", "postComment", b'{"message": "x"', {}, True, 400, "BAD_REQUEST_BODY"),
        ("POST", "postComment", b"message=x", {"Content-Type": "text/plain"}, True, 415, "UNSUPPORTED_MEDIA_TYPE"),
        ("POST", "registerPhoto", b'{"photoId": "p"}', {}, True, 400, "BAD_REQUEST_BODY"),
    ],
)
def test_gateway_errors_are_code_and_message_json_with_cors(sandbox: Sandbox, user: AppUser, method: str,
                                                            route: str, body: bytes, headers: dict[str, str],
                                                            signed: bool, status: int, code: str) -> None:
    url, region, _ = photos_api(sandbox)
    path = NOWHERE if route == NOWHERE else user.path(route, photoId="p")
    answer = fetch(method, url + path, user=user if signed else None, region=region, body=body, headers=headers)
    assert_json_error_with_cors(answer, status, code, sandbox)


@pytest.fixture
def throttled_photos_listing(sandbox: Sandbox) -> Iterator[None]:
    """The photo listing of the primary limited to 1 request/s, burst 1 (a method setting); restored afterwards."""
    _, region, api_id = photos_api(sandbox)
    apigateway = sandbox.client("apigateway", region)
    default = apigateway.get_stage(restApiId=api_id, stageName=STAGE)["methodSettings"]["*/*"]

    listing = route_named("listPhotos")
    setting = f"/{listing.path.replace('/', '~1')}/{listing.method}/throttling"  # a method setting's patch path

    def limit(rate: Any, burst: Any) -> None:
        apigateway.update_stage(restApiId=api_id, stageName=STAGE, patchOperations=[
            {"op": "replace", "path": f"{setting}/rateLimit", "value": str(rate)},
            {"op": "replace", "path": f"{setting}/burstLimit", "value": str(burst)}])

    limit(1, 1)
    try:
        yield
    finally:
        limit(default["throttlingRateLimit"], default["throttlingBurstLimit"])


def test_requests_over_the_limit_are_429_throttled_json_with_cors(sandbox: Sandbox, user: AppUser,
                                                                  throttled_photos_listing: None) -> None:
    url, region, _ = photos_api(sandbox)
    answers = [fetch("GET", url + user.path("listPhotos"), user=user, region=region) for _ in range(3)]
    assert answers[0][0] == 200
    assert_json_error_with_cors(answers[-1], 429, "THROTTLED", sandbox)
    assert answers[-1][2]["message"] == "Too Many Requests"
    other = user.path("listComments", photoId="any")
    assert fetch("GET", url + other, user=user, region=region)[0] == 200  # other methods: own buckets
