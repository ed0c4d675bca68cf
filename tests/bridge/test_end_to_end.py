"""An app prototype on a real Mosquitto: register, wake, expire, terminate; plus clients nobody
here wrote (``mosquitto_sub`` / ``mosquitto_pub``) on the same topics."""

from __future__ import annotations

import asyncio
import json
import shutil

import pytest

from firmware_sim.platforms.capacitor import CapacitorLimits
from mqtt_bridge import AppClient, AppRequestError
from tests.bridge.helpers import RigHarness, Watcher, assert_schema, unique_id
from tests.mosquitto import Mosquitto

pytestmark = pytest.mark.broker

#: seed 000 (Capacitor BackgroundTask docs): "任务必须在 3 分钟内完成" — the task must finish in 3 minutes.
BUDGET_S = CapacitorLimits().before_exit_s
GRACE_S = CapacitorLimits().terminate_grace_s
#: what ``bridge/info`` reports; rig time itself moves only when a test advances the harness
SPEED = 360.0


def test_budget_is_the_documented_three_minutes() -> None:
    assert BUDGET_S == 180.0


async def test_capacitor_task_wakes_expires_and_terminates_in_order(mosquitto: Mosquitto) -> None:
    rig, app_id = unique_id("e2e"), "mail"
    async with RigHarness(mosquitto.url(), rig, speed=SPEED) as h, \
            Watcher(mosquitto.url(), f"wakebench/{rig}/#") as watch, \
            AppClient(mosquitto.url(), app_id=f"{app_id}-{rig}", rig=rig) as app:
        app_id = app.app_id
        registered = await app.register("capacitor")
        assert registered["app"]["platform"] == "capacitor"
        assert {"before_exit", "finish", "register", "status"} <= set(registered["verbs"])

        started = await app.request("before_exit")
        assert started["task_id"] == "task-1"
        wake = await app.next_event(5)
        h.advance(BUDGET_S)  # the budget runs out: expire ...
        expire = await app.next_event(5)
        h.advance(GRACE_S)  # ... and the grace: terminate
        events = [wake, expire, await app.next_event(5)]

        assert [e["type"] for e in events] == ["wake", "expire", "terminate"]
        assert [e["seq"] for e in events] == [1, 2, 3]
        wake, expire, terminate = events
        for e in events:
            assert_schema("Event", e)
            assert e["app"] == app_id and e["platform"] == "capacitor" and e["task_id"] == started["task_id"]
        # expire exactly at the 3-minute deadline (rig seconds), terminate after the grace
        assert wake["deadline"] == pytest.approx(wake["t"] + BUDGET_S)
        assert expire["t"] == pytest.approx(wake["deadline"])
        assert terminate["t"] == pytest.approx(expire["t"] + GRACE_S)
        assert expire["reason"] == "time_limit" and terminate["reason"] == "not_finished"

        # the retained task state went running -> expired -> cleared (empty retained payload)
        task_topic = h.topics.app_task(app_id, started["task_id"])
        cleared = await watch.wait(lambda m: m.topic == task_topic and m.payload == b"")
        assert cleared.payload == b""
        states = [m.payload for m in watch.on(task_topic)]
        assert states[-1] == b""
        assert [json.loads(p)["state"] for p in states[:-1]] == ["running", "expired"]
        for p in states[:-1]:
            assert_schema("TaskState", json.loads(p))

        # an independent subscriber saw the same three events, in order
        await watch.topic(h.topics.app_events(app_id), where=lambda e: e["type"] == "terminate")
        seen = [m.json() for m in watch.on(h.topics.app_events(app_id))]
        assert [(e["type"], e["seq"]) for e in seen] == [("wake", 1), ("expire", 2), ("terminate", 3)]


async def test_finish_before_the_deadline_ends_the_task_without_expire(mosquitto: Mosquitto) -> None:
    rig = unique_id("finish")
    async with RigHarness(mosquitto.url(), rig, speed=1.0) as h, \
            AppClient(mosquitto.url(), app_id="sync", rig=rig) as app:
        await app.register("capacitor")
        task = await app.request("before_exit")
        wake = await app.next_event(5)
        assert wake["type"] == "wake"
        done = await app.request("finish", task_id=task["task_id"])
        assert done["state"] == "running"
        with pytest.raises(AppRequestError) as err:
            await app.request("finish", task_id=task["task_id"])
        assert err.value.code == "unknown_task"
        assert h.scheduler.tasks("sync") == {}


async def test_responses_and_retained_state_match_the_asyncapi_schemas(mosquitto: Mosquitto) -> None:
    rig = unique_id("schemas")
    async with RigHarness(mosquitto.url(), rig) as h, \
            Watcher(mosquitto.url(), f"wakebench/{rig}/#") as watch, \
            AppClient(mosquitto.url(), app_id="app", rig=rig) as app:
        state = await watch.topic(h.topics.bridge_state(), where=lambda p: p["state"] == "online")
        assert state.retain
        assert_schema("BridgeState", state.json())
        info = (await watch.topic(h.topics.bridge_info())).json()
        assert_schema("BridgeInfo", info)
        assert info["rig"] == rig and info["mqtt5"] is True and "capacitor" in info["platforms"]
        signals = (await watch.topic(h.topics.signals())).json()
        assert_schema("Signals", signals)
        await app.register("capacitor")
        ok = (await watch.topic(h.topics.app_response("app", "register"))).json()
        assert_schema("Response", ok)
        bad = await app.send("no_such_verb")
        assert_schema("Response", bad)
        assert bad["code"] == "unknown_verb"


