"""TI INA219 current/power monitor (0x40-0x4F, 16-bit big-endian registers), as used on the
Waveshare UPS HATs, with a voltage-based state-of-charge curve.

Sources (``/work/shared/reference/pi-hardware.md`` §1, §2): [K-ina] kernel
``drivers/hwmon/ina2xx.c``; Waveshare ``INA219.py`` (``set_calibration_32V_2A``). Each
register is one pointer value; reads do not auto-increment, so one register per transaction.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from construct import BitsInteger, BitStruct, Flag, Int16sb, Int16ub, Padding

from hal.chips.base import I2CDriver, WordRegisterFile
from hal.errors import ChipError
from hal.i2c import I2CBus
from hal.readings import BatteryState, GaugeReading
from hal.registers import Register, Scaled

__all__ = [
    "INA219",
    "WAVESHARE_32V_2A",
    "WAVESHARE_UPS_HAT_B",
    "WAVESHARE_UPS_HAT_C",
    "INA219Calibration",
    "INA219Emulator",
    "LinearSocCurve",
    "chip_time",
    "cnvr_stuck_after_s",
    "conversion_cycle_s",
]

DEFAULT_ADDRESS = 0x40            # A0 = A1 = GND; straps give 0x40-0x4F [K-ina]
ADDRESSES = tuple(range(0x40, 0x50))

# -- scale factors --------------------------------------------------------------------------
SHUNT_LSB_V = 10e-6               # Shunt voltage 0x01: signed, 10 µV/LSB [K-ina]
BUS_LSB_V = 4e-3                  # Bus voltage 0x02: (raw >> 3) × 4 mV [K-ina]
CALIBRATION_NUMERATOR = 0.04096   # cal = trunc(0.04096 / (I_lsb × R_shunt)) [K-ina]
POWER_LSB_PER_CURRENT_LSB = 20    # Power LSB = 20 × current LSB [K-ina]
# Datasheet equations (INA219 datasheet §8.5.1 eq. 4/5; UNCONFIRMED here, not in the
# reference file): CURRENT = SHUNT × CAL / 4096, POWER = CURRENT × BUS / 5000 (raw counts).
CURRENT_DIVISOR = 4096
POWER_DIVISOR = 5000

# -- limits ----------------------------------------------------------------------------------
CONFIG_POR = 0x399F               # CONFIG after power-on reset [K-ina]
BUS_VOLTAGE_MAX_V = 26.0          # INA219 senses bus voltages 0-26 V (datasheet front page)
SHUNT_FULL_SCALE_V = 0.32         # ±320 mV at PGA /8, the widest range (0x3EEF uses it)
# CONFIG PG 00..11: PGA /1 ±40 mV, /2 ±80 mV, /4 ±160 mV, /8 ±320 mV (INA219 datasheet, PG table).
PGA_FULL_SCALE_V = (0.04, 0.08, 0.16, 0.32)
# CONFIG BRNG 0: 16 V full scale, 1: 32 V (INA219 datasheet, Configuration Register).
BUS_FULL_SCALE_V = (16.0, 32.0)
# CONFIG MODE (INA219 datasheet, Mode Settings table): 000 power-down, 001 shunt triggered,
# 010 bus triggered, 011 shunt+bus triggered, 100 ADC off, 101 shunt continuous,
# 110 bus continuous, 111 shunt+bus continuous.
MODE_POWER_DOWN = 0b000
MODE_ADC_OFF = 0b100
IDLE_MODES = frozenset({MODE_POWER_DOWN, MODE_ADC_OFF})
CONTINUOUS_MODES = frozenset({0b101, 0b110, 0b111})
SHUNT_MODES = frozenset({0b001, 0b011, 0b101, 0b111})
BUS_MODES = frozenset({0b010, 0b011, 0b110, 0b111})
_BUS_SHIFT, _CNVR, _OVF = 3, 0b10, 0b01  # BUS: voltage bits 15:3, CNVR bit 1, OVF bit 0 [K-ina]
# CONFIG BADC bits 10:7 and SADC bits 6:3 → conversion time in s (INA219 datasheet SBOS448,
# "ADC Settings" table in the Configuration Register section, typical times): 0X00 9-bit 84 µs,
# 0X01 10-bit 148 µs, 0X10 11-bit 276 µs, 0X11 and 1000 12-bit 532 µs, 1001..1111 12-bit
# averages of 2..128 samples, 1.06 ms .. 68.10 ms.
ADC_CONVERSION_S: dict[int, float] = {
    0b0000: 84e-6, 0b0001: 148e-6, 0b0010: 276e-6, 0b0011: 532e-6,
    0b0100: 84e-6, 0b0101: 148e-6, 0b0110: 276e-6, 0b0111: 532e-6,
    0b1000: 532e-6, 0b1001: 1.06e-3, 0b1010: 2.13e-3, 0b1011: 4.26e-3,
    0b1100: 8.51e-3, 0b1101: 17.02e-3, 0b1110: 34.05e-3, 0b1111: 68.10e-3,
}
# A stuck (frozen) INA219: in a continuous mode CNVR sets at the end of every conversion cycle
# and reading POWER clears it (datasheet "Bus Voltage Register", CNVR). A read that finds CNVR
# still clear this long after the read that cleared it means no conversion completed: the
# registers are frozen. Wakebench bounds: twice the configured cycle (the table's times are
# typical, not maximum), and never less than 0.1 s (host scheduling jitter).
CNVR_STUCK_CYCLES = 2.0
CNVR_STUCK_MIN_S = 0.1

# -- register map ------------------------------------------------------------------------------
_SHUNT_SCALE = Scaled(Int16sb, SHUNT_LSB_V)
_BUS_SCALE = Scaled(BitsInteger(13), BUS_LSB_V)

CONFIG: Register[Any] = Register(0x00, BitStruct(
    "rst" / Flag, Padding(1), "brng" / BitsInteger(1), "pg" / BitsInteger(2),
    "badc" / BitsInteger(4), "sadc" / BitsInteger(4), "mode" / BitsInteger(3)), "CONFIG")
CONFIG_RAW: Register[int] = Register(0x00, Int16ub, "CONFIG")
SHUNT_VOLTAGE: Register[float] = Register(0x01, _SHUNT_SCALE, "SHUNT")
BUS_VOLTAGE: Register[Any] = Register(0x02, BitStruct(
    "voltage" / _BUS_SCALE, Padding(1), "cnvr" / Flag, "ovf" / Flag), "BUS")
POWER: Register[int] = Register(0x03, Int16ub, "POWER")
CURRENT: Register[int] = Register(0x04, Int16sb, "CURRENT")
# Bit 0 of CALIBRATION is not implemented and reads 0 (INA219 datasheet Calibration Register;
# UNCONFIRMED here, not in the reference file).
CALIBRATION: Register[int] = Register(0x05, Int16ub, "CALIBRATION")
CALIBRATION_UNUSED_BITS = 0x0001
# XOR-ed into the configured calibration by the identity round-trip, so the value written
# always differs from what the chip held (bit 0 clear, as the chip keeps it).
_PROBE_PATTERN = 0x5554

REGISTERS: tuple[Register[Any], ...] = (CONFIG, CONFIG_RAW, SHUNT_VOLTAGE, BUS_VOLTAGE, POWER,
                                        CURRENT, CALIBRATION)


@dataclass(frozen=True, slots=True)
class INA219Calibration:
    """CONFIG and CALIBRATION values for a shunt, and the LSBs they imply.

    Attributes:
        current_lsb: A per CURRENT count.
        shunt_ohms: the shunt resistor, Ω.
        config: the CONFIG word to write.
        fixed_calibration: a vendor's hard-coded CALIBRATION, when it differs from the formula.
    """

    current_lsb: float
    shunt_ohms: float
    config: int
    fixed_calibration: int | None = None

    @property
    def calibration(self) -> int:
        """``trunc(0.04096 / (current_lsb × shunt_ohms))`` [K-ina] unless fixed."""
        if self.fixed_calibration is not None:
            return self.fixed_calibration
        # round() first: 0.04096 / 1e-5 evaluates to 4095.99999... in binary floating point.
        return math.trunc(round(CALIBRATION_NUMERATOR / (self.current_lsb * self.shunt_ohms), 6))

    @property
    def power_lsb(self) -> float:
        """W per POWER count: 20 × current LSB [K-ina]."""
        return POWER_LSB_PER_CURRENT_LSB * self.current_lsb


# Waveshare set_calibration_32V_2A: 0.1 mA/LSB, 0.1 Ω (cal 4096), 2 mW/LSB, CONFIG 0x3EEF
# = 32 V range, PGA /8 (±320 mV), 12-bit ×32 averaging, continuous shunt+bus [Waveshare INA219.py].
WAVESHARE_32V_2A = INA219Calibration(current_lsb=0.1e-3, shunt_ohms=0.1, config=0x3EEF)


@dataclass(frozen=True, slots=True)
class LinearSocCurve:
    """Voltage → SOC: ``(V − empty) / (full − empty) × 100``, clamped to 0..100 %."""

    empty_v: float
    full_v: float
    source: str = ""

    def __call__(self, voltage: float) -> float:
        """SOC in % for ``voltage`` in V."""
        soc = (voltage - self.empty_v) / (self.full_v - self.empty_v) * 100.0
        return min(max(soc, 0.0), 100.0)


WAVESHARE_UPS_HAT_B = LinearSocCurve(6.0, 8.4, "Waveshare UPS HAT (B), 2S: (V−6)/2.4×100")
WAVESHARE_UPS_HAT_C = LinearSocCurve(3.0, 4.2, "Waveshare UPS HAT (C), 1S: (V−3)/1.2×100")


def chip_time() -> float:
    """The host's monotonic seconds: a real INA219 converts in real time, whatever the rig's
    clock does (``--speed``, stepped scenarios), so its CNVR stuck check measures host time.
    The one reason this module reads a host clock (per-file waiver in pyproject.toml)."""
    return time.monotonic()


def conversion_cycle_s(config: int) -> float | None:
    """One continuous conversion cycle (s) of CONFIG ``config``: the shunt and/or bus conversion
    times its MODE runs; None when MODE is not continuous (no CNVR to expect)."""
    mode = config & 0b111
    if mode not in CONTINUOUS_MODES:
        return None
    cycle = 0.0
    if mode in SHUNT_MODES:
        cycle += ADC_CONVERSION_S[(config >> 3) & 0xF]
    if mode in BUS_MODES:
        cycle += ADC_CONVERSION_S[(config >> 7) & 0xF]
    return cycle


def cnvr_stuck_after_s(config: int) -> float | None:
    """How long CNVR may stay clear before the chip counts as stuck, for CONFIG ``config``."""
    cycle = conversion_cycle_s(config)
    return None if cycle is None else max(CNVR_STUCK_CYCLES * cycle, CNVR_STUCK_MIN_S)


class INA219(I2CDriver):
    """INA219 on a UPS board: pack voltage, current and a voltage-curve SOC.

    :meth:`read` takes **3 transactions**: BUS 0x02, SHUNT 0x01 and POWER 0x03 (read only to
    clear CNVR, see below). Current is the shunt
    voltage (10 µV/LSB) over ``calibration.shunt_ohms``, so a chip reset (CALIBRATION back
    to 0, CURRENT reading 0) cannot silently zero it; :meth:`configure` still programs
    CONFIG and CALIBRATION so the chip's own CURRENT/POWER agree (Waveshare 32V_2A values).
    Returns voltage (V), current (A, + = charging as on Waveshare boards, flip with
    ``invert_current``), charging (current > 0) and soc (%) from ``soc_curve`` when given.

    Stuck-register detection (the INA219 is the one supported chip that makes it possible): in a
    continuous MODE the chip sets CNVR in BUS at the end of every conversion and reading POWER
    clears it (datasheet SBOS448, "Bus Voltage Register": CNVR). Each read ends with a POWER
    read, so the next read's CNVR says whether a conversion completed in between. CNVR still
    clear :func:`cnvr_stuck_after_s` (≥ 0.1 s) after the last read that found it set (and
    cleared it) means the registers are frozen: :class:`ChipError`, never a value. Sooner than that, a clear CNVR only
    means no new conversion yet, and the (unchanged) values are returned. The first read has no
    reference and is not checked; a MODE that is not continuous turns the check off. A BUS
    register stuck with CNVR *set* cannot be told from a converting chip.

    Args:
        bus: the I²C bus.
        address: 7-bit address, 0x40-0x4F (Waveshare HAT (B) 0x42, (C) 0x43).
        calibration: CONFIG/CALIBRATION and shunt values.
        soc_curve: voltage → % function, e.g. :data:`WAVESHARE_UPS_HAT_B`; None: no SOC.
        invert_current: the shunt is wired so that charging reads negative.
        clock: seconds, monotonic, for the CNVR stuck check (the chip converts in real time:
            ``time.monotonic`` on hardware; a test's manual clock beside an emulator); None
            turns the check off (and POWER is not read: 2 transactions).
    """

    chip: ClassVar[str] = "ina219"
    default_address: ClassVar[int] = DEFAULT_ADDRESS

    def __init__(self, *, bus: I2CBus, address: int | None = None,
                 calibration: INA219Calibration = WAVESHARE_32V_2A,
                 soc_curve: Callable[[float], float] | None = None,
                 invert_current: bool = False,
                 clock: Callable[[], float] | None = None) -> None:
        super().__init__(bus=bus, address=address)
        self.calibration = calibration
        self.soc_curve = soc_curve
        self.invert_current = invert_current
        self.clock = clock
        self._cnvr_cleared_at: float | None = None

    def configure(self) -> None:
        """Write CONFIG then CALIBRATION; 2 transactions."""
        self._write_register(CONFIG_RAW, self.calibration.config)
        self._write_register(CALIBRATION, self.calibration.calibration)

    def check_identity(self) -> None:
        """CONFIG reads its POR value 0x399F, or CALIBRATION round-trips (written, read back,
        restored); 1 or 5 transactions.

        Raises:
            ChipError: neither holds.
            BusError: a transaction failed.
        """
        if self._read_register(CONFIG_RAW) == CONFIG_POR:
            return
        original = self._read_register(CALIBRATION)
        probe_value = (original ^ _PROBE_PATTERN) & ~CALIBRATION_UNUSED_BITS & 0xFFFF
        self._write_register(CALIBRATION, probe_value)
        echoed = self._read_register(CALIBRATION)
        self._write_register(CALIBRATION, original)
        if echoed != probe_value:
            raise self._identity_error(CALIBRATION, f"0x{echoed:04X} after writing "
                                       f"0x{probe_value:04X}", "the written value")

    def read(self) -> GaugeReading:
        """BUS + SHUNT (+ POWER to clear CNVR when a clock is set): 3 transactions (2).

        Raises:
            BusError: a transaction failed.
            ChipError: a stuck chip (CNVR clear too long, see the class docstring), OVF set
                (shunt beyond the PGA range), bus voltage above 26 V or shunt voltage beyond
                ±320 mV (garbage).
        """
        self._begin()
        bus = self._read_register(BUS_VOLTAGE)
        if self.clock is not None:
            self._check_converting(bool(bus.cnvr), self.clock())
        shunt = self._read_register(SHUNT_VOLTAGE)
        if self.clock is not None:
            self._read_register(POWER)  # clears CNVR: the next read sees only new conversions
            if bus.cnvr or self._cnvr_cleared_at is None:
                self._cnvr_cleared_at = self.clock()  # the last read that saw a conversion
        if bus.ovf:  # "current and power data may be meaningless" (datasheet, OVF)
            raise ChipError(f"{self.chip} at 0x{self.address:02X} register {BUS_VOLTAGE}: OVF "
                            "math-overflow flag set: the shunt voltage is beyond the PGA range "
                            "(CONFIG PG), so the current is unknown")
        voltage = self._check_range(BUS_VOLTAGE, "bus voltage", bus.voltage, 0.0,
                                    BUS_VOLTAGE_MAX_V, "V")
        self._check_range(SHUNT_VOLTAGE, "shunt voltage", shunt, -SHUNT_FULL_SCALE_V,
                          SHUNT_FULL_SCALE_V, "V")
        current = shunt / self.calibration.shunt_ohms * (-1.0 if self.invert_current else 1.0)
        soc = self.soc_curve(voltage) if self.soc_curve is not None else None
        return self._reading(voltage=voltage, current=current, soc=soc, charging=current > 0)

    def _check_converting(self, cnvr: bool, now: float) -> None:
        """Raise :class:`ChipError` when CNVR stayed clear past :func:`cnvr_stuck_after_s`."""
        limit = cnvr_stuck_after_s(self.calibration.config)
        since = self._cnvr_cleared_at
        if cnvr or limit is None or since is None or now - since < limit:
            return
        raise ChipError(f"{self.chip} at 0x{self.address:02X} register {BUS_VOLTAGE}: CNVR "
                        f"(conversion ready) still clear {now - since:.3g} s after the last read "
                        f"that found it set (a conversion cycle takes {conversion_cycle_s(self.calibration.config):.3g} s): "
                        "no conversion completed, the registers are stuck")

    def read_current_register(self) -> float:
        """The chip's own CURRENT 0x04 in A (0 while CALIBRATION is 0); 1 transaction."""
        return self._read_register(CURRENT) * self.calibration.current_lsb

    def read_power_register(self) -> float:
        """The chip's own POWER 0x03 in W (0 while CALIBRATION is 0); 1 transaction."""
        return self._read_register(POWER) * self.calibration.power_lsb


class INA219Emulator(WordRegisterFile):
    """An INA219 measuring a battery pack through a shunt.

    Behaviour, each from the INA219 datasheet (TI SBOS448, "Configuration Register" and its
    PG / BRNG / MODE tables, "Bus Voltage Register" CNVR and OVF, "Power Register"):

    - POR CONFIG 0x399F and CALIBRATION 0; CONFIG bit 15 (RST) resets every register;
      CALIBRATION bit 0 reads 0; CURRENT and POWER read 0 while CALIBRATION is 0 and otherwise
      follow the datasheet equations (recomputed when CALIBRATION is written, as an instant
      conversion would).
    - PGA (CONFIG PG): the shunt voltage is clipped to ±40/80/160/320 mV and an out-of-range
      shunt sets **OVF**; so does a CURRENT beyond ±32767 counts or a POWER beyond 65535
      ("OVF is set when the Power or Current calculations are out of range"). The clipped
      shunt → OVF link is what auto-ranging drivers (pi-ina219) rely on; the sheet words it
      as the calculation being out of range (UNCONFIRMED that a clipped shunt always sets it).
    - BRNG: the bus voltage saturates at 16 V (BRNG 0) or 32 V (BRNG 1) full scale.
    - MODE: 000 power-down and 100 ADC off convert nothing (registers keep the last
      conversion); 001-011 triggered convert once when the mode is written; 101-111 convert at
      every :meth:`update`. Shunt-only / bus-only modes convert only that channel.
    - CNVR is set when a conversion completes, cleared by reading POWER or by writing a
      converting mode into CONFIG (the emulator's conversions take no time, so a mode write
      converts at once and sets it again). OVF is refreshed by every conversion.

    Args:
        state: initial battery state.
        shunt_ohms: the board's shunt (Waveshare UPS HAT (B)/(C): 0.1 Ω).
    """

    writable: ClassVar[frozenset[int]] = frozenset({CONFIG.address, CALIBRATION.address})

    def __init__(self, state: BatteryState | None = None, *, shunt_ohms: float = 0.1) -> None:
        super().__init__()
        self.shunt_ohms = shunt_ohms
        self.resets = 0
        self.conversions = 0
        self._state: BatteryState | None = None
        self._shunt_over_range = False
        self.power_on_reset()
        if state is not None:
            self.update(state)

    def power_on_reset(self) -> None:
        """Every register at its power-on value."""
        self.store(CONFIG_RAW, CONFIG_POR)
        self.store(SHUNT_VOLTAGE, 0.0)
        for register in (POWER, CURRENT, CALIBRATION):
            self.store(register, 0)
        self.store(BUS_VOLTAGE, {"voltage": 0.0, "cnvr": False, "ovf": False})
        self._shunt_over_range = False

    # Conversions work on raw words (a construct parse per field made update() ~4× slower);
    # the field positions are the CONFIG / BUS declarations above, checked by the tests.

    def _word(self, register: Register[Any]) -> int:
        return int.from_bytes(self.words[register.address], "big")

    def _set_word(self, register: Register[Any], raw: int) -> None:
        self.words[register.address] = (raw & 0xFFFF).to_bytes(2, "big")

    @property
    def mode(self) -> int:
        """CONFIG MODE bits 2:0."""
        return self._word(CONFIG_RAW) & 0b111

    @property
    def shunt_full_scale(self) -> float:
        """The PGA range in V, from CONFIG PG (bits 12:11)."""
        return PGA_FULL_SCALE_V[(self._word(CONFIG_RAW) >> 11) & 0b11]

    @property
    def bus_full_scale(self) -> float:
        """The bus range in V, from CONFIG BRNG (bit 13)."""
        return BUS_FULL_SCALE_V[(self._word(CONFIG_RAW) >> 13) & 0b1]

    def update(self, state: BatteryState) -> None:
        """The model's new state: converted at once in a continuous mode, else remembered."""
        self._state = state
        if self.mode in CONTINUOUS_MODES:
            self._convert()

    def _convert(self) -> None:
        """One conversion of the channels MODE selects, then CURRENT, POWER, CNVR and OVF."""
        if self._state is None:
            return
        self.conversions += 1
        mode = self.mode
        bus = self._word(BUS_VOLTAGE)
        if mode in BUS_MODES:
            volts = min(max(self._state.voltage, 0.0), self.bus_full_scale)
            bus = round(volts / BUS_LSB_V) << _BUS_SHIFT | bus & (_CNVR | _OVF)
        if mode in SHUNT_MODES:
            full_scale = self.shunt_full_scale
            shunt = self._state.current * self.shunt_ohms
            self._shunt_over_range = abs(shunt) > full_scale + SHUNT_LSB_V / 2
            self._set_word(SHUNT_VOLTAGE, round(min(max(shunt, -full_scale), full_scale)
                                                / SHUNT_LSB_V))
        self._set_word(BUS_VOLTAGE, bus | _CNVR)
        self._recompute()

    def _recompute(self) -> None:
        calibration = self._word(CALIBRATION)
        shunt_raw = int.from_bytes(self.words[SHUNT_VOLTAGE.address], "big", signed=True)
        bus = self._word(BUS_VOLTAGE)
        current_exact = math.trunc(shunt_raw * calibration / CURRENT_DIVISOR)
        current_raw = min(max(current_exact, -0x8000), 0x7FFF)
        power_exact = math.trunc(abs(current_raw) * (bus >> _BUS_SHIFT) / POWER_DIVISOR)
        power_raw = min(power_exact, 0xFFFF)
        self._set_word(CURRENT, current_raw)
        self._set_word(POWER, power_raw)
        overflow = (self._shunt_over_range or current_raw != current_exact
                    or power_raw != power_exact)
        self._set_word(BUS_VOLTAGE, bus | _OVF if overflow else bus & ~_OVF)

    def read(self, command: int, length: int) -> bytes:
        """See :meth:`WordRegisterFile.read`; reading POWER clears CNVR."""
        data = super().read(command, length)
        if command == POWER.address:
            self._set_word(BUS_VOLTAGE, self._word(BUS_VOLTAGE) & ~_CNVR)
        return data

    def on_write(self, command: int, data: bytes) -> None:
        """RST resets everything; a mode write converts; CALIBRATION drops bit 0 and recomputes."""
        if command == CONFIG.address:
            if self.load(CONFIG).rst:
                self.resets += 1
                self.power_on_reset()
            elif self.mode not in IDLE_MODES:
                self._convert()  # CNVR cleared by the write, set by the (instant) conversion
        elif command == CALIBRATION.address:
            self.store(CALIBRATION, int.from_bytes(data, "big") & ~CALIBRATION_UNUSED_BITS)
            self._recompute()
