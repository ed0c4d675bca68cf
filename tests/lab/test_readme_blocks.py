"""README command blocks not covered by tests/test_readme.py run as written against a live rig
(embedded mosquitto, README's rig id ``bench``): "Faults on demand"."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from tests.conftest import _require_mosquitto
from tests.rig.helpers import RigProcess
from tests.test_readme import _block, _cli, _shell

pytestmark = pytest.mark.broker


@pytest.fixture
def private_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "run"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    return tmp_path


async def test_faults_on_demand_block_runs_as_written(private_dirs: Path) -> None:
    _require_mosquitto()
    rig = await RigProcess("--board", "sim", "--embedded-broker", "mosquitto").start()
    try:
        port = (await rig.wait_line(r"embedded broker \(mosquitto\) on 127\.0\.0\.1:(\d+)")).group(1)
        lines = _block("### Faults on demand", "sh").strip().splitlines()
        assert len(lines) >= 3
        for line in lines:
            out = await _shell(_cli(line.replace("PORT", port)))
            if line.startswith(".venv/bin/wakebench fault"):
                assert ": applied; active faults: " in out, out
        await rig.wait_line(r"REQUEST\s+rig\s+inject_fault \{\"network\":\"flap\",\"for\":5\} → ok")
        assert await rig.terminate(signal.SIGINT) == 0, rig.output
    finally:
        await rig.kill()
    assert rig.output.count("FAULT") >= len(lines)  # each injection prints as it is applied
