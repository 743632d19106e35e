"""The WSGI front door in front of moto, one per port: outages, CORS, mounts, region pinning.

In order, for each request:
1. the generic port serves the sandbox's control API (`/_sandbox/...`), never affected by outages;
2. a request for a region that is down gets 503 JSON (see `sandbox.outage`);
3. a mounted prefix (e.g. `/execute-api/`) goes to its app, which owns its own CORS;
4. everything else is AWS, answered by moto: CORS preflights are answered here, and on a
   region's port an unsigned call (a browser's Cognito InitiateAuth/GetId...) gets a
   synthetic SigV4 scope for that region, and a signed one has its scope's region
   replaced, so moto serves it from that region's backend; moto's own CORS headers are
   replaced by ours (origin echoed, AWS headers exposed).

moto serves Cognito's unauthenticated calls (InitiateAuth, SignUp, GetUser...) from whichever
region holds the client id or token; `RegionPin` makes them stay in the port's region, as AWS does.

Backend calls run under the cloud's lock (the replicators write moto's state from their own
thread) inside a request scope, so replication sees each request's final state.
"""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from moto.cognitoidp.models import RegionAgnosticBackend, cognitoidp_backends

from sandbox.outage import CONTROL_PREFIX, Outages, outage_response, request_regions
from sandbox.replication import Patches, request_scope

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
RegionOf = Callable[[dict[str, Any]], "str | None"]
Response = tuple[str, list[tuple[str, str]], bytes]

ALLOWED_METHODS = ("GET", "HEAD", "PUT", "POST", "DELETE", "PATCH")
ALLOWED_HEADER = re.compile(
    r"^(x-amz-[a-z0-9-]+|amz-sdk-[a-z0-9-]+|authorization|content-(type|md5|disposition|encoding|language)"
    r"|cache-control|expires|range|if-(match|none-match|modified-since|unmodified-since))$"
)
DEFAULT_ALLOWED_HEADERS = (
    "authorization, content-type, x-amz-date, x-amz-security-token, x-amz-target, x-amz-user-agent, "
    "x-amz-content-sha256, amz-sdk-invocation-id, amz-sdk-request"
)
EXPOSED_HEADERS = (
    "ETag, x-amz-version-id, x-amz-request-id, x-amzn-RequestId, x-amz-id-2, x-amz-delete-marker, "
    "x-amz-replication-status, x-amz-server-side-encryption, x-amzn-ErrorType, Content-Length, Content-Type"
)
PREFLIGHT_MAX_AGE = "600"
# Signing names of the JSON services a browser calls unsigned, by X-Amz-Target prefix.
UNSIGNED_SERVICES = {
    "AWSCognitoIdentityProviderService": "cognito-idp",
    "AWSCognitoIdentityService": "cognito-identity",
    "DynamoDB_": "dynamodb",
    "DynamoDBStreams_": "dynamodb",
}
UNSIGNED_ACCESS_KEY = "sandbox-unsigned"  # not 20 characters: moto maps it to its default account
_SCOPE_REGION = re.compile(r"(Credential=[^/,\s]+/\d{8}/)([^/,\s]+)(/)")
_pinned = threading.local()  # .region: the region port serving the current request


@dataclass(frozen=True)
class Mount:
    prefix: str
    app: WsgiApp
    region_of: RegionOf | None = None  # the region a request belongs to on the generic port


class Router:
    """What every port shares: the AWS app (moto + middlewares), mounts, outages, the lock."""

    def __init__(self, aws_app: WsgiApp, outages: Outages, lock: threading.RLock, control: WsgiApp, account: str):
        self.aws_app = aws_app
        self.outages = outages
        self.lock = lock
        self.control = control
        self.account = account
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
        path = environ.get("PATH_INFO", "")
        if self.region is None and path.startswith(CONTROL_PREFIX):
            return self.router.control(environ, start_response)
        if self.region is not None:
            environ["sandbox.region"] = self.region
        mount = self.router.mount_for(path)
        down = self._down_region(environ, mount)
        if down is not None:
            return _send(start_response, _with_cors(outage_response(down), environ))
        if mount is not None:
            return _send(start_response, self._call(mount.app, environ))
        if _is_preflight(environ):
            return _send(start_response, _preflight(environ))
        if self.region is not None:
            _pin_region(environ, self.region)
        _pinned.region = self.region
        try:
            status, headers, body = self._call(self.router.aws_app, environ)
        finally:
            _pinned.region = None
        headers = [(k, v) for k, v in headers if not k.lower().startswith("access-control-")]  # moto's flask-cors
        return _send(start_response, _with_cors((status, headers, body), environ))

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
        _buffer_body(environ)  # read the upload before taking the lock
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


