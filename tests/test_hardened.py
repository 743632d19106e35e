"""The hardened profile (issue 12): every control of AWS Foundational Security Best Practices that checkov's AWS
checks found missing, in place with Pulumi.prod.yaml plus a custom domain, and absent (cheap) in baseline.

GIVEN Pulumi.prod.yaml (securityProfile: hardened) with a custom site domain, and the same stack with
securityProfile=baseline, WHEN the program runs under mocks, THEN the registrations show each control.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Callable
from typing import Any

import pytest

from components.contract import Out, RegionOut
from components.rest_api import validator_kind
from components.routes import PHOTOS_ROUTES, ROUTING_ROUTES
from components.settings import ConfigError, load_settings
from components.waf import RESPONSES
from harness.fake_cloud import ACCOUNT
from harness.program import PROVIDER_TYPE, ProgramRun, Registration, stack_config
from tests.conftest import PRIMARY, SECONDARY, run_with
from tests.conftest import ROOT as REPOSITORY

DOMAIN = "photos.example.com"
CERTIFICATE = f"arn:aws:acm:us-east-1:{ACCOUNT}:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789"
PREFIX = "multi-region-app-prod"
REGIONS = {"primary": PRIMARY, "secondary": SECONDARY}
ROLE_OF = {PRIMARY: "primary", SECONDARY: "secondary"}

BUCKET = "aws:s3/bucket:Bucket"
ENCRYPTION = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
NOTIFICATION = "aws:s3/bucketNotification:BucketNotification"
LOGGING = "aws:s3/bucketLogging:BucketLogging"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
REPLICATION = "aws:s3/bucketReplicationConfig:BucketReplicationConfig"
OBJECT = "aws:s3/bucketObjectv2:BucketObjectv2"
KEY = "aws:kms/key:Key"
REPLICA_KEY = "aws:kms/replicaKey:ReplicaKey"
ALIAS = "aws:kms/alias:Alias"
TABLE = "aws:dynamodb/table:Table"
TABLE_REPLICA = "aws:dynamodb/tableReplica:TableReplica"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
TOPIC = "aws:sns/topic:Topic"
STAGE = "aws:apigateway/stage:Stage"
METHOD = "aws:apigateway/method:Method"
WEB_ACL = "aws:wafv2/webAcl:WebAcl"
WEB_ACL_ASSOCIATION = "aws:wafv2/webAclAssociation:WebAclAssociation"
WEB_ACL_LOGGING = "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration"
DISTRIBUTION = "aws:cloudfront/distribution:Distribution"
DELIVERY_SOURCE = "aws:cloudwatch/logDeliverySource:LogDeliverySource"
DELIVERY_DESTINATION = "aws:cloudwatch/logDeliveryDestination:LogDeliveryDestination"
DELIVERY = "aws:cloudwatch/logDelivery:LogDelivery"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"


@pytest.fixture(scope="module")
def hardened() -> ProgramRun:
    """Pulumi.prod.yaml with a custom domain and its certificate."""
    return run_with(siteDomain=DOMAIN, siteCertificateArn=CERTIFICATE)


@pytest.fixture(scope="module")
def tuned() -> ProgramRun:
    """Pulumi.prod.yaml with the hardened profile's numbers changed, and nothing retained (a staging stack)."""
    return run_with(wafRateLimit="500", logRetentionDays="90", noncurrentVersionDays="7", retainData="false")


# -- reading a run ------------------------------------------------------------------------------------------------
def one(run: ProgramRun, type_: str, name: str) -> Registration:
    found = [r for r in run.of_type(type_) if r.name == name]
    assert len(found) == 1, (type_, name, [r.name for r in run.of_type(type_)])
    return found[0]


def bucket_named(run: ProgramRun, kind: str, region: str) -> str:
    return f"{PREFIX}-{kind}-{region}-{ACCOUNT}"


def configuring(run: ProgramRun, type_: str, bucket: str) -> list[Registration]:
    return [r for r in run.of_type(type_) if r.inputs.get("bucket") == bucket]


def key_arn(run: ProgramRun, purpose: str, region: str) -> str:
    """The ARN of the `purpose` key (data, ops, site) in `region`."""
    for reg in (*run.of_type(KEY), *run.of_type(REPLICA_KEY)):
        if reg.region == region and reg.name.split("-key-")[0].endswith(purpose):
            return reg.outputs["arn"]
    raise AssertionError(f"no {purpose} key in {region}")


def key_policy_of(run: ProgramRun, purpose: str, region: str) -> dict[str, Any]:
    reg = next(r for r in (*run.of_type(KEY), *run.of_type(REPLICA_KEY))
               if r.region == region and r.outputs["arn"] == key_arn(run, purpose, region))
    return json.loads(reg.inputs["policy"])


