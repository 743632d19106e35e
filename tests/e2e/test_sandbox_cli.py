"""`python -m sandbox` as a user runs it: a real process, its session file, signals, bad input."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 90.0


def sandbox_cli(*args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sandbox", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout)


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[subprocess.Popen[str], Path]]:
    session = tmp_path_factory.mktemp("cli") / "session.json"
    process = subprocess.Popen([sys.executable, "-m", "sandbox", "up", "--port", "0", "--aws-port", "0",
                                "--session", str(session)], cwd=ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + START_TIMEOUT
    while not session.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"sandbox did not start: {process.communicate()[0][-2000:]}")
        time.sleep(0.1)
    try:
        yield process, session
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)


def test_up_writes_a_session_with_everything_a_client_needs(running: tuple[subprocess.Popen[str], Path]) -> None:
    _, session_file = running
    session = json.loads(session_file.read_text())
    assert {"webUrl", "awsEndpoint", "uiConfig", "demoUser", "operator", "outputs"} <= set(session)
    assert session["demoUser"]["username"] and session["demoUser"]["password"]
    assert session["operator"]["accessKeyId"].startswith("AKIA")
    with urllib.request.urlopen(session["webUrl"] + "/uiConfig.json", timeout=5) as response:
        assert json.loads(response.read()) == session["uiConfig"]
    assert session["uiConfig"]["primary"]["endpoint"].startswith("http://127.0.0.1:")


def test_outage_switch_makes_a_region_fail_until_switched_off(running: tuple[subprocess.Popen[str], Path]) -> None:
    _, session_file = running
    session = json.loads(session_file.read_text())
    endpoint = session["uiConfig"]["primary"]["endpoint"]
    on = sandbox_cli("outage", "primary", "on", "--session", str(session_file))
    assert on.returncode == 0, on.stderr
    with pytest.raises(urllib.error.HTTPError) as down:
        urllib.request.urlopen(endpoint + "/", timeout=5)
    assert down.value.code == 503
    off = sandbox_cli("outage", "primary", "off", "--session", str(session_file))
    assert off.returncode == 0, off.stderr
    assert json.loads(off.stdout)["down"] is False


def test_outage_of_an_unknown_region_is_a_usage_error(running: tuple[subprocess.Popen[str], Path]) -> None:
    result = sandbox_cli("outage", "mars-1", "on", "--session", str(running[1]))
    assert result.returncode == 2
    assert result.stderr.startswith("error:") and "mars-1" in result.stderr


def test_sigterm_stops_the_sandbox_and_removes_its_session(running: tuple[subprocess.Popen[str], Path]) -> None:
    process, session_file = running
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
    assert "ready in" in output and "sign in as" in output
    assert not session_file.exists()


def test_a_taken_port_is_one_clear_line_and_exit_1(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = sandbox_cli("up", "--port", str(port), "--aws-port", "0", "--session", str(tmp_path / "s.json"))
    assert result.returncode == 1
    assert f"port {port}" in result.stderr and "already in use" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "s.json").exists()


@pytest.mark.parametrize("args", [["up", "--port", "99999"], ["up", "--lag", "soon"], ["outage", "primary"],
                                  ["outage", "primary", "maybe"], ["launch"]])
def test_bad_arguments_are_one_line_and_exit_2(args: list[str]) -> None:
    result = sandbox_cli(*args)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error:")


def test_outage_without_a_running_sandbox_exits_5_like_ops(tmp_path: Path) -> None:
    result = sandbox_cli("outage", "primary", "on", "--session", str(tmp_path / "absent.json"))
    assert result.returncode == 5
    assert "make demo" in result.stderr


def test_help_prints_the_exit_code_table_shared_with_ops() -> None:
    from components.contract import exit_code_table

    result = sandbox_cli("--help")
    assert result.returncode == 0
    assert exit_code_table() in result.stdout
