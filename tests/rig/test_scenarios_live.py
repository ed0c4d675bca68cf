"""The per-platform reactive scenarios of issue #10 on a live rig (sim board, embedded broker):
reactions scheduled on rig time, response data checked, the measured tolerance never larger
than a window it checks — and a window too narrow for the speed fails as unverifiable."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from firmware_sim.scenario import load_scenario, parse_scenario
from wakebench.config import default_config
from wakebench.live import LiveResult, checked_window, play_scenario, scenario_initial, step_apps
from wakebench.rig import Rig

ROOT = Path(__file__).resolve().parents[2]
#: scenario -> a speed its narrowest window allows on a loaded 2-core machine (a step takes effect
#: up to ~0.1 s of wall time late: tolerance ≈ 0.1 s × speed rig seconds)
LIVE_SPEEDS = {
    "capacitor-reactive-uploads": 24,
    "ios-reactive-expiration-handler": 20,
    "uwp-reactive-revoked-handler": 60,
    "uwp-saving-data-on-suspending": 20,
    "wp8-reactive-agent-crashes": 20,
    "harmonyos-reactive-callbacks": 120,
    "android-reactive-worker": 120,
}


async def play(path: Path | str, speed: float, text: str | None = None) -> LiveResult:
    scenario = parse_scenario(text, "live.yaml") if text is not None else load_scenario(path)
    cfg = replace(default_config().with_overrides(rig="live", speed=speed), state_dir=None)
    async with Rig(cfg, embedded="in-process", persist=False, seed=scenario.seed, limits=scenario.limits) as rig:
        return await play_scenario(rig, scenario, initial=scenario_initial(scenario) if text is None
                                   else {"charger": "none"})


@pytest.mark.parametrize("name", sorted(LIVE_SPEEDS))
async def test_each_platforms_reactive_scenario_passes_live(name: str) -> None:
    path = ROOT / "scenarios" / f"{name}.yaml"
    scenario = load_scenario(path)
    assert scenario.reactions, "the acceptance scenarios use reactive steps"
    assert any(e.data is not None for e in scenario.expect), "... and response-data expectations"
    result = await play(path, LIVE_SPEEDS[name])
    details = [f"line {r.expect.line}: {r.detail}" for r in result.expectations if not r.met]
    assert result.passed, (result.tolerance, details, result.failures)
    # the tolerance applied is the measured one, and no window it was applied to is narrower
    # (a reaction inherits its trigger's lateness, so its own comes on top of the steps')
    assert result.tolerance == max(result.lateness) + max(result.reaction_lateness, default=0.0)
    windows = [w for e in scenario.expect if (w := checked_window(e, step_apps(scenario), scenario.until)) is not None]
    assert all(result.tolerance <= w for w in windows)


CAPACITOR = """
name: c
apps: [{id: up, platform: capacitor}]
steps:
  - {at: 0s, app: up, request: state, args: {state: background}}
  - {at: 0s, app: up, request: before_exit}
  - {on: {app: up, event: wake}, after: 40s, request: finish, args: {task_id: $task}}
  - {at: 1m, app: up, request: finish, args: {task_id: task-9}}
expect:
  - {at: 0s, app: up, event: wake, task: task-1}
  - {app: up, event: expire, count: 0}
until: 2m
"""


async def test_a_reaction_runs_after_its_event_on_rig_time_and_a_refused_step_fails_live() -> None:
    result = await play("", 24, CAPACITOR)
    (wake,) = [e for e in result.events if e.type == "wake"]
    finish = [r for r in result.responses if r.verb == "finish" and r.line == 7]
    assert [r.data.get("task_id") for r in finish] == ["task-1"]
    assert 40.0 <= finish[0].t - wake.t <= 40.0 + result.tolerance
    assert all(r.met for r in result.expectations)
    assert [(f.line, "finish refused: unknown_task" in f.message) for f in result.failures] == [(8, True)]
    assert not result.passed


RESUBMIT_LOOP = """
name: re-submit on every expire, forever
apps: [{id: up, platform: capacitor}]
steps:
  - {at: 0s, app: up, request: state, args: {state: background}}
  - {at: 0s, app: up, request: before_exit}
  - {on: {app: up, event: expire}, after: 1s, request: before_exit}
