"""MAX1704x emulators driven by drivers written outside wakebench: Adafruit CircuitPython
MAX1704x (busio-style adapter), max17048-smbus and SparkFun qwiic_max1704x (smbus2-style).

Each must decode what wakebench's own driver decodes, and its features (alerts, sleep,
hibernate, reset) must behave as the datasheet says. Where an outside driver disagrees with the
datasheet, the test says so and the datasheet wins.
"""

from __future__ import annotations

import itertools

import adafruit_max1704x
import max1704x_smbus
import max1704x_smbus.i2c_device
import pytest
import qwiic_max1704x
from qwiic_i2c.linux_i2c import LinuxI2C

from hal.chips import MAX17043, MAX17048, MAX17043Emulator, MAX17048Emulator
from hal.chips import max1704x as m
from hal.i2c import EmulatedBus
from hal.readings import BatteryState
from tests.hal.outside import BusioI2C, SMBusAdapter, no_sleep, smbus_factory

# 8 voltages × 6 SOCs × 4 currents = 192 battery states per chip
STATES = [BatteryState(voltage=v, soc=s, current=i, full_capacity=2000.0)
          for v, s, i in itertools.product((0.0, 2.9, 3.3, 3.61, 3.7001, 3.95, 4.2, 4.6),
                                           (0.0, 3.9, 12.34, 50.0, 99.6, 100.0),
                                           (-2.0, -0.3, 0.0, 1.1))]


def state(voltage: float = 3.7, soc: float = 55.0, current: float = -0.3) -> BatteryState:
    return BatteryState(voltage=voltage, soc=soc, current=current, full_capacity=2000.0)


def chip_bus(emulator: MAX17048Emulator | MAX17043Emulator) -> EmulatedBus:
    bus = EmulatedBus(name="outside-driver bus")
    bus.attach(0x36, emulator)
    return bus


@pytest.fixture
def adafruit(monkeypatch: pytest.MonkeyPatch) -> tuple[MAX17048Emulator, EmulatedBus,
                                                        adafruit_max1704x.MAX17048]:
    no_sleep(monkeypatch, adafruit_max1704x)
    emulator = MAX17048Emulator(state())
    bus = chip_bus(emulator)
    driver = adafruit_max1704x.MAX17048(BusioI2C(bus))  # resets the chip: VCELL/SOC read 0
    emulator.update(state())
    return emulator, bus, driver


@pytest.fixture
def smbus_driver(monkeypatch: pytest.MonkeyPatch) -> tuple[MAX17048Emulator, EmulatedBus,
                                                            max1704x_smbus.MAX17048]:
    emulator = MAX17048Emulator(state())
    bus = chip_bus(emulator)
    monkeypatch.setattr(max1704x_smbus.i2c_device, "SMBus", smbus_factory(SMBusAdapter(bus)))
    driver = max1704x_smbus.MAX17048(1)                 # resets the chip too
    emulator.update(state())
    return emulator, bus, driver


def qwiic(bus: EmulatedBus, device_type: int) -> qwiic_max1704x.QwiicMAX1704X:
    linux = LinuxI2C.__new__(LinuxI2C)  # no /dev/i2c-1: the adapter is the bus
    linux._i2cbus = SMBusAdapter(bus)
    driver = qwiic_max1704x.QwiicMAX1704X(address=0x36, i2c_driver=linux,
                                          device_type=device_type)
    assert driver.begin()
    return driver


# -- readings: 0 LSB apart from wakebench's driver ---------------------------------------------

def test_adafruit_decodes_what_wakebench_decodes(adafruit) -> None:  # type: ignore[no-untyped-def]
    emulator, bus, outside = adafruit
    ours = MAX17048(bus=bus)
    for battery in STATES:
        emulator.update(battery)
        reading = ours.read()
        assert outside.cell_voltage == pytest.approx(reading.voltage, abs=1e-12)
        assert outside.cell_percent == reading.soc
        assert outside.charge_rate == pytest.approx(reading.charge_rate, abs=1e-12)


