"""The root of `python -m ops`: global target options, commands, exit codes."""

from __future__ import annotations

from typing import Annotated

import typer

from ops import diagram, drill, photos, smoke, stack, state, status, users
from ops.context import SANDBOX_HELP, STACK_HELP, Cli, OpsGroup
from ops.errors import exit_code_table
from ops.factory import SESSION_ENV, Factory

EPILOG = (
    "\b\nExit codes (the same for python -m sandbox):\n" + exit_code_table() + "\n\n"
    "Targets: --stack NAME reads the stack's outputs through the Pulumi Automation API and uses your "
    f"AWS credentials; --sandbox reads .sandbox/session.json (or ${SESSION_ENV}) written by `make demo`. "
    "Either goes before or after the command."
)

app = typer.Typer(
    cls=OpsGroup,
    name="ops",
    rich_markup_mode=None,  # plain help and one-line usage errors
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
    help="Operate the multi-region application: outputs, routing state, users, status, deploy.",
    epilog=EPILOG,
)


@app.callback()
def root(
    ctx: typer.Context,
    stack_name: Annotated[str | None, typer.Option("--stack", metavar="NAME", help=STACK_HELP)] = None,
    sandbox: Annotated[bool, typer.Option("--sandbox", help=SANDBOX_HELP)] = False,
) -> None:
    """Choose exactly one target: --stack NAME or --sandbox (before or after the command)."""
    # Tests pass their own Factory as `obj`; the command line gets the real one.
    factory = ctx.obj if isinstance(ctx.obj, Factory) else Factory()
    ctx.obj = Cli(factory=factory)
    ctx.obj.choose(stack=stack_name, sandbox=sandbox)


app.command("outputs")(stack.outputs_command)
app.command("ui-config")(stack.ui_config_command)
app.add_typer(state.app, name="state")
app.command("sync-users")(users.sync_users_command)
app.add_typer(photos.app, name="photos")
app.command("status")(status.status_command)
app.command("deploy")(stack.deploy_command)
app.command("destroy")(stack.destroy_command)
app.command("smoke")(smoke.smoke_command)
app.command("drill")(drill.drill_command)
app.command("diagram")(diagram.diagram_command)


def main() -> None:
    app(prog_name="python -m ops")
