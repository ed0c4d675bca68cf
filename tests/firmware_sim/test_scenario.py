"""Scenario files: valid ones load; every mistake names file, line and field (DESIGN.md §6)."""

from __future__ import annotations

import contextlib
import textwrap

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from firmware_sim.durations import parse_duration
from firmware_sim.errors import ScenarioError
from firmware_sim.scenario import parse_scenario
from firmware_sim.simulation import simulate

GOOD = """\
name: sync loses its charger
seed: 7
initial: {battery_level: 95, charger: ac, network: wifi, screen_locked: true}
apps:
  - {id: cap, platform: capacitor}
steps:
  - {at: 0s, app: cap, request: before_exit}
  - {at: 5m, set: {charger: none}}
expect:
  - {at: 0s..31m, app: cap, event: wake, task: task-1}
  - {app: cap, event: revoke, count: 0}
until: 1h
"""


def error_of(text: str) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        parse_scenario(textwrap.dedent(text), "bad.yaml")
    return info.value


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90s", 90),
        ("5m", 300),
        ("2h", 7200),
        ("1d", 86400),
        ("500ms", 0.5),
        ("1h30m", 5400),
        (42, 42),
        ("42", 42),
        (1.5, 1.5),
    ],
)
def test_durations(text: object, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["5 minutes", "m5", "", "-3s", "1x", True, None, [1]])
def test_bad_durations(text: object) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


def test_good_scenario_loads() -> None:
    sc = parse_scenario(GOOD, "good.yaml")
    assert sc.seed == 7 and sc.until == 3600
    assert sc.initial.charger == "ac" and sc.initial.battery_level == 95
    assert [s.at for s in sc.steps] == [0, 300]
    assert sc.expect[0].start == 0 and sc.expect[0].end == 31 * 60
    assert sc.expect[1].count == 0


@pytest.mark.parametrize(
    ("text", "line", "field", "words"),
    [
        ("name: x\nbogus: 1\n", 2, "bogus", "unknown key"),
        ("apps:\n  - {id: a, platform: symbian}\n", 2, "apps[0].platform", "unknown platform"),
        ("apps:\n  - {id: A!, platform: ios}\n", 2, "apps[0].id", "must match"),
        (
            "apps:\n  - {id: a, platform: capacitor}\nsteps:\n  - {at: 5 minutes, app: a, request: finish}\n",
            4,
            "steps[0].at",
            "not a duration",
        ),
        (
            "apps:\n  - {id: a, platform: capacitor}\nsteps:\n  - {at: 1s, app: a, request: add}\n",
            4,
            "steps[0].request",
            "no verb 'add'",
        ),
        (
            "apps:\n  - {id: a, platform: capacitor}\nsteps:\n  - {at: 1s, app: b, request: finish}\n",
            4,
            "steps[0].app",
            "unknown app",
        ),
        ("steps:\n  - {at: 1s, set: {charger: diesel}}\n", 2, "steps[0].set.charger", "must be one of"),
        ("steps:\n  - {at: 1s, set: {warp: true}}\n", 2, "steps[0].set.warp", "unknown signal"),
        ("initial:\n  battery_level: 140\n", 2, "initial.battery_level", "0 to 100"),
        (
            "apps:\n  - {id: a, platform: capacitor}\nexpect:\n  - {app: a, event: explode}\n",
            4,
            "expect[0].event",
            "unknown event type",
        ),
        (
            "apps:\n  - {id: a, platform: capacitor}\nexpect:\n  - {app: z, event: wake}\n",
            4,
            "expect[0].app",
            "can never match",
        ),
        (
            "apps:\n  - {id: a, platform: capacitor}\nexpect:\n  - {at: 2h, app: a, event: wake}\nuntil: 1h\n",
            4,
            "expect[0].at",
            "can never match",
        ),
        (
            "apps:\n  - {id: a, platform: capacitor}\nexpect:\n  - {app: a, event: wake, reason: x}\n",
            4,
            "expect[0].reason",
            "can never match",
        ),
        (
            "apps:\n  - {id: a, platform: capacitor}\nexpect:\n  - {at: 5m..1m, app: a, event: wake}\n",
            4,
            "expect[0].at",
            "ends before it starts",
        ),
        ("limits:\n  capacitor: {before_exit_s: fast}\n", 2, "limits.capacitor", "must be a number"),
        ("limits:\n  capacitor: {warp_s: 1}\n", 2, "limits.capacitor", "unknown limit"),
        ("steps:\n  - {at: 1m, set: {charger: none}}\nuntil: 30s\n", 3, "until", "before the last step"),
    ],
)
def test_errors_name_file_line_and_field(text: str, line: int, field: str, words: str) -> None:
    err = error_of(text)
    assert err.path == "bad.yaml"
    assert err.line == line, str(err)
    assert err.field == field, str(err)
    assert words in str(err)
    assert str(err).startswith(f"bad.yaml:{line}: field '{field}':")


def test_yaml_syntax_error_names_the_line() -> None:
    err = error_of("name: x\nsteps: [\n  {at: 1s\n")
    assert err.line is not None and "not valid YAML" in str(err)


def test_empty_and_non_mapping_files() -> None:
    assert "empty" in str(error_of(""))
    assert "must be a mapping" in str(error_of("- 1\n- 2\n"))


# -- no input makes the loader (or a simulation of what it accepts) raise anything else -----------
_scalars = st.one_of(st.none(), st.booleans(), st.integers(-5, 10**6), st.floats(allow_nan=True),
                     st.text(max_size=8), st.sampled_from(["5m", "1h", "0s..1m", "wifi", "ac", "wp8", "wake"]))
_keys = st.sampled_from(["name", "seed", "initial", "apps", "steps", "expect", "until", "limits", "at", "app",
                         "request", "args", "set", "id", "platform", "event", "count", "charger", "x",
                         "on", "after", "nth", "expect_error", "data", "task", "response"])
_values = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_keys, inner, max_size=4),
                       max_leaves=12)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(doc=st.dictionaries(_keys, _values, max_size=6))
def test_any_document_loads_or_fails_with_a_scenario_error(doc: dict) -> None:
    text = yaml.safe_dump(doc, allow_unicode=True)
    try:
        scenario = parse_scenario(text, "fuzz.yaml")
    except ScenarioError as exc:
        assert str(exc).startswith("fuzz.yaml")
        return
    simulate(scenario)  # whatever loads must also run without raising


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=200))
def test_any_text_loads_or_fails_with_a_scenario_error(text: str) -> None:
    with contextlib.suppress(ScenarioError):
        parse_scenario(text, "fuzz.yaml")
