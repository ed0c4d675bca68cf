"""Timers as handles: order, cancel, re-arm (firmware_sim.timers, policy.TimerMap)."""

from __future__ import annotations

import pytest

from firmware_sim import Scheduler
from firmware_sim.policy import TimerMap, app_label
from firmware_sim.timers import TimerHeap


def drain(heap: TimerHeap, now: float) -> list[str]:
    out = []
    while (h := heap.pop_due(now)) is not None:
        h.callback()
        out.append(h.app or "")
    return out


def test_due_timers_fire_by_time_then_in_arming_order() -> None:
    heap = TimerHeap()
    for name, at in (("b", 5.0), ("a", 1.0), ("c", 5.0), ("d", 9.0)):
        heap.push(at, lambda: None, app=name)
    assert heap.peek() == 1.0
    assert drain(heap, 5.0) == ["a", "b", "c"]
    assert heap.peek() == 9.0 and len(heap) == 1


def test_a_cancelled_timer_never_fires_and_cancel_is_idempotent() -> None:
    heap = TimerHeap()
    gone = heap.push(1.0, lambda: None, app="gone")
    heap.push(2.0, lambda: None, app="kept")
    gone.cancel()
    gone.cancel()
    assert len(heap) == 1 and heap.peek() == 2.0
    fired = heap.pop_due(10.0)
    assert fired is not None and fired.app == "kept"
    fired.cancel()  # after it fired: a no-op
    assert heap.pop_due(10.0) is None and len(heap) == 0


def test_many_cancelled_timers_do_not_accumulate() -> None:
    heap = TimerHeap()
    for i in range(10_000):
        heap.push(float(i), lambda: None).cancel()
    assert len(heap.heap) < 2_100  # compacted: at most about the compaction threshold is kept


def test_timer_map_rearm_keeps_place_at_the_same_time_and_moves_otherwise() -> None:
    s = Scheduler()
    ctx = s.policies["capacitor"].ctx
    fired: list[str] = []
    timers: TimerMap[str] = TimerMap(ctx, fired.append, app_label)
    timers.arm("x", 10.0)
    timers.arm("y", 10.0)
    timers.arm("x", 10.0)  # same time: keeps its place before y
    assert timers.when("x") == 10.0
    s.advance(10.0)
    assert fired == ["x", "y"] and timers.when("x") is None
    timers.arm("x", 20.0)
    timers.arm("y", 20.0)
    timers.arm("x", 30.0)
    timers.arm("x", 20.0)  # re-armed for another time, then back: now after y
    s.advance(20.0)
    assert fired[2:] == ["y", "x"]
    timers.arm("z", 5.0)  # in the past: fires at the next step, at now
    timers.cancel("y")
    s.advance(25.0)
    assert fired[4:] == ["z"]


def test_compaction_keeps_the_heap_list_that_others_read() -> None:
    """``TimerHeap.heap`` is read by the scheduler's not-due shortcut: compaction rebuilds it in
    place, so a reference taken before stays the live heap."""
    heap = TimerHeap()
    live = heap.heap
    kept = heap.push(1e9, lambda: None, app="kept")
    for i in range(5_000):
        heap.push(float(i), lambda: None).cancel()
    assert heap.heap is live and len(live) < 2_100 and len(heap) == 1
    assert heap.pop_due(1e9) is kept


def test_a_step_with_nothing_due_moves_time_and_fires_nothing_early() -> None:
    """The scheduler skips the timer loop when the earliest timer is later than the step; a timer
    due exactly at the step still fires in it, and time never goes back."""
    s = Scheduler()
    ctx = s.policies["capacitor"].ctx
    fired: list[float] = []
    ctx.call_at(10.0, lambda: fired.append(ctx.now))
    s.advance(9.999)
    assert fired == [] and s.now == 9.999 and s.next_deadline() == 10.0
    s.handle(10.0, "nobody", "status")
    assert fired == [10.0] and s.next_deadline() is None
    with pytest.raises(ValueError, match="cannot go back"):
        s.advance(5.0)
