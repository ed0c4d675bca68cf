"""The sim board's battery model: coulomb counting on an injected clock (boards/battery.py)."""

from __future__ import annotations

import pytest

from boards.battery import (
    DEFAULT_CAPACITY_MAH,
    TYPICAL_LI_ION_OCV,
    BatteryModel,
    OcvCurve,
    soc_rate,
)


def expected_delta(current_a: float, seconds: float, capacity_mah: float) -> float:
    """ΔSOC in % = I · Δt / capacity, with the units spelled out."""
    return current_a * seconds / 3600 * 1000 / capacity_mah * 100


def test_soc_rate_is_current_over_capacity() -> None:
    # 1 A into a 1000 mAh cell is 1 C: 100 % per hour.
    assert soc_rate(1.0, 1000.0) * 3600 == pytest.approx(100.0)


def test_soc_falls_under_load_at_i_dt_over_capacity(clock) -> None:
    model = BatteryModel(clock=clock, capacity_mah=2000, soc=80, load_current=0.5)
    clock.advance(600)
    assert model.soc == pytest.approx(80 - expected_delta(0.5, 600, 2000))
    assert model.current == -0.5


def test_soc_rises_on_charge_and_stops_at_full(clock) -> None:
    model = BatteryModel(clock=clock, capacity_mah=2000, soc=90, charge_current=1.0, plugged=True)
    clock.advance(60)
    assert model.soc == pytest.approx(90 + expected_delta(1.0, 60, 2000))
    # 10 % of 2000 mAh at 1 A takes 720 s; long after that the cell is full and idle.
    clock.advance(3600)
    assert model.soc == 100.0
    assert model.current == 0.0
    assert model.voltage == pytest.approx(TYPICAL_LI_ION_OCV[-1][1])


def test_soc_clamps_at_empty_and_current_stops(clock) -> None:
    model = BatteryModel(clock=clock, capacity_mah=100, soc=1, load_current=1.0)
    clock.advance(3600)
    assert model.soc == 0.0
    assert model.current == 0.0


def test_handles_integrate_before_changing_parameters(clock) -> None:
    model = BatteryModel(clock=clock, capacity_mah=1000, soc=50, load_current=1.0)
    clock.advance(36)          # -1 %
    model.set_load(2.0)
    clock.advance(36)          # -2 %
    model.plug()
    clock.advance(36)          # +1 % at the default 1 A charge current
    assert model.soc == pytest.approx(50 - 1 - 2 + expected_delta(model.charge_current, 36, 1000))


def test_terminal_voltage_is_ocv_plus_ir(clock) -> None:
    model = BatteryModel(clock=clock, soc=50, load_current=1.0, internal_resistance=0.1)
    ocv = OcvCurve().voltage(50)
    assert model.voltage == pytest.approx(ocv - 0.1)
    model.plug()
    assert model.voltage == pytest.approx(ocv + model.charge_current * 0.1)


def test_series_pack_scales_voltage(clock) -> None:
    model = BatteryModel(clock=clock, soc=100, cells=2, plugged=True)
    assert model.voltage == pytest.approx(8.4)


def test_state_carries_capacity(clock) -> None:
    state = BatteryModel(clock=clock, soc=40).state()
    assert state.full_capacity == DEFAULT_CAPACITY_MAH
    assert state.remaining_capacity == pytest.approx(0.4 * DEFAULT_CAPACITY_MAH)


def test_ocv_interpolates_and_clamps() -> None:
    curve = OcvCurve(((0.0, 3.0), (100.0, 4.0)))
    assert curve.voltage(25) == pytest.approx(3.25)
    assert curve.voltage(-5) == 3.0
    assert curve.voltage(150) == 4.0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"capacity_mah": 0}, "capacity_mah"),
        ({"soc": 100.01}, "battery level"),
        ({"soc": -0.01}, "battery level"),
        ({"load_current": -1}, "load_current"),
        ({"temperature": float("nan")}, "temperature"),
        ({"cells": 0}, "cells"),
        ({"ocv": ((0.0, 3.0), (50.0, 3.5))}, "OCV"),
    ],
)
def test_bad_parameters_are_refused_by_name(clock, kwargs, message) -> None:
    with pytest.raises(ValueError, match=message):
        BatteryModel(clock=clock, **kwargs)


def test_soc_bounds_are_inclusive(clock) -> None:
    assert BatteryModel(clock=clock, soc=0).soc == 0
    assert BatteryModel(clock=clock, soc=100).soc == 100
