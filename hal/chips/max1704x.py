"""Maxim MAX17043/44 and MAX17048/49 fuel gauges (address 0x36, 16-bit big-endian registers).

Sources (keys of ``/work/shared/reference/pi-hardware.md`` §1): [K-max] kernel
``max17040_battery.c``; [AF-max] Adafruit_CircuitPython_MAX1704x; [SF-max] SparkFun MAX1704x
Arduino library. The MAX17044/49 are the 2-cell parts: same map, twice the VCELL LSB.

Register map, scale factors and datasheet constants here, with the drivers (readings, alerts,
sleep, hibernate, the voltage-reset comparator, the NACKed reset); the emulators, which build
exactly these declarations, are in :mod:`hal.chips.max1704x_emulator` (re-exported here).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from construct import BitsInteger, BitStruct, Flag, Int8ub, Int16sb, Int16ub, Padding, Struct

from hal.chips.base import (
    CELL_VOLTAGE_PLAUSIBLE_MAX_V,
    SOC_PLAUSIBLE_MAX_PCT,
    I2CDriver,
)
from hal.errors import BusError
from hal.i2c import is_nack
from hal.readings import GaugeReading
from hal.registers import Field, Register, Scaled

__all__ = [
    "MAX17043",
    "MAX17044",
    "MAX17048",
    "MAX17049",
    "STATUS_FLAGS",
    "MAX17043Emulator",
    "MAX17044Emulator",
    "MAX17048Alerts",
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
_VCELL_SCALE: Scaled = Scaled(Int16ub, VCELL_LSB_V)
_VCELL_SCALE_17049: Scaled = Scaled(Int16ub, VCELL_LSB_V_17049)
_VCELL12_SCALE: Scaled = Scaled(BitsInteger(12), VCELL12_LSB_V)
_VCELL12_SCALE_17044: Scaled = Scaled(BitsInteger(12), VCELL12_LSB_V_17044)
_SOC_SCALE: Scaled = Scaled(Int16ub, SOC_LSB_PCT)
_CRATE_SCALE: Scaled = Scaled(Int16sb, CRATE_LSB_PCT_PER_H)

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
CONFIG_RAW: Register[int] = Register(0x0C, Int16ub, "CONFIG")
STATUS_RAW: Register[int] = Register(0x1A, Int16ub, "STATUS")
HIBRT_RAW: Register[int] = Register(0x0A, Int16ub, "HIBRT")

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


@dataclass(frozen=True, slots=True)
class MAX17048Alerts:
    """What STATUS and CONFIG say about alerts [DS-48 STATUS, CONFIG].

    Attributes:
        flags: the STATUS flags that are set, by their datasheet names (:data:`STATUS_FLAGS`:
            ``ri`` reset, ``vh`` / ``vl`` voltage high / low, ``vr`` voltage reset, ``hd`` SOC
            low, ``sc`` 1 % SOC change).
        alert: CONFIG.ALRT, the ALRT pin asserted.
        voltage_reset_alert: STATUS.EnVr, a voltage reset raises ALRT.
    """

    flags: frozenset[str]
    alert: bool
    voltage_reset_alert: bool


class _ConfigAlerts(I2CDriver):
    """CONFIG-register features both MAX1704x families share: sleep, the empty (SOC low)
    threshold and the ALRT bit [DS-48, DS-43 CONFIG]. Each method is a read-modify-write of
    CONFIG (2 transactions) so RCOMP and the other bits keep their values."""

    def _update_config(self, set_bits: int, clear_bits: int) -> None:
        raw = self._read_register(CONFIG_RAW)
        self._write_register(CONFIG_RAW, (raw & ~clear_bits & 0xFFFF) | set_bits)

    def set_empty_alert(self, percent: int) -> None:
        """ALRT when SOC falls below ``percent`` (1..32 %): CONFIG.ATHD = 32 − percent.

        Raises:
            ValueError: ``percent`` outside 1..32 (the 5-bit ATHD field).
        """
        if not isinstance(percent, int) or not 1 <= percent <= ATHD_BASE_PCT:
            raise ValueError(f"empty alert threshold must be 1..{ATHD_BASE_PCT} %, not {percent!r}")
        self._update_config(ATHD_BASE_PCT - percent, _CONFIG_ATHD)

    def alert_pin(self) -> bool:
        """CONFIG.ALRT: the ALRT pin is asserted; 1 transaction."""
        return bool(self._read_register(CONFIG_RAW) & _CONFIG_ALRT)

    def clear_alert_pin(self) -> None:
        """Release the ALRT pin (CONFIG.ALRT ← 0); 2 transactions."""
        self._update_config(0, _CONFIG_ALRT)

    def sleep(self) -> None:
        """Enter sleep (CONFIG.SLEEP ← 1): conversions and alerts stop [DS-43 Sleep Mode]."""
        self._update_config(_CONFIG_SLEEP, 0)

    def wake(self) -> None:
        """Leave sleep (CONFIG.SLEEP ← 0); 2 transactions."""
        self._update_config(0, _CONFIG_SLEEP)


class MAX17048(_ConfigAlerts):
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
        """Power-on reset (CMD 0xFE ← 0x5400), then VERSION to see the chip back; 2 transactions.

        See :func:`_power_on_reset`. VCELL reads 0 V for ~192 ms afterwards (Adafruit
        MAX1704x issue #16).

        Raises:
            BusError: the chip does not answer after the reset, or the write failed otherwise.
            ChipError: another chip answers VERSION after the reset.
        """
        _power_on_reset(self)

    # -- alerts [DS-48 STATUS, CONFIG, VALRT, VRESET/ID] ------------------------------------

    def read_alerts(self) -> MAX17048Alerts:
        """STATUS flags, the ALRT pin and EnVr; 2 transactions (STATUS, CONFIG)."""
        high = self._read_register(STATUS_RAW) >> 8
        flags = frozenset(name for name, bit in STATUS_FLAGS.items() if high & bit)
        return MAX17048Alerts(flags, self.alert_pin(), bool(high & _STATUS_ENVR))

    def clear_alerts(self, flags: frozenset[str] | None = None) -> None:
        """Clear STATUS ``flags`` (all when None) by writing 0 to them, EnVr kept, then release
        the ALRT pin; 4 transactions. Neither side clears the other on the chip [DS-48 STATUS].

        Raises:
            ValueError: a name that is not in :data:`STATUS_FLAGS`.
        """
        names = frozenset(STATUS_FLAGS) if flags is None else frozenset(flags)
        unknown = sorted(names - set(STATUS_FLAGS))
        if unknown:
            raise ValueError(f"unknown STATUS flag(s) {', '.join(unknown)} (known: {', '.join(STATUS_FLAGS)})")
        mask = sum(STATUS_FLAGS[name] for name in names) << 8
        raw = self._read_register(STATUS_RAW)
        self._write_register(STATUS_RAW, raw & ~mask & 0xFFFF)
        self.clear_alert_pin()

    def set_voltage_alert(self, minimum: float, maximum: float) -> None:
        """STATUS.VL below ``minimum``, VH above ``maximum`` (V, 20 mV steps, 0..5.1 V) [VALRT];
        1 transaction.

        Raises:
            ValueError: outside 0..5.1 V or minimum above maximum.
        """
        if not 0.0 <= minimum <= maximum <= VALRT_MAX_V:
            raise ValueError(f"voltage alert needs 0 <= minimum <= maximum <= {VALRT_MAX_V:g} V, "
                             f"not {minimum!r}..{maximum!r}")
        self._write_register(VALRT, {"min": minimum, "max": maximum})

    def set_soc_change_alert(self, enabled: bool) -> None:
        """STATUS.SC on every 1 % SOC change (CONFIG.ALSC); 2 transactions."""
        self._update_config(_CONFIG_ALSC if enabled else 0, 0 if enabled else _CONFIG_ALSC)

    def set_reset_voltage(self, volts: float, *, comparator_in_hibernate: bool = True) -> None:
        """VRESET (battery-removal threshold, 40 mV steps, 0..5.08 V) and Dis (the analog
        comparator off in hibernate when ``comparator_in_hibernate`` is False); 2 transactions
        (the ID byte is read back and rewritten; the chip ignores writes to it).

        Raises:
            ValueError: outside 0..5.08 V.
        """
        if not 0.0 <= volts <= VRESET_MAX_V:
            raise ValueError(f"reset voltage must be 0..{VRESET_MAX_V:g} V, not {volts!r}")
        current = self._read_register(VRESET_ID)
        self._write_register(VRESET_ID, {"vreset": round(volts / VRESET_LSB_V) * VRESET_LSB_V,
                                         "dis": not comparator_in_hibernate, "id": current.id})

    def set_voltage_reset_alert(self, enabled: bool) -> None:
        """STATUS.EnVr: a battery removal and reinsertion sets VR and raises ALRT; 2
        transactions (STATUS read back so no flag is cleared by the write)."""
        raw = self._read_register(STATUS_RAW)
        bit = _STATUS_ENVR << 8
        self._write_register(STATUS_RAW, raw | bit if enabled else raw & ~bit & 0xFFFF)

    # -- sleep and hibernate [DS-48 Sleep Mode, Hibernate Mode, MODE, HIBRT] ------------------

    def sleep(self) -> None:
        """MODE.EnSleep ← 1, then CONFIG.SLEEP ← 1 (sleep needs both on the MAX17048);
        3 transactions."""
        self._write_register(MODE, {"quick_start": False, "en_sleep": True, "hib_stat": False})
        super().sleep()

    def hibernate(self) -> None:
        """Always hibernate (HIBRT ← 0xFFFF): a conversion every 45 s; 1 transaction."""
        self._write_register(HIBRT_RAW, HIBRT_ALWAYS)

    def disable_hibernate(self) -> None:
        """Never hibernate (HIBRT ← 0x0000): a conversion every 250 ms; 1 transaction."""
        self._write_register(HIBRT_RAW, HIBRT_NEVER)

    def set_hibernate_thresholds(self, rate_pct_per_h: float, activity_v: float) -> None:
        """Hibernate after |CRATE| < ``rate_pct_per_h`` for 6 min; leave on a VCELL step over
        ``activity_v`` [DS-48 HIBRT]; 1 transaction.

        Raises:
            ValueError: outside the byte ranges (0..53.04 %/h, 0..0.31875 V).
        """
        if not 0.0 <= rate_pct_per_h <= 0xFF * HIBRT_HIB_LSB_PCT_PER_H:
            raise ValueError(f"hibernate rate threshold out of 0..{0xFF * HIBRT_HIB_LSB_PCT_PER_H:g} %/h")
        if not 0.0 <= activity_v <= 0xFF * HIBRT_ACT_LSB_V:
            raise ValueError(f"activity threshold out of 0..{0xFF * HIBRT_ACT_LSB_V:g} V")
        self._write_register(HIBRT, {"hib_thr": rate_pct_per_h, "act_thr": activity_v})

    def hibernating(self) -> bool:
        """MODE.HibStat: the chip is in hibernate; 1 transaction."""
        return bool(self._read_register(MODE).hib_stat)


class MAX17049(MAX17048):
    """MAX17049 two-cell variant: VCELL 156.25 µV/LSB [K-max]; same identity as MAX17048."""

    chip: ClassVar[str] = "max17049"
    vcell_register: ClassVar[Register[float]] = VCELL_17049
    cells: ClassVar[int] = 2


class MAX17043(_ConfigAlerts):
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
        """Power-on reset (CMD 0xFE ← 0x5400), then VERSION to see the chip back; 2 transactions.

        The MAX17043 does not ACK this write (see :func:`_power_on_reset`).

        Raises:
            BusError: the chip does not answer after the reset, or the write failed otherwise.
            ChipError: another chip answers VERSION after the reset.
        """
        _power_on_reset(self)


def _power_on_reset(driver: MAX17048 | MAX17043) -> None:
    """CMD 0xFE ← 0x5400 and a VERSION read.

    Both parts reset "when the last bit has been clocked in" and "do not respond with an I2C
    ACK after this command sequence" (MAX17043/44 and MAX17048/49 datasheets, CMD Register;
    Adafruit treats the OSError as success [AF-max]), so a NACK of the write is the expected
    outcome and an ACK (a clone) is accepted too. Because a NACK also means "nothing at this
    address", the chip must then answer VERSION with its own identity, or the reset failed.
    """
    try:
        driver._write_register(CMD, POR_COMMAND)
    except BusError as exc:
        if not is_nack(exc):
            raise
    driver.check_identity()


class MAX17044(MAX17043):
    """MAX17044 two-cell variant: VCELL (raw >> 4) × 2.5 mV [SF-max]."""

    chip: ClassVar[str] = "max17044"
    vcell_register: ClassVar[Register[float]] = VCELL_17044
    cells: ClassVar[int] = 2


# --------------------------------------------------------------------------- emulators
#
# Datasheet behaviour emulated below, with the section each fact comes from:
# [DS-48] MAX17048/MAX17049 datasheet (Maxim, "Micropower 1-Cell/2-Cell Li+ ModelGauge ICs"):
#         Register Summary table; "CONFIG Register", "STATUS Register", "VALRT Register",
#         "HIBRT Register", "MODE Register", "CMD Register", "Hibernate Mode", "Sleep Mode".
# [DS-43] MAX17043/MAX17044 datasheet (Maxim, "Compact, Low-Cost 1S/2S Fuel Gauges with
#         Low-Battery Alert"): "CONFIG Register", "COMMAND Register", "Alert Interrupt",
#         "Sleep Mode".

# Hibernate: the ADC converts every 45 s instead of every 250 ms [DS-48 "Hibernate Mode"].
HIBERNATE_CONVERSION_PERIOD_S = 45.0
# The IC enters hibernate when |CRATE| < HIBRT.HibThr for longer than 6 min [DS-48 "HIBRT Register"].
HIBERNATE_ENTRY_S = 6 * 60.0
HIBRT_ALWAYS = 0xFFFF             # "To always use hibernate mode, set HIBRT = 0xFFFF" [DS-48, AF-max]
HIBRT_NEVER = 0x0000              # "To disable hibernate mode, set HIBRT = 0x0000" [DS-48, AF-max]
# CONFIG.ATHD: empty-alert threshold = 32 − ATHD % (1..32 %, POR 0x1C = 4 %) [DS-48, DS-43 CONFIG].
ATHD_BASE_PCT = 32
# STATUS.SC: "set when SOC changes by at least 1 % if CONFIG.ALSC is set" [DS-48 STATUS]. The
# emulator measures the change from the SOC of the previous SC alert (UNCONFIRMED: the sheet
# does not say whether the chip counts from the last alert or from whole-percent boundaries).
SOC_CHANGE_ALERT_PCT = 1.0

# The emulators' per-conversion checks read these bits straight from the register image (a
# construct parse per check made update() ~8× slower); test_chip_max1704x_datasheet checks
# them against the BitStruct declarations above. Byte addresses are big-endian word halves.
_CONFIG_LOW = CONFIG.address + 1      # SLEEP b7, ALSC b6, ALRT b5, ATHD b4:0
_CONFIG_SLEEP, _CONFIG_ALSC, _CONFIG_ALRT, _CONFIG_ATHD = 0x80, 0x40, 0x20, 0x1F
_MODE_HIGH = MODE.address             # Quick-Start b6, EnSleep b5, HibStat b4 (of the high byte)
_MODE_EN_SLEEP, _MODE_HIB_STAT = 0x20, 0x10
_STATUS_HIGH = STATUS.address         # EnVr b6, SC b5, HD b4, VR b3, VL b2, VH b1, RI b0
_STATUS_SC, _STATUS_HD, _STATUS_VL, _STATUS_VH = 0x20, 0x10, 0x04, 0x02
_STATUS_ENVR, _STATUS_VR, _STATUS_RI = 0x40, 0x08, 0x01
_VRESET_HIGH = VRESET_ID.address      # VRESET b7:1 (40 mV/LSB), Dis b0; the low byte is ID
_VRESET_DIS = 0x01
# VRESET/ID: "For captive batteries, set to 2.5 V. For removable batteries, set to at least
# 300 mV below the application's empty voltage" [DS-48 VRESET/ID]; 7 bits × 40 mV → 0..5.08 V.
VRESET_MAX_V = 0x7F * VRESET_LSB_V
# VALRT MIN/MAX: one byte each × 20 mV → 0..5.1 V [DS-48 VALRT].
VALRT_MAX_V = 0xFF * VALRT_LSB_V
# The alert flags of STATUS (high byte bits 5:0) by the names the datasheet gives them.
STATUS_FLAGS: dict[str, int] = {"ri": _STATUS_RI, "vh": _STATUS_VH, "vl": _STATUS_VL,
                                "vr": _STATUS_VR, "hd": _STATUS_HD, "sc": _STATUS_SC}


# The emulators live in hal.chips.max1704x_emulator (imported here last, so both names work;
# the package's __init__ imports this module first, so the cycle always resolves).
from hal.chips.max1704x_emulator import (  # noqa: E402
    MAX17043Emulator,
    MAX17044Emulator,
    MAX17048Emulator,
    MAX17049Emulator,
)
