"""MQTT bridge benchmarks (issue 4). Starts its own Mosquitto on loopback; prints one table.

1. Event throughput: a Capacitor app's ``before_exit`` + ``finish`` pairs are served by the
   scheduler as fast as it can (each pair emits a ``wake``, a retained task state and its
   clearing); the bridge publishes them (QoS 1, up to 32 in flight) through Mosquitto to a
   subscriber in this process. Events per second from the first request to the last event
   received (the retained task messages, 2 per event, travel too but are not counted).
2. Baseline: the same number of QoS 1 publishes with plain aiomqtt, each awaited before the next.
3. Journal drain: events committed to the rig journal (SQLite WAL, with their state) while the
   broker was down, then delivered after it starts; events per second until the broker
   acknowledged the last one (issue #8 target: ≥ 10,000 /s).
4. Event latency: one ``before_exit`` at a time; time from the request entering the scheduler to
   the ``wake`` arriving at the subscriber (p50 / p99).
5. Request round trip: :class:`AppClient.request` → bridge → scheduler → response (p50 / p99).
6. The same round trip against a broker without ``set_tcp_nodelay true`` (Mosquitto's default):
   the broker's small writes then wait for the client's delayed ACK (Nagle).

The broker runs with ``set_tcp_nodelay true`` and ``max_queued_messages 100000`` (see
``BROKER_CONF``); both matter for a rig's own broker.

Run: ``.venv/bin/python bench/bench_mqtt.py [--events N] [--samples N]``
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiomqtt

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from _mosquitto import Mosquitto, mosquitto_binary  # noqa: E402

from firmware_sim import ScaledClock, Scheduler  # noqa: E402
from firmware_sim.clock import wall_now  # noqa: E402
from firmware_sim.driver import SchedulerDriver  # noqa: E402
from firmware_sim.journal import JOURNAL_FILE, Journal  # noqa: E402
from mqtt_bridge import AppClient, Bridge, BridgeConfig, BrokerConfig  # noqa: E402
from mqtt_bridge.publisher import NO_DELAY  # noqa: E402

RIG = "bench"
#: Mosquitto keeps at most 1000 QoS 1 messages queued per subscriber by default
#: (``max_queued_messages``) and silently drops the rest; a subscriber sharing this process's
#: CPU falls behind a 10 000-event burst, so the benchmark broker queues more.
BROKER_CONF = ("max_queued_messages 100000",)


class Counter:
    """A subscriber in this process that stamps each message's arrival (perf_counter)."""

    def __init__(self, port: int, topic_filter: str) -> None:
        self.port = port
        self.filter = topic_filter
        self.count = 0
        self.last = 0.0
        self.waiters: list[tuple[Callable[[int], bool], asyncio.Future[float]]] = []
        self._task: asyncio.Task[None] | None = None
        self._client = aiomqtt.Client("127.0.0.1", port, protocol=aiomqtt.ProtocolVersion.V5,
                                      socket_options=NO_DELAY, max_queued_incoming_messages=0)

    async def __aenter__(self) -> Counter:
        await self._client.__aenter__()
        await self._client.subscribe(self.filter, qos=1)
        self._task = asyncio.create_task(self._read())
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
        await self._client.__aexit__(None, None, None)

    async def _read(self) -> None:
        async for _ in self._client.messages:
            self.count += 1
            self.last = time.perf_counter()
            for pred, fut in list(self.waiters):
                if not fut.done() and pred(self.count):
                    fut.set_result(self.last)

    async def until(self, n: int, within: float = 60.0) -> float:
        """Arrival time of the ``n``-th message."""
        if self.count >= n:
            return self.last
        fut: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.waiters.append((lambda c: c >= n, fut))
        try:
            return await asyncio.wait_for(fut, within)
        finally:
            self.waiters = [w for w in self.waiters if w[1] is not fut]


def make_rig(port: int, journal: Journal | None = None, **options: Any) -> tuple[SchedulerDriver, Bridge]:
    driver = SchedulerDriver(Scheduler(epoch=wall_now()), clock=ScaledClock(1.0), journal=journal)
    config = BridgeConfig(rig=RIG, rate_per_s=1e9, rate_burst=10**9, reconnect_max_s=0.2, **options)
    return driver, Bridge(driver, broker=BrokerConfig.from_url(f"mqtt://127.0.0.1:{port}"), config=config)


async def throughput(broker: Any, n: int) -> float:
    driver, bridge = make_rig(broker.port)
    async with bridge, Counter(broker.port, f"wakebench/{RIG}/apps/+/events") as sub:
        await bridge.wait_connected(10)
        await driver.request("tp", "register", {"platform": "capacitor"})
        start = time.perf_counter()
        for _ in range(n):
            task = await driver.request("tp", "before_exit")
            await driver.request("tp", "finish", {"task_id": task.data["task_id"]})
        end = await sub.until(n)
    return n / (end - start)