def sse(run: ProgramRun, bucket: str) -> dict[str, Any]:
    (encryption,) = configuring(run, ENCRYPTION, bucket)
    (rule,) = encryption.inputs["rules"]
    return rule


def distribution_of(run: ProgramRun) -> Registration:
    return one(run, DISTRIBUTION, "site-cdn")


def statements_of(reg: Registration) -> dict[str, dict[str, Any]]:
    return {s["Sid"]: s for s in json.loads(reg.inputs["policy"])["Statement"]}


def role_policy(run: ProgramRun, role_arn: str) -> Registration:
    role = next(r for r in run.of_type(ROLE) if r.outputs["arn"] == role_arn)
    (policy,) = [p for p in run.of_type(ROLE_POLICY) if p.inputs["role"] == role.outputs["name"]]
    return policy


def s3_condition(region: str, bucket_arn: str) -> dict[str, Any]:
    return {
        "StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com"},
        "StringLike": {"kms:EncryptionContext:aws:s3:arn": [bucket_arn, f"{bucket_arn}/public/*"]},
    }


ROOT = {"Sid": "EnableIamPolicies", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
        "Action": "kms:*", "Resource": "*"}


# -- the issue's table, control by control --------------------------------------------------------------------------
def all_methods_taking_input_validated(run: ProgramRun) -> bool:
    routes = {(r.method, r.path): r for r in (*ROUTING_ROUTES, *PHOTOS_ROUTES)}
    methods = [m for m in run.of_type(METHOD) if m.inputs["httpMethod"] != "OPTIONS"]
    return len(methods) == 12 and all(m.inputs.get("requestValidatorId") for m in methods) and all(
        validator_kind(route) for route in routes.values()
    )


def photo_and_site_buckets(run: ProgramRun) -> list[str]:
    return [bucket_named(run, kind, region) for kind in ("photos", "site") for region in REGIONS.values()]


def cloudfront_acl(run: ProgramRun) -> Registration | None:
    return next((a for a in run.of_type(WEB_ACL) if a.outputs["arn"] == distribution_of(run).inputs.get("webAclId")),
                None)


CONTROLS: dict[str, Callable[[ProgramRun], bool]] = {
    "CKV2_AWS_29 WAF on both REST API stages": lambda run: {
        a.inputs["resourceArn"] for a in run.of_type(WEB_ACL_ASSOCIATION)} == {s.outputs["arn"] for s in run.of_type(
            STAGE)} and len(run.of_type(STAGE)) == 4,
    "CKV_AWS_68 WAF on CloudFront": lambda run: cloudfront_acl(run) is not None,
    "CKV2_AWS_47 the managed rules covering Log4j on CloudFront": lambda run: (acl := cloudfront_acl(run)) is not None
    and "AWSManagedRulesKnownBadInputsRuleSet" in json.dumps(acl.inputs["rules"]),
    "CKV2_AWS_31 every web ACL logs": lambda run: bool(run.of_type(WEB_ACL)) and {
        c.inputs["resourceArn"] for c in run.of_type(WEB_ACL_LOGGING)} == {a.outputs["arn"] for a in run.of_type(
            WEB_ACL)},
    "CKV_AWS_119 tables encrypted with a customer managed key": lambda run: all(
        t.inputs["serverSideEncryption"].get("kmsKeyArn") for t in run.of_type(TABLE)),
    "CKV_AWS_271 table replicas encrypted with a customer managed key": lambda run: all(
        r.inputs.get("kmsKeyArn") for r in run.of_type(TABLE_REPLICA)),
    "CKV_AWS_145 photo and site buckets encrypted with KMS": lambda run: all(
        sse(run, b)["applyServerSideEncryptionByDefault"].get("kmsMasterKeyId") for b in photo_and_site_buckets(run)),
    "CKV_AWS_158 log groups encrypted with KMS": lambda run: all(g.inputs.get("kmsKeyId") for g in run.of_type(
        LOG_GROUP)),
    "CKV_AWS_26 SNS topics encrypted with KMS": lambda run: all(t.inputs.get("kmsMasterKeyId") for t in run.of_type(
        TOPIC)),
    "CKV_AWS_338 logs kept at least a year": lambda run: all(g.inputs["retentionInDays"] >= 365 for g in run.of_type(
        LOG_GROUP)),
    "CKV_AWS_73 X-Ray tracing on stages": lambda run: all(s.inputs.get("xrayTracingEnabled") for s in run.of_type(
        STAGE)),
    "CKV_AWS_18 S3 server access logs": lambda run: all(configuring(run, LOGGING, b) for b in photo_and_site_buckets(
        run)),
    "CKV_AWS_86 CloudFront access logs": lambda run: any(
        s.inputs["resourceArn"] == distribution_of(run).outputs["arn"] for s in run.of_type(DELIVERY_SOURCE))
    and len(run.of_type(DELIVERY)) == 1,
    "CKV2_AWS_62 S3 event notifications": lambda run: all(
        [n.inputs["eventbridge"] for n in configuring(run, NOTIFICATION, b)] == [True]
        for b in photo_and_site_buckets(run)),
    "CKV_AWS_21 site buckets versioned": lambda run: all(
        [v.inputs["versioningConfiguration"]["status"] for v in configuring(run, VERSIONING, b)] == ["Enabled"]
        for b in photo_and_site_buckets(run)),
    "CKV2_AWS_61 site buckets with a lifecycle": lambda run: all(configuring(run, LIFECYCLE, b)
                                                                 for b in photo_and_site_buckets(run)),
    "CKV2_AWS_53 request validation on every method taking input": all_methods_taking_input_validated,
}
# What the cheap profile keeps anyway: free or nearly (versions of a few files, EventBridge's default bus).
ALWAYS_ON = {"CKV2_AWS_62", "CKV_AWS_21", "CKV2_AWS_61", "CKV2_AWS_53"}


