"""`drill`: a failover drill under load, with measured RTO, RPO, drain time and reconciliation.

A workload generator writes comments (and every `photo_every`-th write a photo: bytes, then its
record) at a steady rate through the real signed APIs, choosing its region like the web app does
(from the routing state, re-checked after every refusal or error), and records every attempt.
Meanwhile the drill walks the runbook:

    steady -> fence -> drain (measured) -> failover via the secondary -> [primary outage] ->
    writes in the secondary -> [primary back] -> fence -> drain back -> active -> steady

RTO: the longest time clients could not write (last acknowledged write before a switch to the
first one after). RPO: acknowledged writes of the old region missing in the new one at the
moment of the switch. At the end every acknowledged write must be in both regions exactly once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Annotated, Any

import typer

from ops.appclient import AppUser, new_photo_id, writer_of
from ops.context import cli_of
from ops.errors import FAILED, OpsError, UsageError
from ops.factory import Factory, Target
from ops.output import JsonOption, emit_json, say, table
from ops.smoke import PIXEL, app_config, credentials, sign_in
from ops.state import Via, set_state

MAX_PHOTO_PAGES = 50
STATE_TIMEOUT = 1.5  # seconds: a region that does not answer the state API this fast is treated as down
WRITE_TIMEOUT = 3.0
VERIFY_SECONDS = 0.05  # how often the verifier looks for acknowledged writes in the other region
VERIFY_TIMEOUT = 0.5


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
    target: str
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
        for role, other in (("primary", "secondary"), ("secondary", "primary")):
            lags = sorted(a.lag for a in self.attempts if a.role == role and a.lag is not None)
            if lags:
                result[f"{role} -> {other}"] = {"n": len(lags), "p50": round(lags[len(lags) // 2], 3),
                                                "max": round(lags[-1], 3)}
        return result

    def summary(self) -> dict[str, Any]:
        return {
            "target": self.target,
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
            "lost": len(self.lost),
            "duplicated": len(self.duplicated),
            "lostWrites": self.lost,
            "duplicatedWrites": self.duplicated,
        }


class Workload:
    """Writes at a steady rate from a background thread, routing like the web app."""

    def __init__(self, user: AppUser, rate: float, photo_every: int, clock: Callable[[], float]):
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.user, self.rate, self.photo_every, self.clock = user, rate, photo_every, clock
        self.attempts: list[Attempt] = []
        self.role = "primary"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="drill-workload", daemon=True)
        self._verifier = threading.Thread(target=self._verify, name="drill-verifier", daemon=True)
        self._lock = threading.Lock()
        self._unreplicated: list[Attempt] = []

    def start(self) -> None:
        self.reroute()
        self._thread.start()
        self._verifier.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(30)
        self._verifier.join(30)

    def snapshot(self) -> list[Attempt]:
        with self._lock:
            return list(self.attempts)

    def reroute(self) -> None:
        """The writable role from the first state API that answers; stay put if none does."""
        state = self.user.routing_state(timeout=STATE_TIMEOUT)
        if state is not None:
            # Fenced: no region is writable; keep trying the primary and record the refusals.
            self.role = writer_of(state) or "primary"

    def _run(self) -> None:
        interval, n = 1.0 / self.rate, 0
        next_at = self.clock()
        while not self._stop.is_set():
            self._write(n)
            n += 1
            next_at += interval
            self._stop.wait(max(0.0, next_at - self.clock()))

    def _write(self, n: int) -> None:
        kind = "photo" if self.photo_every and n % self.photo_every == self.photo_every - 1 else "comment"
        key, role, start = new_photo_id(f"drill{n}-"), self.role, self.clock()
        if kind == "photo":
            put = self.user.put_object(role, key, PIXEL, "image/png")
            status = put.status
            if status == 200:
                status = self.user.api("POST", role, "/photos", {"photoId": key, "size": len(PIXEL),
                                                                  "contentType": "image/png"},
                                       timeout=WRITE_TIMEOUT).status
        else:
            status = self.user.api("POST", role, f"/comments/{key}", {"message": f"drill write {n}"},
                                   timeout=WRITE_TIMEOUT).status
        attempt = Attempt(n, kind, key, role, start, self.clock(), status)
        with self._lock:
            self.attempts.append(attempt)
            if attempt.ok:
                self._unreplicated.append(attempt)
        if not attempt.ok:
            self.reroute()

    def _verify(self) -> None:
        """Replication lag of each acknowledged write: poll the other region until it shows."""
        while not self._stop.wait(VERIFY_SECONDS):
            with self._lock:
                pending = list(self._unreplicated)
            for attempt in pending:
                other = "secondary" if attempt.role == "primary" else "primary"
                if present(self.user, other, attempt, timeout=VERIFY_TIMEOUT):
                    attempt.replicated = self.clock()
                    with self._lock:
                        self._unreplicated.remove(attempt)


def present(user: AppUser, role: str, attempt: Attempt, timeout: float = WRITE_TIMEOUT) -> int:
    """How many copies of an acknowledged write `role`'s region holds (0 = missing)."""
    if attempt.kind == "comment":
        answer = user.api("GET", role, f"/comments/{attempt.key}", timeout=timeout)
        return len(answer.body["comments"]) if answer.status == 200 else 0
    records = sum(1 for p in _photos(user, role, timeout) if p.get("photoId") == attempt.key)
    if records and user.get_object(role, attempt.key).status != 200:
        return 0  # the record without its bytes is not the photo yet
    return records


