"""``simulate --plot``: signals over time, one bar per task run, wake/expire/revoke markers."""

from __future__ import annotations

from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.lines import Line2D

from firmware_sim.events import Event
from firmware_sim.signals import Signals
from firmware_sim.simulation import ResponseRecord, SimulationResult

_BOOL_TRACKS = ("charging", "screen_locked", "idle", "on_call", "low_power_mode", "battery_saver", "metered")
_MARKERS: dict[str, tuple[str, str]] = {
    "wake": ("^", "tab:green"),
    "expire": ("v", "tab:orange"),
    "revoke": ("X", "tab:red"),
    "terminate": ("s", "black"),
    "unscheduled": ("D", "tab:purple"),
}
_END_TYPES = ("expire", "revoke", "terminate", "unscheduled")
#: Verbs with which an app ends its own task, and the argument naming the task.
_ENDING_VERBS = (
    "finish",
    "end_background_task",
    "set_task_completed",
    "dispose",
    "notify_complete",
    "abort",
    "stop_work",
    "cancel",
    "remove",
)
_ID_KEYS = ("task_id", "taskId", "identifier", "name", "session_id", "work_id", "workId", "id")


def _unit(until: float) -> tuple[float, str]:
    if until > 2 * 86400:
        return 86400.0, "days"
    if until > 3 * 3600:
        return 3600.0, "hours"
    if until > 300:
        return 60.0, "minutes"
    return 1.0, "seconds"


def _steps(history: tuple[Signals, ...], until: float, name: str) -> tuple[list[float], list[Any]]:
    xs, ys = [], []
    for snap in history:
        xs.append(snap.t)
        ys.append(getattr(snap, name))
    xs.append(until)
    ys.append(ys[-1])
    return xs, ys


def _ended_by_app(r: ResponseRecord) -> list[str] | None:
    if r.status != "ok" or r.verb not in (*_ENDING_VERBS, "stop_and_clear_works"):
        return None
    if r.verb == "stop_and_clear_works":
        return []  # all of the app's tasks
    ids = [str(v) for k, v in (r.args or {}).items() if k in _ID_KEYS and v is not None]
    ids += [str(v) for k, v in r.data.items() if k in _ID_KEYS and v is not None]
    return ids or None


def _runs(log: tuple[Any, ...], until: float) -> list[tuple[str, float, float, str]]:
    """(row label, start, end, how it ended) for every wake."""
    open_runs: dict[tuple[str, str | None], float] = {}
    runs: list[tuple[str, float, float, str]] = []
    events = tuple(e for e in log if isinstance(e, Event))
    for e in log:
        if isinstance(e, ResponseRecord):
            ids = _ended_by_app(e)
            if ids is None:
                continue
            for key in [k for k in open_runs if k[0] == e.app and (not ids or k[1] in ids)]:
                runs.append((f"{key[0]}/{key[1]}", open_runs.pop(key), e.t, "finished"))
            continue
        if not isinstance(e, Event):
            continue
        key = (e.app, e.task_id)
        if e.type == "wake":
            if key in open_runs:
                runs.append((f"{e.app}/{e.task_id}", open_runs[key], e.t, "rewake"))
            open_runs[key] = e.t
        elif e.type in _END_TYPES and key in open_runs:
            runs.append((f"{e.app}/{e.task_id}", open_runs.pop(key), e.t, e.type))
    for (app, task), start in open_runs.items():
        deadline = next(
            (e.deadline for e in reversed(events) if e.type == "wake" and e.app == app and e.task_id == task),
            None,
        )
        end = until if deadline is None else min(deadline, until)
        runs.append((f"{app}/{task}", start, end, "running"))
    return runs


