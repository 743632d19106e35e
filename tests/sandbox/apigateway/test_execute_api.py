"""The pipeline as a whole: request ids, metrics, and a sandbox bug still answered like API Gateway."""

from __future__ import annotations

import pytest

from sandbox.apigateway import ExecuteApi
from tests.sandbox.apigateway.conftest import World, assert_gateway_error, with_app


def test_every_answer_carries_api_gateways_request_id_headers(world: World) -> None:
    for got in (world.call("GET", "/state/app", signer=world.user), world.call("GET", "/state/app")):
        assert len(got.headers["x-amzn-RequestId"]) == 36
        assert got.headers["x-amz-apigw-id"] == got.headers["x-amzn-RequestId"].replace("-", "")[:16]


def test_requests_are_counted_per_api(world: World) -> None:
    before = world.app.metrics().get(world.api_id, {"requests": 0, "statuses": {}})
    world.call("GET", "/state/app", signer=world.user)
    world.call("GET", "/state/app")
    after = world.app.metrics()[world.api_id]
    assert after["requests"] == before["requests"] + 2
    assert after["statuses"][200] >= before["statuses"].get(200, 0) + 1
    assert after["statuses"][403] >= before["statuses"].get(403, 0) + 1
    assert after["latencyMsMax"] > 0


def test_an_unexpected_failure_is_a_logged_500_gateway_response(world: World, monkeypatch: pytest.MonkeyPatch,
                                                                caplog: pytest.LogCaptureFixture) -> None:
    def explode(_invocation: object) -> None:
        raise RuntimeError("sandbox bug")

    monkeypatch.setattr("sandbox.apigateway.execute_api.route", explode)
    got = with_app(world, ExecuteApi(world.broker)).call("GET", "/state/current")
    assert_gateway_error(got, 500, "API_CONFIGURATION_ERROR", "Internal server error")
    assert "sandbox bug" in caplog.text


def test_the_old_module_still_exports_execute_api() -> None:
    from sandbox import apigw

    assert apigw.ExecuteApi is ExecuteApi
