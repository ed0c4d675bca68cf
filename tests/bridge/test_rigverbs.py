"""The rig's own requests have one declaration (mqtt_bridge/rigverbs.py): the router validates
with the models, asyncapi.yaml's schemas are generated from them and agree with them on the same
payloads, every refusal keeps its code, and nothing at run time needs jsonschema."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from firmware_sim import SIGNAL_NAMES, Scheduler, VirtualClock
from firmware_sim.driver import SchedulerDriver
from mqtt_bridge import BRIDGE_VERBS, BridgeConfig, Topics, gen_api
from mqtt_bridge.publisher import Outgoing
from mqtt_bridge.requests import RequestRouter
from mqtt_bridge.rigverbs import (
    RIG_VERB_MODELS,
    TRANSACTION_MAX_CHARS,
    InjectFaultArgs,
    RigRequestError,
    SignalRequest,
    SignalValues,
    envelope_transaction,
    transaction_problem,
)
from mqtt_bridge.schemas import document, first_error
from wbcommon import faults

RIG = "rv"
T = Topics(RIG)


def test_every_rig_verb_has_a_model_in_the_topic_order() -> None:
    assert tuple(RIG_VERB_MODELS) == BRIDGE_VERBS


def test_the_transaction_bound_is_the_documented_one() -> None:
    """asyncapi.yaml info.description: "optional `transaction` (string of at most 256 characters,
    or integer)"."""
    assert TRANSACTION_MAX_CHARS == 256
    assert f"string of at most {TRANSACTION_MAX_CHARS} characters" in " ".join(
        document()["info"]["description"].split())


@pytest.mark.parametrize("value", [
    "t", "x" * TRANSACTION_MAX_CHARS, "x" * (TRANSACTION_MAX_CHARS + 1), "é" * TRANSACTION_MAX_CHARS, "",
    0, -3, 10**40, 7.0, 1e308, 1.5, True, False, None, [], {"a": 1}, [1],
])
def test_the_transaction_rule_and_its_schema_agree(value: Any) -> None:
    assert (transaction_problem(value) is None) is (first_error("Transaction", value) is None)


def test_a_valid_transaction_is_echoed_exactly_and_a_bad_one_named() -> None:
    assert envelope_transaction({"transaction": 7.0, "x": 1}) == 7.0
    assert envelope_transaction({"platform": "ios"}) is None
    for bad, shown in ((1.5, "1.5"), (None, "null"), (True, "true"),
                       ("x" * 257, "a string of 257 characters")):
        with pytest.raises(RigRequestError) as err:
            envelope_transaction({"transaction": bad})
        assert err.value.code == "invalid_payload"
        assert err.value.message == ("transaction: must be a string of at most 256 characters or an "
                                     f"integer, not {shown}")


#: (payload, accepted) — the model (any signal settable) and the generated schema agree.
SIGNAL_CASES: list[tuple[dict[str, Any], bool]] = [
    ({"charger": "usb", "voltage": None}, True),
    ({"battery_level": 0}, True), ({"battery_level": 100}, True), ({"battery_level": 100.5}, False),
    ({"battery_level": -0.1}, False), ({"battery_level": None}, False), ({"battery_level": "50"}, False),
    ({"temperature": -40}, True), ({"temperature": 125}, True), ({"temperature": 125.5}, False),
    ({"temperature": -41}, False), ({"temperature": None}, True),
    ({"charging": True}, True), ({"charging": 1}, False), ({"network": "cellular"}, True),
    ({"network": "5g"}, False), ({"charger": "diesel"}, False),
    ({"volts": 3}, False), ({"unknown": ["charger", "idle"]}, True), ({"unknown": []}, False),
    ({"unknown": ["warp"]}, False), ({"unknown": "charger"}, False), ({"transaction": "t", "idle": True}, True),
    ({}, True),
]


@pytest.mark.parametrize(("payload", "ok"), SIGNAL_CASES, ids=lambda v: json.dumps(v) if isinstance(v, dict) else "")
def test_signal_values_and_their_schema_agree(payload: dict[str, Any], ok: bool) -> None:
    try:
        SignalValues.parse(payload)
        accepted = True
    except RigRequestError as exc:
        assert exc.code == "invalid_signal"
        accepted = False
    assert accepted is ok
    assert (first_error("SignalValues", payload) is None) is ok


