"""``simulate --plot``: a static PNG of a run, drawn from the same records as ``--html``.

Top to bottom: the battery curve; one lane per signal (charger and network labelled with their
value, ``charging`` derived from the charger when the snapshot does not say so, stale spans
grey); one app-state lane per app; one lane per task with each run as a bar from wake to end
(coloured by how it ended) over its budget extent (wake → deadline, light outline), and the
event markers, each kind in its own slot of the lane so that a terminate at the instant of a
revoke stays visible. Bars keep a minimum width (:data:`MIN_BAR_FRACTION` of the axis) so a
day of 25-second WP8 runs reads as bars, not ticks. Legends sit below the axes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Final

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from firmware_sim.simulation import SimulationResult
from wakebench.records import from_simulation
from wakebench.runs import state_spans, task_runs

#: Signal lanes under the battery curve, in this order.
SIGNAL_LANES: Final = ("charger", "charging", "network", "screen_locked", "idle", "on_call", "low_power_mode",
                       "battery_saver", "metered")
#: Shortest bar, as a fraction of the time axis (1/300: a 25 s run in a 24 h plot is ~4 px wide at 1320 px).
MIN_BAR_FRACTION: Final = 1 / 300
#: Run bar colour by how the run ended (wakebench/web/timeline.js uses the same).
RUN_COLORS: Final = {"finished": "#2ca02c", "rewake": "#98df8a", "running": "#1f77b4", "expire": "#ff7f0e",
                     "revoke": "#d62728", "terminate": "#444444", "unscheduled": "#9467bd"}
#: Marker (shape, colour, vertical slot in the lane; lanes run from -0.5 to 0.5, the run bar
#: from -0.2 to 0.04): wake above the bar, expire/revoke below it, terminate/unscheduled lowest —
#: none can hide another, nor the bar.
MARKERS: Final = {"wake": ("^", "#2ca02c", -0.36), "expire": ("v", "#ff7f0e", 0.17), "revoke": ("X", "#d62728", 0.17),
                  "terminate": ("s", "#111111", 0.38), "unscheduled": ("D", "#9467bd", 0.38)}
_BAR: Final = (-0.2, 0.24)  # (bottom, height) of a run bar in its lane
STATE_COLORS: Final = {"foreground": "#4c9be8", "background": "#a6c8ef", "suspended": "#d9d9d9",
                       "terminated": "#555555"}
_LANE_COLORS: Final = {"charger": "#2ca02c", "network": "#17becf"}


def _unit(until: float) -> tuple[float, str]:
    if until > 2 * 86400:
        return 86400.0, "days"
    if until > 3 * 3600:
        return 3600.0, "hours"
    if until > 300:
        return 60.0, "minutes"
    return 1.0, "seconds"


def _lane_value(rec: dict[str, Any], name: str) -> Any:
    if name in (rec.get("stale") or ()):
        return "?"
    value = rec.get(name)
    if name == "charging" and not value and rec.get("charger", "none") != "none" \
            and float(rec.get("battery_level") or 0) < 100:
        return True  # derived from the charger when the snapshot does not say so
    return value


def _spans(signals: Sequence[dict[str, Any]], name: str, until: float) -> list[tuple[float, float, Any]]:
    """(start, end, value) of each stretch of one signal's value."""
    out: list[tuple[float, float, Any]] = []
    for rec in signals:
        value, t = _lane_value(rec, name), float(rec["t"])
        if out and out[-1][2] == value:
            continue
        if out:
            out[-1] = (out[-1][0], t, out[-1][2])
        out.append((t, until, value))
    return out


