"""The web site: one private bucket per region behind one CloudFront distribution.

CloudFront reads the buckets through an Origin Access Control (SigV4; the reference's
legacy origin access identity is deprecated) and fails over from the primary's bucket to
the secondary's on errors, so the site stays up when the primary region is down.
`SiteContent` writes `uiConfig.json` (built from stack outputs) and the built web app to
BOTH buckets; `built_site` stops `pulumi up` early when the app was never built.

Both buckets are versioned (a bad deploy can be rolled back; old versions expire) and send their events to
EventBridge. Hardened profile: a web ACL in front of the distribution (`web_acl_arn`, components/waf.py) and a
customer managed key of the site (`kms`) that only this distribution may decrypt with. The key's policy names the
distribution, which names the buckets: so the key comes after the distribution and the buckets' encryption
after the key, and the site's files wait for their bucket's encryption.
"""

from __future__ import annotations

import hashlib
import json
import mimetypes
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws

from components.kms import MultiRegionKey, MultiRegionKeyArgs, cloudfront_statement
from components.private_bucket import (
    check_bucket_names,
    deny_insecure_transport,
    enable_versioning,
    encrypt_bucket,
    expire_old_versions,
    make_private,
    notify_eventbridge,
)
from components.regions import Region, RegionPair
from components.settings import PROJECT_FILE, ConfigError

WEBAPP_DIST = PROJECT_FILE.parent / "webapp" / "dist"  # where `npm run build` (make web) writes the app

INDEX = "index.html"
UI_CONFIG_KEY = "uiConfig.json"
# AWS managed cache policy "CachingOptimized".
CACHING_OPTIMIZED_POLICY_ID = "658327ea-f89d-4fab-a63d-7e88639e58f6"
# The origin group fails over to the secondary bucket on these origin answers.
FAILOVER_STATUS_CODES = [403, 404, 500, 502, 503, 504]
# Client-side routes (/photos/abc) are not objects: S3 answers 403 (no ListBucket) or 404.
SPA_ERROR_CODES = [403, 404]
SPA_ERROR_TTL_SECONDS = 10
HSTS_SECONDS = 2 * 365 * 24 * 3600  # 2 years, the preload list's minimum is 1
# The app calls API Gateway, Cognito and S3 (uploads, presigned photo URLs) directly.
AWS_ENDPOINTS = "https://*.amazonaws.com"
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        # Framework-generated style attributes need 'unsafe-inline' for styles (not scripts).
        "style-src 'self' 'unsafe-inline'",
        f"img-src 'self' data: blob: {AWS_ENDPOINTS}",
        f"connect-src 'self' {AWS_ENDPOINTS}",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

# Cache-Control of the site's files: the entry page and the config are always revalidated,
# content-hashed build assets are cached forever, anything else briefly.
NO_STORE = "no-cache, no-store, must-revalidate"
REVALIDATE = "no-cache"
IMMUTABLE = "public, max-age=31536000, immutable"
SHORT = "public, max-age=300"
# Vite/Rollup asset names: "<name>-<hash of 8+ url-safe chars>.<ext>" (source maps: ".<ext>.map").
HASHED_ASSET = re.compile(r"^assets/.+[-.][A-Za-z0-9_-]{8,}(\.[A-Za-z0-9]+)+$")
# mimetypes depends on the machine's /etc/mime.types: these must not vary.
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".map": "application/json",
    ".webmanifest": "application/manifest+json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".ico": "image/x-icon",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".txt": "text/plain; charset=utf-8",
}
DEFAULT_CONTENT_TYPE = "application/octet-stream"


@dataclass
class SiteHostingArgs:
    prefix: str
    """Prefix of every physical name (project-stack); required."""
    regions: RegionPair
    """The two regions; one site bucket in each, CloudFront through the primary's provider; required."""
    account_id: pulumi.Input[str]
    """AWS account id, part of the globally unique bucket names; required."""
    domain: str = ""
    """Custom domain name of the site; default "" (the cloudfront.net name)."""
    certificate_arn: str = ""
    """ACM certificate (us-east-1) for `domain`; default "" (required with a domain)."""
    noncurrent_version_days: int = 30
    """Days before a replaced or deleted site file's old version expires; default 30."""
    kms: bool = False
    """Encrypt both buckets with a customer managed multi-Region key of the site; default False (SSE-S3)."""
    web_acl_arn: pulumi.Input[str] | None = None
    """ARN of a CLOUDFRONT-scope WAF web ACL protecting the distribution; default None."""


def site_bucket_name(prefix: str, region_name: str, account_id: str) -> str:
    """Globally unique: project and stack (prefix), region and account."""
    return f"{prefix}-site-{region_name}-{account_id}"


