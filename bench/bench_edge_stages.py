"""Where the time of charger edge → ``revoke`` goes (issue #8): bench_rig's edge benchmark with a
wall-clock stamp (``time.time_ns``, the clock ``mosquitto_sub`` stamps with) at each stage of the
path, so the journal's share is visible next to the rest on a machine too loaded for absolute
numbers to mean much. Prints, per durability setting, the median and p99 of every stage.

Stages (the first time each is reached after the edge): the sim's pin is driven low → the pin
edge reaches the event loop (``InputWatcher._on_edge``, after ``call_soon_threadsafe``) → the
source hands the update over (``BoardSource._deliver``) → the driver gets it → the scheduler
reacts → the changed state is serialised (``dump_changed``) → the journal transaction
(``Journal.commit``; no fsync at ``normal``, one at ``full``) → the bridge turns the events into
messages → the publisher writes the flight holding the ``revoke`` (``Publisher._launch``: from
``put()`` itself when nothing waits before it, else from the drain task) → ``mosquitto_sub`` in
its own process prints it; the last span includes the broker and the subscriber. The stamps
wrap methods, which costs a few microseconds per stage.

Run: ``.venv/bin/python bench/bench_edge_stages.py [--edges 300] [--sync none normal full]``
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import inspect
import itertools
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import bench_rig

from boards.sim import SimBoard
from boards.source import BoardSource
from firmware_sim.driver import SchedulerDriver
from firmware_sim.journal import Journal
from firmware_sim.scheduler import Scheduler
from hal.gpio import InputWatcher
from mqtt_bridge.bridge import Bridge
from mqtt_bridge.publisher import Publisher
from wakebench.broker import MosquittoBroker

#: (label, class, method) in path order; the stamp is taken when the method is entered
STAGES: list[tuple[str, type, str]] = [
    ("pin edge reaches the event loop", InputWatcher, "_on_edge"),
    ("source hands the update over", BoardSource, "_deliver"),
    ("source update reaches the driver", SchedulerDriver, "update_signals"),
    ("scheduler reacts (set_signals)", Scheduler, "set_signals"),
    ("events encoded; dump_changed", Scheduler, "dump_changed"),
    ("state serialised; journal commit", Journal, "commit"),
    ("journal committed; bridge makes messages", Bridge, "_on_events"),
    ("publisher writes the revoke (a flight)", Publisher, "_launch"),
]

_stamps: dict[str, int] = {}


def _stamp(label: str, method: Callable[..., Any]) -> Callable[..., Any]:
    if inspect.iscoroutinefunction(method):
        @functools.wraps(method)
        async def wrapped_async(*args: Any, **kwargs: Any) -> Any:
            _stamps.setdefault(label, time.time_ns())
            return await method(*args, **kwargs)
        return wrapped_async

    @functools.wraps(method)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        _stamps.setdefault(label, time.time_ns())
        return method(*args, **kwargs)
    return wrapped


async def run(edges: int, sync: str | None) -> list[tuple[dict[str, int], int]]:
    samples: list[tuple[dict[str, int], int]] = []
    unplug, next_revoke = SimBoard.unplug, bench_rig.Subscriber.next_revoke

    def stamped_unplug(self: SimBoard) -> None:
        _stamps.clear()
        _stamps["edge"] = time.time_ns()
        unplug(self)

    async def stamped_next_revoke(self: bench_rig.Subscriber) -> int:
        t_recv = await next_revoke(self)
        samples.append((dict(_stamps), t_recv))
        return t_recv

    SimBoard.unplug = stamped_unplug  # type: ignore[method-assign]
    bench_rig.Subscriber.next_revoke = stamped_next_revoke  # type: ignore[method-assign]
    tmp = Path(tempfile.mkdtemp(prefix="bench-stages-"))
    try:
        async with MosquittoBroker() as broker:
            await bench_rig.edge_latency(broker, edges, tmp / "state", sync)
    finally:
        SimBoard.unplug = unplug  # type: ignore[method-assign]
        bench_rig.Subscriber.next_revoke = next_revoke  # type: ignore[method-assign]
        shutil.rmtree(tmp, ignore_errors=True)
    return samples


def table(samples: list[tuple[dict[str, int], int]], sync: str | None) -> list[str]:
    """Median and p99 of each span between consecutive stages a sample reached."""
    order = ["edge", *(label for label, _cls, _name in STAGES), "mosquitto_sub prints the revoke"]
    spans: dict[tuple[str, str], list[int]] = {}
    for stamps, t_recv in samples:
        reached = [(label, stamps[label]) for label in order[:-1] if label in stamps] + [(order[-1], t_recv)]
        for (before, t0), (after, t1) in itertools.pairwise(reached):
            spans.setdefault((before, after), []).append(t1 - t0)
    lines = [f"durability: {sync or 'none (no journal)'} · {len(samples)} edges", "",
             "| from → to | p50 µs | p99 µs |", "| --- | ---: | ---: |"]
    for (before, after), values in sorted(spans.items(), key=lambda kv: order.index(kv[0][0])):
        lines.append(f"| {before} → {after} | {statistics.median(values) / 1e3:.0f} | {_p99(values) / 1e3:.0f} |")
    total = [t_recv - stamps["edge"] for stamps, t_recv in samples]
    lines.append(f"| **edge → revoke received** | **{statistics.median(total) / 1e3:.0f}** | "
                 f"**{_p99(total) / 1e3:.0f}** |")
    return lines


def _p99(values: list[int]) -> int:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]


async def main(args: argparse.Namespace) -> int:
    if shutil.which("mosquitto_sub") is None or not MosquittoBroker.available():
        print("bench_edge_stages: needs mosquitto and mosquitto_sub", file=sys.stderr)
        return 2
    for label, cls, name in STAGES:
        setattr(cls, name, _stamp(label, getattr(cls, name)))
    for sync in args.sync:
        samples = await run(args.edges, None if sync == "none" else sync)
        print("\n".join(table(samples, None if sync == "none" else sync)) + "\n")
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--edges", type=int, default=300)
    parser.add_argument("--sync", nargs="+", default=["none", "normal", "full"], choices=["none", "normal", "full"])
    sys.exit(asyncio.run(main(parser.parse_args())))
