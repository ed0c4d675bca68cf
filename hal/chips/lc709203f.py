"""ON Semiconductor LC709203F fuel gauge (address 0x0B, 16-bit little-endian words + CRC-8).

Sources (``/work/shared/reference/pi-hardware.md`` §1): [AF-lc] Adafruit_CircuitPython_LC709203F;
vendor kernel driver ``lc709203f_battery.c`` (flir-cx/linux-pingu54). Every transfer carries a
CRC-8 (poly 0x07, init 0) over the whole frame including address bytes, which is exactly SMBus
PEC, so the driver turns on ``bus.pec`` and uses word transfers. On adapters without
``I2C_FUNC_SMBUS_PEC`` it reads the PEC byte itself with an I²C block read and checks it, as
Adafruit does. Each command is one register: no auto-increment, one word per transaction.
"""

from __future__ import annotations

import errno
from typing import Any, ClassVar

from construct import Int16ul

from hal.chips.base import (
    CELL_VOLTAGE_PLAUSIBLE_MAX_V,
    TEMPERATURE_PLAUSIBLE_C,
    I2CDriver,
    WordRegisterFile,
)
from hal.errors import BusError, ChipError
from hal.i2c import I2CBus, I2CFunc, bus_error, smbus_pec
from hal.readings import BatteryState, GaugeReading
from hal.registers import Register, Scaled

__all__ = ["LC709203F", "LC709203FEmulator"]

DEFAULT_ADDRESS = 0x0B  # [AF-lc]

# -- scale factors --------------------------------------------------------------------------
VOLTAGE_LSB_V = 1e-3              # Cell Voltage 0x09: mV [AF-lc]
RSOC_LSB_PCT = 1.0                # RSOC 0x0D: % [AF-lc]
ITE_LSB_PCT = 0.1                 # ITE 0x0F: 0.1 % [AF-lc]
TEMPERATURE_LSB_K = 0.1           # Cell Temperature 0x08: 0.1 K [AF-lc]
KELVIN_OFFSET_C = -273.15
SOC_MAX_PCT = 100.0               # RSOC/ITE are 0..100 % [AF-lc]

# -- command values [AF-lc] ---------------------------------------------------------------
INITIAL_RSOC_COMMAND = 0xAA55     # write to 0x07: restart the RSOC estimate
POWER_MODE_OPERATIONAL = 1
POWER_MODE_SLEEP = 2
STATUS_I2C_TEMPERATURE = 0        # Status Bit 0x16: temperature written by the host
STATUS_THERMISTOR = 1             # Status Bit 0x16: temperature from the thermistor
# APA 0x0B pack-size codes from the reference table (mAh → code) [AF-lc].
APA_BY_CAPACITY_MAH = {100: 0x08, 1000: 0x19, 2000: 0x2D, 3000: 0x36}

# Emulator power-on values. UNCONFIRMED: neither reference gives them; chosen to look sane.
IC_VERSION_EMULATED = 0x2717      # UNCONFIRMED placeholder IC version
TEMPERATURE_POR_C = 25.0          # UNCONFIRMED: host-mode temperature before the host writes
# Alarm Low RSOC 0x13 (%) and Alarm Low Cell Voltage 0x14 (mV): ALARMB goes low while RSOC /
# the cell voltage is below the value; 0 disables (LC709203F datasheet, Alarm Low RSOC / Alarm
# Low Cell Voltage; Adafruit "Value of 0 disables the alarm" [AF-lc]). POR values 8 % and
# 0 mV: UNCONFIRMED (datasheet register table, not in the reference file).
ALARM_LOW_RSOC_POR_PCT = 8.0
ALARM_LOW_VOLTAGE_POR_V = 0.0

_VOLTAGE_SCALE = Scaled(Int16ul, VOLTAGE_LSB_V)
_RSOC_SCALE = Scaled(Int16ul, RSOC_LSB_PCT)
_ITE_SCALE = Scaled(Int16ul, ITE_LSB_PCT)
_TEMPERATURE_SCALE = Scaled(Int16ul, TEMPERATURE_LSB_K, KELVIN_OFFSET_C)

