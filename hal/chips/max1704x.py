"""Maxim MAX17043/44 and MAX17048/49 fuel gauges (address 0x36, 16-bit big-endian registers).

Sources (keys of ``/work/shared/reference/pi-hardware.md`` §1): [K-max] kernel
``max17040_battery.c``; [AF-max] Adafruit_CircuitPython_MAX1704x; [SF-max] SparkFun MAX1704x
Arduino library. The MAX17044/49 are the 2-cell parts: same map, twice the VCELL LSB.
"""

from __future__ import annotations

from typing import Any, ClassVar

from construct import BitsInteger, BitStruct, Flag, Int8ub, Int16sb, Int16ub, Padding, Struct

from hal.chips.base import (
    CELL_VOLTAGE_PLAUSIBLE_MAX_V,
    SOC_PLAUSIBLE_MAX_PCT,
    ByteRegisterFile,
    I2CDriver,
)
from hal.errors import BusError
from hal.i2c import EmulatedNack, is_nack
from hal.readings import BatteryState, GaugeReading
from hal.registers import Field, Register, Scaled

__all__ = [
    "MAX17043",
    "MAX17044",
    "MAX17048",
    "MAX17049",
    "MAX17043Emulator",
    "MAX17044Emulator",
    "MAX17048Emulator",
    "MAX17049Emulator",
]

DEFAULT_ADDRESS = 0x36  # [SF-max], [AF-max]; fixed, not strappable

# -- scale factors (one per quantity, SI units) ---------------------------------------------
VCELL_LSB_V = 78.125e-6           # MAX17048: 78.125 µV/LSB [K-max 625/8 µV]
VCELL_LSB_V_17049 = 156.25e-6     # MAX17049: 156.25 µV/LSB [K-max 625/4 µV]
VCELL12_LSB_V = 1.25e-3           # MAX17043: (raw >> 4) × 1.25 mV [SF-max]
VCELL12_LSB_V_17044 = 2.5e-3      # MAX17044: (raw >> 4) × 2.5 mV [SF-max]
SOC_LSB_PCT = 1 / 256             # SOC: high byte %, low byte 1/256 % [AF-max]
CRATE_LSB_PCT_PER_H = 0.208       # CRATE: signed, 0.208 %/h, + = charging [AF-max, SF-max]
HIBRT_HIB_LSB_PCT_PER_H = 0.208   # HIBRT high byte HibThr [AF-max]
HIBRT_ACT_LSB_V = 1.25e-3         # HIBRT low byte ActThr [AF-max]
VALRT_LSB_V = 20e-3               # VALRT min/max bytes, 20 mV/LSB [SF-max]
VRESET_LSB_V = 40e-3              # VRESET bits 7:1, 40 mV/LSB [SF-max]

# -- identity -------------------------------------------------------------------------------
VERSION_MASK_17048 = 0xFFF0       # Adafruit checks VERSION & 0xFFF0 == 0x0010 [AF-max]
VERSION_17048 = 0x0010
VERSION_17043 = 0x0003            # "getVersion() returns 0x3" (SparkFun MAX1704x issue #4)

# -- commands -------------------------------------------------------------------------------
POR_COMMAND = 0x5400              # CMD 0xFE: power-on reset [SF-max, AF-max]
POR_COMMAND_SWAPPED = 0x0054      # kernel sends 0x0054 to 17040/41/43/44 [K-max]; accepted too

# -- register map (datasheet bit order, MSB first) --------------------------------------------
_VCELL_SCALE = Scaled(Int16ub, VCELL_LSB_V)
_VCELL_SCALE_17049 = Scaled(Int16ub, VCELL_LSB_V_17049)
_VCELL12_SCALE = Scaled(BitsInteger(12), VCELL12_LSB_V)
_VCELL12_SCALE_17044 = Scaled(BitsInteger(12), VCELL12_LSB_V_17044)
_SOC_SCALE = Scaled(Int16ub, SOC_LSB_PCT)
_CRATE_SCALE = Scaled(Int16sb, CRATE_LSB_PCT_PER_H)

