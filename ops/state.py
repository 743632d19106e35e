"""`state get` / `state set` / `state history` / `state migrate`: the routing state in both regions.

The state item is contract.StateItem ({appId, state, version, updatedAt, updatedBy}: one size forever).
Every switch is contract.switch_transaction: one TransactWriteItems that updates the item only if its
state and version are still those read just before (optimistic locking, version + 1) and puts the
switch's audit record (contract.AuditRecord) in the replicated stateAudit table. The operator API
(PUT /state) and the auto-failover state machine write the same transaction.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

import typer
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import BotoCoreError, ClientError

from components.contract import REGION_ROLES, STATES, AuditRecord, StateItem, Table, audit_key, switch_transaction
from ops.context import OpsGroup, cli_of
from ops.errors import ConflictError, OpsError, UnreachableError, UsageError, describe, is_unreachable
from ops.factory import Factory, Target
from ops.output import JsonOption, emit_json, human_time, say, short_arn, table, warn

# Choices come from the contract, so the CLI can never offer a state the APIs do not know.
State = StrEnum("State", {name: name for name in STATES})
TOOL = AuditRecord.OPS_TOOL


class Via(StrEnum):
    auto = "auto"
    primary = "primary"
    secondary = "secondary"


# Straight jumps between the two writable states skip the fence that lets replication drain.
RISKY = {("active", "failover"), ("failover", "active")}
HASH_KEY = StateItem.APP_ID
_plain = TypeDeserializer()
_dynamo = TypeSerializer()


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
    legacyHistory: int = 0  # noqa: N815 (entries of a legacy `history` list still inside the item)

    def reads(self, state: str, version: int | None) -> bool:
        """The region holds `state` at `version` or later (None: at any version)."""
        return self.found and self.state == state and (version is None or (self.version or 0) >= version)


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


def _guarded(role: str, region: str, call: Callable[[], Any]) -> Any:
    """Run a DynamoDB call of one region; RegionDownError when the region does not answer."""
    try:
        return call()
    except (BotoCoreError, ClientError) as error:
        if is_unreachable(error):
            raise RegionDownError(role, region, error) from error
        raise


def get_item(factory: Factory, target: Target, role: str, *, fast: bool = True) -> dict[str, Any] | None:
    """The state item in one region (ConsistentRead); RegionDownError if the region does not answer."""
    region = target.region(role)
    client = factory.client(target, "dynamodb", region, fast=fast)
    answer = _guarded(role, region, lambda: client.get_item(
        TableName=target.table(Table.APP_CONFIG), Key={HASH_KEY: {"S": target.app_id}}, ConsistentRead=True))
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
        state=item.get(StateItem.STATE),
        version=item.get(StateItem.VERSION),
        updatedAt=item.get(StateItem.UPDATED_AT),
        updatedBy=item.get(StateItem.UPDATED_BY),
        legacyHistory=len(item.get(StateItem.LEGACY_HISTORY) or []),
    )


def agreement(states: list[RegionState]) -> bool | None:
    """True/False when every region answered with an item; None when it cannot be told."""
    if not all(s.reachable and s.found for s in states):
        return None
    return len({(s.state, s.version) for s in states}) == 1


def wait_for_state(factory: Factory, target: Target, role: str, state: str, version: int | None, timeout: float,
                   interval: float = 0.1) -> RegionState:
    """Poll `role`'s region (consistent reads) until it holds `state` at `version` or later, or `timeout`
    seconds pass; the last reading either way (a region that does not answer is polled again)."""
    began = factory.clock()
    while True:
        seen = read_state(factory, target, role)
        if seen.reads(state, version):
            return seen
        if factory.clock() - began >= timeout:
            return seen
        factory.sleep(interval)


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
    auditKey: str | None = None  # noqa: N815 (JSON name)


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


def _cancelled_by_state(error: ClientError) -> bool:
    """A cancelled switch transaction whose state-item condition failed (the item changed meanwhile)."""
    if error.response.get("Error", {}).get("Code") != "TransactionCanceledException":
        return False
    reasons = [r.get("Code") for r in error.response.get("CancellationReasons") or []]
    return "ConditionalCheckFailed" in reasons or not reasons


def _set_in(
    factory: Factory, target: Target, role: str, wanted: str, *, force: bool, reason: str | None
) -> Change:
    region = target.region(role)
    item = get_item(factory, target, role)
    if item is None:
        raise OpsError(f"no state item for appId {target.app_id} in {region}: is the stack deployed?")
    current, version = str(item.get(StateItem.STATE)), item.get(StateItem.VERSION)
    if current == wanted:
        return Change(False, current, wanted, version, role, region)
    if (current, wanted) in RISKY and not force:
        raise ConflictError(risky_reason(current, wanted))
    if StateItem.LEGACY_HISTORY in item:
        warn(f"the state item in {region} still carries a `{StateItem.LEGACY_HISTORY}` list: move it to the audit "
             "table with `state migrate` (dry run first)")

    now, by = factory.now_ms(), caller_arn(factory, target, region)
    key = audit_key(now, uuid.uuid4().hex)
    request = switch_transaction(
        state_table=target.table(Table.APP_CONFIG), audit_table=target.table(Table.STATE_AUDIT),
        app_id=target.app_id, to=wanted, expected_version=None if version is None else str(version), at=str(now),
        by=by, tool=TOOL, via=role, key=key, from_state=current, reason=reason,
        forced=force and (current, wanted) in RISKY,
    )
    client = factory.client(target, "dynamodb", region, fast=role == "primary")
    try:
        _guarded(role, region, lambda: client.transact_write_items(**request))
    except ClientError as error:
        if _cancelled_by_state(error):
            raise ConflictError(_conflict_message(factory, target, role, current, version)) from None
        raise
    return Change(True, current, wanted, (version or 0) + 1, role, region, auditKey=key)


def _conflict_message(factory: Factory, target: Target, role: str, current: str, version: int | None) -> str:
    seen = ""
    try:
        now = get_item(factory, target, role) or {}
        seen = f", now {now.get(StateItem.STATE)} (version {now.get(StateItem.VERSION)})"
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


# ---------------------------------------------------------------- history


def history(factory: Factory, target: Target, limit: int, notify: Callable[[str], None] = say
            ) -> tuple[str, list[dict[str, Any]]]:
    """(role read, audit records newest first): the primary's table, else the secondary's replica."""
    downs: list[RegionDownError] = []
    for role in REGION_ROLES:
        region = target.region(role)
        client = factory.client(target, "dynamodb", region, fast=True)
        try:
            answer = _guarded(role, region, lambda c=client: c.query(
                TableName=target.table(Table.STATE_AUDIT), KeyConditionExpression="#app = :app",
                ExpressionAttributeNames={"#app": AuditRecord.APP_ID},
                ExpressionAttributeValues={":app": {"S": target.app_id}}, ScanIndexForward=False, Limit=limit))
        except RegionDownError as down:
            downs.append(down)
            if role == REGION_ROLES[0]:
                notify(f"{down}; reading the secondary's replica of the audit table")
            continue
        return role, [plain_item(item) for item in answer.get("Items", [])]
    raise UnreachableError("; ".join(str(d) for d in downs))


def _history_row(record: dict[str, Any]) -> list[Any]:
    change = f"{record.get(AuditRecord.FROM, '?')} -> {record.get(AuditRecord.TO)}"
    version = record.get(AuditRecord.FROM_VERSION)
    flags = " (forced)" if record.get(AuditRecord.FORCED) else ""
    return [human_time(record.get(AuditRecord.AT)), change + flags, None if version is None else version + 1,
            f"{record.get(AuditRecord.TOOL)}/{record.get(AuditRecord.VIA)}", short_arn(record.get(AuditRecord.BY)),
            record.get(AuditRecord.REASON)]


# ---------------------------------------------------------------- migrate


def legacy_records(app_id: str, item: dict[str, Any]) -> list[dict[str, Any]]:
    """The audit records of an item's legacy `history` list (plain values), oldest first.

    Each entry gets a key derived from its time and position (re-running creates nothing twice) and the
    version it was conditioned on, counted back from the item's version (one per entry)."""
    entries = [e for e in item.get(StateItem.LEGACY_HISTORY) or [] if isinstance(e, dict)]
    last = int(item.get(StateItem.VERSION) or len(entries))
    records = []
    for index, entry in enumerate(entries):
        at = int(entry.get("at") or item.get(StateItem.UPDATED_AT) or 0)
        via = str(entry.get("via") or "")
        tool = str(entry.get("tool") or (via if via in AuditRecord.TOOLS else TOOL))
        record: dict[str, Any] = {
            AuditRecord.APP_ID: app_id,
            AuditRecord.AUDIT_KEY: audit_key(at, f"history-{index:05d}"),
            AuditRecord.TO: str(entry.get("to") or "?"),
            AuditRecord.FROM_VERSION: max(0, last - len(entries) + index),
            AuditRecord.AT: at,
            AuditRecord.BY: str(entry.get("by") or "unknown"),
            AuditRecord.TOOL: tool,
            AuditRecord.VIA: via if via in REGION_ROLES else str(entry.get("region") or "unknown"),
            AuditRecord.MIGRATED: True,
        }
        for name in (AuditRecord.FROM, AuditRecord.REASON, AuditRecord.FORCED):
            if entry.get(name) is not None:
                record[name] = entry[name]
        records.append(record)
    return records