def plot_timeline(result: SimulationResult, path: str) -> None:
    """Draw the run to a PNG at ``path``.

    Raises:
        OSError: the file cannot be written.
    """
    sc = result.scenario
    scale, unit = _unit(sc.until)
    runs = _runs(result.log, sc.until)
    rows = sorted({r[0] for r in runs} | {f"{e.app}/{e.task_id}" for e in result.events})
    fig_h = 4.2 + 0.32 * max(len(rows), 2)
    fig, (ax_batt, ax_bool, ax_tasks) = plt.subplots(
        3,
        1,
        sharex=True,
        figsize=(12, fig_h),
        gridspec_kw={"height_ratios": [2.0, 1.6, max(1.2, 0.32 * len(rows))]},
    )
    fig.suptitle(sc.name, fontsize=12)

    xs, level = _steps(result.signal_history, sc.until, "battery_level")
    ax_batt.step([x / scale for x in xs], level, where="post", color="tab:blue", label="battery %")
    ax_batt.set_ylim(-5, 105)
    ax_batt.set_ylabel("battery %")
    ax_batt.grid(alpha=0.3)
    for name, color in (("charger", "tab:green"), ("network", "tab:gray")):
        cxs, vals = _steps(result.signal_history, sc.until, name)
        for i in range(len(vals) - 1):
            if vals[i] != "none":
                ax_batt.axvspan(
                    cxs[i] / scale,
                    cxs[i + 1] / scale,
                    ymin=0.0 if name == "charger" else 0.94,
                    ymax=0.06 if name == "charger" else 1.0,
                    color=color,
                    alpha=0.35,
                    lw=0,
                )
            if i == 0 or vals[i] != vals[i - 1]:
                ax_batt.annotate(
                    f"{name}: {vals[i]}",
                    (cxs[i] / scale, 8 if name == "charger" else 92),
                    fontsize=7,
                    color=color,
                )

    for k, name in enumerate(_BOOL_TRACKS):
        bxs, vals = _steps(result.signal_history, sc.until, name)
        for i in range(len(vals) - 1):
            if vals[i]:
                ax_bool.broken_barh(
                    [(bxs[i] / scale, (bxs[i + 1] - bxs[i]) / scale)], (k - 0.35, 0.7), color="tab:cyan"
                )
    ax_bool.set_yticks(range(len(_BOOL_TRACKS)), _BOOL_TRACKS, fontsize=8)
    ax_bool.set_ylim(-0.6, len(_BOOL_TRACKS) - 0.4)
    ax_bool.grid(axis="x", alpha=0.3)

    y_of = {row: i for i, row in enumerate(rows)}
    colors = {
        "expire": "tab:orange",
        "revoke": "tab:red",
        "terminate": "black",
        "unscheduled": "tab:purple",
        "finished": "tab:green",
        "rewake": "tab:green",
        "running": "tab:blue",
    }
    for row, start, end, how in runs:
        width = max((end - start) / scale, sc.until / scale / 600)
        ax_tasks.broken_barh(
            [(start / scale, width)], (y_of[row] - 0.3, 0.6), color=colors.get(how, "tab:green"), alpha=0.55
        )
    # terminate (small, behind) often falls at the same instant as expire/revoke (big, in front)
    for e in result.events:
        marker, color = _MARKERS[e.type]
        small = e.type == "terminate"
        ax_tasks.plot(
            e.t / scale,
            y_of[f"{e.app}/{e.task_id}"],
            marker=marker,
            color=color,
            markersize=5 if small else 9,
            linestyle="none",
            zorder=2 if small else 3,
        )
    ax_tasks.set_yticks(range(len(rows)), rows, fontsize=8)
    ax_tasks.set_ylim(-0.7, max(len(rows), 1) - 0.3)
    ax_tasks.set_xlabel(f"rig time ({unit})")
    ax_tasks.grid(axis="x", alpha=0.3)
    ax_tasks.set_xlim(0, sc.until / scale)
    legend = [Line2D([], [], marker=m, color=c, linestyle="none", label=t) for t, (m, c) in _MARKERS.items()]
    ax_tasks.legend(handles=legend, loc="upper right", fontsize=7, ncol=len(legend))
    fig.tight_layout()
    try:
        fig.savefig(path, dpi=110)
    finally:
        plt.close(fig)
