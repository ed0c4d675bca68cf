"""Emulator driven by a BatteryState → driver reads back the same values within one LSB."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hal.chips import CHIPS, INA219, WAVESHARE_UPS_HAT_B, bq27441, cw2015, ina219, lc709203f, max1704x
from hal.readings import BatteryState

# One LSB of each field per chip (the chip modules' named scale factors).
LSB: dict[str, dict[str, float]] = {
    "max17048": {"voltage": max1704x.VCELL_LSB_V, "soc": max1704x.SOC_LSB_PCT,
                 "charge_rate": max1704x.CRATE_LSB_PCT_PER_H},
    "max17049": {"voltage": max1704x.VCELL_LSB_V_17049, "soc": max1704x.SOC_LSB_PCT,
                 "charge_rate": max1704x.CRATE_LSB_PCT_PER_H},
    "max17043": {"voltage": max1704x.VCELL12_LSB_V, "soc": max1704x.SOC_LSB_PCT},
    "max17044": {"voltage": max1704x.VCELL12_LSB_V_17044, "soc": max1704x.SOC_LSB_PCT},
    "bq27441": {"voltage": bq27441.VOLTAGE_LSB_V, "soc": bq27441.SOC_LSB_PCT,
                "current": bq27441.CURRENT_LSB_A, "temperature": bq27441.TEMPERATURE_LSB_K,
                "remaining_capacity": bq27441.CAPACITY_LSB_MAH,
                "full_capacity": bq27441.CAPACITY_LSB_MAH},
    "lc709203f": {"voltage": lc709203f.VOLTAGE_LSB_V, "soc": lc709203f.ITE_LSB_PCT},
    "cw2015": {"voltage": cw2015.VCELL_LSB_V, "soc": cw2015.SOC_LSB_PCT},
    "ina219": {"voltage": ina219.BUS_LSB_V,
               "current": ina219.SHUNT_LSB_V / ina219.WAVESHARE_32V_2A.shunt_ohms},
}
VOLTAGE_RANGE = {"max17049": (5.0, 9.0), "max17044": (5.0, 9.0), "ina219": (0.0, 25.0)}


def expected(state: BatteryState, field: str) -> float:
    if field == "charge_rate":  # CRATE %/h = current / full capacity
        return state.current * 1000.0 / state.full_capacity * 100.0
    return float(getattr(state, field))


@st.composite
def battery_states(draw: st.DrawFn, chip: str) -> BatteryState:
    low, high = VOLTAGE_RANGE.get(chip, (2.5, 4.5))
    full = draw(st.floats(100.0, 5000.0))
    return BatteryState(
        voltage=draw(st.floats(low, high)),
        soc=draw(st.floats(0.0, 100.0)),
        current=draw(st.floats(-3.0, 3.0)),  # INA219 at 0.1 Ω saturates at ±3.2 A
        temperature=draw(st.floats(-40.0, 85.0)),
        remaining_capacity=draw(st.floats(0.0, full)),
        full_capacity=full,
    )


@pytest.mark.parametrize("chip", list(CHIPS))
@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_driver_reads_back_the_model_within_one_lsb(make_rig: Callable[..., Any], chip: str,
                                                    data: st.DataObject) -> None:
    assert set(LSB) == set(CHIPS)
    rig = make_rig(chip)
    state = data.draw(battery_states(chip))
    rig.emulator.update(state)
    reading = rig.driver.read()
    for field, lsb in LSB[chip].items():
        got = getattr(reading, field)
        assert got is not None, field
        # BQ27441 SOC is whole percent: one LSB is 1 %, and rounding may move it by 0.5
        assert abs(got - expected(state, field)) <= lsb * (1 + 1e-9), (field, got, state)


@settings(max_examples=100, deadline=None)
@given(voltage=st.floats(5.0, 9.0))
def test_ina219_soc_follows_the_board_curve(voltage: float) -> None:
    # reference/pi-hardware.md §2: Waveshare UPS HAT (B) SoC (V−6)/2.4×100 clamped
    from hal.chips import INA219Emulator
    from hal.i2c import EmulatedBus

    bus = EmulatedBus()
    emulator = INA219Emulator(BatteryState(voltage=voltage, soc=0.0, current=-0.5))
    bus.attach(0x42, emulator)
    reading = INA219(bus=bus, address=0x42, soc_curve=WAVESHARE_UPS_HAT_B).read()
    assert reading.soc is not None and reading.voltage is not None
    assert reading.soc == pytest.approx(min(max((reading.voltage - 6) / 2.4 * 100, 0), 100))
    assert abs(reading.voltage - voltage) <= ina219.BUS_LSB_V
