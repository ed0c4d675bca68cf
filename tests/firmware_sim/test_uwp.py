"""UWP ExtendedExecutionSession: one per app, battery-aware, revocable (seed 002, reference §4)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from firmware_sim import ConfigError, Scheduler, Signals
from firmware_sim.platforms.uwp import UWPLimits

# seed 002: "If the device is on battery power, the extended execution time period can run up to
# ten minutes in the background." / "If the device is connected to wall power, there is no limit"
BATTERY_S = 600.0
# platform-budgets.md §4: "SavingData 2 (≤10 min)"
SAVING_S = 600.0
# seed 002: "the app has one second to complete the operation it was performing"
SAVING_GRACE_S = 1.0
DAY = 86400.0

ON_BATTERY = Signals(charger="none", battery_level=70)
ON_WALL = Signals(charger="ac", battery_level=70)


def uwp(harness, signals: Signals = ON_BATTERY, apps=("app",), **kwargs):
    register = kwargs.pop("register", {})
    h = harness(signals=signals, **kwargs)
    for app in apps:
        h.ok(0, app, "register", {"platform": "uwp", **register})
    return h


def request(h, t, reason="unspecified", app="app"):
    return h.ok(t, app, "request_extension", {"reason": reason})


def test_limits_are_sourced() -> None:
    limits = UWPLimits()
    assert limits.unspecified_battery_s == BATTERY_S
    assert "up to ten minutes" in UWPLimits.source_of("unspecified_battery_s")
    assert limits.saving_data_s == SAVING_S
    assert limits.saving_data_revoke_grace_s == SAVING_GRACE_S
    assert "one second" in UWPLimits.source_of("saving_data_revoke_grace_s")
    assert limits.device_family == "desktop"


def test_unknown_device_family_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="device_family"):
        Scheduler(limits={"uwp": {"device_family": "hololens"}})


# -- one session per app -------------------------------------------------------------------------
def test_second_session_while_active_is_error_0x8007139f(harness) -> None:
    """seed 002: "attempting to create another session while an approved session request is
    currently active will cause exception 0x8007139F"."""
    h = uwp(harness)
    first = request(h, 0)
    assert first == {"result": "allowed", "session_id": "session-1", "reason": "unspecified",
                     "deadline": None}
    err = h.error(1, "app", "request_extension", {"reason": "saving_data"})
    assert err.code == "0x8007139F"
    assert "session-1" in err.error
    h.ok(2, "app", "dispose", {"session_id": "session-1"})
    assert request(h, 3)["session_id"] == "session-2"
    assert h.timeline() == [(0, "wake", "session-1", None), (3, "wake", "session-2", None)]


def test_revoked_session_not_yet_disposed_is_replaced_by_a_new_request(harness) -> None:
    h = uwp(harness)
    request(h, 0)
    h.ok(1, "app", "state", {"state": "background"})
    h.advance(1 + BATTERY_S)
    h.ok(1000, "app", "state", {"state": "foreground"})
    assert request(h, 1001)["result"] == "allowed"
    assert list(h.sched.tasks("app")) == ["session-2"]


@pytest.mark.parametrize("access", ["denied", "DeniedByUser", 6, "denied_by_system_policy"])
def test_denied_background_access_gives_result_denied(harness, access) -> None:
    """reference §4: BackgroundAccessStatus Denied 3, DeniedBySystemPolicy 6, DeniedByUser 7."""
    h = uwp(harness, register={"background_access": access})
    data = request(h, 0)
    assert data["result"] == "denied" and data["session_id"] is None
    assert data["denied_because"].startswith("background_access_denied")
    assert h.events == []


def test_unknown_background_access_is_an_argument_error(harness) -> None:
    h = harness()
    err = h.error(0, "app", "register", {"platform": "uwp", "background_access": "sometimes"})
    assert err.code == "invalid_args" and "background_access" in err.error


def test_bad_reason_is_an_argument_error(harness) -> None:
    h = uwp(harness)
    assert h.error(0, "app", "request_extension", {"reason": "gaming"}).code == "invalid_args"
    assert h.ok(0, "app", "request_extension", {"reason": "SavingData"})["reason"] == "saving_data"


