"""Where output goes: JSON for scripts on stdout, human text, tables and progress on stderr."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

import typer
from rich.console import Console
from rich.table import Table


def emit_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, default=str))


def say(message: str) -> None:
    typer.echo(message, err=True)


def warn(message: str) -> None:
    typer.echo(f"warning: {message}", err=True)


def console() -> Console:
    # Built per call: rich resolves sys.stderr now, so test runners capturing it see the output.
    return Console(stderr=True, highlight=False, soft_wrap=True)


def table(title: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    grid = Table(title=title, title_justify="left")
    for column in columns:
        grid.add_column(column, overflow="fold")
    for row in rows:
        grid.add_row(*("-" if cell is None else str(cell) for cell in row))
    console().print(grid)


def flatten(data: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """Nested mappings as dotted keys: {"primary": {"region": x}} -> [("primary.region", x)]."""
    if isinstance(data, dict):
        rows: list[tuple[str, Any]] = []
        for key, value in data.items():
            rows += flatten(value, f"{prefix}.{key}" if prefix else str(key))
        return rows
    return [(prefix, json.dumps(data) if isinstance(data, list) else data)]
