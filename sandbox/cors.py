"""CORS of the sandbox's AWS endpoints: only the sandbox's own web origins, and S3 as S3 does it.

AWS answers CORS for any origin on most APIs (the signature is what protects them); the sandbox
also holds administrator keys that any local page could use, so its doors open only to an
allowlist: the sandbox's web app origin and the origins given with `--allow-origin` (a dev server).
Within that allowlist:
- S3 follows the bucket's CORS configuration as S3 evaluates it ("How does Amazon S3 evaluate the
  CORS configuration on a bucket?"): the first rule whose AllowedOrigins match the Origin, whose
  AllowedMethods contain the (requested) method and, for a preflight, whose AllowedHeaders match
  every requested header decides; no matching rule -> the preflight is refused with 403
  `AccessForbidden`, and an actual response carries no CORS headers.
- the JSON services (Cognito, DynamoDB) and STS answer the allowed origins with the AWS headers.
Any other origin gets no `Access-Control-Allow-*` header at all, and its preflights are refused.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sandbox.aws_errors import Protocol, error

Response = tuple[str, list[tuple[str, str]], bytes]

ALLOWED_METHODS = ("GET", "HEAD", "PUT", "POST", "DELETE", "PATCH")
ALLOWED_HEADER = re.compile(
    r"^(x-amz-[a-z0-9-]+|amz-sdk-[a-z0-9-]+|authorization|content-(type|md5|disposition|encoding|language)"
    r"|cache-control|expires|range|if-(match|none-match|modified-since|unmodified-since))$"
)
EXPOSED_HEADERS = (
    "ETag, x-amz-version-id, x-amz-request-id, x-amzn-RequestId, x-amz-id-2, x-amz-delete-marker, "
    "x-amz-replication-status, x-amz-server-side-encryption, x-amzn-ErrorType, Content-Length, Content-Type"
)
PREFLIGHT_MAX_AGE = "600"
_NOT_ALLOWED = ("CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, "
                "request method / Access-Control-Request-Method or Access-Control-Request-Headers are not "
                "whitelisted by the resource's CORS spec.")


@dataclass(frozen=True)
class BucketRule:
    """One CORS rule of a bucket (what moto stores for PutBucketCors)."""

    origins: tuple[str, ...]
    methods: tuple[str, ...]
    headers: tuple[str, ...]
    expose: tuple[str, ...]
    max_age: str | None

    @classmethod
    def from_moto(cls, rule: Any) -> BucketRule:
        return cls(tuple(rule.allowed_origins or ()), tuple(rule.allowed_methods or ()),
                   tuple(rule.allowed_headers or ()), tuple(rule.exposed_headers or ()),
                   str(rule.max_age_seconds) if rule.max_age_seconds not in (None, "") else None)

    def matches(self, origin: str, method: str, requested_headers: Iterable[str] = ()) -> bool:
        return (
            any(_one_wildcard(pattern, origin) for pattern in self.origins)
            and method.upper() in (m.upper() for m in self.methods)
            and all(any(_one_wildcard(p.lower(), h) for p in self.headers) for h in requested_headers)
        )


class CorsPolicy:
    """Which browser origins the sandbox's AWS endpoints answer; safe to use from any thread."""

    def __init__(self, origins: Iterable[str] = ()) -> None:
        self._origins: set[str] = set()
        self._lock = threading.Lock()
        for origin in origins:
            self.allow(origin)

    def allow(self, origin: str) -> None:
        with self._lock:
            self._origins.add(origin.rstrip("/"))

    @property
    def origins(self) -> list[str]:
        with self._lock:
            return sorted(self._origins)

    def allowed(self, origin: str | None) -> bool:
        with self._lock:
            return bool(origin) and origin in self._origins

    # -- preflight (OPTIONS) --------------------------------------------------------------------------------
    def preflight(self, environ: Mapping[str, Any], bucket_rules: list[BucketRule] | None) -> Response:
        """Answer an OPTIONS preflight. `bucket_rules`: the bucket's CORS rules for an S3 request
        addressing a bucket ([] when the bucket has none), None for the other services."""
        origin = environ["HTTP_ORIGIN"]
        method = environ["HTTP_ACCESS_CONTROL_REQUEST_METHOD"].upper()
        raw = environ.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS", "")
        requested = [h.strip().lower() for h in raw.split(",") if h.strip()]
        if bucket_rules is not None:
            return self._s3_preflight(origin, method, requested, bucket_rules)
        if not self.allowed(origin) or method not in ALLOWED_METHODS:
            return _refused_preflight()
        allowed = [h for h in requested if ALLOWED_HEADER.match(h)]
        if len(allowed) != len(requested):
            return _refused_preflight()
        headers = [
            ("Access-Control-Allow-Origin", origin),
            ("Access-Control-Allow-Methods", ", ".join(ALLOWED_METHODS)),
            ("Access-Control-Allow-Headers", ", ".join(allowed)),
            ("Access-Control-Expose-Headers", EXPOSED_HEADERS),
            ("Access-Control-Max-Age", PREFLIGHT_MAX_AGE),
            ("Vary", "Origin"),
            ("Content-Length", "0"),
        ]
        return "200 OK", headers, b""

    def _s3_preflight(self, origin: str, method: str, requested: list[str], rules: list[BucketRule]) -> Response:
        if not rules:
            return error(Protocol.REST_XML, 403, "AccessForbidden", "CORSResponse: CORS is not enabled for this "
                         "bucket.", service="s3", extra={"Method": method, "ResourceType": "BUCKET"})
        rule = next((r for r in rules if r.matches(origin, method, requested)), None)
        if rule is None or not self.allowed(origin):
            return error(Protocol.REST_XML, 403, "AccessForbidden", _NOT_ALLOWED, service="s3",
                         extra={"Method": method, "ResourceType": "OBJECT"})
        headers = [
            ("Access-Control-Allow-Origin", origin),
            ("Access-Control-Allow-Methods", ", ".join(rule.methods)),
            ("Vary", "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"),
            ("Access-Control-Allow-Credentials", "true"),
            ("Content-Length", "0"),
        ]
        if requested:
            headers.append(("Access-Control-Allow-Headers", ", ".join(requested)))
        if rule.expose:
            headers.append(("Access-Control-Expose-Headers", ", ".join(rule.expose)))
        if rule.max_age:
            headers.append(("Access-Control-Max-Age", rule.max_age))
        return "200 OK", headers, b""

    # -- actual responses ----------------------------------------------------------------------------------------
    def decorate(
        self, response: Response, environ: Mapping[str, Any], bucket_rules: list[BucketRule] | None
    ) -> Response:
        """`response` with the CORS headers its origin is entitled to (none for a foreign origin).
        Whatever CORS headers the backend (moto's flask-cors) added are dropped first."""
        status, headers, body = response
        headers = [(k, v) for k, v in headers if not k.lower().startswith("access-control-")]
        origin = environ.get("HTTP_ORIGIN")
        if not origin or not self.allowed(origin):
            return status, headers, body
        method = environ.get("REQUEST_METHOD", "GET")
        if bucket_rules is not None:
            rule = next((r for r in bucket_rules if r.matches(origin, method)), None)
            if rule is None:
                return status, headers, body
            extra = [("Access-Control-Allow-Origin", origin), ("Access-Control-Allow-Credentials", "true"),
                     ("Access-Control-Allow-Methods", ", ".join(rule.methods)),
                     ("Vary", "Origin, Access-Control-Request-Headers, Access-Control-Request-Method")]
            if rule.expose:
                extra.append(("Access-Control-Expose-Headers", ", ".join(rule.expose)))
        else:
            extra = [("Access-Control-Allow-Origin", origin), ("Access-Control-Expose-Headers", EXPOSED_HEADERS),
                     ("Vary", "Origin")]
        return status, [*headers, *extra], body


def _refused_preflight() -> Response:
    body = b'{"message": "CORS preflight refused: origin, method or headers not allowed by the sandbox"}'
    return "403 Forbidden", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))], body


def _one_wildcard(pattern: str, value: str) -> bool:
    """S3's CORS patterns: the whole value, or one `*` standing for any run of characters."""
    if "*" not in pattern:
        return pattern == value
    head, _, tail = pattern.partition("*")
    return len(value) >= len(head) + len(tail) and value.startswith(head) and value.endswith(tail)
