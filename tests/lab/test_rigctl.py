"""The hands-on CLI (``set``, ``status``, ``force-run``/``force-expire``, ``events``) against a
real rig with an embedded mosquitto, found through its rig file (no flags)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from mqtt_bridge import AppClient
from tests.conftest import _require_mosquitto
from tests.rig.helpers import ROOT
from wakebench.cli import main
from wakebench.commands._rigargs import EXIT_OK, EXIT_RIG_ERROR, EXIT_UNREACHABLE, EXIT_USAGE
from wakebench.config import default_config
from wakebench.rig import Rig
from wakebench.rigctl import RIG_FILE_NAME, find_rigs, parse_assignments, resolve_rig, runtime_dir

pytestmark = pytest.mark.broker
TIMEOUT = 30.0


@pytest.fixture
async def rig(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Rig]:
    _require_mosquitto()
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "run"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "nostate"))
    cfg = default_config().with_overrides(rig="lab", state_dir=tmp_path / "state")
    async with Rig(replace(cfg, poll_interval=3600.0), embedded="mosquitto") as running:
        yield running


async def cli(*argv: str) -> int:
    return await asyncio.wait_for(asyncio.to_thread(main, list(argv)), TIMEOUT)


async def registered(rig: Rig) -> None:
    """mail (wp8) with a resource-intensive task, sent over MQTT as an app does."""
    async with AppClient(rig.broker_url, app_id="mail", rig="lab", resume_session=False) as app:
        await app.register("wp8")
        assert (await app.request("add", name="sync", type="resource_intensive"))["state"] == "waiting"


async def test_the_rig_records_where_it_is_and_removes_the_record_when_it_stops(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _require_mosquitto()
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "run"))
    cfg = default_config().with_overrides(rig="lab", state_dir=tmp_path / "state")
    async with Rig(cfg, embedded="mosquitto") as rig:
        files = [runtime_dir() / "lab.json", tmp_path / "state" / RIG_FILE_NAME]
        for path in files:
            info = json.loads(path.read_text())
            assert (info["rig"], info["broker"], info["pid"]) == ("lab", rig.broker_url, os.getpid())
            assert path.stat().st_mode & 0o077 == 0
        assert [r.rig for r in find_rigs()] == ["lab"]
    assert not any(path.exists() for path in files)


def test_several_rigs_are_listed_and_need_rig(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    (tmp_path / "wakebench").mkdir()
    for rig, port in (("a", 1), ("b", 2)):
        (tmp_path / "wakebench" / f"{rig}.json").write_text(
            json.dumps({"rig": rig, "broker": f"mqtt://127.0.0.1:{port}", "pid": os.getpid()}))
    (tmp_path / "wakebench" / "dead.json").write_text(
        json.dumps({"rig": "dead", "broker": "mqtt://127.0.0.1:3", "pid": 2**22 + 1}))
    with pytest.raises(Exception, match=r"several rigs are running: a \(mqtt://127.0.0.1:1\), b .*--rig"):
        resolve_rig(None, None)
    assert resolve_rig(None, "b").broker == "mqtt://127.0.0.1:2"
    assert main(["status", "--rig", "dead"]) == EXIT_UNREACHABLE


def test_values_are_read_as_in_a_scenario() -> None:
    assert parse_assignments(["charger=none", "screen_locked=true", "battery_level=15"]) == {
        "charger": "none", "screen_locked": True, "battery_level": 15}


async def test_set_sends_one_atomic_set_signals(rig: Rig, capsys: pytest.CaptureFixture[str]) -> None:
    await registered(rig)
    assert await cli("set", "charger=ac", "screen_locked=true") == EXIT_OK
    assert "lab: set charger=ac, screen_locked=true" in capsys.readouterr().out
    assert rig.driver is not None and rig.driver.signals.charger == "ac" and rig.driver.signals.screen_locked
    assert await cli("set", "charger=ac", "screen_locked=maybe") == EXIT_USAGE
    assert "screen_locked" in capsys.readouterr().err


async def test_set_of_a_bad_value_the_rig_refuses_exits_1(rig: Rig, capsys: pytest.CaptureFixture[str]) -> None:
    assert await cli("set", "voltage=3.7") == EXIT_RIG_ERROR  # measured, never settable
    assert "not_settable" in capsys.readouterr().err


async def test_status_shows_tasks_and_what_they_wait_for(rig: Rig, capsys: pytest.CaptureFixture[str]) -> None:
    await registered(rig)
    assert await cli("status") == EXIT_OK
    out = capsys.readouterr().out
    assert "mail (wp8, foreground)" in out
    assert "sync" in out and "waiting" in out
    assert 'device.resource_intensive_unmet = ["charger_removed","screen_unlocked"]  ← waits for' in out
    assert await cli("status", "mail", "--json") == EXIT_OK
    data = json.loads(capsys.readouterr().out)
    assert data["mail"]["tasks"]["sync"]["state"] == "waiting"
    assert await cli("status", "nobody") == EXIT_RIG_ERROR
    assert "not_registered" in capsys.readouterr().err


async def test_force_run_then_force_expire_like_the_platforms_debug_tools(
        rig: Rig, capsys: pytest.CaptureFixture[str]) -> None:
    await registered(rig)  # a WP8 resource-intensive agent waiting for charger + lock (LaunchForTest)
    assert await cli("force-run", "mail", "sync") == EXIT_OK
    assert "running" in capsys.readouterr().out
    assert await cli("force-expire", "mail", "sync") == EXIT_OK
    capsys.readouterr()
    assert await cli("force-expire", "mail", "nosuch") == EXIT_RIG_ERROR
    err = capsys.readouterr().err
    assert err.startswith("wakebench force-expire: unknown_task: ") and err.count("\n") == 1


async def test_events_follows_the_stream_as_json_lines(rig: Rig) -> None:
    await registered(rig)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "wakebench.cli", "events", "--app", "mail", "--json",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, cwd=ROOT, env=env)
    try:
        assert proc.stderr is not None and proc.stdout is not None
        banner = await asyncio.wait_for(proc.stderr.readline(), TIMEOUT)  # subscribed from here on
        assert b"following lab" in banner
        await rig.set_signals({"charger": "ac", "screen_locked": True, "battery_level": 95})
        line = json.loads(await asyncio.wait_for(proc.stdout.readline(), TIMEOUT))
        assert (line["app"], line["type"], line["task_id"]) == ("mail", "wake", "sync")
        await rig.set_signals({"charger": "none"})
        line = json.loads(await asyncio.wait_for(proc.stdout.readline(), TIMEOUT))
        assert (line["type"], line["reason"]) == ("revoke", "charger_removed")
    finally:
        proc.terminate()
        await proc.wait()


async def test_status_without_app_lists_every_registered_app_tasks_or_not(
        rig: Rig, capsys: pytest.CaptureFixture[str]) -> None:
    await registered(rig)
    async with AppClient(rig.broker_url, app_id="idle", rig="lab", resume_session=False) as app:
        await app.register("android")  # registered, never added a task
    assert await cli("status") == EXIT_OK
    out = capsys.readouterr().out
    assert "mail (wp8, foreground)" in out and "sync" in out
    assert re.search(r"^idle \(android, \w+\).*\n  no tasks$", out, re.M), out
    assert await cli("status", "--json") == EXIT_OK
    assert sorted(json.loads(capsys.readouterr().out)) == ["idle", "mail"]


async def test_status_of_a_rig_without_apps_says_so(rig: Rig, capsys: pytest.CaptureFixture[str]) -> None:
    assert await cli("status") == EXIT_OK
    assert capsys.readouterr().out == "lab: no app is registered\n"


async def test_fault_finds_the_local_rig_without_flags(rig: Rig, capsys: pytest.CaptureFixture[str]) -> None:
    assert rig.driver is not None
    assert await cli("fault", "gauge", "nack", "--for", "2m") == EXIT_OK
    assert "rig lab: gauge=nack, for=120.0: applied; active faults: gauge=nack for 120 s" in capsys.readouterr().out
    assert {"battery_level", "voltage", "current"} <= rig.driver.signals.stale
    assert await cli("fault", "gauge", "clear") == EXIT_OK
    assert not rig.driver.signals.stale
    assert await cli("fault", "gauge", "nack", "--for", "soon") == EXIT_USAGE
    assert await cli("fault", "gauge", "nack", "--rig", "elsewhere") == EXIT_UNREACHABLE
    assert "found no rig 'elsewhere'" in capsys.readouterr().err


async def test_events_without_app_prints_readable_lines_and_rig_notices(rig: Rig) -> None:
    await registered(rig)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "wakebench.cli", "events",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, cwd=ROOT, env=env)
    try:
        assert proc.stderr is not None and proc.stdout is not None
        assert b"following lab" in await asyncio.wait_for(proc.stderr.readline(), TIMEOUT)
        await rig.set_signals({"charger": "ac", "screen_locked": True, "battery_level": 95})
        line = (await asyncio.wait_for(proc.stdout.readline(), TIMEOUT)).decode()
        assert re.match(r" *\d+:\d\d:\d\d\.\d{3}  wake +  mail/sync  until \S+  #1$", line.rstrip()), line
        assert rig.injector is not None
        assert await cli("fault", "network", "flap", "--for", "5s") == EXIT_OK
        while "rig event" not in line:  # the revoke the flap causes may come first
            line = (await asyncio.wait_for(proc.stdout.readline(), TIMEOUT)).decode()
        assert '"type": "fault_injected"' in line, line
    finally:
        proc.terminate()
        await proc.wait()
