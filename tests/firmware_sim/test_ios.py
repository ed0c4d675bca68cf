"""iOS: the 5 s background window, beginBackgroundTask and BGTaskScheduler (seed 001, reference §1)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from firmware_sim import Signals
from firmware_sim.platforms.ios import IOSLimits

# seed 001: "applicationDidEnterBackground(_:) method. This method has five seconds to perform
# any tasks and return. Shortly after that method returns, ... the system puts your app into the
# suspended state."
ENTER_S = 5.0
# platform-budgets.md §1: "~30 s on modern iOS (Apple DTS: 'your task ran for 30 seconds')";
# "180 s on iOS 7+ (crash log permittedBackgroundDuration: 180.000000)"
BG_TASK_S = 30.0
LEGACY_BG_TASK_S = 180.0
GRACE_S = IOSLimits().terminate_grace_s  # UNCONFIRMED, as capacitor's
# platform-budgets.md §1: Runtime "~30 s": UNCONFIRMED in Apple reference docs
REFRESH_S = 30.0


def ios(harness, signals: Signals | None = None, **register):
    h = harness(signals=signals, **({"limits": register.pop("limits")} if "limits" in register else {}))
    h.ok(0, "app", "register", {"platform": "ios", **register})
    return h


def test_limits_are_sourced() -> None:
    limits = IOSLimits()
    assert limits.did_enter_background_s == ENTER_S
    assert "has five seconds" in IOSLimits.source_of("did_enter_background_s")
    assert limits.background_task_s == BG_TASK_S
    assert "391799" in IOSLimits.source_of("background_task_s")
    assert "180" in IOSLimits.source_of("background_task_s")
    assert (limits.max_pending_refresh, limits.max_pending_processing) == (1, 10)
    assert limits.critical_battery_pct == 20.0
    assert "<= 20%" in IOSLimits.source_of("critical_battery_pct")
    assert "secondary" in IOSLimits.source_of("critical_battery_pct")
    assert "UNCONFIRMED" in IOSLimits.source_of("refresh_runtime_s")
    assert "UNCONFIRMED" in IOSLimits.source_of("terminate_grace_s")
    assert "minutes" in IOSLimits.source_of("processing_runtime_s")


# -- applicationDidEnterBackground: 5 s ----------------------------------------------------------
def test_background_gives_five_seconds_then_suspends(harness) -> None:
    """seed 001: applicationDidEnterBackground "has five seconds to perform any tasks"."""
    h = ios(harness)
    h.ok(10, "app", "state", {"state": "background"})
    assert h.timeline() == [(10, "wake", "did_enter_background", None)]
    assert h.events[0].deadline == 10 + ENTER_S
    assert h.advance(10 + ENTER_S - 0.001) == []
    assert h.sched.apps["app"].state == "background"
    h.advance(10 + ENTER_S)
    assert h.timeline()[-1] == (15, "expire", "did_enter_background", "time_limit")
    assert h.sched.apps["app"].state == "suspended"


def test_foreground_within_five_seconds_cancels_suspension(harness) -> None:
    h = ios(harness)
    h.ok(10, "app", "state", {"state": "background"})
    h.ok(14.999, "app", "state", {"state": "foreground"})
    h.advance(100)
    assert [e.type for e in h.events] == ["wake"]
    assert h.sched.apps["app"].state == "foreground"
    assert h.sched.tasks("app") == {}


def test_active_background_task_delays_suspension_until_it_ends(harness) -> None:
    """seed 001: "if you need more time, you can ask UIKit to extend your app's runtime"."""
    h = ios(harness)
    h.ok(0, "app", "state", {"state": "background"})
    h.ok(1, "app", "begin_background_task", {"name": "save"})
    h.advance(ENTER_S)
    assert h.sched.apps["app"].state == "background"
    assert h.sched.tasks("app")["did_enter_background"]["state"] == "extended"
    h.ok(20, "app", "end_background_task", {"identifier": 1})
    assert h.timeline()[-1] == (20, "expire", "did_enter_background", "background_task_ended")
    assert h.sched.apps["app"].state == "suspended"


def test_background_task_ended_before_five_seconds_suspends_at_five(harness) -> None:
    h = ios(harness)
    h.ok(0, "app", "state", {"state": "background"})
    h.ok(1, "app", "begin_background_task")
    h.ok(2, "app", "end_background_task", {"task_id": "bg-1"})
    assert h.sched.apps["app"].state == "background"
    h.advance(ENTER_S)
    assert h.timeline()[-1] == (ENTER_S, "expire", "did_enter_background", "time_limit")


# -- beginBackgroundTask -------------------------------------------------------------------------
def test_background_task_clock_starts_on_entering_background(harness) -> None:
    """reference §1: backgroundTimeRemaining is valid only once the app is backgrounded."""
    h = ios(harness)
    data = h.ok(0, "app", "begin_background_task", {"name": "upload"})
    assert data["task_id"] == "bg-1" and data["identifier"] == 1
    assert data["deadline"] is None and data["background_time_remaining"] is None
    h.advance(3600)  # an hour in the foreground: no expiry
    assert [e.type for e in h.events] == ["wake"]
    h.ok(3600, "app", "state", {"state": "background"})
    assert h.ok(3610, "app", "status")["background_time_remaining"] == BG_TASK_S - 10
    assert h.sched.tasks("app")["bg-1"]["deadline"] == 3600 + BG_TASK_S


def test_background_task_expires_at_30_s_then_terminates(harness) -> None:
    """reference §1: ~30 s modern (empirical); not ending "will result in the termination"."""
    h = ios(harness)
    h.ok(0, "app", "begin_background_task")
    h.ok(100, "app", "state", {"state": "background"})
    assert h.advance(100 + BG_TASK_S - 0.001) == []
    h.advance(100 + BG_TASK_S)
    assert h.timeline()[-1] == (130, "expire", "bg-1", "time_limit")
    assert h.advance(130 + GRACE_S - 0.001) == []
    h.advance(130 + GRACE_S)
    assert h.timeline()[-1] == (130 + GRACE_S, "terminate", "bg-1", "not_ended")
    assert h.sched.apps["app"].state == "terminated"
    assert h.sched.tasks("app") == {}
    assert [e.seq for e in h.events] == list(range(1, len(h.events) + 1))


def test_legacy_180_s_is_an_override(harness) -> None:
    """reference §1: "180 s on iOS 7+ (permittedBackgroundDuration: 180.000000)"."""
    h = ios(harness, limits={"ios": {"background_task_s": LEGACY_BG_TASK_S}})
    h.ok(0, "app", "state", {"state": "background"})
    h.ok(1, "app", "begin_background_task")
    h.advance(LEGACY_BG_TASK_S - 0.001)
    assert "expire" not in [e.type for e in h.events if e.task_id == "bg-1"]
    h.advance(LEGACY_BG_TASK_S)
    assert h.timeline()[-1] == (LEGACY_BG_TASK_S, "expire", "bg-1", "time_limit")


def test_end_after_expire_avoids_terminate_and_suspends(harness) -> None:
    h = ios(harness)
    h.ok(0, "app", "state", {"state": "background"})
    h.ok(1, "app", "begin_background_task")
    h.advance(BG_TASK_S)
    data = h.ok(BG_TASK_S + GRACE_S - 0.001, "app", "end_background_task", {"identifier": 1})
    assert data["state"] == "expired"
    h.advance(3600)
    assert [e.type for e in h.events] == ["wake", "wake", "expire", "expire"]
    assert h.timeline()[-1][2:] == ("did_enter_background", "background_task_ended")
    assert h.sched.apps["app"].state == "suspended"


def test_background_time_is_shared_by_all_tasks(harness) -> None:
    """reference §1: backgroundTimeRemaining is one value for the app."""
    h = ios(harness)
    h.ok(0, "app", "state", {"state": "background"})
    h.ok(1, "app", "begin_background_task")
    assert h.ok(20, "app", "begin_background_task")["deadline"] == BG_TASK_S
    h.advance(BG_TASK_S)
    assert [t[2] for t in h.timeline() if t[1] == "expire"] == ["bg-1", "bg-2"]


def test_no_background_time_left_returns_invalid(harness) -> None:
    """reference §1: beginBackgroundTask "Returns .invalid if background running is impossible"."""
    h = ios(harness)
    h.ok(0, "app", "state", {"state": "background"})
    h.advance(ENTER_S)
    data = h.ok(6, "app", "begin_background_task")
    assert data["identifier"] == 0 and data["invalid"] is True and data["task_id"] is None
    h.ok(7, "app", "state", {"state": "background"})
    h.ok(8, "app", "begin_background_task")
    h.advance(7 + BG_TASK_S)
    assert h.ok(7 + BG_TASK_S + 1, "app", "begin_background_task")["identifier"] == 0


def test_foreground_stops_the_clock_and_next_background_restarts_it(harness) -> None:
    h = ios(harness)
    h.ok(0, "app", "state", {"state": "background"})
    h.ok(1, "app", "begin_background_task")
    h.ok(29, "app", "state", {"state": "foreground"})
    h.advance(1000)
    assert "expire" not in [e.type for e in h.events]
    h.ok(1000, "app", "state", {"state": "background"})
    assert h.advance(1000 + BG_TASK_S - 0.001) == []
    h.advance(1000 + BG_TASK_S)
    assert h.timeline()[-1] == (1000 + BG_TASK_S, "expire", "bg-1", "time_limit")


def test_end_unknown_background_task_is_an_error(harness) -> None:
    h = ios(harness)
    assert h.error(0, "app", "end_background_task", {"identifier": 7}).code == "unknown_task"
    assert h.error(0, "app", "end_background_task", {"task_id": "x"}).code == "unknown_task"
    assert h.error(0, "app", "end_background_task").code == "invalid_args"


# -- BGTaskScheduler.submit quota ----------------------------------------------------------------
def test_one_pending_refresh_and_same_identifier_replaces(harness) -> None:
    """reference §1: "a total of 1 refresh task and 10 processing tasks scheduled at any time.
    Trying to schedule more tasks returns tooManyPendingTaskRequests" (code 2); submitting an
    already queued identifier replaces the old request."""
    h = ios(harness)
    first = h.ok(0, "app", "submit", {"type": "refresh", "identifier": "feed", "earliest_begin": 900})
    assert first["replaced"] is False
    err = h.error(1, "app", "submit", {"type": "refresh", "identifier": "other"})
    assert err.code == "too_many_pending_task_requests"
    assert err.data["error_code"] == 2
    again = h.ok(2, "app", "submit", {"type": "refresh", "identifier": "feed", "earliest_begin": 1800})
    assert again["replaced"] is True
    h.advance(1799)
    assert h.events == []  # the replaced request (900 s) never runs
    h.advance(1800)
    assert h.timeline() == [(1800, "wake", "feed", None)]


def test_ten_pending_processing_requests_eleventh_refused(harness) -> None:
    h = ios(harness)
    for i in range(10):
        h.ok(0, "app", "submit", {"type": "processing", "identifier": f"p{i}"})
    err = h.error(0, "app", "submit", {"type": "processing", "identifier": "p10"})
    assert err.code == "too_many_pending_task_requests"
    h.ok(0, "app", "submit", {"type": "processing", "identifier": "p9"})  # replacement is fine
    h.ok(0, "app", "submit", {"type": "refresh", "identifier": "r", "earliest_begin": 60})
    assert h.ok(0, "app", "status")["pending"] == {"refresh": 1, "processing": 10}


def test_submit_unavailable_when_background_app_refresh_is_off(harness) -> None:
    """reference §1: unavailable=1 (Background App Refresh off)."""
    h = ios(harness, background_app_refresh=False)
    err = h.error(0, "app", "submit", {"type": "refresh", "identifier": "feed"})
    assert err.code == "unavailable" and err.data["error_code"] == 1
    h.ok(1, "app", "register", {"platform": "ios", "backgroundAppRefresh": True})
    h.ok(2, "app", "submit", {"type": "refresh", "identifier": "feed"})


def test_submit_argument_errors(harness) -> None:
    h = ios(harness)
    bad = [
        {"type": "fetch", "identifier": "a"},
        {"type": "refresh", "identifier": "com example refresh"},  # reverse-DNS is fine (issue 10)
        {"type": "refresh", "identifier": "did_enter_background"},
        {"type": "refresh", "identifier": "bg-1"},
        {"type": "refresh", "identifier": "a", "requires_external_power": True},
        {"type": "refresh", "identifier": "a", "earliest_begin": 5, "earliest_begin_delay": 5},
        {"type": "refresh", "identifier": "a", "earliest_begin_delay": -1},
        {"type": "refresh", "identifier": "a", "colour": "red"},
    ]
    for args in bad:
        assert h.error(0, "app", "submit", args).code == "invalid_args", args
    assert h.ok(0, "app", "status")["pending"] == {"refresh": 0, "processing": 0}


# -- launching refresh ---------------------------------------------------------------------------
def test_refresh_runs_at_earliest_begin_then_expires_and_terminates(harness) -> None:
    """reference §1: earliestBeginDate: "won't start sooner"; refresh ~30 s (UNCONFIRMED)."""
    h = ios(harness)
    h.ok(100, "app", "submit", {"type": "refresh", "identifier": "feed", "earliest_begin_delay": 900})
    assert h.advance(1000 - 0.001) == []
    h.advance(1000)
    assert h.timeline() == [(1000, "wake", "feed", None)]
    assert h.events[0].deadline == 1000 + REFRESH_S
    assert h.advance(1000 + REFRESH_S - 0.001) == []
    h.advance(1000 + REFRESH_S)
    assert h.timeline()[-1] == (1030, "expire", "feed", "time_limit")
    h.advance(1030 + GRACE_S)
    assert h.timeline()[-1] == (1030 + GRACE_S, "terminate", "feed", "not_completed")


def test_refresh_completed_in_time_ends_cleanly(harness) -> None:
    h = ios(harness)
    h.ok(0, "app", "submit", {"type": "refresh", "identifier": "feed", "earliestBeginDate": 60})
    h.advance(60)
    data = h.ok(89.999, "app", "set_task_completed", {"identifier": "feed", "success": True})
    assert data == {"identifier": "feed", "success": True, "state": "running", "completed_at": 89.999}
    h.advance(3600)
    assert [e.type for e in h.events] == ["wake"]
    assert h.error(3600, "app", "set_task_completed", {"identifier": "feed", "success": True}).code == "unknown_task"


@pytest.mark.parametrize(("level", "launches"), [(20.0, False), (20.01, True)])
def test_battery_at_or_below_20_percent_holds_launches(harness, level, launches) -> None:
    """seed 001: "Critically low battery (iPhone battery <= 20%)" (20 % is secondary)."""
    h = ios(harness, Signals(battery_level=level))
    h.ok(0, "app", "submit", {"type": "refresh", "identifier": "feed", "earliest_begin": 60})
    h.advance(60)
    assert ([e.type for e in h.events] == ["wake"]) is launches
    if not launches:
        assert h.sched.tasks("app")["feed"]["waiting_for"] == "battery_low"
        h.set(100, battery_level=19.0)
        assert h.events == []
        h.set(200, battery_level=20.5)
        assert h.timeline() == [(200, "wake", "feed", None)]


def test_battery_ticks_above_threshold_do_nothing(harness) -> None:
    h = ios(harness, Signals(battery_level=80))
    h.ok(0, "app", "submit", {"type": "refresh", "identifier": "feed", "earliest_begin": 600})
    assert h.set(10, battery_level=79.0) == []
    h.advance(600)
    assert h.timeline() == [(600, "wake", "feed", None)]


def test_low_power_mode_holds_launches_until_it_ends(harness) -> None:
    """seed 001: "Low Power Mode: ProcessInfo.processInfo.isLowPowerModeEnabled"."""
    h = ios(harness, Signals(low_power_mode=True))
    h.ok(0, "app", "submit", {"type": "refresh", "identifier": "feed"})
    h.advance(500)
    assert h.events == []
    assert h.sched.tasks("app")["feed"]["waiting_for"] == "low_power_mode"
    h.set(501, low_power_mode=False)
    assert h.timeline() == [(501, "wake", "feed", None)]


def test_stale_battery_reading_holds_launches(harness) -> None:
    h = ios(harness, Signals(battery_level=90).updated({}, stale=["battery_level"]))
    h.ok(0, "app", "submit", {"type": "refresh", "identifier": "feed"})
    h.advance(100)
    assert h.events == []


def test_background_app_refresh_switched_off_holds_then_releases(harness) -> None:
    """seed 001: "Background App Refresh switch" affects background execution."""
    h = ios(harness)
    h.ok(0, "app", "submit", {"type": "refresh", "identifier": "feed", "earliest_begin": 100})
    h.ok(50, "app", "register", {"platform": "ios", "background_app_refresh": False})
    h.advance(200)
    assert h.events == []
    assert h.sched.tasks("app")["feed"]["waiting_for"] == "background_app_refresh_off"
    h.ok(300, "app", "register", {"platform": "ios", "background_app_refresh": True})
    h.advance(300)
    assert h.timeline() == [(300, "wake", "feed", None)]


def test_swiped_away_app_is_not_launched_until_opened(harness) -> None:
    """seed 001: the system "constrains to the set of apps that are still visible in the App
    Switcher"."""
    h = ios(harness)
    h.ok(0, "app", "submit", {"type": "refresh", "identifier": "feed", "earliest_begin": 100})
    h.ok(10, "app", "state", {"state": "terminated"})
    h.advance(1000)
    assert h.sched.tasks("app")["feed"]["waiting_for"] == "app_swiped_away"
    assert [e.type for e in h.events] == []
    h.ok(1000, "app", "state", {"state": "foreground"})
    assert h.timeline() == [(1000, "wake", "feed", None)]


