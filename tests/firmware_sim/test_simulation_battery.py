"""``simulate`` runs the live sim board's battery model in virtual time (issue #9.3).

Defaults quoted from wbcommon.battery: 2500 mAh, 0.5 A load unplugged, 1.0 A charge current:
1 % of 2500 mAh is 25 mAh = 180 s at 0.5 A, 90 s at 1.0 A.
"""

from __future__ import annotations

import pytest

from firmware_sim import ScenarioError
from firmware_sim.scenario import parse_scenario
from firmware_sim.simulation import simulate
from wbcommon.battery import DEFAULT_CAPACITY_MAH, DEFAULT_CHARGE_CURRENT_A, DEFAULT_LOAD_CURRENT_A


def run(initial: str, steps: str = "[]", until: str = "1h", board: str = "sim"):
    text = f"""
name: battery
board: {board}
initial: {initial}
apps: [{{id: a, platform: ios}}]
steps: {steps}
until: {until}
"""
    return simulate(parse_scenario(text, "t.yaml"))


def at(result, t: float):
    return [s for s in result.signal_history if s.t <= t][-1]


def test_the_models_defaults_are_the_live_sims() -> None:
    assert (DEFAULT_CAPACITY_MAH, DEFAULT_LOAD_CURRENT_A, DEFAULT_CHARGE_CURRENT_A) == (2500.0, 0.5, 1.0)


def test_a_day_on_battery_drains_the_cell_by_itself() -> None:
    result = run("{battery_level: 80, charger: none}", until="1d")
    assert at(result, 1800).battery_level == pytest.approx(70.0)        # 10 % × 180 s
    assert at(result, 3 * 3600).battery_level == pytest.approx(20.0)
    low = at(result, 3 * 3600)
    assert (low.charging, low.current, low.charger) == (False, -0.5, "none")
    assert result.signal_history[-1].battery_level == 0.0


def test_a_charger_charges_until_full_then_stops() -> None:
    result = run("{battery_level: 50, charger: ac}", until="3h")
    first = result.signal_history[0]
    assert (first.charger, first.charging, first.current) == ("ac", True, 1.0)   # never ac + not charging
    assert at(result, 4499).battery_level == pytest.approx(99.0)     # 50 % × 90 s = 4500 s to full
    full = at(result, 4500)
    assert (full.battery_level, full.charging, full.current) == (100.0, False, 0.0)


def test_a_step_that_sets_the_level_sets_the_model() -> None:
    result = run("{battery_level: 90, charger: none}", "[{at: 1h, set: {battery_level: 30}}]", until="2h")
    assert at(result, 3600).battery_level == 30.0
    assert at(result, 3600 + 180).battery_level == pytest.approx(29.0)


def test_a_multi_key_step_is_one_consistent_snapshot() -> None:
    result = run("{battery_level: 60, charger: none}",
                 "[{at: 10m, set: {charger: ac, screen_locked: true}}]", until="20m")
    at_step = [s for s in result.signal_history if s.t == 600]
    assert len(at_step) == 1
    assert (at_step[0].charger, at_step[0].screen_locked, at_step[0].charging) == ("ac", True, True)
    assert at_step[0].current == 1.0


def test_a_step_may_not_set_what_the_model_derives() -> None:
    with pytest.raises(ScenarioError, match=r"t.yaml:\d+: field 'set.charging'.*derived"):
        run("{battery_level: 60}", "[{at: 1m, set: {charging: true}}]")


def test_another_board_keeps_the_scenarios_values() -> None:
    result = run("{battery_level: 60, charger: none}", until="1d", board="x728")
    assert [s.battery_level for s in result.signal_history] == [60.0]
