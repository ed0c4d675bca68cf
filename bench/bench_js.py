"""JavaScript client benchmark (issue #12). Prints one table.

A rig's own embedded broker (:class:`wakebench.broker.MosquittoBroker`: TCP with
``set_tcp_nodelay`` and a WebSocket listener) and an in-process scheduler + bridge with the
per-app rate limit lifted (as bench_mqtt.py does), then, in the same run:

1. Request round trip ``request('status')`` → bridge → response, p50 / p99, one at a time:
   the Python :class:`AppClient` (in its own process, as the JS client is); the JS client (clients/js, Node) over TCP; over WebSockets;
   and the JS client over TCP with Node's default socket (``noDelay: false``), which is what
   MQTT.js's own TCP stream gives. Target: JS over TCP within 1.5× of Python.
2. Events per second to a JS subscriber: the scheduler serves ``before_exit`` + ``finish``
   pairs as fast as it can; the JS client's ``events()`` iterator (seq de-duplication included)
   counts them; rate from its first arrival to its last.

Run: ``.venv/bin/python bench/bench_js.py [--samples N] [--events N]`` (needs mosquitto, node and
``npm ci`` in clients/js).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from firmware_sim import ScaledClock, Scheduler  # noqa: E402
from firmware_sim.clock import wall_now  # noqa: E402
from firmware_sim.driver import SchedulerDriver  # noqa: E402
from mqtt_bridge import Bridge, BridgeConfig, BrokerConfig  # noqa: E402
from wakebench.broker import MosquittoBroker  # noqa: E402

RIG = "bench"
JS_DIR = ROOT / "clients" / "js"
#: Issue #12's target: the JS client over TCP within 1.5× of the Python AppClient (p50).
TARGET_RATIO = 1.5

#: Runs inside clients/js: argv = url, rig, samples, noDelay ("1"/"0"); prints the latencies (ms).
JS_ROUND_TRIPS = """
import { connect } from './src/index.js';
const [url, rig, samples, noDelay] = process.argv.slice(1);
const c = await connect(url, { appId: 'jsrt' + (url.startsWith('ws') ? 'w' : 't') + noDelay, rig, noDelay: noDelay === '1' });
await c.register('capacitor');
for (let i = 0; i < 20; i++) await c.request('status');   // warm-up
const out = [];
for (let i = 0; i < Number(samples); i++) {
  const t0 = performance.now();
  await c.request('status');
  out.push(performance.now() - t0);
}
await c.close();
console.log(JSON.stringify(out));
"""

#: argv = url, rig, app, n: prints "ready", then the rate once n events arrived.
JS_EVENTS = """
import { connect } from './src/index.js';
const [url, rig, app, n] = process.argv.slice(1);
const c = await connect(url, { appId: app, rig });
console.log('ready');
let first = 0, count = 0;
for await (const e of c.events()) {
  if (count === 0) first = performance.now();
  count += 1;
  if (count === Number(n)) break;
}
const seconds = (performance.now() - first) / 1000;
console.log(JSON.stringify({ count, rate: (count - 1) / seconds, gaps: c.gaps.length }));
await c.close();
"""


def make_rig(port: int) -> tuple[SchedulerDriver, Bridge]:
    driver = SchedulerDriver(Scheduler(epoch=wall_now()), clock=ScaledClock(1.0))
    config = BridgeConfig(rig=RIG, rate_per_s=1e9, rate_burst=10**9, reconnect_max_s=0.2)
    return driver, Bridge(driver, broker=BrokerConfig.from_url(f"mqtt://127.0.0.1:{port}"), config=config)


async def node(script: str, *args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        "node", "--input-type=module", "-e", script, *args, cwd=JS_DIR,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)


async def js_round_trips(url: str, samples: int, *, no_delay: bool = True) -> list[float]:
    proc = await node(JS_ROUND_TRIPS, url, RIG, str(samples), "1" if no_delay else "0")
    out, err = await proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"node failed: {err.decode()}")
    return [v / 1000 for v in json.loads(out)]


#: The Python AppClient in its own process too, so both clients cross the same process boundary
#: to reach the bridge (in one process the client and the bridge would share an event loop).
PY_ROUND_TRIPS = """
import asyncio, json, sys, time
from mqtt_bridge import AppClient
async def main(url, rig, samples):
    out = []
    async with AppClient(url, app_id="pyrt", rig=rig) as app:
        await app.register("capacitor")
        for _ in range(20):
            await app.request("status")
        for _ in range(samples):
            t0 = time.perf_counter()
            await app.request("status")
            out.append(time.perf_counter() - t0)
    print(json.dumps(out))
asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
"""


async def py_round_trips(url: str, samples: int) -> list[float]:
    proc = await asyncio.create_subprocess_exec(sys.executable, "-c", PY_ROUND_TRIPS, url, RIG, str(samples),
                                                cwd=ROOT, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.PIPE)
    out, err = await proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"python client failed: {err.decode()}")
    values: list[float] = json.loads(out)
    return values


async def js_events(driver: SchedulerDriver, url: str, n: int, app: str) -> dict[str, Any]:
    await driver.request(app, "register", {"platform": "capacitor"})
    proc = await node(JS_EVENTS, url, RIG, app, str(n))
    assert proc.stdout is not None
    if (await asyncio.wait_for(proc.stdout.readline(), 30)).strip() != b"ready":
        raise RuntimeError("the JS subscriber did not start")
    start = time.perf_counter()
    for _ in range(n):
        task = await driver.request(app, "before_exit")
        await driver.request(app, "finish", {"task_id": task.data["task_id"]})
    produced = n / (time.perf_counter() - start)
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    if proc.returncode != 0:
        raise RuntimeError(f"node failed: {err.decode()}")
    result: dict[str, Any] = json.loads(out)
    result["produced"] = produced
    return result


def q(values: list[float], quantile: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(quantile * len(ordered)))] * 1000


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--events", type=int, default=5000)
    args = parser.parse_args()
    logging.getLogger("mqtt_bridge").setLevel(logging.ERROR)
    if not MosquittoBroker.available() or shutil.which("node") is None or not (JS_DIR / "node_modules").is_dir():
        print("bench_js: needs mosquitto, node and `npm ci` in clients/js", file=sys.stderr)
        return 2
    version = await asyncio.create_subprocess_exec("node", "--version", stdout=asyncio.subprocess.PIPE)
    node_version = (await version.communicate())[0].decode().strip()
    rows: list[tuple[str, int, str]] = []
    async with MosquittoBroker() as broker:
        assert broker.ws_url is not None
        driver, bridge = make_rig(broker.port)
        async with bridge:
            await bridge.wait_connected(10)
            runner = asyncio.create_task(driver.run())
            try:
                py = await py_round_trips(broker.url, args.samples)
                tcp = await js_round_trips(broker.url, args.samples)
                ws = await js_round_trips(broker.ws_url, args.samples)
                slow_n = min(50, args.samples)
                nagle = await js_round_trips(broker.url, slow_n, no_delay=False)
                events = await js_events(driver, broker.url, args.events, "evtcp")
                events_ws = await js_events(driver, broker.ws_url, args.events, "evws")
            finally:
                runner.cancel()
    for name, values in (("request round trip, Python AppClient (TCP, TCP_NODELAY)", py),
                         ("request round trip, JS client, Node, TCP (noDelay)", tcp),
                         ("request round trip, JS client, Node, WebSockets", ws),
                         ("request round trip, JS client, Node's default socket (Nagle)", nagle)):
        rows.append((name, len(values), f"{q(values, 0.5):.2f} / {q(values, 0.99):.2f} ms"))
    ratio = q(tcp, 0.5) / q(py, 0.5)
    rows.append(("JS TCP ÷ Python, p50 (target ≤ 1.5×)", len(tcp),
                 f"{ratio:.2f}× {'met' if ratio <= TARGET_RATIO else 'NOT met'}"))
    rows.append(("events/s to a JS subscriber, TCP (events() iterator)", events["count"],
                 f"{events['rate']:,.0f} /s, {events['gaps']} gaps (scheduler produced {events['produced']:,.0f} /s)"))
    rows.append(("events/s to a JS subscriber, WebSockets", events_ws["count"],
                 f"{events_ws['rate']:,.0f} /s, {events_ws['gaps']} gaps (produced {events_ws['produced']:,.0f} /s)"))
    width = max(len(r[0]) for r in rows)
    print(f"wakebench JS client benchmark · Node {node_version} · Python {sys.version.split()[0]} · "
          f"{os.cpu_count()} CPU(s) · mosquitto with a WebSocket listener on loopback")
    print(f"{'measurement':<{width}}  {'n':>6}  result (p50 / p99)")
    print(f"{'-' * width}  {'-' * 6}  {'-' * 24}")
    for name, n, result in rows:
        print(f"{name:<{width}}  {n:>6}  {result}")
    print(f"(one run per row; stdev JS TCP {statistics.pstdev(tcp) * 1000:.2f} ms, "
          f"Python {statistics.pstdev(py) * 1000:.2f} ms)")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
