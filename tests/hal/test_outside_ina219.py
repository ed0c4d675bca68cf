"""The INA219 emulator driven by Adafruit CircuitPython INA219 (busio-style adapter) and
pi-ina219 (smbus2-style adapter through Adafruit_GPIO): readings, calibration, PGA ranges,
OVF, conversion-ready and power-down, as the INA219 datasheet (TI SBOS448) describes them.
"""

from __future__ import annotations

import itertools

import adafruit_ina219
import ina219 as pi_ina219
import pytest

from hal.chips import INA219, INA219Emulator
from hal.chips import ina219 as ina
from hal.i2c import EmulatedBus
from hal.readings import BatteryState
from tests.hal.outside import BusioI2C, SMBusAdapter, no_sleep, smbus_factory

ADDRESS = 0x42  # Waveshare UPS HAT (B)
# 7 pack voltages × 9 currents (±3.2 A is the 320 mV range at 0.1 Ω)
STATES = [BatteryState(voltage=v, soc=50.0, current=i)
          for v, i in itertools.product((0.0, 6.0, 7.2, 7.8041, 8.4, 12.0, 26.0),
                                        (-3.2, -2.0, -0.8, -0.0137, 0.0, 0.25, 1.0, 2.5, 3.2))]


def pack(voltage: float = 7.8, current: float = -0.8) -> BatteryState:
    return BatteryState(voltage=voltage, soc=50.0, current=current)


def chip_bus(state: BatteryState) -> tuple[INA219Emulator, EmulatedBus]:
    emulator = INA219Emulator(state)
    bus = EmulatedBus(name="outside-driver bus")
    bus.attach(ADDRESS, emulator)
    return emulator, bus


def pi_driver(monkeypatch: pytest.MonkeyPatch, bus: EmulatedBus) -> pi_ina219.INA219:
    adapter = SMBusAdapter(bus)
    device = pi_ina219.I2C.Device

    def get_i2c_device(address: int, busnum: int | None = None, **_kwargs: object) -> object:
        return device(address, 1, i2c_interface=smbus_factory(adapter))

    monkeypatch.setattr(pi_ina219.I2C, "get_i2c_device", get_i2c_device)
    no_sleep(monkeypatch, pi_ina219)
    return pi_ina219.INA219(0.1, address=ADDRESS, busnum=1)


# -- readings -----------------------------------------------------------------------------------

def test_adafruit_decodes_what_wakebench_decodes() -> None:
    emulator, bus = chip_bus(pack())
    outside = adafruit_ina219.INA219(BusioI2C(bus), ADDRESS)   # set_calibration_32V_2A
    ours = INA219(bus=bus, address=ADDRESS)
    assert emulator.load(ina.CALIBRATION) == ina.WAVESHARE_32V_2A.calibration
    config = emulator.load(ina.CONFIG)           # 32 V, PGA /8, 12-bit single samples
    assert (config.brng, config.pg, config.mode) == (1, 3, 7)
    for battery in STATES:
        emulator.update(battery)
        reading = ours.read()
        assert outside.bus_voltage == pytest.approx(reading.voltage, abs=1e-9)
        assert outside.shunt_voltage * 10 == pytest.approx(reading.current, abs=1e-9)  # 0.1 Ω
        assert outside.current / 1000 == pytest.approx(ours.read_current_register(), abs=1e-9)
        assert outside.power == pytest.approx(ours.read_power_register(), abs=1e-9)


def test_pi_ina219_decodes_what_wakebench_decodes(monkeypatch: pytest.MonkeyPatch) -> None:
    emulator, bus = chip_bus(pack())
    outside = pi_driver(monkeypatch, bus)
    outside.configure(voltage_range=pi_ina219.INA219.RANGE_32V, gain=pi_ina219.INA219.GAIN_8_320MV)
    ours = INA219(bus=bus, address=ADDRESS)
    for battery in STATES:
        emulator.update(battery)
        if abs(battery.current) >= 3.2:
            # pi-ina219 sizes its current LSB for 32800 counts "to guarantee that current
            # overflow can always be detected": at full scale CURRENT overflows, OVF is set
            assert outside.current_overflow()
            continue
        reading = ours.read()
        assert outside.voltage() == pytest.approx(reading.voltage, abs=1e-9)
        assert outside.shunt_voltage() / 100 == pytest.approx(reading.current, abs=1e-9)  # mV/0.1 Ω
        assert outside.current() / 1000 == pytest.approx(reading.current, rel=2e-3, abs=1e-4)


