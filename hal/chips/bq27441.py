"""TI BQ27441-G1 fuel gauge (address 0x55, little-endian "standard commands").

Sources (``/work/shared/reference/pi-hardware.md`` §1): [K-bq] kernel ``bq27xxx_battery.c``;
[SF-bq] SparkFun_BQ27441_Arduino_Library. Control() is a two-step protocol: write a 16-bit
subcommand (LSB first) to 0x00, then read the 16-bit result from 0x00.
"""

from __future__ import annotations

from typing import Any, ClassVar

from construct import BitStruct, ByteSwapped, Flag, Int8ub, Int16sl, Int16ul, Padding, Struct

from hal.chips.base import (
    CELL_VOLTAGE_PLAUSIBLE_MAX_V,
    TEMPERATURE_PLAUSIBLE_C,
    ByteRegisterFile,
    I2CDriver,
)
from hal.readings import BatteryState, GaugeReading
from hal.registers import Register, Scaled

__all__ = ["BQ27441", "BQ27441Emulator"]

DEFAULT_ADDRESS = 0x55  # [SF-bq]

# -- scale factors --------------------------------------------------------------------------
TEMPERATURE_LSB_K = 0.1           # Temperature() / InternalTemperature(): 0.1 K [SF-bq, K-bq]
KELVIN_OFFSET_C = -273.15         # 0 °C = 273.15 K
VOLTAGE_LSB_V = 1e-3              # Voltage(): mV [SF-bq]
CURRENT_LSB_A = 1e-3              # AverageCurrent() etc.: signed mA, + = charging [SF-bq]
POWER_LSB_W = 1e-3                # AveragePower(): signed mW [SF-bq]
CAPACITY_LSB_MAH = 1.0            # *Capacity(): mAh [SF-bq]
SOC_LSB_PCT = 1.0                 # StateOfCharge(): % [SF-bq]
SOC_MAX_PCT = 100.0               # StateOfCharge() is 0..100 % [SF-bq getter range]

# -- Control() subcommands [SF-bq] -------------------------------------------------------------
CONTROL_STATUS = 0x0000
DEVICE_TYPE = 0x0001
FW_VERSION = 0x0002
DM_CODE = 0x0004
CHEM_ID = 0x0008
BAT_INSERT = 0x000C
BAT_REMOVE = 0x000D
SET_HIBERNATE = 0x0011
CLEAR_HIBERNATE = 0x0012
SET_CFGUPDATE = 0x0013
SEALED = 0x0020
RESET = 0x0041
SOFT_RESET = 0x0042
EXIT_CFGUPDATE = 0x0043
UNSEAL_KEY = 0x8000               # written UNSEAL_WRITES times to unseal [SF-bq]
UNSEAL_WRITES = 2

DEVICE_TYPE_BQ27441 = 0x0421      # DEVICE_TYPE result [SF-bq]
FW_VERSION_EMULATED = 0x0109      # UNCONFIRMED: placeholder firmware version for the emulator
DM_CODE_EMULATED = 0x0048         # UNCONFIRMED: placeholder data-memory code (low byte)
CHEM_ID_EMULATED = 0x0128         # UNCONFIRMED: placeholder chemistry ID

# [TRM] TI bq27441-G1 Technical Reference Manual (SLUUAC9), "Control(): 0x00/0x01" subcommand
# table, column "Sealed Access": the subcommands a SEALED gauge accepts. The others (
# SET_CFGUPDATE, SEALED itself, RESET, SOFT_RESET, SHUTDOWN...) are ignored until the gauge is
# unsealed with the key written twice. (Table not in the reference file: UNCONFIRMED per entry
# beyond CONTROL_STATUS/DEVICE_TYPE/FW_VERSION, which SparkFun reads while sealed [SF-bq].)
SEALED_ACCESS = frozenset({CONTROL_STATUS, DEVICE_TYPE, FW_VERSION, DM_CODE, CHEM_ID,
                           BAT_INSERT, BAT_REMOVE, SET_HIBERNATE, CLEAR_HIBERNATE,
                           EXIT_CFGUPDATE})

