"""Stage throttle: API Gateway's token buckets per stage method (method settings) -> 429 THROTTLED."""

from __future__ import annotations

from sandbox.apigateway import ExecuteApi
from sandbox.apigateway.throttle import ACCOUNT_BURST_LIMIT, TokenBucket, limits, method_path
from tests.sandbox.apigateway.conftest import SLOW_BURST, STAGE, World, assert_gateway_error, with_app


class Clock:
    def __init__(self, now: float = 1_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_a_bucket_allows_its_burst_then_refills_at_its_rate() -> None:
    bucket = TokenBucket(rate=2.0, burst=3, tokens=3.0, updated=0.0)
    assert [bucket.take(0.0) for _ in range(4)] == [True, True, True, False]
    assert bucket.take(0.4) is False  # 0.8 token
    assert bucket.take(0.5) is True  # 1.0 token
    assert bucket.take(100.0) and bucket.tokens == 2.0  # never more than the burst


def test_a_clock_going_backwards_refills_nothing() -> None:
    bucket = TokenBucket(rate=100.0, burst=1, tokens=1.0, updated=10.0)
    assert bucket.take(10.0) is True
    assert bucket.take(5.0) is False


def test_method_paths_encode_the_resource_path_like_api_gateway() -> None:
    assert method_path("/comments/{photoId}", "GET") == "~1comments~1{photoId}/GET"
    assert method_path("/photos", "POST") == "~1photos/POST"


def test_a_methods_own_settings_win_over_the_stage_default_and_negative_means_none() -> None:
    settings = {"*/*": {"throttlingRateLimit": 50.0, "throttlingBurstLimit": 100},
                "~1photos/POST": {"throttlingRateLimit": 5.0, "throttlingBurstLimit": 10},
                "~1state/GET": {"throttlingRateLimit": -1.0, "throttlingBurstLimit": -1}}
    assert limits(settings, "~1photos/POST") == (5.0, 10)
    assert limits(settings, "~1comments/GET") == (50.0, 100)
    assert limits(settings, "~1state/GET") is None
    assert limits({}, "~1photos/POST") is None


def test_requests_over_the_stages_burst_get_429_throttled_json_with_cors(world: World) -> None:
    clock = Clock()
    slow = with_app(world, ExecuteApi(world.broker, clock=clock))
    answers = [slow.call("GET", "/state/current", stage="slow") for _ in range(SLOW_BURST + 1)]
    assert [a.status_code for a in answers[:SLOW_BURST]] == [200] * SLOW_BURST
    assert_gateway_error(answers[-1], 429, "THROTTLED", "Too Many Requests")
    assert answers[-1].headers["x-amzn-ErrorType"] == "TooManyRequestsException"
    clock.now += 1.0  # rate 1/s: one more token
    assert slow.call("GET", "/state/current", stage="slow").status_code == 200
    assert slow.call("GET", "/state/current", stage="slow").status_code == 429


def test_each_method_of_a_stage_has_its_own_bucket(world: World) -> None:
    slow = with_app(world, ExecuteApi(world.broker, clock=Clock()))
    for _ in range(SLOW_BURST + 1):
        slow.call("GET", "/state/current", stage="slow")
    assert slow.call("GET", "/state/current", stage="slow").status_code == 429
    assert slow.call("OPTIONS", "/state/app", stage="slow").status_code == 200


def test_a_method_setting_overrides_the_stage_default(world: World) -> None:
    deployment = world.apigw.get_stage(restApiId=world.api_id, stageName=STAGE)["deploymentId"]
    world.apigw.create_stage(restApiId=world.api_id, stageName="tuned", deploymentId=deployment)
    world.apigw.update_stage(restApiId=world.api_id, stageName="tuned", patchOperations=[
        {"op": "replace", "path": "/*/*/throttling/rateLimit", "value": "1"},
        {"op": "replace", "path": "/*/*/throttling/burstLimit", "value": "1"},
        {"op": "replace", "path": "/~1state~1current/GET/throttling/burstLimit", "value": "5"},
    ])
    tuned = with_app(world, ExecuteApi(world.broker, clock=Clock()))
    assert [tuned.call("GET", "/state/current", stage="tuned").status_code for _ in range(6)] == [200] * 5 + [429]
    assert [tuned.call("OPTIONS", "/state/app", stage="tuned").status_code for _ in range(2)] == [200, 429]


def test_a_stage_without_throttling_settings_is_only_bound_by_the_account(world: World) -> None:
    unthrottled = with_app(world, ExecuteApi(world.broker, clock=Clock()))
    assert {unthrottled.call("GET", "/state/current").status_code for _ in range(50)} == {200}
    assert ACCOUNT_BURST_LIMIT == 5000