BEFORE_RSOC: Register[int] = Register(0x04, Int16ul, "Before RSOC")
THERMISTOR_B: Register[int] = Register(0x06, Int16ul, "Thermistor B")
INITIAL_RSOC: Register[int] = Register(0x07, Int16ul, "Initial RSOC")
CELL_TEMPERATURE: Register[float] = Register(0x08, _TEMPERATURE_SCALE, "Cell Temperature")
CELL_VOLTAGE: Register[float] = Register(0x09, _VOLTAGE_SCALE, "Cell Voltage")
CURRENT_DIRECTION: Register[int] = Register(0x0A, Int16ul, "Current Direction")
APA: Register[int] = Register(0x0B, Int16ul, "APA")
APT: Register[int] = Register(0x0C, Int16ul, "APT")
RSOC: Register[float] = Register(0x0D, _RSOC_SCALE, "RSOC")
ITE: Register[float] = Register(0x0F, _ITE_SCALE, "ITE")
IC_VERSION: Register[int] = Register(0x11, Int16ul, "IC Version")
BATTERY_PROFILE: Register[int] = Register(0x12, Int16ul, "Change Of The Parameter")
ALARM_LOW_RSOC: Register[float] = Register(0x13, _RSOC_SCALE, "Alarm Low RSOC")
ALARM_LOW_VOLTAGE: Register[float] = Register(0x14, _VOLTAGE_SCALE, "Alarm Low Cell Voltage")
POWER_MODE: Register[int] = Register(0x15, Int16ul, "IC Power Mode")
STATUS_BIT: Register[int] = Register(0x16, Int16ul, "Status Bit")
NUMBER_OF_PARAMETER: Register[int] = Register(0x1A, Int16ul, "Number of The Parameter")

REGISTERS: tuple[Register[Any], ...] = (
    BEFORE_RSOC, THERMISTOR_B, INITIAL_RSOC, CELL_TEMPERATURE, CELL_VOLTAGE, CURRENT_DIRECTION,
    APA, APT, RSOC, ITE, IC_VERSION, BATTERY_PROFILE, ALARM_LOW_RSOC, ALARM_LOW_VOLTAGE,
    POWER_MODE, STATUS_BIT, NUMBER_OF_PARAMETER,
)


