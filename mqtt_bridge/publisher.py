"""The ordered publish pipeline between the scheduler and the broker.

Producers (the scheduler's event sink, the request router) call :meth:`Publisher.put`, which
never waits: the scheduler is never blocked by the network. One task drains the queue while a
connection is attached, with up to ``window`` QoS 1 publishes in flight (one TCP connection
keeps them in order).

Ordering: everything in the outbox is older than everything in memory. While connected the
outbox is drained first, then memory, then coalesced retained state. When a publish fails or
the connection is lost, the unconfirmed messages go back to the head of memory and memory is
spilled: *durable* messages (events) are appended to the on-disk outbox, *volatile* ones
(responses, retained state) are dropped. Retained state that cannot be queued in order
(disconnected, memory full) is coalesced per topic (:meth:`Publisher.put_retained`): only the
latest payload of a topic waits, so the broker's retained value is never left stale, and that
memory is bounded by the number of retained topics. Outbox entries are removed only after their
publish completed, through the longest completed prefix, so nothing is lost and a reconnect can
at most repeat messages (QoS 1 semantics; subscribers dedupe events by ``seq``).

With the rig's journal as the outbox, events are written to it by the driver *before* they reach
the publisher (``Outgoing.row``); such a message is never appended again: while connected it is
published from memory and acknowledged in the journal on PUBACK, otherwise it stays in the
journal and is replayed from there (every pending row older than the oldest journaled message in
memory or in flight) before memory.

Flights (issue #8 edge benchmark): a batch is written to the connection when it is taken from
memory (a *flight*), without waiting for the PUBACKs of the flights before it; the drain task
lands the flights in the order they were sent (acknowledgements, callbacks), so the journal is
acknowledged through the longest confirmed prefix only. When a flight is not wholly confirmed,
its rest and every later flight go back to the head of memory and the link counts as broken
(a later flight the broker did confirm is then sent again: a QoS 1 duplicate, never a loss).
A message put while memory is empty and nothing is due for replay is sent inside
:meth:`Publisher.put` itself as a flight of one: no wait for the drain task's wake-up (a loop
turn behind the rest of the batch's work) nor for the PUBACKs of the messages before it.

Over 500 lines on purpose: memory, flights, coalesced retained state and the journal replay
share one ordering rule and one loss rule (what leaves the journal, what goes back to the head
of memory); they are kept in one class so that each rule is read, and tested, in one place.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final, Protocol

from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from firmware_sim.journal import Journal, JournalError
from mqtt_bridge.errors import OutboxError
from mqtt_bridge.outbox import OutboxEntry, OutboxItem
from wbcommon.aio import Resumed

log = logging.getLogger(__name__)

#: QoS 1 publishes in flight at once. paho's own default cap is 20 (``max_inflight_messages``);
#: the bridge raises both to this value. 32 measured ~2x the single-publish rate on loopback
#: (bench/bench_mqtt.py). wakebench default.
DEFAULT_WINDOW: Final = 32
#: Socket option for every client socket: send small MQTT packets at once instead of waiting
#: for the peer's delayed ACK (Nagle). Measured on loopback: a request/response round trip
#: drops from ~88 ms to a few ms (bench/bench_mqtt.py). paho-mqtt 2.2 does not set it itself.
NO_DELAY: Final = ((socket.IPPROTO_TCP, socket.TCP_NODELAY, 1),)
#: Volatile messages kept in memory at most (responses and state under a slow broker).
DEFAULT_MAX_MEMORY: Final = 10_000
#: Journal entries replayed per round after an outage: published together (the client library
#: keeps ``window`` in flight and queues the rest in order) and acknowledged in the journal with
#: ONE write when the round is confirmed. Stop-and-wait rounds of ``window`` entries (one
#: journal transaction per 32 events) drained 1,524 /s on the loaded 2-core VM; see README
#: "MQTT bridge" for the before/after (bench/bench_mqtt.py). wakebench choice: at ~500 bytes
#: an event, 512 entries are ~256 KiB of memory, and a round at the measured rates takes well
#: under the publish timeout.
DRAIN_CHUNK: Final = 128


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One message to publish.

    ``durable`` messages (events) survive a lost connection in the outbox; ``correlation`` and
    ``expiry`` become MQTT 5 Correlation Data / Message Expiry Interval (ignored on 3.1.1);
    ``on_published`` runs once the broker confirmed it.
    """

    topic: str
    payload: bytes
    qos: int = 1
    retain: bool = False
    durable: bool = False
    correlation: bytes | None = None
    expiry: int | None = None
    app: str | None = None
    seq: int | None = None
    on_published: Callable[[], None] | None = None
    row: int | None = None  #: the journal row that already holds this message (durable only)


