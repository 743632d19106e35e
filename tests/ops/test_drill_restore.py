"""The drill's pre-flight and `drill --restore` against both regions in moto (no replication: each region holds
what was written through it), simulated time: `active` is written only through a primary that answers and reads
the latest version; otherwise the application stays, or is put back, in `failover` through the secondary (exit 4).
The pre-flight gives a switch to `active` still replicating a bounded wait."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ops.drill import preflight
from ops.errors import ConflictError
from tests.ops.conftest import STACK

RESTORE = ("drill", "--restore", "--json", "--state-timeout", "1", "--drain-timeout", "1")
LATER = f"once the primary answers, run: python -m ops --stack {STACK} drill --restore"


def states(world) -> dict[str, tuple[str, int]]:
    return {role: (world.state_item(role)["state"], world.state_item(role)["version"])
            for role in ("primary", "secondary")}


def test_restore_walks_failover_back_to_active_through_the_primary(ops, world):
    world.put_both("failover", 3)
    result = ops(*RESTORE)
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert answer["restored"] is True and answer["state"] == "active"
    assert answer["detail"].startswith("fenced via the primary region; ")
    assert answer["detail"].endswith("; active (version 5) via the primary region")
    assert states(world)["primary"] == ("active", 5)
    assert [(r["to"], r["via"]) for r in world.audit("primary")] == [("fenced", "primary"), ("active", "primary")]


def test_restore_never_writes_active_through_the_secondary_when_the_primary_lags(ops, world):
    # The secondary holds the latest version; the primary answers but never reads the fence (no replication).
    world.put_state("primary", "fenced", 3)
    world.put_state("secondary", "failover", 5)
    result = ops(*RESTORE)
    assert result.exit_code == 4, result.output
    answer = json.loads(result.stdout)
    assert answer["restored"] is False and answer["state"] == "failover"
    assert ("the primary region does not read fenced (version 6) within 1 s (it reads fenced (version 3)); "
            "failover (version 7) via the secondary region: the secondary takes the writes; " + LATER) in answer[
        "detail"]
    assert states(world) == {"primary": ("fenced", 3), "secondary": ("failover", 7)}
    assert [r["to"] for r in world.audit("secondary")] == ["fenced", "failover"]
    assert world.audit("primary") == []  # nothing written where nobody could confirm it


def restore_with_the_primary_down(ops, world, state: str, version: int) -> tuple[Any, dict[str, Any]]:
    """`drill --restore` from `state` at `version` in both regions, the primary down: exit 4, not restored."""
    world.put_both(state, version)
    world.factory.down.add(world.primary)
    result = ops(*RESTORE)
    assert result.exit_code == 4, result.output
    answer = json.loads(result.stdout)
    assert answer["restored"] is False
    return result, answer


def test_restore_with_the_primary_down_leaves_failover_untouched_and_exits_4(ops, world):
    result, answer = restore_with_the_primary_down(ops, world, "failover", 3)
    assert answer["state"] == "failover"
    assert answer["detail"].startswith(f"the primary region ({world.primary}) does not answer (Could not connect")
    assert "the secondary region keeps failover: the secondary takes the writes; " + LATER in answer["detail"]
    assert result.stderr.endswith(f"error: not restored: {answer['detail']}\n")
    assert states(world)["secondary"] == ("failover", 3) and world.audit("secondary") == []


def test_restore_puts_a_fenced_app_in_failover_when_the_primary_is_down(ops, world):
    _, answer = restore_with_the_primary_down(ops, world, "fenced", 4)
    assert answer["state"] == "failover"
    assert states(world)["secondary"] == ("failover", 5)
    [record] = world.audit("secondary")
    assert record["via"] == "secondary" and record["reason"].startswith("drill restore: the primary region")


def test_restore_holds_failover_when_the_primary_stops_answering_before_active(ops, world):
    world.put_both("fenced", 4)

    def primary_goes_down(_: float) -> None:  # while the drain back waits for its replication probe
        world.factory.down.add(world.primary)

    world.factory.on_sleep = primary_goes_down
    result = ops(*RESTORE)
    assert result.exit_code == 4, result.output
    answer = json.loads(result.stdout)
    assert answer["state"] == "failover"
    assert f"the primary region ({world.primary}) stopped answering: active not written; failover (version 5)" in \
        answer["detail"]
    assert world.state_item("primary")["state"] == "fenced"  # no `active` reached it
    assert states(world)["secondary"] == ("failover", 5)


def test_restore_does_not_fail_over_an_active_app_whose_primary_is_down(ops, world):
    _, answer = restore_with_the_primary_down(ops, world, "active", 2)
    assert answer["state"] == "active"
    assert "a restore does not fail over an active application: docs/failover-runbook.md does" in answer["detail"]
    assert states(world)["secondary"] == ("active", 2) and world.audit("secondary") == []


def test_restore_of_an_active_app_is_nothing_to_do(ops, world):
    result = ops(*RESTORE)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["detail"] == "the primary region reads active (version 1): nothing to do"
    assert world.audit("primary") == []


def test_restore_with_no_region_answering_exits_4(ops, world):
    world.factory.down.update({world.primary, world.secondary})
    result = ops(*RESTORE)
    assert result.exit_code == 4, result.output
    answer = json.loads(result.stdout)
    assert answer["state"] is None and answer["detail"].startswith("no region answered: primary: Could not connect")


# -- pre-flight --------------------------------------------------------------------------------------------------


def stack_target(world):
    return world.factory.stack_target(STACK)


def test_preflight_waits_for_a_switch_to_active_still_replicating(world):
    world.put_state("primary", "active", 3)
    world.put_state("secondary", "fenced", 2)  # the switch to active has not reached it yet

    def replicated(_: float) -> None:
        world.put_state("secondary", "active", 3)

    world.factory.on_sleep = replicated
    states = preflight(world.factory, stack_target(world), wait=1)
    assert [(s.state, s.version) for s in states] == [("active", 3), ("active", 3)]
    assert world.factory.slept  # it waited, bounded


def test_preflight_refuses_when_the_other_region_never_reads_active(world):
    world.put_state("primary", "active", 3)
    world.put_state("secondary", "fenced", 2)
    with pytest.raises(ConflictError) as refused:
        preflight(world.factory, stack_target(world), wait=1)
    assert "the secondary region" in str(refused.value) and "reads fenced (version 2), not active" in str(
        refused.value)
    assert sum(world.factory.slept) >= 1 and states(world)["secondary"] == ("fenced", 2)


def test_preflight_does_not_wait_for_a_region_whose_state_is_not_behind(world):
    world.put_both("fenced", 3)
    with pytest.raises(ConflictError):
        preflight(world.factory, stack_target(world), wait=10)
    assert world.factory.slept == []
