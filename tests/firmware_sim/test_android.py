"""Android WorkManager: constraints, periodic minimum, 10-minute workers, standby buckets."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware_sim import Scheduler, Signals
from firmware_sim.platforms.android import AndroidLimits

MIN = 60.0
HOUR = 3600.0
EXEC = 600.0  # Worker: "A Worker is given a maximum of ten minutes to finish its execution"
PERIOD_MIN = 900.0  # PeriodicWorkRequest: "Periodic work has a minimum interval of 15 minutes"
BACKOFF = 30.0  # WorkRequest.DEFAULT_BACKOFF_DELAY_MILLIS = 30000
ON_WALL = {"charger": "ac", "network": "wifi", "battery_level": 80.0}
ON_BATTERY = {"charger": "none", "network": "wifi", "battery_level": 80.0}


def setup(harness: Any, signals: dict[str, Any] | None = None, bucket: str = "active") -> Any:
    h = harness(Signals().updated(ON_WALL if signals is None else signals))
    h.ok(0, "app", "register", {"platform": "android", "bucket": bucket})
    return h


def wakes(h: Any, task: str | None = None) -> list[float]:
    return [e.t for e in h.events if e.type == "wake" and task in (None, e.task_id)]


# -- limits --------------------------------------------------------------------------------------


def test_limits_quote_the_android_docs() -> None:
    lim = AndroidLimits()
    assert (lim.execution_s, lim.min_periodic_interval_s, lim.backoff_delay_s) == (EXEC, PERIOD_MIN,
                                                                                   BACKOFF)
    assert "Worker" in AndroidLimits.source_of("execution_s")
    assert "minimum interval of 15 minutes" in AndroidLimits.source_of("min_periodic_interval_s")
    # power-details table: "Working set 10 min every 2 h, Frequent 10 min every 8 h, Rare 10 min
    # every 24 h, Restricted once per day"
    assert lim.bucket_execution_s == 600.0
    assert [lim.window_s(b) for b in ("working_set", "frequent", "rare", "restricted")] == [
        2 * HOUR, 8 * HOUR, 24 * HOUR, 24 * HOUR]
    for name in ("working_set_window_s", "frequent_window_s", "rare_window_s", "restricted_window_s"):
        assert "power-details" in AndroidLimits.source_of(name)
    assert "UNCONFIRMED" in AndroidLimits.source_of("battery_low_level")


# -- one-time work and the 10-minute limit -------------------------------------------------------


def test_one_time_work_runs_at_once_with_ten_minute_deadline(harness) -> None:
    h = setup(harness)
    data = h.ok(5, "app", "enqueue", {"id": "upload"})
    assert data["state"] == "running"
    assert h.timeline() == [(5, "wake", "upload", None)]
    assert h.events[0].deadline == 5 + EXEC
    assert h.events[0].data["run_attempt_count"] == 1


def test_expire_at_ten_minutes_then_backoff_retry(harness) -> None:
    h = setup(harness)
    h.ok(0, "app", "enqueue", {"id": "upload"})
    assert h.advance(EXEC - 0.001) == []
    h.advance(EXEC)
    assert h.timeline()[-1] == (EXEC, "expire", "upload", "timeout")
    h.advance(EXEC + BACKOFF - 0.001)
    assert wakes(h) == [0]
    h.advance(EXEC + BACKOFF)
    assert wakes(h) == [0, EXEC + BACKOFF]
    assert h.events[-1].data["run_attempt_count"] == 2


def test_finish_success_ends_one_time_work(harness) -> None:
    h = setup(harness)
    h.ok(0, "app", "enqueue", {"id": "upload"})
    assert h.ok(60, "app", "finish", {"id": "upload", "result": "success"})["state"] == "succeeded"
    h.advance(HOUR)
    assert [e.type for e in h.events] == ["wake"]
    assert h.sched.tasks("app") == {}


def test_finish_failure_ends_one_time_work(harness) -> None:
    h = setup(harness)
    h.ok(0, "app", "enqueue", {"id": "upload"})
    assert h.ok(60, "app", "finish", {"id": "upload", "result": "failure"})["state"] == "failed"
    h.advance(HOUR)
    assert wakes(h) == [0]


@pytest.mark.parametrize(("policy", "delays"), [
    ("exponential", [30.0, 60.0, 120.0, 240.0]), ("linear", [30.0, 60.0, 90.0, 120.0])])
def test_retry_backs_off(harness, policy: str, delays: list[float]) -> None:
    h = setup(harness)
    h.ok(0, "app", "enqueue", {"id": "sync", "backoff_policy": policy})
    t = 0.0
    for delay in delays:
        h.ok(t + 1, "app", "finish", {"id": "sync", "result": "retry"})
        t = t + 1 + delay
        h.advance(t - 0.001)
        assert wakes(h)[-1] != t
        h.advance(t)
        assert wakes(h)[-1] == t


def test_backoff_delay_is_clamped_to_ten_seconds_and_five_hours(harness) -> None:
    h = setup(harness)
    low = h.ok(0, "app", "enqueue", {"id": "a", "backoff_delay": 1})
    assert low["warnings"] == ["Backoff delay duration less than minimum value"]
    h.ok(1, "app", "finish", {"id": "a", "result": "retry"})
    h.advance(11)
    assert wakes(h, "a") == [0, 11]
    high = h.ok(20, "app", "enqueue", {"id": "b", "backoff_delay_ms": 6 * 3_600_000})
    assert high["warnings"] == ["Backoff delay duration exceeds maximum value"]


def test_cancel_running_work_stops_it_without_event(harness) -> None:
    h = setup(harness)
    h.ok(0, "app", "enqueue", {"id": "upload"})
    assert h.ok(10, "app", "cancel", {"id": "upload"}) == {"id": "upload", "state": "cancelled",
                                                           "stopped": True}
    h.advance(HOUR)
    assert [e.type for e in h.events] == ["wake"]


def test_request_errors(harness) -> None:
    h = setup(harness)
    assert h.error(0, "app", "cancel", {"id": "nope"}).code == "unknown_task"
    h.ok(0, "app", "enqueue", {"id": "sync", "initial_delay": 60})
    assert h.error(1, "app", "enqueue", {"id": "sync"}).code == "work_exists"
    response = h.error(1, "app", "finish", {"id": "sync", "result": "success"})
    assert response.code == "work_not_running"
    assert h.error(1, "app", "finish", {"id": "sync", "result": "done"}).code == "invalid_args"
    bad = h.error(1, "app", "enqueue", {"constraints": {"required_network_type": "5g"}})
    assert bad.code == "invalid_args"
    assert "constraints.required_network_type" in bad.error
    assert h.error(1, "app", "enqueue", {"type": "periodic"}).code == "invalid_args"
    assert h.error(1, "app", "enqueue", {"repeat_interval": 900}).code == "invalid_args"
    assert h.error(1, "app", "enqueue", {"initial_delay": 1, "initial_delay_ms": 1}).code == "invalid_args"


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(
    st.sampled_from(["type", "id", "repeat_interval", "repeat_interval_ms", "flex_interval",
                     "initial_delay", "backoff_policy", "backoff_delay", "constraints", "result"]),
    st.one_of(st.none(), st.booleans(), st.integers(-5, 10**7), st.floats(allow_nan=True),
              st.sampled_from(["periodic", "one_time", "retry", "linear", "w-1"]),
              st.dictionaries(st.sampled_from(["required_network_type", "requires_charging", "x"]),
                              st.one_of(st.booleans(), st.text(max_size=4)), max_size=2)),
    max_size=8))
def test_bad_input_never_crashes(args: dict[str, Any]) -> None:
    sched = Scheduler(signals=Signals())
    sched.handle(0, "fuzz", "register", {"platform": "android"})
    for verb in ("enqueue", "finish", "cancel"):
        response, _ = sched.handle(1, "fuzz", verb, args)
        assert response.status in ("ok", "error")
        if not response.ok:
            assert response.code in ("invalid_args", "unknown_task", "work_exists", "work_not_running")


# -- periodic work -------------------------------------------------------------------------------


def test_periodic_interval_below_15_minutes_is_clamped_with_warning(harness) -> None:
    h = setup(harness)
    data = h.ok(0, "app", "enqueue", {"type": "periodic", "id": "p", "repeat_interval": 899})
    assert data["repeat_interval"] == PERIOD_MIN
    assert data["warnings"] == ["Interval duration lesser than minimum allowed value; Changed to 900000"]
    exact = h.ok(0, "app", "enqueue", {"type": "periodic", "id": "q", "repeat_interval_ms": 900_000})
    assert exact["warnings"] == []
    assert exact["repeat_interval"] == PERIOD_MIN


def test_periodic_runs_one_interval_after_each_run(harness) -> None:
    h = setup(harness)
    h.ok(0, "app", "enqueue", {"type": "periodic", "id": "p", "repeat_interval": 900})
    h.ok(100, "app", "finish", {"id": "p", "result": "success"})
    h.advance(1000 - 0.001)
    assert wakes(h) == [0]
    h.advance(1000)
    h.ok(1010, "app", "finish", {"id": "p", "result": "failure"})  # periodic: next period anyway
    h.advance(1910)
    assert wakes(h) == [0, 1000, 1910]
    assert h.events[-1].data["period_count"] == 2


def test_periodic_flex_delays_the_first_run(harness) -> None:
    h = setup(harness)
    data = h.ok(0, "app", "enqueue", {"type": "periodic", "id": "p", "repeat_interval": 3600,
                                      "flex_interval": 60})
    assert data["flex_interval"] == 300.0  # MIN_PERIODIC_FLEX_MILLIS
    assert data["warnings"] == ["Flex duration lesser than minimum allowed value; Changed to 300000"]
    h.advance(3300)
    assert wakes(h) == [3300]


def test_constraints_gate_even_when_the_period_has_elapsed(harness) -> None:
    # PeriodicWorkRequest: with constraints "it won't run until they are met, even when the
    # period has elapsed"
    h = setup(harness, signals=ON_BATTERY)
    h.ok(0, "app", "enqueue", {"type": "periodic", "id": "p", "repeat_interval": 900,
                               "constraints": {"requires_charging": True}})
    h.advance(5 * HOUR)
    assert wakes(h) == []
    h.set(5 * HOUR, charger="usb")
    assert wakes(h) == [5 * HOUR]


def test_initial_delay(harness) -> None:
    h = setup(harness)
    h.ok(0, "app", "enqueue", {"id": "later", "initial_delay_ms": 90_000})
    h.advance(89.999)
    assert wakes(h) == []
    h.advance(90)
    assert wakes(h) == [90]


# -- constraints ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("network_type", "signals", "met"),
    [("connected", {"network": "bluetooth"}, True), ("connected", {"network": "none"}, False),
     ("unmetered", {"network": "wifi"}, True),
     ("unmetered", {"network": "cellular", "metered": True}, False),
     ("not_roaming", {"network": "cellular", "roaming": False}, True),
     ("not_roaming", {"network": "cellular", "roaming": True}, False),
     ("metered", {"network": "cellular", "metered": True}, True),
     ("metered", {"network": "wifi", "metered": False}, False),
     ("temporarily_unmetered", {"network": "cellular", "metered": False}, True),
     ("temporarily_unmetered", {"network": "wifi", "metered": False}, False),
     ("not_required", {"network": "none"}, True)],
)
def test_required_network_type(harness, network_type: str, signals: dict[str, Any],
                               met: bool) -> None:
    h = setup(harness, signals={**ON_WALL, **signals})
    h.ok(0, "app", "enqueue", {"id": "w", "constraints": {"required_network_type": network_type}})
    assert wakes(h) == ([0] if met else [])


@pytest.mark.parametrize(
    ("constraint", "start", "change", "reason"),
    [({"requires_charging": True}, {}, {"charger": "none"}, "charger_removed"),
     ({"required_network_type": "unmetered"}, {}, {"network": "cellular", "metered": True},
      "network_lost"),
     ({"required_network_type": "connected"}, {}, {"network": "none"}, "network_lost"),
     ({"requires_battery_not_low": True}, {"charger": "none", "battery_level": 16.0},
      {"battery_level": 15.0}, "battery_low"),
     ({"requires_storage_not_low": True}, {}, {"storage_low": True}, "storage_low"),
     ({"requiresDeviceIdle": True}, {"idle": True}, {"idle": False}, "user_active")],
)
def test_constraint_lost_while_running_revokes_at_once(harness, constraint: dict[str, Any],
                                                       start: dict[str, Any],
                                                       change: dict[str, Any], reason: str) -> None:
    h = setup(harness, signals={**ON_WALL, **start})
    h.ok(0, "app", "enqueue", {"id": "w", "constraints": constraint})
    h.set(42, **change)
    assert h.timeline() == [(0, "wake", "w", None), (42, "revoke", "w", reason)]


def test_revoked_work_runs_again_when_the_constraint_returns(harness) -> None:
    h = setup(harness)
    h.ok(0, "app", "enqueue", {"id": "w", "constraints": {"requires_charging": True}})
    h.set(42, charger="none")
    h.set(50, charger="ac")  # within the 30 s backoff: waits for it
    h.advance(72)
    assert wakes(h) == [0, 72]


def test_battery_not_low_hysteresis(harness) -> None:
    # AOSP BatteryService: low at level <= config_lowBatteryWarningLevel (15) on battery;
    # not low again at >= warning + config_lowBatteryCloseWarningBump (5), or when plugged in
    h = setup(harness, signals={"charger": "none", "battery_level": 15.0})
    h.ok(0, "app", "enqueue", {"id": "w", "constraints": {"requires_battery_not_low": True}})
    h.set(10, battery_level=19.9)
    assert wakes(h) == []
    h.set(20, battery_level=20.0)
    assert wakes(h) == [20]
    h.set(30, battery_level=15.1)
    assert [e.type for e in h.events] == ["wake"]
    h.set(40, battery_level=15.0)
    assert h.timeline()[-1] == (40, "revoke", "w", "battery_low")
    h.set(50, charger="usb")  # plugged in: not low whatever the level
    h.advance(100)
    assert wakes(h) == [20, 40 + BACKOFF]  # back after the interrupted run's backoff


def test_stale_charger_is_unknown_and_revokes(harness) -> None:
    # issue 9: a stale signal is unknown, not "no charger"; the revoke names it
    h = setup(harness)
    h.ok(0, "app", "enqueue", {"id": "w", "constraints": {"requires_charging": True}})
    h.events += h.sched.set_signals(3, h.sched.signals.updated({}, stale=["charger"]))
    assert h.timeline()[-1] == (3, "revoke", "w", "signal_unknown")
    assert h.events[-1].data == {"unknown": ["charger"]}


# -- standby buckets -----------------------------------------------------------------------------


@pytest.mark.parametrize(("bucket", "window"), [
    ("working_set", 2 * HOUR), ("frequent", 8 * HOUR), ("rare", 24 * HOUR), (40, 24 * HOUR)])
def test_bucket_gives_ten_minutes_per_window_on_battery(harness, bucket: Any,
                                                        window: float) -> None:
    h = setup(harness, signals=ON_BATTERY, bucket=bucket)
    h.ok(0, "app", "enqueue", {"id": "a"})
    h.ok(240, "app", "finish", {"id": "a", "result": "success"})  # 4 of 10 minutes used
    h.ok(300, "app", "enqueue", {"id": "b"})
    assert h.events[-1].deadline == 300 + 360  # the quota ends before the worker's 10 minutes
    h.advance(659.999)
    assert [e.type for e in h.events] == ["wake", "wake"]
    h.advance(660)
    assert h.timeline()[-1] == (660, "revoke", "b", "quota")
    h.ok(700, "app", "enqueue", {"id": "c"})
    assert "quota" in h.ok(700, "app", "status")["tasks"]["c"]["waiting_for"]
    h.advance(window - 0.001)
    assert wakes(h) == [0, 300]
    h.advance(window)  # the next window opens: waiting work runs
    assert sorted(e.task_id for e in h.events if e.type == "wake" and e.t == window) == ["b", "c"]


def test_charger_lifts_time_quotas(harness) -> None:
    # appstandby: restrictions apply only on battery
    h = setup(harness, signals=ON_BATTERY, bucket="working_set")
    h.ok(0, "app", "enqueue", {"id": "a"})
    h.advance(EXEC)  # 10 minutes used: expire (timeout, not quota: same instant)
    assert h.timeline()[-1] == (EXEC, "expire", "a", "timeout")
    h.advance(EXEC + BACKOFF)
    assert wakes(h) == [0]
    h.set(700, charger="ac")
    assert wakes(h) == [0, 700]


def test_unplugging_starts_counting_quota(harness) -> None:
    h = setup(harness, signals=ON_WALL, bucket="frequent")
    h.ok(0, "app", "enqueue", {"id": "a"})
    h.ok(590, "app", "finish", {"id": "a", "result": "success"})
    h.ok(600, "app", "enqueue", {"id": "b"})
    h.set(700, charger="none")  # 0 s used so far on battery
    h.advance(1200)
    assert h.timeline()[-1] == (1200, "expire", "b", "timeout")


def test_restricted_bucket_runs_once_per_day_even_charging(harness) -> None:
    # power-details: "no execution limits except for restricted standby bucket" while charging
    h = setup(harness, signals=ON_WALL, bucket="restricted")
    h.ok(0, "app", "enqueue", {"id": "a"})
    h.ok(60, "app", "finish", {"id": "a", "result": "success"})
    h.ok(120, "app", "enqueue", {"id": "b"})
    h.advance(24 * HOUR - 0.001)
    assert wakes(h) == [0]
    h.advance(24 * HOUR)
    assert wakes(h) == [0, 24 * HOUR]


@pytest.mark.parametrize("bucket", ["active", "exempted"])
def test_active_and_exempted_are_unrestricted(harness, bucket: str) -> None:
    h = setup(harness, signals=ON_BATTERY, bucket=bucket)
    for i in range(5):
        h.ok(i * EXEC, "app", "enqueue", {"id": f"w{i}"})
        h.ok(i * EXEC + EXEC - 1, "app", "finish", {"id": f"w{i}", "result": "success"})
    assert wakes(h) == [i * EXEC for i in range(5)]


def test_moving_to_active_releases_waiting_work(harness) -> None:
    h = setup(harness, signals=ON_BATTERY, bucket="restricted")
    h.ok(0, "app", "enqueue", {"id": "a"})
    h.ok(10, "app", "finish", {"id": "a", "result": "success"})
    h.ok(20, "app", "enqueue", {"id": "b"})
    h.ok(30, "app", "register", {"platform": "android", "bucket": "active"})
    h.advance(30)
    assert wakes(h) == [0, 30]


# -- persistence ---------------------------------------------------------------------------------


def test_state_survives_a_restart_without_duplicate_wake(harness) -> None:
    h = setup(harness)
    h.ok(0, "app", "enqueue", {"id": "run"})
    h.ok(0, "app", "enqueue", {"type": "periodic", "id": "p", "repeat_interval": 900,
                               "initial_delay": 600})
    h2 = harness(Signals().updated(ON_WALL), now=60)
    h2.sched.load(h.sched.dump())
    h2.advance(EXEC)
    assert h2.timeline() == [(EXEC, "expire", "run", "timeout"), (EXEC, "wake", "p", None)]
    assert [e.seq for e in h2.events] == [2, 3]


@pytest.mark.parametrize("order", [("charger", "network"), ("network", "charger")])
def test_work_blocked_by_two_constraints_starts_when_the_last_arrives(harness,
                                                                      order: tuple[str, str]) -> None:
    h = setup(harness, signals={"charger": "none", "network": "none"})
    h.ok(0, "app", "enqueue", {"id": "w", "constraints": {"requires_charging": True,
                                                          "required_network_type": "connected"}})
    changes = {"charger": {"charger": "ac"}, "network": {"network": "ethernet"}}
    h.set(10, **changes[order[0]])
    assert wakes(h) == []
    h.set(20, **changes[order[1]])
    assert wakes(h) == [20]


def test_constraints_are_checked_again_when_the_delay_ends(harness) -> None:
    h = setup(harness)
    h.ok(0, "app", "enqueue", {"id": "w", "initial_delay": 300,
                               "constraints": {"required_network_type": "unmetered"}})
    h.set(60, network="cellular", metered=True)
    h.advance(300)
    assert wakes(h) == []
    assert h.ok(300, "app", "status")["tasks"]["w"]["waiting_for"] == ["required_network_type"]
    h.set(330, network="wifi", metered=False)
    assert wakes(h) == [330]


def test_generated_ids_skip_ids_the_app_chose(harness) -> None:
    h = setup(harness)
    h.ok(0, "app", "enqueue", {"id": "work-1", "initial_delay": 60})
    assert h.ok(0, "app", "enqueue", {"initial_delay": 60})["id"] == "work-2"


def test_crash_stops_running_workers_and_reschedules_them(harness) -> None:
    """The common verb ``crash``: a running worker stops (``revoke``, ``app_crashed``) and is
    rescheduled with backoff (WorkRequest.DEFAULT_BACKOFF_DELAY_MILLIS = 30000), as JobScheduler
    reschedules a job whose process died; it never keeps running."""
    h = setup(harness, ON_WALL)
    h.ok(0, "app", "enqueue", {"id": "sync"})
    h.ok(100, "app", "crash")
    assert h.timeline() == [(0, "wake", "sync", None), (100, "revoke", "sync", "app_crashed")]
    h.advance(100 + BACKOFF)
    assert wakes(h) == [0, 100 + BACKOFF]
    assert [e.type for e in h.events].count("expire") == 0
