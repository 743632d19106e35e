"""The typer context object and the group class that turns known failures into exit codes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import typer
from typer.core import TyperGroup

from ops.errors import UsageError, to_exit
from ops.factory import Factory, Target


class OpsGroup(TyperGroup):
    """Every command runs inside this invoke: a known failure prints one line and exits with its
    code (ops.errors.EXIT_CODES); anything else is a bug and keeps its traceback."""

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


@dataclass
class Cli:
    """The global options and the factory; resolved lazily so `COMMAND --help` needs no target."""

    factory: Factory
    stack: str | None = None
    sandbox: bool = False
    _target: Target | None = None

    def target(self) -> Target:
        if self._target is None:
            if self.stack and self.sandbox:
                raise UsageError("choose one target: --stack NAME or --sandbox, not both")
            if not self.stack and not self.sandbox:
                raise UsageError("no target: pass --stack NAME (a deployed stack) or --sandbox (the local sandbox)")
            self._target = (
                self.factory.sandbox_target() if self.sandbox else self.factory.stack_target(str(self.stack))
            )
        return self._target

    def stack_name(self, command: str) -> str:
        """The stack of a command that only makes sense on a real stack."""
        if self.sandbox:
            raise UsageError(f"{command} works on a real stack only (--stack NAME); the sandbox deploys itself: "
                             "make demo")
        if not self.stack:
            raise UsageError(f"{command} needs --stack NAME")
        return self.stack


def cli_of(ctx: typer.Context) -> Cli:
    obj = ctx.find_object(Cli)
    if obj is None:  # a command invoked without the root callback (never from the command line)
        raise UsageError("internal: no CLI context")
    return obj
