"""wakebench's own MAX1704x drivers beyond the readings: alerts (read / clear the STATUS flags,
thresholds), the voltage-reset comparator, sleep and hibernate — against the emulators, and
where an outside driver exposes the same feature (Adafruit CircuitPython MAX1704x,
max17048-smbus, SparkFun qwiic_max1704x), read back through it too, so both sides agree on
every bit. Datasheet keys as in hal/chips/max1704x.py ([DS-48], [DS-43])."""

from __future__ import annotations

import adafruit_max1704x
import max1704x_smbus
import max1704x_smbus.i2c_device
import pytest
import qwiic_max1704x

from hal.chips import MAX17043, MAX17048, MAX17043Emulator, MAX17048Emulator
from hal.chips import max1704x as m
from hal.i2c import EmulatedBus
from hal.readings import BatteryState
from tests.hal.outside import BusioI2C, SMBusAdapter, no_sleep, smbus_factory
from tests.hal.test_outside_max1704x import qwiic


def state(voltage: float = 3.7, soc: float = 55.0, current: float = -0.3) -> BatteryState:
    return BatteryState(voltage=voltage, soc=soc, current=current, full_capacity=2000.0)


def rig48() -> tuple[MAX17048Emulator, EmulatedBus, MAX17048]:
    emulator = MAX17048Emulator(state())
    bus = EmulatedBus()
    bus.attach(0x36, emulator)
    return emulator, bus, MAX17048(bus=bus)


def adafruit_on(bus: EmulatedBus, monkeypatch: pytest.MonkeyPatch) -> adafruit_max1704x.MAX17048:
    no_sleep(monkeypatch, adafruit_max1704x)
    return adafruit_max1704x.MAX17048(BusioI2C(bus))  # resets the chip and clears RI


def smbus_on(bus: EmulatedBus, monkeypatch: pytest.MonkeyPatch) -> max1704x_smbus.MAX17048:
    monkeypatch.setattr(max1704x_smbus.i2c_device, "SMBus", smbus_factory(SMBusAdapter(bus)))
    return max1704x_smbus.MAX17048(1)


def test_power_on_reports_ri_only_and_clearing_it_keeps_envr() -> None:
    # STATUS POR 0x01__ (RI); RI does not raise ALRT
    _emulator, _bus, driver = rig48()
    alerts = driver.read_alerts()
    assert alerts == m.MAX17048Alerts(frozenset({"ri"}), alert=False, voltage_reset_alert=False)
    driver.set_voltage_reset_alert(True)
    driver.clear_alerts(frozenset({"ri"}))
    assert driver.read_alerts() == m.MAX17048Alerts(frozenset(), False, True)
    with pytest.raises(ValueError, match="unknown STATUS flag"):
        driver.clear_alerts(frozenset({"rx"}))


