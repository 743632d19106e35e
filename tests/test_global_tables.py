"""The global tables (primary table + secondary replica) and the initial routing state."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from components.contract import Table
from harness.fake_cloud import ACCOUNT, FakeCloud
from harness.program import ProgramRun, Registration, run_program
from tests.conftest import PRIMARY, SECONDARY

PREFIX = "multi-region-app-prod"
COMPONENT = "multi-region-app:data:GlobalTables"
TABLE = "aws:dynamodb/table:Table"
REPLICA = "aws:dynamodb/tableReplica:TableReplica"
ITEM = "aws:dynamodb/tableItem:TableItem"
PHYSICAL = {"appConfig": f"{PREFIX}-app-config", "comments": f"{PREFIX}-comments", "photos": f"{PREFIX}-photos",
            "stateAudit": f"{PREFIX}-state-audit"}


def tables(run: ProgramRun) -> dict[str, Registration]:
    """Physical name -> table."""
    return {r.inputs["name"]: r for r in run.of_type(TABLE)}


def replica_of(run: ProgramRun, table: Registration) -> Registration:
    found = [r for r in run.of_type(REPLICA) if r.inputs["globalTableArn"] == table.outputs["arn"]]
    assert len(found) == 1, table.name
    return found[0]


def run_tables(tmp_path: Path, prefix: str = "app-test", app_id: str = "app-1") -> ProgramRun:
    """Run a program holding only GlobalTables, exporting arns_in() of both regions."""
    program = tmp_path / "__main__.py"
    program.write_text(
        textwrap.dedent(
            f"""
            import pulumi
            import pulumi_aws as aws
            from components.global_tables import GlobalTables, GlobalTablesArgs
            from components.regions import Region, RegionPair

            regions = RegionPair(
                Region("primary", "us-east-1", aws.Provider("p", region="us-east-1")),
                Region("secondary", "eu-west-1", aws.Provider("s", region="eu-west-1")),
            )
            tables = GlobalTables("tables", GlobalTablesArgs(prefix={prefix!r}, regions=regions, app_id={app_id!r}))
            for region in regions:
                pulumi.export(region.role, tables.arns_in(region, "{ACCOUNT}"))
            """
        )
    )
    return run_program(FakeCloud(), {}, program=program)


def test_every_table_lives_in_the_primary_and_is_replicated_to_the_secondary(prod):
    found = tables(prod)
    assert set(found) == set(PHYSICAL.values())
    for table in found.values():
        assert table.region == PRIMARY
        assert "replicas" not in table.inputs  # the TableReplica owns the secondary copy
        replica = replica_of(prod, table)
        assert replica.region == SECONDARY
        assert replica.provider and replica.provider != table.provider
    assert len(prod.of_type(REPLICA)) == len(PHYSICAL)


def test_every_child_of_the_component_has_an_explicit_region(prod):
    children = prod.children(prod.one(COMPONENT))
    assert {r.type for r in children} == {TABLE, REPLICA, ITEM}
    assert all(r.region in (PRIMARY, SECONDARY) for r in children)


def test_tables_output_maps_logical_to_physical_names(prod):
    assert prod.outputs["tables"] == PHYSICAL


def test_key_schemas_serve_each_read_with_one_query(prod):
    found = tables(prod)
    # AppConfig: one item per app. Comments: one partition per photo, sorted by creation time.
    # Photos: one gallery partition, sort key starts with the upload time (read backwards: newest first).
    expected = {
        PHYSICAL["appConfig"]: ("appId", None),
        PHYSICAL["comments"]: ("photoId", "commentKey"),
        PHYSICAL["photos"]: ("gallery", "photoKey"),
        # stateAudit: one record per switch, the app's records in one partition, read newest first.
        PHYSICAL["stateAudit"]: ("appId", "auditKey"),
    }
    for name, (hash_key, range_key) in expected.items():
        table = found[name]
        assert table.inputs["hashKey"] == hash_key
        assert table.inputs.get("rangeKey") == range_key
        keys = [k for k in (hash_key, range_key) if k]
        assert table.inputs["attributes"] == [{"name": k, "type": "S"} for k in keys]
    assert {Table.KEYS[logical] for logical in PHYSICAL} == set(expected.values())


def test_tables_are_on_demand_streamed_recoverable_encrypted_and_protected(prod):
    for table in tables(prod).values():
        inputs = table.inputs
        assert inputs["billingMode"] == "PAY_PER_REQUEST"
        assert inputs["streamEnabled"] is True
        assert inputs["streamViewType"] == "NEW_AND_OLD_IMAGES"  # required by global tables
        assert inputs["pointInTimeRecovery"] == {"enabled": True}
        assert inputs["serverSideEncryption"]["enabled"] is True  # the key: tests/test_hardened.py
        assert inputs["deletionProtectionEnabled"] is True
        assert table.options["ignore_changes"] == ["replicas"]
        assert table.options["retain_on_delete"] is True


def test_replicas_are_recoverable_protected_and_retained(prod):
    for table in tables(prod).values():
        replica = replica_of(prod, table)
        assert replica.inputs["pointInTimeRecovery"] is True
        assert replica.inputs["deletionProtectionEnabled"] is True
        assert replica.options["retain_on_delete"] is True


def test_initial_state_is_active_in_the_app_config_table(prod):
    item = prod.one(ITEM)
    assert item.region == PRIMARY
    assert item.inputs["tableName"] == PHYSICAL["appConfig"]
    assert item.inputs["hashKey"] == "appId"
    assert json.loads(item.inputs["item"]) == {
        "appId": {"S": prod.outputs["appId"]},
        "state": {"S": "active"},
        "version": {"N": "1"},
    }


def test_a_later_deploy_never_reverts_a_state_switched_by_operators(prod):
    item = prod.one(ITEM)
    assert item.options["ignore_changes"] == ["item"]
    assert item.options["retain_on_delete"] is True


def test_state_item_is_written_once_the_app_config_replica_exists(prod):
    item = prod.one(ITEM)
    replica = replica_of(prod, tables(prod)[PHYSICAL["appConfig"]])
    assert replica.urn in item.options["depends_on"]


def test_without_retain_data_tables_replicas_and_state_are_deletable(run_config):
    run = run_config({"retainData": "false"})
    for table in tables(run).values():
        assert table.inputs["deletionProtectionEnabled"] is False
        assert table.options["retain_on_delete"] is False
        replica = replica_of(run, table)
        assert replica.inputs["deletionProtectionEnabled"] is False
        assert replica.options["retain_on_delete"] is False
    assert run.one(ITEM).options["retain_on_delete"] is False


def test_arns_in_gives_each_region_its_own_table_arns(tmp_path):
    run = run_tables(tmp_path)
    for role, region in (("primary", "us-east-1"), ("secondary", "eu-west-1")):
        assert run.outputs[role] == {
            "appConfig": f"arn:aws:dynamodb:{region}:{ACCOUNT}:table/app-test-app-config",
            "comments": f"arn:aws:dynamodb:{region}:{ACCOUNT}:table/app-test-comments",
            "photos": f"arn:aws:dynamodb:{region}:{ACCOUNT}:table/app-test-photos",
            "stateAudit": f"arn:aws:dynamodb:{region}:{ACCOUNT}:table/app-test-state-audit",
        }


@pytest.mark.parametrize(("kwargs", "named"), [({"prefix": ""}, "prefix"), ({"app_id": ""}, "app_id")])
def test_invalid_arguments_fail_naming_the_argument(tmp_path, kwargs, named):
    with pytest.raises(ValueError, match=named):
        run_tables(tmp_path, **kwargs)
