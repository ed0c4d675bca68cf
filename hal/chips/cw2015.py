"""CellWise CW2015 fuel gauge (address 0x62, 8-bit registers, 16-bit values big-endian).

Source (``/work/shared/reference/pi-hardware.md`` §1): [K-cw] kernel ``cw2015_battery.c``;
UPS-Lite v1.3 vendor script for the quick-start write.

The battery profile (BATINFO 0x10-0x4F) and CONFIG live in the chip's RAM: they survive a
restart of the *driver* and the chip's own restart / quick-start (MODE 0x0F / 0x30), and are
lost when the *chip* loses power, which leaves CONFIG.UFG (profile-update flag) clear. The host
is expected to re-write the profile whenever UFG reads clear [K-cw ``cw_init``: "Battery
profile not present, uploading battery profile"; ``cw_update_profile`` writes BATINFO, sets UFG
and then restarts the gauge "to apply new battery profile", so a restart must keep it].
That the profile is RAM is UNCONFIRMED against the CellWise datasheet text (not in the
reference file); it is what the kernel's re-upload logic and the issue's app note assume.
"""

from __future__ import annotations

from typing import Any, ClassVar

from construct import BitsInteger, BitStruct, Bytes, Flag, Int8ub, Int16ub, Padding

from hal.chips.base import CELL_VOLTAGE_PLAUSIBLE_MAX_V, ByteRegisterFile, I2CDriver
from hal.errors import ChipError
from hal.i2c import I2CBus
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
# The kernel writes the profile in one regmap_raw_write; smbus2 block writes carry ≤ 32 bytes.
PROFILE_CHUNK = 32
MODE_RESTART_MASK = 0x0F          # MODE bits 3:0 all set = restart held [K-cw cw_update_profile]
# CONFIG ATHD (bits 7:3): low-SOC alert threshold in % [K-cw CW2015_ATHD(x) = x << 3]; the
# chip sets RRT_ALERT.ALRT when SOC falls below it (UNCONFIRMED: datasheet, not in the
# reference file).

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
_ATHD_SHIFT = 3                   # CONFIG ATHD bits 7:3 [K-cw]
_ALRT_BIT = 0x80                  # RRT_ALERT bit 15 = bit 7 of its high byte

# VCELL, SOC, RRT_ALERT and CONFIG are adjacent: one 7-byte read also shows UFG.
_BLOCK_START = VCELL.address
_BLOCK_LENGTH = CONFIG.address + CONFIG.size - VCELL.address


