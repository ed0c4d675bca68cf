"""Issue 14's small items: each is a user-visible behaviour, asserted as the user meets it."""

from __future__ import annotations

from pathlib import Path

import pytest

from boards.config import load_board_file
from firmware_sim.errors import ScenarioError
from firmware_sim.scenario import parse_scenario
from wakebench.cli import main


def test_budgets_accepts_a_platform_in_any_case(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["budgets", "--platform", "iOS", "--json"]) == 0
    assert '"ios"' in capsys.readouterr().out


def test_a_board_that_extends_keeps_the_base_relay_and_adds_its_own(tmp_path: Path) -> None:
    path = tmp_path / "b.toml"
    path.write_text('[board]\nname = "mine"\nextends = "x120x"\n\n[[board.relays]]\ngpio = 17\n'
                    'signal = "charger"\npolarity = "active_low"\nsafe = "on"\n', encoding="utf-8")
    spec = load_board_file(path)
    assert sorted((r.gpio, r.signal) for r in spec.relays) == [(16, "charging"), (17, "charger")]


def test_a_relay_on_the_same_gpio_replaces_the_base_one(tmp_path: Path) -> None:
    path = tmp_path / "b.toml"
    path.write_text('[board]\nname = "mine"\nextends = "x120x"\n\n[[board.relays]]\ngpio = 16\n'
                    'signal = "charger"\npolarity = "active_low"\nsafe = "on"\n', encoding="utf-8")
    assert [(r.gpio, r.signal) for r in load_board_file(path).relays] == [(16, "charger")]


def test_without_until_the_error_says_where_the_scenario_ends_and_what_to_add() -> None:
    text = ("name: x\napps:\n  - {id: mail, platform: wp8}\nsteps:\n"
            "  - {at: 1s, app: mail, request: add, args: {name: sync, type: resource_intensive}}\n"
            "expect:\n  - {at: 5m, app: mail, event: wake, task: sync}\n")
    with pytest.raises(ScenarioError) as info:
        parse_scenario(text, "s.yaml")
    message = str(info.value)
    assert "'until' (1 s)" not in message
    assert "without 'until' it ends at the last step (1 s)" in message and "until: 6m" in message


def test_signals_watch_prints_on_change_only() -> None:
    from boards import SourceUpdate
    from wakebench.commands.signals import OnChange

    changes = OnChange()
    first = changes.filter(SourceUpdate({"battery_level": 99.99, "charger": "none"}, t=0.0))
    assert first is not None and dict(first.values) == {"battery_level": 99.99, "charger": "none"}
    assert changes.filter(SourceUpdate({"battery_level": 99.98}, t=1.0)) is None  # prints as 100.0 % again
    step = changes.filter(SourceUpdate({"battery_level": 99.9, "charger": "none"}, t=2.0))
    assert step is not None and dict(step.values) == {"battery_level": 99.9}
    stale = changes.filter(SourceUpdate({}, stale=frozenset({"battery_level"}), faults=("gauge: EIO",), t=3.0))
    assert stale is not None
    assert changes.filter(SourceUpdate({}, stale=frozenset({"battery_level"}), t=4.0)) is None  # still stale