async def baseline(broker: Any, n: int) -> float:
    async with Counter(broker.port, "baseline/#") as sub, \
            aiomqtt.Client("127.0.0.1", broker.port, socket_options=NO_DELAY) as client:
        payload = b"x" * 600  # about the size of an event
        start = time.perf_counter()
        for _ in range(n):
            await client.publish("baseline/e", payload, qos=1)
        end = await sub.until(n)
    return n / (end - start)


async def outbox_drain(broker: Any, n: int, state: Path) -> tuple[float, float]:
    """(events/s wall, events per CPU-second of this process) until the last is acknowledged."""
    broker.stop()
    state.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 - once, before the clock starts
    driver, bridge = make_rig(broker.port, journal=Journal(state / JOURNAL_FILE), state_dir=state)
    async with bridge:
        await driver.request("ob", "register", {"platform": "capacitor"})
        for _ in range(n):
            task = await driver.request("ob", "before_exit")
            await driver.request("ob", "finish", {"task_id": task.data["task_id"]})
        while bridge.outbox_size < n:
            await asyncio.sleep(0.01)  # the publisher task spills to disk
        cpu = time.process_time()
        broker.start()
        start = time.perf_counter()
        while bridge.outbox_size:
            await asyncio.sleep(0.002)
        return n / (time.perf_counter() - start), n / (time.process_time() - cpu)


async def event_latency(broker: Any, samples: int) -> list[float]:
    driver, bridge = make_rig(broker.port)
    out = []
    async with bridge, Counter(broker.port, f"wakebench/{RIG}/apps/lat/events") as sub:
        await bridge.wait_connected(10)
        await driver.request("lat", "register", {"platform": "capacitor"})
        for i in range(samples):
            t0 = time.perf_counter()
            task = await driver.request("lat", "before_exit")
            out.append((await sub.until(i + 1)) - t0)
            await driver.request("lat", "finish", {"task_id": task.data["task_id"]})
    return out


async def round_trips(broker: Any, samples: int) -> list[float]:
    _, bridge = make_rig(broker.port)
    out = []
    async with bridge:
        await bridge.wait_connected(10)
        async with AppClient(f"mqtt://127.0.0.1:{broker.port}", app_id="rt", rig=RIG) as app:
            await app.register("capacitor")
            for _ in range(samples):
                t0 = time.perf_counter()
                await app.request("status")
                out.append(time.perf_counter() - t0)
    return out


def ms(values: list[float], q: float) -> str:
    ordered = sorted(values)
    return f"{ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000:.2f} ms"


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--samples", type=int, default=1000)
    args = parser.parse_args()
    logging.getLogger("mqtt_bridge").setLevel(logging.ERROR)  # the outbox phase refuses connections
    if mosquitto_binary() is None:
        print("bench_mqtt: needs mosquitto", file=sys.stderr)
        return 2
    rows: list[tuple[str, str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        with Mosquitto(Path(tmp) / "broker", tls=False, extra_conf=BROKER_CONF) as broker:
            rows.append(("events/s: scheduler → bridge → mosquitto → subscriber (QoS 1, window 32)",
                         str(args.events), f"{await throughput(broker, args.events):,.0f} /s"))
            rows.append(("events/s: plain aiomqtt, QoS 1, each publish awaited (baseline)",
                         str(args.events), f"{await baseline(broker, args.events):,.0f} /s"))
            wall, per_cpu = await outbox_drain(broker, args.events, Path(tmp) / "state")
            rows.append(("events/s: journal drain after the broker comes back (SQLite WAL on disk)",
                         str(args.events), f"{wall:,.0f} /s"))
            rows.append(("  the same drain per CPU-second of the rig process (load-independent)",
                         str(args.events), f"{per_cpu:,.0f} /s"))
            lat = await event_latency(broker, args.samples)
            rows.append(("event latency scheduler → subscriber, p50 / p99", str(args.samples),
                         f"{ms(lat, 0.5)} / {ms(lat, 0.99)}"))
            rt = await round_trips(broker, args.samples)
            rows.append(("request round trip AppClient → bridge → response, p50 / p99", str(args.samples),
                         f"{ms(rt, 0.5)} / {ms(rt, 0.99)}"))
        slow = Mosquitto(Path(tmp) / "nagle", tls=False)
        conf = slow.conf_path.read_text().replace("set_tcp_nodelay true\n", "")
        slow.conf_path.write_text(conf)
        with slow:
            rt_slow = await round_trips(slow, 50)
            rows.append(("same round trip, broker without set_tcp_nodelay (default), p50 / p99", "50",
                         f"{ms(rt_slow, 0.5)} / {ms(rt_slow, 0.99)}"))
    width = max(len(r[0]) for r in rows)
    print(f"wakebench MQTT bridge benchmark · Python {sys.version.split()[0]} · {os.cpu_count()} CPU(s) · "
          f"mosquitto on loopback")
    print(f"{'measurement':<{width}}  {'n':>6}  result")
    print(f"{'-' * width}  {'-' * 6}  {'-' * 20}")
    for name, n, result in rows:
        print(f"{name:<{width}}  {n:>6}  {result}")
    print(f"(one run per row; subscribers share this process's CPU; round-trip stdev "
          f"{statistics.pstdev(rt) * 1000:.2f} ms)")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
