"""The one place that knows aiomqtt and paho (issue #15.7): the bridge asks a :class:`Transport`
for a connection and reads incoming messages as plain :class:`Incoming` values.

:class:`AiomqttTransport` builds the ``aiomqtt.Client`` (last will, protocol, TLS, in-flight
window, ``TCP_NODELAY``) and translates paho's MQTT 5 properties; a test or another MQTT library
can satisfy :class:`Transport` without subclassing anything.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final, Protocol, cast

import aiomqtt
import paho.mqtt.client as paho
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

from mqtt_bridge.config import BrokerConfig
from mqtt_bridge.intake import intake_queue
from mqtt_bridge.publisher import DEFAULT_WINDOW, DRAIN_CHUNK, NO_DELAY, BatchPublish, PublishClient

log = logging.getLogger(__name__)

__all__ = ["AiomqttTransport", "Connection", "Incoming", "Transport", "TransportError", "batch_publisher"]

#: The transport's failure: a lost or refused connection, a failed publish or subscribe.
TransportError: Final = aiomqtt.MqttError


@dataclass(frozen=True, slots=True)
class Incoming:
    """One received message; ``response_topic``/``correlation`` are MQTT 5 properties (or None)."""

    topic: str
    payload: bytes
    response_topic: str | None = None
    correlation: bytes | None = None
    retained: bool = False  # the RETAIN flag as delivered (a stored request is never executed)


#: Called (from the client library's callback) with a message the full intake queue cannot take.
Overflow = Callable[[Incoming], None]


class Connection(PublishClient, Protocol):
    """An open connection: publish (with PUBACK), subscribe, read messages."""

    async def subscribe(self, topic: str, qos: int = ..., *args: Any,
                        timeout: float | None = ...,  # noqa: ASYNC109 - aiomqtt's signature
                        **kwargs: Any) -> Any:
        """Subscribe and wait for the SUBACK."""
        ...


class Transport(Protocol):
    """Makes connections for the bridge and turns their messages into :class:`Incoming`."""

    def connect(self, broker: BrokerConfig, *, client_id: str, will_topic: str, will_payload: bytes,
                timeout: float, max_queued_incoming: int, max_queued_bytes: int,
                on_overflow: Overflow) -> Any:
        """An async context manager yielding a :class:`Connection` (raises TransportError).

        Incoming messages beyond ``max_queued_incoming`` / ``max_queued_bytes`` go to
        ``on_overflow`` at once instead of being dropped (the bridge answers ``overloaded``).
        """
        ...

    async def subscribe(self, connection: Any, topic_filter: str, *, mqtt5: bool, requests: bool,
                        timeout: float) -> None:  # noqa: ASYNC109 - a plain bound
        """Subscribe at QoS 1; for request filters on MQTT 5, keep the RETAIN flag as published
        and receive no stored messages (retain handling 2)."""
        ...

    def messages(self, connection: Any) -> AsyncIterator[Incoming]:
        """The connection's incoming messages, in arrival order."""
        ...

    def leftovers(self, connection: Any) -> list[Incoming]:
        """After the connection dropped: the messages it received that :meth:`messages` had not
        yielded yet, in arrival order (taken out; a second call returns none)."""
        ...

    def closed(self, connection: Any) -> asyncio.Future[Any] | None:
        """A future that is done once ``connection`` is gone (dropped by the network or the
        broker, or closed), or None if the transport cannot tell. The bridge waits on it next to
        the subscribes and publishes of its connection handshake and of its ``offline`` at stop,
        so a broker that vanishes then is noticed when the socket closes, not when the wait for
        its SUBACK / PUBACK times out. Only awaited, never resolved or consumed by the caller."""
        ...