VCELL: Register[float] = Register(0x02, _VCELL_SCALE, "VCELL")
VCELL_17049: Register[float] = Register(0x02, _VCELL_SCALE_17049, "VCELL")
VCELL_17043: Register[float] = Register(0x02, Field(BitStruct("vcell" / _VCELL12_SCALE, Padding(4)), "vcell"),
                       "VCELL")
VCELL_17044: Register[float] = Register(0x02, Field(BitStruct("vcell" / _VCELL12_SCALE_17044, Padding(4)),
                                   "vcell"), "VCELL")
SOC: Register[float] = Register(0x04, _SOC_SCALE, "SOC")
MODE: Register[Any] = Register(0x06, BitStruct(Padding(1), "quick_start" / Flag, "en_sleep" / Flag,
                                "hib_stat" / Flag, Padding(12)), "MODE")
VERSION: Register[int] = Register(0x08, Int16ub, "VERSION")
HIBRT: Register[Any] = Register(0x0A, Struct("hib_thr" / Scaled(Int8ub, HIBRT_HIB_LSB_PCT_PER_H),
                              "act_thr" / Scaled(Int8ub, HIBRT_ACT_LSB_V)), "HIBRT")
CONFIG: Register[Any] = Register(0x0C, BitStruct("rcomp" / BitsInteger(8), "sleep" / Flag, "alsc" / Flag,
                                  "alrt" / Flag, "athd" / BitsInteger(5)), "CONFIG")
VALRT: Register[Any] = Register(0x14, Struct("min" / Scaled(Int8ub, VALRT_LSB_V),
                              "max" / Scaled(Int8ub, VALRT_LSB_V)), "VALRT")
CRATE: Register[float] = Register(0x16, _CRATE_SCALE, "CRATE")
VRESET_ID: Register[Any] = Register(0x18, BitStruct("vreset" / Scaled(BitsInteger(7), VRESET_LSB_V),
                                     "dis" / Flag, "id" / BitsInteger(8)), "VRESET/ID")
STATUS: Register[Any] = Register(0x1A, BitStruct(Padding(1), "en_vr" / Flag, "sc" / Flag, "hd" / Flag,
                                  "vr" / Flag, "vl" / Flag, "vh" / Flag, "ri" / Flag,
                                  Padding(8)), "STATUS")
CMD: Register[int] = Register(0xFE, Int16ub, "CMD")

REGISTERS_17043: tuple[Register[Any], ...] = (VCELL_17043, VCELL_17044, SOC, MODE, VERSION,
                                              CONFIG, CMD)
REGISTERS_17048: tuple[Register[Any], ...] = (VCELL, VCELL_17049, SOC, MODE, VERSION, HIBRT,
                                              CONFIG, VALRT, CRATE, VRESET_ID, STATUS, CMD)

# -- power-on register values --------------------------------------------------------------
CONFIG_POR = 0x971C               # RCOMP 0x97, ATHD 0x1C (4 %) [SF-max]
VALRT_POR = 0x00FF                # [SF-max]
VRESET_POR = 0x96                 # 3.0 V [SF-max]
STATUS_POR = 0x0100               # RI set after power-on reset [SF-max]
ID_EMULATED = 0x0C                # OTP ID observed on a MAX17048 (hideakitai/MAX17048 issue #5)
VERSION_17048_EMULATED = 0x0012   # observed VERSION (hideakitai/MAX17048 issue #5)
HIBRT_POR = 0x8030                # UNCONFIRMED: commonly quoted MAX17048 HIBRT default

_BLOCK_START = VCELL.address      # VCELL and SOC are adjacent: one 4-byte read
_BLOCK_LENGTH = SOC.address + SOC.size - VCELL.address


