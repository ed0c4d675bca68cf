"""Running a coroutine's first step in the caller, then handing the rest to a task.

Both the board source (a signal update started on the edge's callback when nothing is pending)
and the bridge's publisher (a flight written to the socket from ``put()`` when idle) start a
coroutine by hand with ``coro.send(None)``: when it finishes at once nothing more is needed;
when it suspends, the future it yielded and the coroutine go into a :class:`Resumed`, which
whoever awaits it next (a task, a queue consumer) drives to the end. A shared leaf module: the
``boards`` and ``mqtt_bridge`` layers may not import each other (DESIGN.md section 1).
"""

from __future__ import annotations

from collections.abc import Coroutine, Generator
from typing import Any, Generic, TypeVar

T = TypeVar("T")

__all__ = ["Resumed"]


class Resumed(Generic[T]):
    """Awaitable finishing a coroutine that already ran up to its first suspension (where it
    yielded ``first``, the future it waits on): the awaiting task takes over from there, so
    results, exceptions and cancellation reach the coroutine as if it had been awaited whole."""

    __slots__ = ("_coro", "_first")

    def __init__(self, coro: Coroutine[Any, Any, T], first: Any) -> None:
        self._coro = coro
        self._first = first

    def close(self) -> None:
        """Abandon the coroutine (its ``finally`` blocks run)."""
        self._coro.close()

    def __await__(self) -> Generator[Any, Any, T]:
        coro = self._coro
        pending = self._first
        while True:
            try:
                sent = yield pending
            except GeneratorExit:
                coro.close()
                raise
            except BaseException as exc:  # thrown in by the task (cancellation): forward it
                try:
                    pending = coro.throw(exc)
                except StopIteration as stop:
                    result: T = stop.value
                    return result
                continue
            try:
                pending = coro.send(sent)
            except StopIteration as stop:
                done: T = stop.value
                return done
