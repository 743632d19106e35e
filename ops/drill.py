"""`drill`: a failover drill under load, with measured RTO, RPO, drain time and reconciliation, that never
strands the application.

A workload generator writes comments (and every `photo_every`-th write a photo: bytes, then its
record) at a steady rate through the real signed APIs, choosing its region like the web app does
(from the routing state, re-checked after every refusal or error), and records every attempt.
Meanwhile the drill walks the runbook:

    pre-flight (both regions answer, `active` in both) -> steady -> fence -> drain (measured) ->
    [the secondary reads `fenced`] -> failover via the secondary -> [primary outage] -> writes in the
    secondary -> [primary back] -> fence -> drain back -> [the primary reads `fenced`] -> active -> steady

Every wait is bounded (`DrillPlan.state_timeout`, `drain_timeout`: defaults for the sandbox and for real
stacks). On any failure or Ctrl-C the drill stops the workload and walks the application back to `active`
(failover -> fenced -> the primary reads it -> drain back, bounded -> active through the primary), exits 1 and
records the abort in its report. `active` is only ever written once the primary answers and reads the latest
version: otherwise the application stays (or is put back) in `failover` through the secondary, which takes the
writes, and the drill names the command to run once the primary answers (`drill --restore`) and exits 4.

RTO: the longest time clients could not write (last acknowledged write before a switch to the
first one after). RPO: acknowledged writes of the old region missing in the new one at the
moment of the switch. At the end every acknowledged write must be in both regions exactly once.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Annotated, Any

import typer

from components.contract import REGION_ROLES
from ops.appclient import AppUser, new_photo_id, writer_of
from ops.context import cli_of
from ops.drill_model import OTHER, Attempt, DrillResult, Event, Window, summary_rows
from ops.errors import FAILED, OK, UNREACHABLE, ConflictError, OpsError, UnreachableError, UsageError, describe
from ops.factory import Factory, Target
from ops.output import JsonOption, emit_json, say, table
from ops.smoke import PIXEL, app_config, credentials, sign_in
from ops.state import Change, RegionState, Via, read_state, set_state, wait_for_state

MAX_PHOTO_PAGES = 50
STATE_TIMEOUT = 1.5  # seconds: a region that does not answer the state API this fast is treated as down
WRITE_TIMEOUT = 3.0
VERIFY_SECONDS = 0.05  # how often the verifier looks for acknowledged writes in the other region
VERIFY_TIMEOUT = 0.5
DRAIN_POLL = 0.1
CLOCK_SKEW_MS = 5 * 60 * 1000  # API Gateway stamps records with its own clock
# (state timeout, drain timeout) in seconds. Sandbox: replication lag is ~1 s. Real stacks: global tables
# replicate in about a second, S3 Replication Time Control promises 15 minutes for 99.99 % of objects.
DEFAULT_TIMEOUTS = {"sandbox": (10.0, 30.0), "stack": (60.0, 900.0)}


class Workload:
    """Writes at a steady rate from a background thread, routing like the web app."""

    def __init__(self, user: AppUser, rate: float, photo_every: int, clock: Callable[[], float]):
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.user, self.rate, self.photo_every, self.clock = user, rate, photo_every, clock
        self.attempts: list[Attempt] = []
        self.role = "primary"
        # The drill's writes are newer than this (epoch ms, with room for clock skew): listings stop there.
        self.since_ms = int(time.time() * 1000) - CLOCK_SKEW_MS
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
        for thread in (self._thread, self._verifier):
            if thread.is_alive():
                thread.join(30)

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
            status = self.user.send_photo(role, key, PIXEL, "image/png", timeout=WRITE_TIMEOUT).status
        else:
            status = self.user.send_comment(role, key, f"drill write {n}", timeout=WRITE_TIMEOUT).status
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
            for role in REGION_ROLES:
                mine = [a for a in pending if a.role == role]
                if not mine or self._stop.is_set():
                    continue
                held = copies(self.user, OTHER[role], mine, self.since_ms, timeout=VERIFY_TIMEOUT)
                seen = self.clock()
                with self._lock:
                    for attempt in (a for a in mine if held[a.key]):
                        attempt.replicated = seen
                        self._unreplicated.remove(attempt)


def copies(user: AppUser, role: str, attempts: list[Attempt], since_ms: int | None = None,
           timeout: float = WRITE_TIMEOUT) -> dict[str, int]:
    """How many copies of each write `role`'s region holds (0 = missing or no answer), by key. Photos: one
    listing of the records newer than `since_ms` (the drill's), then each found photo's bytes."""
    found: dict[str, int] = {}
    records: Counter[str] = Counter()
    if any(a.kind == "photo" for a in attempts):
        listed = user.all_photos(role, timeout=timeout, max_pages=MAX_PHOTO_PAGES, newer_than_ms=since_ms) or []
        records.update(record.get("photoId", "") for record in listed)
    for attempt in attempts:
        if attempt.kind == "comment":
            answer = user.list_comments(role, attempt.key, timeout=timeout)
            found[attempt.key] = len(answer.body["comments"]) if answer.status == 200 else 0
        elif records[attempt.key] and user.get_object(role, attempt.key).status == 200:
            found[attempt.key] = records[attempt.key]
        else:
            found[attempt.key] = 0  # no record, or the record without its bytes: not the photo yet
    return found


def missing_in(user: AppUser, role: str, attempts: list[Attempt], since_ms: int | None = None) -> list[Attempt]:
    """The acknowledged writes `role`'s region does not hold yet."""
    acknowledged = [a for a in attempts if a.ok]
    held = copies(user, role, acknowledged, since_ms)
    return [a for a in acknowledged if not held[a.key]]


def wait_drained(user: AppUser, destination: str, attempts: list[Attempt], timeout: float,
                 clock: Callable[[], float], sleep: Callable[[float], None],
                 since_ms: int | None = None) -> tuple[bool, float, int]:
    """Until every acknowledged write of the other region shows in `destination`, at most `timeout` seconds:
    (drained, seconds, writes still missing)."""
    began = clock()
    deadline = began + timeout
    pending = [a for a in attempts if a.ok and a.role == OTHER[destination]]
    while True:
        pending = missing_in(user, destination, pending, since_ms)
        if not pending:
            return True, clock() - began, 0
        if clock() >= deadline:
            break
        sleep(DRAIN_POLL)
        if clock() > deadline:  # no read past the deadline
            break
    return False, clock() - began, len(pending)


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
    state_timeout: float = DEFAULT_TIMEOUTS["sandbox"][0]  # until a region reads the state just written
    drain_timeout: float = DEFAULT_TIMEOUTS["sandbox"][1]  # until every acknowledged write is in the other region
    photo_every: int = 5

    @classmethod
    def for_target(cls, target: Target, **overrides: Any) -> DrillPlan:
        """The plan with the target's default timeouts; None overrides keep the defaults."""
        state_timeout, drain_timeout = DEFAULT_TIMEOUTS[target.kind]
        plan = cls(state_timeout=state_timeout, drain_timeout=drain_timeout)
        return replace(plan, **{k: v for k, v in overrides.items() if v is not None})


def region_reads(factory: Factory, target: Target, role: str, state: str, version: int | None,
                 timeout: float) -> str | None:
    """None once `role`'s region reads `state` at `version` or later (bounded wait), else what it reads, in words."""
    seen = wait_for_state(factory, target, role, state, version, timeout)
    if seen.reads(state, version):
        return None
    now = f"it reads {seen.state} (version {seen.version})" if seen.found else (seen.error or "no answer")
    return f"does not read {state} (version {version}) within {timeout:g} s ({now})"


class DrillAbortError(Exception):
    """The drill cannot go on safely; the message says why."""


def restore_command(target: Target) -> str:
    option = "--sandbox" if target.kind == "sandbox" else f"--stack {target.name}"
    return f"python -m ops {option} drill --restore"


def preflight(factory: Factory, target: Target, wait: float = 0.0) -> list[RegionState]:
    """Both regions answer and hold `active`, else ConflictError (exit 3) saying why; nothing is changed.

    A region one version behind an `active` the other reads is still receiving the switch by replication: it
    is given `wait` seconds (bounded) to read it before the drill refuses."""
    states = [read_state(factory, target, role) for role in REGION_ROLES]
    latest = max((s for s in states if s.found), key=lambda s: s.version or 0, default=None)
    if latest is not None and latest.state == "active":
        states = [wait_for_state(factory, target, s.role, "active", latest.version, wait)
                  if s.found and (s.version or 0) < (latest.version or 0) else s for s in states]
    problems = []
    for s in states:
        if not s.reachable:
            problems.append(f"the {s.role} region ({s.region}) does not answer: {s.error}")
        elif not s.found:
            problems.append(f"the {s.role} region ({s.region}) has no state item")
        elif s.state != "active":
            problems.append(f"the {s.role} region ({s.region}) reads {s.state} (version {s.version}), not active")
    if problems:
        raise ConflictError("drill refused, it starts only from active in both regions: " + "; ".join(problems)
                            + f". Nothing was changed. To return to active: {restore_command(target)}")
    return states


class Runbook:
    """The drill's switches: each waits (bounded) until the region it writes through reads the last state
    written, and a failure raises DrillAbortError."""

    def __init__(self, factory: Factory, target: Target, plan: DrillPlan, mark: Callable[[str, str], None]):
        self.factory, self.target, self.plan, self.mark = factory, target, plan, mark
        self.last: Change | None = None  # the last state the drill wrote, and through which region

    def switch(self, state: str, via: Via, detail: str) -> None:
        role = None if via is Via.auto else via.value
        if self.last and role and role != self.last.via:
            late = region_reads(self.factory, self.target, role, self.last.to_state, self.last.version,
                                self.plan.state_timeout)
            if late:
                raise DrillAbortError(f"the {role} region {late}: not switching through it")
        try:
            self.last = set_state(self.factory, self.target, state, via=via, reason=f"drill: {detail}")
        except OpsError as error:
            raise DrillAbortError(f"state set {state} via {via.value} failed: {error}") from None
        self.mark(state, detail)


@dataclass
class Restoration:
    """How a walk back to `active` ended."""

    restored: bool  # the primary answers and reads `active`
    state: str | None  # the state the application is left in, as last written or read (None: unknown)
    detail: str  # what happened; when not restored, it ends with the command that finishes the walk
    exit_code: int = OK  # not restored: UNREACHABLE when a region did not answer (or read late), else its error's


def restore(factory: Factory, target: Target, user: AppUser | None, attempts: list[Attempt], plan: DrillPlan,
            notify: Callable[[str], None] = say, since_ms: int | None = None) -> Restoration:
    """Walk the application back to `active`, never to an `active` nobody can write in.

    `active` is written only through the primary, and only once the primary answers and reads the latest
    version (waited for, bounded): failover -> fenced (through the region holding the latest version) -> the
    primary reads it -> the secondary's writes drained into the primary (bounded, best effort) -> active.
    When the primary does not answer, or does not read the latest version in time, the application stays in
    `failover` (or is put back there, from `fenced`) through the secondary, which takes the writes, and the
    result names the command to run once the primary answers (exit 4). An `active` the primary does not
    confirm is left as it is: failing over is the runbook's decision (docs/failover-runbook.md), not a
    restore's."""
    readings = {role: read_state(factory, target, role) for role in REGION_ROLES}
    answering = [s for s in readings.values() if s.reachable and s.found]
    later = f"once the primary answers, run: {restore_command(target)}"
    if not answering:
        return Restoration(False, None, "no region answered: " + "; ".join(
            f"{s.role}: {s.error}" for s in readings.values()) + f"; {later}", UNREACHABLE)
    latest = max(answering, key=lambda s: (s.version or 0, s.role == "primary"))
    primary = readings["primary"]
    steps: list[str] = []
    down = (None if primary.reachable and primary.found else
            f"does not answer ({primary.error})" if not primary.reachable else "has no state item")
    try:
        if latest.state == "active":
            seen = down or region_reads(factory, target, "primary", "active", latest.version, plan.state_timeout)
            if seen is None:
                return Restoration(True, "active", f"the primary region reads active (version {latest.version}): "
                                   "nothing to do")
            return Restoration(False, "active", f"the {latest.role} region reads active (version {latest.version}) "
                               f"but the primary region ({primary.region}) {seen}; nothing written (a restore does "
                               "not fail over an active application: docs/failover-runbook.md does); " + later,
                               UNREACHABLE)
        if down:
            return _hold_failover(factory, target, steps, f"the primary region ({primary.region}) {down}", later,
                                  notify)
        version = latest.version
        if latest.state == "failover":
            change = set_state(factory, target, "fenced", via=Via(latest.role), reason="drill restore", notify=notify)
            steps.append(f"fenced via the {change.via} region")
            version = change.version
        seen = region_reads(factory, target, "primary", "fenced", version, plan.state_timeout)
        if seen is not None:
            return _hold_failover(factory, target, steps, f"the primary region {seen}", later, notify)
        steps.append(_drain_back(factory, target, user, attempts, plan, readings, since_ms))
        try:
            change = set_state(factory, target, "active", via=Via.primary, reason="drill restore", notify=notify)
        except UnreachableError:
            return _hold_failover(factory, target, steps, f"the primary region ({primary.region}) stopped "
                                  "answering: active not written", later, notify)
        steps.append(f"active (version {change.version}) via the {change.via} region")
    except (OpsError, KeyboardInterrupt) as error:
        reason = "interrupted" if isinstance(error, KeyboardInterrupt) else str(error)
        code = error.exit_code if isinstance(error, OpsError) else FAILED
        return Restoration(False, None, f"{'; '.join(steps + [reason])}. Run: {restore_command(target)}", code)
    return Restoration(True, "active", "; ".join(steps))


def _hold_failover(factory: Factory, target: Target, steps: list[str], why: str, later: str,
                   notify: Callable[[str], None]) -> Restoration:
    """The primary cannot take `active`: keep (or put) the application in `failover` through the secondary."""
    try:
        change = set_state(factory, target, "failover", via=Via.secondary, reason=f"drill restore: {why}",
                           notify=notify)
    except OpsError as error:
        return Restoration(False, None, f"{'; '.join(steps + [why])}; failover through the secondary failed too: "
                           f"{error}; {later}", UNREACHABLE)
    held = (f"failover (version {change.version}) via the secondary region" if change.changed else
            "the secondary region keeps failover")
    return Restoration(False, "failover", f"{'; '.join(steps + [why, held])}: the secondary takes the writes; "
                       f"{later}", UNREACHABLE)


def _drain_back(factory: Factory, target: Target, user: AppUser | None, attempts: list[Attempt], plan: DrillPlan,
                readings: dict[str, RegionState], since_ms: int | None) -> str:
    """Before `active`: the secondary's writes in the primary (bounded, best effort), said in words."""
    if not readings["primary"].reachable:
        return "the primary does not answer: its copy of the secondary's writes is not checked"
    if user is not None:
        if not any(a.ok and a.role == "secondary" for a in attempts):
            return "no write was acknowledged by the secondary"
        drained, seconds, missing = wait_drained(user, "primary", attempts, plan.drain_timeout, time.monotonic,
                                                 time.sleep, since_ms)
        return (f"the secondary's writes drained into the primary in {seconds:.1f} s" if drained else
                f"{missing} secondary writes not yet in the primary after {seconds:.0f} s (they follow by "
                "replication)")
    if not readings["secondary"].reachable:
        return "the secondary does not answer: replication into the primary is not checked"
    from ops.status import probe  # without a workload, a replication probe stands for the drain

    seen = probe(factory, target, "secondary", "primary", plan.drain_timeout)
    if seen.replicated:
        return f"a replication probe secondary -> primary arrived in {seen.lagMs} ms"
    return f"a replication probe secondary -> primary did not arrive within {plan.drain_timeout:g} s"


def run_drill(factory: Factory, target: Target, user: AppUser, plan: DrillPlan,
              outage: Callable[[bool], None] | None = None) -> DrillResult:
    """Walk the runbook under load; see the module docstring. Pre-flight refusals raise ConflictError
    before anything changes; any later failure or Ctrl-C ends in a restored (or restorable) application
    and a result whose `aborted` says why."""
    preflight(factory, target, plan.state_timeout)
    began = time.monotonic()

    def now() -> float:
        return time.monotonic() - began

    events: list[Event] = []

    def mark(name: str, detail: str = "") -> None:
        events.append(Event(now(), name, detail))
        say(f"[{now():6.2f}s] {name}{': ' + detail if detail else ''}")

    outage = outage if plan.outage else None
    runbook = Runbook(factory, target, plan, mark)
    workload = Workload(user, plan.rate, plan.photo_every, now)
    drains: dict[str, float] = {}
    rpo_missing: dict[str, int] = {}
    aborted: str | None = None

    def drain(destination: str, name: str) -> None:
        drained, drains[name], missing = wait_drained(user, destination, workload.snapshot(), plan.drain_timeout,
                                                      now, time.sleep, workload.since_ms)
        if not drained:
            raise DrillAbortError(f"{missing} acknowledged writes of the {OTHER[destination]} not in the {destination} "
                             f"after {plan.drain_timeout:g} s (drain timeout)")
        mark("drained", f"{drains[name]:.2f}s to the {destination}")
        rpo_missing["failover" if destination == "secondary" else "failback"] = sum(
            1 for a in missing_in(user, destination, workload.snapshot(), since_ms=workload.since_ms)
            if a.role == OTHER[destination])

    mark("steady", "writes in the primary")
    workload.start()
    try:
        time.sleep(plan.steady)
        runbook.switch("fenced", Via.auto, "fail over")
        drain("secondary", "forward")
        runbook.switch("failover", Via.secondary, "fail over")
        if outage:
            outage(True)
            mark("primary outage")
        time.sleep(plan.steady)
        if outage:
            outage(False)
            mark("primary back")
        runbook.switch("fenced", Via.secondary, "fail back")
        drain("primary", "back")
        runbook.switch("active", Via.primary, "fail back")
        time.sleep(plan.steady)
    except DrillAbortError as error:
        aborted = str(error)
    except KeyboardInterrupt:
        aborted = "interrupted (Ctrl-C)"
    except Exception as error:  # noqa: BLE001 (whatever failed, the application must not stay switched)
        aborted = f"unexpected {type(error).__name__}: {describe(error)}"
    finally:
        workload.stop()
        if outage:
            try:
                outage(False)
            except OSError as error:
                aborted = aborted or f"could not end the primary outage: {error}"
        mark("stopped" if aborted is None else "aborted", aborted or "")
    attempts = workload.snapshot()
    result = DrillResult(target=target.label, rate=plan.rate, outage=outage is not None, duration=now(), events=events,
                         attempts=attempts, windows=gaps(attempts, events), drains=drains, rpo_missing=rpo_missing,
                         aborted=aborted)
    if aborted:
        say(f"drill aborted: {aborted}; returning the application to active ...")
        walked = restore(factory, target, user, attempts, plan, since_ms=workload.since_ms)
        result.restored, result.restore, result.left_in = walked.restored, walked.detail, walked.state
        result.restore_exit = walked.exit_code
        mark("restored" if result.restored else "not restored", result.restore)
    if all(read_state(factory, target, role).reachable for role in REGION_ROLES):
        result.lost, result.duplicated = reconcile(user, attempts, plan.drain_timeout, workload.since_ms)
    else:
        result.reconciled = False
    result.duration = now()
    return result


def reconcile(user: AppUser, attempts: list[Attempt], timeout: float,
              since_ms: int | None = None) -> tuple[list[str], list[str]]:
    """Every acknowledged write in both regions exactly once (after replication settles, bounded)."""
    lost: list[str] = []
    duplicated: list[str] = []
    acknowledged = [a for a in attempts if a.ok]
    for role in REGION_ROLES:
        wait_drained(user, role, acknowledged, timeout, time.monotonic, time.sleep, since_ms)
        held = copies(user, role, acknowledged, since_ms)
        for attempt in acknowledged:
            if held[attempt.key] == 0:
                lost.append(f"{role}: {attempt.kind} {attempt.key}")
            elif held[attempt.key] > 1:
                duplicated.append(f"{role}: {attempt.kind} {attempt.key} x{held[attempt.key]}")
    return lost, duplicated


def sandbox_outage(factory: Factory) -> Callable[[bool], None]:
    """Switch the sandbox's primary outage through its control endpoint."""
    from sandbox.outage import control_headers  # sandbox target only: the control API wants the token

    session = factory.load_session()
    endpoint, authorization = session["awsEndpoint"], control_headers(session)

    def switch(down: bool) -> None:
        request = urllib.request.Request(f"{endpoint}/_sandbox/outage", method="POST",
                                         data=json.dumps({"region": "primary", "down": down}).encode(),
                                         headers={"Content-Type": "application/json", **authorization})
        with urllib.request.urlopen(request, timeout=5):
            pass

    return switch


def drill_command(
    ctx: typer.Context,
    rate: Annotated[float, typer.Option(help="Writes per second.", min=0.2, max=50)] = 5.0,
    steady: Annotated[float, typer.Option(help="Seconds of writes in each phase.", min=0.5, max=600)] = 3.0,
    outage: Annotated[bool, typer.Option("--outage/--no-outage", help="Take the primary down after failover "
                                         "(sandbox only).")] = True,
    state_timeout: Annotated[float | None, typer.Option(
        min=0.5, max=3600, help="Seconds to wait until a region reads the state just written (default: sandbox "
        f"{DEFAULT_TIMEOUTS['sandbox'][0]:g}, stack {DEFAULT_TIMEOUTS['stack'][0]:g}).")] = None,
    drain_timeout: Annotated[float | None, typer.Option(
        min=0.5, max=7200, help="Seconds to wait until every acknowledged write is in the other region (default: "
        f"sandbox {DEFAULT_TIMEOUTS['sandbox'][1]:g}, stack {DEFAULT_TIMEOUTS['stack'][1]:g}).")] = None,
    restore_only: Annotated[bool, typer.Option("--restore", help="Run no drill: walk the application back to "
                                               "active (fenced, drain, active through the primary); with the primary "
                                               "down it stays in failover (exit 4).")]
    = False,
    report_dir: Annotated[Path, typer.Option("--report-dir", help="Where the report goes.")] = Path("drill-report"),
    username: Annotated[str | None, typer.Option(help="App user the workload signs in as.")] = None,
    password: Annotated[str | None, typer.Option(help="Their password.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Fail over and back under a steady signed workload; report RTO, RPO, drain time and reconciliation.

    Starts only from active in both regions (else exit 3). Writes drill.md, drill.json and drill.png to
    --report-dir. On any failure or Ctrl-C it returns the application to active and exits 1; when the primary
    does not answer it keeps the application in failover through the secondary instead, prints the command
    to run once the primary answers and exits 4. Also exit 1 if any acknowledged write was lost or duplicated."""
    cli = cli_of(ctx)
    target = cli.target()
    target.check("tables")
    plan = DrillPlan.for_target(target, rate=rate, steady=steady, outage=outage, state_timeout=state_timeout,
                                drain_timeout=drain_timeout)
    if restore_only:
        walked = restore(cli.factory, target, None, [], plan)
        if as_json:
            emit_json({"restored": walked.restored, "state": walked.state, "detail": walked.detail})
        if not walked.restored:
            raise OpsError(f"not restored: {walked.detail}", walked.exit_code)
        say(f"{target.label} is active: {walked.detail}")
        return
    from ops.drill_report import write_report  # matplotlib: only when a report is written

    if outage and target.kind != "sandbox":
        raise UsageError("--outage needs the sandbox (a real region cannot be switched off): pass --no-outage")
    config = app_config(cli.factory, target)
    user = sign_in(config, *credentials(cli.factory, target, username, password))
    result = run_drill(cli.factory, target, user, plan,
                       sandbox_outage(cli.factory) if target.kind == "sandbox" and outage else None)
    paths = write_report(result, report_dir)
    if as_json:
        emit_json({**result.summary(), "report": {k: str(v) for k, v in paths.items()}})
    table(f"drill on {result.target}", ["measure", "value"], summary_rows(result))
    say(f"report: {', '.join(str(p) for p in paths.values())}")
    if result.aborted:
        back = "the application is back to active" if result.restored else f"NOT restored: {result.restore}"
        # A primary that did not answer (the application held in failover) is exit 4, like `drill --restore`.
        code = result.restore_exit if not result.restored and result.restore_exit == UNREACHABLE else FAILED
        raise OpsError(f"drill aborted: {result.aborted}; {back}", code)
    if not result.passed:
        raise OpsError(f"{len(result.lost)} lost, {len(result.duplicated)} duplicated"
                       f"{'' if result.reconciled else ', not reconciled'}", FAILED)
