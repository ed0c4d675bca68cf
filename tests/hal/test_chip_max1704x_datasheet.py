"""MAX17043/44 and MAX17048/49 emulators beyond the readings: alerts, sleep, hibernate, factory
registers. Each test names the datasheet section it checks ([DS-48] MAX17048/MAX17049,
[DS-43] MAX17043/MAX17044; see the comment block above the emulators in hal/chips/max1704x.py).
"""

from __future__ import annotations

import pytest

from hal.chips import MAX17043, MAX17048, MAX17043Emulator, MAX17048Emulator
from hal.chips import max1704x as m
from hal.i2c import EmulatedBus
from hal.readings import BatteryState


class ManualClock:
    """Seconds the test advances by hand."""

    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def state(voltage: float = 3.7, soc: float = 55.0, current: float = -0.3) -> BatteryState:
    return BatteryState(voltage=voltage, soc=soc, current=current, full_capacity=2000.0)


def on_bus(emulator: MAX17048Emulator | MAX17043Emulator) -> EmulatedBus:
    bus = EmulatedBus()
    bus.attach(0x36, emulator)
    return bus


def write_word(bus: EmulatedBus, register: int, value: int) -> None:
    bus.write_i2c_block_data(0x36, register, list(value.to_bytes(2, "big")))


def read_word(bus: EmulatedBus, register: int) -> int:
    return int.from_bytes(bytes(bus.read_i2c_block_data(0x36, register, 2)), "big")


# -- factory registers ---------------------------------------------------------------------------

def test_version_and_id_are_factory_values_and_ignore_writes() -> None:
    # [DS-48] Register Summary: VERSION read-only; VRESET/ID "ID ... Writes to these bits are
    # ignored" (quoted in SparkFun's qwiic_max1704x.get_id)
    emulator = MAX17048Emulator(state())
    bus = on_bus(emulator)
    write_word(bus, 0x08, 0xBEEF)
    write_word(bus, 0x18, 0x7A55)
    assert read_word(bus, 0x08) == m.VERSION_17048_EMULATED
    vreset_id = emulator.load(m.VRESET_ID)
    assert vreset_id.id == m.ID_EMULATED             # the ID byte kept its factory value
    assert vreset_id.vreset == pytest.approx(0x3D * m.VRESET_LSB_V)  # VRESET took the write
    assert vreset_id.dis is False


# -- STATUS / CONFIG.ALRT ----------------------------------------------------------------------------

def test_power_on_sets_ri_but_not_the_alert_pin() -> None:
    # [DS-48] STATUS POR 0x01__ (RI) while CONFIG POR 0x971C has ALRT clear
    emulator = MAX17048Emulator(state())
    assert emulator.load(m.STATUS).ri and not emulator.alert
    bus = on_bus(emulator)
    bus.write_i2c_block_data(0x36, 0x1A, [0x00])   # the host clears RI by writing 0
    assert not emulator.load(m.STATUS).ri


def test_voltage_high_and_low_follow_valrt_and_raise_alrt() -> None:
    # [DS-48] STATUS: "VH (voltage high) is set when VCELL has been above ALRT.VALRTMAX",
    # "VL ... below ALRT.VALRTMIN"; VALRT 20 mV/LSB, MIN high byte, MAX low byte
    emulator = MAX17048Emulator(state(voltage=3.7))
    bus = on_bus(emulator)
    write_word(bus, 0x14, (175 << 8) | 210)         # MIN 3.50 V, MAX 4.20 V
    emulator.update(state(voltage=3.7))
    assert not emulator.alert
    emulator.update(state(voltage=4.25))
    assert emulator.load(m.STATUS).vh and emulator.alert
    bus.write_i2c_block_data(0x36, 0x1A, [0x00])    # clear STATUS
    write_word(bus, 0x0C, 0x971C)                   # clear CONFIG.ALRT
    emulator.update(state(voltage=3.45))
    status = emulator.load(m.STATUS)
    assert status.vl and not status.vh and emulator.alert


def test_clearing_alrt_leaves_status_bits_alone() -> None:
    # [DS-48] CONFIG.ALRT: "Clear this bit to service and deassert the ALRT pin"; the sheet
    # names no side effect on STATUS (max17048-smbus claims one; not emulated)
    emulator = MAX17048Emulator(state())
    bus = on_bus(emulator)
    write_word(bus, 0x14, 0x00C8)                   # MAX 4.00 V
    emulator.update(state(voltage=4.1))
    write_word(bus, 0x0C, 0x971C)
    assert not emulator.alert and emulator.load(m.STATUS).vh