def _photos(user: AppUser, role: str, timeout: float) -> list[dict[str, Any]]:
    """Every photo record of `role`'s region (the drill's photos are among the newest pages)."""
    photos: list[dict[str, Any]] = []
    cursor = ""
    for _ in range(MAX_PHOTO_PAGES):
        answer = user.api("GET", role, f"/photos?limit=100{'&cursor=' + cursor if cursor else ''}", timeout=timeout)
        if answer.status != 200:
            return photos
        photos += answer.body["photos"]
        cursor = answer.body.get("next") or ""
        if not cursor:
            break
    return photos


def missing_in(user: AppUser, role: str, attempts: list[Attempt]) -> list[Attempt]:
    return [a for a in attempts if a.ok and present(user, role, a) == 0]


def wait_drained(user: AppUser, destination: str, attempts: list[Attempt], timeout: float,
                 clock: Callable[[], float], sleep: Callable[[float], None]) -> tuple[bool, float]:
    """Until every acknowledged write of the other region shows in `destination`; (drained, seconds)."""
    began = clock()
    source = "secondary" if destination == "primary" else "primary"
    pending = [a for a in attempts if a.ok and a.role == source]
    while True:
        pending = missing_in(user, destination, pending)
        if not pending:
            return True, clock() - began
        if clock() - began > timeout:
            return False, clock() - began
        sleep(0.1)


def gaps(attempts: list[Attempt], events: list[Event]) -> list[Window]:
    """For each switch (fence events), the time between the last acknowledged write before it and the
    first acknowledged write after it."""
    acked = sorted((a for a in attempts if a.ok), key=lambda a: a.end)
    windows = []
    for event in (e for e in events if e.name == "fenced"):
        before = [a.end for a in acked if a.end <= event.at]
        after = [a.end for a in acked if a.end > event.at]
        if before and after:
            windows.append(Window(event.detail or "switch", max(before), min(after)))
    return windows


@dataclass
class DrillPlan:
    rate: float = 5.0
    steady: float = 3.0  # seconds of writes in each steady phase
    outage: bool = True  # sandbox only
    drain_timeout: float = 60.0
    photo_every: int = 5


def run_drill(factory: Factory, target: Target, user: AppUser, plan: DrillPlan,
              outage: Callable[[bool], None] | None = None) -> DrillResult:
    """Walk the runbook under load; see the module docstring."""
    began = time.monotonic()

    def now() -> float:
        return time.monotonic() - began

    events: list[Event] = []

    def mark(name: str, detail: str = "") -> None:
        events.append(Event(now(), name, detail))
        say(f"[{now():6.2f}s] {name}{': ' + detail if detail else ''}")

    def switch(state: str, via: Via, detail: str) -> None:
        set_state(factory, target, state, via=via, reason=f"drill: {detail}")
        mark(state, detail)

    workload = Workload(user, plan.rate, plan.photo_every, now)
    drains: dict[str, float] = {}
    rpo_missing: dict[str, int] = {}
    mark("steady", "writes in the primary")
    workload.start()
    try:
        time.sleep(plan.steady)
        switch("fenced", Via.auto, "fail over")
        drained, drains["forward"] = wait_drained(user, "secondary", workload.snapshot(), plan.drain_timeout, now,
                                                  time.sleep)
        mark("drained" if drained else "not drained", f"{drains['forward']:.2f}s to the secondary")
        rpo_missing["failover"] = sum(1 for a in missing_in(user, "secondary", workload.snapshot())
                                      if a.role == "primary")
        switch("failover", Via.secondary, "fail over")
        if outage and plan.outage:
            outage(True)
            mark("primary outage")
        time.sleep(plan.steady)
        if outage and plan.outage:
            outage(False)
            mark("primary back")
        switch("fenced", Via.secondary, "fail back")
        drained, drains["back"] = wait_drained(user, "primary", workload.snapshot(), plan.drain_timeout, now,
                                               time.sleep)
        mark("drained" if drained else "not drained", f"{drains['back']:.2f}s to the primary")
        rpo_missing["failback"] = sum(1 for a in missing_in(user, "primary", workload.snapshot())
                                      if a.role == "secondary")
        switch("active", Via.primary, "fail back")
        time.sleep(plan.steady)
    finally:
        workload.stop()
        if outage and plan.outage:
            outage(False)
        mark("stopped")
    attempts = workload.snapshot()
    lost, duplicated = reconcile(user, attempts, plan.drain_timeout)
    return DrillResult(target=f"{target.kind} {target.name}", rate=plan.rate, outage=bool(outage and plan.outage),
                       duration=now(), events=events, attempts=attempts, windows=gaps(attempts, events),
                       drains=drains, rpo_missing=rpo_missing, lost=lost, duplicated=duplicated)