until: 30m
"""


async def test_a_reaction_re_firing_itself_is_stopped_at_the_bound_live(monkeypatch: pytest.MonkeyPatch) -> None:
    # MAX_REACTION_FIRES (10,000) lowered to 3 so the live run reaches it in rig minutes
    monkeypatch.setattr("firmware_sim.simulation.MAX_REACTION_FIRES", 3)
    result = await play("", 600, RESUBMIT_LOOP)
    resubmits = [r for r in result.responses if r.line == 7]
    assert len(resubmits) == 3  # 181 s, 362 s, 543 s; the 4th trigger (724 s) is refused
    (failure,) = result.failures
    assert failure.line == 7 and "reactive step at line 7 fired 3 times (MAX_REACTION_FIRES)" in failure.message
    assert not result.passed


IOS_WINDOW = """
name: the 5 s window
apps: [{id: news, platform: ios}]
steps:
  - {at: 0s, app: news, request: state, args: {state: background}}
expect:
  - {at: 5s, app: news, event: expire, task: did_enter_background, reason: time_limit}
until: 1m
"""


async def test_a_window_narrower_than_the_measured_tolerance_fails_as_unverifiable() -> None:
    # at x60000 any round trip (>= 0.1 ms) makes the step tens of rig seconds late: 5 s cannot be checked
    result = await play("", 60000, IOS_WINDOW)
    (verdict,) = result.expectations
    assert not verdict.met and not result.passed
    assert result.tolerance > 5.0
    assert "unverifiable live at ×60000" in verdict.detail and "than the 5 s this window checks" in verdict.detail
    assert "--speed" in verdict.detail or "too narrow" in verdict.detail


def test_the_window_an_expectation_checks() -> None:
    sc = parse_scenario("""
apps: [{id: a, platform: ios}, {id: b, platform: ios}]
steps:
  - {at: 0s, app: a, request: state, args: {state: background}}
  - {at: 10s, app: b, request: state, args: {state: background}}   # another app's step: not a cause
  - {at: 5m, set: {charger: ac}}
expect:
  - {at: 30s, app: a, event: expire}          # 30 s after the step before it
  - {at: 5m, app: a, event: wake}             # with the step at 5m: until the next step / until
  - {at: 1m..2m, app: a, event: wake}         # from the step before it to its end
  - {app: a, event: wake, count: 1}           # no time: nothing to check
  - {at: 0s..4m59s, app: a, event: revoke, count: 0}   # an absence: its own width
until: 10m
""")
    assert [checked_window(e, step_apps(sc), sc.until) for e in sc.expect] == [30.0, 300.0, 120.0, None, 299.0]
    # without an app the expectation may be caused by any step: b's step at 10 s is the one before
    unscoped = replace(sc.expect[0], app=None)
    assert checked_window(unscoped, step_apps(sc), sc.until) == 20.0


async def test_run_scenario_prints_the_measured_tolerance_and_fails_a_refused_step(tmp_path: Path) -> None:
    from tests.rig.helpers import RigProcess, unique_rig

    path = tmp_path / "c.yaml"
    path.write_text(CAPACITOR, encoding="utf-8")
    proc = await RigProcess("--board", "sim", "--speed", "24", "--rig", unique_rig("react"),
                            "--embedded-broker", "in-process", "--scenario", str(path)).start()
    assert await proc.wait(within=60) == 1, proc.output
    assert "live timing:" in proc.output and "at ×24" in proc.output
    assert "2/2 met" in proc.output
    assert "not_registered" not in proc.output  # the player's warm-up request is not printed
    assert f"✘ {path}:8 at 0:01:0" in proc.output and "up finish refused: unknown_task" in proc.output
