"""Stack configuration: read, typed, validated and turned into physical names.

The config schema (types, defaults, descriptions) is declared once, in `Pulumi.yaml`;
this module reads it so that the Pulumi CLI, the mock runtime and the sandbox apply
the same defaults. Every error is a `ConfigError`, which Pulumi prints as one line.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import yaml

from components.contract import PROJECT

ROOT = Path(__file__).resolve().parent.parent
PROJECT_FILE = ROOT / "Pulumi.yaml"

REGION_RE = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[1-9]$")
PREFIX_RE = re.compile(r"^[a-z][a-z0-9-]*[a-z0-9]$")
ORIGIN_RE = re.compile(r"^https?://[A-Za-z0-9.-]+(:\d{1,5})?$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
ACM_US_EAST_1_RE = re.compile(r"^arn:aws[a-z-]*:acm:us-east-1:\d{12}:certificate/[A-Za-z0-9-]+$")
# An IAM role or user, named exactly (IAM's path and name characters): no wildcard, no account root.
IAM_PRINCIPAL_RE = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:(role|user)/([\w+=,.@-]+/)*[\w+=,.@-]{1,64}$")
MAX_PREFIX = 24  # keeps "<prefix>-photos-ap-southeast-2-<account>" within S3's 63 chars
# CloudWatch Logs accepts only these retention periods (PutRetentionPolicy).
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
                      3288, 3653)
# What each security profile turns on; each key is also a config key that overrides it (Pulumi.yaml).
SECURITY_PROFILES: dict[str, dict[str, Any]] = {
    "baseline": {"wafEnabled": False, "kmsEnabled": False, "accessLogs": False, "xrayTracing": False,
                 "logRetentionDays": 30},
    "hardened": {"wafEnabled": True, "kmsEnabled": True, "accessLogs": True, "xrayTracing": True,
                 "logRetentionDays": 365},
}
# WAF's rate-based rule: 100 is the lowest limit every WAF version accepts (newer ones go down to 10).
WAF_RATE_LIMIT_MIN, WAF_RATE_LIMIT_MAX = 100, 2_000_000_000
_APP_ID_NAMESPACE = uuid.UUID("6f1c2f9e-4a55-4b4e-9d43-3b3c8b0c2a71")


class ConfigError(pulumi.RunError):
    """Bad stack configuration; Pulumi prints the message without a traceback."""


def config_schema(project_file: Path = PROJECT_FILE) -> dict[str, dict[str, Any]]:
    """The `config:` block of Pulumi.yaml: key -> {type, description, default?}."""
    return yaml.safe_load(project_file.read_text())["config"]


def _parse(key: str, raw: str, kind: str) -> Any:
    if kind == "string":
        return raw
    if kind == "boolean":
        if raw.lower() in ("true", "false"):
            return raw.lower() == "true"
        raise ConfigError(f"config {PROJECT}:{key} must be true or false, got {raw!r}")
    if kind == "integer":
        try:
            return int(raw)
        except ValueError:
            raise ConfigError(f"config {PROJECT}:{key} must be a whole number, got {raw!r}") from None
    if kind == "array":
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            value = None
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"config {PROJECT}:{key} must be a list of strings, got {raw!r}")
        return value
    raise ConfigError(f"Pulumi.yaml declares {key} with unknown type {kind!r}")


def _profile_switch(key: str, raw: str, profile: str) -> bool:
    """A control the profile turns on or off, unless the key says "true" or "false" itself."""
    if raw == "":
        return SECURITY_PROFILES[profile][key]
    if raw.lower() in ("true", "false"):
        return raw.lower() == "true"
    raise ConfigError(
        f"config {PROJECT}:{key} must be true, false or empty (the securityProfile's choice), got {raw!r}"
    )


@dataclass(frozen=True)
class Settings:
    """Everything the program needs from the stack's configuration."""

    project: str
    stack: str
    primary_region: str
    secondary_region: str
    prefix: str
    app_id: str
    site_origins: tuple[str, ...]
    api_origin: str  # "" = the site's URL
    site_domain: str
    site_certificate_arn: str
    retain_data: bool
    adopt_retained: bool
    deploy_site_files: bool
    alarm_email: str
    auto_failover: bool
    api_throttle_rate_limit: int
    api_throttle_burst_limit: int
    manage_api_gateway_account: bool
    log_retention_days: int
    noncurrent_version_days: int
    security_profile: str  # "baseline" | "hardened"
    waf_enabled: bool
    waf_rate_limit: int  # requests per client IP per 5 minutes
    kms_enabled: bool
    access_logs: bool  # S3 server access logs and CloudFront standard logs
    xray_tracing: bool
    auto_failover_error_percent: int
    auto_failover_minutes: int
    alarm_api_5xx_percent: int
    alarm_api_4xx_percent: int
    alarm_bucket_replication_seconds: int
    alarm_table_replication_seconds: int
    operator_principals: tuple[str, ...] = ()
    operator_require_mfa: bool = True

    @property
    def extra_origins(self) -> tuple[str, ...]:
        """Browser origins allowed besides the site's URL: siteOrigins and apiOrigin, once each."""
        return tuple(dict.fromkeys([*self.site_origins, *([self.api_origin] if self.api_origin else [])]))

    def region(self, role: str) -> str:
        """The region name of a role ("primary" or "secondary")."""
        return self.primary_region if role == "primary" else self.secondary_region

    def name(self, *parts: str) -> str:
        """A physical name: prefix + parts, e.g. name("comments") -> "app-prod-comments"."""
        return "-".join((self.prefix, *parts))

    @property
    def tags(self) -> dict[str, str]:
        return {"project": self.project, "stack": self.stack}