# -- unspecified: battery-aware ------------------------------------------------------------------
def test_unspecified_on_wall_power_is_unlimited(harness) -> None:
    """seed 002: "If the device is connected to wall power, there is no limit"."""
    h = uwp(harness, ON_WALL)
    request(h, 0)
    h.ok(1, "app", "state", {"state": "background"})
    h.advance(DAY)
    assert [e.type for e in h.events] == ["wake"]
    assert h.sched.tasks("app")["session-1"]["deadline"] is None


def test_unspecified_on_battery_gets_ten_minutes_in_the_background(harness) -> None:
    """seed 002: "the extended execution time period can run up to ten minutes in the background"."""
    h = uwp(harness)
    request(h, 0)
    h.advance(3600)  # foreground time does not count
    h.ok(3600, "app", "state", {"state": "background"})
    assert h.sched.tasks("app")["session-1"]["deadline"] == 3600 + BATTERY_S
    assert h.advance(3600 + BATTERY_S - 0.001) == []
    h.advance(3600 + BATTERY_S)
    assert h.timeline()[-1] == (4200, "revoke", "session-1", "system_policy")
    assert h.events[-1].data == {"revoked_reason": "SystemPolicy", "revoked_reason_value": 1}
    assert h.sched.apps["app"].state == "suspended"  # no session: eligible for suspension
    h.advance(DAY)
    assert [e.type for e in h.events] == ["wake", "revoke"]  # no terminate for unspecified


def test_unplug_mid_session_starts_the_ten_minutes_then(harness) -> None:
    h = uwp(harness, ON_WALL)
    request(h, 0)
    h.ok(1, "app", "state", {"state": "background"})
    h.set(3600, charger="none")
    assert h.sched.tasks("app")["session-1"]["deadline"] == 3600 + BATTERY_S
    assert h.advance(3600 + BATTERY_S - 0.001) == []
    h.advance(3600 + BATTERY_S)
    assert h.timeline()[-1] == (4200, "revoke", "session-1", "system_policy")


def test_replug_before_the_end_makes_it_unlimited_and_next_unplug_starts_afresh(harness) -> None:
    h = uwp(harness, ON_WALL)
    request(h, 0)
    h.ok(1, "app", "state", {"state": "background"})
    h.set(100, charger="none")
    h.set(100 + BATTERY_S - 1, charger="usb")  # any charger counts as wall power
    assert h.sched.tasks("app")["session-1"]["deadline"] is None
    h.advance(5000)
    assert [e.type for e in h.events] == ["wake"]
    h.set(5000, charger="none")
    assert h.advance(5000 + BATTERY_S - 0.001) == []
    h.advance(5000 + BATTERY_S)
    assert h.timeline()[-1] == (5600, "revoke", "session-1", "system_policy")


def test_plug_cycle_moves_an_earlier_deadline_to_ten_minutes_after_the_last_unplug(harness) -> None:
    h = uwp(harness)
    request(h, 0)
    h.ok(100, "app", "state", {"state": "background"})  # on battery: due at 700
    h.set(200, charger="ac")
    h.set(300, charger="none")
    assert h.sched.tasks("app")["session-1"]["deadline"] == 300 + BATTERY_S
    assert h.advance(300 + BATTERY_S - 0.001) == []
    h.advance(300 + BATTERY_S)
    assert h.timeline()[-1] == (900, "revoke", "session-1", "system_policy")


def test_each_app_counts_from_the_later_of_unplug_and_leaving_the_foreground(harness) -> None:
    h = uwp(harness, ON_WALL, apps=("early", "late"))
    request(h, 0, app="early")
    request(h, 0, app="late")
    h.ok(10, "early", "state", {"state": "background"})
    h.set(100, charger="none")
    h.ok(400, "late", "state", {"state": "background"})
    h.ok(450, "late", "state", {"state": "foreground"})
    h.ok(500, "late", "state", {"state": "background"})  # a fresh 10 minutes
    h.advance(100 + BATTERY_S)
    assert [t for t in h.timeline() if t[1] == "revoke"] == [(700, "revoke", "session-1", "system_policy")]
    assert h.events[-1].app == "early"
    assert h.advance(500 + BATTERY_S - 0.001) == []
    h.advance(500 + BATTERY_S)
    assert h.events[-1].app == "late" and h.events[-1].t == 1100


