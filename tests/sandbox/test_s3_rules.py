"""Conditional writes never overwrite, as S3 decides them (moto ignores them on copies), over real HTTP.

GIVEN buckets in the LocalCloud, some with a bucket policy that enforces conditional writes,
WHEN PutObject/CopyObject carry If-None-Match / If-Match (by the administrator keys: no IAM in the way),
THEN S3's answers come back (412, 404, 501) and the object at the destination is untouched.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from sandbox.s3_rules import NOT_IMPLEMENTED, PRECONDITION_FAILED
from tests.sandbox.cloud_support import PRIMARY, unique

S3V4 = Config(signature_version="s3v4", s3={"addressing_style": "path"})
ORIGINAL = b"the original"


@pytest.fixture()
def s3(aws_client: Callable[..., Any]) -> Any:
    return aws_client("s3", PRIMARY, config=S3V4)


@pytest.fixture()
def bucket(s3: Any) -> str:
    name = unique("conditional")
    s3.create_bucket(Bucket=name)
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object(Bucket=name, Key="public/taken", Body=ORIGINAL)
    s3.put_object(Bucket=name, Key="public/source", Body=b"replacement")
    return name


def refusal(call: Callable[[], Any]) -> tuple[int, str, dict[str, Any]]:
    with pytest.raises(ClientError) as raised:
        call()
    response = raised.value.response
    return response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Code"], response["Error"]


def versions(s3: Any, bucket: str, key: str) -> list[bytes]:
    listing = s3.list_object_versions(Bucket=bucket, Prefix=key).get("Versions", [])
    return [s3.get_object(Bucket=bucket, Key=key, VersionId=v["VersionId"])["Body"].read()
            for v in listing if v["Key"] == key]


def copy(s3: Any, bucket: str, key: str, **conditions: str) -> Any:
    return s3.copy_object(Bucket=bucket, Key=key, CopySource={"Bucket": bucket, "Key": "public/source"},
                          **conditions)


def test_a_copy_with_if_none_match_onto_an_existing_key_is_412_and_overwrites_nothing(s3: Any, bucket: str) -> None:
    status, code, error = refusal(lambda: copy(s3, bucket, "public/taken", IfNoneMatch="*"))
    assert (status, code, error["Message"]) == (412, "PreconditionFailed", PRECONDITION_FAILED)
    assert error["Condition"] == "If-None-Match"
    assert versions(s3, bucket, "public/taken") == [ORIGINAL]
    copy(s3, bucket, "public/new", IfNoneMatch="*")  # a key that does not exist is created
    assert versions(s3, bucket, "public/new") == [b"replacement"]


def test_a_copy_with_if_match_needs_the_current_etag(s3: Any, bucket: str) -> None:
    etag = s3.head_object(Bucket=bucket, Key="public/taken")["ETag"]
    assert refusal(lambda: copy(s3, bucket, "public/taken", IfMatch='"0123"'))[:2] == (412, "PreconditionFailed")
    assert refusal(lambda: copy(s3, bucket, "public/absent", IfMatch=etag))[:2] == (404, "NoSuchKey")
    assert versions(s3, bucket, "public/taken") == [ORIGINAL]
    copy(s3, bucket, "public/taken", IfMatch=etag)
    assert versions(s3, bucket, "public/taken") == [b"replacement", ORIGINAL]


@pytest.mark.parametrize("operation", ["put", "copy"])
def test_if_none_match_other_than_a_star_is_not_implemented(s3: Any, bucket: str, operation: str) -> None:
    etag = s3.head_object(Bucket=bucket, Key="public/taken")["ETag"]
    attempt = {"put": lambda: s3.put_object(Bucket=bucket, Key="public/taken", Body=b"x", IfNoneMatch='"other"'),
               "copy": lambda: copy(s3, bucket, "public/taken", IfNoneMatch=etag)}[operation]
    status, code, error = refusal(attempt)
    assert (status, code, error["Message"]) == (501, "NotImplemented", NOT_IMPLEMENTED)
    assert versions(s3, bucket, "public/taken") == [ORIGINAL]


def test_a_conditional_copy_into_a_prefix_whose_bucket_policy_enforces_conditional_writes_is_501(
        s3: Any, bucket: str) -> None:
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "CreateOnly", "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject",
         "Resource": f"arn:aws:s3:::{bucket}/public/*", "Condition": {"Null": {"s3:if-none-match": "true"}}}]}))
    for conditions in ({"IfNoneMatch": "*"}, {"IfMatch": s3.head_object(Bucket=bucket, Key="public/taken")["ETag"]}):
        for key in ("public/taken", "public/fresh"):
            assert refusal(lambda k=key, c=conditions: copy(s3, bucket, k, **c))[:2] == (501, "NotImplemented"), key
    assert versions(s3, bucket, "public/taken") == [ORIGINAL]
    assert versions(s3, bucket, "public/fresh") == []
    copy(s3, bucket, "elsewhere/fresh", IfNoneMatch="*")  # outside what the policy covers: S3 decides it
    assert versions(s3, bucket, "elsewhere/fresh") == [b"replacement"]
