"""Stage integration request: the request template by content type, or the passthrough behaviour."""

from __future__ import annotations

from tests.sandbox.apigateway.conftest import World, assert_gateway_error, put_method, resource_maker, root_of


def test_a_content_type_without_template_is_415_when_passthrough_is_never(world: World) -> None:
    got = world.call("POST", "/comments/p4", "message=hi", signer=world.user,
                     headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert_gateway_error(got, 415, "UNSUPPORTED_MEDIA_TYPE", "Unsupported Media Type")


def test_the_request_template_sees_path_query_and_header_parameters(world: World) -> None:
    got = world.call("GET", "/health?probe=a%20b", headers={"X-Probe": "1"})
    assert got.status_code == 200 and got.json == {"probe": "a b"}


def test_a_request_template_that_fails_is_a_500_configuration_error(world: World) -> None:
    api_id = world.apigw.create_rest_api(name="failing-template")["id"]
    failing = resource_maker(world.apigw, api_id)(root_of(world.apigw, api_id), "failing")
    # escapeJavaScript takes a String: an unquoted number fails under API Gateway's Java reading.
    put_method(world.apigw, api_id, failing, "POST", auth="NONE", mock=True,
               request='{"statusCode": 200, "n": "$util.escapeJavaScript($input.path(\'$.n\'))"}', response="{}")
    world.apigw.create_stage(restApiId=api_id, stageName="prod",
                             deploymentId=world.apigw.create_deployment(restApiId=api_id)["id"])
    got = world.call("POST", "/failing", {"n": 5}, api_id=api_id)
    assert got.status_code == 500
    assert got.json == {"message": "Internal server error"}  # API Gateway's own template: no gateway responses here
    assert got.headers["x-amzn-ErrorType"] == "InternalServerErrorException"
    assert world.call("POST", "/failing", {"n": "5"}, api_id=api_id).status_code == 200  # a String is fine
