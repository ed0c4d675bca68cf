"""Request validation in the router, in-process (issue 15 item 6): CPU µs per request. One table.

Each row sends one kind of request through :meth:`mqtt_bridge.requests.RequestRouter.handle` —
the same path every MQTT request takes after the intake queue (rate limit, size, JSON, envelope,
the verb's arguments, the answer encoded and handed to the publish pipeline) — on a scheduler in
virtual time, with no broker and no network, so the figure is the router's own CPU cost:

- app verbs: ``status`` (no arguments), ``register`` again (``platform``), ``state``;
- rig verbs: ``info``, ``health_check``, ``set_signals`` (two values), ``set_signals`` marking
  a signal unknown, ``inject_fault`` (applied by a stub), ``continue`` (nothing waiting);
- refusals: a bad ``transaction``, a bad signal value, an unknown signal, a bad fault, an
  invalid app argument (``state: asleep``);
- ``signals/set`` (the dashboard command, no answer).

Per row: the best of 7 rounds of ``--n`` requests, CPU time of this process
(``time.process_time``), so other processes on the machine change the figure little.

Run: ``.venv/bin/python bench/bench_router.py [--n N]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from firmware_sim import SIGNAL_NAMES, Scheduler, VirtualClock  # noqa: E402
from firmware_sim.clock import wall_now  # noqa: E402
from firmware_sim.driver import SchedulerDriver  # noqa: E402
from mqtt_bridge import BridgeConfig, Topics  # noqa: E402
from mqtt_bridge.publisher import Outgoing  # noqa: E402
from mqtt_bridge.requests import RequestRouter  # noqa: E402

RIG = "bench"
T = Topics(RIG)
ROUNDS = 7

#: (label, topic, payload, expected answer code or "ok"; None: signals/set, no answer)
CASES: list[tuple[str, str, bytes, str | None]] = [
    ("app status", T.app_request("app", "status"), b'{"transaction": "t-1"}', "ok"),
    ("app register (again)", T.app_request("app", "register"),
     b'{"platform": "capacitor", "transaction": "t-1"}', "ok"),
    ("app state", T.app_request("app", "state"), b'{"state": "background", "transaction": 7}', "ok"),
    ("rig info", T.bridge_request("info"), b'{"transaction": "t-1"}', "ok"),
    ("rig health_check", T.bridge_request("health_check"), b"", "ok"),
    ("rig set_signals", T.bridge_request("set_signals"),
     b'{"charger": "ac", "battery_level": 80, "transaction": "t-1"}', "ok"),
    ("rig set_signals unknown", T.bridge_request("set_signals"), b'{"unknown": ["temperature"]}', "ok"),
    ("rig inject_fault", T.bridge_request("inject_fault"), b'{"gauge": "nack", "for": "2m"}', "ok"),
    ("rig continue", T.bridge_request("continue"), b"{}", "nothing_waiting"),
    ("refused: bad transaction", T.bridge_request("info"), b'{"transaction": 1.5}', "invalid_payload"),
    ("refused: bad signal value", T.bridge_request("set_signals"), b'{"battery_level": 101}', "invalid_signal"),
    ("refused: unknown signal", T.bridge_request("set_signals"), b'{"nuclear": true}', "invalid_signal"),
    ("refused: bad fault", T.bridge_request("inject_fault"), b'{"gauge": "melt"}', "invalid_fault"),
    ("refused: app state asleep", T.app_request("app", "state"), b'{"state": "asleep"}', "invalid_args"),
    ("signals/set", T.signals_set(), b'{"screen_locked": true}', None),
]


def make_router() -> tuple[RequestRouter, list[Outgoing]]:
    driver = SchedulerDriver(Scheduler(epoch=wall_now()), clock=VirtualClock())
    sent: list[Outgoing] = []

    async def set_signals(values: Any) -> None:
        await driver.update_signals(values)

    async def inject(fault: Any) -> dict[str, Any]:
        return {"active": {}}

    router = RequestRouter(driver, T, BridgeConfig(rig=RIG, rate_per_s=1e9, rate_burst=10**9), sent.append,
                           set_signals=set_signals, settable=frozenset(SIGNAL_NAMES),
                           info=lambda: {"rig": RIG}, health=lambda: {"healthy": True},
                           inject_fault=inject)
    return router, sent


async def run(n: int) -> list[tuple[str, float]]:
    router, sent = make_router()
    await router.handle(T.app_request("app", "register"), b'{"platform": "capacitor"}')
    rows = []
    for label, topic, payload, expected in CASES:
        sent.clear()
        await router.handle(topic, payload)
        if expected is not None:  # the benchmark measures what it says: check the answer once
            answer = next(json.loads(m.payload) for m in sent if "/response/" in m.topic)
            got = answer.get("code") or answer["status"]
            if got != expected:
                raise SystemExit(f"{label}: expected {expected}, got {answer}")
        best = float("inf")
        for _ in range(ROUNDS):
            start = time.process_time()
            for _ in range(n):
                await router.handle(topic, payload)
            best = min(best, (time.process_time() - start) / n * 1e6)
            sent.clear()
        rows.append((label, best))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="requests per round (default 2000)")
    n = parser.parse_args().n
    rows = asyncio.run(run(n))
    width = max(len(label) for label, _ in rows)
    print(f"router, CPU µs per request (best of {ROUNDS} rounds of {n})")
    print(f"{'request':<{width}}  {'µs':>8}")
    print("-" * (width + 10))
    for label, us in rows:
        print(f"{label:<{width}}  {us:>8.1f}")


if __name__ == "__main__":
    main()
