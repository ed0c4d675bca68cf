"""Seed statements that are modelled but had no test quoting them (docs/seed-rules.md).

Each case names its seed file, quotes the seed's own words (short, original language) and checks
the behaviour in virtual time. ``docs/seed-rules.md`` links a case as
``tests/firmware_sim/test_seed_rules.py::test_seed_rule[<id>]``; the last tests here keep that
document honest: every "modelled" row names a test that exists, and every quote in the document
and in this file is the seed's text (checked when ``shared/seeds/`` is reachable).
"""

from __future__ import annotations

import ast
import functools
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from firmware_sim import Signals

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "seed-rules.md"
DAY = 86400.0

#: Seed files by number (shared/seeds/README.md).
SEED_FILES = {
    "000": "000_c725954d52ce66da.txt",
    "001": "001_d33f79840c898f63.txt",
    "002": "002_7fb7f795dece6aaa.txt",
    "003": "003_704addaa5801fd1b.txt",
    "004": "004_ec8ad149df40821d.txt",
}


@dataclass(frozen=True)
class SeedRule:
    """One seed statement and the check that proves wakebench follows it."""

    id: str
    seed: str
    quote: str
    check: Callable[[Any], None]


def _app(harness: Any, platform: str, signals: Signals | None = None, **kwargs: Any) -> Any:
    register = kwargs.pop("register", {})
    h = harness(signals=signals, **kwargs)
    h.ok(0, "app", "register", {"platform": platform, **register})
    return h


# -- seed 000: Capacitor BackgroundTask ----------------------------------------------------------
CAP_S = 180.0


def cap_short_task_in_background(harness: Any) -> None:
    h = _app(harness, "capacitor")
    h.ok(0, "app", "state", {"state": "background"})
    data = h.ok(1, "app", "before_exit")
    assert h.timeline() == [(1, "wake", data["task_id"], None)]
    assert h.events[0].deadline == 1 + CAP_S  # short, never unlimited


def cap_must_finish_or_be_terminated(harness: Any) -> None:
    h = _app(harness, "capacitor")
    h.ok(0, "app", "before_exit")
    h.advance(DAY)
    assert [e.type for e in h.events] == ["wake", "expire", "terminate"]
    assert h.events[1].t == CAP_S


def cap_finish_with_the_returned_task_id(harness: Any) -> None:
    h = _app(harness, "capacitor")
    task_id = h.ok(0, "app", "before_exit")["task_id"]
    h.ok(60, "app", "finish", {"taskId": task_id})
    h.advance(DAY)
    assert [e.type for e in h.events] == ["wake"]


def cap_same_rule_for_ios_and_android(harness: Any) -> None:
    # one capacitor policy, the strictest (iOS) budget, whatever the phone
    from firmware_sim.platforms.capacitor import CapacitorLimits

    assert CapacitorLimits().before_exit_s == CAP_S
    assert not any("android" in f for f in CapacitorLimits.__dataclass_fields__)


# -- seed 001: iOS -------------------------------------------------------------------------------
def ios_launched_into_background(harness: Any) -> None:
    h = _app(harness, "ios")
    h.ok(0, "app", "submit", {"type": "refresh", "identifier": "feed", "earliest_begin": 100})
    h.ok(1, "app", "state", {"state": "background"})
    h.ok(2, "app", "begin_background_task")  # never ended: the OS kills the app
    h.advance(99)
    assert h.sched.apps["app"].state == "terminated"
    h.advance(100)
    assert h.timeline()[-1] == (100, "wake", "feed", None)


def ios_suspended_app_returned_to_background(harness: Any) -> None:
    h = _app(harness, "ios")
    h.ok(0, "app", "submit", {"type": "refresh", "identifier": "feed", "earliest_begin": 100})
    h.ok(1, "app", "state", {"state": "background"})
    h.advance(99)
    assert h.sched.apps["app"].state == "suspended"
    h.advance(100)
    assert h.timeline()[-1] == (100, "wake", "feed", None)


def ios_home_screen_enters_background(harness: Any) -> None:
    h = _app(harness, "ios")
    h.ok(10, "app", "state", {"state": "background"})
    assert h.timeline() == [(10, "wake", "did_enter_background", None)]


