"""`photos sweep`: photo objects that no registration names, in both regions; a dry run unless --apply.
`photos migrate`: the uniqueness marker of every registered photo that lacks one; a dry run unless --apply.

Bytes reach S3 before their registration, and only the registration is fenced (docs/identity.md, "What the
fence covers"): an upload whose registration was refused (fenced, a photo id already taken) or never sent (a
browser closed between the two steps) stays in the bucket, invisible to the gallery. The sweep lists the
objects under `public/` of both buckets, THEN reads every registration (the `key` of each gallery item) of
both regions' photos tables, and removes the objects that no registration names and that are older than
--older-than-hours (default 24, at least 1): the age is the margin for an upload whose registration is on its
way, and listing before reading means a registration committed before the read is always seen.

Never removes a registered object: the registrations of both regions are read in full first (a record written
in one region may not have replicated yet), and if either cannot be read, nothing is deleted (exit 4).

The photo buckets are versioned: a delete is a delete marker (replicated to the other region like any delete),
and the bytes stay as a noncurrent version until the bucket's lifecycle rule expires them
(`noncurrentVersionDays`, 30 days by default); until then an operator can bring one back by deleting its marker.

The operator policy grants exactly this (components/operator.py): `s3:ListBucket` under `public/`,
`s3:DeleteObject` on `public/*`, and `dynamodb:Query` on the photos table.

Registration puts a uniqueness marker per photo id (contract.photo_id_marker) with the gallery item, so an id is
registered once, by anyone. Photos registered by releases older than the markers have none, so anybody could
register their ids again (a second gallery entry, another owner). The migration reads the gallery items and the
markers of the primary's photos table (a global table: every registration of either region is there once
replicated, and a marker written there replicates to the secondary like any registration) and puts the missing
markers, each conditional on its absence (GalleryItem.MARKER_CONDITION): a marker is never overwritten, whether a
registration or another run wrote it meanwhile. The operator may put items in that table's marker partition only
(`dynamodb:PutItem` with `dynamodb:LeadingKeys` = PHOTO_IDS, the primary's table).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Annotated, Any

import typer
from botocore.exceptions import BotoCoreError, ClientError

from components.contract import (
    GALLERY,
    PHOTO_IDS,
    PHOTO_PREFIX,
    REGION_ROLES,
    GalleryItem,
    RegionOut,
    Table,
    photo_id_marker,
)
from ops.context import OpsGroup, cli_of
from ops.errors import OpsError, UnreachableError, describe, is_unreachable
from ops.factory import Factory, Target
from ops.output import JsonOption, emit_json, human_time, say, table

DEFAULT_HOURS = 24
MAX_HOURS = 24 * 365 * 10
HOUR_MS = 3_600_000
MAX_PAGES = 10_000  # ListObjectsV2 (1,000 keys) and Query (1 MB) pages: a bound, never reached by the app
DELETE_BATCH = 1000  # DeleteObjects takes at most 1,000 keys


@dataclass
class Stray:
    """An object under public/ that no registration names, older than the cut-off."""

    role: str
    region: str
    key: str
    lastModified: int  # noqa: N815 (JSON names) epoch ms
    size: int
    deleted: bool = False
    error: str | None = None


@dataclass
class SweepResult:
    dryRun: bool  # noqa: N815
    olderThanHours: int  # noqa: N815
    registered: int = 0  # distinct object keys the registrations of both regions name
    listed: dict[str, int] = field(default_factory=dict)  # role -> objects under public/
    younger: int = 0  # unregistered, but too recent to remove
    strays: list[Stray] = field(default_factory=list)

    @property
    def failed(self) -> list[Stray]:
        return [s for s in self.strays if s.error]


class _ReadError(Exception):
    def __init__(self, what: str, cause: BaseException):
        super().__init__(f"{what}: {describe(cause)}")
        self.cause = cause


def _pages(paginator: Any, what: str, **request: Any) -> Iterator[dict[str, Any]]:
    """Every page of a listing; refuses to go on past MAX_PAGES (an incomplete read must not look complete)."""
    for index, page in enumerate(paginator.paginate(**request)):
        if index >= MAX_PAGES:
            raise OpsError(f"{what} has more than {MAX_PAGES} pages: nothing deleted")
        yield page


def list_objects(factory: Factory, target: Target, role: str) -> list[dict[str, Any]]:
    """The current objects under public/ of `role`'s photo bucket (delete markers hide theirs)."""
    client = factory.client(target, "s3", target.region(role))
    bucket = target.region_value(role, RegionOut.BUCKET)
    what = f"the photo bucket of {target.region(role)}"
    try:
        return [obj for page in _pages(client.get_paginator("list_objects_v2"), what, Bucket=bucket,
                                       Prefix=PHOTO_PREFIX)
                for obj in page.get("Contents", [])]
    except (BotoCoreError, ClientError) as error:
        raise _ReadError(f"could not list {what}", error) from None


