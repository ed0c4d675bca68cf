"""Faults on demand on the emulated board (issue 9 item 4): each fault of wbcommon.faults reaches
the published signals; timed ones end on the rig clock; real hardware refuses."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from boards import build_source, get_board
from boards.faults import FaultInjector, FaultNotSupportedError
from boards.sim import SimBoard
from boards.updates import SourceUpdate
from wbcommon.faults import NOT_SUPPORTED_ON_HARDWARE, parse_fault

SIM = get_board("sim")
GAUGE = {"battery_level", "voltage", "current", "charging"}


async def rig(clock: Any, **sim_args: Any) -> tuple[SimBoard, Any, FaultInjector, list[SourceUpdate]]:
    sim = SimBoard(clock=clock, charger="ac", soc=60.0, **sim_args)
    source = build_source(SIM, clock=clock, sim=sim, poll_interval=None)
    updates: list[SourceUpdate] = []
    await source.start(updates.append)
    return sim, source, FaultInjector(source, sim, clock=clock), updates


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


@pytest.mark.parametrize("kind", ["nack", "eio", "garbage", "bad_pec"])
async def test_a_gauge_fault_marks_the_gauge_signals_unknown_at_once(clock, kind) -> None:
    _sim, source, faults, _ = await rig(clock)
    data = await faults.inject(parse_fault({"gauge": kind}))
    assert data == {"active": {"gauge": {"gauge": kind}}}
    snap = source.snapshot()
    assert GAUGE - {"charging"} <= snap.stale
    assert snap.faults  # reported, with the chip and address
    assert all("0x36" in fault for fault in snap.faults)
    if kind == "bad_pec":  # the MAX17048 sends no PEC: the corrupted frame fails every read
        assert any("EBADMSG" in fault and "PEC" in fault for fault in snap.faults)
    await faults.inject(parse_fault({"gauge": "clear"}))
    assert not source.snapshot().stale
    await source.stop()


async def test_a_timed_fault_ends_on_the_rig_clock(clock) -> None:
    _sim, source, faults, _ = await rig(clock)
    await faults.inject(parse_fault({"gauge": "nack", "for": 120}))
    clock.advance(119)
    await settle()
    assert "battery_level" in source.snapshot().stale
    clock.advance(1)
    await settle()
    assert not source.snapshot().stale and faults.active() == {}
    await source.stop()


async def test_a_stuck_gauge_keeps_its_reading_while_the_battery_moves(clock) -> None:
    sim, source, faults, _ = await rig(clock)
    before = source.snapshot().values["battery_level"]
    await faults.inject(parse_fault({"gauge": "stuck"}))
    sim.set({"battery_level": 20.0})
    await source.refresh()
    assert source.snapshot().values["battery_level"] == before
    await faults.inject(parse_fault({"gauge": "clear"}))
    assert source.snapshot().values["battery_level"] == pytest.approx(20.0, abs=0.01)
    await source.stop()


async def test_a_stuck_charger_pin_does_not_see_the_unplug(clock) -> None:
    sim, source, faults, _ = await rig(clock)
    await faults.inject(parse_fault({"charger": "stuck"}))
    sim.unplug()
    await settle()
    assert source.snapshot().values["charger"] == "ac"
    await faults.inject(parse_fault({"charger": "clear"}))
    await settle()
    assert source.snapshot().values["charger"] == "none"
    await source.stop()


async def test_a_network_flap_drops_the_link_and_brings_it_back(clock) -> None:
    _sim, source, faults, _ = await rig(clock)
    await faults.inject(parse_fault({"network": "flap", "for": 5}))
    await settle()
    assert source.snapshot().values["network"] == "none"
    clock.advance(5)
    await settle()
    assert source.snapshot().values["network"] == "wifi"
    await source.stop()


async def test_real_hardware_refuses_with_a_code(clock) -> None:
    _sim, source, _, _ = await rig(clock)
    real = FaultInjector(source, None, clock=clock)
    with pytest.raises(FaultNotSupportedError, match="real hardware") as err:
        await real.inject(parse_fault({"gauge": "nack"}))
    assert err.value.code == NOT_SUPPORTED_ON_HARDWARE
    await source.stop()
