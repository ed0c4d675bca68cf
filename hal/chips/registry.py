"""Chip registry: every supported fuel gauge / power monitor and the facts the rest of wakebench
needs about it — driver, emulator, addresses, identity, what it measures, the parameters a board
description may give it, how to construct its driver from them, and the plausible range of each
quantity it reports.

Adding a gauge chip touches only ``hal/`` (its module in :mod:`hal.chips` plus one entry in
:data:`_SPECS` here) and a board entry; ``boards`` reads every chip fact from this registry.

Plausibility limits (:class:`Limits`) come from each chip's datasheet (electrical
characteristics / register ranges); where a bound is a wakebench choice rather than a datasheet
figure, its comment says so. A reading outside them is garbage on the bus, a clone chip or a
stuck register, never a fresh value: :meth:`ChipSpec.implausible` names the quantity.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any, Final

from hal.chips.base import ChipEmulator, GaugeDriver, I2CDriver
from hal.chips.bq27441 import BQ27441, BQ27441Emulator
from hal.chips.cw2015 import CW2015, CW2015Emulator
from hal.chips.ina219 import (
    INA219,
    WAVESHARE_32V_2A,
    INA219Calibration,
    INA219Emulator,
    LinearSocCurve,
    chip_time,
)
from hal.chips.lc709203f import LC709203F, LC709203FEmulator
from hal.chips.max1704x import (
    MAX17043,
    MAX17044,
    MAX17048,
    MAX17049,
    MAX17043Emulator,
    MAX17044Emulator,
    MAX17048Emulator,
    MAX17049Emulator,
)
from hal.errors import BusError
from hal.i2c import I2CBus, is_nack
from hal.readings import GaugeReading

__all__ = [
    "CHIPS",
    "ChipSpec",
    "Limits",
    "ParamKind",
    "chip_spec",
    "current_from_charge_rate",
    "identify",
]

ParamKind = type[float] | type[bool]
Range = tuple[float, float]

# -- datasheet limits ---------------------------------------------------------------------------
#: MAX17043/MAX17048 are powered from the cell they measure: VDD operating range 2.5 V to
#: 4.5 V (MAX17043/MAX17044 and MAX17048/MAX17049 datasheets, "Electrical Characteristics",
#: Supply Voltage). A 1S chip that answers cannot read a cell outside it.
MAX1704X_VDD_V: Final[Range] = (2.5, 4.5)
#: MAX17044/MAX17049 measure a 2-cell pack: the same per-cell range times two cells, the lower
#: bound kept at one cell's 2.5 V (the emulator may carry a 1S state).
MAX1704X_2S_V: Final[Range] = (2.5, 2 * 4.5)
#: SOC register: high byte %, up to 255.996 % raw (MAX1704x datasheets, SOC register). A gauge
#: may read slightly above 100 % at end of charge; 105 % is the wakebench margin (also
#: hal.chips.base.SOC_PLAUSIBLE_MAX_PCT); 0xFF.. (≈ 256 %) is garbage.
MAX1704X_SOC_PCT: Final[Range] = (0.0, 105.0)
#: CRATE %/h the cell can really see: 2C (200 %/h) charge or discharge is beyond any Pi UPS
#: (wakebench choice; the register itself spans ±6815 %/h, which garbage reaches: −170 A on a
#: 2500 mAh cell in issue #9).
MAX1704X_CRATE_PCT_PER_H: Final[Range] = (-200.0, 200.0)
#: BQ27441-G1: Voltage() 0-6000 mV is the supported range; the single-cell gauge runs from
#: VDD 2.45-4.5 V (BQ27441-G1 datasheet SLUSBH1, "Recommended Operating Conditions").
BQ27441_V: Final[Range] = (2.45, 4.5)
#: BQ27441-G1 sense resistor 10 mΩ with an SRP-SRN input range of ±125 mV (datasheet,
#: "Coulomb Counter" input voltage range) → ±12.5 A at the recommended sense resistor.
BQ27441_A: Final[Range] = (-12.5, 12.5)
#: BQ27441-G1 operating ambient -40 °C to 85 °C (datasheet "Recommended Operating Conditions").
BQ27441_C: Final[Range] = (-40.0, 85.0)
#: BQ27441 StateOfCharge() is 0..100 % (SparkFun library getter range; TRM SLUUAC9).
BQ27441_SOC_PCT: Final[Range] = (0.0, 100.0)
#: RemainingCapacity / FullChargeCapacity: unsigned mAh; Design Capacity is limited to
#: 8000 mAh in the data memory (TRM SLUUAC9, "Design Capacity" 0-8000 mAh).
BQ27441_MAH: Final[Range] = (0.0, 8000.0)
#: LC709203F: VDD 2.5 V to 5.0 V operating, cell voltage measured 2.5-5.0 V (LC709203F datasheet
#: "Recommended Operating Conditions"); ITE 0-100.0 %; operating -40 °C to 85 °C.
LC709203F_V: Final[Range] = (2.5, 5.0)
LC709203F_SOC_PCT: Final[Range] = (0.0, 100.0)
LC709203F_C: Final[Range] = (-40.0, 85.0)
#: CW2015: VCELL 14-bit, 305 µV/LSB (max ≈ 5.0 V); SOC above 100 % is invalid [K-cw]; the chip
#: runs from the cell, 2.5 V to 4.5 V (CW2015 datasheet, operating VDD).
CW2015_V: Final[Range] = (2.5, 4.5)
CW2015_SOC_PCT: Final[Range] = (0.0, 100.0)
#: INA219 bus-voltage input 0-26 V (INA219 datasheet SBOS448, "Recommended Operating
#: Conditions"); below 2.5 V no Li-ion pack powers a Pi (one cell's discharge cut-off).
INA219_V: Final[Range] = (2.5, 26.0)
#: INA219 shunt full scale at PGA /8: ±320 mV (datasheet Table 4); current = ±FSR / R_shunt.
INA219_SHUNT_FSR_V: Final = 0.320
#: Percent range of a voltage-curve SOC (clamped by the curve itself).
CURVE_SOC_PCT: Final[Range] = (0.0, 100.0)
#: Temperature range accepted from chips that report none (never checked).
_NO_RANGE: Final[Range] = (-math.inf, math.inf)

_PERCENT: Final = 100.0
_MAH_PER_AH: Final = 1000.0


def current_from_charge_rate(rate_pct_per_h: float, capacity_mah: float) -> float:
    """Battery current (A, + charging) from a MAX17048 CRATE (%/h) and the cell capacity (mAh):
    %/h ÷ 100 × mAh = mA, ÷ 1000 = A."""
    return rate_pct_per_h / _PERCENT * capacity_mah / _MAH_PER_AH


@dataclass(frozen=True, slots=True)
class Limits:
    """Plausible range of each quantity a chip reports (SI units, inclusive)."""

    voltage: Range
    soc: Range
    current: Range = _NO_RANGE
    temperature: Range = _NO_RANGE
    capacity: Range = _NO_RANGE
    charge_rate: Range = _NO_RANGE


_COMMON: Final[Mapping[str, ParamKind]] = MappingProxyType({"capacity_mah": float})


def _plain(driver: type[I2CDriver]) -> Callable[[I2CBus, int, Mapping[str, Any]], GaugeDriver]:
    def build(bus: I2CBus, address: int, params: Mapping[str, Any]) -> GaugeDriver:
        made: GaugeDriver = driver(bus=bus, address=address)
        return made
    return build


def _build_lc709203f(bus: I2CBus, address: int, params: Mapping[str, Any]) -> GaugeDriver:
    return LC709203F(bus=bus, address=address, thermistor=bool(params.get("thermistor", False)))


def _build_ina219(bus: I2CBus, address: int, params: Mapping[str, Any]) -> GaugeDriver:
    calibration = WAVESHARE_32V_2A
    if "shunt_ohm" in params or "current_lsb_a" in params:
        calibration = INA219Calibration(
            current_lsb=float(params.get("current_lsb_a", WAVESHARE_32V_2A.current_lsb)),
            shunt_ohms=float(params.get("shunt_ohm", WAVESHARE_32V_2A.shunt_ohms)),
            config=WAVESHARE_32V_2A.config,
        )
    curve = None
    if "soc_empty_v" in params and "soc_full_v" in params:
        curve = LinearSocCurve(float(params["soc_empty_v"]), float(params["soc_full_v"]))
    # host time: the chip converts in real time, and the CNVR stuck check measures that time.
    return INA219(bus=bus, address=address, calibration=calibration, soc_curve=curve,
                  invert_current=bool(params.get("invert_current", False)), clock=chip_time)


def _ina219_params(params: Mapping[str, Any]) -> list[tuple[str, str]]:
    empty, full = params.get("soc_empty_v"), params.get("soc_full_v")
    if (empty is None) != (full is None):
        return [("soc_full_v" if full is None else "soc_empty_v",
                 "soc_empty_v and soc_full_v go together (the linear voltage-to-SoC curve)")]
    if empty is not None and full is not None and not empty < full:
        return [("soc_full_v", f"{full!r} V must be above soc_empty_v ({empty!r} V)")]
    return []


def _ina219_limits(params: Mapping[str, Any]) -> Limits:
    amps = INA219_SHUNT_FSR_V / float(params.get("shunt_ohm", WAVESHARE_32V_2A.shunt_ohms))
    return Limits(voltage=INA219_V, soc=CURVE_SOC_PCT, current=(-amps, amps))


def _crate_current(reading: GaugeReading, params: Mapping[str, Any]) -> GaugeReading:
    capacity = params.get("capacity_mah")
    if reading.current is None and reading.charge_rate is not None and capacity:
        return replace(reading, current=current_from_charge_rate(reading.charge_rate, float(capacity)))
    return reading


def _same(reading: GaugeReading, params: Mapping[str, Any]) -> GaugeReading:
    return reading


@dataclass(frozen=True, slots=True)
class ChipSpec:
    """A supported chip.

    Attributes:
        name: registry key, lowercase part number (``"max17048"``).
        driver: driver class, constructed as ``driver(bus=..., address=...)``.
        emulator: emulator class, constructed with no arguments or a ``BatteryState``.
        addresses: 7-bit addresses the chip can have; the first is its default.
        identity: how :func:`identify` recognises it (for ``wakebench probe`` output).
        identifiable: False when the chip cannot be told apart from a sibling on the bus
            (MAX17044/49 read the same VERSION as MAX17043/48); :func:`identify` skips it.
        measures: signals (DESIGN.md section 2 names) the driver's ``read()`` always yields.
        measures_with: further signals, by the board parameter that enables them.
        params: parameters a board description may give this chip, with their kind (numbers
            are positive, SI units).
        limits: plausible ranges (:class:`Limits`), or a function of the parameters.
        build: driver constructor from ``(bus, address, params)``; None: ``driver(bus=, address=)``.
        complete: fills what the chip measures indirectly (MAX17048 current from CRATE).
        check_params: rules between parameters (INA219: the voltage curve's two ends).
    """

    name: str
    driver: type[I2CDriver]
    emulator: Callable[..., ChipEmulator]
    addresses: tuple[int, ...]
    identity: str
    identifiable: bool = True
    measures: frozenset[str] = frozenset()
    measures_with: Mapping[str, str] = field(default_factory=dict)
    params: Mapping[str, ParamKind] = field(default_factory=lambda: _COMMON)
    limits: Limits | Callable[[Mapping[str, Any]], Limits] = Limits(voltage=_NO_RANGE, soc=_NO_RANGE)
    build: Callable[[I2CBus, int, Mapping[str, Any]], GaugeDriver] | None = None
    complete: Callable[[GaugeReading, Mapping[str, Any]], GaugeReading] = _same
    check_params: Callable[[Mapping[str, Any]], list[tuple[str, str]]] | None = None

    @property
    def default_address(self) -> int:
        """The datasheet default address."""
        return self.addresses[0]

    def measured(self, params: Mapping[str, Any]) -> frozenset[str]:
        """The signals this chip measures with these board parameters."""
        extra = {signal for param, signal in self.measures_with.items() if params.get(param)}
        return self.measures | extra

    def make_driver(self, bus: I2CBus, address: int, params: Mapping[str, Any]) -> GaugeDriver:
        """The chip's driver on ``bus`` at ``address``, configured from board ``params``
        (which :meth:`param_problems` has accepted). No bus I/O."""
        if self.build is not None:
            return self.build(bus, address, params)
        return _plain(self.driver)(bus, address, params)

    def limits_for(self, params: Mapping[str, Any]) -> Limits:
        """Plausible ranges with these board parameters (INA219: the shunt sets the current)."""
        return self.limits(params) if callable(self.limits) else self.limits

    def param_problems(self, params: Mapping[str, Any]) -> list[tuple[str, str]]:
        """``(parameter, what is wrong)`` for each bad board parameter; empty when all are fine."""
        out: list[tuple[str, str]] = []
        for name, value in params.items():
            kind = self.params.get(name)
            if kind is None:
                out.append((name, f"{self.name} takes no parameter {name!r} "
                                  f"(known: {', '.join(sorted(self.params))})"))
            elif kind is bool and not isinstance(value, bool):
                out.append((name, f"{value!r} must be true or false"))
            elif kind is float and (
                isinstance(value, bool) or not isinstance(value, int | float)
                or not math.isfinite(value) or not value > 0
            ):
                out.append((name, f"{value!r} must be a positive number"))
        if self.check_params is not None and not out:
            out += self.check_params(params)
        return out

    def implausible(self, reading: GaugeReading, params: Mapping[str, Any]) -> str | None:
        """Why ``reading`` cannot be true for this chip (the first quantity out of its
        :class:`Limits`, with value and range), or None when every quantity is plausible."""
        lim = self.limits_for(params)
        checks: tuple[tuple[str, float | None, Range, str], ...] = (
            ("voltage", reading.voltage, lim.voltage, "V"),
            ("SOC", reading.soc, lim.soc, "%"),
            ("current", reading.current, lim.current, "A"),
            ("temperature", reading.temperature, lim.temperature, "°C"),
            ("remaining capacity", reading.remaining_capacity, lim.capacity, "mAh"),
            ("full capacity", reading.full_capacity, lim.capacity, "mAh"),
            ("charge rate", reading.charge_rate, lim.charge_rate, "%/h"),
        )
        for what, value, (low, high), unit in checks:
            if value is not None and not (math.isfinite(value) and low <= value <= high):
                return (f"implausible {what} {value:.6g} {unit} from {self.name} at "
                        f"0x{reading.address:02X} (datasheet range {low:g}..{high:g} {unit})")
        return None


_MAX_1S = Limits(voltage=MAX1704X_VDD_V, soc=MAX1704X_SOC_PCT, charge_rate=MAX1704X_CRATE_PCT_PER_H)
_MAX_2S = replace(_MAX_1S, voltage=MAX1704X_2S_V)

# What each driver's read() returns (the read() docstrings in this package): MAX17043/44 and
# CW2015 voltage + SOC; MAX17048/49 add CRATE (charging sign; current with capacity_mah);
# BQ27441 adds AverageCurrent and temperature; LC709203F temperature only with a thermistor;
# INA219 voltage + current, SOC only with a voltage curve.
_SPECS = (
    ChipSpec("max17048", MAX17048, MAX17048Emulator, (0x36,),
             "VERSION 0x08 & 0xFFF0 == 0x0010",
             measures=frozenset({"battery_level", "voltage", "charging"}),
             measures_with={"capacity_mah": "current"}, limits=_MAX_1S, complete=_crate_current),
    ChipSpec("max17049", MAX17049, MAX17049Emulator, (0x36,),
             "VERSION 0x08 & 0xFFF0 == 0x0010 (same as MAX17048)", identifiable=False,
             measures=frozenset({"battery_level", "voltage", "charging"}),
             measures_with={"capacity_mah": "current"}, limits=_MAX_2S, complete=_crate_current),
    ChipSpec("max17043", MAX17043, MAX17043Emulator, (0x36,), "VERSION 0x08 == 0x0003",
             measures=frozenset({"battery_level", "voltage"}), limits=_MAX_1S),
    ChipSpec("max17044", MAX17044, MAX17044Emulator, (0x36,),
             "VERSION 0x08 == 0x0003 (same as MAX17043)", identifiable=False,
             measures=frozenset({"battery_level", "voltage"}), limits=_MAX_2S),
    ChipSpec("bq27441", BQ27441, BQ27441Emulator, (0x55,),
             "Control(DEVICE_TYPE 0x0001) == 0x0421",
             measures=frozenset({"battery_level", "voltage", "current", "temperature", "charging"}),
             limits=Limits(voltage=BQ27441_V, soc=BQ27441_SOC_PCT, current=BQ27441_A,
                           temperature=BQ27441_C, capacity=BQ27441_MAH)),
    ChipSpec("lc709203f", LC709203F, LC709203FEmulator, (0x0B,),
             "IC Version 0x11 read with a valid CRC-8 (SMBus PEC)",
             measures=frozenset({"battery_level", "voltage"}),
             measures_with={"thermistor": "temperature"},
             params=MappingProxyType({**_COMMON, "thermistor": bool}),
             limits=Limits(voltage=LC709203F_V, soc=LC709203F_SOC_PCT, temperature=LC709203F_C),
             build=_build_lc709203f),
    ChipSpec("cw2015", CW2015, CW2015Emulator, (0x62,), "VERSION 0x00 == 0x6F (UNCONFIRMED)",
             measures=frozenset({"battery_level", "voltage"}),
             limits=Limits(voltage=CW2015_V, soc=CW2015_SOC_PCT)),
    # INA219 parameters: ``shunt_ohm`` (shunt resistor), ``current_lsb_a`` (calibration current
    # LSB), ``soc_empty_v`` / ``soc_full_v`` (linear voltage-to-SoC curve, the Waveshare
    # method), ``invert_current`` (shunt wired so charging reads negative).
    ChipSpec("ina219", INA219, INA219Emulator, tuple(range(0x40, 0x50)),
             "CONFIG 0x00 == 0x399F (POR), or CALIBRATION 0x05 write/read-back round-trip",
             measures=frozenset({"voltage", "current", "charging"}),
             measures_with={"soc_empty_v": "battery_level"},
             params=MappingProxyType({**_COMMON, "shunt_ohm": float, "current_lsb_a": float,
                                      "soc_empty_v": float, "soc_full_v": float,
                                      "invert_current": bool}),
             limits=_ina219_limits, build=_build_ina219, check_params=_ina219_params),
)

CHIPS: Mapping[str, ChipSpec] = MappingProxyType({spec.name: spec for spec in _SPECS})


def chip_spec(name: str) -> ChipSpec:
    """The :class:`ChipSpec` called ``name`` (case-insensitive).

    Raises:
        KeyError: unknown chip; the message lists the known ones.
    """
    try:
        return CHIPS[name.lower()]
    except KeyError:
        raise KeyError(f"unknown chip {name!r}; known chips: {', '.join(CHIPS)}") from None


def identify(bus: I2CBus, address: int) -> str | None:
    """Name of the known chip at ``address``, or None when none identifies (or nothing ACKs).

    Tries each identifiable chip whose addresses include ``address``, in registry order, with
    its driver's ``probe()``. Some identity checks write: BQ27441 sends the DEVICE_TYPE control
    subcommand (its documented read protocol), INA219 round-trips its calibration register and
    restores it.

    Raises:
        BusError: the bus failed in a way other than a NACK (EIO, timeout, bus missing).
    """
    for spec in _SPECS:
        if not spec.identifiable or address not in spec.addresses:
            continue
        try:
            if spec.driver(bus=bus, address=address).probe():
                return spec.name
        except BusError as exc:
            if is_nack(exc):
                return None
            raise
    return None
