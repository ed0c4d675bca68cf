"""TI INA219 on Waveshare UPS HATs: decodes, calibration, voltage SoC curves.

Facts quoted from reference/pi-hardware.md §1 "TI INA219" and §2 "Waveshare UPS HAT".
"""

from __future__ import annotations

import pytest

from hal.chips import (
    INA219,
    WAVESHARE_32V_2A,
    WAVESHARE_UPS_HAT_B,
    WAVESHARE_UPS_HAT_C,
    INA219Calibration,
    INA219Emulator,
    MAX17048Emulator,
)
from hal.chips import ina219 as ina
from hal.errors import ChipError
from hal.i2c import EmulatedBus
from hal.readings import BatteryState

PACK = BatteryState(voltage=7.8, soc=75.0, current=-0.8)


def rig(state: BatteryState = PACK, address: int = 0x42) -> tuple[EmulatedBus, INA219Emulator]:
    bus = EmulatedBus()
    emulator = INA219Emulator(state)
    bus.attach(address, emulator)
    return bus, emulator


def test_bus_voltage_is_raw_shifted_3_times_4_mv() -> None:
    # "0x02 BUS ((raw>>3)*4 mV; bit1 CNVR, bit0 OVF)": 0x5D9A >> 3 = 2995 → 11.980 V
    bus = ina.BUS_VOLTAGE.parse(b"\x5d\x9a")
    assert bus.voltage == pytest.approx(11.98)
    assert (bus.cnvr, bus.ovf) == (True, False)


def test_shunt_is_signed_10_microvolt_per_lsb() -> None:
    # "0x01 SHUNT (signed, 10 µV/LSB)": 0xFC18 = −1000 → −10 mV
    assert ina.SHUNT_VOLTAGE.parse(b"\xfc\x18") == pytest.approx(-0.010)


def test_config_words_decode_field_by_field() -> None:
    # "0x00 CONFIG (POR 0x399F)"; Waveshare "(1<<13)|(3<<11)|(0xD<<7)|(0xD<<3)|7 = 0x3EEF"
    por = ina.CONFIG.parse((0x399F).to_bytes(2, "big"))
    assert (por.rst, por.brng, por.pg, por.badc, por.sadc, por.mode) == (False, 1, 3, 3, 3, 7)
    ws = ina.CONFIG.parse((0x3EEF).to_bytes(2, "big"))
    assert (ws.brng, ws.pg, ws.badc, ws.sadc, ws.mode) == (1, 3, 0xD, 0xD, 7)


def test_waveshare_calibration_is_4096_at_0_1_ma_per_lsb() -> None:
    # "set_calibration_32V_2A: cal 4096, I_lsb 0.1 mA, P_lsb 2 mW"; cal = trunc(0.04096/(I_lsb×R))
    assert WAVESHARE_32V_2A.calibration == 4096
    assert WAVESHARE_32V_2A.current_lsb == pytest.approx(0.1e-3)
    assert WAVESHARE_32V_2A.power_lsb == pytest.approx(2e-3)
    assert WAVESHARE_32V_2A.config == 0x3EEF
    # "UPS HAT (D) variant: I_lsb 0.1524 mA, cal 26868" — a vendor-fixed value is kept as is
    hat_d = INA219Calibration(current_lsb=0.1524e-3, shunt_ohms=0.01, config=0x3EEF,
                              fixed_calibration=26868)
    assert hat_d.calibration == 26868


def test_current_and_power_read_zero_while_calibration_is_zero() -> None:
    # "current/power read 0 while cal = 0"
    bus, _ = rig()
    driver = INA219(bus=bus, address=0x42)
    assert driver.read_current_register() == 0.0
    assert driver.read_power_register() == 0.0
    assert driver.read().current == pytest.approx(-0.8)  # the shunt still tells the truth
    driver.configure()
    assert driver.read_current_register() == pytest.approx(-0.8)
    # POWER = |CURRENT| × BUS / 5000 counts: 8000 × 1950 / 5000 = 3120 × 2 mW = 6.24 W
    assert driver.read_power_register() == pytest.approx(6.24)


def test_reset_bit_restores_power_on_values_and_calibration_bit0_reads_zero() -> None:
    bus, emulator = rig()
    bus.write_i2c_block_data(0x42, 0x05, [0x10, 0x01])
    assert emulator.load(ina.CALIBRATION) == 0x1000
    bus.write_i2c_block_data(0x42, 0x00, [0x80, 0x00])
    assert emulator.resets == 1
    assert emulator.load(ina.CONFIG_RAW) == ina.CONFIG_POR
    assert emulator.load(ina.CALIBRATION) == 0


