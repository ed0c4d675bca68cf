"""The JavaScript package (clients/js) against a real rig, over TCP and over WebSockets.

Each case runs one ``node --test`` file (clients/js/test/) with the rig's URLs in the
environment and fails with node's own report. ``client.test.js``: requests, coded errors, MQTT 5
correlation, ``bridge/state``, seq de-duplication and gaps, session resume after a dropped
connection. ``facades.test.js``: one flow per platform facade (Capacitor seed 000's example,
HarmonyOS, iOS, UWP, WP8, Android), with revokes caused by signal changes. ``debug.test.js``:
the later verbs in the real APIs' shapes — force_run / force_expire through Xcode's
``_simulateLaunchForTaskWithIdentifier`` / ``_simulateExpirationForTaskWithIdentifier`` and
WorkManager's ``TestDriver``, ``status`` ``debug``, the iOS push cadence (seed 001: 15 minutes),
background URLSession, WP8 ``ShellTile.update`` and ``AssociateToNetworkInterface``. ``uwp.test.js``: UWP's app
lifecycle — ``Application.Suspending`` (deadline, deferral) from the rig's Suspending event,
SavingData asked for in it, and a relaunch that waits for that session (seed 002:5, 002:44).
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.js.rig import JS_DIR, LiveRig, node_or_skip, start_rig
from tests.mosquitto import make_certs

pytestmark = pytest.mark.broker

#: A node test file gets this long (s); the flows take a few seconds each on an idle machine.
NODE_TIMEOUT_S = 180


@pytest.fixture(scope="module")
def live_rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveRig]:
    node_or_skip()
    yield from start_rig(tmp_path_factory.mktemp("jsrig"), "jstest")


@pytest.fixture(scope="module")
def wss_rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveRig]:
    """A rig whose WebSocket listener serves wss with tests/mosquitto.py's test certificates."""
    node_or_skip()
    tmp = tmp_path_factory.mktemp("jswss")
    certs = make_certs(tmp / "certs")
    table = (f'[embedded_broker]\nws_cert_file = "{certs.server_cert}"\n'
             f'ws_key_file = "{certs.server_key}"\n')
    for rig in start_rig(tmp, "jswss", table):
        rig.ca_file = certs.ca
        yield rig


def run_node(rig: LiveRig, url: str, test_file: str) -> None:
    node = node_or_skip()
    done = subprocess.run([node, "--test", str(Path("test") / test_file)], cwd=JS_DIR, env=rig.env(url),
                          capture_output=True, text=True, timeout=NODE_TIMEOUT_S, check=False)
    report = done.stdout + done.stderr
    assert done.returncode == 0, f"node --test {test_file} over {url} failed:\n{report}"
    assert "# fail 0" in report and "# skipped 0" in report, report


@pytest.mark.parametrize("transport", ["tcp", "ws"])
@pytest.mark.parametrize("test_file", ["client.test.js", "facades.test.js", "debug.test.js", "uwp.test.js"])
def test_node_suite(live_rig: LiveRig, transport: str, test_file: str) -> None:
    run_node(live_rig, live_rig.tcp_url if transport == "tcp" else live_rig.ws_url, test_file)


@pytest.mark.parametrize("test_file", ["wss.test.js", "facades.test.js", "debug.test.js"])
def test_node_suite_over_wss(wss_rig: LiveRig, test_file: str) -> None:
    """client.test.js also opens raw MQTT.js connections (no CA): it runs over tcp and ws only."""
    assert wss_rig.ws_url.startswith("wss://127.0.0.1:"), wss_rig.ws_url
    run_node(wss_rig, wss_rig.ws_url, test_file)
