"""`status`: per region the state, item counts and a replication-lag probe in each direction.

The probe writes `{appId: "<appId>#probe", token, writtenAt, writtenIn}` with UpdateItem (the
operator role's only write on the AppConfig table) in one region and polls the other with
consistent reads until the token shows, bounded by --probe-timeout.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from typing import Annotated, Any

import typer
from botocore.exceptions import BotoCoreError, ClientError

from components.contract import GALLERY, REGION_ROLES, Table
from ops.context import cli_of
from ops.errors import UnreachableError, describe, is_unreachable
from ops.factory import Factory, Target
from ops.output import JsonOption, emit_json, say, table, warn
from ops.state import HASH_KEY, RegionState, read_state

POLL_SECONDS = 0.1
MAX_QUERY_PAGES = 1000  # photos: one partition, 1 MB pages


@dataclass
class Count:
    count: int | None
    complete: bool = True
    error: str | None = None

    def text(self) -> str:
        if self.count is None:
            return f"({self.error})"
        return str(self.count) if self.complete else f">= {self.count} (stopped after the page limit)"


@dataclass
class Probe:
    source: str  # role written to
    destination: str  # role polled
    replicated: bool
    lagMs: int | None  # noqa: N815 (JSON name)
    timeoutS: float  # noqa: N815
    error: str | None = None

    def text(self, target: Target) -> str:
        route = f"{target.region(self.source)} -> {target.region(self.destination)}"
        if self.error:
            return f"{route}: {self.error}"
        if self.replicated:
            return f"{route}: {self.lagMs} ms"
        return f"{route}: not replicated within {self.timeoutS:g} s"


def _count(pages: Any, limit: int) -> Count:
    total, complete = 0, False
    for index, page in enumerate(pages):
        total += int(page.get("Count", 0))
        if index + 1 >= limit and page.get("LastEvaluatedKey"):
            break
    else:
        complete = True
    return Count(total, complete)


def count_photos(factory: Factory, target: Target, role: str) -> Count:
    client = factory.client(target, "dynamodb", target.region(role))
    hash_key = Table.KEYS[Table.PHOTOS][0]
    pages = client.get_paginator("query").paginate(
        TableName=target.table(Table.PHOTOS),
        KeyConditionExpression="#g = :g",
        ExpressionAttributeNames={"#g": hash_key},
        ExpressionAttributeValues={":g": {"S": GALLERY}},
        Select="COUNT",
    )
    return _count(pages, MAX_QUERY_PAGES)


def count_comments(factory: Factory, target: Target, role: str, scan_pages: int) -> Count:
    client = factory.client(target, "dynamodb", target.region(role))
    pages = client.get_paginator("scan").paginate(TableName=target.table(Table.COMMENTS), Select="COUNT")
    return _count(pages, scan_pages)


def _safe_count(fn: Any, *args: Any) -> Count:
    try:
        return fn(*args)
    except (BotoCoreError, ClientError) as error:
        return Count(None, False, ("unreachable: " if is_unreachable(error) else "") + describe(error))


def probe(factory: Factory, target: Target, source: str, destination: str, timeout: float) -> Probe:
    """Write a probe in `source`, poll `destination` until it shows or `timeout` s pass."""
    token = uuid.uuid4().hex
    key = {HASH_KEY: {"S": f"{target.app_id}#probe"}}
    table_name = target.table(Table.APP_CONFIG)
    writer = factory.client(target, "dynamodb", target.region(source), fast=True)
    reader = factory.client(target, "dynamodb", target.region(destination), fast=True)
    try:
        writer.update_item(
            TableName=table_name,
            Key=key,
            UpdateExpression="SET #token = :token, #at = :at, #in = :in",
            ExpressionAttributeNames={"#token": "token", "#at": "writtenAt", "#in": "writtenIn"},
            ExpressionAttributeValues={
                ":token": {"S": token},
                ":at": {"N": str(factory.now_ms())},
                ":in": {"S": target.region(source)},
            },
        )
    except (BotoCoreError, ClientError) as error:
        return Probe(source, destination, False, None, timeout, f"probe write failed: {describe(error)}")
    started = factory.clock()
    while True:
        try:
            item = reader.get_item(TableName=table_name, Key=key, ConsistentRead=True).get("Item") or {}
        except (BotoCoreError, ClientError) as error:
            return Probe(source, destination, False, None, timeout, f"probe read failed: {describe(error)}")
        elapsed = factory.clock() - started
        if item.get("token", {}).get("S") == token:
            return Probe(source, destination, True, int(elapsed * 1000), timeout)
        if elapsed >= timeout:
            return Probe(source, destination, False, None, timeout)
        factory.sleep(POLL_SECONDS)


def status_command(
    ctx: typer.Context,
    probe_timeout: Annotated[
        float, typer.Option(min=0, help="Seconds to wait for each replication probe; 0 skips the probes.")
    ] = 10.0,
    scan_pages: Annotated[int, typer.Option(min=1, help="Pages (1 MB each) to scan when counting comments.")] = 10,
    as_json: JsonOption = False,
) -> None:
    """Per region: state, photo and comment counts, and replication lag in both directions.

    Exit 0 if at least one region answered (an unreachable region is reported), 4 if none did."""
    cli = cli_of(ctx)
    target = cli.target()
    target.check("tables")
    factory = cli.factory
    regions: dict[str, dict[str, Any]] = {}
    states: dict[str, RegionState] = {}
    for role in REGION_ROLES:
        states[role] = state = read_state(factory, target, role)
        entry: dict[str, Any] = {"region": target.region(role), "reachable": state.reachable, "state": asdict(state)}
        if state.reachable:
            entry["photos"] = asdict(_safe_count(count_photos, factory, target, role))
            entry["comments"] = asdict(_safe_count(count_comments, factory, target, role, scan_pages))
        regions[role] = entry

    probes: list[Probe] = []
    if probe_timeout > 0 and all(s.reachable for s in states.values()):
        for source, destination in (REGION_ROLES, tuple(reversed(REGION_ROLES))):
            say(f"probing replication {target.region(source)} -> {target.region(destination)} "
                f"(up to {probe_timeout:g} s)...")
            probes.append(probe(factory, target, source, destination, probe_timeout))
    elif probe_timeout > 0:
        warn("replication probe skipped: a region is unreachable")

    if as_json:
        emit_json({"appId": target.app_id, "regions": regions, "replication": [asdict(p) for p in probes]})
    else:
        rows = []
        for role, entry in regions.items():
            state = states[role]
            if not state.reachable:
                rows.append([role, entry["region"], f"unreachable ({state.error})", None, None])
                continue
            rows.append([
                role,
                entry["region"],
                f"{state.state} (v{state.version})" if state.found else f"({state.error})",
                Count(**entry["photos"]).text(),
                Count(**entry["comments"]).text(),
            ])
        table(f"status of {target.app_id} ({target.label})",
              ["role", "region", "state", "photos", "comments"], rows)
        for p in probes:
            say(f"replication {p.text(target)}")
    if not any(s.reachable for s in states.values()):
        raise UnreachableError("no region answered")