def registered_keys(factory: Factory, target: Target, role: str) -> set[str]:
    """The object keys the gallery items of `role`'s photos table name."""
    client = factory.client(target, "dynamodb", target.region(role))
    what = f"the photo registrations of {target.region(role)}"
    try:
        items = partition(client, target, GALLERY, what, (GalleryItem.KEY,))
        return {item[GalleryItem.KEY]["S"] for item in items if GalleryItem.KEY in item}
    except (BotoCoreError, ClientError) as error:
        raise _ReadError(f"could not read {what}", error) from None


def partition(client: Any, target: Target, name: str, what: str, attributes: tuple[str, ...]) -> list[dict[str, Any]]:
    """Every item of one partition of the photos table (consistent reads), `attributes` only (DynamoDB JSON)."""
    names = {f"#a{index}": attribute for index, attribute in enumerate(attributes)}
    pages = _pages(client.get_paginator("query"), what, TableName=target.table(Table.PHOTOS),
                   KeyConditionExpression="#p = :p", ProjectionExpression=", ".join(names),
                   ExpressionAttributeNames={"#p": GalleryItem.PARTITION, **names},
                   ExpressionAttributeValues={":p": {"S": name}}, ConsistentRead=True)
    return [item for page in pages for item in page.get("Items", [])]


def _batches(items: list[Stray], size: int) -> Iterable[list[Stray]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def delete_strays(factory: Factory, target: Target, role: str, strays: list[Stray]) -> None:
    """DeleteObjects in batches; each stray records whether it went and why not."""
    client = factory.client(target, "s3", target.region(role))
    bucket = target.region_value(role, RegionOut.BUCKET)
    for batch in _batches(strays, DELETE_BATCH):
        try:
            answer = client.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": s.key} for s in batch],
                                                                  "Quiet": True})
        except (BotoCoreError, ClientError) as error:
            for stray in batch:
                stray.error = describe(error)
            continue
        errors = {e.get("Key"): f"{e.get('Code')}: {e.get('Message', '')}".rstrip(": ")
                  for e in answer.get("Errors", [])}
        for stray in batch:
            stray.error = errors.get(stray.key)
            stray.deleted = stray.error is None


def sweep_photos(factory: Factory, target: Target, older_than_hours: int = DEFAULT_HOURS,
                 apply: bool = False) -> SweepResult:
    """Find (and with `apply` delete) the unregistered objects older than `older_than_hours` in both regions."""
    result = SweepResult(dryRun=not apply, olderThanHours=older_than_hours)
    cutoff_ms = factory.now_ms() - older_than_hours * HOUR_MS
    try:
        listed = {role: list_objects(factory, target, role) for role in REGION_ROLES}
        registered = set().union(*(registered_keys(factory, target, role) for role in REGION_ROLES))
    except _ReadError as failure:
        exit_as = UnreachableError if is_unreachable(failure.cause) else OpsError
        raise exit_as(f"{failure}: nothing deleted") from None
    result.registered = len(registered)
    for role, objects in listed.items():
        result.listed[role] = len(objects)
        for obj in objects:
            if obj["Key"] in registered:
                continue
            modified_ms = int(obj["LastModified"].timestamp() * 1000)
            if modified_ms >= cutoff_ms:
                result.younger += 1
                continue
            result.strays.append(Stray(role, target.region(role), obj["Key"], modified_ms, int(obj.get("Size", 0))))
    if apply:
        for role in REGION_ROLES:
            mine = [s for s in result.strays if s.role == role]
            if mine:
                delete_strays(factory, target, role, mine)
    return result


# ---------------------------------------------------------------- migrate

MIGRATE_ROLE = REGION_ROLES[0]  # the primary: its photos table holds every registration once replicated
MIGRATE_WHY = ("the photos table is a global table: every registration of either region is there once replicated, "
               "and the markers written there replicate to the secondary like any registration")