@pytest.mark.parametrize("control", list(CONTROLS))
def test_every_control_of_the_issue_is_in_place_with_prod_and_a_custom_domain(hardened, control):
    assert CONTROLS[control](hardened), control


@pytest.mark.parametrize("control", list(CONTROLS))
def test_the_baseline_profile_keeps_only_the_free_controls(baseline, control):
    assert CONTROLS[control](baseline) is (control.split()[0] in ALWAYS_ON), control


# -- configuration ----------------------------------------------------------------------------------------------
def settings_from(values: dict[str, str]):
    return load_settings({"secondaryRegion": "eu-west-1", **values}.get, "us-east-1", "multi-region-app", "prod")


def test_prod_stack_is_hardened_and_the_sandbox_stack_stays_baseline():
    assert stack_config("prod")["multi-region-app:securityProfile"] == "hardened"
    assert stack_config("sandbox")["multi-region-app:securityProfile"] == "baseline"


def test_the_profile_sets_each_control_and_each_key_overrides_one():
    hardened, baseline = settings_from({"securityProfile": "hardened"}), settings_from({})
    controls = ("waf_enabled", "kms_enabled", "access_logs", "xray_tracing")
    assert [getattr(hardened, c) for c in controls] == [True] * 4 and hardened.log_retention_days == 365
    assert [getattr(baseline, c) for c in controls] == [False] * 4 and baseline.log_retention_days == 30
    mixed = settings_from({"securityProfile": "hardened", "wafEnabled": "false", "logRetentionDays": "90"})
    assert (mixed.waf_enabled, mixed.kms_enabled, mixed.log_retention_days) == (False, True, 90)
    assert settings_from({"kmsEnabled": "TRUE"}).kms_enabled is True
    assert settings_from({"securityProfile": "hardened", "wafRateLimit": "500"}).waf_rate_limit == 500


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("securityProfile", "strict", r"securityProfile = 'strict' must be one of baseline, hardened"),
        ("wafEnabled", "yes", r"wafEnabled must be true, false or empty"),
        ("xrayTracing", "1", r"xrayTracing must be true, false or empty"),
        ("logRetentionDays", "31", r"logRetentionDays = 31 must be 0 .* or a CloudWatch Logs period"),
        ("wafRateLimit", "50", r"wafRateLimit = 50 must be between 100 and 2000000000"),
        ("wafRateLimit", "lots", r"wafRateLimit must be a whole number"),
    ],
)
def test_bad_security_config_is_refused_with_one_line_naming_the_key(key, value, message):
    with pytest.raises(ConfigError, match=message) as raised:
        settings_from({key: value})
    assert "\n" not in str(raised.value)


# -- WAF ----------------------------------------------------------------------------------------------------------
def test_each_api_region_has_a_regional_web_acl_protecting_both_its_stages(hardened):
    stages = {s.region: {s.outputs["arn"] for s in hardened.of_type(STAGE) if s.region == r} for r in REGIONS.values()
              for s in hardened.of_type(STAGE) if s.region == r}
    for role, region in REGIONS.items():
        acl = one(hardened, WEB_ACL, f"api-waf-{role}-acl")
        assert (acl.region, acl.inputs["scope"], acl.inputs["name"]) == (region, "REGIONAL", f"{PREFIX}-api-waf-{role}")
        associated = {a.inputs["resourceArn"] for a in hardened.of_type(WEB_ACL_ASSOCIATION)
                      if a.inputs["webAclArn"] == acl.outputs["arn"]}
        assert associated == stages[region] and len(associated) == 2  # routing and photos
        assert all(a.region == region for a in hardened.of_type(WEB_ACL_ASSOCIATION)
                   if a.inputs["webAclArn"] == acl.outputs["arn"])


# AWS WAF list prices (https://aws.amazon.com/waf/pricing/): per web ACL and per rule (a rule group is one rule),
# per month.
WAF_ACL_DOLLARS, WAF_RULE_DOLLARS = 5, 1


