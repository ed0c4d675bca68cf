"""MAX17043/44 and MAX17048/49: datasheet decodes, identity, reset and quick-start behaviour.

Facts quoted from reference/pi-hardware.md §1 "MAX17043/44 and MAX17048/49".
"""

from __future__ import annotations

import pytest

from hal.chips import (
    MAX17043,
    MAX17048,
    MAX17043Emulator,
    MAX17048Emulator,
    identify,
)
from hal.chips import max1704x as m
from hal.errors import BusError, ChipError
from hal.i2c import EmulatedBus, is_nack
from hal.readings import BatteryState

STATE = BatteryState(voltage=3.7, soc=55.0, current=-0.3, full_capacity=2000.0)


def rig(emulator: MAX17048Emulator | MAX17043Emulator) -> EmulatedBus:
    bus = EmulatedBus()
    bus.attach(0x36, emulator)
    return bus


# -- decodes --------------------------------------------------------------------------------------

def test_max17048_vcell_is_78_125_microvolt_per_lsb() -> None:
    # "17048: raw*78.125 µV"
    assert m.VCELL.parse(b"\xc3\x50") == pytest.approx(3.90625, abs=1e-12)


def test_max17049_vcell_is_156_25_microvolt_per_lsb() -> None:
    # "17049: raw*156.25 µV [K-max: ... 17049 625/4]"
    assert m.VCELL_17049.parse(b"\xc3\x50") == pytest.approx(7.8125, abs=1e-12)


def test_max17043_vcell_is_12_bit_left_justified_1_25_mv() -> None:
    # "17043: (raw>>4)*1.25 mV (12-bit, left-justified)"
    assert m.VCELL_17043.parse(b"\xc3\x50") == pytest.approx(3.90625)
    assert m.VCELL_17043.parse(b"\xc3\x5f") == pytest.approx(3.90625)  # low nibble ignored
    # "17044: (raw>>4)*2.5 mV"
    assert m.VCELL_17044.parse(b"\xc3\x50") == pytest.approx(7.8125)


def test_soc_is_high_byte_percent_plus_low_byte_over_256() -> None:
    # "high byte = %, low byte /256 (raw/256)"
    assert m.SOC.parse(b"\x5a\x80") == 90.5


def test_crate_is_signed_0_208_percent_per_hour() -> None:
    # "CRATE: signed, 0.208 %/h, + = charging"
    assert m.CRATE.parse(b"\xff\x00") == pytest.approx(-256 * 0.208)
    assert m.CRATE.parse(b"\x01\x00") == pytest.approx(256 * 0.208)


def test_power_on_register_values() -> None:
    emulator = MAX17048Emulator()
    config = emulator.load(m.CONFIG)  # "POR 0x971C": RCOMP 0x97, ATHD 0x1C = 32 − 4 %
    assert (config.rcomp, config.athd) == (0x97, 0x1C)
    assert emulator.load(m.STATUS).ri is True  # "POR 0x01__ (RI set)"
    vreset = emulator.load(m.VRESET_ID)        # "default 0x96 → 3.0 V"
    assert vreset.vreset == pytest.approx(3.0)
    valrt = emulator.load(m.VALRT)             # "default 0x00FF", 20 mV/LSB
    assert (valrt.min, valrt.max) == pytest.approx((0.0, 5.1))


# -- identity ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("version", "is_17048"), [
    (0x000F, False), (0x0010, True), (0x0012, True), (0x001F, True), (0x0020, False),
    (0x0003, False),
])
def test_max17048_identity_is_version_masked_0x001x(version: int, is_17048: bool) -> None:
    # "Adafruit checks ver & 0xFFF0 == 0x0010"
    emulator = MAX17048Emulator()
    emulator.store(m.VERSION, version)
    bus = rig(emulator)
    assert MAX17048(bus=bus).probe() is is_17048
    if not is_17048:
        with pytest.raises(ChipError, match=f"0x{version:04X}"):
            MAX17048(bus=bus).check_identity()


def test_max17043_answers_version_3_and_is_told_apart() -> None:
    # "17043/44: 0x0003"
    bus = rig(MAX17043Emulator(STATE))
    assert MAX17043(bus=bus).probe()
    assert not MAX17048(bus=bus).probe()
    assert identify(bus, 0x36) == "max17043"


# -- commands -----------------------------------------------------------------------------------

def test_max17048_nacks_the_por_write_and_the_driver_accepts_that() -> None:
    # "0xFE CMD: POR reset 0x5400 ... MAX17048 NACKs this write — Adafruit treats OSError
    # as success"
    emulator = MAX17048Emulator(STATE)
    bus = rig(emulator)
    with pytest.raises(BusError) as caught:
        bus.write_i2c_block_data(0x36, 0xFE, [0x54, 0x00])
    assert is_nack(caught.value) and "register 0xFE" in str(caught.value)
    MAX17048(bus=bus).reset()
    assert emulator.resets == 2