def test_app_killed_by_the_os_is_still_launched(harness) -> None:
    h = ios(harness)
    h.ok(0, "app", "submit", {"type": "refresh", "identifier": "feed", "earliest_begin": 100})
    h.ok(1, "app", "state", {"state": "background"})
    h.ok(2, "app", "begin_background_task")
    h.advance(1 + BG_TASK_S + GRACE_S)
    assert h.timeline()[-1][1] == "terminate"
    h.advance(100)
    assert h.timeline()[-1] == (100, "wake", "feed", None)


# -- processing ----------------------------------------------------------------------------------
def test_processing_waits_for_idle_and_is_revoked_when_user_returns(harness) -> None:
    """reference §1: runs "only when the device is idle" and is terminated "when the user starts
    using the device"."""
    h = ios(harness, Signals(idle=False))
    h.ok(0, "app", "submit", {"type": "processing", "identifier": "index"})
    h.advance(600)
    assert h.events == []
    assert h.sched.tasks("app")["index"]["waiting_for"] == "device_in_use"
    h.set(600, idle=True)
    assert h.timeline() == [(600, "wake", "index", None)]
    assert h.events[0].deadline is None  # "can run for minutes": until revoked by default
    h.advance(5 * 3600)
    assert len(h.events) == 1
    h.set(5 * 3600, idle=False)
    assert h.timeline()[-1] == (5 * 3600, "revoke", "index", "user_active")
    h.ok(5 * 3600 + GRACE_S - 0.001, "app", "set_task_completed", {"identifier": "index", "success": False})
    h.advance(6 * 3600)
    assert [e.type for e in h.events] == ["wake", "revoke"]