class MAX17048(I2CDriver):
    """MAX17048 one-cell fuel gauge (also on MAX17049 via :class:`MAX17049`).

    :meth:`read` takes **2 transactions**: one 4-byte block read 0x02..0x05 (VCELL, SOC) and
    one 2-byte read of CRATE 0x16 (a single 22-byte read would cross the write-only MODE and
    reserved registers, whose read behaviour the datasheet does not define).
    Returns voltage (V), soc (%), charge_rate (%/h) and charging = CRATE > 0.
    No current or temperature: the chip measures neither.
    """

    chip: ClassVar[str] = "max17048"
    default_address: ClassVar[int] = DEFAULT_ADDRESS
    vcell_register: ClassVar[Register[float]] = VCELL
    cells: ClassVar[int] = 1

    def check_identity(self) -> None:
        """VERSION 0x08 must read 0x001X (``& 0xFFF0 == 0x0010``) [AF-max]; one transaction.

        Raises:
            ChipError: another VERSION (0x0003 means a MAX17043/44).
            BusError: the read failed.
        """
        version = self._read_register(VERSION)
        if version & VERSION_MASK_17048 != VERSION_17048:
            raise self._identity_error(VERSION, f"0x{version:04X}", "0x001X")

    def read(self) -> GaugeReading:
        """VCELL + SOC in one block read, then CRATE: 2 transactions.

        Raises:
            BusError: a transaction failed (message names address and register).
            ChipError: the values are not plausible (garbage or a clone chip).
        """
        self._begin()
        block = self._read_block(_BLOCK_START, _BLOCK_LENGTH)
        voltage = self.vcell_register.parse_at(block, _BLOCK_START, address=self.address)
        soc = SOC.parse_at(block, _BLOCK_START, address=self.address)
        rate = self._read_register(CRATE)
        self._check_range(self.vcell_register, "cell voltage", voltage, 0.0,
                          CELL_VOLTAGE_PLAUSIBLE_MAX_V * self.cells, "V")
        self._check_range(SOC, "state of charge", soc, 0.0, SOC_PLAUSIBLE_MAX_PCT, "%")
        return self._reading(voltage=voltage, soc=soc, charge_rate=rate, charging=rate > 0)

    def quick_start(self) -> None:
        """Restart the SOC estimate from the present voltage (MODE 0x06 ← 0x4000); 1 transaction."""
        self._write_register(MODE, {"quick_start": True, "en_sleep": False, "hib_stat": False})

    def reset(self) -> None:
        """Power-on reset (CMD 0xFE ← 0x5400); 1 transaction.

        The MAX17048 NACKs this write; that NACK is the expected outcome and is not raised
        (Adafruit treats the OSError as success) [AF-max].
        VCELL reads 0 V for ~192 ms afterwards (Adafruit MAX1704x issue #16).
        """
        try:
            self._write_register(CMD, POR_COMMAND)
        except BusError as exc:
            if not is_nack(exc):
                raise


class MAX17049(MAX17048):
    """MAX17049 two-cell variant: VCELL 156.25 µV/LSB [K-max]; same identity as MAX17048."""

    chip: ClassVar[str] = "max17049"
    vcell_register: ClassVar[Register[float]] = VCELL_17049
    cells: ClassVar[int] = 2


