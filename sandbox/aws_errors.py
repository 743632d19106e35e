"""Errors as each AWS protocol writes them, for what the sandbox's front door refuses itself.

- S3 (REST-XML): `<Error><Code>..</Code><Message>..</Message>...<RequestId/><HostId/></Error>`;
- JSON services (DynamoDB awsJson1.0, Cognito awsJson1.1): `{"__type": ..., "message": ...}` with
  `x-amzn-ErrorType`; DynamoDB names the shared authentication errors `com.amazon.coral.service#...`;
- query services (STS, IAM): `<ErrorResponse><Error><Type>Sender</Type><Code>..</Code>...`.

`signature_error` turns a `SigV4Error` into the code and status each protocol uses for it
(S3 `SignatureDoesNotMatch` 403, DynamoDB `InvalidSignatureException` 400, ...).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from enum import StrEnum
from xml.sax.saxutils import escape

from sandbox.sigv4 import SigV4Error

Response = tuple[str, list[tuple[str, str]], bytes]

_REASONS = {400: "Bad Request", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
            412: "Precondition Failed", 500: "Internal Server Error", 501: "Not Implemented"}
_S3_MISMATCH = ("The request signature we calculated does not match the signature you provided. "
                "Check your key and signing method.")
_QUERY_NAMESPACES = {"sts": "https://sts.amazonaws.com/doc/2011-06-15/", "iam": "https://iam.amazonaws.com/doc/2010-05-08/"}


class Protocol(StrEnum):
    REST_XML = "rest-xml"  # S3
    JSON = "json"  # DynamoDB, Cognito
    QUERY = "query"  # STS, IAM


def request_id() -> str:
    return secrets.token_hex(8).upper()


def error(protocol: Protocol, status: int, code: str, message: str, *, service: str = "",
          extra: Mapping[str, str] | None = None) -> Response:
    """An error body as `protocol` writes it. `service` picks DynamoDB's type prefix and the query namespace."""
    rid = request_id()
    if protocol is Protocol.REST_XML:
        fields = "".join(f"<{k}>{escape(v)}</{k}>" for k, v in (extra or {}).items())
        body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>{escape(message)}'
                f"</Message>{fields}<RequestId>{rid}</RequestId><HostId>{secrets.token_urlsafe(24)}</HostId>"
                "</Error>").encode()
        headers = [("Content-Type", "application/xml"), ("x-amz-request-id", rid)]
    elif protocol is Protocol.JSON:
        type_name = f"com.amazon.coral.service#{code}" if service == "dynamodb" else code
        body = json.dumps({"__type": type_name, "message": message}).encode()
        content_type = "application/x-amz-json-1.0" if service == "dynamodb" else "application/x-amz-json-1.1"
        headers = [("Content-Type", content_type), ("x-amzn-RequestId", rid), ("x-amzn-ErrorType", f"{code}:")]
    else:
        namespace = _QUERY_NAMESPACES.get(service, "")
        body = (f'<ErrorResponse xmlns="{namespace}"><Error><Type>Sender</Type><Code>{code}</Code>'
                f"<Message>{escape(message)}</Message></Error><RequestId>{rid}</RequestId></ErrorResponse>").encode()
        headers = [("Content-Type", "text/xml"), ("x-amzn-RequestId", rid)]
    headers.append(("Content-Length", str(len(body))))
    return f"{status} {_REASONS.get(status, 'Error')}", headers, body


def access_denied(protocol: Protocol, service: str, message: str) -> Response:
    """The service's own access-denied answer (nothing was done)."""
    if protocol is Protocol.JSON:
        return error(protocol, 400, "AccessDeniedException", message, service=service)
    return error(protocol, 403, "AccessDenied", message, service=service)  # S3 and the query services alike


def missing_authentication(protocol: Protocol, service: str) -> Response:
    """An unsigned call to an operation AWS serves only signed. (S3 treats it as anonymous instead.)"""
    if protocol is Protocol.REST_XML:
        return error(protocol, 403, "AccessDenied", "Access Denied", service=service)
    if protocol is Protocol.JSON:
        message = "Request is missing Authentication Token" if service == "dynamodb" else "Missing Authentication Token"
        return error(protocol, 400, "MissingAuthenticationTokenException", message, service=service)
    return error(protocol, 400, "MissingAuthenticationToken", "Request is missing Authentication Token",
                 service=service)


