"""CellWise CW2015 fuel gauge (address 0x62, 8-bit registers, 16-bit values big-endian).

Source (``/work/shared/reference/pi-hardware.md`` §1): [K-cw] kernel ``cw2015_battery.c``;
UPS-Lite v1.3 vendor script for the quick-start write.
"""

from __future__ import annotations

from typing import Any, ClassVar

from construct import BitsInteger, BitStruct, Bytes, Flag, Int8ub, Int16ub, Padding

from hal.chips.base import CELL_VOLTAGE_PLAUSIBLE_MAX_V, ByteRegisterFile, I2CDriver
from hal.readings import BatteryState, GaugeReading
from hal.registers import Field, Register, Scaled

__all__ = ["CW2015", "CW2015Emulator"]

DEFAULT_ADDRESS = 0x62  # [K-cw]

# -- scale factors --------------------------------------------------------------------------
VCELL_LSB_V = 305e-6              # VCELL 14-bit, 305 µV/LSB [K-cw] (kernel computes 312/1024 mV)
SOC_LSB_PCT = 1 / 256             # SOC: high byte %, low byte 1/256 % [K-cw]
SOC_MAX_PCT = 100.0               # SOC high byte > 100 is invalid [K-cw]

# -- MODE values [K-cw] ------------------------------------------------------------------------
MODE_NORMAL = 0x00
MODE_SLEEP = 0xC0
MODE_QUICK_START = 0x30
MODE_RESTART = 0x0F

# VERSION register value. UNCONFIRMED: taken from public third-party CW2015 code
# (``#define CW2015_VERSION 0x6F``), not from the kernel or a datasheet.
KNOWN_VERSIONS = frozenset({0x6F})
VERSION_EMULATED = 0x6F
PROFILE_SIZE = 64                 # battery profile 0x10-0x4F [K-cw]

_VCELL_SCALE = Scaled(BitsInteger(14), VCELL_LSB_V)
_SOC_SCALE = Scaled(Int16ub, SOC_LSB_PCT)

VERSION: Register[int] = Register(0x00, Int8ub, "VERSION")
VCELL: Register[float] = Register(0x02, Field(BitStruct(Padding(2), "vcell" / _VCELL_SCALE),
                                              "vcell"), "VCELL")
SOC: Register[float] = Register(0x04, _SOC_SCALE, "SOC")
# bit 15 ALRT per datasheet (unverified in the reference), bits 12:0 minutes to empty [K-cw].
RRT_ALERT: Register[Any] = Register(0x06, BitStruct("alrt" / Flag, Padding(2),
                                                    "rrt" / BitsInteger(13)), "RRT_ALERT")
CONFIG: Register[Any] = Register(0x08, BitStruct("athd" / BitsInteger(5), Padding(1),
                                                 "ufg" / Flag, Padding(1)), "CONFIG")
MODE: Register[int] = Register(0x0A, Int8ub, "MODE")
BATINFO: Register[bytes] = Register(0x10, Bytes(PROFILE_SIZE), "BATINFO")

REGISTERS: tuple[Register[Any], ...] = (VERSION, VCELL, SOC, RRT_ALERT, CONFIG, MODE, BATINFO)

RRT_MAX_MINUTES = (1 << 13) - 1

_BLOCK_START = VCELL.address      # VCELL, SOC, RRT_ALERT are adjacent: one 6-byte read
_BLOCK_LENGTH = RRT_ALERT.address + RRT_ALERT.size - VCELL.address


