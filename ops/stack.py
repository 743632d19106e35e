"""`outputs`, `ui-config`, and for a real stack `deploy` / `destroy` through the Automation API.

The program is the repo's own (local program, work_dir = repo root); pulumi's output is
streamed to stderr as it comes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from pulumi import automation as auto
from pulumi.automation import errors as auto_errors

from components.contract import PROJECT, ui_config
from ops.context import cli_of
from ops.errors import OpsError, UsageError, to_exit
from ops.output import JsonOption, emit_json, flatten, say, table

RETAIN_DATA = f"{PROJECT}:retainData"


def _stream(line: str) -> None:
    say(line)


def outputs_command(
    ctx: typer.Context,
    as_json: JsonOption = False,
) -> None:
    """The target's stack outputs (the keys of components/contract.py)."""
    target = cli_of(ctx).target()
    if as_json:
        emit_json(target.outputs)
        return
    table(f"outputs of {target.label}", ["key", "value"], flatten(target.outputs))


def ui_config_command(
    ctx: typer.Context,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file instead of stdout.", dir_okay=False)
    ] = None,
) -> None:
    """The web app's uiConfig.json, built from the outputs."""
    target = cli_of(ctx).target()
    try:
        config = ui_config(target.outputs)
    except ValueError as error:
        raise UsageError(f"{target.label}: {error}") from None
    text = json.dumps(config, indent=2) + "\n"
    if output is None:
        typer.echo(text, nl=False)
        return
    try:
        output.write_text(text)
    except OSError as error:
        raise OpsError(f"cannot write {output}: {error.strerror}") from None
    say(f"wrote {output}")


def deploy_command(
    ctx: typer.Context,
    primary_region: Annotated[
        str | None, typer.Option(help="Set aws:region (the primary) before deploying, e.g. for a new stack.")
    ] = None,
    secondary_region: Annotated[
        str | None, typer.Option(help=f"Set {PROJECT}:secondaryRegion before deploying.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """`pulumi up` of the repo's program on --stack (created if it does not exist)."""
    cli = cli_of(ctx)
    name = cli.stack_name("deploy")
    stack = cli.factory.create_or_select_stack(name)
    for key, value in (("aws:region", primary_region), (f"{PROJECT}:secondaryRegion", secondary_region)):
        if value:
            stack.set_config(key, auto.ConfigValue(value=value))
    say(f"deploying stack {name} ...")
    result = stack.up(on_output=_stream, on_error=_stream)
    outputs = {key: value.value for key, value in result.outputs.items()}
    say(f"stack {name} deployed: {result.summary.resource_changes or {}}")
    if as_json:
        emit_json(outputs)


def destroy_command(
    ctx: typer.Context,
    delete_data: Annotated[
        bool, typer.Option("--delete-data", help="Also delete photos, tables and user pools (retainData=false for "
                                                 "this run: up lifts their protection, then destroy; the previous "
                                                 "value is put back).")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """`pulumi destroy` of --stack. Keeps the data (buckets, tables, user pools) unless --delete-data."""
    cli = cli_of(ctx)
    name = cli.stack_name("destroy")
    stack = cli.factory.select_stack(name)
    if delete_data:
        question = (f"Destroy stack {name} AND DELETE ITS DATA (photos, comments, state, users) in both regions? "
                    "This cannot be undone.")
    else:
        question = (f"Destroy stack {name}? Photos, tables and user pools are kept (retained) and stay billed "
                    "until deleted by hand.")
    if not yes and not typer.confirm(question, default=False, err=True):
        raise OpsError("destroy cancelled: nothing changed")
    if delete_data:
        # Retained resources are only deleted by a destroy whose state no longer retains them:
        # retainData=false, applied (lifts deletion protection, lets buckets be emptied), then destroy.
        with retention_lifted(stack, name):
            say(f"stack {name}: retainData=false for this destroy, applying it first ...")
            stack.up(on_output=_stream, on_error=_stream)
            say(f"destroying stack {name} ...")
            stack.destroy(on_output=_stream, on_error=_stream)
        say(f"stack {name} destroyed, its data deleted; retainData is back as it was in Pulumi.{name}.yaml")
        return
    say(f"destroying stack {name} ...")
    stack.destroy(on_output=_stream, on_error=_stream)
    say(f"stack {name} destroyed (data kept: retained buckets, tables and user pools remain in the account)")


@contextmanager
def retention_lifted(stack: auto.Stack, name: str) -> Iterator[None]:
    """retainData=false for the commands inside only: pulumi keeps config in Pulumi.<stack>.yaml, and a
    `false` left there would make the next keep-data destroy delete the data. The previous value (or its
    absence) is put back whatever happened; if that fails, the error names the command that does it."""
    previous = stack.get_all_config().get(RETAIN_DATA)
    stack.set_config(RETAIN_DATA, auto.ConfigValue(value="false"))
    outcome = "was destroyed"
    try:
        yield
    except BaseException as error:
        known = to_exit(error)
        outcome = f"was not destroyed ({known[1] if known else type(error).__name__})"
        raise
    finally:
        try:
            if previous is None:
                stack.remove_config(RETAIN_DATA)
            else:
                stack.set_config(RETAIN_DATA, previous)
        except auto_errors.CommandError as error:
            fix = (f"pulumi config rm {RETAIN_DATA} --stack {name}" if previous is None else
                   f"pulumi config set {RETAIN_DATA} {previous.value} --stack {name}")
            raise OpsError(f"stack {name} {outcome}, but {RETAIN_DATA} is still false in its config "
                           f"({to_exit(error)[1]}): a later destroy would delete the data; run: {fix}") from error
