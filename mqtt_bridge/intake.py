"""The bridge's incoming-message queue: bounded, and never silent when full.

aiomqtt puts every incoming message into an ``asyncio.Queue`` from paho's message callback;
with a plain bounded queue a burst beyond it is discarded with only a WARNING in the log (issue
#11: 1,593 of 3,000 requests vanished). :func:`intake_queue` makes the queue class aiomqtt
instantiates (its ``queue_type`` parameter): bounded by messages *and* bytes, and a message
that does not fit is handed to ``on_overflow`` at once — the bridge answers it ``overloaded`` —
instead of being dropped.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import aiomqtt

Overflow = Callable[[aiomqtt.Message], None]


def _size(message: aiomqtt.Message) -> int:
    payload = message.payload
    return len(payload) if isinstance(payload, bytes | bytearray | str) else 0


class IntakeQueue(asyncio.Queue[aiomqtt.Message]):
    """An unbounded ``asyncio.Queue`` that bounds itself and hands overflow to a callback.

    Class attributes (set by :func:`intake_queue`): ``max_messages``, ``max_bytes``,
    ``on_overflow``. :attr:`overflowed` counts messages handed to ``on_overflow``.
    """

    max_messages: int = 1000
    max_bytes: int = 16 * 1024 * 1024
    on_overflow: Overflow | None = None

    def __init__(self, maxsize: int = 0) -> None:  # aiomqtt passes its own bound: ignored
        super().__init__()
        self.bytes = 0
        self.overflowed = 0

    def put_nowait(self, item: aiomqtt.Message) -> None:
        """Queue ``item``, or give it to ``on_overflow`` when a bound would be exceeded."""
        size = _size(item)
        if self.qsize() >= self.max_messages or self.bytes + size > self.max_bytes:
            self.overflowed += 1
            handler = type(self).on_overflow
            if handler is None:
                raise asyncio.QueueFull
            handler(item)
            return
        super().put_nowait(item)

    def _put(self, item: aiomqtt.Message) -> None:
        self.bytes += _size(item)
        super()._put(item)

    def _get(self) -> aiomqtt.Message:
        item: aiomqtt.Message = super()._get()
        self.bytes -= _size(item)
        return item


def intake_queue(*, max_messages: int, max_bytes: int, on_overflow: Overflow) -> type[IntakeQueue]:
    """A queue class for ``aiomqtt.Client(queue_type=...)`` with these bounds and overflow handler."""
    return type("BoundedIntakeQueue", (IntakeQueue,), {
        "max_messages": max_messages, "max_bytes": max_bytes, "on_overflow": staticmethod(on_overflow)})
