"""Signature Version 4 verification: botocore signs the requests (header and presigned URL), the
sandbox's verifier (botocore's own signer on the rebuilt request, plus AWS's checks) accepts exactly
the ones AWS accepts.

Pure functions: no cloud needed.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest
from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

from sandbox import sigv4

KEY, SECRET, TOKEN = "ASIAEXAMPLEEXAMPLE00", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "session-token"
REGION = "us-east-1"
HOST = "127.0.0.1:4567"


def signed(method: str, path: str, service: str, body: bytes = b"", headers: dict[str, str] | None = None,
           token: str | None = TOKEN, region: str = REGION, signer: type[SigV4Auth] | None = None
           ) -> sigv4.SignedRequest:
    """A request signed by botocore, as it would arrive on the wire."""
    request = AWSRequest(method=method, url=f"http://{HOST}{path}", data=body, headers=headers or {})
    signer = signer or (S3SigV4Auth if service == "s3" else SigV4Auth)
    signer(Credentials(KEY, SECRET, token), service, region).add_auth(request)
    parts = urlsplit(request.url)
    return sigv4.SignedRequest(method, parts.path, parts.query, {"Host": HOST, **dict(request.headers.items())}, body)


def verify(request: sigv4.SignedRequest, service: str, **kwargs: object) -> sigv4.Credential:
    options: dict[str, object] = {"secret_for": lambda _key: SECRET, "region": REGION, "service": service,
                                  "token_for": lambda _key: TOKEN, **kwargs}
    return sigv4.verify(request, **options)  # type: ignore[arg-type]


def failure(call: object) -> sigv4.SigV4Error:
    with pytest.raises(sigv4.SigV4Error) as raised:
        call()  # type: ignore[operator]
    return raised.value


def with_headers(request: sigv4.SignedRequest, **changes: str) -> sigv4.SignedRequest:
    headers = {k: v for k, v in request.headers.items() if k.lower() not in {c.lower() for c in changes}}
    headers.update({k.replace("_", "-"): v for k, v in changes.items()})
    return sigv4.SignedRequest(request.method, request.raw_path, request.query_string, headers, request.body)


# -- header authentication ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "method,path,service,body,headers",
    [
        ("POST", "/", "dynamodb", b'{"TableName": "t"}', {"X-Amz-Target": "DynamoDB_20120810.GetItem"}),
        ("POST", "/", "cognito-idp", b"{}", {"X-Amz-Target": "AWSCognitoIdentityProviderService.ListUsers"}),
        ("PUT", "/bucket/public/a%20b%2Bc~d", "s3", b"bytes", {"Content-Type": "image/png"}),
        ("GET", "/bucket?list-type=2&prefix=public%2F", "s3", b"", {}),
        ("GET", "/execute-api/abc/prod/comments/a%2Fb", "execute-api", b"", {}),
        ("POST", "/execute-api/abc/prod/photos", "execute-api", b'{"photoId": "p"}',
         {"Content-Type": "application/json"}),
    ],
)
def test_a_request_botocore_signed_is_accepted(method: str, path: str, service: str, body: bytes,
                                              headers: dict[str, str]) -> None:
    credential = verify(signed(method, path, service, body, headers), service)
    assert (credential.access_key, credential.region, credential.service) == (KEY, REGION, service)


def test_a_tampered_body_path_or_header_fails_the_signature() -> None:
    good = signed("POST", "/", "dynamodb", b'{"TableName": "a"}', {"X-Amz-Target": "DynamoDB_20120810.GetItem"})
    tampered = [
        sigv4.SignedRequest(good.method, good.raw_path, good.query_string, good.headers, b'{"TableName": "b"}'),
        sigv4.SignedRequest(good.method, "/other", good.query_string, good.headers, good.body),
        with_headers(good, X_Amz_Target="DynamoDB_20120810.DeleteTable"),
    ]
    for request in tampered:
        error = failure(lambda request=request: verify(request, "dynamodb"))
        assert error.kind == "signature" and error.message.startswith("The request signature we calculated")


def test_a_wrong_secret_fails_the_signature() -> None:
    request = signed("GET", "/bucket/k", "s3")
    assert failure(lambda: verify(request, "s3", secret_for=lambda _key: "another")).kind == "signature"


@pytest.mark.parametrize("region,service,kind", [("ap-northeast-1", "dynamodb", "scope"), (REGION, "s3", "scope")])
def test_a_signature_for_another_region_or_service_is_refused(region: str, service: str, kind: str) -> None:
    request = signed("POST", "/", "dynamodb", b"{}", {"X-Amz-Target": "DynamoDB_20120810.ListTables"}, region=region)
    error = failure(lambda: verify(request, service))
    assert error.kind == kind and "Credential should be scoped to" in error.message


def test_a_signature_older_than_fifteen_minutes_is_expired() -> None:
    request = signed("GET", "/bucket/k", "s3")
    error = failure(lambda: verify(request, "s3", now=time.time() + 16 * 60))
    assert error.kind == "skew" and error.message.startswith("Signature expired:")
    assert verify(request, "s3", now=time.time() + 14 * 60)


@pytest.mark.parametrize("token", [None, "another-token"])
def test_temporary_keys_need_their_own_session_token(token: str | None) -> None:
    request = signed("GET", "/bucket/k", "s3", token=token)
    error = failure(lambda: verify(request, "s3"))
    assert error.kind == "token" and error.message == "The security token included in the request is invalid."


def test_static_keys_are_refused_with_a_session_token() -> None:
    request = signed("GET", "/bucket/k", "s3", token="made-up")
    assert failure(lambda: verify(request, "s3", token_for=lambda _key: None)).kind == "token"


def test_an_unknown_key_is_refused() -> None:
    request = signed("GET", "/bucket/k", "s3")
    assert failure(lambda: verify(request, "s3", secret_for=lambda _key: None)).kind == "token"


def test_the_host_must_be_signed() -> None:
    request = signed("GET", "/bucket/k", "s3")
    authorization = request.headers["Authorization"].replace("SignedHeaders=host;", "SignedHeaders=")
    error = failure(lambda: verify(with_headers(request, Authorization=authorization), "s3"))
    assert error.kind == "malformed" and "'Host' must be a 'SignedHeader'" in error.message


def test_s3_checks_the_payload_hash_it_was_told() -> None:
    request = signed("PUT", "/bucket/k", "s3", b"original")
    swapped = sigv4.SignedRequest(request.method, request.raw_path, request.query_string, request.headers, b"swapped")
    error = failure(lambda: verify(swapped, "s3"))
    assert error.kind == "payload" and "x-amz-content-sha256" in error.message


def test_s3_accepts_an_unsigned_payload_and_requires_the_header() -> None:
    # as the web app and ops.appclient sign uploads: the generic signer, told the payload is unsigned
    request = signed("PUT", "/bucket/k", "s3", b"bytes", {"X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD"},
                     signer=SigV4Auth)
    assert request.headers["X-Amz-Content-SHA256"] == "UNSIGNED-PAYLOAD"
    assert verify(request, "s3")
    headerless = with_headers(request, X_Amz_Content_SHA256="")
    headerless = sigv4.SignedRequest(request.method, request.raw_path, request.query_string,
                                     {k: v for k, v in headerless.headers.items() if v}, request.body)
    assert "x-amz-content-sha256" in failure(lambda: verify(headerless, "s3")).message


def test_s3_refuses_x_amz_headers_the_signature_does_not_cover() -> None:
    good = signed("PUT", "/bucket/public/k", "s3", b"x", {"If-None-Match": "*"})
    added = with_headers(good, x_amz_website_redirect_location="/evil", X_Amz_Meta_Added="1")
    error = failure(lambda: verify(added, "s3"))
    assert (error.kind, error.message) == ("unsigned-headers",
                                           "There were headers present in the request which were not signed")
    assert error.detail == {"HeadersNotSigned": "x-amz-meta-added, x-amz-website-redirect-location"}
    assert verify(good, "s3").access_key == KEY  # everything botocore sends is signed


class _PayloadHashUnsigned(S3SigV4Auth):
    def headers_to_sign(self, request: AWSRequest) -> Any:
        headers = super().headers_to_sign(request)
        del headers["x-amz-content-sha256"]
        return headers


def test_s3_lets_the_payload_hash_header_alone_go_unsigned() -> None:
    """S3 checks x-amz-content-sha256 against the body anyway; clients that do not sign it work on AWS."""
    request = signed("PUT", "/bucket/public/k", "s3", b"x", signer=_PayloadHashUnsigned)
    assert "x-amz-content-sha256" not in request.headers["Authorization"]
    assert verify(request, "s3").access_key == KEY


def test_other_services_do_not_check_for_unsigned_x_amz_headers() -> None:
    request = signed("POST", "/", "dynamodb", b"{}", {"X-Amz-Target": "DynamoDB_20120810.ListTables"})
    assert verify(with_headers(request, X_Amz_Meta_Added="1"), "dynamodb").access_key == KEY


def test_a_bearer_token_is_not_a_signature() -> None:
    request = with_headers(signed("GET", "/", "s3"), Authorization="Bearer eyJ")
    assert failure(lambda: verify(request, "s3")).kind == "malformed"


# -- presigned URLs -----------------------------------------------------------------------------------------------
def presigned(expires: int = 60, key: str = "public/a b") -> sigv4.SignedRequest:
    s3 = boto3.client("s3", region_name=REGION, endpoint_url=f"http://{HOST}", aws_access_key_id=KEY,
                      aws_secret_access_key=SECRET, aws_session_token=TOKEN,
                      config=Config(signature_version="s3v4", s3={"addressing_style": "path"}))
    parts = urlsplit(s3.generate_presigned_url("get_object", Params={"Bucket": "bucket", "Key": key},
                                               ExpiresIn=expires))
    return sigv4.SignedRequest("GET", parts.path, parts.query, {"Host": HOST}, b"")


def verify_url(request: sigv4.SignedRequest, **kwargs: object) -> sigv4.Credential:
    options: dict[str, object] = {"secret_for": lambda _key: SECRET, "region": REGION,
                                  "token_for": lambda _key: TOKEN, **kwargs}
    return sigv4.verify_presigned(request, **options)  # type: ignore[arg-type]


def test_a_presigned_url_works_until_it_expires() -> None:
    request = presigned(expires=60)
    assert sigv4.is_presigned(request.query_string)
    assert verify_url(request).access_key == KEY
    error = failure(lambda: verify_url(request, now=time.time() + 61))
    assert error.kind == "expired-url" and error.message == "Request has expired"
    assert error.detail["X-Amz-Expires"] == "60"


def test_a_presigned_url_with_a_tampered_signature_or_key_is_refused() -> None:
    request = presigned()
    tampered = [
        sigv4.SignedRequest("GET", request.raw_path, request.query_string.replace("X-Amz-Signature=",
                                                                                   "X-Amz-Signature=0"), {"Host": HOST},
                            b""),
        sigv4.SignedRequest("GET", request.raw_path.replace("a%20b", "other"), request.query_string, {"Host": HOST},
                            b""),
        sigv4.SignedRequest("PUT", request.raw_path, request.query_string, {"Host": HOST}, b""),
    ]
    for bad in tampered:
        assert failure(lambda bad=bad: verify_url(bad)).kind == "signature"


def test_a_presigned_url_lives_at_most_seven_days() -> None:
    request = presigned(expires=604800)
    assert verify_url(request)
    too_long = sigv4.SignedRequest("GET", request.raw_path, request.query_string.replace("X-Amz-Expires=604800",
                                                                                          "X-Amz-Expires=604801"),
                                   {"Host": HOST}, b"")
    error = failure(lambda: verify_url(too_long))
    assert error.kind == "bad-url" and "less than a week" in error.message


def test_a_presigned_url_needs_its_session_token() -> None:
    request = presigned()
    stripped = "&".join(p for p in request.query_string.split("&") if not p.startswith("X-Amz-Security-Token="))
    error = failure(lambda: verify_url(sigv4.SignedRequest("GET", request.raw_path, stripped, {"Host": HOST}, b"")))
    assert error.kind == "token"


def test_a_presigned_url_used_with_an_unsigned_x_amz_header_is_refused() -> None:
    request = presigned()
    with_acl = sigv4.SignedRequest("GET", request.raw_path, request.query_string,
                                   {"Host": HOST, "x-amz-acl": "public-read"}, b"")
    error = failure(lambda: verify_url(with_acl))
    assert (error.kind, error.detail) == ("unsigned-headers", {"HeadersNotSigned": "x-amz-acl"})


def test_credential_of_reads_the_key_without_verifying() -> None:
    assert sigv4.credential_of(presigned()).access_key == KEY  # type: ignore[union-attr]
    assert sigv4.credential_of(signed("GET", "/b/k", "s3")).service == "s3"  # type: ignore[union-attr]
    assert sigv4.credential_of(sigv4.SignedRequest("GET", "/", "", {}, b"")) is None
