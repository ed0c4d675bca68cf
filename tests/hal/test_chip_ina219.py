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
