"""Home Assistant MQTT device-based discovery for one rig (opt-in).

One retained payload on ``homeassistant/device/wakebench_<rig>/config`` (``dev``, ``o``,
``cmps``; HA core PR #118757, in HA since 2024.11) describes the rig as a device: battery %,
voltage and current sensors, charging / plug / connectivity binary sensors read from the
retained ``signals`` topic, and one "last woken task" sensor per registered app read from that
app's events. Availability follows ``bridge/state`` with ``value_template: "{{ value_json.state }}"``.

Every numeric sensor has a unit, a device class and ``suggested_display_precision`` (HA MQTT
sensor docs), and its template rounds to the same digits, so HA shows 95.8 %, not 95.8359375.
Entity ids: HA's MQTT discovery docs derive the entity id from ``object_id`` (HA ≤ 2025.9,
issue 13: the HA 2025.4 in use ignores ``default_entity_id``) and ``default_entity_id`` (HA ≥
2025.10, where ``object_id`` is deprecated); both are set to the same ``<platform>.wakebench_<rig>_<key>``.
The bridge republishes the config only when it changed, at most once per :data:`COALESCE_S`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final

from mqtt_bridge.topics import Topics

#: Wall seconds the bridge waits after a new app before republishing discovery, so a burst of
#: registrations is one update (issue 13: 79 republications growing 2 → 29 KB in one run).
COALESCE_S: Final[float] = 1.0
#: Display digits: battery % as the MAX17048's 1/256 % LSB is noise beyond a tenth; voltage to
#: 10 mV and current to 1 mA, the resolution of the coarsest supported gauge (README "Gauge chips").
BATTERY_DIGITS: Final[int] = 1
VOLTAGE_DIGITS: Final[int] = 2
CURRENT_DIGITS: Final[int] = 3


def _sensor(topics: Topics, key: str, name: str, template: str, **extra: Any) -> dict[str, Any]:
    uid = f"{topics.ha_object_id()}_{key}"
    platform = extra.pop("p", "sensor")
    return {"p": platform, "name": name, "unique_id": uid, "object_id": uid,
            "default_entity_id": f"{platform}.{uid}",
            "state_topic": extra.pop("state_topic", topics.signals()), "value_template": template, **extra}


def _number(field: str, digits: int) -> str:
    # null (no such sensor on this board) renders None, which HA shows as unknown
    return f"{{{{ value_json.{field} | round({digits}) if value_json.{field} is number else None }}}}"


def device_config(topics: Topics, *, board: str, version: str, apps: Iterable[str] = ()) -> dict[str, Any]:
    """The device discovery payload.

    Binary sensors render ``ON``/``OFF`` (HA's default ``payload_on``/``payload_off``); a null
    voltage or current renders ``None``, which HA shows as *unknown*.
    """
    cmps: dict[str, dict[str, Any]] = {
        "battery": _sensor(topics, "battery", "Battery", _number("battery_level", BATTERY_DIGITS),
                           device_class="battery", unit_of_measurement="%", state_class="measurement",
                           suggested_display_precision=BATTERY_DIGITS),
        "voltage": _sensor(topics, "voltage", "Voltage", _number("voltage", VOLTAGE_DIGITS),
                           device_class="voltage", unit_of_measurement="V", state_class="measurement",
                           suggested_display_precision=VOLTAGE_DIGITS),
        "current": _sensor(topics, "current", "Current", _number("current", CURRENT_DIGITS),
                           device_class="current", unit_of_measurement="A", state_class="measurement",
                           suggested_display_precision=CURRENT_DIGITS),
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
