"""`wakebench simulate` and `wakebench budgets` as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from wakebench.cli import main

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_every_shipped_scenario_passes(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", str(path)]) == 0, capsys.readouterr().out
    out = capsys.readouterr().out
    assert "expectations:" in out and "✘" not in out


def test_timeline_lists_events_in_order(capsys: pytest.CaptureFixture[str]) -> None:
    main(["simulate", str(ROOT / "scenarios/capacitor-upload-before-exit.yaml")])
    lines = capsys.readouterr().out.splitlines()
    kinds = [ln.split()[1] for ln in lines if ln[:1].isdigit() and ln.split()[1].isupper()]
    assert kinds == ["WAKE", "WAKE", "EXPIRE", "TERMINATE"]


def test_json_output_shape(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", "--json", str(ROOT / "scenarios/capacitor-upload-before-exit.yaml")]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert set(doc) >= {"events", "responses", "expectations"}
    event = doc["events"][0]
    assert set(event) >= {
        "type",
        "app",
        "platform",
        "task_id",
        "reason",
        "t",
        "ts",
        "deadline",
        "seq",
        "signals",
    }
    assert event["ts"] == "2026-01-01T00:00:10Z"
    assert {"t", "app", "verb", "status", "code", "data"} <= set(doc["responses"][0])
    assert all({"expect", "met", "detail"} <= set(x) for x in doc["expectations"])


def test_unmet_expectation_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "unmet.yaml"
    f.write_text(
        "apps:\n  - {id: a, platform: capacitor}\nsteps:\n  - {at: 0s, app: a, request: before_exit}\n"
        "expect:\n  - {at: 1m, app: a, event: expire}\nuntil: 10m\n"
    )
    assert main(["simulate", str(f)]) == 1
    out = capsys.readouterr().out
    assert "✘ line 6" in out and "nearest: expire" in out and "180s" in out


def test_invalid_file_exits_2_with_one_clear_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "bad.yaml"
    f.write_text("apps:\n  - {id: a, platform: capacitor}\nsteps:\n  - {at: soon, app: a, request: finish}\n")
    assert main(["simulate", str(f)]) == 2
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    assert f"{f}:4: field 'steps[0].at':" in captured.err
    assert main(["simulate", str(tmp_path / "missing.yaml")]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_plot_writes_a_png(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    png = tmp_path / "t.png"
    assert (
        main(["simulate", str(ROOT / "scenarios/capacitor-upload-before-exit.yaml"), "--plot", str(png)]) == 0
    )
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert png.stat().st_size > 20_000


def test_budgets_json_lists_sourced_limits(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["budgets", "--json"]) == 0
    limits = json.loads(capsys.readouterr().out)
    assert {x["platform"] for x in limits} == {"capacitor", "ios", "uwp", "wp8", "harmonyos", "android"}
    for x in limits:
        assert x["source"], f"{x['platform']}.{x['name']} has no source"
        assert x["unit"] is not None
    cap = {x["name"]: x for x in limits if x["platform"] == "capacitor"}
    assert cap["before_exit_s"]["value"] == 180.0 and "seed 000" in cap["before_exit_s"]["source"]


def test_budgets_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["budgets", "--platform", "capacitor"]) == 0
    out = capsys.readouterr().out
    assert "before_exit_s" in out and "180" in out
