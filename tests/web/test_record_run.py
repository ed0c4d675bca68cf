"""``wakebench run --record FILE``: the session as JSONL records as it happens, which
``wakebench timeline`` renders (a real rig process, in-process broker, ``--speed 600``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.rig.helpers import RigProcess, unique_rig
from wakebench.cli import main
from wakebench.records import load_records

pytestmark = pytest.mark.broker

SCENARIO = """\
name: charger pulled while recording
board: sim
initial: {battery_level: 95, charger: ac, network: wifi, screen_locked: true}
apps:
  - {id: mail, platform: wp8}
steps:
  - {at: 0s, app: mail, request: add, args: {name: sync, type: resource_intensive}}
  - {at: 3m, set: {charger: none}}
expect:
  - {at: 3m, app: mail, event: revoke, task: sync, reason: charger_removed}
until: 5m
"""


async def test_record_then_render(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scenario, rec = tmp_path / "s.yaml", tmp_path / "session.jsonl"
    scenario.write_text(SCENARIO, encoding="utf-8")
    proc = await RigProcess("--board", "sim", "--speed", "60", "--rig", unique_rig("rec"),
                            "--embedded-broker", "in-process", "--scenario", str(scenario),
                            "--record", str(rec)).start()
    # the recording is under test, not the live timing (tests/rig covers that): met or not met
    assert await proc.wait(within=60) in (0, 1), proc.output
    records = load_records(rec)
    events = [r for r in records if r["kind"] == "event"]
    assert [(e["type"], e["task_id"]) for e in events][:2] == [("wake", "sync"), ("revoke", "sync")]
    assert events[1]["reason"] == "charger_removed" and events[1]["signals"]["charger"] == "none"
    assert any(r["kind"] == "signals" and r["charger"] == "none" for r in records)
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))  # nothing lost
    capsys.readouterr()
    assert main(["timeline", str(rec), "--trace", str(tmp_path / "t.json")]) == 0
    trace = json.loads((tmp_path / "t.json").read_text())
    assert any(e["ph"] == "i" and e["name"] == "revoke" for e in trace["traceEvents"])
    assert main(["timeline", str(rec)]) == 0
    assert (tmp_path / "session.html").exists()


async def test_an_unwritable_record_file_is_one_line_and_exit_2(tmp_path: Path) -> None:
    proc = await RigProcess("--board", "sim", "--record", str(tmp_path / "nosuch" / "r.jsonl")).start()
    assert await proc.wait(within=30) == 2
    assert "cannot write" in proc.output and "nosuch" in proc.output