def test_the_readme_waf_cost_counts_the_stacks_web_acls_and_their_rules(hardened):
    acls = hardened.of_type(WEB_ACL)
    [rules] = {len(acl.inputs["rules"]) for acl in acls}
    scopes = [acl.inputs["scope"] for acl in acls]
    monthly = len(acls) * (WAF_ACL_DOLLARS + rules * WAF_RULE_DOLLARS)
    [line] = [row for row in (REPOSITORY / "README.md").read_text().splitlines() if row.startswith("| `wafEnabled`")]
    assert (f"${monthly} = {len(acls)} web ACLs ({scopes.count('REGIONAL')} regional, {scopes.count('CLOUDFRONT')} "
            f"CloudFront) × (${WAF_ACL_DOLLARS} + {rules} rules × ${WAF_RULE_DOLLARS};") in line


def test_cloudfront_is_protected_by_a_cloudfront_scope_web_acl_made_in_us_east_1(hardened):
    acl = one(hardened, WEB_ACL, "site-waf-acl")
    assert (acl.region, acl.inputs["scope"]) == ("us-east-1", "CLOUDFRONT")
    assert distribution_of(hardened).inputs["webAclId"] == acl.outputs["arn"]
    assert [a for a in hardened.of_type(WEB_ACL_ASSOCIATION) if a.inputs["webAclArn"] == acl.outputs["arn"]] == []


def test_web_acls_log_to_their_own_encrypted_log_group_without_the_callers_credentials(hardened):
    for acl in hardened.of_type(WEB_ACL):
        (logging,) = [c for c in hardened.of_type(WEB_ACL_LOGGING) if c.inputs["resourceArn"] == acl.outputs["arn"]]
        destinations = logging.inputs["logDestinationConfigs"]
        (group,) = [g for g in hardened.of_type(LOG_GROUP) if g.outputs["arn"] in destinations]
        assert group.region == acl.region == logging.region
        assert group.inputs["name"] == f"aws-waf-logs-{acl.inputs['name']}"  # WAF logs only to groups named so
        assert (group.inputs["retentionInDays"], group.inputs["kmsKeyId"]) == (365.0, key_arn(hardened, "ops",
                                                                                               acl.region))
        assert logging.inputs["redactedFields"] == [{"singleHeader": {"name": "authorization"}},
                                                    {"singleHeader": {"name": "x-amz-security-token"}}]


def test_web_acls_rate_limit_each_client_ip_first_then_block_what_the_managed_rules_label(tuned):
    for acl in tuned.of_type(WEB_ACL):
        assert acl.inputs["defaultAction"] == {"allow": {}}
        rules = sorted(acl.inputs["rules"], key=lambda r: r["priority"])
        assert [r["name"] for r in rules] == [
            "rate-limit-per-ip", "aws-common-rule-set", "aws-known-bad-inputs", "block-managed-matches"]
        rate = rules[0]["statement"]["rateBasedStatement"]
        assert rate == {"limit": 500.0, "aggregateKeyType": "IP", "evaluationWindowSec": 300.0}
        assert rules[0]["action"]["block"]["customResponse"]["responseCode"] == 429.0
        groups = [r["statement"]["managedRuleGroupStatement"] for r in rules[1:3]]
        assert groups == [{"name": "AWSManagedRulesCommonRuleSet", "vendorName": "AWS"},
                          {"name": "AWSManagedRulesKnownBadInputsRuleSet", "vendorName": "AWS"}]
        # The groups only label (count) ...
        assert all(r["overrideAction"] == {"count": {}} and "action" not in r for r in rules[1:3])
        # ... and every label of theirs, present and future rules alike, is blocked with the JSON answer.
        labels = [s["labelMatchStatement"] for s in rules[3]["statement"]["orStatement"]["statements"]]
        assert labels == [{"scope": "NAMESPACE", "key": "awswaf:managed:aws:core-rule-set:"},
                          {"scope": "NAMESPACE", "key": "awswaf:managed:aws:known-bad-inputs:"}]
        assert rules[3]["action"]["block"]["customResponse"]["responseCode"] == 403.0
        for rule in rules:
            assert rule["visibilityConfig"]["cloudwatchMetricsEnabled"] is True
            assert rule["visibilityConfig"]["sampledRequestsEnabled"] is True


