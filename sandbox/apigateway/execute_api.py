"""The WSGI app running every REST API deployed in moto through API Gateway's pipeline, in order:

    parse -> route (API, stage, payload limit, resource, method) -> throttle -> authorise (AWS_IAM)
    -> validate -> integration request -> integration -> integration response
    and, for any error the gateway itself raises on the way, -> gateway response.

One module per stage (sandbox/apigateway/<stage>.py). moto stores the APIs but never invokes them;
every request reads the API's definition live from moto's apigateway backend.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import vtl
from sandbox.apigateway import authorize, gateway_response, integration_request, integration_response, validate
from sandbox.apigateway.integration import Integrations
from sandbox.apigateway.invocation import (
    JSON,
    GatewayError,
    Invocation,
    Response,
    configuration_error,
    context_variables,
)
from sandbox.apigateway.parse import MAX_PAYLOAD_BYTES, parse
from sandbox.apigateway.route import find_api, route
from sandbox.apigateway.throttle import Throttle
from sandbox.credentials import ACCOUNT, CredentialsBroker

log = logging.getLogger(__name__)

_REASONS = {200: "OK", 201: "Created", 204: "No Content", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden",
            404: "Not Found", 409: "Conflict", 413: "Payload Too Large", 415: "Unsupported Media Type",
            429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable",
            504: "Gateway Timeout"}

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


@dataclass
class ApiMetrics:
    """Simple counters per API for benchmarks: requests, statuses, latency."""

    requests: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    latency_ms_total: float = 0.0
    latency_ms_max: float = 0.0

    def snapshot(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "statuses": dict(self.statuses),
            "latencyMsMean": self.latency_ms_total / self.requests if self.requests else 0.0,
            "latencyMsMax": self.latency_ms_max,
        }


class ExecuteApi:
    """WSGI app serving `/execute-api/<restApiId>/<stage>/<path>` for every REST API in moto."""

    def __init__(
        self,
        broker: CredentialsBroker,
        *,
        account: str = ACCOUNT,
        clock: Callable[[], float] = time.time,
        check_integration_role: bool = True,
        reading: vtl.Reading = vtl.Reading.JAVA,
    ):
        self.broker = broker
        self.account = account
        self.clock = clock
        self.reading = reading  # how templates see JSON scalars and $util arguments (vtl.Reading)
        self.integrations = Integrations(broker, account, check_integration_role)
        self.throttle = Throttle(clock)
        self._metrics: dict[str, ApiMetrics] = {}
        self._metrics_lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        invocation = parse(environ)
        if invocation is None:
            response = _plain(404, "Not Found")
        else:
            response = self.handle(invocation)
            self._count(invocation, response)
        headers = {**response.headers, "Content-Length": str(len(response.body))}
        start_response(f"{response.status} {_REASONS.get(response.status, 'Status')}", list(headers.items()))
        return [response.body]

    def metrics(self) -> dict[str, dict[str, Any]]:
        """{api id: {"requests", "statuses", "latencyMsMean", "latencyMsMax"}}."""
        with self._metrics_lock:
            return {api_id: m.snapshot() for api_id, m in self._metrics.items()}

    def handle(self, invocation: Invocation) -> Response:
        invocation.api, invocation.region = find_api(self.account, invocation.api_id, invocation.region_hint)
        if invocation.api is None or invocation.stage_name not in invocation.api.stages:
            # No API (or stage) to take gateway responses from: API Gateway's bare 403.
            return _plain(403, "Forbidden", invocation.request_id)
        invocation.context = context_variables(invocation, self.account)
        try:
            return self._run(invocation)
        except GatewayError as error:
            return gateway_response.render(invocation, error)
        except Exception:  # a sandbox bug must still answer like API Gateway, and be visible in logs
            log.exception("execute-api %s %s failed", invocation.method, invocation.raw_path)
            return gateway_response.render(invocation, configuration_error())

    def _run(self, invocation: Invocation) -> Response:
        if len(invocation.body) > MAX_PAYLOAD_BYTES:
            raise GatewayError("REQUEST_TOO_LARGE", "Request Too Long")
        route(invocation)
        self.throttle.admit(invocation)
        authorize.run(invocation, self.broker, self.account, self.clock)
        validate.validate(invocation)
        if invocation.api_method.method_integration is None:
            raise configuration_error()
        body = integration_request.request_body(invocation, self.reading)
        backend = self.integrations.call(invocation, body)
        return integration_response.respond(invocation, backend, self.reading)

    def _count(self, invocation: Invocation, response: Response) -> None:
        elapsed_ms = (time.time() - invocation.started) * 1000
        with self._metrics_lock:
            metrics = self._metrics.setdefault(invocation.api_id, ApiMetrics())
            metrics.requests += 1
            metrics.statuses[response.status] = metrics.statuses.get(response.status, 0) + 1
            metrics.latency_ms_total += elapsed_ms
            metrics.latency_ms_max = max(metrics.latency_ms_max, elapsed_ms)


def _plain(status: int, message: str, request_id: str = "") -> Response:
    headers = {"Content-Type": JSON}
    if request_id:
        headers["x-amzn-RequestId"] = request_id
    return Response(status, f'{{"message":"{message}"}}'.encode(), headers)
