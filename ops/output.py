"""Where output goes: JSON for scripts on stdout, human text, tables and progress on stderr.

Tables fit 80 columns (cells fold inside their column) and show times as ISO 8601 in UTC, saying so;
`--json` (`JsonOption`, the one definition every command uses) keeps machine values (epoch ms, ARNs).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

TABLE_WIDTH = 80

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON on stdout (machine values); text goes to "
                                                         "stderr.")]


def emit_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, default=str))


def say(message: str) -> None:
    typer.echo(message, err=True)


def warn(message: str) -> None:
    typer.echo(f"warning: {message}", err=True)


def console(width: int | None = None) -> Console:
    # Built per call: rich resolves sys.stderr now, so test runners capturing it see the output.
    return Console(stderr=True, highlight=False, soft_wrap=width is None, width=width)


def table(title: str, columns: Sequence[str], rows: Iterable[Sequence[Any]], keep: Sequence[str] = ()) -> None:
    """A table on stderr, at most TABLE_WIDTH columns wide: cells fold inside their column, except in the
    `keep` columns (times, short values), which other columns make room for."""
    grid = Table(title=title, title_justify="left")
    for column in columns:
        grid.add_column(column, overflow="fold", no_wrap=column in keep)
    for row in rows:
        grid.add_row(*("-" if cell is None else str(cell) for cell in row))
    console(TABLE_WIDTH).print(grid)


def human_time(epoch_ms: Any) -> str | None:
    """Epoch milliseconds as ISO 8601 in UTC, to the second: 2026-11-26T09:25:00Z (None stays None)."""
    if epoch_ms is None or isinstance(epoch_ms, bool):
        return None
    try:
        moment = datetime.fromtimestamp(float(epoch_ms) / 1000, tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return str(epoch_ms)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def short_arn(arn: Any) -> str | None:
    """Who, readably: an assumed role's "role/session", else the ARN's last part (the full ARN is in --json)."""
    if arn is None:
        return None
    text = str(arn)
    if not text.startswith("arn:"):
        return text
    resource = text.split(":", 5)[-1]
    if resource.startswith("assumed-role/"):
        return resource.removeprefix("assumed-role/")
    return resource.rsplit("/", 1)[-1] if "/" in resource else resource


def flatten(data: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """Nested mappings as dotted keys: {"primary": {"region": x}} -> [("primary.region", x)]."""
    if isinstance(data, dict):
        rows: list[tuple[str, Any]] = []
        for key, value in data.items():
            rows += flatten(value, f"{prefix}.{key}" if prefix else str(key))
        return rows
    return [(prefix, json.dumps(data) if isinstance(data, list) else data)]
