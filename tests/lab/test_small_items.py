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


async def test_power_supply_without_a_battery_reads_unknown_with_a_fault(tmp_path: Path) -> None:
    from boards import build_source, get_board
    from firmware_sim.clock import ScaledClock
    from hal.power_supply import PowerSupplySource

    (tmp_path / "ac").mkdir()  # a mains supplier only, like a desktop without a UPS
    (tmp_path / "ac" / "type").write_text("Mains\n")
    (tmp_path / "ac" / "online").write_text("1\n")
    source = build_source(get_board("power-supply"), clock=ScaledClock(), watch_network=False,
                          power_supply=PowerSupplySource(root=tmp_path), poll_interval=None)
    await source.start()
    try:
        snap = source.snapshot()
        assert {"battery_level", "voltage"} <= snap.stale  # not 100 %
        assert any("no battery entry" in f and "battery_level" in f for f in snap.faults)
        assert snap.values["charger"] == "ac" and "charger" not in snap.stale
    finally:
        await source.stop()


async def test_a_fault_at_start_prints_once(tmp_path: Path) -> None:
    import io

    from wakebench.config import default_config
    from wakebench.printer import Printer
    from wakebench.rig import Rig

    out = io.StringIO()
    cfg = default_config().with_overrides(board="x728", rig="faults", state_dir=tmp_path / "state")
    async with Rig(cfg, embedded="in-process", printer=Printer(out, color=False)) as rig:
        assert rig.faults
    lines = [line for line in out.getvalue().splitlines() if "FAULT" in line]
    assert lines and len(lines) == len(set(lines))


def test_run_set_values_are_checked_like_the_vocabulary(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--board", "sim", "--set", "charger=ac", "--set", "screen_locked=true", "--check"]) == 0
    assert main(["run", "--board", "sim", "--set", "charger=banana", "--check"]) == 2
    assert "--set: signal 'charger' must be one of" in capsys.readouterr().err


async def test_the_rig_terminal_shows_each_request_its_answer_and_what_a_task_waits_for(tmp_path: Path) -> None:
    import io
    from dataclasses import replace

    from wakebench.config import default_config
    from wakebench.printer import Printer
    from wakebench.rig import Rig

    out = io.StringIO()
    cfg = replace(default_config().with_overrides(rig="log"), state_dir=None)
    async with Rig(cfg, embedded="in-process", persist=False, printer=Printer(out, color=False)) as rig:
        assert rig.driver is not None
        await rig.driver.request("mail", "register", {"platform": "wp8"})
        await rig.driver.request("mail", "add", {"name": "sync", "type": "resource_intensive"})
        await rig.driver.request("mail", "fly", {})
    import re

    text = out.getvalue()
    assert re.search(r'REQUEST +mail +add \{"name":"sync","type":"resource_intensive"\} → ok', text)
    assert re.search(r'WAITS +mail +resource_intensive_unmet: \["charger_removed", "screen_unlocked"\]', text)
    assert re.search(r"ERROR +mail +fly → error unknown_verb: ", text)
