"""A Li-ion battery model: coulomb counting on an injected clock, pure arithmetic.

It lives in ``wbcommon`` because two layers that may not import each other run it: the live
``sim`` board (:mod:`boards.battery` adds the :class:`hal.readings.BatteryState` its emulated
gauge encodes) and ``wakebench simulate`` (:mod:`firmware_sim.simulation` drives it in virtual
time), so a scenario sees the same drain and charge curve as the live sim rig.

The model is exact for piecewise-constant currents, which is all the sim board produces:
between two handle calls (``plug``, ``set_load``...) the battery current is constant, so

    dSOC/dt = I / capacity        (SOC in %, I in A, capacity in mAh)
    ΔSOC [%] = I [A] · Δt [s] · 1000 [mA/A] / 3600 [s/h] / capacity [mAh] · 100

clamped to 0-100 %. Every handle first integrates up to ``clock.now()`` with the old
parameters, then changes them, so no call order can lose or double-count charge.

Current convention (DESIGN.md section 2): positive = charging, negative = discharging.
Plugged in, the charger feeds the load and charges the cell at ``charge_current`` until the
cell is full, then stops (current 0, SOC stays 100 %). A real charger tapers the current in
its constant-voltage phase; that CV taper is **not** modelled. Unplugged, the cell supplies
``load_current`` until empty, then the protection circuit cuts it off (current 0).

Terminal voltage is the open-circuit voltage of the SOC plus the IR drop:
``V = OCV(SOC) + I · R_internal`` (V rises while charging, sags under load).

No wall time is read: ``clock`` is anything with ``now() -> float`` (seconds).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Final, Protocol

from wbcommon.signals import TEMP_MAX_C, TEMP_MIN_C

__all__ = [
    "DEFAULT_CAPACITY_MAH",
    "DEFAULT_CHARGE_CURRENT_A",
    "DEFAULT_INTERNAL_RESISTANCE_OHM",
    "DEFAULT_LOAD_CURRENT_A",
    "DEFAULT_TEMPERATURE_C",
    "TYPICAL_LI_ION_OCV",
    "BatteryModel",
    "ClockLike",
    "OcvCurve",
    "soc_rate",
]

# Defaults of the simulated cell. They are wakebench choices that describe "a typical 18650
# on a Pi UPS HAT", not measured facts; every one is a constructor argument.
#: Cell capacity (mAh): a common 18650 rating (wakebench default, not a datasheet value).
DEFAULT_CAPACITY_MAH: Final = 2500.0
#: Current the Pi draws from the cell while unplugged (A) (wakebench default).
DEFAULT_LOAD_CURRENT_A: Final = 0.5
#: Charge current while plugged in (A) (wakebench default).
DEFAULT_CHARGE_CURRENT_A: Final = 1.0
#: Cell internal resistance (Ω) (wakebench default; typical-cell approximation).
DEFAULT_INTERNAL_RESISTANCE_OHM: Final = 0.08
#: Cell temperature (°C) (wakebench default: room temperature).
DEFAULT_TEMPERATURE_C: Final = 25.0

_MAH_PER_AH: Final = 1000.0
_S_PER_H: Final = 3600.0
_PERCENT: Final = 100.0

#: Open-circuit voltage of one Li-ion cell (LiCoO2 / NMC, 4.2 V full) against SOC, as
#: ``(soc %, volts)`` points, linearly interpolated. Typical-cell approximation
#: (UNCONFIRMED: no datasheet behind these exact points; they follow the usual shape — steep
#: below 10 %, a flat 3.7-3.9 V plateau, 4.2 V at full — and agree with the X120x LED levels
#: of reference/pi-hardware.md section 2 to within the IR drop).
TYPICAL_LI_ION_OCV: Final[tuple[tuple[float, float], ...]] = (
    (0.0, 3.00),
    (5.0, 3.45),
    (10.0, 3.60),
    (20.0, 3.69),
    (30.0, 3.74),
    (40.0, 3.78),
    (50.0, 3.82),
    (60.0, 3.87),
    (70.0, 3.93),
    (80.0, 4.00),
    (90.0, 4.08),
    (100.0, 4.20),
)


class ClockLike(Protocol):
    """Anything that tells the time in seconds (``firmware_sim.clock.Clock`` is one)."""

    def now(self) -> float:
        """Current time (s)."""
        ...


def soc_rate(current_a: float, capacity_mah: float) -> float:
    """dSOC/dt in %/s for a battery current (A, + charging) and a capacity (mAh)."""
    return current_a * _MAH_PER_AH / _S_PER_H / capacity_mah * _PERCENT


@dataclass(frozen=True, slots=True)
class OcvCurve:
    """Open-circuit voltage as a piecewise-linear function of SOC.

    Raises:
        ValueError: fewer than two points, SOC not strictly increasing from 0 to 100, or a
            voltage that is not positive.
    """

    points: tuple[tuple[float, float], ...] = TYPICAL_LI_ION_OCV

    def __post_init__(self) -> None:
        pts = self.points
        if len(pts) < 2:
            raise ValueError("an OCV curve needs at least two (soc, volts) points")
        socs = [p[0] for p in pts]
        if socs[0] != 0.0 or socs[-1] != _PERCENT or any(b <= a for a, b in pairwise(socs)):
            raise ValueError(f"OCV curve SOCs must rise strictly from 0 to 100 %, got {socs}")
        if any(not (math.isfinite(v) and v > 0) for _, v in pts):
            raise ValueError("OCV curve voltages must be positive numbers")

    def voltage(self, soc: float) -> float:
        """OCV (V) at ``soc`` (%), clamped to the curve's ends."""
        pts = self.points
        soc = min(max(soc, 0.0), _PERCENT)
        i = bisect.bisect_right([p[0] for p in pts], soc)
        if i >= len(pts):
            return pts[-1][1]
        (s0, v0), (s1, v1) = pts[i - 1], pts[i]
        return v0 + (v1 - v0) * (soc - s0) / (s1 - s0)


