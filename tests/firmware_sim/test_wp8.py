"""Windows Phone 8 scheduled tasks: PeriodicTask and ResourceIntensiveTask (seed 003, zh-Hant).

Each budget test quotes the seed 003 line it checks and probes just before and at the limit.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware_sim import Scheduler, Signals
from firmware_sim.platforms.wp8 import MAX_ACTIONS_ERROR, WP8Limits

MIN = 60.0
DAY = 86400.0
MIB = 1024 * 1024

# seed 003, 調度間隔：30分鐘: "周期性代理一般每30分鐘運行一次。… 所以其執行時間可能會有10分種的波動。"
INTERVAL = 30 * MIN
DRIFT = 10 * MIN
# seed 003, 調度持續：25秒: "周其性代理通常運行25秒。"
PERIODIC_RUN = 25.0
# seed 003, 持續：10分鐘: "資源密集型代理一般只運行10分鐘。"
RI_RUN = 10 * MIN
# seed 003, 每兩周需重新調度一次: "此值必須被設定為小於兩周的時間。"
TWO_WEEKS = 14 * DAY

#: Every resource-intensive condition of seed 003 holds: 需要外部電源, 非蜂窩串連,
#: 最小電量 (大於90%), 需要鎖屏, 不通話.
RI_OK = Signals(battery_level=95.0, charger="ac", network="wifi", screen_locked=True,
                on_call=False)


def wp8(harness: Any, *apps: str, signals: Signals | None = None, **kwargs: Any) -> Any:
    h = harness(signals=signals or RI_OK, **kwargs)
    for app in apps:
        h.ok(0, app, "register", {"platform": "wp8"})
    return h


def wakes(h: Any, task: str | None = None) -> list[float]:
    return [e.t for e in h.events if e.type == "wake" and task in (None, e.task_id)]


def periodic_schedule(seed: int, until: float) -> list[float]:
    """Wake times of one periodic task added at t=0 on a device where nothing blocks it."""
    sched = Scheduler(signals=Signals(), seed=seed)
    sched.handle(0, "news", "register", {"platform": "wp8"})
    sched.handle(0, "news", "add", {"name": "feed", "type": "periodic"})
    return [e.t for e in sched.advance(until) if e.type == "wake"]


# -- limits ------------------------------------------------------------------------------------
def test_every_limit_names_seed_003_or_is_labelled_unconfirmed() -> None:
    for info in WP8Limits().describe("wp8"):
        assert "seed 003" in info.source or "UNCONFIRMED" in info.source, info.name
    assert WP8Limits().periodic_interval_s == INTERVAL
    assert WP8Limits().periodic_drift_s == DRIFT
    assert WP8Limits().periodic_run_s == PERIODIC_RUN
    assert WP8Limits().resource_intensive_run_s == RI_RUN
    assert WP8Limits().max_expiration_s == TWO_WEEKS
    assert "它最低可以到6" in WP8Limits.source_of("max_periodic_per_device")


# -- periodic: interval, drift, 25 s ---------------------------------------------------------
def test_every_periodic_interval_lies_within_30_plus_minus_10_minutes() -> None:
    # "周期性代理一般每30分鐘運行一次 … 所以其執行時間可能會有10分種的波動": wakebench reads this as
    # every interval between consecutive runs (and from add to the first run) in [20, 40] min.
    times = periodic_schedule(seed=7, until=TWO_WEEKS - 1)
    gaps = [b - a for a, b in zip([0.0, *times], times, strict=False)]
    assert len(gaps) > 500
    assert all(INTERVAL - DRIFT <= g <= INTERVAL + DRIFT for g in gaps)
    assert max(gaps) - min(gaps) > DRIFT  # the drift is real, not a constant offset
    assert abs(sum(gaps) / len(gaps) - INTERVAL) < 60  # and centred on 30 minutes


def test_same_seed_gives_the_same_periodic_schedule() -> None:
    assert periodic_schedule(seed=3, until=DAY) == periodic_schedule(seed=3, until=DAY)
    assert periodic_schedule(seed=3, until=DAY) != periodic_schedule(seed=4, until=DAY)


def test_one_apps_schedule_does_not_depend_on_another_apps_activity(harness) -> None:
    alone = wp8(harness, "news", seed=5)
    alone.ok(0, "news", "add", {"name": "feed", "type": "periodic"})
    alone.advance(DAY)
    busy = wp8(harness, "news", "other", seed=5)
    busy.ok(0, "news", "add", {"name": "feed", "type": "periodic"})
    busy.ok(10, "other", "add", {"name": "sync", "type": "periodic"})
    busy.advance(DAY)
    assert wakes(alone, "feed") == wakes(busy, "feed")


def test_periodic_run_expires_at_25_seconds_then_terminates_without_grace(harness) -> None:
    # "周其性代理通常運行25秒" ; OnCancel "is not called for ScheduledTaskAgent": no grace.
    h = wp8(harness, "news")
    first = h.ok(0, "news", "add", {"name": "feed", "type": "periodic"})["next_run"]
    h.advance(first)
    assert h.timeline() == [(first, "wake", "feed", None)]
    assert h.events[-1].deadline == first + PERIODIC_RUN
    assert h.events[-1].data == {"type": "periodic"}  # OnInvoke(ScheduledTask) knows its type
    assert h.advance(first + PERIODIC_RUN - 0.001) == []
    h.advance(first + PERIODIC_RUN)
    assert h.timeline()[1:] == [(first + PERIODIC_RUN, "expire", "feed", "time_limit"),
                                (first + PERIODIC_RUN, "terminate", "feed", "not_finished")]
    assert h.sched.limits("wp8").terminate_grace_s == 0


def test_notify_complete_before_25_seconds_ends_the_run_cleanly(harness) -> None:
    h = wp8(harness, "news")
    first = h.ok(0, "news", "add", {"name": "feed", "type": "periodic"})["next_run"]
    h.advance(first)
    data = h.ok(first + PERIODIC_RUN - 0.001, "news", "notify_complete")
    assert data["name"] == "feed" and data["state"] == "running"
    h.advance(first + 600)
    assert [e.type for e in h.events] == ["wake"]
    assert h.sched.tasks("news")["feed"]["last_outcome"] == "completed"


def test_a_grace_override_lets_notify_complete_after_expire_prevent_terminate(harness) -> None:
    h = wp8(harness, "news", limits={"wp8": {"terminate_grace_s": 2}})
    first = h.ok(0, "news", "add", {"name": "feed", "type": "periodic"})["next_run"]
    h.advance(first + PERIODIC_RUN)
    assert h.events[-1].type == "expire"
    assert h.ok(first + PERIODIC_RUN + 1, "news", "notify_complete")["state"] == "expired"
    h.advance(first + 600)
    assert [e.type for e in h.events] == ["wake", "expire"]


def test_without_notify_complete_terminate_comes_after_the_grace(harness) -> None:
    h = wp8(harness, "news", limits={"wp8": {"terminate_grace_s": 2}})
    first = h.ok(0, "news", "add", {"name": "feed", "type": "periodic"})["next_run"]
    h.advance(first + PERIODIC_RUN + 2 - 0.001)
    assert h.events[-1].type == "expire"
    h.advance(first + PERIODIC_RUN + 2)
    assert h.timeline()[-1] == (first + PERIODIC_RUN + 2, "terminate", "feed", "not_finished")


# -- periodic: battery saver -----------------------------------------------------------------
def test_battery_saver_blocks_periodic_runs_and_they_resume_after(harness) -> None:
    # 省電模式可以阻止執行: "如果此模式被啟用，即使超過了間隔時間，周期性代理可能不再運行。"
    slots = periodic_schedule(seed=0, until=6 * 3600)
    h = wp8(harness, "news", signals=Signals())
    h.ok(0, "news", "add", {"name": "feed", "type": "periodic"})
    h.advance(slots[0])
    h.set(slots[1] - 1, battery_saver=True)   # on just before run 2
    h.set(slots[3] - 1, battery_saver=False)  # off just before run 4
    h.advance(slots[4])
    assert wakes(h) == [slots[0], slots[3], slots[4]]
    view = h.sched.tasks("news")["feed"]
    assert view["skipped_runs"] == 2 and view["last_skip_reason"] == "battery_saver"
    assert view["is_scheduled"] is True


def test_battery_saver_switched_on_at_the_run_time_blocks_that_run(harness) -> None:
    slots = periodic_schedule(seed=0, until=3 * 3600)
    h = wp8(harness, "news", signals=Signals())
    h.ok(0, "news", "add", {"name": "feed", "type": "periodic"})
    h.set(slots[0] - 0.001, battery_saver=True)
    h.set(slots[0] + 0.001, battery_saver=False)
    h.advance(slots[1])
    assert wakes(h) == [slots[1]]


def test_unknown_battery_saver_state_blocks_periodic_runs(harness) -> None:
    # a stale signal reads conservatively: battery saver assumed on
    slots = periodic_schedule(seed=0, until=3 * 3600)
    h = wp8(harness, "news", signals=Signals())
    h.ok(0, "news", "add", {"name": "feed", "type": "periodic"})
    h.sched.set_signals(1, h.sched.signals.updated({}, stale=["battery_saver"]))
    h.advance(slots[1])
    assert wakes(h) == []


# -- caps --------------------------------------------------------------------------------------
def test_seventh_periodic_action_on_the_device_fails_with_the_bns_error(harness) -> None:
    # 各裝置的周期性代理限制: "它最低可以到6" … "對Add(ScheduledAction) 的調用將拋出一個
    # InvalidOperationException"
    apps = [f"app{i}" for i in range(7)]
    h = wp8(harness, *apps)
    for app in apps[:6]:
        h.ok(1, app, "add", {"name": "feed", "type": "periodic"})
    refused = h.error(2, "app6", "add", {"name": "feed", "type": "periodic"})
    assert refused.code == "invalid_operation"
    assert refused.error == MAX_ACTIONS_ERROR
    assert refused.error == ("BNS Error: The maximum number of ScheduledActions of this type "
                             "have already been added.")
    assert h.sched.tasks("app6") == {}
    # resource-intensive actions are not periodic agents: still allowed
    h.ok(3, "app6", "add", {"name": "sync", "type": "resource_intensive"})
    # removing one frees a place
    h.ok(4, "app0", "remove", {"name": "feed"})
    h.ok(5, "app6", "add", {"name": "feed", "type": "periodic"})


def test_unscheduled_actions_still_count_until_removed(harness) -> None:
    apps = [f"app{i}" for i in range(7)]
    h = wp8(harness, *apps)
    for app in apps[:6]:
        h.ok(0, app, "add", {"name": "feed", "type": "periodic", "expiration_time": 60})
    h.advance(61)  # all six expired (IsScheduled false) but still added
    assert h.error(62, "app6", "add", {"name": "feed", "type": "periodic"}).error == MAX_ACTIONS_ERROR
    # rescheduling an existing action from the foreground does not need a new place
    assert h.ok(63, "app0", "add", {"name": "feed", "type": "periodic"})["replaced"] is True


def test_device_cap_is_overridable(harness) -> None:
    h = wp8(harness, "a", "b", limits={"wp8": {"max_periodic_per_device": 1}})
    h.ok(0, "a", "add", {"name": "feed", "type": "periodic"})
    assert h.error(0, "b", "add", {"name": "feed", "type": "periodic"}).code == "invalid_operation"


def test_an_app_has_one_agent_periodic_and_or_resource_intensive(harness) -> None:
    # 後台代理的生命週期: "一個應用可能只有一個後台代理。這個代理可以被註冊為一個PeriodicTask，
    # 一個ResourceIntensiveTask，或兩者兼具。"
    h = wp8(harness, "mail", signals=Signals())
    h.ok(0, "mail", "add", {"name": "feed", "type": "periodic"})
    h.ok(0, "mail", "add", {"name": "sync", "type": "resource_intensive"})
    second = h.error(0, "mail", "add", {"name": "feed2", "type": "periodic"})
    assert second.code == "invalid_operation" and "feed" in second.error
    assert h.error(0, "mail", "add", {"name": "sync2", "type": "resource_intensive"}).code == (
        "invalid_operation")
    clash = h.error(0, "mail", "add", {"name": "feed", "type": "resource_intensive"})
    assert clash.code == "invalid_operation" and "periodic" in clash.error
    assert sorted(h.sched.tasks("mail")) == ["feed", "sync"]


def test_add_is_refused_outside_the_foreground(harness) -> None:
    # "代理必須通過前台進程才能重新調度"
    h = wp8(harness, "mail")
    h.ok(0, "mail", "state", {"state": "background"})
    refused = h.error(0, "mail", "add", {"name": "feed", "type": "periodic"})
    assert refused.code == "invalid_operation" and "foreground" in refused.error


# -- resource-intensive ------------------------------------------------------------------------
def test_resource_intensive_runs_at_once_for_10_minutes_then_expires(harness) -> None:
    h = wp8(harness, "mail")
    data = h.ok(5, "mail", "add", {"name": "sync", "type": "resource_intensive"})
    assert data["state"] == "running"
    assert h.timeline() == [(5, "wake", "sync", None)]
    assert h.events[0].deadline == 5 + RI_RUN
    assert h.events[0].data == {"type": "resource_intensive"}
    assert h.advance(5 + RI_RUN - 0.001) == []
    h.advance(5 + RI_RUN)
    assert h.timeline()[1:] == [(5 + RI_RUN, "expire", "sync", "time_limit"),
                                (5 + RI_RUN, "terminate", "sync", "not_finished")]


UNMET = [
    # (signal change, revoke reason, seed 003 line)
    ({"charger": "none"}, "charger_removed", "需要外部電源: 只有在裝置串連到一個外部電源時才運行"),
    ({"network": "none"}, "network_lost", "非蜂窩串連: 只有在建立Wi-Fi串連或通過串連到PC建立網路連接時才運行"),
    ({"network": "bluetooth"}, "network_lost", "非蜂窩串連"),
    ({"network": "cellular"}, "cellular_network", "非蜂窩串連 / 不能改變網路到蜂窩"),
    ({"battery_level": 90.0}, "battery_low", "最小電量: 只有在裝置的電量大於90%時才運行"),
    ({"screen_locked": False}, "screen_unlocked", "需要鎖屏: 只有在鎖屏時才會運行"),
    ({"on_call": True}, "call_started", "不通話: 不會在打電話時運行"),
]


@pytest.mark.parametrize(("change", "reason", "quote"), UNMET, ids=[u[1] + "-" + next(iter(u[0])) for u in UNMET])
def test_losing_a_condition_revokes_at_that_instant(harness, change, reason, quote) -> None:
    # "…之後裝置的狀態就發生了改變，然後其中某一項條件不再滿足，那麼這個資源密集型代理將立即終止。"
    h = wp8(harness, "mail")
    h.ok(0, "mail", "add", {"name": "sync", "type": "resource_intensive"})
    h.set(123.25, **change)
    assert h.timeline() == [(0, "wake", "sync", None),
                            (123.25, "revoke", "sync", reason),
                            (123.25, "terminate", "sync", "not_finished")]
    assert h.events[1].data == {"unmet": [reason]}
    h.advance(2 * RI_RUN)
    assert [e.type for e in h.events].count("expire") == 0


@pytest.mark.parametrize(("change", "reason", "quote"), UNMET, ids=[u[1] + "-" + next(iter(u[0])) for u in UNMET])
def test_no_start_until_every_condition_holds(harness, change, reason, quote) -> None:
    h = wp8(harness, "mail", signals=RI_OK.updated(change))
    assert h.ok(0, "mail", "add", {"name": "sync", "type": "resource_intensive"})["state"] == "waiting"
    assert h.ok(1, "mail", "status")["device"]["resource_intensive_unmet"] == [reason]
    h.advance(3600)
    assert wakes(h) == []
    restore = {k: getattr(RI_OK, k) for k in change}
    h.set(3600.5, **restore)
    assert h.timeline() == [(3600.5, "wake", "sync", None)]


def test_battery_must_be_strictly_above_90_percent(harness) -> None:
    # "資源密集型代理只有在裝置的電量大於90%時才運行。"
    h = wp8(harness, "mail", signals=RI_OK.updated({"battery_level": 90.0}))
    h.ok(0, "mail", "add", {"name": "sync", "type": "resource_intensive"})
    assert wakes(h) == []
    h.set(10, battery_level=90.01)
    assert wakes(h) == [10]
    h.set(20, battery_level=90.0)
    assert h.timeline()[-2] == (20, "revoke", "sync", "battery_low")


def test_several_conditions_lost_at_once_name_them_all(harness) -> None:
    h = wp8(harness, "mail")
    h.ok(0, "mail", "add", {"name": "sync", "type": "resource_intensive"})
    h.set(60, charger="none", screen_locked=False)
    revoke = h.events[1]
    assert revoke.reason == "charger_removed"
    assert revoke.data == {"unmet": ["charger_removed", "screen_unlocked"]}


def test_changes_that_keep_every_condition_do_not_revoke(harness) -> None:
    h = wp8(harness, "mail")
    h.ok(0, "mail", "add", {"name": "sync", "type": "resource_intensive"})
    h.set(10, network="ethernet")  # a connection through a PC still counts
    h.set(20, charger="usb")
    h.set(30, battery_level=91.0, battery_saver=True)  # battery saver only blocks periodic runs
    assert [e.type for e in h.events] == ["wake"]


def test_a_stale_charger_reading_revokes_as_signal_unknown(harness) -> None:
    h = wp8(harness, "mail")
    h.ok(0, "mail", "add", {"name": "sync", "type": "resource_intensive"})
    # signals.py: a stale signal is unknown (issue 9), and unknown holds no condition
    events = h.sched.set_signals(42, h.sched.signals.updated({}, stale=["charger"]))
    assert [(e.t, e.type, e.reason) for e in events] == [(42, "revoke", "signal_unknown"),
                                                         (42, "terminate", "not_finished")]
    assert events[0].data["unknown"] == ["charger"]
    status = h.ok(42, "mail", "status")
    assert status["device"]["resource_intensive_unmet"] == ["signal_unknown"]
    assert h.sched.tasks("mail")["sync"]["last_outcome"] == "revoked"


def test_only_one_resource_intensive_agent_runs_per_device(harness) -> None:
    # "同時，資源密集型代理只能有一個在運行"
    h = wp8(harness, "mail", "photos", "maps")
    h.ok(0, "mail", "add", {"name": "sync", "type": "resource_intensive"})
    h.ok(1, "photos", "add", {"name": "upload", "type": "resource_intensive"})
    h.ok(2, "maps", "add", {"name": "tiles", "type": "resource_intensive"})
    assert wakes(h) == [0]
    assert h.ok(3, "photos", "status")["tasks"]["upload"]["state"] == "waiting"
    h.ok(100, "mail", "notify_complete")
    assert h.timeline("photos") == [(100, "wake", "upload", None)]  # first eligible first
    h.advance(100 + RI_RUN)  # photos expires; maps starts at that instant
    assert h.timeline("maps") == [(100 + RI_RUN, "wake", "tiles", None)]


def test_completed_resource_intensive_runs_again_one_interval_later(harness) -> None:
    h = wp8(harness, "mail")
    h.ok(0, "mail", "add", {"name": "sync", "type": "resource_intensive"})
    h.ok(60, "mail", "notify_complete")
    again = 60 + h.sched.limits("wp8").resource_intensive_interval_s
    assert h.ok(61, "mail", "status")["tasks"]["sync"]["next_run"] == again
    h.advance(again - 0.001)
    assert wakes(h) == [0]
    h.advance(again)
    assert wakes(h) == [0, again]


def test_resource_intensive_after_the_interval_waits_for_conditions(harness) -> None:
    h = wp8(harness, "mail")
    h.ok(0, "mail", "add", {"name": "sync", "type": "resource_intensive"})
    h.ok(60, "mail", "notify_complete")
    h.set(100, screen_locked=False)
    h.advance(60 + INTERVAL + 600)
    assert wakes(h) == [0]
    h.set(60 + INTERVAL + 700, screen_locked=True)
    assert wakes(h) == [0, 60 + INTERVAL + 700]


def test_revoked_resource_intensive_runs_again_when_conditions_return(harness) -> None:
    h = wp8(harness, "mail")
    h.ok(0, "mail", "add", {"name": "sync", "type": "resource_intensive"})
    h.set(300, charger="none")
    h.set(900, charger="ac")
    assert wakes(h) == [0, 900]


def test_resource_intensive_waits_while_the_apps_periodic_agent_runs(harness) -> None:
    # "在某一時刻，只有一個代理的執行個體在運行。"
    h = wp8(harness, "mail", signals=RI_OK.updated({"charger": "none"}))
    first = h.ok(0, "mail", "add", {"name": "feed", "type": "periodic"})["next_run"]
    h.ok(0, "mail", "add", {"name": "sync", "type": "resource_intensive"})
    h.advance(first)
    h.set(first + 5, charger="ac")
    assert wakes(h) == [first]  # the periodic run is still going
    h.ok(first + 10, "mail", "notify_complete", {"name": "feed"})
    assert h.timeline()[-1] == (first + 10, "wake", "sync", None)


def test_periodic_run_due_while_the_agent_runs_is_skipped(harness) -> None:
    h = wp8(harness, "mail", limits={"wp8": {"resource_intensive_run_s": 3 * 3600}})
    h.ok(0, "mail", "add", {"name": "sync", "type": "resource_intensive"})
    h.ok(0, "mail", "add", {"name": "feed", "type": "periodic"})
    h.advance(3600)
    assert wakes(h) == [0]
    assert h.sched.tasks("mail")["feed"]["last_skip_reason"] == "agent_running"


# -- expiration ------------------------------------------------------------------------------
def test_expiration_defaults_to_two_weeks_and_must_be_less_than_that(harness) -> None:
    # "當action 是被Add(ScheduledAction)方法所調度時，此值必須被設定為小於兩周的時間。" (小於: <)
    h = wp8(harness, "a", "b", "c", signals=Signals())
    assert h.ok(100, "a", "add", {"name": "feed", "type": "periodic"})["expiration_time"] == (
        100 + TWO_WEEKS)
    ok = h.ok(100, "b", "add", {"name": "feed", "type": "periodic",
                                "expirationTime": 100 + TWO_WEEKS - 1})
    assert ok["expiration_time"] == 100 + TWO_WEEKS - 1
    refused = h.error(100, "c", "add", {"name": "feed", "type": "periodic",
                                        "expiration_time": 100 + TWO_WEEKS})
    assert refused.code == "argument_out_of_range" and "two weeks" in refused.error
    assert h.error(100, "c", "add", {"name": "feed", "type": "periodic",
                                     "expiration_time": 100}).code == "argument_out_of_range"
    assert h.ok(100, "c", "add", {"name": "feed", "type": "periodic",
                                  "expiration_time": "7d"})["expiration_time"] == 100 + 7 * DAY


@pytest.mark.parametrize("bad", [True, "7 weeks", [1], {"d": 7}, "-3d"])
def test_malformed_expiration_names_the_field(harness, bad) -> None:
    h = wp8(harness, "a")
    refused = h.error(0, "a", "add", {"name": "feed", "type": "periodic", "expiration_time": bad})
    assert refused.code == "invalid_args" and "expiration_time" in refused.error


def test_action_is_unscheduled_at_its_expiration_time(harness) -> None:
    h = wp8(harness, "news", signals=Signals())
    h.ok(0, "news", "add", {"name": "feed", "type": "periodic", "expiration_time": "3h"})
    h.advance(3 * 3600 - 0.001)
    assert all(e.type != "unscheduled" for e in h.events)
    runs_before = len(wakes(h))
    h.advance(3 * 3600)
    assert h.timeline()[-1] == (3 * 3600, "unscheduled", "feed", "expired")
    h.advance(DAY)
    assert len(wakes(h)) == runs_before
    view = h.sched.tasks("news")["feed"]
    assert view["is_scheduled"] is False and view["unscheduled_reason"] == "expired"


def test_rescheduling_from_the_foreground_resets_the_two_weeks(harness) -> None:
    # "當與任務關連的應用在前台運行時，它可能重新調度任務從而重新把運行期限設定為從現在開始的兩周。"
    h = wp8(harness, "news", signals=Signals())
    h.ok(0, "news", "add", {"name": "feed", "type": "periodic"})
    again = h.ok(DAY, "news", "add", {"name": "feed", "type": "periodic"})
    assert again["replaced"] is True and again["expiration_time"] == DAY + TWO_WEEKS
    h.advance(TWO_WEEKS + 1)
    assert all(e.type != "unscheduled" for e in h.events)


# -- memory ------------------------------------------------------------------------------------
def _running_periodic(h: Any, app: str = "news", **extra: Any) -> float:
    first: float = h.ok(0, app, "add", {"name": "feed", "type": "periodic", **extra})["next_run"]
    h.advance(first)
    return first


def test_memory_above_6_mb_terminates_the_agent_at_once(harness) -> None:
    # 記憶體使用量限制: "周期性代理和資源密集型代理不論任何時刻都不能使用超過6 MB記憶體。…
    # 如果一個Scheduled Task 超出了這個記憶體數量，它將被立即終止。"
    h = wp8(harness, "news", signals=Signals())
    first = _running_periodic(h)
    at_cap = h.ok(first + 1, "news", "report_memory", {"bytes": 6 * MIB})
    assert at_cap == {"name": "feed", "bytes": 6 * MIB, "limit_bytes": 6 * MIB, "terminated": False}
    over = h.ok(first + 2, "news", "report_memory", {"bytes": 6 * MIB + 1})
    assert over["terminated"] is True
    assert h.timeline()[-1] == (first + 2, "terminate", "feed", "memory_limit")
    assert h.events[-1].data == {"memory_bytes": 6 * MIB + 1, "limit_bytes": 6 * MIB}
    h.advance(first + PERIODIC_RUN)
    assert h.timeline()[-1][1] == "terminate"  # no expire for a run that is gone
    assert h.sched.tasks("news")["feed"]["consecutive_crashes"] == 1


def test_memory_in_mb_means_1048576_bytes(harness) -> None:
    h = wp8(harness, "news", signals=Signals())
    first = _running_periodic(h)
    assert h.ok(first + 1, "news", "report_memory", {"mb": 6})["bytes"] == 6 * MIB
    assert h.ok(first + 2, "news", "report_memory", {"mb": 6.001})["terminated"] is True


def test_audio_agents_get_15_mb(harness) -> None:
    # "音頻代理限制到15 MB。"
    h = wp8(harness, "radio", signals=Signals())
    first = _running_periodic(h, "radio", audio=True)
    assert h.ok(first + 1, "radio", "report_memory", {"bytes": 15 * MIB})["terminated"] is False
    assert h.ok(first + 2, "radio", "report_memory", {"bytes": 15 * MIB + 1})["terminated"] is True


@pytest.mark.parametrize("args", [{}, {"bytes": 1, "mb": 1}, {"bytes": -1}, {"bytes": "6MB"},
                                  {"mb": True}, {"bytes": 1, "extra": 2}])
def test_bad_memory_reports_are_errors(harness, args) -> None:
    h = wp8(harness, "news", signals=Signals())
    first = _running_periodic(h)
    assert h.error(first + 1, "news", "report_memory", args).code == "invalid_args"


def test_agent_calls_without_a_running_agent_are_invalid_operations(harness) -> None:
    h = wp8(harness, "news", signals=Signals())
    h.ok(0, "news", "add", {"name": "feed", "type": "periodic"})
    for verb, args in [("notify_complete", None), ("abort", None), ("report_memory", {"bytes": 1})]:
        refused = h.error(1, "news", verb, args)
        assert refused.code == "invalid_operation" and "no background agent" in refused.error


# -- crashes -----------------------------------------------------------------------------------
def test_two_consecutive_crashes_unschedule_the_action(harness) -> None:
    # 連續兩次崩潰後代理停止調度: "周期性和資源密集型代理都會在因為超出記憶體配額或且它任何未處理的
    # 異常連續兩次退出後停止調度。代理必須通過前台進程才能重新調度。"
    h = wp8(harness, "mail")
    h.ok(0, "mail", "add", {"name": "sync", "type": "resource_intensive"})
    h.ok(10, "mail", "report_memory", {"mb": 7})  # crash 1: memory cap
    assert h.sched.tasks("mail")["sync"]["is_scheduled"] is True
    again = h.sched.tasks("mail")["sync"]["next_run"]
    h.advance(again)
    h.ok(again + 10, "mail", "crash")  # crash 2: unhandled exception
    assert h.timeline()[-1] == (again + 10, "unscheduled", "sync", "crashes")
    view = h.sched.tasks("mail")["sync"]
    assert view["is_scheduled"] is False and view["consecutive_crashes"] == 2
    h.advance(again + DAY)
    assert wakes(h) == [0, again]
    # only the foreground app can bring it back
    assert h.ok(again + DAY, "mail", "add", {"name": "sync", "type": "resource_intensive"})[
        "state"] == "running"


def test_a_clean_run_resets_the_consecutive_crash_count(harness) -> None:
    h = wp8(harness, "mail", limits={"wp8": {"resource_intensive_interval_s": 60}})
    h.ok(0, "mail", "add", {"name": "sync", "type": "resource_intensive"})
    h.ok(10, "mail", "crash")
    h.advance(70)
    h.ok(80, "mail", "notify_complete")
    h.advance(140)
    h.ok(150, "mail", "crash")
    view = h.sched.tasks("mail")["sync"]
    assert view["is_scheduled"] is True and view["consecutive_crashes"] == 1
    assert all(e.type != "unscheduled" for e in h.events)


def test_timeouts_are_not_crashes_and_a_crash_outside_a_run_is_not_the_agents(harness) -> None:
    h = wp8(harness, "mail")
    h.ok(0, "mail", "add", {"name": "sync", "type": "resource_intensive"})
    h.ok(5, "mail", "crash")
    h.advance(5 + INTERVAL)
    h.advance(5 + INTERVAL + RI_RUN)  # second run times out
    h.ok(5 + INTERVAL + RI_RUN + 1, "mail", "crash")  # no agent running: the foreground app
    view = h.sched.tasks("mail")["sync"]
    assert view["consecutive_crashes"] == 1 and view["is_scheduled"] is True


# -- abort -------------------------------------------------------------------------------------
def test_abort_unschedules_and_is_scheduled_becomes_false(harness) -> None:
    # "如果代理不能執行它的任務 … 那麼代理應該調用Abort，這使得IsScheduled 屬性被置為false。"
    h = wp8(harness, "news", signals=Signals())
    first = _running_periodic(h)
    assert h.ok(first + 3, "news", "abort") == {"name": "feed", "is_scheduled": False}
    assert h.timeline()[-1] == (first + 3, "unscheduled", "feed", "abort")
    view = h.sched.tasks("news")["feed"]
    assert view["is_scheduled"] is False and view["state"] == "unscheduled"
    h.advance(DAY)
    assert wakes(h) == [first]


def test_notify_complete_names_must_match_the_running_agent(harness) -> None:
    h = wp8(harness, "news", signals=Signals())
    first = _running_periodic(h)
    refused = h.error(first + 1, "news", "notify_complete", {"name": "other"})
    assert refused.code == "invalid_operation" and "feed" in refused.error


# -- launch_for_test ---------------------------------------------------------------------------
def test_launch_for_test_runs_after_the_delay_regardless_of_schedule(harness) -> None:
    # platform-budgets.md section 5: ScheduledActionService.LaunchForTest(string name, TimeSpan delay)
    h = wp8(harness, "mail", signals=RI_OK.updated({"charger": "none"}))
    h.ok(0, "mail", "add", {"name": "sync", "type": "resource_intensive"})
    assert h.ok(10, "mail", "launch_for_test", {"name": "sync", "delay": "30s"}) == {
        "name": "sync", "launch_at": 40.0}
    h.advance(40 - 0.001)
    assert wakes(h) == []
    h.advance(40)
    assert h.timeline() == [(40, "wake", "sync", None)]
    assert h.events[0].deadline == 40 + RI_RUN
    assert h.events[0].data == {"type": "resource_intensive", "launch_for_test": True}
    h.set(50, network="cellular")  # a test run is not revoked
    h.advance(40 + RI_RUN)
    assert [e.type for e in h.events] == ["wake", "expire", "terminate"]


def test_launch_for_test_errors_are_invalid_operation(harness) -> None:
    h = wp8(harness, "news", signals=Signals())
    missing = h.error(0, "news", "launch_for_test", {"name": "feed", "delay": 0})
    assert missing.code == "invalid_operation" and "not registered" in missing.error
    h.ok(0, "news", "add", {"name": "feed", "type": "periodic", "expiration_time": 100})
    h.ok(100 - 0.001, "news", "launch_for_test", {"name": "feed", "delay": 0})
    expired = h.error(100, "news", "launch_for_test", {"name": "feed", "delay": 0})
    assert expired.code == "invalid_operation" and "ExpirationTime" in expired.error
    bad = h.error(100, "news", "launch_for_test", {"name": "feed", "delay": -1})
    assert bad.code == "invalid_args" and "delay" in bad.error


def test_launch_for_test_waits_for_the_running_agent(harness) -> None:
    h = wp8(harness, "mail")
    h.ok(0, "mail", "add", {"name": "sync", "type": "resource_intensive"})
    h.ok(0, "mail", "add", {"name": "feed", "type": "periodic"})
    h.ok(1, "mail", "launch_for_test", {"name": "feed", "delay": 5})
    h.advance(100)
    assert wakes(h) == [0]
    h.ok(100, "mail", "notify_complete")
    assert h.timeline()[-1] == (100, "wake", "feed", None)


# -- persistence -------------------------------------------------------------------------------
def test_state_survives_a_restart_without_a_duplicate_wake(harness) -> None:
    h = wp8(harness, "news", "mail", signals=RI_OK, seed=9)
    first = h.ok(0, "news", "add", {"name": "feed", "type": "periodic"})["next_run"]
    h.ok(0, "mail", "add", {"name": "sync", "type": "resource_intensive"})
    h.advance(first + 1)  # both agents are running
    saved = h.sched.dump()
    reference = wp8(harness, "news", "mail", signals=RI_OK, seed=9)
    reference.ok(0, "news", "add", {"name": "feed", "type": "periodic"})
    reference.ok(0, "mail", "add", {"name": "sync", "type": "resource_intensive"})
    reference.advance(DAY)

    h2 = harness(signals=RI_OK, seed=9, now=first + 1)
    h2.sched.load(saved)
    h2.advance(DAY)
    # same events, same per-app seq numbers, as if the rig had never restarted
    after = [(e.t, e.app, e.type, e.task_id, e.seq) for e in reference.events if e.t > first + 1]
    assert [(e.t, e.app, e.type, e.task_id, e.seq) for e in h2.events] == after
    assert all(e.type != "wake" or e.t > first + 1 for e in h2.events)
    assert h2.sched.tasks("news") == reference.sched.tasks("news")


def test_caps_and_waiting_tasks_survive_a_restart(harness) -> None:
    apps = [f"app{i}" for i in range(7)]
    h = wp8(harness, *apps, signals=RI_OK.updated({"screen_locked": False}))
    for app in apps[:6]:
        h.ok(0, app, "add", {"name": "feed", "type": "periodic"})
    h.ok(0, "app6", "add", {"name": "sync", "type": "resource_intensive"})
    h2 = harness(signals=RI_OK.updated({"screen_locked": False}), now=10)
    h2.sched.load(h.sched.dump())
    assert h2.error(10, "app6", "add", {"name": "feed", "type": "periodic"}).error == MAX_ACTIONS_ERROR
    h2.set(20, screen_locked=True)
    assert h2.timeline("app6") == [(20, "wake", "sync", None)]


def test_after_a_restart_a_lost_condition_revokes_on_resume(harness) -> None:
    h = wp8(harness, "mail")
    h.ok(0, "mail", "add", {"name": "sync", "type": "resource_intensive"})
    h2 = harness(signals=RI_OK.updated({"charger": "none"}), now=30)
    h2.sched.load(h.sched.dump())
    h2.events += h2.sched.resume(30, h2.sched.signals)
    assert h2.timeline() == [(30, "revoke", "sync", "charger_removed"),
                             (30, "terminate", "sync", "not_finished")]


# -- scale and bad input -----------------------------------------------------------------------
def test_signal_change_with_ten_thousand_tasks_touches_only_the_running_one(harness) -> None:
    h = harness(signals=RI_OK)
    for i in range(10_000):
        h.ok(0, f"a{i}", "register", {"platform": "wp8"})
        h.ok(0, f"a{i}", "add", {"name": "sync", "type": "resource_intensive"})
    assert h.timeline() == [(0, "wake", "sync", None)]
    assert [e.type for e in h.set(1, charger="none")] == ["revoke", "terminate"]
    assert h.set(2, battery_level=96.0) == []
    assert [(e.app, e.type) for e in h.set(3, charger="ac")] == [("a0", "wake")]


VERBS = ["add", "remove", "launch_for_test", "notify_complete", "abort", "report_memory",
         "status", "crash", "state"]
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**12, 10**12) | st.floats(allow_nan=True)
    | st.text(max_size=12) | st.sampled_from(["periodic", "resource_intensive", "feed", "7d"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8)
json_args = st.none() | json_values | st.dictionaries(
    st.sampled_from(["name", "type", "expiration_time", "delay", "bytes", "mb", "audio",
                     "description", "state", "x"]), json_values, max_size=5)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(VERBS), json_args), max_size=8))
def test_any_request_gets_a_response_never_an_exception(requests) -> None:
    sched = Scheduler(signals=RI_OK)
    sched.handle(0, "app", "register", {"platform": "wp8"})
    sched.handle(0, "app", "add", {"name": "feed", "type": "periodic"})
    for i, (verb, args) in enumerate(requests):
        response, _ = sched.handle(float(i), "app", verb, args)
        assert response.status in ("ok", "error")
        if not response.ok:
            assert response.code and response.error
    sched.advance(2 * DAY)
    assert isinstance(sched.dump(), dict)


# -- issue 10: seed 003 rules not modelled before ----------------------------------------------------
def test_periodic_warning_threshold_below_the_hard_cap(harness) -> None:
    """seed 003: "還有一個限制低於硬規定數，在超過這個限制之後使用者被警告有多個後台代理運行從而使電量被快速消耗"
    (the number is UNCONFIRMED: a labelled limit)."""
    from firmware_sim.platforms.wp8 import WP8Limits

    lim = WP8Limits()
    assert lim.periodic_warning_count < lim.max_periodic_per_device
    assert "UNCONFIRMED" in WP8Limits.source_of("periodic_warning_count")
    h = harness()
    answers = []
    for i in range(lim.max_periodic_per_device):
        h.ok(0, f"a{i}", "register", {"platform": "wp8"})
        answers.append(h.ok(0, f"a{i}", "add", {"name": "sync", "type": "periodic"}))
    warned = [i + 1 for i, a in enumerate(answers) if "user_warning" in a]
    assert warned == list(range(lim.periodic_warning_count + 1, lim.max_periodic_per_device + 1))
    assert h.ok(0, "a0", "status")["device"]["user_warned"] is True


def test_tile_update_extends_the_agent_lifetime_to_two_weeks(harness) -> None:
    """seed 003: "如果你的應用的Tile被固定在開始畫面上了,你的後台代理在任何調用Update(ShellTileData)
    來更新Tile時,其存留時間會被自動擴充到兩周"."""
    day = 86400.0
    h = harness()
    h.ok(0, "app", "register", {"platform": "wp8", "tile_pinned": True})
    h.ok(0, "app", "add", {"name": "sync", "type": "periodic", "expiration_time": "7d"})
    data = h.ok(6 * day, "app", "update_tile")
    assert data == {"extended": True, "expiration_time": 20 * day, "names": ["sync"]}
    h.advance(19 * day)
    assert not [e for e in h.events if e.type == "unscheduled"]
    h.advance(20 * day)
    assert [(e.t, e.reason) for e in h.events if e.type == "unscheduled"] == [(20 * day, "expired")]


