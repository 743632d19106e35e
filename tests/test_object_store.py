"""The photo store: private versioned buckets in both regions, replicated both ways."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from harness.fake_cloud import ACCOUNT, FakeCloud
from harness.program import ProgramRun, Registration, run_program
from tests.conftest import PRIMARY, SECONDARY

PREFIX = "multi-region-app-prod"
COMPONENT = "multi-region-app:storage:ObjectStore"
BUCKET = "aws:s3/bucket:Bucket"
VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
REPLICATION = "aws:s3/bucketReplicationConfig:BucketReplicationConfig"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
CORS = "aws:s3/bucketCorsConfiguration:BucketCorsConfiguration"
LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
# Settings that protect the photos: they stay with a retained bucket.
PROTECTIONS = (
    VERSIONING,
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
    "aws:s3/bucketPolicy:BucketPolicy",
)


def bucket_name(region: str) -> str:
    return f"{PREFIX}-photos-{region}-{ACCOUNT}"


def store_children(run: ProgramRun) -> list[Registration]:
    return run.children(run.one(COMPONENT))


def photo_buckets(run: ProgramRun) -> dict[str, Registration]:
    """Region -> the photo bucket there."""
    buckets = [r for r in store_children(run) if r.type == BUCKET]
    return {r.region: r for r in buckets}


def setting(run: ProgramRun, type_: str, region: str) -> Registration:
    """The one `type_` configuring the photo bucket of `region`."""
    found = [r for r in run.of_type(type_) if r.inputs.get("bucket") == bucket_name(region)]
    assert len(found) == 1, (type_, region, [r.name for r in found])
    return found[0]


def replication_from(run: ProgramRun, region: str) -> Registration:
    return setting(run, REPLICATION, region)


def role_of(run: ProgramRun, replication: Registration) -> Registration:
    return next(r for r in run.of_type(ROLE) if r.outputs["arn"] == replication.inputs["role"])


def run_store(tmp_path: Path, **args: str) -> ProgramRun:
    """Run a program holding only an ObjectStore built with `args` (Python source per field)."""
    fields = {
        "prefix": '"app-test"',
        "regions": "regions",
        "account_id": f'"{ACCOUNT}"',
        "cors_origins": '["https://example.com"]',
        **args,
    }
    program = tmp_path / "__main__.py"
    program.write_text(
        textwrap.dedent(
            """
            import pulumi_aws as aws
            from components.object_store import ObjectStore, ObjectStoreArgs
            from components.regions import Region, RegionPair

            regions = RegionPair(
                Region("primary", "us-east-1", aws.Provider("p", region="us-east-1")),
                Region("secondary", "eu-west-1", aws.Provider("s", region="eu-west-1")),
            )
            """
        )
        + f"ObjectStore('photos', ObjectStoreArgs({', '.join(f'{k}={v}' for k, v in fields.items())}))\n"
    )
    return run_program(FakeCloud(), {}, program=program)


# -- buckets -------------------------------------------------------------------------------------
def test_each_region_has_one_photo_bucket_named_after_project_stack_region_and_account(prod):
    buckets = photo_buckets(prod)
    assert set(buckets) == {PRIMARY, SECONDARY}
    for region, bucket in buckets.items():
        name = bucket.inputs["bucket"]
        assert name == bucket_name(region)
        assert len(name) <= 63
    assert prod.outputs["primary"]["objectStoreBucketName"] == bucket_name(PRIMARY)
    assert prod.outputs["secondary"]["objectStoreBucketName"] == bucket_name(SECONDARY)


def test_longest_prefix_and_region_still_give_valid_bucket_and_role_names(run_config):
    run = run_config({"namePrefix": "a" * 24, "secondaryRegion": "ap-southeast-2"})
    names = [r.inputs["bucket"] for r in photo_buckets(run).values()]
    assert max(map(len, names)) <= 63
    roles = [r.inputs["name"] for r in run.children(run.one(COMPONENT)) if r.type == ROLE]
    assert len(roles) == 2 and max(map(len, roles)) <= 64


def test_every_child_is_deployed_in_the_region_of_the_bucket_it_configures(prod):
    children = store_children(prod)
    assert children and all(r.region in (PRIMARY, SECONDARY) for r in children)
    for reg in children:
        bucket = reg.inputs.get("bucket")
        if bucket:
            region = PRIMARY if bucket == bucket_name(PRIMARY) else SECONDARY
            assert bucket == bucket_name(region), reg.name
            assert reg.region == region, reg.name


def test_buckets_are_versioned_encrypted_private_and_without_acls(prod, baseline):
    for region in (PRIMARY, SECONDARY):
        versioning = setting(prod, VERSIONING, region)
        assert versioning.inputs["versioningConfiguration"] == {"status": "Enabled"}
        # SSE-S3 in baseline; the hardened profile's customer managed key: tests/test_hardened.py.
        encryption = setting(baseline, PROTECTIONS[1], region)
        assert encryption.inputs["rules"] == [
            {"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}, "bucketKeyEnabled": True}
        ]
        block = setting(prod, PROTECTIONS[2], region)
        for flag in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"):
            assert block.inputs[flag] is True, flag
        ownership = setting(prod, PROTECTIONS[3], region)
        assert ownership.inputs["rule"] == {"objectOwnership": "BucketOwnerEnforced"}


def bucket_policy_statements(run: ProgramRun, region: str) -> dict[str, dict]:
    policy = setting(run, "aws:s3/bucketPolicy:BucketPolicy", region)
    return {s["Sid"]: s for s in json.loads(policy.inputs["policy"])["Statement"]}


def test_buckets_refuse_requests_without_tls(prod):
    for region in (PRIMARY, SECONDARY):
        arn = f"arn:aws:s3:::{bucket_name(region)}"
        assert bucket_policy_statements(prod, region)["DenyInsecureTransport"] == {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [arn, f"{arn}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }
        # Applied after the public access block, which S3 checks new policies against.
        policy = setting(prod, "aws:s3/bucketPolicy:BucketPolicy", region)
        block = setting(prod, PROTECTIONS[2], region)
        assert block.urn in policy.options["depends_on"]


def test_bucket_policies_deny_the_app_users_roles_any_overwrite_or_delete(prod):
    app_roles = [f"arn:aws:iam::{ACCOUNT}:role/{PREFIX}-app-users-{r}" for r in (PRIMARY, SECONDARY)]
    # The roles the identity component creates are exactly the ones named (known before they exist).
    created = sorted(r.outputs["arn"] for r in prod.of_type(ROLE) if "-authenticated" in r.name)
    assert created == sorted(app_roles)
    by_app_users = {"ArnEquals": {"aws:PrincipalArn": app_roles}}
    for region in (PRIMARY, SECONDARY):
        objects = f"arn:aws:s3:::{bucket_name(region)}/*"
        statements = bucket_policy_statements(prod, region)
        assert set(statements) == {"DenyInsecureTransport", "DenyAppUsersWritesWithoutIfNoneMatch",
                                   "DenyAppUsersOverwrites", "DenyAppUsersDeletes"}
        # Without If-None-Match, and with any other value: each its own statement, so the denial holds
        # whether or not a negated operator matches an absent key.
        assert statements["DenyAppUsersWritesWithoutIfNoneMatch"] == {
            "Sid": "DenyAppUsersWritesWithoutIfNoneMatch", "Effect": "Deny", "Principal": "*",
            "Action": "s3:PutObject", "Resource": objects,
            "Condition": {**by_app_users, "Null": {"s3:if-none-match": "true"}}}
        assert statements["DenyAppUsersOverwrites"] == {
            "Sid": "DenyAppUsersOverwrites", "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject",
            "Resource": objects, "Condition": {**by_app_users, "StringNotEquals": {"s3:if-none-match": "*"}}}
        assert statements["DenyAppUsersDeletes"] == {
            "Sid": "DenyAppUsersDeletes", "Effect": "Deny", "Principal": "*", "Action": "s3:DeleteObject*",
            "Resource": objects, "Condition": by_app_users}


def test_replication_is_not_hindered_by_the_app_users_denials(prod):
    for region in (PRIMARY, SECONDARY):
        replication = replication_from(prod, region)
        role_arn = role_of(prod, replication).outputs["arn"]
        for sid, statement in bucket_policy_statements(prod, region).items():
            if sid == "DenyInsecureTransport":
                continue
            # Only the app users' roles are named; replicas arrive through s3:ReplicateObject anyway.
            assert role_arn not in statement["Condition"]["ArnEquals"]["aws:PrincipalArn"]
            assert not any(a.startswith("s3:Replicate") for a in [statement["Action"]])


def test_the_bucket_policy_keeps_its_old_name_as_an_alias_so_it_is_updated_in_place(prod):
    for region, role in ((PRIMARY, "primary"), (SECONDARY, "secondary")):
        policy = setting(prod, "aws:s3/bucketPolicy:BucketPolicy", region)
        assert policy.name == f"photos-{role}-policy"
        assert any(f"photos-{role}-tls-only" in str(alias) for alias in policy.options.get("aliases") or [])


# -- CORS ------------------------------------------------------------------------------------------
def test_cors_allows_only_the_site_origin_by_default(prod):
    for region in (PRIMARY, SECONDARY):
        (rule,) = setting(prod, CORS, region).inputs["corsRules"]
        assert rule["allowedOrigins"] == [prod.outputs["siteUrl"]]
        assert sorted(rule["allowedMethods"]) == ["GET", "HEAD", "PUT"]
        assert rule["exposeHeaders"] == ["ETag", "x-amz-version-id"]
        assert rule["maxAgeSeconds"] > 0
        headers = {h.lower() for h in rule["allowedHeaders"]}
        assert "*" not in headers
        assert {"authorization", "content-type", "x-amz-date", "x-amz-security-token",
                "x-amz-content-sha256", "if-none-match"} <= headers


def test_cors_also_allows_configured_site_origins(run_config):
    run = run_config({"siteOrigins": '["http://localhost:5173"]'})
    for region in (PRIMARY, SECONDARY):
        (rule,) = setting(run, CORS, region).inputs["corsRules"]
        assert rule["allowedOrigins"] == [run.outputs["siteUrl"], "http://localhost:5173"]


def test_api_origin_is_what_the_apis_allow_and_the_buckets_allow_it_too(run_config):
    run = run_config({"apiOrigin": "http://127.0.0.1:8080", "siteOrigins": '["http://127.0.0.1:8080"]'})
    for region in (PRIMARY, SECONDARY):
        (rule,) = setting(run, CORS, region).inputs["corsRules"]
        assert rule["allowedOrigins"] == [run.outputs["siteUrl"], "http://127.0.0.1:8080"]
    answers = [r for r in run.of_type("aws:apigateway/integrationResponse:IntegrationResponse")]
    assert answers and all(
        r.inputs["responseParameters"]["method.response.header.Access-Control-Allow-Origin"]
        == "'http://127.0.0.1:8080'" for r in answers)


# -- lifecycle --------------------------------------------------------------------------------------
def test_lifecycle_expires_old_versions_stale_uploads_and_orphan_delete_markers(prod):
    for region in (PRIMARY, SECONDARY):
        (rule,) = setting(prod, LIFECYCLE, region).inputs["rules"]
        assert rule["status"] == "Enabled"
        assert rule["filter"] == {}  # whole bucket
        assert rule["noncurrentVersionExpiration"] == {"noncurrentDays": 30.0}
        assert rule["abortIncompleteMultipartUpload"] == {"daysAfterInitiation": 7.0}
        assert rule["expiration"] == {"expiredObjectDeleteMarker": True}


def test_noncurrent_version_days_follows_config(run_config):
    run = run_config({"noncurrentVersionDays": "90"})
    (rule,) = setting(run, LIFECYCLE, PRIMARY).inputs["rules"]
    assert rule["noncurrentVersionExpiration"] == {"noncurrentDays": 90.0}


# -- replication -----------------------------------------------------------------------------------
def test_photos_replicate_in_both_directions(prod):
    for source, destination in ((PRIMARY, SECONDARY), (SECONDARY, PRIMARY)):
        replication = replication_from(prod, source)
        assert replication.region == source
        (rule,) = replication.inputs["rules"]
        assert rule["destination"]["bucket"] == f"arn:aws:s3:::{bucket_name(destination)}"
    assert len(prod.of_type(REPLICATION)) == 2


def test_replication_rule_has_rtc_metrics_delete_markers_replica_modifications_and_photo_prefix(baseline):
    for source in (PRIMARY, SECONDARY):
        (rule,) = replication_from(baseline, source).inputs["rules"]
        assert rule["status"] == "Enabled"
        assert rule["id"] and rule["priority"] == 1.0
        assert rule["filter"] == {"prefix": "public/"}
        assert rule["deleteMarkerReplication"] == {"status": "Enabled"}
        assert rule["sourceSelectionCriteria"] == {"replicaModifications": {"status": "Enabled"}}
        destination = rule["destination"]
        assert destination["storageClass"] == "STANDARD"
        assert destination["replicationTime"] == {"status": "Enabled", "time": {"minutes": 15.0}}
        assert destination["metrics"] == {"status": "Enabled", "eventThreshold": {"minutes": 15.0}}


def test_replication_waits_for_versioning_on_both_buckets(prod):
    versionings = {setting(prod, VERSIONING, region).urn for region in (PRIMARY, SECONDARY)}
    for source in (PRIMARY, SECONDARY):
        assert versionings <= set(replication_from(prod, source).options["depends_on"])


def test_replication_roles_are_assumed_only_by_s3_for_this_account_and_created_in_the_source_region(prod):
    roles = set()
    for source in (PRIMARY, SECONDARY):
        role = role_of(prod, replication_from(prod, source))
        roles.add(role.urn)
        assert role.region == source
        assert role.inputs["name"].startswith(PREFIX) and len(role.inputs["name"]) <= 64
        trust = json.loads(role.inputs["assumeRolePolicy"])
        # Confused deputy: S3 may not replicate another account's bucket with this role. S3 does not document the
        # key for replication: IfExists, so a request without it still replicates (components/service_principals.py).
        assert trust["Statement"] == [
            {"Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"}, "Action": "sts:AssumeRole",
             "Condition": {"StringEqualsIfExists": {"aws:SourceAccount": ACCOUNT}}}
        ]
    assert len(roles) == 2  # one per direction


def test_replication_roles_grant_exactly_the_replication_actions(baseline):
    """Without customer managed keys; with them, the key grants are added (tests/test_hardened.py)."""
    for source, destination in ((PRIMARY, SECONDARY), (SECONDARY, PRIMARY)):
        replication = replication_from(baseline, source)
        role = role_of(baseline, replication)
        policies = [r for r in baseline.of_type(ROLE_POLICY) if r.inputs["role"] == role.outputs["name"]]
        assert len(policies) == 1
        assert policies[0].urn in replication.options["depends_on"]  # granted before S3 checks it
        source_arn, destination_arn = (f"arn:aws:s3:::{bucket_name(r)}" for r in (source, destination))
        grants = set()
        for statement in json.loads(policies[0].inputs["policy"])["Statement"]:
            assert statement["Effect"] == "Allow"
            resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            for action in statement["Action"]:
                assert "*" not in action
                grants |= {(action, resource) for resource in resources}
        assert grants == {
            ("s3:GetReplicationConfiguration", source_arn),
            ("s3:ListBucket", source_arn),
            ("s3:GetObjectVersionForReplication", f"{source_arn}/public/*"),
            ("s3:GetObjectVersionAcl", f"{source_arn}/public/*"),
            ("s3:GetObjectVersionTagging", f"{source_arn}/public/*"),
            ("s3:ReplicateObject", f"{destination_arn}/public/*"),
            ("s3:ReplicateDelete", f"{destination_arn}/public/*"),
            ("s3:ReplicateTags", f"{destination_arn}/public/*"),
        }


# -- destroy behaviour ------------------------------------------------------------------------------
def test_buckets_and_their_protections_survive_destroy_by_default(prod):
    for region, bucket in photo_buckets(prod).items():
        assert bucket.options["retain_on_delete"] is True
        assert bucket.inputs["forceDestroy"] is False
        for type_ in PROTECTIONS:
            assert setting(prod, type_, region).options["retain_on_delete"] is True, type_


def test_without_retain_data_destroy_removes_buckets_and_their_photos(run_config):
    run = run_config({"retainData": "false"})
    for region, bucket in photo_buckets(run).items():
        assert bucket.options["retain_on_delete"] is False
        assert bucket.inputs["forceDestroy"] is True
        for type_ in PROTECTIONS:
            assert setting(run, type_, region).options["retain_on_delete"] is False, type_


# -- invalid arguments --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("args", "named"),
    [
        ({"cors_origins": "[]"}, "cors_origins"),
        ({"noncurrent_version_days": "0"}, "noncurrent_version_days"),
        ({"prefix": '""'}, "prefix"),
        ({"prefix": '"' + "p" * 40 + '"'}, "prefix"),
    ],
)
def test_invalid_arguments_fail_naming_the_argument(tmp_path, args, named):
    with pytest.raises(ValueError, match=named):
        run_store(tmp_path, **args)


def test_valid_arguments_build_the_store(tmp_path):
    run = run_store(tmp_path)
    assert {r.inputs["bucket"] for r in run.of_type(BUCKET)} == {
        f"app-test-photos-us-east-1-{ACCOUNT}",
        f"app-test-photos-eu-west-1-{ACCOUNT}",
    }
