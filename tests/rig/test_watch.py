"""``wakebench watch``: the view is a pure function of the messages it was fed."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiomqtt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console

from mqtt_bridge.config import BrokerConfig
from wakebench.broker import InProcessBroker
from wakebench.commands.watch import WatchState, follow, render

BASE = "wakebench/r1"


def msg(state: WatchState, topic: str, payload: Any, *, now: float = 0.0, retained: bool = False) -> None:
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    state.feed(topic, raw, now=now, retained=retained)


def text(state: WatchState, *, now: float = 0.0, rig: str | None = None) -> str:
    console = Console(record=True, width=160, color_system=None)
    console.print(render(state, now=now, rig=rig))
    return console.export_text()


def event(t: float, type_: str = "wake", *, app: str = "mail", task: str = "sync", seq: int = 1,
          reason: str | None = None, deadline: float | None = None) -> dict[str, Any]:
    return {"type": type_, "app": app, "platform": "wp8", "task_id": task, "reason": reason, "t": t,
            "ts": None, "deadline": deadline, "seq": seq, "signals": {}}


def rig_with_a_running_task() -> WatchState:
    state = WatchState()
    msg(state, f"{BASE}/bridge/state", {"state": "online"}, retained=True)
    msg(state, f"{BASE}/bridge/info", {"board": "sim", "speed": 60, "version": "0.1.0"}, retained=True)
    msg(state, f"{BASE}/signals", {"battery_level": 95.0, "charger": "ac", "network": "wifi",
                                   "screen_locked": True, "t": 0.0, "stale": []}, retained=True)
    msg(state, f"{BASE}/apps/mail/response/register",
        {"status": "ok", "data": {"app": {"id": "mail", "platform": "wp8", "state": "foreground"}}})
    msg(state, f"{BASE}/apps/mail/tasks/sync",
        {"task_id": "sync", "kind": "resource_intensive", "state": "running", "deadline": 700.0}, retained=True)
    msg(state, f"{BASE}/apps/mail/events", event(100.0, deadline=700.0), now=1000.0)
    return state


def test_one_rig_shows_signals_apps_tasks_and_events() -> None:
    out = text(rig_with_a_running_task(), now=1000.0)
    assert "rig r1" in out and "online" in out and "board sim" in out and "speed ×60" in out
    assert "battery_level" in out and "95 %" in out and "charger" in out
    assert "mail" in out and "wp8" in out and "foreground" in out
    assert "resource_intensive" in out and "running" in out
    assert "WAKE" in out and "until 0:11:40" in out


def test_remaining_budget_counts_down_on_the_rig_clock() -> None:
    state = rig_with_a_running_task()
    # the wake arrived at receiver time 1000 s with rig t = 100 s; at speed 60, 2 wall seconds
    # later the rig is at 220 s and 700 - 220 = 480 s (0:08:00) remain
    assert state.rigs["r1"].rig_time(1002.0) == pytest.approx(220.0)
    assert "0:08:00" in text(state, now=1002.0)
    assert "rig time 0:03:40" in text(state, now=1002.0)
    # past the deadline the budget shows zero, never negative
    assert "0:00:00" in text(state, now=1020.0)


def test_retained_times_never_replace_a_live_one() -> None:
    state = rig_with_a_running_task()
    msg(state, f"{BASE}/signals", {"charger": "ac", "t": 5.0, "stale": []}, now=1001.0, retained=True)
    assert state.rigs["r1"].rig_time(1001.0) == pytest.approx(160.0)


def test_replayed_old_events_do_not_wind_the_clock_back() -> None:
    state = rig_with_a_running_task()
    msg(state, f"{BASE}/apps/mail/events", event(50.0, "expire", seq=2), now=1001.0)  # outbox replay
    assert state.rigs["r1"].rig_time(1001.0) == pytest.approx(160.0)


def test_offline_stops_the_clock_and_a_restart_rebases_it() -> None:
    state = rig_with_a_running_task()
    msg(state, f"{BASE}/bridge/state", {"state": "offline"}, now=1001.0)
    assert state.rigs["r1"].rig_time(5000.0) == pytest.approx(160.0)
    assert "offline" in text(state, now=5000.0)
    msg(state, f"{BASE}/bridge/state", {"state": "online"}, now=5000.0)
    msg(state, f"{BASE}/signals", {"charger": "none", "t": 150.0, "stale": []}, now=5000.0)
    assert state.rigs["r1"].rig_time(5001.0) == pytest.approx(210.0)


def test_an_empty_retained_task_payload_removes_the_task() -> None:
    state = rig_with_a_running_task()
    msg(state, f"{BASE}/apps/mail/tasks/sync", b"", retained=True)
    assert "tasks: none" in text(state, now=1000.0)


def test_stale_signals_and_errors_are_marked() -> None:
    state = rig_with_a_running_task()
    msg(state, f"{BASE}/signals", {"battery_level": 0.0, "charger": "ac", "t": 120.0, "stale": ["battery_level"]},
        now=1000.4)
    msg(state, f"{BASE}/apps/mail/response/add",
        {"status": "error", "code": "too_many", "error": "BNS Error: The maximum number", "data": {}})
    msg(state, f"{BASE}/bridge/event", {"type": "sensor_fault", "data": {"message": "max17048@0x36: NACK"},
                                        "t": 121.0, "ts": "2026-01-01T00:02:01Z"}, now=1000.5)
    out = text(state, now=1000.5)
    assert "(stale)" in out
    assert "add: too_many: BNS Error" in out
    assert "sensor_fault" in out and "max17048@0x36: NACK" in out


def test_the_fleet_lists_every_rig() -> None:
    state = rig_with_a_running_task()
    msg(state, "wakebench/r2/bridge/state", {"state": "offline"}, retained=True)
    msg(state, "wakebench/r2/bridge/info", {"board": "x120x", "speed": 1}, retained=True)
    msg(state, "wakebench/r2/apps/news/events", event(7.0, "revoke", app="news", reason="charger_removed"), now=3.0)
    out = text(state, now=1000.0)
    assert "rigs" in out and "r1" in out and "r2" in out and "x120x" in out
    assert "charger_removed" in out
    # one rig asked for by id gets the detailed view
    assert "board x120x" in text(state, now=1000.0, rig="r2")
    assert "waiting for rig 'r3'" in text(state, rig="r3")


def test_single_rig_on_the_broker_is_shown_in_detail_even_with_plus() -> None:
    assert "rig r1  online" in text(rig_with_a_running_task(), now=1000.0, rig="+")


@settings(max_examples=200, deadline=None)
@given(
    topic=st.sampled_from(["wakebench", "wakebench/r1", "wakebench/r1/signals", "wakebench/r1/bridge/state",
                           "wakebench/r1/bridge/info", "wakebench/r1/bridge/event", "wakebench/r1/apps/a/events",
                           "wakebench/r1/apps/a/tasks/t", "wakebench/r1/apps/a/response/register",
                           "wakebench/r1/apps", "other/r1/signals", "wakebench/r1/apps/a/tasks"]),
    payload=st.one_of(
        st.binary(max_size=40),
        st.recursive(st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=8),
                     lambda c: st.lists(c, max_size=3) | st.dictionaries(
                         st.sampled_from(["t", "state", "speed", "data", "deadline", "stale", "type", "app",
                                          "platform", "status", "seq", "reason"]), c, max_size=5),
                     max_leaves=10).map(lambda v: json.dumps(v).encode()),
    ),
    retained=st.booleans(),
)
def test_garbage_never_breaks_the_view(topic: str, payload: bytes, retained: bool) -> None:
    state = rig_with_a_running_task()
    state.feed(topic, payload, now=1000.5, retained=retained)
    text(state, now=1001.0)
    text(state, now=1001.0, rig="r1")


# -- against a real broker ------------------------------------------------------------------------
async def test_follow_feeds_the_state_from_a_broker() -> None:
    async with InProcessBroker() as broker, \
            aiomqtt.Client(broker.host, broker.port, protocol=aiomqtt.ProtocolVersion.V311) as rig:
        await rig.publish(f"{BASE}/bridge/state", b'{"state":"online"}', qos=1, retain=True)
        await rig.publish(f"{BASE}/bridge/info", b'{"board":"sim","speed":600}', qos=1, retain=True)
        state = WatchState()
        stop = asyncio.Event()
        connected, seen = asyncio.Event(), asyncio.Event()

        def changed() -> None:
            if state.connected:
                connected.set()
            view = state.rigs.get("r1")
            if view and view.events:
                seen.set()

        config = BrokerConfig.from_url(broker.url, protocol="3.1.1")
        follower = asyncio.create_task(follow(config, state, rig="+", on_change=changed, stop=stop))
        await asyncio.wait_for(connected.wait(), 5)
        await rig.publish(f"{BASE}/apps/mail/events",
                          json.dumps(event(30.0, "revoke", reason="charger_removed")).encode(), qos=1)
        await asyncio.wait_for(seen.wait(), 5)
        stop.set()
        await asyncio.wait_for(follower, 5)
    view = state.rigs["r1"]
    assert view.online is True and view.speed == 600
    assert view.apps["mail"].last_event is not None
    assert view.apps["mail"].last_event["reason"] == "charger_removed"
    assert "REVOKE" in text(state, now=0.0)


async def test_follow_reports_an_unreachable_broker_and_keeps_trying() -> None:
    async with InProcessBroker() as probe:
        port = probe.port  # free once the broker stops
    state = WatchState()
    stop = asyncio.Event()
    failed = asyncio.Event()

    def changed() -> None:
        if state.connected is False:
            failed.set()

    task = asyncio.create_task(follow(BrokerConfig.from_url(f"mqtt://127.0.0.1:{port}", protocol="3.1.1"),
                                      state, on_change=changed, stop=stop))
    await asyncio.wait_for(failed.wait(), 10)
    assert "broker unreachable" in text(state)
    stop.set()
    await asyncio.wait_for(task, 10)


# -- issue 13 ---------------------------------------------------------------------------------------
def screen(state: WatchState, *, now: float, rig: str | None = None, width: int = 80, height: int = 24) -> list[str]:
    """What a ``width`` × ``height`` terminal shows (the Live view leaves one line for the cursor)."""
    console = Console(record=True, width=width, height=height, color_system=None)
    console.print(render(state, now=now, rig=rig, width=width, height=height - 1))
    return console.export_text().splitlines()


def busy_rig() -> WatchState:
    state = rig_with_a_running_task()
    for i, (app, platform) in enumerate((("news", "ios"), ("photos", "android"), ("rec", "uwp"))):
        msg(state, f"{BASE}/apps/{app}/state", {"app": app, "platform": platform, "state": "background", "t": 1.0},
            retained=True)
        msg(state, f"{BASE}/apps/{app}/tasks/t{i}", {"task_id": f"t{i}", "type": "periodic", "state": "waiting",
                                                     "waiting_for": ["requires_charging", "time"]}, retained=True)
    for seq in range(2, 30):
        msg(state, f"{BASE}/apps/mail/events", event(100.0 + seq, "expire", seq=seq), now=1000.0)
    return state


def test_wp8_tasks_count_down_from_their_run_deadline() -> None:
    """WP8 task states nest the deadline under ``run`` (firmware_sim/platforms/wp8.py)."""
    state = rig_with_a_running_task()
    msg(state, f"{BASE}/apps/mail/tasks/sync", {"task_id": "sync", "type": "resource_intensive", "state": "running",
                                                "run": {"started": 100.0, "deadline": 700.0}}, retained=True)
    out = text(state, now=1002.0)
    assert "0:11:40" in out and "0:08:00" in out  # deadline and 480 s left at rig time 220 s


def test_markup_in_error_text_is_shown_as_is() -> None:
    state = rig_with_a_running_task()
    msg(state, f"{BASE}/apps/mail/response/register",
        {"status": "error", "code": "invalid_app_id", "error": "app id must match [a-z0-9_-]{1,64}", "data": {}})
    msg(state, f"{BASE}/bridge/event", {"type": "request_error", "data": {"message": "[bold]x[/bold] {1,64}"},
                                        "t": 1.0, "ts": ""}, now=1000.0)
    out = text(state, now=1000.0)
    assert "[a-z0-9_-]{1,64}" in out
    assert "[bold]x[/bold] {1,64}" in out


def test_at_80x24_everything_important_fits_and_tasks_are_whole() -> None:
    lines = screen(busy_rig(), now=1000.0)
    assert len(lines) <= 23
    assert max(len(line) for line in lines) <= 80
    out = "\n".join(lines)
    assert "tasks" in out and "tasks ..." not in out
    for task in ("sync", "t0", "t1", "t2"):
        assert any(f" {task} " in line for line in lines), task
    assert "0:09:31" in out  # the countdown: deadline 700 s, rig time 129 s (the last event)
    assert "more lines" in lines[-1]  # the events that did not fit are counted, not silently cut


def test_a_late_viewer_sees_platform_and_state_from_the_retained_app_state() -> None:
    state = WatchState()
    msg(state, f"{BASE}/apps/news/state", {"app": "news", "platform": "ios", "state": "suspended", "t": 3.0},
        retained=True)
    out = text(state, rig="r1")
    assert "news" in out and "ios" in out and "suspended" in out and "–" not in out.split("apps")[1]


def test_waiting_tasks_say_what_they_wait_for() -> None:
    out = "\n".join(screen(busy_rig(), now=1000.0, width=120, height=60))
    assert "waiting for" in out and "requires_charging, time" in out


def test_each_message_is_one_plain_line_for_piped_output() -> None:
    state = WatchState()
    assert state.feed(f"{BASE}/bridge/state", b'{"state":"online"}', now=0.0) == f"{'r1':<10} {'':12}  ONLINE"
    line = state.feed(f"{BASE}/apps/mail/events", json.dumps(event(300.0, "revoke", reason="charger_removed",
                                                                    seq=2)).encode(), now=0.0)
    assert line is not None
    assert line.split() == ["r1", "0:05:00.000", "REVOKE", "mail/sync", "charger_removed", "#2"]
    line = state.feed(f"{BASE}/signals", b'{"charger":"none","t":300.0,"stale":[]}', now=0.0)
    assert line is not None and "SIGNALS" in line and "charger=none" in line
    assert state.feed(f"{BASE}/signals", b'{"charger":"none","t":300.0,"stale":[]}', now=0.0) is None
    line = state.feed(f"{BASE}/apps/mail/tasks/sync", b'{"task_id":"sync","state":"waiting","waiting_for":"time"}',
                      now=0.0)
    assert line is not None and line.endswith("sync waiting (waiting for time)")
    assert state.feed(f"{BASE}/apps/mail/events", b'{"type": 3, "t": "x"}', now=0.0) is not None  # never raises


def test_an_unknown_rig_lists_the_rigs_present() -> None:
    state = rig_with_a_running_task()
    msg(state, "wakebench/bench2/bridge/state", {"state": "online"}, retained=True)
    out = text(state, rig="nosuch")
    assert "waiting for rig 'nosuch'" in out and "rigs on this broker: bench2, r1" in out


async def test_follow_one_rig_also_reads_which_rigs_exist_and_prints_lines() -> None:
    async with InProcessBroker() as broker, \
            aiomqtt.Client(broker.host, broker.port, protocol=aiomqtt.ProtocolVersion.V311) as rig:
        await rig.publish(f"{BASE}/bridge/state", b'{"state":"online"}', qos=1, retain=True)
        state = WatchState()
        stop = asyncio.Event()
        lines: list[str] = []
        seen = asyncio.Event()

        def changed() -> None:
            if "r1" in state.rigs:
                seen.set()

        config = BrokerConfig.from_url(broker.url, protocol="3.1.1")
        follower = asyncio.create_task(follow(config, state, rig="nosuch", on_change=changed, on_line=lines.append,
                                              stop=stop))
        await asyncio.wait_for(seen.wait(), 5)
        stop.set()
        await asyncio.wait_for(follower, 5)
    assert "rigs on this broker: r1" in text(state, rig="nosuch")
    assert lines == [f"{'r1':<10} {'':12}  ONLINE   (another rig; nothing from 'nosuch' yet)"]
