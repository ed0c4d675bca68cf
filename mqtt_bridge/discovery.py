"""Home Assistant MQTT device-based discovery for one rig (opt-in).

One retained payload on ``homeassistant/device/wakebench_<rig>/config`` (``dev``, ``o``,
``cmps``; HA core PR #118757, in HA since 2024.11) describes the rig as a device: battery %,
voltage and current sensors, charging / plug / connectivity binary sensors read from the
retained ``signals`` topic, and one "last woken task" sensor per registered app read from that
app's events. Availability follows ``bridge/state`` with ``value_template: "{{ value_json.state }}"``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from mqtt_bridge.topics import Topics


def _sensor(topics: Topics, key: str, name: str, template: str, **extra: Any) -> dict[str, Any]:
    uid = f"{topics.ha_object_id()}_{key}"
    platform = extra.pop("p", "sensor")
    return {"p": platform, "name": name, "unique_id": uid, "default_entity_id": f"{platform}.{uid}",
            "state_topic": extra.pop("state_topic", topics.signals()), "value_template": template, **extra}


def device_config(topics: Topics, *, board: str, version: str, apps: Iterable[str] = ()) -> dict[str, Any]:
    """The device discovery payload.

    Binary sensors render ``ON``/``OFF`` (HA's default ``payload_on``/``payload_off``); a null
    voltage or current renders ``None``, which HA shows as *unknown*.
    """
    cmps: dict[str, dict[str, Any]] = {
        "battery": _sensor(topics, "battery", "Battery", "{{ value_json.battery_level }}",
                           device_class="battery", unit_of_measurement="%", state_class="measurement"),
        "voltage": _sensor(topics, "voltage", "Voltage", "{{ value_json.voltage }}",
                           device_class="voltage", unit_of_measurement="V", state_class="measurement"),
        "current": _sensor(topics, "current", "Current", "{{ value_json.current }}",
                           device_class="current", unit_of_measurement="A", state_class="measurement"),
        "charging": _sensor(topics, "charging", "Charging",
                            "{{ 'ON' if value_json.charging else 'OFF' }}",
                            p="binary_sensor", device_class="battery_charging"),
        "plug": _sensor(topics, "plug", "Charger plugged",
                        "{{ 'OFF' if value_json.charger == 'none' else 'ON' }}",
                        p="binary_sensor", device_class="plug"),
        "connectivity": _sensor(topics, "connectivity", "Network",
                                "{{ 'OFF' if value_json.network == 'none' else 'ON' }}",
                                p="binary_sensor", device_class="connectivity"),
    }
    for app in sorted(set(apps)):
        key = f"app_{app}_task".replace("-", "_")
        cmps[key] = _sensor(
            topics, key, f"{app} task",
            "{{ value_json.task_id if value_json.type in ('wake', 'expire') else 'none' }}",
            state_topic=topics.app_events(app), icon="mdi:timer-sand")
    return {
        "dev": {"identifiers": [topics.ha_object_id()], "name": f"wakebench {topics.rig}",
                "manufacturer": "wakebench", "model": f"{board} board", "sw_version": version},
        "o": {"name": "wakebench", "sw": version},
        "availability": [{"topic": topics.bridge_state(), "value_template": "{{ value_json.state }}"}],
        "qos": 1,
        "cmps": cmps,
    }
