"""The ``sim`` board: a battery model behind an emulated MAX17048, a mock power pin, settable
network and user signals.

Nothing here takes a shortcut around the driver path. The model's state is encoded into the
registers of :class:`hal.chips.MAX17048Emulator` on an :class:`hal.i2c.EmulatedBus`; the signal
source reads it back with the real :class:`hal.chips.MAX17048` driver. ``plug()`` /
``unplug()`` drive a gpiozero ``MockPin`` high / low (``drive_high()`` / ``drive_low()``), which
the source watches through :class:`hal.gpio.InputWatcher` exactly as it watches GPIO6 of an
X120x. Only network, user and low-power signals, which a bench sets by hand anyway, are plain
values here.

Handles (the outside world): :meth:`SimBoard.unplug`, :meth:`SimBoard.plug`,
:meth:`SimBoard.set_load`, :meth:`SimBoard.set_network`, :meth:`SimBoard.set`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

from gpiozero.pins.mock import MockFactory, MockPin

from boards.battery import BatteryModel, ClockLike
from boards.catalogue import SIM
from boards.errors import BoardError, NotSettableError
from boards.spec import MANUAL_DEFAULTS, BoardSpec, check_value
from hal.chips import MAX17048Emulator
from hal.i2c import EmulatedBus
from wbcommon.signals import CHARGERS, SIGNAL_NAMES

__all__ = ["SIM_SETTABLE", "SimBoard"]

#: Signals the sim board lets a test or scenario set (everything the model does not derive:
#: ``voltage``, ``current`` and ``charging`` follow from the battery model).
#: Derived by the battery model, never set by hand.
MODEL_DERIVED: Final[frozenset[str]] = frozenset({"voltage", "current", "charging"})
SIM_SETTABLE: Final[frozenset[str]] = frozenset(SIGNAL_NAMES) - MODEL_DERIVED

#: Signals the sim holds as plain values (network and user state); they start at the same
#: values as a real board's manual signals.
_PLAIN_DEFAULTS: Final[Mapping[str, Any]] = {
    n: MANUAL_DEFAULTS[n] for n in SIM_SETTABLE - {"charger", "temperature", "battery_level"}
}

Listener = Callable[[Mapping[str, Any]], None]


class SimBoard:
    """The simulated board's hardware: model, emulated gauge, mock pins, plain signals.

    Args:
        clock: time source for the battery model (``now()`` in s).
        spec: the board description (the catalogue's ``sim`` board by default).
        pin_factory: a gpiozero ``MockFactory`` (a fresh one when omitted).
        bus: the emulated I²C bus to attach the gauge to (a fresh one when omitted).
        charger: ``none`` to start on battery, or the kind plugged in at start.
        **model: :class:`~boards.battery.BatteryModel` parameters (``capacity_mah``, ``soc``,
            ``load_current``, ``charge_current``, ``internal_resistance``, ``temperature``).

    Raises:
        BoardError: the spec has no MAX17048 gauge or no power pin, or a bad parameter.
    """

    def __init__(
        self,
        *,
        clock: ClockLike,
        spec: BoardSpec = SIM,
        pin_factory: MockFactory | None = None,
        bus: EmulatedBus | None = None,
        charger: str = "none",
        **model: Any,
    ) -> None:
        if spec.gauge is None or spec.gauge.chip != "max17048" or spec.power_pin is None:
            raise BoardError(f"board {spec.name!r} is not a sim board (needs a max17048 gauge and a power pin)")
        self.spec = spec
        self.clock = clock
        self.pin_factory = pin_factory if pin_factory is not None else MockFactory()
        self.bus = bus if bus is not None else EmulatedBus(name="sim I²C bus 1")
        capacity = model.pop("capacity_mah", spec.gauge.params.get("capacity_mah"))
        if capacity is not None:
            model["capacity_mah"] = capacity
        try:
            self.model = BatteryModel(clock=clock, **model)
        except (TypeError, ValueError) as exc:
            raise BoardError(f"sim board: {exc}") from exc
        self.gauge = MAX17048Emulator()
        self.bus.attach(spec.gauge.address, self.gauge)
        self._pin_spec = spec.power_pin
        self.power_pin: MockPin = self.pin_factory.pin(self._pin_spec.gpio)
        self._plain: dict[str, Any] = dict(_PLAIN_DEFAULTS)
        self._kind = "ac"
        self._listeners: list[Listener] = []
        self._gauge_frozen = False  # a "stuck" gauge fault: registers stop following the model
        self._pin_stuck = False     # a "stuck" charger pin: its level stops following the plug
        if charger == "none":
            self._drive_power(False)
        else:
            self.plug(charger)
        self.sync()

    # -- reading -----------------------------------------------------------------------------

    @property
    def charger(self) -> str:
        """``none`` while unplugged, else the kind plugged in."""
        return self._kind if self.model.plugged else "none"

    @property
    def plug_kind(self) -> str:
        """The kind the charger has (or had, when last plugged in): ac, usb or wireless."""
        return self._kind

    def values(self) -> dict[str, Any]:
        """The signals the sim holds directly: network and user state, temperature."""
        return {**self._plain, "temperature": self.model.temperature}

    def sync(self) -> None:
        """Encode the model's state at ``clock.now()`` into the gauge registers.

        A real gauge samples continuously; the source calls this before each poll, so a read
        always sees the model as of the moment of the read (not while the gauge is frozen).
        """
        if not self._gauge_frozen:
            self.gauge.update(self.model.state())

    # -- faults (boards.faults) ----------------------------------------------------------------

    def freeze_gauge(self, frozen: bool) -> None:
        """A stuck gauge: its registers keep their values while the model moves on."""
        self._gauge_frozen = frozen

    def stick_power_pin(self, stuck: bool) -> None:
        """A stuck power pin keeps its level; unsticking drives it to the charger's truth."""
        self._pin_stuck = stuck
        if not stuck:
            self._drive_power(self.model.plugged)

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener(changed_values)`` when a plain signal changes; returns an unsubscribe."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    # -- handles -----------------------------------------------------------------------------

    def unplug(self) -> None:
        """Pull the charger: the model discharges, the power pin goes to "no power"."""
        self.model.unplug()
        self._drive_power(False)

    def plug(self, kind: str = "ac") -> None:
        """Connect a charger of ``kind`` (ac, usb, wireless): charging starts, the pin says power.

        Raises:
            BoardError: ``kind`` is not ac, usb or wireless.
        """
        if kind not in CHARGERS or kind == "none":
            raise BoardError(f"charger kind must be ac, usb or wireless, not {kind!r}")
        changed = kind != self._kind and self.model.plugged
        self._kind = kind
        self.model.plug()
        self._drive_power(True)
        if changed:  # same pin level, different kind: tell the source directly
            self._notify({"charger": kind})

    def set_load(self, amps: float) -> None:
        """System load drawn from the cell while unplugged (A).

        Raises:
            BoardError: negative or not a number.
        """
        try:
            self.model.set_load(amps)
        except ValueError as exc:
            raise BoardError(f"sim board: {exc}") from exc

    def set_network(
        self, network: str | None = None, *, metered: bool | None = None, roaming: bool | None = None
    ) -> None:
        """Set the network kind and flags. Cellular implies metered unless ``metered`` is given
        (DESIGN.md section 2: "cellular ⇒ metered").

        Raises:
            BoardError: unknown network kind or non-boolean flag.
        """
        values: dict[str, Any] = {}
        if network is not None:
            values["network"] = network
        if metered is not None:
            values["metered"] = metered
        if roaming is not None:
            values["roaming"] = roaming
        self.set(values)

    def set(self, values: Mapping[str, Any]) -> None:
        """Set any of :data:`SIM_SETTABLE` at once; all are checked before any is applied.

        Setting ``network`` without ``metered`` sets ``metered`` to ``network == "cellular"``
        (DESIGN.md section 2: "cellular ⇒ metered").

        Raises:
            NotSettableError: a name that is unknown or derived by the model (voltage...).
            BoardError: a value of the wrong type or range (the message names the signal).
        """
        checked = {name: check_value(name, value) for name, value in values.items()}
        if "network" in checked and "metered" not in checked:
            checked["metered"] = checked["network"] == "cellular"  # DESIGN §2: cellular ⇒ metered
        for name in checked:
            if name not in SIM_SETTABLE:
                raise NotSettableError(_not_settable_message(name))
        if "battery_level" in checked:
            self.model.set_soc(checked["battery_level"])
        if "temperature" in checked:
            self.model.set_temperature(checked["temperature"])
        if "charger" in checked:
            if checked["charger"] == "none":
                self.unplug()
            else:
                self.plug(checked["charger"])
        plain = {n: v for n, v in checked.items() if n in self._plain and self._plain[n] != v}
        self._plain.update(plain)
        notify = dict(plain)
        if "temperature" in checked:
            notify["temperature"] = checked["temperature"]
        if notify:
            self._notify(notify)

    # -- internals ---------------------------------------------------------------------------

    def _drive_power(self, present: bool) -> None:
        if self._pin_stuck:
            return
        high = present == self._pin_spec.active_high
        if high:
            self.power_pin.drive_high()
        else:
            self.power_pin.drive_low()

    def _notify(self, values: Mapping[str, Any]) -> None:
        for listener in list(self._listeners):
            listener(values)


def _not_settable_message(name: str) -> str:
    if name in ("voltage", "current", "charging"):
        return (
            f"signal {name!r} cannot be set on the sim board: the battery model derives it "
            "(use plug()/unplug(), set_load(amps) or set({'battery_level': ...}))"
        )
    return f"signal {name!r} cannot be set on the sim board (settable: {', '.join(sorted(SIM_SETTABLE))})"

