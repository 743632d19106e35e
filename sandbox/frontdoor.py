"""The WSGI front door in front of moto, one per port: the doors, outages, mounts, IAM, CORS, regions.

In order, for each request:
1. a Host header that is not a loopback name is refused (403: DNS rebinding), on every port;
2. the generic port serves the sandbox's control API (`/_sandbox/...`, token or operator key
   required, see `sandbox.outage`), never affected by outages;
3. a request for a region that is down gets 503 JSON (see `sandbox.outage`);
4. a mounted prefix (e.g. `/execute-api/`) goes to its app, which owns its own CORS and auth;
5. everything else is AWS: CORS preflights are answered here (`sandbox.cors`: the sandbox's own
   origins only, S3 by the bucket's CORS rules); every call is authenticated and authorised
   (`sandbox.access`: signatures of issued keys, IAM, the service's own refusals); the administrator
   keys are refused from a page of a foreign origin; then moto serves it. On a region's port moto is
   told the request reached that region's endpoint (its Host becomes `<service>.<region>.amazonaws.com`),
   so a browser's unsigned Cognito sign-in or GetId is served by the port's region, as AWS does.
   moto's own CORS headers are replaced by ours.

moto serves Cognito's unauthenticated calls (InitiateAuth, GetUser...) from whichever region holds the
client id or token; `patches.pin_cognito_lookups` keeps them in the port's region.

Backend calls run under the cloud's lock (the replicators write moto's state from their own
thread) inside a request scope, so replication sees each request's final state.
"""

from __future__ import annotations

import io
import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import patches
from sandbox import aws_errors
from sandbox.access import ADMIN, AccessControl, Incoming, Outcome, bucket_of
from sandbox.cors import BucketRule, CorsPolicy
from sandbox.outage import CONTROL_PREFIX, Outages, outage_response, request_regions
from sandbox.replication import request_scope
from sandbox.server import host_refused, is_loopback_host

log = logging.getLogger(__name__)

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
RegionOf = Callable[[dict[str, Any]], "str | None"]
Response = tuple[str, list[tuple[str, str]], bytes]

_pinned = threading.local()  # .region: the region port serving the current request
_decided = threading.local()  # .denied: object ARNs the current request may not delete (DeleteObjects)


@dataclass(frozen=True)
class Mount:
    prefix: str
    app: WsgiApp
    region_of: RegionOf | None = None  # the region a request belongs to on the generic port


class Router:
    """What every port shares: the AWS app (moto + middlewares), mounts, outages, the lock, the doors."""

    def __init__(self, aws_app: WsgiApp, outages: Outages, lock: threading.RLock, control: WsgiApp, account: str,
                 access: AccessControl | None = None, cors: CorsPolicy | None = None):
        self.aws_app = aws_app
        self.outages = outages
        self.lock = lock
        self.control = control
        self.account = account
        self.access = access or AccessControl(account)
        self.cors = cors or CorsPolicy()
        self.mounts: list[Mount] = []

    def mount(self, mount: Mount) -> None:
        others = [m for m in self.mounts if m.prefix != mount.prefix]
        self.mounts = sorted([*others, mount], key=lambda m: -len(m.prefix))

    def wrap(self, middleware: Callable[[WsgiApp], WsgiApp]) -> None:
        self.aws_app = middleware(self.aws_app)

    def mount_for(self, path: str) -> Mount | None:
        return next((m for m in self.mounts if path.startswith(m.prefix)), None)


class FrontDoor:
    """The WSGI app of one port: the generic AWS endpoint (`region=None`) or one region's."""

    def __init__(self, router: Router, region: str | None = None):
        self.router = router
        self.region = region

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if not is_loopback_host(environ.get("HTTP_HOST")):
            return _send(start_response, host_refused(environ.get("HTTP_HOST")))
        path = environ.get("PATH_INFO", "")
        if self.region is None and path.startswith(CONTROL_PREFIX):
            return self.router.control(environ, start_response)
        if self.region is not None:
            environ["sandbox.region"] = self.region
        mount = self.router.mount_for(path)
        down = self._down_region(environ, mount)
        if down is not None:
            return _send(start_response, self.router.cors.decorate(outage_response(down), environ, None))
        if mount is not None:
            return _send(start_response, self._call(mount.app, environ))
        return _send(start_response, self._aws(environ))

    # -- AWS ----------------------------------------------------------------------------------------------------
    def _aws(self, environ: dict[str, Any]) -> Response:
        cors = self.router.cors
        if _is_preflight(environ):
            return cors.preflight(environ, _bucket_rules(self.router.account, environ.get("PATH_INFO", "")))
        buffer_body(environ)  # read the upload before taking the lock
        try:
            outcome = self.router.access.check(incoming_request(environ, self.region))
        except Exception:  # a sandbox bug must answer like AWS's own failures (500), and show in the logs
            log.exception("access check of %s %s failed", environ.get("REQUEST_METHOD"), environ.get("PATH_INFO"))
            return aws_errors.error(aws_errors.Protocol.JSON, 500, "InternalFailure",
                                    "The request processing has failed because of an unknown error.")
        rules = _bucket_rules(self.router.account, outcome.call.path) if outcome.call.service == "s3" else None
        response = outcome.refusal or outcome.answer or self._foreign_admin(environ, outcome)
        if response is None:
            _route_to_region(environ, self.region, outcome)
            _pinned.region, _decided.denied = self.region, outcome.denied_deletes
            try:
                response = self._call(self.router.aws_app, environ)
            finally:
                _pinned.region, _decided.denied = None, frozenset()
        return cors.decorate(response, environ, rules)

    def _foreign_admin(self, environ: dict[str, Any], outcome: Outcome) -> Response | None:
        """The administrator keys are for local scripts: a browser page of a foreign origin cannot use them
        (a simple cross-origin POST needs no preflight)."""
        origin = environ.get("HTTP_ORIGIN")
        if outcome.who != ADMIN or not origin or self.router.cors.allowed(origin):
            return None
        message = (f"Access Denied: the sandbox's administrator keys are not accepted from a page of origin {origin} "
                   "(only the sandbox's own web origins)")
        return aws_errors.access_denied(outcome.call.protocol, outcome.call.service, message)

    def _down_region(self, environ: dict[str, Any], mount: Mount | None) -> str | None:
        outages = self.router.outages
        if self.region is not None:
            return self.region if outages.is_down(self.region) else None
        if mount is not None and mount.region_of is not None:
            regions = {mount.region_of(environ)} - {None}
        else:
            regions = request_regions(environ, self.router.account)
        return next((r for r in sorted(regions) if outages.is_down(r)), None)  # type: ignore[type-var]

    def _call(self, app: WsgiApp, environ: dict[str, Any]) -> Response:
        """Run a backend app to completion under the lock; deferred replication events fire after it."""
        buffer_body(environ)  # read the upload before taking the lock
        captured: dict[str, Any] = {}
        chunks: list[bytes] = []

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], Any]:
            captured["status"], captured["headers"] = status, list(headers)
            return chunks.append

        with request_scope():
            with self.router.lock:
                result = app(environ, start_response)
                try:
                    chunks.extend(result)
                finally:
                    close = getattr(result, "close", None)
                    if close is not None:
                        close()
        return captured["status"], captured["headers"], b"".join(chunks)


