"""The LC709203F emulator driven by Adafruit CircuitPython LC709203F (busio-style adapter, its own
CRC-8 framing): readings, power mode, pack size, thermistor and the low-voltage / low-RSOC alarms
(LC709203F datasheet register table; [AF-lc]).
"""

from __future__ import annotations

import itertools

import adafruit_lc709203f
import pytest

from hal.chips import LC709203F, LC709203FEmulator
from hal.chips import lc709203f as lc
from hal.i2c import EmulatedBus
from hal.readings import BatteryState
from tests.hal.outside import BusioI2C, no_sleep

STATES = [BatteryState(voltage=v, soc=s, current=-0.2, temperature=t)
          for v, s, t in itertools.product((2.5, 3.0, 3.6, 3.85, 4.2, 4.35),
                                           (0.0, 0.04, 8.0, 12.35, 72.3, 99.96, 100.0),
                                           (-20.0, 25.0, 31.5))]


@pytest.fixture
def chip(monkeypatch: pytest.MonkeyPatch) -> tuple[LC709203FEmulator, EmulatedBus,
                                                    adafruit_lc709203f.LC709203F]:
    no_sleep(monkeypatch, adafruit_lc709203f)
    emulator = LC709203FEmulator(BatteryState(voltage=3.85, soc=72.3, current=-0.2))
    bus = EmulatedBus(name="outside-driver bus")
    bus.attach(0x0B, emulator)
    return emulator, bus, adafruit_lc709203f.LC709203F(BusioI2C(bus))


def test_adafruit_init_configures_the_chip(chip) -> None:  # type: ignore[no-untyped-def]
    emulator, _, outside = chip
    assert emulator.load(lc.POWER_MODE) == lc.POWER_MODE_OPERATIONAL
    assert emulator.load(lc.APA) == adafruit_lc709203f.PackSize.MAH500
    assert emulator.load(lc.BATTERY_PROFILE) == 1
    assert emulator.rsoc_restarts == 1
    assert outside.ic_version == lc.IC_VERSION_EMULATED


def test_adafruit_decodes_what_wakebench_decodes(chip) -> None:  # type: ignore[no-untyped-def]
    emulator, bus, outside = chip
    outside.thermistor_enable = True
    ours = LC709203F(bus=bus, thermistor=True)
    for battery in STATES:
        emulator.update(battery)
        reading = ours.read()
        assert outside.cell_voltage == pytest.approx(reading.voltage, abs=1e-9)
        assert outside.cell_percent == pytest.approx(reading.soc, abs=1e-9)
        assert outside.cell_temperature == pytest.approx(reading.temperature, abs=1e-9)


def test_sleep_power_mode_freezes_the_readings(chip) -> None:  # type: ignore[no-untyped-def]
    # IC Power Mode 0x15: 1 operational, 2 sleep
    emulator, _, outside = chip
    outside.power_mode = adafruit_lc709203f.PowerMode.SLEEP
    emulator.update(BatteryState(voltage=3.5, soc=30.0, current=-0.2))
    assert outside.cell_voltage == pytest.approx(3.85)
    outside.power_mode = adafruit_lc709203f.PowerMode.OPERATE
    emulator.update(BatteryState(voltage=3.5, soc=30.0, current=-0.2))
    assert outside.cell_voltage == pytest.approx(3.5)


def test_alarm_low_rsoc_and_low_voltage_drive_alarmb(chip) -> None:  # type: ignore[no-untyped-def]
    # Alarm Low RSOC 0x13 (%), Alarm Low Cell Voltage 0x14 (mV); 0 disables each
    emulator, _, outside = chip
    assert outside.low_voltage_alarm_percent == lc.ALARM_LOW_RSOC_POR_PCT
    outside.low_voltage_alarm_percent = 20
    outside.low_voltage_alarm = 3400
    emulator.update(BatteryState(voltage=3.7, soc=25.0, current=-0.2))
    assert not emulator.alarm
    emulator.update(BatteryState(voltage=3.7, soc=19.0, current=-0.2))
    assert emulator.alarm
    outside.low_voltage_alarm_percent = 0
    emulator.update(BatteryState(voltage=3.7, soc=19.0, current=-0.2))
    assert not emulator.alarm
    emulator.update(BatteryState(voltage=3.39, soc=19.0, current=-0.2))
    assert emulator.alarm
    outside.low_voltage_alarm = 0
    emulator.update(BatteryState(voltage=3.0, soc=1.0, current=-0.2))
    assert not emulator.alarm