def ios_refresh_runs_periodically(harness: Any) -> None:
    h = _app(harness, "ios")
    h.ok(0, "app", "submit", {"type": "refresh", "identifier": "feed", "earliest_begin_delay": 3600})
    for start in (3600.0, 7201.0):
        assert h.advance(start - 0.001) == []
        h.advance(start)
        h.ok(start + 1, "app", "set_task_completed", {"identifier": "feed", "success": True})
        h.ok(start + 1, "app", "submit",  # the app schedules its next refresh from the launch
             {"type": "refresh", "identifier": "feed", "earliest_begin_delay": 3600})
    assert [(e.t, e.type) for e in h.events] == [(3600, "wake"), (7201, "wake")]


def ios_completion_handler_in_time(harness: Any) -> None:
    h = _app(harness, "ios")
    h.ok(0, "app", "submit", {"type": "refresh", "identifier": "on-time", "earliest_begin": 10})
    h.ok(0, "app", "submit", {"type": "processing", "identifier": "late"})  # needs idle: waits
    h.advance(10)
    limit = h.sched.limits("ios").refresh_runtime_s
    h.ok(10 + limit - 0.001, "app", "set_task_completed", {"identifier": "on-time", "success": True})
    h.advance(DAY)
    assert [e.type for e in h.events] == ["wake"]
    h2 = _app(harness, "ios")
    h2.ok(0, "app", "submit", {"type": "refresh", "identifier": "late", "earliest_begin": 10})
    h2.advance(DAY)
    assert [e.type for e in h2.events] == ["wake", "expire", "terminate"]


def ios_processing_waits_until_not_in_use(harness: Any) -> None:
    h = _app(harness, "ios", Signals(idle=False, charger="ac"))
    h.ok(0, "app", "submit", {"type": "processing", "identifier": "index"})
    h.advance(DAY)
    assert h.events == []
    h.set(DAY, idle=True)
    assert h.timeline() == [(DAY, "wake", "index", None)]


def ios_processing_several_minutes(harness: Any) -> None:
    h = _app(harness, "ios", Signals(idle=True))
    h.ok(0, "app", "submit", {"type": "processing", "identifier": "index"})
    h.advance(1)
    assert h.timeline() == [(0, "wake", "index", None)]
    assert h.events[0].deadline is None  # no number given: runs until revoked or completed
    h.advance(30 * 60.0)
    assert [e.type for e in h.events] == ["wake"]


def ios_minimum_fetch_interval(harness: Any) -> None:
    h = _app(harness, "ios")
    h.ok(0, "app", "submit", {"type": "refresh", "identifier": "feed", "earliest_begin_delay": 3600})
    assert h.advance(3599.999) == []
    h.advance(3600)
    assert h.timeline() == [(3600, "wake", "feed", None)]


# -- seed 002: UWP extended execution ------------------------------------------------------------
ON_WALL = Signals(charger="ac", battery_level=70)
ON_BATTERY = Signals(charger="none", battery_level=70)


def uwp_three_reasons(harness: Any) -> None:
    h = _app(harness, "uwp", ON_WALL)
    for n, reason in enumerate(("Unspecified", "LocationTracking", "SavingData")):
        data = h.ok(n, "app", "request_extension", {"reason": reason})
        assert data["result"] == "allowed", data
        h.ok(n, "app", "dispose")


def uwp_no_foreground_session(harness: Any) -> None:
    h = _app(harness, "uwp", ON_WALL)
    for reason in ("ExtendedExecutionForegroundReason", "foreground", "unconstrained"):
        assert h.error(0, "app", "request_extension", {"reason": reason}).code == "invalid_args"


def uwp_no_suspending_while_extended(harness: Any) -> None:
    h = _app(harness, "uwp", ON_WALL)
    h.ok(0, "app", "request_extension", {"reason": "unspecified"})
    h.ok(1, "app", "state", {"state": "background"})
    h.advance(DAY)
    assert h.sched.apps["app"].state == "background"
    assert [e.type for e in h.events] == ["wake"]


