"""The MQTT bridge: connects a :class:`~firmware_sim.driver.SchedulerDriver` to a broker.

Lifecycle of one connection (aiomqtt does not reconnect by itself, so this loop does):
connect with the last will ``{"state":"offline","instance":...}`` (retained, QoS 1) → subscribe
(``bridge/state`` first: on a reconnection, another instance's state stored there means this
rig id was taken over, :mod:`mqtt_bridge.owner`) → publish ``{"state":"online","instance":...}``
→ report outbox drops → drain the outbox → republish every retained
topic the bridge owns (info, signals, task states, discovery) → serve requests until the
connection breaks → back off (doubling, jittered) and start again. A clean :meth:`Bridge.stop`
publishes ``offline`` itself and disconnects. A bridge that lost its rig id to another instance
(``--takeover``) stops serving and calls ``on_lost_ownership``; it never publishes ``offline``
over the new owner's ``online``.

Usage::

    bridge = Bridge(driver, broker=BrokerConfig.from_url("mqtt://localhost"),
                    config=BridgeConfig(rig="bench1"), set_signals=board.set_signals,
                    settable=board.settable)
    async with bridge:          # start(); stop() on exit
        await driver.run()

Over 500 lines on purpose: the connection lifecycle (connect, ownership check, replay
after a broker restart, serve, offline) is one sequence that reads best in one place; topics,
payloads, requests, publishing and ownership rules live in their own modules.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from typing import Any, Final, TypeVar

from firmware_sim import Event, Response, Signals
from firmware_sim.driver import SchedulerDriver
from firmware_sim.journal import Journal
from firmware_sim.platforms import POLICIES
from mqtt_bridge import discovery
from mqtt_bridge.config import BridgeConfig, BrokerConfig
from mqtt_bridge.errors import BridgeConfigError, BridgeError, TopicError
from mqtt_bridge.outbox import OUTBOX_FILE, Outbox
from mqtt_bridge.owner import OwnerState, lost_to, new_instance, own_state, parse_state
from mqtt_bridge.payloads import dumps, wall_iso
from mqtt_bridge.publisher import Link, Outgoing, Publisher
from mqtt_bridge.requests import (
    AnswerListener,
    ContinueManual,
    InjectFault,
    RequestMeta,
    RequestRouter,
    SetSignals,
)
from mqtt_bridge.topics import Topics
from mqtt_bridge.transport import (
    AiomqttTransport,
    Connection,
    Incoming,
    Transport,
    TransportError,
    batch_publisher,
)

log = logging.getLogger(__name__)

#: Version of the MQTT API described by ``asyncapi.yaml`` (``info.version``).
API_VERSION: Final = 1
#: How long a reconnection waits for the first message after subscribing (the stored
#: ``bridge/state`` follows its SUBACK on the wire, before the SUBACKs of the later
#: subscriptions, so it is already received by then) before publishing ``online``; only a broker
#: that lost its retained messages, with no request arriving, makes it wait the whole time.
#: Generous because a wrong "nothing stored" on a starved machine would let a taken-over rig
#: publish ``online`` over its successor. wakebench bound.
STATE_READ_S: Final = 1.0
#: Events the broker confirmed (PUBACK) within this many seconds before its *last* confirmation
#: are published again when the broker turns out to have restarted (our own ``online`` still
#: stored, or nothing): mosquitto acknowledges a QoS 1 publish before its persistence file has
#: it, and a broker killed in between comes back without it. With ``autosave_on_changes true`` and
#: ``autosave_interval 1`` the save follows within the loop iteration — except for the message in
#: flight to a subscriber, unsaved until the next change, for as long as that subscriber lags.
#: 5 s covers a subscriber a few seconds behind on a loaded machine; subscribers drop the
#: repeats by ``seq``. The window ends at the broker's last confirmation, not at the moment the
#: rig noticed the loss: that can come a whole publish timeout later (a frozen broker, or one
#: killed during the reconnection), and a window ending there held nothing the broker had
#: confirmed before it vanished (issue #8: an app got 20 of 21 events). wakebench bound.
REPLAY_S: Final = 5.0
#: At most this many confirmed events are kept for that (a burst beyond it is not replayed).
REPLAY_MAX: Final = 10_000
#: Backoff jitter: each wait is multiplied by a factor in [1 - J, 1 + J].
_JITTER: Final = 0.2

_T = TypeVar("_T")


class Bridge:
    """Publishes a rig's events, signals and task states; answers its requests.

    Args:
        driver: the scheduler driver (its sinks are registered by :meth:`start`).
        broker: where the broker is and how to log in.
        config: rig id and bridge behaviour.
        set_signals: async callable setting signals on the board (sim or relays).
        settable: names ``set_signals`` can set (others are refused with ``not_settable``).
        transport: how connections are made (default: aiomqtt, :mod:`mqtt_bridge.transport`).
        inject_fault: async callable applying a fault (``bridge/request/inject_fault``); None:
            refused with ``not_supported_on_hardware``.
        instance: this run's instance id in ``bridge/state`` (default: a new random one).
        on_lost_ownership: called once with the new owner's state when another instance took
            this rig id over; the bridge has stopped serving by then.
        network_clock: seconds of the network's time line, for when the broker confirmed what
            (REPLAY_S); default: the event loop's monotonic time. Tests pass a clock they move.

    Stop the driver before the bridge: events produced after :meth:`stop` are not published.
    """

    def __init__(
        self,
        driver: SchedulerDriver,
        *,
        broker: BrokerConfig,
        config: BridgeConfig,
        set_signals: SetSignals | None = None,
        settable: frozenset[str] = frozenset(),
        transport: Transport | None = None,
        inject_fault: InjectFault | None = None,
        instance: str | None = None,
        on_lost_ownership: Callable[[OwnerState], None] | None = None,
        network_clock: Callable[[], float] | None = None,
    ) -> None:
        self._network_clock = network_clock
        self._inject_fault = inject_fault
        self.instance = instance or new_instance()
        self._on_lost_ownership = on_lost_ownership
        #: the instance that took this rig id over (None while this bridge owns it)
        self.lost_to: OwnerState | None = None
        self._online = own_state("online", self.instance).payload()
        self._offline = own_state("offline", self.instance).payload()
        self.driver = driver
        self._transport: Transport = transport or AiomqttTransport()
        self.broker = broker
        self.config = config
        self.topics = Topics(config.rig, broker.prefix, config.ha_prefix)
        self.client_id = broker.client_id or f"wakebench-{config.rig}"
        self.connections = 0
        self.last_error: str | None = None
        self._set_signals = set_signals
        self._settable = settable if set_signals is not None else frozenset()
        self._outbox: Journal | None = None
        self._own_outbox = False
        self._publisher: Publisher | None = None
        self._router: RequestRouter | None = None
        self._retained: dict[str, tuple[bytes, int]] = {}
        self._task_topics: dict[str, dict[str, tuple[dict[str, Any], bytes]]] = {}
        self._ha_apps: set[str] = set()
        self._ha_sent: bytes | None = None
        self._ha_pending: asyncio.TimerHandle | None = None
        self._app_states: dict[str, tuple[str, str]] = {}
        self._tasks: list[asyncio.Task[None]] = []
        #: (event-loop time of the PUBACK, event) of the last REPLAY_S seconds of confirmations
        self._acked: deque[tuple[float, Outgoing]] = deque(maxlen=REPLAY_MAX)
        self._broker_restarted = False
        #: messages of the current connection and the read already started on them (reconnection)
        self._stream: tuple[AsyncIterator[Incoming], asyncio.Future[Incoming] | None] | None = None
        #: requests a dropped connection had received (paho acknowledged them: the broker will not
        #: send them again) but not yet handed over; answered first after the reconnection
        self._leftovers: list[Incoming] = []
        self._connected = asyncio.Event()
        self._stop_requested = asyncio.Event()
        self._started = False
        #: the broker's WebSocket URL for browsers, shown in ``bridge/info`` (set before start)
        self.ws_url: str | None = None
        #: called with the app id after each request the scheduler served (the web view's history)
        self.app_listeners: list[Callable[[str], None]] = []
        #: told of each answer given without the scheduler (refusals, rig verbs; the rig terminal)
        self.answer_listeners: list[AnswerListener] = []
        #: releases the manual steps waiting for a human (``bridge/request/continue``); set
        #: before start. None: ``continue`` is answered ``nothing_waiting``.
        self.continue_manual: ContinueManual | None = None

    # -- lifecycle ---------------------------------------------------------------------------
    async def start(self) -> None:
        """Open the outbox, wire the driver's sinks and start connecting (returns at once).

        Raises:
            BridgeConfigError: TLS files cannot be loaded.
            OutboxError: the outbox file cannot be opened.
        """
        if self._started or self._stop_requested.is_set():
            raise BridgeError("a bridge starts once; make a new Bridge to start again")
        self.broker.ssl_context()  # fail now, not in the reconnect loop
        journal = self.driver.journal
        if journal is None:  # no rig journal: a queue of our own (same file name, same rules)
            path = None if self.config.state_dir is None else self.config.state_dir / OUTBOX_FILE
            journal = Outbox(path, max_events=self.config.outbox_max_events,
                             max_bytes=self.config.outbox_max_bytes)
            self._own_outbox = True
        else:
            journal.max_events = self.config.outbox_max_events
            journal.max_bytes = self.config.outbox_max_bytes
        self._outbox = journal
        self._publisher = Publisher(journal, timeout=self.config.publish_timeout_s,
                                    event_expiry=self.config.event_expiry_s,
                                    event_topic=self.topics.app_events)
        self._publisher.on_acked = self._note_acked
        self._router = RequestRouter(
            self.driver, self.topics, self.config, self._publisher.put,
            set_signals=self._set_signals, settable=self._settable, info=self.info,
            health=self.health, on_app_request=self._app_touched, on_ha_online=self._ha_online,
            inject_fault=self._inject_fault, continue_manual=self.continue_manual, on_answer=self._answered)
        self._started = True
        self.driver.add_sink(self._on_events)
        self.driver.add_signals_sink(self._on_signals)
        self._set_retained(self.topics.bridge_info(), dumps(self.info()), qos=1)
        self._on_signals(self.driver.signals)
        for app in self.driver.app_ids():
            self._app_touched(app)
        self._publish_discovery()
        self._tasks = [asyncio.create_task(self._publisher.run(), name="wakebench-publisher"),
                       asyncio.create_task(self._connection_loop(), name="wakebench-mqtt")]

    async def stop(self) -> None:
        """Flush what is queued (up to the publish timeout), publish ``offline``, disconnect.

        Events still unconfirmed stay in the outbox for the next start.
        """
        if not self._started or self._stop_requested.is_set():
            return
        publisher = self._require_publisher()
        if self._ha_pending is not None:  # a coalesced discovery update still goes out
            self._flush_discovery()
        if publisher.attached:
            await publisher.wait_idle(self.config.publish_timeout_s)
        self._stop_requested.set()
        self._started = False
        connection = self._tasks[1]
        try:
            await asyncio.wait_for(asyncio.shield(connection), self.config.publish_timeout_s * 2)
        except TimeoutError:
            log.warning("MQTT connection did not close in time; dropping it")
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        publisher.detach()
        publisher.spill()
        if self._own_outbox:
            self._require_outbox().close()

    async def __aenter__(self) -> Bridge:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def wait_connected(self, timeout: float) -> None:  # noqa: ASYNC109 - a plain wait
        """Return once connected and subscribed.

        Raises:
            TimeoutError: not connected within ``timeout`` seconds (:attr:`last_error` says why).
        """
        await asyncio.wait_for(self._connected.wait(), timeout)

    @property
    def connected(self) -> bool:
        """True while connected, subscribed and publishing."""
        return self._connected.is_set()

    # -- views ---------------------------------------------------------------------------------
    def info(self) -> dict[str, Any]:
        """The ``bridge/info`` payload."""
        return {"version": self.config.version, "api_version": API_VERSION, "rig": self.config.rig,
                "board": self.config.board, "platforms": list(POLICIES), "speed": self.config.speed,
                "mqtt5": self.broker.mqtt5, "max_request_bytes": self.config.max_request_bytes,
                "settable": sorted(self._settable), "ws_url": self.ws_url}

    def health(self) -> dict[str, Any]:
        """``health_check`` data: connection, outbox and app counts."""
        outbox = self._outbox
        return {"healthy": True, "connected": self.connected, "instance": self.instance,
                "outbox": 0 if outbox is None else len(outbox),
                "dropped": 0 if outbox is None else outbox.dropped_total,
                "apps": len(self.driver.app_ids()), "reconnects": max(0, self.connections - 1)}

    @property
    def pending(self) -> int:
        """Messages queued or in flight, not yet confirmed by the broker (outbox included)."""
        return 0 if self._publisher is None else self._publisher.pending

    @property
    def outbox_size(self) -> int:
        """Events waiting in the outbox."""
        return 0 if self._outbox is None else len(self._outbox)

    @property
    def router(self) -> RequestRouter:
        """The request router (after :meth:`start`)."""
        if self._router is None:
            raise BridgeError("the bridge is not started")
        return self._router

    def rig_event(self, kind: str, data: Mapping[str, Any] | None = None) -> None:
        """Publish a rig event (sensor fault, source lost, scenario step...) on ``bridge/event``."""
        self.router.rig_event(kind, dict(data or {}))

    # -- driver sinks --------------------------------------------------------------------------
    def _on_events(self, events: list[Event]) -> None:
        if not self._started:
            return
        publisher = self._require_publisher()
        rows = self.driver.journal_rows(events)
        apps: dict[str, None] = {}
        for event, row in zip(events, rows, strict=True):
            try:
                topic = self.topics.app_events(event.app)
            except TopicError:
                log.exception("event for an app id that cannot be a topic: %r", event.app)
                continue
            publisher.put(Outgoing(topic, self.driver.encode(event), qos=1, durable=True, app=event.app,
                                   seq=event.seq, expiry=self.config.event_expiry_s, row=row))
            apps[event.app] = None
        for app in apps:
            self._refresh_tasks(app)
            self._publish_app_state(app)

    def _on_signals(self, snapshot: Signals) -> None:
        if not self._started:
            return
        body = snapshot.to_dict()
        body["ts"] = wall_iso(self.driver, snapshot.t)
        self._set_retained(self.topics.signals(), dumps(body), qos=0)
        for app in list(self._task_topics):
            self._refresh_tasks(app)

    def _answered(self, who: str, verb: str, args: Any, response: Response) -> None:
        for listener in self.answer_listeners:
            listener(who, verb, args, response)

    def _app_touched(self, app: str) -> None:
        self._refresh_tasks(app)
        self._publish_app_state(app)
        for listener in self.app_listeners:
            listener(app)
        if self.config.ha_discovery and self.driver.has_app(app) and app not in self._ha_apps \
                and self._ha_pending is None:  # a burst of new apps: one update, not one per app
            self._ha_pending = asyncio.get_running_loop().call_later(discovery.COALESCE_S, self._flush_discovery)

    def _publish_app_state(self, app: str) -> None:
        """Retained ``apps/<app>/state`` whenever platform or state changes (late viewers see it)."""
        found = self.driver.app_state(app)
        if found is None or self._app_states.get(app) == found:
            return
        self._app_states[app] = found
        body = {"app": app, "platform": found[0], "state": found[1], "t": round(self.driver.now, 6)}
        self._set_retained(self.topics.app_state(app), dumps(body), qos=1)

    # -- retained state ------------------------------------------------------------------------
    def _refresh_tasks(self, app: str) -> None:
        """Publish changed task states of ``app``; clear vanished ones with an empty payload.

        States are compared as dicts first (cheap) and encoded only when they changed, so an
        app with many tasks costs one dict comparison per task per event.
        """
        old = self._task_topics.get(app, {})
        new: dict[str, tuple[dict[str, Any], bytes]] = {}
        for task_id, state in self.driver.tasks(app).items():
            topic = self.topics.app_task(app, task_id)
            before = old.get(topic)
            if before is not None and before[0] == state:
                new[topic] = before
                continue
            payload = dumps({**state, "task_id": task_id, "app": app})
            new[topic] = (dict(state), payload)
            if before is None or before[1] != payload:
                self._set_retained(topic, payload, qos=1)
        for topic in old.keys() - new.keys():
            self._set_retained(topic, b"", qos=1)
        if new:
            self._task_topics[app] = new
        else:
            self._task_topics.pop(app, None)

    def _set_retained(self, topic: str, payload: bytes, *, qos: int) -> None:
        """Every change goes out in order with the events; if it cannot be queued (offline,
        memory full) the latest value per topic waits instead."""
        self._retained[topic] = (payload, qos)
        publisher = self._require_publisher()
        msg = self._retained_message(topic, payload, qos)
        if not publisher.put(msg):
            publisher.put_retained(msg)

    def _retained_message(self, topic: str, payload: bytes, qos: int) -> Outgoing:
        def forget() -> None:  # a cleared topic needs publishing once, then nothing
            if self._retained.get(topic, (None, 0))[0] == b"":
                del self._retained[topic]

        return Outgoing(topic, payload, qos=qos, retain=True, on_published=forget if not payload else None)

    def _republish_retained(self) -> None:
        publisher = self._require_publisher()
        for topic, (payload, qos) in list(self._retained.items()):
            publisher.put_retained(self._retained_message(topic, payload, qos))

    def _publish_discovery(self, *, force: bool = False) -> None:
        """The retained device config, only when it changed (``force``: HA came online)."""
        if not self.config.ha_discovery:
            return
        self._ha_apps = set(self.driver.app_ids())
        payload = dumps(discovery.device_config(self.topics, board=self.config.board,
                                                version=self.config.version, apps=self._ha_apps))
        if payload == self._ha_sent and not force:
            return
        self._ha_sent = payload
        self._set_retained(self.topics.ha_device_config(), payload, qos=1)

    def _flush_discovery(self) -> None:
        if self._ha_pending is not None:
            self._ha_pending.cancel()
            self._ha_pending = None
        if self._started:
            self._publish_discovery()

    def _ha_online(self) -> None:
        if self.config.ha_discovery:
            self._publish_discovery(force=True)

    # -- connection ----------------------------------------------------------------------------
    async def _connection_loop(self) -> None:
        publisher = self._require_publisher()
        delay = self.config.reconnect_min_s
        while not self._stop_requested.is_set():
            client: Any = None
            try:
                client = self._transport.connect(
                    self.broker, client_id=self.client_id, will_topic=self.topics.bridge_state(),
                    will_payload=self._offline, timeout=self.config.publish_timeout_s,
                    max_queued_incoming=self.config.max_queued_requests,
                    max_queued_bytes=self.config.max_queued_request_bytes, on_overflow=self._shed)
                async with client:
                    self.connections += 1
                    delay = self.config.reconnect_min_s
                    link = Link(client, mqtt5=self.broker.mqtt5, batch=batch_publisher(client))
                    closed = self._transport.closed(client)
                    try:
                        await self._on_connected(client, link, closed)
                        await self._serve(client, link, closed)
                    finally:
                        self._connected.clear()
                        link.broken.set()  # wakes publishes still waiting for their PUBACK
                        publisher.detach()
            except TransportError as exc:
                self._note_error(exc)
            except (BridgeConfigError, asyncio.CancelledError):
                raise
            except Exception as exc:  # keep reconnecting whatever paho or a callback throws
                log.exception("MQTT connection failed unexpectedly")
                self._note_error(exc)
            if client is not None:
                self._leftovers.extend(self._transport.leftovers(client))
            if self._stop_requested.is_set() or self.lost_to is not None:
                break
            wait = delay * random.uniform(1 - _JITTER, 1 + _JITTER)
            delay = min(delay * 2, self.config.reconnect_max_s)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop_requested.wait(), wait)

    def _note_error(self, exc: BaseException) -> None:
        message = f"{type(exc).__name__}: {exc}"
        if message != self.last_error:
            log.warning("MQTT broker %s: %s; reconnecting", self.broker.url(), message)
        self.last_error = message

    async def _on_connected(self, client: Connection, link: Link, closed: asyncio.Future[Any] | None) -> None:
        if not await self._unless_lost(link, closed, self._handshake(client, link)):
            return  # taken over: serve nothing
        publisher = self._require_publisher()
        publisher.attach(link)
        self._republish_retained()
        self.last_error = None
        self._connected.set()
        log.info("connected to %s as %s", self.broker.url(), self.client_id)
        leftovers, self._leftovers = self._leftovers, []
        for message in leftovers:  # before anything the new connection reads: arrival order
            if message.topic != self.topics.bridge_state():
                await self._handle(message)

    async def _unless_lost(self, link: Link, closed: asyncio.Future[Any] | None, step: Awaitable[_T]) -> _T:
        """Run ``step`` unless the connection is lost first (``closed`` done, or ``link``
        broken); then cancel it and raise TransportError. aiomqtt's publish and subscribe wait
        for their PUBACK / SUBACK until the publish timeout even when the socket has closed: a
        broker killed during the handshake (or its replay) was noticed only then, 5 s late."""
        task = asyncio.ensure_future(step)
        broken = asyncio.ensure_future(link.broken.wait())
        try:
            await asyncio.wait({task, broken} if closed is None else {task, broken, closed},
                               return_when=asyncio.FIRST_COMPLETED)
        finally:
            broken.cancel()
            if not task.done():
                task.cancel()
                await asyncio.wait({task})
        if task.cancelled():
            raise TransportError("the connection was lost")
        return task.result()

    async def _handshake(self, client: Connection, link: Link) -> bool:
        """Subscribe, check ownership, publish ``online``, replay, report drops: everything before
        the publisher takes the link. False: the rig id was taken over."""
        publisher = self._require_publisher()
        outbox = self._require_outbox()
        timeout = self.config.publish_timeout_s
        if self._stream is not None and self._stream[1] is not None:
            self._stream[1].cancel()  # a read left over from a connection that failed to start
        self._stream = None
        # bridge/state first: its stored value arrives before anything else we subscribe to
        await self._transport.subscribe(client, self.topics.bridge_state(), mqtt5=self.broker.mqtt5,
                                        requests=False, timeout=timeout)
        self._broker_restarted = False
        if self.connections > 1:  # read from here on: the stored state is the first message
            stream = aiter(self._transport.messages(client))
            self._stream = (stream, asyncio.ensure_future(anext(stream)))
        for topic_filter in self.topics.subscriptions(ha=self.config.ha_discovery):
            # MQTT 5: see the RETAIN flag as published (a stored request is refused, never run)
            # and get no stored ones at subscribe (retain handling 2); 3.1.1 flags those itself.
            await self._transport.subscribe(client, topic_filter, mqtt5=self.broker.mqtt5,
                                            requests=topic_filter != self.topics.ha_status(), timeout=timeout)
        if self.connections > 1 and await self._taken_over():
            return False
        await publisher.publish_now(link, Outgoing(self.topics.bridge_state(), self._online, qos=1, retain=True))
        if self._broker_restarted:
            await self._replay(link)
        report = outbox.drops()
        if report is not None:
            now = self.driver.clock.now()
            body = {"type": "outbox_overflow", "data": report.to_dict(), "t": round(now, 6),
                    "ts": wall_iso(self.driver, now)}
            await publisher.publish_now(link, Outgoing(self.topics.bridge_event(), dumps(body), qos=1))
            outbox.clear_drops(report)
        return True

    async def _taken_over(self) -> bool:
        """At a reconnection, before ``online``: does the stored ``bridge/state`` name another
        instance (someone connected with this rig id meanwhile)? Then stop serving (True)."""
        assert self._stream is not None
        stream, started = self._stream
        assert started is not None
        reading: asyncio.Future[Incoming] = started
        first: asyncio.Future[Incoming] | None = reading
        stored: OwnerState | None = None
        done, _ = await asyncio.wait({reading}, timeout=STATE_READ_S)
        if reading in done and reading.exception() is None:
            message = reading.result()
            if message.topic == self.topics.bridge_state() and message.retained:
                other = lost_to(self.instance, message.payload, retained=True, reconnected=True)
                if other is not None:
                    self._lose(other)
                    return True
                stored = parse_state(message.payload)
                first = None
        # our will never fired (our `online` is still stored) or nothing is stored: the broker
        # restarted, and may have lost what it confirmed last
        self._broker_restarted = stored is None or (stored.state == "online" and stored.instance == self.instance)
        self._stream = (stream, first)  # what was read (or is being read) is served first
        return False

    def _note_acked(self, msgs: Sequence[Outgoing]) -> None:
        # wall time of the network, not rig time
        now = self._network_clock() if self._network_clock is not None else asyncio.get_running_loop().time()
        ring = self._acked
        while ring and ring[0][0] < now - REPLAY_S:
            ring.popleft()
        ring.extend((now, m) for m in msgs)

    async def _replay(self, link: Link) -> None:
        """Publish again the events the broker confirmed in its last REPLAY_S seconds.

        If this broker vanishes too, the whole replay is kept for the next one, stamped with
        this broker's last confirmation: what it confirmed may be lost with it, what is left was
        never sent, and neither may fall out of the window however late the loss is noticed."""
        ring = self._acked
        newest = ring[-1][0] if ring else 0.0
        again = [m for t, m in ring if t >= newest - REPLAY_S]
        ring.clear()
        publisher = self._require_publisher()
        for msg in again:
            try:
                await publisher.publish_now(link, msg)
            except BaseException:  # the broker went again (or we stop): all of it waits
                stamp = ring[-1][0] if ring else newest
                ring.clear()
                ring.extend((stamp, m) for m in again)
                raise
            self._note_acked([msg])  # this broker, too, confirmed it before saving it
        if again:
            log.warning("broker restarted: published again the %d event(s) it confirmed in the last %g s "
                     "before it vanished (subscribers drop repeats by seq)", len(again), REPLAY_S)

    def _lose(self, other: OwnerState) -> None:
        if self.lost_to is not None:
            return
        self.lost_to = other
        log.error("rig %r was taken over by %s; this instance (%s) stops", self.config.rig,
                  other.describe(), self.instance)
        if self._on_lost_ownership is not None:
            self._on_lost_ownership(other)

    async def _serve(self, client: Connection, link: Link, closed: asyncio.Future[Any] | None) -> None:
        if self.lost_to is not None:  # found at connect: leave without publishing anything
            return
        reader = asyncio.ensure_future(self._read(client))
        broken = asyncio.ensure_future(link.broken.wait())
        stop = asyncio.ensure_future(self._stop_requested.wait())
        try:
            await asyncio.wait({reader, broken, stop}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for fut in (reader, broken, stop):
                fut.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader
        if reader.done() and not reader.cancelled() and reader.exception() is not None:
            raise reader.exception()  # type: ignore[misc]
        if self.lost_to is not None:
            return  # the new owner's `online` stays; a clean disconnect drops our will
        if stop.done() and not stop.cancelled() and not link.broken.is_set():
            with contextlib.suppress(TransportError):
                await self._unless_lost(link, closed, self._require_publisher().publish_now(
                    link, Outgoing(self.topics.bridge_state(), self._offline, qos=1, retain=True)))
        elif link.broken.is_set():
            raise TransportError("a publish failed or timed out; reconnecting")

    async def _read(self, client: Connection) -> None:
        stream, first = self._stream if self._stream is not None else (self._transport.messages(client), None)
        self._stream = None
        if first is not None:
            await self._handle(await first)
        async for message in stream:
            await self._handle(message)
            if self.lost_to is not None:
                return

    async def _handle(self, message: Incoming) -> None:
        if message.topic == self.topics.bridge_state():
            self._state_seen(message)
            return
        await self.router.handle(message.topic, message.payload,
                                 RequestMeta(response_topic=message.response_topic,
                                             correlation=message.correlation, retained=message.retained))

    def _state_seen(self, message: Incoming) -> None:
        """Another instance's live ``online``: this rig id was taken over. Another instance's live
        ``offline`` (a predecessor's will arriving after our ``online``): publish ours again."""
        other = lost_to(self.instance, message.payload, retained=message.retained,
                        reconnected=self.connections > 1)
        if other is not None:
            self._lose(other)
            return
        found = parse_state(message.payload)
        if (not message.retained and found is not None and found.state == "offline"
                and found.instance not in (None, self.instance) and self.connected):
            self._require_publisher().put(Outgoing(self.topics.bridge_state(), self._online, qos=1, retain=True))

    def _shed(self, message: Incoming) -> None:
        """The intake queue is full: answer ``overloaded`` now (runs in the client's callback)."""
        self.router.shed(message.topic, message.payload, RequestMeta(
            response_topic=message.response_topic, correlation=message.correlation,
            retained=message.retained))

    # -- helpers -------------------------------------------------------------------------------
    def _require_publisher(self) -> Publisher:
        if self._publisher is None:
            raise BridgeError("the bridge is not started")
        return self._publisher

    def _require_outbox(self) -> Journal:
        if self._outbox is None:
            raise BridgeError("the bridge is not started")
        return self._outbox

