"""``wakebench run`` as a subprocess for the suites that need a whole rig (JS clients, browsers).

:func:`rig_process` starts the rig on the sim board with a private mosquitto, reads its banner
until every named pattern has matched, and stops it with SIGTERM (SIGKILL after 15 s) when the
``with`` block ends. The start-up wait is bounded by :data:`START_TIMEOUT_S`.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: Wall seconds a rig may take to print its banner (Python start-up, mosquitto, the board).
START_TIMEOUT_S = 30.0


@contextlib.contextmanager
def rig_process(tmp: Path, rig: str, patterns: Mapping[str, str], *flags: str
                ) -> Iterator[tuple[subprocess.Popen[str], dict[str, str], list[str]]]:
    """Yield ``(process, found, lines)``: ``found`` maps each name of ``patterns`` to the first
    group its regex matched in the output; ``lines`` keeps growing with the rig's output."""
    if shutil.which("mosquitto") is None and not Path("/usr/sbin/mosquitto").exists():
        pytest.skip("mosquitto is not installed (apt-get install mosquitto)")
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "200",
           "PATH": os.environ.get("PATH", "") + ":/usr/sbin"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "wakebench.cli", "run", "--board", "sim", "--rig", rig,
         "--state-dir", str(tmp / "state"), "--embedded-broker", "mosquitto", "--quiet", *flags],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT, env=env)
    lines: list[str] = []
    found: dict[str, str] = {}
    ready = threading.Event()
    compiled = {name: re.compile(pattern) for name, pattern in patterns.items()}

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line.rstrip())
            for name, regex in compiled.items():
                if name not in found and (m := regex.search(line)):
                    found[name] = m.group(1)
            if len(found) == len(compiled):
                ready.set()
        ready.set()  # the rig ended before printing everything

    threading.Thread(target=read, daemon=True).start()
    try:
        if not ready.wait(START_TIMEOUT_S) or len(found) < len(compiled):
            missing = ", ".join(sorted(set(compiled) - set(found)))
            raise AssertionError(f"the rig did not print {missing}:\n" + "\n".join(lines))
        yield proc, found, lines
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
