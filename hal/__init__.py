"""Hardware access: I²C bus, fuel-gauge drivers and emulators, GPIO, network state, power_supply.

Readings are frozen dataclasses in SI units. Nothing here imports :mod:`firmware_sim` and nothing
opens a device at import time: buses and pin factories are injected (``bus=``, ``pin_factory=``).
"""

from hal.chips import (
    CHIPS,
    WAVESHARE_32V_2A,
    WAVESHARE_UPS_HAT_B,
    WAVESHARE_UPS_HAT_C,
    ChipEmulator,
    ChipSpec,
    GaugeDriver,
    INA219Calibration,
    LinearSocCurve,
    chip_spec,
    identify,
)
from hal.errors import BusError, ChipError, HalError, NetworkError, PinError, SysfsError
from hal.gpio import InputWatcher, PinSpec, Relay, RelaySpec, lgpio_pin_factory
from hal.i2c import EmulatedBus, EmulatedChip, EmulatedNack, I2CBus, I2CFunc, SMBusI2C, is_nack, smbus_pec
from hal.network import (
    InterfaceFacts,
    InterfaceState,
    NetworkSignals,
    NetworkWatcher,
    classify,
    derive_signals,
    read_interfaces,
    read_network,
)
from hal.power_supply import (
    PowerSupplyReading,
    PowerSupplySnapshot,
    PowerSupplySource,
    charger_from,
    read_supplies,
    read_supply,
)
from hal.readings import BatteryState, GaugeReading
from hal.registers import Field, Register, Scaled

__all__ = [
    "CHIPS",
    "WAVESHARE_32V_2A",
    "WAVESHARE_UPS_HAT_B",
    "WAVESHARE_UPS_HAT_C",
    "BatteryState",
    "BusError",
    "ChipEmulator",
    "ChipError",
    "ChipSpec",
    "EmulatedBus",
    "EmulatedChip",
    "EmulatedNack",
    "Field",
    "GaugeDriver",
    "GaugeReading",
    "HalError",
    "I2CBus",
    "I2CFunc",
    "INA219Calibration",
    "InputWatcher",
    "InterfaceFacts",
    "InterfaceState",
    "LinearSocCurve",
    "NetworkError",
    "NetworkSignals",
    "NetworkWatcher",
    "PinError",
    "PinSpec",
    "PowerSupplyReading",
    "PowerSupplySnapshot",
    "PowerSupplySource",
    "Register",
    "Relay",
    "RelaySpec",
    "SMBusI2C",
    "Scaled",
    "SysfsError",
    "charger_from",
    "chip_spec",
    "classify",
    "derive_signals",
    "identify",
    "is_nack",
    "lgpio_pin_factory",
    "read_interfaces",
    "read_network",
    "read_supplies",
    "read_supply",
    "smbus_pec",
]
