"""The embedded MQTT broker ``wakebench run`` starts when no ``--broker`` is given.

Two kinds, same shape (``start()``, ``host``, ``port``, ``url``, ``stop()``):

* :class:`MosquittoBroker` runs a private ``mosquitto`` on loopback, on a free port, from a
  config written to a temporary directory, with a WebSocket listener on loopback next to the
  TCP one (``ws_url``; ``wss`` with a certificate and key) so browsers can connect. The directory is ``chmod 0755`` because mosquitto 2
  started as root drops to user ``mosquitto`` after reading its config (reference
  ``mqtt-conventions.md`` section 7, "Gotcha (observed)").
* :class:`InProcessBroker` is a small asyncio MQTT 3.1.1 broker for machines without
  mosquitto: CONNECT/CONNACK, SUBSCRIBE/UNSUBSCRIBE with ``+`` and ``#``, PUBLISH QoS 0 and 1
  (QoS 2 accepted inbound and delivered at most at QoS 1), retained messages (an empty retained
  payload deletes), last will, PINGREQ, DISCONNECT, clean and persistent sessions. It listens on
  loopback only and accepts every client (no authentication): it is a bench convenience, not a
  production broker. It has no WebSocket listener (``ws_url`` is None).

Section numbers in comments refer to the MQTT 3.1.1 OASIS standard (29 October 2014).

Over 500 lines on purpose: the in-process broker is one MQTT 3.1.1 state machine (codec,
sessions, retained store, will, keep-alive) whose parts share the session table, and it is
conformance-tested as one unit against mosquitto (tests/rig/test_broker.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import os
import shutil
import socket
import struct
import tempfile
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, Literal, Protocol

from mqtt_bridge.config import DEFAULT_OUTBOX_MAX_EVENTS

__all__ = [
    "BrokerError",
    "EmbeddedBroker",
    "InProcessBroker",
    "MosquittoBroker",
    "WebSocketOptions",
    "start_embedded_broker",
    "topic_matches",
    "valid_filter",
]

LOOPBACK: Final = "127.0.0.1"

# -- MQTT 3.1.1 control packet types (section 2.2.1, table 2.1) ---------------------------------
CONNECT, CONNACK, PUBLISH, PUBACK, PUBREC, PUBREL, PUBCOMP = 1, 2, 3, 4, 5, 6, 7
SUBSCRIBE, SUBACK, UNSUBSCRIBE, UNSUBACK, PINGREQ, PINGRESP, DISCONNECT = 8, 9, 10, 11, 12, 13, 14

#: CONNACK return codes (section 3.2.2.3, table 3.1).
CONNACK_ACCEPTED: Final = 0
CONNACK_BAD_PROTOCOL: Final = 1
CONNACK_ID_REJECTED: Final = 2
#: SUBACK failure return code (section 3.9.3).
SUBACK_FAILURE: Final = 0x80
#: Largest Remaining Length the protocol can encode: 268,435,455 bytes (section 2.2.3).
MQTT_MAX_REMAINING: Final = 268_435_455
#: Default cap on one packet here (wakebench payloads are a few kB; mosquitto's own default is
#: unlimited). Larger packets close the connection, as section 4.8 allows for protocol errors.
DEFAULT_MAX_PACKET: Final = 1 << 20
#: QoS 1 messages kept per offline persistent session; mosquitto's ``max_queued_messages``
#: default is also 1000 (mosquitto.conf(5)). The oldest is dropped beyond it.
DEFAULT_MAX_QUEUED: Final = 1000
#: QoS 1 messages sent to one client and not yet acknowledged; further ones wait in its queue.
#: ``max_queued_messages`` for the private mosquitto: the bridge outbox's event cap
#: (mqtt_bridge.outbox), so a burst the rig can hold is one the broker can queue too.
DEFAULT_MAX_QUEUED_MOSQUITTO: Final = DEFAULT_OUTBOX_MAX_EVENTS
#: mosquitto's ``max_inflight_messages`` default is 20 (mosquitto.conf(5)); 100 here.
DEFAULT_MAX_INFLIGHT: Final = 100
#: A client whose unsent output exceeds this is disconnected instead of growing memory.
MAX_WRITE_BUFFER: Final = 8 << 20
#: Time allowed between accepting a connection and its CONNECT (section 3.1.4: "reasonable").
CONNECT_TIMEOUT_S: Final = 10.0
#: Keep Alive grace: no packet within 1.5 × Keep Alive closes the connection (section 3.1.2.10).
KEEPALIVE_FACTOR: Final = 1.5
#: Protocol levels accepted: 3 = MQTT 3.1 ("MQIsdp"), 4 = MQTT 3.1.1 ("MQTT") (section 3.1.2.2).
_PROTOCOLS: Final = {("MQTT", 4), ("MQIsdp", 3)}


@dataclass(frozen=True, slots=True)
class WebSocketOptions:
    """The embedded mosquitto's WebSocket listener (``protocol websockets``, mosquitto.conf(5)).

    Debian's mosquitto 2.0.11 is built with WebSocket support (verified: it logs "Opening
    websockets listen socket on port N"). Browsers cannot speak MQTT over raw TCP, so this
    listener is on by default.

    Args:
        enabled: open the listener at all.
        port: its port (None: a free one).
        cert_file / key_file: PEM server certificate and key; both given makes it ``wss://``.
    """

    enabled: bool = True
    port: int | None = None
    cert_file: str | None = None
    key_file: str | None = None

    @property
    def tls(self) -> bool:
        """True when the listener is ``wss``."""
        return self.cert_file is not None


class BrokerError(RuntimeError):
    """The embedded broker could not start (the message says why and what to do)."""


class _ProtocolError(Exception):
    """The client broke the protocol; the connection is closed (section 4.8)."""


# -- topic names and filters (section 4.7) ------------------------------------------------------
def valid_filter(topic_filter: str) -> bool:
    """True when ``topic_filter`` is a valid subscription: ``#`` only as the whole last level,
    ``+`` only as a whole level, not empty, no U+0000 (sections 4.7.1, 4.7.3)."""
    if not topic_filter or "\x00" in topic_filter:
        return False
    levels = topic_filter.split("/")
    for i, level in enumerate(levels):
        if "#" in level and (level != "#" or i != len(levels) - 1):
            return False
        if "+" in level and level != "+":
            return False
    return True


def valid_topic(topic: str) -> bool:
    """True when ``topic`` may be published to: not empty, no wildcard, no U+0000."""
    return bool(topic) and not any(c in topic for c in "+#\x00")


def topic_matches(topic_filter: str, topic: str) -> bool:
    """True when ``topic`` matches ``topic_filter``; a filter starting with a wildcard does not
    match topics starting with ``$`` (section 4.7.2)."""
    if topic.startswith("$") and topic_filter[:1] in ("+", "#"):
        return False
    f_levels = topic_filter.split("/")
    t_levels = topic.split("/")
    for i, f in enumerate(f_levels):
        if f == "#":
            return True  # also matches the parent level: "a/#" matches "a"
        if i >= len(t_levels):
            return False
        if f != "+" and f != t_levels[i]:
            return False
    return len(f_levels) == len(t_levels)


# -- wire encoding ------------------------------------------------------------------------------
def _remaining_length(n: int) -> bytes:
    out = bytearray()
    while True:
        n, digit = divmod(n, 128)
        out.append(digit | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _packet(ptype: int, flags: int, body: bytes) -> bytes:
    return bytes([(ptype << 4) | flags]) + _remaining_length(len(body)) + body


def _utf8(text: str) -> bytes:
    raw = text.encode()
    return struct.pack("!H", len(raw)) + raw


class _Reader:
    """Cursor over one packet's variable header and payload."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def u8(self) -> int:
        if self.pos + 1 > len(self.data):
            raise _ProtocolError("packet too short")
        self.pos += 1
        return self.data[self.pos - 1]

    def u16(self) -> int:
        if self.pos + 2 > len(self.data):
            raise _ProtocolError("packet too short")
        (value,) = struct.unpack_from("!H", self.data, self.pos)
        self.pos += 2
        return int(value)

    def binary(self) -> bytes:
        n = self.u16()
        if self.pos + n > len(self.data):
            raise _ProtocolError("length field runs past the packet")
        self.pos += n
        return self.data[self.pos - n : self.pos]

    def text(self) -> str:
        try:
            value = self.binary().decode("utf-8")
        except UnicodeDecodeError as exc:  # section 1.5.3: ill-formed UTF-8 closes the connection
            raise _ProtocolError("ill-formed UTF-8 string") from exc
        if "\x00" in value:
            raise _ProtocolError("U+0000 in a string")
        return value

    def rest(self) -> bytes:
        out = self.data[self.pos :]
        self.pos = len(self.data)
        return out

    @property
    def more(self) -> bool:
        return self.pos < len(self.data)