def test_max17048_smbus_decodes_what_wakebench_decodes(smbus_driver) -> None:  # type: ignore[no-untyped-def]
    emulator, bus, outside = smbus_driver
    ours = MAX17048(bus=bus)
    for battery in STATES:
        emulator.update(battery)
        reading = ours.read()
        assert outside.cell_voltage == pytest.approx(reading.voltage, abs=1e-12)
        assert outside.cell_percent == pytest.approx(reading.soc, abs=1e-12)
        assert outside.charge_rate == pytest.approx(reading.charge_rate, abs=1e-12)


@pytest.mark.parametrize(("device_type", "emulator_class", "driver_class"), [
    (qwiic_max1704x.QwiicMAX1704X.kDeviceTypeMAX17043, MAX17043Emulator, MAX17043),
    (qwiic_max1704x.QwiicMAX1704X.kDeviceTypeMAX17048, MAX17048Emulator, MAX17048),
])
def test_sparkfun_decodes_what_wakebench_decodes(
        device_type: int, emulator_class: type[MAX17048Emulator] | type[MAX17043Emulator],
        driver_class: type[MAX17048] | type[MAX17043]) -> None:
    emulator = emulator_class(state())
    bus = chip_bus(emulator)
    outside = qwiic(bus, device_type)
    ours = driver_class(bus=bus)
    for battery in STATES:
        emulator.update(battery)
        reading = ours.read()
        assert outside.get_voltage() == pytest.approx(reading.voltage, abs=1e-12)
        assert outside.get_soc() == reading.soc


# -- identity, reset, factory registers ----------------------------------------------------------

def test_adafruit_init_resets_through_the_nack_and_clears_ri(adafruit) -> None:  # type: ignore[no-untyped-def]
    # Adafruit raises "Reset did not succeed" when CMD 0x5400 is ACKed: the NACK must be there
    emulator, _, outside = adafruit
    assert emulator.resets == 1
    assert not outside.reset_alert and not emulator.load(m.STATUS).ri
    outside.reset()
    assert emulator.resets == 2 and not emulator.load(m.STATUS).ri


def test_sparkfun_reset_raises_on_the_documented_nack() -> None:
    # SparkFun quotes the datasheet ("The IC does not respond with an I2C ACK after this command
    # sequence") and leaves "TODO: will this upset our driver since we don't get an ack?": it
    # does, the NACK surfaces as OSError. The datasheet wins; wakebench's reset() copes.
    emulator = MAX17043Emulator(state())
    bus = chip_bus(emulator)
    with pytest.raises(OSError):
        qwiic(bus, qwiic_max1704x.QwiicMAX1704X.kDeviceTypeMAX17043).reset()
    assert emulator.resets == 1
    MAX17043(bus=bus).reset()
    assert emulator.resets == 2


def test_the_factory_id_ignores_writes_from_an_outside_driver(smbus_driver) -> None:  # type: ignore[no-untyped-def]
    emulator, bus, outside = smbus_driver
    assert outside.chip_id == m.ID_EMULATED
    SMBusAdapter(bus).write_i2c_block_data(0x36, 0x19, [0x5A])
    assert outside.chip_id == m.ID_EMULATED
    outside.alert_voltage_reset_threshold = 2.5     # VRESET, the writable half of 0x18
    assert emulator.load(m.VRESET_ID).vreset == pytest.approx(2.5, abs=m.VRESET_LSB_V)


# -- alerts ------------------------------------------------------------------------------------

def test_adafruit_sees_voltage_and_soc_alerts(adafruit) -> None:  # type: ignore[no-untyped-def]
    emulator, _, outside = adafruit
    outside.voltage_alert_min = 3.5
    outside.voltage_alert_max = 4.1
    emulator.update(state(voltage=3.8, soc=30.0))
    assert not outside.active_alert and outside.alert_reason == 0
    emulator.update(state(voltage=4.15, soc=30.0))
    assert outside.active_alert and outside.voltage_high_alert
    outside.voltage_high_alert = False
    outside._alert_status = False                   # Adafruit's own name for CONFIG.ALRT
    emulator.update(state(voltage=3.45, soc=3.0))
    assert outside.active_alert
    assert outside.alert_reason == (adafruit_max1704x.ALERTFLAG_VOLTAGE_LOW
                                    | adafruit_max1704x.ALERTFLAG_SOC_LOW)