def test_blocked_requests_get_the_json_errors_the_web_app_reads_with_the_apis_cors_origin(hardened):
    """webapp/src/api.ts turns a non-2xx JSON answer's string `code` and `message` into its ApiError; the browser
    shows a cross-origin answer to the app only with Access-Control-Allow-Origin."""
    for acl in hardened.of_type(WEB_ACL):
        bodies = {b["key"]: b for b in acl.inputs["customResponseBodies"]}
        for rule in acl.inputs["rules"]:
            if "action" not in rule:
                continue
            response = rule["action"]["block"]["customResponse"]
            body = bodies[response["customResponseBodyKey"]]
            assert body["contentType"] == "APPLICATION_JSON"
            document = json.loads(body["content"])
            assert set(document) == {"code", "message"} and all(isinstance(v, str) and v for v in document.values())
            assert (int(response["responseCode"]), document) == RESPONSES[body["key"]]
            headers = response.get("responseHeaders")
            if acl.inputs["scope"] == "REGIONAL":
                assert headers == [{"name": "Access-Control-Allow-Origin", "value": f"https://{DOMAIN}"}]
            else:  # the site's own origin: no CORS
                assert not headers
    assert {code for code, _ in RESPONSES.values()} == {403, 429}
    assert all("expired" not in body["message"].lower() for _, body in RESPONSES.values())  # never read as "sign in"


# -- KMS ----------------------------------------------------------------------------------------------------------
def test_each_purpose_has_a_rotated_multi_region_key_in_the_primary_and_its_replica_in_the_secondary(hardened):
    primaries = {k.name: k for k in hardened.of_type(KEY)}
    assert set(primaries) == {"data-key-primary", "ops-key-primary", "site-key-primary"}
    for name, key in primaries.items():
        assert key.region == PRIMARY
        assert key.inputs["multiRegion"] is True and key.inputs["enableKeyRotation"] is True
        assert key.inputs["deletionWindowInDays"] == 30.0
        replica = one(hardened, REPLICA_KEY, name.replace("primary", "secondary"))
        assert replica.region == SECONDARY and replica.inputs["primaryKeyArn"] == key.outputs["arn"]
        assert replica.outputs["keyId"] == key.outputs["keyId"]  # the same key material in both regions
    aliases = {(a.region, a.inputs["name"]) for a in hardened.of_type(ALIAS)}
    assert aliases == {(r, f"alias/{PREFIX}-{p}") for r in REGIONS.values() for p in ("data", "ops", "site")}


def test_key_policies_name_exactly_the_principals_that_need_them(hardened):
    distribution = distribution_of(hardened).outputs["arn"]
    for region in REGIONS.values():
        assert key_policy_of(hardened, "data", region)["Statement"] == [ROOT]
        ops = key_policy_of(hardened, "ops", region)["Statement"]
        assert ops[0] == ROOT
        logs, alarms = ops[1:]
        assert logs["Principal"] == {"Service": f"logs.{region}.amazonaws.com"}
        assert logs["Condition"] == {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": [
            f"arn:aws:logs:{region}:{ACCOUNT}:log-group:/aws/apigateway/{PREFIX}*",
            f"arn:aws:logs:{region}:{ACCOUNT}:log-group:API-Gateway-Execution-Logs_*",
            f"arn:aws:logs:{region}:{ACCOUNT}:log-group:aws-waf-logs-{PREFIX}*",
        ]}}
        # Confused deputy: another account's alarms may not use the key (IfExists: CloudWatch documents no key).
        assert alarms == {"Sid": "CloudWatchAlarmsPublishToEncryptedTopics", "Effect": "Allow",
                          "Principal": {"Service": "cloudwatch.amazonaws.com"},
                          "Action": ["kms:Decrypt", "kms:GenerateDataKey*"], "Resource": "*",
                          "Condition": {"StringEqualsIfExists": {"aws:SourceAccount": ACCOUNT}}}
        assert key_policy_of(hardened, "site", region)["Statement"] == [ROOT, {
            "Sid": "CloudFrontReadsTheSite", "Effect": "Allow", "Principal": {"Service": "cloudfront.amazonaws.com"},
            "Action": "kms:Decrypt", "Resource": "*", "Condition": {"StringEquals": {"AWS:SourceArn": distribution}},
        }]


def test_every_log_group_of_the_stack_is_one_the_ops_key_lets_cloudwatch_logs_use(hardened):
    for group in hardened.of_type(LOG_GROUP):
        condition = key_policy_of(hardened, "ops", group.region)["Statement"][1]["Condition"]["ArnLike"]
        arn = f"arn:aws:logs:{group.region}:{ACCOUNT}:log-group:{group.outputs['name']}"
        assert any(fnmatch.fnmatchcase(arn, pattern) for pattern in condition["kms:EncryptionContext:aws:logs:arn"])
        assert group.inputs["kmsKeyId"] == key_arn(hardened, "ops", group.region)


def test_tables_and_replicas_encrypt_with_the_data_key_of_their_region(hardened):
    for table in hardened.of_type(TABLE):
        assert table.inputs["serverSideEncryption"] == {"enabled": True, "kmsKeyArn": key_arn(hardened, "data",
                                                                                              PRIMARY)}
    for replica in hardened.of_type(TABLE_REPLICA):
        assert replica.inputs["kmsKeyArn"] == key_arn(hardened, "data", SECONDARY)


