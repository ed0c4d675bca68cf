"""The AsyncAPI 3.0 document: complete, self-consistent, and in step with the code."""

from __future__ import annotations

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
    assert DOC["asyncapi"] == "3.0.0"
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
    assert set(DOC["components"]["schemas"]["SignalValues"]["properties"]) == {*SIGNAL_NAMES, "transaction"}


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
