"""Docs that run: every `python -m ops ...` and `python -m sandbox ...` line of README.md, ops/README.md and
docs/*.md runs, in the order written, against the deployed test sandbox.

A real stack's `--stack NAME` becomes `--sandbox`, except for the Automation API commands (deploy, destroy),
which keep it and go through the faked Pulumi CLI boundary (tests/ops/conftest.py's FakePulumi). `python -m
sandbox up` runs as a process on free ports and is stopped; the other sandbox commands (outage, status) run
in-process against the test sandbox. Every command exits 0, without a traceback or an unknown option, unless
EXPECTED_EXIT names it with the other exit code the docs mean and why (a command documented as refused): a
reader who runs the docs in order gets what they say. Relative paths land in a temporary directory (the current
directory of the commands).
"""

from __future__ import annotations

import contextlib
import io
import re
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

import sandbox.__main__ as sandbox_cli
from ops.cli import app
from ops.factory import Factory
from sandbox.up import Sandbox
from tests.e2e.conftest import set_state_everywhere
from tests.ops.conftest import FakePulumi

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", ROOT / "ops" / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
COMMAND = re.compile(r"python -m (?:ops|sandbox)\b[^`\n]*")
AUTOMATION_API = {"deploy", "destroy"}  # real-stack only: through the fake Pulumi CLI
START_TIMEOUT = 90.0
# Documented commands that exit non-zero on purpose, by their words (`Documented.words`): (exit code, why).
# None today: every documented command succeeds when the docs are run in order.
EXPECTED_EXIT: dict[str, tuple[int, str]] = {}


@dataclass(frozen=True)
class Documented:
    doc: Path
    line: int
    text: str  # as written

    @property
    def where(self) -> str:
        return f"{self.doc.relative_to(ROOT)}:{self.line}"

    @property
    def words(self) -> str:
        """The command without its comment, quotes resolved: the key of EXPECTED_EXIT."""
        return " ".join(self.argv())

    def argv(self) -> list[str]:
        """The words of the command, up to a comment, a pipe or a redirection."""
        lexer = shlex.shlex(self.text, posix=True, punctuation_chars="|&;<>")
        lexer.whitespace_split = True
        words = []
        for word in lexer:
            if word and set(word) <= set("|&;<>"):
                break
            words.append(word)
        return words


def documented_commands(doc: Path) -> list[Documented]:
    found = []
    for number, line in enumerate(doc.read_text().splitlines(), 1):
        found += [Documented(doc, number, match.group(0).strip()) for match in COMMAND.finditer(line)]
    return found


def on_the_sandbox(argv: list[str]) -> list[str]:
    """`--stack NAME` -> `--sandbox`, unless the command is an Automation API one."""
    words = [w for i, w in enumerate(argv) if not w.startswith("-") and (i == 0 or argv[i - 1] != "--stack")]
    if words and words[0] in AUTOMATION_API:
        return argv
    result, skip = [], False
    for index, word in enumerate(argv):
        if skip:
            skip = False
        elif word == "--stack":
            result.append("--sandbox")
            skip = index + 1 < len(argv)
        elif word.startswith("--stack="):
            result.append("--sandbox")
        else:
            result.append(word)
    return result


@dataclass
class Outcome:
    code: int
    output: str


def problem(command: Documented, outcome: Outcome,
            expected: dict[str, tuple[int, str]] = EXPECTED_EXIT) -> str | None:
    """Why an outcome breaks the docs (None if it does not): exit 0 unless `expected` names another code."""
    code = expected.get(command.words, (0, ""))[0]
    if outcome.code == code and "Traceback" not in outcome.output and "No such option" not in outcome.output:
        return None
    return f"{command.where}: `{command.text}` exited {outcome.code}, expected {code}:\n{outcome.output[-1500:]}"


