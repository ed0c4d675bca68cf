"""The pytest plugin (entry point ``pytest11``): the example tests in ``examples/`` pass against a
rig the fixture starts and against a running rig given by ``--wakebench-broker``; ``pytest
--fixtures`` lists the fixtures; loading the plugin imports nothing heavy."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from tests.conftest import _require_mosquitto
from tests.rig.helpers import ROOT, unique_rig
from wakebench.config import default_config
from wakebench.pytest_plugin import WakebenchRig
from wakebench.rig import Rig

TIMEOUT = 120.0


async def _pytest(*args: str) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "pytest", "-p", "no:randomly", "-p", "no:cacheprovider", *args,
        cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    out, _ = await asyncio.wait_for(proc.communicate(), TIMEOUT)
    return proc.returncode or 0, out.decode(errors="replace")


async def test_the_examples_pass_against_a_rig_the_fixture_starts() -> None:
    code, out = await _pytest("examples/", "-q")
    assert code == 0, out
    assert "2 passed" in out


@pytest.mark.broker
async def test_the_examples_pass_against_a_running_rig(tmp_path: Path) -> None:
    _require_mosquitto()
    rig_id = unique_rig("plugin")
    config = replace(default_config().with_overrides(rig=rig_id, speed=600), state_dir=None)
    async with Rig(config, embedded="mosquitto", persist=False) as rig:
        code, out = await _pytest("examples/", "-q", "--wakebench-broker", rig.broker_url,
                                  "--wakebench-rig", rig_id)
        assert rig.driver is not None and set(rig.driver.scheduler.apps) == {"mail", "upload"}
    assert code == 0, out


async def test_pytest_fixtures_lists_the_fixtures() -> None:
    code, out = await _pytest("--fixtures", "examples/")
    assert code == 0, out
    for name in ("wakebench_rig", "wakebench_app"):
        assert name in out
    assert "--wakebench-broker" in (await _pytest("--help"))[1]


def test_loading_the_plugin_imports_nothing_heavy() -> None:
    probe = ("import sys, wakebench.pytest_plugin; "
             "print(sorted(m for m in ('aiomqtt', 'paho', 'rich', 'matplotlib', 'wakebench.rig', "
             "'firmware_sim', 'mqtt_bridge') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"


def test_within_is_rig_time_the_wall_timeout_comes_from_the_speed() -> None:
    rig = WakebenchRig("mqtt://127.0.0.1:1", "r", 600.0, link=None)  # type: ignore[arg-type]
    from wakebench.pytest_plugin import EXPECT_TRANSPORT_S

    assert rig.wall_timeout(600.0) == pytest.approx(1.0 + EXPECT_TRANSPORT_S)


async def test_the_readme_pytest_example_passes_as_written_in_a_project_of_its_own(tmp_path: Path) -> None:
    """README's block, saved as a test file in a directory outside this repository (no conftest,
    no pytest configuration: a user's project), passes with only the installed plugin."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = text.split("## Testing an app prototype with pytest", 1)[1].split("```python\n", 1)[1]
    (tmp_path / "test_prototype.py").write_text(block.split("```", 1)[0], encoding="utf-8")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_prototype.py",
        cwd=tmp_path, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    out, _ = await asyncio.wait_for(proc.communicate(), TIMEOUT)
    assert proc.returncode == 0, out.decode(errors="replace")
    assert b"1 passed" in out
