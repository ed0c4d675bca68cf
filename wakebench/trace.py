"""``--trace out.json``: timeline records as Chrome Trace Event / Perfetto JSON.

Format: Google's "Trace Event Format" document (JSON object form ``{"traceEvents": [...]}``), as
imported by ui.perfetto.dev and chrome://tracing. Timestamps are rig microseconds.

- pid 1 "rig signals": counter events (``ph: "C"``) for the battery and every signal
  (booleans as 0/1, ``charger`` / ``network`` as 0/1 "attached" / "up", ``stale`` as a count);
- one process per app (``process_name`` = "app (platform)"), in it one thread per task
  (``thread_name``) carrying a complete slice (``ph: "X"``) per run from wake to end, a thread
  "<task> budget" with the wake → deadline extent, a thread "state" with app-state slices, and
  instant events (``ph: "i"``, thread scope ``s: "t"``) for wake / expire / revoke / terminate /
  unscheduled with the reason and the signals snapshot in ``args``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

from wakebench.runs import state_spans, task_runs

__all__ = ["US_PER_S", "to_trace", "write_trace"]

#: Trace Event Format timestamps and durations are in microseconds.
US_PER_S: Final[float] = 1e6
SIGNALS_PID: Final[int] = 1
_BOOL_COUNTERS: Final[tuple[str, ...]] = ("charging", "screen_locked", "idle", "on_call", "low_power_mode",
                                          "battery_saver", "metered")


def _us(t: float) -> float:
    return round(float(t) * US_PER_S, 3)


def _meta(name: str, pid: int, tid: int, value: str) -> dict[str, Any]:
    return {"ph": "M", "name": name, "pid": pid, "tid": tid, "args": {"name": value}}


def to_trace(records: Sequence[dict[str, Any]], until: float | None = None) -> dict[str, Any]:
    """The trace object of ``records``; ``until`` (rig s) closes open runs (default: last record)."""
    end = until if until is not None else max((float(r["t"]) for r in records), default=0.0)
    out: list[dict[str, Any]] = [_meta("process_name", SIGNALS_PID, 0, "rig signals"),
                                 _meta("thread_name", SIGNALS_PID, 0, "signals")]
    pids: dict[str, int] = {}
    tids: dict[tuple[str, str], int] = {}
    platforms: dict[str, str] = {}

    def pid_of(app: str) -> int:
        if app not in pids:
            pids[app] = SIGNALS_PID + 1 + len(pids)
        return pids[app]

    def tid_of(app: str, thread: str) -> int:
        key = (app, thread)
        if key not in tids:
            tids[key] = 1 + sum(1 for k in tids if k[0] == app)
            out.append(_meta("thread_name", pid_of(app), tids[key], thread))
        return tids[key]

    for rec in records:
        kind, t = rec["kind"], _us(rec["t"])
        if kind == "signals":
            out.append({"ph": "C", "name": "battery_level", "pid": SIGNALS_PID, "tid": 0, "ts": t,
                        "args": {"battery_level": rec.get("battery_level")}})
            flags = {n: int(bool(rec.get(n))) for n in _BOOL_COUNTERS}
            flags["charger_attached"] = int(rec.get("charger", "none") != "none")
            flags["network_up"] = int(rec.get("network", "none") != "none")
            flags["stale"] = len(rec.get("stale") or ())
            out.extend({"ph": "C", "name": n, "pid": SIGNALS_PID, "tid": 0, "ts": t, "args": {n: v}}
                       for n, v in flags.items())
        elif kind == "event":
            app = str(rec["app"])
            platforms.setdefault(app, str(rec.get("platform") or ""))
            thread = str(rec["task_id"]) if rec.get("task_id") is not None else "app"
            out.append({"ph": "i", "s": "t", "name": rec["type"], "cat": "event", "pid": pid_of(app),
                        "tid": tid_of(app, thread), "ts": t,
                        "args": {"reason": rec.get("reason"), "seq": rec.get("seq"),
                                 "deadline": rec.get("deadline"), "signals": rec.get("signals")}})
        elif kind == "app_state" and rec.get("platform"):
            platforms[str(rec["app"])] = str(rec["platform"])
    for run in task_runs(records, end):
        pid, tid = pid_of(run.app), tid_of(run.app, run.task)
        out.append({"ph": "X", "name": run.task, "cat": "task", "pid": pid, "tid": tid, "ts": _us(run.start),
                    "dur": _us(run.end - run.start), "args": {"ended": run.how, "deadline": run.deadline}})
        if run.deadline is not None:
            out.append({"ph": "X", "name": f"{run.task} budget", "cat": "budget", "pid": pid,
                        "tid": tid_of(run.app, f"{run.task} budget"), "ts": _us(run.start),
                        "dur": _us(max(0.0, float(run.deadline) - run.start)), "args": {"deadline": run.deadline}})
    for span in state_spans(records, end):
        out.append({"ph": "X", "name": span.state, "cat": "app_state", "pid": pid_of(span.app),
                    "tid": tid_of(span.app, "state"), "ts": _us(span.start), "dur": _us(span.end - span.start)})
    for app, pid in pids.items():
        label = f"{app} ({platforms[app]})" if platforms.get(app) else app
        out.append(_meta("process_name", pid, 0, label))
    return {"traceEvents": out, "displayTimeUnit": "ms",
            "otherData": {"source": "wakebench", "clock": "rig seconds × 1e6"}}


def write_trace(records: Sequence[dict[str, Any]], path: str | Path, until: float | None = None) -> None:
    """Write :func:`to_trace` to ``path``.

    Raises:
        OSError: the file cannot be written.
    """
    Path(path).write_text(json.dumps(to_trace(records, until), separators=(",", ":"), default=str),
                          encoding="utf-8")
