"""The photo store: one private, versioned bucket per region, replicated both ways.

Both buckets accept uploads (the primary while `active`, the secondary during
`failover`), so each replicates its `public/` photos to the other. One-way replication
(the reference's) loses every photo uploaded during a failover once users fail back.
Replication is S3's own, with Replication Time Control: no Lambda copies anything.

Photos are immutable: besides the app users' identity policy (create under their own prefix only, with
`If-None-Match: *`), each bucket's policy denies those roles any unconditional write and any delete, so
no later identity-policy grant can reopen an overwrite. Replication writes replicas with its own role
(s3:ReplicateObject), which these denials do not name.

With customer managed keys (`kms_key_arns`, config kmsEnabled) each bucket encrypts with its region's key and
replication re-encrypts every copy with the destination region's key: the rules opt in to SSE-KMS objects and
name the destination key, and each replication role may decrypt with the source key and encrypt with the
destination key, only through S3 in that key's region and only for the photos of that bucket.

With `retain_data` a bucket and the settings that protect or maintain its photos (versioning,
public access block, ownership, encryption, TLS-only policy, lifecycle) survive `pulumi destroy`;
with `adopt_retained` the next `pulumi up` imports them (ids = the bucket's deterministic name).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.contract import PHOTO_PREFIX
from components.kms import KeyedBucket, check_region_keys, s3_key_grant
from components.private_bucket import (
    check_bucket_names,
    deny_insecure_transport,
    enable_versioning,
    expire_old_versions,
    kept_bucket_import_id,
    make_private,
    notify_eventbridge,
)
from components.regions import Region, RegionPair
from components.service_principals import service_trust_policy, source_condition

MAX_ROLE_NAME = 64  # IAM's limit
# Replication Time Control: 99.99 % of objects within 15 minutes (the only value S3 allows).
REPLICATION_MINUTES = 15
CORS_MAX_AGE_SECONDS = 3000
CORS_METHODS = ["GET", "PUT", "HEAD"]
# What the browser SDK (v3) sends on GetObject/PutObject/ListObjectsV2; each entry may hold one '*'.
CORS_HEADERS = [
    "Authorization",
    "Content-Type",
    "Content-MD5",
    "X-Amz-Date",
    "X-Amz-Security-Token",
    "X-Amz-Content-Sha256",
    "X-Amz-User-Agent",
    "X-Amz-Checksum-*",
    "X-Amz-Sdk-Checksum-Algorithm",
    "X-Amz-Meta-*",
    "Amz-Sdk-Invocation-Id",
    "Amz-Sdk-Request",
    "If-None-Match",  # the web app creates photos with a conditional PUT
]
CORS_EXPOSE_HEADERS = ["ETag", "x-amz-version-id"]

# Exactly what S3 replication needs (AWS docs "Setting up permissions for live replication").
SOURCE_BUCKET_ACTIONS = ["s3:GetReplicationConfiguration", "s3:ListBucket"]
SOURCE_OBJECT_ACTIONS = [
    "s3:GetObjectVersionForReplication",
    "s3:GetObjectVersionAcl",
    "s3:GetObjectVersionTagging",
]
DESTINATION_OBJECT_ACTIONS = ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"]
# SSE-KMS replication ("Replicating encrypted objects"): decrypt the source object with the source key; encrypt the
# replica with the destination key, which with S3 Bucket Keys also means generating and checking (decrypting) the
# destination's bucket key.
SOURCE_KEY_ACTIONS = ["kms:Decrypt"]
DESTINATION_KEY_ACTIONS = ["kms:Encrypt", "kms:GenerateDataKey", "kms:Decrypt"]


@dataclass
class ObjectStoreArgs:
    prefix: str
    """Prefix of every physical name (project-stack); required."""
    regions: RegionPair
    """The two regions; one bucket in each; required."""
    account_id: pulumi.Input[str]
    """AWS account id, part of the globally unique bucket names; required."""
    cors_origins: Sequence[pulumi.Input[str]]
    """Browser origins allowed by CORS (the site URL first); required, at least one."""
    noncurrent_version_days: int = 30
    """Days before an overwritten or deleted photo version expires; default 30."""
    app_user_role_arns: Sequence[pulumi.Input[str]] = ()
    """ARNs of the app users' roles (both regions): the bucket policies deny them unconditional writes
    and deletes. Empty: no such denial."""
    retain_data: bool = True
    """Keep the buckets (and their protections and lifecycle) on `pulumi destroy`; default True."""
    adopt_retained: bool = False
    """Import the buckets and settings kept by an earlier keep-data destroy; default False. Needs
    `account_id` as a plain string (the import ids are the bucket names)."""
    kms_key_arns: Mapping[str, pulumi.Input[str]] | None = None
    """Region role -> customer managed key of that region (kms.MultiRegionKey.arns); default None: SSE-S3."""


def bucket_name(prefix: str, region_name: str, account_id: str) -> str:
    """Globally unique: project and stack (prefix), region and account."""
    return f"{prefix}-photos-{region_name}-{account_id}"


def replication_role_name(prefix: str, source: Region, destination: Region) -> str:
    """IAM names are global: one role per direction, named after it."""
    return f"{prefix}-photos-repl-{source.role}-to-{destination.role}"


def replication_policy(
    source_arn: str, destination_arn: str, keys: tuple[KeyedBucket, KeyedBucket] | None = None
) -> str:
    """The replication role's permissions: the source bucket's `public/` objects out,
    the destination's `public/` objects in; with `keys` (source, destination), the source key to decrypt
    them and the destination key to encrypt the replicas; nothing else."""
    statements = [
        {"Sid": "ReadSourceConfiguration", "Effect": "Allow", "Action": SOURCE_BUCKET_ACTIONS,
         "Resource": source_arn},
        {"Sid": "ReadSourcePhotos", "Effect": "Allow", "Action": SOURCE_OBJECT_ACTIONS,
         "Resource": f"{source_arn}/{PHOTO_PREFIX}*"},
        {"Sid": "WriteDestinationPhotos", "Effect": "Allow", "Action": DESTINATION_OBJECT_ACTIONS,
         "Resource": f"{destination_arn}/{PHOTO_PREFIX}*"},
    ]
    if keys:
        source, destination = keys
        statements += [
            s3_key_grant("DecryptSourcePhotos", SOURCE_KEY_ACTIONS, source, PHOTO_PREFIX),
            s3_key_grant("EncryptReplicas", DESTINATION_KEY_ACTIONS, destination, PHOTO_PREFIX),
        ]
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def deny_app_user_overwrites(bucket_arn: str, app_user_role_arns: Sequence[str]) -> list[dict[str, Any]]:
    """What the app users' roles may never do to an object, whatever an identity policy grants: write it
    without `If-None-Match: *` (an overwrite) or delete it. `aws:PrincipalArn` of a role session is the
    role's ARN. Absent and other values of s3:if-none-match are denied by separate statements, so the
    denial holds whether or not a negated operator matches a missing key."""
    by_app_users = {"ArnEquals": {"aws:PrincipalArn": list(app_user_role_arns)}}
    objects = f"{bucket_arn}/*"
    return [
        {"Sid": "DenyAppUsersWritesWithoutIfNoneMatch", "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject",
         "Resource": objects, "Condition": {**by_app_users, "Null": {"s3:if-none-match": "true"}}},
        {"Sid": "DenyAppUsersOverwrites", "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject",
         "Resource": objects, "Condition": {**by_app_users, "StringNotEquals": {"s3:if-none-match": "*"}}},
        {"Sid": "DenyAppUsersDeletes", "Effect": "Deny", "Principal": "*", "Action": "s3:DeleteObject*",
         "Resource": objects, "Condition": by_app_users},
    ]


def photo_bucket_policy(bucket_arn: str, app_user_role_arns: Sequence[str] = ()) -> str:
    """TLS only, whoever asks; and no overwrite or delete by the app users' roles."""
    statements = [deny_insecure_transport(bucket_arn)]
    if app_user_role_arns:
        statements += deny_app_user_overwrites(bucket_arn, app_user_role_arns)
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def s3_trust_policy(account_id: str) -> str:
    """S3 may assume the replication role for this account only. S3's replication guide shows no confused-deputy
    condition (https://docs.aws.amazon.com/AmazonS3/latest/userguide/setting-repl-config-perm-overview.html), so
    the ...IfExists form (service_principals): refused for another account whenever S3 names it, never breaking
    replication if S3 does not."""
    return service_trust_policy("s3.amazonaws.com", source_condition(account_id, documented=False))


