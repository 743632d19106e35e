"""Verify AWS Signature Version 4 on an incoming request, as the AWS front ends do.

The expected signature is computed by botocore's own signers (`SigV4Auth`, `S3SigV4Auth`, and the
query-string `SigV4QueryAuth`/`S3SigV4QueryAuth` for presigned URLs) on an `AWSRequest` rebuilt from
what arrived on the wire: the method, the path and query as sent, exactly the headers the client
listed in `SignedHeaders`, and the body. Our own code only does what a signer does not: parse the
`Authorization` header or the `X-Amz-*` query parameters, check the credential scope (service,
region, date), the clock skew (15 minutes), a presigned URL's expiry (at most 7 days), the session
token, the payload hash and, for S3, that every `x-amz-*` header sent was signed, and raise AWS's
messages. The caller checks that the credentials themselves have not expired.

Failures raise `SigV4Error(response_type, message, kind=...)`: `response_type` is API Gateway's
gateway response type (INVALID_SIGNATURE, MISSING_AUTHENTICATION_TOKEN...), `kind` says what failed
so that each service can answer with its own error code (see `sandbox/aws_errors.py`).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import parse_qsl, quote, unquote

from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth, SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest, HTTPHeaders
from botocore.credentials import Credentials

ALGORITHM = "AWS4-HMAC-SHA256"
MAX_SKEW_SECONDS = 15 * 60  # AWS rejects signatures dated more than 15 minutes away from now
MAX_PRESIGN_SECONDS = 7 * 24 * 3600  # X-Amz-Expires: at most 7 days (604800 seconds)
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
STREAMING_PAYLOADS = ("STREAMING-",)  # aws-chunked uploads: not verified chunk by chunk (see ledger)
# S3 refuses a request carrying an x-amz-* header the signature does not cover; x-amz-content-sha256 alone
# may go unsigned (the payload hash is checked against the body anyway).
S3_UNSIGNED_ALLOWED = frozenset({"x-amz-content-sha256"})
UNSIGNED_HEADERS_MESSAGE = "There were headers present in the request which were not signed"

_AUTH_RE = re.compile(
    r"^AWS4-HMAC-SHA256\s+Credential=(?P<credential>[^,\s]+)\s*,\s*"
    r"SignedHeaders=(?P<signed>[^,\s]+)\s*,\s*Signature=(?P<signature>[0-9a-fA-F]+)\s*$"
)
_QUERY_AUTH = ("X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders",
               "X-Amz-Signature")
_MISMATCH = ("The request signature we calculated does not match the signature you provided. Check your AWS "
             "Secret Access Key and signing method. Consult the service documentation for details.")


class SigV4Error(Exception):
    """A request that fails authentication; `response_type` names the API Gateway gateway response.

    `kind`: missing | malformed | scope | skew | token | signature | payload | expired-url | bad-url |
    unsigned-headers."""

    def __init__(self, response_type: str, message: str, *, kind: str = "signature", detail: Mapping[str, str] = {}):
        super().__init__(message)
        self.response_type = response_type
        self.message = message
        self.kind = kind
        self.detail = dict(detail)  # extra fields S3 puts in its XML error (region, expiry...)


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


def is_presigned(query_string: str) -> bool:
    """True when the query string carries SigV4 query authentication (a presigned URL)."""
    return any(key == "X-Amz-Credential" for key, _ in parse_qsl(query_string, keep_blank_values=True))


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
                kind="malformed",
            )
        raise SigV4Error(
            "INVALID_SIGNATURE",
            "Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters.",
            kind="malformed",
        )
    credential = _credential(match.group("credential"))
    return credential, _signed_header_names(match.group("signed")), match.group("signature").lower()


def credential_of(request: SignedRequest) -> Credential | None:
    """The credential a request claims (header or presigned query), unverified; None when unsigned."""
    authorization = header(request.headers, "authorization")
    if authorization:
        return parse_authorization(authorization)[0]
    params = dict(parse_qsl(request.query_string, keep_blank_values=True))
    if "X-Amz-Credential" in params:
        return _credential(params["X-Amz-Credential"])
    return None


def verify(
    request: SignedRequest,
    *,
    secret_for: Callable[[str], str | None],
    region: str,
    service: str = "execute-api",
    now: float | None = None,
    token_for: Callable[[str], str | None] | None = None,
) -> Credential:
    """Check the request's Authorization header; return its credential scope or raise SigV4Error.

    `secret_for(access_key)` returns the key's secret, or None when the key is unknown.
    `token_for(access_key)`, when given, returns the session token the key must be used with (None: none).
    """
    authorization = header(request.headers, "authorization")
    if not authorization:
        raise SigV4Error("MISSING_AUTHENTICATION_TOKEN", "Missing Authentication Token", kind="missing")
    credential, signed_headers, signature = parse_authorization(authorization)
    _check_scope(credential, region, service, presigned=False)
    _check_host_signed(signed_headers)
    amz_date = _request_date(request.headers)
    _check_skew(amz_date, time.time() if now is None else now)
    if credential.date != amz_date[:8]:
        raise SigV4Error(
            "INVALID_SIGNATURE",
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: "
            f"'{credential.date}' != '{amz_date[:8]}', from '{amz_date}'.",
            kind="malformed",
        )
    secret = _secret(secret_for, credential)
    token = _check_token(token_for, credential, header(request.headers, "x-amz-security-token"))
    _check_payload(request, service)
    signer_class = _HeaderS3Signer if service == "s3" else _HeaderSigner
    aws_request = _aws_request(request, service, drop=())
    _check_signature(signer_class(Credentials(credential.access_key, secret, token), service, credential.region),
                     signed_headers, aws_request, amz_date, signature)
    _check_all_amz_headers_signed(request, service, signed_headers)
    return credential


def verify_presigned(
    request: SignedRequest,
    *,
    secret_for: Callable[[str], str | None],
    region: str,
    service: str = "s3",
    now: float | None = None,
    token_for: Callable[[str], str | None] | None = None,
) -> Credential:
    """Check a presigned URL (SigV4 query authentication); return its credential or raise SigV4Error."""
    params = dict(parse_qsl(request.query_string, keep_blank_values=True))
    missing = [name for name in _QUERY_AUTH if not params.get(name)]
    if params.get("X-Amz-Algorithm", ALGORITHM) != ALGORITHM:
        raise SigV4Error("INVALID_SIGNATURE", "X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\"", kind="bad-url")
    if missing:
        raise SigV4Error(
            "INVALID_SIGNATURE",
            "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, "
            "X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.",
            kind="bad-url",
        )
    credential = _credential(params["X-Amz-Credential"])
    _check_scope(credential, region, service, presigned=True)
    amz_date = params["X-Amz-Date"]
    signed_at = _parse_amz_date(amz_date)
    try:
        expires = int(params["X-Amz-Expires"])
    except ValueError:
        raise SigV4Error("INVALID_SIGNATURE", "X-Amz-Expires should be a number", kind="bad-url") from None
    if expires < 0:
        raise SigV4Error("INVALID_SIGNATURE", "X-Amz-Expires must be non-negative", kind="bad-url")
    if expires > MAX_PRESIGN_SECONDS:
        raise SigV4Error("INVALID_SIGNATURE",
                         f"X-Amz-Expires must be less than a week (in seconds) that is {MAX_PRESIGN_SECONDS}",
                         kind="bad-url")
    current = time.time() if now is None else now
    if current > signed_at + expires:
        raise SigV4Error("EXPIRED_TOKEN", "Request has expired", kind="expired-url", detail={
            "X-Amz-Expires": str(expires),
            "Expires": _iso(signed_at + expires),
            "ServerTime": _iso(current),
        })
    if credential.date != amz_date[:8]:
        raise SigV4Error("INVALID_SIGNATURE", "Error parsing the X-Amz-Credential parameter; incorrect date format. "
                         "This date in the credential must be in the format \"yyyyMMdd\".", kind="bad-url")
    secret = _secret(secret_for, credential)
    token = _check_token(token_for, credential, params.get("X-Amz-Security-Token", ""))
    signed_headers = _signed_header_names(params["X-Amz-SignedHeaders"])
    _check_host_signed(signed_headers)
    signer_class = _QueryS3Signer if service == "s3" else _QuerySigner
    aws_request = _aws_request(request, service, drop=("X-Amz-Signature",))
    del aws_request.headers["x-amz-content-sha256"]  # a presigned URL's payload is UNSIGNED-PAYLOAD
    _check_signature(signer_class(Credentials(credential.access_key, secret, token), service, credential.region),
                     signed_headers, aws_request, amz_date, params["X-Amz-Signature"].lower())
    _check_all_amz_headers_signed(request, service, signed_headers)
    return credential


# -- botocore's signers, told which headers the client signed ---------------------------------------------------
class _SignedHeadersOnly:
    """A signer that signs exactly the headers the client listed in SignedHeaders, as the server must."""

    signed: list[str]

    def headers_to_sign(self, request: AWSRequest) -> HTTPHeaders:
        chosen = HTTPHeaders()
        for name in self.signed:
            for value in request.headers.get_all(name) or []:
                chosen[name] = value
        return chosen


class _HeaderSigner(_SignedHeadersOnly, SigV4Auth):
    pass


class _HeaderS3Signer(_SignedHeadersOnly, S3SigV4Auth):
    pass


class _QuerySigner(_SignedHeadersOnly, SigV4QueryAuth):
    pass


class _QueryS3Signer(_SignedHeadersOnly, S3SigV4QueryAuth):
    pass


def _check_signature(signer: _SignedHeadersOnly, signed_headers: list[str], aws_request: AWSRequest, amz_date: str,
                     signature: str) -> None:
    """Compute the signature with botocore's signer, as of the request's own date, and compare."""
    signer.signed = signed_headers
    aws_request.context["timestamp"] = amz_date
    botocore_signer: Any = signer
    canonical = botocore_signer.canonical_request(aws_request)
    expected = botocore_signer.signature(botocore_signer.string_to_sign(aws_request, canonical), aws_request)
    if not hmac.compare_digest(expected, signature):
        raise SigV4Error("INVALID_SIGNATURE", _MISMATCH, kind="signature")


def _aws_request(request: SignedRequest, service: str, drop: tuple[str, ...]) -> AWSRequest:
    """The request as botocore's signers read it. The query is decoded into pairs (botocore re-encodes
    them the RFC 3986 way and sorts, as SigV4 specifies); an S3 path is canonicalized by decoding and
    encoding it once (other services' paths are encoded once more by the signer itself)."""
    host = header(request.headers, "host") or "localhost"
    path = request.raw_path or "/"
    if service == "s3":
        path = quote(unquote(path), safe="/~")
    params = [(k, v) for k, v in parse_qsl(request.query_string, keep_blank_values=True) if k not in drop]
    aws_request = AWSRequest(method=request.method.upper(), url=f"http://{host}{path}", data=request.body,
                             params=params)
    for name, value in request.headers.items():
        aws_request.headers[name] = value
    if not params:
        aws_request.params = {}
    return aws_request


# -- our own checks ------------------------------------------------------------------------------------------------
def _credential(value: str) -> Credential:
    parts = unquote(value).split("/")
    if len(parts) != 5 or parts[4] != "aws4_request":
        raise SigV4Error(
            "INVALID_SIGNATURE",
            f"Credential should be scoped to a valid region, not '{parts[2] if len(parts) > 2 else ''}'. ",
            kind="malformed",
        )
    return Credential(access_key=parts[0], date=parts[1], region=parts[2], service=parts[3])


def _check_scope(credential: Credential, region: str, service: str, *, presigned: bool) -> None:
    if credential.service != service:
        raise SigV4Error("INVALID_SIGNATURE", f"Credential should be scoped to correct service: '{service}'. ",
                         kind="scope", detail={"Region": region})
    if credential.region != region:
        raise SigV4Error("INVALID_SIGNATURE", f"Credential should be scoped to a valid region, not "
                         f"'{credential.region}'. ", kind="scope", detail={"Region": region, "Got": credential.region})


def _check_skew(amz_date: str, current: float) -> None:
    signed_at = _parse_amz_date(amz_date)
    if abs(current - signed_at) <= MAX_SKEW_SECONDS:
        return
    now_text = _format_amz_date(current)
    if signed_at < current:
        limit = _format_amz_date(current - MAX_SKEW_SECONDS)
        detail = f"{amz_date} is now earlier than {limit} ({now_text} - 15 min.)"
    else:
        limit = _format_amz_date(current + MAX_SKEW_SECONDS)
        detail = f"{amz_date} is now later than {limit} ({now_text} + 15 min.)"
    raise SigV4Error("INVALID_SIGNATURE", f"Signature expired: {detail}", kind="skew",
                     detail={"RequestTime": amz_date, "ServerTime": _iso(current)})


def _secret(secret_for: Callable[[str], str | None], credential: Credential) -> str:
    secret = secret_for(credential.access_key)
    if secret is None:
        raise SigV4Error("INVALID_SIGNATURE", "The security token included in the request is invalid.", kind="token")
    return secret


def _check_token(token_for: Callable[[str], str | None] | None, credential: Credential, sent: str) -> str | None:
    """Temporary credentials are valid only with their own session token (and static keys without one)."""
    if token_for is None:
        return sent or None
    wanted = token_for(credential.access_key)
    if (wanted or "") != sent:
        raise SigV4Error("INVALID_SIGNATURE", "The security token included in the request is invalid.", kind="token")
    return wanted


def _signed_header_names(text: str) -> list[str]:
    """`SignedHeaders` (header or query parameter): lower-case names separated by ';'."""
    return [h.strip().lower() for h in text.split(";") if h.strip()]


def _check_host_signed(signed_headers: list[str]) -> None:
    if "host" not in signed_headers:
        raise SigV4Error("INVALID_SIGNATURE", "'Host' must be a 'SignedHeader' in the AWS Authorization.",
                         kind="malformed")


def _check_all_amz_headers_signed(request: SignedRequest, service: str, signed_headers: list[str]) -> None:
    """S3: a valid signature over fewer headers than were sent is refused when an `x-amz-*` header is left out
    (ACLs, metadata, tags, the copy source, the token: all change what the request does)."""
    if service != "s3":
        return
    unsigned = sorted({name.lower() for name in request.headers if name.lower().startswith("x-amz-")}
                      - set(signed_headers) - S3_UNSIGNED_ALLOWED)
    if unsigned:
        raise SigV4Error("INVALID_SIGNATURE", UNSIGNED_HEADERS_MESSAGE, kind="unsigned-headers",
                         detail={"HeadersNotSigned": ", ".join(unsigned)})


def _check_payload(request: SignedRequest, service: str) -> None:
    """The body must hash to what x-amz-content-sha256 claims (S3 allows UNSIGNED-PAYLOAD instead)."""
    claimed = header(request.headers, "x-amz-content-sha256")
    if service == "s3" and not claimed:
        raise SigV4Error("INVALID_SIGNATURE", "Missing required header for this request: x-amz-content-sha256",
                         kind="malformed")
    if not claimed or (service == "s3" and (claimed == UNSIGNED_PAYLOAD or claimed.startswith(STREAMING_PAYLOADS))):
        return
    if claimed.lower() != hashlib.sha256(request.body).hexdigest():
        if service == "s3":
            raise SigV4Error("INVALID_SIGNATURE",
                             "The provided 'x-amz-content-sha256' header does not match what was computed.",
                             kind="payload")
        raise SigV4Error("INVALID_SIGNATURE", _MISMATCH, kind="signature")


def _request_date(headers: Mapping[str, str]) -> str:
    amz_date = header(headers, "x-amz-date")
    if amz_date:
        return amz_date
    date = header(headers, "date")
    if date:
        try:
            return parsedate_to_datetime(date).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
        except (TypeError, ValueError):
            pass
    raise SigV4Error(
        "INVALID_SIGNATURE",
        "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
        kind="malformed",
    )


def header(headers: Mapping[str, str], name: str) -> str:
    """The value of the header `name` (lower case), whatever case it was sent in; "" when absent."""
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return ""


def _parse_amz_date(value: str) -> float:
    try:
        return datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC).timestamp()
    except ValueError:
        raise SigV4Error("INVALID_SIGNATURE", f"Date must be in ISO-8601 'basic format'. Got '{value}'.",
                         kind="malformed") from None


def _format_amz_date(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y%m%dT%H%M%SZ")


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