def uwp_expired_extension_suspends(harness: Any) -> None:
    h = _app(harness, "uwp", ON_BATTERY)
    h.ok(0, "app", "request_extension", {"reason": "unspecified"})
    h.ok(0, "app", "state", {"state": "background"})
    h.advance(600)
    assert h.timeline()[-1] == (600, "revoke", "session-1", "system_policy")
    assert h.sched.apps["app"].state == "suspended"
    h.advance(DAY)
    assert len(h.events) == 2  # nothing further


def uwp_location_one_per_device_foreground_only(harness: Any) -> None:
    h = harness(signals=ON_BATTERY)
    for app in ("maps", "run"):
        h.ok(0, app, "register", {"platform": "uwp"})
    h.ok(0, "run", "state", {"state": "background"})
    ask = {"reason": "location_tracking"}
    assert h.ok(1, "run", "request_extension", ask)["denied_because"] == "not_in_foreground"
    assert h.ok(1, "maps", "request_extension", ask)["result"] == "allowed"
    h.ok(2, "run", "state", {"state": "foreground"})
    assert h.ok(3, "run", "request_extension", ask)["result"] == "denied"


def uwp_location_as_long_as_needed(harness: Any) -> None:
    h = _app(harness, "uwp", ON_BATTERY, limits={"uwp": {"device_family": "mobile"}})
    h.ok(0, "app", "request_extension", {"reason": "location_tracking"})
    h.ok(1, "app", "state", {"state": "background"})
    h.set(2, screen_locked=True)
    h.advance(DAY)
    assert [e.type for e in h.events] == ["wake"]


def uwp_saving_data_while_suspending(harness: Any) -> None:
    h = _app(harness, "uwp", ON_WALL)
    h.ok(0, "app", "state", {"state": "background"})  # the Suspending event has been received
    assert h.ok(1, "app", "request_extension", {"reason": "saving_data"})["result"] == "allowed"
    h.advance(300)
    assert h.sched.apps["app"].state == "background"  # stays Suspending for the extension


def uwp_user_approval_checked(harness: Any) -> None:
    for access in ("denied_by_user", "DeniedBySystemPolicy", "Denied"):
        h = _app(harness, "uwp", ON_WALL, register={"background_access": access})
        data = h.ok(0, "app", "request_extension", {"reason": "unspecified"})
        assert data["result"] == "denied" and h.events == [], access


def uwp_revoked_before_any_end(harness: Any) -> None:
    h = _app(harness, "uwp", ON_WALL)
    h.ok(0, "app", "state", {"state": "background"})
    h.ok(1, "app", "request_extension", {"reason": "saving_data"})
    h.advance(DAY)
    types = [e.type for e in h.events]
    assert types == ["wake", "revoke", "terminate"]


def uwp_revoked_reasons(harness: Any) -> None:
    h = _app(harness, "uwp", ON_BATTERY)
    h.ok(0, "app", "state", {"state": "background"})
    h.ok(1, "app", "request_extension", {"reason": "saving_data"})
    h.ok(2, "app", "state", {"state": "foreground"})
    assert h.events[-1].data["revoked_reason"] == "Resumed"
    h.ok(3, "app", "dispose")
    h.ok(3, "app", "request_extension", {"reason": "unspecified"})
    h.ok(4, "app", "state", {"state": "background"})
    h.advance(DAY)
    assert h.events[-1].data["revoked_reason"] == "SystemPolicy"


# -- seed 004: HarmonyOS workScheduler -----------------------------------------------------------
BUNDLE = "com.example.mail"


def _work(work_id: int = 1, **fields: Any) -> dict[str, Any]:
    return {"work_id": work_id, "bundle_name": BUNDLE, "ability_name": "MailWork", **fields}


def _ho(harness: Any, **signals: Any) -> Any:
    return _app(harness, "harmonyos", Signals().updated(signals), register={"group": "exempt"})


def ho_conditions_then_queue(harness: Any) -> None:
    h = _ho(harness, network="none")
    h.ok(0, "app", "start_work", _work(network_type="wifi"))
    h.advance(DAY)
    assert h.events == []
    h.set(DAY, network="wifi")
    assert h.timeline() == [(DAY, "wake", "1", None)]