class Runner:
    """Runs documented commands against the test sandbox."""

    def __init__(self, sandbox: Sandbox, session_file: Path, workdir: Path):
        self.sandbox, self.session_file, self.workdir = sandbox, session_file, workdir
        pulumi = FakePulumi(outputs=sandbox.outputs)
        self.factory = Factory(session_file=session_file, pulumi_command=pulumi)

    def run(self, command: Documented) -> Outcome:
        argv = command.argv()
        tool, args = argv[2], argv[3:]
        if tool == "ops":
            result = CliRunner().invoke(app, on_the_sandbox(args), obj=self.factory, input="y\n")
            return Outcome(result.exit_code, result.output + (repr(result.exception) if result.exception and
                                                              not isinstance(result.exception, SystemExit) else ""))
        if args[:1] == ["up"]:
            return self.sandbox_up(args)
        out = io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            try:
                code = sandbox_cli.main([*args, "--session", str(self.session_file)])
            except SystemExit as exited:
                code = int(exited.code or 0)
        return Outcome(code, out.getvalue())

    def sandbox_up(self, args: list[str]) -> Outcome:
        """`python -m sandbox up ...` as a process, its ports made free ones, stopped once ready."""
        args = list(args)
        for option in ("--port", "--aws-port"):
            if option in args:
                args[args.index(option) + 1] = "0"
            else:
                args += [option, "0"]
        session = self.workdir / "up-session.json"
        process = subprocess.Popen([sys.executable, "-m", "sandbox", *args, "--session", str(session)], cwd=ROOT,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + START_TIMEOUT
        while not session.exists() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            output, _ = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()
        ready = "ready in" in output
        return Outcome(process.returncode if ready else 1, output)


@pytest.fixture
def runner(sandbox: Sandbox, session_file: Path, tmp_path: Path,
           monkeypatch: pytest.MonkeyPatch) -> Iterator[Runner]:
    for relative in ("docs", "webapp/public"):
        (tmp_path / relative).mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    set_state_everywhere(sandbox, "active")
    yield Runner(sandbox, session_file, tmp_path)


DOCS_WITH_COMMANDS = [doc for doc in DOCS if documented_commands(doc)]


@pytest.mark.parametrize("doc", DOCS_WITH_COMMANDS, ids=lambda d: str(d.relative_to(ROOT)))
def test_every_documented_command_runs_as_written(runner: Runner, doc: Path) -> None:
    problems = [problem(command, runner.run(command)) for command in documented_commands(doc)]
    assert [p for p in problems if p] == []


def test_every_expected_exit_names_a_documented_command_and_why() -> None:
    documented = {c.words for doc in DOCS for c in documented_commands(doc)}
    for words, (code, why) in EXPECTED_EXIT.items():
        assert words in documented, f"EXPECTED_EXIT names {words!r}, which no doc shows"
        assert code != 0 and why.strip(), words


def test_an_unexpected_exit_code_fails_unless_allowed_with_a_reason(runner: Runner) -> None:
    # active -> failover without --force is refused (exit 3): a doc showing it must say so.
    refused = Documented(ROOT / "README.md", 1, "python -m ops state set failover --stack prod")
    outcome = runner.run(refused)
    assert outcome.code == 3
    assert "exited 3, expected 0" in (problem(refused, outcome) or "")
    assert problem(refused, outcome, {refused.words: (3, "shown as refused")}) is None
    assert problem(refused, Outcome(0, ""), {refused.words: (3, "shown as refused")}) is not None


def test_the_commands_the_issue_found_broken_are_documented_and_found() -> None:
    texts = {c.text.split("  ")[0] for doc in DOCS for c in documented_commands(doc)}
    for expected in ("python -m ops drill --sandbox", "python -m ops state get --stack prod",
                     "python -m ops state set fenced --stack prod", "python -m ops state history --stack prod",
                     "python -m sandbox outage primary on", "python -m ops drill --restore --stack prod",
                     "python -m ops sync-users --resend --stack prod"):
        assert any(text.startswith(expected) for text in texts), expected
    assert {doc.name for doc in DOCS_WITH_COMMANDS} >= {"README.md", "failover-runbook.md"}


def test_extraction_stops_at_comments_pipes_and_redirections() -> None:
    line = Documented(ROOT / "README.md", 1, 'python -m ops state get --json --sandbox | jq .consistent')
    assert line.argv() == ["python", "-m", "ops", "state", "get", "--json", "--sandbox"]
    commented = Documented(ROOT / "README.md", 1, 'python -m ops state set fenced --reason "a b"   # why')
    assert commented.argv() == ["python", "-m", "ops", "state", "set", "fenced", "--reason", "a b"]
    assert on_the_sandbox(["state", "get", "--stack", "prod"]) == ["state", "get", "--sandbox"]
    assert on_the_sandbox(["deploy", "--stack", "prod"]) == ["deploy", "--stack", "prod"]
    assert on_the_sandbox(["--stack", "prod", "destroy", "--yes"]) == ["--stack", "prod", "destroy", "--yes"]


LINK = re.compile(r"\]\(([^)\s]+)\)")


@pytest.mark.parametrize("doc", DOCS, ids=lambda d: str(d.relative_to(ROOT)))
def test_docs_link_only_to_files_inside_the_repository(doc: Path) -> None:
    for target in LINK.findall(doc.read_text()):
        if re.match(r"^(https?:|mailto:|#)", target):
            continue
        path = (doc.parent / target.split("#", 1)[0]).resolve()
        assert path.is_relative_to(ROOT) and path.exists(), f"{doc.relative_to(ROOT)} links to {target}"


def test_a_usage_error_in_the_docs_would_be_caught(runner: Runner) -> None:
    for text in ("python -m ops state set bogus --stack prod", "python -m ops state get --region x --sandbox",
                 "python -m sandbox outage primary maybe"):
        assert runner.run(Documented(ROOT / "README.md", 1, text)).code == 2, text
