"""Issue #8 acceptance against a real mosquitto: a loaded rig (``wakebench run --board sim``
subprocess) killed with SIGKILL at random moments — some while the broker is frozen with SIGSTOP —
and restarted on the same state directory loses no event, leaves no gap and wakes no task twice,
as seen by a persistent QoS 1 subscriber; a SIGTERM restart with other live signals delivers the
resume events; broker kill -9 at random moments under load loses nothing either, with the broker
configured to write its persistence after every change (:data:`DURABLE_BROKER`).

Random moments come from a seeded generator: the seed is in the failure message, and
``WAKEBENCH_SEED=<seed>`` runs the same moments again (:func:`seed_of`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import signal
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiomqtt
import pytest

from firmware_sim import ManualClock, Scheduler, Signals
from firmware_sim.clock import wall_now
from firmware_sim.driver import SchedulerDriver
from firmware_sim.journal import JOURNAL_FILE, Journal
from mqtt_bridge import AppClient, Bridge, BridgeConfig, BrokerConfig
from mqtt_bridge.bridge import REPLAY_S
from tests.bridge.helpers import wait_until
from tests.mosquitto import Mosquitto
from tests.rig.helpers import Observer, RigProcess, ScriptedBroker, unique_rig

#: SIGKILLs of a loaded rig (issue #8 acceptance: "20 SIGKILLs ... at random moments"): the suite
#: runs all 20 (about 16 s on the 2-core VM); ``WAKEBENCH_KILLS=N`` runs more for a soak.
ACCEPTANCE_KILLS = 20
KILLS = int(os.environ.get("WAKEBENCH_KILLS", str(ACCEPTANCE_KILLS)))
#: Every third kill happens while the broker is frozen (SIGSTOP), so events wait for a PUBACK.
FROZEN_EVERY = 3
#: Broker kill -9 rounds under load (issue #8 acceptance: "Broker kill -9 ×5 under load: 0 lost").
BROKER_KILLS = 5
#: Kills timed into the rig's reconnection: each broker restart is followed by a second kill -9
#: as soon as the subscriber sees the rig's replay begin. Random moments alone almost never hit
#: that window (0 losses in ~100 runs of the test above on a rig that lost there); 8 such pairs
#: lost an event in 2 of 9 runs on that rig (issue #8 flake).
RECONNECTION_KILLS = 8
#: The broker configuration under which a broker kill -9 loses nothing (mosquitto.conf(5),
#: https://mosquitto.org/man/mosquitto-conf-5.html), with the rig's replay of what the broker
#: confirmed just before it vanished (mqtt_bridge.bridge.REPLAY_S): ``persistence true`` plus
#: ``autosave_on_changes true`` with ``autosave_interval 1`` — the in-memory database is written
#: after every counted change instead of every 1800 s — and ``max_inflight_messages 1``: mosquitto
#: counts a message *queued* for a subscriber as a change, but not one sent to it at once
#: (``db__message_insert`` counts only ``mosq_ms_queued``), so with one in flight per subscriber
#: the rest wait queued, and saved. mosquitto PUBACKs a QoS 1 publish before it reaches a
#: subscriber or the disk, so without this a kill -9 loses what the broker held (README "Broker
#: restarts" has the measurements).
DURABLE_BROKER = ("autosave_on_changes true", "autosave_interval 1", "max_inflight_messages 1")
#: A publish timeout no test outlives: what the bridge notices within a test, it notices
#: without waiting for a PUBACK to time out.
NEVER_S = 3600.0
SPEED = 600  # Capacitor's 180 s budget lasts 0.3 s of wall time: wake, expire, terminate per task
APPS = ("a1", "a2", "a3")
WAIT = 30.0


def seed_of() -> int:
    """The seed of this run's random moments: ``WAKEBENCH_SEED`` if set (to repeat a failure),
    else a fresh one; printed, so a failing run's output names it."""
    given = os.environ.get("WAKEBENCH_SEED")
    seed = int(given) if given else int.from_bytes(os.urandom(4), "big")
    print(f"seed {seed} (WAKEBENCH_SEED={seed} repeats it)")
    return seed