def test_after_reset_vcell_reads_zero_until_the_model_updates() -> None:
    # "Reads 0 V for ~192 ms after reset (AF hw_tests, Issue #16)"
    emulator = MAX17048Emulator(STATE)
    driver = MAX17048(bus=rig(emulator))
    driver.reset()
    assert driver.read().voltage == 0.0
    assert emulator.load(m.STATUS).ri
    emulator.update(STATE)
    assert driver.read().voltage == pytest.approx(3.7, abs=m.VCELL_LSB_V)


def test_quick_start_is_mode_0x4000_big_endian() -> None:
    # "0x06 MODE (W): 0x4000 Quick-Start"
    emulator = MAX17048Emulator(STATE)
    bus = rig(emulator)
    MAX17048(bus=bus).quick_start()
    assert emulator.quick_starts == 1
    # the smbus2 pitfall (reference §0): write_word_data sends 0x00, 0x40 → no quick-start
    bus.write_word_data(0x36, 0x06, 0x4000)
    assert emulator.quick_starts == 1
    bus.write_word_data(0x36, 0x06, 0x0040)  # byte-swapped, as the kernel's _swapped does
    assert emulator.quick_starts == 2


@pytest.mark.parametrize("command", [0x5400, 0x0054])
def test_max17043_resets_on_either_byte_order_and_does_not_ack(command: int) -> None:
    # "Kernel writes 0x0054 for 17040/41/43/44 and 0x5400 for 17048+"; MAX17043/44 datasheet,
    # COMMAND Register: "The IC does not respond with an I2C ACK after this command sequence."
    emulator = MAX17043Emulator(STATE)
    bus = rig(emulator)
    with pytest.raises(BusError) as caught:
        bus.write_i2c_block_data(0x36, 0xFE, list(command.to_bytes(2, "big")))
    assert is_nack(caught.value)
    assert emulator.resets == 1
    assert MAX17043(bus=bus).read().voltage == 0.0


def test_max17043_driver_reset_copes_with_the_nack_and_checks_the_chip_is_back() -> None:
    emulator = MAX17043Emulator(STATE)
    bus = rig(emulator)
    MAX17043(bus=bus).reset()
    assert emulator.resets == 1
    assert bus.transactions(0x36) == 2  # the CMD write (NACKed) and VERSION


def test_reset_raises_when_nothing_answers_after_the_nack() -> None:
    # a NACK also means "nothing at this address": the VERSION read must then fail loudly
    bus = EmulatedBus()
    for driver in (MAX17043(bus=bus), MAX17048(bus=bus)):
        with pytest.raises(BusError) as caught:
            driver.reset()
        assert is_nack(caught.value) and "register 0x08" in str(caught.value)


# -- plausibility boundaries (wakebench bounds in hal.chips.base) -------------------------------

@pytest.mark.parametrize(("raw", "ok"), [(58880, True), (58881, False)])  # 4.6 V = 58880 LSB
def test_cell_voltage_bound_is_4_6_v(raw: int, ok: bool) -> None:
    emulator = MAX17048Emulator(STATE)
    emulator.image[0x02:0x04] = raw.to_bytes(2, "big")
    driver = MAX17048(bus=rig(emulator))
    if ok:
        assert driver.read().voltage == pytest.approx(4.6)
    else:
        with pytest.raises(ChipError, match=r"0x36 register VCELL \(0x02\)"):
            driver.read()


@pytest.mark.parametrize(("raw", "ok"), [(0x6900, True), (0x6901, False)])  # 105 % = 0x6900
def test_soc_bound_is_105_percent(raw: int, ok: bool) -> None:
    emulator = MAX17048Emulator(STATE)
    emulator.image[0x04:0x06] = raw.to_bytes(2, "big")
    driver = MAX17048(bus=rig(emulator))
    if ok:
        assert driver.read().soc == 105.0
    else:
        with pytest.raises(ChipError, match=r"register SOC \(0x04\)"):
            driver.read()


@pytest.mark.parametrize(("current", "charging"), [(0.0, False), (0.01, True), (-0.01, False)])
def test_charging_follows_crate_sign(current: float, charging: bool) -> None:
    # "CRATE ... + = charging"; 10 mA into 2000 mAh = 0.5 %/h ≥ one 0.208 %/h LSB
    emulator = MAX17048Emulator(BatteryState(voltage=3.7, soc=50.0, current=current,
                                             full_capacity=2000.0))
    assert MAX17048(bus=rig(emulator)).read().charging is charging
