"""`ops drill` on the deployed sandbox: the runbook under load, the pre-flight, an interrupted drill that
puts the application back to `active`; and the drill's accounting on made-up histories."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

from typer.testing import CliRunner, Result

from components.contract import Out, Table
from ops.appclient import Answer
from ops.cli import app
from ops.drill import gaps, reconcile
from ops.drill_model import Attempt, Event
from ops.factory import Factory
from sandbox.up import Sandbox
from tests.e2e.conftest import WAIT, set_state_everywhere


def drill(session_file: Path, *args: str) -> Result:
    return CliRunner().invoke(app, ["drill", "--sandbox", *args], obj=Factory(session_file=session_file))


def states(sandbox: Sandbox) -> dict[str, tuple[str, int]]:
    """(state, version) of the state item in each region that answers."""
    table, app_id = sandbox.outputs[Out.TABLES][Table.APP_CONFIG], sandbox.outputs[Out.APP_ID]
    found = {}
    for region in sandbox.cloud.regions:
        if sandbox.cloud.is_down(region):
            continue
        item = sandbox.client("dynamodb", region).get_item(TableName=table, Key={"appId": {"S": app_id}},
                                                           ConsistentRead=True)["Item"]
        found[region] = (item["state"]["S"], int(item["version"]["N"]))
    return found


def test_drill_fails_over_and_back_under_load_and_loses_nothing(sandbox: Sandbox, session_file: Path,
                                                                 tmp_path: Path) -> None:
    result = drill(session_file, "--steady", "1.5", "--rate", "6", "--json", "--report-dir", str(tmp_path))
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["passed"] is True and summary["aborted"] is None
    assert summary["lost"] == 0 and summary["duplicated"] == 0
    assert summary["rpoWrites"] == 0
    assert summary["acknowledged"] > 10
    assert summary["refused"] > 0  # fencing was real: the generator kept trying and got 409s
    assert [w["name"] for w in summary["rtoWindows"]] == ["fail over", "fail back"]
    assert 0 < summary["rtoS"] < 10
    assert set(summary["drainS"]) == {"forward", "back"}
    assert (tmp_path / "drill.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    report = json.loads((tmp_path / "drill.json").read_text())
    roles = {a["role"] for a in report["attempts"] if 200 <= a["status"] < 300}
    assert roles == {"primary", "secondary"}  # writes really continued in the secondary
    assert "0 lost" in (tmp_path / "drill.md").read_text()
    assert [e["name"] for e in report["events"] if e["name"] in ("primary outage", "primary back")] == [
        "primary outage", "primary back"]
    assert "drill on sandbox" in result.stderr and "sandbox sandbox" not in result.stderr
    # Four switches, each recorded in the audit table with the drill's reason.
    history = json.loads(CliRunner().invoke(app, ["state", "history", "--limit", "4", "--json", "--sandbox"],
                                            obj=Factory(session_file=session_file)).stdout)["records"]
    assert [r["to"] for r in reversed(history)] == ["fenced", "failover", "fenced", "active"]
    assert all(r["reason"].startswith("drill: ") for r in history)


def test_drill_refuses_to_start_unless_both_regions_are_active_and_says_why(sandbox: Sandbox, session_file: Path,
                                                                            tmp_path: Path) -> None:
    set_state_everywhere(sandbox, "fenced")
    before = states(sandbox)
    result = drill(session_file, "--report-dir", str(tmp_path))
    assert result.exit_code == 3
    assert "drill refused" in result.stderr and "reads fenced" in result.stderr
    assert "python -m ops --sandbox drill --restore" in result.stderr
    assert states(sandbox) == before  # nothing was changed
    assert not (tmp_path / "drill.json").exists()


def test_drill_refuses_to_start_when_a_region_does_not_answer(sandbox: Sandbox, session_file: Path,
                                                             tmp_path: Path) -> None:
    sandbox.cloud.set_outage("secondary", True)
    result = drill(session_file, "--report-dir", str(tmp_path))
    assert result.exit_code == 3
    assert "the secondary region (ap-northeast-1) does not answer" in result.stderr


def test_a_drill_interrupted_by_a_region_outage_exits_1_and_puts_the_app_back_to_active(
        sandbox: Sandbox, session_file: Path, tmp_path: Path) -> None:
    # The secondary goes down as soon as the drill has fenced: the drain can never finish.
    def take_the_secondary_down_once_fenced() -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and "fenced" not in {s for s, _ in states(sandbox).values()}:
            time.sleep(0.05)
        sandbox.cloud.set_outage("secondary", True)

    saboteur = threading.Thread(target=take_the_secondary_down_once_fenced, daemon=True)
    saboteur.start()
    result = drill(session_file, "--steady", "0.5", "--drain-timeout", "2", "--json", "--report-dir", str(tmp_path))
    saboteur.join(30)
    assert result.exit_code == 1, result.output
    summary = json.loads(result.stdout)
    assert "drain timeout" in summary["aborted"] and summary["restored"] is True
    assert "drill aborted" in result.stderr and "back to active" in result.stderr
    primary = sandbox.cloud.regions[0]
    assert states(sandbox)[primary][0] == "active"  # writable again, through the region that answered
    assert "Aborted" in (tmp_path / "drill.md").read_text()
    sandbox.cloud.set_outage("secondary", False)
    assert sandbox.cloud.wait_replication_idle(WAIT)
    assert {s for s, _ in states(sandbox).values()} == {"active"}


def test_restore_walks_a_failover_back_to_active_through_fenced(sandbox: Sandbox, session_file: Path) -> None:
    set_state_everywhere(sandbox, "failover")
    result = CliRunner().invoke(app, ["--sandbox", "drill", "--restore", "--json"],
                                obj=Factory(session_file=session_file))
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert answer["restored"] is True and "fenced via the primary region" in answer["detail"]
    assert sandbox.cloud.wait_replication_idle(WAIT)
    assert {s for s, _ in states(sandbox).values()} == {"active"}


def _attempt(n: int, role: str, start: float, status: int = 200) -> Attempt:
    return Attempt(n=n, kind="comment", key=f"k{n}", role=role, start=start, end=start + 0.01, status=status)


def test_rto_is_the_time_between_acknowledged_writes_around_each_fence() -> None:
    attempts = [_attempt(0, "primary", 0.0), _attempt(1, "primary", 1.0), _attempt(2, "primary", 1.5, 409),
                _attempt(3, "secondary", 3.0), _attempt(4, "secondary", 4.0)]
    [window] = gaps(attempts, [Event(1.2, "fenced", "fail over")])
    assert (window.name, round(window.seconds, 3)) == ("fail over", 2.0)


class FakeRegions:
    """Answers comment queries from a dict {role: {photoId: number of copies}}."""

    def __init__(self, copies: dict[str, dict[str, int]]):
        self.copies = copies

    def list_comments(self, role: str, photo_id: str, timeout: float = 0) -> Answer:
        return Answer(200, {"comments": [{"message": "m"}] * self.copies[role].get(photo_id, 0)})


def test_reconciliation_names_lost_and_duplicated_writes() -> None:
    attempts = [_attempt(0, "primary", 0.0), _attempt(1, "secondary", 1.0), _attempt(2, "primary", 2.0, 409)]
    regions = FakeRegions({"primary": {"k0": 1, "k1": 2}, "secondary": {"k0": 1}})
    lost, duplicated = reconcile(regions, attempts, timeout=0.2)  # type: ignore[arg-type]
    assert lost == ["secondary: comment k1"]
    assert duplicated == ["primary: comment k1 x2"]


def test_ctrl_c_during_a_drill_walks_the_app_back_from_failover_to_active(sandbox: Sandbox, session_file: Path,
                                                                          user) -> None:
    from ops.drill import DrillPlan, run_drill

    factory = Factory(session_file=session_file)
    target = factory.sandbox_target()

    def interrupt_at_the_outage(down: bool) -> None:
        if down:  # right after the switch to failover: the secondary is the writer
            raise KeyboardInterrupt

    result = run_drill(factory, target, user, DrillPlan.for_target(target, steady=0.5), interrupt_at_the_outage)
    assert result.aborted == "interrupted (Ctrl-C)"
    assert result.restored is True and "fenced via the" in result.restore and "active" in result.restore
    assert [e.name for e in result.events][-2:] == ["aborted", "restored"]
    assert sandbox.cloud.wait_replication_idle(WAIT)
    assert {s for s, _ in states(sandbox).values()} == {"active"}
    assert result.reconciled and not result.lost and not result.duplicated


def restore(session_file: Path) -> Result:
    return CliRunner().invoke(app, ["--sandbox", "drill", "--restore", "--json"],
                              obj=Factory(session_file=session_file))


def restore_with_the_primary_down(sandbox: Sandbox, session_file: Path, state: str) -> dict[str, Any]:
    """`drill --restore` from `state` in both regions while the primary is down: exit 4, the application in
    failover (the secondary takes the writes) and the command to finish printed; its JSON answer."""
    set_state_everywhere(sandbox, state)
    primary, secondary = sandbox.cloud.regions
    sandbox.cloud.set_outage(primary, True)
    result = restore(session_file)
    assert result.exit_code == 4, result.output
    answer = json.loads(result.stdout)
    assert answer["restored"] is False and answer["state"] == "failover"
    assert "once the primary answers, run: python -m ops --sandbox drill --restore" in result.stderr
    assert states(sandbox)[secondary][0] == "failover"
    return answer


def test_restore_with_the_primary_down_leaves_the_app_in_failover_and_exits_4(sandbox: Sandbox,
                                                                              session_file: Path) -> None:
    answer = restore_with_the_primary_down(sandbox, session_file, "failover")
    assert "the primary region" in answer["detail"] and "does not answer" in answer["detail"]
    assert "the secondary region keeps failover" in answer["detail"]  # nothing written


def test_restore_puts_a_fenced_app_back_in_failover_while_the_primary_is_down_then_finishes_once_it_answers(
        sandbox: Sandbox, session_file: Path) -> None:
    answer = restore_with_the_primary_down(sandbox, session_file, "fenced")
    assert "failover (version" in answer["detail"] and "via the secondary region" in answer["detail"]
    sandbox.cloud.set_outage(sandbox.cloud.regions[0], False)
    result = restore(session_file)  # the command it printed, once the primary answers
    assert result.exit_code == 0, result.output
    assert "active" in json.loads(result.stdout)["detail"] and "via the primary region" in result.stdout
    assert sandbox.cloud.wait_replication_idle(WAIT)
    assert {s for s, _ in states(sandbox).values()} == {"active"}


def test_a_drill_aborted_while_the_primary_is_down_keeps_the_app_in_failover_and_exits_4(
        sandbox: Sandbox, session_file: Path, tmp_path: Path) -> None:
    primary, secondary = sandbox.cloud.regions

    # The primary goes down once the drill has failed over (not the drill's own outage, which it ends itself):
    # the drain back can never finish, and the walk back must not write `active` where nobody can write.
    def take_the_primary_down_at_failover() -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and states(sandbox).get(secondary, ("",))[0] != "failover":
            time.sleep(0.05)
        sandbox.cloud.set_outage(primary, True)

    saboteur = threading.Thread(target=take_the_primary_down_at_failover, daemon=True)
    saboteur.start()
    result = drill(session_file, "--no-outage", "--steady", "0.5", "--drain-timeout", "2", "--json",
                   "--report-dir", str(tmp_path))
    saboteur.join(30)
    assert result.exit_code == 4, result.output
    summary = json.loads(result.stdout)
    assert "drain timeout" in summary["aborted"]
    assert summary["restored"] is False and summary["leftIn"] == "failover" and summary["reconciled"] is False
    assert "once the primary answers, run: python -m ops --sandbox drill --restore" in result.stderr
    assert states(sandbox)[secondary][0] == "failover"  # the secondary takes the writes
    assert "left in `failover`" in (tmp_path / "drill.md").read_text()
    sandbox.cloud.set_outage(primary, False)
    assert restore(session_file).exit_code == 0
    assert sandbox.cloud.wait_replication_idle(WAIT)
    assert {s for s, _ in states(sandbox).values()} == {"active"}
