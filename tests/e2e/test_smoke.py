"""`ops smoke` against the deployed sandbox: signed writes, replication measured, clear failures."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner, Result

from ops.cli import app
from ops.factory import Factory
from sandbox.up import Sandbox
from tests.e2e.conftest import set_state_everywhere


def smoke(session_file: Path, *args: str) -> Result:
    return CliRunner().invoke(app, ["--sandbox", "smoke", *args], obj=Factory(session_file=session_file))


def test_smoke_writes_in_the_primary_and_sees_everything_in_the_secondary(session_file: Path) -> None:
    result = smoke(session_file, "--json", "--timeout", "10")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["writer"] == "primary"
    assert {c["what"] for c in report["checks"]} == {"comment", "photo record", "photo bytes"}
    assert all(c["replicated"] and c["region"] == "ap-northeast-1" and c["lagMs"] >= 0 for c in report["checks"])


def test_smoke_in_failover_writes_in_the_secondary(sandbox: Sandbox, session_file: Path) -> None:
    set_state_everywhere(sandbox, "failover")
    result = smoke(session_file, "--json", "--timeout", "10")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["writer"] == "secondary"
    assert {c["region"] for c in report["checks"]} == {"us-east-1"}


def test_smoke_while_fenced_exits_3_and_says_why(sandbox: Sandbox, session_file: Path) -> None:
    set_state_everywhere(sandbox, "fenced")
    result = smoke(session_file)
    assert result.exit_code == 3
    assert "fenced" in result.output


def test_smoke_reports_what_did_not_replicate_when_the_destination_is_down(
        sandbox: Sandbox, session_file: Path) -> None:
    sandbox.cloud.set_outage("secondary", True)
    result = smoke(session_file, "--json", "--timeout", "1")
    assert result.exit_code == 1
    assert "not replicated within 1 s" in result.output
    assert not any(c["replicated"] for c in json.loads(result.stdout)["checks"])


def test_smoke_with_a_wrong_password_is_a_usage_error(session_file: Path) -> None:
    result = smoke(session_file, "--username", "demo", "--password", "Wrong-password-1")
    assert result.exit_code == 2
    assert "wrong username or password" in result.output
