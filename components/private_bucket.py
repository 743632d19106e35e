"""The settings every bucket of the program shares: private, owner-enforced, encrypted at rest, and the
helpers for what several buckets add (versioning and expiring old versions, event notifications to EventBridge)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pulumi
import pulumi_aws as aws

from components.regions import RegionPair

ABORT_MULTIPART_DAYS = 7
MAX_BUCKET_NAME = 63  # S3's limit
ACCOUNT_ID_LENGTH = 12


def check_bucket_names(label: str, prefix: str, regions: RegionPair, name_of: Callable[[str, str, str], str]) -> None:
    """ValueError naming `label` (the component's args) when `name_of(prefix, region name, account id)` is longer
    than S3 allows in one of `regions`."""
    longest = max(len(name_of(prefix, r.name, "0" * ACCOUNT_ID_LENGTH)) for r in regions)
    if longest > MAX_BUCKET_NAME:
        raise ValueError(
            f"{label}.prefix {prefix!r} makes bucket names of {longest} characters (S3 allows {MAX_BUCKET_NAME})"
        )


def deny_insecure_transport(bucket_arn: str) -> dict[str, Any]:
    """The bucket policy statement that refuses plain HTTP, whoever asks."""
    return {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [bucket_arn, f"{bucket_arn}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def kept_bucket_import_id(
    label: str, adopt: bool, account_id: pulumi.Input[str], name_of: Callable[[str], str]
) -> str | None:
    """When `adopt`ing, the import id of a bucket a keep-data destroy kept, and of each of its kept settings: the
    bucket's name, `name_of(account_id)`. Import ids are plain strings, so the account id must be one too
    (ValueError naming `label`, the component's args)."""
    if not adopt:
        return None
    if not isinstance(account_id, str):
        raise ValueError(f"{label}.adopt_retained needs account_id as a plain string (bucket names are the import ids)")
    return name_of(account_id)


def make_private(
    name: str,
    bucket: aws.s3.Bucket,
    opts: pulumi.ResourceOptions,
    kms_key_arn: pulumi.Input[str] | None = None,
    encrypt: bool = True,
) -> aws.s3.BucketPublicAccessBlock:
    """Block every form of public access, disable ACLs (BucketOwnerEnforced) and, unless `encrypt` is False (the
    caller encrypts later with `encrypt_bucket`), encrypt by default: see `encrypt_bucket`. Children are named
    `<name>-public-access`, `<name>-ownership`, `<name>-encryption` and take `opts` (parent, provider).

    Returns the public access block: a bucket policy must be set after it."""
    public_access = aws.s3.BucketPublicAccessBlock(
        f"{name}-public-access",
        bucket=bucket.id,
        block_public_acls=True,
        block_public_policy=True,
        ignore_public_acls=True,
        restrict_public_buckets=True,
        opts=opts,
    )
    aws.s3.BucketOwnershipControls(
        f"{name}-ownership",
        bucket=bucket.id,
        rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
        opts=opts,
    )
    if encrypt:
        encrypt_bucket(name, bucket, opts, kms_key_arn)
    return public_access


def encrypt_bucket(
    name: str, bucket: aws.s3.Bucket, opts: pulumi.ResourceOptions, kms_key_arn: pulumi.Input[str] | None = None
) -> aws.s3.BucketServerSideEncryptionConfiguration:
    """Default encryption `<name>-encryption`: SSE-KMS with `kms_key_arn` (a customer managed key of the bucket's
    region) or, without one, SSE-S3. S3 Bucket Keys cut the KMS requests (and their cost) to one per bucket key."""
    by_default = (
        aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
            sse_algorithm="aws:kms", kms_master_key_id=kms_key_arn
        )
        if kms_key_arn is not None
        else aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
            sse_algorithm="AES256"
        )
    )
    return aws.s3.BucketServerSideEncryptionConfiguration(
        f"{name}-encryption",
        bucket=bucket.id,
        rules=[
            aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                apply_server_side_encryption_by_default=by_default, bucket_key_enabled=True
            )
        ],
        opts=opts,
    )


def enable_versioning(name: str, bucket: aws.s3.Bucket, opts: pulumi.ResourceOptions) -> aws.s3.BucketVersioning:
    """`<name>-versioning`: every overwrite or delete keeps the previous version (see `expire_old_versions`)."""
    return aws.s3.BucketVersioning(
        f"{name}-versioning",
        bucket=bucket.id,
        versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(status="Enabled"),
        opts=opts,
    )


def expire_old_versions(
    name: str,
    bucket: aws.s3.Bucket,
    noncurrent_days: int,
    opts: pulumi.ResourceOptions,
    abort_multipart_days: int = ABORT_MULTIPART_DAYS,
    current_days: int | None = None,
) -> aws.s3.BucketLifecycleConfiguration:
    """Lifecycle `<name>-lifecycle` of a versioned bucket: overwritten or deleted versions expire after
    `noncurrent_days`, orphan delete markers and stale multipart uploads go, and with `current_days` the current
    objects expire too (log buckets). Set it after versioning (`opts` depends_on)."""
    return aws.s3.BucketLifecycleConfiguration(
        f"{name}-lifecycle",
        bucket=bucket.id,
        rules=[
            aws.s3.BucketLifecycleConfigurationRuleArgs(
                id="expire-old-versions",
                status="Enabled",
                # An empty filter applies the rule to the whole bucket.
                filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(),
                noncurrent_version_expiration=aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                    noncurrent_days=noncurrent_days
                ),
                # A delete marker left alone once its old versions expired is removed; S3 refuses both
                # expired_object_delete_marker and days in one expiration (expiring current objects removes
                # orphan markers anyway).
                expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(
                    **({"days": current_days} if current_days else {"expired_object_delete_marker": True})
                ),
                abort_incomplete_multipart_upload=aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(  # noqa: E501
                    days_after_initiation=abort_multipart_days
                ),
            )
        ],
        opts=opts,
    )


def notify_eventbridge(name: str, bucket: aws.s3.Bucket, opts: pulumi.ResourceOptions) -> aws.s3.BucketNotification:
    """`<name>-events`: every S3 event of the bucket (object created, deleted, restored...) goes to the region's
    default EventBridge bus, where rules can watch it (CKV2_AWS_62); nothing else subscribes to the bucket."""
    return aws.s3.BucketNotification(f"{name}-events", bucket=bucket.id, eventbridge=True, opts=opts)
