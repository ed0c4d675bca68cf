"""Helpers for rig tests: the rig as a subprocess, an MQTT observer that awaits messages, and a
scripted broker (a :class:`~mqtt_bridge.transport.Transport` without a network) whose
confirmations and disconnections a test decides."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import re
import signal
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiomqtt

from mqtt_bridge.transport import Incoming, TransportError

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 15.0
_ids = itertools.count(1)


def unique_rig(hint: str) -> str:
    """A rig id of its own, so tests sharing one broker never see each other."""
    return f"{re.sub(r'[^a-z0-9_-]+', '-', hint.lower())[:30]}-{os.getpid()}-{next(_ids)}"


@dataclass
class Msg:
    topic: str
    payload: bytes
    retain: bool

    def json(self) -> Any:
        return json.loads(self.payload)


class Observer:
    """A separate MQTT client recording every message on ``filters`` in arrival order."""

    def __init__(self, host: str, port: int, *filters: str, v311: bool = False) -> None:
        self.host, self.port, self.filters = host, port, filters
        self.v311 = v311
        self.messages: list[Msg] = []
        self._changed = asyncio.Condition()
        self._client: aiomqtt.Client | None = None
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Observer:
        self._client = aiomqtt.Client(
            self.host, self.port,
            protocol=aiomqtt.ProtocolVersion.V311 if self.v311 else aiomqtt.ProtocolVersion.V5)
        await self._client.__aenter__()
        for f in self.filters:
            await self._client.subscribe(f, qos=1)
        self._task = asyncio.create_task(self._read())
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, aiomqtt.MqttError):
                await self._task
        if self._client is not None:
            with contextlib.suppress(Exception):
                await self._client.__aexit__(None, None, None)

    async def _read(self) -> None:
        assert self._client is not None
        with contextlib.suppress(aiomqtt.MqttError):
            async for m in self._client.messages:
                payload = m.payload if isinstance(m.payload, bytes) else str(m.payload or "").encode()
                async with self._changed:
                    self.messages.append(Msg(m.topic.value, payload, m.retain))
                    self._changed.notify_all()

    async def publish(self, topic: str, payload: Any, *, qos: int = 1, retain: bool = False) -> None:
        assert self._client is not None
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        await self._client.publish(topic, body, qos=qos, retain=retain)

    async def wait(self, pred: Callable[[Msg], bool], *, start: int = 0, within: float = TIMEOUT) -> Msg:
        """The first message from index ``start`` on that matches ``pred`` (awaited, not slept for)."""
        async with asyncio.timeout(within), self._changed:
            while True:
                for m in self.messages[start:]:
                    if pred(m):
                        return m
                await self._changed.wait()

    def json_on(self, topic: str) -> list[dict[str, Any]]:
        """Every JSON payload received on ``topic``, in order."""
        return [m.json() for m in self.messages if m.topic == topic and m.payload]


def is_json(topic: str, **fields: Any) -> Callable[[Msg], bool]:
    """Predicate: a message on ``topic`` whose JSON payload has ``fields``."""
    def pred(m: Msg) -> bool:
        if m.topic != topic or not m.payload:
            return False
        try:
            body = m.json()
        except ValueError:
            return False
        return isinstance(body, dict) and all(body.get(k) == v for k, v in fields.items())
    return pred


class RigProcess:
    """``wakebench run ...`` as a subprocess; stdout lines are collected and can be awaited."""

    def __init__(self, *args: str) -> None:
        self.args = args
        self.proc: asyncio.subprocess.Process | None = None
        self.lines: list[str] = []
        self.stderr = b""
        self._changed = asyncio.Condition()
        self._reader: asyncio.Task[None] | None = None

    async def start(self) -> RigProcess:
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "200"}
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "wakebench.cli", "run", *self.args,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, cwd=ROOT, env=env)
        self._reader = asyncio.create_task(self._read())
        return self

    async def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        while line := await self.proc.stdout.readline():
            async with self._changed:
                self.lines.append(line.decode(errors="replace").rstrip())
                self._changed.notify_all()
        async with self._changed:
            self._changed.notify_all()

    async def wait_line(self, pattern: str, *, within: float = TIMEOUT) -> re.Match[str]:
        """The first stdout line matching ``pattern`` (regex search)."""
        rx = re.compile(pattern)
        async with asyncio.timeout(within), self._changed:
            while True:
                for line in self.lines:
                    if m := rx.search(line):
                        return m
                if self.proc is not None and self.proc.returncode is not None and self._reader and self._reader.done():
                    raise AssertionError(f"rig exited ({self.proc.returncode}) without printing {pattern!r}:\n"
                                         + "\n".join(self.lines) + "\n" + self.stderr.decode(errors="replace"))
                await self._changed.wait()

    async def terminate(self, sig: int = signal.SIGTERM, *, within: float = TIMEOUT) -> int:
        """Send ``sig`` and wait for the exit code."""
        assert self.proc is not None
        if self.proc.returncode is None:
            self.proc.send_signal(sig)
        return await self.wait(within=within)

    async def wait(self, *, within: float = TIMEOUT) -> int:
        """Wait for the process to exit on its own; returns the exit code."""
        assert self.proc is not None and self.proc.stderr is not None
        self.stderr += await asyncio.wait_for(self.proc.stderr.read(), within)
        code = await asyncio.wait_for(self.proc.wait(), within)
        if self._reader is not None:
            await asyncio.wait_for(self._reader, within)
        return code

    async def kill(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader

    @property
    def output(self) -> str:
        return "\n".join(self.lines) + "\n" + self.stderr.decode(errors="replace")


class ScriptedConnection:
    """One connection to a :class:`ScriptedBroker`: publishes are confirmed at once unless the
    broker's ``hold`` says otherwise; a held publish waits until the test fails it
    (:meth:`time_out`) — like aiomqtt's publish, it does not notice the connection closing."""

    def __init__(self, broker: ScriptedBroker, index: int) -> None:
        self.broker, self.index = broker, index
        self.confirmed: list[tuple[str, bytes]] = []  #: publishes the broker confirmed, in order
        self.held: list[tuple[str, bytes, asyncio.Future[None]]] = []
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._incoming: asyncio.Queue[Incoming] = asyncio.Queue()

    async def __aenter__(self) -> ScriptedConnection:
        self.broker.connections.append(self)
        await self.broker.changed()
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.drop()

    async def publish(self, topic: str, payload: Any = b"", qos: int = 0, retain: bool = False,
                      properties: Any = None, *args: Any, timeout: float | None = None,  # noqa: ASYNC109
                      **kwargs: Any) -> None:
        if self.closed.done():
            raise TransportError("not connected")
        body = bytes(payload)
        if self.broker.hold(self.index, topic, body):
            confirmation: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self.held.append((topic, body, confirmation))
            await self.broker.changed()
            await confirmation  # no PUBACK: only the test ends this wait
        if retain:
            self.broker.retained[topic] = body
        self.confirmed.append((topic, body))
        await self.broker.changed()

    async def subscribe(self, topic: str, qos: int = 1, *args: Any, timeout: float | None = None,  # noqa: ASYNC109
                        **kwargs: Any) -> None:
        if topic in self.broker.retained:  # a stored message follows its SUBACK
            self._incoming.put_nowait(Incoming(topic, self.broker.retained[topic], retained=True))

    async def messages(self) -> AsyncIterator[Incoming]:
        while True:
            get = asyncio.ensure_future(self._incoming.get())
            either: set[asyncio.Future[Any]] = {get, self.closed}
            await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
            if not get.done():
                get.cancel()
                raise TransportError("Disconnected during message iteration")
            yield get.result()

    def send(self, topic: str, payload: bytes) -> None:
        """A message from the broker (a request)."""
        self._incoming.put_nowait(Incoming(topic, payload))

    def drop(self) -> None:
        """The connection is gone (the broker vanished): the socket closes, nothing times out."""
        if not self.closed.done():
            self.closed.set_result(None)

    def time_out(self) -> None:
        """Every held publish fails as aiomqtt's does when no PUBACK came in time."""
        for _topic, _body, confirmation in self.held:
            if not confirmation.done():
                confirmation.set_exception(TransportError("Operation timed out"))

    def events(self, app: str) -> list[int]:
        """The ``seq`` of every confirmed event of ``app``, in order."""
        return [json.loads(body)["seq"] for topic, body in self.confirmed if topic.endswith(f"/apps/{app}/events")]