# -- register map (little-endian words; bit fields MSB-first after ByteSwapped) ---------------
_TEMPERATURE_SCALE = Scaled(Int16ul, TEMPERATURE_LSB_K, KELVIN_OFFSET_C)
_VOLTAGE_SCALE = Scaled(Int16ul, VOLTAGE_LSB_V)
_CURRENT_SCALE = Scaled(Int16sl, CURRENT_LSB_A)
_POWER_SCALE = Scaled(Int16sl, POWER_LSB_W)
_CAPACITY_SCALE = Scaled(Int16ul, CAPACITY_LSB_MAH)
_SOC_SCALE = Scaled(Int16ul, SOC_LSB_PCT)

CONTROL: Register[int] = Register(0x00, Int16ul, "Control")
# CONTROL_STATUS result bits named in the reference [SF-bq]; the others are left as padding.
CONTROL_STATUS_BITS: Register[Any] = Register(0x00, ByteSwapped(BitStruct(
    "shutdownen" / Flag, "wdreset" / Flag, "ss" / Flag, Padding(5),
    "initcomp" / Flag, "hibernate" / Flag, Padding(1), "sleep" / Flag, Padding(2),
    "vok" / Flag, Padding(1))), "Control(CONTROL_STATUS)")
TEMPERATURE: Register[float] = Register(0x02, _TEMPERATURE_SCALE, "Temperature")
VOLTAGE: Register[float] = Register(0x04, _VOLTAGE_SCALE, "Voltage")
FLAGS: Register[Any] = Register(0x06, ByteSwapped(BitStruct(
    "ot" / Flag, "ut" / Flag, Padding(4), "fc" / Flag, "chg" / Flag,
    "ocvtaken" / Flag, Padding(1), "itpor" / Flag, "cfgupmode" / Flag,
    "bat_det" / Flag, "soc1" / Flag, "socf" / Flag, "dsg" / Flag)), "Flags")
NOMINAL_AVAILABLE_CAPACITY: Register[float] = Register(0x08, _CAPACITY_SCALE,
                                                       "NominalAvailableCapacity")
FULL_AVAILABLE_CAPACITY: Register[float] = Register(0x0A, _CAPACITY_SCALE,
                                                    "FullAvailableCapacity")
REMAINING_CAPACITY: Register[float] = Register(0x0C, _CAPACITY_SCALE, "RemainingCapacity")
FULL_CHARGE_CAPACITY: Register[float] = Register(0x0E, _CAPACITY_SCALE, "FullChargeCapacity")
AVERAGE_CURRENT: Register[float] = Register(0x10, _CURRENT_SCALE, "AverageCurrent")
STANDBY_CURRENT: Register[float] = Register(0x12, _CURRENT_SCALE, "StandbyCurrent")
MAX_LOAD_CURRENT: Register[float] = Register(0x14, _CURRENT_SCALE, "MaxLoadCurrent")
AVERAGE_POWER: Register[float] = Register(0x18, _POWER_SCALE, "AveragePower")
STATE_OF_CHARGE: Register[float] = Register(0x1C, _SOC_SCALE, "StateOfCharge")
INTERNAL_TEMPERATURE: Register[float] = Register(0x1E, _TEMPERATURE_SCALE,
                                                 "InternalTemperature")
STATE_OF_HEALTH: Register[Any] = Register(0x20, Struct("percent" / Int8ub, "status" / Int8ub),
                                          "StateOfHealth")

REGISTERS: tuple[Register[Any], ...] = (
    CONTROL, CONTROL_STATUS_BITS, TEMPERATURE, VOLTAGE, FLAGS, NOMINAL_AVAILABLE_CAPACITY,
    FULL_AVAILABLE_CAPACITY, REMAINING_CAPACITY, FULL_CHARGE_CAPACITY, AVERAGE_CURRENT,
    STANDBY_CURRENT, MAX_LOAD_CURRENT, AVERAGE_POWER, STATE_OF_CHARGE, INTERNAL_TEMPERATURE,
    STATE_OF_HEALTH,
)

