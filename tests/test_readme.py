"""The README's examples work as written: the scenario, the first-five-minutes walkthrough and the
Python app example (both against a live rig with an embedded mosquitto)."""

from __future__ import annotations

import asyncio
import re
import shlex
import signal
import sys
from pathlib import Path

import pytest

from firmware_sim.scenario import parse_scenario
from firmware_sim.simulation import simulate
from tests.conftest import _require_mosquitto
from tests.rig.helpers import RigProcess

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_scenario_example_runs_and_meets_its_expectations() -> None:
    text = README.read_text(encoding="utf-8")
    block = text.split("## Scenario files", 1)[1].split("```yaml", 1)[1].split("```", 1)[0]
    result = simulate(parse_scenario(block, "README.md"))
    assert result.passed, [r.detail for r in result.expectations if not r.met]
    assert len(result.expectations) >= 3


def test_readme_names_only_files_that_exist() -> None:
    root = README.parent
    text = README.read_text(encoding="utf-8")
    for word in text.replace("`", " ").split():
        if word.startswith(("scenarios/", "deploy/", "bench/")) and "." in word:
            path = word.rstrip(".,:;)")
            assert (root / path).exists(), path


def _block(after: str, lang: str, index: int = 0) -> str:
    """The ``index``-th fenced ``lang`` block after the heading ``after``."""
    text = README.read_text(encoding="utf-8").split(after, 1)[1]
    return text.split(f"```{lang}\n")[index + 1].split("```", 1)[0]


def _cli(line: str) -> str:
    """A README command line with ``.venv/bin/...`` pointing at this interpreter (the same code)."""
    return (line.replace(".venv/bin/python", sys.executable)
            .replace(".venv/bin/wakebench", f"{sys.executable} -m wakebench.cli"))


@pytest.fixture
def private_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The rig's state and rig file in this test's own directories (the rig id is README's `bench`)."""
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "run"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    return tmp_path


async def _shell(command: str) -> str:
    proc = await asyncio.create_subprocess_shell(command, cwd=README.parent, stdout=asyncio.subprocess.PIPE,
                                                 stderr=asyncio.subprocess.STDOUT)
    out, _ = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, f"{command}\n{out.decode()}"
    return out.decode()


@pytest.mark.broker
async def test_first_five_minutes_walkthrough_runs_as_written(private_dirs: Path) -> None:
    _require_mosquitto()
    start = _block("## First five minutes", "sh", 0).strip()
    assert start.startswith(".venv/bin/wakebench run ")
    rig = await RigProcess(*shlex.split(start)[2:]).start()
    try:
        port = (await rig.wait_line(r"embedded broker \(\w[\w-]*\) on 127\.0\.0\.1:(\d+)")).group(1)
        status = ""
        for line in _block("## First five minutes", "sh", 1).strip().splitlines():
            out = await _shell(_cli(line.replace("PORT", port)))
            if line.startswith("mosquitto_pub"):  # answered before the next line goes out
                verb = line.split(" -t ", 1)[1].split()[0].rsplit("/", 1)[1]
                await rig.wait_line(rf"REQUEST\s+mail\s+{verb} .*→ ok")
            if " status " in line:
                status = out
        await rig.wait_line(r"REVOKE\s+mail/sync\s+charger_removed")
        assert "sync" in status and "running" in status
        lines = rig.lines
        wake = next(i for i, s in enumerate(lines) if re.search(r"WAKE\s+mail/sync", s))
        unplug = next(i for i, s in enumerate(lines) if re.search(r"SIGNALS\s+charger=none", s))
        revoke = next(i for i, s in enumerate(lines) if "REVOKE" in s)
        assert wake < unplug < revoke  # the signal change prints before the revoke it caused
        assert await rig.terminate(signal.SIGINT) == 0, rig.output
        assert "Traceback" not in rig.output
    finally:
        await rig.kill()


@pytest.mark.broker
async def test_python_app_example_runs_as_written(private_dirs: Path) -> None:
    _require_mosquitto()
    intro = README.read_text(encoding="utf-8").split("From a Python app prototype", 1)[1].split("```python", 1)[0]
    assert "run --board sim --speed 30" in intro
    script = private_dirs / "app.py"
    script.write_text(_block("From a Python app prototype", "python"), encoding="utf-8")
    rig = await RigProcess("--board", "sim", "--speed", "30").start()
    try:
        port = (await rig.wait_line(r"embedded broker \(\w[\w-]*\) on 127\.0\.0\.1:(\d+)")).group(1)
        out = await _shell(f"{sys.executable} {script} mqtt://127.0.0.1:{port}")
        assert await rig.terminate(signal.SIGINT) == 0, rig.output  # stops its embedded broker too
    finally:
        await rig.kill()
    lines = out.strip().splitlines()
    assert lines[0].startswith("deadline at rig time ")
    assert any(" expire task-1 " in line for line in lines)
    assert lines[-1] == "unknown_task"


def test_readme_cites_no_file_outside_the_repository() -> None:
    text = README.read_text(encoding="utf-8")
    for name in ("DESIGN.md", "shared/seeds", "reference/pi-hardware.md", "/work/"):
        assert name not in text, name
    for line in text.splitlines():  # in code blocks the CLI is .venv/bin/wakebench (or `make`)
        if line.startswith("wakebench "):
            raise AssertionError(f"bare `wakebench` in a command block: {line}")