class Subscriber:
    """A persistent-session QoS 1 subscriber (clean_session false) that reconnects by itself and
    records every event as ``(app, seq, type, task_id)`` in arrival order."""

    def __init__(self, port: int, rig: str) -> None:
        self.port, self.rig = port, rig
        self.events: list[tuple[str, int, str, str | None]] = []
        self._changed = asyncio.Condition()
        self._task: asyncio.Task[None] | None = None
        self._subscribed = asyncio.Event()

    async def __aenter__(self) -> Subscriber:
        self._task = asyncio.create_task(self._run())
        await asyncio.wait_for(self._subscribed.wait(), WAIT)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await stop(self._task)

    async def _run(self) -> None:
        while True:
            client = aiomqtt.Client("127.0.0.1", self.port, identifier=f"sub-{self.rig}",
                                    protocol=aiomqtt.ProtocolVersion.V311, clean_session=False, keepalive=5)
            try:
                async with client:
                    await client.subscribe(f"wakebench/{self.rig}/apps/+/events", qos=1)
                    self._subscribed.set()
                    async for m in client.messages:
                        await self._record(m)
            except aiomqtt.MqttError:
                # paho acknowledged what is still queued in this client (the broker will not send
                # it again): record it before reconnecting — aiomqtt's iterator stops at the
                # disconnect and leaves it behind
                while not client._queue.empty():  # the messages left behind (private: aiomqtt has no API)
                    await self._record(client._queue.get_nowait())
                await asyncio.sleep(0.05)  # reconnect backoff of this test client

    async def _record(self, m: aiomqtt.Message) -> None:
        body = json.loads(bytes(m.payload))  # type: ignore[arg-type]
        async with self._changed:
            self.events.append((body["app"], body["seq"], body["type"], body.get("task_id")))
            self._changed.notify_all()

    def max_seq(self) -> dict[str, int]:
        out: dict[str, int] = defaultdict(int)
        for app, seq, _t, _task in self.events:
            out[app] = max(out[app], seq)
        return out

    async def wait_for(self, pred: Callable[[], bool], what: str, *, within: float = WAIT) -> None:
        try:
            async with asyncio.timeout(within), self._changed:
                await self._changed.wait_for(pred)
        except TimeoutError:
            raise AssertionError(f"timed out waiting for {what}; have {self.max_seq()}") from None


class Load:
    """Keeps the rig busy: every app asks for a ``before_exit`` task every ``pace`` seconds."""

    def __init__(self, port: int, rig: str, *, apps: tuple[str, ...] = APPS, pace: float = 0.03) -> None:
        self.port, self.rig, self.apps, self.pace = port, rig, apps, pace
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Load:
        self._task = asyncio.create_task(self._run())
        return self

    async def __aexit__(self, *exc: object) -> None:
        await stop(self._task)

    async def _run(self) -> None:
        while True:
            try:
                async with aiomqtt.Client("127.0.0.1", self.port, keepalive=5) as client:
                    while True:
                        for app in self.apps:
                            base = f"wakebench/{self.rig}/apps/{app}/request"
                            await client.publish(f"{base}/register", b'{"platform":"capacitor"}', qos=0)
                            await client.publish(f"{base}/before_exit", b"{}", qos=0)
                        await asyncio.sleep(self.pace)  # request pacing of the load, not a settle wait
            except aiomqtt.MqttError:
                await asyncio.sleep(0.05)


def lost_seqs(events: list[tuple[str, int, str, str | None]], final: dict[str, int]) -> dict[str, list[int]]:
    seen = {(app, seq) for app, seq, _k, _t in events}
    return {app: missing for app, last in final.items()
            if (missing := [n for n in range(1, last + 1) if (app, n) not in seen])}


async def stop(task: asyncio.Task[None] | None) -> None:
    """Cancel a client task; a client whose broker just died may hang in its disconnect, so
    the wait is bounded."""
    if task is not None:
        task.cancel()
        await asyncio.wait({task}, timeout=5)


