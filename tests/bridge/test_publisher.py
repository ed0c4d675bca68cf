"""The publish pipeline's ordering and loss rules, driven by a scripted in-memory client.

The client here stands in for the network (not for hardware): it records what reaches the
"broker", confirms or fails each publish on cue, so every interleaving is deterministic.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiomqtt
import pytest

from mqtt_bridge.outbox import Outbox, OutboxItem
from mqtt_bridge.publisher import Link, Outgoing, Publisher


class ScriptedClient:
    """Records confirmed publishes; publish number ``fail_at`` (1-based) and later ones fail."""

    def __init__(self, fail_at: int | None = None) -> None:
        self.fail_at = fail_at
        self.calls = 0
        self.confirmed: list[tuple[str, bytes, bool]] = []

    async def publish(self, topic: str, payload: Any = None, qos: int = 0, retain: bool = False,
                      properties: Any = None, *args: Any,
                      timeout: float | None = None, **kw: Any) -> None:  # noqa: ASYNC109 - aiomqtt's signature
        self.calls += 1
        number = self.calls
        await asyncio.sleep(0)
        if self.fail_at is not None and number >= self.fail_at:
            raise aiomqtt.MqttError("connection lost")
        self.confirmed.append((topic, payload, retain))


def event(n: int) -> Outgoing:
    return Outgoing("e", str(n).encode(), durable=True, app="a", seq=n)


def state(value: str) -> Outgoing:
    return Outgoing("s", value.encode(), retain=True)


async def drained(pub: Publisher) -> None:
    assert await pub.wait_idle(5), f"still pending: {pub.pending}"


@pytest.fixture
async def pub() -> Any:
    publisher = Publisher(Outbox(None, max_events=100, max_bytes=1 << 20), timeout=1, window=4)
    task = asyncio.create_task(publisher.run())
    yield publisher
    task.cancel()


async def test_outbox_then_memory_then_coalesced_state(pub: Publisher) -> None:
    pub.outbox.append([OutboxItem("e", b"0", 1, "a", 0)])
    pub.put_retained(state("old"))
    pub.put_retained(state("new"))  # replaces "old" before it was sent
    client = ScriptedClient()
    pub.attach(Link(client, mqtt5=True))
    pub.put(event(1))
    await drained(pub)
    assert [p for _, p, _ in client.confirmed] == [b"0", b"1", b"new"]


async def test_volatile_messages_are_dropped_offline_events_are_kept(pub: Publisher) -> None:
    assert pub.put(Outgoing("r", b"response")) is False
    assert pub.put(event(1)) is True
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert len(pub.outbox) == 1 and pub.dropped_volatile == 1


async def test_a_failed_batch_keeps_order_and_loses_no_event(pub: Publisher) -> None:
    failing = ScriptedClient(fail_at=3)
    link = Link(failing, mqtt5=False)
    pub.attach(link)
    for n in range(1, 7):
        pub.put(event(n))
    await asyncio.wait_for(link.broken.wait(), 5)
    await asyncio.sleep(0)
    assert [p for _, p, _ in failing.confirmed] == [b"1", b"2"]
    assert [e.payload for e in pub.outbox.peek(10)] == [b"3", b"4", b"5", b"6"]
    healthy = ScriptedClient()
    pub.attach(Link(healthy, mqtt5=False))
    pub.put(event(7))
    await drained(pub)
    assert [p for _, p, _ in healthy.confirmed] == [b"3", b"4", b"5", b"6", b"7"]


async def test_an_unsent_state_never_overwrites_a_newer_one(pub: Publisher) -> None:
    failing = ScriptedClient(fail_at=1)
    link = Link(failing, mqtt5=False)
    pub.put_retained(state("v1"))
    pub.attach(link)
    await asyncio.wait_for(link.broken.wait(), 5)
    pub.put_retained(state("v2"))  # newer, while v1 is being put back
    healthy = ScriptedClient()
    pub.attach(Link(healthy, mqtt5=False))
    await drained(pub)
    assert [p for _, p, _ in healthy.confirmed] == [b"v2"]


async def test_in_order_state_supersedes_a_coalesced_one(pub: Publisher) -> None:
    pub.put_retained(state("coalesced"))
    client = ScriptedClient()
    pub.attach(Link(client, mqtt5=False))
    pub.put(state("newest"))  # queued in order: the coalesced older value must not follow it
    await drained(pub)
    assert [p for _, p, _ in client.confirmed] == [b"newest"]


async def test_cancelling_mid_batch_keeps_the_batch() -> None:
    publisher = Publisher(Outbox(None, max_events=100, max_bytes=1 << 20), timeout=1, window=4)
    hold = asyncio.Event()

    class Slow(ScriptedClient):
        async def publish(self, *args: Any, **kwargs: Any) -> None:
            await hold.wait()

    publisher.attach(Link(Slow(), mqtt5=False))
    for n in (1, 2):
        publisher.put(event(n))
    task = asyncio.create_task(publisher.run())
    while publisher.in_flight == 0:
        await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    publisher.detach()
    publisher.spill()
    assert [e.payload for e in publisher.outbox.peek(10)] == [b"1", b"2"]


async def test_mqtt5_properties_carry_correlation_and_expiry() -> None:
    seen: list[Any] = []

    class Props(ScriptedClient):
        async def publish(self, topic: str, payload: Any = None, qos: int = 0, retain: bool = False,
                          properties: Any = None, *args: Any, **kw: Any) -> None:
            seen.append(properties)

    publisher = Publisher(Outbox(None, max_events=10, max_bytes=1 << 20), timeout=1)
    msg = Outgoing("r", b"{}", correlation=b"c1", expiry=60)
    await publisher.publish_now(Link(Props(), mqtt5=True), msg)
    await publisher.publish_now(Link(Props(), mqtt5=False), msg)
    assert seen[0].CorrelationData == b"c1" and seen[0].MessageExpiryInterval == 60
    assert seen[1] is None


async def test_journaled_events_leave_the_journal_only_on_puback_and_are_replayed_in_order() -> None:
    """Issue #8: the driver commits events to the journal before the publisher sees them; the
    publisher never appends them again, acknowledges them on PUBACK and, after a lost link,
    replays them from the journal (in row order) before newer ones."""
    from firmware_sim.journal import Journal, PendingItem

    journal = Journal(None)
    publisher = Publisher(journal, timeout=1, window=4, event_topic=lambda app: f"apps/{app}/events")
    task = asyncio.create_task(publisher.run())
    try:
        def commit(n: int) -> Outgoing:
            (row,) = journal.commit(None, [PendingItem(None, str(n).encode(), 1, "a", n)])
            return Outgoing("apps/a/events", str(n).encode(), durable=True, app="a", seq=n, row=row)

        publisher.put(commit(1))  # not connected: stays in the journal only
        publisher.put(commit(2))
        assert len(journal) == 2
        broken = ScriptedClient(fail_at=2)
        publisher.attach(Link(broken, mqtt5=False))
        await asyncio.wait_for(_until(lambda: not publisher.attached), 5)
        assert len(journal) == 1  # seq 1 confirmed and acknowledged; seq 2 still pending
        client = ScriptedClient()
        publisher.attach(Link(client, mqtt5=False))
        publisher.put(commit(3))
        await drained(publisher)
        assert [p for _t, p, _r in client.confirmed] == [b"2", b"3"]  # replay first, no repeat of 1
        assert len(journal) == 0 and [t for t, _p, _r in client.confirmed] == ["apps/a/events"] * 2
    finally:
        task.cancel()


async def _until(pred: Any) -> None:
    while not pred():
        await asyncio.sleep(0)  # yield to the publisher task until the condition holds


async def test_a_replay_is_acknowledged_in_the_journal_once_per_drain_chunk() -> None:
    """Issue #8 drain target: after an outage the journal is replayed DRAIN_CHUNK (128) entries
    per round, each round acknowledged with ONE journal write (not one per window of 4)."""
    from firmware_sim.journal import Journal, PendingItem
    from mqtt_bridge.publisher import DRAIN_CHUNK

    assert DRAIN_CHUNK == 128
    journal = Journal(None)
    journal.commit(None, [PendingItem(None, str(n).encode(), 1, "a", n) for n in range(1, 301)])
    acks: list[int] = []
    remove = journal.remove_through
    journal.remove_through = lambda entry_id: (acks.append(entry_id), remove(entry_id))[1]  # type: ignore[method-assign]
    publisher = Publisher(journal, timeout=1, window=4, event_topic=lambda app: f"apps/{app}/events")
    task = asyncio.create_task(publisher.run())
    try:
        client = ScriptedClient()
        publisher.attach(Link(client, mqtt5=False))
        await drained(publisher)
        assert [p for _t, p, _r in client.confirmed] == [str(n).encode() for n in range(1, 301)]
        assert len(acks) == 3 and len(journal) == 0  # 128 + 128 + 44
    finally:
        task.cancel()


async def test_batch_publishing_needs_an_aiomqtt_connection() -> None:
    from mqtt_bridge.transport import batch_publisher

    assert batch_publisher(aiomqtt.Client("127.0.0.1", 1)) is not None
    assert batch_publisher(ScriptedClient()) is None  # anything else: one publish at a time


class _PahoLike:
    """Just enough of paho for batch_publisher: publish() returns a MessageInfo-like object."""

    def __init__(self, pending: dict[int, Any], fail_at: int | None = None) -> None:
        self.pending = pending
        self.fail_at = fail_at
        self.mid = 0

    def socket(self) -> None:
        return None  # no socket: nothing to write at once

    def publish(self, topic: str, payload: bytes, qos: int, retain: bool, props: Any) -> Any:
        self.mid += 1
        if self.fail_at is not None and self.mid >= self.fail_at:
            raise ValueError("payload too large")
        mid = self.mid

        class Info:
            rc = 0

            def __init__(self) -> None:
                self.mid = mid

            def is_published(self) -> bool:
                return False
        return Info()


async def test_a_batch_returns_the_confirmed_prefix_and_cleans_up(monkeypatch: pytest.MonkeyPatch) -> None:
    """batch_publisher: PUBACKs complete aiomqtt's pending entries (``set()``); the result is the
    confirmed prefix; what stays unconfirmed is removed from aiomqtt's map; a publish that
    raises ends the batch there instead of killing the publisher."""
    import paho.mqtt.client as paho

    from mqtt_bridge import transport

    monkeypatch.setattr(transport.paho, "Client", _PahoLike)
    conn = type("Conn", (), {})()
    conn._pending_publishes = {}
    conn._client = _PahoLike(conn._pending_publishes)
    publish = transport.batch_publisher(conn)
    assert publish is not None and paho.MQTT_ERR_SUCCESS == 0
    msgs = [("t", str(n).encode(), 1, False, None) for n in range(5)]
    run = asyncio.ensure_future(publish(msgs, 0.2, asyncio.Event()))
    await asyncio.sleep(0)
    for mid in (1, 2, 4):  # PUBACKs of 1, 2 and 4; 3 and 5 never come
        conn._pending_publishes.pop(mid).set()
    assert await run == 2 and conn._pending_publishes == {}
    conn._client = _PahoLike(conn._pending_publishes, fail_at=2)
    publish = transport.batch_publisher(conn)
    assert publish is not None
    run = asyncio.ensure_future(publish(msgs, 5, asyncio.Event()))
    await asyncio.sleep(0)
    conn._pending_publishes.pop(1).set()
    assert await run == 1  # the second raised: the batch ends there, confirmed prefix 1


async def test_a_batch_is_on_the_wire_before_it_waits_and_leaves_no_writer(mosquitto: Any) -> None:
    """Issue #8: batch_publisher writes the batch to the socket at once instead of waiting for
    the loop's next select(); aiomqtt's late writer registration is taken back off afterwards
    (a writer left on an idle socket would run on every loop turn)."""
    from mqtt_bridge.config import BrokerConfig
    from mqtt_bridge.transport import batch_publisher

    c = BrokerConfig.from_url(mosquitto.url())
    async with aiomqtt.Client(c.host, c.port, username=c.username, password=c.password) as client:
        publish = batch_publisher(client)
        assert publish is not None
        paho_client = client._client
        msgs = [("wakebench-test/flush", str(n).encode(), 1, False, None) for n in range(3)]
        run = asyncio.ensure_future(publish(msgs, 5.0, asyncio.Event()))
        await asyncio.sleep(0)  # the batch task ran up to its wait for the PUBACKs, no further
        assert not run.done()
        assert not paho_client.want_write()  # everything already went to the socket
        assert await run == 3
        await asyncio.sleep(0)  # aiomqtt's late add_writer, then the settle behind it
        sock = paho_client.socket()
        assert sock is not None
        selector = asyncio.get_running_loop()._selector  # type: ignore[attr-defined]
        key = selector.get_map().get(sock.fileno())
        assert key is None or not key.events & 2  # selectors.EVENT_WRITE



class Wire:
    """A batch-publishing connection (``Link.batch``) the test confirms by hand: every batch is
    recorded on the "wire" the moment it is handed over; ``confirm(i, n)`` answers batch ``i``
    with ``n`` PUBACKs (its confirmed prefix)."""

    def __init__(self) -> None:
        self.batches: list[list[bytes]] = []
        self._answers: list[asyncio.Future[int]] = []

    async def batch(self, msgs: Any, timeout: float, broken: asyncio.Event) -> int:  # noqa: ASYNC109
        self.batches.append([payload for _topic, payload, *_ in msgs])
        answer: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._answers.append(answer)
        lost = asyncio.ensure_future(broken.wait())
        try:
            await asyncio.wait({answer, lost}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            lost.cancel()
        return answer.result() if answer.done() else 0

    def confirm(self, index: int, n: int) -> None:
        self._answers[index].set_result(n)

    @property
    def sent(self) -> list[bytes]:
        return [p for batch in self.batches for p in batch]


def waiting_for_work(publisher: Publisher) -> bool:
    """The drain task has looked at everything it was woken for and is idle."""
    return not publisher._wake.is_set() and publisher._idle.is_set()


def journaled(journal: Any, n: int) -> Outgoing:
    from firmware_sim.journal import PendingItem

    (row,) = journal.commit(None, [PendingItem(None, str(n).encode(), 1, "a", n)])
    return Outgoing("apps/a/events", str(n).encode(), durable=True, app="a", seq=n, row=row)


@pytest.fixture
async def wired() -> Any:
    from firmware_sim.journal import Journal

    journal = Journal(None)
    publisher = Publisher(journal, timeout=5, window=4, event_topic=lambda app: f"apps/{app}/events")
    wire = Wire()
    publisher.attach(Link(ScriptedClient(), mqtt5=False, batch=wire.batch))
    task = asyncio.create_task(publisher.run())
    await _until(lambda: waiting_for_work(publisher))
    yield publisher, journal, wire
    task.cancel()


async def test_an_event_put_while_idle_is_on_the_wire_before_put_returns(wired: Any) -> None:
    """Issue #8 edge path: no wait for the drain task's wake-up."""
    publisher, journal, wire = wired
    publisher.put(journaled(journal, 1))
    assert wire.batches == [[b"1"]]  # no await in between
    wire.confirm(0, 1)
    await drained(publisher)
    assert len(journal) == 0


