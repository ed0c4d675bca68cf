"""A real rig for the JavaScript tests: ``wakebench run --board sim`` with its embedded mosquitto
(TCP and WebSocket listeners), started once per test module, plus the Node tool checks.

The iOS background-task budget is shortened to 3 s (``[limits.ios] background_task_s``) so the
expiry flow takes seconds; every other limit is the platform's own. The rig runs at ``--speed 1``:
the 5 s grace after an ``expire`` / ``revoke`` (``terminate_grace_s``) must be longer than a
callback's round trip on a loaded machine.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.rigprocess import rig_process

ROOT = Path(__file__).resolve().parents[2]
JS_DIR = ROOT / "clients" / "js"
#: Node versions the package supports (clients/js/package.json "engines").
MIN_NODE_MAJOR = 18
#: iOS background-task budget for the expiry flow (s); the platform default is 30 s (ios.py).
IOS_BACKGROUND_TASK_S = 3


@dataclass
class LiveRig:
    rig: str
    tcp_url: str
    ws_url: str
    proc: subprocess.Popen[str]
    lines: list[str]
    #: The CA (PEM) that signed the WebSocket listener's certificate, when it serves wss.
    ca_file: Path | None = None

    def env(self, url: str) -> dict[str, str]:
        env = {**os.environ, "WAKEBENCH_URL": url, "WAKEBENCH_RIG": self.rig,
               "WAKEBENCH_TCP_URL": self.tcp_url, "WAKEBENCH_WS_URL": self.ws_url, "WAKEBENCH_SPEED": "1"}
        if self.ca_file is not None:
            env["WAKEBENCH_CA"] = str(self.ca_file)
        return env


def node_or_skip() -> str:
    """The ``node`` binary (≥ 18) with clients/js's packages installed, or a skip saying why."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed (Debian: apt-get install nodejs npm; .ci/run does it)")
    out = subprocess.run([node, "--version"], capture_output=True, text=True, check=False).stdout.strip()
    if not (m := re.match(r"v(\d+)", out)) or int(m.group(1)) < MIN_NODE_MAJOR:
        pytest.skip(f"node {out or '?'} is older than {MIN_NODE_MAJOR}")
    if not (JS_DIR / "node_modules" / "mqtt").is_dir():
        npm = shutil.which("npm")
        if npm is None:
            pytest.skip("clients/js/node_modules is missing and npm is not installed (make venv runs npm ci)")
        done = subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=JS_DIR, capture_output=True, text=True,
                              check=False)
        if done.returncode != 0:
            pytest.fail(f"npm ci in clients/js failed:\n{done.stdout}\n{done.stderr}")
    return node


def start_rig(tmp: Path, rig: str, extra_config: str = "") -> Iterator[LiveRig]:
    """``extra_config``: more rig.toml text (e.g. an ``[embedded_broker]`` table for wss)."""
    config = tmp / "rig.toml"
    config.write_text(f"[limits.ios]\nbackground_task_s = {IOS_BACKGROUND_TASK_S}\n{extra_config}", encoding="utf-8")
    patterns = {"tcp": r"embedded broker \(mosquitto\) on (127\.0\.0\.1:\d+)",
                "ws": r"browsers \(WebSockets\): (wss?://\S+)"}
    with rig_process(tmp, rig, patterns, "--config", str(config)) as (proc, found, lines):
        yield LiveRig(rig, f"mqtt://{found['tcp']}", found["ws"], proc, lines)
