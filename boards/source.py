"""The async signal source of one board: polls the gauge, follows pin and netlink edges, holds
hand-set signals, and delivers ordered :class:`~boards.updates.SourceUpdate` values.

Jobs are split by module: :mod:`boards.updates` (update / snapshot types and the protocols),
:mod:`boards.derive` (pure derivation of signals from raw inputs), :mod:`boards.gauge`
(plausibility and confirmation of gauge readings), :mod:`boards.relays`, :mod:`boards.netlink`,
and :mod:`boards.build` (construction from a board spec). This module is the async shell.

Delivery: the callback is called for each update as it is made; when it returns an awaitable
(a coroutine callback), that goes into ONE ordered queue drained by one consumer task, so
deliveries run in the order the updates were made, each after the previous one finished.
Fast path (issue #8): with nothing queued or being delivered, a coroutine runs at once, on the
edge's own callback, up to its first suspension; only the rest goes to the consumer, at the head
of the queue, so no update overtakes an earlier one and the queue hop (a loop turn behind all
ready work: ~110 µs p50 of charger edge → ``revoke``, bench_edge_stages) is skipped. Like a 3.12
eager task, that first part runs in the caller's context (``asyncio.current_task()`` is the
caller's or None); the rig's callback does not depend on it.

Atomic changes: :meth:`BoardSource.set` applies every value (sim model, relays, manual values,
the power pin's edge) before it publishes, so a multi-key set is one update.

A failing sensor never raises out of the source: its signals are marked stale and the update
carries a fault naming chip, address, bus and register; the next good read clears the mark.
Gauge reads are a few bus transactions and run on the event loop's thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from types import MappingProxyType
from typing import Any, Final

from gpiozero.pins import Factory

from boards.derive import MEASUREMENTS, POWER_SUPPLY, Inputs, Kind, derive, kinds_of, labels
from boards.errors import BoardError, NotSettableError
from boards.gauge import CheckedGauge, describe
from boards.netlink import NetlinkInput
from boards.relays import RelayBank
from boards.sim import SIM_SETTABLE, SimBoard
from boards.spec import MANUAL_DEFAULTS, RELAY_SIGNALS, BoardSpec, check_value
from boards.updates import (
    Environment,
    ManualSignals,
    SourceClock,
    SourceSnapshot,
    SourceUpdate,
    UpdateCallback,
)
from hal.chips import GaugeDriver, chip_spec
from hal.errors import HalError, PinError
from hal.gpio import InputWatcher
from hal.gpio import PinSpec as HalPinSpec
from hal.power_supply import PowerSupplySource
from wbcommon.aio import Resumed
from wbcommon.signals import BATTERY_DECISION_LEVELS_PCT

__all__ = ["DEFAULT_POLL_INTERVAL_S", "BoardSource"]

log = logging.getLogger(__name__)

#: Gauge poll period (rig seconds). A wakebench default, not a chip limit: battery signals move
#: slowly (1 % of a 2500 mAh cell at 0.5 A takes 3 minutes), while charger and network changes
#: arrive as edges without waiting for a poll. Override with ``poll_interval=``.
DEFAULT_POLL_INTERVAL_S: Final = 1.0


class BoardSource:
    """The signal source of one board (made by :func:`boards.build.build_source`).

    Args:
        spec: the board.
        clock: rig time (:class:`~boards.updates.SourceClock`).
        gauge: the gauge driver, if the board has a gauge.
        gauge_label: how faults name the gauge (``gauge max17048@0x36 on bus 1``).
        pin_factory: gpiozero factory for pins and relays (None: pins are reported broken).
        power_supply: kernel ``power_supply`` reader (boards without their own gauge).
        watch_network: follow netlink for ``network`` / ``metered`` (False: manual / sim).
        sim: the simulated hardware (``sim`` board).
        poll_interval: gauge poll period in rig seconds; None polls only on :meth:`refresh`.
        pin_factory_error: why there is no pin factory (reported as a fault).
        decision_levels: battery levels (%) whose crossing a gauge re-read confirms
            (default :data:`wbcommon.signals.BATTERY_DECISION_LEVELS_PCT`).
        confirm: range-check and confirm gauge readings (:class:`boards.gauge.CheckedGauge`);
            False only for the benchmark baseline.

    Raises:
        BoardError: ``poll_interval`` is not a positive number.
    """

    def __init__(
        self,
        spec: BoardSpec,
        *,
        clock: SourceClock,
        gauge: GaugeDriver | None = None,
        gauge_label: str = "gauge",
        pin_factory: Factory | None = None,
        power_supply: PowerSupplySource | None = None,
        watch_network: bool = False,
        sim: SimBoard | None = None,
        poll_interval: float | None = DEFAULT_POLL_INTERVAL_S,
        pin_factory_error: str | None = None,
        decision_levels: Sequence[float] = BATTERY_DECISION_LEVELS_PCT,
        confirm: bool = True,
    ) -> None:
        if poll_interval is not None and not (
            isinstance(poll_interval, int | float) and poll_interval > 0
        ):
            raise BoardError(f"poll_interval must be a positive number of seconds, not {poll_interval!r}")
        self.spec = spec
        self.clock = clock
        self.sim = sim
        self.poll_interval = poll_interval
        self._gauge: CheckedGauge | None = None
        if gauge is not None and spec.gauge is not None:
            self._gauge = CheckedGauge(gauge, chip=chip_spec(spec.gauge.chip), params=spec.gauge.params,
                                       label=gauge_label, levels=decision_levels, confirm=confirm)
        self._pin_factory = pin_factory
        self._pin_factory_error = pin_factory_error
        self._power_supply = power_supply
        self._watch_network = watch_network

        self._kinds: dict[str, Kind] = kinds_of(spec, gauge=self._gauge is not None,
                                                power_supply=power_supply is not None,
                                                watch_network=watch_network)
        self.origins: Mapping[str, str] = MappingProxyType(
            labels(spec, self._kinds, gauge_label=gauge_label, sim=sim is not None))
        self._env: Environment = sim if sim is not None else ManualSignals(self._names("env"))

        self._inputs = Inputs()
        self._relays = RelayBank(spec)
        self._inputs.relay_faults = self._relays.faults
        self._netlink = NetlinkInput(self._inputs, self._on_edge)
        self._plugged_since_poll = False
        self._transient: list[str] = []

        # published state
        self._values: dict[str, Any] = dict(MANUAL_DEFAULTS)
        self._values.update(self._env.values())
        self._stale: frozenset[str] = frozenset()
        self._faults: tuple[str, ...] = ()
        self._t = float(clock.now())

        self._callback: UpdateCallback | None = None
        self._queue: deque[Awaitable[Any]] = deque()
        self._queued = asyncio.Event()  # the consumer has something to deliver
        self._delivered = asyncio.Event()  # nothing queued, nothing being delivered
        self._delivered.set()
        self._busy = 0  # deliveries queued or running (the one in the consumer's hands included)
        self._consumer: asyncio.Task[None] | None = None
        self._watcher: InputWatcher | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._task: asyncio.Task[None] | None = None
        self._wake: asyncio.Event | None = None
        self._batch = 0
        self._started = False
        self._stopped = False
        #: Gauge / power_supply polls done so far (for benchmarks).
        self.polls = 0
        #: Gauge driver reads and bus transactions so far (confirmation re-reads included).
        self.gauge_reads = 0
        self.gauge_transactions = 0

    def _names(self, kind: Kind) -> frozenset[str]:
        return frozenset(n for n, k in self._kinds.items() if k == kind)

    @property
    def settable(self) -> frozenset[str]:
        """Signals :meth:`set` accepts: all of the sim's, or manual plus relay-switched ones."""
        if self.sim is not None:
            return SIM_SETTABLE
        return (self._names("env") - MEASUREMENTS) | {r.signal for r in self.spec.relays}

    def snapshot(self) -> SourceSnapshot:
        """Every signal's current value, the stale set and active faults (no I/O)."""
        return SourceSnapshot(
            values=MappingProxyType(dict(self._values)),
            stale=self._stale,
            faults=self._faults,
            t=self._t,
            origins=self.origins,
        )

    # -- lifecycle ------------------------------------------------------------------------------

    async def start(self, callback: UpdateCallback | None = None) -> None:
        """Open pins, relays and the netlink watcher, poll once, deliver the full first update,
        then poll every ``poll_interval`` rig seconds until :meth:`stop`.

        ``callback(update)`` may be a plain function or a coroutine function; updates are
        delivered in order. Pin edges reach it within one event-loop turn of the pin change.
        A sensor that cannot be opened is a fault in the first update, not an exception.

        Raises:
            BoardError: the source was already started.
        """
        if self._started:
            raise BoardError(f"the signal source of board {self.spec.name!r} is already started")
        self._started = True
        self._callback = callback
        self._wake = asyncio.Event()
        self._consumer = asyncio.create_task(self._consume(), name=f"wakebench-updates-{self.spec.name}")
        self._open_pins()
        if self.sim is None:
            self._relays.open(self._pin_factory, self._pin_factory_error)
        if self._watch_network:
            await self._netlink.start()
        self._unsubscribe = self._env.subscribe(self._on_env)
        self._poll()
        self._publish(initial=True)
        if self.poll_interval is not None:
            self._task = asyncio.create_task(self._run(), name=f"wakebench-poll-{self.spec.name}")

    async def stop(self) -> None:
        """Stop polling, release pins, put relays in their safe state, deliver what is queued.
        Safe to call twice."""
        if self._stopped:
            return
        self._stopped = True
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._unsubscribe is not None:
            self._unsubscribe()
        if self._watcher is not None:
            self._watcher.close()
        await self._netlink.close()
        self._relays.close()
        if self._consumer is not None:
            await self._delivered.wait()
            self._consumer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._consumer

    async def settled(self) -> None:
        """Return once every update published so far has been delivered to the callback
        (a stepped scenario waits for this before it moves rig time on)."""
        if self._consumer is not None:
            await self._delivered.wait()

    async def refresh(self) -> SourceUpdate:
        """Poll every sensor once now, deliver the update (if anything changed) and return it."""
        self._poll()
        return self._publish()

    async def set(self, values: Mapping[str, Any]) -> None:
        """Change settable signals as ONE update; every name and value is checked before
        anything changes.

        On ``sim`` the simulated hardware changes (model, mock pin, network state); on a real
        board relays switch and manual values are stored. Nothing is published until every
        value is applied (the power pin's edge included), then one update carries them all.

        Raises:
            UnknownSignalError: a name DESIGN.md section 2 does not define.
            SignalValueError: a value of the wrong type or range.
            NotSettableError: a measured signal without a relay; the message names its source.
        """
        checked = {name: check_value(name, value) for name, value in values.items()}
        settable = self.settable
        for name in checked:
            if name not in settable:
                raise NotSettableError(self._not_settable(name))
        relayed = {} if self.sim is not None else {
            n: v for n, v in checked.items() if self.spec.relay_for(n) is not None
        }
        self._relays.check(relayed)
        self._batch += 1
        try:
            self._relays.switch(relayed)
            rest = {n: v for n, v in checked.items() if n not in relayed}
            if rest:
                self._env.set(rest)
            if relayed or "charger" in rest:
                await asyncio.sleep(0)  # the power pin's edge arrives through the event loop
            if relayed or "battery_level" in rest or "charger" in rest:
                self._poll()
        finally:
            self._batch -= 1
        self._publish()

    def _not_settable(self, name: str) -> str:
        if self.sim is not None:
            return (
                f"signal {name!r} cannot be set on the sim board: the battery model derives it "
                "(use plug()/unplug(), set_load(amps) or set battery_level)"
            )
        hint = (
            f"; to switch it, wire a relay and declare it ([[board.relays]] signal = {name!r})"
            if name in RELAY_SIGNALS
            else ""
        )
        return (
            f"signal {name!r} on board {self.spec.name!r} is measured by {self.origins[name]} "
            f"and cannot be set{hint}"
        )

    # -- opening parts --------------------------------------------------------------------------

    def _open_pins(self) -> None:
        pins = self.spec.input_pins
        if not pins:
            return
        if self._pin_factory is None:
            self._inputs.pin_fault = (
                f"pins of board {self.spec.name}: {self._pin_factory_error or 'no pin factory'}"
            )
            return
        specs = [
            HalPinSpec(gpio=p.gpio, signal=p.signal or "", active_high=p.active_high, pull=p.pull,
                       debounce=p.debounce or 0.0, source=p.note)
            for p in pins
        ]
        try:
            self._watcher = InputWatcher(
                specs, pin_factory=self._pin_factory, on_change=self._on_pin, board=self.spec.name
            )
        except PinError as exc:
            self._inputs.pin_fault = str(exc)
            return
        self._inputs.pins = dict(self._watcher.values)

    # -- polling --------------------------------------------------------------------------------

    async def _run(self) -> None:
        assert self.poll_interval is not None and self._wake is not None  # set before the task
        while not self._stopped:
            sleeper = asyncio.ensure_future(self.clock.sleep_until(self.clock.now() + self.poll_interval))
            waker = asyncio.ensure_future(self._wake.wait())
            try:
                await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for fut in (sleeper, waker):
                    fut.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await fut
            self._wake.clear()
            if self._watch_network and not self._netlink.running:
                await self._netlink.start()  # retry a netlink watcher that failed
            self._poll()
            self._publish()

    def _poll(self) -> None:
        """Read the gauge / power_supply once (with confirmation re-reads when a reading would
        change a decision) and keep the readings or faults. Never raises."""
        self.polls += 1
        if self.sim is not None:
            self.sim.sync()
        if self._gauge is not None:
            result = self._gauge.poll(self._inputs.reading)
            self.gauge_reads += result.reads
            self.gauge_transactions += result.transactions
            self._plugged_since_poll = False
            if result.stale:
                self._inputs.gauge_fault = result.faults[-1]
            else:
                self._inputs.gauge_fault = None
                self._transient += result.faults
                if result.reading is not None:
                    self._inputs.reading = result.reading
        if self._power_supply is not None:
            try:
                self._inputs.psy = self._power_supply.read()
                self._inputs.psy_fault = None
            except HalError as exc:
                self._inputs.psy_fault = f"{POWER_SUPPLY}: {describe(exc)}"

    # -- edges (always on the event loop's thread) -------------------------------------------------

    def _on_pin(self, signal: str, value: bool) -> None:
        previous = self._inputs.pins.get(signal)
        self._inputs.pins[signal] = value
        if signal == "charger" and value and not previous and self._gauge is not None:
            self._plugged_since_poll = True
        self._publish()
        if signal == "charger" and self._wake is not None:
            self._wake.set()  # poll the gauge now: charging and current follow the plug

    def _on_env(self, changed: Mapping[str, Any]) -> None:
        self._publish()

    def _on_edge(self) -> None:
        self._publish()

    # -- publishing ---------------------------------------------------------------------------------

    def _publish(self, *, initial: bool = False) -> SourceUpdate:
        if self._batch and not initial:
            return SourceUpdate(values=MappingProxyType({}), t=self._t)  # set() publishes once at the end
        plug_kind = self.sim.plug_kind if self.sim is not None else self.spec.charger
        values, stale_set, faults = derive(
            self.spec, self._kinds, self._inputs, previous=self._values, env=self._env.values(),
            plug_kind=plug_kind, charging_relay=self._relays.active("charging"),
            plugged_since_poll=self._plugged_since_poll,
        )
        stale = frozenset(stale_set)
        if initial:
            changed = dict(values)
        else:
            changed = {n: v for n, v in values.items() if n not in stale and self._values.get(n) != v}
        fresh = frozenset(self._stale - stale)
        transient, self._transient = tuple(self._transient), []
        new_faults = transient + tuple(f for f in faults if f not in self._faults and f not in transient)
        self._values.update(changed)
        self._t = float(self.clock.now())
        update = SourceUpdate(values=MappingProxyType(changed), stale=stale, fresh=fresh,
                              faults=new_faults, t=self._t)
        anything = initial or bool(changed) or bool(fresh) or bool(new_faults) or stale != self._stale
        self._stale = stale
        self._faults = tuple(faults)
        if anything:
            self._deliver(update)
        return update

    def _deliver(self, update: SourceUpdate) -> None:
        if self._callback is None:
            return
        try:
            result = self._callback(update)
        except Exception:
            log.exception("signal update callback failed")
            return
        if not inspect.isawaitable(result):
            return
        self._busy += 1
        self._delivered.clear()
        if self._busy > 1 or not inspect.iscoroutine(result):
            self._queue.append(result)  # behind every earlier delivery
            self._queued.set()
            return
        # nothing pending: run it here up to its first suspension (re-entrant updates queue: _busy)
        try:
            first = result.send(None)
        except StopIteration:
            self._done()
            return
        except Exception:
            log.exception("signal update callback failed")
            self._done()
            return
        self._queue.appendleft(Resumed(result, first))  # ahead of anything queued re-entrantly
        self._queued.set()

    def _done(self) -> None:
        self._busy -= 1
        if not self._busy:
            self._delivered.set()

    async def _consume(self) -> None:
        """The one consumer: await each queued delivery in order; log (never raise) failures."""
        while True:
            await self._queued.wait()
            while self._queue:
                delivery = self._queue.popleft()
                try:
                    await delivery
                except Exception:
                    log.exception("signal update callback failed")
                finally:
                    self._done()
            self._queued.clear()