def test_processing_revoked_then_terminated_without_completion(harness) -> None:
    h = ios(harness, Signals(idle=True))
    h.ok(0, "app", "submit", {"type": "processing", "identifier": "index"})
    h.advance(0)
    h.set(10, idle=False)
    assert h.advance(10 + GRACE_S - 0.001) == []
    h.advance(10 + GRACE_S)
    assert h.timeline()[-1] == (10 + GRACE_S, "terminate", "index", "not_completed")


def test_processing_with_external_power_waits_for_charger_and_loses_it(harness) -> None:
    """reference §1: requiresExternalPower; DESIGN: revoke when a required condition is lost."""
    h = ios(harness, Signals(idle=True, charger="none"))
    h.ok(0, "app", "submit", {"type": "processing", "identifier": "ml", "requires_external_power": True})
    h.advance(100)
    assert h.sched.tasks("app")["ml"]["waiting_for"] == "no_external_power"
    assert h.set(100, idle=False) == []  # not indexed under idle while the charger blocks it
    h.set(110, charger="ac")
    assert h.events == []  # the user is active now
    h.set(120, idle=True)
    assert h.timeline() == [(120, "wake", "ml", None)]
    assert h.set(130, charger="usb") == []  # still external power
    h.set(140, charger="none")
    assert h.timeline()[-1] == (140, "revoke", "ml", "charger_removed")