async def test_the_rest_of_a_burst_goes_out_as_one_flight(wired: Any) -> None:
    publisher, journal, wire = wired
    for n in (1, 2, 3):
        publisher.put(journaled(journal, n))
    assert wire.batches == [[b"1"]]  # the first at once; the others wait for the drain task
    await _until(lambda: len(wire.batches) == 2)
    assert wire.batches == [[b"1"], [b"2", b"3"]]  # sent before the first one's PUBACK
    wire.confirm(1, 2)
    wire.confirm(0, 1)
    await drained(publisher)
    assert len(journal) == 0


async def test_a_flight_does_not_wait_for_the_pubacks_of_the_one_before(wired: Any) -> None:
    publisher, journal, wire = wired
    publisher.put(journaled(journal, 1))
    await _until(lambda: not publisher._wake.is_set())  # the drain task waits for its PUBACK
    publisher.put(journaled(journal, 2))
    assert wire.batches == [[b"1"], [b"2"]]
    wire.confirm(0, 1)
    wire.confirm(1, 1)
    await drained(publisher)
    assert len(journal) == 0


async def test_a_later_flight_confirmed_before_a_failed_one_is_not_acknowledged(wired: Any) -> None:
    """Flights land in the order they were sent: when one is not wholly confirmed, the journal
    keeps it and every later event (even one the broker confirmed), and they are sent again in
    order on the next connection: a duplicate at most, never a loss or a reordering."""
    publisher, journal, wire = wired
    publisher.put(journaled(journal, 1))
    await _until(lambda: not publisher._wake.is_set())
    publisher.put(journaled(journal, 2))
    wire.confirm(1, 1)  # 2's PUBACK came ...
    wire.confirm(0, 0)  # ... but 1 was lost
    await _until(lambda: not publisher.attached)
    assert [e.payload for e in journal.peek(10)] == [b"1", b"2"]
    again = Wire()
    publisher.attach(Link(ScriptedClient(), mqtt5=False, batch=again.batch))
    await _until(lambda: len(again.batches) == 1)
    assert again.sent == [b"1", b"2"]
    again.confirm(0, 2)
    await drained(publisher)
    assert len(journal) == 0


