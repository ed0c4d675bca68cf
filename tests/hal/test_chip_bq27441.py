"""TI BQ27441-G1: little-endian standard commands and the Control() subcommand protocol.

Facts quoted from reference/pi-hardware.md §1 "TI BQ27441-G1".
"""

from __future__ import annotations

from typing import Any

import pytest

from hal.chips import BQ27441, BQ27441Emulator, MAX17048Emulator
from hal.chips import bq27441 as bq
from hal.errors import ChipError
from hal.i2c import EmulatedBus
from hal.readings import BatteryState

STATE = BatteryState(voltage=3.85, soc=64.0, current=-0.466, temperature=25.05,
                     remaining_capacity=1290.0, full_capacity=2010.0)


def rig(state: BatteryState = STATE) -> tuple[EmulatedBus, BQ27441Emulator]:
    bus = EmulatedBus()
    emulator = BQ27441Emulator(state)
    bus.attach(0x55, emulator)
    return bus, emulator


def test_voltage_is_millivolts_little_endian() -> None:
    # "0x04 Voltage (mV)", LE
    assert bq.VOLTAGE.parse(b"\x0a\x0f") == pytest.approx(3.850)


def test_temperature_is_tenths_of_kelvin() -> None:
    # "0x02 Temp (0.1 K)": 2982 × 0.1 K = 298.2 K = 25.05 °C
    assert bq.TEMPERATURE.parse((2982).to_bytes(2, "little")) == pytest.approx(25.05)


def test_average_current_is_signed_milliamps() -> None:
    # "0x10 AvgCurrent (signed mA)"
    assert bq.AVERAGE_CURRENT.parse(b"\x2e\xfe") == pytest.approx(-0.466)


def test_flags_bits_in_datasheet_order() -> None:
    # "Flags: OT b15, UT b14, FC b9, CHG b8, ... DSG b0" — 0x0201 LE = FC + DSG
    flags = bq.FLAGS.parse(b"\x01\x02")
    assert (flags.fc, flags.dsg, flags.chg, flags.ot) == (True, True, False, False)
    assert bq.FLAGS.parse(b"\x00\x80").ot


def test_control_subcommand_is_write_then_read_with_smbus2_words() -> None:
    # "With smbus2: write_word_data(0x55,0,0x0001); read_word_data(0x55,0) == 0x0421"
    bus, _ = rig()
    bus.write_word_data(0x55, 0, 0x0001)
    assert bus.read_word_data(0x55, 0) == 0x0421
    status = bq.CONTROL_STATUS_BITS.parse(bus.read_word_data(0x55, 0).to_bytes(2, "little"))
    assert status.initcomp and status.ss  # sealed after power-on


def test_identity_takes_two_transactions() -> None:
    bus, _ = rig()
    assert BQ27441(bus=bus).probe()
    assert bus.transactions(0x55) == 2


def test_another_chip_at_0x55_is_not_a_bq27441() -> None:
    bus = EmulatedBus()
    bus.attach(0x55, MAX17048Emulator())
    driver = BQ27441(bus=bus, address=0x55)
    assert not driver.probe()
    with pytest.raises(ChipError, match=r"device type 0x0000, expected 0x0421"):
        driver.check_identity()


def test_unseal_needs_the_key_twice_before_cfgupdate_is_accepted() -> None:
    # "unseal key 0x8000 written twice"; SET_CFGUPDATE 0x13
    bus, emulator = rig()
    driver = BQ27441(bus=bus)
    driver.control(bq.SET_CFGUPDATE)
    assert not emulator.load(bq.FLAGS).cfgupmode          # sealed: ignored
    driver.control(bq.UNSEAL_KEY)
    assert emulator.sealed
    driver.control(bq.UNSEAL_KEY)
    assert not emulator.sealed
    driver.control(bq.SET_CFGUPDATE)
    assert emulator.load(bq.FLAGS).cfgupmode
    driver.soft_reset()
    assert not emulator.load(bq.FLAGS).cfgupmode


def test_read_returns_every_field_in_one_transaction() -> None:
    bus, _ = rig()
    reading = BQ27441(bus=bus).read()
    assert reading.transactions == 1 and bus.transactions(0x55) == 1
    assert reading.voltage == pytest.approx(3.85)
    assert reading.soc == 64.0
    assert reading.current == pytest.approx(-0.466)
    assert reading.temperature == pytest.approx(25.05, abs=0.1)
    assert (reading.remaining_capacity, reading.full_capacity) == (1290.0, 2010.0)
    assert reading.charging is False


@pytest.mark.parametrize(("soc", "ok"), [(100, True), (101, False)])
def test_state_of_charge_above_100_percent_is_garbage(soc: int, ok: bool) -> None:
    bus, emulator = rig()
    emulator.image[0x1C:0x1E] = soc.to_bytes(2, "little")
    if ok:
        assert BQ27441(bus=bus).read().soc == 100.0
    else:
        with pytest.raises(ChipError, match=r"0x55 register StateOfCharge \(0x1C\)"):
            BQ27441(bus=bus).read()


