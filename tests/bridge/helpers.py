"""Test helpers for the bridge: a rig on a real broker, and an independent MQTT watcher."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import aiomqtt

from firmware_sim import SIGNAL_NAMES, ManualClock, Scheduler, Signals
from firmware_sim.clock import wall_now
from firmware_sim.driver import SchedulerDriver
from mqtt_bridge import Bridge, BridgeConfig, BrokerConfig, schemas
from mqtt_bridge.publisher import NO_DELAY

_ids = itertools.count(1)


def unique_id(hint: str) -> str:
    """A fresh id (``[a-z0-9_-]``) so tests sharing the session broker never see each other."""
    slug = re.sub(r"[^a-z0-9_-]+", "-", hint.lower()).strip("-")[:40]
    return f"{slug}-{next(_ids)}"


def assert_schema(name: str, payload: Any) -> None:
    """Fail with the schema error if ``payload`` does not match ``components.schemas.<name>``."""
    error = schemas.first_error(name, payload)
    assert error is None, f"{name}: {error}\n{payload!r}"


@dataclass
class Msg:
    """One received message."""

    topic: str
    payload: bytes
    retain: bool
    correlation: bytes | None = None

    def json(self) -> Any:
        return json.loads(self.payload)


class Watcher:
    """A separate MQTT client that records every message on its filters, in arrival order.

    ``await watcher.wait(pred)`` returns the first recorded message (from ``start``) matching
    ``pred``, waiting for it with a timeout instead of sleeping.
    """

    def __init__(self, url: str, *filters: str, qos: int = 1, client_id: str | None = None) -> None:
        self.config = BrokerConfig.from_url(url)
        self.filters = filters
        self.qos = qos
        self.client_id = client_id
        self.messages: list[Msg] = []
        self._changed = asyncio.Condition()
        self._task: asyncio.Task[None] | None = None
        self._client: aiomqtt.Client | None = None

    async def __aenter__(self) -> Watcher:
        c = self.config
        self._client = aiomqtt.Client(
            c.host, c.port, username=c.username, password=c.password, identifier=self.client_id,
            protocol=aiomqtt.ProtocolVersion.V5, tls_context=c.ssl_context(), socket_options=NO_DELAY)
        await self._client.__aenter__()
        for topic_filter in self.filters:
            await self._client.subscribe(topic_filter, qos=self.qos)
        self._task = asyncio.create_task(self._read())
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, aiomqtt.MqttError):
                await self._task
        if self._client is not None:
            with contextlib.suppress(aiomqtt.MqttError):
                await self._client.__aexit__(None, None, None)

    @property
    def client(self) -> aiomqtt.Client:
        assert self._client is not None
        return self._client

    async def _read(self) -> None:
        async for m in self.client.messages:
            props = m.properties
            corr = getattr(props, "CorrelationData", None) if props is not None else None
            payload = m.payload if isinstance(m.payload, bytes) else str(m.payload).encode()
            async with self._changed:
                self.messages.append(Msg(m.topic.value, payload, bool(m.retain), corr))
                self._changed.notify_all()

    async def wait(self, pred: Callable[[Msg], bool], *, within: float = 10.0, start: int = 0) -> Msg:
        """The first message from index ``start`` on that matches ``pred``."""
        async def scan() -> Msg:
            async with self._changed:
                while True:
                    for m in self.messages[start:]:
                        if pred(m):
                            return m
                    await self._changed.wait()

        try:
            return await asyncio.wait_for(scan(), within)
        except TimeoutError:
            seen = "\n".join(f"  {m.topic} {m.payload[:120]!r}" for m in self.messages[-15:])
            raise AssertionError(f"no matching message within {within} s; last seen:\n{seen}") from None

    async def topic(self, topic: str, *, within: float = 10.0, start: int = 0,
                    where: Callable[[Any], bool] | None = None) -> Msg:
        """The first message on ``topic`` (whose JSON matches ``where``)."""
        def pred(m: Msg) -> bool:
            if m.topic != topic:
                return False
            if where is None:
                return True
            try:
                return bool(where(m.json()))
            except ValueError:
                return False

        return await self.wait(pred, within=within, start=start)

    def on(self, topic: str) -> list[Msg]:
        """Messages recorded so far on ``topic``."""
        return [m for m in self.messages if m.topic == topic]


@dataclass
class RigHarness:
    """A scheduler, its driver and a bridge on a real broker, with the driver's timers running.

    Rig time is a :class:`~firmware_sim.clock.ManualClock`: it stands still until the test calls
    :meth:`advance`, so budgets end when the test says so, never while a loaded machine is still
    getting round to the next step. ``speed`` is only what ``bridge/info`` reports.
    """

    url: str
    rig: str
    speed: float = 1.0
    settable: frozenset[str] = frozenset(SIGNAL_NAMES)
    signals: Signals = field(default_factory=Signals)
    options: Mapping[str, Any] = field(default_factory=dict)
    broker_options: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.scheduler = Scheduler(signals=self.signals, epoch=wall_now())
        self.clock = ManualClock()
        self.driver = SchedulerDriver(self.scheduler, clock=self.clock)
        opts = {"reconnect_max_s": 0.5, "speed": self.speed, **self.options}
        self.bridge = Bridge(self.driver, broker=BrokerConfig.from_url(self.url, **self.broker_options),
                             config=BridgeConfig(rig=self.rig, **opts),
                             set_signals=self._set_signals, settable=self.settable)
        self.topics = self.bridge.topics
        self._run: asyncio.Task[None] | None = None

    async def _set_signals(self, values: Mapping[str, Any]) -> None:
        await self.driver.update_signals(values)

    def advance(self, seconds: float) -> float:
        """Move rig time forward by ``seconds``; every timer now due fires (each at its own time)."""
        return self.clock.advance(seconds)

    async def __aenter__(self) -> RigHarness:
        await self.bridge.start()
        self._run = asyncio.create_task(self.driver.run())
        await self.bridge.wait_connected(10)
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.driver.stop()
        if self._run is not None:
            await asyncio.wait_for(self._run, 5)
        await self.bridge.stop()


async def wait_until(pred: Callable[[], bool], *, within: float = 10.0, what: str = "condition") -> None:
    """Await ``pred()`` becoming true (checked every 10 ms) or fail after ``within`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not pred():
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {within} s waiting for {what}")
        await asyncio.sleep(0.01)


class TcpProxy:
    """A TCP relay in front of the broker that a test can cut (as a dead broker host would look)
    and restore.

    Cutting aborts every relayed connection, so the broker sees the bridge vanish and publishes
    its last will, and stops listening, so reconnect attempts are refused until :meth:`restore`.
    """

    def __init__(self, target_port: int, host: str = "127.0.0.1") -> None:
        self.target = (host, target_port)
        self.port = 0
        self.connections = 0
        self._server: asyncio.base_events.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def __aenter__(self) -> TcpProxy:
        await self.restore()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.cut()

    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    async def cut(self) -> None:
        """Stop listening and abort every relayed connection."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    async def restore(self) -> None:
        """Listen (on the same port as before) and relay again."""
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self.connections += 1
        self._writers |= {writer, up_writer}

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (OSError, asyncio.IncompleteReadError):
                pass
            finally:
                dst.transport.abort()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        self._writers -= {writer, up_writer}


class Requester(Watcher):
    """A :class:`Watcher` that also sends raw requests with an MQTT 5 Response Topic and
    Correlation Data, and waits for the reply carrying that correlation."""

    def __init__(self, url: str, *filters: str, client_id: str | None = None) -> None:
        self.inbox = f"replies/{unique_id('inbox')}"
        super().__init__(url, f"{self.inbox}/#", *filters, client_id=client_id)
        self._corr = itertools.count(1)

    async def ask(self, topic: str, payload: bytes | str, *, within: float = 10.0) -> Msg:
        from paho.mqtt.packettypes import PacketTypes
        from paho.mqtt.properties import Properties

        corr = f"c{next(self._corr)}".encode()
        props = Properties(PacketTypes.PUBLISH)
        props.ResponseTopic = f"{self.inbox}/r"
        props.CorrelationData = corr
        await self.client.publish(topic, payload, qos=1, properties=props)
        return await self.wait(lambda m: m.topic == f"{self.inbox}/r" and m.correlation == corr, within=within)
