"""HarmonyOS workScheduler deferred tasks (seed 004, reference §3, OpenHarmony sources)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware_sim import Scheduler, Signals
from firmware_sim.platforms.harmonyos import HarmonyOSLimits

MIN = 60.0
HOUR = 3600.0
CYCLE_MS = 1_200_000  # seed 004: "For repeated tasks, repeatCycleTime must be at least 20 minutes."
CYCLE = CYCLE_MS / 1000
CALLBACK = 120.0  # seed 004: "can run for a maximum of 2 minutes for a single callback"
BUNDLE = "com.example.mail"
PLUGGED = {"charger": "ac", "network": "wifi", "battery_level": 80.0}


def work(work_id: int = 1, **fields: Any) -> dict[str, Any]:
    """A WorkInfo in snake_case; at least one condition must be added by the caller."""
    return {"work_id": work_id, "bundle_name": BUNDLE, "ability_name": "MailWork", **fields}


def repeating(work_id: int = 1, **fields: Any) -> dict[str, Any]:
    return work(work_id, is_repeat=True, repeat_cycle_time=CYCLE_MS, **fields)


def setup(harness: Any, signals: dict[str, Any] | None = None, **register: Any) -> Any:
    h = harness(Signals().updated(signals or PLUGGED))
    h.ok(0, "mail", "register", {"platform": "harmonyos", **register})
    return h


def wakes(h: Any) -> list[float]:
    return [e.t for e in h.events if e.type == "wake"]


# -- limits --------------------------------------------------------------------------------------


def test_limits_quote_seed_004() -> None:
    lim = HarmonyOSLimits()
    assert lim.max_works_per_app == 10  # "a maximum of 10 deferred tasks"
    assert lim.min_repeat_cycle_ms == CYCLE_MS
    assert lim.callback_s == CALLBACK
    assert (lim.privileged_charging_s, lim.privileged_battery_s) == (1200.0, 600.0)
    # Table 1: 2 h / 4 h / 24 h / 48 h / forbidden / forbidden / no restriction
    assert [lim.interval_s(g) for g in ("active", "frequently_used", "neither", "rarely_used",
                                        "restricted", "never_used", "exempt")] == [
        2 * HOUR, 4 * HOUR, 24 * HOUR, 48 * HOUR, None, None, 0.0]
    for name in ("max_works_per_app", "min_repeat_cycle_ms", "callback_s", "interval_active_s",
                 "privileged_charging_s", "privileged_battery_s"):
        assert "seed 004" in HarmonyOSLimits.source_of(name)
    assert "battery_notify.cpp" in HarmonyOSLimits.source_of("battery_low_level")


# -- onWorkStart / onWorkStop timeout ------------------------------------------------------------


def test_start_work_wakes_at_once_with_two_minute_deadline(harness) -> None:
    h = setup(harness)
    data = h.ok(10, "mail", "start_work", work(network_type="wifi"))
    assert data["state"] == "running"
    assert h.timeline() == [(10, "wake", "1", None)]
    assert h.events[0].deadline == 10 + CALLBACK
    assert h.events[0].data["work_info"]["network_type"] == "wifi"


def test_expire_exactly_at_two_minutes_and_one_shot_is_removed(harness) -> None:
    h = setup(harness)
    h.ok(0, "mail", "start_work", work(network_type="wifi"))
    assert h.advance(CALLBACK - 0.001) == []
    h.advance(CALLBACK)
    assert h.timeline()[-2] == (CALLBACK, "expire", "1", "timeout")  # then terminate (issue 10)
    # a non-repeating work runs at most once (WorkPolicyManager::StopWork removes it)
    assert h.error(CALLBACK, "mail", "is_last_work_time_out", {"work_id": 1}).code == "9700004"
    assert h.ok(CALLBACK, "mail", "obtain_all_works")["works"] == []


def test_is_last_work_time_out_answers_from_the_last_run(harness) -> None:
    h = setup(harness, group="exempt")
    h.ok(0, "mail", "start_work", repeating())
    h.advance(CYCLE)
    assert wakes(h) == [CYCLE]
    h.advance(CYCLE + CALLBACK)
    assert h.ok(CYCLE + CALLBACK, "mail", "is_last_work_time_out", {"workId": 1})["timed_out"] is True
    h.advance(2 * CYCLE)  # next cycle: 20 min after the last start (baseTime_ at start)
    assert wakes(h) == [CYCLE, 2 * CYCLE]
    h.ok(2 * CYCLE + 5, "mail", "stop_work", {"work_id": 1})
    assert h.ok(2 * CYCLE + 5, "mail", "is_last_work_time_out", {"work_id": 1})["timed_out"] is False


def test_stop_work_ends_the_callback_without_an_event(harness) -> None:
    h = setup(harness)
    h.ok(0, "mail", "start_work", work(network_type="wifi"))
    data = h.ok(30, "mail", "stop_work", {"work": work(network_type="wifi"), "need_cancel": False})
    assert data == {"work_id": 1, "stopped": True, "removed": True}
    h.advance(HOUR)
    assert [e.type for e in h.events] == ["wake"]


def test_stop_work_need_cancel_removes_a_waiting_repeating_work(harness) -> None:
    h = setup(harness)
    h.ok(0, "mail", "start_work", repeating())
    assert h.ok(60, "mail", "stop_work", {"work_id": 1})["removed"] is False
    assert h.ok(60, "mail", "stop_work", {"work_id": 1, "need_cancel": True})["removed"] is True
    h.advance(10 * HOUR)
    assert h.events == []


# -- validation and error codes ------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        {"bundle_name": BUNDLE, "ability_name": "A", "network_type": "wifi"},  # no work_id
        work(-1, network_type="wifi"),
        work("1", network_type="wifi"),  # type: ignore[arg-type]
        {"work_id": 1, "ability_name": "A", "network_type": "wifi"},  # no bundle_name
        work(ability_name="", network_type="wifi"),
        work(network_type="5g"),
        work(network_type=6),
        work(charger_type="ac", is_charging=False),
        work(battery_level=101),
        work(battery_status=3),
        work(storage_request="full"),
        work(is_charging="yes"),
        work(network_type="wifi", parameters={"nested": {"a": 1}}),
        work(network_type="wifi", colour="blue"),
        work(is_repeat=True),  # isRepeat without repeatCycleTime
        work(repeat_count=3),
        work(repeat_cycle_time=CYCLE_MS),  # neither isRepeat nor repeatCount: ignored on device
        work(network_type="wifi", idle_wait_time=1000),
        work(),  # "At least one condition must be set"
        "not an object",
    ],
)
def test_parameter_errors_are_401(harness, args: Any) -> None:
    h = setup(harness)
    response = h.error(0, "mail", "start_work", args)
    assert response.code == "401", response
    assert response.error


def test_no_condition_names_the_rule(harness) -> None:
    h = setup(harness)
    response = h.error(0, "mail", "start_work", work())
    assert response.code == "401"
    assert "condition cannot be empty" in response.error


def test_repeat_cycle_boundary_20_minutes(harness) -> None:
    h = setup(harness)
    short = h.error(0, "mail", "start_work", work(1, is_repeat=True, repeat_cycle_time=CYCLE_MS - 1))
    assert short.code == "9700005"  # E_REPEAT_CYCLE_TIME_ERR: "StartWork failed. ... 20 minutes."
    assert "repeat_cycle_time" in short.error
    h.ok(0, "mail", "start_work", work(2, is_repeat=True, repeat_cycle_time=CYCLE_MS))


def test_eleventh_work_fails_with_9700005(harness) -> None:
    h = setup(harness)
    for i in range(10):  # seed 004: "a maximum of 10 deferred tasks"
        h.ok(0, "mail", "start_work", repeating(i))
    response = h.error(0, "mail", "start_work", repeating(10))
    assert response.code == "9700005"
    assert "10 works" in response.error


def test_duplicate_work_id_fails_with_9700005(harness) -> None:
    h = setup(harness)
    h.ok(0, "mail", "start_work", repeating(7))
    assert h.error(1, "mail", "start_work", repeating(7)).code == "9700005"


def test_bundle_mismatch_is_9700004(harness) -> None:
    h = setup(harness, bundle_name=BUNDLE)
    response = h.error(0, "mail", "start_work", {**work(network_type="wifi"), "bundle_name": "com.other"})
    assert response.code == "9700004"
    assert "com.other" in response.error


def test_first_start_work_binds_the_bundle(harness) -> None:
    h = setup(harness)
    h.ok(0, "mail", "start_work", repeating(1))
    assert h.error(0, "mail", "start_work", {**repeating(2), "bundle_name": "com.b"}).code == "9700004"


def test_unknown_work_is_9700004(harness) -> None:
    h = setup(harness)
    for verb in ("stop_work", "get_work_status", "is_last_work_time_out"):
        response = h.error(0, "mail", verb, {"work_id": 42})
        assert response.code == "9700004"
        assert "42" in response.error


def test_enums_by_name_or_number_and_camel_case(harness) -> None:
    h = setup(harness, signals={"charger": "usb", "network": "ethernet", "battery_level": 50.0})
    h.ok(0, "mail", "start_work", {"workId": 1, "bundleName": BUNDLE, "abilityName": "A",
                                   "networkType": 5, "isCharging": True, "chargerType": 2,
                                   "storageRequest": "okay", "batteryStatus": 1})
    info = h.ok(0, "mail", "get_work_status", {"workId": 1})["work_info"]
    assert (info["network_type"], info["charger_type"]) == ("ethernet", "usb")
    assert (info["storage_request"], info["battery_status"]) == ("okay", "okay")
    assert wakes(h) == [0]


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(
    st.sampled_from(["work_id", "bundle_name", "ability_name", "network_type", "is_charging",
                     "charger_type", "battery_level", "battery_status", "storage_request",
                     "is_repeat", "repeat_cycle_time", "repeat_count", "is_persisted",
                     "is_deep_idle", "idle_wait_time", "parameters", "need_cancel", "workId"]),
    st.one_of(st.none(), st.booleans(), st.integers(-5, 2_000_000), st.floats(allow_nan=True),
              st.text(max_size=8), st.lists(st.integers(), max_size=2),
              st.dictionaries(st.text(max_size=3), st.integers(), max_size=2)),
    max_size=10))
def test_bad_input_never_crashes(args: dict[str, Any]) -> None:
    sched = Scheduler(signals=Signals())
    sched.handle(0, "fuzz", "register", {"platform": "harmonyos"})
    for verb in ("start_work", "stop_work", "get_work_status", "is_last_work_time_out"):
        response, _ = sched.handle(1, "fuzz", verb, args)
        assert response.status in ("ok", "error")
        if not response.ok:
            assert response.code in ("401", "9700004", "9700005")


# -- activity groups -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("group", "interval"),
    [("active", 2 * HOUR), ("frequently_used", 4 * HOUR), ("neither", 24 * HOUR),
     ("rarely_used", 48 * HOUR), ("daily", 4 * HOUR), (40, 48 * HOUR)],
)
def test_activity_group_minimum_interval(harness, group: Any, interval: float) -> None:
    # seed 004 Table 1: "Group of active applications | At a minimum interval of 2 hours" ...
    h = setup(harness, group=group)
    h.ok(0, "mail", "start_work", repeating())
    h.advance(CYCLE)
    h.ok(CYCLE + 10, "mail", "stop_work", {"work_id": 1})
    h.advance(CYCLE + interval - 0.001)
    assert wakes(h) == [CYCLE]
    h.advance(CYCLE + interval)
    assert wakes(h) == [CYCLE, CYCLE + interval]


def test_interval_counts_across_all_works_of_the_app(harness) -> None:
    h = setup(harness, group="active")
    h.ok(0, "mail", "start_work", work(1, network_type="wifi"))
    h.ok(60, "mail", "start_work", work(2, network_type="wifi"))
    assert wakes(h) == [0]
    h.advance(2 * HOUR)
    assert h.timeline()[-1] == (2 * HOUR, "wake", "2", None)


@pytest.mark.parametrize("group", ["restricted", "never_used", 50, "never"])
def test_forbidden_groups_never_run_until_regrouped(harness, group: Any) -> None:
    h = setup(harness, group=group)  # Table 1: "Forbidden"
    h.ok(0, "mail", "start_work", work(network_type="wifi"))
    h.advance(7 * 24 * HOUR)
    assert wakes(h) == []
    status = h.ok(7 * 24 * HOUR, "mail", "get_work_status", {"work_id": 1})
    assert "group_forbidden" in status["waiting_for"]
    h.ok(7 * 24 * HOUR, "mail", "register", {"platform": "harmonyos", "group": "active"})
    h.advance(7 * 24 * HOUR)
    assert wakes(h) == [7 * 24 * HOUR]


@pytest.mark.parametrize("register", [{"group": "exempt"}, {"privileged": True, "group": "rare"}])
def test_exemption_group_has_no_restriction(harness, register: dict[str, Any]) -> None:
    # "Applications that request the WORK_SCHEDULER resource are placed in the efficiency
    # resource exemption group" — "Efficiency resource exemption group | No restriction"
    h = setup(harness, **register)
    h.ok(0, "mail", "start_work", repeating())
    for n in (1, 2, 3):
        h.advance(n * CYCLE)
        h.ok(n * CYCLE + 1, "mail", "stop_work", {"work_id": 1})
    assert wakes(h) == [CYCLE, 2 * CYCLE, 3 * CYCLE]


def test_bad_group_is_401(harness) -> None:
    h = harness()
    response = h.error(0, "mail", "register", {"platform": "harmonyos", "group": "sometimes"})
    assert response.code == "401"
    assert "group" in response.error


# -- privileged callback limits ------------------------------------------------------------------


@pytest.mark.parametrize(("charger", "budget"), [("ac", 1200.0), ("none", 600.0)])
def test_privileged_callback_20_min_charging_10_min_on_battery(harness, charger: str,
                                                               budget: float) -> None:
    # seed 004: "extend the duration to 20 minutes in the charging state and 10 minutes in the
    # non-charging state"
    h = setup(harness, signals={"charger": charger, "network": "wifi"}, privileged=True)
    h.ok(0, "mail", "start_work", work(network_type="wifi"))
    assert h.events[0].deadline == budget
    assert h.advance(budget - 0.001) == []
    h.advance(budget)
    assert h.timeline()[-2] == (budget, "expire", "1", "timeout")  # then terminate (issue 10)


# -- conditions ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("network_type", "network", "met"),
    [("any", "bluetooth", True), ("any", "none", False), ("mobile", "cellular", True),
     ("mobile", "wifi", False), ("wifi", "wifi", True), ("bluetooth", "bluetooth", True),
     ("ethernet", "ethernet", True), ("ethernet", "wifi", False),
     ("wifi_p2p", "wifi", False)],  # Wi-Fi Aware bearer: the bench never reports it
)
def test_network_type(harness, network_type: str, network: str, met: bool) -> None:
    h = setup(harness, signals={"network": network})
    h.ok(0, "mail", "start_work", work(network_type=network_type))
    assert wakes(h) == ([0] if met else [])


@pytest.mark.parametrize(
    ("charger_type", "charger", "met"),
    [("plugged_any", "wireless", True), ("ac", "ac", True), ("ac", "usb", False),
     ("usb", "usb", True), ("wireless", "wireless", True), ("plugged_any", "none", False)],
)
def test_charger_type(harness, charger_type: str, charger: str, met: bool) -> None:
    h = setup(harness, signals={"charger": charger})
    h.ok(0, "mail", "start_work", work(is_charging=True, charger_type=charger_type))
    assert wakes(h) == ([0] if met else [])


def test_is_charging_false_requires_no_charger(harness) -> None:
    h = setup(harness, signals={"charger": "ac"})
    h.ok(0, "mail", "start_work", work(is_charging=False))
    assert wakes(h) == []
    h.set(30, charger="none")
    assert wakes(h) == [30]
    h.set(40, charger="usb")
    assert h.timeline()[-1] == (40, "revoke", "1", "charger_connected")


def test_battery_level_is_a_minimum(harness) -> None:
    h = setup(harness, signals={"battery_level": 49.9})
    h.ok(0, "mail", "start_work", work(battery_level=50))
    assert wakes(h) == []
    h.set(10, battery_level=50.0)
    assert wakes(h) == [10]
    h.set(20, battery_level=49.9)
    assert h.timeline()[-1] == (20, "revoke", "1", "battery_low")


@pytest.mark.parametrize(("level", "status", "met"), [
    (20.0, "low", True), (20.1, "low", False), (20.0, "okay", False), (20.1, "okay", True),
    (5.0, "low_or_okay", True)])
def test_battery_status_low_at_or_below_20_percent(harness, level: float, status: str,
                                                   met: bool) -> None:
    # battery_notify.cpp: BATTERY_LOW when capacity <= soc.low (DEFAULT_LOW_CAPACITY = 20)
    h = setup(harness, signals={"battery_level": level})
    h.ok(0, "mail", "start_work", work(battery_status=status))
    assert wakes(h) == ([0] if met else [])


def test_battery_status_okay_revoked_when_the_level_falls_to_20(harness) -> None:
    h = setup(harness, signals={"battery_level": 21.0})
    h.ok(0, "mail", "start_work", work(battery_status="okay"))
    h.set(5, battery_level=20.5)
    assert [e.type for e in h.events] == ["wake"]
    h.set(6, battery_level=20.0)
    assert h.timeline()[-1] == (6, "revoke", "1", "battery_low")


@pytest.mark.parametrize(("request_", "storage_low", "met"), [
    ("okay", False, True), ("okay", True, False), ("low", True, True), ("low", False, False),
    ("low_or_okay", True, True)])
def test_storage_request(harness, request_: str, storage_low: bool, met: bool) -> None:
    h = setup(harness, signals={"storage_low": storage_low})
    h.ok(0, "mail", "start_work", work(storage_request=request_))
    assert wakes(h) == ([0] if met else [])


def test_deep_idle_waits_idle_wait_time(harness) -> None:
    h = setup(harness, signals={"idle": False})
    h.ok(0, "mail", "start_work", work(is_deep_idle=True, idle_wait_time=60_000))
    h.set(100, idle=True)
    assert h.advance(159.999) == []
    h.advance(160)
    assert wakes(h) == [160]
    h.set(170, idle=False)
    assert h.timeline()[-1] == (170, "revoke", "1", "user_active")


def test_idle_lost_before_the_wait_is_over_resets_it(harness) -> None:
    h = setup(harness, signals={"idle": False})
    h.ok(0, "mail", "start_work", work(is_deep_idle=True, idle_wait_time=60_000))
    h.set(100, idle=True)
    h.set(150, idle=False)
    h.set(200, idle=True)
    h.advance(259.999)
    assert wakes(h) == []
    h.advance(260)
    assert wakes(h) == [260]


def test_deep_idle_with_charger_gets_20_minutes(harness) -> None:
    # work_policy_manager.cpp UpdateWatchdogTime: deep idle + charger → LONG_WATCHDOG_TIME
    # (since issue 10 an option: seed 004 gives longer callbacks only to privileged apps)
    h = harness(Signals().updated({**PLUGGED, "idle": True, "charger": "ac"}),
                limits={"harmonyos": {"deep_idle_charging_any_app": True}})
    h.ok(0, "mail", "register", {"platform": "harmonyos"})
    h.ok(0, "mail", "start_work", work(is_deep_idle=True, is_charging=True))
    assert h.events[0].deadline == 1200.0


@pytest.mark.parametrize(
    ("fields", "change", "reason"),
    [({"is_charging": True}, {"charger": "none"}, "charger_removed"),
     ({"network_type": "wifi"}, {"network": "cellular"}, "network_lost"),
     ({"network_type": "any"}, {"network": "none"}, "network_lost"),
     ({"storage_request": "okay"}, {"storage_low": True}, "storage_low"),
     ({"storage_request": "low"}, {"storage_low": False}, "storage_okay")],
)
def test_condition_lost_while_running_revokes_at_once(harness, fields: dict[str, Any],
                                                      change: dict[str, Any], reason: str) -> None:
    start = {"charger": "ac", "network": "wifi", "storage_low": fields.get("storage_request") == "low"}
    h = setup(harness, signals=start)
    h.ok(0, "mail", "start_work", work(**fields))
    h.set(42, **change)
    assert h.timeline() == [(0, "wake", "1", None), (42, "revoke", "1", reason)]
    h.advance(HOUR)
    assert len(h.events) == 2  # one-shot: removed after its run, no expire later


def test_stale_network_is_unknown_and_revokes(harness) -> None:
    # issue 9: a stale signal is unknown, not "no network"; the revoke names it
    h = setup(harness)
    h.ok(0, "mail", "start_work", work(network_type="wifi"))
    h.events += h.sched.set_signals(5, h.sched.signals.updated({}, stale=["network"]))
    assert h.timeline()[-1] == (5, "revoke", "1", "signal_unknown")
    assert h.events[-1].data == {"unknown": ["network"]}


def test_repeating_work_revoked_waits_for_its_next_cycle(harness) -> None:
    h = setup(harness, group="exempt")
    h.ok(0, "mail", "start_work", repeating(network_type="wifi"))
    h.advance(CYCLE)
    h.set(CYCLE + 10, network="none")
    h.set(CYCLE + 20, network="wifi")
    h.advance(2 * CYCLE)
    assert h.timeline() == [(CYCLE, "wake", "1", None), (CYCLE + 10, "revoke", "1", "network_lost"),
                            (2 * CYCLE, "wake", "1", None)]


def test_source_mode_revokes_only_on_deep_idle_loss(harness) -> None:
    h = harness(Signals().updated({"network": "wifi", "idle": True}),
                limits={"harmonyos": {"revoke_on_condition_loss": False}})
    h.ok(0, "mail", "register", {"platform": "harmonyos", "group": "exempt"})
    h.ok(0, "mail", "start_work", work(1, network_type="wifi"))
    h.ok(0, "mail", "start_work", work(2, is_deep_idle=True))
    h.set(10, network="none", idle=False)
    assert h.timeline()[2:] == [(10, "revoke", "2", "user_active")]


def test_repeat_count_runs_that_many_times(harness) -> None:
    h = setup(harness, group="exempt")
    h.ok(0, "mail", "start_work", work(repeat_cycle_time=CYCLE_MS, repeat_count=3))
    h.advance(10 * CYCLE)
    assert wakes(h) == [CYCLE, 2 * CYCLE, 3 * CYCLE]
    assert h.ok(10 * CYCLE, "mail", "obtain_all_works")["works"] == []


def test_stop_and_clear_works(harness) -> None:
    h = setup(harness)
    h.ok(0, "mail", "start_work", work(1, network_type="wifi"))
    h.ok(0, "mail", "start_work", repeating(2))
    assert [w["work_id"] for w in h.ok(1, "mail", "obtain_all_works")["works"]] == [1, 2]
    assert h.ok(1, "mail", "stop_and_clear_works")["cleared"] == [1, 2]
    h.advance(10 * HOUR)
    assert [e.type for e in h.events] == ["wake"]
    assert h.sched.tasks("mail") == {}


# -- persistence ---------------------------------------------------------------------------------


def test_persisted_works_survive_a_restart_without_duplicate_wake(harness) -> None:
    h = setup(harness, group="exempt")
    h.ok(0, "mail", "start_work", work(1, network_type="wifi", is_persisted=True))
    h.ok(0, "mail", "start_work", repeating(2, is_persisted=True))
    h.ok(0, "mail", "start_work", repeating(3))  # not persisted: lost with the state
    saved = h.sched.dump()
    h2 = harness(Signals().updated(PLUGGED), now=30)
    h2.sched.load(saved)
    h2.advance(CALLBACK)
    assert h2.timeline()[:1] == [(CALLBACK, "expire", "1", "timeout")]
    assert h2.timeline()[1:] == [(CALLBACK, "terminate", "1", "callback_timeout")]  # issue 10
    assert h2.events[0].seq == 2  # one wake before the restart; seq continues, no second wake
    h2.advance(CYCLE)
    assert h2.timeline()[-1] == (CYCLE, "wake", "2", None)
    assert sorted(h2.sched.tasks("mail")) == ["2"]


def test_min_interval_survives_a_restart(harness) -> None:
    h = setup(harness, group="active")
    h.ok(0, "mail", "start_work", work(1, network_type="wifi", is_persisted=True))
    h.ok(10, "mail", "stop_work", {"work_id": 1})
    h.ok(20, "mail", "start_work", work(2, network_type="wifi", is_persisted=True))
    h2 = harness(Signals().updated(PLUGGED), now=30)
    h2.sched.load(h.sched.dump())
    h2.advance(2 * HOUR - 1)
    assert h2.events == []
    h2.advance(2 * HOUR)
    assert h2.timeline() == [(2 * HOUR, "wake", "2", None)]


@pytest.mark.parametrize("order", [("charger", "network"), ("network", "charger")])
def test_work_blocked_by_two_conditions_starts_when_the_last_arrives(harness,
                                                                     order: tuple[str, str]) -> None:
    h = setup(harness, signals={"charger": "none", "network": "none"})
    h.ok(0, "mail", "start_work", work(network_type="wifi", is_charging=True))
    changes = {"charger": {"charger": "usb"}, "network": {"network": "wifi"}}
    h.set(10, **changes[order[0]])
    assert wakes(h) == []
    h.set(20, **changes[order[1]])
    assert wakes(h) == [20]


def test_conditions_are_checked_again_when_the_cycle_comes_due(harness) -> None:
    h = setup(harness, group="exempt")
    h.ok(0, "mail", "start_work", repeating(network_type="wifi"))
    h.set(60, network="none")  # lost while the cycle is not due: nothing to do yet
    h.advance(CYCLE)
    assert wakes(h) == []
    assert h.ok(CYCLE, "mail", "get_work_status", {"work_id": 1})["waiting_for"] == ["network"]
    h.set(CYCLE + 30, network="wifi")
    assert wakes(h) == [CYCLE + 30]


# -- issue 10: seed 004 rules -------------------------------------------------------------------


def test_timeout_is_followed_by_terminate(harness) -> None:
    """seed 004: "If the application does not cancel the deferred task upon a timeout, the system
    forcibly terminates the process for the WorkSchedulerExtensionAbility"."""
    h = setup(harness)
    h.ok(0, "mail", "start_work", work(network_type="wifi"))
    h.advance(HOUR)
    assert h.timeline() == [(0, "wake", "1", None), (CALLBACK, "expire", "1", "timeout"),
                            (CALLBACK, "terminate", "1", "callback_timeout")]
    assert h.events[-1].data == {"process": "WorkSchedulerExtensionAbility"}


