"""Home Assistant device-based discovery (opt-in): one retained config for the rig's device."""

from __future__ import annotations

import pytest

from mqtt_bridge import AppClient, Topics
from mqtt_bridge.discovery import device_config
from tests.bridge.helpers import RigHarness, Watcher, assert_schema, unique_id
from tests.mosquitto import Mosquitto


def test_device_payload_shape() -> None:
    t = Topics("bench1")
    body = device_config(t, board="x728", version="1.2.3", apps=["mail"])
    assert_schema("HADiscovery", body)
    assert body["dev"]["identifiers"] == ["wakebench_bench1"]
    assert body["o"] == {"name": "wakebench", "sw": "1.2.3"}
    assert body["availability"] == [{"topic": "wakebench/bench1/bridge/state",
                                     "value_template": "{{ value_json.state }}"}]
    cmps = body["cmps"]
    classes = {k: (c["p"], c.get("device_class")) for k, c in cmps.items()}
    assert classes == {
        "battery": ("sensor", "battery"), "voltage": ("sensor", "voltage"), "current": ("sensor", "current"),
        "charging": ("binary_sensor", "battery_charging"), "plug": ("binary_sensor", "plug"),
        "connectivity": ("binary_sensor", "connectivity"), "app_mail_task": ("sensor", None)}
    assert cmps["battery"]["unit_of_measurement"] == "%"  # HA: device_class battery allows only %
    assert (cmps["voltage"]["unit_of_measurement"], cmps["current"]["unit_of_measurement"]) == ("V", "A")
    assert all(c["state_topic"] == "wakebench/bench1/signals" for k, c in cmps.items() if k != "app_mail_task")
    assert cmps["app_mail_task"]["state_topic"] == "wakebench/bench1/apps/mail/events"
    assert len({c["unique_id"] for c in cmps.values()}) == len(cmps)


@pytest.mark.broker
async def test_discovery_is_retained_updated_per_app_and_republished_on_ha_birth(mosquitto: Mosquitto) -> None:
    rig = unique_id("ha")
    ha_prefix = f"ha-{rig}"  # keeps this test apart from others on the session broker
    opts = {"ha_discovery": True, "ha_prefix": ha_prefix, "board": "sim"}
    async with RigHarness(mosquitto.url(), rig, options=opts) as h, \
            Watcher(mosquitto.url(), f"{ha_prefix}/#") as ha:
        topic = h.topics.ha_device_config()
        assert topic == f"{ha_prefix}/device/wakebench_{rig}/config"
        first = await ha.topic(topic)
        assert first.retain
        assert "app_mail_task" not in first.json()["cmps"]
        async with AppClient(mosquitto.url(), app_id="mail", rig=rig) as app:
            await app.register("capacitor")
            with_app = await ha.topic(topic, where=lambda p: "app_mail_task" in p["cmps"])
            assert_schema("HADiscovery", with_app.json())
        before = len(ha.messages)
        await ha.client.publish(f"{ha_prefix}/status", b"online", qos=1)  # HA's birth message
        again = await ha.wait(lambda m: m.topic == topic, start=before)
        assert again.json() == with_app.json()


@pytest.mark.broker
async def test_discovery_is_off_by_default(mosquitto: Mosquitto) -> None:
    rig = unique_id("noha")
    async with RigHarness(mosquitto.url(), rig) as h:
        await h.bridge.router.handle(h.topics.ha_status(), b"online")  # ignored without the option
        # subscriptions are served in order: once the retained bridge/state of the second one is
        # in, a retained discovery config of the first would have been delivered before it
        async with Watcher(mosquitto.url(), h.topics.ha_device_config(), h.topics.bridge_state()) as ha:
            await ha.topic(h.topics.bridge_state())
            assert ha.on(h.topics.ha_device_config()) == []
