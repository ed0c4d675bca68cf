"""The journal's own cost per batch in the charger-edge path (issue #8), without the event loop,
the broker or another process: on a shared machine these are the numbers that hold still.

N WP8 apps with a resource-intensive agent each; the charger is toggled, so every batch revokes
or starts the one agent WP8 runs at a time, while every WP8 app's task is part of the policy
state the batch may have changed (``dump_changed`` serialises each policy watching the charger). Per batch, as the driver does: encode the events, ``dump_changed``,
``Journal.commit`` (rows + pending events, one transaction), then the acknowledgement
(``remove_through``, as on PUBACK). Prints median and p99 in µs for each part, for each
``synchronous`` level, and the bytes written per batch (``wchar`` of ``/proc/self/io``).

Run: ``.venv/bin/python bench/bench_journal.py [--batches 2000] [--apps 1 100]``
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from firmware_sim import Scheduler, Signals
from firmware_sim.journal import JOURNAL_FILE, Journal, PendingItem, Synchronous, encode_event


def _wchar() -> int:
    io = dict(line.split(": ") for line in Path("/proc/self/io").read_text().splitlines())
    return int(io["wchar"])


def run(n_apps: int, batches: int, sync: Synchronous) -> dict[str, list[float]]:
    tmp = Path(tempfile.mkdtemp(prefix="bench-journal-"))
    try:
        journal = Journal(tmp / JOURNAL_FILE, synchronous=sync)
        sched = Scheduler(signals=Signals(battery_level=95.0, charger="ac", screen_locked=True))
        for n in range(n_apps):
            sched.handle(0.0, f"app{n}", "register", {"platform": "wp8"})
            sched.handle(0.0, f"app{n}", "add", {"name": "sync", "type": "resource_intensive"})
        journal.commit(sched.dump(), [])
        sched.mark_saved()
        parts: dict[str, list[float]] = {"encode events": [], "dump_changed": [], "commit": [], "acknowledge": [],
                                         "bytes written": []}
        now = 1.0
        for n in range(batches):
            now += 1.0
            events = sched.set_signals(now, sched.signals.updated({"charger": "none" if n % 2 == 0 else "ac"}, t=now))
            w0, t0 = _wchar(), time.perf_counter()
            items = [PendingItem(None, encode_event(e, None), 1, e.app, e.seq) for e in events]
            t1 = time.perf_counter()
            state = sched.dump_changed()
            t2 = time.perf_counter()
            ids = journal.commit(state, items, partial=True)
            sched.mark_saved()
            t3 = time.perf_counter()
            if ids:
                journal.remove_through(ids[-1])
            t4 = time.perf_counter()
            for name, span in (("encode events", t1 - t0), ("dump_changed", t2 - t1), ("commit", t3 - t2),
                               ("acknowledge", t4 - t3)):
                parts[name].append(span * 1e6)
            parts["bytes written"].append(float(_wchar() - w0))
        journal.close()
        return parts
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batches", type=int, default=2000)
    parser.add_argument("--apps", type=int, nargs="+", default=[1, 100])
    args = parser.parse_args()
    print(f"wakebench journal cost per charger-edge batch · Python {sys.version.split()[0]} · {os.cpu_count()} CPU(s)")
    print()
    print("| apps | synchronous | encode events µs | dump_changed µs | commit µs | acknowledge µs | bytes written |")
    print("| ---: | --- | ---: | ---: | ---: | ---: | ---: |")
    for n_apps in args.apps:
        for sync in ("normal", "full"):
            parts = run(n_apps, args.batches, sync)
            cells = []
            for name in ("encode events", "dump_changed", "commit", "acknowledge"):
                ordered = sorted(parts[name])
                cells.append(f"{statistics.median(ordered):.0f} / {ordered[int(0.99 * (len(ordered) - 1))]:.0f}")
            cells.append(f"{statistics.mean(parts['bytes written']) / 1024:.1f} KiB")
            print(f"| {n_apps} | {sync} | " + " | ".join(cells) + " |")
    print()
    print("(median / p99 per batch; each batch revokes or starts one agent)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
