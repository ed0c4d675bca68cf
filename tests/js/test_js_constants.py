"""The JS client's limits are the Python AppClient's (mqtt_bridge/client.py is the reference
behaviour) and its id rule is the scheduler's; read from clients/js/src/client.js as written."""

from __future__ import annotations

import re

from firmware_sim.args import ID_RE
from mqtt_bridge import client as py_client
from tests.js.rig import JS_DIR

SOURCE = (JS_DIR / "src" / "client.js").read_text(encoding="utf-8")


def js_const(name: str) -> str:
    match = re.search(rf"^export const {name} = (.+);$", SOURCE, re.MULTILINE)
    assert match, name
    return match.group(1)


def test_session_expiry_and_event_buffer_match_the_python_client() -> None:
    assert int(js_const("DEFAULT_SESSION_EXPIRY_S")) == py_client.DEFAULT_SESSION_EXPIRY_S == 300
    assert int(js_const("MAX_BUFFERED_EVENTS").replace("_", "")) == py_client.MAX_BUFFERED_EVENTS == 10_000


def test_id_rule_is_the_schedulers() -> None:
    assert js_const("ID_PATTERN") == "/^[a-z0-9_-]{1,64}$/"
    assert ID_RE.pattern.strip("^$") == "[a-z0-9_-]{1,64}"


def test_topic_prefix_is_the_mqtt_apis() -> None:
    assert js_const("TOPIC_PREFIX") == "'wakebench'"


DEBUG_FLOWS = (JS_DIR / "test" / "debug.test.js").read_text(encoding="utf-8")


def test_debug_flow_budgets_are_the_policies_defaults() -> None:
    """clients/js/test/debug.test.js checks the rig against these; they quote the same seed lines
    as the policies (seed 001 "just 15 minutes"; seed 003 "兩周", two weeks)."""
    from firmware_sim.platforms.ios import IOSLimits
    from firmware_sim.platforms.wp8 import WP8Limits

    def const(name: str) -> float:
        match = re.search(rf"^const {name} = ([0-9 *]+);$", DEBUG_FLOWS, re.MULTILINE)
        assert match, name
        value = 1
        for factor in match.group(1).split("*"):
            value *= int(factor)
        return float(value)

    assert const("IOS_PUSH_CADENCE_S") == IOSLimits().push_cadence_s == 900.0
    assert "The time interval between runs was just 15 minutes" in DEBUG_FLOWS
    assert const("WP8_TILE_EXTENSION_S") == WP8Limits().max_expiration_s == 14 * 86400.0
    assert "其存留時間會被自動擴充到兩周" in DEBUG_FLOWS


def test_uwp_suspending_matches_the_policy() -> None:
    """clients/js/src/uwp.js's pseudo-task id and clients/js/test/uwp.test.js's deadline are the
    uwp policy's (seed 002:5; winrt-api application_suspending.md "only 5 seconds")."""
    from firmware_sim.platforms import uwp

    facade = (JS_DIR / "src" / "uwp.js").read_text(encoding="utf-8")
    match = re.search(r"^export const SUSPENDING_TASK = '([a-z_]+)';$", facade, re.MULTILINE)
    assert match and match.group(1) == uwp.SUSPENDING == "suspending"
    flows = (JS_DIR / "test" / "uwp.test.js").read_text(encoding="utf-8")
    match = re.search(r"^const SUSPENDING_S = (\d+);$", flows, re.MULTILINE)
    assert match and float(match.group(1)) == uwp.UWPLimits().suspending_s == 5.0
    assert "the Suspending event handler has only 5 seconds" in flows
