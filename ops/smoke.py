"""`smoke`: a signed photo upload and a comment through the real APIs, then wait until both show in
the other region; prints the replication lag of each.

Signs in as an app user (the sandbox's demo user by default; on a stack --username/--password or
$OPS_SMOKE_USERNAME/$OPS_SMOKE_PASSWORD), writes to the region the routing state makes writable.
"""

from __future__ import annotations

import base64
import os
import time
from dataclasses import asdict, dataclass
from typing import Annotated, Any

import typer

from components.contract import ui_config
from ops.appclient import AppError, AppUser, checked, new_photo_id, writer_of
from ops.context import cli_of
from ops.errors import FAILED, ConflictError, OpsError, UnreachableError, UsageError
from ops.factory import Factory, Target
from ops.output import JsonOption, emit_json, say, table

# A valid 1x1 PNG: the bytes the smoke test uploads.
PIXEL = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
POLL_SECONDS = 0.1


@dataclass
class Check:
    what: str  # "comment" | "photo record" | "photo bytes"
    region: str
    replicated: bool
    lagMs: int | None  # noqa: N815 (JSON name)


def app_config(factory: Factory, target: Target) -> dict[str, Any]:
    """uiConfig of the target: the sandbox's has its local endpoints."""
    if target.kind == "sandbox":
        return dict(factory.load_session()["uiConfig"])
    try:
        return ui_config(target.outputs)
    except ValueError as error:
        raise UsageError(str(error)) from None


def credentials(factory: Factory, target: Target, username: str | None, password: str | None) -> tuple[str, str]:
    username = username or os.environ.get("OPS_SMOKE_USERNAME")
    password = password or os.environ.get("OPS_SMOKE_PASSWORD")
    if target.kind == "sandbox" and not (username and password):
        demo = factory.load_session().get("demoUser") or {}
        username, password = username or demo.get("username"), password or demo.get("password")
    if not username or not password:
        raise UsageError("smoke signs in as an app user: pass --username and --password "
                         "(or set OPS_SMOKE_USERNAME and OPS_SMOKE_PASSWORD)")
    return username, password


def sign_in(config: dict[str, Any], username: str, password: str) -> AppUser:
    """Sign in in the primary's pool, or the secondary's when the primary does not answer."""
    last: Exception | None = None
    for role in ("primary", "secondary"):
        try:
            return AppUser.sign_in(config, username, password, role)
        except AppError as error:
            raise UsageError(error.message) from None
        except Exception as error:  # noqa: BLE001 (botocore raises many kinds for an unreachable region)
            last = error
    raise UnreachableError(f"no region's user pool answered the sign-in: {last}")


def writable_role(user: AppUser) -> str:
    """The role whose region accepts writes now, from the first state API that answers."""
    state = user.routing_state()
    if state is None:
        raise UnreachableError("no region's state API answered")
    writer = writer_of(state)
    if writer is None:
        raise ConflictError(f"the application is {state}: no region accepts writes, nothing to smoke-test")
    return writer


def run_smoke(user: AppUser, writer: str, timeout: float, clock: Any = time.monotonic,
              sleep: Any = time.sleep) -> list[Check]:
    """Write the photo bytes, its record and a comment in `writer`, then poll the other region until each
    shows; each lag counts from that write's own acknowledgement."""
    reader = "secondary" if writer == "primary" else "primary"
    region = user.regions[reader]["region"]
    photo = new_photo_id("smoke-")
    message = f"smoke test {photo} ✓ \"quoted\""
    writes = {  # in the web app's order: bytes, then the record, then a comment on it
        "photo bytes": lambda: user.put_object(writer, photo, PIXEL, "image/png"),
        "photo record": lambda: user.register_photo(writer, photo, len(PIXEL)),
        "comment": lambda: user.send_comment(writer, photo, message),
    }
    written: dict[str, float] = {}
    for what, write in writes.items():
        try:
            checked(write())
        except AppError as error:
            if error.status == 409:
                raise ConflictError(f"the {writer} region refused the write: {error.message}") from None
            if error.status == 0 or error.status >= 500:
                raise UnreachableError(f"the {writer} region did not take the write: {error.message}") from None
            raise OpsError(f"the {writer} region refused the {what}: {error}") from None
        written[what] = clock()
    probes = {
        "comment": lambda: any(c.get("message") == message for c in user.comments(reader, photo)),
        "photo record": lambda: any(p.get("photoId") == photo for p in user.photos(reader)),
        "photo bytes": lambda: (got := user.get_object(reader, photo)).status == 200 and got.body == PIXEL,
    }
    say(f"wrote photo {photo} and a comment in {user.regions[writer]['region']}; waiting for them in {region} "
        f"(up to {timeout:g} s)...")
    seen: dict[str, int] = {}
    last = max(written.values())
    while True:
        for what, probe in probes.items():
            if what not in seen and _safe(probe):
                seen[what] = int((clock() - written[what]) * 1000)
        if len(seen) == len(probes) or clock() - last > timeout:
            break
        sleep(POLL_SECONDS)
    return [Check(what, region, what in seen, seen.get(what)) for what in probes]


def _safe(probe: Any) -> bool:
    try:
        return bool(probe())
    except AppError:
        return False


def smoke_command(
    ctx: typer.Context,
    username: Annotated[str | None, typer.Option(help="App user to sign in as (sandbox: the demo user).")] = None,
    password: Annotated[str | None, typer.Option(help="Their password.")] = None,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for replication.", min=0.5, max=900)] = 30.0,
    as_json: JsonOption = False,
) -> None:
    """Upload a photo and post a comment (signed, through the APIs), then wait for both in the other region.

    Exit 0 when everything replicated in time, 1 when something did not, 3 when no region accepts
    writes (fenced), 4 when a region does not answer."""
    cli = cli_of(ctx)
    target = cli.target()
    config = app_config(cli.factory, target)
    user = sign_in(config, *credentials(cli.factory, target, username, password))
    writer = writable_role(user)
    checks = run_smoke(user, writer, timeout)
    if as_json:
        emit_json({"writer": writer, "checks": [asdict(c) for c in checks]})
    else:
        table(f"smoke test: written in {user.regions[writer]['region']}",
              ["replicated", "to", "ok", "lag"],
              [[c.what, c.region, "yes" if c.replicated else "NO", f"{c.lagMs} ms" if c.replicated else "-"]
               for c in checks])
    missing = [c.what for c in checks if not c.replicated]
    if missing:
        raise OpsError(f"not replicated within {timeout:g} s: {', '.join(missing)}", FAILED)