def test_identity_by_por_config_or_calibration_round_trip() -> None:
    bus, emulator = rig()
    driver = INA219(bus=bus, address=0x42)
    assert driver.probe() and bus.transactions(0x42) == 1   # CONFIG reads 0x399F
    driver.configure()
    bus.reset_counts()
    assert driver.probe() and bus.transactions(0x42) == 5   # CONFIG, CAL r/w/r, restore
    assert emulator.load(ina.CALIBRATION) == 4096           # restored


def test_a_register_file_that_does_not_echo_calibration_is_not_an_ina219() -> None:
    bus = EmulatedBus()
    bus.attach(0x40, MAX17048Emulator())
    driver = INA219(bus=bus)
    assert not driver.probe()
    with pytest.raises(ChipError, match=r"register CALIBRATION \(0x05\)"):
        driver.check_identity()


@pytest.mark.parametrize(("raw", "ok"), [(6500, True), (6501, False)])  # 26 V = 6500 × 4 mV
def test_bus_voltage_above_26_v_is_garbage(raw: int, ok: bool) -> None:
    bus, emulator = rig()
    emulator.words[0x02] = (raw << 3).to_bytes(2, "big")
    if ok:
        assert INA219(bus=bus, address=0x42).read().voltage == pytest.approx(26.0)
    else:
        with pytest.raises(ChipError, match=r"0x42 register BUS \(0x02\)"):
            INA219(bus=bus, address=0x42).read()


@pytest.mark.parametrize(("raw", "ok"), [(32000, True), (32001, False), (-32000, True),
                                         (-32001, False)])
def test_shunt_beyond_320_mv_is_garbage(raw: int, ok: bool) -> None:
    bus, emulator = rig()
    emulator.words[0x01] = raw.to_bytes(2, "big", signed=True)
    if ok:
        assert abs(INA219(bus=bus, address=0x42).read().current or 0) == pytest.approx(3.2)
    else:
        with pytest.raises(ChipError, match=r"register SHUNT \(0x01\)"):
            INA219(bus=bus, address=0x42).read()


@pytest.mark.parametrize(("voltage", "soc"), [(5.9, 0.0), (6.0, 0.0), (7.2, 50.0),
                                              (8.4, 100.0), (8.5, 100.0)])
def test_ups_hat_b_curve(voltage: float, soc: float) -> None:
    # "Waveshare UPS HAT / (B) ... SoC (V−6)/2.4×100 clamped"
    assert WAVESHARE_UPS_HAT_B(voltage) == pytest.approx(soc)


@pytest.mark.parametrize(("voltage", "soc"), [(2.9, 0.0), (3.0, 0.0), (3.6, 50.0),
                                              (4.2, 100.0), (4.3, 100.0)])
def test_ups_hat_c_curve(voltage: float, soc: float) -> None:
    # "UPS HAT (C) ... (V−3)/1.2×100"
    assert WAVESHARE_UPS_HAT_C(voltage) == pytest.approx(soc)


def test_curve_is_a_driver_parameter_and_charging_follows_the_current_sign() -> None:
    bus, emulator = rig()
    plain = INA219(bus=bus, address=0x42).read()
    assert plain.soc is None and plain.charging is False
    curved = INA219(bus=bus, address=0x42, soc_curve=WAVESHARE_UPS_HAT_B).read()
    assert curved.soc == pytest.approx(75.0)
    emulator.update(BatteryState(voltage=8.0, soc=0.0, current=1.2))
    assert INA219(bus=bus, address=0x42).read().charging is True
    inverted = INA219(bus=bus, address=0x42, invert_current=True).read()
    assert inverted.current == pytest.approx(-1.2) and inverted.charging is False


# -- datasheet behaviour beyond the readings (INA219 datasheet, TI SBOS448) ------------------------

def config_word(*, brng: int = 1, pg: int = 3, mode: int = 7) -> int:
    # Configuration Register: RST b15, BRNG b13, PG b12:11, BADC b10:7, SADC b6:3, MODE b2:0
    return brng << 13 | pg << 11 | 3 << 7 | 3 << 3 | mode


def write(bus: EmulatedBus, register: int, value: int, address: int = 0x42) -> None:
    bus.write_i2c_block_data(address, register, list(value.to_bytes(2, "big")))


@pytest.mark.parametrize(("pg", "full_scale"), [(0, 0.04), (1, 0.08), (2, 0.16), (3, 0.32)])
def test_pga_range_clips_the_shunt_and_sets_ovf(pg: int, full_scale: float) -> None:
    # PG table: /1 ±40 mV, /2 ±80 mV, /4 ±160 mV, /8 ±320 mV
    assert ina.PGA_FULL_SCALE_V[pg] == full_scale
    bus, emulator = rig(BatteryState(voltage=7.8, soc=75.0, current=-2.0))  # −200 mV
    write(bus, 0x00, config_word(pg=pg))
    shunt = emulator.load(ina.SHUNT_VOLTAGE)
    assert shunt == pytest.approx(max(-0.2, -full_scale))
    assert emulator.load(ina.BUS_VOLTAGE).ovf is (full_scale < 0.2)


