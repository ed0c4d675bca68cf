"""The JavaScript package in a real browser: Debian's headless Chromium, driven by Playwright for
Python, loads a page from 127.0.0.1 that imports the package's ESM and MQTT.js's browser build
through an import map and talks to the rig over ``ws://`` (a browser has no raw TCP).

Flows: Capacitor (seed 000's ``beforeExit`` → ``finish``) and a WP8 resource-intensive agent
revoked the moment the charger is pulled (seed 003), the pull published by the bench itself.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.js.rig import JS_DIR, LiveRig, node_or_skip, start_rig

pytestmark = pytest.mark.broker

#: Debian's chromium package; Playwright never downloads a browser here (no `playwright install`).
CHROMIUM = os.environ.get("WAKEBENCH_CHROMIUM", "/usr/bin/chromium")
PAGE_DIR = Path(__file__).parent / "browser"
TIMEOUT_MS = 30_000


class _Handler(http.server.SimpleHTTPRequestHandler):
    """``/`` is the test page; ``/src/...`` and ``/node_modules/...`` come from clients/js."""

    def translate_path(self, path: str) -> str:
        path = path.split("?", maxsplit=1)[0]
        if path in ("/", "/index.html"):
            return str(PAGE_DIR / "index.html")
        target = (JS_DIR / path.lstrip("/")).resolve()
        return str(target) if target.is_relative_to(JS_DIR) else str(JS_DIR / "missing")

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def page_url() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Handler, directory=str(JS_DIR)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def live_rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveRig]:
    node_or_skip()  # installs clients/js/node_modules (MQTT.js's browser build) when npm can
    yield from start_rig(tmp_path_factory.mktemp("browserrig"), "jsbrowser")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"{CHROMIUM} is missing (Debian: apt-get install chromium; .ci/run does it)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e '.[dev]')")
    with sync_api.sync_playwright() as pw:
        # --no-sandbox: CI runs as root, where Chromium refuses its sandbox
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        try:
            yield b
        finally:
            b.close()


def pull_charger(rig: LiveRig) -> None:
    """The bench pulls the plug: a separate MQTT client over TCP, as a person with mosquitto_pub."""
    host_port = rig.tcp_url.removeprefix("mqtt://")
    host, port = host_port.split(":")
    pub = shutil.which("mosquitto_pub")
    if pub is None:
        pytest.skip("mosquitto_pub is missing (apt-get install mosquitto-clients)")
    subprocess.run([pub, "-h", host, "-p", port, "-q", "1", "-t", f"wakebench/{rig.rig}/signals/set",
                    "-m", '{"charger":"none"}'], check=True, timeout=10)


def test_a_browser_runs_the_capacitor_flow_and_sees_a_charger_pull_revoke(
        browser: Any, page_url: str, live_rig: LiveRig) -> None:
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    try:
        page.goto(page_url)
        page.wait_for_function("window.ready === true", timeout=TIMEOUT_MS)
        assert live_rig.ws_url.startswith("ws://127.0.0.1:")

        cap = page.evaluate("([u, r]) => window.capacitorFlow(u, r)", [live_rig.ws_url, live_rig.rig])
        assert cap["wake"] == cap["finished"] and cap["wake"].startswith("cb-")
        assert cap["state"] == "online"

        assert page.evaluate("([u, r]) => window.wp8Start(u, r)", [live_rig.ws_url, live_rig.rig]) == "sync"
        pull_charger(live_rig)
        revoke = page.evaluate("() => window.wp8Revoked()")
        assert revoke == {"type": "revoke", "reason": "charger_removed", "task": "sync"}
        assert errors == []
    finally:
        page.close()
