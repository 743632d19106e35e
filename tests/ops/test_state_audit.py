"""`state history` (the audit trail, newest first) and `state migrate` (legacy history lists out of the
state item), against both regions in moto; tables people read fit 80 columns and show times in UTC."""

from __future__ import annotations

import json
import re

from components.contract import StateItem


def switch_a_few_times(ops) -> None:
    for state in ("fenced", "failover", "fenced", "active"):
        assert ops("state", "set", state, "--reason", f"to {state}").exit_code == 0


def test_history_lists_the_switches_newest_first(ops, world):
    switch_a_few_times(ops)
    result = ops("state", "history", "--json")
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert answer["region"] == world.primary
    assert [(r["from"], r["to"]) for r in answer["records"]] == [
        ("fenced", "active"), ("failover", "fenced"), ("fenced", "failover"), ("active", "fenced")]
    assert all(isinstance(r["at"], int) and r["by"].startswith("arn:aws:") for r in answer["records"])  # machine values


def test_history_limit_keeps_the_newest(ops, world):
    switch_a_few_times(ops)
    answer = json.loads(ops("state", "history", "--limit", "2", "--json").stdout)
    assert [r["to"] for r in answer["records"]] == ["active", "fenced"]


def test_history_table_shows_utc_times_and_fits_80_columns(ops, world):
    switch_a_few_times(ops)
    result = ops("state", "history")
    assert result.exit_code == 0 and result.stdout == ""
    assert "at (UTC)" in result.stderr
    assert re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", result.stderr)
    assert "fenced -> active" in result.stderr
    assert max(len(line) for line in result.stderr.splitlines()) <= 80
    assert result.stderr.count("stack prod") == 1


def test_history_reads_the_secondarys_replica_when_the_primary_is_down(ops, world):
    assert ops("state", "set", "fenced", "--via", "secondary").exit_code == 0
    world.factory.down.add(world.primary)
    result = ops("state", "history", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["region"] == world.secondary
    assert "reading the secondary's replica" in result.stderr


def test_history_exits_4_when_no_region_answers(ops, world):
    world.factory.down.update({world.primary, world.secondary})
    assert ops("state", "history").exit_code == 4


def test_state_get_table_shows_utc_times_fits_80_columns_and_names_the_target_once(ops, world):
    assert ops("state", "set", "fenced").exit_code == 0
    result = ops("state", "get")
    assert "updated (UTC)" in result.stderr and re.search(r"T\d\d:\d\d:\d\dZ", result.stderr)
    table_lines = [line for line in result.stderr.splitlines() if not line.startswith("warning:")]
    assert max(len(line) for line in table_lines) <= 80
    assert result.stderr.count("stack prod") == 1
    data = json.loads(ops("state", "get", "--json").stdout)
    assert isinstance(data["regions"]["primary"]["updatedAt"], int)


# -- migrate ------------------------------------------------------------------------------------------------
LEGACY = [
    {"from": "active", "to": "fenced", "at": 1_767_225_600_000, "by": "arn:aws:sts::1:assumed-role/op/alice",
     "via": "primary", "region": "us-east-1", "tool": "ops", "reason": "drill"},
    {"to": "failover", "at": 1_767_225_601_000, "by": "arn:aws:sts::1:assumed-role/op/bob", "via": "api"},
    {"from": "fenced", "to": "failover", "at": 1_767_225_602_000, "by": "auto-failover", "via": "auto-failover"},
]


def give_legacy_history(world, version: int = 4) -> None:
    from boto3.dynamodb.types import TypeSerializer

    item = {"appId": world.outputs["appId"], "state": "failover", "version": version, "updatedAt": 1_767_225_602_000,
            "updatedBy": "auto-failover", "history": LEGACY}
    world.ddb("primary").put_item(TableName=world.table("appConfig"),
                                  Item={k: TypeSerializer().serialize(v) for k, v in item.items()})


def test_state_get_points_at_migrate_while_a_legacy_history_list_remains(ops, world):
    give_legacy_history(world)
    result = ops("state", "get", "--json")
    assert json.loads(result.stdout)["regions"]["primary"]["legacyHistory"] == 3
    assert "3 legacy history entries" in result.stderr and "state migrate" in result.stderr


def test_migrate_is_a_dry_run_by_default(ops, world):
    give_legacy_history(world)
    result = ops("state", "migrate")
    assert result.exit_code == 0, result.output
    assert "dry run: 3 history entries" in result.stderr and "--apply" in result.stderr
    assert len(world.state_item("primary")["history"]) == 3 and world.audit("primary") == []


def test_migrate_apply_moves_every_entry_to_a_record_and_empties_the_item(ops, world):
    give_legacy_history(world)
    result = ops("state", "migrate", "--apply", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["written"] == 3
    item = world.state_item("primary")
    assert set(item) == set(StateItem.ATTRIBUTES) and (item["state"], item["version"]) == ("failover", 4)
    records = world.audit("primary")
    assert [(r.get("from"), r["to"], r["fromVersion"], r["tool"], r["via"]) for r in records] == [
        ("active", "fenced", 1, "ops", "primary"),
        (None, "failover", 2, "api", "unknown"),
        ("fenced", "failover", 3, "auto-failover", "unknown"),
    ]
    assert records[0]["reason"] == "drill" and all(r["migrated"] for r in records)
    history = json.loads(ops("state", "history", "--json").stdout)["records"]
    assert [r["at"] for r in history] == sorted((e["at"] for e in LEGACY), reverse=True)


def test_migrate_again_writes_nothing_twice(ops, world):
    give_legacy_history(world)
    # A first run wrote the records but the item changed before the list could go (another switch).
    world.factory.before_update = lambda: give_legacy_history(world, version=5)
    first = ops("state", "migrate", "--apply", "--json")
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout) | {"region": None} == {
        "region": None, "entries": 3, "itemBytes": json.loads(first.stdout)["itemBytes"], "written": 0,
        "alreadyThere": 3, "removed": True, "applied": True}
    assert len(world.audit("primary")) == 3
    assert "history" not in world.state_item("primary")
    again = ops("state", "migrate", "--apply")
    assert again.exit_code == 0 and "no history list" in again.stderr


def test_migrate_without_a_history_list_has_nothing_to_do(ops, world):
    result = ops("state", "migrate", "--apply")
    assert result.exit_code == 0
    assert "has no history list" in result.stderr