def test_the_driver_refuses_a_current_read_through_an_overflowed_pga() -> None:
    # "an auto-ranging driver then reads 0.40 A for 2.0 A": OVF is what tells it not to
    bus, _ = rig(BatteryState(voltage=7.8, soc=75.0, current=2.0))
    write(bus, 0x00, config_word(pg=0))
    with pytest.raises(ChipError, match=r"0x42 register BUS \(0x02\): OVF"):
        INA219(bus=bus, address=0x42).read()
    write(bus, 0x00, config_word(pg=3))
    assert INA219(bus=bus, address=0x42).read().current == pytest.approx(2.0)


def test_current_register_overflow_sets_ovf() -> None:
    # OVF "is set when the Power or Current calculations are out of range": a calibration for
    # 0.01 mA/LSB (cal 40960) overflows CURRENT at 0.33 A
    bus, emulator = rig(BatteryState(voltage=7.8, soc=75.0, current=-0.8))
    write(bus, 0x05, 40960)
    assert emulator.load(ina.CURRENT) == -0x8000
    assert emulator.load(ina.BUS_VOLTAGE).ovf


@pytest.mark.parametrize(("brng", "expected"), [(0, 16.0), (1, 20.0)])
def test_brng_sets_the_bus_full_scale(brng: int, expected: float) -> None:
    # BRNG 0 = 16 V FSR, 1 = 32 V FSR
    bus, emulator = rig(BatteryState(voltage=20.0, soc=75.0, current=-0.8))
    write(bus, 0x00, config_word(brng=brng))
    assert emulator.load(ina.BUS_VOLTAGE).voltage == pytest.approx(expected)


def test_reading_power_clears_conversion_ready() -> None:
    # CNVR "will clear ... reading the Power Register"; set again by the next conversion
    bus, emulator = rig()
    driver = INA219(bus=bus, address=0x42)
    assert emulator.load(ina.BUS_VOLTAGE).cnvr
    driver.read_power_register()
    assert not emulator.load(ina.BUS_VOLTAGE).cnvr
    emulator.update(PACK)
    assert emulator.load(ina.BUS_VOLTAGE).cnvr


def test_power_down_stops_conversions_and_triggered_modes_convert_once() -> None:
    # MODE 000 power-down; 011 shunt and bus, triggered; 111 continuous
    bus, emulator = rig()
    driver = INA219(bus=bus, address=0x42)
    write(bus, 0x00, config_word(mode=0b000))
    emulator.update(BatteryState(voltage=7.0, soc=40.0, current=-0.5))
    assert driver.read().voltage == pytest.approx(7.8)
    write(bus, 0x00, config_word(mode=0b011))      # one conversion of the latest state
    assert driver.read().current == pytest.approx(-0.5)
    driver.read_power_register()
    emulator.update(BatteryState(voltage=6.8, soc=30.0, current=-0.3))
    reading = driver.read()
    assert (reading.voltage, reading.current) == (pytest.approx(7.0), pytest.approx(-0.5))
    assert not emulator.load(ina.BUS_VOLTAGE).cnvr  # no new conversion since POWER was read
    write(bus, 0x00, config_word(mode=0b111))
    emulator.update(BatteryState(voltage=6.8, soc=30.0, current=-0.3))
    assert driver.read().voltage == pytest.approx(6.8)


def test_bus_only_mode_leaves_the_shunt_alone() -> None:
    # MODE 110: bus voltage, continuous
    bus, emulator = rig()
    write(bus, 0x00, config_word(mode=0b110))
    emulator.update(BatteryState(voltage=7.0, soc=40.0, current=-0.5))
    assert emulator.load(ina.SHUNT_VOLTAGE) == pytest.approx(-0.08)
    assert emulator.load(ina.BUS_VOLTAGE).voltage == pytest.approx(7.0)


def test_raw_bus_word_layout_matches_the_declaration() -> None:
    # "0x02 BUS ((raw>>3)*4 mV; bit1 CNVR, bit0 OVF)": the emulator's raw masks agree
    word = ina.BUS_VOLTAGE.build({"voltage": 4 * ina.BUS_LSB_V, "cnvr": True, "ovf": True})
    assert int.from_bytes(word, "big") == 4 << ina._BUS_SHIFT | ina._CNVR | ina._OVF


