"""One condition-driven work queue, shared by Android WorkManager and HarmonyOS workScheduler.

A *work* waits until three gates open, runs with a deadline, and is stopped when a condition it
needs is lost. The queue owns what both platforms do alike: the records (by key and by app), the
signal index, try-start, re-evaluation, the ``eval`` / ``expire`` / per-app timers and the
re-arming of restored works. A platform supplies only its rules (:class:`Rules`) and names.

The gates, in the order they are checked:

1. **time** — ``rules.not_before(work)`` (delay, backoff, next period, repeat cycle, idle wait):
   the work leaves the signal index and its ``eval`` timer looks again then;
2. **known** — a signal one of its conditions reads (``rules.reads(work)``) is unknown (stale):
   the condition is unmet, never guessed (issue 9). The work is indexed under
   ``unknown:<signal>`` (:func:`unknown_key`); when a signal turns unknown or known again,
   :meth:`WorkQueue.unknown_changed` names every work reading it (a rare edge, so a scan), and
   a running one whose signal is now unknown goes to ``rules.on_unknown``;
3. **conditions** — ``rules.unmet(work, signals)``: the work is indexed under exactly the
   conditions that block it (``rules.index_key``), so only a change of those re-evaluates it;
4. **policy** — ``rules.policy_wait(work)`` (standby-bucket quota, activity-group interval):
   ``None`` starts the work; otherwise ``(retry_at, watch)`` arms the app's timer for
   ``retry_at`` (if any) and indexes the work under ``watch``.

A running work is indexed under all of its conditions (``work.watched``); the first lost one is handed to ``rules.on_lost``; at its
deadline ``rules.on_timeout`` runs.

Cost: a signal change touches only ``index.affected(keys)``; a time gate costs one timer.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from typing import Any, Generic, Protocol, TypeVar

from firmware_sim.policy import Context, SignalIndex, TimerMap, app_label
from firmware_sim.signals import Signals

__all__ = ["QueuedWork", "Rules", "WorkQueue", "unknown_key"]


def unknown_key(signal: str) -> str:
    """Index key of "``signal`` is unknown" (a work waits on it, a running work watches it)."""
    return f"unknown:{signal}"


class QueuedWork(Protocol):
    """The fields of a work record the queue reads and writes."""

    app: str
    state: str
    started: float | None
    deadline: float | None
    #: index keys of all its conditions (while running it is indexed under these)
    watched: frozenset[str]
    #: index keys it is under now
    indexed: frozenset[str]


W = TypeVar("W", bound=QueuedWork)
K = TypeVar("K", bound=Hashable)
W_contra = TypeVar("W_contra", bound=QueuedWork, contravariant=True)
K_co = TypeVar("K_co", bound=Hashable, covariant=True)


class Rules(Protocol[W_contra, K_co]):
    """What a platform decides; the queue does the rest."""

    def key(self, work: W_contra) -> K_co:
        """The work's key, ``(app id, work id)``."""
        ...

    def task_id(self, work: W_contra) -> str:
        """The task id its events carry."""
        ...

    def not_before(self, work: W_contra) -> float:
        """Earliest rig time the work's time gates allow a start (<= now: open)."""
        ...

    def unmet(self, work: W_contra, signals: Signals) -> list[str]:
        """Conditions the signals do not satisfy now, most important first."""
        ...

    def reads(self, work: W_contra) -> frozenset[str]:
        """Signals the work's conditions read (an unknown one makes its condition unmet)."""
        ...

    def on_unknown(self, work: W_contra, unknown: list[str]) -> None:
        """A running work's conditions read the now unknown signals ``unknown`` (sorted)."""
        ...

    def index_key(self, work: W_contra, condition: str) -> str:
        """Index key of one of :meth:`unmet`'s conditions."""
        ...

    def policy_wait(self, work: W_contra) -> tuple[float | None, frozenset[str]] | None:
        """None if the platform's policy lets the work start now, else (retry time, keys)."""
        ...

    def budget_s(self, work: W_contra) -> float:
        """How long a run may last (its deadline is now + this)."""
        ...

    def on_started(self, work: W_contra) -> None:
        """The work is running (state, deadline, index and timer are set): book it, emit wake."""
        ...

    def on_timeout(self, work: W_contra) -> None:
        """A running work reached its deadline."""
        ...

    def on_lost(self, work: W_contra, lost: list[str]) -> None:
        """A running work no longer has the conditions ``lost`` (first: the reason)."""
        ...

    def on_index(self, work: W_contra, old: frozenset[str], new: frozenset[str]) -> None:
        """Index keys the queue does not keep itself (:attr:`WorkQueue.side_keys`) changed."""
        ...