async def test_an_event_never_overtakes_a_replay(wired: Any) -> None:
    publisher, journal, _wire = wired
    publisher.detach()
    await _until(lambda: publisher._link is None and publisher._idle.is_set())
    publisher.put(journaled(journal, 1))  # offline: in the journal only
    again = Wire()
    publisher.attach(Link(ScriptedClient(), mqtt5=False, batch=again.batch))
    publisher.put(journaled(journal, 2))  # row 1 waits for its replay: 2 must not go first
    await _until(lambda: len(again.batches) >= 1)
    assert again.sent[0] == b"1"
    again.confirm(0, len(again.batches[0]))
    await _until(lambda: len(again.sent) == 2)
    assert again.sent == [b"1", b"2"]
    again.confirm(1, 1)
    await drained(publisher)
    assert len(journal) == 0


async def test_a_flight_not_landed_when_the_publisher_stops_is_kept() -> None:
    """Stopping (the drain task cancelled before it landed a flight put() sent): the flight's
    events count as unsent and go to the outbox with the rest of memory, in order."""
    publisher = Publisher(Outbox(None, max_events=100, max_bytes=1 << 20), timeout=5, window=4)
    wire = Wire()
    publisher.attach(Link(ScriptedClient(), mqtt5=False, batch=wire.batch))
    task = asyncio.create_task(publisher.run())
    await _until(lambda: waiting_for_work(publisher))
    publisher.put(event(1))  # sent at once
    publisher.put(event(2))  # queued behind it
    assert wire.sent == [b"1"] and publisher.pending == 2
    task.cancel()  # before the drain task ran again
    with pytest.raises(asyncio.CancelledError):
        await task
    publisher.detach()
    publisher.spill()
    assert [e.payload for e in publisher.outbox.peek(10)] == [b"1", b"2"]


async def test_flights_of_a_replaced_link_land_before_the_new_link_sends(wired: Any) -> None:
    """A reconnection before the drain task looked: what was in flight on the old connection is
    settled first, so nothing queued after it reaches the new connection ahead of it."""
    publisher, journal, wire = wired
    publisher.put(journaled(journal, 1))  # in flight on the old connection
    publisher.put(journaled(journal, 2))  # queued behind it
    publisher.detach()
    again = Wire()
    publisher.attach(Link(ScriptedClient(), mqtt5=False, batch=again.batch))
    publisher.put(journaled(journal, 3))  # not sent at once: the old flight is not landed yet
    assert again.batches == []
    wire.confirm(0, 0)  # the old connection never confirmed 1
    await _until(lambda: len(again.sent) >= 3)
    assert again.sent == [b"1", b"2", b"3"]
    for n in range(len(again.batches)):
        again.confirm(n, len(again.batches[n]))
    await drained(publisher)
    assert len(journal) == 0
