"""Finding a running rig and talking to it as a lab tool (not as an app).

A rig records where it is in a small JSON file, the *rig file*, while it runs::

    {"rig": "bench", "broker": "mqtt://127.0.0.1:43781", "pid": 4242, "board": "sim", "speed": 1.0,
     "prefix": "wakebench", "state_dir": "/home/me/.local/state/wakebench/bench"}

It is written to ``$XDG_RUNTIME_DIR/wakebench/<rig>.json`` (``/tmp/wakebench-<uid>/`` without
``XDG_RUNTIME_DIR``) and, for a rig with a state directory, to ``<state_dir>/rig.json``; both
are removed when the rig stops. The broker URL never carries a password (pass ``--broker`` with
credentials instead). Files whose ``pid`` is no longer alive are ignored.

:class:`RigLink` sends requests with a client id of its own (``wakebench-cli-<hex>``), never an
app's id, so it cannot take over a connected app's MQTT session.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, cast

import aiomqtt

from mqtt_bridge.config import BrokerConfig
from mqtt_bridge.errors import BridgeError
from mqtt_bridge.topics import Topics
from wbcommon.signals import InvalidSignalError, check
from wbcommon.validation import SignalValue

__all__ = ["RIG_FILE_NAME", "RigFileError", "RigLink", "RigRef", "find_rigs", "remove_rig_file",
           "resolve_rig", "runtime_dir", "write_rig_file"]

#: Name of the rig file inside a rig's state directory.
RIG_FILE_NAME: Final = "rig.json"
#: Seconds a CLI request waits for the rig's answer (wakebench choice: a rig answers in ~1 ms).
REQUEST_TIMEOUT_S: Final = 10.0


class RigFileError(BridgeError):
    """No rig found, or several and none chosen; the message says what to pass."""


@dataclass(frozen=True, slots=True)
class RigRef:
    """Where one rig is: its id and broker URL (``prefix`` is the base topic)."""

    rig: str
    broker: str
    prefix: str = "wakebench"
    source: str = ""


def runtime_dir() -> Path:
    """``$XDG_RUNTIME_DIR/wakebench``, else ``<tmp>/wakebench-<uid>``."""
    base = os.environ.get("XDG_RUNTIME_DIR")
    if base:
        return Path(base) / "wakebench"
    return Path(tempfile.gettempdir()) / f"wakebench-{os.getuid()}"


def _default_state_root() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "wakebench"


def write_rig_file(info: dict[str, Any], state_dir: Path | None) -> list[Path]:
    """Write the rig file (mode 0600) to the runtime directory and ``state_dir``; returns the paths
    written (a directory that cannot be written is skipped: the rig runs on without it)."""
    body = json.dumps({**info, "pid": os.getpid()}, indent=1) + "\n"
    targets = [runtime_dir() / f"{info['rig']}.json"]
    if state_dir is not None:
        targets.append(state_dir / RIG_FILE_NAME)
    written = []
    for path in targets:
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            tmp = path.with_suffix(".tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(body)
            os.replace(tmp, path)
            written.append(path)
        except OSError:
            continue
    return written


def remove_rig_file(paths: Iterable[Path]) -> None:
    """Remove rig files written by this process."""
    for path in paths:
        with contextlib.suppress(OSError):
            if json.loads(path.read_text(encoding="utf-8")).get("pid") == os.getpid():
                path.unlink()


def _alive(pid: object) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def find_rigs() -> list[RigRef]:
    """Rigs running on this machine (by their rig files), one entry per rig id."""
    candidates = sorted(runtime_dir().glob("*.json"))
    root = _default_state_root()
    candidates += sorted(root.glob(f"*/{RIG_FILE_NAME}")) if root.is_dir() else []
    found: dict[str, RigRef] = {}
    for path in candidates:
        try:
            info = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if not isinstance(info, dict) or not _alive(info.get("pid")):
            continue
        rig, broker = info.get("rig"), info.get("broker")
        if isinstance(rig, str) and isinstance(broker, str) and rig not in found:
            found[rig] = RigRef(rig, broker, str(info.get("prefix") or "wakebench"), str(path))
    return list(found.values())


def resolve_rig(broker: str | None, rig: str | None) -> RigRef:
    """The rig to talk to: ``--broker``/``--rig`` when given, else the one running rig.

    Raises:
        RigFileError: no rig file, or several rigs and no ``--rig`` (lists them).
    """
    if broker is not None:
        return RigRef(rig or "bench", broker)
    rigs = find_rigs()
    if rig is not None:
        rigs = [r for r in rigs if r.rig == rig]
    if len(rigs) == 1:
        return rigs[0]
    if not rigs:
        where = f"rig {rig!r}" if rig else "a running rig"
        raise RigFileError(f"found no {where} on this machine (no rig file in {runtime_dir()}); "
                           "start one with `wakebench run`, or pass --broker URL --rig ID")
    listing = ", ".join(f"{r.rig} ({r.broker})" for r in rigs)
    raise RigFileError(f"several rigs are running: {listing}; choose one with --rig ID")


class RigLink:
    """A lab tool's MQTT connection to one rig (``async with RigLink(ref) as link``).

    Raises:
        BridgeError: bad broker URL; :class:`aiomqtt.MqttError` when the broker is unreachable.
    """

    def __init__(self, ref: RigRef, *, timeout: float = REQUEST_TIMEOUT_S) -> None:
        config = BrokerConfig.from_url(ref.broker)
        self.ref = ref
        self.config = config
        self.topics = Topics(ref.rig, config.prefix if config.prefix != "wakebench" else ref.prefix)
        self.timeout = timeout
        self._client: aiomqtt.Client | None = None
        self._queue: asyncio.Queue[aiomqtt.Message] = asyncio.Queue()
        self._reader: asyncio.Task[None] | None = None
        self._waiters: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._subscribers: list[asyncio.Queue[aiomqtt.Message]] = []

    async def __aenter__(self) -> RigLink:
        cfg = self.config
        self._client = aiomqtt.Client(
            cfg.host, cfg.port, username=cfg.username, password=cfg.password,
            identifier=f"wakebench-cli-{secrets.token_hex(4)}",
            protocol=aiomqtt.ProtocolVersion.V311, tls_context=cfg.ssl_context(), timeout=self.timeout)
        await self._client.__aenter__()
        self._reader = asyncio.create_task(self._read())
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        if self._client is not None:
            with contextlib.suppress(aiomqtt.MqttError):
                await self._client.__aexit__(None, None, None)

    async def _read(self) -> None:
        assert self._client is not None
        async for message in self._client.messages:
            try:
                body = json.loads(bytes(message.payload))  # type: ignore[arg-type,unused-ignore]
            except (TypeError, ValueError):
                body = None
            if isinstance(body, dict):
                waiter = self._waiters.get(str(body.get("transaction")))
                if waiter is not None and not waiter.done():
                    waiter.set_result(body)
                    continue
            for queue in self._subscribers:
                queue.put_nowait(message)

    async def _request(self, request_topic: str, response_topic: str, args: dict[str, Any]) -> dict[str, Any]:
        assert self._client is not None
        transaction = f"cli-{secrets.token_hex(6)}"
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiters[transaction] = future
        try:
            await self._client.subscribe(response_topic, qos=1)
            await self._client.publish(request_topic, json.dumps({**args, "transaction": transaction}), qos=1)
            async with asyncio.timeout(self.timeout):
                return await future
        except TimeoutError:
            raise RigFileError(f"rig {self.ref.rig!r} on {self.config.url()} did not answer within "
                               f"{self.timeout:g} s (is it running? is --rig right?)") from None
        finally:
            self._waiters.pop(transaction, None)

    async def bridge_request(self, verb: str, args: dict[str, Any] | None = None) -> dict[str, Any]:
        """Send a rig verb (``bridge/request/<verb>``); returns the whole response."""
        return await self._request(self.topics.bridge_request(verb), self.topics.bridge_response(verb), args or {})

    async def app_request(self, app: str, verb: str, args: dict[str, Any] | None = None) -> dict[str, Any]:
        """Send an app verb on ``app``'s behalf; returns the whole response."""
        return await self._request(self.topics.app_request(app, verb), self.topics.app_response(app, verb),
                                   args or {})

    async def retained_apps(self) -> list[str]:
        """Every app the rig has registered, with or without tasks (from the retained
        ``apps/<app>/state`` topics, and ``apps/<app>/tasks/<id>`` for rigs that publish no state).

        All retained messages of a subscription arrive before a message published after it, so a
        marker published to a private topic ends the collection (no waiting for a quiet period).
        """
        assert self._client is not None
        queue: asyncio.Queue[aiomqtt.Message] = asyncio.Queue()
        self._subscribers.append(queue)
        marker = f"{self.topics.base}/cli/{secrets.token_hex(6)}"
        filters = (f"{self.topics.base}/apps/+/state", f"{self.topics.base}/apps/+/tasks/#")
        apps: set[str] = set()
        try:
            for topic_filter in filters:
                await self._client.subscribe(topic_filter, qos=1)
            await self._client.subscribe(marker, qos=1)
            await self._client.publish(marker, b"end", qos=1)
            async with asyncio.timeout(self.timeout):
                while True:
                    message = await queue.get()
                    topic = message.topic.value
                    if topic == marker:
                        break
                    parts = topic[len(self.topics.base) + 1:].split("/")
                    if len(parts) >= 3 and parts[2] in ("state", "tasks") and message.payload:
                        apps.add(parts[1])
        finally:
            self._subscribers.remove(queue)
            with contextlib.suppress(aiomqtt.MqttError):
                for topic_filter in (*filters, marker):
                    await self._client.unsubscribe(topic_filter)
        return sorted(apps)

    async def subscribe(self, topic: str) -> asyncio.Queue[aiomqtt.Message]:
        """Subscribe to ``topic`` (a filter); messages arrive in the returned queue from the
        moment this returns (the broker has acknowledged the subscription)."""
        assert self._client is not None
        queue: asyncio.Queue[aiomqtt.Message] = asyncio.Queue()
        self._subscribers.append(queue)
        await self._client.subscribe(topic, qos=1)
        return queue


def parse_assignments(items: Iterable[str]) -> dict[str, SignalValue]:
    """``["charger=ac", "screen_locked=true"]`` → ``{"charger": "ac", "screen_locked": True}``.

    Each value is read as a YAML scalar, as in a scenario's ``initial:`` or ``set:`` (``true``,
    ``95``, ``wifi``), then checked by the one signal vocabulary (:func:`wbcommon.signals.check`),
    which gives it its canonical type (numbers as ``float``). A later item for the same signal
    wins.

    Raises:
        InvalidSignalError: not ``NAME=VALUE``, an unknown signal or a bad value; the one-line
            message names the signal and what is wrong (``name`` holds the signal, or the item).
    """
    import yaml

    values: dict[str, SignalValue] = {}
    for item in items:
        name, sep, text = item.partition("=")
        name = name.strip()
        if not sep or not name or not text.strip():
            raise InvalidSignalError(f"{item!r}: expected NAME=VALUE, e.g. charger=ac or screen_locked=true",
                                     name=item)
        try:
            raw = yaml.safe_load(text)
        except yaml.YAMLError:
            raw = text
        values[name] = cast(SignalValue, check(name, raw))
    return values
