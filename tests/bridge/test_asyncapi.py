"""The AsyncAPI 3.1 document: complete, self-consistent, and in step with the code."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from firmware_sim import EVENT_TYPES, SIGNAL_NAMES
from firmware_sim.platforms import POLICIES
from firmware_sim.policy import APP_STATES
from firmware_sim.signals import CHARGERS, NETWORKS
from mqtt_bridge import API_VERSION, BRIDGE_VERBS, Topics
from mqtt_bridge.config import DEFAULT_KEEPALIVE_S, DEFAULT_RESPONSE_EXPIRY_S, MAX_REQUEST_BYTES
from mqtt_bridge.schemas import document, enum, first_error, schema_names

DOC = document()


def refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if "$ref" in node else []
        return found + [r for v in node.values() for r in refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in refs(v)]
    return []


def resolve(ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = DOC
    for part in ref[2:].split("/"):
        node = node[part]
    return node


def test_document_header() -> None:
    assert DOC["asyncapi"] == "3.1.0"  # 3.1.0 (2026-01-31) adds only ROS 2 bindings: nothing blocks it
    assert DOC["info"]["version"] == str(API_VERSION)
    assert DOC["defaultContentType"] == "application/json"
    assert DOC["servers"]["rig"]["bindings"]["mqtt"]["keepAlive"] == DEFAULT_KEEPALIVE_S
    assert str(MAX_REQUEST_BYTES) in DOC["info"]["description"]


def test_every_reference_resolves() -> None:
    for ref in refs(DOC):
        assert resolve(ref) is not None


def test_operations_point_at_channels_with_messages() -> None:
    channels = DOC["channels"]
    for name, op in DOC["operations"].items():
        assert op["action"] in ("send", "receive"), name
        assert resolve(op["channel"]["$ref"]) in channels.values(), name
        if "reply" in op:
            assert resolve(op["reply"]["channel"]["$ref"]) in channels.values(), name
    for name, channel in channels.items():
        assert channel["messages"], name
        params = set(re.findall(r"{(\w+)}", channel["address"]))
        assert params == set(channel.get("parameters", {})), name


def test_channel_addresses_match_the_topic_builders() -> None:
    t = Topics("r1")
    filled = {name: ch["address"].format(rig="r1", app="mail", verb="register", taskId="task-1")
              for name, ch in DOC["channels"].items()}
    assert filled == {
        "bridgeState": t.bridge_state(), "bridgeInfo": t.bridge_info(), "bridgeEvent": t.bridge_event(),
        "bridgeRequest": t.bridge_request("register"), "bridgeResponse": t.bridge_response("register"),
        "signals": t.signals(), "signalsSet": t.signals_set(),
        "appRequest": t.app_request("mail", "register"), "appResponse": t.app_response("mail", "register"),
        "appEvents": t.app_events("mail"), "appTask": t.app_task("mail", "task-1"),
        "appState": t.app_state("mail"),
        "haDiscovery": t.ha_device_config(), "haStatus": t.ha_status(),
    }
    assert tuple(DOC["components"]["parameters"]["bridgeVerb"]["enum"]) == BRIDGE_VERBS


def test_qos_and_retain_match_the_design_table() -> None:
    ops = DOC["operations"]
    mqtt = {name: op.get("bindings", {}).get("mqtt", {}) for name, op in ops.items()}
    assert (mqtt["sendBridgeState"]["qos"], mqtt["sendBridgeState"]["retain"]) == (1, True)
    assert (mqtt["sendSignals"]["qos"], mqtt["sendSignals"]["retain"]) == (0, True)
    assert (mqtt["sendAppEvent"]["qos"], mqtt["sendAppEvent"]["retain"]) == (1, False)
    assert (mqtt["sendTaskState"]["qos"], mqtt["sendTaskState"]["retain"]) == (1, True)
    assert (mqtt["sendBridgeEvent"]["qos"], mqtt["sendBridgeEvent"]["retain"]) == (0, False)
    assert mqtt["sendAppResponse"]["messageExpiryInterval"] == DEFAULT_RESPONSE_EXPIRY_S


def test_enums_follow_the_scheduler() -> None:
    assert enum("Platform") == tuple(POLICIES)
    assert enum("Event", "type") == EVENT_TYPES
    # published snapshots: an unknown (stale) signal is null (issue 9); requests never set null
    assert enum("Signals", "charger") == (*CHARGERS, None)
    assert enum("Signals", "network") == (*NETWORKS, None)
    assert enum("SignalValues", "charger") == CHARGERS
    assert enum("SignalValues", "network") == NETWORKS
    state = DOC["components"]["schemas"]["StateRequest"]["allOf"][1]["properties"]["state"]["enum"]
    assert tuple(state) == APP_STATES
    assert enum("AppState", "state") == APP_STATES
    signals = DOC["components"]["schemas"]["Signals"]
    assert set(signals["required"]) == {*SIGNAL_NAMES, "t", "stale"}
    assert set(DOC["components"]["schemas"]["SignalValues"]["properties"]) == {*SIGNAL_NAMES, "transaction", "unknown"}


@pytest.mark.parametrize(("name", "good", "bad"), [
    ("RequestEnvelope", {"transaction": "t-1", "x": 1}, {"transaction": 1.5}),
    ("RequestEnvelope", {"transaction": 7}, {"transaction": "x" * 257}),
    ("RegisterRequest", {"platform": "wp8"}, {"platform": "symbian"}),
    ("StateRequest", {"state": "background"}, {}),
    ("SignalValues", {"charger": "usb", "voltage": None}, {"charger": "usb", "volts": 3}),
    ("SignalValues", {"battery_level": 100}, {"battery_level": 100.5}),
    ("Response", {"status": "ok", "data": {}, "transaction": None},
     {"status": "ok", "data": {}, "transaction": None, "code": "x"}),
    ("Response", {"status": "error", "code": "c", "error": "e", "data": {}, "transaction": 3},
     {"status": "error", "data": {}, "transaction": 3}),
    ("BridgeState", {"state": "offline"}, {"state": "gone"}),
])
def test_schemas_accept_and_refuse(name: str, good: Any, bad: Any) -> None:
    assert name in schema_names()
    assert first_error(name, good) is None
    assert first_error(name, bad) is not None


def test_transaction_length_boundary() -> None:
    assert first_error("Transaction", "x" * 256) is None
    assert first_error("Transaction", "x" * 257) is not None


# -- strict schemas (issue #11: a comma in a flow mapping split `current` and `seq`) ----------
#: JSON Schema draft-07 keywords, plus the AsyncAPI Schema Object's own (discriminator,
#: externalDocs, deprecated) — anything else is a typo or YAML junk, which Ajv strict refuses.
SCHEMA_KEYWORDS = frozenset({
    "$id", "$schema", "$ref", "$comment", "title", "description", "default", "readOnly", "writeOnly",
    "examples", "multipleOf", "maximum", "exclusiveMaximum", "minimum", "exclusiveMinimum", "maxLength",
    "minLength", "pattern", "additionalItems", "items", "maxItems", "minItems", "uniqueItems", "contains",
    "maxProperties", "minProperties", "required", "additionalProperties", "definitions", "properties",
    "patternProperties", "dependencies", "propertyNames", "const", "enum", "type", "format",
    "contentMediaType", "contentEncoding", "if", "then", "else", "allOf", "anyOf", "oneOf", "not",
    "discriminator", "externalDocs", "deprecated",
})
_SUBSCHEMA = ("items", "additionalItems", "additionalProperties", "contains", "propertyNames", "if", "then",
              "else", "not")
_SUBSCHEMA_LISTS = ("allOf", "anyOf", "oneOf")
_SUBSCHEMA_MAPS = ("properties", "patternProperties", "definitions")


def strict_problems(schema: Any, path: str) -> list[str]:
    """Unknown keywords and malformed subschemas anywhere in ``schema``."""
    if isinstance(schema, bool):
        return []
    if not isinstance(schema, dict):
        return [f"{path}: a schema must be an object, not {schema!r}"]
    problems = [f"{path}: unknown keyword {key!r}" for key in schema if key not in SCHEMA_KEYWORDS]
    for key in _SUBSCHEMA:
        if key in schema and not (key == "items" and isinstance(schema[key], list)):
            problems += strict_problems(schema[key], f"{path}/{key}")
    for key in _SUBSCHEMA_LISTS:
        for i, sub in enumerate(schema.get(key, [])):
            problems += strict_problems(sub, f"{path}/{key}[{i}]")
    for key in _SUBSCHEMA_MAPS:
        for name, sub in schema.get(key, {}).items():
            problems += strict_problems(sub, f"{path}/{key}/{name}")
    return problems


def all_schemas() -> list[tuple[str, Any]]:
    found = [(f"components/schemas/{n}", s) for n, s in DOC["components"]["schemas"].items()]
    found += [(f"components/messages/{n}/payload", m["payload"]) for n, m in DOC["components"]["messages"].items()]
    found += [(f"components/parameters/{n}/schema", p["schema"]) for n, p in DOC["components"]["parameters"].items()
              if "schema" in p]
    return found


@pytest.mark.parametrize(("path", "schema"), all_schemas(), ids=lambda v: v if isinstance(v, str) else "")
def test_every_schema_compiles_strictly(path: str, schema: Any) -> None:
    import jsonschema

    jsonschema.Draft7Validator.check_schema(schema)  # the meta-schema
    assert strict_problems(schema, path) == []


def test_no_key_in_the_document_is_yaml_junk() -> None:
    """A key with a null value is what ``{description: a, b}`` leaves behind."""
    def nulls(node: Any, path: str) -> list[str]:
        if isinstance(node, dict):
            return [f"{path}/{k}" for k, v in node.items() if v is None] + [
                p for k, v in node.items() for p in nulls(v, f"{path}/{k}")]
        if isinstance(node, list):
            return [p for i, v in enumerate(node) for p in nulls(v, f"{path}[{i}]")]
        return []

    assert nulls(DOC, "") == []
    assert DOC["components"]["schemas"]["Signals"]["properties"]["current"]["description"] == \
        "A, negative while discharging"


def test_the_strict_check_catches_the_old_junk() -> None:
    assert strict_problems({"type": "number", "description": "A", "negative while discharging": None}, "x") == [
        "x: unknown keyword 'negative while discharging'"]


def test_bridge_codes_are_in_the_error_code_enum() -> None:
    assert {"rate_limited", "overloaded", "retained_request"} <= set(enum("ErrorCode"))


# -- recorded traffic of a live rig --------------------------------------------------------
def channel_for(topic: str) -> tuple[str, Any]:
    for name, channel in DOC["channels"].items():
        pattern = re.sub(r"\\{\w+\\}", "[^/]+", re.escape(channel["address"]))
        if re.fullmatch(pattern, topic):
            return name, channel
    raise AssertionError(f"no channel describes {topic!r}")


@pytest.mark.broker
async def test_recorded_traffic_of_a_live_rig_matches_the_document(mosquitto: Any) -> None:
    import jsonschema

    from mqtt_bridge import AppClient, AppRequestError
    from tests.bridge.helpers import RigHarness, Watcher, unique_id

    rig = unique_id("traffic")
    async with RigHarness(mosquitto.url(), rig, options={"ha_discovery": True}) as h, \
            Watcher(mosquitto.url(), f"{h.topics.base}/#", "homeassistant/#") as watch:
        async with AppClient(mosquitto.url(), app_id="rec", rig=rig) as app:
            await app.register("capacitor")
            task = await app.request("before_exit")
            await h.driver.update_signals({"charger": "none", "battery_level": 40})
            await app.request("finish", task_id=task["task_id"])
            for verb, args in (("finish", {"task_id": "nope"}), ("fly", {})):
                with pytest.raises(AppRequestError):
                    await app.request(verb, **args)
        await watch.client.publish(h.topics.bridge_request("health_check"), b"{}", qos=1)
        await watch.client.publish(h.topics.signals_set(), b'{"nuclear": true}', qos=1)
        await watch.topic(h.topics.bridge_event(), where=lambda p: p["type"] == "signals_set_error")
        await watch.topic(h.topics.bridge_response("health_check"))
    seen: set[str] = set()
    for m in watch.messages:
        name, channel = channel_for(m.topic)
        if name in ("appRequest", "bridgeRequest", "signalsSet", "haStatus"):
            continue  # what the test sent (some deliberately invalid); the rig's output is checked
        if not m.payload and name == "appTask":
            continue  # the documented empty retained payload that clears a task
        (message,) = channel["messages"].values()
        payload = resolve(message["$ref"])["payload"]
        body = json.loads(m.payload)
        errors = list(jsonschema.Draft7Validator({**payload, "components": DOC["components"]}).iter_errors(body))
        assert errors == [], (m.topic, body, errors[0].message if errors else None)
        seen.add(name)
    assert {"bridgeState", "bridgeInfo", "bridgeEvent", "bridgeResponse", "signals", "appResponse",
            "appEvents", "appTask", "haDiscovery"} <= seen