class PublishClient(Protocol):
    """The part of ``aiomqtt.Client`` the pipeline uses."""

    async def publish(self, topic: str, payload: Any = ..., qos: int = ..., retain: bool = ...,
                      properties: Properties | None = ..., *args: Any,
                      timeout: float | None = ...,  # noqa: ASYNC109 - aiomqtt's signature
                      **kwargs: Any) -> None:
        """Publish and wait for the flow to complete (PUBACK for QoS 1)."""
        ...


#: Publish a batch ``(topic, payload, qos, retain, properties)`` in order and wait until every
#: message is confirmed, ``timeout`` seconds pass or the event is set; returns the length of
#: the confirmed prefix (:func:`mqtt_bridge.transport.batch_publisher`).
BatchPublish = Callable[[Sequence[tuple[str, bytes, int, bool, Properties | None]], float, asyncio.Event],
                        Awaitable[int]]


class Link:
    """One live connection as the pipeline sees it; :attr:`broken` is set when a publish failed.
    ``batch``: the connection's way to publish many messages at once (None: one by one)."""

    def __init__(self, client: PublishClient, *, mqtt5: bool, batch: BatchPublish | None = None) -> None:
        self.client = client
        self.mqtt5 = mqtt5
        self.batch = batch
        self.broken = asyncio.Event()


