"""Faults on demand in scenarios (issue 9 item 4): one vocabulary (wbcommon.faults), a ``fault:``
step, and what each fault does to the signals in virtual time."""

from __future__ import annotations

import textwrap

import pytest

from firmware_sim import ScenarioError
from firmware_sim.scenario import parse_scenario
from firmware_sim.simulation import simulate
from wbcommon.faults import (
    FLAP_DEFAULT_S,
    KINDS,
    NOT_SUPPORTED_ON_HARDWARE,
    Fault,
    InvalidFaultError,
    parse_fault,
)


def test_the_vocabulary() -> None:
    # issue 9: "gauge NACK / EIO / garbage / stuck value / bad PEC, stuck charger pin, network flap"
    assert KINDS == {"gauge": ("nack", "eio", "garbage", "stuck", "bad_pec"),
                     "charger": ("stuck",), "network": ("flap",)}
    assert NOT_SUPPORTED_ON_HARDWARE == "not_supported_on_hardware"
    assert parse_fault({"gauge": "nack", "for": "2m"}) == Fault("gauge", "nack", 120.0)
    assert parse_fault({"charger": "stuck"}) == Fault("charger", "stuck", None)  # until cleared
    assert parse_fault({"network": "flap"}) == Fault("network", "flap", FLAP_DEFAULT_S)
    assert parse_fault({"gauge": "clear", "transaction": 4}).clears


@pytest.mark.parametrize(("raw", "field"), [
    ({"gauge": "melt"}, "gauge"),
    ({"toaster": "nack"}, "toaster"),
    ({"gauge": "nack", "charger": "stuck"}, "fault"),
    ({}, "fault"),
    ({"gauge": "nack", "for": "soon"}, "for"),
    ({"gauge": "nack", "for": -1}, "for"),
    ({"gauge": "nack", "for": True}, "for"),
    ({"gauge": "clear", "for": 5}, "for"),
    (["gauge"], "fault"),
])
def test_bad_faults_name_their_field(raw, field) -> None:
    with pytest.raises(InvalidFaultError) as err:
        parse_fault(raw)
    assert err.value.field == field


SCENARIO = """\
name: faults
board: {board}
initial: {{battery_level: 80, charger: ac, network: wifi}}
apps:
  - {{id: a, platform: capacitor}}
steps:
{steps}
until: 30m
"""


def run(steps: str, board: str = "sim"):
    return simulate(parse_scenario(SCENARIO.format(board=board, steps=textwrap.indent(
        textwrap.dedent(steps), "  ")), "f.yaml"))


def test_a_bad_fault_step_names_file_line_and_field() -> None:
    with pytest.raises(ScenarioError) as err:
        parse_scenario(SCENARIO.format(board="sim", steps="  - {at: 1m, fault: {gauge: melt}}"),
                       "f.yaml")
    assert str(err.value).startswith("f.yaml:7: field 'steps[0].fault.gauge':")
    with pytest.raises(ScenarioError, match="a step does one thing: set or fault"):
        parse_scenario(SCENARIO.format(
            board="sim", steps="  - {at: 1m, fault: {gauge: nack}, set: {charger: none}}"), "f.yaml")
    with pytest.raises(ScenarioError, match=r"steps\[0\]\.set\.unknown"):
        parse_scenario(SCENARIO.format(board="sim", steps="  - {at: 1m, set: {unknown: [warp]}}"),
                       "f.yaml")


def snapshot_at(result, t: float):
    return [s for s in result.signal_history if s.t <= t][-1]


@pytest.mark.parametrize("board", ["sim", "x728"])
def test_a_gauge_fault_makes_its_signals_unknown_for_its_duration(board) -> None:
    result = run("- {at: 5m, fault: {gauge: eio, for: 2m}}", board)
    during = snapshot_at(result, 6 * 60).effective()
    assert {"battery_level", "voltage", "current"} <= during.unknown
    assert during.battery_level is None
    after = snapshot_at(result, 7 * 60)
    assert after.t == 7 * 60 and not after.stale


def test_a_gauge_fault_until_cleared() -> None:
    result = run("""\
        - {at: 5m, fault: {gauge: nack}}
        - {at: 20m, fault: {gauge: clear}}
        """)
    assert "battery_level" in snapshot_at(result, 19 * 60).stale
    assert not snapshot_at(result, 20 * 60).stale
    # no battery reading is published while the gauge is faulty
    assert not [s for s in result.signal_history if 5 * 60 < s.t < 20 * 60]


def test_a_stuck_charger_pin_keeps_reporting_what_it_had() -> None:
    result = run("""\
        - {at: 1m, fault: {charger: stuck, for: 5m}}
        - {at: 2m, set: {charger: none}}
        """)
    assert snapshot_at(result, 3 * 60).charger == "ac"      # the pin did not move
    assert snapshot_at(result, 6 * 60).charger == "none"    # cleared: the truth again


def test_a_network_flap_drops_the_link_and_restores_it() -> None:
    result = run("- {at: 1m, fault: {network: flap}}")
    assert snapshot_at(result, 60).network == "none"
    back = snapshot_at(result, 60 + FLAP_DEFAULT_S)
    assert back.network == "wifi" and back.t == 60 + FLAP_DEFAULT_S


def test_set_unknown_marks_any_signal_unknown_until_it_is_set() -> None:
    result = run("""\
        - {at: 1m, set: {unknown: [screen_locked, idle]}}
        - {at: 2m, set: {idle: false}}
        """)
    assert snapshot_at(result, 60).stale == {"screen_locked", "idle"}
    assert snapshot_at(result, 120).stale == {"screen_locked"}
