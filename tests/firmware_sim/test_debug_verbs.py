"""The debug verbs ``force_run`` / ``force_expire`` and the debug fields of ``status`` (issue 10).

Each platform's own tool is the model: Xcode's ``_simulateLaunchForTaskWithIdentifier`` /
``_simulateExpirationForTaskWithIdentifier``, ``adb shell cmd jobscheduler run -f`` /
``timeout``, WP8 ``LaunchForTest``, and ``dumpsys jobscheduler``'s "unsatisfied constraints".
"""

from __future__ import annotations

from typing import Any

import pytest

from firmware_sim import Signals
from firmware_sim.scheduler import COMMON_VERBS

HOUR = 3600.0
WIFI_WALL = Signals(charger="ac", network="wifi", battery_level=80)


def registered(harness: Any, platform: str, signals: Signals = WIFI_WALL, **register: Any) -> Any:
    h = harness(signals=signals)
    h.ok(0, "app", "register", {"platform": platform, **register})
    return h


def forced(h: Any) -> list[tuple[str, str | None, bool]]:
    return [(e.type, e.task_id, e.data.get("forced", False)) for e in h.events]


def test_debug_verbs_are_common_verbs(harness) -> None:
    assert {"force_run", "force_expire"} <= set(COMMON_VERBS)
    h = registered(harness, "android")
    assert {"force_run", "force_expire"} <= set(
        h.ok(0, "app", "register", {"platform": "android"})["verbs"])


# -- Android: jobscheduler run -f / timeout ------------------------------------------------------
def test_android_force_run_ignores_unmet_constraints(harness) -> None:
    """``adb shell cmd jobscheduler run -f``: "-f: force run the job even if technical
    constraints such as connectivity are not currently met"."""
    h = registered(harness, "android", Signals(charger="none", network="none", battery_level=80))
    h.ok(0, "app", "enqueue", {"id": "sync", "constraints": {"required_network_type": "connected"}})
    status = h.ok(1, "app", "status")
    assert status["debug"]["sync"] == {"state": "enqueued", "next_eligible": 1, "budget_s": None,
                                       "budget_used_s": None, "budget_left_s": None,
                                       "unmet": ["required_network_type"]}
    data = h.ok(2, "app", "force_run", {"task_id": "sync"})
    assert data == {"task_id": "sync", "forced": "run", "state": "running", "deadline": 602}
    assert forced(h) == [("wake", "sync", True)]
    debug = h.ok(62, "app", "status")["debug"]["sync"]
    assert (debug["budget_s"], debug["budget_used_s"], debug["budget_left_s"]) == (600, 60, 540)


def test_android_force_expire_times_the_worker_out_and_reschedules(harness) -> None:
    h = registered(harness, "android")
    h.ok(0, "app", "enqueue", {"id": "sync"})
    h.ok(5, "app", "force_expire", {"task_id": "sync"})
    assert forced(h) == [("wake", "sync", False), ("expire", "sync", True)]
    assert h.events[-1].reason == "timeout"
    h.advance(5 + 30)  # WorkRequest.DEFAULT_BACKOFF_DELAY_MILLIS = 30000
    assert forced(h)[-1] == ("wake", "sync", False)


def test_force_verbs_answer_coded_errors(harness) -> None:
    h = registered(harness, "android")
    h.ok(0, "app", "enqueue", {"id": "sync"})
    assert h.error(1, "app", "force_run", {"task_id": "sync"}).code == "invalid_state"
    assert h.error(1, "app", "force_run", {"task_id": "nope"}).code == "unknown_task"
    assert h.error(1, "app", "force_run", {}).code == "invalid_args"
    assert h.error(1, "app", "force_run", {"task_id": "a b"}).code == "invalid_args"
    assert h.error(1, "app", "force_expire", {"task_id": "sync", "x": 1}).code == "invalid_args"
    assert h.error(1, "app", "force_expire", "sync").code == "invalid_args"


# -- iOS: Xcode's _simulateLaunch / _simulateExpiration --------------------------------------------
def test_ios_simulate_launch_and_expiration(harness) -> None:
    """Apple, "Starting and Terminating Tasks During Development": launch with
    ``_simulateLaunchForTaskWithIdentifier``, expire with ``_simulateExpirationForTaskWithIdentifier``."""
    h = registered(harness, "ios", Signals(charger="none", battery_level=10))  # <= 20 %: held back
    h.ok(0, "app", "submit", {"type": "refresh", "identifier": "com.example.refresh",
                              "earliest_begin_delay": HOUR})
    debug = h.ok(1, "app", "status")["debug"]["com.example.refresh"]
    assert debug["next_eligible"] == HOUR and debug["state"] == "scheduled"
    h.ok(2, "app", "force_run", {"task_id": "com.example.refresh"})
    h.ok(3, "app", "force_expire", {"task_id": "com.example.refresh"})
    assert forced(h) == [("wake", "com.example.refresh", True),
                         ("expire", "com.example.refresh", True)]
    grace = h.sched.limits("ios").terminate_grace_s
    h.advance(3 + grace)
    assert h.events[-1].type == "terminate" and "forced" not in h.events[-1].data