def ho_mandatory_fields(harness: Any) -> None:
    h = _ho(harness, network="wifi")
    for missing in ("work_id", "bundle_name", "ability_name"):
        args = {k: v for k, v in _work(network_type="wifi").items() if k != missing}
        assert h.error(0, "app", "start_work", args).code == "401", missing
    other = _work(network_type="wifi", bundle_name="com.example.other")
    h.ok(0, "app", "start_work", _work(network_type="wifi"))
    assert h.error(0, "app", "start_work", {**other, "work_id": 2}).code == "9700004"


def ho_parameter_types(harness: Any) -> None:
    h = _ho(harness, network="wifi")
    scalars = {"n": 1, "s": "x", "b": True}
    assert h.ok(0, "app", "start_work", _work(network_type="wifi", parameters=scalars))
    bad = _work(2, network_type="wifi", parameters={"list": [1]})
    assert h.error(0, "app", "start_work", bad).code == "401"


def ho_on_work_start_with_duration(harness: Any) -> None:
    h = _ho(harness, network="wifi")
    h.ok(0, "app", "start_work", _work(network_type="wifi"))
    assert h.timeline() == [(0, "wake", "1", None)]
    assert h.events[0].deadline == h.sched.limits("harmonyos").callback_s


def ho_last_work_time_out(harness: Any) -> None:
    h = _ho(harness, network="wifi")
    h.ok(0, "app", "start_work",
         _work(network_type="wifi", is_repeat=True, repeat_cycle_time=1_200_000))
    h.advance(1200 + 120)
    assert h.ok(1320, "app", "is_last_work_time_out", {"work_id": 1})["timed_out"] is True


def ho_network_type(harness: Any) -> None:
    h = _ho(harness, network="cellular")
    h.ok(0, "app", "start_work", _work(network_type="wifi"))
    h.ok(0, "app", "start_work", _work(2, network_type="mobile"))
    assert h.timeline() == [(0, "wake", "2", None)]
    h.set(10, network="wifi")
    assert (10, "wake", "1", None) in h.timeline()
    assert (10, "revoke", "2", "network_lost") in h.timeline()


def ho_charger_type(harness: Any) -> None:
    h = _ho(harness, charger="usb")
    h.ok(0, "app", "start_work", _work(is_charging=True, charger_type="ac"))
    assert h.events == []
    h.set(10, charger="ac")
    assert h.timeline() == [(10, "wake", "1", None)]


def ho_battery_status(harness: Any) -> None:
    h = _ho(harness, battery_level=21.0)
    h.ok(0, "app", "start_work", _work(battery_status="low"))
    assert h.events == []
    h.set(10, battery_level=20.0)
    assert h.timeline() == [(10, "wake", "1", None)]


def ho_one_condition(harness: Any) -> None:
    h = _ho(harness, network="wifi")
    assert h.error(0, "app", "start_work", _work()).code == "401"
    assert h.events == []


def ho_stop_work(harness: Any) -> None:
    h = _ho(harness, network="wifi")
    h.ok(0, "app", "start_work", _work(network_type="wifi"))
    h.ok(1, "app", "stop_work", {"work_id": 1, "need_cancel": True})
    h.advance(DAY)
    assert [e.type for e in h.events] == ["wake"]


def ho_status_queries(harness: Any) -> None:
    h = _ho(harness, network="none")
    h.ok(0, "app", "start_work", _work(network_type="wifi"))
    h.ok(0, "app", "start_work", _work(2, network_type="wifi"))
    assert h.ok(1, "app", "get_work_status", {"work_id": 1})
    assert len(h.ok(1, "app", "obtain_all_works")["works"]) == 2
    h.ok(2, "app", "stop_and_clear_works")
    assert h.ok(3, "app", "obtain_all_works")["works"] == []


def ho_is_charging(harness: Any) -> None:
    h = _ho(harness, charger="none")
    h.ok(0, "app", "start_work", _work(is_charging=True, charger_type="ac"))
    assert h.events == []
    h.set(10, charger="ac")
    assert h.timeline() == [(10, "wake", "1", None)]


