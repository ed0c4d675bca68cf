"""Timers as handles: one heap of :class:`TimerHandle` objects, cancelled lazily.

A policy arms a timer with ``ctx.call_at(at, callback, app=..., task=...)`` and keeps the
returned handle; ``handle.cancel()`` disarms it, ``handle.when`` says when it fires. The
``app`` / ``task`` labels name what a failing callback is contained to (see
:meth:`firmware_sim.scheduler.Scheduler.faults`).

Order: timers fire by ``when``; timers due at the same instant fire in the order they were armed
(a counter breaks ties), exactly like asyncio's ``call_at`` and SimPy's event queue.
Cost: arm O(log n), cancel O(1) (the entry stays in the heap until it reaches the top).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from typing import Final

__all__ = ["TimerHandle", "TimerHeap"]

#: Share of cancelled entries above which the heap is rebuilt without them (keeps memory bounded
#: when a policy re-arms the same timer many times before it fires).
_COMPACT_RATIO: Final = 0.5
_COMPACT_MIN: Final = 1024
_heappush: Final = heapq.heappush
_heappop: Final = heapq.heappop


class TimerHandle:
    """One armed timer. ``when`` is rig seconds; ``cancel()`` is idempotent."""

    __slots__ = ("_heap", "app", "callback", "cancelled", "owner", "task", "when")

    def __init__(self, when: float, callback: Callable[[], None], app: str | None,
                 task: str | None, owner: str | None, heap: TimerHeap) -> None:
        self.when = when
        self.callback = callback
        #: labels: the app / task a failing callback is contained to, the platform that armed it
        self.app = app
        self.task = task
        self.owner = owner
        self.cancelled = False
        self._heap: TimerHeap | None = heap

    def cancel(self) -> None:
        """Disarm the timer (no error if it already fired or was cancelled)."""
        if not self.cancelled:
            self.cancelled = True
            heap = self._heap
            if heap is not None:
                self._heap = None
                heap._cancelled += 1
                if heap._cancelled > _COMPACT_MIN:  # only then can compaction be due
                    heap._compact_if_due()

    @property
    def active(self) -> bool:
        """True while the timer is armed (not fired, not cancelled)."""
        return not self.cancelled

    def __repr__(self) -> str:
        state = "cancelled" if self.cancelled else "armed"
        return f"<TimerHandle {state} when={self.when} app={self.app} task={self.task}>"


class TimerHeap:
    """The scheduler's timers, earliest first."""

    __slots__ = ("_cancelled", "_counter", "heap")

    def __init__(self) -> None:
        #: ``(when, order, handle)`` entries, a heap (read-only outside this class; the list is
        #: kept across compaction, so a reference to it stays valid)
        self.heap: list[tuple[float, int, TimerHandle]] = []
        self._counter = 0
        self._cancelled = 0

    def push(self, when: float, callback: Callable[[], None], app: str | None = None,
             task: str | None = None, owner: str | None = None) -> TimerHandle:
        """Arm ``callback`` for rig time ``when``."""
        handle = TimerHandle(when, callback, app, task, owner, self)
        self._counter = order = self._counter + 1
        _heappush(self.heap, (when, order, handle))
        return handle

    def peek(self) -> float | None:
        """When the earliest armed timer fires, or None."""
        heap = self.heap
        while heap:
            entry = heap[0]
            if not entry[2].cancelled:
                return entry[0]
            heapq.heappop(heap)
            self._cancelled -= 1
        return None

    def pop_due(self, now: float) -> TimerHandle | None:
        """Remove and return the earliest armed timer due at or before ``now``, else None.

        The returned handle counts as fired (``cancelled`` is set, so a late ``cancel()`` is a
        no-op and it is never returned twice).
        """
        heap = self.heap
        while heap and heap[0][0] <= now:
            handle = _heappop(heap)[2]
            if handle.cancelled:
                self._cancelled -= 1
                continue
            handle.cancelled = True
            handle._heap = None
            return handle
        return None

    def _compact_if_due(self) -> None:
        """One more entry was cancelled (:meth:`TimerHandle.cancel` counted it): compact if due."""
        if self._cancelled > _COMPACT_MIN and self._cancelled > _COMPACT_RATIO * len(self.heap):
            self.heap[:] = [e for e in self.heap if not e[2].cancelled]
            heapq.heapify(self.heap)
            self._cancelled = 0

    def __len__(self) -> int:
        return len(self.heap) - self._cancelled