def check(events: list[tuple[str, int, str, str | None]], final: dict[str, int], seed: int) -> None:
    """Every app's seq 1..final arrived (duplicates allowed, same content), no task woken twice."""
    by_seq: dict[tuple[str, int], tuple[str, str | None]] = {}
    for app, seq, kind, task in events:
        first = by_seq.setdefault((app, seq), (kind, task))
        assert first == (kind, task), f"seed {seed}: {app} seq {seq} seen as {first} and {(kind, task)}"
    for app, last in final.items():
        missing = [n for n in range(1, last + 1) if (app, n) not in by_seq]
        assert not missing, f"seed {seed}: {app} lost seq {missing[:20]} (of {last})"
    wakes: dict[tuple[str, str | None], set[int]] = defaultdict(set)
    for (app, seq), (kind, task) in by_seq.items():
        if kind == "wake":
            wakes[(app, task)].add(seq)
    twice = {k: v for k, v in wakes.items() if len(v) > 1}
    assert not twice, f"seed {seed}: tasks woken twice: {twice}"


def journal_seq(state_dir: Path) -> tuple[dict[str, int], int]:
    journal = Journal(state_dir / JOURNAL_FILE)
    try:
        state = journal.load_state() or {}
        return {k: int(v) for k, v in state.get("seq", {}).items()}, len(journal)
    finally:
        journal.close()


async def clean_run(args: tuple[str, ...]) -> None:
    """Start the rig, let it connect, stop it with SIGTERM (it drains before going offline)."""
    proc = await RigProcess(*args).start()
    try:
        await proc.wait_line(r"wakebench rig", within=WAIT)
        assert await proc.terminate(within=WAIT) == 0, proc.output
    finally:
        await proc.kill()


def rig_args(broker: Mosquitto, rig: str, state_dir: Path) -> tuple[str, ...]:
    return ("--board", "sim", "--speed", str(SPEED), "--broker", f"mqtt://127.0.0.1:{broker.port}",
            "--rig", rig, "--state-dir", str(state_dir), "--quiet")


async def test_sigkill_at_random_moments_loses_nothing(mosquitto_factory: Any, tmp_path: Path) -> None:
    seed = seed_of()
    rnd = random.Random(seed)
    broker: Mosquitto = mosquitto_factory(tls=False, extra_conf=("max_queued_messages 100000",
                                                                 "max_inflight_messages 0"))
    rig, state_dir = unique_rig("kill"), tmp_path / "state"
    async with Subscriber(broker.port, rig) as sub:
        async with Load(broker.port, rig):
            for n in range(KILLS):
                proc = await RigProcess(*rig_args(broker, rig, state_dir)).start()
                try:
                    await proc.wait_line(r"wakebench rig", within=WAIT)
                    seen = len(sub.events)
                    await sub.wait_for(lambda s=seen: len(sub.events) > s, f"events after start {n}")
                    if n % FROZEN_EVERY == FROZEN_EVERY - 1:
                        assert broker.proc is not None
                        broker.proc.send_signal(signal.SIGSTOP)
                    await asyncio.sleep(rnd.uniform(0.02, 0.4))  # the random moment of the kill
                finally:
                    await proc.kill()
                    if broker.proc is not None:
                        broker.proc.send_signal(signal.SIGCONT)
        await clean_run(rig_args(broker, rig, state_dir))  # delivers what the kills left pending
        final, pending = journal_seq(state_dir)
        assert pending == 0 and set(final) == set(APPS), (final, pending)
        await sub.wait_for(lambda: all(sub.max_seq().get(a, 0) >= final[a] for a in final), "every journaled event")
    check(sub.events, final, seed)


