"""Fixtures for the boards tests: a manual clock that only moves when the test says so."""

from __future__ import annotations

import asyncio

import pytest


class ManualClock:
    """Rig time under test control: ``advance(dt)`` moves it; ``sleep_until`` waits for that.

    Unlike ``firmware_sim.VirtualClock`` (which jumps ahead on ``sleep_until``), a poll loop
    on this clock only runs when the test advances time, so nothing races ahead on its own.
    """

    def __init__(self, start: float = 0.0) -> None:
        self._now = float(start)
        self._waiters: list[tuple[float, asyncio.Future[None]]] = []

    def now(self) -> float:
        return self._now

    def advance(self, dt: float) -> None:
        self._now += dt
        still = []
        for t, fut in self._waiters:
            if t <= self._now:
                if not fut.done():
                    fut.set_result(None)
            else:
                still.append((t, fut))
        self._waiters = still

    async def sleep_until(self, t: float) -> None:
        if t <= self._now:
            await asyncio.sleep(0)
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append((t, fut))
        await fut


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()