class WorkQueue(Generic[W, K]):
    """Works of one platform, by key and by app, with their signal index and timers.

    Args:
        ctx: the policy's context (time, signals, timers).
        rules: the platform's rules.
        waiting_state: the platform's name of the waiting state (``enqueued``, ``waiting``).
        side_keys: index keys kept by the platform (``rules.on_index``), not in the index.
    """

    def __init__(self, ctx: Context, rules: Rules[W, K], *, waiting_state: str,
                 side_keys: frozenset[str] = frozenset()) -> None:
        self.ctx = ctx
        self.rules = rules
        self.waiting = waiting_state
        self.side_keys = side_keys
        self.works: dict[K, W] = {}
        self.by_app: dict[str, dict[Any, W]] = {}
        self.index = SignalIndex()
        self._eval: TimerMap[K] = TimerMap(ctx, self._on_eval, self._label)
        self._expire: TimerMap[K] = TimerMap(ctx, self._on_expire, self._label)
        self._app: TimerMap[str] = TimerMap(ctx, self.evaluate_app, app_label)

    def _label(self, key: K) -> tuple[str | None, str | None]:
        work = self.works.get(key)
        return (None, None) if work is None else (work.app, self.rules.task_id(work))

    # -- records -----------------------------------------------------------------------------
    def add(self, work: W, work_id: Hashable) -> None:
        """Keep ``work`` (``work_id``: its id within the app)."""
        self.works[self.rules.key(work)] = work
        self.by_app.setdefault(work.app, {})[work_id] = work

    def remove(self, work: W, work_id: Hashable) -> None:
        """Forget ``work``: out of the index, its timers disarmed."""
        key = self.rules.key(work)
        self.works.pop(key, None)
        app_works = self.by_app.get(work.app)
        if app_works is not None:
            app_works.pop(work_id, None)
        self.watch(work, frozenset())
        self._eval.cancel(key)
        self._expire.cancel(key)

    def watch(self, work: W, names: frozenset[str]) -> None:
        """Index the work under exactly ``names`` (empty: out of the index)."""
        old = work.indexed
        if old == names:
            return
        side = self.side_keys
        if side and (old & side) != (names & side):
            self.rules.on_index(work, old & side, names & side)
        plain = names - side if side else names
        key = self.rules.key(work)
        if plain:
            self.index.add(key, plain)
        else:
            self.index.discard(key)
        work.indexed = names

    # -- scheduling --------------------------------------------------------------------------
    def try_start(self, work: W) -> None:
        """Start ``work`` if every gate is open; else wait on what blocks it."""
        if work.state != self.waiting:
            return
        rules = self.rules
        not_before = rules.not_before(work)
        if not_before > self.ctx.now:  # a time gate: its timer looks again, signals need not
            self.watch(work, frozenset())
            self._eval.arm(rules.key(work), not_before)
            return
        signals = self.ctx.signals
        if signals.stale:
            unknown = rules.reads(work) & signals.stale
            if unknown:  # unknown is unmet: wait until it is known again
                self.watch(work, frozenset(unknown_key(n) for n in unknown))
                return
        unmet = rules.unmet(work, signals)
        if unmet:  # only a change of what blocks it can start it
            self.watch(work, frozenset(rules.index_key(work, c) for c in unmet))
            return
        wait = rules.policy_wait(work)
        if wait is not None:
            retry_at, keys = wait
            self.watch(work, keys)
            if retry_at is not None:
                self._app.arm(work.app, retry_at)
            return
        self.start(work)

    def start(self, work: W) -> None:
        """Run ``work`` now: state, deadline, index, timers, then ``rules.on_started``."""
        now = self.ctx.now
        key = self.rules.key(work)
        work.state = "running"
        work.started = now
        work.deadline = now + self.rules.budget_s(work)
        self.watch(work, work.watched)  # running: a lost condition stops it
        self._eval.cancel(key)
        self._expire.arm(key, work.deadline)
        self.rules.on_started(work)

    def force_start(self, work: W) -> None:
        """Start a waiting ``work`` now whatever its gates say (the debug verb ``force_run``,
        like ``adb shell cmd jobscheduler run -f``)."""
        self.start(work)

    def force_timeout(self, work: W) -> None:
        """A running ``work`` reaches its deadline now (the debug verb ``force_expire``)."""
        self._expire.cancel(self.rules.key(work))
        self.rules.on_timeout(work)

    def unknown_changed(self, old: Signals, new: Signals) -> set[K]:
        """Keys of the works reading a signal that turned unknown or known again between two
        effective snapshots (a policy adds them to the keys it re-evaluates)."""
        if old.stale == new.stale:
            return set()
        flipped = old.stale ^ new.stale
        reads = self.rules.reads
        return {key for key, work in self.works.items() if reads(work) & flipped}

    def stopped(self, work: W) -> None:
        """Bookkeeping when a run ends, whatever the cause: back to waiting, no deadline."""
        self._expire.cancel(self.rules.key(work))
        work.state = self.waiting
        work.started = work.deadline = None

    def evaluate(self, keys: Iterable[K]) -> None:
        """Re-check ``keys`` (in key order): waiting works may start, running ones may stop."""
        signals = self.ctx.signals
        for key in sorted(keys):  # type: ignore[type-var]
            work = self.works.get(key)
            if work is None:
                continue
            if work.state == self.waiting:
                self.try_start(work)
                continue
            if signals.stale:
                unknown = self.rules.reads(work) & signals.stale
                if unknown:
                    self.rules.on_unknown(work, sorted(unknown))
                    continue
            lost = self.rules.unmet(work, signals)
            if lost:
                self.rules.on_lost(work, lost)

    def evaluate_app(self, app_id: str) -> None:
        """Re-check every work of ``app_id`` (its policy gate may have opened)."""
        self.evaluate(self.rules.key(w) for w in list(self.by_app.get(app_id, {}).values()))

    def arm_app(self, app_id: str, at: float) -> None:
        """Re-check ``app_id``'s works at ``at`` (a new register: ``now``)."""
        self._app.arm(app_id, at)

    def affected(self, keys: Iterable[str]) -> set[Hashable]:
        """Works indexed under any of ``keys``."""
        return self.index.affected(keys)

    def restore(self, work: W, work_id: Hashable) -> bool:
        """Re-arm a work read from a dump; True if it is still running (no second ``wake``)."""
        self.add(work, work_id)
        key = self.rules.key(work)
        if work.state == "running" and work.deadline is not None:
            self.watch(work, work.watched)
            self._expire.arm(key, work.deadline)
            return True
        work.state = self.waiting
        self._eval.arm(key, self.ctx.now)
        return False

    # -- timers ------------------------------------------------------------------------------
    def _on_eval(self, key: K) -> None:
        work = self.works.get(key)
        if work is not None:
            self.try_start(work)

    def _on_expire(self, key: K) -> None:
        work = self.works.get(key)
        if work is not None and work.state == "running":
            self.rules.on_timeout(work)
