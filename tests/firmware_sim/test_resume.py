"""Resume after a restart (issue 8 item 2, policy side): restored tasks meet the live signals.

``Scheduler.resume(now, signals)`` runs once after ``load``: running tasks whose conditions no
longer hold are stopped as a live edge would stop them, and works the platform drops on reboot
get ``unscheduled`` with reason ``restart``.
"""

from __future__ import annotations

from typing import Any

from firmware_sim import Event, Scheduler, Signals
from firmware_sim.scheduler import RESTART

PLUGGED = Signals(battery_level=95, charger="ac", network="wifi", screen_locked=True)
UNPLUGGED = PLUGGED.updated({"charger": "none"})


def restarted(before: Scheduler, now: float, live: Signals) -> tuple[Scheduler, list[Event]]:
    """A new scheduler built as the driver builds one (default signals), loaded and resumed."""
    after = Scheduler(now=now)
    after.load(before.dump())
    return after, after.resume(now, live)


def summary(events: list[Event]) -> list[tuple[str, str, str | None, str | None]]:
    return [(e.app, e.type, e.task_id, e.reason) for e in events]


def test_a_running_charging_worker_is_revoked_when_the_rig_comes_back_unplugged() -> None:
    s = Scheduler(signals=PLUGGED)
    s.handle(0, "pics", "register", {"platform": "android"})
    _, woke = s.handle(0, "pics", "enqueue", {"id": "up", "constraints": {"requires_charging": True}})
    assert summary(woke) == [("pics", "wake", "up", None)]
    after, events = restarted(s, 60, UNPLUGGED)
    assert summary(events) == [("pics", "revoke", "up", "charger_removed")]
    assert events[0].seq == 2  # seq continues across the restart
    assert after.tasks("pics")["up"]["state"] == "enqueued"


def test_a_charging_work_and_non_persisted_works_on_harmonyos() -> None:
    s = Scheduler(signals=PLUGGED)
    s.handle(0, "mail", "register", {"platform": "harmonyos", "group": "exempt"})
    base: dict[str, Any] = {"bundle_name": "mail", "ability_name": "Sync"}
    s.handle(0, "mail", "start_work", {**base, "work_id": 1, "is_charging": True,
                                       "charger_type": "ac", "is_persisted": True})
    s.handle(0, "mail", "start_work", {**base, "work_id": 2, "network_type": "wifi"})
    after, events = restarted(s, 30, UNPLUGGED)
    assert summary(events) == [("mail", "unscheduled", "2", RESTART),
                               ("mail", "revoke", "1", "charger_removed")]
    assert after.tasks("mail") == {}  # a one-shot work ends with its run, however it ends


def test_unchanged_signals_resume_without_events_and_without_a_second_wake() -> None:
    s = Scheduler(signals=PLUGGED)
    s.handle(0, "pics", "register", {"platform": "android"})
    s.handle(0, "pics", "enqueue", {"id": "up", "constraints": {"requires_charging": True}})
    after, events = restarted(s, 60, PLUGGED)
    assert events == []
    assert [e.type for e in after.advance(700)] == ["expire", "wake"]  # timeout, 30 s backoff, retry


def test_in_process_tasks_do_not_survive_a_restart() -> None:
    """Capacitor beforeExit, UWP extended execution and iOS beginBackgroundTask live in the app
    process; a restart ends them (``unscheduled``, reason ``restart``), then nothing fires."""
    s = Scheduler(signals=PLUGGED)
    s.handle(0, "cap", "register", {"platform": "capacitor"})
    s.handle(0, "cap", "before_exit", {"task_id": "upload"})
    s.handle(0, "rec", "register", {"platform": "uwp"})
    ext, _ = s.handle(0, "rec", "request_extension", {"reason": "unspecified"})
    assert ext.data["result"] == "allowed"
    s.handle(0, "news", "register", {"platform": "ios"})
    bg, _ = s.handle(0, "news", "begin_background_task", {"name": "save"})
    after, events = restarted(s, 10, PLUGGED)
    assert sorted(summary(events)) == sorted([
        ("cap", "unscheduled", "upload", RESTART),
        ("rec", "unscheduled", ext.data["session_id"], RESTART),
        ("news", "unscheduled", bg.data["task_id"], RESTART),
    ])
    assert after.tasks("cap") == {} and after.tasks("rec") == {}
    assert bg.data["task_id"] not in after.tasks("news")
    assert [e for e in after.advance(3600) if e.app in ("cap", "rec")] == []


def test_the_wp8_resource_intensive_agent_is_stopped_on_resume_as_by_a_live_edge() -> None:
    def rig() -> Scheduler:
        s = Scheduler(signals=PLUGGED)
        s.handle(0, "mail", "register", {"platform": "wp8"})
        _, woke = s.handle(0, "mail", "add", {"name": "sync", "type": "resource_intensive"})
        assert [e.type for e in woke] == ["wake"]
        return s

    live = summary(rig().set_signals(60, UNPLUGGED))
    assert live[0] == ("mail", "revoke", "sync", "charger_removed")
    _, events = restarted(rig(), 60, UNPLUGGED)
    assert summary(events) == live


def test_an_ios_processing_task_needing_power_is_revoked_on_resume() -> None:
    s = Scheduler(signals=PLUGGED.updated({"idle": True}))
    s.handle(0, "news", "register", {"platform": "ios"})
    s.handle(0, "news", "state", {"state": "background"})
    s.handle(0, "news", "submit", {"identifier": "index", "type": "processing",
                                   "requires_external_power": True})
    assert ("wake", "index") in [(e.type, e.task_id) for e in s.advance(10)]
    _, events = restarted(s, 60, UNPLUGGED.updated({"idle": True}))
    assert summary(events) == [("news", "revoke", "index", "charger_removed")]