def test_signal_values_are_typed_in_request_order() -> None:
    got = SignalValues.parse({"screen_locked": True, "transaction": 1, "battery_level": 80, "charger": "ac"})
    assert got == SignalRequest({"screen_locked": True, "battery_level": 80.0, "charger": "ac"})
    assert list(got.values) == ["screen_locked", "battery_level", "charger"]
    assert type(got.values["battery_level"]) is float  # canonical type (wbcommon.signals.check)
    assert SignalValues.parse({"unknown": ["idle", "charger"]}) == SignalRequest({}, ("idle", "charger"))


@pytest.mark.parametrize(("payload", "code", "message"), [
    # names first (unknown, then not settable), then values: the order the router always had
    ({"nuclear": 1, "network": "5g"}, "invalid_signal", "unknown signal(s) 'nuclear' (known: battery_level,"),
    ({"network": "5g", "charger": "ac"}, "not_settable",
     "signal(s) network cannot be set on this rig (no relay or simulation behind them; settable: "
     "battery_level, charger)"),
    ({"charger": "diesel", "battery_level": 101}, "invalid_signal",
     "signal 'battery_level' must be a number from 0 to 100 %, not 101"),
    ({"charger": "diesel"}, "invalid_signal", "signal 'charger' must be one of none, ac, usb, wireless, not 'diesel'"),
    ({"unknown": ["charger"], "battery_level": 3}, "invalid_signal",
     "'unknown' cannot be combined with values (battery_level) in one request: send them separately"),
    ({"unknown": [3]}, "invalid_signal",
     "'unknown' must be a non-empty list of signal names, such as [\"battery_level\"], not [3]"),
    ({"unknown": ["chargr"]}, "invalid_signal", "unknown signal(s) 'chargr' in 'unknown' (known: battery_level,"),
])
def test_signal_refusals_name_the_signal_with_their_code(payload: dict[str, Any], code: str, message: str) -> None:
    with pytest.raises(RigRequestError) as err:
        SignalValues.parse(payload, frozenset({"charger", "battery_level"}))
    assert err.value.code == code
    assert err.value.message.startswith(message)


def test_marking_unknown_needs_no_settable_signal() -> None:
    assert SignalValues.parse({"unknown": ["temperature"]}, frozenset()).unknown == ("temperature",)


@pytest.mark.parametrize(("payload", "ok"), [
    ({"gauge": "nack"}, True), ({"gauge": "nack", "for": 120}, True), ({"network": "flap", "for": "5s"}, True),
    ({"charger": "clear"}, True), ({"gauge": "melt"}, False), ({"charger": "nack"}, False),
    ({"gauge": "nack", "for": "soon"}, False), ({"gauge": "nack", "for": 0}, False), ({"disk": "full"}, False),
    ({}, False), ({"gauge": None}, False), ({"gauge": "nack", "charger": "stuck"}, False),
    ({"transaction": 1}, False),
])
def test_inject_fault_and_its_schema_agree(payload: dict[str, Any], ok: bool) -> None:
    try:
        InjectFaultArgs.parse(payload)
        accepted = True
    except RigRequestError as exc:
        assert exc.code == "invalid_fault"
        accepted = False
    assert accepted is ok
    assert (first_error("InjectFaultRequest", payload) is None) is ok


def test_the_generated_schemas_follow_the_vocabularies() -> None:
    schemas = gen_api.rig_schemas()
    fault = schemas["InjectFaultRequest"]["properties"]
    assert list(fault) == ["transaction", *faults.TARGETS, "for"]
    for target in faults.TARGETS:
        assert fault[target]["enum"] == [*faults.KINDS[target], faults.CLEAR]
    values = schemas["SignalValues"]["properties"]
    assert list(values) == ["transaction", "unknown", *SIGNAL_NAMES]
    assert values["unknown"]["items"]["enum"] == list(SIGNAL_NAMES)
    assert schemas["RequestEnvelope"]["properties"] == {"transaction": {"$ref": "#/components/schemas/Transaction"}}
    assert schemas == {name: document()["components"]["schemas"][name] for name in schemas}


def test_the_verbs_page_lists_the_rig_verbs_after_the_app_verbs() -> None:
    page = gen_api.VERBS_DOC_PATH.read_text(encoding="utf-8")
    rig = page.split("\n## Rig verbs\n", 1)[1]
    for verb in BRIDGE_VERBS:
        assert f"### `{verb}`" in rig
    for name in (*SIGNAL_NAMES, "unknown", *faults.TARGETS, "for"):
        assert f"| `{name}` |" in rig
    assert "| `transaction` |" not in page  # echoed, never an argument


def test_nothing_at_run_time_imports_jsonschema() -> None:
    code = ("import sys, mqtt_bridge, mqtt_bridge.requests, mqtt_bridge.bridge, wakebench.cli, wakebench.rig\n"
            "assert 'jsonschema' not in sys.modules, 'jsonschema imported'")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