@pytest.mark.parametrize("emulator_class", [MAX17048Emulator, MAX17043Emulator])
def test_soc_crossing_below_the_athd_threshold_raises_the_empty_alert(
        emulator_class: type[MAX17048Emulator] | type[MAX17043Emulator]) -> None:
    # [DS-48] "HD (SOC low) is set when SOC crosses the value in CONFIG.ATHD"; [DS-43] "Alert
    # Interrupt": ALRT set when SOC falls below the threshold; threshold = 32 − ATHD %
    emulator = emulator_class(state(soc=10.0))
    assert emulator.empty_alert_pct == 4            # POR ATHD 0x1C
    emulator.update(state(soc=4.0))
    assert not emulator.alert                       # at the threshold, not below it
    emulator.update(state(soc=3.9))
    assert emulator.alert
    bus = on_bus(emulator)
    write_word(bus, 0x0C, 0x9700 | (32 - 20))       # ALRT cleared, threshold 20 %
    assert emulator.empty_alert_pct == 20 and not emulator.alert
    emulator.update(state(soc=3.5))                 # still below: no new crossing
    assert not emulator.alert
    emulator.update(state(soc=25.0))
    emulator.update(state(soc=19.5))
    assert emulator.alert
    if isinstance(emulator, MAX17048Emulator):
        assert emulator.load(m.STATUS).hd


def test_one_percent_soc_change_alert_needs_alsc() -> None:
    # [DS-48] "SC (1% SOC change) is set when SOC changes by at least 1% if CONFIG.ALSC is set"
    emulator = MAX17048Emulator(state(soc=50.0))
    bus = on_bus(emulator)
    emulator.update(state(soc=48.0))
    assert not emulator.load(m.STATUS).sc           # ALSC clear at POR
    write_word(bus, 0x0C, 0x971C | 0x40)            # ALSC
    emulator.update(state(soc=48.0))
    emulator.update(state(soc=47.5))
    assert not emulator.load(m.STATUS).sc
    emulator.update(state(soc=47.0))
    assert emulator.load(m.STATUS).sc and emulator.alert


# -- sleep ---------------------------------------------------------------------------------------

def test_max17048_sleep_needs_ensleep_and_freezes_the_readings() -> None:
    # [DS-48] CONFIG.SLEEP: "forces the IC in or out of sleep mode if MODE.EnSleep is set";
    # "Sleep Mode": the IC halts all operations
    emulator = MAX17048Emulator(state(voltage=3.7))
    bus = on_bus(emulator)
    driver = MAX17048(bus=bus)
    write_word(bus, 0x0C, 0x971C | 0x80)            # SLEEP without EnSleep: ignored
    emulator.update(state(voltage=3.6))
    assert driver.read().voltage == pytest.approx(3.6, abs=m.VCELL_LSB_V)
    write_word(bus, 0x06, 0x2000)                   # EnSleep
    assert emulator.asleep
    emulator.update(state(voltage=3.5, soc=2.0))
    reading = driver.read()
    assert reading.voltage == pytest.approx(3.6, abs=m.VCELL_LSB_V) and reading.soc == 55.0
    assert not emulator.alert                       # no conversion, no alert
    write_word(bus, 0x0C, 0x971C)                   # SLEEP = 0: back to work
    emulator.update(state(voltage=3.5, soc=2.0))
    assert driver.read().voltage == pytest.approx(3.5, abs=m.VCELL_LSB_V)
    assert emulator.alert


def test_max17043_sleep_bit_alone_freezes_the_readings() -> None:
    # [DS-43] CONFIG.SLEEP: "Writing to 1 forces the IC into sleep mode"; no EnSleep on 17043
    emulator = MAX17043Emulator(state(voltage=3.7))
    bus = on_bus(emulator)
    write_word(bus, 0x0C, 0x971C | 0x80)
    emulator.update(state(voltage=3.4))
    assert MAX17043(bus=bus).read().voltage == pytest.approx(3.7, abs=m.VCELL12_LSB_V)
    write_word(bus, 0x0C, 0x971C)
    emulator.update(state(voltage=3.4))
    assert MAX17043(bus=bus).read().voltage == pytest.approx(3.4, abs=m.VCELL12_LSB_V)


def test_quick_start_keeps_ensleep_and_hibstat_is_read_only() -> None:
    # [DS-48] MODE: Quick-Start bit 14, EnSleep bit 13 (R/W), HibStat bit 12 (read-only)
    emulator = MAX17048Emulator(state())
    bus = on_bus(emulator)
    write_word(bus, 0x06, 0x6000 | 0x1000)          # quick-start + EnSleep + (ignored) HibStat
    mode = emulator.load(m.MODE)
    assert emulator.quick_starts == 1
    assert (mode.quick_start, mode.en_sleep, mode.hib_stat) == (False, True, False)