def _positive(name: str, value: float, *, allow_zero: bool = False) -> float:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be a finite number {bound}, not {value!r}")
    return float(value)


class BatteryModel:
    """One cell (or an ``cells``-series pack) integrated over an injected clock.

    Args:
        clock: ``now()`` in seconds; the model integrates lazily up to it.
        capacity_mah: usable capacity (mAh).
        soc: initial state of charge (%).
        load_current: current the system draws while unplugged (A, >= 0).
        charge_current: constant charge current while plugged and not full (A, >= 0).
        internal_resistance: series resistance of the pack (Ω).
        temperature: cell temperature (°C); only reported, it does not change the curve.
        plugged: whether external power is connected at start.
        ocv: open-circuit voltage curve of one cell.
        cells: cells in series (2 for the Waveshare UPS HAT (B) pack); scales the voltage.

    Raises:
        ValueError: a parameter is out of range (the message names it).
    """

    def __init__(
        self,
        *,
        clock: ClockLike,
        capacity_mah: float = DEFAULT_CAPACITY_MAH,
        soc: float = 100.0,
        load_current: float = DEFAULT_LOAD_CURRENT_A,
        charge_current: float = DEFAULT_CHARGE_CURRENT_A,
        internal_resistance: float = DEFAULT_INTERNAL_RESISTANCE_OHM,
        temperature: float = DEFAULT_TEMPERATURE_C,
        plugged: bool = False,
        ocv: OcvCurve | Sequence[tuple[float, float]] = TYPICAL_LI_ION_OCV,
        cells: int = 1,
    ) -> None:
        self._clock = clock
        self.capacity_mah = _positive("capacity_mah", capacity_mah)
        self._soc = self._check_soc(soc)
        self._load = _positive("load_current", load_current, allow_zero=True)
        self._charge = _positive("charge_current", charge_current, allow_zero=True)
        self.internal_resistance = _positive("internal_resistance", internal_resistance,
                                             allow_zero=True)
        self._temperature = self._check_temperature(temperature)
        self._plugged = bool(plugged)
        self.ocv = ocv if isinstance(ocv, OcvCurve) else OcvCurve(tuple(ocv))
        if isinstance(cells, bool) or not isinstance(cells, int) or cells < 1:
            raise ValueError(f"cells must be a positive integer, not {cells!r}")
        self.cells = cells
        self._t = float(clock.now())

    # -- reading ------------------------------------------------------------------------

    @property
    def soc(self) -> float:
        """State of charge now (%)."""
        self.advance()
        return self._soc

    @property
    def plugged(self) -> bool:
        """True while external power is connected."""
        return self._plugged

    @property
    def load_current(self) -> float:
        """System load while unplugged (A)."""
        return self._load

    @property
    def charge_current(self) -> float:
        """Charge current while plugged and not full (A)."""
        return self._charge

    @property
    def temperature(self) -> float:
        """Cell temperature (°C)."""
        return self._temperature

    @property
    def current(self) -> float:
        """Battery current now (A): + charging, - discharging, 0 when full or empty."""
        self.advance()
        return self._current()

    @property
    def voltage(self) -> float:
        """Terminal voltage now (V): ``cells · OCV(SOC) + I · R``."""
        self.advance()
        return self._voltage()

    def seconds_until_level(self, soc: float) -> float | None:
        """Seconds from ``clock.now()`` until the SOC reaches ``soc`` (%) at the present current,
        or None when it never will (no current, or moving away from it). Exact: the current is
        constant until a handle is called or the cell is full / empty."""
        self.advance()
        rate = soc_rate(self._current(), self.capacity_mah)
        delta = soc - self._soc
        if rate == 0.0 or delta * rate < 0.0:
            return None
        return delta / rate

    # -- time ---------------------------------------------------------------------------

    def advance(self) -> None:
        """Integrate up to ``clock.now()`` (a clock that went back is ignored)."""
        now = float(self._clock.now())
        dt = now - self._t
        if dt <= 0:
            return
        self._t = now
        rate = soc_rate(self._current(), self.capacity_mah)
        self._soc = min(max(self._soc + rate * dt, 0.0), _PERCENT)

    # -- handles (the outside world) ------------------------------------------------------

    def plug(self) -> None:
        """Connect external power: charging starts (unless full)."""
        self.advance()
        self._plugged = True

    def unplug(self) -> None:
        """Disconnect external power: the cell now feeds the load."""
        self.advance()
        self._plugged = False

    def set_load(self, amps: float) -> None:
        """Change the system load drawn while unplugged (A, >= 0).

        Raises:
            ValueError: negative or not a number.
        """
        self.advance()
        self._load = _positive("load current", amps, allow_zero=True)

    def set_charge_current(self, amps: float) -> None:
        """Change the constant charge current (A, >= 0).

        Raises:
            ValueError: negative or not a number.
        """
        self.advance()
        self._charge = _positive("charge current", amps, allow_zero=True)

    def set_soc(self, soc: float) -> None:
        """Jump to a state of charge (%) — a test handle, like swapping the cell.

        Raises:
            ValueError: outside 0-100 or not a number.
        """
        self.advance()
        self._soc = self._check_soc(soc)

    def set_temperature(self, celsius: float) -> None:
        """Set the cell temperature (°C).

        Raises:
            ValueError: not a finite number, or outside -40..125 °C.
        """
        self._temperature = self._check_temperature(celsius)

    # -- internals ------------------------------------------------------------------------

    def _current(self) -> float:
        if self._plugged:
            return self._charge if self._soc < _PERCENT else 0.0
        return -self._load if self._soc > 0.0 else 0.0

    def _voltage(self) -> float:
        return self.cells * self.ocv.voltage(self._soc) + self._current() * self.internal_resistance

    @staticmethod
    def _check_soc(soc: float) -> float:
        ok = isinstance(soc, int | float) and not isinstance(soc, bool) and math.isfinite(soc)
        if not ok or not 0.0 <= soc <= _PERCENT:
            raise ValueError(f"battery level must be a number from 0 to 100 %, not {soc!r}")
        return float(soc)

    @staticmethod
    def _check_temperature(celsius: float) -> float:
        ok = isinstance(celsius, int | float) and not isinstance(celsius, bool)
        if not ok or not math.isfinite(celsius) or not TEMP_MIN_C <= celsius <= TEMP_MAX_C:
            raise ValueError(
                f"temperature must be a number from {TEMP_MIN_C:g} to {TEMP_MAX_C:g} °C, "
                f"not {celsius!r}"
            )
        return float(celsius)

