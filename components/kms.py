"""Customer managed, multi-Region KMS keys (config kmsEnabled): a primary key in the primary region, rotated
every year, and its replica in the secondary region, so data encrypted in one region is decrypted in the other
with the same key material.

One key per purpose, so that a service a key policy names can use only the key of its purpose:

    key    encrypts                                  key policy names, besides the account (IAM delegation)
    data   tables and replicas, photo buckets         nobody: DynamoDB acts for the deployer (its grants), the
                                                     app users' and replication roles get IAM grants
    ops    log groups, alarm topics                  CloudWatch Logs of the region, for the stack's log groups
                                                     only (encryption context); CloudWatch alarms (SNS), for
                                                     this account only
    site   site buckets (website.py)                 CloudFront, for the stack's distribution only

A retained key (the data key, with the data it protects) keeps its aliases: a multi-Region key's id is random, so
its alias is how the next deploy finds it (config adoptRetained imports the primary by the id the alias names, the
replicas by the same id, the aliases by name).

In a key policy `"Resource": "*"` means "this key". The first statement lets the account's IAM policies grant use
of the key (AWS's default key policy; without it nobody could manage the key). Services that act for a principal
(DynamoDB, S3 through a role) need no statement of their own: the principal's IAM grant, narrowed by
kms:ViaService and the encryption context, is what lets them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from components.regions import Region, RegionPair
from components.service_principals import source_condition

# AWS allows 7 to 30 days between scheduling a key's deletion and the deletion: the longest undo window.
DELETION_WINDOW_DAYS = 30
ROTATION_DAYS = 365
CLOUDWATCH_ALARMS = "cloudwatch.amazonaws.com"
CLOUDFRONT = "cloudfront.amazonaws.com"
_PURPOSE = re.compile(r"^[a-z][a-z0-9-]{0,15}$")

StatementsFor = Callable[[Region], pulumi.Input[Sequence[Mapping[str, Any]]]]


def account_root_statement(account_id: str) -> dict[str, Any]:
    """The account's IAM policies may grant use of the key (AWS's default key policy statement)."""
    return {
        "Sid": "EnableIamPolicies",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{account_id}:root"},
        "Action": "kms:*",
        "Resource": "*",
    }


def key_policy(account_id: str, statements: Sequence[Mapping[str, Any]]) -> str:
    """The key policy: the account root delegation, then each service's statement."""
    return json.dumps({"Version": "2012-10-17", "Statement": [account_root_statement(account_id), *statements]})


def logs_statement(region_name: str, account_id: str, log_group_patterns: Sequence[str]) -> dict[str, Any]:
    """CloudWatch Logs of `region_name` may encrypt and decrypt the log groups named by the patterns, only them
    (CloudWatch Logs passes the log group's ARN as encryption context)."""
    return {
        "Sid": "CloudWatchLogsForTheStacksLogGroups",
        "Effect": "Allow",
        "Principal": {"Service": f"logs.{region_name}.amazonaws.com"},
        "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
        "Resource": "*",
        "Condition": {
            "ArnLike": {
                "kms:EncryptionContext:aws:logs:arn": [
                    f"arn:aws:logs:{region_name}:{account_id}:log-group:{pattern}" for pattern in log_group_patterns
                ]
            }
        },
    }


def alarms_statement(account_id: str) -> dict[str, Any]:
    """CloudWatch alarms of this account may publish to the alarm topics this key encrypts (what AWS documents: the
    AWS managed SNS key cannot grant this, so alarms to a topic encrypted with it are dropped). CloudWatch documents
    the statement without a confused-deputy condition, and not which keys it sets when it calls KMS: the IfExists
    form (service_principals), which never stops the stack's own alarms."""
    return {
        "Sid": "CloudWatchAlarmsPublishToEncryptedTopics",
        "Effect": "Allow",
        "Principal": {"Service": CLOUDWATCH_ALARMS},
        "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
        "Resource": "*",
        "Condition": source_condition(account_id, documented=False),
    }


def cloudfront_statement(distribution_arn: str) -> dict[str, Any]:
    """Only this distribution (through its origin access control) may decrypt what it reads; it never writes."""
    return {
        "Sid": "CloudFrontReadsTheSite",
        "Effect": "Allow",
        "Principal": {"Service": CLOUDFRONT},
        "Action": "kms:Decrypt",
        "Resource": "*",
        "Condition": {"StringEquals": {"AWS:SourceArn": distribution_arn}},
    }


@dataclass(frozen=True)
class KeyedBucket:
    """A bucket, its region and the customer managed key it encrypts with (resolved: for IAM grants on the key)."""

    region_name: str
    bucket_arn: str
    key_arn: str


def s3_key_grant(sid: str, actions: Sequence[str], bucket: KeyedBucket, prefix: str) -> dict[str, Any]:
    """An IAM statement: `actions` on one bucket's key, only through S3 of its region and only for that bucket's
    `prefix` objects. With S3 Bucket Keys the encryption context is the bucket's ARN, without them the object's:
    both are allowed, so the grant holds either way."""
    return {
        "Sid": sid,
        "Effect": "Allow",
        "Action": list(actions),
        "Resource": bucket.key_arn,
        "Condition": {
            "StringEquals": {"kms:ViaService": f"s3.{bucket.region_name}.amazonaws.com"},
            "StringLike": {"kms:EncryptionContext:aws:s3:arn": [bucket.bucket_arn, f"{bucket.bucket_arn}/{prefix}*"]},
        },
    }


