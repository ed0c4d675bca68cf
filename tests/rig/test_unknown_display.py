"""The terminal shows an unknown signal as unknown, never as a number (issue 9: a stale gauge
used to show "100.0 % STALE")."""

from __future__ import annotations

import io
import json

from rich.console import Console

from firmware_sim import Signals
from wakebench.commands.watch import WatchState, render
from wakebench.printer import Printer

BASE = "wakebench/bench"


def test_run_lines_show_a_stale_gauge_and_charger_as_unknown() -> None:
    out = io.StringIO()
    printer = Printer(out, color=False)
    before = Signals(battery_level=100.0, charger="ac", t=0.0)
    printer.signals(None, before)
    after = before.updated({}, t=5.0, stale=["battery_level", "charger"])
    printer.signals(before, after)
    last = out.getvalue().splitlines()[-1]
    assert "battery_level=unknown" in last and "charger=unknown" in last
    assert "100" not in last
    again = after.updated({"battery_level": 99.0, "charger": "ac"}, t=9.0)
    printer.signals(after, again)
    assert "battery_level=99%" in out.getvalue().splitlines()[-1]


def test_watch_shows_unknown_for_a_stale_signal_in_the_table_and_piped() -> None:
    state = WatchState()
    state.feed(f"{BASE}/bridge/state", b'{"state":"online"}', now=0.0, retained=True)
    line = state.feed(f"{BASE}/signals", json.dumps(
        {"battery_level": None, "charger": "ac", "t": 1.0, "stale": ["battery_level"]}).encode(),
        now=1.0)
    assert line is not None and "battery_level=unknown" in line
    console = Console(record=True, width=160, color_system=None)
    console.print(render(state, now=1.0))
    table = console.export_text()
    assert "unknown (stale)" in table
    assert "0 %" not in table and "100" not in table


def test_plot_html_and_trace_draw_an_unknown_level_as_a_gap(tmp_path) -> None:
    # a null battery_level in the records must not crash the renderers nor read as a number
    from pathlib import Path

    from wakebench.cli import main

    scenario = Path(__file__).resolve().parents[2] / "scenarios/wp8-unknown-signals.yaml"
    png, html, trace = tmp_path / "p.png", tmp_path / "t.html", tmp_path / "t.json"
    assert main(["simulate", str(scenario), "--plot", str(png), "--html", str(html),
                 "--trace", str(trace)]) == 0
    assert png.stat().st_size > 0 and html.stat().st_size > 0
    counters = [e for e in json.loads(trace.read_text())["traceEvents"]
                if e.get("name") == "battery_level" and e.get("ph") == "C"]
    assert any(e["args"]["battery_level"] is None for e in counters)