class MAX17043(I2CDriver):
    """MAX17043 one-cell fuel gauge (also MAX17044 via :class:`MAX17044`).

    :meth:`read` takes **1 transaction**: a 4-byte block read 0x02..0x05 (VCELL, SOC).
    Returns voltage (V) and soc (%); the chip has no CRATE, current or temperature.
    """

    chip: ClassVar[str] = "max17043"
    default_address: ClassVar[int] = DEFAULT_ADDRESS
    vcell_register: ClassVar[Register[float]] = VCELL_17043
    cells: ClassVar[int] = 1

    def check_identity(self) -> None:
        """VERSION 0x08 must read 0x0003 (SparkFun MAX1704x issue #4); one transaction.

        Raises:
            ChipError: another VERSION (0x001X means a MAX17048/49).
            BusError: the read failed.
        """
        version = self._read_register(VERSION)
        if version != VERSION_17043:
            raise self._identity_error(VERSION, f"0x{version:04X}", f"0x{VERSION_17043:04X}")

    def read(self) -> GaugeReading:
        """VCELL + SOC in one 4-byte block read: 1 transaction.

        Raises:
            BusError: the transaction failed.
            ChipError: the values are not plausible.
        """
        self._begin()
        block = self._read_block(_BLOCK_START, _BLOCK_LENGTH)
        voltage = self.vcell_register.parse_at(block, _BLOCK_START, address=self.address)
        soc = SOC.parse_at(block, _BLOCK_START, address=self.address)
        self._check_range(self.vcell_register, "cell voltage", voltage, 0.0,
                          CELL_VOLTAGE_PLAUSIBLE_MAX_V * self.cells, "V")
        self._check_range(SOC, "state of charge", soc, 0.0, SOC_PLAUSIBLE_MAX_PCT, "%")
        return self._reading(voltage=voltage, soc=soc)

    def quick_start(self) -> None:
        """MODE 0x06 ← 0x4000; 1 transaction."""
        self._write_register(MODE, {"quick_start": True, "en_sleep": False, "hib_stat": False})

    def reset(self) -> None:
        """Power-on reset, CMD 0xFE ← 0x5400; 1 transaction."""
        self._write_register(CMD, POR_COMMAND)


class MAX17044(MAX17043):
    """MAX17044 two-cell variant: VCELL (raw >> 4) × 2.5 mV [SF-max]."""

    chip: ClassVar[str] = "max17044"
    vcell_register: ClassVar[Register[float]] = VCELL_17044
    cells: ClassVar[int] = 2


# --------------------------------------------------------------------------- emulators


def _word_bytes(*addresses: int) -> frozenset[int]:
    return frozenset(b for a in addresses for b in (a, a + 1))


class MAX17048Emulator(ByteRegisterFile):
    """A MAX17048 register file driven by a battery model.

    Behaviour: POR values (CONFIG 0x971C, VALRT 0x00FF, VRESET 0x96, STATUS RI set, VERSION
    0x0012); MODE 0x4000 quick-start (counted in :attr:`quick_starts`); CMD 0x5400 resets every
    register to POR and **NACKs the write**, as the real chip does [AF-max]; VCELL/SOC read 0
    after a reset until the next :meth:`update`. CRATE is current / full capacity in %/h.
    """

    writable: ClassVar[frozenset[int]] = _word_bytes(0x06, 0x0A, 0x0C, 0x14, 0x18, 0x1A, 0xFE)
    vcell_register: ClassVar[Register[float]] = VCELL
    vcell_scale: ClassVar[Scaled] = _VCELL_SCALE
    version: ClassVar[int] = VERSION_17048_EMULATED

    def __init__(self, state: BatteryState | None = None) -> None:
        super().__init__()
        self.quick_starts = 0
        self.resets = 0
        self.power_on_reset()
        if state is not None:
            self.update(state)

    def power_on_reset(self) -> None:
        """Put every register at its power-on value (VCELL and SOC 0)."""
        self.image[:] = bytes(256)
        self.store(VERSION, self.version)
        self.image[HIBRT.address: HIBRT.address + 2] = HIBRT_POR.to_bytes(2, "big")
        self.image[CONFIG.address: CONFIG.address + 2] = CONFIG_POR.to_bytes(2, "big")
        self.image[VALRT.address: VALRT.address + 2] = VALRT_POR.to_bytes(2, "big")
        self.image[VRESET_ID.address: VRESET_ID.address + 2] = bytes([VRESET_POR, ID_EMULATED])
        self.image[STATUS.address: STATUS.address + 2] = STATUS_POR.to_bytes(2, "big")

    def update(self, state: BatteryState) -> None:
        """Encode voltage, SOC and charge rate (saturating at the registers' full scale)."""
        self.store(self.vcell_register, self.vcell_scale.saturate(state.voltage))
        self.store(SOC, _SOC_SCALE.saturate(state.soc))
        rate = (state.current * 1000.0 / state.full_capacity * 100.0
                if state.full_capacity > 0 else 0.0)  # A → mA; mA / mAh = 1/h; × 100 → %/h
        self.store(CRATE, _CRATE_SCALE.saturate(rate))

    def on_write(self, command: int, data: bytes) -> None:
        """Quick-start on MODE bit 14, power-on reset (then NACK) on CMD 0x5400."""
        if command == MODE.address and self.load(MODE).quick_start:
            self.quick_starts += 1
            self.image[MODE.address: MODE.address + 2] = b"\x00\x00"
        elif command == CMD.address and len(data) >= CMD.size:
            if int.from_bytes(data[:2], "big") == POR_COMMAND:
                self.resets += 1
                self.power_on_reset()
                raise EmulatedNack("MAX17048 resets on CMD 0x5400 and NACKs the write")
            self.image[CMD.address: CMD.address + 2] = b"\x00\x00"


