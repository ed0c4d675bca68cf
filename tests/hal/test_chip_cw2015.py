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


# -- battery profile: RAM that survives restarts but not a power cycle [K-cw cw_init] -------------

PROFILE = bytes(range(0x80, 0x80 + cw.PROFILE_SIZE))


def test_load_profile_writes_it_sets_ufg_and_restarts_the_gauge() -> None:
    # kernel cw_update_profile: write BATINFO, "set config update flag", restart "to apply"
    bus, emulator = rig()
    driver = CW2015(bus=bus, profile=PROFILE)
    assert not emulator.load(cw.CONFIG).ufg           # a fresh chip has no profile
    assert driver.load_profile() is True
    assert emulator.profile == PROFILE and emulator.load(cw.CONFIG).ufg
    assert emulator.restarts == 1 and not emulator.restarting
    emulator.update(STATE)
    assert driver.read().voltage == pytest.approx(3.85, abs=cw.VCELL_LSB_V)


def test_profile_survives_a_driver_restart_and_the_chips_own_restart() -> None:
    bus, emulator = rig()
    CW2015(bus=bus, profile=PROFILE).load_profile()
    bus.write_byte_data(0x62, 0x0A, cw.MODE_RESTART)  # MODE 0x0F
    bus.write_byte_data(0x62, 0x0A, cw.MODE_NORMAL)
    CW2015(bus=bus).quick_start()                     # MODE 0x30
    assert emulator.profile == PROFILE and emulator.load(cw.CONFIG).ufg
    restarted = CW2015(bus=bus, profile=PROFILE)      # a new driver process
    assert restarted.load_profile() is False          # UFG set and the profile matches
    assert emulator.restarts == 2                     # nothing re-written, no extra restart


def test_a_power_cycle_loses_the_profile_and_the_driver_rewrites_it_when_ufg_is_clear() -> None:
    bus, emulator = rig()
    driver = CW2015(bus=bus, profile=PROFILE)
    driver.load_profile()
    emulator.power_cycle()
    assert emulator.profile == bytes(cw.PROFILE_SIZE) and not emulator.load(cw.CONFIG).ufg
    emulator.update(STATE)
    reading = driver.read()                           # sees UFG clear in its one block read
    assert driver.profile_loads == 2 and emulator.profile == PROFILE
    assert reading.transactions > 1                   # the reload is counted
    emulator.update(STATE)
    assert driver.read().transactions == 1            # and only once


def test_a_different_stored_profile_is_replaced() -> None:
    # kernel cw_init: "Replacing stored battery profile" when memcmp differs
    bus, emulator = rig()
    CW2015(bus=bus, profile=bytes(cw.PROFILE_SIZE - 1) + b"\x01").load_profile()
    assert CW2015(bus=bus, profile=PROFILE).load_profile() is True
    assert emulator.profile == PROFILE


def test_a_driver_without_a_profile_ignores_ufg_and_refuses_to_load() -> None:
    bus, _ = rig()
    driver = CW2015(bus=bus)
    assert driver.read().transactions == 1
    with pytest.raises(ChipError, match="no battery profile"):
        driver.load_profile()
    with pytest.raises(ValueError, match="64 bytes"):
        CW2015(bus=bus, profile=b"\x00")


def test_soc_below_athd_sets_the_alert_bit() -> None:
    # CONFIG ATHD bits 7:3 [K-cw CW2015_ATHD(x) = x << 3]; RRT_ALERT bit 15 ALRT
    bus, emulator = rig()
    bus.write_byte_data(0x62, 0x08, 10 << 3)
    emulator.update(STATE)
    assert not emulator.load(cw.RRT_ALERT).alrt
    emulator.update(BatteryState(voltage=3.5, soc=9.5, current=-0.5, remaining_capacity=100.0,
                                 full_capacity=2500.0))
    assert emulator.load(cw.RRT_ALERT).alrt


def test_raw_masks_match_the_declarations() -> None:
    assert cw.CONFIG.build({"athd": 0x1F, "ufg": False})[0] == 0x1F << cw._ATHD_SHIFT
    assert cw.RRT_ALERT.build({"alrt": True, "rrt": 0})[0] == cw._ALRT_BIT