def check_region_keys(label: str, keys: Mapping[str, Any] | None, regions: RegionPair) -> None:
    """A component's `kms_key_arns` argument: None, or one key per region role (ValueError naming `label`)."""
    if keys is not None and set(keys) != {region.role for region in regions}:
        raise ValueError(f"{label} needs one key per region role ({', '.join(r.role for r in regions)}), "
                         f"got {sorted(keys)}")


def ops_key_statements(account_id: pulumi.Input[str], log_group_patterns: Sequence[str]) -> StatementsFor:
    """The ops key's service statements in each region: the stack's log groups there, and the alarms."""

    def statements(region: Region) -> pulumi.Output[list[dict[str, Any]]]:
        return pulumi.Output.from_input(account_id).apply(
            lambda account: [logs_statement(region.name, account, log_group_patterns), alarms_statement(account)]
        )

    return statements


def no_service_statements(region: Region) -> list[dict[str, Any]]:
    return []


def key_alias(prefix: str, purpose: str) -> str:
    """The alias of the stack's key for `purpose`, the same in every region of the key."""
    return f"alias/{prefix}-{purpose}"


def retained_key_id(alias: str, region: Region) -> str:
    """The id of the multi-Region key that `alias` names in `region` (kept by a keep-data destroy), for config
    adoptRetained. Fails, as the import of a kept bucket that is not there does, when no key has the alias."""
    return aws.kms.get_alias(name=alias, opts=region.invoke_opts()).target_key_id


@dataclass
class MultiRegionKeyArgs:
    prefix: str
    """Prefix of every physical name (project-stack), part of the alias; required."""
    purpose: str
    """What the key encrypts, a short lower-case word ("data", "ops", "site"); alias alias/<prefix>-<purpose>."""
    description: str
    """The key's description; required."""
    regions: RegionPair
    """Primary key in the primary region, its replica in the secondary; required."""
    account_id: pulumi.Input[str]
    """The AWS account id (key policy); required."""
    service_statements: StatementsFor = field(default=no_service_statements)
    """Region -> the key policy statements for services in that region; default none (account delegation only)."""
    retain: bool = False
    """Keep the keys and their aliases on `pulumi destroy` (they protect retained data); default False."""
    adopt_retained: bool = False
    """Import the key, replicas and aliases an earlier keep-data destroy kept (the key found through its alias)
    instead of creating them; default False."""
    extra_regions: Sequence[Region] = ()
    """More replicas, e.g. us-east-1 for CloudFront's web ACL logs when it is not one of the pair; default none."""


class MultiRegionKey(pulumi.ComponentResource):
    """A multi-Region customer managed key: primary, replica, one alias and one key policy per region."""

    arns: dict[str, pulumi.Output[str]]  # region role -> that region's key ARN, for the pair's two regions
    primary_key: aws.kms.Key

    def __init__(self, name: str, args: MultiRegionKeyArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("multi-region-app:security:MultiRegionKey", name, None, opts)
        if not args.prefix:
            raise ValueError("MultiRegionKeyArgs.prefix must not be empty")
        if not _PURPOSE.match(args.purpose):
            raise ValueError(f"MultiRegionKeyArgs.purpose {args.purpose!r} must be a short lower-case word")
        primary, secondary = args.regions.primary, args.regions.secondary
        account = pulumi.Output.from_input(args.account_id)
        alias = key_alias(args.prefix, args.purpose)
        # Adopting: a multi-Region replica has its primary's key id, found through the kept alias.
        adopted_id = retained_key_id(alias, primary) if args.adopt_retained else None

        def policy(region: Region) -> pulumi.Output[str]:
            statements = pulumi.Output.from_input(args.service_statements(region))
            return pulumi.Output.all(account, statements).apply(lambda v: key_policy(v[0], v[1]))

        self.primary_key = aws.kms.Key(
            f"{name}-{primary.role}",
            description=args.description,
            multi_region=True,
            enable_key_rotation=True,
            rotation_period_in_days=ROTATION_DAYS,
            deletion_window_in_days=DELETION_WINDOW_DAYS,
            policy=policy(primary),
            opts=primary.opts(self, retain_on_delete=args.retain, import_=adopted_id),
        )
        # Rotation is a property of the primary that its replicas share.
        keys: dict[str, aws.kms.Key | aws.kms.ReplicaKey] = {primary.role: self.primary_key}
        for region in (secondary, *args.extra_regions):
            keys[region.role] = aws.kms.ReplicaKey(
                f"{name}-{region.role}",
                primary_key_arn=self.primary_key.arn,
                description=args.description,
                deletion_window_in_days=DELETION_WINDOW_DAYS,
                policy=policy(region),
                opts=region.opts(self, retain_on_delete=args.retain, import_=adopted_id),
            )
        for region in (*args.regions, *args.extra_regions):
            aws.kms.Alias(
                f"{name}-{region.role}-alias",
                name=alias,
                target_key_id=keys[region.role].key_id,
                # Kept with the key: the next deploy finds the kept key through it.
                opts=region.opts(self, retain_on_delete=args.retain,
                                 import_=alias if args.adopt_retained else None),
            )

        self._arns_by_role = {role: key.arn for role, key in keys.items()}  # extra regions too
        self.arns = {region.role: self._arns_by_role[region.role] for region in args.regions}
        self.register_outputs({"arns": self.arns})

    def arn_in(self, region: Region) -> pulumi.Output[str]:
        """The key's ARN in `region` (the primary's or the replica's)."""
        return self._arns_by_role[region.role]
