"""What both replicators share: a lagged work queue, request scopes and reversible patches.

- `LagQueue`: a bounded FIFO drained by one daemon thread; each item is applied `lag`
  seconds after it was queued, and not while `ready(item)` is false (a region in outage
  holds the head of the queue, as a real outage holds replication, in order).
- `request_scope()` / `defer(fn)`: moto fills an object in several steps within one
  request (put, then metadata, then tags); the front door opens a scope around each
  request and callbacks deferred inside it run once moto has finished, before the
  response leaves. Outside a scope `defer` runs the callback at once.
- `applying()`: marks the replication worker's own writes so that hooks ignore them
  (no ping-pong).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_CAPACITY = 10_000
BLOCKED_POLL_SECONDS = 0.05  # how often a queue held by an outage looks again
LAG_SAMPLES = 1_000  # observed lags kept for stats/bench

_local = threading.local()


# -- request scopes ---------------------------------------------------------------------------------
@contextlib.contextmanager
def request_scope() -> Iterator[None]:
    """Collect `defer`red callbacks until the block ends, then run them in order."""
    outer = getattr(_local, "deferred", None)
    if outer is not None:  # nested scope: the outermost one runs everything
        yield
        return
    _local.deferred = []
    try:
        yield
    finally:
        callbacks, _local.deferred = _local.deferred, None
        for callback in callbacks:
            try:
                callback()
            except Exception:  # one bad event must not lose the others or fail the response
                log.exception("deferred replication callback failed")


def defer(callback: Callable[[], None]) -> None:
    """Run `callback` when the current request scope ends (at once outside a scope)."""
    deferred = getattr(_local, "deferred", None)
    if deferred is None:
        callback()
    else:
        deferred.append(callback)


@contextlib.contextmanager
def applying() -> Iterator[None]:
    """Mark writes made by a replicator on this thread: hooks must not capture them."""
    previous = getattr(_local, "applying", False)
    _local.applying = True
    try:
        yield
    finally:
        _local.applying = previous


def is_applying() -> bool:
    return getattr(_local, "applying", False)


# -- the lagged queue ---------------------------------------------------------------------------------
@dataclass
class _Entry(Generic[T]):
    due: float  # time.monotonic() at which the item may be applied
    queued_at: float  # time.time(), for the observed lag
    item: T


class LagQueue(Generic[T]):
    """Apply items `lag` seconds after `put`, in order, on one daemon thread."""

    def __init__(
        self,
        name: str,
        lag: float,
        apply: Callable[[T], None],
        ready: Callable[[T], bool] = lambda _item: True,
        capacity: int = DEFAULT_CAPACITY,
    ) -> None:
        if lag < 0:
            raise ValueError(f"lag must be >= 0 seconds, got {lag}")
        self.name = name
        self.lag = lag
        self._apply = apply
        self._ready = ready
        self._capacity = capacity
        self._entries: deque[_Entry[T]] = deque()
        self._cond = threading.Condition()
        self._in_flight = 0
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._blocked = False
        self._lags: deque[float] = deque(maxlen=LAG_SAMPLES)
        self.counters = {"queued": 0, "applied": 0, "failed": 0, "dropped": 0}

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the worker; items still queued are dropped (the cloud is going away)."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def put(self, item: T) -> bool:
        """Queue an item; False (and logged) when the queue is full."""
        with self._cond:
            if len(self._entries) >= self._capacity:
                self.counters["dropped"] += 1
                log.error("%s: queue full (%d items), dropping an event", self.name, self._capacity)
                return False
            self._entries.append(_Entry(time.monotonic() + self.lag, time.time(), item))
            self.counters["queued"] += 1
            self._cond.notify_all()
            return True

    @property
    def pending(self) -> int:
        """Items queued or being applied."""
        with self._cond:
            return len(self._entries) + self._in_flight

    def wait_idle(self, timeout: float) -> bool:
        """Block until nothing is pending; False if `timeout` seconds pass first."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._entries or self._in_flight:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(remaining)
            return True

    def stats(self) -> dict[str, Any]:
        with self._cond:
            lags = sorted(self._lags)
            return {
                **self.counters,
                "pending": len(self._entries) + self._in_flight,
                "blocked": self._blocked,
                "lagSeconds": self.lag,
                "observedLagP50": lags[len(lags) // 2] if lags else None,
                "observedLagMax": lags[-1] if lags else None,
            }

    def _next(self) -> _Entry[T] | None:
        """The head entry once it is due and ready; None when stopping."""
        with self._cond:
            while not self._stopping:
                if not self._entries:
                    self._cond.wait()
                    continue
                head = self._entries[0]
                delay = head.due - time.monotonic()
                if delay > 0:
                    self._cond.wait(delay)
                    continue
                if not self._is_ready(head.item):
                    self._blocked = True
                    self._cond.wait(BLOCKED_POLL_SECONDS)
                    continue
                self._blocked = False
                self._in_flight = 1
                return self._entries.popleft()
            return None

    def _is_ready(self, item: T) -> bool:
        try:
            return self._ready(item)
        except Exception:  # a broken check must not kill the worker: let apply fail and log instead
            log.exception("%s: readiness check failed", self.name)
            return True

    def _run(self) -> None:
        while (entry := self._next()) is not None:
            ok = True
            try:
                self._apply(entry.item)
            except Exception:  # keep the worker alive: one bad item must not stop replication
                ok = False
                log.exception("%s: applying an event failed", self.name)
            with self._cond:
                self._in_flight = 0
                self.counters["applied" if ok else "failed"] += 1
                self._lags.append(time.time() - entry.queued_at)
                self._cond.notify_all()