# -- through the router ------------------------------------------------------------------------
def router(**config: Any) -> tuple[RequestRouter, list[Outgoing], list[Any]]:
    out: list[Outgoing] = []
    got: list[Any] = []
    driver = SchedulerDriver(Scheduler(), clock=VirtualClock())

    async def set_signals(values: Any) -> None:
        got.append(dict(values))
        await driver.update_signals(values)

    r = RequestRouter(driver, T, BridgeConfig(rig=RIG, **config), out.append, info=dict, health=dict,
                      set_signals=set_signals, settable=frozenset({"charger", "battery_level"}))
    return r, out, got


def answer(out: list[Outgoing], topic: str) -> dict[str, Any]:
    (body,) = [json.loads(m.payload) for m in out if m.topic == topic]
    out.clear()
    assert first_error("Response", body) is None
    return dict(body)


async def test_the_board_receives_checked_values_and_the_answer_shows_them() -> None:
    r, out, got = router()
    await r.handle(T.bridge_request("set_signals"), b'{"battery_level": 42, "charger": "usb", "transaction": 3}')
    reply = answer(out, T.bridge_response("set_signals"))
    assert (reply["status"], reply["transaction"]) == ("ok", 3)
    assert reply["data"]["applied"] == {"battery_level": 42.0, "charger": "usb"}
    assert got == [{"battery_level": 42.0, "charger": "usb"}]
    assert type(got[0]["battery_level"]) is float


async def test_a_bad_signal_sets_nothing_and_is_answered_once() -> None:
    r, out, got = router()
    await r.handle(T.bridge_request("set_signals"), b'{"charger": "usb", "battery_level": 101, "transaction": "s"}')
    reply = answer(out, T.bridge_response("set_signals"))
    assert (reply["code"], reply["transaction"]) == ("invalid_signal", "s")
    assert "battery_level" in reply["error"] and got == []
    await r.handle(T.signals_set(), b'{"network": "none", "transaction": "d"}')
    (event,) = [json.loads(m.payload) for m in out]
    assert event["type"] == "signals_set_error"
    assert (event["data"]["code"], event["data"]["transaction"]) == ("not_settable", "d")


async def test_common_verb_arguments_keep_their_codes_and_order() -> None:
    """register's and state's own arguments are checked before the rig's app limit and before
    registration, with ``invalid_args`` on every platform (HarmonyOS answers bad arguments of its
    own verbs with 401)."""
    r, out, _ = router(max_apps=1)
    await r.handle(T.app_request("a1", "register"), b'{"platform": "harmonyos"}')
    assert answer(out, T.app_response("a1", "register"))["status"] == "ok"
    await r.handle(T.app_request("a2", "register"), b'{"platform": "symbian"}')  # the rig is full
    reply = answer(out, T.app_response("a2", "register"))
    assert reply["code"] == "invalid_args"
    assert reply["error"] == ("register: 'platform' must be one of capacitor, ios, uwp, wp8, harmonyos, "
                              "android, not 'symbian'")
    await r.handle(T.app_request("a2", "register"), b'{"platform": "ios"}')
    assert answer(out, T.app_response("a2", "register"))["code"] == "too_many_apps"
    await r.handle(T.app_request("nobody", "state"), b"{}")
    assert answer(out, T.app_response("nobody", "state"))["error"] == "state: 'state' is required"
    await r.handle(T.app_request("a1", "state"), b'{"state": "asleep"}')
    assert answer(out, T.app_response("a1", "state"))["code"] == "invalid_args"
    # names beside the model's fields are the platform's to judge (HarmonyOS: 401)
    await r.handle(T.app_request("a1", "state"), b'{"state": "background", "colour": 1}')
    assert answer(out, T.app_response("a1", "state"))["code"] == "401"


@pytest.mark.parametrize(("verb", "payload", "code"), [
    ("inject_fault", b'{"gauge": "melt"}', "invalid_fault"),
    ("inject_fault", b'{"gauge": "nack"}', "not_supported_on_hardware"),  # no emulated parts here
    ("continue", b"{}", "nothing_waiting"),
    ("info", b'{"transaction": null}', "invalid_payload"),
    ("reboot", b"{}", "unknown_verb"),
])
async def test_rig_verb_refusals_keep_their_codes(verb: str, payload: bytes, code: str) -> None:
    r, out, _ = router()
    await r.handle(T.bridge_request(verb), payload)
    assert answer(out, T.bridge_response(verb))["code"] == code
