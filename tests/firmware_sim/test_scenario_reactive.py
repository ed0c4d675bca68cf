"""The scenario language of issue #10: reactive steps (``on`` / ``after`` / ``nth`` / ``count``),
response-data expectations, refused steps failing the run, and one-line errors for all of it."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from firmware_sim.errors import ScenarioError
from firmware_sim.scenario import STEP_KINDS, parse_scenario
from firmware_sim.simulation import (
    MAX_REACTION_FIRES,
    MAX_REACTIONS_PER_INSTANT,
    SimulationResult,
    simulate,
    subset,
)
from wakebench.cli import main

CAPACITOR = """
name: upload app
initial: {battery_level: 64, charger: none}
apps:
  - {id: up, platform: capacitor}
steps:
  - {at: 10s, app: up, request: state, args: {state: background}}
  - {at: 10s, app: up, request: before_exit}
  - {at: 5m,  app: up, request: before_exit}
  - {at: 10m, app: up, request: before_exit}
"""


def run(text: str, until: str = "20m") -> SimulationResult:
    return simulate(parse_scenario(text + f"until: {until}\n", "s.yaml"))


def times(result: SimulationResult, verb: str) -> list[float]:
    return [r.t for r in result.responses if r.verb == verb]


def test_a_reactive_step_answers_each_wake_after_its_delay() -> None:
    # "finish 40 s after each wake": the app's behaviour, not absolute times
    result = run(CAPACITOR + "  - {on: {app: up, event: wake}, after: 40s, request: finish, "
                             "args: {task_id: $task}}\n")
    assert times(result, "finish") == [50.0, 340.0, 640.0]
    finished = [r.data["task_id"] for r in result.responses if r.verb == "finish"]
    assert finished == ["task-1", "task-2", "task-3"]  # "$task" is the waking task's id
    assert not [e for e in result.events if e.type == "expire"]
    assert result.passed


def test_count_answers_only_the_first_events_and_nth_only_one() -> None:
    first_two = run(CAPACITOR + "  - {on: {app: up, event: wake}, after: 40s, count: 2, request: finish, "
                                "args: {task_id: $task}}\n")
    assert times(first_two, "finish") == [50.0, 340.0]
    assert [e.task_id for e in first_two.events if e.type == "expire"] == ["task-3"]
    third = run(CAPACITOR + "  - {on: {app: up, event: wake}, nth: 3, request: crash}\n")
    assert times(third, "crash") == [600.0]  # "crash on the third wake"


def test_a_reaction_between_two_steps_runs_at_its_exact_time() -> None:
    # the expire at 13m comes from a deadline, no step is near it: the re-submit runs at 13m + 1 s
    result = run(CAPACITOR + "  - {on: {app: up, event: expire, reason: time_limit}, after: 1s, "
                             "request: before_exit}\n")
    resubmits = [r.t for r in result.responses if r.verb == "before_exit" and r.line == 11]
    expires = [e.t for e in result.events if e.type == "expire"]
    assert resubmits[:1] == [191.0] and resubmits == [t + 1 for t in expires if t + 1 <= 1200]


def test_reactions_may_change_signals_too() -> None:
    result = run(CAPACITOR + "  - {on: {app: up, event: wake}, nth: 2, after: 1m, set: {charger: ac}}\n")
    plugged = [s.t for s in result.signal_history if s.charger == "ac"]
    assert plugged and plugged[0] == 360.0


def test_reactions_that_trigger_each_other_forever_stop_the_run() -> None:
    # every wake begins a new upload at once, which wakes at once: a loop at t = 10 s
    text = CAPACITOR.replace("  - {at: 5m,  app: up, request: before_exit}\n", "") + \
        "  - {on: {app: up, event: wake}, request: before_exit}\n"
    result = run(text)
    assert not result.passed
    assert "keep triggering each other" in result.failures[-1].message
    assert result.failures[-1].line == 10
    assert len([e for e in result.events if e.type == "wake"]) <= MAX_REACTIONS_PER_INSTANT + 2


# "wakebench bound: 30 days of a wake every 5 minutes is 8640; a step that means to fire more says
# ``count:``" (firmware_sim/simulation.py)
FIRES = 10_000
RESUBMIT_ON_EXPIRE = "  - {on: {app: up, event: expire}, after: 1s, %srequest: before_exit}\n"


def test_a_reaction_that_keeps_firing_itself_through_time_is_stopped_with_its_line() -> None:
    # re-submit on every expire: each upload runs out 180 s later and is re-submitted 1 s after,
    # forever — only `until` would end it. The bound stops it and fails the run.
    assert MAX_REACTION_FIRES == FIRES
    result = run(CAPACITOR + RESUBMIT_ON_EXPIRE % "", until="400d")
    assert not result.passed
    (failure,) = result.failures
    assert failure.line == 11
    assert failure.message.startswith(f"reactive step at line 11 fired {FIRES} times (MAX_REACTION_FIRES)")
    assert "give it 'count:' to allow more" in failure.message
    assert len([r for r in result.responses if r.line == 11]) == FIRES  # it fires no more
    # stopped at its next trigger (an expire), and no re-submit after it
    assert failure.t in {e.t for e in result.events if e.type == "expire"}
    assert max(r.t for r in result.responses if r.line == 11) < failure.t


def test_a_reaction_with_count_may_fire_more_than_the_bound() -> None:
    result = run(CAPACITOR + RESUBMIT_ON_EXPIRE % f"count: {FIRES + 5}, ", until="30d")
    assert len([r for r in result.responses if r.line == 11]) == FIRES + 5
    assert result.passed, result.failures


# -- refused requests -------------------------------------------------------------------------------
WRONG_FINISH = CAPACITOR + "  - {at: 1m, app: up, request: finish, args: {task_id: task-9}%s}\n"


def test_a_refused_step_fails_the_run_with_its_line() -> None:
    result = run(WRONG_FINISH % "")
    assert not result.passed and not result.expectations
    (failure,) = result.failures
    assert failure.line == 11 and failure.t == 60.0
    assert "up finish refused: unknown_task" in failure.message
    assert "expect_error: unknown_task" in failure.message


def test_a_step_or_an_expectation_may_say_the_error_is_expected() -> None:
    assert run(WRONG_FINISH % ", expect_error: unknown_task").passed
    expected = run(WRONG_FINISH % "" + "expect:\n  - {at: 1m, app: up, response: finish, status: error}\n")
    assert expected.passed, expected.failures
    other_code = run(WRONG_FINISH % ", expect_error: invalid_args")
    assert "expected error invalid_args, refused with unknown_task" in other_code.failures[0].message
    accepted = run(CAPACITOR + "  - {at: 50s, app: up, request: finish, args: {task_id: task-1}, "
                               "expect_error: unknown_task}\n")
    assert "expected error unknown_task, but it succeeded" in accepted.failures[0].message


def test_a_refused_reaction_fails_the_run_too() -> None:
    result = run(CAPACITOR + "  - {on: {app: up, event: wake}, nth: 1, request: finish, args: {task_id: nope}}\n")
    assert [(f.line, f.t) for f in result.failures] == [(11, 10.0)]


def test_cli_exit_1_and_the_file_line_for_a_refused_step(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "refused.yaml"
    f.write_text(WRONG_FINISH % "" + "until: 15m\n", encoding="utf-8")
    assert main(["simulate", str(f)]) == 1
    out = capsys.readouterr().out
    assert f"✘ {f}:11 at 0:01:00: up finish refused: unknown_task" in out


# -- response data -----------------------------------------------------------------------------------
def test_expectations_match_a_subset_of_the_response_data() -> None:
    text = CAPACITOR + """expect:
  - {at: 10s, app: up, response: before_exit, data: {task_id: task-1, deadline: 190}}
  - {at: 10s, app: up, response: before_exit, data: {task_id: task-2}}
  - {app: up, response: before_exit, data: {deadline: 480.0}, count: 1}