async def test_broker_kill_9_under_load_loses_nothing(mosquitto_factory: Any, tmp_path: Path) -> None:
    """Five kill -9 of a persisting broker (:data:`DURABLE_BROKER`) at random moments under load;
    the persistent QoS 1 subscriber gets every journaled event: 0 lost, 0 gaps."""
    seed = seed_of()
    rnd = random.Random(seed)
    broker: Mosquitto = mosquitto_factory(tls=False, persistence=True, extra_conf=(
        "max_queued_messages 100000", *DURABLE_BROKER))
    rig, state_dir = unique_rig("bkill"), tmp_path / "state"
    proc = await RigProcess(*rig_args(broker, rig, state_dir)).start()
    try:
        await proc.wait_line(r"wakebench rig", within=WAIT)
        async with Subscriber(broker.port, rig) as sub:
            async with Load(broker.port, rig):
                for n in range(BROKER_KILLS + 1):
                    # new events (not repeats): the rig is back, has replayed, and serves the load
                    newest = sum(sub.max_seq().values())
                    await sub.wait_for(lambda s=newest: sum(sub.max_seq().values()) > s + 10, f"load round {n}")
                    if n == BROKER_KILLS:
                        break
                    await asyncio.sleep(rnd.uniform(0.0, 0.3))  # the random moment of the kill
                    broker.kill()  # no save, no will: whatever is not on disk by now is gone
                    broker.start()
            # WAIT, as every other stop here (it was 2 x WAIT): a stop right after a kill waited a
            # publish timeout (5 s) for a PUBACK of the broker already gone, on top of the
            # bridge's bounded drain and close (test_a_rig_stopped_while_its_broker_vanishes_...)
            assert await proc.terminate(within=WAIT) == 0, proc.output
            replays = [line for line in proc.stderr.decode().splitlines() if "published again" in line]
            # stopped while reconnecting: what waits for a PUBACK stays in the journal; the
            # next start delivers it
            await clean_run(rig_args(broker, rig, state_dir))
            final, pending = journal_seq(state_dir)
            assert pending == 0, pending
            await sub.wait_for(lambda: all(sub.max_seq().get(a, 0) >= final[a] for a in final),
                               "the last journaled event")
            lost = lost_seqs(sub.events, final)
            print(f"broker kill -9 x{BROKER_KILLS} (seed {seed}): {sum(final.values())} events, lost: {lost}; "
                  f"{len(replays)} replay(s) after a broker restart")
            check(sub.events, final, seed)  # 0 lost, 0 gaps, no task woken twice
    finally:
        await proc.kill()


async def test_broker_kill_9_during_the_rigs_reconnection_loses_nothing(mosquitto_factory: Any, tmp_path: Path) -> None:
    """:data:`RECONNECTION_KILLS` pairs of kill -9: one at a random moment under load, the
    next a few ms after the restarted broker began receiving the rig's replay, so the rig's
    reconnection (subscribe, ``online``, replay) meets a vanishing broker. 0 lost, 0 gaps."""
    seed = seed_of()
    rnd = random.Random(seed)
    broker: Mosquitto = mosquitto_factory(tls=False, persistence=True, extra_conf=(
        "max_queued_messages 100000", *DURABLE_BROKER))
    rig, state_dir = unique_rig("rkill"), tmp_path / "state"
    proc = await RigProcess(*rig_args(broker, rig, state_dir)).start()
    try:
        await proc.wait_line(r"wakebench rig", within=WAIT)
        async with Subscriber(broker.port, rig) as sub:
            async with Load(broker.port, rig):
                for n in range(RECONNECTION_KILLS + 1):
                    newest = sum(sub.max_seq().values())
                    await sub.wait_for(lambda s=newest: sum(sub.max_seq().values()) > s + 10, f"load round {n}")
                    if n == RECONNECTION_KILLS:
                        break
                    await asyncio.sleep(rnd.uniform(0.0, 0.2))  # the random moment of the first kill
                    broker.kill()
                    broker.start()
                    mark, top = len(sub.events), dict(sub.max_seq())
                    await sub.wait_for(lambda m=mark, t=top: any(seq <= t.get(app, 0) for app, seq, _k, _i in sub.events[m:]),
                                       f"the replay after kill {n}")
                    await asyncio.sleep(rnd.uniform(0.0, 0.01))  # a few ms into the rig's replay
                    broker.kill()
                    broker.start()
            assert await proc.terminate(within=WAIT) == 0, proc.output
            await clean_run(rig_args(broker, rig, state_dir))  # what still waits for a PUBACK
            final, pending = journal_seq(state_dir)
            assert pending == 0, pending
            await sub.wait_for(lambda: all(sub.max_seq().get(a, 0) >= final[a] for a in final),
                               "the last journaled event")
            print(f"broker kill -9 into the reconnection x{RECONNECTION_KILLS} (seed {seed}): "
                  f"{sum(final.values())} events, lost: {lost_seqs(sub.events, final)}")
            check(sub.events, final, seed)
    finally:
        await proc.kill()