def reconcile(user: AppUser, attempts: list[Attempt], timeout: float) -> tuple[list[str], list[str]]:
    """Every acknowledged write in both regions exactly once (after replication settles)."""
    lost: list[str] = []
    duplicated: list[str] = []
    for role in ("primary", "secondary"):
        wait_drained(user, role, attempts, timeout, time.monotonic, time.sleep)
        for attempt in (a for a in attempts if a.ok):
            copies = present(user, role, attempt)
            if copies == 0:
                lost.append(f"{role}: {attempt.kind} {attempt.key}")
            elif copies > 1:
                duplicated.append(f"{role}: {attempt.kind} {attempt.key} x{copies}")
    return lost, duplicated


def sandbox_outage(factory: Factory) -> Callable[[bool], None]:
    """Switch the sandbox's primary outage through its control endpoint."""
    import json
    import urllib.request

    endpoint = factory.load_session()["awsEndpoint"]

    def switch(down: bool) -> None:
        request = urllib.request.Request(f"{endpoint}/_sandbox/outage", method="POST",
                                         data=json.dumps({"region": "primary", "down": down}).encode(),
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=5):
            pass

    return switch


def drill_command(
    ctx: typer.Context,
    rate: Annotated[float, typer.Option(help="Writes per second.", min=0.2, max=50)] = 5.0,
    steady: Annotated[float, typer.Option(help="Seconds of writes in each phase.", min=0.5, max=600)] = 3.0,
    outage: Annotated[bool, typer.Option("--outage/--no-outage", help="Take the primary down after failover "
                                         "(sandbox only).")] = True,
    report_dir: Annotated[Path, typer.Option("--report-dir", help="Where the report goes.")] = Path("drill-report"),
    username: Annotated[str | None, typer.Option(help="App user the workload signs in as.")] = None,
    password: Annotated[str | None, typer.Option(help="Their password.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Fail over and back under a steady signed workload; report RTO, RPO, drain time and reconciliation.

    Writes drill.md, drill.json and drill.png to --report-dir. Exit 1 if any acknowledged write was lost
    or duplicated, or replication did not drain."""
    from ops.drill_report import write_report

    cli = cli_of(ctx)
    target = cli.target()
    target.check("tables")
    if outage and target.kind != "sandbox":
        raise UsageError("--outage needs the sandbox (a real region cannot be switched off): pass --no-outage")
    config = app_config(cli.factory, target)
    user = sign_in(config, *credentials(cli.factory, target, username, password))
    result = run_drill(cli.factory, target, user, DrillPlan(rate=rate, steady=steady, outage=outage),
                       sandbox_outage(cli.factory) if target.kind == "sandbox" and outage else None)
    paths = write_report(result, report_dir)
    summary = result.summary()
    if as_json:
        emit_json({**summary, "report": {k: str(v) for k, v in paths.items()}})
    table(f"drill on {result.target}", ["measure", "value"], summary_rows(result))
    say(f"report: {', '.join(str(p) for p in paths.values())}")
    if result.lost or result.duplicated or len(result.drains) < 2:
        raise OpsError(f"{len(result.lost)} lost, {len(result.duplicated)} duplicated", FAILED)


def summary_rows(result: DrillResult) -> list[list[str]]:
    s = result.summary()
    return [
        ["writes acknowledged / attempted", f"{s['acknowledged']} / {s['attempts']} ({s['refused']} refused 409, "
                                            f"{s['unanswered']} unanswered)"],
        ["RTO (longest time without a write)", f"{s['rtoS']:.2f} s"],
        *[[f"  {w['name']}", f"{w['seconds']:.2f} s"] for w in s["rtoWindows"]],
        ["RPO (acknowledged writes missing at a switch)", str(s["rpoWrites"])],
        *[[f"  drain {k}", f"{v:.2f} s"] for k, v in s["drainS"].items()],
        *[[f"replication lag {k}", f"p50 {v['p50']:.2f} s, max {v['max']:.2f} s (n={v['n']})"]
          for k, v in s["replicationLagS"].items()],
        ["lost", str(s["lost"])],
        ["duplicated", str(s["duplicated"])],
    ]


def as_dict(result: DrillResult) -> dict[str, Any]:
    return {"summary": result.summary(), "events": [asdict(e) for e in result.events],
            "attempts": [asdict(a) for a in result.attempts]}