def test_ios_force_expire_of_a_background_task_ends_the_shared_time(harness) -> None:
    h = registered(harness, "ios")
    h.ok(0, "app", "state", {"state": "background"})
    h.ok(1, "app", "begin_background_task", {"name": "upload"})
    data = h.ok(2, "app", "force_expire", {"task_id": "bg-1"})
    assert data["state"] == "expired"
    assert forced(h)[-1] == ("expire", "bg-1", True)


# -- HarmonyOS ------------------------------------------------------------------------------------
def test_harmonyos_force_run_then_force_expire_terminates(harness) -> None:
    h = registered(harness, "harmonyos", Signals(charger="none", network="none"))
    h.ok(0, "app", "start_work", {"work_id": 7, "bundle_name": "com.example.mail",
                                  "ability_name": "Mail", "network_type": "wifi"})
    assert h.ok(1, "app", "status")["debug"]["7"]["unmet"] == ["network"]
    h.ok(2, "app", "force_run", {"task_id": 7})
    h.ok(3, "app", "force_expire", {"task_id": "7"})
    assert forced(h) == [("wake", "7", True), ("expire", "7", True), ("terminate", "7", True)]


# -- WP8: LaunchForTest ---------------------------------------------------------------------------
def test_wp8_force_run_is_launch_for_test_now(harness) -> None:
    h = registered(harness, "wp8")
    h.ok(0, "app", "add", {"name": "sync", "type": "periodic"})
    assert h.ok(1, "app", "force_run", {"task_id": "sync"})["state"] == "running"
    h.ok(2, "app", "force_expire", {"task_id": "sync"})
    assert forced(h)[:2] == [("wake", "sync", True), ("expire", "sync", True)]
    assert h.error(3, "app", "force_run", {"task_id": "other"}).code == "invalid_operation"


# -- Capacitor and UWP: what their platforms allow ---------------------------------------------------
@pytest.mark.parametrize(("platform", "start", "task"), [
    ("capacitor", ("before_exit", {}), "task-1"),
    ("uwp", ("request_extension", {}), "session-1")])
def test_force_expire_only_where_a_task_cannot_be_launched(harness, platform, start, task) -> None:
    h = registered(harness, platform)
    h.ok(0, "app", *start)
    assert h.error(1, "app", "force_run", {"task_id": task}).code == "not_supported"
    h.ok(2, "app", "force_expire", {"task_id": task})
    assert forced(h)[-1][1:] == (task, True)
    assert forced(h)[-1][0] == ("expire" if platform == "capacitor" else "revoke")
    assert h.error(3, "app", "force_expire", {"task_id": task}).code == "invalid_state"


# -- the MQTT schemas (mqtt_bridge/asyncapi.yaml) describe what the verbs really answer ------------
def test_requests_responses_and_events_match_the_asyncapi_schemas(harness) -> None:
    from mqtt_bridge.schemas import first_error

    h = registered(harness, "harmonyos", Signals(charger="none", network="none"))
    h.ok(0, "app", "start_work", {"work_id": 7, "bundle_name": "com.example.mail",
                                  "ability_name": "Mail", "network_type": "wifi"})
    for request in ({"task_id": 7}, {"task_id": "com.example.refresh"}):
        assert first_error("ForceRequest", request) is None
    for bad in ({}, {"task_id": "a b"}, {"task_id": -1}):
        assert first_error("ForceRequest", bad) is not None
    assert first_error("StatusResponseData", h.ok(1, "app", "status")) is None
    assert first_error("ForceResponseData", h.ok(2, "app", "force_run", {"task_id": 7})) is None
    assert first_error("ForceResponseData", h.ok(3, "app", "force_expire", {"task_id": 7})) is None
    for event in h.events:
        assert first_error("Event", event.to_dict() | {"ts": "2026-01-01T00:00:00Z"}) is None


def test_wp8_status_debug_names_the_resource_intensive_conditions(harness) -> None:
    """seed 003: a resource-intensive agent needs external power, Wi-Fi / PC, > 90 % battery,
    the lock screen and no call; ``status`` names the unmet ones and the run's budget."""
    h = registered(harness, "wp8", Signals(charger="none", network="wifi", battery_level=95,
                                           screen_locked=True))
    h.ok(0, "app", "add", {"name": "upload", "type": "resource_intensive"})
    debug = h.ok(1, "app", "status")["debug"]["upload"]
    assert debug["state"] == "waiting" and debug["unmet"] and debug["budget_s"] is None
    h.ok(2, "app", "force_run", {"task_id": "upload"})
    debug = h.ok(12, "app", "status")["debug"]["upload"]
    assert (debug["budget_s"], debug["budget_used_s"], debug["budget_left_s"]) == (600, 10, 590)