class LC709203F(I2CDriver):
    """LC709203F fuel gauge (Adafruit 4712).

    :meth:`read` takes **2 transactions** (word reads with PEC): Cell Voltage 0x09 and ITE
    0x0F (0.1 % resolution; RSOC 0x0D is the same estimate in whole %); **3** with
    ``thermistor=True``, adding Cell Temperature 0x08. In host-temperature mode the chip's
    temperature is whatever the host wrote, so it is not reported. Returns voltage (V),
    soc (%) and, with a thermistor, temperature (°C). The chip measures no current.

    Args:
        bus: the I²C bus.
        address: 7-bit address (0x0B).
        thermistor: a thermistor is fitted and Status Bit 0x16 is set to thermistor mode.
    """

    chip: ClassVar[str] = "lc709203f"
    default_address: ClassVar[int] = DEFAULT_ADDRESS

    def __init__(self, *, bus: I2CBus, address: int | None = None,
                 thermistor: bool = False) -> None:
        super().__init__(bus=bus, address=address)
        self.thermistor = thermistor

    # -- PEC-framed word transfers ----------------------------------------------------------

    def _native_pec(self) -> bool:
        return bool(self.bus.funcs & I2CFunc.I2C_FUNC_SMBUS_PEC)

    def _read_word(self, register: Register[Any]) -> Any:
        """One PEC-checked word read (1 transaction)."""
        self._transactions += 1
        if self._native_pec():
            previous = self.bus.pec
            self.bus.pec = True
            try:
                word = self.bus.read_word_data(self.address, register.address)
            finally:
                self.bus.pec = previous
            return register.parse(word.to_bytes(2, "little"), address=self.address)
        low, high, pec = self.bus.read_i2c_block_data(self.address, register.address, 3)
        frame = [self.address << 1, register.address, (self.address << 1) | 1, low, high]
        if smbus_pec(frame) != pec:
            raise bus_error(errno.EBADMSG, repr(self.bus), "read_i2c_block_data", self.address,
                            register.address, f"CRC-8 0x{pec:02X} != 0x{smbus_pec(frame):02X}")
        return register.parse(bytes([low, high]), address=self.address)

    def _write_word(self, register: Register[Any], value: Any) -> None:
        """One PEC-framed word write (1 transaction)."""
        self._transactions += 1
        data = register.build(value)
        if self._native_pec():
            previous = self.bus.pec
            self.bus.pec = True
            try:
                self.bus.write_word_data(self.address, register.address,
                                         int.from_bytes(data, "little"))
            finally:
                self.bus.pec = previous
            return
        pec = smbus_pec([self.address << 1, register.address, *data])
        self.bus.write_i2c_block_data(self.address, register.address, [*data, pec])

    # -- API ------------------------------------------------------------------------------------

    def check_identity(self) -> None:
        """IC Version 0x11 must read back with a valid CRC-8 (a chip without PEC fails it);
        1 transaction.

        Raises:
            ChipError: the version word is 0x0000 or 0xFFFF (no LC709203F answers that).
            BusError: the read failed or its CRC did not match (not an LC709203F).
        """
        try:
            version = self._read_word(IC_VERSION)
        except BusError as exc:
            if exc.errno == errno.EBADMSG:
                raise ChipError(f"0x{self.address:02X} register {IC_VERSION} has no valid CRC-8: "
                                f"not an LC709203F ({exc.strerror})") from exc
            raise
        if version in (0x0000, 0xFFFF):
            raise self._identity_error(IC_VERSION, f"0x{version:04X}", "an IC version")

    def ic_version(self) -> int:
        """IC Version 0x11; 1 transaction."""
        return int(self._read_word(IC_VERSION))

    def configure(self, *, pack_capacity_mah: int | None = None, profile: int | None = None,
                  thermistor_b: int | None = None) -> None:
        """Wake the chip and set it up as Adafruit's ``__init__`` does; 1-4 transactions.

        Writes IC Power Mode 0x15 = operational, then optionally APA 0x0B (pack size code from
        :data:`APA_BY_CAPACITY_MAH`), Change Of The Parameter 0x12 (battery profile 0/1) and
        Status Bit 0x16 (thermistor mode when ``thermistor=True``) plus Thermistor B 0x06.

        Raises:
            ChipError: ``pack_capacity_mah`` has no known APA code.
            BusError: a write failed.
        """
        self._write_word(POWER_MODE, POWER_MODE_OPERATIONAL)
        if pack_capacity_mah is not None:
            if pack_capacity_mah not in APA_BY_CAPACITY_MAH:
                raise ChipError(f"LC709203F at 0x{self.address:02X} register {APA}: no APA code "
                                f"for {pack_capacity_mah} mAh; known: "
                                f"{sorted(APA_BY_CAPACITY_MAH)}")
            self._write_word(APA, APA_BY_CAPACITY_MAH[pack_capacity_mah])
        if profile is not None:
            self._write_word(BATTERY_PROFILE, profile)
        if self.thermistor:
            if thermistor_b is not None:
                self._write_word(THERMISTOR_B, thermistor_b)
            self._write_word(STATUS_BIT, STATUS_THERMISTOR)

    def initial_rsoc(self) -> None:
        """Restart the RSOC estimate (0x07 ← 0xAA55); 1 transaction."""
        self._write_word(INITIAL_RSOC, INITIAL_RSOC_COMMAND)

    def read(self) -> GaugeReading:
        """Cell Voltage + ITE (+ Cell Temperature with a thermistor): 2 (3) transactions.

        Raises:
            BusError: a transaction failed or its CRC-8 did not match.
            ChipError: the values are not plausible.
        """
        self._begin()
        voltage = self._check_range(CELL_VOLTAGE, "cell voltage", self._read_word(CELL_VOLTAGE),
                                    0.0, CELL_VOLTAGE_PLAUSIBLE_MAX_V, "V")
        soc = self._check_range(ITE, "state of charge", self._read_word(ITE), 0.0,
                                SOC_MAX_PCT, "%")
        temperature = None
        if self.thermistor:
            temperature = self._check_range(CELL_TEMPERATURE, "temperature",
                                            self._read_word(CELL_TEMPERATURE),
                                            *TEMPERATURE_PLAUSIBLE_C, "°C")
        return self._reading(voltage=voltage, soc=soc, temperature=temperature)