def test_tile_update_without_a_pinned_tile_extends_nothing(harness) -> None:
    h = harness()
    h.ok(0, "app", "register", {"platform": "wp8"})
    h.ok(0, "app", "add", {"name": "sync", "type": "periodic", "expiration_time": "7d"})
    assert h.ok(10, "app", "update_tile")["extended"] is False
    assert h.ok(10, "app", "status")["tasks"]["sync"]["expiration_time"] == 7 * 86400.0


def test_mobile_broadband_association_fails_in_a_resource_intensive_agent(harness) -> None:
    """seed 003: "如果一個資源密集型代理試圖調用AssociateToNetworkInterface(Socket,
    NetworkInterfaceInfo) 時指定了MobileBroadbandGSM或MobileBroadbandCDMA,調用會失敗"."""
    from firmware_sim import Signals

    h = harness(signals=Signals(charger="ac", network="wifi", battery_level=95, screen_locked=True))
    h.ok(0, "app", "register", {"platform": "wp8"})
    h.ok(0, "app", "add", {"name": "upload", "type": "resource_intensive"})
    assert h.events[-1].type == "wake"
    err = h.error(1, "app", "associate_to_network_interface", {"interface_type": "mobile_broadband_gsm"})
    assert err.code == "network_interface_refused"
    assert h.ok(2, "app", "associate_to_network_interface",
                {"interface_type": "wireless80211"})["associated"] is True
