"""Recordings (``run --record``) and ``wakebench timeline``: JSONL records, bad lines named by
file, line and field, and the outputs of a recording."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from firmware_sim.scenario import load_scenario
from firmware_sim.simulation import simulate
from wakebench.cli import main
from wakebench.records import MAX_LINE_BYTES, RecordError, RecordWriter, from_simulation, load_records
from wakebench.runs import state_spans, task_runs

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"


def _records(name: str) -> list[dict]:
    return from_simulation(simulate(load_scenario(SCENARIOS / name)))


def test_simulation_records_cover_events_signals_responses_and_app_state() -> None:
    result = simulate(load_scenario(SCENARIOS / "demo.yaml"))
    records = from_simulation(result)
    kinds = [r["kind"] for r in records]
    assert kinds.count("event") == len(result.events)
    assert kinds.count("response") == len(result.responses)
    assert kinds.count("signals") == len(result.signal_history)
    states = [r for r in records if r["kind"] == "app_state"]
    assert {r["app"] for r in states} == {a.id for a in result.scenario.apps}
    assert all(r["platform"] for r in states)
    times = [r["t"] for r in records]
    assert times == sorted(times)


def test_runs_end_with_the_event_that_ended_them() -> None:
    runs = task_runs(_records("wp8-resource-intensive.yaml"), 3600.0)
    assert [(r.app, r.task, r.start, r.end, r.how) for r in runs] == [("mail", "sync", 0.0, 300.0, "revoke")]


def test_app_state_spans_cover_the_run() -> None:
    spans = state_spans(_records("ios-news-refresh-low-battery.yaml"), 1e9)
    assert spans and spans[-1].end == 1e9
    assert any(s.state == "background" for s in spans)


def test_writer_and_loader_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "rec.jsonl"
    records = _records("wp8-resource-intensive.yaml")
    writer = RecordWriter(path)
    for r in records:
        writer.write(r)
    writer.close()
    writer.write({"kind": "event", "t": 1})  # ignored after close, never raises
    assert load_records(path) == json.loads(json.dumps(records))


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "rec.jsonl:2: not JSON"),
        ("[1, 2]", "rec.jsonl:2: a record must be a JSON object"),
        ('{"kind": "nope", "t": 1}', "rec.jsonl:2: kind: must be one of event, signals, response, app_state"),
        ('{"kind": "event", "t": "soon"}', "rec.jsonl:2: t: must be a number of rig seconds"),
    ],
)
def test_a_bad_line_is_named_by_file_line_and_field(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "rec.jsonl"
    path.write_text('{"kind": "signals", "t": 0}\n' + line + "\n")
    with pytest.raises(RecordError, match=re.escape(message)):
        load_records(path)


def test_an_overlong_line_is_refused_not_parsed(tmp_path: Path) -> None:
    path = tmp_path / "rec.jsonl"
    path.write_text('{"kind": "signals", "t": 0, "x": "' + "a" * MAX_LINE_BYTES + '"}\n')
    with pytest.raises(RecordError, match=r"rec\.jsonl:1: line longer than"):
        load_records(path)


def test_timeline_command_renders_a_recording(tmp_path: Path, capsys) -> None:
    rec = tmp_path / "rec.jsonl"
    rec.write_text("".join(json.dumps(r) + "\n" for r in _records("demo.yaml")))
    code = main(["timeline", str(rec), "--trace", str(tmp_path / "t.json"), "--html", str(tmp_path / "t.html")])
    assert code == 0
    assert json.loads((tmp_path / "t.json").read_text())["traceEvents"]
    assert "WakebenchTimeline" in (tmp_path / "t.html").read_text()
    assert "timeline written to" in capsys.readouterr().out


def test_timeline_command_names_the_bad_line(tmp_path: Path, capsys) -> None:
    rec = tmp_path / "rec.jsonl"
    rec.write_text('{"kind": "signals", "t": 0}\n{"kind": "event"}\n')
    assert main(["timeline", str(rec)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "rec.jsonl:2: t:" in err
