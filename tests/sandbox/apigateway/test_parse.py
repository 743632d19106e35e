"""Stage parse: the WSGI request becomes an Invocation exactly as sent (the signature covers it)."""

from __future__ import annotations

import io
from typing import Any

from sandbox.apigateway.parse import MAX_PAYLOAD_BYTES, parse
from tests.sandbox.apigateway.conftest import World


def environ(target: str, body: bytes = b"", **extra: Any) -> dict[str, Any]:
    path, _, query = target.partition("?")
    return {"REQUEST_METHOD": "post", "RAW_URI": target, "PATH_INFO": path, "QUERY_STRING": query,
            "CONTENT_LENGTH": str(len(body)), "CONTENT_TYPE": "application/json", "wsgi.input": io.BytesIO(body),
            "HTTP_X_AMZ_DATE": "20260101T000000Z", "REMOTE_ADDR": "192.0.2.7", **extra}


def test_the_path_is_kept_as_sent_and_its_segments_decoded_one_by_one() -> None:
    invocation = parse(environ("/execute-api/abc123/prod/comments/my%20photo%2Fx?b=2&a=x%20y", b'{"m": 1}'))
    assert invocation is not None
    assert (invocation.method, invocation.api_id, invocation.stage_name) == ("POST", "abc123", "prod")
    assert invocation.raw_path == "/execute-api/abc123/prod/comments/my%20photo%2Fx"
    assert invocation.segments == ["comments", "my photo/x"]  # an encoded slash stays inside its segment
    assert invocation.path == "/comments/my photo/x"
    assert invocation.query_string == "b=2&a=x%20y"
    assert invocation.querystring == {"b": "2", "a": "x y"}
    assert invocation.body == b'{"m": 1}'
    assert invocation.header("x-amz-date") == "20260101T000000Z"
    assert invocation.header("Content-Type") == "application/json"
    assert invocation.source_ip == "192.0.2.7"


def test_an_absolute_form_request_target_is_reduced_to_its_path() -> None:
    invocation = parse(environ("http://localhost:4566/execute-api/abc123/prod/state/app?x=1"))
    assert invocation is not None and invocation.raw_path == "/execute-api/abc123/prod/state/app"


def test_paths_that_name_no_api_and_stage_are_not_invocations() -> None:
    for target in ("/", "/execute-api/", "/execute-api/abc123", "/execute-api/abc123/", "/other/abc/prod/x"):
        assert parse(environ(target)) is None, target


def test_the_content_type_defaults_to_json_and_the_last_query_value_wins() -> None:
    invocation = parse(environ("/execute-api/a/prod/x?k=1&k=2", CONTENT_TYPE=""))
    assert invocation is not None
    assert invocation.content_type == "application/json"
    assert invocation.querystring == {"k": "2"}


def test_no_more_than_the_payload_limit_plus_one_byte_is_read() -> None:
    stream = io.BytesIO(b"x" * (MAX_PAYLOAD_BYTES + 100))
    invocation = parse({**environ("/execute-api/a/prod/x"), "CONTENT_LENGTH": str(MAX_PAYLOAD_BYTES + 100),
                        "wsgi.input": stream})
    assert invocation is not None and len(invocation.body) == MAX_PAYLOAD_BYTES + 1


def test_a_path_outside_execute_api_is_404(world: World) -> None:
    got = world.client.get("/elsewhere", headers={"Host": "localhost"})
    assert got.status_code == 404
