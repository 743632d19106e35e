"""Simulated region outages: the switch, which region a request belongs to, and the control API.

A region that is down answers every request for it with 503 JSON. On a region's own port
that is every request; on the generic port a request belongs to the region named by its
SigV4 credential scope (header, or `X-Amz-Credential` of a presigned URL) and, for S3, to
the region of the bucket it addresses (S3 is global, the bucket is not).

The control API lives on the generic port and is never affected by outages:
`GET /_sandbox/health` -> {"regions": {region: "up"|"down"}, ...} and
`POST /_sandbox/outage` {"region": "us-east-1" | "primary" | "secondary", "down": true}.
Every call needs the session's control token in the `X-Sandbox-Token` header (the sandbox writes it
to `.sandbox/session.json` under `SESSION_TOKEN_KEY`; `control_headers(session)` builds the header)
or a SigV4 signature by the operator's keys (service `sandbox`); anything else gets 403, so a page
in the developer's browser cannot start an outage.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import parse_qs, unquote

from moto.backends import get_backend

CONTROL_PREFIX = "/_sandbox/"
TOKEN_HEADER = "X-Sandbox-Token"
SESSION_TOKEN_KEY = "controlToken"  # the key of the control token in .sandbox/session.json
CONTROL_SERVICE = "sandbox"  # the signing name of the control API for the operator's keys
MAX_CONTROL_BODY = 4096
_SCOPE = re.compile(r"Credential=[^/,\s]+/\d{8}/(?P<region>[^/,\s]+)/(?P<service>[^/,\s]+)/aws4_request")
_BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]$")

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class Outages:
    """Which regions are down; safe to use from any thread."""

    def __init__(self, regions: Sequence[str]) -> None:
        self.regions = list(regions)
        self._down: set[str] = set()
        self._lock = threading.Lock()

    def resolve(self, name: str) -> str:
        """A region name, or the alias primary/secondary (the first/second region)."""
        aliases = {"primary": 0, "secondary": 1}
        if name in aliases and aliases[name] < len(self.regions):
            return self.regions[aliases[name]]
        if name not in self.regions:
            raise ValueError(f"region: unknown region {name!r}; expected one of {', '.join(self.regions)}")
        return name

    def set(self, region: str, down: bool) -> str:
        region = self.resolve(region)
        with self._lock:
            if down:
                self._down.add(region)
            else:
                self._down.discard(region)
        return region

    def is_down(self, region: str | None) -> bool:
        with self._lock:
            return region in self._down

    def is_up(self, region: str | None) -> bool:
        return not self.is_down(region)

    def snapshot(self) -> dict[str, str]:
        with self._lock:
            return {region: "down" if region in self._down else "up" for region in self.regions}


# -- which region a request on the generic port is for ----------------------------------------------
def credential_scope(environ: Mapping[str, Any]) -> tuple[str, str] | None:
    """(region, service) from the SigV4 Authorization header or a presigned URL's X-Amz-Credential."""
    match = _SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
    if match:
        return match["region"], match["service"]
    credential = parse_qs(environ.get("QUERY_STRING", "")).get("X-Amz-Credential")
    if credential:
        parts = unquote(credential[0]).split("/")
        if len(parts) == 5:
            return parts[2], parts[3]
    return None


def s3_bucket_region(environ: Mapping[str, Any], account: str) -> str | None:
    """The region of the bucket a path-style (or bucket-subdomain) S3 request addresses."""
    path = environ.get("PATH_INFO", "")
    candidates = [path.lstrip("/").split("/", 1)[0]]
    host = environ.get("HTTP_HOST", "").split(":", 1)[0]
    if host.count(".") >= 1:
        candidates.append(host.split(".", 1)[0])
    buckets = get_backend("s3")[account]["aws"].buckets
    for name in candidates:
        if name and _BUCKET_NAME.match(name) and name in buckets:
            return buckets[name].region_name
    return None


def request_regions(environ: Mapping[str, Any], account: str) -> set[str]:
    """Every region a request to the generic AWS endpoint depends on."""
    regions = set()
    scope = credential_scope(environ)
    if scope:
        regions.add(scope[0])
    elif environ.get("HTTP_X_AMZ_TARGET"):
        regions.add("us-east-1")  # moto routes unsigned JSON calls (Cognito) to us-east-1
    if scope is None or scope[1] == "s3":
        bucket_region = s3_bucket_region(environ, account)
        if bucket_region:
            regions.add(bucket_region)
    return regions


# -- responses ------------------------------------------------------------------------------------------
def outage_response(region: str) -> tuple[str, list[tuple[str, str]], bytes]:
    body = json.dumps(
        {"message": f"Service unavailable: region {region} is down (simulated outage)", "region": region}
    ).encode()
    headers = [
        ("Content-Type", "application/json"),
        ("Content-Length", str(len(body))),
        ("x-amzn-ErrorType", "ServiceUnavailableException"),
        ("Retry-After", "1"),
    ]
    return "503 Service Unavailable", headers, body


def control_headers(session: Mapping[str, Any]) -> dict[str, str]:
    """The header that authorises a control API call, from a session.json's contents."""
    token = session.get(SESSION_TOKEN_KEY)
    if not isinstance(token, str) or not token:
        raise ValueError(f"the session has no {SESSION_TOKEN_KEY!r}: is it from a running sandbox?")
    return {TOKEN_HEADER: token}


def control_app(
    outages: Outages, status: Callable[[], dict[str, Any]], authorized: Callable[[dict[str, Any]], bool]
) -> WsgiApp:
    """The sandbox's own endpoints under /_sandbox/ (health and the outage switch), for authorised callers."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")[len(CONTROL_PREFIX) :]
        method = environ.get("REQUEST_METHOD", "GET")
        if not authorized(environ):
            return _json(start_response, 403, {
                "message": f"the sandbox control API needs the control token of .sandbox/session.json "
                           f"({SESSION_TOKEN_KEY}) in the {TOKEN_HEADER} header, or a request signed with the "
                           f"operator's keys (service {CONTROL_SERVICE})"})
        if path == "health" and method in ("GET", "HEAD"):
            return _json(start_response, 200, {"regions": outages.snapshot(), **status()})
        if path == "outage" and method == "POST":
            try:
                length = min(int(environ.get("CONTENT_LENGTH") or 0), MAX_CONTROL_BODY)
                request = json.loads(environ["wsgi.input"].read(length) or b"null")
                if not isinstance(request, dict) or not isinstance(request.get("region"), str):
                    raise ValueError('body: expected {"region": "<region>", "down": true|false}')
                if not isinstance(request.get("down"), bool):
                    raise ValueError("down: expected true or false")
                region = outages.set(request["region"], request["down"])
            except ValueError as error:  # json.JSONDecodeError is a ValueError
                return _json(start_response, 400, {"message": str(error)})
            answer = {"region": region, "down": request["down"], "regions": outages.snapshot()}
            return _json(start_response, 200, answer)
        if path in ("health", "outage"):
            return _json(start_response, 405, {"message": f"method {method} not allowed on {CONTROL_PREFIX}{path}"})
        return _json(start_response, 404, {"message": f"no sandbox endpoint {CONTROL_PREFIX}{path}"})

    return app


def _json(start_response: Callable[..., Any], status: int, payload: Mapping[str, Any]) -> list[bytes]:
    body = json.dumps(payload).encode()
    reason = {200: "OK", 400: "Bad Request", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed"}[status]
    start_response(f"{status} {reason}", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]
