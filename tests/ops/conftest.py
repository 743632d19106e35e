"""A two-region world for the operator CLI: moto in-process, the program's real stack outputs,
a fake pulumi CLI, and factories that fail like an unreachable region or a concurrent operator."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import EndpointConnectionError
from moto import mock_aws
from pulumi import automation as auto
from pulumi.automation.errors import create_command_error
from semver import VersionInfo
from typer.testing import CliRunner, Result

from components.contract import Out, RegionOut, Table
from harness.program import ProgramRun
from ops.cli import app
from ops.factory import Factory
from ops.state import plain_item

STACK = "prod"
HISTORY = [{
    "kind": "update", "startTime": "2026-11-01T10:00:00.000Z", "endTime": "2026-11-01T10:05:00.000Z",
    "message": "", "environment": {}, "config": {}, "result": "succeeded", "version": 7,
    "resourceChanges": {"same": 120},
}]


class FakePulumi(auto.PulumiCommand):
    """The pulumi CLI boundary: records every command, answers like the CLI would."""

    def __init__(self, outputs: dict[str, Any] | None = None, stacks: tuple[str, ...] = (STACK,),
                 fail_on: str | None = None, config: dict[str, str] | None = None):
        # No super().__init__(): it would run `pulumi version`.
        self.command = "pulumi"
        self.version = VersionInfo.parse("3.272.0")
        self.outputs = outputs or {}
        self.stacks = set(stacks)
        self.fail_on = fail_on  # a verb ("up") or a verb and its subcommand ("config rm") that fails
        self.config: dict[str, str] = dict(config or {})  # the stack's Pulumi.<stack>.yaml, plaintext values
        self.calls: list[list[str]] = []
        self.cwds: list[str] = []

    def run(self, args: list[str], cwd: str, additional_env: Any, on_output: Any = None,
            on_error: Any = None) -> auto.CommandResult:
        self.calls.append(list(args))
        self.cwds.append(cwd)
        result = self._answer(args, on_output)
        if result.code != 0:
            raise create_command_error(result)
        return result

    def _answer(self, args: list[str], on_output: Any) -> auto.CommandResult:
        verb = args[0]
        if self.fail_on in (verb, " ".join(args[:2])):
            return auto.CommandResult(stdout="", stderr=f"error: {verb} failed: AccessDenied", code=255)
        if verb == "config":
            return self._config(args)
        if args[:2] == ["stack", "select"]:
            name = args[args.index("--stack") + 1]
            if name not in self.stacks:
                return auto.CommandResult(stdout="", stderr=f"error: no stack named '{name}' found", code=255)
        if args[:2] == ["stack", "init"]:
            self.stacks.add(args[2])
        if args[:2] == ["stack", "output"]:
            return auto.CommandResult(stdout=json.dumps(self.outputs), stderr="", code=0)
        if args[:2] == ["stack", "history"]:
            return auto.CommandResult(stdout=json.dumps(HISTORY), stderr="", code=0)
        if verb in ("up", "destroy") and on_output:
            on_output(f"{verb}: progress line from pulumi")
        return auto.CommandResult(stdout="", stderr="", code=0)

    def _config(self, args: list[str]) -> auto.CommandResult:
        """`config set KEY --plaintext ... -- VALUE`, `config rm KEY`, `config --show-secrets --json`."""
        if args[1] == "set":
            self.config[args[2]] = args[-1]
        elif args[1] == "rm":
            self.config.pop(args[2], None)
        elif "--json" in args:
            shown = {key: {"value": value, "secret": False} for key, value in self.config.items()}
            return auto.CommandResult(stdout=json.dumps(shown), stderr="", code=0)
        return auto.CommandResult(stdout="", stderr="", code=0)

    def commands(self, *verbs: str) -> list[list[str]]:
        """The calls that start with one of `verbs` (all calls if none given)."""
        return [c for c in self.calls if not verbs or c[0] in verbs]


class Down:
    """A client of a region that does not answer: every call is a connection error."""

    def __init__(self, service: str, region: str):
        self.url = f"https://{service}.{region}.amazonaws.com/"

    def __getattr__(self, name: str) -> Callable[..., Any]:
        def fail(*args: Any, **kwargs: Any) -> Any:
            raise EndpointConnectionError(endpoint_url=self.url)

        return fail


@dataclass
class WorldFactory(Factory):
    """The real factory, plus regions that are down and hooks around DynamoDB calls."""

    down: set[str] = field(default_factory=set)
    before_update: Callable[[], None] | None = None
    on_sleep: Callable[[float], None] | None = None
    slept: list[float] = field(default_factory=list)
    ticks: float = 0.0

    def client(self, target, service, region, *, fast=False):  # type: ignore[no-untyped-def,override]
        if region in self.down:
            return Down(service, region)
        real = super().client(target, service, region, fast=fast)
        if service == "dynamodb" and self.before_update:
            return _Hooked(real, self)
        return real

    # Simulated time: waiting costs nothing.
    def clock(self) -> float:
        return self.ticks

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.ticks += seconds
        if self.on_sleep:
            self.on_sleep(seconds)


class _Hooked:
    """Runs the factory's `before_update` hook (once) right before the next write of the state item."""

    def __init__(self, real: Any, factory: WorldFactory):
        self.real, self.factory = real, factory

    def _hook(self) -> None:
        hook, self.factory.before_update = self.factory.before_update, None  # once
        if hook:
            hook()

    def update_item(self, **kwargs: Any) -> Any:
        self._hook()
        return self.real.update_item(**kwargs)

    def transact_write_items(self, **kwargs: Any) -> Any:
        self._hook()
        return self.real.transact_write_items(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


@dataclass
class World:
    """Both regions of a deployed stack, in moto."""

    outputs: dict[str, Any]
    pulumi: FakePulumi
    factory: WorldFactory
    tmp: Path

    @property
    def primary(self) -> str:
        return self.outputs[Out.PRIMARY][RegionOut.REGION]

    @property
    def secondary(self) -> str:
        return self.outputs[Out.SECONDARY][RegionOut.REGION]

    def region(self, role: str) -> str:
        return self.outputs[role][RegionOut.REGION]

    def ddb(self, role: str) -> Any:
        return boto3.client("dynamodb", region_name=self.region(role))

    def cognito(self, role: str) -> Any:
        return boto3.client("cognito-idp", region_name=self.region(role))

    def pool(self, role: str) -> str:
        return self.outputs[role][RegionOut.USER_POOL_ID]

    def table(self, logical: str) -> str:
        return self.outputs[Out.TABLES][logical]

    def state_item(self, role: str) -> dict[str, Any]:
        item = self.ddb(role).get_item(
            TableName=self.table(Table.APP_CONFIG), Key={"appId": {"S": self.outputs[Out.APP_ID]}},
            ConsistentRead=True,
        )["Item"]
        return plain_item(item)

    def audit(self, role: str) -> list[dict[str, Any]]:
        """The audit records in one region's stateAudit table, oldest first."""
        items = self.ddb(role).query(
            TableName=self.table(Table.STATE_AUDIT), KeyConditionExpression="appId = :a",
            ExpressionAttributeValues={":a": {"S": self.outputs[Out.APP_ID]}})["Items"]
        return [plain_item(item) for item in items]

    def put_state(self, role: str, state: str, version: int) -> None:
        self.ddb(role).put_item(TableName=self.table(Table.APP_CONFIG), Item={
            "appId": {"S": self.outputs[Out.APP_ID]}, "state": {"S": state}, "version": {"N": str(version)},
        })

    def put_both(self, state: str, version: int) -> None:
        for role in ("primary", "secondary"):
            self.put_state(role, state, version)

    def add_user(self, role: str, username: str, email: str | None = None, enabled: bool = True) -> None:
        attributes = [{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"}] if email else []
        self.cognito(role).admin_create_user(UserPoolId=self.pool(role), Username=username,
                                             UserAttributes=attributes, MessageAction="SUPPRESS")
        if not enabled:
            self.cognito(role).admin_disable_user(UserPoolId=self.pool(role), Username=username)

    def users(self, role: str) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for page in self.cognito(role).get_paginator("list_users").paginate(UserPoolId=self.pool(role)):
            for user in page["Users"]:
                found[user["Username"]] = user
        return found

    def session_file(self, endpoint: str = "http://127.0.0.1:1") -> Path:
        path = self.tmp / "session.json"
        path.write_text(json.dumps({
            "webUrl": "http://127.0.0.1:8080",
            "awsEndpoint": endpoint,
            "uiConfig": {},
            "outputs": self.outputs,
            "demoUser": {"username": "demo", "password": "Demo-password-1"},
            "operator": {"accessKeyId": "AKIAOPERATOR", "secretAccessKey": "operator-secret"},
        }))
        return path


def create_region(outputs: dict[str, Any], role: str) -> str:
    """The tables (contract.Table.KEYS) and a user pool in one region; returns the pool id."""
    region = outputs[role][RegionOut.REGION]
    ddb = boto3.client("dynamodb", region_name=region)
    for logical, (hash_key, range_key) in Table.KEYS.items():
        keys = [k for k in (hash_key, range_key) if k]
        ddb.create_table(
            TableName=outputs[Out.TABLES][logical],
            KeySchema=[{"AttributeName": k, "KeyType": t} for k, t in zip(keys, ("HASH", "RANGE"), strict=False)],
            AttributeDefinitions=[{"AttributeName": k, "AttributeType": "S"} for k in keys],
            BillingMode="PAY_PER_REQUEST",
        )
    pool = boto3.client("cognito-idp", region_name=region).create_user_pool(PoolName=f"users-{role}")
    return pool["UserPool"]["Id"]


@pytest.fixture
def world(prod: ProgramRun, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    """The program's real outputs (with moto's pool ids), deployed in moto, state `active` v1 in both."""
    monkeypatch.delenv("OPS_SESSION_FILE", raising=False)
    with mock_aws():
        outputs = copy.deepcopy(prod.outputs)
        for role in ("primary", "secondary"):
            outputs[role][RegionOut.USER_POOL_ID] = create_region(outputs, role)
        pulumi = FakePulumi(outputs=outputs)
        factory = WorldFactory(pulumi_command=pulumi, session_file=tmp_path / "no-session.json")
        w = World(outputs=outputs, pulumi=pulumi, factory=factory, tmp=tmp_path)
        w.put_both("active", 1)
        yield w


@pytest.fixture
def ops(world: World) -> Callable[..., Result]:
    """Run `python -m ops --stack prod ARGS` against the world; `target=[...]` replaces the target options."""

    def invoke(*args: str, target: list[str] | None = None, input: str | None = None,
               factory: Factory | None = None) -> Result:
        options = ["--stack", STACK] if target is None else target
        return CliRunner().invoke(app, [*options, *args], obj=factory or world.factory, input=input)

    return invoke
