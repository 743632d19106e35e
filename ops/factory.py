"""Where the CLI's outside world comes from: the target's outputs, AWS clients, the Pulumi workspace.

The typer context holds one `Factory`; tests pass their own (a fake PulumiCommand, a
session file in a tmp dir, clients that fail like an unreachable region).
"""

from __future__ import annotations

import json
import os
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
from botocore.client import BaseClient
from botocore.config import Config
from pulumi import automation as auto

from components.contract import REGION_ROLES, Out, RegionOut
from ops.errors import NoSandboxError, UsageError

ROOT = Path(__file__).resolve().parent.parent
SESSION_ENV = "OPS_SESSION_FILE"
DEFAULT_SESSION_FILE = ROOT / ".sandbox" / "session.json"

# A region that does not answer must not stall a failover: one attempt, short timeouts.
FAST = Config(connect_timeout=2, read_timeout=4, retries={"total_max_attempts": 1, "mode": "standard"})
NORMAL = Config(connect_timeout=5, read_timeout=30, retries={"max_attempts": 3, "mode": "standard"})


@dataclass
class Target:
    """A deployed copy of the program: a real stack or the local sandbox."""

    kind: str  # "stack" | "sandbox"
    name: str  # stack name, or "sandbox"
    outputs: dict[str, Any]
    endpoint_url: str | None = None  # sandbox only
    credentials: dict[str, str] | None = None  # sandbox only: the operator's keys

    @property
    def label(self) -> str:
        """How output names the target, once: "sandbox" or "stack prod"."""
        return "sandbox" if self.kind == "sandbox" else f"stack {self.name}"

    @property
    def app_id(self) -> str:
        return str(self.outputs[Out.APP_ID])

    def region(self, role: str) -> str:
        return str(self.outputs[role][RegionOut.REGION])

    def region_value(self, role: str, key: str) -> str:
        return str(self.outputs[role][key])

    def table(self, logical: str) -> str:
        return str(self.outputs[Out.TABLES][logical])

    def check(self, *keys: str) -> None:
        """Fail early, as a configuration error, when outputs a command needs are missing."""
        missing = [k for k in (Out.APP_ID, *REGION_ROLES, *keys) if not self.outputs.get(k)]
        missing += [f"{role}.{RegionOut.REGION}" for role in REGION_ROLES
                    if isinstance(self.outputs.get(role), dict) and not self.outputs[role].get(RegionOut.REGION)]
        if missing:
            raise UsageError(f"{self.label} has no output {', '.join(missing)}: is it deployed?")


@dataclass
class Factory:
    """Builds everything that talks to the outside; substitute it in tests."""

    root: Path = ROOT
    session_file: Path | None = None
    """Sandbox session; default $OPS_SESSION_FILE, else <repo>/.sandbox/session.json."""
    pulumi_command: auto.PulumiCommand | None = None
    """The pulumi CLI boundary; default the `pulumi` binary on PATH."""
    _clients: dict[tuple[Any, ...], BaseClient] = field(default_factory=dict, init=False, repr=False)

    # -- time (the replication probe waits; tests make it instant) --
    def clock(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)

    def now_ms(self) -> int:
        return int(time.time() * 1000)

    # -- targets --
    def session_path(self) -> Path:
        if self.session_file is not None:
            return Path(self.session_file)
        return Path(os.environ.get(SESSION_ENV) or DEFAULT_SESSION_FILE)

    def load_session(self) -> dict[str, Any]:
        path = self.session_path()
        if not path.is_file():
            raise NoSandboxError("no sandbox running: start it with make demo")
        try:
            session = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as error:
            raise UsageError(f"sandbox session {path} is unreadable: {error}") from None
        missing = [k for k in ("awsEndpoint", "outputs", "operator") if not session.get(k)]
        keys = session.get("operator") or {}
        missing += [f"operator.{k}" for k in ("accessKeyId", "secretAccessKey") if not keys.get(k)]
        if missing:
            raise UsageError(f"sandbox session {path} lacks {', '.join(missing)}: restart it with make demo")
        return session

    def sandbox_target(self) -> Target:
        session = self.load_session()
        return Target(
            kind="sandbox",
            name="sandbox",
            outputs=dict(session["outputs"]),
            endpoint_url=session["awsEndpoint"],
            credentials=dict(session["operator"]),
        )

    def stack_target(self, stack_name: str) -> Target:
        outputs = {key: value.value for key, value in self.select_stack(stack_name).outputs().items()}
        if not outputs:
            raise UsageError(f"stack {stack_name!r} has no outputs: deploy it first (python -m ops --stack "
                             f"{stack_name} deploy)")
        return Target(kind="stack", name=stack_name, outputs=outputs)

    # -- Pulumi Automation API (local program at the repo root) --
    def workspace_options(self) -> auto.LocalWorkspaceOptions:
        if self.pulumi_command is None:
            try:
                self.pulumi_command = auto.PulumiCommand()
            except FileNotFoundError:
                raise UsageError("the pulumi CLI is not installed (https://www.pulumi.com/docs/install/); "
                                 "without it only --sandbox works") from None
        return auto.LocalWorkspaceOptions(work_dir=str(self.root), pulumi_command=self.pulumi_command)

    def select_stack(self, stack_name: str) -> auto.Stack:
        return auto.select_stack(stack_name, work_dir=str(self.root), opts=self.workspace_options())

    def create_or_select_stack(self, stack_name: str) -> auto.Stack:
        return auto.create_or_select_stack(stack_name, work_dir=str(self.root), opts=self.workspace_options())

    # -- AWS --
    def boto_session(self, target: Target, region: str) -> boto3.Session:
        if target.credentials:
            return boto3.Session(
                aws_access_key_id=target.credentials["accessKeyId"],
                aws_secret_access_key=target.credentials["secretAccessKey"],
                region_name=region,
            )
        return boto3.Session(region_name=region)  # the user's default credentials chain

    def check_sandbox_answers(self, target: Target) -> None:
        """A session whose endpoint refuses connections is a stopped sandbox (exit 5), not a region down:
        a region outage in the sandbox answers 503."""
        url = urlsplit(target.endpoint_url or "")
        try:
            with socket.create_connection((url.hostname or "127.0.0.1", url.port or 80), timeout=2):
                pass
        except OSError:
            raise NoSandboxError(f"no sandbox answers at {target.endpoint_url} (a stale session file?): start it "
                                 "with make demo") from None

    def client(self, target: Target, service: str, region: str, *, fast: bool = False) -> BaseClient:
        """A client of `service` in `region` of the target; `fast` = one attempt, short timeouts."""
        key = (target.kind, target.name, service, region, fast)
        if key not in self._clients:
            if target.kind == "sandbox" and not any(k[0] == "sandbox" for k in self._clients):
                self.check_sandbox_answers(target)
            self._clients[key] = self.boto_session(target, region).client(
                service, endpoint_url=target.endpoint_url, config=FAST if fast else NORMAL
            )
        return self._clients[key]
