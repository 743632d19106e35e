"""Stage validate: required parameters "included and not blank", bodies against the model (JSON Schema draft 4)."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest

from components.contract import USERNAME_PATTERN
from components.routes import PHOTO_ID_PATTERN, PHOTO_MODEL
from sandbox.apigateway.invocation import GatewayError, Invocation
from sandbox.apigateway.validate import validate
from tests.sandbox.apigateway.conftest import COMMENT_MODEL, STATE_MODEL, World, assert_gateway_error

MODELS: dict[str, Any] = {"StateUpdate": STATE_MODEL, "CommentCreate": COMMENT_MODEL, "NewPhoto": PHOTO_MODEL}


def invocation(body: Any = None, *, model: str = "StateUpdate", content_type: str = "application/json",
               parameters: dict[str, bool] | None = None, query: str = "", headers: dict[str, str] | None = None,
               validate_body: bool = True, validate_parameters: bool = True) -> Invocation:
    """An invocation of a method whose validator and models are plain objects (moto's shapes)."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    api = SimpleNamespace(
        request_validators={"v": SimpleNamespace(validate_request_body=validate_body,
                                                 validate_request_parameters=validate_parameters)},
        models={name: SimpleNamespace(schema=json.dumps(schema)) for name, schema in MODELS.items()},
    )
    method = SimpleNamespace(request_validator_id="v", request_models={"application/json": model},
                             request_parameters=parameters or {})
    return Invocation(method="POST", api_id="a", stage_name="prod", raw_path="/x", segments=["x"], query_string=query,
                      headers={"Content-Type": content_type, **(headers or {})}, body=raw, source_ip="127.0.0.1",
                      region_hint=None, api=api, api_method=method)


def refusal(call: Invocation) -> GatewayError:
    with pytest.raises(GatewayError) as refused:
        validate(call)
    return refused.value


@pytest.mark.parametrize(
    ("body", "model", "details"),
    [
        ({"state": "paused"}, "StateUpdate",
         '[instance value ("paused") not found in enum (possible values: ["active","fenced","failover"])]'),
        ({"text": "x"}, "CommentCreate", '[object has missing required properties (["message"])]'),
        ({"message": "x" * 1001}, "CommentCreate",
         f'[string "{"x" * 1001}" is too long (length: 1001, maximum allowed: 1000)]'),
        ({"message": 42}, "CommentCreate",
         '[instance type (integer) does not match any allowed primitive type (allowed: ["string"]) at /message]'),
    ],
)
def test_a_body_failing_its_model_is_bad_request_body_worded_like_api_gateway(body: Any, model: str,
                                                                              details: str) -> None:
    error = refusal(invocation(body, model=model))
    assert (error.response_type, error.message, error.validation_error) == ("BAD_REQUEST_BODY",
                                                                            "Invalid request body", details)


def test_a_photo_id_with_a_trailing_newline_is_refused_as_ecma_262_anchors_it() -> None:
    """Python's `$` also matches before a final newline; ECMA-262's (API Gateway's validator) does not."""
    error = refusal(invocation({"photoId": "nlx\n", "size": 3, "contentType": "image/png"}, model="NewPhoto"))
    assert (error.response_type, error.validation_error) == (
        "BAD_REQUEST_BODY", f'[ECMA 262 regex "{PHOTO_ID_PATTERN}" does not match input string "nlx\\n" at /photoId]')
    error = refusal(invocation({"photoId": "nlx", "size": 3, "contentType": "image/png\n"}, model="NewPhoto"))
    assert "does not match input string \"image/png\\n\"" in error.validation_error
    validate(invocation({"photoId": "nlx", "size": 3, "contentType": "image/png"}, model="NewPhoto"))


