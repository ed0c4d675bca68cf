"""``--trace``: Chrome Trace Event / Perfetto JSON ("Trace Event Format", Google doc): metadata
events name a process per app and a thread per task, complete slices ("X") span each run from wake
to end in microseconds, instant events ("i", scope "t") mark expire/revoke/terminate, counters
("C") carry the battery and signals."""

from __future__ import annotations

import json
from pathlib import Path

from firmware_sim.scenario import load_scenario
from firmware_sim.simulation import simulate
from wakebench.cli import main
from wakebench.records import from_simulation
from wakebench.runs import task_runs
from wakebench.trace import US_PER_S, to_trace

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"


def _trace(name: str) -> tuple[dict, list[dict]]:
    result = simulate(load_scenario(SCENARIOS / name))
    records = from_simulation(result)
    return to_trace(records, until=result.scenario.until), records


def test_every_trace_event_has_the_fields_its_phase_requires() -> None:
    trace, _ = _trace("demo.yaml")
    assert trace["displayTimeUnit"] == "ms"
    for ev in trace["traceEvents"]:
        assert ev["ph"] in ("M", "X", "i", "C"), ev
        assert isinstance(ev["pid"], int) and isinstance(ev["tid"], int)
        if ev["ph"] == "M":
            assert ev["name"] in ("process_name", "thread_name") and ev["args"]["name"]
        else:
            assert isinstance(ev["ts"], float | int) and ev["ts"] >= 0
        if ev["ph"] == "X":
            assert ev["dur"] >= 0
        if ev["ph"] == "i":
            assert ev["s"] == "t"
        if ev["ph"] == "C":
            assert all(isinstance(v, int | float) for v in ev["args"].values())


def test_a_process_per_app_and_a_thread_per_task() -> None:
    trace, records = _trace("demo.yaml")
    events = trace["traceEvents"]
    processes = {e["pid"]: e["args"]["name"] for e in events if e["name"] == "process_name"}
    apps = {r["app"] for r in records if r["kind"] == "event"}
    assert processes[1] == "rig signals"
    assert {name.split(" ")[0] for pid, name in processes.items() if pid != 1} == apps
    assert "mail (wp8)" in processes.values()
    threads = {(e["pid"], e["args"]["name"]) for e in events if e["name"] == "thread_name"}
    mail = next(pid for pid, name in processes.items() if name == "mail (wp8)")
    assert (mail, "sync") in threads


def test_one_slice_per_run_from_wake_to_end_in_microseconds() -> None:
    trace, records = _trace("wp8-resource-intensive.yaml")
    slices = [e for e in trace["traceEvents"] if e["ph"] == "X" and e["cat"] == "task"]
    runs = task_runs(records, 3600.0)
    assert len(slices) == len(runs) >= 1
    revoked = next(s for s in slices if s["args"]["ended"] == "revoke")
    wake = next(r for r in records if r["kind"] == "event" and r["type"] == "wake")
    revoke = next(r for r in records if r["kind"] == "event" and r["type"] == "revoke")
    assert revoked["ts"] == wake["t"] * US_PER_S
    assert revoked["dur"] == (revoke["t"] - wake["t"]) * US_PER_S == 300 * US_PER_S  # charger pulled at 5m


def test_instants_for_expire_revoke_terminate_with_reason_and_signals() -> None:
    trace, records = _trace("wp8-resource-intensive.yaml")
    instants = [e for e in trace["traceEvents"] if e["ph"] == "i"]
    assert len(instants) == sum(1 for r in records if r["kind"] == "event")
    revoke = next(e for e in instants if e["name"] == "revoke")
    assert revoke["args"]["reason"] == "charger_removed"
    assert revoke["args"]["signals"]["charger"] == "none"


def test_counters_follow_battery_and_charger() -> None:
    trace, records = _trace("wp8-resource-intensive.yaml")
    counters = [e for e in trace["traceEvents"] if e["ph"] == "C"]
    battery = [e for e in counters if e["name"] == "battery_level"]
    assert len(battery) == sum(1 for r in records if r["kind"] == "signals")
    charger = [(e["ts"], e["args"]["charger_attached"]) for e in counters if e["name"] == "charger_attached"]
    # the sim battery model adds a signals record per whole-percent step: keep the value changes
    edges = [c for i, c in enumerate(charger) if i == 0 or c[1] != charger[i - 1][1]]
    assert edges == [(0, 1), (300 * US_PER_S, 0)]


def test_simulate_writes_trace_and_html(tmp_path: Path, capsys) -> None:
    out, page = tmp_path / "t.json", tmp_path / "t.html"
    code = main(["simulate", str(SCENARIOS / "wp8-resource-intensive.yaml"), "--trace", str(out),
                 "--html", str(page)])
    assert code == 0
    assert json.loads(out.read_text())["traceEvents"]
    text = page.read_text()
    assert "<script src" not in text and "http" not in text.split("<script id=\"wb-data\"")[0]
    assert f"trace written to {out}" in capsys.readouterr().out


def test_simulate_reports_an_unwritable_trace_in_one_line(tmp_path: Path, capsys) -> None:
    code = main(["simulate", str(SCENARIOS / "wp8-resource-intensive.yaml"), "--trace",
                 str(tmp_path / "nosuch" / "t.json")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "cannot write" in err and "nosuch" in err