class CW2015(I2CDriver):
    """CW2015 fuel gauge (UPS-Lite v1.3).

    :meth:`read` takes **1 transaction**: one 6-byte block read 0x02..0x07 (VCELL, SOC,
    RRT_ALERT). Returns voltage (V) and soc (%). The chip measures no current, so charging
    is None (UPS-Lite reports external power on GPIO4 instead).
    """

    chip: ClassVar[str] = "cw2015"
    default_address: ClassVar[int] = DEFAULT_ADDRESS

    def check_identity(self) -> None:
        """VERSION 0x00 must be a known CW2015 version (0x6F, UNCONFIRMED); 1 transaction.

        Raises:
            ChipError: unknown version.
            BusError: the read failed.
        """
        version = self._read_register(VERSION)
        if version not in KNOWN_VERSIONS:
            known = ", ".join(f"0x{v:02X}" for v in sorted(KNOWN_VERSIONS))
            raise self._identity_error(VERSION, f"0x{version:02X}", known)

    def read(self) -> GaugeReading:
        """VCELL + SOC + RRT_ALERT in one block read: 1 transaction.

        Raises:
            BusError: the transaction failed.
            ChipError: SOC above 100 % (the kernel rejects it too) or implausible voltage.
        """
        self._begin()
        block = self._read_block(_BLOCK_START, _BLOCK_LENGTH)
        voltage = self._check_range(VCELL, "cell voltage",
                                    VCELL.parse_at(block, _BLOCK_START, address=self.address),
                                    0.0, CELL_VOLTAGE_PLAUSIBLE_MAX_V, "V")
        soc_word = SOC.parse_at(block, _BLOCK_START, address=self.address)
        self._check_range(SOC, "state of charge (high byte)", float(int(soc_word)), 0.0,
                          SOC_MAX_PCT, "%")
        return self._reading(voltage=voltage, soc=min(soc_word, SOC_MAX_PCT))

    def time_to_empty(self) -> float:
        """RRT_ALERT bits 12:0 in seconds (the chip counts minutes); 1 transaction."""
        return float(self._read_register(RRT_ALERT).rrt * 60)

    def quick_start(self) -> None:
        """MODE 0x0A ← 0x30 (UPS-Lite v1.3 does this at start); 1 transaction."""
        self._write_register(MODE, MODE_QUICK_START)

    def wake(self) -> None:
        """MODE 0x0A ← 0x00 (normal); 1 transaction."""
        self._write_register(MODE, MODE_NORMAL)


class CW2015Emulator(ByteRegisterFile):
    """A CW2015 driven by a battery model.

    Behaviour: VERSION 0x6F; MODE 0x30 quick-start (:attr:`quick_starts`), 0x0F restart
    (power-on values: VCELL/SOC 0, CONFIG UFG clear), 0xC0 sleep (measurements freeze until
    MODE 0x00); CONFIG and the 64-byte profile are writable; RRT is remaining capacity over
    discharge current, in minutes (0x1FFF while charging or idle).
    """

    writable: ClassVar[frozenset[int]] = frozenset(
        {0x06, 0x07, CONFIG.address, MODE.address}
        | set(range(BATINFO.address, BATINFO.address + PROFILE_SIZE)))

    def __init__(self, state: BatteryState | None = None) -> None:
        super().__init__()
        self.quick_starts = 0
        self.restarts = 0
        self.power_on_reset()
        if state is not None:
            self.update(state)

    def power_on_reset(self) -> None:
        """Every register at its power-on value."""
        self.image[:] = bytes(256)
        self.store(VERSION, VERSION_EMULATED)

    @property
    def asleep(self) -> bool:
        """True while MODE bits 7:6 select sleep."""
        return self.load(MODE) & MODE_SLEEP == MODE_SLEEP

    def update(self, state: BatteryState) -> None:
        """Encode voltage, SOC and time to empty; nothing while asleep."""
        if self.asleep:
            return
        self.store(VCELL, _VCELL_SCALE.saturate(state.voltage))
        self.store(SOC, min(max(state.soc, 0.0), SOC_MAX_PCT))
        minutes = RRT_MAX_MINUTES
        if state.current < 0:
            # mAh / mA = h; clamp before rounding: a vanishing current means "never empty"
            hours = state.remaining_capacity / (-state.current * 1000.0)
            minutes = round(min(hours * 60.0, float(RRT_MAX_MINUTES)))
        alert = self.load(RRT_ALERT).alrt
        self.store(RRT_ALERT, {"alrt": alert, "rrt": minutes})

    def on_write(self, command: int, data: bytes) -> None:
        """Run MODE commands."""
        if command > MODE.address or command + len(data) <= MODE.address:
            return
        mode = self.load(MODE)
        if mode == MODE_RESTART:
            self.restarts += 1
            self.power_on_reset()
        elif mode == MODE_QUICK_START:
            self.quick_starts += 1
            self.store(MODE, MODE_NORMAL)
