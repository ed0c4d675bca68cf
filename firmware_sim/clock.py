"""The one place that reads time. Everything else in wakebench is handed a :class:`Clock`.

``VirtualClock`` jumps straight to the next deadline (simulation and tests, no sleeping);
``ManualClock`` stands still until its owner advances it (trio's ``MockClock`` idea: integration
tests and scenario play decide when rig time moves, so nothing depends on the machine's speed);
``ScaledClock`` follows the host's monotonic clock, optionally sped up (``--speed``) for the
simulated board. All count rig seconds from zero at start (or from ``start`` on resume).
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from datetime import UTC, datetime
from typing import Protocol, runtime_checkable


@runtime_checkable
class Clock(Protocol):
    """Rig time in seconds since the rig started."""

    def now(self) -> float:
        """Current rig time (s)."""
        ...

    async def sleep_until(self, t: float) -> None:
        """Return once rig time has reached ``t`` (at once if it already has)."""
        ...


class VirtualClock:
    """Time that only moves when told to: ``advance_to`` jumps, ``sleep_until`` jumps too."""

    def __init__(self, start: float = 0.0) -> None:
        self._now = float(start)

    def now(self) -> float:
        """Current virtual time (s)."""
        return self._now

    def advance_to(self, t: float) -> None:
        """Jump to ``t``; time never goes backwards.

        Raises:
            ValueError: ``t`` is earlier than now.
        """
        if t < self._now:
            raise ValueError(f"virtual time cannot go back from {self._now} to {t}")
        self._now = float(t)

    async def sleep_until(self, t: float) -> None:
        """Jump to ``t`` (yielding once to the event loop) instead of sleeping."""
        if t > self._now:
            self._now = float(t)
        await asyncio.sleep(0)


class ManualClock:
    """Rig time that moves only when :meth:`advance` / :meth:`advance_to` is called.

    ``sleep_until(t)`` really waits (on the event loop, no polling) until someone advances the
    clock to ``t`` or beyond; sleepers are released in deadline order. The clock never moves by
    itself, so a test that cuts a connection "before the 180 s budget ends" cannot lose that race
    on a slow or loaded machine: the budget ends when the test says so.
    """

    def __init__(self, start: float = 0.0) -> None:
        self._now = float(start)
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    def now(self) -> float:
        """Current rig time (s); changes only through :meth:`advance` / :meth:`advance_to`."""
        return self._now

    @property
    def next_wakeup(self) -> float | None:
        """The earliest deadline someone is sleeping until, or None."""
        self._drop_cancelled()
        return self._sleepers[0][0] if self._sleepers else None

    def advance(self, seconds: float) -> float:
        """Move rig time forward by ``seconds`` and release every sleeper now due; returns now.

        Raises:
            ValueError: ``seconds`` is negative or not a number.
        """
        if not seconds >= 0:
            raise ValueError(f"a manual clock only moves forward, not by {seconds!r} s")
        return self.advance_to(self._now + seconds)

    def advance_to(self, t: float) -> float:
        """Move rig time to ``t`` (never back) and release every sleeper now due; returns now.

        Raises:
            ValueError: ``t`` is earlier than now.
        """
        if not t >= self._now:
            raise ValueError(f"manual time cannot go back from {self._now} to {t}")
        self._now = float(t)
        while self._sleepers and self._sleepers[0][0] <= self._now:
            _, _, fut = heapq.heappop(self._sleepers)
            if not fut.done():
                fut.set_result(None)
        return self._now

    async def sleep_until(self, t: float) -> None:
        """Wait until the clock has been advanced to ``t`` (at once if it already has)."""
        if t <= self._now:
            await asyncio.sleep(0)
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (float(t), next(self._order), fut))
        await fut

    def _drop_cancelled(self) -> None:
        while self._sleepers and self._sleepers[0][2].done():
            heapq.heappop(self._sleepers)


class ScaledClock:
    """Real time, scaled: ``speed=600`` makes a 10-minute budget last one wall second."""

    def __init__(self, speed: float = 1.0, *, start: float = 0.0) -> None:
        if not speed > 0:
            raise ValueError(f"speed must be positive, not {speed!r}")
        self.speed = float(speed)
        self._start = float(start)
        self._origin = time.monotonic()

    def now(self) -> float:
        """Rig seconds: ``start + (monotonic - origin) * speed``."""
        return self._start + (time.monotonic() - self._origin) * self.speed

    def wall_delay(self, t: float) -> float:
        """Wall seconds until rig time ``t`` (0 if already past)."""
        return max(0.0, (t - self.now()) / self.speed)

    async def sleep_until(self, t: float) -> None:
        """Sleep on the event loop until rig time ``t``."""
        while (delay := self.wall_delay(t)) > 0:
            await asyncio.sleep(delay)


def host_monotonic() -> float:
    """The host's monotonic seconds: for wall-time timeouts, rate limits and display ages,
    never for rig time (that is a :class:`Clock`)."""
    return time.monotonic()


def wall_now() -> datetime:
    """The host's current UTC time (for ``ts`` fields and the rig's epoch)."""
    return datetime.now(UTC)