def refusing(refusal_of: Callable[[dict[str, Any]], Response | None]) -> Callable[[WsgiApp], WsgiApp]:
    """A middleware for moto that answers `refusal_of(environ)` when it is an answer and lets moto serve the rest
    (the rules of sandbox/user_pools.py and sandbox/s3_rules.py)."""

    def wrap(app: WsgiApp) -> WsgiApp:
        def guarded(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            refusal = refusal_of(environ)
            return app(environ, start_response) if refusal is None else _send(start_response, refusal)

        return guarded

    return wrap


def denied_by_access_check(action: str, resource: str) -> bool:
    """Whether the access check denied the current request `action` on `resource` while letting the request
    through: a DeleteObjects key the caller may not delete (moto reports it in the 200 result, as S3 does)."""
    return action == "s3:DeleteObject" and resource in getattr(_decided, "denied", frozenset())


class RegionPin:
    """While started, moto's region-agnostic Cognito lookups answer from the pinned region only."""

    def __init__(self) -> None:
        self._patches = patches.Patches()

    def start(self) -> None:
        patches.pin_cognito_lookups(self._patches, lambda: getattr(_pinned, "region", None))

    def stop(self) -> None:
        self._patches.restore()


# -- helpers ------------------------------------------------------------------------------------------------
def _send(start_response: Callable[..., Any], response: Response) -> list[bytes]:
    status, headers, body = response
    start_response(status, headers)
    return [body]


def buffer_body(environ: dict[str, Any]) -> None:
    stream = environ.get("wsgi.input")
    if stream is None or isinstance(stream, io.BytesIO):
        return
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > 0:
        body = stream.read(length)
    elif environ.get("wsgi.input_terminated"):
        body = stream.read()
    else:
        body = b""
    environ["wsgi.input"] = io.BytesIO(body)


def incoming_request(environ: dict[str, Any], region: str | None) -> Incoming:
    """The request as the access check reads it (the body stays readable for moto)."""
    stream = environ["wsgi.input"]
    body = stream.getvalue() if isinstance(stream, io.BytesIO) else b""
    raw_uri = environ.get("RAW_URI") or environ.get("REQUEST_URI") or environ.get("PATH_INFO", "")
    headers = {key[5:].replace("_", "-").title(): value for key, value in environ.items() if key.startswith("HTTP_")}
    for key, name in (("CONTENT_TYPE", "Content-Type"), ("CONTENT_LENGTH", "Content-Length")):
        if environ.get(key):
            headers[name] = environ[key]
    return Incoming(
        method=environ.get("REQUEST_METHOD", "GET").upper(),
        path=environ.get("PATH_INFO", ""),
        raw_path=raw_uri.split("?", 1)[0],
        query_string=environ.get("QUERY_STRING", ""),
        headers=headers,
        body=body,
        source_ip=environ.get("REMOTE_ADDR", ""),
        port_region=region,
    )


def _is_preflight(environ: dict[str, Any]) -> bool:
    return (
        environ.get("REQUEST_METHOD") == "OPTIONS"
        and bool(environ.get("HTTP_ORIGIN"))
        and bool(environ.get("HTTP_ACCESS_CONTROL_REQUEST_METHOD"))
    )


def _bucket_rules(account: str, path: str) -> list[BucketRule] | None:
    """The CORS rules of the bucket an S3 path addresses ([] when it has none); None for the root path."""
    name = path.lstrip("/").split("/", 1)[0]
    if not name:
        return None
    return [BucketRule.from_moto(rule) for rule in getattr(bucket_of(account, name), "cors", None) or []]


def _route_to_region(environ: dict[str, Any], region: str | None, outcome: Outcome) -> None:
    """Tell moto which regional endpoint a region port stands for: moto takes a request's region from
    its host name first. S3 (global) and calls of unknown services keep their Host."""
    service = outcome.call.service
    if region is None or not service or service == "s3":
        return
    environ["sandbox.original_host"] = environ.get("HTTP_HOST", "")
    environ["HTTP_HOST"] = f"{service}.{region}.amazonaws.com"

