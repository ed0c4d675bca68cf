"""The rig terminal prints every outside request and its answer (app, verb, status/code) — also
those the bridge refuses before the scheduler sees them — against a live rig and an embedded
mosquitto, with requests published raw over MQTT as a misbehaving client would."""

from __future__ import annotations

import io
import re
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from mqtt_bridge.config import MAX_REQUEST_BYTES
from tests.conftest import _require_mosquitto
from tests.rig.helpers import Observer, is_json
from wakebench.config import default_config
from wakebench.printer import Printer
from wakebench.rig import Rig

pytestmark = pytest.mark.broker
BASE = "wakebench/term"
#: the test's own burst, small so that a short flood is refused (rig.request_burst)
BURST = 8


@pytest.fixture
async def live(tmp_path: Path) -> AsyncIterator[tuple[Rig, io.StringIO, Observer]]:
    _require_mosquitto()
    out = io.StringIO()
    cfg = replace(default_config().with_overrides(rig="term", request_rate=0.001, request_burst=BURST),
                  state_dir=None, poll_interval=3600.0)
    async with Rig(cfg, embedded="mosquitto", persist=False, printer=Printer(out, color=False)) as rig:
        assert rig.embedded is not None
        rig.announce()  # as `run` does after the banner: signal changes print from here on
        async with Observer(rig.embedded.host, rig.embedded.port, f"{BASE}/#") as obs:
            await obs.wait(is_json(f"{BASE}/bridge/state", state="online"))
            yield rig, out, obs


async def barrier(obs: Observer) -> None:
    """One more rig verb, answered after everything published before it (one reader, in order)."""
    start = len(obs.messages)
    await obs.publish(f"{BASE}/bridge/request/info", {"transaction": "barrier"})
    await obs.wait(is_json(f"{BASE}/bridge/response/info", transaction="barrier"), start=start)


def line(text: str, kind: str, who: str, detail: str) -> None:
    """``text`` has a terminal line of ``kind`` by ``who`` whose detail matches ``detail``."""
    rx = rf"^ *\S+  {kind.upper():<10}  {re.escape(who.ljust(24))}  {detail}"
    assert re.search(rx, text, re.M), f"no {kind} line for {who}: {detail!r} in:\n{text}"


async def test_requests_refused_before_the_scheduler_are_printed_with_their_code(
        live: tuple[Rig, io.StringIO, Observer]) -> None:
    rig, out, obs = live
    await obs.publish(f"{BASE}/apps/mail/request/register", {"platform": "wp8", "transaction": 1})
    await obs.publish(f"{BASE}/apps/mail/request/add", b'{"name": "sync", ')          # bad JSON
    await obs.publish(f"{BASE}/apps/mail/request/add", b"[1, 2]")                     # not an object
    await obs.publish(f"{BASE}/apps/mail/request/add", b"x" * (MAX_REQUEST_BYTES + 1))  # oversize
    await obs.publish(f"{BASE}/apps/mail/request/register", {"platform": "symbian"})  # schema
    await obs.publish(f"{BASE}/apps/mail/request/submit", {"identifier": "x"})        # iOS verb on wp8
    await obs.publish(f"{BASE}/apps/Mail!/request/add", {})                           # bad app id
    await obs.publish(f"{BASE}/bridge/request/fly", {})                                # unknown rig verb
    await obs.publish(f"{BASE}/signals/set", {"charger": "banana"})                    # bad value
    await obs.publish(f"{BASE}/apps/mail/request/crash", {}, retain=True)              # stored command
    await obs.publish(f"{BASE}/apps/mail/request/crash", b"", retain=True)             # (clears it)
    for _ in range(BURST + 1):                                                         # a flood
        await obs.publish(f"{BASE}/apps/flood/request/status", {})
    await barrier(obs)
    text = out.getvalue()
    line(text, "request", "mail", r'register \{"platform":"wp8"\} → ok')
    line(text, "error", "mail", "add → error invalid_json: request is not valid UTF-8 JSON")
    line(text, "error", "mail", "add → error invalid_payload: request must be a JSON object")
    line(text, "error", "mail", f"add → error payload_too_large: request is {MAX_REQUEST_BYTES + 1} bytes")
    line(text, "error", "mail", r'register \{"platform":"symbian"\} → error invalid_args: ')
    line(text, "error", "mail", r'submit \{"identifier":"x"\} → error wrong_platform: ')
    line(text, "error", "?", r"wakebench/term/apps/Mail!/request/add → error invalid_app_id: ")
    line(text, "error", "rig", "fly → error unknown_verb: unknown rig verb 'fly'")
    line(text, "error", "rig", r'signals/set \{"charger":"banana"\} → error invalid_signal: ')
    line(text, "error", "mail", "crash → error retained_request: ")
    line(text, "error", "flood", "status → error rate_limited: ")
    line(text, "request", "rig", "info → ok")
    # one line per request: BURST status answers (not_registered), then one refusal
    assert len(re.findall(r"  flood  +  status → error not_registered", text)) == BURST
    assert len(re.findall(r"  flood  +  status → error rate_limited", text)) == 1
    assert rig.driver is not None and rig.driver.has_app("mail") and not rig.driver.has_app("flood")


async def test_a_set_signals_prints_once_before_what_it_changed(live: tuple[Rig, io.StringIO, Observer]) -> None:
    _rig, out, obs = live
    await obs.publish(f"{BASE}/bridge/request/set_signals", {"charger": "ac"})
    await obs.publish(f"{BASE}/bridge/request/set_signals", {"voltage": 3.7})
    await barrier(obs)
    text = out.getvalue()
    lines = text.splitlines()
    sets = [i for i, ln in enumerate(lines) if "set_signals charger=ac" in ln]
    changes = [i for i, ln in enumerate(lines) if "SIGNALS" in ln and "charger=ac" in ln]
    assert len(sets) == 1 and changes and sets[0] < changes[0], text
    line(text, "error", "rig", r'set_signals \{"voltage":3.7\} → error not_settable: ')
