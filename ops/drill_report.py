"""The drill's report: drill.json (everything), drill.md (the table and the timeline of events) and
drill.png (state changes, each write's outcome per region, and each write's replication lag)."""

from __future__ import annotations

import json
from pathlib import Path

from ops.drill_model import OTHER, DrillResult, as_dict, summary_rows

STATE_COLOURS = {"steady": "#2e7d32", "active": "#2e7d32", "fenced": "#f9a825", "failover": "#1565c0",
                 "primary outage": "#c62828", "primary back": "#6a1b9a", "aborted": "#000000"}


def write_report(result: DrillResult, directory: Path) -> dict[str, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = {"json": directory / "drill.json", "markdown": directory / "drill.md", "png": directory / "drill.png"}
    paths["json"].write_text(json.dumps(as_dict(result), indent=2))
    paths["markdown"].write_text(markdown(result))
    plot(result, paths["png"])
    return paths


def markdown(result: DrillResult) -> str:
    if not result.reconciled:
        verdict = "not reconciled (a region did not answer)"
    elif result.lost or result.duplicated:
        verdict = f"**{len(result.lost)} lost, {len(result.duplicated)} duplicated**"
    else:
        verdict = "0 lost, 0 duplicated"
    aborted = []
    if result.aborted:
        back = (f"The application is back to `active`: {result.restore}." if result.restored else
                f"**The application is NOT back to `active`** (left in `{result.left_in or 'unknown'}`): "
                f"{result.restore}.")
        aborted = [f"**Aborted**: {result.aborted}. {back}", ""]
    lines = [
        f"# Failover drill on {result.target}",
        "",
        *aborted,
        f"{result.rate:g} writes/s through the signed APIs for {result.duration:.1f} s"
        f"{', with a primary outage' if result.outage else ''}: {verdict}.",
        "",
        "| measure | value |",
        "|---|---|",
        *[f"| {name.strip()} | {value} |" for name, value in summary_rows(result)],
        "",
        "## Timeline",
        "",
        "| t (s) | event |",
        "|---|---|",
        *[f"| {e.at:.2f} | {e.name}{' — ' + e.detail if e.detail else ''} |" for e in result.events],
        "",
        "![timeline](drill.png)",
        "",
    ]
    for title, items in (("Lost writes", result.lost), ("Duplicated writes", result.duplicated)):
        if items:
            lines += [f"## {title}", "", *[f"- {item}" for item in items], ""]
    return "\n".join(lines)


def plot(result: DrillResult, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")  # no display
    import matplotlib.pyplot as plt

    fig, (writes, latency) = plt.subplots(2, 1, figsize=(11, 5.5), sharex=True, height_ratios=(1.2, 1))
    rows = {"primary": 1, "secondary": 0}
    outcomes = ((True, "o", "#2e7d32", "acknowledged"), (False, "x", "#c62828", "refused/failed"))
    for ok, marker, colour, label in outcomes:
        chosen = [a for a in result.attempts if a.ok == ok]
        writes.scatter([a.start for a in chosen], [rows[a.role] for a in chosen], marker=marker, s=18, c=colour,
                       label=label)
    replicated = [a for a in result.attempts if a.lag is not None]
    for role, colour in (("primary", "#1565c0"), ("secondary", "#ef6c00")):
        mine = [a for a in replicated if a.role == role]
        latency.scatter([a.end for a in mine], [a.lag for a in mine], s=14, c=colour, label=f"{role} -> {OTHER[role]}")
    for window in result.windows:
        writes.axvspan(window.start, window.end, color="#ffcdd2", alpha=0.6, lw=0)
        writes.annotate(f"{window.seconds:.2f}s", ((window.start + window.end) / 2, 1.35), ha="center", fontsize=8)
    for axis in (writes, latency):
        for event in result.events:
            colour = STATE_COLOURS.get(event.name)
            if colour:
                axis.axvline(event.at, color=colour, lw=1, ls="--")
    for event in result.events:
        if event.name in STATE_COLOURS:
            writes.annotate(event.name, (event.at, -0.55), rotation=90, fontsize=7, va="bottom",
                            color=STATE_COLOURS[event.name])
    writes.set_yticks([0, 1], ["secondary", "primary"])
    writes.set_ylim(-0.6, 1.6)
    verdict = f"ABORTED ({result.aborted})" if result.aborted else f"{len(result.lost)} lost"
    writes.set_title(f"Failover drill on {result.target}: RTO {result.rto:.2f} s, RPO {result.rpo} writes, "
                     f"{verdict}"[:120])
    writes.legend(loc="upper right", fontsize=8)
    latency.set_ylabel("replication lag (s)")
    latency.legend(loc="upper left", fontsize=8)
    latency.set_xlabel("seconds since the drill began")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
