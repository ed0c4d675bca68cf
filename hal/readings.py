"""Typed readings in SI units, shared by every chip driver and by the boards layer.

Units: V, A (negative = discharging), %, °C, mAh. Fields a chip cannot measure are None.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class GaugeReading:
    """One fuel-gauge / power-monitor reading, taken in as few bus transactions as the chip allows."""

    chip: str
    address: int
    voltage: float | None = None        # V, cell or pack
    soc: float | None = None            # %, 0-100 (chip's own estimate or a voltage curve)
    current: float | None = None        # A, negative while discharging
    temperature: float | None = None    # °C
    charging: bool | None = None        # from current sign or chip flags, None if unknown
    remaining_capacity: float | None = None  # mAh
    full_capacity: float | None = None       # mAh
    charge_rate: float | None = None    # %/h (MAX17048 CRATE), + = charging
    transactions: int = 0               # bus transactions this reading took


@dataclass(frozen=True, slots=True)
class BatteryState:
    """What a battery model tells an emulated chip, which encodes it into its registers."""

    voltage: float          # V at the chip's sense pins (cell, or pack for 2S/3S INA219 boards)
    soc: float              # %, 0-100
    current: float          # A, + = charging, - = discharging
    temperature: float = 25.0    # °C
    remaining_capacity: float = 0.0  # mAh
    full_capacity: float = 0.0       # mAh