needs_clients = pytest.mark.skipif(shutil.which("mosquitto_sub") is None, reason="mosquitto-clients missing")


async def _lines(proc: asyncio.subprocess.Process, n: int, within: float = 10.0) -> list[str]:
    assert proc.stdout is not None
    out = []
    for _ in range(n):
        line = await asyncio.wait_for(proc.stdout.readline(), within)
        assert line, "mosquitto_sub ended early"
        out.append(line.decode().rstrip("\n"))
    return out


@needs_clients
async def test_mosquitto_sub_and_pub_use_the_same_topics(mosquitto: Mosquitto) -> None:
    """mosquitto_pub (MQTT 3.1.1 by default) registers an app and starts a task; mosquitto_sub
    sees the response (with the transaction echoed) and the events."""
    rig = unique_id("cli")
    async with RigHarness(mosquitto.url(), rig, speed=SPEED) as h:
        base = h.topics
        sub = await asyncio.create_subprocess_exec(
            "mosquitto_sub", "-h", "127.0.0.1", "-p", str(mosquitto.port), "-q", "1", "-v",
            "-t", base.bridge_state(), "-t", f"{base.app_root('cli')}/response/+",
            "-t", base.app_events("cli"), stdout=asyncio.subprocess.PIPE)
        try:
            # the retained bridge/state arrives first: mosquitto_sub is subscribed
            (first,) = await _lines(sub, 1)
            topic, body = first.split(" ", 1)
            assert (topic, json.loads(body)["state"], json.loads(body)["instance"]) == (
                base.bridge_state(), "online", h.bridge.instance)

            async def pub(verb: str, body: dict[str, object]) -> None:
                proc = await asyncio.create_subprocess_exec(
                    "mosquitto_pub", "-h", "127.0.0.1", "-p", str(mosquitto.port), "-q", "1",
                    "-t", base.app_request("cli", verb), "-m", json.dumps(body))
                assert await asyncio.wait_for(proc.wait(), 10) == 0

            await pub("register", {"platform": "capacitor", "transaction": "t-1"})
            (line,) = await _lines(sub, 1)
            topic, _, payload = line.partition(" ")
            assert topic == base.app_response("cli", "register")
            response = json.loads(payload)
            assert response["status"] == "ok" and response["transaction"] == "t-1"

            await pub("before_exit", {"transaction": 7})
            lines = await _lines(sub, 2)  # the response, then the wake
            h.advance(BUDGET_S + GRACE_S)
            lines += await _lines(sub, 2)
            parsed = [(t, json.loads(p)) for t, _, p in (ln.partition(" ") for ln in lines)]
            assert parsed[0][0] == base.app_response("cli", "before_exit")
            assert parsed[0][1]["transaction"] == 7
            assert [(p["type"], p["seq"]) for _, p in parsed[1:]] == [("wake", 1), ("expire", 2), ("terminate", 3)]
        finally:
            sub.terminate()
            await sub.wait()


@needs_clients
async def test_mosquitto_pub_mqtt5_response_topic_gets_correlation_data(mosquitto: Mosquitto) -> None:
    rig = unique_id("v5cli")
    async with RigHarness(mosquitto.url(), rig) as h, \
            Watcher(mosquitto.url(), "inbox/#") as inbox:
        proc = await asyncio.create_subprocess_exec(
            "mosquitto_pub", "-V", "5", "-h", "127.0.0.1", "-p", str(mosquitto.port), "-q", "1",
            "-t", h.topics.bridge_request("health_check"), "-m", "",
            "-D", "publish", "response-topic", "inbox/dash",
            "-D", "publish", "correlation-data", "corr-42")
        assert await asyncio.wait_for(proc.wait(), 10) == 0
        reply = await inbox.topic("inbox/dash")
        assert reply.correlation == b"corr-42"
        body = reply.json()
        assert body["status"] == "ok" and body["data"]["healthy"] is True and body["data"]["connected"] is True
        assert_schema("HealthCheck", body["data"])


async def test_clean_stop_publishes_offline_and_keeps_it_retained(mosquitto: Mosquitto) -> None:
    rig = unique_id("stop")
    h = RigHarness(mosquitto.url(), rig)
    async with Watcher(mosquitto.url(), h.topics.bridge_state()) as watch:
        async with h:
            online = await watch.topic(h.topics.bridge_state(), where=lambda p: p["state"] == "online")
        await watch.topic(h.topics.bridge_state(), where=lambda p: p["state"] == "offline",
                          start=watch.messages.index(online))
    async with Watcher(mosquitto.url(), h.topics.bridge_state()) as late:
        state = await late.topic(h.topics.bridge_state())
        assert state.retain and state.json()["state"] == "offline"
    assert not h.bridge.connected


async def test_rig_events_raised_before_connecting_are_delivered(mosquitto: Mosquitto) -> None:
    """A sensor fault reported while the broker is still unreachable waits in the outbox."""
    rig = unique_id("fault")
    h = RigHarness(mosquitto.url(), rig)
    async with Watcher(mosquitto.url(), h.topics.bridge_event()) as watch:
        await h.bridge.start()
        h.bridge.rig_event("sensor_fault", {"message": "gauge 0x36 NACK"})
        try:
            await h.bridge.wait_connected(10)
            event = (await watch.topic(h.topics.bridge_event())).json()
        finally:
            await h.bridge.stop()
    assert_schema("BridgeEvent", event)
    assert (event["type"], event["data"]) == ("sensor_fault", {"message": "gauge 0x36 NACK"})