async def test_events_a_restarted_broker_lost_are_published_again(mosquitto_factory: Any, tmp_path: Path) -> None:
    """The loss :data:`DURABLE_BROKER` narrows, made certain: a broker whose last save predates
    some events it confirmed (the subscriber offline, so they exist only in its memory) is killed
    and restarted. The rig finds its own ``online`` still stored (its will never fired: the broker
    restarted) and publishes again what the broker confirmed in its last REPLAY_S seconds; the
    subscriber's saved session gets them."""
    broker: Mosquitto = mosquitto_factory(tls=False, persistence=True)  # saved only on demand
    rig, state_dir = unique_rig("replay"), tmp_path / "state"
    proc = await RigProcess(*rig_args(broker, rig, state_dir)).start()
    try:
        await proc.wait_line(r"wakebench rig", within=WAIT)
        async with Subscriber(broker.port, rig):
            pass  # the persistent session exists; the subscriber goes away
        broker.save()  # session and the rig's retained `online` on disk; nothing after this is
        async with Observer("127.0.0.1", broker.port, f"wakebench/{rig}/apps/+/events") as seen:
            await seen.publish(f"wakebench/{rig}/apps/a1/request/register", b'{"platform":"capacitor"}')
            await seen.publish(f"wakebench/{rig}/apps/a1/request/before_exit", b"{}")
            await seen.wait(lambda m: m.json()["type"] == "terminate", within=WAIT)  # wake, expire, terminate
        broker.kill()  # within REPLAY_S of those PUBACKs
        broker.start()
        async with Subscriber(broker.port, rig) as sub:
            await sub.wait_for(lambda: sub.max_seq().get("a1", 0) >= 3, "the events the broker lost")
            check(sub.events, {"a1": 3}, 0)
        assert await proc.terminate(within=WAIT) == 0, proc.output
    finally:
        await proc.kill()


@contextlib.asynccontextmanager
async def scripted_bridge(broker: ScriptedBroker, network: ManualClock) -> AsyncIterator[Bridge]:
    """A driver (rig time stands still) and a bridge on ``broker``, started (connecting);
    ``network`` is the clock of the broker's confirmations (:data:`REPLAY_S`)."""
    driver = SchedulerDriver(Scheduler(signals=Signals(), epoch=wall_now()), clock=ManualClock())
    bridge = Bridge(driver, broker=BrokerConfig.from_url("mqtt://127.0.0.1:1"),
                    config=BridgeConfig(rig="scripted", publish_timeout_s=NEVER_S),
                    transport=broker, network_clock=network.now)
    await bridge.start()
    run = asyncio.create_task(driver.run())
    try:
        yield bridge
    finally:
        driver.stop()
        await asyncio.wait_for(run, WAIT)
        await asyncio.wait_for(bridge.stop(), WAIT)


def _stalls_at(point: str) -> Callable[[int, str, bytes], bool]:
    """On the second connection, the publish that gets no PUBACK: ``online`` or the third
    replayed event."""
    def hold(index: int, topic: str, payload: bytes) -> bool:
        if index != 1:
            return False
        if point == "online":
            return topic.endswith("/bridge/state")
        return topic.endswith("/events") and json.loads(payload)["seq"] == 3
    return hold


