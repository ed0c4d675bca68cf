"""Losing the broker mid-run: the last will, the on-disk outbox, in-order delivery after reconnect."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from firmware_sim.platforms.capacitor import CapacitorLimits
from mqtt_bridge import AppClient
from mqtt_bridge.outbox import OUTBOX_FILE, Outbox
from tests.bridge.helpers import RigHarness, TcpProxy, Watcher, unique_id, wait_until
from tests.mosquitto import Mosquitto

pytestmark = pytest.mark.broker

#: what ``bridge/info`` reports; rig time moves only when a test calls ``h.advance``
SPEED = 360.0
TASKS = 3
#: seed 000 (Capacitor BackgroundTask docs): "任务必须在 3 分钟内完成" (3 minutes), then the grace:
#: advancing rig time by this much expires and terminates every task started at the same time.
BUDGET_AND_GRACE_S = CapacitorLimits().before_exit_s + CapacitorLimits().terminate_grace_s


def by_seq(events: list[dict[str, Any]]) -> list[int]:
    """``seq`` numbers in arrival order with QoS 1 repeats removed (first arrival kept)."""
    seen: list[int] = []
    for e in events:
        if e["seq"] not in seen:
            seen.append(e["seq"])
    return seen


async def start_tasks(h: RigHarness, app: AppClient, n: int) -> None:
    """Register ``app``, start ``n`` tasks, and wait until the broker confirmed every wake."""
    await app.register("capacitor")
    for _ in range(n):
        await app.request("before_exit")
    wakes = [await app.next_event(5) for _ in range(n)]
    assert [(e["type"], e["seq"]) for e in wakes] == [("wake", i) for i in range(1, n + 1)]
    await wait_until(lambda: h.bridge.pending == 0, what="every publish confirmed")


async def test_lost_connection_publishes_the_will_and_delivers_the_outbox_in_order(
        mosquitto: Mosquitto) -> None:
    rig = unique_id("cut")
    async with TcpProxy(mosquitto.port) as proxy, \
            RigHarness(proxy.url(), rig, speed=SPEED) as h, \
            Watcher(mosquitto.url(), h.topics.bridge_state(), h.topics.app_events("cut")) as watch, \
            AppClient(mosquitto.url(), app_id="cut", rig=rig) as app:
        online = await watch.topic(h.topics.bridge_state(), where=lambda p: p["state"] == "online")
        await start_tasks(h, app, TASKS)

        await proxy.cut()
        # the broker saw the bridge vanish: its last will, retained
        offline = await watch.topic(h.topics.bridge_state(), where=lambda p: p["state"] == "offline",
                                    start=watch.messages.index(online))
        assert offline.json() == {**online.json(), "state": "offline"}  # the will names this run
        # every task expires and terminates while the broker is unreachable
        h.advance(BUDGET_AND_GRACE_S)
        await wait_until(lambda: h.bridge.outbox_size >= 2 * TASKS, what="6 events in the outbox")
        assert not h.bridge.connected

        await proxy.restore()
        back = await watch.topic(h.topics.bridge_state(), where=lambda p: p["state"] == "online",
                                 start=watch.messages.index(offline))
        assert back.retain is False or back.json() == online.json()
        events = [await app.next_event(5) for _ in range(2 * TASKS)]
        assert [e["seq"] for e in events] == list(range(TASKS + 1, 3 * TASKS + 1))
        assert {e["type"] for e in events} == {"expire", "terminate"}
        assert app.gaps == []
        await wait_until(lambda: h.bridge.outbox_size == 0, what="outbox drained")
        raw = [m.json() for m in watch.on(h.topics.app_events("cut"))]
        assert by_seq(raw) == list(range(1, 3 * TASKS + 1))
        assert h.bridge.health()["reconnects"] >= 1


async def test_broker_killed_and_restarted_loses_and_reorders_nothing(
        mosquitto_factory: Callable[..., Mosquitto]) -> None:
    broker = mosquitto_factory(persistence=True, tls=False)
    rig = unique_id("kill")
    async with RigHarness(broker.url(), rig, speed=SPEED) as h, \
            AppClient(broker.url(), app_id="victim", rig=rig) as app:
        await start_tasks(h, app, TASKS)
        broker.save()  # the app's persistent session (and its subscription) survives the restart
        broker.kill()  # SIGKILL: no clean shutdown, no will, nothing saved
        h.advance(BUDGET_AND_GRACE_S)
        await wait_until(lambda: h.bridge.outbox_size >= 2 * TASKS, what="6 events in the outbox")
        broker.start()
        await h.bridge.wait_connected(10)
        events = [await app.next_event(10) for _ in range(2 * TASKS)]
        assert [e["seq"] for e in events] == list(range(TASKS + 1, 3 * TASKS + 1))
        assert app.gaps == []
        async with Watcher(broker.url(), h.topics.bridge_state()) as fresh:
            state = await fresh.topic(h.topics.bridge_state())
            assert state.retain and state.json()["state"] == "online"
            assert state.json()["instance"] == h.bridge.instance
        # after the restart the bridge goes on as before
        await app.request("before_exit")
        assert (await app.next_event(5))["seq"] == 3 * TASKS + 1


async def test_full_outbox_drops_the_oldest_and_reports_it_after_reconnect(mosquitto: Mosquitto) -> None:
    rig = unique_id("overflow")
    async with TcpProxy(mosquitto.port) as proxy, \
            RigHarness(proxy.url(), rig, speed=SPEED, options={"outbox_max_events": 4}) as h, \
            Watcher(mosquitto.url(), h.topics.bridge_event(), h.topics.app_events("ovf")) as watch, \
            AppClient(mosquitto.url(), app_id="ovf", rig=rig) as app:
        await start_tasks(h, app, TASKS)
        await proxy.cut()
        h.advance(BUDGET_AND_GRACE_S)
        await wait_until(lambda: h.bridge.health()["dropped"] >= 2, what="2 events dropped")
        await wait_until(lambda: h.scheduler.tasks("ovf") == {}, what="all tasks terminated")
        assert h.bridge.outbox_size == 4  # the bound, just reached
        await proxy.restore()
        report = await watch.topic(h.topics.bridge_event(), where=lambda p: p["type"] == "outbox_overflow")
        body = report.json()
        assert body["data"] == {"dropped": 2, "apps": {"ovf": {"first_seq": 4, "last_seq": 5, "count": 2}}}
        events = [await app.next_event(5) for _ in range(4)]
        assert [e["seq"] for e in events] == [6, 7, 8, 9]
        assert app.gaps == [(4, 5)]
        # the report came before the surviving events
        first_event = next(i for i, m in enumerate(watch.messages)
                           if m.topic == h.topics.app_events("ovf") and m.json()["seq"] == 6)
        assert watch.messages.index(report) < first_event


async def test_outbox_survives_a_bridge_restart(mosquitto: Mosquitto, tmp_path: Any) -> None:
    rig = unique_id("restart")
    async with TcpProxy(mosquitto.port) as proxy:
        h = RigHarness(proxy.url(), rig, speed=SPEED, options={"state_dir": tmp_path})
        async with h, AppClient(mosquitto.url(), app_id="keep", rig=rig) as app:
            await start_tasks(h, app, 1)
            await proxy.cut()
            h.advance(BUDGET_AND_GRACE_S)
            await wait_until(lambda: h.bridge.outbox_size == 2, what="expire and terminate queued")
        # the bridge stopped while the broker was unreachable: the events wait on disk
        with_two = Outbox(tmp_path / OUTBOX_FILE, max_events=10, max_bytes=1 << 20)
        assert len(with_two) == 2
        with_two.close()
        await proxy.restore()
        h2 = RigHarness(mosquitto.url(), rig, speed=SPEED, options={"state_dir": tmp_path})
        async with AppClient(mosquitto.url(), app_id="keep", rig=rig) as app2, h2:
            events = [await app2.next_event(5) for _ in range(2)]
            assert [(e["type"], e["seq"]) for e in events] == [("expire", 2), ("terminate", 3)]
            await wait_until(lambda: h2.bridge.outbox_size == 0, what="outbox drained")


async def test_retained_state_changed_while_offline_is_current_after_reconnect(mosquitto: Mosquitto) -> None:
    rig = unique_id("stale")
    async with TcpProxy(mosquitto.port) as proxy, RigHarness(proxy.url(), rig, speed=SPEED) as h, \
            AppClient(mosquitto.url(), app_id="st", rig=rig) as app:
        await start_tasks(h, app, 1)
        await proxy.cut()
        await wait_until(lambda: not h.bridge.connected, what="bridge offline")
        for level in (90.0, 80.0, 70.0):
            await h.driver.update_signals({"battery_level": level})
        h.advance(BUDGET_AND_GRACE_S)
        await wait_until(lambda: h.scheduler.tasks("st") == {}, what="task gone while offline")
        await proxy.restore()
        await h.bridge.wait_connected(10)
        await wait_until(lambda: h.bridge.pending == 0, what="everything confirmed")
        async with Watcher(mosquitto.url(), h.topics.signals(), h.topics.app_task("st", "task-1"),
                           h.topics.bridge_state()) as late:
            await late.topic(h.topics.bridge_state())  # retained of earlier filters came first
            assert late.on(h.topics.app_task("st", "task-1")) == []  # cleared, not stale "running"
            assert late.on(h.topics.signals())[-1].json()["battery_level"] == 70.0


def test_leftovers_are_what_the_dropped_connection_received_and_did_not_yield() -> None:
    """aiomqtt's iterator stops at a disconnect and leaves its queue as it is; paho already sent
    the PUBACKs, so the broker never sends those messages again: the transport hands them over."""
    import asyncio

    import aiomqtt

    from mqtt_bridge.transport import AiomqttTransport

    class Dropped:
        def __init__(self) -> None:
            self._queue: asyncio.Queue[aiomqtt.Message] = asyncio.Queue()

    conn = Dropped()
    for n in (1, 2, 3):
        conn._queue.put_nowait(aiomqtt.Message(f"wakebench/r/apps/a/request/v{n}", b"{}", 1, False, n, None))
    transport = AiomqttTransport()
    assert [m.topic for m in transport.leftovers(conn)] == [f"wakebench/r/apps/a/request/v{n}" for n in (1, 2, 3)]
    assert transport.leftovers(conn) == []  # taken out: never answered twice
    assert transport.leftovers(object()) == []  # a connection that never opened has none


async def test_requests_left_by_a_dropped_connection_are_answered_after_the_reconnection(
        mosquitto: Mosquitto) -> None:
    """Requests the dropped connection had received but not handed over are answered first after
    the reconnection, in arrival order: none goes unanswered (the router answers each once)."""
    from mqtt_bridge.transport import Incoming
    from tests.bridge.helpers import Requester

    rig = unique_id("left")
    async with TcpProxy(mosquitto.port) as proxy, RigHarness(proxy.url(), rig, speed=SPEED) as h, \
            Requester(mosquitto.url()) as req:
        await proxy.cut()
        await wait_until(lambda: not h.bridge.connected, what="the bridge to notice the cut")
        h.bridge._leftovers.extend(
            Incoming(h.topics.bridge_request("health_check"), f'{{"transaction":"t{n}"}}'.encode(),
                     f"{req.inbox}/r", f"left{n}".encode()) for n in (1, 2))
        await proxy.restore()
        first = await req.wait(lambda m: m.topic == f"{req.inbox}/r" and m.correlation == b"left1", within=10)
        second = await req.wait(lambda m: m.topic == f"{req.inbox}/r" and m.correlation == b"left2", within=10)
        assert (first.json()["status"], first.json()["transaction"]) == ("ok", "t1")
        assert (second.json()["status"], second.json()["transaction"]) == ("ok", "t2")
        assert req.messages.index(first) < req.messages.index(second)  # arrival order kept
        assert h.bridge._leftovers == []