async def _read_packet(reader: asyncio.StreamReader, max_size: int) -> tuple[int, int, bytes]:
    head = await reader.readexactly(1)
    length, shift = 0, 0
    for _ in range(4):  # Remaining Length is at most four bytes (section 2.2.3)
        (byte,) = await reader.readexactly(1)
        length += (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            break
    else:
        raise _ProtocolError("malformed Remaining Length")
    if length > max_size:
        raise _ProtocolError(f"packet of {length} bytes exceeds the broker's limit of {max_size}")
    body = await reader.readexactly(length) if length else b""
    return head[0] >> 4, head[0] & 0x0F, body


# -- broker state -------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _Message:
    topic: str
    payload: bytes
    qos: int
    retain: bool = False


@dataclass(slots=True)
class _Session:
    client_id: str
    clean: bool
    subscriptions: dict[str, int] = field(default_factory=dict)
    inflight: dict[int, _Message] = field(default_factory=dict)  # QoS 1 sent, PUBACK awaited
    queued: deque[_Message] = field(default_factory=deque)  # QoS 1 kept while offline
    qos2_received: set[int] = field(default_factory=set)  # inbound QoS 2 awaiting PUBREL
    connection: _Connection | None = None
    _last_id: int = 0

    def next_packet_id(self) -> int:
        for _ in range(65535):
            self._last_id = self._last_id % 65535 + 1
            if self._last_id not in self.inflight:
                return self._last_id
        raise _ProtocolError("all 65535 packet identifiers are in flight")

    def granted_qos(self, topic: str) -> int | None:
        """Highest QoS among this session's filters matching ``topic`` (None: no match).

        Overlapping subscriptions deliver one copy at the highest QoS (section 3.3.5 allows it).
        """
        best: int | None = None
        for topic_filter, qos in self.subscriptions.items():
            if topic_matches(topic_filter, topic) and (best is None or qos > best):
                best = qos
        return best


@dataclass(slots=True, eq=False)
class _Connection:
    writer: asyncio.StreamWriter
    session: _Session | None = None
    will: _Message | None = None
    closing: bool = False

    def send(self, data: bytes) -> None:
        if self.closing:
            return
        transport = self.writer.transport
        if transport.is_closing():
            self.closing = True
            return
        if transport.get_write_buffer_size() > MAX_WRITE_BUFFER:
            self.close()  # a consumer this slow would otherwise grow the broker without bound
            return
        self.writer.write(data)

    def close(self) -> None:
        self.closing = True
        self.writer.close()


class InProcessBroker:
    """A small asyncio MQTT 3.1.1 broker on ``host:port`` (port 0: a free one).

    Args:
        host: address to listen on (loopback by default).
        port: TCP port; 0 lets the OS choose (read :attr:`port` after :meth:`start`).
        max_packet_size: largest accepted packet, bytes.
        max_queued: QoS 1 messages kept per session (offline, or beyond the in-flight window).
        max_inflight: unacknowledged QoS 1 messages per client.
    """

    kind = "in-process"

    def __init__(
        self,
        host: str = LOOPBACK,
        port: int = 0,
        *,
        max_packet_size: int = DEFAULT_MAX_PACKET,
        max_queued: int = DEFAULT_MAX_QUEUED,
        max_inflight: int = DEFAULT_MAX_INFLIGHT,
    ) -> None:
        self.host = host
        self.max_inflight = max(1, min(max_inflight, 65535))
        self.port = port
        self.max_packet_size = min(max_packet_size, MQTT_MAX_REMAINING)
        self.max_queued = max_queued
        self._server: asyncio.Server | None = None
        self._sessions: dict[str, _Session] = {}
        self._retained: dict[str, _Message] = {}
        self._connections: set[_Connection] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._auto_id = 0

    @property
    def url(self) -> str:
        """``mqtt://host:port``."""
        return f"mqtt://{self.host}:{self.port}"

    @property
    def ws_url(self) -> str | None:
        """Always None: this broker speaks MQTT over TCP only (browsers need the mosquitto one)."""
        return None

    async def start(self) -> None:
        """Listen; :attr:`port` is the bound port afterwards.

        Raises:
            BrokerError: the address cannot be bound.
        """
        try:
            self._server = await asyncio.start_server(self._accept, self.host, self.port)
        except OSError as exc:
            raise BrokerError(f"in-process MQTT broker cannot listen on {self.host}:{self.port}: {exc}") from exc
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Stop listening and close every connection (no wills are sent for a broker stop)."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for conn in list(self._connections):
            conn.will = None
            conn.close()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def __aenter__(self) -> InProcessBroker:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def retained_topics(self) -> tuple[str, ...]:
        """Topics that currently hold a retained message (for tests and diagnostics)."""
        return tuple(self._retained)

    # -- connections ----------------------------------------------------------------------------
    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        conn = _Connection(writer)
        self._connections.add(conn)
        abnormal = True
        try:
            abnormal = await self._serve(conn, reader)
        except (asyncio.IncompleteReadError, ConnectionError, TimeoutError, _ProtocolError, OSError):
            abnormal = True
        except asyncio.CancelledError:
            # stop() cancels the connection: end normally, because Python 3.11's stream callback
            # calls task.exception() on the finished task and logs a CancelledError traceback
            abnormal = True
        finally:
            self._connections.discard(conn)
            self._tasks.discard(task)
            self._disconnected(conn, abnormal=abnormal)
            conn.close()
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await writer.wait_closed()

    async def _serve(self, conn: _Connection, reader: asyncio.StreamReader) -> bool:
        """Serve one connection; True if it ended abnormally (the will is then published)."""
        ptype, flags, body = await asyncio.wait_for(
            _read_packet(reader, self.max_packet_size), CONNECT_TIMEOUT_S
        )
        if ptype != CONNECT or flags != 0:
            raise _ProtocolError("the first packet must be CONNECT")  # section 3.1
        keepalive = self._connect(conn, _Reader(body))
        if conn.session is None:
            return False  # refused with a CONNACK return code
        timeout = keepalive * KEEPALIVE_FACTOR if keepalive else None
        while not conn.closing:
            ptype, flags, body = await asyncio.wait_for(_read_packet(reader, self.max_packet_size), timeout)
            if ptype == DISCONNECT:
                conn.will = None  # section 3.14.4: discard the will without publishing it
                return False
            self._dispatch(conn, ptype, flags, _Reader(body))
        return True  # closed by the broker (taken over, too slow): not a DISCONNECT

    def _connect(self, conn: _Connection, r: _Reader) -> int:
        name, level = r.text(), r.u8()
        if (name, level) not in _PROTOCOLS:
            if name in ("MQTT", "MQIsdp"):
                conn.send(_packet(CONNACK, 0, bytes([0, CONNACK_BAD_PROTOCOL])))  # section 3.1.2.2
                conn.closing = True
                return 0
            raise _ProtocolError(f"unknown protocol name {name!r}")
        flags = r.u8()
        keepalive = r.u16()
        if flags & 0x01:
            raise _ProtocolError("reserved CONNECT flag set")  # section 3.1.2.3
        clean = bool(flags & 0x02)
        will_flag, will_qos, will_retain = bool(flags & 0x04), (flags >> 3) & 0x03, bool(flags & 0x20)
        has_password, has_username = bool(flags & 0x40), bool(flags & 0x80)
        if will_qos == 3 or (not will_flag and (will_qos or will_retain)):
            raise _ProtocolError("invalid will flags")  # sections 3.1.2.6, 3.1.2.7
        if has_password and not has_username and level == 4:
            raise _ProtocolError("password without user name")  # section 3.1.2.9
        client_id = r.text()
        if will_flag:
            will_topic, will_payload = r.text(), r.binary()
            if not valid_topic(will_topic):
                raise _ProtocolError("invalid will topic")
            conn.will = _Message(will_topic, will_payload, will_qos, will_retain)
        if has_username:
            r.text()
        if has_password:
            r.binary()
        if not client_id:
            if not clean:  # section 3.1.3.1: a zero-byte id needs CleanSession = 1
                conn.send(_packet(CONNACK, 0, bytes([0, CONNACK_ID_REJECTED])))
                conn.closing = True
                return 0
            self._auto_id += 1
            client_id = f"auto-{id(self):x}-{self._auto_id}"

        session = self._sessions.get(client_id)
        if session is not None and session.connection is not None:
            old = session.connection  # section 3.1.4: disconnect the existing client
            session.connection = None
            old.close()
        if session is not None and (clean or session.clean):
            del self._sessions[client_id]
            session = None
        present = session is not None
        if session is None:
            session = _Session(client_id, clean)
            self._sessions[client_id] = session
        session.clean = clean
        session.connection = conn
        conn.session = session
        conn.send(_packet(CONNACK, 0, bytes([1 if present else 0, CONNACK_ACCEPTED])))
        if present:  # section 4.4: resend unacknowledged messages, then what was queued
            for packet_id, msg in session.inflight.items():
                conn.send(self._publish_packet(msg, packet_id, dup=True))
            self._flush_queue(session)
        return keepalive

    def _disconnected(self, conn: _Connection, *, abnormal: bool) -> None:
        session = conn.session
        if session is not None and session.connection is conn:
            session.connection = None
            if session.clean:
                self._sessions.pop(session.client_id, None)
        if abnormal and conn.will is not None:  # section 3.1.2.5
            will, conn.will = conn.will, None
            self._route(will)

    def _dispatch(self, conn: _Connection, ptype: int, flags: int, r: _Reader) -> None:
        session = conn.session
        assert session is not None
        if ptype == PUBLISH:
            self._on_publish(conn, session, flags, r)
        elif ptype == PUBACK:
            session.inflight.pop(r.u16(), None)
            self._flush_queue(session)
        elif ptype == PUBREL:
            if flags != 0x02:
                raise _ProtocolError("PUBREL flags must be 0010")  # section 3.6.1
            packet_id = r.u16()
            session.qos2_received.discard(packet_id)
            conn.send(_packet(PUBCOMP, 0, struct.pack("!H", packet_id)))
        elif ptype in (PUBREC, PUBCOMP):
            r.u16()  # never sent QoS 2 outbound; nothing to complete
        elif ptype == SUBSCRIBE:
            self._on_subscribe(conn, session, flags, r)
        elif ptype == UNSUBSCRIBE:
            if flags != 0x02:
                raise _ProtocolError("UNSUBSCRIBE flags must be 0010")  # section 3.10.1
            packet_id = r.u16()
            if not r.more:
                raise _ProtocolError("UNSUBSCRIBE without a topic filter")
            while r.more:
                session.subscriptions.pop(r.text(), None)
            conn.send(_packet(UNSUBACK, 0, struct.pack("!H", packet_id)))
        elif ptype == PINGREQ:
            conn.send(_packet(PINGRESP, 0, b""))
        else:
            raise _ProtocolError(f"unexpected packet type {ptype}")

    def _on_publish(self, conn: _Connection, session: _Session, flags: int, r: _Reader) -> None:
        qos, retain = (flags >> 1) & 0x03, bool(flags & 0x01)
        if qos == 3:
            raise _ProtocolError("PUBLISH with QoS 3")  # section 3.3.1.2
        topic = r.text()
        if not valid_topic(topic):
            raise _ProtocolError(f"invalid topic name {topic!r}")  # section 3.3.2.1
        packet_id = r.u16() if qos else 0
        msg = _Message(topic, r.rest(), qos, retain)
        if qos == 2:  # deliver once, on the first PUBLISH of this id (section 4.3.3, method A)
            if packet_id not in session.qos2_received:
                session.qos2_received.add(packet_id)
                self._route(msg)
            conn.send(_packet(PUBREC, 0, struct.pack("!H", packet_id)))
            return
        self._route(msg)
        if qos == 1:
            conn.send(_packet(PUBACK, 0, struct.pack("!H", packet_id)))

    def _on_subscribe(self, conn: _Connection, session: _Session, flags: int, r: _Reader) -> None:
        if flags != 0x02:
            raise _ProtocolError("SUBSCRIBE flags must be 0010")  # section 3.8.1
        packet_id = r.u16()
        if not r.more:
            raise _ProtocolError("SUBSCRIBE without a topic filter")  # section 3.8.3
        granted: list[int] = []
        new: list[tuple[str, int]] = []
        while r.more:
            topic_filter, requested = r.text(), r.u8()
            if requested & 0xFC:
                raise _ProtocolError("invalid requested QoS")  # section 3.8.3.1
            if not valid_filter(topic_filter):
                granted.append(SUBACK_FAILURE)
                continue
            qos = min(requested, 1)  # this broker delivers at most QoS 1
            session.subscriptions[topic_filter] = qos
            granted.append(qos)
            new.append((topic_filter, qos))
        conn.send(_packet(SUBACK, 0, struct.pack("!H", packet_id) + bytes(granted)))
        for topic_filter, qos in new:  # section 3.3.1.3: retained messages go to new subscribers
            for msg in list(self._retained.values()):
                if topic_matches(topic_filter, msg.topic):
                    self._send_to(session, _Message(msg.topic, msg.payload, min(msg.qos, qos), True))

    # -- routing --------------------------------------------------------------------------------
    def _route(self, msg: _Message) -> None:
        if msg.retain:
            if msg.payload:
                self._retained[msg.topic] = _Message(msg.topic, msg.payload, min(msg.qos, 1), True)
            else:  # section 3.3.1.3: a zero-byte retained message removes the retained one
                self._retained.pop(msg.topic, None)
        for session in list(self._sessions.values()):
            qos = session.granted_qos(msg.topic)
            if qos is not None:
                # section 3.3.1.3: forwarded to existing subscribers with RETAIN 0
                self._send_to(session, _Message(msg.topic, msg.payload, min(msg.qos, qos), False))

    def _send_to(self, session: _Session, msg: _Message) -> None:
        conn = session.connection
        if conn is None or conn.closing:
            if msg.qos and not session.clean:
                self._enqueue(session, msg)
            return
        packet_id = 0
        if msg.qos:
            if session.queued or len(session.inflight) >= self.max_inflight:
                self._enqueue(session, msg)  # keeps order; sent as PUBACKs free the window
                return
            packet_id = session.next_packet_id()
            session.inflight[packet_id] = msg
        conn.send(self._publish_packet(msg, packet_id))

    def _enqueue(self, session: _Session, msg: _Message) -> None:
        if len(session.queued) >= self.max_queued:
            session.queued.popleft()
        session.queued.append(msg)

    def _flush_queue(self, session: _Session) -> None:
        conn = session.connection
        while session.queued and len(session.inflight) < self.max_inflight and conn is not None \
                and not conn.closing:
            msg = session.queued.popleft()
            packet_id = session.next_packet_id()
            session.inflight[packet_id] = msg
            conn.send(self._publish_packet(msg, packet_id))

    @staticmethod
    def _publish_packet(msg: _Message, packet_id: int, *, dup: bool = False) -> bytes:
        flags = (0x08 if dup else 0) | (msg.qos << 1) | (0x01 if msg.retain else 0)
        body = _utf8(msg.topic) + (struct.pack("!H", packet_id) if msg.qos else b"") + msg.payload
        return _packet(PUBLISH, flags, body)


# -- mosquitto ----------------------------------------------------------------------------------
def free_port(host: str = LOOPBACK) -> int:
    """A TCP port that was free a moment ago on ``host``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class MosquittoBroker:
    """A private ``mosquitto`` on loopback, anonymous, no persistence, on a free port.

    Args:
        binary: the mosquitto executable (name on ``PATH`` or a path).
        host: listener address.
        port: listener port (None: a free one).
        websockets: the WebSocket listener next to the TCP one (default: on, free port, ``ws``).
        start_timeout: seconds to wait for mosquitto to say it is running.
    """

    kind = "mosquitto"

    def __init__(
        self,
        binary: str = "mosquitto",
        *,
        host: str = LOOPBACK,
        port: int | None = None,
        websockets: WebSocketOptions | None = None,
        start_timeout: float = 10.0,
    ) -> None:
        self.binary = binary
        self.host = host
        self.port = port or 0
        self.websockets = websockets or WebSocketOptions()
        self.ws_port = self.websockets.port or 0
        self.start_timeout = start_timeout
        self._fixed_port = port is not None
        self._proc: asyncio.subprocess.Process | None = None
        self._dir: Path | None = None
        self._log: deque[str] = deque(maxlen=200)
        self._drain: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        """``mqtt://host:port``."""
        return f"mqtt://{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        """The mosquitto process id while running."""
        return self._proc.pid if self._proc is not None else None

    @property
    def log(self) -> tuple[str, ...]:
        """The last lines mosquitto logged."""
        return tuple(self._log)

    @staticmethod
    def available(binary: str = "mosquitto") -> bool:
        """True when the mosquitto executable can be found."""
        return shutil.which(binary) is not None

    @property
    def ws_url(self) -> str | None:
        """``ws://host:port`` (``wss://`` with TLS) while the WebSocket listener is configured."""
        if not self.websockets.enabled or not self.ws_port:
            return None
        return f"{'wss' if self.websockets.tls else 'ws'}://{self.host}:{self.ws_port}"

    async def start(self) -> None:
        """Write the config, start mosquitto and wait until it listens.

        Raises:
            BrokerError: mosquitto is missing, exits, or does not come up in time (with its log).
        """
        path = shutil.which(self.binary)
        if path is None:
            raise BrokerError(f"{self.binary!r} not found on PATH; install mosquitto or pass --broker URL")
        self._dir = Path(tempfile.mkdtemp(prefix="wakebench-broker-"))
        # mosquitto started as root drops to user `mosquitto` after reading the config
        # (reference mqtt-conventions.md section 7): let it read the directory.
        os.chmod(self._dir, 0o755)
        fixed_ws = self.websockets.port is not None or not self.websockets.enabled
        attempts = 1 if self._fixed_port and fixed_ws else 3
        last = ""
        for _ in range(attempts):  # a "free" port can be taken before mosquitto binds it
            if not self._fixed_port:
                self.port = free_port(self.host)
            if not fixed_ws:
                self.ws_port = free_port(self.host)
                while self.ws_port == self.port:
                    self.ws_port = free_port(self.host)
            try:
                await self._launch(path)
                return
            except BrokerError as exc:
                last = str(exc)
                if "in use" not in last:
                    break
        await self.stop()
        raise BrokerError(last)

    async def _launch(self, path: str) -> None:
        assert self._dir is not None
        conf = self._dir / "mosquitto.conf"
        conf.write_text(
            f"listener {self.port} {self.host}\n"
            "allow_anonymous true\n"
            "persistence false\n"
            "log_dest stderr\n"
            "log_type error\nlog_type warning\nlog_type notice\nlog_type information\n"
            "connection_messages false\n"
            # Nagle + delayed ACK would hold small QoS 1 messages up to ~40 ms (mosquitto.conf(5))
            "set_tcp_nodelay true\n"
            # mosquitto's default of 1000 queued messages per client silently dropped ~3,500 of a
            # 10,000-event burst to a slow dashboard subscriber (bench/bench_mqtt.py); keep as
            # many as the bridge's outbox holds
            f"max_queued_messages {DEFAULT_MAX_QUEUED_MOSQUITTO}\n"
            + self._ws_listener(),
            encoding="utf-8",
        )
        os.chmod(conf, 0o644)
        self._log.clear()
        self._proc = await asyncio.create_subprocess_exec(
            path, "-c", str(conf),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
            # its own session: a Ctrl-C on the terminal (sent to the whole foreground process
            # group) must not stop the broker before the rig has published `offline` through it
            start_new_session=True,
        )
        ready = asyncio.get_running_loop().create_future()
        self._drain = asyncio.create_task(self._read_log(ready))
        try:
            await asyncio.wait_for(asyncio.shield(ready), self.start_timeout)
        except TimeoutError:
            await self._terminate()
            raise BrokerError(
                f"mosquitto did not start within {self.start_timeout:g} s; its log:\n" + "\n".join(self._log)
            ) from None
        if not ready.result():
            await self._terminate()
            tail = "\n".join(self._log)
            in_use = "in use" if "Address already in use" in tail else ""
            raise BrokerError(f"mosquitto exited at start-up{' (address ' + in_use + ')' if in_use else ''}; "
                              f"its log:\n{tail}")

    def _ws_listener(self) -> str:
        """The WebSocket listener block (mosquitto.conf(5): ``listener``, ``protocol websockets``,
        ``certfile`` / ``keyfile`` for TLS); the options above it are global and apply too."""
        ws = self.websockets
        if not ws.enabled:
            return ""
        block = f"listener {self.ws_port} {self.host}\nprotocol websockets\n"
        if ws.tls:
            # mosquitto 2.0.11 loads a websockets listener's certificate *after* dropping from root
            # to user `mosquitto` (observed: "Unable to create websockets listener" with a 0600
            # key); staying the current user keeps the key readable without widening its mode
            block = f"user {getpass.getuser()}\n" + block
            block += f"certfile {Path(ws.cert_file or '').resolve()}\nkeyfile {Path(ws.key_file or '').resolve()}\n"
        return block

    async def _read_log(self, ready: asyncio.Future[bool]) -> None:
        assert self._proc is not None and self._proc.stderr is not None
        stream = self._proc.stderr
        while line := await stream.readline():
            text = line.decode(errors="replace").rstrip()
            self._log.append(text)
            if not ready.done() and " running" in text:
                ready.set_result(True)
        if not ready.done():
            ready.set_result(False)

    async def _terminate(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.returncode is None:
            # mosquitto 2.0.11 can miss a SIGTERM that arrives right after it logged "running"
            # (observed: it then sits until killed); repeat it, then SIGKILL after 5 s.
            for _ in range(25):
                with contextlib.suppress(ProcessLookupError):
                    proc.terminate()
                try:
                    await asyncio.wait_for(proc.wait(), 0.2)
                    break
                except TimeoutError:
                    continue
            else:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                await proc.wait()
        if self._drain is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._drain, 2.0)
            self._drain = None

    async def stop(self) -> None:
        """Stop mosquitto and remove its temporary directory."""
        await self._terminate()
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    async def __aenter__(self) -> MosquittoBroker:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()


class EmbeddedBroker(Protocol):
    """What :func:`start_embedded_broker` returns."""

    kind: str
    host: str
    port: int

    @property
    def url(self) -> str:
        """``mqtt://host:port``."""
        ...

    @property
    def ws_url(self) -> str | None:
        """``ws://host:port`` / ``wss://`` for browsers; None when the broker has none."""
        ...

    async def stop(self) -> None:
        """Stop the broker."""
        ...


BrokerKind = Literal["auto", "mosquitto", "in-process"]


async def start_embedded_broker(kind: BrokerKind = "auto", *, mosquitto: str = "mosquitto",
                                websockets: WebSocketOptions | None = None) -> EmbeddedBroker:
    """Start a loopback broker: mosquitto when ``kind`` is ``mosquitto`` or (``auto``) when the
    binary exists, else the in-process one (which has no WebSockets: ``websockets`` is ignored).

    Raises:
        BrokerError: the chosen broker cannot start.
    """
    broker: MosquittoBroker | InProcessBroker
    if kind == "mosquitto" or (kind == "auto" and MosquittoBroker.available(mosquitto)):
        broker = MosquittoBroker(mosquitto, websockets=websockets)
    else:
        broker = InProcessBroker()
    await broker.start()
    return broker


def connect_hint(host: str, port: int, rig: str = "#") -> str:
    """The command a person can paste to watch a rig's traffic."""
    topic = "wakebench/#" if rig in ("#", "+") else f"wakebench/{rig}/#"
    return f"mosquitto_sub -h {host} -p {port} -t '{topic}' -v"