# -- hibernate -------------------------------------------------------------------------------

def test_hibrt_ffff_hibernates_at_once_and_converts_every_45_s() -> None:
    # [DS-48] HIBRT: "To always use hibernate mode, set HIBRT = 0xFFFF"; "Hibernate Mode":
    # ADC conversions every 45 s
    clock = ManualClock()
    emulator = MAX17048Emulator(state(voltage=3.7), clock=clock)
    bus = on_bus(emulator)
    write_word(bus, 0x0A, m.HIBRT_ALWAYS)
    assert emulator.hibernating and emulator.load(m.MODE).hib_stat
    clock.t = m.HIBERNATE_CONVERSION_PERIOD_S - 0.5
    emulator.update(state(voltage=3.6))
    assert MAX17048(bus=bus).read().voltage == pytest.approx(3.7, abs=m.VCELL_LSB_V)
    clock.t = m.HIBERNATE_CONVERSION_PERIOD_S
    emulator.update(state(voltage=3.6))
    assert MAX17048(bus=bus).read().voltage == pytest.approx(3.6, abs=m.VCELL_LSB_V)
    write_word(bus, 0x0A, m.HIBRT_NEVER)            # "To disable hibernate mode, set 0x0000"
    assert not emulator.hibernating
    clock.t += 1.0
    emulator.update(state(voltage=3.55))
    assert MAX17048(bus=bus).read().voltage == pytest.approx(3.55, abs=m.VCELL_LSB_V)


def test_without_a_clock_hibernate_holds_the_last_conversion() -> None:
    emulator = MAX17048Emulator(state(voltage=3.7))
    bus = on_bus(emulator)
    write_word(bus, 0x0A, m.HIBRT_ALWAYS)
    emulator.update(state(voltage=3.6))
    assert MAX17048(bus=bus).read().voltage == pytest.approx(3.7, abs=m.VCELL_LSB_V)


def test_low_charge_rate_for_six_minutes_enters_hibernate_and_activity_leaves_it() -> None:
    # [DS-48] HIBRT: hibernate when |CRATE| < HibThr for longer than 6 min (POR HibThr 0x80 =
    # 26.6 %/h); leave on activity above ActThr (POR 0x30 = 60 mV)
    clock = ManualClock()
    idle = state(voltage=3.7, current=-0.01)        # 0.5 %/h into 2000 mAh
    emulator = MAX17048Emulator(idle, clock=clock)
    for t in (1.0, 200.0, m.HIBERNATE_ENTRY_S):
        clock.t = t
        emulator.update(idle)
    assert not emulator.hibernating
    clock.t = m.HIBERNATE_ENTRY_S + 1.5
    emulator.update(idle)
    assert emulator.hibernating
    clock.t += 1.0
    emulator.update(state(voltage=3.7 - 0.061, current=-1.0))
    assert not emulator.hibernating
    assert emulator.load(m.VCELL) == pytest.approx(3.639, abs=m.VCELL_LSB_V)


def test_raw_bit_masks_match_the_register_declarations() -> None:
    # the emulator's per-conversion checks use raw masks; they must be the BitStruct's bits
    config = m.CONFIG.build({"rcomp": 0, "sleep": True, "alsc": True, "alrt": True, "athd": 0x1F})
    assert config[1] == m._CONFIG_SLEEP | m._CONFIG_ALSC | m._CONFIG_ALRT | m._CONFIG_ATHD
    mode = m.MODE.build({"quick_start": False, "en_sleep": True, "hib_stat": True})
    assert mode[0] == m._MODE_EN_SLEEP | m._MODE_HIB_STAT
    status = m.STATUS.build({"en_vr": False, "sc": True, "hd": True, "vr": False, "vl": True,
                             "vh": True, "ri": False})
    assert status[0] == m._STATUS_SC | m._STATUS_HD | m._STATUS_VL | m._STATUS_VH


# -- VRESET/ID and STATUS.EnVr / VR [DS-48 "VRESET/ID Register", "STATUS Register"] ------------

def test_vreset_por_is_3_v_with_the_comparator_on() -> None:
    # VRESET/ID POR 0x96__: VRESET bits 15:9 = 0x4B × 40 mV = 3.0 V, Dis (bit 8) = 0
    emulator = MAX17048Emulator(state())
    assert emulator.reset_voltage == pytest.approx(3.0)
    assert not emulator.comparator_disabled
    assert emulator.load(m.VRESET_ID).vreset == pytest.approx(3.0)