def plot_timeline(result: SimulationResult, path: str) -> None:
    """Draw the run to a PNG at ``path``.

    Raises:
        OSError: the file cannot be written.
    """
    sc = result.scenario
    until = sc.until
    scale, unit = _unit(until)
    records = from_simulation(result)
    signals = [r for r in records if r["kind"] == "signals"]
    runs = task_runs(records, until)
    spans = state_spans(records, until)
    apps = sorted({a.id for a in sc.apps} | {r.app for r in runs})
    tasks = sorted({(r.app, r.task) for r in runs} | {(e.app, e.task_id) for e in result.events if e.task_id})
    heights = [2.0, 0.26 * len(SIGNAL_LANES), 0.26 * max(len(apps), 1), 0.55 * max(len(tasks), 1)]
    fig, (ax_batt, ax_sig, ax_state, ax_tasks) = plt.subplots(
        4, 1, sharex=True, figsize=(12, 1.6 + sum(heights)), gridspec_kw={"height_ratios": heights})
    fig.suptitle(sc.name, fontsize=12)
    min_w = until / scale * MIN_BAR_FRACTION

    def x(t: float) -> float:
        return t / scale

    # battery
    xs = [x(float(r["t"])) for r in signals] + [x(until)]
    # an unknown level (null) leaves a gap in the curve, never a number
    levels = [math.nan if r.get("battery_level") is None else float(r["battery_level"]) for r in signals]
    ax_batt.step(xs, [*levels, levels[-1]], where="post", color="#1f77b4")
    for start, end, value in _spans(signals, "battery_level", until):
        if value == "?":
            ax_batt.axvspan(x(start), x(end), color="grey", alpha=0.25, lw=0)
    ax_batt.set_ylim(-5, 105)
    ax_batt.set_ylabel("battery %")
    ax_batt.grid(alpha=0.3)

    # signal lanes
    for k, name in enumerate(SIGNAL_LANES):
        for start, end, value in _spans(signals, name, until):
            if value in (False, None, "none"):
                continue
            color = "grey" if value == "?" else _LANE_COLORS.get(name, "#6baed6")
            ax_sig.broken_barh([(x(start), max(x(end) - x(start), min_w))], (k - 0.38, 0.76), color=color,
                               alpha=0.5 if value == "?" else 0.85, lw=0)
            if isinstance(value, str) and (end - start) / until > 0.06:  # a label only where it fits
                ax_sig.text(x(start) + min_w, k, "unknown" if value == "?" else value, va="center", fontsize=7,
                            color="white" if value != "?" else "black", clip_on=True)
    ax_sig.set_yticks(range(len(SIGNAL_LANES)), SIGNAL_LANES, fontsize=8)
    ax_sig.set_ylim(len(SIGNAL_LANES) - 0.5, -0.5)
    ax_sig.grid(axis="x", alpha=0.3)

    # app state lanes
    y_app = {app: i for i, app in enumerate(apps)}
    for span in spans:
        ax_state.broken_barh([(x(span.start), max(x(span.end) - x(span.start), min_w))], (y_app[span.app] - 0.38, 0.76),
                             color=STATE_COLORS.get(span.state, "#cccccc"), lw=0)
    ax_state.set_yticks(range(len(apps)), [f"{a} state" for a in apps], fontsize=8)
    ax_state.set_ylim(max(len(apps), 1) - 0.5, -0.5)
    ax_state.grid(axis="x", alpha=0.3)

    # task lanes: budget extent, run bars, markers in their slots
    y_task = {key: i for i, key in enumerate(tasks)}
    for run in runs:
        y = y_task[(run.app, run.task)]
        if run.deadline is not None and run.deadline > run.start:
            end = min(float(run.deadline), until)
            ax_tasks.broken_barh([(x(run.start), max(x(end) - x(run.start), min_w))], (y - 0.42, 0.84),
                                 facecolor="#1f77b4", alpha=0.12, edgecolor="#1f77b4", lw=0.6)
        ax_tasks.broken_barh([(x(run.start), max(x(run.end) - x(run.start), min_w))], (y + _BAR[0], _BAR[1]),
                             color=RUN_COLORS.get(run.how, "#2ca02c"), zorder=2)
    for e in result.events:
        if e.task_id is None:
            continue
        marker, color, dy = MARKERS[e.type]
        ax_tasks.plot(x(e.t), y_task[(e.app, e.task_id)] + dy, marker=marker, color=color, markersize=4.5,
                      linestyle="none", zorder=3, clip_on=False)
    ax_tasks.set_yticks(range(len(tasks)), [f"{a}/{t}" for a, t in tasks], fontsize=8)
    ax_tasks.set_ylim(max(len(tasks), 1) - 0.5, -0.6)
    ax_tasks.set_xlabel(f"rig time ({unit})")
    ax_tasks.grid(axis="x", alpha=0.3)
    ax_tasks.set_xlim(0, x(until))

    handles: list[Any] = [Patch(color=c, label=f"run: {how}") for how, c in RUN_COLORS.items()]
    handles.append(Patch(facecolor="#1f77b4", alpha=0.3, edgecolor="#1f77b4", label="budget (wake → deadline)"))
    handles += [Line2D([], [], marker=m, color=c, linestyle="none", label=t) for t, (m, c, _) in MARKERS.items()]
    handles += [Patch(color=c, label=f"app: {s}") for s, c in STATE_COLORS.items()]
    handles.append(Patch(color="grey", alpha=0.5, label="unknown / stale"))
    fig.legend(handles=handles, loc="lower center", ncol=6, fontsize=7, frameon=False)
    legend_rows = -(-len(handles) // 6)
    fig.tight_layout(rect=(0, (0.2 + 0.16 * legend_rows) / fig.get_figheight(), 1, 1))
    try:
        fig.savefig(path, dpi=110)
    finally:
        plt.close(fig)