def test_max17048_smbus_soc_change_alert_and_threshold(smbus_driver) -> None:  # type: ignore[no-untyped-def]
    emulator, _, outside = smbus_driver
    outside.alert_soc_change_enable = True
    outside.alert_soc_low_threshold = 20
    assert emulator.empty_alert_pct == 20
    emulator.update(state(soc=55.0))
    emulator.update(state(soc=53.9))
    assert outside.alert_soc_change_flag and outside.alert_global_flag
    emulator.update(state(soc=19.0))
    assert outside.alert_soc_low_flag
    outside.alert_soc_change_flag_clear()
    outside.alert_soc_low_flag_clear()
    # max17048-smbus says ALRT auto-clears with the last STATUS flag; the datasheet says the
    # host clears CONFIG.ALRT itself ("Clear this bit to service and deassert the ALRT pin").
    assert outside.alert_global_flag
    outside.alert_global_flag_clear()
    assert not outside.alert_global_flag


def test_sparkfun_max17043_alert_threshold() -> None:
    emulator = MAX17043Emulator(state(soc=40.0))
    outside = qwiic(chip_bus(emulator), qwiic_max1704x.QwiicMAX1704X.kDeviceTypeMAX17043)
    outside.set_threshold(25)
    assert outside.get_threshold() == 25 and emulator.empty_alert_pct == 25
    emulator.update(state(soc=26.0))
    assert not outside.get_alert()
    emulator.update(state(soc=24.5))
    assert outside.get_alert(clear=True)
    assert not outside.get_alert()


# -- sleep and hibernate ---------------------------------------------------------------------

def test_adafruit_sleep_freezes_and_hibernate_is_reported(adafruit) -> None:  # type: ignore[no-untyped-def]
    emulator, _, outside = adafruit
    outside.enable_sleep = True
    outside.sleep = True
    emulator.update(state(voltage=3.5))
    assert outside.cell_voltage == pytest.approx(3.7, abs=m.VCELL_LSB_V)
    outside.sleep = False
    emulator.update(state(voltage=3.5))
    assert outside.cell_voltage == pytest.approx(3.5, abs=m.VCELL_LSB_V)
    outside.hibernate()                             # HIBRT 0xFFFF
    assert outside.hibernating
    outside.wake()                                  # HIBRT 0x0000
    assert not outside.hibernating


@pytest.mark.parametrize("device_type", [qwiic_max1704x.QwiicMAX1704X.kDeviceTypeMAX17043,
                                         qwiic_max1704x.QwiicMAX1704X.kDeviceTypeMAX17048])
def test_sparkfun_sleep_and_wake(device_type: int) -> None:
    emulator: MAX17043Emulator | MAX17048Emulator = (
        MAX17043Emulator(state()) if device_type < 2 else MAX17048Emulator(state()))
    outside = qwiic(chip_bus(emulator), device_type)
    assert outside.sleep()
    emulator.update(state(voltage=3.4))
    assert outside.get_voltage() == pytest.approx(3.7, abs=m.VCELL12_LSB_V)
    assert outside.wake()
    emulator.update(state(voltage=3.4))
    assert outside.get_voltage() == pytest.approx(3.4, abs=m.VCELL12_LSB_V)


def test_max17048_smbus_hibernate_and_sleep(smbus_driver) -> None:  # type: ignore[no-untyped-def]
    emulator, _, outside = smbus_driver
    outside.hibernate()
    assert outside.hibernating and emulator.hibernating
    outside.wake()
    assert not outside.hibernating
    outside.sleep_enable = True
    outside.sleep_switch = True
    emulator.update(state(voltage=3.3))
    assert outside.cell_voltage == pytest.approx(3.7, abs=m.VCELL_LSB_V)