def test_photo_and_site_buckets_encrypt_with_their_regions_key_and_bucket_keys(hardened):
    for region in REGIONS.values():
        for kind, purpose in (("photos", "data"), ("site", "site")):
            assert sse(hardened, bucket_named(hardened, kind, region)) == {
                "applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms",
                                                       "kmsMasterKeyId": key_arn(hardened, purpose, region)},
                "bucketKeyEnabled": True,
            }


def test_site_files_are_written_once_their_bucket_encrypts_with_the_site_key(hardened):
    encryptions = {e.inputs["bucket"]: e.urn for e in hardened.of_type(ENCRYPTION)}
    files = hardened.of_type(OBJECT)
    assert files
    for item in files:
        assert encryptions[item.inputs["bucket"]] in item.options["depends_on"]


@pytest.mark.parametrize(("source", "destination"), [(PRIMARY, SECONDARY), (SECONDARY, PRIMARY)])
def test_replication_reencrypts_each_copy_with_the_destination_regions_key(hardened, source, destination):
    source_bucket, destination_bucket = (bucket_named(hardened, "photos", r) for r in (source, destination))
    (replication,) = configuring(hardened, REPLICATION, source_bucket)
    (rule,) = replication.inputs["rules"]
    assert rule["sourceSelectionCriteria"] == {"replicaModifications": {"status": "Enabled"},
                                               "sseKmsEncryptedObjects": {"status": "Enabled"}}
    assert rule["destination"]["encryptionConfiguration"] == {"replicaKmsKeyId": key_arn(hardened, "data",
                                                                                         destination)}
    grants = statements_of(role_policy(hardened, replication.inputs["role"]))
    source_arn, destination_arn = f"arn:aws:s3:::{source_bucket}", f"arn:aws:s3:::{destination_bucket}"
    assert grants["DecryptSourcePhotos"] == {
        "Sid": "DecryptSourcePhotos", "Effect": "Allow", "Action": ["kms:Decrypt"],
        "Resource": key_arn(hardened, "data", source), "Condition": s3_condition(source, source_arn)}
    assert grants["EncryptReplicas"] == {
        "Sid": "EncryptReplicas", "Effect": "Allow", "Action": ["kms:Encrypt", "kms:GenerateDataKey", "kms:Decrypt"],
        "Resource": key_arn(hardened, "data", destination), "Condition": s3_condition(destination, destination_arn)}
    assert set(grants) == {"ReadSourceConfiguration", "ReadSourcePhotos", "WriteDestinationPhotos",
                           "DecryptSourcePhotos", "EncryptReplicas"}


def test_app_users_may_use_each_photo_buckets_key_only_through_s3_of_its_region_for_public_photos(hardened):
    for role in REGIONS:
        grants = statements_of(role_policy(hardened, hardened.outputs[role][RegionOut.AUTH_ROLE_ARN]))
        keys = {s["Resource"]: s for sid, s in grants.items() if sid.startswith("UsePhotoKey")}
        assert set(keys) == {key_arn(hardened, "data", region) for region in REGIONS.values()}
        for region in REGIONS.values():
            statement = keys[key_arn(hardened, "data", region)]
            assert statement["Action"] == ["kms:Decrypt", "kms:GenerateDataKey"]
            bucket_arn = f"arn:aws:s3:::{bucket_named(hardened, 'photos', region)}"
            assert statement["Condition"] == s3_condition(region, bucket_arn)
    # Nothing else of the stack may use the data key: no other IAM policy names it.
    data_keys = {key_arn(hardened, "data", region) for region in REGIONS.values()}
    users = {hardened.outputs[role][RegionOut.AUTH_ROLE_ARN] for role in REGIONS}
    replication = {r.inputs["role"] for r in hardened.of_type(REPLICATION)}
    for policy in hardened.of_type(ROLE_POLICY):
        if any(arn in policy.inputs["policy"] for arn in data_keys):
            role = next(r for r in hardened.of_type(ROLE) if r.outputs["name"] == policy.inputs["role"])
            assert role.outputs["arn"] in users | replication, role.name


def test_alarm_topics_encrypt_with_the_ops_key_of_their_region(hardened):
    for topic in hardened.of_type(TOPIC):
        assert topic.inputs["kmsMasterKeyId"] == key_arn(hardened, "ops", topic.region)


def test_the_data_key_outlives_a_destroy_that_keeps_the_data_and_not_otherwise(hardened, tuned):
    for key in (*hardened.of_type(KEY), *hardened.of_type(REPLICA_KEY)):
        assert key.options["retain_on_delete"] is key.name.startswith("data-key"), key.name
    assert not any(k.options["retain_on_delete"] for k in (*tuned.of_type(KEY), *tuned.of_type(REPLICA_KEY)))