# Temperature 0x02 .. StateOfCharge 0x1D: 28 bytes, one incremental read (≤ 32-byte I²C block).
_BLOCK_START = TEMPERATURE.address
_BLOCK_LENGTH = STATE_OF_CHARGE.address + STATE_OF_CHARGE.size - TEMPERATURE.address


class BQ27441(I2CDriver):
    """TI BQ27441-G1 fuel gauge (SparkFun Battery Babysitter).

    :meth:`read` takes **1 transaction**: one 28-byte incremental read of the standard
    commands 0x02..0x1D (Temperature, Voltage, Flags, capacities, AverageCurrent,
    StateOfCharge). Returns voltage (V), soc (%), current (A, + = charging), temperature
    (°C), remaining/full capacity (mAh) and charging (AverageCurrent > 0).
    """

    chip: ClassVar[str] = "bq27441"
    default_address: ClassVar[int] = DEFAULT_ADDRESS

    def control(self, subcommand: int) -> int:
        """Run a Control() subcommand: write it to 0x00, read the result word; 2 transactions."""
        self._write_register(CONTROL, subcommand)
        return self._read_register(CONTROL)

    def check_identity(self) -> None:
        """Control(DEVICE_TYPE) must return 0x0421 [SF-bq]; 2 transactions.

        Raises:
            ChipError: another device type.
            BusError: a transaction failed.
        """
        device_type = self.control(DEVICE_TYPE)
        if device_type != DEVICE_TYPE_BQ27441:
            raise self._identity_error(CONTROL, f"device type 0x{device_type:04X}",
                                       f"0x{DEVICE_TYPE_BQ27441:04X}")

    def read(self) -> GaugeReading:
        """Standard commands 0x02..0x1D in one block read: 1 transaction.

        Raises:
            BusError: the transaction failed.
            ChipError: the values are not plausible.
        """
        self._begin()
        block = self._read_block(_BLOCK_START, _BLOCK_LENGTH)

        def field(register: Register[float]) -> float:
            return register.parse_at(block, _BLOCK_START, address=self.address)

        voltage = self._check_range(VOLTAGE, "voltage", field(VOLTAGE), 0.0,
                                    CELL_VOLTAGE_PLAUSIBLE_MAX_V, "V")
        soc = self._check_range(STATE_OF_CHARGE, "state of charge", field(STATE_OF_CHARGE),
                                0.0, SOC_MAX_PCT, "%")
        temperature = self._check_range(TEMPERATURE, "temperature", field(TEMPERATURE),
                                        *TEMPERATURE_PLAUSIBLE_C, "°C")
        current = field(AVERAGE_CURRENT)
        return self._reading(voltage=voltage, soc=soc, current=current,
                             temperature=temperature, charging=current > 0,
                             remaining_capacity=field(REMAINING_CAPACITY),
                             full_capacity=field(FULL_CHARGE_CAPACITY))

    def soft_reset(self) -> None:
        """Control(SOFT_RESET); 1 transaction."""
        self._write_register(CONTROL, SOFT_RESET)