def origin_id(role: str) -> str:
    return f"site-{role}"


def site_bucket_policy(bucket_arn: str, distribution_arn: str) -> str:
    """Only this distribution (through its OAC) reads objects; nobody uses plain HTTP."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "AllowCloudFrontRead",
                    "Effect": "Allow",
                    "Principal": {"Service": "cloudfront.amazonaws.com"},
                    "Action": "s3:GetObject",
                    "Resource": f"{bucket_arn}/*",
                    "Condition": {"StringEquals": {"AWS:SourceArn": distribution_arn}},
                },
                deny_insecure_transport(bucket_arn),
            ],
        }
    )


def _validate_hosting(args: SiteHostingArgs) -> None:
    if not args.prefix:
        raise ValueError("SiteHostingArgs.prefix must not be empty")
    check_bucket_names("SiteHostingArgs", args.prefix, args.regions, site_bucket_name)
    if bool(args.domain) != bool(args.certificate_arn):
        raise ValueError("SiteHostingArgs.domain and SiteHostingArgs.certificate_arn go together: set both or neither")
    if args.noncurrent_version_days < 1:
        raise ValueError(f"SiteHostingArgs.noncurrent_version_days must be >= 1, got {args.noncurrent_version_days}")


class SiteHosting(pulumi.ComponentResource):
    """Two private site buckets, an OAC, security headers and the failover distribution."""

    url: pulumi.Output[str]
    distribution_id: pulumi.Output[str]
    bucket_names: dict[str, pulumi.Output[str]]
    buckets: dict[str, aws.s3.Bucket]
    distribution: aws.cloudfront.Distribution
    encryptions: dict[str, aws.s3.BucketServerSideEncryptionConfiguration]  # the site's files are written after
    key: MultiRegionKey | None
    regions: RegionPair

    def __init__(self, name: str, args: SiteHostingArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("multi-region-app:web:SiteHosting", name, None, opts)
        _validate_hosting(args)
        self.regions = args.regions
        primary = args.regions.primary

        self.buckets, public_access = {}, {}
        for region in args.regions:
            self.buckets[region.role], public_access[region.role] = self._bucket(name, args, region)

        # CloudFront is global; its resources are created through the primary's provider.
        oac = aws.cloudfront.OriginAccessControl(
            f"{name}-oac",
            name=f"{args.prefix}-site",
            description="CloudFront signs its requests to the site buckets",
            origin_access_control_origin_type="s3",
            signing_behavior="always",
            signing_protocol="sigv4",
            opts=primary.opts(self),
        )
        headers = aws.cloudfront.ResponseHeadersPolicy(
            f"{name}-security-headers",
            name=f"{args.prefix}-site-security-headers",
            comment="Security headers of the web app",
            security_headers_config=aws.cloudfront.ResponseHeadersPolicySecurityHeadersConfigArgs(
                strict_transport_security=aws.cloudfront.ResponseHeadersPolicySecurityHeadersConfigStrictTransportSecurityArgs(  # noqa: E501
                    access_control_max_age_sec=HSTS_SECONDS, include_subdomains=True, preload=True, override=True
                ),
                content_type_options=aws.cloudfront.ResponseHeadersPolicySecurityHeadersConfigContentTypeOptionsArgs(
                    override=True
                ),
                frame_options=aws.cloudfront.ResponseHeadersPolicySecurityHeadersConfigFrameOptionsArgs(
                    frame_option="DENY", override=True
                ),
                referrer_policy=aws.cloudfront.ResponseHeadersPolicySecurityHeadersConfigReferrerPolicyArgs(
                    referrer_policy="strict-origin-when-cross-origin", override=True
                ),
                xss_protection=aws.cloudfront.ResponseHeadersPolicySecurityHeadersConfigXssProtectionArgs(
                    protection=True, mode_block=True, override=True
                ),
                content_security_policy=aws.cloudfront.ResponseHeadersPolicySecurityHeadersConfigContentSecurityPolicyArgs(  # noqa: E501
                    content_security_policy=CONTENT_SECURITY_POLICY, override=True
                ),
            ),
            opts=primary.opts(self),
        )
        self.distribution = aws.cloudfront.Distribution(
            f"{name}-cdn",
            comment=f"{args.prefix} web app (failover {primary.name} -> {args.regions.secondary.name})",
            enabled=True,
            default_root_object=INDEX,
            aliases=[args.domain] if args.domain else None,
            origins=[
                aws.cloudfront.DistributionOriginArgs(
                    origin_id=origin_id(region.role),
                    domain_name=self.buckets[region.role].bucket_regional_domain_name,
                    origin_access_control_id=oac.id,
                )
                for region in args.regions
            ],
            origin_groups=[
                aws.cloudfront.DistributionOriginGroupArgs(
                    origin_id="site-failover",
                    failover_criteria=aws.cloudfront.DistributionOriginGroupFailoverCriteriaArgs(
                        status_codes=FAILOVER_STATUS_CODES
                    ),
                    # Order matters: the first member is tried first.
                    members=[
                        aws.cloudfront.DistributionOriginGroupMemberArgs(origin_id=origin_id(region.role))
                        for region in args.regions
                    ],
                )
            ],
            default_cache_behavior=aws.cloudfront.DistributionDefaultCacheBehaviorArgs(
                target_origin_id="site-failover",
                viewer_protocol_policy="redirect-to-https",
                # Origin groups serve only these methods; the site is read-only anyway.
                allowed_methods=["GET", "HEAD", "OPTIONS"],
                cached_methods=["GET", "HEAD"],
                compress=True,
                cache_policy_id=CACHING_OPTIMIZED_POLICY_ID,
                response_headers_policy_id=headers.id,
            ),
            custom_error_responses=[
                aws.cloudfront.DistributionCustomErrorResponseArgs(
                    error_code=code,
                    response_code=200,
                    response_page_path=f"/{INDEX}",
                    error_caching_min_ttl=SPA_ERROR_TTL_SECONDS,
                )
                for code in SPA_ERROR_CODES
            ],
            web_acl_id=args.web_acl_arn,
            price_class="PriceClass_100",
            http_version="http2and3",
            is_ipv6_enabled=True,
            restrictions=aws.cloudfront.DistributionRestrictionsArgs(
                geo_restriction=aws.cloudfront.DistributionRestrictionsGeoRestrictionArgs(restriction_type="none")
            ),
            viewer_certificate=(
                aws.cloudfront.DistributionViewerCertificateArgs(
                    acm_certificate_arn=args.certificate_arn,
                    ssl_support_method="sni-only",
                    minimum_protocol_version="TLSv1.2_2021",
                )
                if args.domain
                else aws.cloudfront.DistributionViewerCertificateArgs(cloudfront_default_certificate=True)
            ),
            opts=primary.opts(self),
        )

        # The site's key names the distribution; the buckets encrypt with it from then on.
        self.key = None
        if args.kms:
            distribution_arn = self.distribution.arn
            self.key = MultiRegionKey(
                f"{name}-key",
                MultiRegionKeyArgs(
                    prefix=args.prefix,
                    purpose="site",
                    description=f"{args.prefix} web site files (only its CloudFront distribution decrypts)",
                    regions=args.regions,
                    account_id=args.account_id,
                    service_statements=lambda region: distribution_arn.apply(lambda arn: [cloudfront_statement(arn)]),
                ),
                opts=pulumi.ResourceOptions(parent=self),
            )
        self.encryptions = {
            region.role: encrypt_bucket(
                f"{name}-{region.role}",
                self.buckets[region.role],
                region.opts(self),
                self.key.arn_in(region) if self.key else None,
            )
            for region in args.regions
        }

        for region in args.regions:
            bucket = self.buckets[region.role]
            aws.s3.BucketPolicy(
                f"{name}-{region.role}-policy",
                bucket=bucket.id,
                policy=pulumi.Output.all(bucket.arn, self.distribution.arn).apply(
                    lambda arns: site_bucket_policy(arns[0], arns[1])
                ),
                # S3 checks a new policy against the public access block: set that first.
                opts=region.opts(self, depends_on=[public_access[region.role]]),
            )

        self.url = (
            pulumi.Output.from_input(f"https://{args.domain}")
            if args.domain
            else self.distribution.domain_name.apply(lambda domain: f"https://{domain}")
        )
        self.distribution_id = self.distribution.id
        self.bucket_names = {role: bucket.bucket for role, bucket in self.buckets.items()}
        self.register_outputs(
            {"url": self.url, "distributionId": self.distribution_id, "bucketNames": self.bucket_names}
        )

    def _bucket(
        self, name: str, args: SiteHostingArgs, region: Region
    ) -> tuple[aws.s3.Bucket, aws.s3.BucketPublicAccessBlock]:
        child = f"{name}-{region.role}"
        bucket = aws.s3.Bucket(
            child,
            bucket=pulumi.Output.from_input(args.account_id).apply(
                lambda account: site_bucket_name(args.prefix, region.name, account)
            ),
            # Site files are rebuilt from the repository, they are not data.
            force_destroy=True,
            opts=region.opts(self),
        )
        public_access = make_private(child, bucket, region.opts(self), encrypt=False)  # see self.encryptions
        versioning = enable_versioning(child, bucket, region.opts(self))
        expire_old_versions(child, bucket, args.noncurrent_version_days, region.opts(self, depends_on=[versioning]))
        notify_eventbridge(child, bucket, region.opts(self))
        return bucket, public_access


@dataclass
class SiteContentArgs:
    hosting: SiteHosting
    """The site whose buckets (both regions) receive the files; required."""
    ui_config: pulumi.Input[dict[str, Any]]
    """The web app's configuration, written as uiConfig.json; required."""
    dist_dir: Path | None
    """The built web app (must hold index.html, see `built_site`); None -> only uiConfig.json is written."""


