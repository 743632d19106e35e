"""The typer context object, the shared target options and the group that maps failures to exit codes.

`--stack NAME` and `--sandbox` are accepted before the command (the root's options) and after it:
`OpsGroup` gives every command and subcommand the same two options, which only record the choice
in the one `Cli` object; `Cli.target()` resolves it once, for every command.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from ops.errors import UsageError, to_exit
from ops.factory import Factory, Target

STACK_HELP = "A deployed Pulumi stack of this project (before or after the command)."
SANDBOX_HELP = "The local two-region sandbox (make demo), before or after the command."
SANDBOX_STACK = "sandbox"  # the sandbox deploys the program with Pulumi.sandbox.yaml


@dataclass
class Cli:
    """The target options and the factory; resolved lazily so `COMMAND --help` needs no target."""

    factory: Factory
    stacks: list[str] = field(default_factory=list)
    sandbox: bool = False
    _target: Target | None = None

    def choose(self, stack: str | None = None, sandbox: bool = False) -> None:
        """Record a target option, wherever on the command line it was given."""
        if stack and stack not in self.stacks:
            self.stacks.append(stack)
        self.sandbox = self.sandbox or sandbox

    def _chosen_stack(self) -> str | None:
        """The one stack named, None for --sandbox; a usage error unless exactly one target was given."""
        if len(self.stacks) > 1 or (self.stacks and self.sandbox):
            raise UsageError("choose one target: --stack NAME or --sandbox, not both")
        if not self.stacks and not self.sandbox:
            raise UsageError("no target: pass --stack NAME (a deployed stack) or --sandbox (the local sandbox)")
        return self.stacks[0] if self.stacks else None

    def target(self) -> Target:
        if self._target is None:
            stack = self._chosen_stack()
            self._target = self.factory.sandbox_target() if stack is None else self.factory.stack_target(stack)
        return self._target

    def config_stack(self) -> str:
        """The stack whose Pulumi.<stack>.yaml describes the target (for commands that read no outputs)."""
        return self._chosen_stack() or SANDBOX_STACK

    def stack_name(self, command: str) -> str:
        """The stack of a command that only makes sense on a real stack."""
        if self.sandbox and not self.stacks:
            raise UsageError(f"{command} works on a real stack only (--stack NAME); the sandbox deploys itself: "
                             "make demo")
        stack = self._chosen_stack()
        assert stack is not None
        return stack


def cli_of(ctx: typer.Context) -> Cli:
    obj = ctx.find_object(Cli)
    if obj is None:  # a command invoked without the root callback (never from the command line)
        raise UsageError("internal: no CLI context")
    return obj


def _record_stack(ctx: typer.Context, value: str | None) -> None:
    cli = ctx.find_object(Cli)
    if value and cli is not None:
        cli.choose(stack=value)


def _record_sandbox(ctx: typer.Context, value: bool) -> None:
    cli = ctx.find_object(Cli)
    if value and cli is not None:
        cli.choose(sandbox=True)


def target_options() -> list[Any]:
    """--stack NAME / --sandbox for a command: they only record the choice in the Cli object.

    Built by typer itself (a probe command's parameters), so they are the parameter class typer's
    commands expect."""
    probe = typer.Typer()

    @probe.command()
    def targets(
        stack: Annotated[str | None, typer.Option("--stack", metavar="NAME", help=STACK_HELP, expose_value=False,
                                                  callback=_record_stack)] = None,
        sandbox: Annotated[bool, typer.Option("--sandbox", help=SANDBOX_HELP, expose_value=False,
                                              callback=_record_sandbox)] = False,
    ) -> None:  # never called
        """Target options."""

    return list(typer.main.get_command(probe).params)


class OpsGroup(TyperGroup):
    """Every command runs inside this invoke: a known failure prints one line and exits with its
    code (contract.EXIT_CODES); anything else is a bug and keeps its traceback. Every command of the
    group also takes the target options, so they work after the command as well as before it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for command in self.commands.values():
            if not any(getattr(p, "name", None) in ("stack", "sandbox") for p in command.params):
                command.params.extend(target_options())

    def invoke(self, ctx: typer.Context) -> Any:  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except Exception as error:
            known = to_exit(error)
            if known is None:
                raise
            code, message = known
            typer.echo(f"error: {message}", err=True)
            raise typer.Exit(code) from None
