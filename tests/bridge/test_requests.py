"""Every malformed request gets an error response with a machine-readable code, through a real
broker; good requests are served; nothing else is affected."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from firmware_sim import SIGNAL_NAMES
from mqtt_bridge import AppClient, AppRequestError
from mqtt_bridge.config import DEFAULT_RATE_BURST, MAX_REQUEST_BYTES
from tests.bridge.helpers import Requester, RigHarness, Watcher, assert_schema, unique_id
from tests.mosquitto import Mosquitto

pytestmark = pytest.mark.broker


@pytest.fixture
async def rig(mosquitto: Mosquitto) -> AsyncIterator[RigHarness]:
    async with RigHarness(mosquitto.url(), unique_id("req")) as h:
        yield h


@pytest.fixture
async def req(mosquitto: Mosquitto, rig: RigHarness) -> AsyncIterator[Requester]:
    async with Requester(mosquitto.url(), f"{rig.topics.base}/#") as r:
        yield r


def body_of(msg: Any) -> dict[str, Any]:
    body: dict[str, Any] = msg.json()
    assert_schema("Response", body)
    return body


async def test_bad_payloads_get_error_codes(rig: RigHarness, req: Requester) -> None:
    topic = rig.topics.app_request("mail", "register")
    cases: list[tuple[bytes, str]] = [
        (b"{not json", "invalid_json"),
        (b"\xff\xfe", "invalid_json"),
        (b'{"a": NaN}', "invalid_json"),
        (b'{"a": 1e999}', "invalid_json"),  # parses to infinity
        (b"[" * 100_00 + b"]" * 100_00, "invalid_json"),  # 20000 bytes of nesting
        (b'{"n": ' + b"9" * 5000 + b"}", "invalid_json"),  # longer than Python parses
        (b"[1, 2]", "invalid_payload"),
        (b'"register"', "invalid_payload"),
        (b'{"transaction": 1.5, "platform": "capacitor"}', "invalid_payload"),
        (b'{"transaction": {"a": 1}}', "invalid_payload"),
        (b'{"platform": "symbian"}', "invalid_args"),
        (b'{"platform": 7}', "invalid_args"),
        (b"{}", "invalid_args"),
    ]
    for payload, code in cases:
        reply = body_of(await req.ask(topic, payload))
        assert (reply["status"], reply["code"]) == ("error", code), payload[:40]
        assert reply["data"] == {} and reply["error"]
    # the standard response topic got the same answers, and the rig still serves
    assert len(req.on(rig.topics.app_response("mail", "register"))) == len(cases)
    ok = body_of(await req.ask(topic, b'{"platform": "capacitor", "transaction": "t-9"}'))
    assert ok["status"] == "ok" and ok["transaction"] == "t-9"


async def test_verbs_that_do_not_fit_get_the_scheduler_codes(rig: RigHarness, req: Requester) -> None:
    t = rig.topics
    assert body_of(await req.ask(t.app_request("mail", "status"), b""))["code"] == "not_registered"
    assert body_of(await req.ask(t.app_request("mail", "register"), b'{"platform":"capacitor"}'))["status"] == "ok"
    assert body_of(await req.ask(t.app_request("mail", "fly"), b"{}"))["code"] == "unknown_verb"
    wrong = body_of(await req.ask(t.app_request("mail", "submit"), b'{"transaction": "x"}'))
    assert (wrong["code"], wrong["transaction"]) == ("wrong_platform", "x")
    mismatch = body_of(await req.ask(t.app_request("mail", "register"), b'{"platform":"wp8"}'))
    assert mismatch["code"] == "platform_mismatch"
    status = body_of(await req.ask(t.app_request("mail", "status"), b""))  # empty payload = {}
    assert status["status"] == "ok" and status["data"]["app"]["platform"] == "capacitor"


async def test_size_limit_boundary(rig: RigHarness, req: Requester) -> None:
    topic = rig.topics.app_request("big", "register")
    head = b'{"platform": "capacitor", "pad": "'
    at_limit = head + b"x" * (MAX_REQUEST_BYTES - len(head) - 2) + b'"}'
    assert len(at_limit) == MAX_REQUEST_BYTES
    # at the limit the payload is parsed (and the unknown 'pad' argument refused by the scheduler)
    assert body_of(await req.ask(topic, at_limit))["code"] == "invalid_args"
    over = body_of(await req.ask(topic, at_limit + b" "))
    assert over["code"] == "payload_too_large" and str(MAX_REQUEST_BYTES) in over["error"]


async def test_invalid_ids_in_the_topic_are_answered_on_bridge_event(rig: RigHarness, req: Requester) -> None:
    base = rig.topics.base
    for topic, code in [(f"{base}/apps/Mail/request/register", "invalid_app_id"),
                        (f"{base}/apps/mail/request/Register", "invalid_verb"),
                        (f"{base}/apps/mail/request/a/b", "invalid_topic"),
                        (f"{base}/apps/m\u00e9/request/x", "invalid_app_id")]:
        reply = (await req.ask(topic, b'{"transaction": "tx"}')).json()
        assert (reply["code"], reply["transaction"]) == (code, "tx")
        event = (await req.topic(rig.topics.bridge_event(),
                                 where=lambda p, topic=topic: p["data"]["topic"] == topic)).json()
        assert event["type"] == "request_error" and event["data"]["code"] == code
        assert_schema("BridgeEvent", event)
    # nothing was published under an invalid id
    published = [m.topic for m in req.messages if "/request/" not in m.topic]
    assert not any("/Mail/" in topic or "/Register" in topic for topic in published)


async def test_reply_topics_inside_rig_namespaces_are_not_used(rig: RigHarness, mosquitto: Mosquitto) -> None:
    from paho.mqtt.packettypes import PacketTypes
    from paho.mqtt.properties import Properties

    async with Requester(mosquitto.url(), "wakebench/#") as req:
        props = Properties(PacketTypes.PUBLISH)
        props.ResponseTopic = "wakebench/someone-else/bridge/state"
        props.CorrelationData = b"evil"
        await req.client.publish(rig.topics.bridge_request("info"), b"", qos=1, properties=props)
        first = await req.topic(rig.topics.bridge_response("info"))
        assert first.correlation == b"evil"  # answered on the standard topic only
        # a later request answered on an allowed inbox proves the refused one was never sent:
        # the bridge publishes in order, so it would have arrived first
        await req.ask(rig.topics.bridge_request("info"), b"")
        assert req.on("wakebench/someone-else/bridge/state") == []


async def test_rate_limit_at_the_burst_boundary(mosquitto: Mosquitto) -> None:
    """wakebench default: bursts of 20 per app (refill slowed so none comes back during the test)."""
    async with RigHarness(mosquitto.url(), unique_id("rate"), options={"rate_per_s": 0.001}) as h, \
            Requester(mosquitto.url()) as req:
        topic = h.topics.app_request("busy", "status")
        codes = [body_of(await req.ask(topic, b"")).get("code") for _ in range(DEFAULT_RATE_BURST + 1)]
        assert codes[:DEFAULT_RATE_BURST] == ["not_registered"] * DEFAULT_RATE_BURST
        assert codes[DEFAULT_RATE_BURST] == "rate_limited"
        # another app is not affected
        assert body_of(await req.ask(h.topics.app_request("calm", "status"), b""))["code"] == "not_registered"


async def test_app_limit_boundary(mosquitto: Mosquitto) -> None:
    async with RigHarness(mosquitto.url(), unique_id("apps"), options={"max_apps": 2}) as h, \
            Requester(mosquitto.url()) as req:
        reg = b'{"platform": "capacitor"}'
        for app in ("a1", "a2"):
            assert body_of(await req.ask(h.topics.app_request(app, "register"), reg))["status"] == "ok"
        assert body_of(await req.ask(h.topics.app_request("a3", "register"), reg))["code"] == "too_many_apps"
        assert body_of(await req.ask(h.topics.app_request("a1", "register"), reg))["status"] == "ok"
        assert set(h.scheduler.apps) == {"a1", "a2"}


async def test_rig_verbs(rig: RigHarness, req: Requester) -> None:
    t = rig.topics
    info = body_of(await req.ask(t.bridge_request("info"), b'{"transaction": 1}'))
    assert info["transaction"] == 1
    assert_schema("BridgeInfo", info["data"])
    assert info["data"]["settable"] == sorted(SIGNAL_NAMES)
    health = body_of(await req.ask(t.bridge_request("health_check"), b""))
    assert health["data"]["healthy"] and health["data"]["connected"]
    assert body_of(await req.ask(t.bridge_request("reboot"), b""))["code"] == "unknown_verb"
    assert body_of(await req.ask(t.bridge_request("info"), b"[]"))["code"] == "invalid_payload"


async def test_set_signals_request_and_dashboard_command(mosquitto: Mosquitto) -> None:
    async with RigHarness(mosquitto.url(), unique_id("sig"), settable=frozenset({"charger", "battery_level"})) as h, \
            Requester(mosquitto.url(), f"{h.topics.base}/#") as req:
        t = h.topics
        ok = body_of(await req.ask(t.bridge_request("set_signals"), b'{"charger": "usb", "transaction": "s1"}'))
        assert ok["status"] == "ok" and ok["data"]["applied"] == {"charger": "usb"}
        snap = await req.topic(t.signals(), where=lambda p: p["charger"] == "usb")
        assert_schema("Signals", snap.json())
        async with Watcher(mosquitto.url(), t.signals()) as late:  # retained for newcomers
            retained = await late.topic(t.signals())
            assert retained.retain and retained.json()["charger"] == "usb"
        assert h.scheduler.signals.charger == "usb"

        blocked = body_of(await req.ask(t.bridge_request("set_signals"), b'{"network": "none"}'))
        assert blocked["code"] == "not_settable" and "network" in blocked["error"]
        for bad in (b'{"nuclear": true}', b'{"charger": "fusion"}', b'{"battery_level": 101}'):
            assert body_of(await req.ask(t.bridge_request("set_signals"), bad))["code"] == "invalid_signal"
        assert h.scheduler.signals.charger == "usb" and h.scheduler.signals.network == "wifi"

        # dashboard-style: no reply; errors on bridge/event, good values applied
        await req.client.publish(t.signals_set(), b'{"battery_level": 42}', qos=1)
        await req.topic(t.signals(), where=lambda p: p["battery_level"] == 42)
        await req.client.publish(t.signals_set(), b'{"screen_locked": true, "transaction": "d1"}', qos=1)
        err = (await req.topic(t.bridge_event(), where=lambda p: p["type"] == "signals_set_error")).json()
        assert err["data"]["code"] == "not_settable" and err["data"]["transaction"] == "d1"
        assert h.scheduler.signals.screen_locked is False


async def test_signals_are_marked_unknown_by_name_with_the_scenario_words(mosquitto: Mosquitto) -> None:
    # issue 9: {"unknown": [...]} on set_signals / signals/set, as a scenario's set: {unknown: [...]}
    async with RigHarness(mosquitto.url(), unique_id("unk"), settable=frozenset({"charger", "battery_level"})) as h, \
            Requester(mosquitto.url(), f"{h.topics.base}/#") as req:
        t = h.topics
        ok = body_of(await req.ask(t.bridge_request("set_signals"),
                                   b'{"unknown": ["battery_level", "network"], "transaction": "u1"}'))
        assert ok["status"] == "ok" and ok["transaction"] == "u1"
        assert ok["data"]["unknown"] == ["battery_level", "network"] and ok["data"]["applied"] == {}
        assert {"battery_level", "network"} <= h.scheduler.signals.stale
        snap = await req.topic(t.signals(), where=lambda p: "battery_level" in (p.get("stale") or []))
        assert_schema("Signals", snap.json())
        assert snap.json()["battery_level"] is None and snap.json()["network"] is None

        for bad in (b'{"unknown": ["nuclear"]}', b'{"unknown": "battery_level"}', b'{"unknown": []}',
                    b'{"unknown": [3]}', b'{"unknown": ["charger"], "battery_level": 10}'):
            refused = body_of(await req.ask(t.bridge_request("set_signals"), bad))
            assert refused["code"] == "invalid_signal", bad
        assert "charger" not in h.scheduler.signals.stale  # nothing of a refused request applied

        ok = body_of(await req.ask(t.bridge_request("set_signals"), b'{"battery_level": 50}'))
        assert ok["status"] == "ok" and "battery_level" not in h.scheduler.signals.stale

        # dashboard-style: no reply; a bad name is a coded error on bridge/event
        await req.client.publish(t.signals_set(), b'{"unknown": ["charger"]}', qos=1)
        await req.topic(t.signals(), where=lambda p: "charger" in (p.get("stale") or []))
        await req.client.publish(t.signals_set(), b'{"unknown": ["chargr"], "transaction": "d2"}', qos=1)
        err = (await req.topic(t.bridge_event(), where=lambda p: p["type"] == "signals_set_error")).json()
        assert err["data"]["code"] == "invalid_signal" and err["data"]["transaction"] == "d2"
        assert "chargr" in err["data"]["error"]


class ChangesOnlyRig(RigHarness):
    """A board that, like BoardSource, publishes only values that changed."""

    async def _set_signals(self, values: Any) -> None:
        held = self.driver.signals
        changed = {n: v for n, v in values.items() if getattr(held, n) != v}
        if changed:
            await self.driver.update_signals(changed)


async def test_setting_a_hand_marked_signal_to_its_held_value_makes_it_known(mosquitto: Mosquitto) -> None:
    async with ChangesOnlyRig(mosquitto.url(), unique_id("unk2"), settable=frozenset({"charger", "screen_locked"})) as h, \
            Requester(mosquitto.url(), f"{h.topics.base}/#") as req:
        t = h.topics
        await req.ask(t.bridge_request("set_signals"), b'{"unknown": ["charger", "screen_locked"]}')
        assert {"charger", "screen_locked"} <= h.scheduler.signals.stale
        held = h.scheduler.signals.charger
        ok = body_of(await req.ask(t.bridge_request("set_signals"), json.dumps({"charger": held}).encode()))
        assert ok["status"] == "ok" and ok["data"]["signals"]["charger"] == held
        assert "charger" not in h.scheduler.signals.stale       # the board published nothing
        assert "screen_locked" in h.scheduler.signals.stale     # not set: still unknown


async def test_mqtt_311_bridge_correlates_by_transaction(mosquitto: Mosquitto) -> None:
    rig = unique_id("v311")
    async with RigHarness(mosquitto.url(), rig, broker_options={"protocol": "3.1.1"}) as h, \
            AppClient(mosquitto.url(query="protocol=3.1.1"), app_id="old", rig=rig) as app:
        info = await app.send("register", {"platform": "capacitor"})
        assert info["status"] == "ok"
        with pytest.raises(AppRequestError) as err:
            await app.request("finish", task_id="nope")
        assert err.value.code == "unknown_task"
        assert h.bridge.info()["mqtt5"] is False


async def test_app_client_raises_with_the_code(rig: RigHarness, mosquitto: Mosquitto) -> None:
    async with AppClient(mosquitto.url(), app_id="coded", rig=rig.rig) as app:
        with pytest.raises(AppRequestError) as err:
            await app.request("status")
        assert err.value.code == "not_registered" and err.value.verb == "status"
        raw = await app.send("register", {"platform": "capacitor", "bucket": json.loads("[1]")})
        assert raw["status"] == "error"