class Clock:
    """Seconds the test sets (the chip's real time, stepped)."""

    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def test_conversion_cycle_follows_the_adc_settings_table() -> None:
    # Waveshare 0x3EEF: BADC = SADC = 1101 (12-bit, 32 samples, 17.02 ms), MODE 111: 34.04 ms
    assert ina.conversion_cycle_s(0x3EEF) == pytest.approx(2 * 17.02e-3)
    # POR 0x399F: BADC = SADC = 0011 (12-bit, 532 µs)
    assert ina.conversion_cycle_s(ina.CONFIG_POR) == pytest.approx(2 * 532e-6)
    assert ina.conversion_cycle_s(config_word(mode=0b110)) == pytest.approx(532e-6)  # bus only
    assert ina.conversion_cycle_s(config_word(mode=0b011)) is None  # triggered: no CNVR to expect
    # stuck after twice the cycle, never sooner than 0.1 s (wakebench bounds)
    assert ina.cnvr_stuck_after_s(0x3EEF) == pytest.approx(ina.CNVR_STUCK_MIN_S)
    assert ina.cnvr_stuck_after_s(config_word(mode=0b111) | 0xF << 7 | 0xF << 3) == \
        pytest.approx(ina.CNVR_STUCK_CYCLES * 2 * 68.10e-3)


def test_a_frozen_chip_is_stuck_once_cnvr_stays_clear_past_the_bound() -> None:
    # CNVR "set after all conversions ... complete"; cleared by reading POWER (datasheet BUS reg.)
    bus, emulator = rig()
    clock = Clock()
    driver = INA219(bus=bus, address=0x42, clock=clock)
    assert driver.read().transactions == 3                   # BUS, SHUNT, POWER (clears CNVR)
    assert not emulator.load(ina.BUS_VOLTAGE).cnvr
    clock.t += ina.CNVR_STUCK_MIN_S / 2                      # no conversion yet: same values
    assert driver.read().voltage == pytest.approx(PACK.voltage)
    clock.t += ina.CNVR_STUCK_MIN_S                          # a whole bound without a conversion
    with pytest.raises(ChipError, match=r"0x42 .*CNVR .*stuck"):
        driver.read()
    with pytest.raises(ChipError, match="stuck"):            # and stays stuck on a re-read
        driver.read()
    emulator.update(BatteryState(voltage=7.5, soc=60.0, current=-0.6))  # converting again
    assert driver.read().voltage == pytest.approx(7.5)


def test_a_converting_chip_is_never_stuck_whatever_the_poll_interval() -> None:
    bus, emulator = rig()
    clock = Clock()
    driver = INA219(bus=bus, address=0x42, clock=clock)
    for step in range(20):
        clock.t += 1.0 + step
        emulator.update(PACK)
        assert driver.read().voltage == pytest.approx(PACK.voltage)


def test_the_emulated_stuck_fault_on_bus_is_caught_unless_it_holds_cnvr_set() -> None:
    bus, emulator = rig()
    clock = Clock()
    driver = INA219(bus=bus, address=0x42, clock=clock)
    driver.read()
    frozen = emulator.words[ina.BUS_VOLTAGE.address]         # as last read: CNVR clear
    bus.inject_stuck(0x42, ina.BUS_VOLTAGE.address, frozen)
    clock.t += 1.0
    emulator.update(PACK)                                     # converts, but BUS reads frozen
    with pytest.raises(ChipError, match="stuck"):
        driver.read()
    # a BUS word stuck with CNVR set looks like a converting chip: not detectable
    bus.inject_stuck(0x42, ina.BUS_VOLTAGE.address, bytes([frozen[0], frozen[1] | ina._CNVR]))
    clock.t += 1.0
    assert driver.read().voltage == pytest.approx(PACK.voltage)


def test_no_stuck_check_outside_continuous_modes_or_without_a_clock() -> None:
    bus, _emulator = rig()
    clock = Clock()
    triggered = INA219(bus=bus, address=0x42, clock=clock,
                       calibration=INA219Calibration(current_lsb=0.1e-3, shunt_ohms=0.1,
                                                     config=config_word(mode=0b011)))
    triggered.read()
    clock.t += 10.0
    assert triggered.read().voltage == pytest.approx(PACK.voltage)
    plain = INA219(bus=bus, address=0x42)
    assert plain.read().transactions == 2
    assert plain.read().transactions == 2


def test_the_registry_driver_checks_cnvr_on_real_time() -> None:
    from hal.chips import CHIPS

    driver = CHIPS["ina219"].make_driver(EmulatedBus(), 0x42, {})
    assert isinstance(driver, INA219) and driver.clock is not None