def test_session_started_on_battery_then_plugged_in_loses_its_deadline(harness) -> None:
    h = uwp(harness)
    request(h, 0)
    h.ok(0, "app", "state", {"state": "background"})
    assert h.sched.tasks("app")["session-1"]["deadline"] == BATTERY_S
    h.set(BATTERY_S - 0.001, charger="ac")
    h.advance(DAY)
    assert [e.type for e in h.events] == ["wake"]


def test_always_allowed_app_is_unlimited_on_battery(harness) -> None:
    """seed 002: with "Allow the app to run background tasks" a laptop user "can get the same long
    running behavior"."""
    h = uwp(harness, register={"background_access": "AlwaysAllowed"})
    request(h, 0)
    h.ok(1, "app", "state", {"state": "background"})
    h.advance(DAY)
    assert [e.type for e in h.events] == ["wake"]


def test_unspecified_requested_in_background_is_denied(harness) -> None:
    """seed 002: "SavingData is the only type of ExtendedExecutionSession that can be requested in
    the Suspending state"."""
    h = uwp(harness)
    h.ok(0, "app", "state", {"state": "background"})
    data = request(h, 1)
    assert data["result"] == "denied" and data["denied_because"] == "not_in_foreground"


# -- connected standby ---------------------------------------------------------------------------
def test_desktop_lock_screen_alone_keeps_the_session(harness) -> None:
    """seed 002: "On desktop devices, the session will continue running if the lock screen
    appears"; Connected Standby comes later (screen_locked + idle)."""
    h = uwp(harness, ON_WALL)
    request(h, 0)
    h.ok(1, "app", "state", {"state": "background"})
    assert h.set(10, screen_locked=True) == []
    h.set(20, idle=True)
    assert h.timeline()[-1] == (20, "revoke", "session-1", "connected_standby")
    assert h.events[-1].data["revoked_reason"] == "SystemPolicy"


def test_mobile_enters_connected_standby_when_the_screen_turns_off(harness) -> None:
    """seed 002: "When the screen turns off, the device immediately attempts to enter the
    low-power Connected-Standby mode"."""
    h = uwp(harness, ON_WALL, limits={"uwp": {"device_family": "mobile"}})
    request(h, 0)
    h.set(10, screen_locked=True)
    assert h.timeline()[-1] == (10, "revoke", "session-1", "connected_standby")
    h.ok(11, "app", "dispose")
    assert request(h, 12)["denied_because"] == "connected_standby"


def test_connected_standby_spares_other_reasons(harness) -> None:
    """seed 002: "this kind of extended execution session [Unspecified] stops when the device
    enters Connected Standby"."""
    h = uwp(harness, ON_WALL, apps=("loc", "save"))
    request(h, 0, "location_tracking", app="loc")
    request(h, 0, "saving_data", app="save")
    assert h.set(10, screen_locked=True, idle=True) == []


# -- location_tracking ---------------------------------------------------------------------------
def test_location_tracking_foreground_only_unlimited_one_per_device(harness) -> None:
    """reference §4: "LocationTracking 1 (unlimited, one app per device)"."""
    h = uwp(harness, apps=("maps", "run"))
    h.ok(0, "run", "state", {"state": "background"})
    assert request(h, 0, "location_tracking", app="run")["denied_because"] == "not_in_foreground"
    assert request(h, 1, "LocationTracking", app="maps")["result"] == "allowed"
    h.ok(2, "maps", "state", {"state": "background"})
    h.ok(3, "run", "state", {"state": "foreground"})
    assert request(h, 4, 1, app="run")["denied_because"] == "location_tracking_held_by_maps"
    h.advance(DAY)
    assert h.timeline() == [(0, "wake", "suspending", None),  # run's Suspending, ended at 3 s
                            (1, "wake", "session-1", None)]  # on battery, still unlimited
    h.ok(DAY, "maps", "dispose")
    assert request(h, DAY + 1, "location_tracking", app="run")["result"] == "allowed"