@pytest.mark.parametrize(("stall", "replayed_before"), [("online", []), ("replay", [1, 2])])
async def test_what_a_vanished_broker_confirmed_is_replayed_however_late_the_loss_is_noticed(
        stall: str, replayed_before: list[int]) -> None:
    """The flake of ``test_broker_kill_9_under_load_loses_nothing`` (an app got 20 of 21
    events), reproduced with kills timed into the rig's reconnection (2 of 9 runs lost one
    event; the rig's log: the lost event was confirmed just before a kill, the next
    reconnection hung 5 s on a PUBACK of a broker killed meanwhile, and the replay after it
    did not include the event). The replay window ended when the loss was noticed, a publish
    timeout after the broker's last confirmation, so it held nothing the broker had confirmed
    (and perhaps not saved); an interrupted replay also forgot what it had replayed. Now the
    window ends at the last confirmation and an interrupted replay is kept whole."""
    broker, network = ScriptedBroker(), ManualClock(100.0)
    async with scripted_bridge(broker, network) as bridge:
        await bridge.wait_connected(WAIT)
        first = broker.connections[0]
        base = f"wakebench/{bridge.config.rig}/apps/a1/request"
        first.send(f"{base}/register", b'{"platform":"capacitor"}')
        for _ in range(3):
            first.send(f"{base}/before_exit", b"{}")
        await broker.wait(lambda: first.events("a1") == [1, 2, 3], "three wakes confirmed")
        await wait_until(lambda: bridge.pending == 0, what="the bridge to take the confirmations")
        # kill -9 and restart (our `online` still stored: a replay is due); the restarted
        # broker stops answering during the rig's reconnection
        broker.hold = _stalls_at(stall)
        first.drop()
        await broker.wait(lambda: len(broker.connections) == 2 and bool(broker.connections[1].held),
                          f"the {stall} publish to wait for a PUBACK")
        second = broker.connections[1]
        assert second.events("a1") == replayed_before
        network.advance(REPLAY_S + 1)  # noticed a publish timeout later, after REPLAY_S
        second.time_out()
        await broker.wait(lambda: len(broker.connections) == 3, "the next connection")
        await bridge.wait_connected(WAIT)  # its replay is done by then
        assert broker.connections[2].events("a1") == [1, 2, 3]


async def test_a_broker_gone_during_the_handshake_is_noticed_when_its_socket_closes() -> None:
    """aiomqtt waits for a PUBACK until the publish timeout even when the socket has closed: a
    broker killed while the rig published ``online`` (or replayed) kept the rig away for 5 s
    (and made the replay window of the test above end 5 s late). The bridge now watches the
    connection itself: with a timeout no test outlives, it reconnects at once."""
    broker = ScriptedBroker()
    broker.hold = lambda index, topic, payload: index == 0 and topic.endswith("/bridge/state")
    async with scripted_bridge(broker, ManualClock()) as bridge:
        await broker.wait(lambda: bool(broker.connections and broker.connections[0].held),
                          "`online` to wait for its PUBACK")
        broker.connections[0].drop()  # kill -9: the socket closes, no PUBACK ever comes
        await broker.wait(lambda: len(broker.connections) == 2, "a new connection")
        await bridge.wait_connected(WAIT)
        assert broker.connections[1].confirmed[0][0] == bridge.topics.bridge_state()  # `online` first


async def test_a_rig_stopped_while_its_broker_vanishes_mid_handshake_stops_at_once() -> None:
    """SIGTERM just after a broker kill -9 while the rig published ``online`` (or replayed):
    the stop waited for that PUBACK until the publish timeout: the slow stops after broker
    kills (old rig, SIGTERM at random moments around kills: 7 of 36 stops took 4.6-5.5 s, each
    of them in this wait). With a timeout no test outlives, the stop now completes once the
    connection is gone."""
    broker = ScriptedBroker()
    broker.hold = lambda index, topic, payload: topic.endswith("/bridge/state")
    async with scripted_bridge(broker, ManualClock()) as bridge:
        await broker.wait(lambda: bool(broker.connections and broker.connections[0].held),
                          "`online` to wait for its PUBACK")
        stopping = asyncio.ensure_future(bridge.stop())
        broker.connections[0].drop()
        await asyncio.wait_for(stopping, WAIT)
        assert len(broker.connections) == 1  # stopped, not reconnected


