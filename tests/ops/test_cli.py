"""The CLI's surface: help everywhere, exit codes documented, one clear line for bad input."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from ops.cli import app
from ops.errors import EXIT_CODES
from ops.factory import ROOT, Factory
from ops.output import JsonOption

JSON_HELP = JsonOption.__metadata__[0].help


def all_commands(group, path=()):
    for name, command in group.commands.items():
        yield (*path, name), command
        if hasattr(command, "commands"):
            yield from all_commands(command, (*path, name))


def test_every_command_has_help():
    root = typer.main.get_command(app)
    commands = list(all_commands(root))
    assert {" ".join(p) for p, _ in commands} >= {
        "outputs", "ui-config", "state", "state get", "state set", "sync-users", "status", "deploy", "destroy"
    }
    for path, command in commands:
        assert command.help and command.help.strip(), f"{' '.join(path)} has no help"
        for param in command.params:
            if param.name != "help" and param.param_type_name == "option":
                assert param.help, f"{' '.join(path)} --{param.name} has no help"
        result = CliRunner().invoke(app, [*path, "--help"])  # no target needed for help
        assert result.exit_code == 0, (path, result.output)
        assert "Usage: " in result.stdout


def test_help_documents_every_exit_code():
    result = CliRunner().invoke(app, ["--help"])
    for code, meaning in EXIT_CODES.items():
        assert f"  {code}  {meaning}" in result.stdout


def test_readme_documents_the_exit_codes_of_both_tools_once():
    readme = (ROOT / "README.md").read_text()
    for code, meaning in EXIT_CODES.items():
        assert readme.count(f"| {code} | {meaning} |") == 1
    assert "| 0 | ok |" not in (ROOT / "ops" / "README.md").read_text()  # it links to the README's table


def run(*args, factory=None):
    return CliRunner().invoke(app, list(args), obj=factory or Factory(session_file=Path("/nonexistent/session.json")))


def test_unknown_state_is_a_usage_error():
    result = run("--sandbox", "state", "set", "bogus")
    assert result.exit_code == 2
    assert result.stderr.rstrip().endswith(
        "Error: Invalid value for 'state': Value error, 'bogus' is not one of 'active', 'fenced', 'failover'."
    )


def test_both_targets_is_a_usage_error():
    result = run("--stack", "prod", "--sandbox", "state", "get")
    assert result.exit_code == 2
    assert result.stderr == "error: choose one target: --stack NAME or --sandbox, not both\n"


def test_no_target_is_a_usage_error():
    result = run("state", "get")
    assert result.exit_code == 2
    assert result.stderr == "error: no target: pass --stack NAME (a deployed stack) or --sandbox (the local sandbox)\n"


def test_missing_sandbox_session_exits_5_no_sandbox_running():
    result = run("--sandbox", "status")
    assert result.exit_code == 5
    assert result.stderr == "error: no sandbox running: start it with make demo\n"
    assert result.stdout == ""


@pytest.mark.parametrize("args", [
    ["state", "get", "--sandbox"],
    ["state", "--sandbox", "get"],
    ["--sandbox", "state", "get"],
    ["status", "--sandbox", "--json"],
    ["drill", "--sandbox"],
    ["smoke", "--sandbox"],
    ["ui-config", "--sandbox"],
    ["state", "history", "--sandbox"],
])
def test_the_target_works_before_or_after_the_command(args):
    result = run(*args)
    assert result.exit_code == 5, result.output  # reached the target: no sandbox running here
    assert "No such option" not in result.output


@pytest.mark.parametrize("args", [
    ["--stack", "prod", "state", "get", "--sandbox"],
    ["--stack", "prod", "state", "get", "--stack", "dev"],
    ["diagram", "--stack", "prod", "--sandbox"],
])
def test_two_targets_anywhere_are_a_usage_error(args):
    result = run(*args)
    assert result.exit_code == 2
    assert result.stderr == "error: choose one target: --stack NAME or --sandbox, not both\n"


def test_every_command_takes_the_target_options_and_one_json_option():
    root = typer.main.get_command(app)
    for path, command in all_commands(root):
        options = {opt for param in command.params for opt in getattr(param, "opts", [])}
        assert {"--stack", "--sandbox"} <= options, path
        jsons = [p for p in command.params if "--json" in getattr(p, "opts", [])]
        if jsons:
            assert jsons[0].help == JSON_HELP, path


def test_incomplete_session_file_is_a_usage_error(tmp_path):
    session = tmp_path / "session.json"
    session.write_text('{"awsEndpoint": "http://127.0.0.1:5000", "outputs": {"appId": "a"}}')
    result = run("--sandbox", "outputs", factory=Factory(session_file=session))
    assert result.exit_code == 2
    assert result.stderr == (f"error: sandbox session {session} lacks operator, operator.accessKeyId, "
                             "operator.secretAccessKey: restart it with make demo\n")


def test_empty_reason_is_a_usage_error():
    result = run("--sandbox", "state", "set", "fenced", "--reason", " ")
    assert result.exit_code == 2
    assert result.stderr == "error: --reason must not be empty\n"


def test_python_dash_m_ops_runs_without_a_traceback():
    done = subprocess.run([sys.executable, "-m", "ops", "state", "get", "--sandbox"], cwd=ROOT, capture_output=True,
                          text=True, env={"OPS_SESSION_FILE": "/nonexistent/session.json", "PATH": "/usr/bin:/bin"},
                          timeout=60)
    assert done.returncode == 5
    assert done.stderr == "error: no sandbox running: start it with make demo\n"