def ho_battery_level(harness: Any) -> None:
    h = _ho(harness, battery_level=49.0)
    h.ok(0, "app", "start_work", _work(battery_level=50))
    assert h.events == []
    h.set(10, battery_level=50.0)
    assert h.timeline() == [(10, "wake", "1", None)]


def ho_storage_request(harness: Any) -> None:
    h = _ho(harness, storage_low=True)
    h.ok(0, "app", "start_work", _work(storage_request="okay"))
    assert h.events == []
    h.set(10, storage_low=False)
    assert h.timeline() == [(10, "wake", "1", None)]


def ho_deep_idle_wait(harness: Any) -> None:
    h = _ho(harness, idle=True)
    h.ok(0, "app", "start_work", _work(is_deep_idle=True, idle_wait_time=60_000))
    assert h.advance(59.999) == []
    h.advance(60)
    assert h.timeline() == [(60, "wake", "1", None)]


def ho_repeat_cycle_and_count(harness: Any) -> None:
    h = _ho(harness, network="wifi")
    h.ok(0, "app", "start_work",
         _work(network_type="wifi", is_repeat=True, repeat_cycle_time=1_200_000, repeat_count=2))
    h.advance(DAY)
    assert [e.t for e in h.events if e.type == "wake"] == [1200, 2400]


def ho_persisted(harness: Any) -> None:
    h = _ho(harness, network="none")
    h.ok(0, "app", "start_work", _work(1, network_type="wifi", is_persisted=True))
    h.ok(0, "app", "start_work", _work(2, network_type="wifi"))
    saved = h.sched.dump()
    h2 = harness(signals=Signals(network="wifi"), now=10)
    h2.sched.load(saved)
    h2.advance(10)
    assert [works["work_id"] for works in h2.ok(10, "app", "obtain_all_works")["works"]] == [1]


