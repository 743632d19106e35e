"""Access logs (config accessLogs): one private log bucket per region, the S3 server access logs of the buckets
of that region, and CloudFront's standard logs.

    photo and site buckets of a region --(S3 server access logging)--> <prefix>-logs-<region>-<account>/s3/<label>/
    the distribution --(CloudFront standard logging v2: CloudWatch vended-log delivery, us-east-1)-->
        the primary's log bucket, AWSLogs/<account>/CloudFront/...

Why this shape (AWS documentation):
- S3 delivers server access logs only to a bucket of the same region and account, whose default encryption is
  SSE-S3: "Default server-side encryption with AWS KMS keys (SSE-KMS) is not supported" for log target buckets.
  The log bucket is therefore encrypted with SSE-S3 even in the hardened profile.
- With ACLs disabled (BucketOwnerEnforced, as every bucket here), log delivery is granted by bucket policy to
  the logging service principal, for the listed source buckets and this account only.
- CloudFront's legacy standard logging needs a bucket with ACLs enabled; standard logging v2 delivers through
  CloudWatch Logs' vended-log delivery (a delivery source in us-east-1 for the distribution, a destination, a
  delivery) with a bucket-policy grant to delivery.logs.amazonaws.com, and may deliver to a bucket in another
  region.
- A log bucket does not log its own access (that would log forever); its objects expire after the stack's log
  retention, overwritten or deleted versions 30 days later.

With retain_data a keep-data `pulumi destroy` keeps the log buckets with every setting that protects or expires
their logs (public access block, ownership, encryption, versioning, policy, lifecycle): the access logs of the
kept photos are the record of who read, wrote or deleted them, wanted for an audit after the stack is gone, and
they still expire after the retention. With adopt_retained the next `pulumi up` imports them by the bucket's name.
The buckets' logging configurations and event notifications go with the stack and come back with it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.private_bucket import (
    check_bucket_names,
    deny_insecure_transport,
    enable_versioning,
    expire_old_versions,
    kept_bucket_import_id,
    make_private,
    notify_eventbridge,
)
from components.regions import EDGE_REGION, Region, RegionPair

S3_LOGGING = "logging.s3.amazonaws.com"
LOG_DELIVERY = "delivery.logs.amazonaws.com"
S3_LOG_PREFIX = "s3/"
CLOUDFRONT_LOG_FORMAT = "json"
DELETED_LOG_DAYS = 30  # how long an overwritten or deleted log file can still be recovered


@dataclass
class AccessLogsArgs:
    prefix: str
    """Prefix of every physical name (project-stack); required."""
    regions: RegionPair
    """One log bucket in each region; required."""
    account_id: pulumi.Input[str]
    """AWS account id (bucket names, delivery conditions); required."""
    sources: Mapping[str, Mapping[str, aws.s3.Bucket]]
    """Region role -> {label: bucket of that region whose access logs go to its log bucket under s3/<label>/};
    required, both roles."""
    retention_days: int
    """Days a log file is kept (the stack's log retention); required."""
    distribution_arn: pulumi.Input[str] | None = None
    """The CloudFront distribution whose standard logs go to the primary's log bucket; default None."""
    edge: Region | None = None
    """The us-east-1 region (CloudFront's log delivery lives there); required with `distribution_arn`."""
    retain_data: bool = True
    """Keep the log buckets (and their logs, until they expire) on `pulumi destroy`; default True."""
    adopt_retained: bool = False
    """Import the log buckets and their settings that an earlier keep-data destroy kept (by the buckets' names,
    so `account_id` must be a plain string) instead of creating them; default False."""


def log_bucket_name(prefix: str, region_name: str, account_id: str) -> str:
    """Globally unique: project and stack (prefix), region and account."""
    return f"{prefix}-logs-{region_name}-{account_id}"


def log_bucket_policy(
    bucket_arn: str, account_id: str, source_arns: list[str], delivery_region: str | None = None
) -> str:
    """S3 may write the access logs of exactly `source_arns` under s3/; with `delivery_region`, CloudWatch Logs'
    delivery (CloudFront standard logs) may write under AWSLogs/<account>/ for deliveries of this account made in
    that region; nobody may use plain HTTP."""
    account = {"aws:SourceAccount": account_id}
    statements: list[dict[str, Any]] = [
        {
            "Sid": "S3ServerAccessLogs",
            "Effect": "Allow",
            "Principal": {"Service": S3_LOGGING},
            "Action": "s3:PutObject",
            "Resource": f"{bucket_arn}/{S3_LOG_PREFIX}*",
            "Condition": {"StringEquals": account, "ArnLike": {"aws:SourceArn": sorted(source_arns)}},
        }
    ]
    if delivery_region:
        from_deliveries = {"ArnLike": {"aws:SourceArn": f"arn:aws:logs:{delivery_region}:{account_id}:*"}}
        statements += [
            {
                "Sid": "AWSLogDeliveryWrite",
                "Effect": "Allow",
                "Principal": {"Service": LOG_DELIVERY},
                "Action": "s3:PutObject",
                "Resource": f"{bucket_arn}/AWSLogs/{account_id}/*",
                "Condition": {"StringEquals": {**account, "s3:x-amz-acl": "bucket-owner-full-control"},
                              **from_deliveries},
            },
            {
                "Sid": "AWSLogDeliveryAclCheck",
                "Effect": "Allow",
                "Principal": {"Service": LOG_DELIVERY},
                "Action": ["s3:GetBucketAcl", "s3:ListBucket"],
                "Resource": bucket_arn,
                "Condition": {"StringEquals": account, **from_deliveries},
            },
        ]
    statements.append(deny_insecure_transport(bucket_arn))
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def _validate(args: AccessLogsArgs) -> None:
    if not args.prefix:
        raise ValueError("AccessLogsArgs.prefix must not be empty")
    check_bucket_names("AccessLogsArgs", args.prefix, args.regions, log_bucket_name)
    roles = {r.role for r in args.regions}
    if set(args.sources) != roles:
        raise ValueError(f"AccessLogsArgs.sources needs exactly the roles {sorted(roles)}, got {sorted(args.sources)}")
    if args.retention_days < 1:
        raise ValueError(f"AccessLogsArgs.retention_days must be >= 1, got {args.retention_days}")
    if args.distribution_arn is not None and (args.edge is None or args.edge.name != EDGE_REGION):
        raise ValueError(f"AccessLogsArgs.edge must be the {EDGE_REGION} region when distribution_arn is given")


class AccessLogs(pulumi.ComponentResource):
    """A log bucket per region receiving its region's S3 access logs, and CloudFront's standard logs."""

    buckets: dict[str, aws.s3.Bucket]
    bucket_names: dict[str, pulumi.Output[str]]
    delivery: aws.cloudwatch.LogDelivery | None

    def __init__(self, name: str, args: AccessLogsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("multi-region-app:logging:AccessLogs", name, None, opts)
        _validate(args)
        account = pulumi.Output.from_input(args.account_id)
        self.buckets, policies = {}, {}
        for region in args.regions:
            child = f"{name}-{region.role}"

            def named(account_id: str, region: Region = region) -> str:
                return log_bucket_name(args.prefix, region.name, account_id)

            adopted = kept_bucket_import_id("AccessLogsArgs", args.adopt_retained, args.account_id, named)
            keep = region.opts(self, retain_on_delete=args.retain_data, import_=adopted)
            bucket = aws.s3.Bucket(
                child,
                bucket=account.apply(named),
                force_destroy=not args.retain_data,
                opts=keep,
            )
            # SSE-S3: the only default encryption S3 server access logging delivers to.
            public_access = make_private(child, bucket, keep)
            versioning = enable_versioning(child, bucket, keep)
            # Kept with the bucket: kept logs still expire.
            expire_old_versions(child, bucket, DELETED_LOG_DAYS,
                                region.opts(self, depends_on=[versioning], retain_on_delete=args.retain_data,
                                            import_=adopted),
                                current_days=args.retention_days)
            notify_eventbridge(child, bucket, region.opts(self))
            sources = args.sources[region.role]
            delivery_region = EDGE_REGION if (args.distribution_arn is not None and region.role == "primary") else None
            policies[region.role] = aws.s3.BucketPolicy(
                f"{child}-policy",
                bucket=bucket.id,
                policy=pulumi.Output.all(bucket.arn, account, *(b.arn for b in sources.values())).apply(
                    lambda v, delivery_region=delivery_region: log_bucket_policy(v[0], v[1], list(v[2:]),
                                                                                 delivery_region)
                ),
                # S3 checks a new policy against the public access block: set that first.
                opts=region.opts(self, retain_on_delete=args.retain_data, depends_on=[public_access],
                                 import_=adopted),
            )
            for label, source in sorted(sources.items()):
                aws.s3.BucketLogging(
                    f"{name}-{label}-{region.role}",
                    bucket=source.id,
                    target_bucket=bucket.id,
                    target_prefix=f"{S3_LOG_PREFIX}{label}/",
                    opts=region.opts(self, depends_on=[policies[region.role]]),
                )
            self.buckets[region.role] = bucket

        self.delivery = None
        if args.distribution_arn is not None and args.edge is not None:
            self.delivery = self._cloudfront(
                name, args.prefix, args.edge, args.distribution_arn, self.buckets["primary"], policies["primary"]
            )

        self.bucket_names = {role: bucket.bucket for role, bucket in self.buckets.items()}
        self.register_outputs({"bucketNames": self.bucket_names})

    def _cloudfront(
        self,
        name: str,
        prefix: str,
        edge: Region,
        distribution_arn: pulumi.Input[str],
        bucket: aws.s3.Bucket,
        policy: aws.s3.BucketPolicy,
    ) -> aws.cloudwatch.LogDelivery:
        """CloudFront standard logging v2: source (the distribution), destination (the bucket), delivery."""
        source = aws.cloudwatch.LogDeliverySource(
            f"{name}-cloudfront-source",
            name=f"{prefix}-site-cdn",
            log_type="ACCESS_LOGS",
            resource_arn=distribution_arn,
            opts=edge.opts(self),
        )
        destination = aws.cloudwatch.LogDeliveryDestination(
            f"{name}-cloudfront-destination",
            name=f"{prefix}-site-cdn-to-s3",
            output_format=CLOUDFRONT_LOG_FORMAT,
            delivery_destination_configuration=aws.cloudwatch.LogDeliveryDestinationDeliveryDestinationConfigurationArgs(
                destination_resource_arn=bucket.arn
            ),
            opts=edge.opts(self),
        )
        return aws.cloudwatch.LogDelivery(
            f"{name}-cloudfront-delivery",
            delivery_source_name=source.name,
            delivery_destination_arn=destination.arn,
            opts=edge.opts(self, depends_on=[policy]),
        )
