"""GPIO inputs and relay outputs through gpiozero, with an injected pin factory.

Three things a board wires to GPIO (``reference/pi-hardware.md`` sections 2 and 4):

* a charger / power-loss input (X728 GPIO6, X120x GPIO6, UPS-Lite GPIO4), whose polarity differs
  per board, so every pin is described by a :class:`PinSpec` saying which level means "true";
* rig inputs for signals a Pi has no sensor for (``screen_locked``, ``on_call``, ``idle``,
  ``low_power_mode``, ``user_present``): switches on any GPIO, same :class:`PinSpec`;
* rig outputs: relays that cut the charger or a Wi-Fi dongle (:class:`RelaySpec`, :class:`Relay`).

:class:`InputWatcher` turns edges into debounced values of named signals. gpiozero calls edge
handlers on lgpio's background thread on a Pi (and synchronously in the caller's thread with
``MockPin``), so the handler does nothing but hand the edge to the event loop with
``call_soon_threadsafe``; debouncing and delivery happen on the loop's thread. The debounce is
our own: gpiozero's ``MockPin`` stores ``bounce`` but does not implement it, and lgpio's
``bounce_time`` differs per backend. An edge is reported once the level has been stable for
``debounce`` seconds (a ``call_later`` on the loop, which tests replace with a virtual clock).

The pin factory is always passed in (``pin_factory=``); the global ``Device.pin_factory`` is never
touched. :func:`lgpio_pin_factory` builds the real one on a Pi (``pip install wakebench[pi]``).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from gpiozero import DigitalInputDevice, DigitalOutputDevice, GPIOZeroError
from gpiozero.pins import Factory

from hal.errors import PinError

__all__ = [
    "EventLoopLike",
    "InputWatcher",
    "PinSpec",
    "Pull",
    "Relay",
    "RelaySpec",
    "SignalCallback",
    "lgpio_pin_factory",
]

Pull = Literal["up", "down", "floating"]
_PULLS: tuple[str, ...] = ("up", "down", "floating")

#: ``on_change(signal, value)``; always called on the event loop's thread.
SignalCallback = Callable[[str, bool], None]


class _Cancellable(Protocol):
    def cancel(self) -> None: ...


class EventLoopLike(Protocol):
    """The two event-loop methods the watcher uses; an ``asyncio`` loop is one."""

    def call_soon_threadsafe(self, callback: Callable[..., object], *args: Any) -> object: ...

    def call_later(
        self, delay: float, callback: Callable[..., object], *args: Any
    ) -> _Cancellable: ...


def _check_gpio(gpio: object, what: str) -> None:
    if isinstance(gpio, bool) or not isinstance(gpio, int) or gpio < 0:
        raise PinError(f"{what}: GPIO number must be a non-negative int (BCM numbering), got {gpio!r}")


@dataclass(frozen=True, slots=True)
class PinSpec:
    """One digital input and what it means.

    Attributes:
        gpio: BCM GPIO number (``GPIO6`` is 6).
        signal: board signal it drives, e.g. ``external_power`` or ``screen_locked``.
        active_high: True if the signal is true while the pin reads high. X728 GPIO6 high = AC
            lost, so its ``external_power`` pin is ``active_high=False``; X120x GPIO6 high = power
            OK and UPS-Lite GPIO4 high = plugged, so theirs are ``active_high=True``.
        pull: internal resistor: ``"up"``, ``"down"`` or ``"floating"`` (an external circuit
            drives the pin, as on the UPS HATs).
        debounce: seconds the level must stay put before a change is reported; 0 reports at once.
        source: where the pin and its polarity are documented.
    """

    gpio: int
    signal: str
    active_high: bool
    pull: Pull = "floating"
    debounce: float = 0.0
    source: str = ""

    def __post_init__(self) -> None:
        _check_gpio(self.gpio, f"input {self.signal!r}")
        if not self.signal:
            raise PinError(f"GPIO{self.gpio}: input needs a signal name")
        if self.pull not in _PULLS:
            raise PinError(
                f"GPIO{self.gpio} ({self.signal}): pull must be one of {', '.join(_PULLS)}, "
                f"got {self.pull!r}"
            )
        if not (isinstance(self.debounce, int | float) and math.isfinite(self.debounce)) or (
            self.debounce < 0
        ):
            raise PinError(
                f"GPIO{self.gpio} ({self.signal}): debounce must be a finite number of seconds "
                f">= 0, got {self.debounce!r}"
            )

    @property
    def label(self) -> str:
        """``GPIO6 (external_power)``: how messages name this pin."""
        return f"GPIO{self.gpio} ({self.signal})"


@dataclass(frozen=True, slots=True)
class RelaySpec:
    """One relay output driven by a GPIO.

    Attributes:
        gpio: BCM GPIO number.
        name: what the relay switches, e.g. ``charger`` or ``wifi_dongle``.
        active_high: True if driving the pin high energises the relay.
        safe_state: state (True = energised) the relay takes at start-up, on
            :meth:`Relay.to_safe_state` and before closing; choose the one that leaves the
            device under test powered and connected.
        source: where the wiring is documented.
    """

    gpio: int
    name: str
    active_high: bool = True
    safe_state: bool = False
    source: str = ""

    def __post_init__(self) -> None:
        _check_gpio(self.gpio, f"relay {self.name!r}")
        if not self.name:
            raise PinError(f"GPIO{self.gpio}: relay needs a name")

    @property
    def label(self) -> str:
        """``GPIO17 (relay charger)``: how messages name this pin."""
        return f"GPIO{self.gpio} (relay {self.name})"


def _pin_error(label: str, board: str, exc: Exception) -> PinError:
    where = f"{label} on board {board}" if board else label
    hint = ""
    if "gpiochip" in str(exc):
        hint = (
            " (Pi 5 with kernel >= 6.6.45: gpiozero 2.0.1 looks for gpiochip4; "
            "see gpiozero #1166, workaround `ln -s gpiochip0 /dev/gpiochip4`)"
        )
    return PinError(f"{where}: {exc}{hint}")


def lgpio_pin_factory(chip: int | None = None) -> Factory:
    """Return gpiozero's lgpio factory for this Pi's GPIO chip.

    Raises:
        PinError: lgpio is not installed (``pip install wakebench[pi]``) or the chip can't open.
    """
    try:
        from gpiozero.pins.lgpio import LGPIOFactory  # optional extra: only on a Pi
    except ImportError as exc:
        raise PinError(
            f"lgpio is not installed ({exc}); install the Pi extra: pip install 'wakebench[pi]'"
        ) from exc
    try:
        return LGPIOFactory(chip=chip)
    except Exception as exc:  # lgpio.error is a plain Exception subclass
        raise _pin_error(f"gpiochip{'' if chip is None else chip}", "", exc) from exc


def _gpiozero_pull(spec: PinSpec) -> tuple[bool | None, bool | None, bool]:
    """Map a spec to gpiozero's ``(pull_up, active_state)`` and whether to invert is_active.

    gpiozero ties polarity to the pull: ``pull_up=True`` means active-low, ``pull_up=False``
    active-high, and only ``pull_up=None`` (floating) accepts an explicit ``active_state``
    (reference section 4). A pulled pin whose meaning is the other way round is inverted here.
    """
    if spec.pull == "floating":
        return None, spec.active_high, False
    if spec.pull == "up":
        return True, None, spec.active_high
    return False, None, not spec.active_high


class InputWatcher:
    """Debounced values of named signals from digital inputs, delivered on the event loop.

    Construct it on the loop's thread (inside ``async`` code) or pass ``loop=``. The current
    values are readable at once (:attr:`values`); each later change calls
    ``on_change(signal, value)`` on the loop's thread, once the new level has been stable for
    the pin's ``debounce``. Bounces shorter than that are swallowed.

    Raises:
        PinError: a pin is in use, invalid or cannot be set up; the message names pin, signal
            and board. Pins already opened are closed again.
    """

    def __init__(
        self,
        specs: Iterable[PinSpec],
        *,
        pin_factory: Factory,
        on_change: SignalCallback,
        loop: EventLoopLike | None = None,
        board: str = "",
    ) -> None:
        self._specs = tuple(specs)
        self._by_signal = {s.signal: s for s in self._specs}
        signals = [s.signal for s in self._specs]
        duplicated = sorted({s for s in signals if signals.count(s) > 1})
        if duplicated:
            raise PinError(f"board {board or '?'}: signal(s) {', '.join(duplicated)} wired twice")
        self._loop: EventLoopLike = loop if loop is not None else asyncio.get_running_loop()
        self._on_change = on_change
        self._board = board
        self._devices: dict[str, DigitalInputDevice] = {}
        self._invert: dict[str, bool] = {}
        self._level: dict[str, bool] = {}     # latest raw signal value seen (may be bouncing)
        self._reported: dict[str, bool] = {}  # last value reported (or initial value)
        self._pending: dict[str, _Cancellable] = {}
        self._closed = False
        try:
            for spec in self._specs:
                self._open(spec, pin_factory)
        except PinError:
            self.close()
            raise

    def _open(self, spec: PinSpec, pin_factory: Factory) -> None:
        pull_up, active_state, invert = _gpiozero_pull(spec)
        try:
            device = DigitalInputDevice(
                spec.gpio, pull_up=pull_up, active_state=active_state, pin_factory=pin_factory
            )
        except (GPIOZeroError, OSError) as exc:
            raise _pin_error(spec.label, self._board, exc) from exc
        self._devices[spec.signal] = device
        self._invert[spec.signal] = invert
        value = bool(device.is_active) != invert
        self._level[spec.signal] = value
        self._reported[spec.signal] = value
        device.when_activated = self._edge_handler(spec.signal, not invert)
        device.when_deactivated = self._edge_handler(spec.signal, invert)

    def _edge_handler(self, signal: str, value: bool) -> Callable[[], None]:
        def on_edge() -> None:  # any thread: only hand over to the loop
            # RuntimeError: the loop is already closed, the watcher is shutting down.
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(self._on_edge, signal, value)

        return on_edge

    @property
    def specs(self) -> tuple[PinSpec, ...]:
        """The pins being watched."""
        return self._specs

    @property
    def values(self) -> Mapping[str, bool]:
        """Last reported (debounced) value of every signal."""
        return dict(self._reported)

    def _on_edge(self, signal: str, value: bool) -> None:
        if self._closed:
            return
        self._level[signal] = value
        pending = self._pending.pop(signal, None)
        if pending is not None:
            pending.cancel()
        if value == self._reported[signal]:
            return  # back where it was before the bounce: nothing to report
        spec = self._by_signal[signal]
        if spec.debounce == 0:
            self._report(signal)
        else:
            self._pending[signal] = self._loop.call_later(spec.debounce, self._report, signal)

    def _report(self, signal: str) -> None:
        self._pending.pop(signal, None)
        if self._closed:
            return
        value = self._level[signal]
        if value != self._reported[signal]:
            self._reported[signal] = value
            self._on_change(signal, value)

    def close(self) -> None:
        """Cancel pending reports and release every pin. Safe to call twice."""
        self._closed = True
        for handle in self._pending.values():
            handle.cancel()
        self._pending.clear()
        for device in self._devices.values():
            device.close()
        self._devices.clear()

    def __enter__(self) -> InputWatcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Relay:
    """A relay on a GPIO output; starts in its declared safe state.

    Raises:
        PinError: the pin is in use, invalid or cannot be driven; the message names pin,
            relay and board.
    """

    def __init__(self, spec: RelaySpec, *, pin_factory: Factory, board: str = "") -> None:
        self._spec = spec
        self._board = board
        try:
            self._device = DigitalOutputDevice(
                spec.gpio,
                active_high=spec.active_high,
                initial_value=spec.safe_state,
                pin_factory=pin_factory,
            )
        except (GPIOZeroError, OSError) as exc:
            raise _pin_error(spec.label, board, exc) from exc
        self._closed = False

    @property
    def spec(self) -> RelaySpec:
        """What this relay is and how it is wired."""
        return self._spec

    @property
    def active(self) -> bool:
        """True while the relay is energised."""
        return bool(self._device.value)

    def set(self, active: bool) -> None:
        """Energise (True) or release (False) the relay.

        Raises:
            PinError: the relay is closed or the pin could not be driven.
        """
        if self._closed:
            raise PinError(f"{self._where()}: relay is closed")
        try:
            if active:
                self._device.on()
            else:
                self._device.off()
        except (GPIOZeroError, OSError) as exc:
            raise _pin_error(self._spec.label, self._board, exc) from exc

    def to_safe_state(self) -> None:
        """Put the relay in its declared safe state."""
        self.set(self._spec.safe_state)

    def close(self) -> None:
        """Go to the safe state, then release the pin. Safe to call twice.

        A released pin is no longer driven: wire the relay board so that its undriven input is
        the safe state too (most relay modules pull their input to "off").
        """
        if self._closed:
            return
        try:
            self.to_safe_state()
        finally:
            self._closed = True
            self._device.close()

    def _where(self) -> str:
        return f"{self._spec.label} on board {self._board}" if self._board else self._spec.label

    def __enter__(self) -> Relay:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
