"""Manual steps wait for the human: Enter on the terminal, ``wakebench continue`` (the rig verb
``bridge/request/continue``), or the board measuring the value."""

from __future__ import annotations

import asyncio
import io
import os
import re
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from firmware_sim.scenario import parse_scenario
from tests.conftest import _require_mosquitto
from tests.rig.helpers import Observer, RigProcess, is_json, unique_rig
from wakebench.cli import main
from wakebench.commands._rigargs import EXIT_OK, EXIT_RIG_ERROR
from wakebench.config import default_config
from wakebench.live import play_scenario
from wakebench.printer import Printer
from wakebench.rig import Rig


def _config(tmp_path: Path) -> object:
    return replace(default_config().with_overrides(rig="hands"), state_dir=None)


async def test_a_manual_step_waits_for_enter(tmp_path: Path) -> None:
    r, w = os.pipe()
    with os.fdopen(r) as terminal, os.fdopen(w, "w") as keyboard:
        async with Rig(_config(tmp_path), embedded="in-process", persist=False) as rig:  # type: ignore[arg-type]
            waiting = asyncio.ensure_future(rig.wait_for_hand({"charger": "usb"}, stdin=terminal))
            await asyncio.sleep(0)  # let it register its reader
            assert not waiting.done()
            keyboard.write("\n")
            keyboard.flush()
            assert await asyncio.wait_for(waiting, 10) == "enter"


async def test_a_manual_step_ends_when_the_board_measures_the_value(tmp_path: Path) -> None:
    async with Rig(_config(tmp_path), embedded="in-process", persist=False) as rig:  # type: ignore[arg-type]
        waiting = asyncio.ensure_future(rig.wait_for_hand({"charger": "ac"}))
        await asyncio.sleep(0)
        assert not waiting.done()
        assert rig.source is not None and rig.source.sim is not None
        await rig.set_signals({"charger": "ac"})  # the hand on the bench: the plug goes in
        assert await asyncio.wait_for(waiting, 10) == "measured"


# -- `wakebench continue` / bridge/request/continue, against a live rig and embedded mosquitto --

BOARD_SCENARIO = """
name: plug the X1200's supply in by hand
board: x120x
apps:
  - {id: mail, platform: wp8}
steps:
  - {at: 0s, app: mail, request: add, args: {name: sync, type: resource_intensive}}
  - {at: 1s, set: {charger: ac}}
expect:
  - {app: mail, event: unscheduled, count: 0}
until: 2s
"""


@pytest.fixture
async def board_rig(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[tuple[Rig, Observer, io.StringIO]]:
    """A real board (the X1200 on a machine without its I2C bus or GPIO chip: charger is measured
    by a pin, never switched), stepped clock, embedded mosquitto, found by its rig file."""
    _require_mosquitto()
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "run"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "nostate"))
    out = io.StringIO()
    cfg = default_config().with_overrides(board="x120x", rig="hands", state_dir=tmp_path / "state")
    async with Rig(replace(cfg, poll_interval=3600.0), embedded="mosquitto", persist=False, stepped=True,
                   printer=Printer(out, color=False)) as rig:
        assert rig.embedded is not None
        async with Observer(rig.embedded.host, rig.embedded.port, "wakebench/hands/#") as obs:
            await obs.wait(is_json("wakebench/hands/bridge/state", state="online"))
            yield rig, obs, out


async def cli(*argv: str) -> int:
    return await asyncio.wait_for(asyncio.to_thread(main, list(argv)), 30)


async def test_continue_releases_a_waiting_step_and_says_which(
        board_rig: tuple[Rig, Observer, io.StringIO], capsys: pytest.CaptureFixture[str]) -> None:
    rig, _obs, out = board_rig
    assert await cli("continue") == EXIT_RIG_ERROR  # nothing waits yet: one line with the code
    assert capsys.readouterr().err == ("wakebench continue: nothing_waiting: no manual step is waiting "
                                       "for a hand on the bench\n")
    waiting = asyncio.ensure_future(rig.wait_for_hand({"charger": "ac"}))
    await asyncio.sleep(0)  # registered (no terminal: only `continue` or the board can end it)
    assert not waiting.done()
    assert await cli("continue") == EXIT_OK
    assert await asyncio.wait_for(waiting, 10) == "continue"
    assert capsys.readouterr().out == "hands: released the manual step charger=ac\n"
    text = out.getvalue()
    assert "run `wakebench continue` once done" in text and "continued: 1 manual step(s) released" in text
    assert re.search(r"REQUEST +rig +continue → ok", text)


async def test_a_scenario_on_a_real_board_waits_at_a_manual_step_until_continue(
        board_rig: tuple[Rig, Observer, io.StringIO]) -> None:
    rig, obs, out = board_rig
    assert rig.clock is not None
    play = asyncio.ensure_future(play_scenario(rig, parse_scenario(BOARD_SCENARIO), wait_for_hands=True))
    step = await obs.wait(is_json("wakebench/hands/bridge/event", type="manual_step"))
    assert step.json()["data"]["set"] == {"charger": "ac"}
    held = rig.clock.now()
    for _ in range(20):  # the scenario does not go on by itself, however long the loop runs
        await asyncio.sleep(0)
    assert not play.done() and rig.clock.now() == held
    start = len(obs.messages)
    await obs.publish("wakebench/hands/bridge/request/continue", {"transaction": "human"})
    answer = (await obs.wait(is_json("wakebench/hands/bridge/response/continue", transaction="human"),
                             start=start)).json()
    assert answer["status"] == "ok" and answer["data"] == {"released": [{"charger": "ac"}]}
    result = await asyncio.wait_for(play, 30)
    assert result.passed and result.manual[0][1] == {"charger": "ac"}
    assert "set charger=ac by hand" in out.getvalue()


async def test_without_waiting_a_manual_step_is_only_reported(board_rig: tuple[Rig, Observer, io.StringIO]) -> None:
    rig, _obs, out = board_rig
    result = await asyncio.wait_for(play_scenario(rig, parse_scenario(BOARD_SCENARIO)), 30)
    assert result.passed and result.manual and "waiting:" not in out.getvalue()


async def test_run_scenario_on_a_real_board_waits_until_wakebench_continue(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``wakebench run --scenario`` (stdin not a terminal) on a real board: the manual step holds
    the scenario until ``wakebench continue`` from another process, then it completes (exit 0)."""
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "run"))
    path = tmp_path / "hands.yaml"
    path.write_text(BOARD_SCENARIO, encoding="utf-8")
    rig_id = unique_rig("hands")
    proc = await RigProcess("--board", "x120x", "--rig", rig_id, "--embedded-broker", "in-process",
                            "--state-dir", str(tmp_path / "state"), "--clock", "stepped",
                            "--scenario", str(path)).start()
    try:
        await proc.wait_line(r"MANUAL .*waiting: run `wakebench continue` once done")
        assert await cli("continue", "--rig", rig_id) == EXIT_OK
        assert await proc.wait(within=30) == 0, proc.output
    finally:
        if proc.proc is not None and proc.proc.returncode is None:
            await proc.terminate()
    assert "continued: 1 manual step(s) released" in proc.output
    assert "expectations: 1/1 met" in proc.output