class AiomqttTransport:
    """:class:`Transport` on aiomqtt 2.x / paho-mqtt 2.x."""

    def connect(self, broker: BrokerConfig, *, client_id: str, will_topic: str, will_payload: bytes,
                timeout: float, max_queued_incoming: int, max_queued_bytes: int,
                on_overflow: Overflow) -> aiomqtt.Client:
        client = aiomqtt.Client(
            broker.host, broker.port,
            username=broker.username, password=broker.password,
            identifier=client_id,
            protocol=aiomqtt.ProtocolVersion.V5 if broker.mqtt5 else aiomqtt.ProtocolVersion.V311,
            will=aiomqtt.Will(will_topic, will_payload, qos=1, retain=True),
            clean_session=None if broker.mqtt5 else True,
            keepalive=broker.keepalive,
            timeout=timeout,
            tls_context=broker.ssl_context(),
            queue_type=intake_queue(max_messages=max_queued_incoming, max_bytes=max_queued_bytes,
                                    on_overflow=lambda message: on_overflow(_incoming(message))),
            max_inflight_messages=DEFAULT_WINDOW,
            socket_options=NO_DELAY,
        )
        # aiomqtt logs a warning per publish above this many pending calls: a replay round
        # (DRAIN_CHUNK) plus a window of live messages is normal, not a concern
        client.pending_calls_threshold = DRAIN_CHUNK + 2 * DEFAULT_WINDOW + 10
        return client

    async def subscribe(self, connection: Any, topic_filter: str, *, mqtt5: bool, requests: bool,
                        timeout: float) -> None:  # noqa: ASYNC109 - a plain bound
        options = SubscribeOptions(qos=1, retainAsPublished=True, retainHandling=2) if mqtt5 and requests else None
        await connection.subscribe(topic_filter, qos=0 if options else 1, options=options, timeout=timeout)

    async def messages(self, connection: Any) -> AsyncIterator[Incoming]:
        async for message in connection.messages:
            yield _incoming(message)

    def leftovers(self, connection: Any) -> list[Incoming]:
        # aiomqtt's iterator stops at the disconnect and leaves its queue as it is; paho has
        # already acknowledged what is in it (QoS 1), so the broker will never send it again
        queue = getattr(connection, "_queue", None)
        found: list[Incoming] = []
        while isinstance(queue, asyncio.Queue) and not queue.empty():
            found.append(_incoming(queue.get_nowait()))
        return found

    def closed(self, connection: Any) -> asyncio.Future[Any] | None:
        # aiomqtt 2.x resolves ``_disconnected`` in paho's on_disconnect (a socket closed by the
        # peer is seen at once); its own publish() and subscribe() do not watch it and wait for
        # their timeout instead (aiomqtt 2.5 Client.publish / Client._wait_for)
        future = getattr(connection, "_disconnected", None)
        return future if isinstance(future, asyncio.Future) else None


def _incoming(message: aiomqtt.Message) -> Incoming:
    """paho's message and MQTT 5 properties as a plain :class:`Incoming`."""
    payload: Any = message.payload
    if isinstance(payload, str):
        payload = payload.encode()
    elif not isinstance(payload, bytes | bytearray):
        payload = b"" if payload is None else str(payload).encode()
    props = message.properties
    response_topic = getattr(props, "ResponseTopic", None) if props is not None else None
    correlation = getattr(props, "CorrelationData", None) if props is not None else None
    return Incoming(message.topic.value, bytes(payload), response_topic, correlation, bool(message.retain))


# -- publishing a batch without a task per message --------------------------------------------------
class _Batch:
    """The confirmations of one batch: which messages got their PUBACK, and a future that is
    done when all did."""

    __slots__ = ("acked", "done", "left")

    def __init__(self, n: int) -> None:
        self.acked = [False] * n
        self.left = n
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if n == 0:
            self.done.set_result(None)

    def confirm(self, index: int) -> None:
        if not self.acked[index]:
            self.acked[index] = True
            self.left -= 1
            if self.left == 0 and not self.done.done():
                self.done.set_result(None)

    def stop_at(self, index: int) -> None:
        """Messages from ``index`` on were never handed over: do not wait for them."""
        self.left -= sum(1 for acked in self.acked[index:] if not acked)
        if self.left <= 0 and not self.done.done():
            self.done.set_result(None)

    def prefix(self) -> int:
        n = 0
        for acked in self.acked:
            if not acked:
                break
            n += 1
        return n