@pytest.mark.parametrize(
    ("pattern", "value", "matches"),
    [
        (PHOTO_ID_PATTERN, "abc\n", False),  # `$` is the end of the input only
        (USERNAME_PATTERN, "demo\n", False),
        (USERNAME_PATTERN, "\ndemo", False),  # `^` is the start of the input only
        (r"^\d+$", "\u0663", False),  # \d is ASCII 0-9, not every Unicode digit
        (r"^\w+$", "caf\u00e9", False),  # \w is ASCII
        (r"^.$", "\r", False),  # `.` excludes every line terminator (\n, \r, U+2028, U+2029)
        (r"^.$", "\u2028", False),
        (r"^\s$", "\ufeff", True),  # ECMA's \s includes the BOM (Python's does not)
        (r"a\Z", "aZ", True),  # no \Z anchor in ECMA-262: an identity escape
        (r"[A-Za-z]{4,10}", "n@me!!abcd", True),  # searched anywhere, like RegExp.test
    ],
)
def test_patterns_are_ecma_262_regular_expressions(pattern: str, value: str, matches: bool) -> None:
    MODELS["Probe"] = {"type": "object", "properties": {"v": {"type": "string", "pattern": pattern}}}
    try:
        call = invocation({"v": value}, model="Probe")
        if matches:
            validate(call)
        else:
            assert refusal(call).response_type == "BAD_REQUEST_BODY"
    finally:
        del MODELS["Probe"]


def test_a_body_that_is_not_json_is_bad_request_body() -> None:
    error = refusal(invocation(b'{"state": '))
    assert error.response_type == "BAD_REQUEST_BODY" and error.validation_error.startswith("[Invalid JSON")


def test_a_valid_body_passes_and_a_content_type_without_model_is_not_validated() -> None:
    validate(invocation({"state": "fenced"}))
    validate(invocation(b"state=whatever", content_type="application/x-www-form-urlencoded"))


@pytest.mark.parametrize(("query", "headers", "missing"), [
    ("", {}, "[probe, X-Probe]"),
    ("probe=", {"X-Probe": "1"}, "[probe]"),  # blank is missing
    ("probe=%20", {"X-Probe": "1"}, "[probe]"),
    ("probe=yes", {"X-Probe": " "}, "[X-Probe]"),
])
def test_required_parameters_must_be_present_and_not_blank(query: str, headers: dict[str, str],
                                                           missing: str) -> None:
    required = {"method.request.querystring.probe": True, "method.request.header.X-Probe": True,
                "method.request.querystring.optional": False}
    error = refusal(invocation({"state": "active"}, parameters=required, query=query, headers=headers))
    assert (error.response_type, error.message) == ("BAD_REQUEST_PARAMETERS",
                                                    f"Missing required request parameters: {missing}")
    validate(invocation({"state": "active"}, parameters=required, query="probe=yes", headers={"x-probe": "1"}))


def test_a_validator_checks_only_what_it_is_set_to() -> None:
    validate(invocation({"state": "paused"}, validate_body=False))
    validate(invocation({"state": "active"}, parameters={"method.request.querystring.q": True},
                        validate_parameters=False))


# -- through the pipeline ------------------------------------------------------------------------------------------
def test_a_body_failing_the_model_is_400_json_with_cors_and_changes_nothing(world: World) -> None:
    got = world.call("PUT", "/state/app", {"state": "paused"}, signer=world.operator)
    assert_gateway_error(got, 400, "BAD_REQUEST_BODY", "Invalid request body")
    assert world.state() == "active"


def test_the_longest_valid_comment_passes_and_one_more_character_is_400(world: World) -> None:
    assert world.call("POST", "/comments/p2", {"message": "x" * 1000}, signer=world.user).status_code == 200
    assert_gateway_error(world.call("POST", "/comments/p2", {"message": "x" * 1001}, signer=world.user), 400,
                         "BAD_REQUEST_BODY")


def test_missing_required_parameters_are_400_bad_request_parameters(world: World) -> None:
    missing = world.call("GET", "/health", headers={"X-Probe": "1"})
    assert_gateway_error(missing, 400, "BAD_REQUEST_PARAMETERS", "Missing required request parameters: [probe]")
    present = world.call("GET", "/health?probe=yes", headers={"X-Probe": "1"})
    assert present.status_code == 200 and present.json == {"probe": "yes"}
