"""Keep-data destroy, then redeploy: config adoptRetained imports what `pulumi destroy` kept, in both profiles.

A keep-data destroy (retainData: true, the default) leaves in the account the photo buckets (with their
protections and lifecycle), the tables, their replicas, the state item and the user pools; with the hardened
profile also the data key (primary, replica, aliases) that encrypts them, and the access-log buckets with their
settings. Creating them again fails ("already exists"); with adoptRetained the program registers each with
Pulumi's `import` option and the id the provider imports it by: a name, or for random ids what a lookup finds
(user pools by name, the key through its alias).

The keep-data cycle runs under mocks: the first run deploys, `FakeCloud.after_keep_data_destroy` is the account
that run's destroy leaves (only what it registered with retain_on_delete), and the adopting run must import
every kept resource by an id that names it, answer its lookups from what was kept, and create nothing kept again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pulumi
import pytest

from components.contract import Out, Table
from components.global_tables import table_name
from components.identity import user_pool_name
from components.kms import key_alias
from components.log_bucket import log_bucket_name
from components.object_store import bucket_name
from components.private_bucket import kept_bucket_import_id
from harness.fake_cloud import ACCOUNT, AlreadyExistsError, FakeCloud, ImportNotFoundError
from harness.program import ProgramRun, run_program, stack_config
from tests.conftest import PRIMARY, SECONDARY

PREFIX = "multi-region-app-prod"
REGIONS = {"primary": PRIMARY, "secondary": SECONDARY}
BUCKET = "aws:s3/bucket:Bucket"
KEY, REPLICA_KEY, ALIAS = "aws:kms/key:Key", "aws:kms/replicaKey:ReplicaKey", "aws:kms/alias:Alias"
LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
BUCKET_SETTINGS = (
    "aws:s3/bucketVersioning:BucketVersioning",
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketPolicy:BucketPolicy",
    LIFECYCLE,
)
# Settings that go with the stack on destroy and come back with it: never imported.
RECREATED_SETTINGS = (
    "aws:s3/bucketCorsConfiguration:BucketCorsConfiguration",
    "aws:s3/bucketNotification:BucketNotification",
    "aws:s3/bucketLogging:BucketLogging",
)


def config(profile: str, **overrides: str) -> dict[str, str]:
    """Pulumi.prod.yaml's config with securityProfile `profile` and project-key overrides."""
    values = {**stack_config("prod"), "multi-region-app:securityProfile": profile}
    return {**values, **{f"multi-region-app:{key}": value for key, value in overrides.items()}}


@dataclass
class Redeploy:
    """A deploy, its keep-data destroy, and the `pulumi up` with adoptRetained that follows."""

    profile: str
    first: ProgramRun
    account: FakeCloud  # what the destroy left, less what the adopting run imported
    adopting: ProgramRun


@pytest.fixture(scope="module")
def redeploys(prod, baseline) -> Callable[[str], Redeploy]:
    """profile -> its Redeploy, run once per module when first asked for."""
    done: dict[str, Redeploy] = {}

    def of(profile: str) -> Redeploy:
        if profile not in done:
            first = {"hardened": prod, "baseline": baseline}[profile]
            account = FakeCloud.after_keep_data_destroy(first)
            done[profile] = Redeploy(profile, first, account,
                                     run_program(account, config(profile, adoptRetained="true")))
        return done[profile]

    return of


@pytest.fixture(scope="module", params=["hardened", "baseline"])
def redeploy(request, redeploys) -> Redeploy:
    return redeploys(request.param)


@pytest.fixture(scope="module")
def hardened(redeploys) -> Redeploy:
    return redeploys("hardened")


def imported(run: ProgramRun) -> dict[tuple[str, str], str]:
    """(type, name) -> import id of every resource registered with `import_`."""
    return {(r.type, r.name): r.options["import"] for r in run.resources if r.options.get("import")}


def retained(run: ProgramRun) -> set[tuple[str, str]]:
    return {(r.type, r.name) for r in run.resources if r.options["retain_on_delete"]}


def owned_by(run: ProgramRun, bucket: str) -> list:
    return [r for r in run.resources if r.inputs.get("bucket") == bucket and r.type != BUCKET]


def test_nothing_is_imported_by_default(prod, baseline):
    assert imported(prod) == imported(baseline) == {}


def test_everything_a_keep_data_destroy_keeps_is_adopted_and_nothing_else(redeploy):
    assert set(imported(redeploy.adopting)) == retained(redeploy.adopting) == retained(redeploy.first)
    # Each import named a kept resource by the provider's import id, and every kept resource was claimed.
    assert redeploy.account.unadopted == {}


def test_a_redeploy_without_adopt_retained_fails_on_what_was_kept(prod):
    with pytest.raises(AlreadyExistsError, match="already exists"):
        run_program(FakeCloud.after_keep_data_destroy(prod), config("hardened"))


def test_kept_buckets_are_adopted_by_name_with_their_protections_and_lifecycle(redeploy):
    ids = imported(redeploy.adopting)
    for role, region in REGIONS.items():
        bucket = bucket_name(PREFIX, region, ACCOUNT)
        assert ids[(BUCKET, f"photos-{role}")] == bucket
        owned = owned_by(redeploy.adopting, bucket)
        for type_ in BUCKET_SETTINGS:
            (setting,) = [r for r in owned if r.type == type_]
            assert ids[(type_, setting.name)] == bucket, type_
        # CORS, event notifications and access logging are not kept (recreated on up), so never imported.
        assert [r for r in owned if r.type in RECREATED_SETTINGS and (r.type, r.name) in ids] == []