# -- Control() subcommands against the TRM (bq27441-G1 TRM, "Control()" subcommand table) ------

def status_of(driver: BQ27441) -> Any:
    return bq.CONTROL_STATUS_BITS.parse(driver.control(bq.CONTROL_STATUS).to_bytes(2, "little"))


def unsealed() -> tuple[BQ27441Emulator, BQ27441]:
    bus, emulator = rig()
    driver = BQ27441(bus=bus)
    driver.control(bq.UNSEAL_KEY)
    driver.control(bq.UNSEAL_KEY)
    return emulator, driver


@pytest.mark.parametrize(("subcommand", "answer"), [
    (bq.DEVICE_TYPE, 0x0421),                 # "DEVICE_TYPE 0x0001 → 0x0421"
    (bq.FW_VERSION, bq.FW_VERSION_EMULATED),
    (bq.DM_CODE, bq.DM_CODE_EMULATED),
    (bq.CHEM_ID, bq.CHEM_ID_EMULATED),
])
def test_identity_subcommands_answer_while_sealed(subcommand: int, answer: int) -> None:
    bus, emulator = rig()
    assert emulator.sealed
    assert BQ27441(bus=bus).control(subcommand) == answer


def test_a_result_is_read_once_then_control_status_again() -> None:
    bus, _ = rig()
    driver = BQ27441(bus=bus)
    driver.control(bq.DEVICE_TYPE)
    again = bus.read_word_data(0x55, 0x00)
    assert again != 0x0421
    assert bq.CONTROL_STATUS_BITS.parse(again.to_bytes(2, "little")).initcomp


def test_control_status_shows_sealed_and_initcomp_and_hibernate() -> None:
    # CONTROL_STATUS: SS b13, INITCOMP b7, HIBERNATE b6
    bus, emulator = rig()
    driver = BQ27441(bus=bus)
    status = status_of(driver)
    assert status.ss and status.initcomp and not status.hibernate
    driver.control(bq.SET_HIBERNATE)
    assert status_of(driver).hibernate
    driver.control(bq.CLEAR_HIBERNATE)
    assert not status_of(driver).hibernate
    driver.control(bq.UNSEAL_KEY)
    driver.control(bq.UNSEAL_KEY)
    assert not status_of(driver).ss
    driver.control(bq.SEALED)
    assert status_of(driver).ss and emulator.sealed


def test_sealed_gauge_ignores_config_update_and_resets() -> None:
    # "Sealed Access" column: SET_CFGUPDATE, RESET, SOFT_RESET need UNSEALED
    bus, emulator = rig()
    driver = BQ27441(bus=bus)
    driver.control(bq.SET_CFGUPDATE)
    driver.control(bq.RESET)
    assert not emulator.load(bq.FLAGS).cfgupmode and emulator.resets == 0


def test_one_key_write_then_another_subcommand_does_not_unseal() -> None:
    # the key must be written twice in a row
    bus, emulator = rig()
    driver = BQ27441(bus=bus)
    driver.control(bq.UNSEAL_KEY)
    driver.control(bq.CONTROL_STATUS)
    driver.control(bq.UNSEAL_KEY)
    assert emulator.sealed


def test_config_update_cycle_sets_and_clears_flags() -> None:
    # Flags: CFGUPMODE b4, ITPOR b5; SET_CFGUPDATE enters, SOFT_RESET / EXIT_CFGUPDATE leave
    emulator, driver = unsealed()
    assert emulator.load(bq.FLAGS).itpor               # set after power-on
    driver.control(bq.SET_CFGUPDATE)
    assert emulator.load(bq.FLAGS).cfgupmode
    driver.soft_reset()
    flags = emulator.load(bq.FLAGS)
    assert not flags.cfgupmode and not flags.itpor
    driver.control(bq.SET_CFGUPDATE)
    driver.control(bq.EXIT_CFGUPDATE)
    assert not emulator.load(bq.FLAGS).cfgupmode
    driver.control(bq.RESET)
    assert emulator.load(bq.FLAGS).itpor and emulator.resets == 1


def test_flags_follow_the_battery() -> None:
    # Flags DSG b0 while discharging, CHG b8 while charging, FC b9 at full, BAT_DET b3
    bus, emulator = rig()
    flags = emulator.load(bq.FLAGS)
    assert flags.dsg and not flags.chg and flags.bat_det and not flags.fc
    emulator.update(BatteryState(voltage=4.2, soc=100.0, current=0.05, remaining_capacity=2010.0,
                                 full_capacity=2010.0))
    flags = emulator.load(bq.FLAGS)
    assert flags.chg and flags.fc and not flags.dsg
    assert BQ27441(bus=bus).read().charging is True
