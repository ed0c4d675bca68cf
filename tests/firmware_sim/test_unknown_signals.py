"""Unknown is not a guess (issue 9 item 1): a stale signal satisfies no condition of any platform,
its inverse neither; running work whose condition turns unknown is revoked, naming the signal."""

from __future__ import annotations

from typing import Any

import pytest

from firmware_sim import Signals
from firmware_sim.signals import SIGNAL_UNKNOWN

PLUGGED = Signals(charger="ac", network="wifi", battery_level=80.0, screen_locked=True)


def stale(h: Any, t: float, *names: str) -> list[Any]:
    events = h.sched.set_signals(t, h.sched.signals.updated({}, t=t, stale=names))
    h.events += events
    return events


def known(h: Any, t: float, **values: Any) -> list[Any]:
    return h.set(t, **values)  # a fresh value clears the stale mark


def harmony(harness: Any, signals: Signals, **info: Any) -> Any:
    h = harness(signals)
    h.ok(0, "mail", "register", {"platform": "harmonyos", "group": "exempt"})
    h.ok(0, "mail", "start_work", {"work_id": 1, "bundle_name": "com.example.mail",
                                   "ability_name": "MailWork", **info})
    return h


def test_reason_is_one_named_constant() -> None:
    assert SIGNAL_UNKNOWN == "signal_unknown"


# -- the two inversions issue 9 reports ------------------------------------------------------------
def test_harmonyos_battery_low_work_does_not_wake_on_a_stale_gauge(harness) -> None:
    # issue 9: "a HarmonyOS work with battery_status: low wakes when the gauge goes stale
    # (0 % counts as low)"
    h = harmony(harness, PLUGGED, battery_status="low")
    assert h.events == []
    assert stale(h, 10, "battery_level") == []
    h.advance(3600)
    assert h.events == []
    known(h, 3600, battery_level=5.0)  # known again, and low: now it starts
    assert h.timeline() == [(3600, "wake", "1", None)]


def test_harmonyos_unplugged_work_does_not_wake_on_a_stale_charger(harness) -> None:
    # issue 9: "one with is_charging: false wakes when the charger signal goes stale"
    h = harmony(harness, PLUGGED, is_charging=False)
    assert h.events == []
    assert stale(h, 10, "charger") == []
    known(h, 20, charger="none")
    assert h.timeline() == [(20, "wake", "1", None)]


def test_harmonyos_level_work_waiting_through_an_unknown_spell_starts_when_known(harness) -> None:
    h = harmony(harness, Signals(battery_level=30.0), battery_level=50)
    stale(h, 10, "battery_level")
    known(h, 20, battery_level=60.0)  # no threshold "crossing" seen, still re-checked
    assert h.timeline() == [(20, "wake", "1", None)]


def test_harmonyos_running_work_is_revoked_naming_the_unknown_signal(harness) -> None:
    h = harmony(harness, PLUGGED, is_charging=True, charger_type="ac")
    assert h.timeline() == [(0, "wake", "1", None)]
    stale(h, 30, "charger")
    assert h.timeline()[-1] == (30, "revoke", "1", SIGNAL_UNKNOWN)
    assert h.events[-1].data == {"unknown": ["charger"]}
    # the event's snapshot shows the charger as unknown, never as a value
    snap = h.events[-1].to_dict()["signals"]
    assert snap["charger"] is None and snap["stale"] == ["charger"]


def test_harmonyos_unrelated_unknown_signal_leaves_work_alone(harness) -> None:
    h = harmony(harness, PLUGGED, network_type="wifi")
    assert stale(h, 30, "battery_level", "charger") == []