@dataclass
class Migration:
    region: str
    entries: int
    itemBytes: int  # noqa: N815 (JSON names)
    written: int = 0
    alreadyThere: int = 0  # noqa: N815
    removed: bool = False


def migrate(factory: Factory, target: Target, role: str, *, apply: bool, attempts: int = 3) -> Migration:
    """Move a legacy `history` list out of the state item into audit records (records first, then the list
    goes, only if the item did not change meanwhile: no switch is lost at any point)."""
    region = target.region(role)
    client = factory.client(target, "dynamodb", region)
    for _ in range(attempts):
        item = get_item(factory, target, role, fast=False)
        if item is None:
            raise OpsError(f"no state item for appId {target.app_id} in {region}: is the stack deployed?")
        records = legacy_records(target.app_id, item)
        size = len(json.dumps(item, default=str).encode())
        result = Migration(region=region, entries=len(records), itemBytes=size)
        if not apply or StateItem.LEGACY_HISTORY not in item:
            return result
        for record in records:
            try:
                _guarded(role, region, lambda r=record: client.put_item(
                    TableName=target.table(Table.STATE_AUDIT),
                    Item={k: _dynamo.serialize(v) for k, v in r.items()},
                    ConditionExpression="attribute_not_exists(#key)",
                    ExpressionAttributeNames={"#key": AuditRecord.AUDIT_KEY}))
                result.written += 1
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                    raise
                result.alreadyThere += 1
        version = item.get(StateItem.VERSION)
        unchanged: dict[str, Any] = (
            {"ConditionExpression": "#version = :seen", "ExpressionAttributeValues": {":seen": {"N": str(version)}}}
            if version is not None else {"ConditionExpression": "attribute_not_exists(#version)"})
        try:
            _guarded(role, region, lambda: client.update_item(
                TableName=target.table(Table.APP_CONFIG), Key={HASH_KEY: {"S": target.app_id}},
                UpdateExpression="REMOVE #history",
                ExpressionAttributeNames={"#history": StateItem.LEGACY_HISTORY, "#version": StateItem.VERSION},
                **unchanged))  # noqa: B023 (called at once, inside this iteration)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                continue  # switched meanwhile: read again (the records written stay, none is written twice)
            raise
        result.removed = True
        return result
    raise ConflictError(f"the state item in {region} kept changing during the migration: run it again")


