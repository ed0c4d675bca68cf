"""Faults on demand in a running rig (issue 9 item 4): ``wakebench fault`` → MQTT
``bridge/request/inject_fault`` → the sim's emulated parts; real hardware refuses with a code."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.rig.helpers import Observer, is_json
from wakebench.cli import main
from wakebench.config import default_config
from wakebench.rig import Rig


def config(tmp_path: Path, board: str = "sim", rig: str = "faulty") -> object:
    return default_config().with_overrides(board=board, rig=rig, state_dir=tmp_path / "state")


async def cli(*args: str) -> int:
    return await asyncio.to_thread(main, ["fault", *args])


async def test_the_cli_injects_a_timed_gauge_fault_and_clears_it(tmp_path: Path, capsys) -> None:
    async with Rig(config(tmp_path), embedded="in-process") as rig:  # type: ignore[arg-type]
        assert rig.embedded is not None and rig.driver is not None
        url = f"mqtt://{rig.embedded.host}:{rig.embedded.port}"
        async with Observer(rig.embedded.host, rig.embedded.port, "wakebench/faulty/#", v311=True) as obs:
            await obs.wait(is_json("wakebench/faulty/bridge/state", state="online"))
            # no --rig: the one rig online is found
            assert await cli("gauge", "nack", "--for", "2m", "--broker", url) == 0
            assert {"battery_level", "voltage", "current"} <= rig.driver.signals.stale
            snap = await obs.wait(lambda m: m.topic == "wakebench/faulty/signals"
                                  and "battery_level" in m.json().get("stale", []))
            assert snap.json()["battery_level"] is None  # unknown, never a number
            await obs.wait(is_json("wakebench/faulty/bridge/event", type="fault_injected"))
            assert await cli("gauge", "clear", "--broker", url, "--rig", "faulty") == 0
            assert not rig.driver.signals.stale
    out = capsys.readouterr().out
    assert "gauge=nack, for=120.0: applied; active faults: gauge=nack for 120 s" in out
    assert "gauge=clear: applied; active faults: none" in out


async def test_a_real_board_refuses_with_not_supported_on_hardware(tmp_path: Path, capsys) -> None:
    async with Rig(config(tmp_path, "x120x", "real"), embedded="in-process") as rig:  # type: ignore[arg-type]
        assert rig.embedded is not None
        url = f"mqtt://{rig.embedded.host}:{rig.embedded.port}"
        assert await cli("charger", "stuck", "--broker", url, "--rig", "real") == 1
    assert "refused: not_supported_on_hardware" in capsys.readouterr().out


@pytest.mark.parametrize(("payload", "code"), [
    (b'{"gauge": "melt"}', "invalid_fault"),
    (b'{"gauge": "nack", "charger": "stuck"}', "invalid_fault"),
    (b'{"gauge": "nack", "for": "soon"}', "invalid_fault"),
    (b"{}", "invalid_fault"),
])
async def test_a_bad_inject_fault_gets_one_coded_answer(tmp_path: Path, payload, code) -> None:
    async with Rig(config(tmp_path), embedded="in-process") as rig:  # type: ignore[arg-type]
        assert rig.embedded is not None
        async with Observer(rig.embedded.host, rig.embedded.port, "wakebench/faulty/#", v311=True) as obs:
            await obs.wait(is_json("wakebench/faulty/bridge/state", state="online"))
            await obs.publish("wakebench/faulty/bridge/request/inject_fault", payload)
            answer = await obs.wait(lambda m: m.topic == "wakebench/faulty/bridge/response/inject_fault")
    assert answer.json()["status"] == "error" and answer.json()["code"] == code


def test_bad_cli_arguments_exit_2(capsys) -> None:
    assert main(["fault", "gauge", "nack", "--for", "soon"]) == 2
    assert "'for' must be a duration" in capsys.readouterr().err


async def test_a_live_scenario_plays_fault_and_unknown_steps(tmp_path: Path) -> None:
    # the same scenario language live: a fault: step reaches the emulated bus, set.unknown the
    # scheduler; a capacitor app (no condition reads a signal) keeps its task throughout
    import dataclasses
    import io

    from firmware_sim.scenario import parse_scenario
    from wakebench.live import play_scenario
    from wakebench.printer import Printer

    scenario = parse_scenario("""
name: live faults
board: sim
apps: [{id: up, platform: capacitor}]
steps:
  - {at: 0s, app: up, request: before_exit}
  - {at: 10s, fault: {gauge: eio}}
  - {at: 20s, set: {unknown: [screen_locked]}}
expect:
  - {app: up, event: revoke, count: 0}
until: 30s
""", "live.yaml")
    cfg = dataclasses.replace(default_config().with_overrides(rig="livefault", speed=60),
                              state_dir=None)
    out = io.StringIO()
    async with Rig(cfg, embedded="in-process", persist=False,  # type: ignore[arg-type]
                   printer=Printer(out, color=False)) as rig:
        result = await play_scenario(rig, scenario)
        assert rig.driver is not None
        assert {"battery_level", "screen_locked"} <= rig.driver.signals.stale
    assert result.expectations[0].met
    assert "injected: gauge=eio" in out.getvalue()
