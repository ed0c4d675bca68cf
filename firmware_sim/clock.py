"""The one place that reads time. Everything else in wakebench is handed a :class:`Clock`.

``VirtualClock`` jumps straight to the next deadline (simulation and tests, no sleeping);
``ScaledClock`` follows the host's monotonic clock, optionally sped up (``--speed``) for the
simulated board. Both count rig seconds from zero at start (or from ``start`` on resume).
"""

from __future__ import annotations

import asyncio
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


def wall_now() -> datetime:
    """The host's current UTC time (for ``ts`` fields and the rig's epoch)."""
    return datetime.now(UTC)