class LC709203FEmulator(WordRegisterFile):
    """An LC709203F driven by a battery model; **requires PEC** on every transfer.

    Behaviour: every read answers the word plus its CRC-8; writes without a valid CRC-8 are
    NACKed (by :class:`~hal.i2c.EmulatedBus`); Initial RSOC 0xAA55 restarts the estimate
    (:attr:`rsoc_restarts`); IC Power Mode 2 (sleep) freezes the measurements (and the alarm)
    until mode 1; Cell Temperature follows the model only in thermistor mode (Status Bit
    0x16 = 1), otherwise it keeps what the host wrote. :attr:`alarm` is the ALARMB pin: low
    (True) while RSOC is below Alarm Low RSOC 0x13 or the cell voltage below Alarm Low Cell
    Voltage 0x14, each disabled by 0 (level, re-evaluated at each conversion: UNCONFIRMED
    whether the real pin latches).
    """

    pec_required: ClassVar[bool] = True
    writable: ClassVar[frozenset[int]] = frozenset({
        BEFORE_RSOC.address, THERMISTOR_B.address, INITIAL_RSOC.address,
        CELL_TEMPERATURE.address, CURRENT_DIRECTION.address, APA.address, APT.address,
        BATTERY_PROFILE.address, ALARM_LOW_RSOC.address, ALARM_LOW_VOLTAGE.address,
        POWER_MODE.address, STATUS_BIT.address,
    })

    def __init__(self, state: BatteryState | None = None) -> None:
        super().__init__()
        self.rsoc_restarts = 0
        self.known(register.address for register in REGISTERS)
        self.store(IC_VERSION, IC_VERSION_EMULATED)
        self.store(POWER_MODE, POWER_MODE_OPERATIONAL)
        self.store(STATUS_BIT, STATUS_I2C_TEMPERATURE)
        self.store(CELL_TEMPERATURE, TEMPERATURE_POR_C)
        self.store(ALARM_LOW_RSOC, ALARM_LOW_RSOC_POR_PCT)
        self.store(ALARM_LOW_VOLTAGE, ALARM_LOW_VOLTAGE_POR_V)
        self.alarm = False
        if state is not None:
            self.update(state)

    @property
    def asleep(self) -> bool:
        """True in IC Power Mode 2 (sleep)."""
        return self.load(POWER_MODE) == POWER_MODE_SLEEP

    def update(self, state: BatteryState) -> None:
        """Encode voltage, RSOC, ITE (and temperature in thermistor mode); nothing while asleep."""
        if self.asleep:
            return
        voltage = _VOLTAGE_SCALE.saturate(state.voltage)
        self.store(CELL_VOLTAGE, voltage)
        soc = min(max(state.soc, 0.0), SOC_MAX_PCT)
        self.store(RSOC, float(round(soc)))
        low_rsoc, low_voltage = self.load(ALARM_LOW_RSOC), self.load(ALARM_LOW_VOLTAGE)
        self.alarm = bool((low_rsoc > 0 and round(soc) < low_rsoc)
                          or (low_voltage > 0 and voltage < low_voltage))
        self.store(ITE, round(soc / ITE_LSB_PCT) * ITE_LSB_PCT)
        if self.load(STATUS_BIT) == STATUS_THERMISTOR:
            self.store(CELL_TEMPERATURE, _TEMPERATURE_SCALE.saturate(state.temperature))

    def on_write(self, command: int, data: bytes) -> None:
        """Count Initial RSOC restarts (the register itself reads back 0)."""
        if command == INITIAL_RSOC.address:
            if int.from_bytes(data, "little") == INITIAL_RSOC_COMMAND:
                self.rsoc_restarts += 1
            self.store(INITIAL_RSOC, 0)