class CW2015(I2CDriver):
    """CW2015 fuel gauge (UPS-Lite v1.3).

    :meth:`read` takes **1 transaction**: one 7-byte block read 0x02..0x08 (VCELL, SOC,
    RRT_ALERT, CONFIG). Returns voltage (V) and soc (%). The chip measures no current, so
    charging is None (UPS-Lite reports external power on GPIO4 instead). When the driver has
    a ``profile`` and CONFIG.UFG reads clear (the chip lost power and with it the profile),
    :meth:`read` re-writes the profile at once (:meth:`load_profile`, counted in the
    reading's transactions).

    Args:
        bus: the I²C bus.
        address: 7-bit address (0x62).
        profile: the 64-byte battery profile for BATINFO 0x10-0x4F; None: the chip's own.

    Raises:
        ValueError: ``profile`` is not 64 bytes.
    """

    chip: ClassVar[str] = "cw2015"
    default_address: ClassVar[int] = DEFAULT_ADDRESS

    def __init__(self, *, bus: I2CBus, address: int | None = None,
                 profile: bytes | None = None) -> None:
        super().__init__(bus=bus, address=address)
        if profile is not None and len(profile) != PROFILE_SIZE:
            raise ValueError(f"a CW2015 battery profile is {PROFILE_SIZE} bytes, "
                             f"not {len(profile)}")
        self.profile = None if profile is None else bytes(profile)
        self.profile_loads = 0

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
        if self.profile is not None and not CONFIG.parse_at(block, _BLOCK_START,
                                                             address=self.address).ufg:
            self.load_profile()
        return self._reading(voltage=voltage, soc=min(soc_word, SOC_MAX_PCT))

    def load_profile(self, *, force: bool = False) -> bool:
        """Make sure the chip holds :attr:`profile`, as the kernel's ``cw_init`` does [K-cw].

        Wakes the chip (MODE 0x00), reads CONFIG; when UFG is clear, or the stored profile
        differs (read back in two 32-byte blocks), or ``force``: writes BATINFO (2 block
        writes), sets CONFIG.UFG and restarts the gauge (MODE 0x0F, then 0x00) so the
        profile takes effect. 2-9 transactions. Returns True when it wrote the profile.

        Raises:
            ChipError: the driver has no profile to write.
            BusError: a transaction failed.
        """
        if self.profile is None:
            raise ChipError(f"{self.chip} at 0x{self.address:02X}: no battery profile given "
                            "to the driver, nothing to load")
        self._write_register(MODE, MODE_NORMAL)
        config = self._read_register(CONFIG)
        if config.ufg and not force:
            stored = b"".join(bytes(self._read_block(BATINFO.address + offset, PROFILE_CHUNK))
                              for offset in range(0, PROFILE_SIZE, PROFILE_CHUNK))
            if stored == self.profile:
                return False
        for offset in range(0, PROFILE_SIZE, PROFILE_CHUNK):
            self._transactions += 1
            self.bus.write_i2c_block_data(self.address, BATINFO.address + offset,
                                          list(self.profile[offset: offset + PROFILE_CHUNK]))
        config.ufg = True
        self._write_register(CONFIG, config)
        self._write_register(MODE, MODE_RESTART)
        self._write_register(MODE, MODE_NORMAL)
        self.profile_loads += 1
        return True

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

    Behaviour [K-cw]: VERSION 0x6F; MODE 0x30 quick-start (:attr:`quick_starts`); MODE bits
    3:0 = 1111 holds the gauge in restart (:attr:`restarts`: VCELL/SOC/RRT read 0 until it is
    released and converts again) and **keeps the profile and CONFIG**; 0xC0 sleep (measurements
    freeze until MODE 0x00); CONFIG and the 64-byte profile are writable RAM that only
    :meth:`power_on_reset` (a power cycle of the chip) clears, leaving UFG clear. RRT is
    remaining capacity over discharge current, in minutes (0x1FFF while charging or idle);
    RRT_ALERT.ALRT is set when SOC falls below CONFIG.ATHD % (UNCONFIRMED, see above).
    """

    writable: ClassVar[frozenset[int]] = frozenset(
        {0x06, 0x07, CONFIG.address, MODE.address}
        | set(range(BATINFO.address, BATINFO.address + PROFILE_SIZE)))

    def __init__(self, state: BatteryState | None = None) -> None:
        super().__init__()
        self.quick_starts = 0
        self.restarts = 0
        self.power_cycles = 0
        self._last_soc: float | None = None
        self.power_on_reset()
        if state is not None:
            self.update(state)

    def power_on_reset(self) -> None:
        """A power cycle of the chip: every register, the profile and CONFIG (UFG) cleared."""
        self.image[:] = bytes(256)
        self.store(VERSION, VERSION_EMULATED)
        self._last_soc = None

    def power_cycle(self) -> None:
        """The battery (the chip's supply) is disconnected and reconnected."""
        self.power_cycles += 1
        self.power_on_reset()

    @property
    def profile(self) -> bytes:
        """The 64 bytes of BATINFO the chip holds."""
        return bytes(self.image[BATINFO.address: BATINFO.address + PROFILE_SIZE])

    @property
    def asleep(self) -> bool:
        """True while MODE bits 7:6 select sleep."""
        return self.image[MODE.address] & MODE_SLEEP == MODE_SLEEP

    @property
    def restarting(self) -> bool:
        """True while MODE bits 3:0 hold the gauge in restart."""
        return self.image[MODE.address] & MODE_RESTART_MASK == MODE_RESTART

    def update(self, state: BatteryState) -> None:
        """Encode voltage, SOC and time to empty; nothing while asleep or held in restart.

        Works on raw bytes (CONFIG ATHD bits 7:3, RRT_ALERT ALRT bit 15 and RRT bits 12:0, as
        declared above): a construct parse per field made this ~4× slower.
        """
        if self.asleep or self.restarting:
            return
        soc = min(max(state.soc, 0.0), SOC_MAX_PCT)
        self.store(VCELL, _VCELL_SCALE.saturate(state.voltage))
        self.store(SOC, soc)
        minutes = RRT_MAX_MINUTES
        if state.current < 0:
            # mAh / mA = h; clamp before rounding: a vanishing current means "never empty"
            hours = state.remaining_capacity / (-state.current * 1000.0)
            minutes = round(min(hours * 60.0, float(RRT_MAX_MINUTES)))
        threshold = float(self.image[CONFIG.address] >> _ATHD_SHIFT)
        alert = bool(self.image[RRT_ALERT.address] & _ALRT_BIT) or (
            soc < threshold and (self._last_soc is None or self._last_soc >= threshold))
        word = (_ALRT_BIT << 8 if alert else 0) | minutes
        self.image[RRT_ALERT.address: RRT_ALERT.address + 2] = word.to_bytes(2, "big")
        self._last_soc = soc

    def on_write(self, command: int, data: bytes) -> None:
        """Run MODE commands."""
        if command > MODE.address or command + len(data) <= MODE.address:
            return
        mode = self.load(MODE)
        if mode & MODE_RESTART_MASK == MODE_RESTART:
            self.restarts += 1
            for register in (VCELL, SOC):
                self.store(register, 0.0)
            self.store(RRT_ALERT, {"alrt": False, "rrt": 0})
            self._last_soc = None
        elif mode == MODE_QUICK_START:
            self.quick_starts += 1
            self.store(MODE, MODE_NORMAL)
