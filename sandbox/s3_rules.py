"""What S3 does with conditional writes where moto does something else: it never lets a conditional write overwrite.

`refusing(S3Rules(account).refusal)` (sandbox/frontdoor.py) wraps moto on every port, under the backend lock and
after the access check, so that the check and the write are one step:

- `If-None-Match` accepts only `*` (PutObject, CopyObject): another value is 501 NotImplemented (moto ignores it
  and writes);
- CopyObject with the destination's conditional headers (`If-None-Match`, `If-Match`; not the
  `x-amz-copy-source-if-*` ones) into a bucket whose policy enforces conditional writes there (a statement on
  `s3:PutObject` covering the destination with a condition on `s3:if-none-match`/`s3:if-match`) is 501
  NotImplemented, as "Enforce conditional writes" documents (without those headers such a policy's Deny answers
  403, in the access check);
- any other conditional CopyObject is decided on the destination as S3 decides a conditional PutObject:
  `If-None-Match: *` and a current object → 412 PreconditionFailed; `If-Match` and no current object → 404
  NoSuchKey, another ETag → 412. moto ignores both on copies and overwrites.

https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html (If-None-Match, If-Match);
https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes-enforce.html (copies and 501).
"""

from __future__ import annotations

from typing import Any

from sandbox import aws_errors, iam_actions, iam_policy
from sandbox.access import bucket_of, bucket_policies, s3_backend
from sandbox.aws_errors import Protocol, Response

CONDITION_KEYS = ("s3:if-none-match", "s3:if-match")
NOT_IMPLEMENTED = "A header you provided implies functionality that is not implemented"
PRECONDITION_FAILED = "At least one of the pre-conditions you specified did not hold"


class S3Rules:
    """S3's answers to conditional writes that moto lacks; see the module docstring."""

    def __init__(self, account: str) -> None:
        self.account = account

    def refusal(self, environ: dict[str, Any]) -> Response | None:
        """S3's refusal of this write, or None to let moto serve it."""
        if_none_match, if_match = environ.get("HTTP_IF_NONE_MATCH"), environ.get("HTTP_IF_MATCH")
        if environ.get("REQUEST_METHOD") != "PUT" or (if_none_match is None and if_match is None):
            return None
        headers = {"x-amz-copy-source": environ.get("HTTP_X_AMZ_COPY_SOURCE", "")}
        call = iam_actions.classify("PUT", environ.get("PATH_INFO", ""), environ.get("QUERY_STRING", ""), headers,
                                    b"", "s3")
        if call.service != "s3" or call.operation not in ("PutObject", "CopyObject"):
            return None
        if if_none_match is not None and if_none_match.strip() != "*":
            return _not_implemented("If-None-Match")
        if call.operation == "PutObject":
            return None  # moto decides If-None-Match: * and If-Match on PutObject as S3 does
        bucket = bucket_of(self.account, call.bucket)
        if bucket is None:
            return None  # moto answers NoSuchBucket
        object_arn = f"arn:aws:s3:::{call.bucket}/{call.key}"
        if iam_policy.conditions_on(bucket_policies(bucket), "s3:PutObject", object_arn, CONDITION_KEYS):
            return _not_implemented("If-None-Match" if if_none_match is not None else "If-Match")
        current = s3_backend(self.account).get_object(call.bucket, call.key)
        if if_none_match is not None and current is not None:
            return _precondition_failed("If-None-Match")
        if if_match is not None:
            if current is None:
                return aws_errors.error(Protocol.REST_XML, 404, "NoSuchKey", "The specified key does not exist.",
                                        service="s3", extra={"Key": call.key})
            if if_match.replace('"', "") != str(current.etag).replace('"', ""):
                return _precondition_failed("If-Match")
        return None


def _not_implemented(header: str) -> Response:
    return aws_errors.error(Protocol.REST_XML, 501, "NotImplemented", NOT_IMPLEMENTED, service="s3",
                            extra={"Header": header})


def _precondition_failed(condition: str) -> Response:
    return aws_errors.error(Protocol.REST_XML, 412, "PreconditionFailed", PRECONDITION_FAILED, service="s3",
                            extra={"Condition": condition})
