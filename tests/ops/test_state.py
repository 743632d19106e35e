"""`state get` / `state set` against both regions in moto."""

from __future__ import annotations

import json

from components.contract import StateItem
from tests.ops.conftest import STACK


def test_state_get_reads_both_regions_and_reports_agreement(ops, world):
    result = ops("state", "get", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["consistent"] is True
    assert {role: (r["region"], r["state"], r["version"]) for role, r in data["regions"].items()} == {
        "primary": (world.primary, "active", 1),
        "secondary": (world.secondary, "active", 1),
    }
    assert "warning" not in result.stderr


def test_state_get_human_table_goes_to_stderr(ops, world):
    result = ops("state", "get")
    assert result.exit_code == 0
    assert result.stdout == ""
    assert world.primary in result.stderr and world.secondary in result.stderr and "active" in result.stderr


def test_state_get_reports_disagreement_with_exit_0(ops, world):
    world.put_state("secondary", "fenced", 2)
    result = ops("state", "get", "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["consistent"] is False
    assert ("warning: regions disagree: primary active (version 1), secondary fenced (version 2). "
            "Replication may be in flight: run again in a few seconds") in result.stderr


def test_state_get_reports_an_unreachable_region_instead_of_crashing(ops, world):
    world.factory.down.add(world.primary)
    result = ops("state", "get", "--json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["regions"]["primary"]["reachable"] is False
    assert data["regions"]["secondary"]["state"] == "active"
    assert data["consistent"] is None
    assert f"warning: primary region {world.primary} unreachable: Could not connect" in result.stderr


def test_state_get_exits_4_when_no_region_answers(ops, world):
    world.factory.down.update({world.primary, world.secondary})
    result = ops("state", "get")
    assert result.exit_code == 4
    assert result.stderr.endswith("error: no region answered\n")


def test_state_set_writes_the_item_and_its_audit_record_through_the_primary(ops, world):
    result = ops("state", "set", "fenced", "--reason", "drill", "--json")
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert {k: v for k, v in answer.items() if k != "auditKey"} == {
        "changed": True, "from": "active", "to": "fenced", "version": 2, "via": "primary", "region": world.primary,
        "fallback": False}
    item = world.state_item("primary")
    assert set(item) == set(StateItem.ATTRIBUTES)  # constant size: no history inside
    assert (item["state"], item["version"]) == ("fenced", 2)
    assert item["updatedBy"].startswith("arn:aws:") and item["updatedAt"] > 1_600_000_000_000
    [record] = world.audit("primary")
    assert record == {"appId": world.outputs["appId"], "auditKey": answer["auditKey"], "from": "active",
                      "to": "fenced", "fromVersion": 1, "at": item["updatedAt"], "by": item["updatedBy"],
                      "tool": "ops", "via": "primary", "reason": "drill"}
    assert record["auditKey"].startswith(f"{item['updatedAt']:013d}-")
    # Without global-table replication in moto, the secondary is untouched: the write went to one region.
    assert world.state_item("secondary")["state"] == "active" and world.audit("secondary") == []


def test_state_set_records_every_switch_and_the_item_keeps_its_size(ops, world):
    sizes = []
    for state in ("fenced", "failover", "fenced", "active") * 3:
        assert ops("state", "set", state, "--reason", "a reason with some length to it").exit_code == 0
        item = world.state_item("primary")
        sizes.append(len(json.dumps(item)) - len(item["state"]) - len(str(item["version"])))
    assert len(set(sizes)) == 1
    records = world.audit("primary")
    assert [(r["from"], r["to"], r["fromVersion"]) for r in records[:4]] == [
        ("active", "fenced", 1), ("fenced", "failover", 2), ("failover", "fenced", 3), ("fenced", "active", 4)]
    assert len(records) == 12 and world.state_item("primary")["version"] == 13


def test_state_set_same_state_is_a_noop(ops, world):
    result = ops("state", "set", "active")
    assert result.exit_code == 0
    assert f"state is already active in {world.primary} (version 1): nothing to do" in result.stderr
    assert world.audit("primary") == []


def test_state_set_refuses_a_risky_jump_then_allows_it_with_force(ops, world):
    refused = ops("state", "set", "failover")
    assert refused.exit_code == 3
    assert refused.stderr.startswith("error: refusing active -> failover without passing through fenced: writes the "
                                     "primary accepted may still be replicating")
    assert "--force" in refused.stderr
    assert world.state_item("primary")["state"] == "active" and world.audit("primary") == []

    forced = ops("state", "set", "failover", "--force")
    assert forced.exit_code == 0
    assert world.state_item("primary")["state"] == "failover"
    assert world.audit("primary")[-1]["forced"] is True


def test_state_set_refuses_failover_to_active_without_fenced(ops, world):
    world.put_both("failover", 3)
    result = ops("state", "set", "active")
    assert result.exit_code == 3
    assert "refusing failover -> active without passing through fenced: writes the secondary accepted" in result.stderr


def test_state_set_conflict_when_the_state_changes_between_read_and_write(ops, world):
    # Another operator switches to fenced after our read, before our transaction.
    world.factory.before_update = lambda: world.put_state("primary", "fenced", 2)
    result = ops("state", "set", "fenced")
    assert result.exit_code == 3
    assert result.stderr == (
        f"error: state changed concurrently in {world.primary}: read active (version 1), now fenced (version 2); "
        "nothing written. Check `state get` and try again\n"
    )
    assert world.state_item("primary")["version"] == 2
    assert world.audit("primary") == []  # one transaction: no record of a switch that did not happen


def test_state_set_warns_about_a_legacy_history_list_and_leaves_it_for_migrate(ops, world):
    world.ddb("primary").update_item(
        TableName=world.table("appConfig"), Key={"appId": {"S": world.outputs["appId"]}},
        UpdateExpression="SET #h = :h", ExpressionAttributeNames={"#h": "history"},
        ExpressionAttributeValues={":h": {"L": [{"M": {"to": {"S": "active"}}}]}})
    result = ops("state", "set", "fenced")
    assert result.exit_code == 0
    assert "still carries a `history` list" in result.stderr and "state migrate" in result.stderr
    assert world.state_item("primary")["history"] == [{"to": "active"}]


def test_state_set_writes_through_the_secondary_when_the_primary_is_unreachable(ops, world):
    world.factory.down.add(world.primary)
    result = ops("state", "set", "fenced", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["via"] == "secondary" and json.loads(result.stdout)["fallback"] is True
    assert (f"primary region {world.primary} unreachable (Could not connect to the endpoint URL: "
            f"\"https://dynamodb.{world.primary}.amazonaws.com/\"); writing through the secondary region "
            f"({world.secondary}) instead") in result.stderr
    item = world.state_item("secondary")
    assert (item["state"], item["version"]) == ("fenced", 2)
    assert [(r["via"], r["to"]) for r in world.audit("secondary")] == [("secondary", "fenced")]
    # Then on to failover, still without the primary.
    assert ops("state", "set", "failover").exit_code == 0
    assert world.state_item("secondary")["state"] == "failover"


def test_state_set_via_primary_does_not_fall_back(ops, world):
    world.factory.down.add(world.primary)
    result = ops("state", "set", "fenced", "--via", "primary")
    assert result.exit_code == 4
    assert result.stderr.startswith(f"error: primary region {world.primary} unreachable")
    assert result.stderr.rstrip().endswith("to switch through the secondary use --via secondary (or auto)")
    assert world.state_item("secondary")["state"] == "active"


def test_state_set_via_secondary_writes_there_even_with_the_primary_up(ops, world):
    assert ops("state", "set", "fenced", "--via", "secondary").exit_code == 0
    assert world.state_item("secondary")["state"] == "fenced"
    assert world.state_item("primary")["state"] == "active"


def test_state_set_exits_4_when_both_regions_are_unreachable(ops, world):
    world.factory.down.update({world.primary, world.secondary})
    result = ops("state", "set", "fenced")
    assert result.exit_code == 4
    assert f"primary region {world.primary} unreachable" in result.stderr
    assert f"secondary region {world.secondary} unreachable" in result.stderr


def test_state_set_reports_a_missing_state_item(ops, world):
    world.ddb("primary").delete_item(TableName=world.table("appConfig"), Key={"appId": {"S": world.outputs["appId"]}})
    result = ops("state", "set", "fenced")
    assert result.exit_code == 1
    assert result.stderr == (f"error: no state item for appId {world.outputs['appId']} in {world.primary}: "
                             "is the stack deployed?\n")


def test_state_commands_read_outputs_of_the_selected_stack(ops, world):
    ops("state", "get")
    assert ["stack", "select", "--stack", STACK] in world.pulumi.calls
    assert ["stack", "output", "--json", "--stack", STACK] in world.pulumi.calls