# ---------------------------------------------------------------- CLI

app = typer.Typer(
    cls=OpsGroup,
    rich_markup_mode=None,
    no_args_is_help=True,
    help="Read or switch the routing state (active / fenced / failover) in both regions, and its audit trail.",
)


@app.command("get")
def get_command(ctx: typer.Context, as_json: JsonOption = False) -> None:
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
            f"routing state of {target.app_id} ({target.label})",
            ["role", "region", "state", "version", "updated (UTC)", "by"],
            [
                [s.role, s.region, s.state if s.found else f"({s.error})", s.version, human_time(s.updatedAt),
                 short_arn(s.updatedBy)]
                for s in states
            ],
            keep=("updated (UTC)",),
        )
    for s in states:
        if not s.reachable:
            warn(f"{s.role} region {s.region} unreachable: {s.error}")
        elif not s.found:
            warn(f"{s.role} region {s.region} has no state item for {target.app_id}")
        elif s.legacyHistory:
            warn(f"the state item in {s.region} still carries {s.legacyHistory} legacy history entries (every read "
                 "pays for them): move them to the audit table with `state migrate` (dry run first)")
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
    reason: Annotated[str | None, typer.Option(help="Why, recorded in the switch's audit record.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Switch the state: one transaction, conditional on the state and version just read, with its audit record.

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
            "auditKey": change.auditKey,
        })
    if change.changed:
        say(f"state {change.from_state} -> {change.to_state} (version {change.version}) written through the "
            f"{change.via} region ({change.region}); the other region follows by replication")
    else:
        say(f"state is already {change.to_state} in {change.region} (version {change.version}): nothing to do")