def test_baseline_uses_no_customer_managed_key(baseline):
    assert baseline.of_type(KEY) == baseline.of_type(REPLICA_KEY) == baseline.of_type(ALIAS) == []
    for region in REGIONS.values():
        for kind in ("photos", "site"):
            assert sse(baseline, bucket_named(baseline, kind, region))["applyServerSideEncryptionByDefault"] == {
                "sseAlgorithm": "AES256"}
    assert all("kms" not in json.dumps(p.inputs["policy"]) for p in baseline.of_type(ROLE_POLICY))


# -- logs and tracing ---------------------------------------------------------------------------------------------
def test_logs_are_kept_a_year_in_prod_a_month_in_baseline_or_as_configured(hardened, baseline, tuned):
    for run, days in ((hardened, 365), (baseline, 30), (tuned, 90)):
        assert {g.inputs["retentionInDays"] for g in run.of_type(LOG_GROUP)} == {float(days)}
        for region in REGIONS.values():
            for lifecycle in configuring(run, LIFECYCLE, bucket_named(run, "logs", region)):
                assert lifecycle.inputs["rules"][0]["expiration"] == {"days": float(days)}


def test_every_stage_is_traced_with_xray_in_hardened_only(hardened, baseline):
    assert [s.inputs["xrayTracingEnabled"] for s in hardened.of_type(STAGE)] == [True] * 4
    assert [s.inputs["xrayTracingEnabled"] for s in baseline.of_type(STAGE)] == [False] * 4


def test_photo_and_site_buckets_log_their_access_into_the_log_bucket_of_their_region(hardened):
    for region in REGIONS.values():
        log_bucket = bucket_named(hardened, "logs", region)
        for kind in ("photos", "site"):
            (logging,) = configuring(hardened, LOGGING, bucket_named(hardened, kind, region))
            assert (logging.region, logging.inputs["targetBucket"]) == (region, log_bucket)
            assert logging.inputs["targetPrefix"] == f"s3/{kind}/"
        assert configuring(hardened, LOGGING, log_bucket) == []  # a log bucket never logs into itself


def test_log_buckets_are_private_sse_s3_versioned_and_accept_logs_only_from_the_stacks_buckets(hardened):
    for region in REGIONS.values():
        name = bucket_named(hardened, "logs", region)
        arn = f"arn:aws:s3:::{name}"
        (bucket,) = [b for b in hardened.of_type(BUCKET) if b.inputs["bucket"] == name]
        assert bucket.region == region and bucket.options["retain_on_delete"] is True
        # S3 server access logging delivers only to SSE-S3 buckets.
        assert sse(hardened, name)["applyServerSideEncryptionByDefault"] == {"sseAlgorithm": "AES256"}
        block = configuring(hardened, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", name)[0]
        assert all(block.inputs[f] for f in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls",
                                              "restrictPublicBuckets"))
        assert configuring(hardened, VERSIONING, name)[0].inputs["versioningConfiguration"] == {"status": "Enabled"}
        (policy,) = configuring(hardened, BUCKET_POLICY, name)
        statements = statements_of(policy)
        assert statements["S3ServerAccessLogs"] == {
            "Sid": "S3ServerAccessLogs", "Effect": "Allow", "Principal": {"Service": "logging.s3.amazonaws.com"},
            "Action": "s3:PutObject", "Resource": f"{arn}/s3/*",
            "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}, "ArnLike": {"aws:SourceArn": sorted(
                f"arn:aws:s3:::{bucket_named(hardened, kind, region)}" for kind in ("photos", "site"))}},
        }
        assert statements["DenyInsecureTransport"]["Effect"] == "Deny"
        expected = {"S3ServerAccessLogs", "DenyInsecureTransport"}
        if region == PRIMARY:
            expected |= {"AWSLogDeliveryWrite", "AWSLogDeliveryAclCheck"}
        assert set(statements) == expected


def test_cloudfront_standard_logs_are_delivered_without_acls_to_the_primarys_log_bucket(hardened):
    distribution = distribution_of(hardened)
    assert "loggingConfig" not in distribution.inputs  # the legacy logging needs a bucket with ACLs
    (source,) = hardened.of_type(DELIVERY_SOURCE)
    (destination,) = hardened.of_type(DELIVERY_DESTINATION)
    (delivery,) = hardened.of_type(DELIVERY)
    assert {source.region, destination.region, delivery.region} == {"us-east-1"}
    assert (source.inputs["logType"], source.inputs["resourceArn"]) == ("ACCESS_LOGS", distribution.outputs["arn"])
    log_bucket = f"arn:aws:s3:::{bucket_named(hardened, 'logs', PRIMARY)}"
    assert destination.inputs["deliveryDestinationConfiguration"] == {"destinationResourceArn": log_bucket}
    assert (delivery.inputs["deliverySourceName"], delivery.inputs["deliveryDestinationArn"]) == (
        source.outputs["name"], destination.outputs["arn"])
    (policy,) = configuring(hardened, BUCKET_POLICY, bucket_named(hardened, "logs", PRIMARY))
    assert policy.urn in delivery.options["depends_on"]
    write = statements_of(policy)["AWSLogDeliveryWrite"]
    assert write["Principal"] == {"Service": "delivery.logs.amazonaws.com"}
    assert write["Resource"] == f"{log_bucket}/AWSLogs/{ACCOUNT}/*"
    assert write["Condition"] == {
        "StringEquals": {"aws:SourceAccount": ACCOUNT, "s3:x-amz-acl": "bucket-owner-full-control"},
        "ArnLike": {"aws:SourceArn": f"arn:aws:logs:us-east-1:{ACCOUNT}:*"},
    }