# -- PGA, OVF and auto-ranging -----------------------------------------------------------------

def test_pi_ina219_auto_gain_moves_up_on_ovf_instead_of_reading_a_clipped_current(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # the case: 2.0 A through 0.1 Ω is 200 mV; at PGA /1 (±40 mV) the shunt clips to
    # 0.40 A and OVF is set, so an auto-ranging driver steps up to /8 (±320 mV)
    emulator, bus = chip_bus(pack(current=2.0))
    outside = pi_driver(monkeypatch, bus)
    outside.configure(voltage_range=pi_ina219.INA219.RANGE_16V)   # GAIN_AUTO starts at /1
    assert emulator.shunt_full_scale == 0.04 and emulator.load(ina.BUS_VOLTAGE).ovf
    assert outside.current() == pytest.approx(2000.0, abs=1.0)
    assert emulator.shunt_full_scale == 0.32 and not outside.current_overflow()


def test_pi_ina219_fixed_gain_reports_the_overflow(monkeypatch: pytest.MonkeyPatch) -> None:
    _, bus = chip_bus(pack(current=-1.0))
    outside = pi_driver(monkeypatch, bus)
    outside.configure(gain=pi_ina219.INA219.GAIN_2_80MV)          # ±80 mV = ±0.8 A
    assert outside.current_overflow()
    with pytest.raises(pi_ina219.DeviceRangeError):
        outside.current()


def test_adafruit_sees_ovf_and_the_clipped_shunt_at_16v_400ma() -> None:
    # set_calibration_16V_400mA: BRNG 16 V, PGA /1 ±40 mV ("MaxI_gain1_40mV = 0.04 / rshunt")
    _, bus = chip_bus(pack(voltage=7.8, current=-2.0))
    outside = adafruit_ina219.INA219(BusioI2C(bus), ADDRESS)
    outside.set_calibration_16V_400mA()
    assert outside.gain == adafruit_ina219.Gain.DIV_1_40MV
    assert outside.overflow
    assert outside.shunt_voltage == pytest.approx(-0.04)
    outside.set_calibration_32V_2A()                               # back to /8
    assert not outside.overflow
    assert outside.current == pytest.approx(-2000.0, abs=0.1)


def test_adafruit_bus_voltage_range_clips_at_16_v() -> None:
    emulator, bus = chip_bus(pack(voltage=20.0))
    outside = adafruit_ina219.INA219(BusioI2C(bus), ADDRESS)
    assert outside.bus_voltage == pytest.approx(20.0)
    outside.bus_voltage_range = adafruit_ina219.BusVoltageRange.RANGE_16V
    emulator.update(pack(voltage=20.0))
    assert outside.bus_voltage == pytest.approx(16.0)


# -- conversion ready, modes --------------------------------------------------------------------

def test_adafruit_power_read_clears_conversion_ready_and_power_down_holds() -> None:
    emulator, bus = chip_bus(pack())
    outside = adafruit_ina219.INA219(BusioI2C(bus), ADDRESS)
    assert outside.conversion_ready
    _ = outside.power
    assert not outside.conversion_ready
    emulator.update(pack(voltage=7.5))
    assert outside.conversion_ready
    outside.mode = adafruit_ina219.Mode.POWERDOWN
    emulator.update(pack(voltage=7.0, current=-0.2))
    assert outside.bus_voltage == pytest.approx(7.5)
    outside.mode = adafruit_ina219.Mode.SANDBVOLT_TRIGGERED          # one conversion
    assert outside.bus_voltage == pytest.approx(7.0)
    emulator.update(pack(voltage=6.9))
    assert outside.bus_voltage == pytest.approx(7.0)


def test_pi_ina219_sleep_and_wake(monkeypatch: pytest.MonkeyPatch) -> None:
    emulator, bus = chip_bus(pack())
    outside = pi_driver(monkeypatch, bus)
    outside.configure()
    outside.sleep()                                                # MODE 000
    assert emulator.mode == ina.MODE_POWER_DOWN
    emulator.update(pack(voltage=7.1))
    assert outside.voltage() == pytest.approx(7.8)
    outside.wake()                                                 # MODE 111
    emulator.update(pack(voltage=7.1))
    assert outside.voltage() == pytest.approx(7.1)