@app.command("history")
def history_command(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="How many switches, newest first.")] = 20,
    as_json: JsonOption = False,
) -> None:
    """The switches recorded in the audit table (ops, the operator API, the auto failover), newest first.

    Read in the primary, or the secondary's replica when the primary does not answer (exit 4 if neither)."""
    target = cli_of(ctx).target()
    target.check("tables")
    role, records = history(cli_of(ctx).factory, target, limit)
    if as_json:
        emit_json({"appId": target.app_id, "region": target.region(role), "records": records})
        return
    table(f"state switches of {target.app_id} ({target.label}, {role} region), newest first",
          ["at (UTC)", "change", "version", "tool/via", "by", "reason"], [_history_row(r) for r in records],
          keep=("at (UTC)", "change"))
    if not records:
        say("no switch recorded yet")


@app.command("migrate")
def migrate_command(
    ctx: typer.Context,
    apply: Annotated[bool, typer.Option("--apply", help="Write the records and remove the list (default: dry run).")]
    = False,
    via: Annotated[Via, typer.Option(help="Region to migrate through (replication carries it to the other).")]
    = Via.primary,
    as_json: JsonOption = False,
) -> None:
    """Move the `history` list older releases kept inside the state item into audit records (dry run first).

    Idempotent: records already moved are not written twice; the list is removed only once every entry
    is a record and only if the item did not change meanwhile."""
    target = cli_of(ctx).target()
    target.check("tables")
    role = REGION_ROLES[0] if via is Via.auto else via.value
    try:
        result = migrate(cli_of(ctx).factory, target, role, apply=apply)
    except RegionDownError as down:
        raise UnreachableError(f"{down}: try --via {'secondary' if role == 'primary' else 'primary'}") from None
    if as_json:
        emit_json({**asdict(result), "applied": apply})
    if result.entries == 0:
        say(f"the state item in {result.region} has no history list ({result.itemBytes} bytes): nothing to migrate")
    elif not apply:
        say(f"dry run: {result.entries} history entries ({result.itemBytes}-byte item) in {result.region} would "
            "become audit records; run again with --apply")
    else:
        say(f"moved {result.entries} history entries to the audit table ({result.written} written, "
            f"{result.alreadyThere} already there); the state item in {result.region} is back to its few "
            "attributes")
