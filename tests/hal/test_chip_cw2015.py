"""CellWise CW2015 (UPS-Lite v1.3): decodes, MODE commands, identity.

Facts quoted from reference/pi-hardware.md §1 "CellWise CW2015".
"""

from __future__ import annotations

import pytest

from hal.chips import CW2015, CW2015Emulator
from hal.chips import cw2015 as cw
from hal.errors import ChipError
from hal.i2c import EmulatedBus
from hal.readings import BatteryState

STATE = BatteryState(voltage=3.85, soc=72.5, current=-0.5, remaining_capacity=1000.0,
                     full_capacity=2500.0)


def rig(state: BatteryState = STATE) -> tuple[EmulatedBus, CW2015Emulator]:
    bus = EmulatedBus()
    emulator = CW2015Emulator(state)
    bus.attach(0x62, emulator)
    return bus, emulator


def test_vcell_is_14_bit_305_microvolt_per_lsb() -> None:
    # "0x02 VCELL 14-bit, 305 µV/LSB": 0x3156 = 12630 → 3.85215 V; bits 15:14 ignored
    assert cw.VCELL.parse(b"\x31\x56") == pytest.approx(12630 * 305e-6)
    assert cw.VCELL.parse(b"\xf1\x56") == pytest.approx(12630 * 305e-6)


def test_soc_is_high_byte_percent_plus_low_byte_over_256() -> None:
    # "0x04 SOC (hi byte %, lo /256; >100 = invalid)"
    assert cw.SOC.parse(b"\x48\x80") == 72.5


@pytest.mark.parametrize(("high", "ok"), [(100, True), (101, False)])
def test_soc_high_byte_above_100_is_invalid(high: int, ok: bool) -> None:
    bus, emulator = rig()
    emulator.image[0x04:0x06] = bytes([high, 0x00])
    if ok:
        assert CW2015(bus=bus).read().soc == 100.0
    else:
        with pytest.raises(ChipError, match=r"0x62 register SOC \(0x04\)"):
            CW2015(bus=bus).read()


def test_read_is_one_block_transaction() -> None:
    bus, _ = rig()
    reading = CW2015(bus=bus).read()
    assert reading.transactions == 1 == bus.transactions(0x62)
    assert reading.voltage == pytest.approx(3.85, abs=cw.VCELL_LSB_V)
    assert reading.soc == 72.5
    assert reading.charging is None  # no current measurement on this chip


def test_ups_lite_quick_start_word_write() -> None:
    # "UPS-Lite v1.3 quick-start: write_word_data(0x62, 0x0A, 0x30)"
    bus, emulator = rig()
    bus.write_word_data(0x62, 0x0A, 0x30)
    assert emulator.quick_starts == 1
    CW2015(bus=bus).quick_start()
    assert emulator.quick_starts == 2


def test_restart_returns_to_power_on_values_and_sleep_freezes() -> None:
    # "0x0A MODE (0xC0 sleep, 0x00 normal, 0x30 quick-start, 0x0F restart/POR)"
    bus, emulator = rig()
    driver = CW2015(bus=bus)
    bus.write_byte_data(0x62, 0x0A, cw.MODE_RESTART)
    assert emulator.restarts == 1 and driver.read().voltage == 0.0
    bus.write_byte_data(0x62, 0x0A, cw.MODE_SLEEP)
    emulator.update(STATE)
    assert driver.read().voltage == 0.0
    driver.wake()
    emulator.update(STATE)
    assert driver.read().voltage == pytest.approx(3.85, abs=cw.VCELL_LSB_V)


def test_time_to_empty_is_rrt_minutes() -> None:
    # "0x06 RRT_ALERT (bits12:0 minutes to empty)": 1000 mAh at 500 mA = 120 min
    bus, _ = rig()
    assert CW2015(bus=bus).time_to_empty() == 120 * 60


def test_identity_is_the_version_register() -> None:
    bus, emulator = rig()
    driver = CW2015(bus=bus)
    assert driver.probe()
    emulator.store(cw.VERSION, 0x11)
    assert not driver.probe()
    with pytest.raises(ChipError, match=r"VERSION \(0x00\) reads 0x11, expected 0x6F"):
        driver.check_identity()