def test_processing_with_network_waits_and_is_revoked_on_loss(harness) -> None:
    h = ios(harness, Signals(idle=True, network="none"))
    h.ok(0, "app", "submit",
         {"type": "processing", "identifier": "sync", "requiresNetworkConnectivity": True})
    h.advance(10)
    assert h.sched.tasks("app")["sync"]["waiting_for"] == "no_network"
    h.set(20, network="cellular")
    assert h.timeline() == [(20, "wake", "sync", None)]
    assert h.set(30, network="wifi") == []
    h.set(40, network="none")
    assert h.timeline()[-1] == (40, "revoke", "sync", "network_lost")


def test_processing_without_requirements_ignores_charger_and_network(harness) -> None:
    h = ios(harness, Signals(idle=True, charger="ac"))
    h.ok(0, "app", "submit", {"type": "processing", "identifier": "p"})
    h.advance(0)
    assert h.set(10, charger="none", network="none") == []


def test_processing_runtime_override_expires(harness) -> None:
    h = ios(harness, Signals(idle=True), limits={"ios": {"processing_runtime_s": 300}})
    h.ok(0, "app", "submit", {"type": "processing", "identifier": "p"})
    h.advance(0)
    assert h.events[0].deadline == 300
    assert h.advance(299.999) == []
    h.advance(300)
    assert h.timeline()[-1] == (300, "expire", "p", "time_limit")


