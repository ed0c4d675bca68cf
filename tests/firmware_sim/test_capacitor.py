"""Capacitor BackgroundTask: beforeExit / finish with a 3-minute budget (seed 000)."""

from __future__ import annotations

from firmware_sim.platforms.capacitor import CapacitorLimits

BUDGET = 180.0  # seed 000: "注意：任务必须在 3 分钟内完成，否则应用可能被系统终止。"


def test_budget_is_three_minutes_from_seed_000() -> None:
    assert CapacitorLimits().before_exit_s == BUDGET
    assert "seed 000" in CapacitorLimits.source_of("before_exit_s")


def test_before_exit_wakes_at_once_with_deadline(harness) -> None:
    h = harness()
    h.ok(0, "cap", "register", {"platform": "capacitor"})
    data = h.ok(10, "cap", "before_exit")
    assert data == {"task_id": "task-1", "deadline": 10 + BUDGET}
    assert h.timeline() == [(10, "wake", "task-1", None)]
    assert h.events[0].deadline == 10 + BUDGET


def test_expire_exactly_at_three_minutes_then_terminate(harness) -> None:
    h = harness()
    h.ok(0, "cap", "register", {"platform": "capacitor"})
    h.ok(0, "cap", "before_exit")
    assert h.advance(BUDGET - 0.001) == []  # just before the limit: still running
    h.advance(BUDGET)
    assert h.timeline()[-1] == (BUDGET, "expire", "task-1", "time_limit")
    grace = h.sched.limits("capacitor").terminate_grace_s
    assert h.advance(BUDGET + grace - 0.001) == []
    h.advance(BUDGET + grace)
    assert h.timeline()[-1] == (BUDGET + grace, "terminate", "task-1", "not_finished")
    assert [e.seq for e in h.events] == [1, 2, 3]


def test_finish_before_deadline_ends_cleanly(harness) -> None:
    h = harness()
    h.ok(0, "cap", "register", {"platform": "capacitor"})
    h.ok(0, "cap", "before_exit")
    h.ok(BUDGET - 1, "cap", "finish", {"taskId": "task-1"})  # camelCase alias accepted
    h.advance(3600)
    assert [e.type for e in h.events] == ["wake"]
    assert h.sched.next_deadline() is None


def test_finish_after_expire_prevents_terminate(harness) -> None:
    h = harness()
    h.ok(0, "cap", "register", {"platform": "capacitor"})
    h.ok(0, "cap", "before_exit")
    h.advance(BUDGET)
    data = h.ok(BUDGET + 1, "cap", "finish", {"task_id": "task-1"})
    assert data["state"] == "expired"
    h.advance(3600)
    assert [e.type for e in h.events] == ["wake", "expire"]


def test_unknown_task_id_is_an_error(harness) -> None:
    h = harness()
    h.ok(0, "cap", "register", {"platform": "capacitor"})
    response = h.error(1, "cap", "finish", {"task_id": "nope"})
    assert response.code == "unknown_task"
    assert "nope" in response.error


def test_override_budget(harness) -> None:
    h = harness(limits={"capacitor": {"before_exit_s": 30}})
    h.ok(0, "cap", "register", {"platform": "capacitor"})
    assert h.ok(0, "cap", "before_exit")["deadline"] == 30.0


def test_state_survives_restart_without_duplicate_wake(harness) -> None:
    h = harness()
    h.ok(0, "cap", "register", {"platform": "capacitor"})
    h.ok(0, "cap", "before_exit")
    saved = h.sched.dump()
    h2 = harness(now=60)
    h2.sched.load(saved)
    h2.advance(BUDGET)
    assert h2.timeline() == [(BUDGET, "expire", "task-1", "time_limit")]
    assert h2.events[0].seq == 2  # seq continues, no second wake


def test_crash_ends_the_task_with_no_later_expire_or_terminate(harness) -> None:
    """seed 000: the task runs in the app ("任务必须在 3 分钟内完成，否则应用可能被系统终止"); a
    crashed app's callback is gone with its process: no expire / terminate afterwards."""
    h = harness()
    h.ok(0, "cap", "register", {"platform": "capacitor"})
    h.ok(0, "cap", "before_exit")
    h.ok(60, "cap", "crash")
    h.advance(BUDGET * 10)
    assert [e.type for e in h.events] == ["wake"]
    assert h.sched.tasks("cap") == {}
    assert h.sched.apps["cap"].state == "terminated"
    assert h.error(BUDGET * 10, "cap", "finish", {"task_id": "task-1"}).code == "unknown_task"
