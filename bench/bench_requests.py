"""Request intake benchmarks (issue #11). Starts its own Mosquitto on loopback; prints one table.

1. Answered requests per second, one app: N ``status`` requests published back to back (QoS 1,
   100 in flight) with the rate limit lifted, so the number is what the intake →
   router → publisher → broker pipeline answers before anything is shed; from the first
   publish to the last answer received. Codes of the answers are counted (``overloaded`` > 0
   would mean the intake queue shed).
2. The same spread over 100 apps (ids ``app-0`` … ``app-99``, one publishing connection).
3. Answer latency under a burst with the default limits (10/s, burst 20 per app): 3,000
   requests from one app; time from each publish call to its answer (p50 / p99 / max) and
   the codes (20 served, the rest ``rate_limited`` — each answered, none lost).

Every client runs in this process and shares its CPU with the rig: the numbers are a floor.
The broker queues up to 10,000 messages per client, as the rig's embedded mosquitto does
(``wakebench.broker.DEFAULT_MAX_QUEUED_MOSQUITTO``); with Mosquitto's default of 1,000 a burst
larger than what the rig reads in time is dropped by the broker itself.

Run: ``.venv/bin/python bench/bench_requests.py [--requests N]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import aiomqtt

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from _mosquitto import Mosquitto, mosquitto_binary  # noqa: E402

from firmware_sim import ScaledClock, Scheduler  # noqa: E402
from firmware_sim.clock import wall_now  # noqa: E402
from firmware_sim.driver import SchedulerDriver  # noqa: E402
from mqtt_bridge import Bridge, BridgeConfig, BrokerConfig  # noqa: E402
from mqtt_bridge.publisher import NO_DELAY  # noqa: E402
from wakebench.broker import DEFAULT_MAX_QUEUED_MOSQUITTO  # noqa: E402

RIG = "bench"
BURST = 3000
#: Publishes in flight from the benchmark's own client: aiomqtt checks its pending calls in O(n)
#: per publish, so thousands at once would measure the client, not the rig.
WINDOW = 100


async def fire(port: int, bridge: Bridge, targets: list[str], *, within: float = 300) -> tuple[float, Counter[str], list[float]]:
    """Publish one request per app id in ``targets``; wall seconds, answer codes, latencies (s)."""
    topics = bridge.topics
    sent: dict[int, float] = {}
    latencies: list[float] = []
    codes: Counter[str] = Counter()
    done = asyncio.Event()
    n = len(targets)
    async with aiomqtt.Client("127.0.0.1", port, identifier="bench-watch", socket_options=NO_DELAY,
                              max_queued_incoming_messages=0) as watch:
        await watch.subscribe(f"{topics.base}/apps/+/response/#", qos=1)

        async def read() -> None:
            async for m in watch.messages:
                body = json.loads(m.payload if isinstance(m.payload, bytes) else str(m.payload))
                latencies.append(time.perf_counter() - sent[body["transaction"]])
                codes[body.get("code") or body["status"]] += 1
                if len(latencies) == n:
                    done.set()

        reader = asyncio.create_task(read())
        async with aiomqtt.Client("127.0.0.1", port, identifier="bench-apps", max_inflight_messages=1000,
                                  socket_options=NO_DELAY) as client:
            client.pending_calls_threshold = 2 * n
            start = time.perf_counter()

            window = asyncio.Semaphore(WINDOW)

            async def one(i: int, app: str) -> None:
                async with window:
                    sent[i] = time.perf_counter()
                    await client.publish(topics.app_request(app, "status"), json.dumps({"transaction": i}), qos=1)

            await asyncio.gather(*(one(i, app) for i, app in enumerate(targets)))
            await asyncio.wait_for(done.wait(), within)
            elapsed = time.perf_counter() - start
        reader.cancel()
    return elapsed, codes, latencies


async def with_rig(port: int, targets: list[str], **options: Any) -> tuple[float, Counter[str], list[float]]:
    driver = SchedulerDriver(Scheduler(epoch=wall_now()), clock=ScaledClock(1.0))
    bridge = Bridge(driver, broker=BrokerConfig.from_url(f"mqtt://127.0.0.1:{port}"),
                    config=BridgeConfig(rig=RIG, **options))
    await bridge.start()
    run = asyncio.create_task(driver.run())
    try:
        await bridge.wait_connected(10)
        return await fire(port, bridge, targets)
    finally:
        driver.stop()
        await run
        await bridge.stop()


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] * 1000 if q < 100 else max(values) * 1000


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=BURST)
    args = parser.parse_args()
    if mosquitto_binary() is None:
        print("mosquitto is not installed; skipping", file=sys.stderr)
        return 0
    logging.basicConfig(level=logging.ERROR)
    n = args.requests
    lifted = {"rate_per_s": 1e6, "rate_burst": 1_000_000}
    with tempfile.TemporaryDirectory() as tmp:
        os.chmod(tmp, 0o755)  # as root mosquitto drops to its own user: it must read the dir
        broker = Mosquitto(Path(tmp), tls=False, extra_conf=(f"max_queued_messages {DEFAULT_MAX_QUEUED_MOSQUITTO}",))
        broker.start()
        try:
            one_s, one_codes, _ = await with_rig(broker.port, ["flood"] * n, **lifted)
            many_s, many_codes, _ = await with_rig(broker.port, [f"app-{i % 100}" for i in range(n)], **lifted,
                                                   max_apps=256)
            _, burst_codes, lat = await with_rig(broker.port, ["flood"] * BURST)
        finally:
            broker.stop()
    print("| measurement | n | result |")
    print("| --- | --- | --- |")
    print(f"| requests answered/s, one app, limits lifted (QoS 1) | {n:,} | {n / one_s:,.0f} /s "
          f"({dict(one_codes)}) |")
    print(f"| requests answered/s, 100 apps, limits lifted (QoS 1) | {n:,} | {n / many_s:,.0f} /s "
          f"({dict(many_codes)}) |")
    print(f"| answer latency in a {BURST:,}-request burst, default limits, p50 / p99 / max | {len(lat):,} | "
          f"{pct(lat, 50):.0f} / {pct(lat, 99):.0f} / {pct(lat, 100):.0f} ms ({dict(burst_codes)}) |")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