RULES: tuple[SeedRule, ...] = (
    SeedRule("cap-short-task", "000", "当应用进入后台时，该方法允许你运行短期后台任务",
             cap_short_task_in_background),
    SeedRule("cap-short-only", "000", "其他应用只能执行短期后台任务", cap_short_task_in_background),
    SeedRule("cap-strictest", "000", "建议按照最严格的标准进行开发", cap_same_rule_for_ios_and_android),
    SeedRule("cap-terminate", "000", "必须调用结束方法，否则可能导致应用被终止",
             cap_must_finish_or_be_terminated),
    SeedRule("cap-finish", "000", "任务完成后*必须*调用 `BackgroundTask.finish({ taskId })`",
             cap_finish_with_the_returned_task_id),
    SeedRule("cap-finish-notifies", "000", "通知系统指定任务已完成",
             cap_finish_with_the_returned_task_id),
    SeedRule("ios-launched-into-background", "001",
             "System events cause a not running app to be launched directly into the background.",
             ios_launched_into_background),
    SeedRule("ios-suspended-returned", "001",
             "System events can cause a suspended app to be returned to the background.",
             ios_suspended_app_returned_to_background),
    SeedRule("ios-home-screen", "001",
             "A foreground app transitions to the background when another app is launched or "
             "when the user returns to the Home screen.", ios_home_screen_enters_background),
    SeedRule("ios-refresh-periodic", "001",
             "Background App Refresh lets your app run periodically in the background",
             ios_refresh_runs_periodically),
    SeedRule("ios-fetch-interval", "001", "setMinimumBackgroundFetchInterval(3600)",
             ios_minimum_fetch_interval),
    SeedRule("ios-completion-handler", "001", "Calling the completion handler in a timely manner",
             ios_completion_handler_in_time),
    SeedRule("ios-processing-idle", "001",
             "The system will wait to run these tasks until the user is not actively using the "
             "device", ios_processing_waits_until_not_in_use),
    SeedRule("ios-processing-minutes", "001",
             "Background processing tasks give your app several minutes runtime",
             ios_processing_several_minutes),
    SeedRule("uwp-three-reasons", "002",
             "There are three ExtendedExecutionReason enum values", uwp_three_reasons),
    SeedRule("uwp-no-foreground-session", "002",
             "Do not use ExtendedExecutionForegroundSession and ExtendedExecutionForegroundReason",
             uwp_no_foreground_session),
    SeedRule("uwp-no-suspending", "002",
             "The application will never receive a suspending event while the execution "
             "extension is in effect.", uwp_no_suspending_while_extended),
    SeedRule("uwp-expired-suspends", "002",
             "Once the extension expires, the application enters the suspended state",
             uwp_expired_extension_suspends),
    SeedRule("uwp-location-device", "002",
             "there can only be one such session running per device",
             uwp_location_one_per_device_foreground_only),
    SeedRule("uwp-location-foreground", "002",
             "A location tracking extended execution session can only be requested in the "
             "foreground, and the app must be in the Running state.",
             uwp_location_one_per_device_foreground_only),
    SeedRule("uwp-location-long", "002",
             "A location tracking extended execution session can run as long as needed, "
             "including while the screen is locked on a mobile device.",
             uwp_location_as_long_as_needed),
    SeedRule("uwp-saving-data-suspending", "002",
             "if the application is transitioning to the suspended state, it will stay in a "
             "suspending state for the period of the extension", uwp_saving_data_while_suspending),
    SeedRule("uwp-after-suspending-event", "002",
             "After the application has received a suspending event",
             uwp_saving_data_while_suspending),
    SeedRule("uwp-user-approval", "002",
             "checks with the operating system to see if the user has approved background "
             "activity for the app", uwp_user_approval_checked),
    SeedRule("uwp-access-status", "002",
             "BackgroundAccessStatus, which is the user setting that indicates whether your app "
             "can run in the background or not", uwp_user_approval_checked),
    SeedRule("uwp-revoked-first", "002",
             "An extended execution session time period is never terminated without first "
             "firing the Revoked event handler.", uwp_revoked_before_any_end),
    SeedRule("uwp-revoked-reasons", "002", "case ExtendedExecutionRevokedReason.Resumed:",
             uwp_revoked_reasons),
    SeedRule("ho-queue", "004",
             "When the specified conditions (including the network type, charging type, storage "
             "status, battery status, and timing status) are met, the system adds the task to "
             "the execution queue.", ho_conditions_then_queue),
    SeedRule("ho-callbacks", "004",
             "the system calls back onWorkStart() or onWorkStop() in "
             "WorkSchedulerExtensionAbility", ho_on_work_start_with_duration),
    SeedRule("ho-duration", "004",
             "provides a duration for the WorkSchedulerExtensionAbility to run",
             ho_on_work_start_with_duration),
    SeedRule("ho-mandatory", "004",
             "workId, bundleName, and abilityName are mandatory. bundleName must be set to the "
             "bundle name of the current application.", ho_mandatory_fields),
    SeedRule("ho-parameters", "004",
             "The carried parameters can be of the number, string, or boolean type.",
             ho_parameter_types),
    SeedRule("ho-stop-work", "004", "stopWork(work: WorkInfo, needCancel?: boolean): void;",
             ho_stop_work),
    SeedRule("ho-queries", "004", "stopAndClearWorks(): void; | Stops and clears all the "
             "deferred tasks.", ho_status_queries),
    SeedRule("ho-last-timeout", "004",
             "Checks whether the last execution of a deferred task has timed out.",
             ho_last_work_time_out),
    SeedRule("ho-network", "004", "networkType | NetworkType | No | Network type.",
             ho_network_type),
    SeedRule("ho-charger-type", "004", "chargerType | ChargingType | No | Charging type.",
             ho_charger_type),
    SeedRule("ho-battery-status", "004", "batteryStatus | BatteryStatus | No | Battery status.",
             ho_battery_status),
    SeedRule("ho-deep-idle", "004",
             "Whether the device needs to enter the idle state to trigger deferred task "
             "scheduling.", ho_deep_idle_wait),
    SeedRule("ho-one-condition", "004",
             "At least one condition must be set, including the network type, charging type, "
             "storage status, battery status, and timing status.", ho_one_condition),
    SeedRule("ho-is-charging", "004",
             "Whether the device needs to enter the charging state to trigger deferred task "
             "scheduling.", ho_is_charging),
    SeedRule("ho-battery-level", "004", "batteryLevel | number | No | Battery level.",
             ho_battery_level),
    SeedRule("ho-storage", "004", "storageRequest | StorageRequest | No | Storage status.",
             ho_storage_request),
    SeedRule("ho-idle-wait", "004",
             "Time to wait in the idle state before triggering deferred task scheduling, in "
             "milliseconds.", ho_deep_idle_wait),
    SeedRule("ho-repeat", "004", "repeatCount | number | No | Number of repeat times.",
             ho_repeat_cycle_and_count),
    SeedRule("ho-persisted", "004",
             "Whether to enable persistent storage for the deferred task.", ho_persisted),
)


