"""Where the virtual-time benchmark's time goes (issue 15): bench_scheduler's run under cProfile.

Prints three tables for ``fourteen_days`` (default 2 simulated days, 100 apps):

1. the run split by entry point: the benchmark's own loop, the per-minute ``Signals.updated``,
   the signal fan-out, timers fired (during requests and between them), request dispatch;
2. timer callbacks by platform (what fires: the policies' ``TimerMap`` callbacks and their own
   ``call_at`` callbacks);
3. the functions with the most time of their own.

cProfile adds a fixed cost to every Python call, so code made of many small calls looks heavier
than it is: read the shares as a map, and measure a change with ``bench_scheduler.py`` (CPU time,
best of N) or an instruction count (``valgrind --tool=callgrind``), never with this.

Always the pure-Python modules (it sets ``WAKEBENCH_PURE_PYTHON``): cProfile cannot look inside
the compiled ones.

Run: ``.venv/bin/python bench/profile_scheduler.py [--days N] [--top N]``
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
from collections import Counter
from pathlib import Path
from typing import Any

# cProfile sees no function inside compiled modules: profile the pure-Python ones
os.environ["WAKEBENCH_PURE_PYTHON"] = "1"

import bench_scheduler  # after the variable: firmware_sim decides its build at import

Func = tuple[str, int, str]


def _find(stats: dict[Func, Any], name: str, path_part: str) -> Func | None:
    for func in stats:
        if func[2] == name and path_part in func[0]:
            return func
    return None


def _cum_from(stats: dict[Func, Any], func: Func | None, caller: Func | None) -> float:
    """Cumulative time of ``func`` when called from ``caller`` (all callers if None)."""
    if func is None:
        return 0.0
    if caller is None:
        return float(stats[func][3])
    entry = stats[func][4].get(caller)
    return 0.0 if entry is None else float(entry[3])


def _module(path: str) -> str:
    return Path(path).stem if "platforms" in path else Path(path).parent.name + "/" + Path(path).stem


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=2, help="simulated days (default 2)")
    parser.add_argument("--top", type=int, default=15, help="rows of the own-time table")
    opts = parser.parse_args(argv)

    profiler = cProfile.Profile()
    profiler.enable()
    bench_scheduler.fourteen_days(days=opts.days)
    profiler.disable()
    stats: dict[Func, Any] = pstats.Stats(profiler).stats  # type: ignore[attr-defined]

    run = _find(stats, "fourteen_days", "bench_scheduler")
    total = _cum_from(stats, run, None)
    sched = "firmware_sim/scheduler.py"
    handle, set_signals = _find(stats, "handle", sched), _find(stats, "set_signals", sched)
    advance, run_timers = _find(stats, "advance", sched), _find(stats, "_run_timers", sched)
    apply_signals = _find(stats, "_apply_signals", sched)
    updated = _find(stats, "updated", "firmware_sim/signals.py")
    timers = sum(_cum_from(stats, run_timers, caller) for caller in (handle, set_signals, advance))
    fan_out = _cum_from(stats, apply_signals, set_signals)
    requests = _cum_from(stats, handle, None) - _cum_from(stats, run_timers, handle)
    rest = _cum_from(stats, set_signals, None) - fan_out - _cum_from(stats, run_timers, set_signals)
    snapshots = _cum_from(stats, updated, None)
    loop = total - timers - fan_out - requests - rest - snapshots - _cum_from(stats, advance, None)
    rows = [("benchmark loop (workload, random draws)", loop),
            ("Signals.updated (one snapshot per simulated minute)", snapshots),
            ("signal fan-out (changed names, policies' on_signals)", fan_out),
            ("timers fired (callbacks and the heap)", timers),
            ("requests: dispatch, arguments, verbs, response", requests),
            ("set_signals bookkeeping", rest)]
    print(f"{opts.days} simulated days under cProfile: {total:.3f} s")
    print()
    print(f"{'share':>6}  part of the run")
    for label, value in rows:
        print(f"{value / total * 100:5.1f}%  {label}")

    fired: Counter[str] = Counter()
    fire = _find(stats, "_fire", "firmware_sim/policy.py")
    for func, entry in stats.items():
        for caller in (fire, run_timers):
            if caller is not None and caller in entry[4] and func != fire and func[0] != "~":
                fired[_module(func[0])] += entry[4][caller][3]
    print()
    print(f"{'share':>6}  timer callbacks by module")
    for module, value in fired.most_common():
        print(f"{value / total * 100:5.1f}%  {module}")

    print()
    print(f"{'share':>6}  own time of a function")
    own = sorted(stats.items(), key=lambda item: -item[1][2])[:opts.top]
    for (path, line, name), entry in own:
        where = name if path == "~" else f"{Path(path).parent.name}/{Path(path).name}:{line} {name}"
        print(f"{entry[2] / total * 100:5.1f}%  {where}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