class RegionPin:
    """While started, moto's region-agnostic Cognito lookups answer from the pinned region only."""

    LOOKUPS = (
        "_find_backend_by_access_token",
        "_find_backend_by_access_token_or_session",
        "_find_backend_for_clientid",
    )

    def __init__(self) -> None:
        self._patches = Patches()

    def start(self) -> None:
        for name in self.LOOKUPS:
            self._patches.replace(RegionAgnosticBackend, name, _pinned_lookup)

    def stop(self) -> None:
        self._patches.restore()


def _pinned_lookup(original: Callable[..., Any]) -> Callable[..., Any]:
    def lookup(backend: RegionAgnosticBackend, *args: Any) -> Any:
        region = getattr(_pinned, "region", None)
        if region is None:
            return original(backend, *args)
        return cognitoidp_backends[backend.account_id][region]

    return lookup


# -- helpers ------------------------------------------------------------------------------------------------
def _send(start_response: Callable[..., Any], response: Response) -> list[bytes]:
    status, headers, body = response
    start_response(status, headers)
    return [body]


def _buffer_body(environ: dict[str, Any]) -> None:
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


def _is_preflight(environ: dict[str, Any]) -> bool:
    return (
        environ.get("REQUEST_METHOD") == "OPTIONS"
        and bool(environ.get("HTTP_ORIGIN"))
        and bool(environ.get("HTTP_ACCESS_CONTROL_REQUEST_METHOD"))
    )


def _preflight(environ: dict[str, Any]) -> Response:
    origin = environ["HTTP_ORIGIN"]
    method = environ["HTTP_ACCESS_CONTROL_REQUEST_METHOD"].upper()
    if method not in ALLOWED_METHODS:
        body = b'{"message": "CORS preflight: method not allowed"}'
        return "403 Forbidden", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))], body
    raw = environ.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS", "")
    requested = [h.strip().lower() for h in raw.split(",") if h.strip()]
    allowed = ", ".join(h for h in requested if ALLOWED_HEADER.match(h)) if requested else DEFAULT_ALLOWED_HEADERS
    headers = [
        ("Access-Control-Allow-Origin", origin),
        ("Access-Control-Allow-Methods", ", ".join(ALLOWED_METHODS)),
        ("Access-Control-Allow-Headers", allowed),
        ("Access-Control-Expose-Headers", EXPOSED_HEADERS),
        ("Access-Control-Max-Age", PREFLIGHT_MAX_AGE),
        ("Vary", "Origin"),
        ("Content-Length", "0"),
    ]
    return "200 OK", headers, b""


def _with_cors(response: Response, environ: dict[str, Any]) -> Response:
    origin = environ.get("HTTP_ORIGIN")
    if not origin:
        return response
    status, headers, body = response
    extra = [
        ("Access-Control-Allow-Origin", origin),
        ("Access-Control-Expose-Headers", EXPOSED_HEADERS),
        ("Vary", "Origin"),
    ]
    return status, [*headers, *extra], body


def _pin_region(environ: dict[str, Any], region: str) -> None:
    """Make moto serve this request from `region`'s backends, signed or not."""
    auth = environ.get("HTTP_AUTHORIZATION")
    if auth:
        environ["HTTP_AUTHORIZATION"] = _SCOPE_REGION.sub(lambda m: f"{m[1]}{region}{m[3]}", auth, count=1)
        return
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    service = next((name for prefix, name in UNSIGNED_SERVICES.items() if target.startswith(prefix)), None)
    if service is None:
        return  # S3 (global) and path-routed calls such as a user pool's JWKS need no scope
    date = datetime.now(UTC).strftime("%Y%m%d")
    environ["HTTP_AUTHORIZATION"] = (
        f"AWS4-HMAC-SHA256 Credential={UNSIGNED_ACCESS_KEY}/{date}/{region}/{service}/aws4_request, "
        f"SignedHeaders=host, Signature={'0' * 64}"
    )
