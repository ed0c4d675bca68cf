"""ON LC709203F: little-endian words, CRC-8 (= SMBus PEC) on every transfer.

Facts quoted from reference/pi-hardware.md §1 "ON Semi LC709203F".
"""

from __future__ import annotations

import errno

import pytest

from hal.chips import LC709203F, LC709203FEmulator, MAX17048Emulator
from hal.chips import lc709203f as lc
from hal.errors import BusError, ChipError
from hal.i2c import EmulatedBus, I2CFunc
from hal.readings import BatteryState

STATE = BatteryState(voltage=3.85, soc=72.3, current=-0.2, temperature=31.0)
NO_PEC_ADAPTER = I2CFunc.I2C_FUNC_I2C | I2CFunc.I2C_FUNC_SMBUS_I2C_BLOCK


def rig(funcs: I2CFunc | None = None) -> tuple[EmulatedBus, LC709203FEmulator]:
    bus = EmulatedBus() if funcs is None else EmulatedBus(funcs=funcs)
    emulator = LC709203FEmulator(STATE)
    bus.attach(0x0B, emulator)
    return bus, emulator


def test_decodes() -> None:
    # "0x09 Cell voltage (mV)", "0x0D RSOC (%)", "0x0F ITE (0.1 %)", "0x08 Cell temperature (0.1 K)"
    assert lc.CELL_VOLTAGE.parse(b"\x0a\x0f") == pytest.approx(3.850)
    assert lc.RSOC.parse(b"\x48\x00") == 72.0
    assert lc.ITE.parse(b"\xd3\x02") == pytest.approx(72.3)
    assert lc.CELL_TEMPERATURE.parse((2982).to_bytes(2, "little")) == pytest.approx(25.05)


def test_read_uses_pec_word_reads_and_restores_the_bus_pec_setting() -> None:
    bus, _ = rig()
    reading = LC709203F(bus=bus).read()
    assert reading.voltage == pytest.approx(3.85)
    assert reading.soc == pytest.approx(72.3)
    assert reading.transactions == 2 == bus.transactions(0x0B)
    assert bus.pec is False


def test_without_adapter_pec_the_driver_checks_the_crc_itself() -> None:
    # "Adafruit ... CRC-8 ... over [addr<<1, cmd, (addr<<1)|1, lo, hi]" read as 3 raw bytes
    bus, _ = rig(NO_PEC_ADAPTER)
    driver = LC709203F(bus=bus)
    assert driver.probe()
    assert driver.read().voltage == pytest.approx(3.85)
    bus.inject_bad_pec(0x0B)
    with pytest.raises(BusError) as caught:
        driver.read()
    assert caught.value.errno == errno.EBADMSG and "register 0x09" in str(caught.value)


@pytest.mark.parametrize("funcs", [None, NO_PEC_ADAPTER])
def test_writes_carry_the_crc_and_configure_sets_apa(funcs: I2CFunc | None) -> None:
    # "0x0B APA (pack size code: ... 0x2D=2000 ...)", "0x15 power mode (1 operate, 2 sleep)"
    bus, emulator = rig(funcs)
    driver = LC709203F(bus=bus)
    driver.configure(pack_capacity_mah=2000, profile=1)
    assert emulator.load(lc.APA) == 0x2D
    assert emulator.load(lc.BATTERY_PROFILE) == 1
    assert emulator.load(lc.POWER_MODE) == lc.POWER_MODE_OPERATIONAL
    driver.initial_rsoc()  # "0x07 Initial RSOC (write 0xAA55)"
    assert emulator.rsoc_restarts == 1


def test_a_write_without_pec_is_rejected() -> None:
    bus, emulator = rig()
    with pytest.raises(BusError, match=r"0x0B, register 0x15 .*requires a valid SMBus PEC"):
        bus.write_word_data(0x0B, 0x15, lc.POWER_MODE_SLEEP)
    assert not emulator.asleep


def test_unknown_pack_size_is_a_chip_error() -> None:
    bus, _ = rig()
    with pytest.raises(ChipError, match="no APA code for 1234 mAh"):
        LC709203F(bus=bus).configure(pack_capacity_mah=1234)


def test_sleep_mode_freezes_the_measurements() -> None:
    bus, emulator = rig()
    driver = LC709203F(bus=bus)
    bus.pec = True
    bus.write_word_data(0x0B, 0x15, lc.POWER_MODE_SLEEP)
    emulator.update(BatteryState(voltage=3.6, soc=40.0, current=-0.2))
    assert driver.read().voltage == pytest.approx(3.85)
    driver.configure()  # wakes it
    emulator.update(BatteryState(voltage=3.6, soc=40.0, current=-0.2))
    assert driver.read().voltage == pytest.approx(3.6)


def test_thermistor_mode_reports_temperature_in_three_transactions() -> None:
    bus, emulator = rig()
    driver = LC709203F(bus=bus, thermistor=True)
    driver.configure(thermistor_b=0x0D34)
    emulator.update(STATE)
    reading = driver.read()
    assert reading.transactions == 3
    assert reading.temperature == pytest.approx(31.0, abs=lc.TEMPERATURE_LSB_K)
    assert LC709203F(bus=bus).read().temperature is None  # host mode driver does not ask


def test_a_chip_without_crc_at_0x0b_is_not_an_lc709203f() -> None:
    bus = EmulatedBus()
    bus.attach(0x0B, MAX17048Emulator())
    driver = LC709203F(bus=bus)
    assert not driver.probe()
    with pytest.raises(ChipError, match="no valid CRC-8"):
        driver.check_identity()


@pytest.mark.parametrize(("raw", "ok"), [(1000, True), (1001, False)])
def test_ite_above_100_percent_is_garbage(raw: int, ok: bool) -> None:
    bus, emulator = rig()
    emulator.words[lc.ITE.address] = raw.to_bytes(2, "little")
    if ok:
        assert LC709203F(bus=bus).read().soc == pytest.approx(100.0)
    else:
        with pytest.raises(ChipError, match=r"register ITE \(0x0F\)"):
            LC709203F(bus=bus).read()
