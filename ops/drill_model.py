"""What a failover drill measured: its attempts, events, windows without writes, drains and verdict.

Shared by the drill (ops/drill.py), its report (ops/drill_report.py) and the benchmark (bench/), so
none of them imports another.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

OTHER = {"primary": "secondary", "secondary": "primary"}  # each role's other region


@dataclass
class Attempt:
    n: int
    kind: str  # comment | photo
    key: str  # photoId (comments: one comment per drill photoId)
    role: str
    start: float  # seconds since the drill began
    end: float
    status: int  # HTTP status, 0 = no answer
    replicated: float | None = None  # seconds since the drill began when the other region first showed it

    @property
    def lag(self) -> float | None:
        return None if self.replicated is None else self.replicated - self.end

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


@dataclass
class Event:
    at: float
    name: str
    detail: str = ""


@dataclass
class Window:
    """A time clients could not write, around a switch."""

    name: str
    start: float  # the last acknowledged write before it
    end: float  # the first acknowledged write after it

    @property
    def seconds(self) -> float:
        return self.end - self.start


@dataclass
class DrillResult:
    target: str  # Target.label: "sandbox" or "stack prod"
    rate: float
    outage: bool
    duration: float
    events: list[Event]
    attempts: list[Attempt]
    windows: list[Window]
    drains: dict[str, float]  # "forward" / "back" -> seconds from fence to drained
    rpo_missing: dict[str, int]  # switch -> acknowledged writes missing in the new region when it took over
    lost: list[str] = field(default_factory=list)  # "<role>: <kind> <key>"
    duplicated: list[str] = field(default_factory=list)
    aborted: str | None = None  # why the drill stopped before the end (None: it walked the whole runbook)
    restored: bool | None = None  # after an abort: is the application back to `active`?
    restore: str = ""  # what the restore did, or the command that will restore the application
    left_in: str | None = None  # after an abort: the state the restore left the application in (None: unknown)
    restore_exit: int = 0  # after an abort: the restore's exit code (4: the primary did not answer)
    reconciled: bool = True  # False when the end-of-drill reconciliation could not run (a region down)

    @property
    def passed(self) -> bool:
        return not self.aborted and self.reconciled and not (self.lost or self.duplicated)

    @property
    def acknowledged(self) -> list[Attempt]:
        return [a for a in self.attempts if a.ok]

    @property
    def rto(self) -> float:
        return max((w.seconds for w in self.windows), default=0.0)

    @property
    def rpo(self) -> int:
        return max(self.rpo_missing.values(), default=0)

    def lags(self) -> dict[str, dict[str, float]]:
        """Replication lag per direction: p50 and max of the acknowledged writes."""
        result = {}
        for role, other in OTHER.items():
            lags = sorted(a.lag for a in self.attempts if a.role == role and a.lag is not None)
            if lags:
                result[f"{role} -> {other}"] = {"n": len(lags), "p50": round(lags[len(lags) // 2], 3),
                                                "max": round(lags[-1], 3)}
        return result

    def summary(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "passed": self.passed,
            "aborted": self.aborted,
            "restored": self.restored,
            "restore": self.restore,
            "leftIn": self.left_in,
            "rateWritesPerSecond": self.rate,
            "primaryOutage": self.outage,
            "durationS": round(self.duration, 3),
            "attempts": len(self.attempts),
            "acknowledged": len(self.acknowledged),
            "refused": sum(1 for a in self.attempts if a.status == 409),
            "unanswered": sum(1 for a in self.attempts if a.status == 0 or a.status >= 500),
            "rtoS": round(self.rto, 3),
            "rtoWindows": [{"name": w.name, "seconds": round(w.seconds, 3)} for w in self.windows],
            "rpoWrites": self.rpo,
            "rpoMissingAtSwitch": self.rpo_missing,
            "drainS": {k: round(v, 3) for k, v in self.drains.items()},
            "replicationLagS": self.lags(),
            "reconciled": self.reconciled,
            "lost": len(self.lost),
            "duplicated": len(self.duplicated),
            "lostWrites": self.lost,
            "duplicatedWrites": self.duplicated,
        }


def summary_rows(result: DrillResult) -> list[list[str]]:
    s = result.summary()
    rows = []
    if result.aborted:
        rows += [["ABORTED", result.aborted],
                 ["restored to active", ("yes: " if result.restored else "NO: ") + result.restore]]
    return rows + [
        ["writes acknowledged / attempted", f"{s['acknowledged']} / {s['attempts']} ({s['refused']} refused 409, "
                                            f"{s['unanswered']} unanswered)"],
        ["RTO (longest time without a write)", f"{s['rtoS']:.2f} s"],
        *[[f"  {w['name']}", f"{w['seconds']:.2f} s"] for w in s["rtoWindows"]],
        ["RPO (acknowledged writes missing at a switch)", str(s["rpoWrites"])],
        *[[f"  drain {k}", f"{v:.2f} s"] for k, v in s["drainS"].items()],
        *[[f"replication lag {k}", f"p50 {v['p50']:.2f} s, max {v['max']:.2f} s (n={v['n']})"]
          for k, v in s["replicationLagS"].items()],
        ["lost", str(s["lost"]) if result.reconciled else "not reconciled (a region did not answer)"],
        ["duplicated", str(s["duplicated"]) if result.reconciled else "-"],
    ]


def as_dict(result: DrillResult) -> dict[str, Any]:
    return {"summary": result.summary(), "events": [asdict(e) for e in result.events],
            "attempts": [asdict(a) for a in result.attempts]}