def test_kept_buckets_keep_their_lifecycle_on_destroy(prod, baseline):
    for run in (prod, baseline):
        for reg in run.of_type(LIFECYCLE):
            if reg.name.startswith(("photos-", "access-logs-")):
                assert reg.options["retain_on_delete"] is True, reg.name


def test_tables_replicas_and_the_state_item_are_adopted_by_their_names(redeploy):
    adopting = redeploy.adopting
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


def test_user_pools_are_adopted_by_the_id_found_under_their_name(redeploy):
    adopting = redeploy.adopting
    ids = imported(adopting)
    lookups = [args for token, args in adopting.invokes if token == "aws:cognito/getUserPools:getUserPools"]
    assert sorted(args["name"] for args in lookups) == sorted(user_pool_name(PREFIX, role) for role in REGIONS)
    for role, region in REGIONS.items():
        pool = adopting.one("aws:cognito/userPool:UserPool", f"identity-{role}")
        kept = redeploy.first.one("aws:cognito/userPool:UserPool", f"identity-{role}")
        assert ids[(pool.type, pool.name)] == kept.id
        assert pool.region == region


def test_the_kept_data_key_is_found_through_its_alias_and_adopted_with_its_replica_and_aliases(hardened):
    prod, adopting = hardened.first, hardened.adopting
    ids = imported(adopting)
    alias = key_alias(PREFIX, "data")
    lookups = [args for token, args in adopting.invokes if token == "aws:kms/getAlias:getAlias"]
    assert [args["name"] for args in lookups] == [alias]  # once: a multi-Region replica has its primary's id
    kept_key = prod.one(KEY, "data-key")
    assert ids[(KEY, "data-key-primary")] == ids[(REPLICA_KEY, "data-key-secondary")] == kept_key.id
    data_aliases = [a for a in adopting.of_type(ALIAS) if a.name.startswith("data-key")]
    assert {(a.region, ids[(a.type, a.name)]) for a in data_aliases} == {(r, alias) for r in REGIONS.values()}
    # The stack's other keys protect nothing kept: created anew, never imported.
    assert {r.name for r in (*adopting.of_type(KEY), *adopting.of_type(REPLICA_KEY)) if (r.type, r.name) in ids} == {
        "data-key-primary", "data-key-secondary"}
    # The kept tables and photos stay encrypted with the key they were written with.
    kept_arns = {r.region: r.outputs["arn"] for r in (kept_key, prod.one(REPLICA_KEY, "data-key"))}
    assert {r.region: r.outputs["arn"] for r in (adopting.one(KEY, "data-key"),
                                                 adopting.one(REPLICA_KEY, "data-key"))} == kept_arns
    for table in adopting.of_type("aws:dynamodb/table:Table"):
        assert table.inputs["serverSideEncryption"]["kmsKeyArn"] == kept_arns[PRIMARY]


def test_the_data_keys_aliases_are_kept_with_it_and_no_other_keys(prod):
    for reg in (*prod.of_type(KEY), *prod.of_type(REPLICA_KEY), *prod.of_type(ALIAS)):
        assert reg.options["retain_on_delete"] is reg.name.startswith("data-key-"), reg.name


def test_kept_log_buckets_are_adopted_by_name_with_the_settings_that_expire_their_logs(hardened):
    adopting = hardened.adopting
    ids = imported(adopting)
    for role, region in REGIONS.items():
        bucket = log_bucket_name(PREFIX, region, ACCOUNT)
        assert ids[(BUCKET, f"access-logs-{role}")] == bucket
        owned = owned_by(adopting, bucket)
        for type_ in BUCKET_SETTINGS:
            (setting,) = [r for r in owned if r.type == type_]
            assert ids[(type_, setting.name)] == bucket, type_
        assert [r for r in owned if r.type in RECREATED_SETTINGS and (r.type, r.name) in ids] == []


def test_adopting_a_key_that_was_never_kept_fails_at_its_lookup(baseline):
    # A baseline stack kept no key: adopt with the profile the stack was destroyed with, then change it.
    with pytest.raises(ImportNotFoundError, match=f"reading KMS Alias \\({key_alias(PREFIX, 'data')}\\)"):
        run_program(FakeCloud.after_keep_data_destroy(baseline), config("hardened", adoptRetained="true"))


def test_adopting_kept_buckets_needs_the_account_id_as_a_plain_string():
    # Import ids are plain strings; a bucket's name holds the account id (the program looks it up first).
    later = pulumi.Output.from_input(ACCOUNT)
    assert kept_bucket_import_id("AccessLogsArgs", False, later, str) is None
    assert kept_bucket_import_id("AccessLogsArgs", True, ACCOUNT, lambda account: f"b-{account}") == f"b-{ACCOUNT}"
    with pytest.raises(ValueError, match="^AccessLogsArgs.adopt_retained needs account_id as a plain string"):
        kept_bucket_import_id("AccessLogsArgs", True, later, str)


def test_adopting_needs_no_other_change_to_the_program(redeploy):
    # Same resources, same inputs: an import that matches the program leaves nothing to update.
    def shape(run: ProgramRun) -> dict[tuple[str, str], dict]:
        # (file assets compare by identity: their paths stand for them)
        return {(r.type, r.name): {k: getattr(v, "path", v) for k, v in r.inputs.items()} for r in run.resources}

    assert shape(redeploy.adopting) == shape(redeploy.first)
