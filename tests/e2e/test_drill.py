"""`ops drill` on the deployed sandbox, and the drill's accounting on made-up histories."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from ops.appclient import Answer
from ops.cli import app
from ops.drill import Attempt, Event, gaps, reconcile
from ops.factory import Factory
from sandbox.up import Sandbox


def test_drill_fails_over_and_back_under_load_and_loses_nothing(sandbox: Sandbox, session_file: Path,
                                                                 tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["--sandbox", "drill", "--steady", "1.5", "--rate", "6", "--json",
                                      "--report-dir", str(tmp_path)], obj=Factory(session_file=session_file))
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
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

    def api(self, method: str, role: str, path: str, body: Any = None, timeout: float = 0) -> Answer:
        key = path.rsplit("/", 1)[-1]
        return Answer(200, {"comments": [{"message": "m"}] * self.copies[role].get(key, 0)})


def test_reconciliation_names_lost_and_duplicated_writes() -> None:
    attempts = [_attempt(0, "primary", 0.0), _attempt(1, "secondary", 1.0), _attempt(2, "primary", 2.0, 409)]
    regions = FakeRegions({"primary": {"k0": 1, "k1": 2}, "secondary": {"k0": 1}})
    lost, duplicated = reconcile(regions, attempts, timeout=0.2)  # type: ignore[arg-type]
    assert lost == ["secondary: comment k1"]
    assert duplicated == ["primary: comment k1 x2"]
