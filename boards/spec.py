"""Board descriptions as data: which gauge sits where, which pin means what, what a relay switches.

A :class:`BoardSpec` is frozen and knows nothing about hardware access; :mod:`boards.source`
turns one into a running signal source. Facts come from ``reference/pi-hardware.md``; any fact
the reference marks unconfirmed/inferred carries an ``UNCONFIRMED: ...`` note on the item it
concerns, and :meth:`BoardSpec.unconfirmed_notes` gathers them for ``wakebench boards``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Final, Literal, get_args

from boards.errors import SignalValueError, UnknownSignalError
from hal.chips import CHIPS, chip_spec
from wbcommon.signals import (
    BOOL_SIGNALS,
    CHARGERS,
    DEFAULTS,
    SIGNAL_NAMES,
    Charger,
    InvalidSignalError,
    check,
)

__all__ = [
    "BOOL_SIGNALS",
    "CHARGERS",
    "CHIP_ADDRESSES",
    "DEBOUNCE_MAX_S",
    "DIRECTIONS",
    "GPIO_MAX",
    "GPIO_MIN",
    "I2C1_PINS",
    "I2C_ADDR_MAX",
    "I2C_ADDR_MIN",
    "MANUAL_DEFAULTS",
    "NAME_PATTERN",
    "PIN_SIGNALS",
    "POLARITIES",
    "PULLS",
    "RELAY_SIGNALS",
    "SIGNAL_NAMES",
    "UNCONFIRMED",
    "BoardSpec",
    "Charger",
    "ChipSpec",
    "Direction",
    "PinSpec",
    "Polarity",
    "Pull",
    "RelaySpec",
    "check_value",
    "problems",
]

Polarity = Literal["active_high", "active_low"]
Pull = Literal["up", "down", "floating"]
Direction = Literal["input", "output"]

POLARITIES: Final[tuple[str, ...]] = get_args(Polarity)
PULLS: Final[tuple[str, ...]] = get_args(Pull)
DIRECTIONS: Final[tuple[str, ...]] = get_args(Direction)

#: Start values of signals no sensor provides: the vocabulary's defaults, except temperature:
#: unknown rather than 25 °C on a board without a sensor.
MANUAL_DEFAULTS: Final[Mapping[str, Any]] = MappingProxyType({**DEFAULTS, "temperature": None})

#: Signals an input pin can drive: the power pin (``charger``) and any boolean switch
#: (DESIGN.md section 2: "rig input GPIOs (switches)"; a charger IC's STAT pin for ``charging``).
PIN_SIGNALS: Final[frozenset[str]] = BOOL_SIGNALS | {"charger"}

#: Signals a relay can switch: external power (``charger``) or any boolean (e.g. charge enable).
RELAY_SIGNALS: Final[frozenset[str]] = PIN_SIGNALS

#: BCM GPIO numbers on the 40-pin header: GPIO0-GPIO27 (Raspberry Pi documentation,
#: "GPIO and the 40-pin header", raspberrypi.com/documentation/computers/raspberry-pi.html).
GPIO_MIN: Final = 0
GPIO_MAX: Final = 27

#: GPIO2/GPIO3 are SDA1/SCL1 of I²C bus 1 (same Raspberry Pi documentation page); a board whose
#: gauge is on bus 1 cannot also use them as plain pins.
I2C1_PINS: Final[Mapping[int, str]] = MappingProxyType({2: "SDA1", 3: "SCL1"})

#: 7-bit addresses a device may use: 0x00-0x02 and 0x78-0x7F are reserved by the I²C-bus
#: specification (NXP UM10204 rev. 7, table 4 "Reserved addresses"); ``i2cdetect`` scans the same
#: 0x03-0x77 range by default.
I2C_ADDR_MIN: Final = 0x03
I2C_ADDR_MAX: Final = 0x77

#: Longest debounce accepted for an input pin (s). A wakebench sanity bound, not a hardware
#: fact: beyond a second a "debounced" switch would hide real user actions.
DEBOUNCE_MAX_S: Final = 1.0

#: Where each supported chip can answer, from the :mod:`hal.chips` registry (reference/
#: pi-hardware.md section 1: MAX1704x 0x36, BQ27441 0x55, LC709203F 0x0B, INA219 0x40-0x4F via
#: A0/A1, CW2015 0x62).
CHIP_ADDRESSES: Final[Mapping[str, tuple[int, ...]]] = MappingProxyType(
    {name: chip.addresses for name, chip in CHIPS.items()}
)

NAME_PATTERN: Final = re.compile(r"^[a-z0-9_-]+$")
UNCONFIRMED: Final = "UNCONFIRMED"


@dataclass(frozen=True, slots=True)
class ChipSpec:
    """An I²C chip on the board.

    Args:
        chip: driver name in :mod:`hal.chips` (``max17048``, ``ina219``, ...).
        address: 7-bit I²C address.
        bus: ``/dev/i2c-<bus>`` (1 is the 40-pin header's SDA1/SCL1).
        params: chip-specific numbers (the chip's ``params`` in :mod:`hal.chips`), SI units.
        role: what the chip does on this board when it is not the gauge (``RTC``).
        unconfirmed: ``"UNCONFIRMED: ..."`` when the reference does not confirm this chip.
    """

    chip: str
    address: int
    bus: int = 1
    params: Mapping[str, Any] = field(default_factory=dict, hash=False)
    role: str = "fuel gauge"
    unconfirmed: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "params", MappingProxyType(dict(self.params)))

    @property
    def label(self) -> str:
        """``max17048@0x36``."""
        return f"{self.chip}@0x{self.address:02x}"


@dataclass(frozen=True, slots=True)
class PinSpec:
    """One GPIO the board uses.

    ``polarity`` is the level at which ``function`` is true: the X728 power-loss pin reads
    1 when AC is lost, so its ``function`` "external power present" is ``active_low``.

    Args:
        gpio: BCM number, 0-27.
        function: what the pin means when asserted, in words.
        direction: ``input`` (read by wakebench) or ``output`` (driven by the board's scripts).
        polarity: ``active_high`` or ``active_low``.
        pull: internal pull resistor: ``up``, ``down`` or ``floating`` (the board drives it).
        debounce: seconds a level must hold before it counts; None = no debounce.
        signal: the DESIGN section 2 signal this input drives (``charger``, ``screen_locked``...).
        note: the vendor's own wording (kept next to the interpretation).
        unconfirmed: ``"UNCONFIRMED: ..."`` when the reference does not confirm this fact.
    """

    gpio: int
    function: str
    direction: Direction = "input"
    polarity: Polarity = "active_high"
    pull: Pull = "floating"
    debounce: float | None = None
    signal: str | None = None
    note: str = ""
    unconfirmed: str = ""

    @property
    def active_high(self) -> bool:
        """True when a high level asserts ``function``."""
        return self.polarity == "active_high"


@dataclass(frozen=True, slots=True)
class RelaySpec:
    """An output that switches something physical, which makes one signal settable.

    For ``signal = "charger"`` the switched thing is the board's external power (on =
    connected, the board's ``charger`` type); for a boolean signal, on = ``True``.

    Args:
        gpio: BCM number, 0-27.
        switches: what it switches, in words.
        signal: the signal that becomes settable through it.
        polarity: level at which the switched thing is ON.
        safe_on: state held at start-up and restored on stop (True = ON).
        note / unconfirmed: as for :class:`PinSpec`.
    """

    gpio: int
    switches: str
    signal: str
    polarity: Polarity = "active_high"
    safe_on: bool = True
    note: str = ""
    unconfirmed: str = ""

    @property
    def active_high(self) -> bool:
        """True when a high level switches ON."""
        return self.polarity == "active_high"


@dataclass(frozen=True, slots=True)
class BoardSpec:
    """Everything wakebench needs to know about one board.

    Args:
        name: catalogue / config name (``[a-z0-9_-]+``).
        title: human name.
        source: where the facts come from (URL, vendor repo, reference section).
        gauge: the chip read for battery signals, or None (``power_supply`` or no battery).
        pins: GPIOs the board uses (inputs drive signals; outputs are listed for wiring).
        relays: outputs wakebench may switch to set a signal.
        charger: charger type reported while the power pin (or gauge) says plugged.
        power_supply: sysfs ``/sys/class/power_supply`` name to read, ``"auto"`` for the
            first battery, None when the board has no kernel driver in use.
        other_chips: further I²C devices on the board (RTC, second monitor), shown only.
        soc_method: how the battery level is obtained (chip register, voltage curve...).
        notes: further facts (version differences, config.txt lines).
        unconfirmed: board-level ``"UNCONFIRMED: ..."`` notes.
        simulated: True for the ``sim`` board (emulated bus, mock pins).
    """

    name: str
    title: str
    source: str
    gauge: ChipSpec | None = None
    pins: tuple[PinSpec, ...] = ()
    relays: tuple[RelaySpec, ...] = ()
    charger: Charger = "ac"
    power_supply: str | None = None
    other_chips: tuple[ChipSpec, ...] = ()
    soc_method: str = "chip SOC register"
    notes: tuple[str, ...] = ()
    unconfirmed: tuple[str, ...] = ()
    simulated: bool = False

    @property
    def power_pin(self) -> PinSpec | None:
        """The input pin that drives ``charger`` (power-loss / power-good), if any."""
        return next((p for p in self.input_pins if p.signal == "charger"), None)

    @property
    def input_pins(self) -> tuple[PinSpec, ...]:
        """Input pins that drive a signal."""
        return tuple(p for p in self.pins if p.direction == "input" and p.signal is not None)

    def relay_for(self, signal: str) -> RelaySpec | None:
        """The relay that switches ``signal``, if any."""
        return next((r for r in self.relays if r.signal == signal), None)

    def unconfirmed_notes(self) -> tuple[str, ...]:
        """Every UNCONFIRMED note: the board's own, then each chip's, pin's and relay's."""
        notes = list(self.unconfirmed)
        chips = ([self.gauge] if self.gauge else []) + list(self.other_chips)
        notes += [f"{c.label}: {c.unconfirmed}" for c in chips if c.unconfirmed]
        notes += [f"GPIO{p.gpio}: {p.unconfirmed}" for p in self.pins if p.unconfirmed]
        notes += [f"relay GPIO{r.gpio}: {r.unconfirmed}" for r in self.relays if r.unconfirmed]
        return tuple(notes)

    @property
    def has_unconfirmed(self) -> bool:
        """True when any fact about the board is unconfirmed."""
        return bool(self.unconfirmed_notes())


def problems(spec: BoardSpec) -> Iterator[tuple[str, str]]:
    """Check a spec against the hardware rules; yield ``(key path, what is wrong)`` pairs.

    Key paths are relative to the board table: ``gauge.address``, ``pins[1].gpio``.
    An empty iteration means the spec is valid.
    """
    if not NAME_PATTERN.match(spec.name):
        yield "name", f"{spec.name!r} must match [a-z0-9_-]+ (it becomes part of MQTT ids)"
    if spec.charger not in CHARGERS or spec.charger == "none":
        yield "charger", (
            f"{spec.charger!r} is not a charger type; use one of ac, usb, wireless "
            "(the type reported while the board says power is plugged)"
        )
    if spec.gauge is not None:
        yield from _chip_problems(spec.gauge, "gauge")
    for i, chip in enumerate(spec.other_chips):
        yield from _chip_problems(chip, f"chips[{i}]", check_params=False)
    i2c1_busy = spec.gauge is not None and spec.gauge.bus == 1
    used: dict[int, str] = {}
    driven: dict[str, str] = {}
    for i, pin in enumerate(spec.pins):
        key = f"pins[{i}]"
        yield from _gpio_problems(pin.gpio, f"{key}.gpio", used, i2c1_busy,
                                  f"{key} ({pin.signal or pin.function})")
        if pin.direction not in DIRECTIONS:
            yield f"{key}.direction", f"{pin.direction!r} is not input or output"
        if pin.polarity not in POLARITIES:
            yield f"{key}.polarity", f"{pin.polarity!r} is not active_high or active_low"
        if pin.pull not in PULLS:
            yield f"{key}.pull", f"{pin.pull!r} is not up, down or floating"
        if pin.debounce is not None and not 0.0 <= pin.debounce <= DEBOUNCE_MAX_S:
            yield f"{key}.debounce", (
                f"{pin.debounce!r} s is outside 0-{DEBOUNCE_MAX_S:g} s"
            )
        if pin.signal is not None:
            if pin.signal not in PIN_SIGNALS:
                yield f"{key}.signal", _signal_message(pin.signal, PIN_SIGNALS, "a pin")
            elif pin.signal in driven:
                yield f"{key}.signal", f"{pin.signal!r} is already driven by {driven[pin.signal]}"
            else:
                driven[pin.signal] = f"GPIO{pin.gpio}"
            if pin.direction == "output":
                yield f"{key}.direction", f"an output pin cannot drive signal {pin.signal!r}"
    switched: dict[str, str] = {}
    for i, relay in enumerate(spec.relays):
        key = f"relays[{i}]"
        yield from _gpio_problems(relay.gpio, f"{key}.gpio", used, i2c1_busy,
                                  f"{key} ({relay.switches})")
        if relay.polarity not in POLARITIES:
            yield f"{key}.polarity", f"{relay.polarity!r} is not active_high or active_low"
        if relay.signal not in RELAY_SIGNALS:
            yield f"{key}.signal", _signal_message(relay.signal, RELAY_SIGNALS, "a relay")
        elif relay.signal in switched:
            yield f"{key}.signal", f"{relay.signal!r} is already switched by {switched[relay.signal]}"
        else:
            switched[relay.signal] = f"relay GPIO{relay.gpio}"
    for i, note in enumerate(spec.unconfirmed):
        if UNCONFIRMED not in note:
            yield f"unconfirmed[{i}]", f"note {note!r} must say {UNCONFIRMED}"


def _chip_problems(chip: ChipSpec, key: str, *, check_params: bool = True) -> Iterator[tuple[str, str]]:
    known = CHIP_ADDRESSES.get(chip.chip)
    if known is None and check_params:
        yield f"{key}.chip", f"unknown chip {chip.chip!r} (known: {', '.join(sorted(CHIP_ADDRESSES))})"
    if not I2C_ADDR_MIN <= chip.address <= I2C_ADDR_MAX:
        yield f"{key}.address", (
            f"0x{chip.address:02x} is not a usable 7-bit I²C address "
            f"(0x{I2C_ADDR_MIN:02x}-0x{I2C_ADDR_MAX:02x}; the rest are reserved)"
        )
    elif known is not None and chip.address not in known:
        where = f"only at 0x{known[0]:02x}" if len(known) == 1 else f"at 0x{known[0]:02x}-0x{known[-1]:02x}"
        yield f"{key}.address", f"{chip.chip} answers {where}, not 0x{chip.address:02x}"
    if chip.bus < 0:
        yield f"{key}.bus", f"bus {chip.bus} is not a /dev/i2c-N number"
    if check_params and known is not None:
        for name, why in chip_spec(chip.chip).param_problems(chip.params):
            yield f"{key}.{name}", why


def _gpio_problems(
    gpio: int, key: str, used: dict[int, str], i2c1_busy: bool, label: str
) -> Iterator[tuple[str, str]]:
    if isinstance(gpio, bool) or not isinstance(gpio, int) or not GPIO_MIN <= gpio <= GPIO_MAX:
        yield key, f"GPIO {gpio!r} is out of range {GPIO_MIN}-{GPIO_MAX} (BCM numbering, 40-pin header)"
        return
    if gpio in used:
        yield key, f"GPIO{gpio} is already used by {used[gpio]}"
    else:
        used[gpio] = label
    if i2c1_busy and gpio in I2C1_PINS:
        yield key, f"GPIO{gpio} is {I2C1_PINS[gpio]} of I²C bus 1, which the gauge uses"


def _signal_message(signal: str, allowed: frozenset[str], what: str) -> str:
    if signal in SIGNAL_NAMES:
        return f"signal {signal!r} cannot be driven by {what} (allowed: {', '.join(sorted(allowed))})"
    return f"unknown signal {signal!r} (allowed: {', '.join(sorted(allowed))})"


def check_value(name: str, value: Any) -> Any:
    """Validate one signal value with the shared vocabulary (:func:`wbcommon.signals.check`)
    and return it canonically, raising the boards layer's errors.

    Raises:
        UnknownSignalError: unknown signal name.
        SignalValueError: wrong type or range; the message names the signal and the value.
    """
    try:
        return check(name, value)
    except InvalidSignalError as exc:
        raise (UnknownSignalError if exc.unknown else SignalValueError)(str(exc)) from None