# -- Android ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(("constraints", "signal"), [
    ({"requires_charging": True}, "charger"),
    ({"requires_battery_not_low": True}, "battery_level"),
    ({"required_network_type": "unmetered"}, "metered"),
    ({"required_network_type": "connected"}, "network"),
    ({"requires_storage_not_low": True}, "storage_low"),
    ({"requires_device_idle": True}, "idle"),
])
def test_android_constraint_with_unknown_signal_never_starts(harness, constraints, signal) -> None:
    h = harness(Signals(charger="ac", network="wifi", battery_level=80.0, idle=True))
    h.ok(0, "app", "register", {"platform": "android", "bucket": "active"})
    stale(h, 0, signal)
    h.ok(0, "app", "enqueue", {"id": "w", "constraints": constraints})
    h.advance(3600)
    assert h.events == []
    assert h.sched.signals.effective().unknown == {signal}
    known(h, 3601, **{signal: getattr(h.sched.signals, signal)})
    assert h.timeline() == [(3601, "wake", "w", None)]


def test_android_battery_not_low_does_not_read_an_unknown_level_as_low_or_okay(harness) -> None:
    h = harness(Signals(charger="none", battery_level=80.0))
    h.ok(0, "app", "register", {"platform": "android", "bucket": "active"})
    h.ok(0, "app", "enqueue", {"id": "w", "constraints": {"requires_battery_not_low": True}})
    assert h.timeline() == [(0, "wake", "w", None)]
    stale(h, 5, "battery_level")
    assert h.timeline()[-1] == (5, "revoke", "w", SIGNAL_UNKNOWN)
    assert h.events[-1].data == {"unknown": ["battery_level"]}


# -- WP8 --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("signal", ["charger", "network", "battery_level", "screen_locked",
                                    "on_call"])
def test_wp8_resource_intensive_waits_while_any_condition_is_unknown(harness, signal) -> None:
    h = harness(Signals(charger="ac", network="wifi", battery_level=95.0, screen_locked=True))
    h.ok(0, "mail", "register", {"platform": "wp8"})
    stale(h, 0, signal)
    h.ok(0, "mail", "add", {"name": "sync", "type": "resource_intensive"})
    h.advance(3600)
    assert h.events == []
    assert h.ok(3600, "mail", "status")["device"]["resource_intensive_unmet"] == [SIGNAL_UNKNOWN]
    known(h, 3600, **{signal: getattr(h.sched.signals, signal)})
    assert [e.type for e in h.events] == ["wake"]
    stale(h, 3700, signal)
    assert h.timeline()[-1][1:] in {("revoke", "sync", SIGNAL_UNKNOWN),
                                    ("terminate", "sync", "not_finished")}
    revoke = next(e for e in h.events if e.type == "revoke")
    assert revoke.data["unknown"] == [signal]


def test_wp8_periodic_run_is_skipped_while_battery_saver_is_unknown(harness) -> None:
    h = harness(Signals())
    h.ok(0, "mail", "register", {"platform": "wp8"})
    stale(h, 0, "battery_saver")
    h.ok(0, "mail", "add", {"name": "poll", "type": "periodic"})
    h.advance(6 * 3600)
    assert [e for e in h.events if e.type == "wake"] == []
    assert h.sched.tasks("mail")["poll"]["last_skip_reason"] == SIGNAL_UNKNOWN


# -- iOS --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("signal", ["battery_level", "low_power_mode"])
def test_ios_refresh_waits_while_the_battery_gates_are_unknown(harness, signal) -> None:
    h = harness(Signals(battery_level=80.0))
    h.ok(0, "app", "register", {"platform": "ios"})
    h.ok(0, "app", "state", {"state": "background"})
    stale(h, 0, signal)
    h.ok(0, "app", "submit", {"type": "refresh", "identifier": "feed", "earliest_begin": 60})
    h.advance(3600)
    assert [e.task_id for e in h.events if e.type == "wake"] == ["did_enter_background"]
    assert h.sched.tasks("app")["feed"]["waiting_for"] == SIGNAL_UNKNOWN
    known(h, 3600, **{signal: getattr(h.sched.signals, signal)})
    assert ("wake", "feed") in [(e.type, e.task_id) for e in h.events]


