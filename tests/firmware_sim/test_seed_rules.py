"""Seed statements that are modelled but had no test quoting them (docs/seed-rules.md).

Each case names its seed file, quotes the seed's own words (short, original language) and checks
the behaviour in virtual time. ``docs/seed-rules.md`` links a case as
``tests/firmware_sim/test_seed_rules.py::test_seed_rule[<id>]``; the last tests here keep that
document honest: every row has a status; every "modelled" row names a test that exists and
quotes the row (a case here with the row's words, or a test whose docstring, comments or
constants share 24 characters — 6 Chinese ones — with it); every quote in the document is the
seed's text on the line the row names, and every quote in this file is the seed's text. The
quote checks need ``shared/seeds/`` next to the checkout or ``$WAKEBENCH_SEEDS``; without it
they are skipped.
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


def ios_refresh_status_switch(harness: Any) -> None:
    h = _app(harness, "ios", register={"background_app_refresh": False})
    err = h.error(0, "app", "submit", {"type": "refresh", "identifier": "feed"})
    assert err.code == "unavailable"
    h.ok(1, "app", "register", {"platform": "ios", "background_app_refresh": True})
    h.ok(2, "app", "submit", {"type": "refresh", "identifier": "feed"})


def ios_refresh_switch_change(harness: Any) -> None:
    h = _app(harness, "ios")
    h.ok(0, "app", "submit", {"type": "refresh", "identifier": "feed", "earliest_begin": 100})
    h.ok(50, "app", "register", {"platform": "ios", "background_app_refresh": False})
    h.advance(500)
    assert h.events == []
    h.ok(500, "app", "register", {"platform": "ios", "background_app_refresh": True})
    h.advance(500)
    assert h.timeline() == [(500, "wake", "feed", None)]


def ios_url_session_runs_while_suspended(harness: Any) -> None:
    # the transfer runs outside the app: a suspended app is launched when it completes
    h = _app(harness, "ios")
    h.ok(0, "app", "url_session_download", {"session": "com.example.dl", "duration": 600})
    h.ok(1, "app", "state", {"state": "background"})
    h.advance(300)
    assert h.sched.apps["app"].state == "suspended"
    h.advance(600)
    assert h.timeline()[-1] == (600, "wake", "com.example.dl", None)
    assert h.events[-1].data == {"type": "url_session", "launched": True}


def ios_url_session_completion_handler(harness: Any) -> None:
    h = _app(harness, "ios")
    h.ok(0, "app", "state", {"state": "suspended"})
    h.ok(0, "app", "url_session_download", {"session": "dl", "duration": 60})
    h.advance(60)
    assert h.events[-1].deadline is not None  # the launch has a time limit
    h.ok(61, "app", "set_task_completed", {"identifier": "dl", "success": True})
    h.advance(DAY)
    assert [e.type for e in h.events] == ["wake"]  # completed: no expire, no terminate


def ios_url_session_relaunches_a_terminated_app(harness: Any) -> None:
    h = _app(harness, "ios")
    h.ok(0, "app", "url_session_download", {"session": "dl", "duration": 3600})
    h.ok(1, "app", "state", {"state": "background"})
    h.ok(2, "app", "begin_background_task")  # never ended: the OS terminates the app
    h.advance(1800)
    assert h.sched.apps["app"].state == "terminated"
    h.advance(3600)
    assert h.timeline()[-1] == (3600, "wake", "dl", None)
    assert h.events[-1].data == {"type": "url_session", "launched": True}


def ios_swipe_stops_transfers(harness: Any) -> None:
    h = _app(harness, "ios")
    h.ok(0, "app", "url_session_download", {"session": "dl", "duration": 600})
    h.ok(10, "app", "state", {"state": "terminated"})  # the user swipes the app away
    h.advance(DAY)
    assert [(e.type, e.reason) for e in h.events if e.task_id == "dl"] == [
        ("unscheduled", "app_swiped_away")]


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


def uwp_memory_reclaimed_for_a_foreground_app(harness: Any) -> None:
    h = _app(harness, "uwp", ON_WALL)
    h.ok(0, "app", "request_extension", {"reason": "unspecified"})
    h.ok(0, "app", "state", {"state": "background"})
    assert h.ok(100, "app", "reclaim_memory") == {"revoked": "session-1"}  # sent by the bench
    assert h.timeline()[-1] == (100, "revoke", "session-1", "memory_pressure")
    assert h.events[-1].data["revoked_reason"] == "SystemPolicy"


def uwp_no_resources_no_session(harness: Any) -> None:
    h = _app(harness, "uwp", ON_BATTERY, limits={"uwp": {"energy_quota_s": 60,
                                                          "device_family": "mobile"}})
    h.ok(0, "app", "request_extension", {"reason": "unspecified"})
    h.ok(0, "app", "state", {"state": "background"})
    h.advance(60)
    h.ok(61, "app", "dispose")
    h.ok(62, "app", "state", {"state": "foreground"})
    data = h.ok(63, "app", "request_extension", {"reason": "unspecified"})
    assert (data["result"], data["denied_because"]) == ("denied", "energy_quota_exhausted")


def uwp_desktop_battery_aware(harness: Any) -> None:
    for signals, deadline in ((ON_BATTERY, 600.0), (ON_WALL, None)):
        h = _app(harness, "uwp", signals, limits={"uwp": {"device_family": "desktop"}})
        h.ok(0, "app", "request_extension", {"reason": "unspecified"})
        h.ok(0, "app", "state", {"state": "background"})
        assert h.sched.tasks("app")["session-1"]["deadline"] == deadline, signals.charger


def uwp_desktop_standby_later(harness: Any) -> None:
    h = _app(harness, "uwp", ON_WALL)  # device_family: desktop (the default)
    h.ok(0, "app", "request_extension", {"reason": "unspecified"})
    assert h.set(10, screen_locked=True) == []  # the screen is off: not yet Connected Standby
    h.set(20, idle=True)
    assert h.timeline()[-1] == (20, "revoke", "session-1", "connected_standby")


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


def uwp_second_session_refused(harness: Any) -> None:
    h = _app(harness, "uwp", ON_WALL)
    h.ok(0, "app", "request_extension", {"reason": "unspecified"})
    err = h.error(1, "app", "request_extension", {"reason": "saving_data"})
    assert err.code == "0x8007139F"
    assert [e.type for e in h.events] == ["wake"]


def uwp_dispose_by_reference(harness: Any) -> None:
    h = _app(harness, "uwp", ON_WALL)
    session = h.ok(0, "app", "request_extension", {"reason": "unspecified"})["session_id"]
    assert h.error(1, "app", "dispose", {"session_id": "session-99"}).code
    h.ok(2, "app", "dispose", {"session_id": session})
    assert h.sched.tasks("app") == {}


def uwp_previous_closed_first(harness: Any) -> None:
    h = _app(harness, "uwp", ON_BATTERY)
    h.ok(0, "app", "request_extension", {"reason": "unspecified"})
    h.ok(1, "app", "state", {"state": "background"})
    h.advance(601)  # revoked, never disposed by the app
    h.ok(1000, "app", "state", {"state": "foreground"})
    assert h.ok(1001, "app", "request_extension", {"reason": "unspecified"})["result"] == "allowed"
    assert list(h.sched.tasks("app")) == ["session-2"]


def uwp_revoked_before_any_end(harness: Any) -> None:
    h = _app(harness, "uwp", ON_WALL)
    h.ok(0, "app", "state", {"state": "background"})
    h.ok(1, "app", "request_extension", {"reason": "saving_data"})
    h.advance(DAY)
    session = [e.type for e in h.events if e.task_id == "session-1"]
    assert session == ["wake", "revoke", "terminate"]


def uwp_revoked_reasons(harness: Any) -> None:
    # Resumed on "returning to foreground": the sample's answer, saving_data_relaunch: revoke
    h = _app(harness, "uwp", ON_BATTERY, limits={"uwp": {"saving_data_relaunch": "revoke"}})
    h.ok(0, "app", "state", {"state": "background"})
    h.ok(1, "app", "request_extension", {"reason": "saving_data"})
    h.ok(2, "app", "state", {"state": "foreground"})
    assert h.events[-1].data["revoked_reason"] == "Resumed"
    h.ok(3, "app", "dispose")
    h.ok(3, "app", "request_extension", {"reason": "unspecified"})
    h.ok(4, "app", "state", {"state": "background"})
    h.advance(DAY)
    assert h.events[-1].data["revoked_reason"] == "SystemPolicy"


def uwp_suspended_when_switched_away(harness: Any) -> None:
    h = _app(harness, "uwp", ON_WALL)
    h.ok(10, "app", "state", {"state": "background"})  # the Suspending event, 5 s to handle it
    assert h.timeline() == [(10, "wake", "suspending", None)]
    assert h.events[-1].deadline == 15
    assert h.advance(14.999) == [] and h.sched.apps["app"].state == "background"
    h.advance(15)
    assert h.timeline()[-1] == (15, "expire", "suspending", "suspended")
    assert h.events[-1].data == {"app_state": "suspended"}
    assert h.sched.apps["app"].state == "suspended"  # its code does not run: no SavingData now
    data = h.ok(16, "app", "request_extension", {"reason": "saving_data"})
    assert (data["result"], data["denied_because"]) == ("denied", "app_suspended")
    h.ok(20, "app", "state", {"state": "foreground"})  # back before the deadline: not suspended
    h.ok(30, "app", "state", {"state": "background"})
    h.ok(32, "app", "state", {"state": "foreground"})
    h.advance(DAY)
    assert h.sched.apps["app"].state == "foreground"
    assert [e.type for e in h.events][-1] == "wake"


def uwp_saving_data_holds_suspending(harness: Any) -> None:
    h = _app(harness, "uwp", ON_WALL)
    h.ok(0, "app", "state", {"state": "background"})
    assert h.ok(4, "app", "request_extension", {"reason": "saving_data"})["result"] == "allowed"
    h.advance(300)
    assert h.sched.apps["app"].state == "background"  # Suspending for the extension's period
    h.ok(300, "app", "dispose")
    assert h.sched.apps["app"].state == "suspended"  # "without further notification"
    assert [(e.type, e.task_id) for e in h.events] == [("wake", "suspending"), ("wake", "session-1")]


def uwp_relaunch_waits_for_saving_data(harness: Any) -> None:
    h = _app(harness, "uwp", ON_WALL)
    h.ok(0, "app", "state", {"state": "background"})
    h.ok(1, "app", "request_extension", {"reason": "saving_data"})
    assert h.ok(30, "app", "state", {"state": "foreground"}) == {"state": "background",
                                                                "previous": "background"}
    assert h.ok(31, "app", "status")["relaunch_pending"] is True
    assert [e.type for e in h.events] == ["wake", "wake"]  # no revoke: the save goes on
    h.advance(300)
    assert h.sched.apps["app"].state == "background"  # the relaunch still waits
    data = h.ok(300, "app", "dispose")  # the save is done: old instance closed, new one launched
    assert data["relaunched"] is True and data["app_state"] == "foreground"
    assert h.sched.apps["app"].state == "foreground"
    h.advance(DAY)
    assert [e.type for e in h.events] == ["wake", "wake"]


def uwp_relaunch_waits_for_the_whole_period(harness: Any) -> None:
    h = _app(harness, "uwp", ON_WALL)
    h.ok(0, "app", "state", {"state": "background"})
    h.ok(1, "app", "request_extension", {"reason": "saving_data"})
    h.ok(30, "app", "state", {"state": "foreground"})
    h.advance(DAY)  # never disposed: the period ends at 601, the one second at 602
    assert h.timeline()[-2:] == [(601, "revoke", "session-1", "system_policy"),
                                 (602, "terminate", "session-1", "not_disposed")]
    assert h.events[-1].data == {"relaunched": True, "app_state": "foreground"}
    assert h.sched.apps["app"].state == "foreground"  # the new instance


# -- seed 003: Windows Phone 8 scheduled tasks --------------------------------------------------
RI_OK = Signals(battery_level=95.0, charger="ac", network="wifi", screen_locked=True, on_call=False)


def wp8_on_invoke_by_type(harness: Any) -> None:
    h = harness(signals=RI_OK)
    for app in ("mail", "news"):
        h.ok(0, app, "register", {"platform": "wp8"})
    h.ok(0, "mail", "add", {"name": "sync", "type": "resource_intensive"})
    h.ok(0, "news", "add", {"name": "feed", "type": "periodic"})
    assert h.timeline() == [(0, "wake", "sync", None)]  # at once: its conditions hold
    assert h.events[0].data == {"type": "resource_intensive"}
    assert h.events[0].deadline == 600
    h.advance(40 * 60.0)
    periodic = [e for e in h.events if e.task_id == "feed"]
    assert periodic[0].type == "wake" and 20 * 60 <= periodic[0].t <= 40 * 60  # on its interval
    assert periodic[0].deadline == periodic[0].t + 25


def wp8_notify_complete(harness: Any) -> None:
    h = _app(harness, "wp8", RI_OK)
    h.ok(0, "app", "add", {"name": "sync", "type": "resource_intensive"})
    h.ok(30, "app", "notify_complete", {"name": "sync"})
    h.advance(1200)
    assert [e.type for e in h.events if e.t < 1200] == ["wake"]


def wp8_waits_until_not_in_use(harness: Any) -> None:
    h = _app(harness, "wp8", Signals(battery_level=95.0, charger="ac", network="wifi",
                                     screen_locked=False))
    h.ok(0, "app", "add", {"name": "sync", "type": "resource_intensive"})
    h.advance(DAY)
    assert h.events == []
    h.set(DAY, screen_locked=True)
    assert h.timeline() == [(DAY, "wake", "sync", None)]


def wp8_ended_early_by_another_limit(harness: Any) -> None:
    h = _app(harness, "wp8", RI_OK)
    h.ok(0, "app", "add", {"name": "sync", "type": "resource_intensive"})
    h.ok(10, "app", "report_memory", {"mb": 7})
    assert h.timeline()[-1] == (10, "terminate", "sync", "memory_limit")


def wp8_lock_screen_update_extends(harness: Any) -> None:
    h = harness()
    h.ok(0, "app", "register", {"platform": "wp8", "lock_screen": True})
    h.ok(0, "app", "add", {"name": "sync", "type": "periodic", "expiration_time": "7d"})
    data = h.ok(DAY, "app", "update_tile")
    assert data["extended"] is True and data["expiration_time"] == DAY + 14 * DAY


def wp8_may_never_run(harness: Any) -> None:
    h = _app(harness, "wp8", Signals(battery_level=95.0, charger="ac", network="cellular",
                                     screen_locked=True))
    h.ok(0, "app", "add", {"name": "sync", "type": "resource_intensive"})
    h.advance(14 * DAY)
    assert [e.type for e in h.events] == ["unscheduled"]  # expired without ever running


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


def ho_activity_group(harness: Any) -> None:
    h = _app(harness, "harmonyos", Signals(network="wifi"), register={"group": "rarely_used"})
    h.ok(0, "app", "start_work", _work(1, network_type="wifi"))
    h.ok(1, "app", "start_work", _work(2, network_type="wifi"))
    h.advance(48 * 3600 - 0.001)
    assert [e.task_id for e in h.events if e.type == "wake"] == ["1"]
    h.advance(48 * 3600)
    assert h.timeline()[-1] == (48 * 3600, "wake", "2", None)


def ho_forbidden_group(group: str) -> Callable[[Any], None]:
    def check(harness: Any) -> None:
        h = _app(harness, "harmonyos", Signals(network="wifi"), register={"group": group})
        h.ok(0, "app", "start_work", _work(network_type="wifi"))
        h.advance(30 * DAY)
        assert h.events == []
    return check


def ho_on_work_stop(harness: Any) -> None:
    h = _ho(harness, network="wifi")
    h.ok(0, "app", "start_work", _work(1, network_type="wifi"))
    h.advance(120)
    assert h.timeline()[-2] == (120, "expire", "1", "timeout")  # then terminate (issue 10)
    h.ok(200, "app", "start_work", _work(2, network_type="wifi"))
    h.set(210, network="none")
    assert h.timeline()[-1] == (210, "revoke", "2", "network_lost")


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
    SeedRule("cap-callback", "000", "应用进入后台但未被终止前执行的任务",
             cap_short_task_in_background),
    SeedRule("cap-short-only", "000", "其他应用只能执行短期后台任务", cap_short_task_in_background),
    SeedRule("cap-strictest", "000", "建议按照最严格的标准进行开发", cap_same_rule_for_ios_and_android),
    SeedRule("cap-terminate", "000", "必须调用结束方法，否则可能导致应用被终止",
             cap_must_finish_or_be_terminated),
    SeedRule("cap-finish", "000", "任务完成后*必须*调用 `BackgroundTask.finish({ taskId })`",
             cap_finish_with_the_returned_task_id),
    SeedRule("cap-finish-notifies", "000", "通知系统指定任务已完成",
             cap_finish_with_the_returned_task_id),
    SeedRule("ios-launch-for-events", "001",
             "the system launches or resumes the app in the background to handle events "
             "associated with those capabilities", ios_launched_into_background),
    SeedRule("ios-refresh-status", "001",
             "Check the status: UIApplication.shared.backgroundRefreshStatus",
             ios_refresh_status_switch),
    SeedRule("ios-refresh-status-change", "001",
             "UIApplication.backgroundRefreshStatusDidChangeNotification",
             ios_refresh_switch_change),
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
    SeedRule("uwp-foreground-request", "002",
             "At any point during regular foreground execution, while the application is in the "
             "running state.", uwp_three_reasons),
    SeedRule("uwp-first-case", "002",
             "In the first case, the application stays in the running state",
             uwp_no_suspending_while_extended),
    SeedRule("uwp-desktop-battery-aware", "002",
             "On desktop devices, extended execution sessions created with "
             "ExtendedExecutionReason.Unspecified have a battery-aware time limit.",
             uwp_desktop_battery_aware),
    SeedRule("uwp-standby-later", "002",
             "The device does not enter Connected Standby for a period of time after the screen "
             "turns off.", uwp_desktop_standby_later),
    SeedRule("uwp-time-limit", "002", "an execution time limit was reached",
             uwp_expired_extension_suspends),
    SeedRule("uwp-user-in-control", "002",
             "The user is ultimately in control of all background activity that your app can "
             "perform", uwp_user_approval_checked),
    SeedRule("uwp-one-approved", "002",
             "Only one session will be approved for an app at any time", uwp_second_session_refused),
    SeedRule("uwp-one-active", "002",
             "An app can only have one ExtendedExecutionSession active at a time.",
             uwp_second_session_refused),
    SeedRule("uwp-dispose-reference", "002",
             "You must maintain a reference to the ExtendedExecutionSession object until the end "
             "of the operation so that you can call its Dispose method.", uwp_dispose_by_reference),
    SeedRule("uwp-previous-closed", "002",
             "The previous Extended Execution must be closed before a new one can be requested.",
             uwp_previous_closed_first),
    SeedRule("uwp-request-access", "002",
             "Use BackgroundExecutionManager.RequestAccessAsync to determine if the user has "
             "decided that your app", uwp_user_approval_checked),
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
    SeedRule("uwp-suspended-when-away", "002",
             "When the user minimizes or switches away from an app it is put into a suspended "
             "state.", uwp_suspended_when_switched_away),
    SeedRule("uwp-suspending-for-the-extension", "002",
             "if the application is transitioning to the suspended state, it will stay in a "
             "suspending state for the period of the extension", uwp_saving_data_holds_suspending),
    SeedRule("uwp-relaunch-waits", "002",
             "and the user requests the app be launched again, it may appear to take a long time "
             "to launch", uwp_relaunch_waits_for_saving_data),
    SeedRule("uwp-relaunch-after-the-period", "002",
             "the extended execution session time period must complete before the old instance "
             "of the app can be closed and a new instance of the app can be launched.",
             uwp_relaunch_waits_for_the_whole_period),
    SeedRule("wp8-by-type", "003", "對代理運行所使用的調度演算法依賴於任務所註冊的類型",
             wp8_on_invoke_by_type),
    SeedRule("wp8-on-invoke", "003", "當代理被啟動,作業系統會調用其OnInvoke(ScheduledTask)方法",
             wp8_on_invoke_by_type),
    SeedRule("wp8-notify-complete", "003", "NotifyComplete 應在任務執行成功後使用",
             wp8_notify_complete),
    SeedRule("wp8-not-in-use", "003", "當phone沒有被使用者使用而未處於活動狀態時",
             wp8_waits_until_not_in_use),
    SeedRule("wp8-ended-early", "003", "也有其它的限制條件可能導致一個代理過早終止",
             wp8_ended_early_by_another_limit),
    SeedRule("wp8-may-never-run", "003", "可能會出現一個代理在某個裝置上永遠不能運行",
             wp8_may_never_run),
    SeedRule("ho-user-habits", "004",
             "based on the memory, power consumption, device temperature, and user habits",
             ho_activity_group),
    SeedRule("ho-activity-group", "004",
             "The system controls the execution frequency of deferred tasks based on the "
             "application activity group.", ho_activity_group),
    SeedRule("ho-restricted", "004", "Group of restricted applications | Forbidden",
             ho_forbidden_group("restricted")),
    SeedRule("ho-never-used", "004", "Group of applications never used | Forbidden",
             ho_forbidden_group("never_used")),
    SeedRule("ho-start-work", "004", "startWork(work: WorkInfo): void; | Starts a deferred task.",
             ho_on_work_start_with_duration),
    SeedRule("ho-add-delete-query", "004",
             "An application calls the WorkScheduler APIs to add, delete, and query deferred "
             "tasks.", ho_status_queries),
    SeedRule("ho-obtain-all", "004", "Obtains all the deferred tasks.", ho_status_queries),
    SeedRule("ho-work-status", "004", "Obtains the information about a deferred task.",
             ho_status_queries),
    SeedRule("ho-repeat-cycle", "004",
             "repeatCycleTime | number | No | Repeat interval, in milliseconds.",
             ho_repeat_cycle_and_count),
    SeedRule("ho-is-repeat", "004", "Whether the deferred task is repeated.",
             ho_repeat_cycle_and_count),
    SeedRule("ho-on-work-start", "004",
             "Called when the system starts scheduling the deferred task.",
             ho_on_work_start_with_duration),
    SeedRule("ho-on-work-stop", "004", "Called when the system stops scheduling the deferred task.",
             ho_on_work_stop),
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
    SeedRule("ios-url-session-suspended", "001",
             "These tasks continue to run even when your app is suspended.",
             ios_url_session_runs_while_suspended),
    SeedRule("ios-url-session-launch-events", "001",
             "to have the system to wake up your app when a task completes",
             ios_url_session_runs_while_suspended),
    SeedRule("ios-url-session-second-launch", "001", "下载完成后,App 在后台启动(第二次)",
             ios_url_session_runs_while_suspended),
    SeedRule("ios-url-session-completion", "001",
             "Once your resumed app calls the completion handler, the download task finishes its "
             "work", ios_url_session_completion_handler),
    SeedRule("ios-url-session-relaunch", "001",
             "If the system terminated the app while it was suspended, the system relaunches the "
             "app in the background.", ios_url_session_relaunches_a_terminated_app),
    SeedRule("ios-swipe-stops-transfers", "001",
             "Users can stop transfers by swiping to kill the app in the App Switcher.",
             ios_swipe_stops_transfers),
    SeedRule("uwp-memory-reclaimed", "002",
             "memory needs to be reclaimed in order for the user to open a new app in the "
             "foreground", uwp_memory_reclaimed_for_a_foreground_app),
    SeedRule("uwp-foreground-needs-resources", "002",
             "the system requires background activity to halt because a foreground application "
             "requires the resources, then the session is revoked",
             uwp_memory_reclaimed_for_a_foreground_app),
    SeedRule("uwp-available-resources", "002",
             "whether the system has the available resources to enable background execution",
             uwp_no_resources_no_session),
    SeedRule("wp8-lock-screen-update", "003", "來更新鎖定屏時自動擴充到兩周",
             wp8_lock_screen_update_extends),
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


def _comment_block(lines: list[str], start: int) -> int:
    """First line (0-based) of the comment block right above line ``start`` (0-based)."""
    while start > 0 and lines[start - 1].lstrip().startswith("#"):
        start -= 1
    return start


@functools.cache
def _quoting_text(path: Path, name: str) -> str:
    """What test ``name`` quotes: its source with decorators and the comments above it, plus the
    module-level constants it uses (with their comments)."""
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    tree = ast.parse(text)
    consts: dict[str, str] = {}
    func = None
    for node in tree.body:
        if isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            start = _comment_block(lines, node.lineno - 1)
            for target in targets:
                if isinstance(target, ast.Name):
                    consts[target.id] = "\n".join(lines[start:node.end_lineno])
        elif isinstance(node, ast.FunctionDef) and node.name == name:
            func = node
    assert func is not None, name
    start = _comment_block(lines, min([d.lineno for d in func.decorator_list] + [func.lineno]) - 1)
    used = {n.id for n in ast.walk(func) if isinstance(n, ast.Name)}
    parts = ["\n".join(lines[start:func.end_lineno])] + [consts[n] for n in used if n in consts]
    return _flat("\n".join(parts))


def _keys(quote_cell: str) -> set[str]:
    """Every run of 24 characters (6 for Chinese) of each quoted fragment of a row: a test
    "quotes" the row when its text shares one of them."""
    keys = set()
    for quote in re.findall(r"“([^”]+)”", quote_cell):
        for fragment in map(_flat, quote.split("…")):
            n = 6 if re.search(r"[\u4e00-\u9fff]", fragment) else 24
            keys |= {fragment[i:i + n] for i in range(max(1, len(fragment) - n + 1))}
    return keys


def test_every_modelled_row_has_a_test_that_quotes_it() -> None:
    """A modelled row names a ``test_seed_rule`` case with the row's quote, or a test whose
    source (docstring, comments, constants) quotes the row."""
    quotes = {r.id: _flat(r.quote) for r in RULES}
    unquoted = []
    for seed, line, cells in _rows():
        if not cells[-1].startswith("modelled"):
            continue
        keys = _keys(cells[0])
        texts = []
        for path, name, case in _TEST_REF.findall(" ".join(cells)):
            texts.append(quotes.get(case, "") if case else _quoting_text(ROOT / path, name))
        if not any(key in text for key in keys for text in texts):
            unquoted.append(f"{seed}:{line} {cells[0][:60]}")
    assert unquoted == [], "\n".join(unquoted)


def test_every_quote_in_the_document_is_the_seeds_text_on_that_line() -> None:
    seeds = _seeds_dir()
    if seeds is None:
        pytest.skip("shared/seeds/ is not reachable from this checkout (set WAKEBENCH_SEEDS)")
    wrong = []
    for seed, line, cells in _rows():
        lines = (seeds / SEED_FILES[seed]).read_text(encoding="utf-8").splitlines()
        text = _flat(lines[line - 1]) if line <= len(lines) else ""
        for quote in re.findall(r"“([^”]+)”", cells[0]):
            wrong += [f"{seed}:{line} {part!r}" for part in quote.split("…")
                      if _flat(part) not in text]
    assert wrong == [], "\n".join(wrong)