def derive_prefix(project: str, stack: str) -> str:
    """A valid name prefix from project and stack; long ones keep a hash for uniqueness."""
    base = re.sub(r"[^a-z0-9-]+", "-", f"{project}-{stack}".lower())
    base = re.sub(r"-{2,}", "-", base).strip("-")
    if len(base) > MAX_PREFIX:
        digest = hashlib.sha256(f"{project}/{stack}".encode()).hexdigest()[:6]
        base = f"{base[: MAX_PREFIX - 7].rstrip('-')}-{digest}"
    return base


def derive_app_id(project: str, stack: str) -> str:
    return str(uuid.uuid5(_APP_ID_NAMESPACE, f"{project}/{stack}"))


def load_settings(
    get: Callable[[str], str | None],
    primary_region: str | None,
    project: str,
    stack: str,
    schema: Mapping[str, Mapping[str, Any]] | None = None,
) -> Settings:
    """Read and validate the configuration.

    `get(key)` returns the raw string value of `<project>:<key>` or None when unset.
    """
    schema = config_schema() if schema is None else schema
    values: dict[str, Any] = {}
    for key, spec in schema.items():
        raw = get(key)
        if raw is None or raw == "" and "default" in spec:
            if "default" not in spec:
                raise ConfigError(
                    f"missing required config {project}:{key} ({spec.get('description', '')}); "
                    f"set it with: pulumi config set {key} <value>"
                )
            values[key] = spec["default"]
        else:
            values[key] = _parse(key, raw, spec["type"])

    if not primary_region:
        raise ConfigError(
            "missing required config aws:region (the primary region); "
            "set it with: pulumi config set aws:region us-east-1"
        )
    for label, region in (("aws:region", primary_region), (f"{project}:secondaryRegion", values["secondaryRegion"])):
        if not REGION_RE.match(region):
            raise ConfigError(f"config {label} = {region!r} is not an AWS region name (like us-east-1)")
    if primary_region == values["secondaryRegion"]:
        raise ConfigError(
            f"config {project}:secondaryRegion must differ from aws:region (both are {primary_region}): "
            "an active/passive application needs two regions"
        )

    prefix = values["namePrefix"] or derive_prefix(project, stack)
    if len(prefix) > MAX_PREFIX or not PREFIX_RE.match(prefix):
        raise ConfigError(
            f"config {project}:namePrefix = {prefix!r} must be 2..{MAX_PREFIX} characters of "
            "a-z, 0-9 and '-', starting with a letter"
        )
    app_id = values["appId"] or derive_app_id(project, stack)
    if not re.match(r"^[A-Za-z0-9_.-]{1,64}$", app_id):
        raise ConfigError(f"config {project}:appId = {app_id!r} must be 1..64 characters of A-Z a-z 0-9 _ . -")
    bad_origins = [o for o in values["siteOrigins"] if not ORIGIN_RE.match(o)]
    if bad_origins:
        raise ConfigError(
            f"config {project}:siteOrigins has {', '.join(map(repr, bad_origins))}: "
            "each origin is scheme://host[:port] with no path, e.g. http://localhost:5173"
        )
    if values["apiOrigin"] and not ORIGIN_RE.match(values["apiOrigin"]):
        raise ConfigError(
            f"config {project}:apiOrigin = {values['apiOrigin']!r} must be scheme://host[:port] with no path, "
            "e.g. http://localhost:5173"
        )
    if bool(values["siteDomain"]) != bool(values["siteCertificateArn"]):
        raise ConfigError(
            f"config {project}:siteDomain and {project}:siteCertificateArn go together: set both or neither"
        )
    if values["siteCertificateArn"] and not ACM_US_EAST_1_RE.match(values["siteCertificateArn"]):
        raise ConfigError(
            f"config {project}:siteCertificateArn must be an ACM certificate ARN in us-east-1 (CloudFront's region)"
        )
    bad_principals = [a for a in values["operatorPrincipals"] if not IAM_PRINCIPAL_RE.match(a)]
    if bad_principals:
        raise ConfigError(
            f"config {project}:operatorPrincipals has {', '.join(map(repr, bad_principals))}: each entry is the "
            "exact ARN of an IAM role or user (arn:aws:iam::<account>:role/<name>), without wildcards"
        )
    if values["alarmEmail"] and not EMAIL_RE.match(values["alarmEmail"]):
        raise ConfigError(f"config {project}:alarmEmail = {values['alarmEmail']!r} is not an e-mail address")
    for key, low, high in (
        ("apiThrottleRateLimit", 1, 10000),
        ("apiThrottleBurstLimit", 1, 5000),
        ("wafRateLimit", WAF_RATE_LIMIT_MIN, WAF_RATE_LIMIT_MAX),
        ("noncurrentVersionDays", 1, 3650),
        ("autoFailoverErrorPercent", 1, 100),
        ("autoFailoverMinutes", 1, 60),
        ("alarmApi5xxPercent", 1, 100),
        ("alarmApi4xxPercent", 1, 100),
        ("alarmBucketReplicationSeconds", 60, 86400),
        ("alarmTableReplicationSeconds", 1, 86400),
    ):
        if not low <= values[key] <= high:
            raise ConfigError(f"config {project}:{key} = {values[key]} must be between {low} and {high}")

    profile = values["securityProfile"]
    if profile not in SECURITY_PROFILES:
        raise ConfigError(
            f"config {project}:securityProfile = {profile!r} must be one of {', '.join(SECURITY_PROFILES)}"
        )
    switches = {
        key: _profile_switch(key, values[key], profile)
        for key in ("wafEnabled", "kmsEnabled", "accessLogs", "xrayTracing")
    }
    log_retention_days = values["logRetentionDays"] or SECURITY_PROFILES[profile]["logRetentionDays"]
    if log_retention_days not in LOG_RETENTION_DAYS:
        raise ConfigError(
            f"config {project}:logRetentionDays = {values['logRetentionDays']} must be 0 (the securityProfile's) "
            f"or a CloudWatch Logs period: {', '.join(map(str, LOG_RETENTION_DAYS))}"
        )

    return Settings(
        project=project,
        stack=stack,
        primary_region=primary_region,
        secondary_region=values["secondaryRegion"],
        prefix=prefix,
        app_id=app_id,
        site_origins=tuple(values["siteOrigins"]),
        api_origin=values["apiOrigin"],
        site_domain=values["siteDomain"],
        site_certificate_arn=values["siteCertificateArn"],
        retain_data=values["retainData"],
        adopt_retained=values["adoptRetained"],
        deploy_site_files=values["deploySiteFiles"],
        alarm_email=values["alarmEmail"],
        auto_failover=values["autoFailover"],
        api_throttle_rate_limit=values["apiThrottleRateLimit"],
        api_throttle_burst_limit=values["apiThrottleBurstLimit"],
        manage_api_gateway_account=values["manageApiGatewayAccount"],
        log_retention_days=log_retention_days,
        noncurrent_version_days=values["noncurrentVersionDays"],
        security_profile=profile,
        waf_enabled=switches["wafEnabled"],
        waf_rate_limit=values["wafRateLimit"],
        kms_enabled=switches["kmsEnabled"],
        access_logs=switches["accessLogs"],
        xray_tracing=switches["xrayTracing"],
        auto_failover_error_percent=values["autoFailoverErrorPercent"],
        auto_failover_minutes=values["autoFailoverMinutes"],
        alarm_api_5xx_percent=values["alarmApi5xxPercent"],
        alarm_api_4xx_percent=values["alarmApi4xxPercent"],
        alarm_bucket_replication_seconds=values["alarmBucketReplicationSeconds"],
        alarm_table_replication_seconds=values["alarmTableReplicationSeconds"],
        operator_principals=tuple(dict.fromkeys(values["operatorPrincipals"])),
        operator_require_mfa=values["operatorRequireMfa"],
    )


def settings_from_pulumi() -> Settings:
    """Settings of the running stack (CLI or mock runtime)."""
    project_config = pulumi.Config()
    return load_settings(
        get=project_config.get,
        primary_region=pulumi.Config("aws").get("region"),
        project=pulumi.get_project(),
        stack=pulumi.get_stack(),
    )
