"""Keep-data destroy, then redeploy: config adoptRetained imports what `pulumi destroy` kept.

A keep-data destroy (retainData: true, the default) leaves the photo buckets (with their protections and
lifecycle), the tables, their replicas, the state item and the user pools in the account. Creating them
again fails ("already exists"); with adoptRetained the program registers each with Pulumi's `import`
option and an id derived from its deterministic name. The mock monitor records the RegisterResource
request's importId (harness/program.py)."""

from __future__ import annotations

import pytest

from components.contract import Out, Table
from components.global_tables import table_name
from components.identity import user_pool_name
from components.object_store import bucket_name
from harness.fake_cloud import ACCOUNT
from harness.program import ProgramRun
from tests.conftest import PRIMARY, SECONDARY, run_with

PREFIX = "multi-region-app-prod"
REGIONS = {"primary": PRIMARY, "secondary": SECONDARY}
BUCKET_SETTINGS = (
    "aws:s3/bucketVersioning:BucketVersioning",
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketPolicy:BucketPolicy",
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
)


@pytest.fixture(scope="module")
def adopting() -> ProgramRun:
    return run_with({"adoptRetained": "true"})


def imported(run: ProgramRun) -> dict[tuple[str, str], str]:
    """(type, name) -> import id of every resource registered with `import_`."""
    return {(r.type, r.name): r.options["import"] for r in run.resources if r.options.get("import")}


def retained(run: ProgramRun) -> set[tuple[str, str]]:
    return {(r.type, r.name) for r in run.resources if r.options["retain_on_delete"]}


def test_nothing_is_imported_by_default(prod):
    assert imported(prod) == {}


def test_everything_a_keep_data_destroy_keeps_is_adopted_and_nothing_else(adopting, prod):
    assert set(imported(adopting)) == retained(adopting) == retained(prod)


def test_kept_buckets_are_adopted_by_name_with_their_protections_and_lifecycle(adopting):
    ids = imported(adopting)
    for role, region in REGIONS.items():
        bucket = bucket_name(PREFIX, region, ACCOUNT)
        owned = [r for r in adopting.resources if r.name.startswith(f"photos-{role}")]
        assert ids[("aws:s3/bucket:Bucket", f"photos-{role}")] == bucket
        for type_ in BUCKET_SETTINGS:
            (setting,) = [r for r in owned if r.type == type_]
            assert ids[(type_, setting.name)] == bucket, type_
        # CORS is not kept (recreated on up), so never imported.
        (cors,) = [r for r in owned if r.type == "aws:s3/bucketCorsConfiguration:BucketCorsConfiguration"]
        assert (cors.type, cors.name) not in ids


def test_kept_buckets_keep_their_lifecycle_on_destroy(prod):
    for reg in prod.of_type("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"):
        if reg.name.startswith("photos-"):
            assert reg.options["retain_on_delete"] is True, reg.name


def test_tables_replicas_and_the_state_item_are_adopted_by_their_names(adopting):
    ids = imported(adopting)
    for reg in adopting.of_type("aws:dynamodb/table:Table"):
        assert ids[(reg.type, reg.name)] == reg.inputs["name"]
    replicas = {ids[(r.type, r.name)] for r in adopting.of_type("aws:dynamodb/tableReplica:TableReplica")}
    # A replica's import id names the main table's region, not the replica's.
    assert replicas == {f"{table_name(PREFIX, logical)}:{PRIMARY}" for logical in Table.KEYS}
    item = adopting.one("aws:dynamodb/tableItem:TableItem")
    assert ids[(item.type, item.name)] == f"{table_name(PREFIX, Table.APP_CONFIG)},{adopting.outputs[Out.APP_ID]}"
    # An import copies ignored inputs from the real item: the kept state (failover, its version) stays.
    assert item.options["ignore_changes"] == ["item"]


def test_user_pools_are_adopted_by_the_id_found_under_their_name(adopting):
    ids = imported(adopting)
    lookups = [args for token, args in adopting.invokes if token == "aws:cognito/getUserPools:getUserPools"]
    assert sorted(args["name"] for args in lookups) == sorted(user_pool_name(PREFIX, role) for role in REGIONS)
    for role, region in REGIONS.items():
        pool = adopting.one("aws:cognito/userPool:UserPool", f"identity-{role}")
        assert ids[(pool.type, pool.name)].startswith(f"{region}_")
        assert pool.region == region


def test_adopting_needs_no_other_change_to_the_program(adopting, prod):
    # Same resources, same inputs: an import that matches the program leaves nothing to update.
    def shape(run: ProgramRun) -> dict[tuple[str, str], dict]:
        # (file assets compare by identity: their paths stand for them)
        return {(r.type, r.name): {k: getattr(v, "path", v) for k, v in r.inputs.items()} for r in run.resources}

    assert shape(adopting) == shape(prod)
