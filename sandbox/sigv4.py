"""Verify AWS Signature Version 4 on an incoming request, as the AWS front ends do.

The canonical request is rebuilt from what arrived on the wire (raw path, query, the
signed headers, a hash of the body) and signed with the secret the caller claims to hold;
the signatures must match. Failures carry the API Gateway response type and AWS's message.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote, unquote

ALGORITHM = "AWS4-HMAC-SHA256"
MAX_SKEW_SECONDS = 15 * 60  # AWS rejects signatures dated more than 15 minutes away from now

_AUTH_RE = re.compile(
    r"^AWS4-HMAC-SHA256\s+Credential=(?P<credential>[^,\s]+)\s*,\s*"
    r"SignedHeaders=(?P<signed>[^,\s]+)\s*,\s*Signature=(?P<signature>[0-9a-fA-F]+)\s*$"
)


class SigV4Error(Exception):
    """A request that fails authentication; `response_type` names the API Gateway gateway response."""

    def __init__(self, response_type: str, message: str):
        super().__init__(message)
        self.response_type = response_type
        self.message = message


@dataclass(frozen=True)
class Credential:
    """The parsed `Credential=` scope of a signed request."""

    access_key: str
    date: str
    region: str
    service: str

    @property
    def scope(self) -> str:
        return f"{self.date}/{self.region}/{self.service}/aws4_request"


@dataclass(frozen=True)
class SignedRequest:
    """What the signature covers, as it arrived."""

    method: str
    raw_path: str  # percent-encoded path as sent by the client
    query_string: str  # raw query string, without "?"
    headers: Mapping[str, str]  # header name (any case) -> value
    body: bytes


def has_signature(headers: Mapping[str, str]) -> bool:
    """True when the request carries any SigV4 material (header or presigned query is not supported)."""
    return bool(_header(headers, "authorization"))


def parse_authorization(value: str) -> tuple[Credential, list[str], str]:
    """Split an Authorization header into (credential, signed header names, signature)."""
    match = _AUTH_RE.match(value.strip())
    if not match:
        if not value.strip().startswith(ALGORITHM):
            # API Gateway answers a non-SigV4 Authorization header (e.g. a bearer token) this way.
            raise SigV4Error(
                "INVALID_SIGNATURE",
                f"Invalid key=value pair (missing equal-sign) in Authorization header (hashed with SHA-256 and "
                f"encoded with Base64): '{hashlib.sha256(value.encode()).hexdigest()[:44]}'.",
            )
        raise SigV4Error(
            "INVALID_SIGNATURE",
            "Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters.",
        )
    parts = match.group("credential").split("/")
    if len(parts) != 5 or parts[4] != "aws4_request":
        raise SigV4Error(
            "INVALID_SIGNATURE",
            f"Credential should be scoped to a valid region, not '{parts[2] if len(parts) > 2 else ''}'. ",
        )
    credential = Credential(access_key=parts[0], date=parts[1], region=parts[2], service=parts[3])
    signed = [h.strip().lower() for h in match.group("signed").split(";") if h.strip()]
    return credential, signed, match.group("signature").lower()


def verify(
    request: SignedRequest,
    *,
    secret_for: Callable[[str], str | None],
    region: str,
    service: str = "execute-api",
    now: float | None = None,
) -> Credential:
    """Check the request's signature; return its credential scope or raise SigV4Error.

    `secret_for(access_key)` returns the key's secret, or None when the key is unknown.
    """
    authorization = _header(request.headers, "authorization")
    if not authorization:
        raise SigV4Error("MISSING_AUTHENTICATION_TOKEN", "Missing Authentication Token")
    credential, signed_headers, signature = parse_authorization(authorization)
    if credential.service != service:
        raise SigV4Error("INVALID_SIGNATURE", f"Credential should be scoped to correct service: '{service}'. ")
    if credential.region != region:
        message = f"Credential should be scoped to a valid region, not '{credential.region}'. "
        raise SigV4Error("INVALID_SIGNATURE", message)
    if "host" not in signed_headers:
        raise SigV4Error("INVALID_SIGNATURE", "'Host' must be a 'SignedHeader' in the AWS Authorization.")

    amz_date = _header(request.headers, "x-amz-date")
    if not amz_date:
        raise SigV4Error(
            "INVALID_SIGNATURE",
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
        )
    signed_at = _parse_amz_date(amz_date)
    current = time.time() if now is None else now
    if abs(current - signed_at) > MAX_SKEW_SECONDS:
        now_text = _format_amz_date(current)
        if signed_at < current:
            limit = _format_amz_date(current - MAX_SKEW_SECONDS)
            detail = f"{amz_date} is now earlier than {limit} ({now_text} - 15 min.)"
        else:
            limit = _format_amz_date(current + MAX_SKEW_SECONDS)
            detail = f"{amz_date} is now later than {limit} ({now_text} + 15 min.)"
        raise SigV4Error("INVALID_SIGNATURE", f"Signature expired: {detail}")
    if credential.date != amz_date[:8]:
        raise SigV4Error(
            "INVALID_SIGNATURE",
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: "
            f"'{credential.date}' != '{amz_date[:8]}', from '{amz_date}'.",
        )

    secret = secret_for(credential.access_key)
    if secret is None:
        raise SigV4Error("INVALID_SIGNATURE", "The security token included in the request is invalid.")

    string_to_sign = "\n".join(
        [ALGORITHM, amz_date, credential.scope, _sha256_hex(canonical_request(request, signed_headers).encode())]
    )
    expected = hmac.new(signing_key(secret, credential), string_to_sign.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature):
        raise SigV4Error(
            "INVALID_SIGNATURE",
            "The request signature we calculated does not match the signature you provided. Check your AWS "
            "Secret Access Key and signing method. Consult the service documentation for details.",
        )
    return credential


def canonical_request(request: SignedRequest, signed_headers: list[str]) -> str:
    """The SigV4 canonical request (non-S3 rules: path segments encoded twice)."""
    lines = [request.method.upper(), canonical_path(request.raw_path), canonical_query(request.query_string)]
    lowered: dict[str, list[str]] = {}
    for name, value in request.headers.items():
        lowered.setdefault(name.lower(), []).append(value)
    for name in signed_headers:
        values = lowered.get(name, [])
        lines.append(f"{name}:{','.join(' '.join(v.split()) for v in values)}")
    lines.append("")
    lines.append(";".join(signed_headers))
    lines.append(_sha256_hex(request.body))
    return "\n".join(lines)


def canonical_path(raw_path: str) -> str:
    """Normalize the path like botocore does, then encode it once more (non-S3 services)."""
    path = raw_path or "/"
    segments: list[str] = []
    for segment in path.split("/"):
        if segment in ("", "."):
            continue
        if segment == "..":
            if segments:
                segments.pop()
            continue
        segments.append(segment)
    normalized = "/" + "/".join(segments)
    if path.endswith("/") and normalized != "/":
        normalized += "/"
    return quote(normalized, safe="/~")


def canonical_query(query_string: str) -> str:
    """Decode each key/value, re-encode them the RFC 3986 way and sort, as the spec says."""
    if not query_string:
        return ""
    pairs = []
    for part in query_string.split("&"):
        if not part:
            continue
        key, _, value = part.partition("=")
        pairs.append((_encode(unquote(key)), _encode(unquote(value))))
    return "&".join(f"{k}={v}" for k, v in sorted(pairs))


def signing_key(secret: str, credential: Credential) -> bytes:
    key = f"AWS4{secret}".encode()
    for part in (credential.date, credential.region, credential.service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def _encode(value: str) -> str:
    return quote(value, safe="-_.~")


def _sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _header(headers: Mapping[str, str], name: str) -> str:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return ""


def _parse_amz_date(value: str) -> float:
    try:
        return datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC).timestamp()
    except ValueError:
        raise SigV4Error("INVALID_SIGNATURE", f"Date must be in ISO-8601 'basic format'. Got '{value}'.") from None


def _format_amz_date(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y%m%dT%H%M%SZ")