# -- saving_data ---------------------------------------------------------------------------------
def test_saving_data_while_suspending_revoked_at_ten_minutes_then_terminated(harness) -> None:
    """reference §4: SavingData ≤10 min; seed 002: after its revoke "the app has one second"."""
    h = uwp(harness, ON_WALL)
    h.ok(0, "app", "state", {"state": "background"})
    data = request(h, 4, "saving_data")  # inside the 5 s Suspending window
    assert data["result"] == "allowed" and data["deadline"] == 4 + SAVING_S
    assert h.advance(4 + SAVING_S - 0.001) == []
    h.advance(4 + SAVING_S)
    assert h.timeline()[-1] == (604, "revoke", "session-1", "system_policy")
    assert h.advance(604 + SAVING_GRACE_S - 0.001) == []
    h.advance(604 + SAVING_GRACE_S)
    assert h.timeline()[-1] == (605, "terminate", "session-1", "not_disposed")
    assert h.sched.apps["app"].state == "terminated"


def test_saving_data_disposed_within_one_second_is_not_terminated(harness) -> None:
    h = uwp(harness)
    h.ok(0, "app", "state", {"state": "background"})  # Suspending: a suspended app is denied
    request(h, 0, "saving_data")
    h.advance(SAVING_S)
    data = h.ok(SAVING_S + SAVING_GRACE_S - 0.001, "app", "dispose")
    assert data["state"] == "revoked"
    h.advance(DAY)
    assert [(e.type, e.task_id) for e in h.events] == [
        ("wake", "suspending"), ("wake", "session-1"), ("revoke", "session-1")]
    assert h.sched.apps["app"].state == "suspended"  # the extension ended: "without further
    # notification" (seed 002), no expire of the Suspending event


def test_saving_data_requested_in_background_is_revoked_resumed_on_foreground(harness) -> None:
    """reference §4: ExtendedExecutionRevokedReason Resumed 0; seed 002's sample handler:
    "Extended execution revoked due to returning to foreground." — with ``saving_data_relaunch:
    revoke`` (the default waits: seed 002:44, test_seed_rules.py)."""
    h = uwp(harness, limits={"uwp": {"saving_data_relaunch": "revoke"}})
    h.ok(0, "app", "state", {"state": "background"})
    request(h, 1, "saving_data")
    assert h.ok(30, "app", "state", {"state": "foreground"})["state"] == "foreground"
    assert h.timeline()[-1] == (30, "revoke", "session-1", "resumed")
    assert h.events[-1].data == {"revoked_reason": "Resumed", "revoked_reason_value": 0}
    h.advance(DAY)
    assert [e.type for e in h.events] == ["wake", "wake", "revoke"]  # no terminate in the foreground
    assert h.sched.apps["app"].state == "foreground"


def test_session_requested_in_foreground_is_not_revoked_on_return(harness) -> None:
    h = uwp(harness)
    request(h, 0)
    h.ok(1, "app", "state", {"state": "background"})
    h.ok(2, "app", "state", {"state": "foreground"})
    h.advance(DAY)
    assert [e.type for e in h.events] == ["wake"]


# -- dispose / lifecycle / persistence -----------------------------------------------------------
def test_dispose_unknown_session_is_an_error(harness) -> None:
    h = uwp(harness)
    assert h.error(0, "app", "dispose").code == "unknown_task"
    request(h, 1)
    err = h.error(2, "app", "dispose", {"session_id": "session-9"})
    assert err.code == "unknown_task" and "session-1" in err.error


def test_dispose_in_background_lets_the_app_suspend(harness) -> None:
    """seed 002: "When the extension is disposed, the application becomes eligible for
    suspension again"."""
    h = uwp(harness)
    request(h, 0)
    h.ok(1, "app", "state", {"state": "background"})
    h.ok(2, "app", "dispose")
    assert h.sched.apps["app"].state == "suspended"
    h.advance(DAY)
    assert h.sched.next_deadline() is None


def test_terminated_app_loses_its_session_silently(harness) -> None:
    h = uwp(harness, apps=("a", "b"))
    request(h, 0, "location_tracking", app="a")
    h.ok(1, "a", "state", {"state": "terminated"})
    assert h.sched.tasks("a") == {}
    assert request(h, 2, "location_tracking", app="b")["result"] == "allowed"


def test_sessions_do_not_survive_a_restart_but_ids_are_not_reused(harness) -> None:
    h = uwp(harness)
    request(h, 0)
    saved = h.sched.dump()
    h2 = harness(signals=ON_BATTERY, now=10)
    h2.sched.load(saved)
    assert h2.sched.tasks("app") == {}
    assert h2.ok(11, "app", "request_extension")["session_id"] == "session-2"