def content_type(key: str) -> str:
    """Content-Type of a site file, from its extension."""
    suffix = Path(key).suffix.lower()
    if suffix in CONTENT_TYPES:
        return CONTENT_TYPES[suffix]
    guessed, _ = mimetypes.guess_type(key)
    return guessed or DEFAULT_CONTENT_TYPE


def cache_control(key: str) -> str:
    """Cache-Control of a site file: see the constants above."""
    if key.endswith(".html"):
        return REVALIDATE
    if HASHED_ASSET.match(key):
        return IMMUTABLE
    return SHORT


def built_site(deploy_files: bool, dist_dir: Path | None = None) -> Path | None:
    """The built web app to upload (default webapp/dist), or None when config deploySiteFiles is false.

    Called first thing by the program: without the build, `pulumi up` stops before creating anything,
    with one line saying how to build it (a site without index.html would deploy silently otherwise)."""
    if not deploy_files:
        return None
    dist = WEBAPP_DIST if dist_dir is None else dist_dir
    if not (dist / INDEX).is_file():
        raise ConfigError(
            f"the web app is not built ({dist / INDEX} is missing): run `make web` (or `cd webapp && npm ci && "
            "npm run build`) before `pulumi up`, or set `pulumi config set deploySiteFiles false` to deploy "
            "only uiConfig.json"
        )
    return dist