@pytest.mark.parametrize("rule", RULES, ids=[r.id for r in RULES])
def test_seed_rule(harness: Any, rule: SeedRule) -> None:
    """The behaviour behind one quoted seed statement."""
    rule.check(harness)


# -- the document and the quotes -----------------------------------------------------------------
def _seeds_dir() -> Path | None:
    """``shared/seeds`` next to the checkout (or ``$WAKEBENCH_SEEDS``); None when absent."""
    env = os.environ.get("WAKEBENCH_SEEDS")
    candidates = [Path(env)] if env else [p / "shared" / "seeds" for p in ROOT.parents]
    return next((p for p in candidates if (p / SEED_FILES["000"]).exists()), None)


def _flat(text: str) -> str:
    return " ".join(text.replace("\\|", "|").split())


def _seed_text(seed: str) -> str:
    seeds = _seeds_dir()
    if seeds is None:
        pytest.skip("shared/seeds/ is not reachable from this checkout (set WAKEBENCH_SEEDS)")
    return _read_seed(seeds / SEED_FILES[seed])


@functools.cache
def _read_seed(path: Path) -> str:
    return _flat(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("rule", RULES, ids=[r.id for r in RULES])
def test_quote_is_the_seeds_text(rule: SeedRule) -> None:
    assert _flat(rule.quote) in _seed_text(rule.seed)


_ROW = re.compile(r"^\|\s*(\d{3}):(\d+)\s*\|(.*)\|\s*$")
_TEST_REF = re.compile(r"(tests/[\w/]+\.py)::(\w+)(?:\[([\w-]+)\])?")
_STATUSES = ("modelled", "not modelled", "in progress (#10)")


def _rows() -> list[tuple[str, int, list[str]]]:
    rows = []
    for line in DOC.read_text(encoding="utf-8").splitlines():
        match = _ROW.match(line)
        if match:
            cells = [c.strip() for c in re.split(r"(?<!\\)\|", match.group(3))]
            rows.append((match.group(1), int(match.group(2)), cells))
    return rows


def test_every_seed_has_rows_and_every_row_a_status() -> None:
    rows = _rows()
    assert {seed for seed, _, _ in rows} == set(SEED_FILES)
    for seed, line, cells in rows:
        status = cells[-1]
        assert status.startswith(_STATUSES), f"{seed}:{line} has no status: {status!r}"


@functools.cache
def _test_names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}


def test_every_modelled_row_names_a_test_that_exists() -> None:
    ids = {r.id for r in RULES}
    for seed, line, cells in _rows():
        if not cells[-1].startswith("modelled"):
            continue
        refs = _TEST_REF.findall(" ".join(cells))
        assert refs, f"{seed}:{line} is modelled but names no test"
        for path, name, case in refs:
            assert name in _test_names(ROOT / path), f"{seed}:{line}: {path}::{name}"
            if path.endswith("test_seed_rules.py") and case:
                assert case in ids, f"{seed}:{line}: no case {case!r}"


def test_every_quote_in_the_document_is_the_seeds_text() -> None:
    for seed, line, cells in _rows():
        text = _seed_text(seed)
        for quote in re.findall(r"“([^”]+)”", cells[0]):
            for part in quote.split("…"):
                assert _flat(part) in text, f"{seed}:{line}: {part!r}"