def test_low_battery_does_not_revoke_a_running_task(harness) -> None:
    h = ios(harness, Signals(idle=True, battery_level=50))
    h.ok(0, "app", "submit", {"type": "processing", "identifier": "p"})
    h.advance(0)
    assert h.set(10, battery_level=10, low_power_mode=True) == []


def test_resubmitted_identifier_waits_for_the_running_task(harness) -> None:
    h = ios(harness)
    h.ok(0, "app", "submit", {"type": "refresh", "identifier": "feed"})
    h.advance(0)
    h.ok(5, "app", "submit", {"type": "refresh", "identifier": "feed"})  # resubmit in the handler
    h.advance(10)
    view = h.sched.tasks("app")["feed"]
    assert view["state"] == "running" and view["next"]["waiting_for"] == "identifier_running"
    h.ok(20, "app", "set_task_completed", {"identifier": "feed", "success": True})
    assert h.timeline() == [(0, "wake", "feed", None), (20, "wake", "feed", None)]


def test_cancel_one_or_all_pending_requests(harness) -> None:
    h = ios(harness)
    h.ok(0, "app", "submit", {"type": "refresh", "identifier": "feed", "earliest_begin": 100})
    h.ok(0, "app", "submit", {"type": "processing", "identifier": "a", "earliest_begin": 100})
    h.ok(0, "app", "submit", {"type": "processing", "identifier": "b", "earliest_begin": 100})
    assert h.ok(1, "app", "cancel", {"identifier": "feed"}) == {"cancelled": ["feed"]}
    assert h.ok(1, "app", "cancel", {"identifier": "nope"}) == {"cancelled": []}
    assert h.ok(2, "app", "cancel", {"all": True}) == {"cancelled": ["a", "b"]}
    assert h.error(2, "app", "cancel").code == "invalid_args"
    h.advance(1000)
    assert h.events == []
    assert h.sched.next_deadline() is None


