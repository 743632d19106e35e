"""Stage 3, throttle: API Gateway's token buckets, per method of a stage and per account and region.

"API Gateway throttles requests to your API using the token bucket algorithm, where a token counts
for a request"; "per-API, per-stage throttling limits are applied at the API method level for a
stage", from the stage's method settings: the method's own (`/~1photos/GET`) else the stage default
(`*/*`); a negative or absent limit means none. Above them, the account's limit per region
(10,000 requests per second, burst 5,000). A request over a limit gets the THROTTLED gateway
response (429 "Too Many Requests").
https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-request-throttling.html
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sandbox.apigateway.invocation import GatewayError, Invocation

ACCOUNT_RATE_LIMIT = 10_000.0  # requests per second, per account and region (API Gateway quota)
ACCOUNT_BURST_LIMIT = 5_000
STAGE_DEFAULT = "*/*"  # the method path of a stage's default method settings


@dataclass
class TokenBucket:
    """`burst` tokens at most, refilled at `rate` per second; a request takes one."""

    rate: float
    burst: int
    tokens: float
    updated: float

    def take(self, now: float) -> bool:
        elapsed = max(0.0, now - self.updated)  # a clock going backwards refills nothing
        self.tokens = min(float(self.burst), self.tokens + elapsed * self.rate)
        self.updated = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


def method_path(resource_path: str, http_method: str) -> str:
    """A method's key in a stage's method settings: "/comments/{photoId}" GET -> "~1comments~1{photoId}/GET"."""
    return f"{resource_path.replace('/', '~1')}/{http_method}"


def limits(method_settings: Mapping[str, Mapping[str, Any]], path: str) -> tuple[float, int] | None:
    """(rate, burst) of a method from the stage's method settings, or None when it is not throttled."""
    settings = method_settings.get(path) or method_settings.get(STAGE_DEFAULT) or {}
    rate, burst = settings.get("throttlingRateLimit"), settings.get("throttlingBurstLimit")
    if rate is None or burst is None or float(rate) < 0 or int(burst) < 0:
        return None
    return float(rate), int(burst)


class Throttle:
    """The buckets of every stage method and region seen so far (thread-safe)."""

    def __init__(self, clock: Callable[[], float]):
        self._clock = clock
        self._buckets: dict[tuple[Any, ...], TokenBucket] = {}
        self._lock = threading.Lock()

    def admit(self, invocation: Invocation) -> None:
        """Take a token from the account's and the method's buckets, or raise THROTTLED."""
        stage = invocation.api.stages[invocation.stage_name]
        path = method_path(invocation.resource.get_path(), invocation.api_method.http_method)
        wanted = [(("account", invocation.region), (ACCOUNT_RATE_LIMIT, ACCOUNT_BURST_LIMIT))]
        method_limits = limits(getattr(stage, "method_settings", None) or {}, path)
        if method_limits is not None:
            wanted.append((("method", invocation.api_id, invocation.stage_name, path), method_limits))
        now = self._clock()
        with self._lock:
            for key, (rate, burst) in wanted:
                bucket = self._buckets.get(key)
                if bucket is None or (bucket.rate, bucket.burst) != (rate, burst):  # new, or the settings changed
                    bucket = self._buckets[key] = TokenBucket(rate, burst, float(burst), now)
                if not bucket.take(now):
                    raise GatewayError("THROTTLED", "Too Many Requests")
