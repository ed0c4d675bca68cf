"""The manual clock: rig time that moves only when the test (or scenario player) says so."""

from __future__ import annotations

import asyncio

import pytest

from firmware_sim import ManualClock, Scheduler
from firmware_sim.driver import SchedulerDriver
from firmware_sim.platforms.capacitor import CapacitorLimits


async def test_sleepers_wait_until_advanced_and_wake_in_deadline_order() -> None:
    clock = ManualClock(start=10.0)
    woke: list[tuple[str, float]] = []

    async def sleeper(name: str, t: float) -> None:
        await clock.sleep_until(t)
        woke.append((name, clock.now()))

    tasks = [asyncio.create_task(sleeper(n, t)) for n, t in (("late", 30.0), ("early", 20.0))]
    await asyncio.sleep(0)
    assert clock.next_wakeup == 20.0
    assert woke == []  # time stands still: however long the loop runs, nobody wakes
    assert clock.advance(5) == 15.0
    await asyncio.sleep(0)
    assert woke == []
    clock.advance_to(25.0)
    await asyncio.sleep(0)
    assert woke == [("early", 25.0)]
    clock.advance(100)
    await asyncio.gather(*tasks)
    assert woke == [("early", 25.0), ("late", 125.0)]
    assert clock.next_wakeup is None


async def test_a_past_deadline_returns_at_once_and_time_never_goes_back() -> None:
    clock = ManualClock(start=5.0)
    await asyncio.wait_for(clock.sleep_until(5.0), 1)
    with pytest.raises(ValueError, match="cannot go back"):
        clock.advance_to(4.0)
    with pytest.raises(ValueError, match="only moves forward"):
        clock.advance(-1)
    with pytest.raises(ValueError, match="only moves forward"):
        clock.advance(float("nan"))
    assert clock.now() == 5.0


async def test_a_cancelled_sleeper_is_forgotten() -> None:
    clock = ManualClock()
    task = asyncio.create_task(clock.sleep_until(3.0))
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert clock.next_wakeup is None
    clock.advance(10)  # releasing a cancelled sleeper is harmless


async def test_driver_on_a_manual_clock_fires_each_timer_at_its_own_time() -> None:
    # seed 000 (Capacitor BackgroundTask docs): "任务必须在 3 分钟内完成" — 180 s, then the grace
    limits = CapacitorLimits()
    clock = ManualClock()
    driver = SchedulerDriver(Scheduler(), clock=clock)
    seen: list[tuple[str, float]] = []
    terminated = asyncio.Event()

    def sink(events: list) -> None:  # type: ignore[type-arg]
        seen.extend((e.type, e.t) for e in events)
        if any(e.type == "terminate" for e in events):
            terminated.set()

    driver.add_sink(sink)
    runner = asyncio.create_task(driver.run())
    assert (await driver.request("cap", "register", {"platform": "capacitor"})).ok
    assert (await driver.request("cap", "before_exit", {})).ok
    clock.advance(limits.before_exit_s + limits.terminate_grace_s + 60)  # one jump past both
    await asyncio.wait_for(terminated.wait(), 5)
    driver.stop()
    await asyncio.wait_for(runner, 5)
    assert seen == [("wake", 0.0), ("expire", limits.before_exit_s),
                    ("terminate", limits.before_exit_s + limits.terminate_grace_s)]