def test_a_stack_outside_us_east_1_gets_a_provider_there_for_cloudfronts_web_acl_and_logs(run_config):
    run = run_config({"aws:region": "eu-west-1", "secondaryRegion": "eu-central-1"})
    providers = {p.name: p.inputs["region"] for p in run.of_type(PROVIDER_TYPE)}
    assert providers == {"aws-primary": "eu-west-1", "aws-secondary": "eu-central-1", "aws-edge": "us-east-1"}
    assert one(run, WEB_ACL, "site-waf-acl").region == "us-east-1"
    assert {r.region for r in (*run.of_type(DELIVERY_SOURCE), *run.of_type(DELIVERY))} == {"us-east-1"}
    assert run.of_type(DELIVERY_DESTINATION)[0].inputs["deliveryDestinationConfiguration"] == {
        "destinationResourceArn": f"arn:aws:s3:::{PREFIX}-logs-eu-west-1-{ACCOUNT}"}
    assert {a.region for a in run.of_type(WEB_ACL) if a.inputs["scope"] == "REGIONAL"} == {"eu-west-1", "eu-central-1"}
    # The CloudFront ACL's logs are encrypted there too: the ops key gets a third replica, the others do not.
    replicas = {(k.name, k.region) for k in run.of_type(REPLICA_KEY)}
    assert ("ops-key-edge", "us-east-1") in replicas and len(replicas) == 4
    waf_logs = next(g for g in run.of_type(LOG_GROUP) if g.inputs["name"].endswith("site-waf"))
    assert waf_logs.region == "us-east-1" and waf_logs.inputs["kmsKeyId"].startswith("arn:aws:kms:us-east-1:")


def test_baseline_has_no_web_acl_no_log_bucket_and_no_extra_provider(baseline):
    for type_ in (WEB_ACL, WEB_ACL_ASSOCIATION, WEB_ACL_LOGGING, LOGGING, DELIVERY_SOURCE, DELIVERY_DESTINATION,
                  DELIVERY):
        assert baseline.of_type(type_) == [], type_
    assert not [b for b in baseline.of_type(BUCKET) if "-logs-" in b.inputs["bucket"]]
    assert "webAclId" not in distribution_of(baseline).inputs
    assert {p.name for p in baseline.of_type(PROVIDER_TYPE)} == {"aws-primary", "aws-secondary"}


# -- always on: site versions and bucket events --------------------------------------------------------------------
def test_site_buckets_are_versioned_and_their_old_versions_expire(baseline, tuned):
    for region in REGIONS.values():
        name = bucket_named(baseline, "site", region)
        (versioning,) = configuring(baseline, VERSIONING, name)
        (lifecycle,) = configuring(baseline, LIFECYCLE, name)
        assert versioning.inputs["versioningConfiguration"] == {"status": "Enabled"}
        assert versioning.urn in lifecycle.options["depends_on"]
        (rule,) = lifecycle.inputs["rules"]
        assert rule["noncurrentVersionExpiration"] == {"noncurrentDays": 30.0}
        assert rule["expiration"] == {"expiredObjectDeleteMarker": True}
    for region in REGIONS.values():
        (lifecycle,) = configuring(tuned, LIFECYCLE, bucket_named(tuned, "site", region))
        assert lifecycle.inputs["rules"][0]["noncurrentVersionExpiration"] == {"noncurrentDays": 7.0}


def test_every_bucket_sends_its_events_to_eventbridge(hardened):
    buckets = {b.inputs["bucket"] for b in hardened.of_type(BUCKET)}
    assert len(buckets) == 6  # photos, site, logs in each region
    assert {n.inputs["bucket"]: n.inputs["eventbridge"] for n in hardened.of_type(NOTIFICATION)} == dict.fromkeys(
        buckets, True)


def test_the_custom_domain_stays_the_one_origin_the_apis_allow(hardened):
    assert hardened.outputs[Out.SITE_URL] == f"https://{DOMAIN}"
    assert distribution_of(hardened).inputs["aliases"] == [DOMAIN]