class Publisher:
    """Ordered publishing with an on-disk outbox for durable messages.

    Args:
        outbox: where durable messages wait while the broker is unreachable (the rig journal).
        timeout: seconds a publish may take before the connection counts as broken.
        window: publishes in flight at once.
        max_memory: volatile messages kept in memory while a slow broker catches up.
        drain_chunk: journal entries replayed (and acknowledged in one write) per round.
        event_expiry: MQTT 5 Message Expiry of outbox messages (None: none).
        event_topic: the topic of a journaled app event (entries stored without a topic).
    """

    def __init__(self, outbox: Journal, *, timeout: float, window: int = DEFAULT_WINDOW,
                 max_memory: int = DEFAULT_MAX_MEMORY, event_expiry: int | None = None,
                 event_topic: Callable[[str], str] | None = None, drain_chunk: int = DRAIN_CHUNK) -> None:
        self.outbox = outbox
        self.drain_chunk = max(window, drain_chunk)
        self.event_topic = event_topic
        #: batches written to the connection and not landed yet, in the order they were sent
        self._flights: deque[_Flight] = deque()
        self._launching = False  # a flight is being written (a re-entrant put queues)
        self._owe_retained = False  # a memory window went out since the last retained one
        self.timeout = timeout
        self.window = window
        self.max_memory = max_memory
        self.event_expiry = event_expiry
        self.published = 0
        self.dropped_volatile = 0
        self._inflight = 0
        self._memory: deque[Outgoing] = deque()
        self._retained: OrderedDict[str, Outgoing] = OrderedDict()
        #: the newest retained message queued per topic (either path), until it is confirmed
        self._newest: dict[str, Outgoing] = {}
        self._link: Link | None = None
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        #: called with every durable message (event) the broker confirmed, either path
        self.on_acked: Callable[[Sequence[Outgoing]], None] | None = None

    # -- producers ---------------------------------------------------------------------------
    def put(self, msg: Outgoing) -> bool:
        """Queue ``msg`` behind everything queued before it. Never blocks, never raises.

        Returns:
            False if a volatile message was dropped (not connected, or memory full).
        """
        if msg.row is not None and self._link is None:  # already in the journal: replay from there
            self._idle.clear()
            self._wake.set()
            return True
        if not msg.durable and (self._link is None or len(self._memory) >= self.max_memory):
            self.dropped_volatile += 1
            return False
        if msg.retain:
            self._retained.pop(msg.topic, None)  # this newer value supersedes a coalesced one
            self._newest[msg.topic] = msg
        self._idle.clear()
        link = self._link
        # at once if nothing waits before it and the drain task has not been woken since it
        # last looked (later puts of the same burst then go out together, as one flight)
        if (link is not None and not self._wake.is_set() and not self._memory and not self._launching
                and self._inflight < self.window and not (self._retained and self._owe_retained)
                and not link.broken.is_set() and (not self._flights or self._flights[-1].link is link)
                and not self._replay_due(msg.row)):
            self._launch(link, [msg])
        else:
            self._memory.append(msg)
        self._wake.set()
        return True

    def _replay_due(self, row: int | None) -> bool:
        """True if a journal row older than ``row`` waits to be replayed (memory is empty)."""
        first = self.outbox.first_id
        if first is None or first == row:
            return False
        flying = next((m.row for f in self._flights for m in f.batch if m.row is not None), None)
        return flying is None or first < flying

    def put_retained(self, msg: Outgoing) -> None:
        """Queue the latest retained payload of ``msg.topic``, replacing one not yet sent.
        Kept while disconnected; never blocks, never raises."""
        self._retained.pop(msg.topic, None)
        self._retained[msg.topic] = msg
        self._newest[msg.topic] = msg
        self._idle.clear()
        self._wake.set()

    @property
    def in_flight(self) -> int:
        """Messages of the batch being published now."""
        return self._inflight

    @property
    def pending(self) -> int:
        """Messages not yet confirmed (memory, retained, in flight, outbox)."""
        in_memory = sum(1 for m in self._memory if m.row is None)  # journaled rows count once
        return in_memory + len(self._retained) + self._inflight + len(self.outbox)

    # -- connection --------------------------------------------------------------------------
    def attach(self, link: Link) -> None:
        """Start draining through ``link`` (outbox first)."""
        self._link = link
        if len(self.outbox):  # a replay is due: not idle until it is done
            self._idle.clear()
        self._wake.set()

    def detach(self) -> None:
        """Stop using the current link; memory is spilled (durable → outbox, volatile dropped)."""
        self._link = None
        self._wake.set()

    @property
    def attached(self) -> bool:
        """True while a link is attached and not known to be broken."""
        return self._link is not None and not self._link.broken.is_set()

    async def publish_now(self, link: Link, msg: Outgoing) -> None:
        """Publish one message directly (connect-time state), bypassing the queue.

        Raises:
            aiomqtt.MqttError: the publish failed or timed out.
        """
        await link.client.publish(msg.topic, msg.payload, msg.qos, msg.retain,
                                  _properties(msg, link.mqtt5), timeout=self.timeout)
        self.published += 1
        if msg.on_published is not None:
            msg.on_published()

    async def wait_idle(self, within: float) -> bool:
        """Wait until memory and outbox are empty (True) or ``within`` seconds pass (False)."""
        try:
            await asyncio.wait_for(self._idle.wait(), within)
        except TimeoutError:
            return False
        return True

    # -- the drain task ----------------------------------------------------------------------
    async def run(self) -> None:
        """Drain forever (cancel to stop)."""
        while True:
            await self._wake.wait()
            self._wake.clear()
            try:
                await self._drain()
            except (OutboxError, JournalError):
                log.exception("outbox write failed; events may be lost")
            if not self._memory and not self._retained and not len(self.outbox):
                self._idle.set()

    async def _drain(self) -> None:
        while True:
            link = self._link
            if self._flights and (link is None or link.broken.is_set() or self._flights[-1].link is not link):
                await self._land()  # the flights of a lost (or replaced) link land first
                continue
            if link is None or link.broken.is_set():
                self._link = None
                self.spill()
                return
            if not self._flights and len(self.outbox):
                entries = self.outbox.peek(self.drain_chunk, upto=self._replay_limit())
                if entries:
                    await self._replay(link, entries)
                    continue
            # memory goes out in flights; one retained window after each memory window, so
            # retained state keeps flowing under a stream of events
            if self._memory and self._inflight < self.window and not (self._retained and self._owe_retained):
                self._launch(link, [self._memory.popleft()
                                    for _ in range(min(self.window - self._inflight, len(self._memory)))])
                continue
            if self._flights:
                await self._land()
                continue
            if not self._retained:
                return
            self._owe_retained = False
            batch = [self._retained.popitem(last=False)[1] for _ in range(min(self.window, len(self._retained)))]
            try:
                done = await self._send_batch(link, batch)
            except asyncio.CancelledError:
                self._restore_retained(batch)
                raise
            if done < len(batch):
                self._restore_retained(batch[done:])
                self._break(link)

    async def _replay(self, link: Link, entries: list[OutboxEntry]) -> None:
        """Publish journal entries (after an outage) and acknowledge the confirmed prefix."""
        msgs = [Outgoing(topic, e.payload, e.qos, durable=True, expiry=self.event_expiry)
                for e in entries if (topic := self._topic_of(e)) is not None]
        done = await self._send(link, msgs) if msgs else 0
        if len(msgs) < len(entries) and done == len(msgs):  # unroutable entries: drop
            done = len(entries)
        elif done < len(msgs):  # map the sent prefix back to entries
            done = _prefix(entries, msgs[:done], self._topic_of)
        if done:
            self.outbox.remove_through(entries[done - 1].id)
            self._acked(msgs[:done])
        if done < len(entries):
            self._break(link)

    def _launch(self, link: Link, batch: list[Outgoing]) -> None:
        """Write ``batch`` to the connection now (up to its wait for the PUBACKs) as a flight
        the drain task lands."""
        self._inflight += len(batch)
        if self._retained:
            self._owe_retained = True
        self._launching = True
        coro = self._send(link, batch)
        try:
            first = coro.send(None)
        except StopIteration as stop:  # done at once (QoS 0, or refused)
            flight = _Flight(batch, link, int(stop.value))
        except Exception:
            log.exception("publish of %d messages failed", len(batch))
            flight = _Flight(batch, link, 0)
        else:
            flight = _Flight(batch, link, Resumed(coro, first))
        finally:
            self._launching = False
        self._flights.append(flight)

    async def _land(self) -> None:
        """Wait for the oldest flight; acknowledge what it confirmed, or send it and every later
        flight again from memory if it was not wholly confirmed."""
        flight = self._flights[0]
        try:
            done = flight.result if isinstance(flight.result, int) else await flight.result
        except asyncio.CancelledError:  # stopping: nothing of the flights counts as sent
            self._ground([])
            raise
        except Exception:
            log.exception("publish of %d messages failed", len(flight.batch))
            done = 0
        self._flights.popleft()
        self._inflight -= len(flight.batch)
        self._finish(flight.batch, done)
        if done < len(flight.batch):
            self._ground(flight.batch[done:])
            self._break(flight.link)

    def _ground(self, rest: list[Outgoing]) -> None:
        """Put ``rest`` (of a landed flight) and every flight still waiting back at the head of
        memory, in the order they were sent; the waiting flights are abandoned."""
        later = [m for f in self._flights for m in f.batch]
        for flight in self._flights:
            if not isinstance(flight.result, int):
                flight.result.close()
        self._flights.clear()
        self._inflight -= len(later)
        self._memory.extendleft(reversed(rest + later))

    def _restore_retained(self, msgs: list[Outgoing]) -> None:
        """Put unsent retained values back at the front, unless a newer value came meanwhile."""
        for msg in reversed(msgs):
            if self._newest.get(msg.topic) is msg:
                self._retained[msg.topic] = msg
                self._retained.move_to_end(msg.topic, last=False)

    async def _send_batch(self, link: Link, batch: list[Outgoing]) -> int:
        """Send ``batch``, run the callbacks of the confirmed prefix, return its length."""
        self._inflight += len(batch)
        try:
            done = await self._send(link, batch)
        finally:
            self._inflight -= len(batch)
        self._finish(batch, done)
        return done

    def _finish(self, batch: list[Outgoing], done: int) -> None:
        """The broker confirmed ``batch[:done]``: acknowledge it in the journal, run callbacks."""
        rows = [m.row for m in batch[:done] if m.row is not None]
        if rows:
            self.outbox.remove_through(max(rows))  # PUBACK: the journal lets these go
        self._acked([m for m in batch[:done] if m.durable])
        for msg in batch[:done]:
            if msg.retain and self._newest.get(msg.topic) is msg:
                del self._newest[msg.topic]
            if msg.on_published is not None:
                try:
                    msg.on_published()
                except Exception:
                    log.exception("on_published callback of %s failed", msg.topic)

    def _acked(self, msgs: Sequence[Outgoing]) -> None:
        if self.on_acked is not None and msgs:
            try:
                self.on_acked(msgs)
            except Exception:
                log.exception("on_acked callback failed")

    async def _send(self, link: Link, msgs: Sequence[Outgoing]) -> int:
        """Publish ``msgs`` concurrently (in order on the wire); return the completed prefix length."""
        if link.batch is not None:
            done = await link.batch([(m.topic, m.payload, m.qos, m.retain, _properties(m, link.mqtt5))
                                     for m in msgs], self.timeout, link.broken)
            if done < len(msgs):
                log.warning("publish failed: %d of %d messages not confirmed", len(msgs) - done, len(msgs))
            self.published += done
            return done
        tasks = [asyncio.ensure_future(link.client.publish(
            m.topic, m.payload, m.qos, m.retain, _properties(m, link.mqtt5), timeout=self.timeout))
            for m in msgs]
        together: asyncio.Future[list[Any]] = asyncio.gather(*tasks, return_exceptions=True)
        lost: asyncio.Future[Any] = asyncio.ensure_future(link.broken.wait())
        try:
            await asyncio.wait({together, lost}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            lost.cancel()
            if not together.done():
                together.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await together
        done = 0
        for task in tasks:
            if task.cancelled() or task.exception() is not None:
                break
            done += 1
        failed = next((t for t in tasks if not t.cancelled() and t.exception() is not None), None)
        if failed is not None:
            log.warning("publish failed: %s", failed.exception())
        self.published += done
        return done

    def _break(self, link: Link) -> None:
        link.broken.set()
        if self._link is link:
            self._link = None

    def spill(self) -> None:
        """Move memory out: durable messages to the outbox (in order), volatile ones dropped.
        Flights not landed (the drain task was cancelled) count as unsent."""
        self._ground([])
        durable: list[OutboxItem] = []
        while self._memory:
            msg = self._memory.popleft()
            if msg.row is not None:  # already in the journal: replayed from there
                continue
            if msg.durable:
                durable.append(OutboxItem(msg.topic, msg.payload, msg.qos, msg.app, msg.seq))
            else:
                self.dropped_volatile += 1
        if durable:
            dropped = self.outbox.append(durable)
            if dropped:
                log.warning("outbox full: dropped the %d oldest events", dropped)

    def _replay_limit(self) -> int | None:
        """Journal rows up to this id are not in memory or in flight (None: no limit)."""
        rows = [m.row for m in self._memory if m.row is not None]
        rows += [m.row for f in self._flights for m in f.batch if m.row is not None]
        return min(rows) - 1 if rows else None

    def _topic_of(self, entry: OutboxEntry) -> str | None:
        if entry.topic is not None:
            return entry.topic
        if entry.app is None or self.event_topic is None:
            log.error("journal entry %d has neither topic nor app; dropped", entry.id)
            return None
        try:
            return self.event_topic(entry.app)
        except Exception:
            log.exception("journal entry %d: no topic for app %r; dropped", entry.id, entry.app)
            return None


@dataclass(slots=True)
class _Flight:
    """A batch written to the connection: ``result`` is its confirmed prefix length, or what
    to await for it."""

    batch: list[Outgoing]
    link: Link
    result: int | Resumed[int]


def _prefix(entries: list[OutboxEntry], sent: list[Outgoing], topic_of: Callable[[OutboxEntry], str | None]) -> int:
    """How many of ``entries`` are covered by the ``sent`` prefix (unroutable ones included)."""
    n = 0
    left = len(sent)
    for entry in entries:
        if topic_of(entry) is None:
            n += 1
            continue
        if left == 0:
            break
        left -= 1
        n += 1
    return n


#: the Properties of an event publish per expiry value (paho only reads them)
_EXPIRY_PROPERTIES: dict[int | None, Properties] = {}


def _properties(msg: Outgoing, mqtt5: bool) -> Properties | None:
    if not mqtt5 or (msg.correlation is None and msg.expiry is None):
        return None
    if msg.correlation is None:  # only an expiry (every event): one shared, read-only object
        props = _EXPIRY_PROPERTIES.get(msg.expiry)
        if props is None:
            props = _EXPIRY_PROPERTIES[msg.expiry] = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
            props.MessageExpiryInterval = msg.expiry
        return props
    props = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
    if msg.correlation is not None:
        props.CorrelationData = msg.correlation
    if msg.expiry is not None:
        props.MessageExpiryInterval = msg.expiry
    return props
