"""The JavaScript package (clients/js) against a real rig, over TCP and over WebSockets.

Each case runs one ``node --test`` file (clients/js/test/) with the rig's URLs in the
environment and fails with node's own report. ``client.test.js``: requests, coded errors, MQTT 5
correlation, ``bridge/state``, seq de-duplication and gaps, session resume after a dropped
connection. ``facades.test.js``: one flow per platform facade (Capacitor seed 000's example,
HarmonyOS, iOS, UWP, WP8, Android), with revokes caused by signal changes. ``debug.test.js``:
the later verbs in the real APIs' shapes — force_run / force_expire through Xcode's
``_simulateLaunchForTaskWithIdentifier`` / ``_simulateExpirationForTaskWithIdentifier`` and
WorkManager's ``TestDriver``, ``status`` ``debug``, the iOS push cadence (seed 001: 15 minutes),
background URLSession, WP8 ``ShellTile.update`` and ``AssociateToNetworkInterface``.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.js.rig import JS_DIR, LiveRig, node_or_skip, start_rig

pytestmark = pytest.mark.broker

#: A node test file gets this long (s); the flows take a few seconds each on an idle machine.
NODE_TIMEOUT_S = 180


@pytest.fixture(scope="module")
def live_rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveRig]:
    node_or_skip()
    yield from start_rig(tmp_path_factory.mktemp("jsrig"), "jstest")


@pytest.mark.parametrize("transport", ["tcp", "ws"])
@pytest.mark.parametrize("test_file", ["client.test.js", "facades.test.js", "debug.test.js"])
def test_node_suite(live_rig: LiveRig, transport: str, test_file: str) -> None:
    node = node_or_skip()
    url = live_rig.tcp_url if transport == "tcp" else live_rig.ws_url
    done = subprocess.run([node, "--test", str(Path("test") / test_file)], cwd=JS_DIR, env=live_rig.env(url),
                          capture_output=True, text=True, timeout=NODE_TIMEOUT_S, check=False)
    report = done.stdout + done.stderr
    assert done.returncode == 0, f"node --test {test_file} over {url} failed:\n{report}"
    assert "# fail 0" in report and "# skipped 0" in report, report