def test_voltage_alert_thresholds_raise_vh_and_vl_as_adafruit_reads_them(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # VALRT MIN / MAX, 20 mV steps; VH above MAX, VL below MIN, each raising ALRT [DS-48 VALRT]
    emulator, bus, driver = rig48()
    outside = adafruit_on(bus, monkeypatch)
    emulator.update(state())
    driver.set_voltage_alert(3.5, 4.1)
    assert (outside.voltage_alert_min, outside.voltage_alert_max) == (pytest.approx(3.5), pytest.approx(4.1))
    emulator.update(state(voltage=4.15))
    alerts = driver.read_alerts()
    assert alerts.flags == {"vh"} and alerts.alert
    assert outside.voltage_high_alert and outside.active_alert
    driver.clear_alerts()
    assert driver.read_alerts() == m.MAX17048Alerts(frozenset(), False, False)
    assert not outside.voltage_high_alert and not outside.active_alert
    emulator.update(state(voltage=3.45))
    assert driver.read_alerts().flags == {"vl"} and outside.voltage_low_alert
    with pytest.raises(ValueError):
        driver.set_voltage_alert(4.0, 3.0)
    with pytest.raises(ValueError):
        driver.set_voltage_alert(0.0, 5.2)


def test_empty_and_soc_change_alerts_as_max17048_smbus_reads_them(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # CONFIG.ATHD = 32 − threshold %, HD below it; CONFIG.ALSC → SC on a 1 % change
    emulator, bus, driver = rig48()
    outside = smbus_on(bus, monkeypatch)
    driver.set_empty_alert(20)
    driver.set_soc_change_alert(True)
    assert outside.alert_soc_low_threshold == 20 and outside.alert_soc_change_enable
    config = emulator.load(m.CONFIG)
    assert config.rcomp == 0x97  # read-modify-write: RCOMP untouched
    emulator.update(state(soc=55.0))  # the 1 % is counted from here
    emulator.update(state(soc=53.9))
    assert driver.read_alerts().flags == {"sc"} and outside.alert_soc_change_flag
    emulator.update(state(soc=19.5))
    assert driver.read_alerts().flags == {"sc", "hd"} and outside.alert_soc_low_flag
    driver.clear_alerts(frozenset({"sc"}))
    assert driver.read_alerts().flags == {"hd"} and not driver.alert_pin()
    driver.set_soc_change_alert(False)
    assert not outside.alert_soc_change_enable
    for bad in (0, 33):
        with pytest.raises(ValueError):
            driver.set_empty_alert(bad)


def test_reset_voltage_and_voltage_reset_alert_as_max17048_smbus_reads_them(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # VRESET 40 mV steps, Dis, EnVr → VR + ALRT after a removal and reinsertion [DS-48]
    emulator, bus, driver = rig48()
    outside = smbus_on(bus, monkeypatch)
    driver.set_reset_voltage(2.52, comparator_in_hibernate=False)
    driver.set_voltage_reset_alert(True)
    assert outside.alert_voltage_reset_threshold == pytest.approx(2.52)
    assert outside.comparator_disabled and outside.alert_voltage_reset_enable
    assert outside.chip_id == m.ID_EMULATED  # the ID half survived the write
    emulator.update(state(voltage=2.4))
    emulator.update(state(voltage=3.7))
    alerts = driver.read_alerts()
    assert "vr" in alerts.flags and alerts.alert and alerts.voltage_reset_alert
    assert outside.alert_voltage_reset_flag
    driver.clear_alerts(frozenset({"vr"}))
    assert not outside.alert_voltage_reset_flag and outside.alert_voltage_reset_enable
    driver.set_voltage_reset_alert(False)
    assert not outside.alert_voltage_reset_enable
    with pytest.raises(ValueError):
        driver.set_reset_voltage(5.2)


def test_adafruit_reads_the_reset_voltage_the_driver_wrote(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    _emulator, bus, driver = rig48()
    outside = adafruit_on(bus, monkeypatch)
    driver.set_reset_voltage(3.2)
    assert outside.reset_voltage == pytest.approx(3.2) and not outside.comparator_disabled


def test_sleep_freezes_and_wake_resumes_as_adafruit_sees_it(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # MAX17048 sleep needs MODE.EnSleep and CONFIG.SLEEP [DS-48 Sleep Mode]
    emulator, bus, driver = rig48()
    outside = adafruit_on(bus, monkeypatch)
    emulator.update(state())
    driver.sleep()
    assert emulator.asleep and outside.enable_sleep and outside.sleep
    emulator.update(state(voltage=3.4))
    assert driver.read().voltage == pytest.approx(3.7, abs=m.VCELL_LSB_V)
    driver.wake()
    assert not emulator.asleep and not outside.sleep
    emulator.update(state(voltage=3.4))
    assert driver.read().voltage == pytest.approx(3.4, abs=m.VCELL_LSB_V)


def test_hibernate_and_thresholds_as_max17048_smbus_reads_them(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # HIBRT 0xFFFF always, 0x0000 never; HibThr 0.208 %/h, ActThr 1.25 mV [DS-48 HIBRT]
    emulator, bus, driver = rig48()
    outside = smbus_on(bus, monkeypatch)
    driver.hibernate()
    emulator.update(state())
    assert driver.hibernating() and outside.hibernating
    driver.disable_hibernate()
    emulator.update(state())
    assert not driver.hibernating() and not outside.hibernating
    driver.set_hibernate_thresholds(10 * m.HIBRT_HIB_LSB_PCT_PER_H, 40 * m.HIBRT_ACT_LSB_V)
    assert emulator.load_raw(m.HIBRT) == (10 << 8) | 40
    assert outside.hibernation_threshold == pytest.approx(10 * m.HIBRT_HIB_LSB_PCT_PER_H)
    assert outside.activity_threshold == pytest.approx(40 * m.HIBRT_ACT_LSB_V)
    with pytest.raises(ValueError):
        driver.set_hibernate_thresholds(60.0, 0.01)


def test_max17043_sleep_and_empty_alert_as_sparkfun_reads_them() -> None:
    # [DS-43] CONFIG.SLEEP alone sleeps; ALRT below 32 − ATHD %
    emulator = MAX17043Emulator(state(soc=40.0))
    bus = EmulatedBus()
    bus.attach(0x36, emulator)
    driver = MAX17043(bus=bus)
    outside = qwiic(bus, qwiic_max1704x.QwiicMAX1704X.kDeviceTypeMAX17043)
    driver.set_empty_alert(25)
    assert outside.get_threshold() == 25
    emulator.update(state(soc=24.0))
    assert driver.alert_pin() and outside.get_alert()
    driver.clear_alert_pin()
    assert not outside.get_alert()
    driver.sleep()
    emulator.update(state(voltage=3.3))
    assert driver.read().voltage == pytest.approx(3.7, abs=m.VCELL12_LSB_V)
    driver.wake()
    emulator.update(state(voltage=3.3))
    assert driver.read().voltage == pytest.approx(3.3, abs=m.VCELL12_LSB_V)
