"""The rig composition in-process: edges go straight to the scheduler, faults and manual steps to
``bridge/event``, a clean stop saves state and the next start resumes the rig clock."""

from __future__ import annotations

import asyncio
import io
from dataclasses import replace
from pathlib import Path

import pytest

from firmware_sim import Event
from firmware_sim.journal import JOURNAL_FILE, Journal
from firmware_sim.scenario import parse_scenario
from firmware_sim.signals import Signals
from tests.rig.helpers import Observer, is_json
from wakebench.config import default_config
from wakebench.live import LIVE_TOLERANCE_MIN_S, _widen, live_tolerance, play_scenario, scenario_initial
from wakebench.printer import Printer
from wakebench.rig import MIN_WALL_POLL_S, Rig

TIMEOUT = 10.0


def sim_config(tmp_path: Path, **changes: object) -> object:
    cfg = default_config().with_overrides(rig="inproc", state_dir=tmp_path / "state")
    return replace(cfg, **changes)  # type: ignore[arg-type]


async def test_a_pin_edge_reaches_the_scheduler_without_a_poll(tmp_path: Path) -> None:
    # polls every hour of rig time: nothing but the edge itself can bring the charger change
    cfg = sim_config(tmp_path, poll_interval=3600.0)
    async with Rig(cfg, embedded="in-process") as rig:  # type: ignore[arg-type]
        assert rig.driver is not None and rig.source is not None and rig.source.sim is not None
        await rig.set_signals({"charger": "ac", "battery_level": 95, "screen_locked": True})
        await rig.driver.request("mail", "register", {"platform": "wp8"})
        await rig.driver.request("mail", "add", {"name": "sync", "type": "resource_intensive"})
        got: asyncio.Future[tuple[Event, int]] = asyncio.get_running_loop().create_future()
        source = rig.source

        def sink(events: list[Event]) -> None:
            for e in events:
                if e.type == "revoke" and not got.done():
                    got.set_result((e, source.polls))

        rig.driver.add_sink(sink)
        polls_before = source.polls
        rig.source.sim.power_pin.drive_low()  # gpiozero MockPin: the supply is gone
        revoke, polls_at_revoke = await asyncio.wait_for(got, TIMEOUT)
    assert (revoke.app, revoke.task_id, revoke.reason) == ("mail", "sync", "charger_removed")
    assert polls_at_revoke == polls_before  # straight from the edge, no poll in between


async def test_sensor_faults_go_to_bridge_event_and_mark_signals_stale(tmp_path: Path) -> None:
    async with Rig(sim_config(tmp_path), embedded="in-process") as rig:  # type: ignore[arg-type]
        assert rig.embedded is not None and rig.source is not None and rig.source.sim is not None
        async with Observer(rig.embedded.host, rig.embedded.port, "wakebench/inproc/#", v311=True) as obs:
            await obs.wait(is_json("wakebench/inproc/bridge/state", state="online"))
            rig.source.sim.bus.inject_nack(0x36)  # the gauge stops answering
            await rig.source.refresh()
            fault = (await obs.wait(lambda m: m.topic == "wakebench/inproc/bridge/event"
                                    and m.json().get("type") == "sensor_fault")).json()
            stale = await obs.wait(lambda m: m.topic == "wakebench/inproc/signals"
                                   and "battery_level" in m.json().get("stale", []))
    assert "0x36" in fault["data"]["message"]
    assert stale.json()["stale"]


async def test_signals_a_real_board_cannot_set_are_manual_steps(tmp_path: Path) -> None:
    cfg = default_config().with_overrides(board="x120x", rig="manual", state_dir=tmp_path / "state")
    out = io.StringIO()
    async with Rig(cfg, embedded="in-process", printer=Printer(out, color=False)) as rig:
        assert rig.embedded is not None and rig.driver is not None
        async with Observer(rig.embedded.host, rig.embedded.port, "wakebench/manual/#", v311=True) as obs:
            await obs.wait(is_json("wakebench/manual/bridge/state", state="online"))
            left = await rig.set_signals({"charger": "none", "screen_locked": True})
            step = (await obs.wait(is_json("wakebench/manual/bridge/event", type="manual_step"))).json()
        assert rig.driver.signals.screen_locked is True  # no sensor for it on the X1200: set directly
    assert left == {"charger": "none"}  # GPIO6 measures it and no relay switches it
    assert step["data"]["set"] == {"charger": "none"}
    assert "by hand" in step["data"]["message"] and "MANUAL" in out.getvalue()


