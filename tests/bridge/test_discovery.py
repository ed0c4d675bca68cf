"""Home Assistant device-based discovery (opt-in): one retained config for the rig's device."""

from __future__ import annotations

from pathlib import Path

import pytest

from mqtt_bridge import AppClient, Topics
from mqtt_bridge.discovery import BATTERY_DIGITS, COALESCE_S, CURRENT_DIGITS, VOLTAGE_DIGITS, device_config
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


def test_numeric_sensors_carry_unit_device_class_and_display_precision() -> None:
    cmps = device_config(Topics("bench1"), board="sim", version="1", apps=["mail"])["cmps"]
    numeric = {k: c for k, c in cmps.items() if c["p"] == "sensor" and not k.startswith("app_")}
    assert set(numeric) == {"battery", "voltage", "current"}
    digits = {k: c["suggested_display_precision"] for k, c in numeric.items()}
    assert digits == {"battery": BATTERY_DIGITS, "voltage": VOLTAGE_DIGITS, "current": CURRENT_DIGITS} \
        == {"battery": 1, "voltage": 2, "current": 3}
    for key, c in numeric.items():
        assert c["unit_of_measurement"] and c["device_class"] and c["state_class"] == "measurement"
        assert f"round({digits[key]})" in c["value_template"]  # the state itself is rounded too
        assert "is number else None" in c["value_template"]  # a board without the sensor: unknown


def test_battery_template_renders_a_tenth_of_a_percent() -> None:
    jinja2 = pytest.importorskip("jinja2")
    template = device_config(Topics("b"), board="sim", version="1")["cmps"]["battery"]["value_template"]
    render = jinja2.Environment().from_string(template).render
    assert render(value_json={"battery_level": 95.8359375}) == "95.8"
    assert render(value_json={"battery_level": None}) == "None"


def test_entity_ids_come_from_object_id_and_default_entity_id() -> None:
    """HA MQTT discovery docs: ``object_id`` names the entity on HA ≤ 2025.9 (HA 2025.4 in use
    ignores ``default_entity_id``), ``default_entity_id`` on HA ≥ 2025.10; both say the same."""
    cmps = device_config(Topics("bench1"), board="sim", version="1", apps=["mail"])["cmps"]
    for c in cmps.values():
        assert c["object_id"] == c["unique_id"]
        assert c["default_entity_id"] == f"{c['p']}.{c['object_id']}"
    assert cmps["battery"]["default_entity_id"] == "sensor.wakebench_bench1_battery"


@pytest.mark.broker
async def test_a_burst_of_new_apps_is_one_discovery_update(mosquitto: Mosquitto) -> None:
    """Issue 13: 79 republications in one run, one per new app; now one per COALESCE_S."""
    rig = unique_id("haburst")
    ha_prefix = f"ha-{rig}"
    opts = {"ha_discovery": True, "ha_prefix": ha_prefix, "board": "sim"}
    apps = [f"app{i:02d}" for i in range(20)]
    async with RigHarness(mosquitto.url(), rig, options=opts) as h, \
            Watcher(mosquitto.url(), f"{ha_prefix}/#") as ha:
        topic = h.topics.ha_device_config()
        await ha.topic(topic)
        for app in apps:
            await h.bridge.router.handle(h.topics.app_request(app, "register"), b'{"platform": "wp8"}')
        last = await ha.topic(topic, where=lambda p: all(f"app_{a}_task" in p["cmps"] for a in apps))
        assert COALESCE_S == 1.0
        # the retained initial config, then one update (two if the burst straddled a window)
        assert len(ha.on(topic)) <= 3 < len(apps)
        await h.bridge.router.handle(h.topics.app_request(apps[0], "state"), b'{"state": "background"}')
        await h.bridge.router.handle(h.topics.app_request("app00", "register"), b'{"platform": "wp8"}')
    assert ha.on(topic)[-1].payload == last.payload  # nothing changed: nothing republished


@pytest.mark.broker
async def test_run_ha_discovery_flag_switches_discovery_on(mosquitto: Mosquitto, tmp_path: Path) -> None:
    from tests.rig.helpers import RigProcess

    rig = unique_id("haflag")
    topic = f"homeassistant/device/wakebench_{rig}/config"
    async with Watcher(mosquitto.url(), topic) as ha:
        proc = await RigProcess("--board", "sim", "--rig", rig, "--broker", mosquitto.url(),
                                "--state-dir", str(tmp_path), "--ha-discovery").start()
        try:
            body = (await ha.topic(topic)).json()
            assert body["cmps"]["battery"]["suggested_display_precision"] == 1
            assert await proc.terminate() == 0, proc.output
        finally:
            await proc.kill()
        await ha.client.publish(topic, b"", qos=1, retain=True)  # leave the session broker clean
