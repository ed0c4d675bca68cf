"""Chip registry: every supported fuel gauge / power monitor, its driver and its emulator.

``CHIPS`` maps a chip name to a :class:`ChipSpec`; :func:`identify` asks the chips whose
default addresses include ``address`` to identify themselves (used by ``wakebench probe``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

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
from hal.errors import BusError
from hal.i2c import I2CBus, is_nack

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
    "LinearSocCurve",
    "MAX17043Emulator",
    "MAX17044Emulator",
    "MAX17048Emulator",
    "MAX17049Emulator",
    "WordRegisterFile",
    "chip_spec",
    "identify",
]


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
    """

    name: str
    driver: type[I2CDriver]
    emulator: Callable[..., ChipEmulator]
    addresses: tuple[int, ...]
    identity: str
    identifiable: bool = True

    @property
    def default_address(self) -> int:
        """The datasheet default address."""
        return self.addresses[0]


_SPECS = (
    ChipSpec("max17048", MAX17048, MAX17048Emulator, (0x36,),
             "VERSION 0x08 & 0xFFF0 == 0x0010"),
    ChipSpec("max17049", MAX17049, MAX17049Emulator, (0x36,),
             "VERSION 0x08 & 0xFFF0 == 0x0010 (same as MAX17048)", identifiable=False),
    ChipSpec("max17043", MAX17043, MAX17043Emulator, (0x36,), "VERSION 0x08 == 0x0003"),
    ChipSpec("max17044", MAX17044, MAX17044Emulator, (0x36,),
             "VERSION 0x08 == 0x0003 (same as MAX17043)", identifiable=False),
    ChipSpec("bq27441", BQ27441, BQ27441Emulator, (0x55,),
             "Control(DEVICE_TYPE 0x0001) == 0x0421"),
    ChipSpec("lc709203f", LC709203F, LC709203FEmulator, (0x0B,),
             "IC Version 0x11 read with a valid CRC-8 (SMBus PEC)"),
    ChipSpec("cw2015", CW2015, CW2015Emulator, (0x62,), "VERSION 0x00 == 0x6F (UNCONFIRMED)"),
    ChipSpec("ina219", INA219, INA219Emulator, tuple(range(0x40, 0x50)),
             "CONFIG 0x00 == 0x399F (POR), or CALIBRATION 0x05 write/read-back round-trip"),
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
