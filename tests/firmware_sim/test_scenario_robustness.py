"""Acceptance of issue #10: no ``limits:`` value makes ``simulate`` print a traceback, and every
shipped scenario runs for 400 days of virtual time without an exception."""

from __future__ import annotations

import dataclasses
import io
import json
import math
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from firmware_sim.platforms import POLICIES
from firmware_sim.scenario import load_scenario
from firmware_sim.simulation import simulate
from wakebench.cli import main
from wakebench.commands.simulate import print_timeline

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))
#: "every scenario in scenarios/ with its `until` raised to 400 days" (issue #10, acceptance)
LONG_RUN_S = 400 * 86400.0

LIMIT_NAMES = sorted((p, f.name) for p, policy in POLICIES.items()
                     for f in dataclasses.fields(policy.limits_type()))

_values = st.one_of(
    st.none(), st.booleans(), st.integers(-10**6, 10**6), st.integers(-2**70, 2**70),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12),
    st.sampled_from(["xbox", "desktop", "mobile", "5m", "1e309", "-1", "0", "nan", "inf", "", "true"]),
    st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


#: One request per platform that starts work, so limits read only by verbs and their timers
#: (deadlines, windows, grace times) are exercised too, not only at construction.
_WORK: dict[str, tuple[str, dict[str, object]]] = {
    "capacitor": ("before_exit", {}),
    "ios": ("begin_background_task", {"name": "save"}),
    "uwp": ("request_extension", {"reason": "saving_data"}),
    "wp8": ("add", {"name": "feed", "type": "periodic", "description": "headlines"}),
    "harmonyos": ("start_work", {"work_id": 1, "bundle_name": "harmonyos", "ability_name": "Sync",
                                 "network_type": "any", "is_repeat": True, "repeat_count": 3}),
    "android": ("enqueue", {"type": "periodic", "id": "refresh", "repeat_interval": 900}),
}


def _scenario_text(platform: str, limits: dict[str, object], until: str = "1d") -> str:
    steps: list[dict[str, object]] = [{"at": "1s", "set": {"charger": "none"}}]
    for p in POLICIES:
        verb, args = _WORK[p]
        steps += [{"at": "2s", "app": p, "request": "state", "args": {"state": "background"}},
                  {"at": "3s", "app": p, "request": verb, "args": args},
                  {"at": "10m", "app": p, "request": "state", "args": {"state": "foreground"}},
                  {"at": "10m", "app": p, "request": "status"}]
    steps.append({"at": "1h", "set": {"charger": "ac"}})
    doc = {
        "name": "fuzz",
        "limits": {platform: limits},
        "apps": [{"id": p, "platform": p} for p in POLICIES],
        "steps": steps,
        "until": until,
    }
    return yaml.safe_dump(doc, allow_unicode=True)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                    HealthCheck.function_scoped_fixture])
@given(picks=st.lists(st.tuples(st.sampled_from(LIMIT_NAMES), _values), min_size=1, max_size=3))
def test_no_limits_value_makes_simulate_print_a_traceback(
        picks: list[tuple[tuple[str, str], object]], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    platform = picks[0][0][0]
    limits = {name: value for (p, name), value in picks if p == platform}
    path = tmp_path / "fuzz.yaml"
    path.write_text(_scenario_text(platform, limits), encoding="utf-8")
    code = main(["simulate", str(path)])  # an exception here fails the test: that is the traceback
    captured = capsys.readouterr()
    err = captured.err
    assert "Traceback" not in captured.out + err
    assert code in (0, 1, 2)
    if code == 2:
        assert err.startswith(f"wakebench simulate: {path}:") and err.count("\n") == 1, err
        assert "field 'limits" in err


#: Values random search rarely pairs with the one limit a request reads: each is tried on every
#: limit (a deadline at inf once crashed the timeline printer).
_EDGES: tuple[object, ...] = (math.inf, math.nan, -math.inf, 0.0, 1e300, 2**63)


@pytest.mark.parametrize("pick", LIMIT_NAMES, ids=[f"{p}.{n}" for p, n in LIMIT_NAMES])
def test_edge_values_of_every_limit_never_print_a_traceback(
        pick: tuple[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    platform, name = pick
    path = tmp_path / "edge.yaml"
    for value in _EDGES:
        path.write_text(_scenario_text(platform, {name: value}, until="2h"), encoding="utf-8")
        code = main(["simulate", str(path)])  # an exception here fails the test
        captured = capsys.readouterr()
        assert code in (0, 1, 2) and "Traceback" not in captured.out + captured.err, (value, captured.err)
        if code == 2:
            assert captured.err.count("\n") == 1 and "field 'limits" in captured.err, (value, captured.err)


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_every_scenario_runs_400_days_without_an_exception(path: Path) -> None:
    scenario = dataclasses.replace(load_scenario(path), until=LONG_RUN_S)
    result = simulate(scenario)
    assert result.scenario.until == LONG_RUN_S
    assert all(0.0 <= e.t <= LONG_RUN_S for e in result.events)
    # what `simulate` prints of it too: the timeline and the --json object (strict JSON)
    print_timeline(result, io.StringIO())
    json.dumps(result.to_dict(), allow_nan=False)