class BQ27441Emulator(ByteRegisterFile):
    """A BQ27441-G1 driven by a battery model.

    Behaviour [TRM "Control()" table, SF-bq]: Control() write-then-read; a result is read
    once, then 0x00 returns CONTROL_STATUS again. CONTROL_STATUS (SS while sealed, INITCOMP,
    HIBERNATE after SET_HIBERNATE until CLEAR_HIBERNATE), DEVICE_TYPE 0x0421, FW_VERSION,
    DM_CODE, CHEM_ID; sealed after power-on, unsealed by the key 0x8000 written twice,
    SEALED seals again; while sealed only :data:`SEALED_ACCESS` subcommands act. Unsealed:
    SET_CFGUPDATE sets Flags CFGUPMODE, EXIT_CFGUPDATE clears it, SOFT_RESET clears CFGUPMODE
    and ITPOR (ITPOR: UNCONFIRMED), RESET sets ITPOR. Flags DSG is set while not charging,
    FC at 100 %, BAT_DET always.
    """

    writable: ClassVar[frozenset[int]] = frozenset({0x00, 0x01})

    def __init__(self, state: BatteryState | None = None) -> None:
        super().__init__()
        self.sealed = True
        self.cfgupdate = False
        self.itpor = True
        self.hibernate = False
        self.resets = 0
        self.subcommands: list[int] = []
        self._unseal_step = 0
        self._state = state or BatteryState(voltage=0.0, soc=0.0, current=0.0)
        self._answer(self._control_status())
        self.update(self._state)

    def _control_status(self) -> int:
        status = {"shutdownen": False, "wdreset": False, "ss": self.sealed, "initcomp": True,
                  "hibernate": self.hibernate, "sleep": False, "vok": False}
        return int.from_bytes(CONTROL_STATUS_BITS.build(status), "little")

    def _answer(self, value: int) -> None:
        self.store(CONTROL, value)

    def update(self, state: BatteryState) -> None:
        """Encode temperature, voltage, flags, capacities, current, power and SOC."""
        self._state = state
        charging = state.current > 0
        self.store(TEMPERATURE, _TEMPERATURE_SCALE.saturate(state.temperature))
        self.store(INTERNAL_TEMPERATURE, _TEMPERATURE_SCALE.saturate(state.temperature))
        self.store(VOLTAGE, _VOLTAGE_SCALE.saturate(state.voltage))
        self.store(FLAGS, {"ot": False, "ut": False, "fc": state.soc >= SOC_MAX_PCT,
                           "chg": charging, "ocvtaken": False, "itpor": self.itpor,
                           "cfgupmode": self.cfgupdate, "bat_det": True, "soc1": False,
                           "socf": False, "dsg": not charging})
        for register, value in ((NOMINAL_AVAILABLE_CAPACITY, state.remaining_capacity),
                                (FULL_AVAILABLE_CAPACITY, state.full_capacity),
                                (REMAINING_CAPACITY, state.remaining_capacity),
                                (FULL_CHARGE_CAPACITY, state.full_capacity)):
            self.store(register, _CAPACITY_SCALE.saturate(value))
        self.store(AVERAGE_CURRENT, _CURRENT_SCALE.saturate(state.current))
        self.store(AVERAGE_POWER, _POWER_SCALE.saturate(state.voltage * state.current))
        self.store(STATE_OF_CHARGE, _SOC_SCALE.saturate(round(state.soc)))
        self.store(STATE_OF_HEALTH, {"percent": 100, "status": 0})

    def read(self, command: int, length: int) -> bytes:
        """Standard commands; 0x00 returns the last subcommand's result."""
        data = super().read(command, length)
        if command == CONTROL.address:  # a result is read once; then CONTROL_STATUS again
            self._answer(self._control_status())
        return data

    def on_write(self, command: int, data: bytes) -> None:
        """Run a Control() subcommand written to 0x00 (LSB first)."""
        if command != CONTROL.address or len(data) < CONTROL.size:
            return
        sub = CONTROL.parse(data[:2])
        self.subcommands.append(sub)
        if sub == UNSEAL_KEY:
            self._unseal_step += 1
            if self._unseal_step == UNSEAL_WRITES:
                self.sealed = False
                self._unseal_step = 0
            return
        self._unseal_step = 0
        if self.sealed and sub not in SEALED_ACCESS:
            self._answer(self._control_status())  # ignored while sealed
            return
        if sub == SEALED:
            self.sealed = True
        elif sub == SET_CFGUPDATE:
            self.cfgupdate = True
        elif sub == EXIT_CFGUPDATE:
            self.cfgupdate = False
        elif sub == SOFT_RESET:
            self.cfgupdate = False
            self.itpor = False
        elif sub == RESET:
            self.resets += 1
            self.itpor = True
            self.cfgupdate = False
        elif sub in (SET_HIBERNATE, CLEAR_HIBERNATE):
            self.hibernate = sub == SET_HIBERNATE
        answers = {CONTROL_STATUS: self._control_status(), DEVICE_TYPE: DEVICE_TYPE_BQ27441,
                   FW_VERSION: FW_VERSION_EMULATED, DM_CODE: DM_CODE_EMULATED,
                   CHEM_ID: CHEM_ID_EMULATED}
        self._answer(answers.get(sub, self._control_status()))
        self.update(self._state)