class MAX17049Emulator(MAX17048Emulator):
    """MAX17049: as :class:`MAX17048Emulator` with the 156.25 µV VCELL LSB."""

    vcell_register: ClassVar[Register[float]] = VCELL_17049
    vcell_scale: ClassVar[Scaled] = _VCELL_SCALE_17049


class MAX17043Emulator(ByteRegisterFile):
    """A MAX17043 register file: VCELL 12-bit left-justified, SOC, MODE quick-start, CMD
    reset (0x5400 as the datasheet writes it, or 0x0054 as the kernel sends it [K-max];
    the MAX17043 ACKs it). VERSION reads 0x0003.
    """

    writable: ClassVar[frozenset[int]] = _word_bytes(0x06, 0x0C, 0xFE)
    vcell_register: ClassVar[Register[float]] = VCELL_17043
    vcell_scale: ClassVar[Scaled] = _VCELL12_SCALE

    def __init__(self, state: BatteryState | None = None) -> None:
        super().__init__()
        self.quick_starts = 0
        self.resets = 0
        self.power_on_reset()
        if state is not None:
            self.update(state)

    def power_on_reset(self) -> None:
        """Every register at its power-on value (VCELL and SOC 0)."""
        self.image[:] = bytes(256)
        self.store(VERSION, VERSION_17043)
        self.image[CONFIG.address: CONFIG.address + 2] = CONFIG_POR.to_bytes(2, "big")

    def update(self, state: BatteryState) -> None:
        """Encode voltage and SOC (saturating at full scale)."""
        self.store(self.vcell_register, self.vcell_scale.saturate(state.voltage))
        self.store(SOC, _SOC_SCALE.saturate(state.soc))

    def on_write(self, command: int, data: bytes) -> None:
        """Quick-start on MODE bit 14; power-on reset on CMD 0x5400 / 0x0054."""
        if command == MODE.address and self.load(MODE).quick_start:
            self.quick_starts += 1
            self.image[MODE.address: MODE.address + 2] = b"\x00\x00"
        elif command == CMD.address and len(data) >= CMD.size:
            if int.from_bytes(data[:2], "big") in (POR_COMMAND, POR_COMMAND_SWAPPED):
                self.resets += 1
                self.power_on_reset()
            else:
                self.image[CMD.address: CMD.address + 2] = b"\x00\x00"


class MAX17044Emulator(MAX17043Emulator):
    """MAX17044: as :class:`MAX17043Emulator` with the 2.5 mV VCELL LSB."""

    vcell_register: ClassVar[Register[float]] = VCELL_17044
    vcell_scale: ClassVar[Scaled] = _VCELL12_SCALE_17044