"""
    met = [r.met for r in run(text).expectations]
    assert met == [True, False, True]
    assert "data={'task_id': 'task-1', 'deadline': 190.0}" in run(text).expectations[1].detail


@pytest.mark.parametrize(("want", "have", "ok"), [
    ({}, {"a": 1}, True),
    ({"a": {"b": 1}}, {"a": {"b": 1, "c": 2}, "d": 3}, True),
    ({"a": 1}, {"a": 1.0}, True),
    ({"a": True}, {"a": 1}, False),
    ({"a": [1, 2]}, {"a": [1, 2]}, True),
    ({"a": [1]}, {"a": [1, 2]}, False),
    ({"a": "1"}, {"a": 1}, False),
    ({"a": None}, {}, False),
])
def test_subset(want: object, have: object, ok: bool) -> None:
    assert subset(want, have) is ok


# -- errors: one line, file, line, field ---------------------------------------------------------
HEAD = "apps:\n  - {id: a, platform: capacitor}\nsteps:\n"


@pytest.mark.parametrize(("text", "line", "field", "words"), [
    (HEAD + "  - {on: {app: a, event: wake}, at: 1s, request: finish}\n", 4, "steps[0].at", "takes 'after'"),
    (HEAD + "  - {at: 1s, after: 1s, app: a, request: finish}\n", 4, "steps[0].after", "reactive steps"),
    (HEAD + "  - {app: a, request: finish}\n", 4, "steps[0].at", "is required"),
    (HEAD + "  - {on: {app: b, event: wake}, request: finish}\n", 4, "steps[0].on.app", "unknown app"),
    (HEAD + "  - {on: {app: a, event: woke}, request: finish}\n", 4, "steps[0].on.event", "unknown event"),
    (HEAD + "  - {on: {app: a}, request: finish}\n", 4, "steps[0].on.event", "is required"),
    (HEAD + "  - {on: {app: a, event: wake, when: 1}, request: finish}\n", 4, "steps[0].on.when", "unknown key"),
    (HEAD + "  - {on: {app: a, event: wake, reason: x}, request: finish}\n", 4, "steps[0].on.reason", "never"),
    (HEAD + "  - {on: [a], request: finish}\n", 4, "steps[0].on", "must be a mapping"),
    (HEAD + "  - {on: {app: a, event: wake}, after: soon, request: finish}\n", 4, "steps[0].after", "duration"),
    (HEAD + "  - {on: {app: a, event: wake}, nth: 0, request: finish}\n", 4, "steps[0].nth", ">= 1"),
    (HEAD + "  - {on: {app: a, event: wake}, count: x, request: finish}\n", 4, "steps[0].count", ">= 1"),
    (HEAD + "  - {on: {app: a, event: wake}, nth: 1, count: 1, request: finish}\n", 4, "steps[0].count", "either"),
    (HEAD + "  - {on: {app: a, event: wake}, request: fly}\n", 4, "steps[0].request", "no verb"),
    (HEAD + "  - {on: {app: a, event: wake}}\n", 4, "steps[0]", "needs one of"),
    (HEAD + "  - {at: 1s, request: finish, expect_error: [x]}\n", 4, "steps[0].app", "is required"),
    (HEAD + "  - {at: 1s, app: a, request: finish, expect_error: [x]}\n", 4, "steps[0].expect_error", "code"),
    (HEAD + "  - {at: 1s, set: {charger: ac}, expect_error: x}\n", 4, "steps[0].expect_error", "unknown key"),
    (HEAD + "  - at: 1s\n    on: {app: a, event: wake}\n    request: finish\n", 4, "steps[0].at", "takes 'after'"),
    (HEAD + "  - {at: 1s, app: a, request: finish}\nexpect:\n  - {response: finish, data: 3}\n", 6,
     "expect[0].data", "must be a mapping"),
    (HEAD + "  - {at: 1s, app: a, request: finish}\nexpect:\n  - {event: wake, data: {}}\n", 6,
     "expect[0].data", "'response' expectations only"),
])
def test_every_error_in_the_new_syntax_names_file_line_and_field(text: str, line: int, field: str,
                                                                  words: str) -> None:
    with pytest.raises(ScenarioError) as info:
        parse_scenario(text, "bad.yaml")
    err = info.value
    assert (err.line, err.field) == (line, field), str(err)
    assert words in str(err)
    assert str(err).startswith(f"bad.yaml:{line}: field '{field}':") and "\n" not in str(err)


def test_the_cli_exits_2_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "bad.yaml"
    f.write_text(HEAD + "  - {on: {app: a, event: wake}, nth: -1, request: finish}\n", encoding="utf-8")
    assert main(["simulate", str(f)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{f}:4: field 'steps[0].nth'" in err


def test_step_kinds_are_a_table() -> None:
    # another step kind (e.g. `fault:`) registers here with its keys and its parser
    assert set(STEP_KINDS) >= {"set", "request"}
    sc = parse_scenario(CAPACITOR + "  - {on: {app: up, event: wake}, request: finish}\n")
    assert [s.kind for s in sc.steps] == ["request"] * 4 and sc.reactions[0].step.kind == "request"
    assert dataclasses.replace(sc.reactions[0].step, at=5).at == 5