class _Confirm:
    """Stands where aiomqtt keeps the ``asyncio.Event`` of a pending publish: aiomqtt calls
    ``set()`` on the PUBACK; this marks the message in its batch instead of waking a task."""

    __slots__ = ("batch", "index")

    def __init__(self, batch: _Batch, index: int) -> None:
        self.batch = batch
        self.index = index

    def set(self) -> None:
        self.batch.confirm(self.index)


def _flush(connection: Any, client: paho.Client) -> None:
    """Write the queued packets to the socket now (non-blocking; what the socket does not take
    waits for aiomqtt's writer callback). Under aiomqtt paho only registers a writer, so the
    packets otherwise wait for the next select() and everything ready before it (issue #8:
    ~300 µs of the charger edge → ``revoke`` path on a loaded loop).

    aiomqtt 2.x registers paho's writer a loop turn late (``call_soon_threadsafe(add_writer)``
    in ``Client._on_socket_register_write``), so after an immediate write that registration
    would land after paho already unregistered it: a writer left on an idle (or closed) socket.
    :func:`_settle_writer`, queued behind it, takes it back off. A write error is handled as
    aiomqtt's writer callback handles it: the connection is marked disconnected."""
    sock = client.socket()
    if sock is None:
        return
    fd = sock.fileno()
    try:
        client.loop_write()
    except Exception as exc:
        log.info("publish write failed: %s", exc)
        disconnected = getattr(connection, "_disconnected", None)
        if isinstance(disconnected, asyncio.Future) and not disconnected.done():
            disconnected.set_exception(exc)
    asyncio.get_running_loop().call_soon(_settle_writer, client, fd)


def _settle_writer(client: paho.Client, fd: int) -> None:
    """Remove the writer on ``fd`` unless paho still has packets for that socket."""
    sock = client.socket()
    if sock is None or sock.fileno() != fd or not client.want_write():
        asyncio.get_running_loop().remove_writer(fd)


def batch_publisher(connection: Any) -> BatchPublish | None:
    """A :data:`~mqtt_bridge.publisher.BatchPublish` for an aiomqtt connection, or None (then
    the publisher awaits ``connection.publish`` per message).

    ``aiomqtt.Client.publish`` costs a task, a timeout and an event per message; a replay of
    thousands of journaled events spent most of its CPU there (bench/bench_mqtt.py, cProfile).
    This hands the whole batch to paho at once (paho keeps ``max_inflight_messages`` in flight
    and queues the rest in order) and waits once. It relies on two aiomqtt 2.x internals, the
    paho client ``_client`` and the ``_pending_publishes`` map that aiomqtt's ``on_publish``
    completes; without them it returns None.
    """
    client = getattr(connection, "_client", None)
    pending = getattr(connection, "_pending_publishes", None)
    if not isinstance(client, paho.Client) or not isinstance(pending, dict):
        return None
    waiting = cast(dict[int, Any], pending)

    async def publish(msgs: Sequence[tuple[str, bytes, int, bool, Properties | None]], timeout: float,  # noqa: ASYNC109
                      broken: asyncio.Event) -> int:
        batch = _Batch(len(msgs))
        mids: list[int] = []
        try:
            for index, (topic, payload, qos, retain, props) in enumerate(msgs):
                try:
                    info = client.publish(topic, payload, qos, retain, props)
                except Exception:  # as a failed publish task before: this and the rest unconfirmed
                    log.exception("publish of %s failed", topic)
                    batch.stop_at(index)
                    break
                if info.rc != paho.MQTT_ERR_SUCCESS:
                    batch.stop_at(index)  # not connected: what was handed over may still be confirmed
                    break
                if info.is_published():
                    batch.confirm(index)
                else:
                    waiting[info.mid] = _Confirm(batch, index)
                    mids.append(info.mid)
            if mids:
                _flush(connection, client)
            if batch.left:
                lost: asyncio.Future[Any] = asyncio.ensure_future(broken.wait())
                confirmed: asyncio.Future[Any] = batch.done
                try:
                    await asyncio.wait({confirmed, lost}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    lost.cancel()
        finally:
            for mid in mids:
                entry = waiting.get(mid)
                if isinstance(entry, _Confirm) and entry.batch is batch:
                    del waiting[mid]
        return batch.prefix()

    return publish