# -- persistence ---------------------------------------------------------------------------------
def test_pending_request_survives_restart_and_wakes_once(harness) -> None:
    h = ios(harness)
    h.ok(0, "app", "submit", {"type": "refresh", "identifier": "feed", "earliest_begin": 900})
    h.ok(0, "app", "submit", {"type": "processing", "identifier": "ml", "earliest_begin": 60})
    saved = h.sched.dump()
    h2 = harness(signals=Signals(idle=True), now=30)
    h2.sched.load(saved)
    h2.advance(900)
    assert h2.timeline() == [(60, "wake", "ml", None), (900, "wake", "feed", None)]
    assert [e.seq for e in h2.events] == [1, 2]
    h2.ok(901, "app", "submit", {"type": "refresh", "identifier": "x"})  # started: quota free again


def test_started_task_survives_restart_without_second_wake(harness) -> None:
    h = ios(harness)
    h.ok(0, "app", "submit", {"type": "refresh", "identifier": "feed", "earliest_begin": 100})
    h.advance(100)
    assert len(h.events) == 1
    saved = h.sched.dump()
    h2 = harness(now=110)
    h2.sched.load(saved)
    h2.advance(100 + REFRESH_S)
    assert h2.timeline() == [(130, "expire", "feed", "time_limit")]
    assert h2.events[0].seq == 2