def site_files(dist_dir: Path | None) -> list[tuple[str, Path]]:
    """(key, path) of every file of the built app, sorted; uiConfig.json is the program's own."""
    if dist_dir is None:
        return []
    if not (dist_dir / INDEX).is_file():
        raise ValueError(f"SiteContentArgs.dist_dir {dist_dir} has no {INDEX}: build the web app first")
    files = sorted((path.relative_to(dist_dir).as_posix(), path) for path in dist_dir.rglob("*") if path.is_file())
    return [(key, path) for key, path in files if key != UI_CONFIG_KEY]


def object_name(prefix: str, key: str) -> str:
    """A stable, unique resource name per key (sanitizing alone could make two keys collide)."""
    readable = re.sub(r"[^A-Za-z0-9._-]+", "-", key)[:80]
    return f"{prefix}-{readable}-{hashlib.sha256(key.encode()).hexdigest()[:8]}"


class SiteContent(pulumi.ComponentResource):
    """uiConfig.json and the web app's files, in both site buckets."""

    ui_config_objects: dict[str, aws.s3.BucketObjectv2]
    file_keys: list[str]

    def __init__(self, name: str, args: SiteContentArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("multi-region-app:web:SiteContent", name, None, opts)
        files = site_files(args.dist_dir)
        config_json = pulumi.Output.from_input(args.ui_config).apply(lambda config: json.dumps(config, indent=2))

        self.ui_config_objects = {}
        # The secondary's copy is what CloudFront serves when the primary region fails.
        for region in args.hosting.regions:
            bucket = args.hosting.buckets[region.role]
            encryption = args.hosting.encryptions[region.role]  # objects are encrypted as the bucket says
            self.ui_config_objects[region.role] = aws.s3.BucketObjectv2(
                f"{name}-{region.role}-ui-config",
                bucket=bucket.id,
                key=UI_CONFIG_KEY,
                content=config_json,
                content_type=CONTENT_TYPES[".json"],
                # Read at every start-up: a stale copy would point at replaced resources.
                cache_control=NO_STORE,
                opts=region.opts(self, depends_on=[encryption]),
            )
            for key, path in files:
                aws.s3.BucketObjectv2(
                    object_name(f"{name}-{region.role}", key),
                    bucket=bucket.id,
                    key=key,
                    source=pulumi.FileAsset(str(path)),
                    content_type=content_type(key),
                    cache_control=cache_control(key),
                    opts=region.opts(self, depends_on=[encryption]),
                )

        self.file_keys = [UI_CONFIG_KEY, *(key for key, _ in files)]
        self.register_outputs({"keys": self.file_keys})