async def test_a_rig_whose_broker_vanishes_during_its_offline_publish_stops_at_once() -> None:
    """The same at the end of a clean stop: the ``offline`` publish waited for its PUBACK
    until the publish timeout when the broker went away meanwhile."""
    broker = ScriptedBroker()
    broker.hold = lambda index, topic, payload: topic.endswith("/bridge/state") and b'"offline"' in payload
    async with scripted_bridge(broker, ManualClock()) as bridge:
        await bridge.wait_connected(WAIT)
        stopping = asyncio.ensure_future(bridge.stop())
        await broker.wait(lambda: bool(broker.connections[0].held), "`offline` to wait for its PUBACK")
        broker.connections[0].drop()
        await asyncio.wait_for(stopping, WAIT)


def test_app_client_drops_a_repeated_seq_1_but_follows_a_fresh_start() -> None:
    """A replayed (or QoS 1 repeated) seq 1 is a repeat, not a rig that started over."""
    app = AppClient("mqtt://127.0.0.1:1", app_id="unit", rig="unit")
    first = {"type": "wake", "seq": 1, "task_id": "t1", "t": 0.0}
    for event in (first, {"type": "expire", "seq": 2, "t": 1.0}, dict(first)):
        app._on_event(event)
    assert (app.last_seq, app.gaps) == (2, [])
    app._on_event({"type": "wake", "seq": 1, "task_id": "t1", "t": 7.0})  # fresh state: a new seq 1
    assert (app.last_seq, app.gaps) == (1, [])


async def test_sigterm_restart_with_other_signals_delivers_the_resume_events(
        mosquitto_factory: Any, tmp_path: Path) -> None:
    """The sim comes back with its default signals; a resource-intensive WP8 agent saved while
    on the charger is revoked at resume — and that revoke reaches the subscriber, no gap."""
    broker: Mosquitto = mosquitto_factory(tls=False)
    rig, state_dir = unique_rig("resume"), tmp_path / "state"
    args = ("--board", "sim", "--broker", f"mqtt://127.0.0.1:{broker.port}", "--rig", rig,
            "--state-dir", str(state_dir), "--quiet")
    async with Subscriber(broker.port, rig) as sub:
        proc = await RigProcess(*args).start()
        try:
            await proc.wait_line(r"wakebench rig", within=WAIT)
            async with aiomqtt.Client("127.0.0.1", broker.port) as app:
                base = f"wakebench/{rig}"
                await app.subscribe(f"{base}/apps/mail/response/#", qos=1)
                await app.publish(f"{base}/signals/set", b'{"charger":"ac","network":"wifi","screen_locked":true}', qos=1)
                await app.publish(f"{base}/apps/mail/request/register", b'{"platform":"wp8"}', qos=1)
                await app.publish(f"{base}/apps/mail/request/add",
                                  b'{"name":"sync","type":"resource_intensive"}', qos=1)
                await sub.wait_for(lambda: any(e[2] == "wake" for e in sub.events), "the wake on the charger")
            assert await proc.terminate(within=WAIT) == 0, proc.output
        finally:
            await proc.kill()
        proc = await RigProcess(*args).start()  # the sim restarts unplugged
        try:
            await sub.wait_for(lambda: any(e[2] == "revoke" for e in sub.events), "the resume revoke")
            revoke = next(e for e in sub.events if e[2] == "revoke")
            assert revoke[:2] == ("mail", 2) and revoke[3] == "sync"
            assert await proc.terminate(within=WAIT) == 0, proc.output
            final, pending = journal_seq(state_dir)
            assert pending == 0
            check(sub.events, final, 0)
        finally:
            await proc.kill()


pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")