# -- robustness ----------------------------------------------------------------------------------
_STEP = st.one_of(
    st.tuples(st.just("request_extension"), st.one_of(
        st.fixed_dictionaries({"reason": st.sampled_from(["unspecified", "location_tracking",
                                                          "saving_data", 0, 2, "LocationTracking"])}),
        st.dictionaries(st.sampled_from(["reason", "description", "bogus"]),
                        st.one_of(st.none(), st.integers(-1, 4), st.text(max_size=4), st.booleans(), st.just([1])),
                        max_size=2),
        st.integers())),
    st.tuples(st.just("dispose"), st.one_of(st.just({}), st.fixed_dictionaries(
        {"session_id": st.sampled_from(["session-1", "session-2", "x y", 3])}))),
    st.tuples(st.just("state"), st.fixed_dictionaries({"state": st.sampled_from(
        ["foreground", "background", "suspended", "terminated"])})),
    st.tuples(st.just("register"), st.fixed_dictionaries({"platform": st.just("uwp")}, optional={
        "background_access": st.sampled_from(["always_allowed", "denied", 5, "nope", None, [], {}])})),
    st.tuples(st.sampled_from(["crash", "status", "nope"]), st.just({})),
    st.tuples(st.just("signals"), st.fixed_dictionaries({}, optional={
        "charger": st.sampled_from(["none", "ac", "usb"]), "screen_locked": st.booleans(),
        "idle": st.booleans()})),
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(family=st.sampled_from(["desktop", "mobile", "xbox"]),
       steps=st.lists(st.tuples(st.floats(0, 400), st.sampled_from(["a", "b"]), _STEP), max_size=30))
def test_random_requests_never_crash_and_seq_has_no_gaps(harness, family, steps) -> None:
    h = uwp(harness, apps=("a", "b"), limits={"uwp": {"device_family": family}})
    t = 0.0
    for dt, app, (verb, args) in steps:
        t += dt
        if verb == "signals":
            h.set(t, **args)
        else:
            h.request(t, app, verb, args)
        holders = [a for a in ("a", "b") if any(
            v["reason"] == "location_tracking" and v["state"] == "active" for v in h.sched.tasks(a).values())]
        assert len(holders) <= 1  # one location_tracking session per device
    h.advance(t + 3600)
    for app in ("a", "b"):
        seqs = [e.seq for e in h.events if e.app == app]
        assert seqs == list(range(1, len(seqs) + 1))


# -- issue 10: device families, access revoked, SavingData when suspended -----------------------
# seed 002: "On the Xbox OS Edition, the device enters Connect Standby after one hour unless the
# user changes the default."
XBOX_STANDBY_S = 3600.0


def test_xbox_is_a_device_family_and_other_names_are_config_errors() -> None:
    assert "after one hour" in UWPLimits.source_of("xbox_standby_s")
    assert UWPLimits().xbox_standby_s == XBOX_STANDBY_S
    assert Scheduler(limits={"uwp": {"device_family": "xbox"}}).limits("uwp").device_family == "xbox"
    with pytest.raises(ConfigError, match="one of desktop, mobile, xbox"):
        UWPLimits().with_overrides({"device_family": "hololens"})


def test_xbox_enters_connected_standby_after_one_hour_idle(harness) -> None:
    """seed 002: "On the Xbox OS Edition, the device enters Connect Standby after one hour"."""
    h = uwp(harness, ON_WALL, limits={"uwp": {"device_family": "xbox"}})
    request(h, 0)
    h.ok(1, "app", "state", {"state": "background"})
    h.set(100, screen_locked=True, idle=True)
    assert h.advance(100 + XBOX_STANDBY_S - 0.001) == []
    h.advance(100 + XBOX_STANDBY_S)
    assert h.timeline()[-1] == (3700, "revoke", "session-1", "connected_standby")


def test_xbox_standby_clock_restarts_when_the_user_returns(harness) -> None:
    h = uwp(harness, ON_WALL, limits={"uwp": {"device_family": "xbox", "xbox_standby_s": 7200}})
    request(h, 0)
    h.set(0, idle=True)
    h.set(7000, idle=False)  # "unless the user changes the default": an override
    h.set(7100, idle=True)
    assert h.advance(7100 + 7200 - 0.001) == []
    h.advance(7100 + 7200)
    assert h.timeline()[-1][1:] == ("revoke", "session-1", "connected_standby")


def test_xbox_unspecified_has_no_battery_limit(harness) -> None:
    h = uwp(harness, ON_BATTERY, limits={"uwp": {"device_family": "xbox"}})
    request(h, 0)
    h.ok(1, "app", "state", {"state": "background"})
    h.advance(DAY)
    assert [e.type for e in h.events] == ["wake"]


def test_mobile_unspecified_runs_as_long_as_the_screen_is_on(harness) -> None:
    """seed 002: "On mobile devices running Windows 10 Mobile, this kind of extended execution
    session will run as long as the screen is on" — the 10-minute battery limit is desktop's
    ("On desktop devices, ... have a battery-aware time limit")."""
    h = uwp(harness, ON_BATTERY, limits={"uwp": {"device_family": "mobile"}})
    request(h, 0)
    h.ok(1, "app", "state", {"state": "background"})
    assert h.sched.tasks("app")["session-1"]["deadline"] is None
    h.advance(DAY)
    assert [e.type for e in h.events] == ["wake"]
    h.set(DAY + 5, screen_locked=True)
    assert h.timeline()[-1] == (DAY + 5, "revoke", "session-1", "connected_standby")


def test_background_access_switched_off_mid_session_revokes_it(harness) -> None:
    """seed 002: the Revoked handler is required "so that an extended execution session can
    halt gracefully if the user, or the system, decides that the app can no longer run in the
    background"."""
    h = uwp(harness, ON_WALL)
    request(h, 0)
    h.ok(1, "app", "state", {"state": "background"})
    h.ok(50, "app", "register", {"platform": "uwp", "background_access": "denied_by_user"})
    assert h.timeline()[-1] == (50, "revoke", "session-1", "background_access_denied")
    assert h.events[-1].data["revoked_reason"] == "SystemPolicy"
    assert h.sched.apps["app"].state == "suspended"
    h.advance(DAY)
    assert [e.type for e in h.events] == ["wake", "revoke"]


def test_saving_data_is_refused_to_an_app_already_suspended(harness) -> None:
    """seed 002: "A ExtendedExecutionReason.SavingData extended execution session can be
    requested either when the app is in the foreground and in the Running state, or in the
    background and in the Suspending state"."""
    h = uwp(harness)
    h.ok(0, "app", "state", {"state": "background"})
    assert request(h, 1, "saving_data")["result"] == "allowed"
    h.ok(2, "app", "dispose")
    assert h.sched.apps["app"].state == "suspended"
    data = request(h, 3, "saving_data")
    assert data["result"] == "denied" and data["denied_because"] == "app_suspended"


# -- issue 10: energy quota and memory pressure (seed 002) ---------------------------------------
# seed 002: "Revocation can occur for many reasons: an execution time limit was reached, a
# background energy quota was reached, or memory needs to be reclaimed in order for the user to
# open a new app in the foreground."
QUOTA = {"uwp": {"energy_quota_s": 900, "device_family": "mobile"}}  # mobile: no 10-min limit


def test_energy_quota_is_labelled_and_off_by_default() -> None:
    assert UWPLimits().energy_quota_s == 0
    assert "a background energy quota was reached" in UWPLimits.source_of("energy_quota_s")
    assert "UNCONFIRMED" in UWPLimits.source_of("energy_quota_s")


def test_energy_quota_reached_revokes_the_session(harness) -> None:
    h = uwp(harness, limits=QUOTA)
    request(h, 0)
    h.ok(100, "app", "state", {"state": "background"})
    assert h.advance(100 + 900 - 0.001) == []
    h.advance(1000)
    assert h.timeline()[-1] == (1000, "revoke", "session-1", "energy_quota")
    assert h.events[-1].data["revoked_reason"] == "SystemPolicy"
    h.ok(1001, "app", "dispose")
    h.ok(1002, "app", "state", {"state": "foreground"})
    assert request(h, 1003)["denied_because"] == "energy_quota_exhausted"
    assert request(h, 1003 + DAY)["result"] == "allowed"  # a new window


def test_disposing_early_leaves_more_quota_for_later_sessions(harness) -> None:
    """seed 002: "Disposing of the session yourself, rather than waiting for the revocation
    event, reduces your app's energy quota usage. This means that your app will be permitted to
    run in the background longer in future sessions"."""
    h = uwp(harness, apps=("tidy", "lazy"), limits=QUOTA)
    for app in ("tidy", "lazy"):
        request(h, 0, app=app)
        h.ok(0, app, "state", {"state": "background"})
    h.ok(300, "tidy", "dispose")       # done after 5 minutes: disposes at once
    h.ok(300, "lazy", "reclaim_memory")  # revoked; it waits 5 more minutes before disposing
    assert h.timeline("lazy")[-1] == (300, "revoke", "session-1", "memory_pressure")
    h.ok(600, "lazy", "dispose")
    for app in ("tidy", "lazy"):
        h.ok(700, app, "state", {"state": "foreground"})
        request(h, 700, app=app)
        h.ok(700, app, "state", {"state": "background"})
    h.advance(DAY - 1)
    revoked = {e.app: e.t for e in h.events if e.type == "revoke" and e.task_id == "session-2"}
    assert revoked == {"lazy": 700 + 300, "tidy": 700 + 600}


def test_quota_is_not_used_on_wall_power(harness) -> None:
    h = uwp(harness, ON_WALL, limits=QUOTA)
    request(h, 0)
    h.ok(1, "app", "state", {"state": "background"})
    h.advance(DAY - 1)
    assert [e.type for e in h.events] == ["wake"]
    assert h.ok(DAY - 1, "app", "status")["energy_quota_left_s"] == 900


def test_reclaim_memory_spares_the_foreground_app(harness) -> None:
    h = uwp(harness)
    request(h, 0)
    assert h.ok(1, "app", "reclaim_memory") == {"revoked": None}
    assert [e.type for e in h.events] == ["wake"]


# -- suspension and relaunch (seed 002:5, 002:44) ------------------------------------------------
def test_suspension_limits_are_sourced() -> None:
    """seed 002: "When the user minimizes or switches away from an app it is put into a suspended
    state." — the seed gives no time; Application.Suspending: "the Suspending event handler has
    only 5 seconds to complete its operation"."""
    limits = UWPLimits()
    assert limits.suspending_s == 5.0
    assert "only 5 seconds" in UWPLimits.source_of("suspending_s")
    assert limits.saving_data_relaunch == "wait"
    assert "must complete before the old instance" in UWPLimits.source_of("saving_data_relaunch")
    with pytest.raises(ConfigError, match="saving_data_relaunch"):
        Scheduler(limits={"uwp": {"saving_data_relaunch": "later"}})


def test_a_longer_suspending_window_is_honoured_and_a_crash_ends_it(harness) -> None:
    h = uwp(harness, limits={"uwp": {"suspending_s": 30}})
    h.ok(0, "app", "state", {"state": "background"})
    assert h.events[-1].deadline == 30
    assert request(h, 29, "saving_data")["result"] == "allowed"  # still Suspending at 29 s
    h.ok(40, "app", "dispose")
    assert h.sched.apps["app"].state == "suspended"
    h2 = uwp(harness)
    h2.ok(0, "app", "state", {"state": "background"})
    h2.ok(1, "app", "crash")
    h2.advance(DAY)
    assert [e.type for e in h2.events] == ["wake"] and h2.sched.apps["app"].state == "terminated"


def test_a_relaunch_that_the_user_abandons_does_not_bring_the_app_back(harness) -> None:
    h = uwp(harness, ON_WALL)
    h.ok(0, "app", "state", {"state": "background"})
    request(h, 1, "saving_data")
    h.ok(10, "app", "state", {"state": "foreground"})  # waits for the save
    h.ok(20, "app", "state", {"state": "terminated"})  # the user closes it meanwhile
    assert h.ok(21, "app", "status")["relaunch_pending"] is False
    h.advance(DAY)
    assert h.sched.apps["app"].state == "terminated"


def test_an_app_left_suspending_is_still_suspended_after_a_restart(harness) -> None:
    h = uwp(harness)
    h.ok(0, "app", "state", {"state": "background"})  # Suspending until 5 s
    saved = h.sched.dump()
    h2 = harness(signals=ON_BATTERY, now=60)
    h2.sched.load(saved)
    h2.sched.resume(60.0, ON_BATTERY)
    assert h2.sched.apps["app"].state == "suspended"
    assert h2.sched.dump() != saved and h2.sched.next_deadline() is None