def test_background_window_survives_restart(harness) -> None:
    h = ios(harness)
    h.ok(0, "app", "state", {"state": "background"})
    h.ok(1, "app", "begin_background_task")
    saved = h.sched.dump()
    h2 = harness(now=2)
    h2.sched.load(saved)
    h2.advance(BG_TASK_S)
    assert h2.timeline() == [(BG_TASK_S, "expire", "bg-1", "time_limit")]
    assert h2.ok(BG_TASK_S + 1, "app", "end_background_task", {"identifier": 1})["state"] == "expired"
    assert h2.timeline()[-1][2:] == ("did_enter_background", "background_task_ended")


# -- robustness ----------------------------------------------------------------------------------
_VALUES = st.one_of(st.none(), st.booleans(), st.integers(-5, 2000), st.floats(allow_nan=True),
                    st.sampled_from(["feed", "bg-1", "refresh", "processing", "x.y", "", "all"]),
                    st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))
_ARGS = st.one_of(st.none(), st.integers(), st.dictionaries(
    st.sampled_from(["type", "identifier", "earliest_begin", "earliest_begin_delay", "earliestBeginDate",
                     "requires_external_power", "requires_network_connectivity", "success", "all",
                     "name", "task_id", "state", "background_app_refresh", "platform", "bogus"]),
    _VALUES, max_size=5))
_STEP = st.one_of(
    st.tuples(st.sampled_from(["submit", "begin_background_task", "end_background_task", "cancel",
                               "set_task_completed", "status", "crash", "register", "nope"]), _ARGS),
    st.tuples(st.just("state"), st.fixed_dictionaries({"state": st.sampled_from(
        ["foreground", "background", "suspended", "terminated"])})),
    st.tuples(st.just("begin_background_task"), st.just({})),
    st.tuples(st.just("end_background_task"), st.fixed_dictionaries({"identifier": st.integers(0, 3)})),
    st.tuples(st.just("submit"), st.fixed_dictionaries({
        "type": st.sampled_from(["refresh", "processing"]), "identifier": st.sampled_from(["a", "b"]),
        "earliest_begin_delay": st.floats(0, 100)})),
    st.tuples(st.just("set_task_completed"), st.fixed_dictionaries({
        "identifier": st.sampled_from(["a", "b"]), "success": st.booleans()})),
    st.tuples(st.just("signals"), st.fixed_dictionaries({}, optional={
        "battery_level": st.floats(0, 100), "idle": st.booleans(), "low_power_mode": st.booleans(),
        "charger": st.sampled_from(["none", "ac"]), "network": st.sampled_from(["none", "wifi"])})),
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(st.tuples(st.floats(0, 120), _STEP), max_size=30))
def test_random_requests_never_crash_and_seq_has_no_gaps(harness, steps) -> None:
    h = ios(harness)
    t = 0.0
    for dt, (verb, args) in steps:
        t += dt
        if verb == "signals":
            h.set(t, **args)
        else:
            h.request(t, "app", verb, args)
    h.advance(t + 3600)
    assert [e.seq for e in h.events] == list(range(1, len(h.events) + 1))
    assert sorted(e.t for e in h.events) == [e.t for e in h.events]


def test_reverse_dns_identifiers_work_as_real_apps_write_them(harness) -> None:
    """Apple: identifiers in BGTaskSchedulerPermittedIdentifiers use reverse-DNS notation;
    ``BGTaskScheduler.shared.submit(BGAppRefreshTaskRequest(identifier: "com.example.refresh"))``
    pasted from an app must work (issue 10)."""
    h = ios(harness)
    data = h.ok(0, "app", "submit", {"type": "refresh", "identifier": "com.example.refresh"})
    assert data["identifier"] == "com.example.refresh"
    h.ok(1, "app", "state", {"state": "background"})
    h.advance(10)
    assert ("wake", "com.example.refresh") in [(e.type, e.task_id) for e in h.events]
    h.ok(11, "app", "set_task_completed", {"identifier": "com.example.refresh", "success": True})
    h.ok(12, "app", "submit", {"type": "processing", "identifier": "com.example.Cleanup_DB"})
    assert h.ok(13, "app", "cancel", {"identifier": "com.example.Cleanup_DB"})["cancelled"] == [
        "com.example.Cleanup_DB"]


