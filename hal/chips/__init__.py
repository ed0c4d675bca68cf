"""Supported fuel gauges / power monitors: drivers, emulators and the chip registry.

``CHIPS`` (:mod:`hal.chips.registry`) maps a chip name to a :class:`ChipSpec`: addresses,
identity, what it measures, its board parameters, a driver constructor and its plausible
ranges. :func:`identify` asks the chips whose default addresses include ``address`` to
identify themselves (used by ``wakebench probe``).
"""

from __future__ import annotations

from hal.chips.base import ByteRegisterFile, ChipEmulator, GaugeDriver, I2CDriver, WordRegisterFile
from hal.chips.bq27441 import BQ27441, BQ27441Emulator
from hal.chips.cw2015 import CW2015, CW2015Emulator
from hal.chips.ina219 import (
    INA219,
    WAVESHARE_32V_2A,
    WAVESHARE_UPS_HAT_B,
    WAVESHARE_UPS_HAT_C,
    INA219Calibration,
    INA219Emulator,
    LinearSocCurve,
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
from hal.chips.registry import CHIPS, ChipSpec, Limits, chip_spec, current_from_charge_rate, identify

__all__ = [
    "BQ27441",
    "CHIPS",
    "CW2015",
    "INA219",
    "LC709203F",
    "MAX17043",
    "MAX17044",
    "MAX17048",
    "MAX17049",
    "WAVESHARE_32V_2A",
    "WAVESHARE_UPS_HAT_B",
    "WAVESHARE_UPS_HAT_C",
    "BQ27441Emulator",
    "ByteRegisterFile",
    "CW2015Emulator",
    "ChipEmulator",
    "ChipSpec",
    "GaugeDriver",
    "I2CDriver",
    "INA219Calibration",
    "INA219Emulator",
    "LC709203FEmulator",
    "Limits",
    "LinearSocCurve",
    "MAX17043Emulator",
    "MAX17044Emulator",
    "MAX17048Emulator",
    "MAX17049Emulator",
    "WordRegisterFile",
    "chip_spec",
    "current_from_charge_rate",
    "identify",
]