def expired_credentials(protocol: Protocol, service: str) -> Response:
    if protocol is Protocol.REST_XML:
        return error(protocol, 400, "ExpiredToken", "The provided token has expired.", service=service)
    if protocol is Protocol.JSON:
        return error(protocol, 400, "ExpiredTokenException", "The security token included in the request is expired",
                     service=service)
    return error(protocol, 403, "ExpiredToken", "The security token included in the request is expired",
                 service=service)


def sigv2_refused(protocol: Protocol, service: str) -> Response:
    """Signature Version 2: buckets created after June 2020 (and every other service here) refuse it."""
    message = "The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256."
    if protocol is Protocol.REST_XML:
        return error(protocol, 400, "InvalidRequest", message, service=service)
    return error(protocol, 400, "IncompleteSignatureException" if protocol is Protocol.JSON else "IncompleteSignature",
                 message, service=service)


def signature_error(protocol: Protocol, service: str, failure: SigV4Error, *, presigned: bool = False) -> Response:
    """How each protocol answers a request whose signature (or credential scope, date, token) is wrong."""
    kind, message = failure.kind, failure.message
    if protocol is Protocol.REST_XML:
        return _s3_signature_error(failure, presigned)
    if protocol is Protocol.JSON:
        code = {"malformed": "IncompleteSignatureException", "token": "UnrecognizedClientException",
                "missing": "MissingAuthenticationTokenException"}.get(kind, "InvalidSignatureException")
        return error(protocol, 400, code, message, service=service)
    code = {"malformed": "IncompleteSignature", "token": "InvalidClientTokenId",
            "missing": "MissingAuthenticationToken"}.get(kind, "SignatureDoesNotMatch")
    return error(protocol, 403 if kind in ("token", "signature", "scope", "skew") else 400, code, message,
                 service=service)


def _s3_signature_error(failure: SigV4Error, presigned: bool) -> Response:
    kind, detail = failure.kind, failure.detail
    protocol = Protocol.REST_XML
    if kind == "unsigned-headers":
        return error(protocol, 403, "AccessDenied", failure.message, service="s3", extra=detail)
    if kind == "signature":
        return error(protocol, 403, "SignatureDoesNotMatch", _S3_MISMATCH, service="s3")
    if kind == "token":
        return error(protocol, 400, "InvalidToken", "The provided token is malformed or otherwise invalid.",
                     service="s3")
    if kind == "skew":
        return error(protocol, 403, "RequestTimeTooSkewed",
                     "The difference between the request time and the current time is too large.", service="s3",
                     extra={"RequestTime": detail.get("RequestTime", ""), "ServerTime": detail.get("ServerTime", ""),
                            "MaxAllowedSkewMilliseconds": "900000"})
    if kind == "expired-url":
        return error(protocol, 403, "AccessDenied", "Request has expired", service="s3", extra=detail)
    if kind == "payload":
        return error(protocol, 400, "XAmzContentSHA256Mismatch", failure.message, service="s3")
    if kind == "scope" and "Got" in detail:
        where = "X-Amz-Credential parameter" if presigned else "authorization header"
        message = (f"Error parsing the {where}; the region '{detail['Got']}' is wrong; expecting '{detail['Region']}'"
                   if presigned else
                   f"The {where} is malformed; the region '{detail['Got']}' is wrong; expecting '{detail['Region']}'")
        code = "AuthorizationQueryParametersError" if presigned else "AuthorizationHeaderMalformed"
        return error(protocol, 400, code, message, service="s3", extra={"Region": detail["Region"]})
    if presigned or kind == "bad-url":
        return error(protocol, 400, "AuthorizationQueryParametersError", failure.message, service="s3")
    if kind == "malformed" and failure.message.startswith("Missing required header"):
        return error(protocol, 400, "InvalidRequest", failure.message, service="s3")
    return error(protocol, 400, "AuthorizationHeaderMalformed", f"The authorization header is malformed; "
                 f"{failure.message.strip()}", service="s3")