def test_removal_and_reinsertion_sets_vr_and_alrt_only_with_envr() -> None:
    # "VR (voltage reset) is set after the device has been reset if EnVr is set"; EnVr "asserts
    # the ALRT pin when a voltage-reset event occurs"
    emulator = MAX17048Emulator(state())
    bus = on_bus(emulator)
    write_word(bus, 0x1A, 0x0000)                      # clear RI
    emulator.update(state(voltage=2.4))                 # below VRESET 3.0 V: battery removed
    assert emulator.battery_removed
    emulator.update(state(voltage=3.8))                 # reinserted: the IC resets
    assert emulator.voltage_resets == 1 and not emulator.battery_removed
    assert not emulator.load(m.STATUS).vr and not emulator.alert  # EnVr clear: no flag, no pin
    write_word(bus, 0x1A, 0x4000)                      # EnVr
    emulator.update(state(voltage=2.9))
    assert not emulator.load(m.STATUS).vr               # removal alone is no reset
    emulator.update(state(voltage=3.0))                 # at the threshold: back
    assert emulator.voltage_resets == 2
    assert emulator.load(m.STATUS).vr and emulator.load(m.STATUS).en_vr and emulator.alert


def test_the_threshold_follows_the_written_vreset() -> None:
    # "For captive batteries, set to 2.5 V"
    emulator = MAX17048Emulator(state())
    bus = on_bus(emulator)
    write_word(bus, 0x18, (round(2.5 / m.VRESET_LSB_V) << 9) | 0x5A)  # the ID half is ignored
    assert emulator.reset_voltage == pytest.approx(2.5, abs=m.VRESET_LSB_V)  # 40 mV steps
    assert emulator.load(m.VRESET_ID).id == m.ID_EMULATED
    emulator.update(state(voltage=2.7))                 # below 3.0 V but above 2.5 V: present
    emulator.update(state(voltage=3.8))
    assert emulator.voltage_resets == 0


def test_dis_turns_the_comparator_off_in_hibernate_so_only_a_conversion_sees_the_voltage() -> None:
    # "Set Dis = 1 to disable the analog comparator in hibernate mode"; without it the IC
    # resets "250 ms after the VCELL register rises above the threshold" (the ADC's view)
    clock = ManualClock()
    emulator = MAX17048Emulator(state(), clock=clock)
    bus = on_bus(emulator)
    write_word(bus, 0x1A, 0x4000)
    write_word(bus, 0x18, (0x96 << 8) | 0x0100)         # 3.0 V, Dis = 1
    write_word(bus, 0x0A, m.HIBRT_ALWAYS)
    clock.t = 1.0
    emulator.update(state(voltage=2.5))                 # between conversions, comparator off
    emulator.update(state(voltage=3.8))
    assert emulator.voltage_resets == 0                 # the dip was never seen
    clock.t += m.HIBERNATE_CONVERSION_PERIOD_S
    emulator.update(state(voltage=2.5))                 # a conversion sees it
    clock.t += m.HIBERNATE_CONVERSION_PERIOD_S
    emulator.update(state(voltage=3.8))
    assert emulator.voltage_resets == 1 and emulator.load(m.STATUS).vr
    write_word(bus, 0x18, 0x9600)                       # Dis = 0: the comparator watches again
    clock.t += 1.0
    emulator.update(state(voltage=2.5))
    emulator.update(state(voltage=3.8))
    assert emulator.voltage_resets == 2


def test_sleep_halts_the_comparator_too() -> None:
    # "In sleep mode, the IC halts all operations"
    emulator = MAX17048Emulator(state())
    bus = on_bus(emulator)
    write_word(bus, 0x06, 0x2000)                      # EnSleep
    write_word(bus, 0x0C, 0x971C | 0x80)               # SLEEP
    emulator.update(state(voltage=2.0))
    emulator.update(state(voltage=3.8))
    assert emulator.voltage_resets == 0 and not emulator.battery_removed


def test_status_and_vreset_masks_match_the_declarations() -> None:
    word = m.STATUS.build({"en_vr": True, "sc": False, "hd": False, "vr": True, "vl": False,
                           "vh": False, "ri": True})
    assert word[0] == m._STATUS_ENVR | m._STATUS_VR | m._STATUS_RI
    raw = m.VRESET_ID.build({"vreset": 2.5, "dis": True, "id": 0})
    assert raw[0] & m._VRESET_DIS and raw[0] >> 1 == round(2.5 / m.VRESET_LSB_V)