async def test_clean_stop_saves_state_and_the_next_start_resumes_rig_time(tmp_path: Path) -> None:
    cfg = sim_config(tmp_path)
    async with Rig(cfg, embedded="in-process") as rig:  # type: ignore[arg-type]
        assert rig.driver is not None and rig.embedded is not None and rig.clock is not None
        await rig.driver.request("up", "register", {"platform": "capacitor"})
        await rig.driver.request("up", "before_exit", {})
        await rig.driver.request("pics", "register", {"platform": "android"})
        await rig.driver.request("pics", "enqueue", {"id": "sync", "type": "periodic", "repeat_interval": 3600})
        host, port = rig.embedded.host, rig.embedded.port
        async with Observer(host, port, "wakebench/inproc/bridge/state", v311=True) as obs:
            await obs.wait(is_json("wakebench/inproc/bridge/state", state="online"))
            await rig.stop()
            await obs.wait(is_json("wakebench/inproc/bridge/state", state="offline"))
        stopped_at = rig.driver.scheduler.now
    journal = Journal(tmp_path / "state" / JOURNAL_FILE)
    saved = journal.load_state()
    journal.close()
    assert saved is not None and saved["now"] == pytest.approx(stopped_at)
    async with Rig(cfg, embedded="in-process") as again:  # type: ignore[arg-type]
        assert again.driver is not None and again.clock is not None
        assert again.resumed_from == pytest.approx(stopped_at)
        assert again.clock.now() >= stopped_at
        assert list(again.driver.scheduler.apps) == ["up", "pics"]
        assert "sync" in again.driver.scheduler.tasks("pics")  # WorkManager work is persisted
        assert again.driver.scheduler.tasks("up") == {}  # a beforeExit task ends with its process
        assert any("resumes at" in line for line in again.banner())


async def test_a_live_scenario_is_checked_like_simulate(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("""
name: capacitor on the live rig
seed: 3
initial: {charger: none}
apps:
  - {id: up, platform: capacitor}
steps:
  - {at: 0s, app: up, request: before_exit}
  - {at: 1m, app: up, request: finish, args: {task_id: task-9}}
expect:
  - {at: 0s, app: up, event: wake, task: task-1}
  - {at: 3m, app: up, event: expire, task: task-1, reason: time_limit}
  - {at: 1m, app: up, response: finish, status: error, code: unknown_task}
  - {app: up, event: wake, count: 2}
until: 6m
""", encoding="utf-8")
    from firmware_sim.scenario import load_scenario

    scenario = load_scenario(path)
    # stepped: the scenario moves rig time from step to step, so no machine load can make a step late
    cfg = replace(default_config().with_overrides(rig="live"), state_dir=None)
    async with Rig(cfg, embedded="in-process", persist=False, seed=scenario.seed, stepped=True) as rig:
        result = await play_scenario(rig, scenario, initial={"charger": "none"})
    assert [r.met for r in result.expectations] == [True, True, True, False], [r.detail for r in result.expectations]
    assert "1 matching wake events, expected exactly 2" in result.expectations[3].detail
    assert [r.verb for r in result.responses] == ["register", "before_exit", "finish"]


def test_live_tolerance_widens_only_the_end_of_presence_windows() -> None:
    # 0.25 s of wall time at the rig's speed, at least one rig second
    assert live_tolerance(1) == LIVE_TOLERANCE_MIN_S
    assert live_tolerance(600) == 150.0
    sc = parse_scenario("""
name: t
apps: [{id: a, platform: capacitor}]
expect:
  - {at: 5m, app: a, event: wake}
  - {at: 0s..4m, app: a, event: expire, count: 0}
until: 10m
""")
    present, absent = sc.expect
    assert (_widen(present, 15).start, _widen(present, 15).end) == (300.0, 315.0)
    assert (_widen(absent, 15).start, _widen(absent, 15).end) == (0.0, 240.0)


def test_initial_values_are_those_the_file_names_without_reading_it_again(tmp_path: Path) -> None:
    sc = parse_scenario("""
name: t
initial: {screen_locked: true, charger: none}
until: 1m
""")
    assert sc.initial_names == ("screen_locked", "charger")
    gone = replace(sc, path=str(tmp_path / "deleted.yaml"))  # the file is not read again
    assert scenario_initial(gone) == {"screen_locked": True, "charger": "none"}
    assert scenario_initial(parse_scenario("name: t\nuntil: 1m\n")) == {}


def test_poll_period_is_stretched_at_high_speed() -> None:
    rig = Rig(default_config().with_overrides(speed=600))
    assert rig.poll_interval == 600 * MIN_WALL_POLL_S
    assert Rig(default_config()).poll_interval == default_config().poll_interval


def test_printer_lines_are_readable() -> None:
    out = io.StringIO()
    p = Printer(out, color=False)
    signals = Signals(charger="none")
    p.events([Event("revoke", "mail", "wp8", "sync", 300.25, 2, signals, reason="charger_removed")])
    p.signals(Signals(charger="ac", battery_level=95.0), Signals(charger="none", battery_level=95.4, voltage=3.9, t=300.25))
    p.signals(Signals(battery_level=95.4, voltage=3.9), Signals(battery_level=95.3, voltage=3.8))  # analogue only
    lines = out.getvalue().splitlines()
    assert lines[0].split() == ["0:05:00.250", "REVOKE", "mail/sync", "charger_removed", "(wp8", "#2)"]
    assert lines[1].split()[1:] == ["SIGNALS", "battery_level=95%,", "charger=none"]
    assert len(lines) == 2  # voltage wobble and a fraction of a percent print nothing
