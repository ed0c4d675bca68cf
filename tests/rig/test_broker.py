"""The embedded broker: the in-process MQTT 3.1.1 broker and the private mosquitto behave the same
for every client wakebench and its users bring (aiomqtt on 3.1.1, mosquitto_sub / mosquitto_pub).

Section numbers refer to the MQTT 3.1.1 OASIS standard.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import struct
from collections.abc import AsyncIterator

import aiomqtt
import pytest

from wakebench.broker import (
    BrokerError,
    InProcessBroker,
    MosquittoBroker,
    connect_hint,
    start_embedded_broker,
    topic_matches,
    valid_filter,
)

TIMEOUT = 5.0
HAS_MOSQUITTO = shutil.which("mosquitto") is not None

KINDS = [
    "in-process",
    pytest.param("mosquitto", marks=[pytest.mark.broker,
                                     pytest.mark.skipif(not HAS_MOSQUITTO, reason="no mosquitto")]),
]


@pytest.fixture(params=KINDS)
async def broker(request: pytest.FixtureRequest) -> AsyncIterator[InProcessBroker | MosquittoBroker]:
    b: InProcessBroker | MosquittoBroker = InProcessBroker() if request.param == "in-process" else MosquittoBroker()
    await b.start()
    try:
        yield b
    finally:
        await b.stop()


def client(broker: InProcessBroker | MosquittoBroker, **kwargs: object) -> aiomqtt.Client:
    return aiomqtt.Client(broker.host, broker.port, protocol=aiomqtt.ProtocolVersion.V311, **kwargs)  # type: ignore[arg-type]


async def next_message(c: aiomqtt.Client) -> aiomqtt.Message:
    async with asyncio.timeout(TIMEOUT):
        async for message in c.messages:
            return message
    raise AssertionError("message iterator ended")


# -- pure topic rules ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("flt", "topic", "expected"),
    [
        ("wakebench/+/signals", "wakebench/rig1/signals", True),
        ("wakebench/+/signals", "wakebench/rig1/apps/x/events", False),
        ("wakebench/#", "wakebench", True),  # section 4.7.1.2: "#" also matches the parent
        ("wakebench/#", "wakebench/a/b/c", True),
        ("+/+", "a/b", True),
        ("+", "/a", False),
        ("+/a", "/a", True),  # an empty first level is a level
        ("#", "$SYS/broker/uptime", False),  # section 4.7.2
        ("+/broker/uptime", "$SYS/broker/uptime", False),
        ("$SYS/#", "$SYS/broker/uptime", True),
        ("a/b", "a/b/c", False),
        ("a/b/c", "a/b", False),
    ],
)
def test_topic_matching_follows_section_4_7(flt: str, topic: str, expected: bool) -> None:
    assert topic_matches(flt, topic) is expected


@pytest.mark.parametrize("flt", ["a/#", "#", "+", "a/+/b", "+/+/#", "/"])
def test_valid_filters(flt: str) -> None:
    assert valid_filter(flt)


@pytest.mark.parametrize("flt", ["", "a/#/b", "a#", "a/b+", "+a", "a\x00b"])
def test_invalid_filters(flt: str) -> None:
    assert not valid_filter(flt)


# -- both brokers, real clients -----------------------------------------------------------------
async def test_publish_qos0_and_qos1_reach_wildcard_subscribers(broker: InProcessBroker | MosquittoBroker) -> None:
    async with client(broker) as sub, client(broker) as pub:
        await sub.subscribe("wakebench/+/apps/#", qos=1)
        await pub.publish("wakebench/r1/apps/mail/events", b"zero", qos=0)
        await pub.publish("wakebench/r1/apps/mail/events", b"one", qos=1)
        await pub.publish("wakebench/r1/signals", b"not for this filter", qos=1)
        await pub.publish("wakebench/r2/apps/news/events", b"two", qos=1)
        got = [await next_message(sub) for _ in range(3)]
    assert [(m.topic.value, m.payload, m.qos) for m in got] == [
        ("wakebench/r1/apps/mail/events", b"zero", 0),
        ("wakebench/r1/apps/mail/events", b"one", 1),
        ("wakebench/r2/apps/news/events", b"two", 1),
    ]
    assert not any(m.retain for m in got)


async def test_retained_message_goes_to_late_subscribers_and_empty_payload_deletes_it(
    broker: InProcessBroker | MosquittoBroker,
) -> None:
    async with client(broker) as pub:
        await pub.publish("wakebench/r1/bridge/state", b'{"state":"online"}', qos=1, retain=True)
        await pub.publish("wakebench/r1/apps/a/tasks/t1", b'{"state":"running"}', qos=1, retain=True)
        await pub.publish("wakebench/r1/apps/a/tasks/t1", b"", qos=1, retain=True)  # section 3.3.1.3
        async with client(broker) as late:
            await late.subscribe("wakebench/r1/#", qos=1)
            first = await next_message(late)
            # the deleted task is not replayed: the next message is the marker we publish now
            await pub.publish("wakebench/r1/marker", b"m", qos=1)
            second = await next_message(late)
    assert (first.topic.value, first.payload, first.retain) == (
        "wakebench/r1/bridge/state", b'{"state":"online"}', True)
    assert (second.topic.value, second.retain) == ("wakebench/r1/marker", False)


async def test_last_will_is_published_when_the_client_vanishes(broker: InProcessBroker | MosquittoBroker) -> None:
    if not shutil.which("mosquitto_sub"):
        pytest.skip("mosquitto_sub not installed")
    will_topic = "wakebench/r1/bridge/state"
    async with client(broker) as watcher:
        await watcher.subscribe(will_topic, qos=1)
        await watcher.publish("probe/dying", b"hello", qos=1, retain=True)
        # a real client killed without DISCONNECT: mosquitto_sub with a will, then SIGKILL
        proc = await asyncio.create_subprocess_exec(
            "mosquitto_sub", "-h", broker.host, "-p", str(broker.port), "-V", "mqttv311",
            "-t", "probe/dying", "--will-topic", will_topic, "--will-payload", '{"state":"offline"}',
            "--will-qos", "1", "-i", "dying-rig",
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
        )
        assert proc.stdout is not None
        # it is connected and subscribed once it prints the retained probe
        assert await asyncio.wait_for(proc.stdout.readline(), TIMEOUT) == b"hello\n"
        proc.kill()
        await proc.wait()
        will = await next_message(watcher)
    assert (will.topic.value, will.payload) == (will_topic, b'{"state":"offline"}')


async def test_clean_disconnect_discards_the_will(broker: InProcessBroker | MosquittoBroker) -> None:
    async with client(broker) as watcher:
        await watcher.subscribe("wakebench/r1/bridge/state", qos=1)
        will = aiomqtt.Will("wakebench/r1/bridge/state", b"offline", qos=1)
        async with client(broker, will=will):
            pass  # leaves with DISCONNECT (section 3.14.4: the will is discarded)
        async with client(broker) as pub:
            await pub.publish("wakebench/r1/bridge/state", b"marker", qos=1)
        got = await next_message(watcher)
    assert got.payload == b"marker"


async def test_persistent_session_keeps_qos1_messages_while_offline(
    broker: InProcessBroker | MosquittoBroker,
) -> None:
    async with client(broker, identifier="app-mail", clean_session=False) as c:
        await c.subscribe("wakebench/r1/apps/mail/events", qos=1)
    async with client(broker) as pub:
        await pub.publish("wakebench/r1/apps/mail/events", b"while away", qos=1)
    async with client(broker, identifier="app-mail", clean_session=False) as c:
        got = await next_message(c)
    assert got.payload == b"while away"
    # a clean session afterwards starts empty and discards the stored one
    async with client(broker, identifier="app-mail", clean_session=True) as c, client(broker) as pub:
        await c.subscribe("marker", qos=1)
        await pub.publish("wakebench/r1/apps/mail/events", b"not subscribed any more", qos=1)
        await pub.publish("marker", b"m", qos=1)
        assert (await next_message(c)).payload == b"m"


async def test_mosquitto_pub_and_sub_interoperate(broker: InProcessBroker | MosquittoBroker) -> None:
    if not (shutil.which("mosquitto_pub") and shutil.which("mosquitto_sub")):
        pytest.skip("mosquitto clients not installed")
    pub = await asyncio.create_subprocess_exec(
        "mosquitto_pub", "-h", broker.host, "-p", str(broker.port), "-V", "mqttv311",
        "-t", "wakebench/r1/bridge/info", "-m", '{"version":"x"}', "-r", "-q", "1",
    )
    assert await asyncio.wait_for(pub.wait(), TIMEOUT) == 0
    sub = await asyncio.create_subprocess_exec(
        "mosquitto_sub", "-h", broker.host, "-p", str(broker.port), "-V", "mqttv311",
        "-t", "wakebench/#", "-v", "-C", "1", "-W", "5",
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await asyncio.wait_for(sub.communicate(), TIMEOUT + 1)
    assert sub.returncode == 0
    assert out.decode().strip() == 'wakebench/r1/bridge/info {"version":"x"}'


# -- the in-process broker's protocol edges, on a raw socket -------------------------------------
def _connect_packet(client_id: str, *, level: int = 4, name: str = "MQTT", keepalive: int = 60,
                    flags: int = 0x02, will: tuple[str, bytes] | None = None) -> bytes:
    def s(b: bytes) -> bytes:
        return struct.pack("!H", len(b)) + b
    if will:
        flags |= 0x04 | 0x08  # will, QoS 1
    body = s(name.encode()) + bytes([level, flags]) + struct.pack("!H", keepalive) + s(client_id.encode())
    if will:
        body += s(will[0].encode()) + s(will[1])
    return bytes([0x10, len(body)]) + body


async def _raw(broker: InProcessBroker) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection(broker.host, broker.port)


@pytest.fixture
async def inproc() -> AsyncIterator[InProcessBroker]:
    async with InProcessBroker() as b:
        yield b


async def test_connack_refuses_an_unsupported_protocol_level(inproc: InProcessBroker) -> None:
    reader, writer = await _raw(inproc)
    writer.write(_connect_packet("v5", level=5))
    # section 3.2.2.3: return code 1 "unacceptable protocol version", then the connection closes
    assert await asyncio.wait_for(reader.readexactly(4), TIMEOUT) == b"\x20\x02\x00\x01"
    assert await asyncio.wait_for(reader.read(), TIMEOUT) == b""
    writer.close()


async def test_zero_length_client_id_needs_clean_session(inproc: InProcessBroker) -> None:
    reader, writer = await _raw(inproc)
    writer.write(_connect_packet("", flags=0x00))
    assert await asyncio.wait_for(reader.readexactly(4), TIMEOUT) == b"\x20\x02\x00\x02"  # section 3.1.3.1
    writer.close()


async def test_pingreq_gets_pingresp_and_bad_filters_get_0x80(inproc: InProcessBroker) -> None:
    reader, writer = await _raw(inproc)
    writer.write(_connect_packet("raw"))
    assert await asyncio.wait_for(reader.readexactly(4), TIMEOUT) == b"\x20\x02\x00\x00"
    writer.write(b"\xc0\x00")  # PINGREQ
    assert await asyncio.wait_for(reader.readexactly(2), TIMEOUT) == b"\xd0\x00"
    topic = b"a/#/b"
    body = struct.pack("!H", 7) + struct.pack("!H", len(topic)) + topic + b"\x01"
    writer.write(bytes([0x82, len(body)]) + body)  # SUBSCRIBE, packet id 7
    assert await asyncio.wait_for(reader.readexactly(5), TIMEOUT) == b"\x90\x03\x00\x07\x80"
    writer.close()


async def test_keepalive_silence_closes_and_publishes_the_will(inproc: InProcessBroker) -> None:
    async with client(inproc) as watcher:
        await watcher.subscribe("will/topic", qos=1)
        reader, writer = await _raw(inproc)
        writer.write(_connect_packet("silent", keepalive=1, will=("will/topic", b"gone")))
        assert await asyncio.wait_for(reader.readexactly(4), TIMEOUT) == b"\x20\x02\x00\x00"
        # no packet within 1.5 x Keep Alive (section 3.1.2.10): the broker closes, will goes out
        got = await next_message(watcher)
        assert got.payload == b"gone"
        assert await asyncio.wait_for(reader.read(), TIMEOUT) == b""
        writer.close()


async def test_protocol_violation_closes_only_that_client(inproc: InProcessBroker) -> None:
    async with client(inproc) as good:
        await good.subscribe("x", qos=1)
        reader, writer = await _raw(inproc)
        writer.write(_connect_packet("bad"))
        await asyncio.wait_for(reader.readexactly(4), TIMEOUT)
        writer.write(b"\x36\x03\x00\x01#")  # PUBLISH QoS 3 to a wildcard topic
        assert await asyncio.wait_for(reader.read(), TIMEOUT) == b""
        writer.close()
        await good.publish("x", b"still fine", qos=1)
        assert (await next_message(good)).payload == b"still fine"


async def test_oversize_packet_closes_the_connection() -> None:
    async with InProcessBroker(max_packet_size=64) as b:
        reader, writer = await _raw(b)
        writer.write(_connect_packet("big"))
        await asyncio.wait_for(reader.readexactly(4), TIMEOUT)
        writer.write(b"\x30\xc8\x01" + b"\x00" * 200)  # PUBLISH with 200-byte body
        assert await asyncio.wait_for(reader.read(), TIMEOUT) == b""
        writer.close()


# -- choosing and starting --------------------------------------------------------------------
async def test_auto_prefers_mosquitto_and_falls_back_to_in_process() -> None:
    fallback = await start_embedded_broker("auto", mosquitto="no-such-mosquitto-binary")
    try:
        assert fallback.kind == "in-process"
        assert fallback.url == f"mqtt://127.0.0.1:{fallback.port}"
    finally:
        await fallback.stop()
    if HAS_MOSQUITTO:
        chosen = await start_embedded_broker("auto")
        try:
            assert chosen.kind == "mosquitto"
        finally:
            await chosen.stop()


@pytest.mark.broker
@pytest.mark.skipif(not HAS_MOSQUITTO, reason="no mosquitto")
async def test_mosquitto_on_a_taken_port_reports_its_log() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        broker = MosquittoBroker(port=port)
        with pytest.raises(BrokerError, match="mosquitto exited at start-up"):
            await broker.start()


async def test_missing_mosquitto_is_a_clear_error() -> None:
    with pytest.raises(BrokerError, match="not found on PATH; install mosquitto or pass --broker URL"):
        await MosquittoBroker("no-such-mosquitto-binary").start()


def test_connect_hint_is_pasteable() -> None:
    assert connect_hint("127.0.0.1", 18830) == "mosquitto_sub -h 127.0.0.1 -p 18830 -t 'wakebench/#' -v"
