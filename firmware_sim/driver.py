"""The thin async shell that runs the pure scheduler on a clock.

It serialises every input (requests, signal snapshots, due timers) through one lock, so the
events of each app leave in ``seq`` order. With a :class:`~firmware_sim.journal.Journal`, every
batch of events and the state that produced it are committed in one transaction *before* the
batch goes to the registered sinks (the MQTT bridge, a terminal view); the bridge learns each
event's journal row from :meth:`SchedulerDriver.journal_rows` and acknowledges it on PUBACK.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from firmware_sim.clock import Clock, wall_now
from firmware_sim.events import Event, Response
from firmware_sim.journal import Journal, JournalError, PendingItem, encode_event
from firmware_sim.scheduler import Scheduler
from firmware_sim.signals import Signals

log = logging.getLogger(__name__)

EventSink = Callable[[list[Event]], Awaitable[None] | None]
ResponseHook = Callable[[Response], Awaitable[None] | None]
SignalsSink = Callable[[Signals], Awaitable[None] | None]


class SchedulerDriver:
    """Runs a :class:`Scheduler` on ``clock``; inputs come from the bridge and signal sources.

    Args:
        scheduler: the pure state machine.
        clock: real, scaled (``--speed``) or virtual time.
        journal: if given, every change of state and every event batch is committed to it
            (one transaction) before the sinks see the batch.
    """

    def __init__(self, scheduler: Scheduler, *, clock: Clock, journal: Journal | None = None) -> None:
        self.scheduler = scheduler
        self.clock = clock
        self.journal = journal
        self.journal_failures = 0
        self._rows: dict[int, int] = {}
        self._payloads: dict[int, bytes] = {}
        self._sinks: list[EventSink] = []
        self._signal_sinks: list[SignalsSink] = []
        self._lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._stopped = False

    def add_sink(self, sink: EventSink) -> None:
        """Call ``sink(events)`` (sync or async) for every non-empty batch, in order."""
        self._sinks.append(sink)

    def add_signals_sink(self, sink: SignalsSink) -> None:
        """Call ``sink(snapshot)`` whenever the snapshot changes (values or stale marks),
        after the events that change caused have gone to the event sinks."""
        self._signal_sinks.append(sink)

    @property
    def signals(self) -> Signals:
        """The scheduler's current snapshot."""
        return self.scheduler.signals

    # -- the query API the bridge uses (no reaching into the scheduler) ------------------------
    @property
    def epoch(self) -> Any:
        """Wall time of rig second 0 (a datetime), or None."""
        return self.scheduler.epoch

    def app_ids(self) -> list[str]:
        """Registered app ids, in registration order."""
        return list(self.scheduler.apps)

    def has_app(self, app: str) -> bool:
        """True if ``app`` is registered."""
        return app in self.scheduler.apps

    def tasks(self, app: str) -> dict[str, dict[str, Any]]:
        """Task states of ``app`` (task id → state dict)."""
        return self.scheduler.tasks(app)

    def app_state(self, app: str) -> tuple[str, str] | None:
        """``(platform, state)`` of a registered app, or None."""
        found = self.scheduler.apps.get(app)
        return None if found is None else (found.platform, found.state)

    @property
    def now(self) -> float:
        """Rig time (s) of the scheduler's last step."""
        return self.scheduler.now

    def journal_rows(self, events: list[Event]) -> list[int | None]:
        """The journal row of each event of the batch being delivered (None: not journaled)."""
        return [self._rows.get(id(e)) for e in events]

    def encode(self, event: Event) -> bytes:
        """The ``apps/<app>/events`` payload of ``event``: for an event of the batch being
        delivered, the very bytes the journal stored (encoded once, so a replay after a restart
        repeats the live message byte for byte); otherwise encoded now."""
        payload = self._payloads.get(id(event))
        if payload is not None:
            return payload
        return encode_event(event, self.scheduler.epoch, wall_now())

    async def resume(self, values: Mapping[str, Any], *, stale: frozenset[str] = frozenset()) -> list[Event]:
        """Apply the live signals read at start-up and re-check every restored task against
        them (:meth:`Scheduler.resume`); the events are journaled and delivered like any other.

        Raises:
            SignalError: an unknown signal or bad value (nothing is applied).
        """
        async with self._lock:
            now = self._now()
            before = self.scheduler.signals
            snapshot = before.updated(values, t=now, stale=stale)
            events = self.scheduler.resume(now, snapshot)
            await self._deliver(events, changed=True)
            for sink in self._signal_sinks:
                try:
                    await _maybe_await(sink(snapshot))
                except Exception:
                    log.exception("signals sink %r failed", sink)
        self._wake.set()
        return events

    async def request(
        self, app: str, verb: str, args: Any = None, *, on_response: ResponseHook | None = None
    ) -> Response:
        """Serve one app request now. ``on_response`` runs before the request's events go out."""
        async with self._lock:
            response, events = self.scheduler.handle(self._now(), app, verb, args)
            if on_response is not None:
                await _maybe_await(on_response(response))
            await self._deliver(events, changed=response.ok)
        self._wake.set()
        return response

    async def update_signals(
        self,
        values: Mapping[str, Any],
        *,
        stale: frozenset[str] = frozenset(),
        fresh: frozenset[str] = frozenset(),
    ) -> list[Event]:
        """Apply a source's update (validated by :meth:`Signals.updated`) and react at once.

        Raises:
            SignalError: an unknown signal or bad value (nothing is applied).
        """
        async with self._lock:
            now = self._now()
            before = self.scheduler.signals
            snapshot = before.updated(values, t=now, stale=stale, fresh=fresh)
            events = self.scheduler.set_signals(now, snapshot)
            await self._deliver(events, changed=bool(events))
            if _differs(before, snapshot):
                for sink in self._signal_sinks:
                    try:
                        await _maybe_await(sink(snapshot))
                    except Exception:
                        log.exception("signals sink %r failed", sink)
        self._wake.set()
        return events

    async def run(self) -> None:
        """Fire timers as they fall due until :meth:`stop`."""
        while not self._stopped:
            self._wake.clear()
            deadline = self.scheduler.next_deadline()
            waker = asyncio.ensure_future(self._wake.wait())
            if deadline is None:
                await waker
            else:
                sleeper = asyncio.ensure_future(self.clock.sleep_until(deadline))
                await asyncio.wait({waker, sleeper}, return_when=asyncio.FIRST_COMPLETED)
                for fut in (waker, sleeper):
                    fut.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await fut
            if self._stopped:
                break
            async with self._lock:
                events = self.scheduler.advance(self._now())
                await self._deliver(events, changed=bool(events))

    def stop(self) -> None:
        """Make :meth:`run` return."""
        self._stopped = True
        self._wake.set()

    def save(self) -> None:
        """Commit the scheduler state now (no-op without a journal).

        Raises:
            JournalError: the write failed.
        """
        if self.journal is not None:
            self.journal.commit(self.scheduler.dump(), ())
            self.scheduler.mark_saved()

    def _now(self) -> float:
        # A scaled clock read can never be earlier than the scheduler's last step, but a timer
        # fired at its own due time may sit a hair ahead of a coarse clock read: never go back.
        return max(self.clock.now(), self.scheduler.now)

    async def _deliver(self, events: list[Event], *, changed: bool) -> None:
        self._rows = {}
        self._payloads = {}
        if self.journal is not None and (changed or events):
            wall = wall_now()  # one wall-clock read for the batch
            epoch = self.scheduler.epoch
            items = [PendingItem(None, encode_event(e, epoch, wall), 1, e.app, e.seq) for e in events]
            self._payloads = {id(e): i.payload for e, i in zip(events, items, strict=True)}
            try:
                # only the policies this batch touched are serialised (issue #8: cost ∝ change)
                rows = self.journal.commit(self.scheduler.dump_changed(), items, partial=True)
                self.scheduler.mark_saved()
                self._rows = {id(e): r for e, r in zip(events, rows, strict=True)}
            except JournalError:
                # the events still go out from memory; the failure is logged and counted
                self.journal_failures += 1
                log.exception("could not write the journal; this batch is not crash-safe")
        if not events:
            return
        try:
            for sink in self._sinks:
                try:
                    await _maybe_await(sink(events))
                except Exception:
                    log.exception("event sink %r failed", sink)
        finally:  # keyed by id(): never let a later event with a recycled id match
            self._rows = {}
            self._payloads = {}


async def _maybe_await(value: Awaitable[None] | None) -> None:
    if inspect.isawaitable(value):
        await value


def _differs(a: Signals, b: Signals) -> bool:
    return a.stale != b.stale or any(getattr(a, n) != getattr(b, n) for n in Signals.names())
