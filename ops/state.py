"""`state get` / `state set`: the routing state item in the AppConfig table of both regions.

The item is the one the program creates and the operator API updates (components/templates/
state-put.request.vtl): {appId, state, version, updatedAt, updatedBy, history: [...]}. Every
switch is a conditional UpdateItem on the version read just before it (optimistic locking),
bumps the version and appends who/when/from/to/via to `history`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

import typer
from boto3.dynamodb.types import TypeDeserializer
from botocore.exceptions import BotoCoreError, ClientError

from components.contract import REGION_ROLES, STATES, Table
from ops.context import OpsGroup, cli_of
from ops.errors import ConflictError, OpsError, UnreachableError, UsageError, describe, is_unreachable
from ops.factory import Factory, Target
from ops.output import emit_json, say, table, warn

# Choices come from the contract, so the CLI can never offer a state the APIs do not know.
State = StrEnum("State", {name: name for name in STATES})


class Via(StrEnum):
    auto = "auto"
    primary = "primary"
    secondary = "secondary"


# Straight jumps between the two writable states skip the fence that lets replication drain.
RISKY = {("active", "failover"), ("failover", "active")}
HASH_KEY = Table.KEYS[Table.APP_CONFIG][0]
_plain = TypeDeserializer()


class RegionDownError(Exception):
    """A region did not answer (connection error, timeout, 5xx)."""

    def __init__(self, role: str, region: str, cause: BaseException):
        super().__init__(f"{role} region {region} unreachable ({describe(cause)})")
        self.role, self.region, self.cause = role, region, cause


@dataclass
class RegionState:
    """The state item as one region sees it."""

    role: str
    region: str
    reachable: bool
    found: bool = False
    state: str | None = None
    version: int | None = None
    updatedAt: int | None = None  # noqa: N815 (the item's attribute names, also in --json)
    updatedBy: str | None = None  # noqa: N815
    error: str | None = None


def plain_item(item: dict[str, Any]) -> dict[str, Any]:
    """DynamoDB JSON -> Python, numbers as int where whole."""

    def tidy(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: tidy(v) for k, v in value.items()}
        if isinstance(value, list):
            return [tidy(v) for v in value]
        if isinstance(value, Decimal):
            return int(value) if value == int(value) else float(value)
        return value

    return {key: tidy(_plain.deserialize(value)) for key, value in item.items()}


def get_item(factory: Factory, target: Target, role: str, *, fast: bool = True) -> dict[str, Any] | None:
    """The state item in one region (ConsistentRead); RegionDownError if the region does not answer."""
    region = target.region(role)
    client = factory.client(target, "dynamodb", region, fast=fast)
    try:
        answer = client.get_item(
            TableName=target.table(Table.APP_CONFIG), Key={HASH_KEY: {"S": target.app_id}}, ConsistentRead=True
        )
    except (BotoCoreError, ClientError) as error:
        if is_unreachable(error):
            raise RegionDownError(role, region, error) from error
        raise
    item = answer.get("Item")
    return plain_item(item) if item else None


def read_state(factory: Factory, target: Target, role: str) -> RegionState:
    region = target.region(role)
    try:
        item = get_item(factory, target, role)
    except RegionDownError as down:
        return RegionState(role=role, region=region, reachable=False, error=describe(down.cause))
    if item is None:
        return RegionState(role=role, region=region, reachable=True, error="no state item")
    return RegionState(
        role=role,
        region=region,
        reachable=True,
        found=True,
        state=item.get("state"),
        version=item.get("version"),
        updatedAt=item.get("updatedAt"),
        updatedBy=item.get("updatedBy"),
    )


def agreement(states: list[RegionState]) -> bool | None:
    """True/False when every region answered with an item; None when it cannot be told."""
    if not all(s.reachable and s.found for s in states):
        return None
    return len({(s.state, s.version) for s in states}) == 1


# ---------------------------------------------------------------- set


@dataclass
class Change:
    changed: bool
    from_state: str
    to_state: str
    version: int | None
    via: str
    region: str
    fallback: bool = False


def risky_reason(current: str, wanted: str) -> str:
    return (
        f"refusing {current} -> {wanted} without passing through fenced: writes the "
        f"{'primary' if current == 'active' else 'secondary'} accepted may still be replicating, and switching "
        "straight over could lose them or let the two regions diverge. Run `state set fenced`, wait until "
        "`status` shows replication caught up, then switch; or pass --force to switch anyway"
    )


def caller_arn(factory: Factory, target: Target, region: str) -> str:
    """Who is writing, for the audit trail; never blocks a switch."""
    try:
        return str(factory.client(target, "sts", region, fast=True).get_caller_identity()["Arn"])
    except (BotoCoreError, ClientError):
        return "unknown (sts unavailable)"


def _set_in(
    factory: Factory, target: Target, role: str, wanted: str, *, force: bool, reason: str | None
) -> Change:
    region = target.region(role)
    item = get_item(factory, target, role)
    if item is None:
        raise OpsError(f"no state item for appId {target.app_id} in {region}: is the stack deployed?")
    current, version = str(item.get("state")), item.get("version")
    if current == wanted:
        return Change(False, current, wanted, version, role, region)
    if (current, wanted) in RISKY and not force:
        raise ConflictError(risky_reason(current, wanted))

    now, by = factory.now_ms(), caller_arn(factory, target, region)
    entry: dict[str, Any] = {
        "from": {"S": current},
        "to": {"S": wanted},
        "at": {"N": str(now)},
        "by": {"S": by},
        "via": {"S": role},
        "region": {"S": region},
        "tool": {"S": "ops"},
    }
    if reason:
        entry["reason"] = {"S": reason}
    if force and (current, wanted) in RISKY:
        entry["forced"] = {"BOOL": True}
    values: dict[str, Any] = {
        ":to": {"S": wanted},
        ":next": {"N": str((version or 0) + 1)},
        ":at": {"N": str(now)},
        ":by": {"S": by},
        ":none": {"L": []},
        ":change": {"L": [{"M": entry}]},
    }
    if version is None:
        condition = "attribute_exists(#key) AND attribute_not_exists(#version)"
    else:
        condition = "attribute_exists(#key) AND #version = :expected"
        values[":expected"] = {"N": str(version)}
    client = factory.client(target, "dynamodb", region, fast=role == "primary")
    try:
        answer = client.update_item(
            TableName=target.table(Table.APP_CONFIG),
            Key={HASH_KEY: {"S": target.app_id}},
            UpdateExpression="SET #state = :to, #version = :next, #updatedAt = :at, #updatedBy = :by, "
            "#history = list_append(if_not_exists(#history, :none), :change)",
            ConditionExpression=condition,
            ExpressionAttributeNames={
                "#key": HASH_KEY,
                "#state": "state",
                "#version": "version",
                "#updatedAt": "updatedAt",
                "#updatedBy": "updatedBy",
                "#history": "history",
            },
            ExpressionAttributeValues=values,
            ReturnValues="ALL_NEW",
        )
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
            raise ConflictError(_conflict_message(factory, target, role, current, version)) from None
        if is_unreachable(error):
            raise RegionDownError(role, region, error) from error
        raise
    except BotoCoreError as error:
        if is_unreachable(error):
            raise RegionDownError(role, region, error) from error
        raise
    new = plain_item(answer.get("Attributes", {}))
    return Change(True, current, wanted, new.get("version"), role, region)


def _conflict_message(factory: Factory, target: Target, role: str, current: str, version: int | None) -> str:
    seen = ""
    try:
        now = get_item(factory, target, role) or {}
        seen = f", now {now.get('state')} (version {now.get('version')})"
    except (RegionDownError, BotoCoreError, ClientError):
        pass
    return (
        f"state changed concurrently in {target.region(role)}: read {current} (version {version}){seen}; "
        "nothing written. Check `state get` and try again"
    )


def set_state(
    factory: Factory,
    target: Target,
    wanted: str,
    *,
    via: Via = Via.auto,
    force: bool = False,
    reason: str | None = None,
    notify: Callable[[str], None] = say,
) -> Change:
    """Switch the state through one region; with `auto`, the secondary when the primary is down."""
    order = list(REGION_ROLES) if via is Via.auto else [via.value]
    downs: list[RegionDownError] = []
    for index, role in enumerate(order):
        try:
            change = _set_in(factory, target, role, wanted, force=force, reason=reason)
            change.fallback = index > 0
            return change
        except RegionDownError as down:
            downs.append(down)
            if index + 1 < len(order):
                nxt = order[index + 1]
                notify(f"{down}; writing through the {nxt} region ({target.region(nxt)}) instead")
    if via is Via.primary:
        raise UnreachableError(f"{downs[0]}: to switch through the secondary use --via secondary (or auto)")
    raise UnreachableError("; ".join(str(d) for d in downs) if len(downs) > 1 else
                           f"{downs[0]}: nothing written")


# ---------------------------------------------------------------- CLI

app = typer.Typer(
    cls=OpsGroup,
    rich_markup_mode=None,
    no_args_is_help=True,
    help="Read or switch the routing state (active / fenced / failover) in both regions.",
)


@app.command("get")
def get_command(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON on stdout.")] = False,
) -> None:
    """Read the state item in BOTH regions (consistent reads) and say whether they agree.

    Exit 0 if at least one region answered (an unreachable region is reported), 4 if none did."""
    target = cli_of(ctx).target()
    target.check("tables")
    states = [read_state(cli_of(ctx).factory, target, role) for role in REGION_ROLES]
    consistent = agreement(states)
    if as_json:
        emit_json({"appId": target.app_id, "regions": {s.role: asdict(s) for s in states}, "consistent": consistent})
    else:
        table(
            f"routing state of {target.app_id} ({target.kind} {target.name})",
            ["role", "region", "state", "version", "updatedAt", "by"],
            [
                [s.role, s.region, s.state if s.found else f"({s.error})", s.version, s.updatedAt, s.updatedBy]
                for s in states
            ],
        )
    for s in states:
        if not s.reachable:
            warn(f"{s.role} region {s.region} unreachable: {s.error}")
        elif not s.found:
            warn(f"{s.role} region {s.region} has no state item for {target.app_id}")
    if consistent is False:
        detail = ", ".join(f"{s.role} {s.state} (version {s.version})" for s in states)
        warn(f"regions disagree: {detail}. Replication may be in flight: run again in a few seconds")
    if not any(s.reachable for s in states):
        raise UnreachableError("no region answered")


@app.command("set")
def set_command(
    ctx: typer.Context,
    state: Annotated[State, typer.Argument(help="The new state.", case_sensitive=False)],
    via: Annotated[
        Via, typer.Option(help="Region to write through; auto = primary, or the secondary if the primary is down.")
    ] = Via.auto,
    force: Annotated[bool, typer.Option("--force", help="Allow active <-> failover without fenced.")] = False,
    reason: Annotated[str | None, typer.Option(help="Why, recorded in the item's history.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON on stdout.")] = False,
) -> None:
    """Switch the state: conditional write on the version just read, audit entry in history.

    Refuses active -> failover and failover -> active without --force (go through fenced).
    Same state: nothing written, exit 0. Concurrent change: exit 3. No region reachable: exit 4."""
    if reason is not None and not reason.strip():
        raise UsageError("--reason must not be empty")
    target = cli_of(ctx).target()
    target.check("tables")
    change = set_state(cli_of(ctx).factory, target, state.value, via=via, force=force, reason=reason)
    if as_json:
        emit_json({
            "changed": change.changed,
            "from": change.from_state,
            "to": change.to_state,
            "version": change.version,
            "via": change.via,
            "region": change.region,
            "fallback": change.fallback,
        })
    if change.changed:
        say(f"state {change.from_state} -> {change.to_state} (version {change.version}) written through the "
            f"{change.via} region ({change.region}); the other region follows by replication")
    else:
        say(f"state is already {change.to_state} in {change.region} (version {change.version}): nothing to do")