def _validate(args: ObjectStoreArgs) -> None:
    if not args.prefix:
        raise ValueError("ObjectStoreArgs.prefix must not be empty")
    check_bucket_names("ObjectStoreArgs", args.prefix, args.regions, bucket_name)
    longest_role = max(
        len(replication_role_name(args.prefix, r, args.regions.other(r))) for r in args.regions
    )
    if longest_role > MAX_ROLE_NAME:
        raise ValueError(f"ObjectStoreArgs.prefix {args.prefix!r} makes IAM role names longer than {MAX_ROLE_NAME}")
    if not list(args.cors_origins):
        raise ValueError("ObjectStoreArgs.cors_origins needs at least one origin (the site URL)")
    check_region_keys("ObjectStoreArgs.kms_key_arns", args.kms_key_arns, args.regions)
    if args.noncurrent_version_days < 1:
        raise ValueError(f"ObjectStoreArgs.noncurrent_version_days must be >= 1, got {args.noncurrent_version_days}")


class ObjectStore(pulumi.ComponentResource):
    """Two photo buckets (primary, secondary) replicating `public/` to each other."""

    bucket_names: dict[str, pulumi.Output[str]]
    bucket_arns: dict[str, pulumi.Output[str]]
    buckets: dict[str, aws.s3.Bucket]
    versionings: dict[str, aws.s3.BucketVersioning]
    replication_roles: dict[str, aws.iam.Role]  # keyed by the source region's role
    replications: dict[str, aws.s3.BucketReplicationConfig]  # keyed by the source region's role

    def __init__(self, name: str, args: ObjectStoreArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("multi-region-app:storage:ObjectStore", name, None, opts)
        _validate(args)
        self.buckets, self.versionings = {}, {}
        for region in args.regions:
            self.buckets[region.role], self.versionings[region.role] = self._bucket(name, args, region)

        # Both buckets must be versioned before S3 accepts a replication rule between them.
        both_versionings = list(self.versionings.values())
        self.replication_roles, self.replications = {}, {}
        for source in args.regions:
            destination = args.regions.other(source)
            role, config = self._replication(name, args, source, destination, both_versionings)
            self.replication_roles[source.role], self.replications[source.role] = role, config

        self.bucket_names = {role: bucket.bucket for role, bucket in self.buckets.items()}
        self.bucket_arns = {role: bucket.arn for role, bucket in self.buckets.items()}
        self.register_outputs({"bucketNames": self.bucket_names, "bucketArns": self.bucket_arns})

    def _bucket(
        self, name: str, args: ObjectStoreArgs, region: Region
    ) -> tuple[aws.s3.Bucket, aws.s3.BucketVersioning]:
        child = f"{name}-{region.role}"
        # Adopting: the bucket and every retained setting import by the bucket's name.
        adopted = kept_bucket_import_id("ObjectStoreArgs", args.adopt_retained, args.account_id,
                                        lambda account: bucket_name(args.prefix, region.name, account))
        bucket = aws.s3.Bucket(
            child,
            bucket=pulumi.Output.from_input(args.account_id).apply(
                lambda account: bucket_name(args.prefix, region.name, account)
            ),
            # Without retain_data, `pulumi destroy` removes photos too (dev stacks).
            force_destroy=not args.retain_data,
            opts=region.opts(self, retain_on_delete=args.retain_data, import_=adopted),
        )
        # With retain_data, the settings that protect or maintain the retained photos stay with them:
        # deleting BucketVersioning would suspend versioning, deleting the policy would allow plain HTTP,
        # deleting the lifecycle would keep old versions and delete markers forever.
        keep = region.opts(self, retain_on_delete=args.retain_data, import_=adopted)
        versioning = enable_versioning(child, bucket, keep)
        public_access = make_private(child, bucket, keep, kms_key_arn=self._key(args, region))
        aws.s3.BucketPolicy(
            f"{child}-policy",
            bucket=bucket.id,
            policy=pulumi.Output.all(bucket.arn, pulumi.Output.all(*args.app_user_role_arns)).apply(
                lambda values: photo_bucket_policy(values[0], values[1])
            ),
            # S3 checks a new policy against the public access block: set that first. The alias keeps the
            # policy in place (updated, not replaced) on stacks created when it was TLS-only.
            opts=region.opts(self, retain_on_delete=args.retain_data, depends_on=[public_access],
                             aliases=[pulumi.Alias(name=f"{child}-tls-only")], import_=adopted),
        )
        aws.s3.BucketCorsConfiguration(
            f"{child}-cors",
            bucket=bucket.id,
            cors_rules=[
                aws.s3.BucketCorsConfigurationCorsRuleArgs(
                    allowed_origins=list(args.cors_origins),
                    allowed_methods=CORS_METHODS,
                    allowed_headers=CORS_HEADERS,
                    expose_headers=CORS_EXPOSE_HEADERS,
                    max_age_seconds=CORS_MAX_AGE_SECONDS,
                )
            ],
            opts=region.opts(self),
        )
        # Lifecycle rules on a bucket take effect on versions: configure after versioning. Kept (and adopted)
        # with the bucket: a kept bucket without it would keep every old version forever.
        expire_old_versions(child, bucket, args.noncurrent_version_days,
                            region.opts(self, depends_on=[versioning], retain_on_delete=args.retain_data,
                                        import_=adopted))
        notify_eventbridge(child, bucket, region.opts(self))
        return bucket, versioning

    @staticmethod
    def _key(args: ObjectStoreArgs, region: Region) -> pulumi.Input[str] | None:
        return args.kms_key_arns[region.role] if args.kms_key_arns is not None else None

    def _replication(
        self,
        name: str,
        args: ObjectStoreArgs,
        source: Region,
        destination: Region,
        versionings: list[aws.s3.BucketVersioning],
    ) -> tuple[aws.iam.Role, aws.s3.BucketReplicationConfig]:
        child = f"{name}-replication-{source.role}-to-{destination.role}"
        source_bucket, destination_bucket = self.buckets[source.role], self.buckets[destination.role]
        destination_key = self._key(args, destination)
        # IAM is global; the source region's provider creates it.
        role = aws.iam.Role(
            f"{child}-role",
            name=replication_role_name(args.prefix, source, destination),
            description=f"S3 replicates {PHOTO_PREFIX} photos from {source.name} to {destination.name}",
            assume_role_policy=pulumi.Output.from_input(args.account_id).apply(s3_trust_policy),
            opts=source.opts(self),
        )
        policy = aws.iam.RolePolicy(
            f"{child}-policy",
            role=role.name,
            policy=pulumi.Output.all(
                source_bucket.arn, destination_bucket.arn, self._key(args, source), self._key(args, destination)
            ).apply(
                lambda v: replication_policy(
                    v[0], v[1],
                    (KeyedBucket(source.name, v[0], v[2]), KeyedBucket(destination.name, v[1], v[3])) if v[2] else None,
                )
            ),
            opts=source.opts(self),
        )
        config = aws.s3.BucketReplicationConfig(
            child,
            bucket=source_bucket.id,
            role=role.arn,
            rules=[
                aws.s3.BucketReplicationConfigRuleArgs(
                    id=f"photos-to-{destination.name}",
                    status="Enabled",
                    priority=1,
                    filter=aws.s3.BucketReplicationConfigRuleFilterArgs(prefix=PHOTO_PREFIX),
                    # Deleting a photo in one region hides it in the other as well.
                    delete_marker_replication=aws.s3.BucketReplicationConfigRuleDeleteMarkerReplicationArgs(
                        status="Enabled"
                    ),
                    destination=aws.s3.BucketReplicationConfigRuleDestinationArgs(
                        bucket=destination_bucket.arn,
                        storage_class="STANDARD",
                        replication_time=aws.s3.BucketReplicationConfigRuleDestinationReplicationTimeArgs(
                            status="Enabled",
                            time=aws.s3.BucketReplicationConfigRuleDestinationReplicationTimeTimeArgs(
                                minutes=REPLICATION_MINUTES
                            ),
                        ),
                        # Metrics (required by RTC) feed the replication-latency alarms.
                        metrics=aws.s3.BucketReplicationConfigRuleDestinationMetricsArgs(
                            status="Enabled",
                            event_threshold=aws.s3.BucketReplicationConfigRuleDestinationMetricsEventThresholdArgs(
                                minutes=REPLICATION_MINUTES
                            ),
                        ),
                        # Replicas are re-encrypted with the destination region's key.
                        encryption_configuration=(
                            aws.s3.BucketReplicationConfigRuleDestinationEncryptionConfigurationArgs(
                                replica_kms_key_id=destination_key
                            )
                            if destination_key is not None
                            else None
                        ),
                    ),
                    source_selection_criteria=aws.s3.BucketReplicationConfigRuleSourceSelectionCriteriaArgs(
                        # Two-way replication: metadata changes made on replicas flow back too.
                        replica_modifications=aws.s3.BucketReplicationConfigRuleSourceSelectionCriteriaReplicaModificationsArgs(  # noqa: E501
                            status="Enabled"
                        ),
                        # S3 replicates SSE-KMS objects only when the rule opts in.
                        sse_kms_encrypted_objects=(
                            aws.s3.BucketReplicationConfigRuleSourceSelectionCriteriaSseKmsEncryptedObjectsArgs(
                                status="Enabled"
                            )
                            if destination_key is not None
                            else None
                        ),
                    ),
                )
            ],
            opts=source.opts(self, depends_on=[*versionings, policy]),
        )
        return role, config
