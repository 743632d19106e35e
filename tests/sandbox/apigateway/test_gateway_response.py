"""Stage gateway responses: API Gateway's own errors through the API's gateway responses, substitution only.

API Gateway does not run VTL on a gateway response template: it substitutes $context, $stageVariables
and method request parameters, and leaves everything else as written. These tests pin that, and that
every error the gateway answers with the program's template is {code, message} JSON with CORS headers.
"""

from __future__ import annotations

from typing import Any

from botocore.credentials import Credentials

from sandbox.apigateway.parse import MAX_PAYLOAD_BYTES
from tests.sandbox.apigateway.conftest import ORIGIN, World, assert_gateway_error, put_method, resource_maker, root_of

# What the program's DEFAULT_4XX template was before it became substitution-only: VTL.
VTL_GATEWAY_TEMPLATE = """## Gateway responses DEFAULT_4XX / DEFAULT_5XX
#set($type = "$context.error.responseType")
{"code": "$util.escapeJavaScript($type).replaceAll("\\\\'", "'")", "message": $context.error.messageString}"""


def gateway_api(world: World, responses: dict[str, dict[str, Any]], variables: dict[str, str] | None = None) -> str:
    """An API with GET /open (no auth, MOCK 200) and GET /signed (AWS_IAM), and the given gateway responses."""
    api_id = world.apigw.create_rest_api(name="gateway-responses")["id"]
    resource = resource_maker(world.apigw, api_id)
    root = root_of(world.apigw, api_id)
    put_method(world.apigw, api_id, resource(root, "open"), "GET", auth="NONE", mock=True, response='{"ok": 1}')
    put_method(world.apigw, api_id, resource(root, "signed"), "GET", mock=True, response='{"ok": 1}')
    for kind, settings in responses.items():
        world.apigw.put_gateway_response(restApiId=api_id, responseType=kind, **settings)
    world.apigw.create_stage(restApiId=api_id, stageName="prod", variables=variables or {},
                             deploymentId=world.apigw.create_deployment(restApiId=api_id)["id"])
    return api_id


def test_a_vtl_gateway_template_comes_out_as_written_like_on_aws(world: World) -> None:
    api_id = gateway_api(world, {"DEFAULT_4XX": {"responseTemplates": {"application/json": VTL_GATEWAY_TEMPLATE}}})
    got = world.call("GET", "/signed", api_id=api_id)
    assert got.status_code == 403
    assert got.get_data(as_text=True) == (
        '## Gateway responses DEFAULT_4XX / DEFAULT_5XX\n'
        '#set($type = "MISSING_AUTHENTICATION_TOKEN")\n'
        '{"code": "$util.escapeJavaScript($type).replaceAll("\\\\\'", "\'")", '
        '"message": "Missing Authentication Token"}'
    )


def test_templates_substitute_context_stage_variables_and_request_parameters(world: World) -> None:
    template = ('{"type": "$context.error.responseType", "stage": "$context.stage", "path": "$context.resourcePath", '
                '"v": "$stageVariables.flavour", "none": "$stageVariables.absent", '
                '"trace": "$method.request.header.X-Trace", "unknown": "$context.nothing"}')
    api_id = gateway_api(world, {"MISSING_AUTHENTICATION_TOKEN": {
        "statusCode": "404", "responseTemplates": {"application/json": template},
        "responseParameters": {"gatewayresponse.header.X-Echo": "method.request.header.X-Trace"}}},
        variables={"flavour": "vanilla"})
    got = world.call("GET", "/signed", api_id=api_id, headers={"X-Trace": "t-1"})
    assert got.status_code == 404  # the type's own response and status
    assert got.json == {"type": "MISSING_AUTHENTICATION_TOKEN", "stage": "prod", "path": "/signed", "v": "vanilla",
                        "none": "", "trace": "t-1", "unknown": "$context.nothing"}
    assert got.headers["X-Echo"] == "t-1"


def test_without_gateway_responses_api_gateways_own_message_json_answers(world: World) -> None:
    api_id = gateway_api(world, {})
    got = world.call("GET", "/signed", api_id=api_id)
    assert (got.status_code, got.json) == (403, {"message": "Missing Authentication Token"})
    assert got.headers["x-amzn-ErrorType"] == "MissingAuthenticationTokenException"
    assert "Access-Control-Allow-Origin" not in got.headers  # nothing declared, nothing added


def test_a_body_over_10_mb_is_413_request_too_large(world: World) -> None:
    got = world.call("POST", "/comments/p5", b"x" * (MAX_PAYLOAD_BYTES + 1), signer=world.user)
    assert_gateway_error(got, 413, "REQUEST_TOO_LARGE", "Request Too Long")


def test_every_gateway_error_of_the_program_is_code_and_message_json_with_cors(world: World) -> None:
    """403 (missing token, bad signature, denied), 400 (body, parameters), 415, 5xx through the program's template
    (413 and 429 have their own tests)."""
    answers = {
        "missing token": world.call("GET", "/state/app"),
        "bad signature": world.call("GET", "/state/app", signer=Credentials(world.user.access_key, "x",
                                                                            world.user.token)),
        "denied": world.call("PUT", "/state/app", {"state": "fenced"}, signer=world.user),
        "body": world.call("PUT", "/state/app", {"state": 1}, signer=world.operator),
        "parameters": world.call("GET", "/health"),
        "media type": world.call("POST", "/comments/p", "m=1", signer=world.user,
                                 headers={"Content-Type": "text/plain"}),
        "5xx": world.call("GET", "/broken"),
    }
    expected = {"missing token": (403, "MISSING_AUTHENTICATION_TOKEN"), "bad signature": (403, "INVALID_SIGNATURE"),
                "denied": (403, "ACCESS_DENIED"), "body": (400, "BAD_REQUEST_BODY"),
                "parameters": (400, "BAD_REQUEST_PARAMETERS"), "media type": (415, "UNSUPPORTED_MEDIA_TYPE"),
                "5xx": (500, "API_CONFIGURATION_ERROR")}
    for name, got in answers.items():
        assert_gateway_error(got, *expected[name])
        assert got.headers["Access-Control-Allow-Origin"] == ORIGIN, name
        assert got.headers["x-amzn-RequestId"], name
