"""One signal source per board: polled gauge readings and pin / netlink edges, merged into
updates of the DESIGN.md section 2 signals.

``boards`` may not import ``firmware_sim`` (dependency rule), so a source emits plain
:class:`SourceUpdate` values that the rig applies with
``Signals.updated(update.values, t=update.t, stale=update.stale, fresh=update.fresh)``.

Where each signal comes from (:attr:`BoardSource.origins` names it per board):

* ``battery_level``, ``voltage``, ``current``, ``temperature``: what the gauge measures
  (:data:`GAUGE_MEASURES`, polled every ``poll_interval`` rig seconds through its
  :mod:`hal.chips` driver), else the kernel's ``power_supply`` entry. A MAX17048 measures no
  current; it is derived from CRATE (%/h) and the board's ``capacity_mah`` when given.
* ``charging``: the gauge's flags / current sign, else ``power_supply`` status, else the power
  pin (plugged ⇒ charging, unless a charge-enable relay is off). Unplugged ⇒ not charging,
  whatever the last gauge poll said.
* ``charger``: the power pin (edge-driven) with the board's charger type (on ``sim``: the
  kind plugged in), else the kernel's supplier entries, else the gauge's current sign.
* ``network``, ``metered``: netlink link events (:class:`hal.network.NetworkWatcher`).
* anything else: held by the source and settable by hand — the rig's "manual" signals
  (``screen_locked``, ``on_call``, ...). On ``sim`` the :class:`~boards.sim.SimBoard` holds
  them, and every settable signal changes the simulated hardware.

A failing sensor never raises out of the source: its signals are marked stale and the update
carries a fault naming chip, address, bus and register; the next good read clears the mark.
Gauge reads are a few bus transactions and run on the event loop's thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import inspect
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any, Final, Literal, Protocol

from gpiozero.pins import Factory
from gpiozero.pins.mock import MockFactory

from boards.errors import BoardError, NotSettableError
from boards.sim import SIM_SETTABLE, SimBoard
from boards.spec import MANUAL_DEFAULTS, RELAY_SIGNALS, SIGNAL_NAMES, BoardSpec, ChipSpec, check_value
from hal.chips import WAVESHARE_32V_2A, INA219Calibration, LinearSocCurve, chip_spec
from hal.chips.base import GaugeDriver
from hal.errors import HalError, NetworkError, PinError
from hal.gpio import InputWatcher, Relay, lgpio_pin_factory
from hal.gpio import PinSpec as HalPinSpec
from hal.gpio import RelaySpec as HalRelaySpec
from hal.i2c import EmulatedBus, I2CBus, SMBusI2C
from hal.network import NetworkSignals, NetworkWatcher
from hal.power_supply import PowerSupplySnapshot, PowerSupplySource
from hal.readings import GaugeReading

__all__ = [
    "DEFAULT_POLL_INTERVAL_S",
    "GAUGE_MEASURES",
    "BoardSource",
    "ManualSignals",
    "SignalSource",
    "SourceClock",
    "SourceSnapshot",
    "SourceUpdate",
    "UpdateCallback",
    "build_source",
    "current_from_charge_rate",
    "gauge_driver",
    "gauge_signals",
]

log = logging.getLogger(__name__)

#: Gauge poll period (rig seconds). A wakebench default, not a chip limit: battery signals move
#: slowly (1 % of a 2500 mAh cell at 0.5 A takes 3 minutes), while charger and network changes
#: arrive as edges without waiting for a poll. Override with ``poll_interval=``.
DEFAULT_POLL_INTERVAL_S: Final = 1.0

_PERCENT: Final = 100.0
_MAH_PER_AH: Final = 1000.0
_POWER_SUPPLY: Final = "/sys/class/power_supply"
#: Signals a power_supply board must read to know them (else: unknown + a fault, never 100 %).
_PSY_REQUIRED: Final = frozenset({"battery_level", "charger", "charging"})
#: Signals that come from the battery entry (unknown when there is none).
_PSY_BATTERY: Final = frozenset({"battery_level", "voltage", "current", "temperature"})

#: Signals each chip's driver reads (the ``read()`` docstrings in :mod:`hal.chips`): MAX17043/44
#: and CW2015 voltage + SOC; MAX17048/49 add CRATE (charging sign; current with capacity_mah);
#: BQ27441 adds AverageCurrent and temperature; LC709203F temperature only with a thermistor;
#: INA219 voltage + current, SOC only with a voltage curve.
GAUGE_MEASURES: Final[Mapping[str, frozenset[str]]] = MappingProxyType(
    {
        "max17043": frozenset({"battery_level", "voltage"}),
        "max17044": frozenset({"battery_level", "voltage"}),
        "max17048": frozenset({"battery_level", "voltage", "charging"}),
        "max17049": frozenset({"battery_level", "voltage", "charging"}),
        "bq27441": frozenset({"battery_level", "voltage", "current", "temperature", "charging"}),
        "lc709203f": frozenset({"battery_level", "voltage"}),
        "cw2015": frozenset({"battery_level", "voltage"}),
        "ina219": frozenset({"voltage", "current", "charging"}),
    }
)

#: Signals that are only ever measured: without a sensor they stay unknown (None) and are
#: not settable by hand on a real board (a hand-set voltage would look like a measurement).
MEASUREMENTS: Final = frozenset({"voltage", "current"})

Kind = Literal["gauge", "psy", "pin", "net", "env"]
_Names = set[str]  # BoardSource has a method called ``set``, which shadows the builtin there


def current_from_charge_rate(rate_pct_per_h: float, capacity_mah: float) -> float:
    """Battery current (A, + charging) from a MAX17048 CRATE (%/h) and the cell capacity (mAh):
    %/h ÷ 100 × mAh = mA, ÷ 1000 = A."""
    return rate_pct_per_h / _PERCENT * capacity_mah / _MAH_PER_AH


def gauge_signals(chip: ChipSpec) -> frozenset[str]:
    """The signals a gauge of this chip and parameters measures (:data:`GAUGE_MEASURES`)."""
    measured = set(GAUGE_MEASURES.get(chip.chip, ()))
    if chip.chip in ("max17048", "max17049") and chip.params.get("capacity_mah"):
        measured.add("current")
    if chip.chip == "lc709203f" and chip.params.get("thermistor"):
        measured.add("temperature")
    if chip.chip == "ina219" and "soc_empty_v" in chip.params:
        measured.add("battery_level")
    return frozenset(measured)


@dataclass(frozen=True, slots=True)
class SourceUpdate:
    """What changed, as the rig applies it to its ``Signals`` snapshot.

    Attributes:
        values: changed signals (every signal in the first update after ``start``), by the
            names of DESIGN.md section 2. Never contains a stale signal after the first update.
        stale: every signal whose source is failing now.
        fresh: signals whose source recovered since the previous update.
        faults: fault messages raised since the previous update (one per failing sensor).
        t: rig time (s) of the update.
    """

    values: Mapping[str, Any]
    stale: frozenset[str] = frozenset()
    fresh: frozenset[str] = frozenset()
    faults: tuple[str, ...] = ()
    t: float = 0.0


@dataclass(frozen=True, slots=True)
class SourceSnapshot:
    """Every signal's value, the stale ones, active faults, and where each signal comes from."""

    values: Mapping[str, Any]
    stale: frozenset[str]
    faults: tuple[str, ...]
    t: float
    origins: Mapping[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: every signal, ``t``, sorted ``stale``, ``faults``."""
        out = {name: self.values.get(name) for name in SIGNAL_NAMES}
        out["t"] = self.t
        out["stale"] = sorted(self.stale)
        out["faults"] = list(self.faults)
        return out


UpdateCallback = Callable[[SourceUpdate], Awaitable[None] | None]
Listener = Callable[[Mapping[str, Any]], None]


class SourceClock(Protocol):
    """Rig time as the source needs it (``firmware_sim.clock.Clock`` fits)."""

    def now(self) -> float:
        """Current rig time (s)."""
        ...

    async def sleep_until(self, t: float) -> None:
        """Return once rig time has reached ``t``."""
        ...


class SignalSource(Protocol):
    """What the rig and the CLI use; :class:`BoardSource` implements it."""

    @property
    def settable(self) -> frozenset[str]:
        """Signals :meth:`set` accepts on this board."""
        ...

    async def start(self, callback: UpdateCallback | None = None) -> None:
        """Open pins, watchers and relays, poll once, deliver the full first update."""
        ...

    def snapshot(self) -> SourceSnapshot:
        """Current values (no I/O)."""
        ...

    async def refresh(self) -> SourceUpdate:
        """Poll every sensor once now; deliver and return what changed."""
        ...

    async def set(self, values: Mapping[str, Any]) -> None:
        """Change settable signals (sim model, relays, manual values)."""
        ...

    async def stop(self) -> None:
        """Stop polling, release pins and relays (relays to their safe state)."""
        ...


class Environment(Protocol):
    """Holder of the signals no sensor measures: :class:`ManualSignals` or a SimBoard."""

    def values(self) -> Mapping[str, Any]: ...

    def set(self, values: Mapping[str, Any]) -> None: ...

    def subscribe(self, listener: Listener) -> Callable[[], None]: ...


class ManualSignals:
    """Signals set by hand (MQTT ``signals/set``, a scenario) on a board with no sensor for them."""

    def __init__(self, names: frozenset[str]) -> None:
        self.names = names
        self._values = {n: MANUAL_DEFAULTS[n] for n in names}
        self._listeners: list[Listener] = []

    def values(self) -> Mapping[str, Any]:
        """Current manual values."""
        return dict(self._values)

    def set(self, values: Mapping[str, Any]) -> None:
        """Store (already validated) values; notify listeners of the ones that changed."""
        changed = {n: v for n, v in values.items() if self._values.get(n) != v}
        self._values.update(changed)
        if changed:
            for listener in list(self._listeners):
                listener(changed)

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener(changed)`` on every change; returns an unsubscribe function."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None


class BoardSource:
    """The signal source of one board (made by :func:`build_source`).

    Args:
        spec: the board.
        clock: rig time (:class:`SourceClock`).
        gauge: the gauge driver, if the board has a gauge.
        gauge_label: how faults name the gauge (``gauge max17048@0x36 on bus 1``).
        pin_factory: gpiozero factory for pins and relays (None: pins are reported broken).
        power_supply: kernel ``power_supply`` reader (boards without their own gauge).
        watch_network: follow netlink for ``network`` / ``metered`` (False: manual / sim).
        sim: the simulated hardware (``sim`` board).
        poll_interval: gauge poll period in rig seconds; None polls only on :meth:`refresh`.
        pin_factory_error: why there is no pin factory (reported as a fault).

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
    ) -> None:
        if poll_interval is not None and not (
            isinstance(poll_interval, int | float) and poll_interval > 0
        ):
            raise BoardError(f"poll_interval must be a positive number of seconds, not {poll_interval!r}")
        self.spec = spec
        self.clock = clock
        self.sim = sim
        self.poll_interval = poll_interval
        self._gauge = gauge
        self._gauge_label = gauge_label
        self._pin_factory = pin_factory
        self._pin_factory_error = pin_factory_error
        self._power_supply = power_supply
        self._watch_network = watch_network
        capacity = spec.gauge.params.get("capacity_mah") if spec.gauge is not None else None
        self._capacity_mah: float | None = float(capacity) if capacity else None

        self._kinds = self._kinds_of()
        self.origins: Mapping[str, str] = MappingProxyType(self._labels())
        self._env: Environment = sim if sim is not None else ManualSignals(self._names("env"))

        # raw inputs, as last read
        self._reading: GaugeReading | None = None
        self._gauge_fault: str | None = None
        self._psy: PowerSupplySnapshot | None = None
        self._psy_fault: str | None = None
        self._pins: dict[str, bool] = {}
        self._pin_fault: str | None = None
        self._net: NetworkSignals | None = None
        self._net_fault: str | None = None
        self._relays: dict[str, Relay] = {}
        self._relay_faults: dict[str, str] = {}

        # published state
        self._values: dict[str, Any] = dict(MANUAL_DEFAULTS)
        self._values.update(self._env.values())
        self._stale: frozenset[str] = frozenset()
        self._faults: tuple[str, ...] = ()
        self._t = float(clock.now())

        self._callback: UpdateCallback | None = None
        self._delivery: asyncio.Future[None] | None = None
        self._watcher: InputWatcher | None = None
        self._network: NetworkWatcher | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._task: asyncio.Task[None] | None = None
        self._wake: asyncio.Event | None = None
        self._started = False
        self._stopped = False
        #: Gauge / power_supply polls done so far (for benchmarks).
        self.polls = 0

    # -- where signals come from ---------------------------------------------------------------

    def _kinds_of(self) -> dict[str, Kind]:
        spec = self.spec
        kinds: dict[str, Kind] = dict.fromkeys(SIGNAL_NAMES, "env")
        if self._gauge is not None and spec.gauge is not None:
            for name in gauge_signals(spec.gauge):
                kinds[name] = "gauge"
        elif self._power_supply is not None:
            for name in ("battery_level", "voltage", "current", "temperature", "charging", "charger"):
                kinds[name] = "psy"
        for pin in spec.input_pins:
            assert pin.signal is not None  # input_pins lists only pins that drive a signal
            kinds[pin.signal] = "pin"
        if kinds["charging"] == "env" and spec.power_pin is not None:
            kinds["charging"] = "pin"
        if kinds["charger"] == "env" and kinds["current"] == "gauge" and kinds["charging"] == "gauge":
            kinds["charger"] = "gauge"  # current sign: charging ⇒ the board's charger is plugged
        if self._watch_network:
            kinds["network"] = kinds["metered"] = "net"
        return kinds

    def _labels(self) -> dict[str, str]:
        labels: dict[str, str] = {}
        pins = {p.signal: p for p in self.spec.input_pins}
        for name, kind in self._kinds.items():
            if kind == "gauge":
                labels[name] = self._gauge_label + (" (current sign)" if name == "charger" else "")
            elif kind == "psy":
                labels[name] = _POWER_SUPPLY
            elif kind == "pin" and name in pins:
                labels[name] = f"GPIO{pins[name].gpio} ({pins[name].polarity})"
            elif kind == "pin":
                power = self.spec.power_pin
                labels[name] = f"GPIO{power.gpio if power else '?'} (plugged ⇒ charging)"
            elif kind == "net":
                labels[name] = "netlink" + (" (cellular ⇒ metered)" if name == "metered" else "")
            elif self.sim is not None:
                labels[name] = "sim"
            else:
                labels[name] = "not measured" if name in MEASUREMENTS else "manual"
        for relay in self.spec.relays:
            labels[relay.signal] += f", relay GPIO{relay.gpio}"
        return labels

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
        self._open_pins()
        self._open_relays()
        if self._watch_network:
            await self._start_network()
        self._unsubscribe = self._env.subscribe(self._on_env)
        self._poll()
        self._publish(initial=True)
        if self.poll_interval is not None:
            self._task = asyncio.create_task(self._run(), name=f"wakebench-poll-{self.spec.name}")

    async def stop(self) -> None:
        """Stop polling, release pins, put relays in their safe state. Safe to call twice."""
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
        if self._network is not None:
            await self._network.close()
        for relay in self._relays.values():
            try:
                relay.close()
            except PinError as exc:
                log.warning("%s", exc)
        if self._delivery is not None:
            with contextlib.suppress(Exception):
                await self._delivery

    async def refresh(self) -> SourceUpdate:
        """Poll every sensor once now, deliver the update (if anything changed) and return it."""
        self._poll()
        return self._publish()

    async def set(self, values: Mapping[str, Any]) -> None:
        """Change settable signals; every name and value is checked before anything changes.

        On ``sim`` the simulated hardware changes (model, mock pin, network state); on a real
        board relays switch and manual values are stored. Returns once the change shows in
        :meth:`snapshot` (the power pin's edge included).

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
        self._check_relays(relayed)
        for name, value in relayed.items():
            on = value != "none" if name == "charger" else bool(value)
            try:
                self._relays[name].set(on)
            except PinError as exc:
                raise NotSettableError(f"board {self.spec.name!r}: {exc}") from exc
        rest = {n: v for n, v in checked.items() if n not in relayed}
        if rest:
            self._env.set(rest)
        if relayed or "charger" in rest:
            await asyncio.sleep(0)  # the power pin's edge arrives through the event loop
        if relayed or "battery_level" in rest:
            self._poll()
        self._publish()

    def _check_relays(self, relayed: Mapping[str, Any]) -> None:
        for name, value in relayed.items():
            relay = self._relays.get(name)
            if relay is None:
                why = self._relay_faults.get(name, "the source is not started")
                raise NotSettableError(f"board {self.spec.name!r}: relay for {name!r} unusable: {why}")
            if name == "charger" and value not in ("none", self.spec.charger):
                raise NotSettableError(
                    f"board {self.spec.name!r}: the relay on GPIO{relay.spec.gpio} can only "
                    f"connect or cut the board's {self.spec.charger!r} charger, not make it {value!r}"
                )

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
            self._pin_fault = (
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
            self._pin_fault = str(exc)
            return
        self._pins = dict(self._watcher.values)

    def _open_relays(self) -> None:
        if self.sim is not None:
            return
        for relay in self.spec.relays:
            if self._pin_factory is None:
                self._relay_faults[relay.signal] = (
                    f"relay GPIO{relay.gpio} of board {self.spec.name}: "
                    f"{self._pin_factory_error or 'no pin factory'}"
                )
                continue
            hal_spec = HalRelaySpec(gpio=relay.gpio, name=relay.switches,
                                    active_high=relay.active_high, safe_state=relay.safe_on,
                                    source=relay.note)
            try:
                self._relays[relay.signal] = Relay(hal_spec, pin_factory=self._pin_factory,
                                                   board=self.spec.name)
            except PinError as exc:
                self._relay_faults[relay.signal] = str(exc)

    async def _start_network(self) -> None:
        watcher = NetworkWatcher(on_change=self._on_network, on_error=self._on_network_error)
        try:
            self._net = await watcher.start()
        except NetworkError as exc:
            self._net_fault = f"network: {exc}"
            return
        self._network = watcher
        self._net_fault = None

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
            if self._watch_network and self._network is None:
                await self._start_network()  # retry a netlink watcher that failed
            self._poll()
            self._publish()

    def _poll(self) -> None:
        """Read the gauge / power_supply once and keep the readings or faults. Never raises."""
        self.polls += 1
        if self.sim is not None:
            self.sim.sync()
        if self._gauge is not None:
            try:
                self._reading = self._gauge.read()
                self._gauge_fault = None
            except HalError as exc:
                self._gauge_fault = f"{self._gauge_label}: {_describe(exc)}"
        if self._power_supply is not None:
            try:
                self._psy = self._power_supply.read()
                self._psy_fault = None
            except HalError as exc:
                self._psy_fault = f"{_POWER_SUPPLY}: {_describe(exc)}"

    # -- edges (always on the event loop's thread) -------------------------------------------------

    def _on_pin(self, signal: str, value: bool) -> None:
        self._pins[signal] = value
        self._publish()
        if signal == "charger" and self._wake is not None:
            self._wake.set()  # poll the gauge now: charging and current follow the plug

    def _on_network(self, signals: NetworkSignals) -> None:
        self._net = signals
        self._publish()

    def _on_network_error(self, error: NetworkError) -> None:
        self._network = None
        self._net_fault = f"network: {error}"
        self._publish()

    def _on_env(self, changed: Mapping[str, Any]) -> None:
        self._publish()

    # -- deriving the signals ---------------------------------------------------------------------

    def _derive(self) -> tuple[dict[str, Any], _Names, list[str]]:
        """Every signal's value, the stale set and the active faults, from the raw inputs."""
        values = dict(self._values)
        env = self._names("env")
        values.update({n: v for n, v in self._env.values().items() if n in env})
        stale: _Names = _Names()
        faults: list[str] = []

        if self._gauge is not None:
            owned = self._names("gauge")
            if self._gauge_fault is not None or self._reading is None:
                stale |= owned
                faults += [self._gauge_fault] if self._gauge_fault else []
            else:
                values.update(self._gauge_values(self._reading, owned))
        if self._power_supply is not None:
            owned = self._names("psy")
            if self._psy_fault is not None or self._psy is None:
                stale |= owned
                faults += [self._psy_fault] if self._psy_fault else []
            else:
                got = self._psy_values(self._psy, owned)
                values.update(got)
                unknown = owned & _PSY_REQUIRED - got.keys()  # unknown, never a stale default
                if self._psy.battery is None:
                    unknown |= owned & _PSY_BATTERY
                if unknown:
                    stale |= unknown
                    faults.append(f"{_POWER_SUPPLY}: no reading for {', '.join(sorted(unknown))} "
                                  f"({'no battery entry' if self._psy.battery is None else 'the kernel cannot tell'})")

        for pin in self.spec.input_pins:
            signal = pin.signal or ""
            if self._pin_fault is not None or signal not in self._pins:
                stale.add(signal)
            elif signal == "charger":
                kind = self.sim.plug_kind if self.sim is not None else self.spec.charger
                values["charger"] = kind if self._pins[signal] else "none"
            else:
                values[signal] = self._pins[signal]
        faults += [self._pin_fault] if self._pin_fault else []
        faults += list(self._relay_faults.values())

        if self.spec.power_pin is not None:
            if "charger" in stale:
                if self._kinds["charging"] == "pin":
                    stale.add("charging")
            elif not self._pins["charger"]:
                values["charging"] = False  # no power, no charging, whatever the gauge last said
                stale.discard("charging")
            elif self._kinds["charging"] == "pin":
                relay = self._relays.get("charging")
                values["charging"] = relay.active if relay is not None else True

        if self._watch_network:
            if self._net_fault is not None or self._net is None:
                stale |= {"network", "metered"}
                faults += [self._net_fault] if self._net_fault else []
            else:
                values["network"] = self._net.network
                values["metered"] = self._net.metered
        return values, stale, faults

    def _gauge_values(self, reading: GaugeReading, owned: frozenset[str]) -> dict[str, Any]:
        current = reading.current
        if current is None and reading.charge_rate is not None and self._capacity_mah:
            current = current_from_charge_rate(reading.charge_rate, self._capacity_mah)
        charging = reading.charging
        if charging is None and current is not None:
            charging = current > 0
        out: dict[str, Any] = {
            "battery_level": None if reading.soc is None else min(max(reading.soc, 0.0), _PERCENT),
            "voltage": reading.voltage,
            "current": current,
            "temperature": reading.temperature,
            "charging": charging,
            "charger": None if charging is None else (self.spec.charger if charging else "none"),
        }
        return {n: v for n, v in out.items() if n in owned and v is not None}

    def _psy_values(self, snap: PowerSupplySnapshot, owned: frozenset[str]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        battery = snap.battery
        if battery is not None:
            out.update(voltage=battery.voltage, current=battery.current)
            if battery.capacity is not None:
                out["battery_level"] = battery.capacity
            if battery.temperature is not None:
                out["temperature"] = battery.temperature
        if snap.charging is not None:
            out["charging"] = snap.charging
        if snap.charger is not None:
            out["charger"] = snap.charger
        elif snap.external_power is not None:
            out["charger"] = self.spec.charger if snap.external_power else "none"
        return {n: v for n, v in out.items() if n in owned}

    # -- publishing ---------------------------------------------------------------------------------

    def _publish(self, *, initial: bool = False) -> SourceUpdate:
        values, stale_set, faults = self._derive()
        stale = frozenset(stale_set)
        if initial:
            changed = dict(values)
        else:
            changed = {n: v for n, v in values.items() if n not in stale and self._values.get(n) != v}
        fresh = frozenset(self._stale - stale)
        new_faults = tuple(f for f in faults if f not in self._faults)
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
        if inspect.isawaitable(result):
            self._delivery = asyncio.ensure_future(_in_order(self._delivery, result))


def _describe(exc: BaseException) -> str:
    """``EIO: <message>`` for OS-level errors (no ``[Errno 5]`` prefix), else the message."""
    if isinstance(exc, OSError) and exc.strerror:
        name = errno.errorcode.get(exc.errno or 0, "")
        return f"{name}: {exc.strerror}" if name else exc.strerror
    return str(exc)


async def _in_order(previous: asyncio.Future[None] | None, current: Awaitable[None]) -> None:
    """Await the previous update's delivery, then this one's; log (never raise) failures."""
    if previous is not None:
        with contextlib.suppress(Exception):
            await previous
    try:
        await current
    except Exception:
        log.exception("signal update callback failed")


def gauge_driver(chip: ChipSpec, *, bus: I2CBus) -> GaugeDriver:
    """Construct the :mod:`hal.chips` driver for ``chip`` with the board's parameters.

    INA219: ``shunt_ohm`` / ``current_lsb_a`` make its :class:`INA219Calibration` (the
    Waveshare CONFIG word otherwise), ``soc_empty_v`` / ``soc_full_v`` its
    :class:`LinearSocCurve`, ``invert_current`` flips the current sign. LC709203F:
    ``thermistor``.

    Raises:
        BoardError: the chip has no driver in :mod:`hal.chips`.
    """
    try:
        driver_cls: Any = chip_spec(chip.chip).driver
    except KeyError as exc:
        raise BoardError(str(exc.args[0]) if exc.args else f"no driver for {chip.chip!r}") from None
    params = chip.params
    kwargs: dict[str, Any] = {}
    if chip.chip == "ina219":
        if "shunt_ohm" in params or "current_lsb_a" in params:
            kwargs["calibration"] = INA219Calibration(
                current_lsb=float(params.get("current_lsb_a", WAVESHARE_32V_2A.current_lsb)),
                shunt_ohms=float(params.get("shunt_ohm", WAVESHARE_32V_2A.shunt_ohms)),
                config=WAVESHARE_32V_2A.config,
            )
        if "soc_empty_v" in params and "soc_full_v" in params:
            kwargs["soc_curve"] = LinearSocCurve(float(params["soc_empty_v"]), float(params["soc_full_v"]))
        if "invert_current" in params:
            kwargs["invert_current"] = bool(params["invert_current"])
    if chip.chip == "lc709203f" and "thermistor" in params:
        kwargs["thermistor"] = bool(params["thermistor"])
    driver: GaugeDriver = driver_cls(bus=bus, address=chip.address, **kwargs)
    return driver


def build_source(
    spec: BoardSpec,
    *,
    clock: SourceClock,
    pin_factory: Factory | None = None,
    bus: I2CBus | None = None,
    poll_interval: float | None = DEFAULT_POLL_INTERVAL_S,
    sim: SimBoard | None = None,
    power_supply: PowerSupplySource | None = None,
    watch_network: bool | None = None,
) -> BoardSource:
    """Turn a board spec into a :class:`BoardSource`: the one place that picks real or
    simulated parts.

    Args:
        spec: the board (``get_board(name)`` or a user board from TOML).
        clock: rig time, ``now()`` and ``async sleep_until(t)`` (``firmware_sim`` clocks fit).
        pin_factory: gpiozero factory; default: the sim's ``MockFactory`` on ``sim``, lgpio on
            a real board (a fault in the first update, not an exception, when unavailable).
        bus: I²C bus; default: the sim's emulated bus, or ``/dev/i2c-<gauge.bus>`` (opened on
            the first read, so a missing bus is a fault, not an exception).
        poll_interval: gauge poll period (rig s); None: only :meth:`BoardSource.refresh` polls.
        sim: the simulated hardware for a simulated spec (made here when omitted).
        power_supply: ``/sys/class/power_supply`` reader (default for ``power_supply`` boards).
        watch_network: follow netlink for network signals; default on for real boards, off on
            ``sim`` (its network is settable state).

    Raises:
        BoardError: the sim cannot be built from the spec, or the gauge chip has no driver.
    """
    factory_error: str | None = None
    if spec.simulated:
        if sim is None:
            if pin_factory is not None and not isinstance(pin_factory, MockFactory):
                raise BoardError("the sim board needs a gpiozero MockFactory as pin_factory")
            if bus is not None and not isinstance(bus, EmulatedBus):
                raise BoardError("the sim board needs an hal.i2c.EmulatedBus as bus")
            sim = SimBoard(clock=clock, spec=spec, pin_factory=pin_factory, bus=bus)
        pin_factory, bus = sim.pin_factory, sim.bus
        if spec.gauge is not None and spec.gauge.params.get("capacity_mah") != sim.model.capacity_mah:
            params = {**spec.gauge.params, "capacity_mah": sim.model.capacity_mah}
            spec = replace(spec, gauge=replace(spec.gauge, params=params))
        watch_network = bool(watch_network)
    else:
        watch_network = True if watch_network is None else watch_network
        if pin_factory is None and (spec.input_pins or spec.relays):
            try:
                pin_factory = lgpio_pin_factory()
            except PinError as exc:
                factory_error = str(exc)
    gauge: GaugeDriver | None = None
    label = "gauge"
    if spec.gauge is not None:
        if bus is None:
            bus = SMBusI2C(spec.gauge.bus)
        gauge = gauge_driver(spec.gauge, bus=bus)
        label = f"gauge {spec.gauge.label} on bus {spec.gauge.bus}"
    if power_supply is None and spec.power_supply is not None:
        power_supply = PowerSupplySource(battery=None if spec.power_supply == "auto" else spec.power_supply)
    return BoardSource(
        spec,
        clock=clock,
        gauge=gauge,
        gauge_label=label,
        pin_factory=pin_factory,
        power_supply=power_supply,
        watch_network=watch_network,
        sim=sim,
        poll_interval=poll_interval,
        pin_factory_error=factory_error,
    )

