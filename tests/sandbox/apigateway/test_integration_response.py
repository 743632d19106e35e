"""Stage integration response: selection pattern, template, status override, response parameters."""

from __future__ import annotations

from types import SimpleNamespace

from sandbox.apigateway.integration_response import select_response
from sandbox.apigateway.parameters import response_headers
from sandbox.credentials import ACCOUNT
from tests.sandbox.apigateway.conftest import ORIGIN, World, resource_maker, root_of


def test_the_response_whose_pattern_fully_matches_the_status_wins_else_the_default() -> None:
    default, client, server = (SimpleNamespace(selection_pattern=p) for p in (None, r"4\d{2}", r"5\d{2}"))
    integration = SimpleNamespace(integration_responses={"200": default, "400": client, "500": server})
    assert select_response(integration, "200") is default
    assert select_response(integration, "409") is client
    assert select_response(integration, "503") is server
    assert select_response(integration, "4000") is default  # full match only


def test_response_parameters_take_static_values_backend_headers_and_request_parameters() -> None:
    mapping = {"method.response.header.A": "'static'", "method.response.header.B": "integration.response.header.x-b",
               "gatewayresponse.header.C": "method.request.header.origin", "method.response.header.D":
               "integration.response.body", "method.response.header.E": "integration.response.header.absent",
               "something.else": "'ignored'"}
    headers = response_headers(mapping, {"header": {"Origin": ORIGIN}}, {"X-B": "from-backend"}, "the body")
    assert headers == {"A": "static", "B": "from-backend", "C": ORIGIN, "D": "the body"}


def test_a_signed_get_returns_the_response_templates_json_with_cors(world: World) -> None:
    got = world.call("GET", "/state/app", signer=world.user)
    assert got.status_code == 200, got.get_data(as_text=True)
    assert got.json == {"state": "active",
                        "by": f"arn:aws:sts::{ACCOUNT}:assumed-role/app-users/CognitoIdentityCredentials"}
    assert got.headers["Content-Type"] == "application/json"
    assert got.headers["Access-Control-Allow-Origin"] == ORIGIN  # the integration response's parameter


def test_a_dynamodb_condition_failure_maps_to_the_error_templates_409(world: World) -> None:
    world.set_state("fenced")
    try:
        got = world.call("POST", "/comments/p3", {"message": "blocked"}, signer=world.user)
    finally:
        world.set_state("active")
    assert got.status_code == 409
    assert got.json == {"code": "READ_ONLY"}
    assert got.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert world.dynamodb.query(TableName="Comments", KeyConditionExpression="photoId = :p",
                                ExpressionAttributeValues={":p": {"S": "p3"}})["Count"] == 0


def test_no_integration_response_for_the_backends_status_is_a_5xx_gateway_error(world: World) -> None:
    api_id = world.apigw.create_rest_api(name="unmapped")["id"]
    unmapped = resource_maker(world.apigw, api_id)(root_of(world.apigw, api_id), "unmapped")
    world.apigw.put_method(restApiId=api_id, resourceId=unmapped, httpMethod="GET", authorizationType="NONE")
    world.apigw.put_method_response(restApiId=api_id, resourceId=unmapped, httpMethod="GET", statusCode="200")
    world.apigw.put_integration(restApiId=api_id, resourceId=unmapped, httpMethod="GET", type="MOCK",
                                requestTemplates={"application/json": '{"statusCode": 503}'})
    world.apigw.put_integration_response(restApiId=api_id, resourceId=unmapped, httpMethod="GET", statusCode="200",
                                         selectionPattern=r"2\d{2}", responseTemplates={"application/json": "{}"})
    world.apigw.create_stage(restApiId=api_id, stageName="prod",
                             deploymentId=world.apigw.create_deployment(restApiId=api_id)["id"])
    got = world.call("GET", "/unmapped", api_id=api_id)
    assert (got.status_code, got.json) == (500, {"message": "Internal server error"})