@pytest.mark.parametrize(("signal", "args"), [
    ("idle", {}),
    ("charger", {"requires_external_power": True}),
    ("network", {"requires_network_connectivity": True}),
])
def test_ios_processing_never_starts_on_unknown_and_is_revoked_by_it(harness, signal, args) -> None:
    h = harness(Signals(idle=True, charger="ac", network="wifi"))
    h.ok(0, "app", "register", {"platform": "ios"})
    stale(h, 0, signal)
    h.ok(0, "app", "submit", {"type": "processing", "identifier": "ml", **args})
    h.advance(600)
    assert h.events == []
    assert h.sched.tasks("app")["ml"]["waiting_for"] == SIGNAL_UNKNOWN
    known(h, 600, **{signal: getattr(h.sched.signals, signal)})
    assert h.timeline() == [(600, "wake", "ml", None)]
    stale(h, 700, signal)
    assert h.timeline()[-1] == (700, "revoke", "ml", SIGNAL_UNKNOWN)
    assert h.events[-1].data == {"unknown": [signal]}


# -- UWP --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("family", "signal"), [("mobile", "screen_locked"),
                                                ("desktop", "screen_locked"),
                                                ("desktop", "idle")])
def test_uwp_unspecified_session_refused_and_revoked_on_unknown_standby(harness, family,
                                                                         signal) -> None:
    # out of standby by the *other* signal's value only: locked but not idle (desktop)
    locked = family == "desktop" and signal == "idle"
    h = harness(Signals(charger="ac", screen_locked=locked, idle=not locked),
                limits={"uwp": {"device_family": family}})
    h.ok(0, "app", "register", {"platform": "uwp"})
    assert h.ok(0, "app", "request_extension", {"reason": "unspecified"})["result"] == "allowed"
    stale(h, 10, signal)
    assert h.timeline()[-1] == (10, "revoke", "session-1", SIGNAL_UNKNOWN)
    assert h.events[-1].data["unknown"] == [signal]
    h.ok(11, "app", "dispose")
    assert h.ok(12, "app", "request_extension",
                {"reason": "unspecified"})["denied_because"] == SIGNAL_UNKNOWN


def test_uwp_desktop_standby_known_false_by_one_signal_survives_the_other_unknown(harness) -> None:
    # desktop Connected Standby needs screen_locked AND idle: unlocked is enough to know it is off
    h = harness(Signals(charger="ac", screen_locked=False, idle=True),
                limits={"uwp": {"device_family": "desktop"}})
    h.ok(0, "app", "register", {"platform": "uwp"})
    h.ok(0, "app", "request_extension", {"reason": "unspecified"})
    assert stale(h, 10, "idle") == []


def test_uwp_unknown_charger_counts_as_battery_time(harness) -> None:
    # the unlimited-on-wall-power privilege needs a known charger: the battery clock runs
    h = harness(Signals(charger="ac"))
    h.ok(0, "app", "register", {"platform": "uwp"})
    h.ok(0, "app", "request_extension", {"reason": "unspecified"})
    h.ok(0, "app", "state", {"state": "background"})
    stale(h, 100, "charger")
    h.advance(100 + 600)
    assert h.timeline()[-1] == (700, "revoke", "session-1", "system_policy")


def test_status_says_a_waiting_work_waits_for_an_unknown_signal(harness) -> None:
    h = harmony(harness, Signals(battery_level=30.0), battery_level=50)
    stale(h, 10, "battery_level")
    view = h.ok(10, "mail", "status")["tasks"]
    assert next(iter(view.values()))["waiting_for"] == ["unknown:battery_level"]
    a = harness(Signals(charger="ac"))
    a.ok(0, "app", "register", {"platform": "android", "bucket": "active"})
    stale(a, 0, "charger")
    a.ok(0, "app", "enqueue", {"id": "w", "constraints": {"requires_charging": True}})
    assert a.sched.tasks("app")["w"]["waiting_for"] == ["unknown:charger"]
