"""The ``sim`` board's battery: the shared model of :mod:`wbcommon.battery` plus the
:class:`hal.readings.BatteryState` its emulated gauge encodes.

The model itself (coulomb counting on an injected clock, OCV curve, IR drop) is in
``wbcommon`` so that ``wakebench simulate`` runs the very same one in virtual time.
"""

from __future__ import annotations

from hal.readings import BatteryState
from wbcommon.battery import (
    DEFAULT_CAPACITY_MAH,
    DEFAULT_CHARGE_CURRENT_A,
    DEFAULT_INTERNAL_RESISTANCE_OHM,
    DEFAULT_LOAD_CURRENT_A,
    DEFAULT_TEMPERATURE_C,
    TYPICAL_LI_ION_OCV,
    ClockLike,
    OcvCurve,
    soc_rate,
)
from wbcommon.battery import BatteryModel as _Model

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

_PERCENT = 100.0


class BatteryModel(_Model):
    """:class:`wbcommon.battery.BatteryModel` that can also say what a gauge encodes."""

    def state(self) -> BatteryState:
        """Everything an emulated gauge encodes, at ``clock.now()``."""
        return BatteryState(
            voltage=self.voltage,
            soc=self.soc,
            current=self.current,
            temperature=self.temperature,
            remaining_capacity=self.capacity_mah * self.soc / _PERCENT,
            full_capacity=self.capacity_mah,
        )