def test_stopped_in_time_is_not_terminated(harness) -> None:
    h = setup(harness)
    h.ok(0, "mail", "start_work", work(network_type="wifi"))
    h.ok(CALLBACK - 1, "mail", "stop_work", {"work_id": 1})
    h.advance(HOUR)
    assert [e.type for e in h.events] == ["wake"]


def test_non_privileged_deep_idle_charging_gets_two_minutes(harness) -> None:
    """seed 004: "a maximum of 2 minutes for a single callback ... Privileged system applications
    can request the WORK_SCHEDULER resource to extend the duration to 20 minutes in the charging
    state and 10 minutes in the non-charging state"."""
    assert HarmonyOSLimits().deep_idle_charging_any_app is False
    assert "Privileged system" in HarmonyOSLimits.source_of("deep_idle_charging_any_app")
    h = setup(harness, signals={**PLUGGED, "idle": True})
    h.ok(0, "mail", "start_work", work(is_deep_idle=True, is_charging=True))
    assert h.events[0].deadline == CALLBACK
    p = setup(harness, signals={**PLUGGED, "idle": True}, privileged=True)
    p.ok(0, "mail", "start_work", work(is_deep_idle=True, is_charging=True))
    assert p.events[0].deadline == 1200.0


def test_repeat_count_without_cycle_time_is_accepted(harness) -> None:
    """seed 004: "When isRepeat is set, you must set repeatCycleTime or repeatCount"."""
    h = setup(harness, group="exempt")
    data = h.ok(0, "mail", "start_work", work(network_type="wifi", is_repeat=True, repeat_count=2))
    assert data["work_info"]["repeat_count"] == 2 and "repeat_cycle_time" not in data["work_info"]
    h.ok(10, "mail", "stop_work", {"work_id": 1})  # run 1 ends; wifi still there: run 2 at once
    assert wakes(h) == [0, 10]
    h.ok(20, "mail", "stop_work", {"work_id": 1})
    h.set(30, network="none")
    h.set(40, network="wifi")
    assert wakes(h) == [0, 10]  # two runs, then removed
    assert h.ok(50, "mail", "obtain_all_works")["works"] == []