@dataclass
class MissingMarker:
    """A registered photo id without its uniqueness marker (a registration of an older release)."""

    photoId: str  # noqa: N815 (JSON names)
    owner: str
    createdAt: int  # noqa: N815 epoch ms of its (first) registration
    key: str
    registrations: int = 1  # gallery items naming the id (older releases could register one id twice)
    written: bool = False
    alreadyThere: bool = False  # noqa: N815 a marker appeared meanwhile (a registration, another run): kept
    error: str | None = None


@dataclass
class MigrateResult:
    dryRun: bool  # noqa: N815
    role: str
    region: str
    registrations: int = 0  # gallery items read
    markers: int = 0  # uniqueness markers read
    missing: list[MissingMarker] = field(default_factory=list)
    stopped: bool = False  # the primary stopped answering: the markers after the failed one were not attempted

    @property
    def failed(self) -> list[MissingMarker]:
        return [m for m in self.missing if m.error]


def _text(item: dict[str, Any], name: str) -> str:
    value = item.get(name) or {}
    return str(value.get("S") or value.get("N") or "")


def missing_markers(gallery: list[dict[str, Any]], markers: set[str]) -> list[MissingMarker]:
    """The registered photo ids (from the gallery items) without a marker, oldest first; an id registered more
    than once gets the marker of its first registration."""
    found: dict[str, MissingMarker] = {}
    for item in sorted(gallery, key=lambda i: _text(i, GalleryItem.SORT_KEY)):  # "<13-digit ms>-<photoId>"
        sort_key = _text(item, GalleryItem.SORT_KEY)
        stamp, _, derived = sort_key.partition("-")
        photo_id = _text(item, GalleryItem.PHOTO_ID) or derived
        if not photo_id or photo_id in markers:
            continue
        if photo_id in found:
            found[photo_id].registrations += 1
            continue
        created = _text(item, GalleryItem.CREATED_AT) or stamp
        found[photo_id] = MissingMarker(photo_id, _text(item, GalleryItem.OWNER) or "unknown",
                                        int(created) if created.isdigit() else 0, _text(item, GalleryItem.KEY))
    return list(found.values())


def migrate_markers(factory: Factory, target: Target, apply: bool = False) -> MigrateResult:
    """Find (and with `apply` put, conditionally) the missing uniqueness markers, in the primary's photos table."""
    role, region = MIGRATE_ROLE, target.region(MIGRATE_ROLE)
    result = MigrateResult(dryRun=not apply, role=role, region=region)
    client = factory.client(target, "dynamodb", region)
    try:
        gallery = partition(client, target, GALLERY, f"the gallery of {region}",
                            (GalleryItem.SORT_KEY, GalleryItem.PHOTO_ID, GalleryItem.OWNER, GalleryItem.CREATED_AT,
                             GalleryItem.KEY))
        markers = {_text(item, GalleryItem.SORT_KEY) for item in partition(
            client, target, PHOTO_IDS, f"the photo id markers of {region}", (GalleryItem.SORT_KEY,))}
    except (BotoCoreError, ClientError) as error:
        exit_as = UnreachableError if is_unreachable(error) else OpsError
        raise exit_as(f"could not read the photo registrations of {region}: {describe(error)}: nothing written; run "
                      "it again once the primary answers") from None
    result.registrations, result.markers = len(gallery), len(markers)
    result.missing = missing_markers(gallery, markers)
    if not apply:
        return result
    for missing in result.missing:
        try:
            client.put_item(TableName=target.table(Table.PHOTOS),
                            Item=photo_id_marker(missing.photoId, missing.owner, str(missing.createdAt)),
                            ConditionExpression=GalleryItem.MARKER_CONDITION)
            missing.written = True
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                missing.alreadyThere = True
                continue
            missing.error = describe(error)
            if is_unreachable(error):
                result.stopped = True
                break
        except BotoCoreError as error:
            missing.error = describe(error)
            result.stopped = True
            break  # the region stopped answering: the rest stay for the next run
    return result


# ---------------------------------------------------------------- CLI

app = typer.Typer(
    cls=OpsGroup,
    rich_markup_mode=None,
    no_args_is_help=True,
    help="Photo objects in both regions' buckets.",
)


