"""A small async client for app prototypes: register, send verbs, receive events.

::

    async with AppClient("mqtt://localhost:1883", app_id="mail", rig="bench1") as app:
        await app.register("capacitor")
        task = await app.request("before_exit")          # -> {"task_id": "task-1", "deadline": 180.0}
        async for event in app.events():
            if event["type"] == "expire":
                await app.request("finish", task_id=event["task_id"])

The client id is the app id (so per-app ACLs apply). A broker that refuses MQTT 5 (the rig's
in-process broker) gets MQTT 3.1.1 instead, so ``?protocol=3.1.1`` is never needed. By default it resumes a persistent session
(clean start off, MQTT 5 Session Expiry, or ``clean_session=False`` on 3.1.1) and reconnects
with backoff, so events sent while it was away arrive after reconnect. Delivery contract (see
``asyncapi.yaml``): the rig re-publishes every event the broker has not acknowledged after any
restart, so an event may arrive twice with the same ``seq`` — those repeats are dropped here by
``seq`` — but never a gap; a missing ``seq`` (only after a reported ``outbox_overflow``) is
recorded in :attr:`AppClient.gaps`.
(Observed on Mosquitto 2.0.11: only sessions that connected with clean start *off* are written
to the broker's persistence file, so ``resume_session=False`` loses the session when the broker
restarts.)
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import secrets
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any, Final

import aiomqtt
import paho.mqtt.client as paho
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from mqtt_bridge.config import BrokerConfig
from mqtt_bridge.errors import AppRequestError, NotConnectedError, RequestTimeoutError
from mqtt_bridge.payloads import dumps
from mqtt_bridge.publisher import NO_DELAY
from mqtt_bridge.topics import Topics, check_id

log = logging.getLogger(__name__)

#: How long the broker keeps an absent app's session and queued events (s). wakebench default.
DEFAULT_SESSION_EXPIRY_S: Final = 300
#: Events buffered for a reader that does not keep up; the oldest are dropped beyond it.
MAX_BUFFERED_EVENTS: Final = 10_000
#: CONNACK codes of a broker that does not speak MQTT 5: 0x84 "Unsupported Protocol Version"
#: (MQTT 5.0 section 3.2.2.2) and 0x01 "unacceptable protocol version" (MQTT 3.1.1 section 3.2.2.3).
_UNSUPPORTED_PROTOCOL: Final = (1, 132)
_RECONNECT_MIN_S: Final = 0.1
_RECONNECT_MAX_S: Final = 5.0


class AppClient:
    """One app prototype's connection to one rig.

    Args:
        broker: broker URL (``mqtt://user:pw@host:1883``) or :class:`BrokerConfig`.
        app_id: the app id (``[a-z0-9_-]{1,64}``), also the MQTT client id.
        rig: the rig id.
        timeout: default seconds to wait for a connection or a response.
        session_expiry_s: how long the broker keeps this app's session while it is away.
        resume_session: resume the broker's session of this app id (events sent while the
            app was away, even before this process started); False starts clean once.

    Raises:
        TopicError: a bad app or rig id.
        BridgeConfigError: a bad broker URL.
    """

    def __init__(self, broker: BrokerConfig | str, *, app_id: str, rig: str, timeout: float = 10.0,
                 session_expiry_s: int = DEFAULT_SESSION_EXPIRY_S, resume_session: bool = True) -> None:
        config = BrokerConfig.from_url(broker) if isinstance(broker, str) else broker
        self.app_id = check_id("app", app_id)
        self.broker = config.with_client_id(self.app_id)
        self.topics = Topics(rig, config.prefix)
        self.timeout = timeout
        self.session_expiry_s = session_expiry_s
        self.resume_session = resume_session
        self.last_seq = 0
        self._first_event: dict[str, Any] | None = None  # the seq 1 event (a repeat of it is no restart)
        self._inbox: asyncio.Queue[aiomqtt.Message] | None = None  # the current client's incoming queue
        self.gaps: list[tuple[int, int]] = []
        self.last_error: str | None = None
        self._client: aiomqtt.Client | None = None
        self._connected = asyncio.Event()
        self._pending: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._events: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._tx_prefix = secrets.token_hex(4)
        self._tx_counter = itertools.count(1)
        self._task: asyncio.Task[None] | None = None
        self._closing = False

    # -- lifecycle ---------------------------------------------------------------------------
    async def __aenter__(self) -> AppClient:
        """Connect (waiting up to ``timeout``).

        Raises:
            BridgeConfigError: TLS files cannot be loaded.
            NotConnectedError: no connection within ``timeout`` (the reason is in the message).
        """
        self.broker.ssl_context()  # a bad CA / certificate path fails here, not in the loop
        self._task = asyncio.create_task(self._connection_loop(), name=f"app-{self.app_id}")
        try:
            await self.wait_connected(self.timeout)
        except BaseException:
            await self.close()
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Disconnect and stop reconnecting."""
        self._closing = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def wait_connected(self, within: float) -> None:
        """Return once connected and subscribed.

        Raises:
            NotConnectedError: not connected within ``within`` seconds (with the last error).
        """
        try:
            await asyncio.wait_for(self._connected.wait(), within)
        except TimeoutError:
            raise NotConnectedError(f"{self.app_id}: not connected to {self.broker.url()} within "
                                    f"{within:g} s ({self.last_error or 'no answer'})") from None

    @property
    def connected(self) -> bool:
        """True while connected and subscribed."""
        return self._connected.is_set()

    # -- requests ----------------------------------------------------------------------------
    async def register(self, platform: str, **args: Any) -> dict[str, Any]:
        """Send ``register`` with ``platform`` and platform settings; returns the response data."""
        return await self.request("register", platform=platform, **args)

    async def request(self, verb: str, *, timeout: float | None = None, **args: Any) -> dict[str, Any]:  # noqa: ASYNC109
        """Send ``verb`` with ``args`` and return the response's ``data``.

        Raises:
            AppRequestError: the rig answered with an error (``.code`` is machine-readable).
            RequestTimeoutError: no answer in time.
            NotConnectedError: the request could not be sent.
        """
        response = await self.send(verb, args, timeout=timeout)
        if response.get("status") != "ok":
            raise AppRequestError(verb, str(response.get("code")), str(response.get("error")),
                                  response.get("data") or {})
        data: dict[str, Any] = response.get("data") or {}
        return data

    async def send(self, verb: str, args: dict[str, Any] | None = None, *,
                   timeout: float | None = None) -> dict[str, Any]:  # noqa: ASYNC109
        """Send ``verb`` and return the whole response (ok or error) without raising on errors."""
        limit = self.timeout if timeout is None else timeout
        transaction = f"{self._tx_prefix}-{next(self._tx_counter)}"
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[transaction] = future
        try:
            async with asyncio.timeout(limit):
                await self._connected.wait()
                client = self._client
                if client is None:  # pragma: no cover - _connected implies a client
                    raise NotConnectedError(f"{self.app_id}: not connected")
                try:
                    await client.publish(self.topics.app_request(self.app_id, verb),
                                         dumps({**(args or {}), "transaction": transaction}), qos=1)
                except aiomqtt.MqttError as exc:
                    raise NotConnectedError(f"{self.app_id}: {verb} was not sent: {exc}") from exc
                return await future
        except TimeoutError:
            raise RequestTimeoutError(f"{self.app_id}: no response to {verb} within {limit:g} s") from None
        finally:
            self._pending.pop(transaction, None)

    # -- events ------------------------------------------------------------------------------
    async def events(self) -> AsyncIterator[dict[str, Any]]:
        """Events in ``seq`` order, each once, as they arrive (runs until cancelled)."""
        while True:
            yield await self._events.get()

    async def next_event(self, timeout: float | None = None) -> dict[str, Any]:  # noqa: ASYNC109
        """The next event.

        Raises:
            RequestTimeoutError: none within ``timeout`` seconds.
        """
        limit = self.timeout if timeout is None else timeout
        try:
            return await asyncio.wait_for(self._events.get(), limit)
        except TimeoutError:
            raise RequestTimeoutError(f"{self.app_id}: no event within {limit:g} s") from None

    # -- connection ----------------------------------------------------------------------------
    def _make_client(self, first: bool) -> aiomqtt.Client:
        mqtt5 = self.broker.mqtt5
        properties = None
        if mqtt5:
            properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
            properties.SessionExpiryInterval = self.session_expiry_s
        return aiomqtt.Client(
            self.broker.host, self.broker.port, username=self.broker.username, password=self.broker.password,
            identifier=self.app_id,
            protocol=aiomqtt.ProtocolVersion.V5 if mqtt5 else aiomqtt.ProtocolVersion.V311,
            clean_session=None if mqtt5 else False,
            clean_start=(first and not self.resume_session) if mqtt5 else paho.MQTT_CLEAN_START_FIRST_ONLY,
            properties=properties, keepalive=self.broker.keepalive, timeout=self.timeout,
            tls_context=self.broker.ssl_context(), max_queued_incoming_messages=MAX_BUFFERED_EVENTS,
            socket_options=NO_DELAY, queue_type=self._inbox_type())

    def _inbox_type(self) -> type[asyncio.Queue[aiomqtt.Message]]:
        """A queue class whose instance (the next client's incoming queue) this client keeps, so
        what paho already acknowledged is not left behind when the connection drops."""
        owner = self

        class Inbox(asyncio.Queue[aiomqtt.Message]):
            def __init__(self, maxsize: int = 0) -> None:
                super().__init__(maxsize)
                owner._inbox = self

        return Inbox

    async def _connection_loop(self) -> None:
        delay = _RECONNECT_MIN_S
        first = True
        while not self._closing:
            try:
                client = self._make_client(first)
                async with client:
                    first = False
                    delay = _RECONNECT_MIN_S
                    await client.subscribe(self.topics.app_events(self.app_id), qos=1)
                    await client.subscribe(f"{self.topics.app_root(self.app_id)}/response/+", qos=1)
                    self._client = client
                    self._connected.set()
                    self.last_error = None
                    try:
                        async for message in client.messages:
                            self._dispatch(message)
                    finally:
                        self._connected.clear()
                        self._client = None
            except aiomqtt.MqttError as exc:
                # aiomqtt's iterator stops at the disconnect; what paho received (and acknowledged:
                # the broker will not send it again) is still in the queue — dispatch it
                while self._inbox is not None and not self._inbox.empty():
                    self._dispatch(self._inbox.get_nowait())
                self.last_error = f"{type(exc).__name__}: {exc}"
                if isinstance(exc, aiomqtt.MqttCodeError) and first and exc.rc in (4, 5, 134, 135):
                    log.warning("%s: broker refused the login: %s", self.app_id, exc)
                if (isinstance(exc, aiomqtt.MqttCodeError) and exc.rc in _UNSUPPORTED_PROTOCOL
                        and self.broker.mqtt5):
                    log.info("%s: the broker refused MQTT 5 (%s); falling back to 3.1.1", self.app_id, exc)
                    self.broker = replace(self.broker, protocol="3.1.1")
                    continue  # at once: the broker answered, it is not unreachable
            await asyncio.sleep(delay)
            delay = min(delay * 2, _RECONNECT_MAX_S)

    def _dispatch(self, message: aiomqtt.Message) -> None:
        topic = message.topic.value
        try:
            body = json.loads(bytes(message.payload))  # type: ignore[arg-type,unused-ignore]
        except (TypeError, ValueError):
            log.warning("%s: ignoring a non-JSON message on %s", self.app_id, topic)
            return
        if not isinstance(body, dict):
            return
        if topic == self.topics.app_events(self.app_id):
            self._on_event(body)
            return
        future = self._pending.get(str(body.get("transaction")))
        if future is not None and not future.done():
            future.set_result(body)

    def _on_event(self, event: dict[str, Any]) -> None:
        seq = event.get("seq")
        if not isinstance(seq, int):
            return
        if seq == 1 and self.last_seq > 1 and event != self._first_event:
            self.last_seq = 0  # the rig started over with fresh state (not a repeat of its seq 1)
        if seq == 1:
            self._first_event = event
        if seq <= self.last_seq:
            return  # a QoS 1 repeat
        if seq > self.last_seq + 1:
            self.gaps.append((self.last_seq + 1, seq - 1))
        self.last_seq = seq
        if self._events.qsize() >= MAX_BUFFERED_EVENTS:
            self._events.get_nowait()
            log.warning("%s: events are not being read; dropped the oldest", self.app_id)
        self._events.put_nowait(event)