def test_repeat_count_without_cycle_follows_the_group_interval(harness) -> None:
    h = setup(harness)  # active: 2 h between starts (seed 004 Table 1)
    h.ok(0, "mail", "start_work", work(network_type="wifi", is_repeat=True, repeat_count=3))
    h.ok(10, "mail", "stop_work", {"work_id": 1})
    h.advance(2 * HOUR)
    assert wakes(h) == [0, 2 * HOUR]


@pytest.mark.parametrize("fields", [{"is_repeat": True}, {"repeat_count": 2},
                                    {"is_repeat": True, "repeat_count": 0}])
def test_repeat_forms_the_seed_does_not_allow_are_401(harness, fields) -> None:
    h = setup(harness)
    assert h.error(0, "mail", "start_work", work(network_type="wifi", **fields)).code == "401"


def test_hot_device_delays_scheduling(harness) -> None:
    """seed 004: "when the system memory resources are insufficient or the temperature reaches a
    certain level, the system delays task scheduling" (level UNCONFIRMED: a labelled limit)."""
    hot = HarmonyOSLimits().thermal_delay_c
    assert "UNCONFIRMED" in HarmonyOSLimits.source_of("thermal_delay_c")
    h = setup(harness, signals={**PLUGGED, "temperature": hot})
    data = h.ok(0, "mail", "start_work", work(network_type="wifi"))
    assert data["state"] == "waiting" and "temperature" in data["waiting_for"]
    h.set(60, temperature=hot - 0.5)
    assert wakes(h) == [60]


def test_getting_hot_does_not_stop_a_running_work(harness) -> None:
    h = setup(harness)
    h.ok(0, "mail", "start_work", work(network_type="wifi"))
    assert h.set(10, temperature=60.0) == []


def test_crash_stops_running_works_with_on_work_stop(harness) -> None:
    """The common verb ``crash``: running works get onWorkStop (``revoke``, ``app_crashed``)."""
    h = setup(harness, group="exempt")
    h.ok(0, "mail", "start_work", work(1, network_type="wifi"))
    h.ok(0, "mail", "start_work", repeating(2))
    h.ok(30, "mail", "crash")
    assert h.timeline() == [(0, "wake", "1", None), (30, "revoke", "1", "app_crashed")]
    h.advance(CALLBACK + 60)
    assert [e.type for e in h.events].count("expire") == 0
    assert sorted(h.sched.tasks("mail")) == ["2"]  # the one-shot work is gone; the repeat waits