@app.command("sweep")
def sweep_command(
    ctx: typer.Context,
    older_than_hours: Annotated[int, typer.Option(
        "--older-than-hours", min=1, max=MAX_HOURS,
        help="Only objects last written more than this many hours ago (the margin for a registration on its "
             "way).")] = DEFAULT_HOURS,
    apply: Annotated[bool, typer.Option("--apply", help="Delete them (default: a dry run that only lists them).")]
    = False,
    as_json: JsonOption = False,
) -> None:
    """List, in both regions, the objects under public/ that no photo registration names and that are older than
    --older-than-hours; delete them only with --apply (a delete marker: the bytes stay a noncurrent version
    until the bucket's lifecycle rule expires them). Never deletes a registered object.

    Exit 0 when done (or a dry run), 1 when a delete failed, 4 when a region does not answer (nothing deleted)."""
    target = cli_of(ctx).target()
    target.check("tables")
    result = sweep_photos(cli_of(ctx).factory, target, older_than_hours, apply)
    if as_json:
        emit_json({**asdict(result), "failed": len(result.failed)})
    elif result.strays:
        table(f"unregistered photo objects older than {older_than_hours} h ({target.label})",
              ["region", "key", "last written (UTC)", "bytes", "outcome"],
              [[s.region, s.key, human_time(s.lastModified), s.size, _outcome(s, apply)] for s in result.strays],
              keep=("last written (UTC)",))
    listed = ", ".join(f"{count} in {target.region(role)}" for role, count in result.listed.items())
    say(f"objects under {PHOTO_PREFIX}: {listed}; {result.registered} registered keys (both regions); "
        f"{result.younger} unregistered but younger than {older_than_hours} h, kept")
    if not result.strays:
        say(f"no unregistered object older than {older_than_hours} h: nothing to delete")
        return
    if not apply:
        say(f"dry run: {len(result.strays)} unregistered object(s) would be deleted; run again with --apply to "
            "delete them")
        return
    deleted = sum(s.deleted for s in result.strays)
    say(f"deleted {deleted} unregistered object(s): each is a delete marker now; the bytes stay a noncurrent "
        "version until the bucket's lifecycle rule expires them")
    if result.failed:
        for stray in result.failed:
            say(f"failed: {stray.region} {stray.key}: {stray.error}")
        raise OpsError(f"{len(result.failed)} object(s) could not be deleted")


def _outcome(stray: Stray, apply: bool) -> str:
    if not apply:
        return "would delete"
    return "deleted" if stray.deleted else f"failed: {stray.error}"


@app.command("migrate")
def migrate_command(
    ctx: typer.Context,
    apply: Annotated[bool, typer.Option("--apply", help="Write the missing markers (default: a dry run that only "
                                        "lists them).")] = False,
    as_json: JsonOption = False,
) -> None:
    """Write the uniqueness marker of every registered photo that lacks one (photos registered by releases older
    than the markers), so nobody can register their ids again. Reads and writes the primary's photos table (a
    global table: the markers replicate to the secondary); each marker is put only if absent, never overwritten.

    Exit 0 when done (or a dry run), 1 when a write failed, 4 when the primary does not answer."""
    target = cli_of(ctx).target()
    target.check("tables")
    result = migrate_markers(cli_of(ctx).factory, target, apply)
    if as_json:
        emit_json({**asdict(result), "failed": len(result.failed)})
    elif result.missing:
        table(f"registered photo ids without a uniqueness marker ({target.label}, {result.region})",
              ["photo id", "owner", "registered (UTC)", "times", "outcome"],
              [[m.photoId, m.owner, human_time(m.createdAt), m.registrations, _marker_outcome(m, apply)]
               for m in result.missing], keep=("registered (UTC)",))
    say(f"read in the {result.role} region ({result.region}) only: {MIGRATE_WHY}")
    say(f"{result.registrations} registrations, {result.markers} markers; {len(result.missing)} registered photo "
        "id(s) without a marker")
    if not result.missing:
        say("nothing to migrate")
        return
    if not apply:
        say(f"dry run: {len(result.missing)} marker(s) would be written; run again with --apply")
        return
    written = sum(m.written for m in result.missing)
    there = sum(m.alreadyThere for m in result.missing)
    say(f"wrote {written} marker(s); {there} already there (kept as they are)")
    if result.failed:
        for missing in result.failed:
            say(f"failed: {missing.photoId}: {missing.error}")
        left = len(result.missing) - written - there
        if result.stopped:
            raise UnreachableError(f"the {result.role} region ({result.region}) stopped answering: {left} marker(s) "
                                   "not written; run it again once it answers")
        raise OpsError(f"{left} marker(s) not written: run it again")


def _marker_outcome(missing: MissingMarker, apply: bool) -> str:
    if not apply:
        return "would write"
    if missing.written:
        return "written"
    if missing.alreadyThere:
        return "already there"
    return f"failed: {missing.error}" if missing.error else "not attempted"