# -- issue 10: background notifications and background URLSession (seed 001) ------------------------
# seed 001: "the system delays the delivery of some pushes to limit the amount of execution while
# maintaining a frequent launch cadence. The time interval between runs was just 15 minutes"
PUSH_CADENCE_S = 900.0


def test_pushes_are_delayed_to_a_fifteen_minute_launch_cadence(harness) -> None:
    from firmware_sim.platforms.ios import IOSLimits

    assert IOSLimits().push_cadence_s == PUSH_CADENCE_S
    assert "15 minutes" in IOSLimits.source_of("push_cadence_s")
    h = ios(harness)
    h.ok(0, "app", "state", {"state": "suspended"})
    assert h.ok(10, "app", "push", {"payload": {"n": 1}})["delivered"] is True
    h.ok(20, "app", "set_task_completed", {"identifier": "background_notification", "success": True})
    later = h.ok(100, "app", "push", {"payload": {"n": 2}})
    assert later == {"delivered": False, "deliver_at": 10 + PUSH_CADENCE_S, "pending": 1}
    h.ok(200, "app", "push", {"payload": {"n": 3}})
    h.advance(10 + PUSH_CADENCE_S - 0.001)
    assert [e.t for e in h.events if e.type == "wake"] == [10]
    h.advance(10 + PUSH_CADENCE_S)
    wake = [e for e in h.events if e.type == "wake"][-1]
    assert (wake.t, wake.task_id) == (910, "background_notification")
    assert wake.data == {"type": "push", "pushes": 2, "payload": {"n": 3}}  # coalesced
    assert wake.deadline == 910 + 30  # "up to 30 seconds of wall-clock time"


def test_a_push_launch_not_completed_expires_then_terminates(harness) -> None:
    h = ios(harness)
    h.ok(0, "app", "state", {"state": "suspended"})
    h.ok(0, "app", "push")
    h.advance(100)
    assert [(e.type, e.task_id) for e in h.events] == [
        ("wake", "background_notification"), ("expire", "background_notification"),
        ("terminate", "background_notification")]


def test_no_push_for_a_swiped_away_app(harness) -> None:
    h = ios(harness)
    h.ok(0, "app", "state", {"state": "terminated"})
    assert h.ok(1, "app", "push")["delivered"] is False
    h.advance(3600)
    assert h.events == []


def test_background_url_session_completion_launches_the_app(harness) -> None:
    """seed 001: "when the download finishes, the system resumes the app and calls the
    UIApplicationDelegate method ... handleEventsForBackgroundURLSession"."""
    h = ios(harness)
    data = h.ok(0, "app", "url_session_download", {"session": "com.example.MySession", "duration": 120})
    assert data == {"session": "com.example.MySession", "completes_at": 120}
    h.ok(1, "app", "state", {"state": "suspended"})
    h.advance(120)
    assert h.timeline() == [(120, "wake", "com.example.MySession", None)]
    assert h.events[0].data == {"type": "url_session", "launched": True}
    h.ok(125, "app", "set_task_completed", {"identifier": "com.example.MySession", "success": True})
    h.advance(3600)
    assert len(h.events) == 1


def test_url_session_completion_in_the_foreground_needs_no_launch(harness) -> None:
    h = ios(harness)
    h.ok(0, "app", "url_session_download", {"session": "dl", "duration": 60})
    h.advance(3600)
    assert h.timeline() == [(60, "wake", "dl", None)]
    assert h.events[0].data == {"type": "url_session", "launched": False}
    assert h.events[0].deadline is None


def test_waiting_pushes_and_transfers_survive_a_restart(harness) -> None:
    h = ios(harness)
    h.ok(0, "app", "state", {"state": "suspended"})
    h.ok(0, "app", "push")
    h.ok(40, "app", "push")
    h.ok(40, "app", "url_session_download", {"session": "dl", "duration": 2000})
    saved = h.sched.dump()
    h2 = harness(now=50)
    h2.sched.load(saved)
    h2.advance(3000)
    assert [(e.t, e.type, e.task_id) for e in h2.events if e.type == "wake"] == [
        (PUSH_CADENCE_S, "wake", "background_notification"), (2040, "wake", "dl")]