class ScriptedBroker:
    """A :class:`~mqtt_bridge.transport.Transport` without a network, for the bridge's own
    connection logic: every ``connect`` is a :class:`ScriptedConnection`, retained messages
    survive from one connection to the next (a broker restarted from its persistence), and
    ``hold(connection_index, topic, payload)`` names the publishes it does not confirm."""

    def __init__(self) -> None:
        self.connections: list[ScriptedConnection] = []
        self.retained: dict[str, bytes] = {}
        self.hold: Callable[[int, str, bytes], bool] = lambda index, topic, payload: False
        self._changed = asyncio.Condition()

    async def changed(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def wait(self, pred: Callable[[], bool], what: str, *, within: float = TIMEOUT) -> None:
        """Await ``pred()`` (re-checked after every connect and publish)."""
        try:
            async with asyncio.timeout(within), self._changed:
                await self._changed.wait_for(pred)
        except TimeoutError:
            raise AssertionError(f"timed out after {within} s waiting for {what}") from None

    # -- Transport -------------------------------------------------------------------------
    def connect(self, broker: Any, **kwargs: Any) -> ScriptedConnection:
        return ScriptedConnection(self, len(self.connections))

    async def subscribe(self, connection: Any, topic_filter: str, *, mqtt5: bool, requests: bool,
                        timeout: float) -> None:  # noqa: ASYNC109
        await connection.subscribe(topic_filter)

    def messages(self, connection: Any) -> AsyncIterator[Incoming]:
        assert isinstance(connection, ScriptedConnection)
        return connection.messages()

    def leftovers(self, connection: Any) -> list[Incoming]:
        return []

    def closed(self, connection: Any) -> asyncio.Future[Any] | None:
        assert isinstance(connection, ScriptedConnection)
        return connection.closed
