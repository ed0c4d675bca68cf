"""Signal sources: the sim board through the real driver path, real boards on emulated parts."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable

import pytest
from gpiozero.pins.mock import MockFactory

from boards import (
    NotSettableError,
    SignalValueError,
    SimBoard,
    SourceUpdate,
    UnknownSignalError,
    build_source,
    get_board,
)
from boards.battery import soc_rate
from hal.chips import CW2015Emulator, INA219Emulator, MAX17043Emulator
from hal.chips.max1704x import CRATE_LSB_PCT_PER_H, SOC_LSB_PCT
from hal.i2c import EmulatedBus
from hal.readings import BatteryState

SIM = get_board("sim")


async def until(predicate: Callable[[], bool], turns: int = 100) -> None:
    """Let the event loop run until ``predicate()`` holds (fails after ``turns`` turns)."""
    for _ in range(turns):
        if predicate():
            return
        await asyncio.sleep(0)
    raise AssertionError("condition not reached")


class Collector:
    def __init__(self) -> None:
        self.updates: list[SourceUpdate] = []
        self.queue: asyncio.Queue[SourceUpdate] = asyncio.Queue()

    def __call__(self, update: SourceUpdate) -> None:
        self.updates.append(update)
        self.queue.put_nowait(update)

    async def next(self) -> SourceUpdate:
        return await asyncio.wait_for(self.queue.get(), timeout=2.0)


@pytest.fixture
async def sim_source(clock):
    sim = SimBoard(clock=clock, charger="ac", soc=50.0, capacity_mah=2000.0,
                   load_current=0.5, charge_current=1.0)
    source = build_source(SIM, clock=clock, sim=sim, poll_interval=10.0)
    collector = Collector()
    await source.start(collector)
    first = await collector.next()        # start() delivers every signal once
    assert set(first.values) == set(source.snapshot().values)
    yield sim, source, collector
    await source.stop()


# -- the acceptance criterion ---------------------------------------------------------------------

async def test_pulling_the_charger_changes_the_snapshot_within_one_loop_turn(sim_source) -> None:
    sim, source, collector = sim_source
    assert source.snapshot().values["charger"] == "ac"
    assert source.snapshot().values["charging"] is True
    sim.unplug()                      # drives the mock power pin low
    await asyncio.sleep(0)            # one event-loop turn
    snap = source.snapshot()
    assert snap.values["charger"] == "none"
    assert snap.values["charging"] is False
    assert collector.updates[-1].values["charger"] == "none"


async def test_the_mock_pin_alone_is_what_the_source_watches(sim_source) -> None:
    sim, source, _ = sim_source
    sim.power_pin.drive_low()         # the wire, not the model
    await asyncio.sleep(0)
    assert source.snapshot().values["charger"] == "none"
    sim.power_pin.drive_high()
    await asyncio.sleep(0)
    assert source.snapshot().values["charger"] == "ac"


async def test_plugging_in_reports_the_kind_and_the_gauge_follows(sim_source) -> None:
    sim, source, _collector = sim_source
    sim.unplug()
    await asyncio.sleep(0)
    sim.plug("wireless")
    await asyncio.sleep(0)
    assert source.snapshot().values["charger"] == "wireless"
    # the plug edge also wakes the poller: the gauge's CRATE turns positive
    await until(lambda: (source.snapshot().values["current"] or 0) > 0)
    assert source.snapshot().values["charging"] is True


# -- the battery model through the emulated gauge ---------------------------------------------------

async def test_soc_falls_under_load_at_the_predicted_rate(clock, sim_source) -> None:
    _sim, source, _ = sim_source
    await source.set({"charger": "none"})
    start = source.snapshot().values["battery_level"]
    assert start == pytest.approx(50.0, abs=SOC_LSB_PCT)
    dt = 900.0
    clock.advance(dt)
    await source.refresh()
    # ΔSOC = I·Δt/capacity: 0.5 A for 900 s out of 2000 mAh = 6.25 %
    expected = 50.0 + soc_rate(-0.5, 2000.0) * dt
    assert expected == pytest.approx(50.0 - 6.25)
    assert source.snapshot().values["battery_level"] == pytest.approx(expected, abs=SOC_LSB_PCT)
    # current from CRATE (0.208 %/h per LSB) and the capacity
    crate_lsb_a = CRATE_LSB_PCT_PER_H / 100 * 2000.0 / 1000
    assert source.snapshot().values["current"] == pytest.approx(-0.5, abs=crate_lsb_a)
    assert source.snapshot().values["charging"] is False


async def test_soc_rises_on_charge_at_the_predicted_rate(clock, sim_source) -> None:
    _sim, source, _ = sim_source
    dt = 360.0
    clock.advance(dt)
    await source.refresh()
    expected = 50.0 + soc_rate(1.0, 2000.0) * dt    # 1 A, 0.1 h, 2000 mAh → +5 %
    assert expected == pytest.approx(55.0)
    assert source.snapshot().values["battery_level"] == pytest.approx(expected, abs=SOC_LSB_PCT)
    assert source.snapshot().values["charging"] is True


async def test_charging_stops_at_full(clock, sim_source) -> None:
    _sim, source, _ = sim_source
    clock.advance(4 * 3600)           # far more than the 1 h needed for 50 % → 100 %
    await source.refresh()
    values = source.snapshot().values
    assert values["battery_level"] == pytest.approx(100.0, abs=SOC_LSB_PCT)
    assert values["charging"] is False and values["current"] == 0.0
    assert values["charger"] == "ac"


async def test_the_poller_reads_the_gauge_on_the_clock(clock, sim_source) -> None:
    _sim, source, collector = sim_source
    polls = source.polls
    clock.advance(10.0)               # one poll interval
    update = await collector.next()
    assert source.polls == polls + 1
    assert update.values["battery_level"] > 50.0
    assert update.t == 10.0


# -- faults ---------------------------------------------------------------------------------------

async def test_a_gauge_fault_marks_battery_signals_stale_and_clearing_it_recovers(clock, sim_source) -> None:
    sim, source, collector = sim_source
    sim.bus.inject_eio(0x36, 0x02)    # VCELL
    clock.advance(10.0)
    update = await collector.next()
    battery = {"battery_level", "voltage", "current", "charging"}
    assert update.stale == battery
    assert len(update.faults) == 1
    assert update.faults[0].startswith("gauge max17048@0x36 on bus 1: EIO:")
    assert "register 0x02" in update.faults[0]
    assert source.snapshot().stale == battery
    # the source keeps running: edges still arrive, polls still happen
    sim.unplug()
    await asyncio.sleep(0)
    assert source.snapshot().values["charger"] == "none"
    assert "charging" not in source.snapshot().stale    # no power ⇒ not charging, known anyway
    sim.bus.clear_faults()
    clock.advance(10.0)
    await until(lambda: not source.snapshot().stale)
    recovered = collector.updates[-1]
    assert {"battery_level", "voltage", "current"} <= recovered.fresh
    assert source.snapshot().faults == ()


async def test_a_vanished_gauge_is_a_fault_not_a_crash(clock, sim_source) -> None:
    sim, source, _ = sim_source
    sim.bus.inject_nack(0x36)
    update = await source.refresh()
    assert "battery_level" in update.stale
    assert "EREMOTEIO" in update.faults[0]


async def test_garbage_from_the_gauge_is_reported(clock, sim_source) -> None:
    sim, source, _ = sim_source
    sim.bus.inject_stuck(0x36, 0x04, b"\xff\xff")   # SOC 255.99 %
    update = await source.refresh()
    assert "battery_level" in update.stale
    assert "state of charge" in update.faults[0]


async def test_a_failing_callback_does_not_stop_the_source(clock) -> None:
    sim = SimBoard(clock=clock, charger="ac")
    source = build_source(SIM, clock=clock, sim=sim, poll_interval=None)

    def broken(update: SourceUpdate) -> None:
        raise RuntimeError("dashboard fell over")

    await source.start(broken)
    sim.unplug()
    await asyncio.sleep(0)
    assert source.snapshot().values["charger"] == "none"
    await source.stop()


# -- setting signals --------------------------------------------------------------------------------

async def test_settable_signals_on_sim(sim_source) -> None:
    _sim, source, collector = sim_source
    await source.set({"network": "cellular", "screen_locked": True, "temperature": 31.5})
    values = source.snapshot().values
    assert values["network"] == "cellular" and values["metered"] is True   # cellular ⇒ metered
    assert values["screen_locked"] is True and values["temperature"] == 31.5
    assert collector.updates[-1].values["network"] == "cellular"
    await source.set({"battery_level": 20})
    assert source.snapshot().values["battery_level"] == pytest.approx(20, abs=SOC_LSB_PCT)
    await source.set({"charger": "usb"})
    assert source.snapshot().values["charger"] == "usb"


async def test_sim_handles_reach_the_source(sim_source) -> None:
    sim, source, _ = sim_source
    sim.set_network("ethernet", roaming=True)
    assert source.snapshot().values["network"] == "ethernet"
    assert source.snapshot().values["roaming"] is True
    sim.set({"on_call": True})
    assert source.snapshot().values["on_call"] is True


@pytest.mark.parametrize(
    ("values", "error", "words"),
    [
        ({"voltage": 3.7}, NotSettableError, "battery model derives it"),
        ({"charging": True}, NotSettableError, "battery model derives it"),
        ({"volume": 3}, UnknownSignalError, "unknown signal 'volume'"),
        ({"charger": "solar"}, SignalValueError, "charger"),
        ({"battery_level": 101}, SignalValueError, "0 to 100"),
        ({"screen_locked": "yes"}, SignalValueError, "true or false"),
    ],
)
async def test_bad_sets_raise_clear_errors_and_change_nothing(sim_source, values, error, words) -> None:
    _sim, source, _ = sim_source
    before = dict(source.snapshot().values)
    with pytest.raises(error, match=words):
        await source.set({"network": "none", **values})
    assert dict(source.snapshot().values) == before


# -- real boards on emulated parts ---------------------------------------------------------------------

async def test_x728_power_pin_is_active_low(clock) -> None:
    # "GPIO6 PLD input: 1 = AC lost, 0 = AC OK"
    factory, bus = MockFactory(), EmulatedBus()
    bus.attach(0x36, MAX17043Emulator(BatteryState(voltage=3.9, soc=77.0, current=-0.3)))
    source = build_source(get_board("x728"), clock=clock, pin_factory=factory, bus=bus,
                          poll_interval=None, watch_network=False)
    await source.start()
    pin = factory.pin(6)
    assert source.snapshot().values["charger"] == "ac"      # pin low at start: AC OK
    pin.drive_high()
    await asyncio.sleep(0)
    values = source.snapshot().values
    assert values["charger"] == "none" and values["charging"] is False
    assert values["battery_level"] == pytest.approx(77.0, abs=SOC_LSB_PCT)
    # MAX17043 measures no current: charging comes from the pin
    assert source.origins["charging"] == "GPIO6 (plugged ⇒ charging)"
    with pytest.raises(NotSettableError, match=r"measured by gauge max17043@0x36 on bus 1"):
        await source.set({"battery_level": 10})
    with pytest.raises(NotSettableError, match=r"\[\[board.relays\]\] signal = 'charger'"):
        await source.set({"charger": "none"})
    await source.set({"screen_locked": True})               # no sensor: a manual signal
    assert source.snapshot().values["screen_locked"] is True
    await source.stop()


async def test_x120x_charge_relay_switches_gpio16(clock) -> None:
    # "GPIO16: High = charging disabled, Low = enabled"
    factory, bus = MockFactory(), EmulatedBus()
    bus.attach(0x36, MAX17043Emulator(BatteryState(voltage=3.9, soc=60.0, current=0.5)))
    factory.pin(6).drive_high()                               # "High = supply OK"
    source = build_source(get_board("x120x"), clock=clock, pin_factory=factory, bus=bus,
                          poll_interval=None, watch_network=False)
    await source.start()
    assert "charging" in source.settable
    assert factory.pin(16).state is False                     # safe state: charging enabled
    assert source.snapshot().values["charging"] is True
    await source.set({"charging": False})
    assert factory.pin(16).state is True
    assert source.snapshot().values["charging"] is False
    await source.stop()
    assert factory.pin(16).state is False                     # back to the safe state


async def test_waveshare_charger_follows_the_current_sign(clock) -> None:
    bus = EmulatedBus()
    chip = INA219Emulator(BatteryState(voltage=7.8, soc=75.0, current=0.8), shunt_ohms=0.1)
    bus.attach(0x42, chip)
    source = build_source(get_board("waveshare-ups-hat-b"), clock=clock, bus=bus,
                          poll_interval=None, watch_network=False)
    await source.start()
    values = source.snapshot().values
    # "SoC (V−6)/2.4×100": 7.8 V → 75 %
    assert values["battery_level"] == pytest.approx(75.0, abs=0.5)
    assert values["charging"] is True and values["charger"] == "ac"
    chip.update(BatteryState(voltage=7.6, soc=66.0, current=-1.2))
    await source.refresh()
    values = source.snapshot().values
    assert values["charger"] == "none" and values["current"] == pytest.approx(-1.2, abs=1e-3)
    await source.stop()


@pytest.mark.skipif(os.path.exists("/dev/i2c-1"), reason="this machine has an I²C bus")
async def test_a_missing_bus_and_pin_library_are_faults(clock) -> None:
    source = build_source(get_board("x728"), clock=clock, poll_interval=None, watch_network=False)
    await source.start()
    snap = source.snapshot()
    assert {"battery_level", "voltage", "charger"} <= snap.stale
    assert any("no I²C bus /dev/i2c-1" in f for f in snap.faults)
    await source.stop()


async def test_async_callbacks_get_updates_in_order(clock) -> None:
    sim = SimBoard(clock=clock, charger="ac")
    source = build_source(SIM, clock=clock, sim=sim, poll_interval=None)
    seen: list[str] = []

    async def slow(update: SourceUpdate) -> None:
        await asyncio.sleep(0)
        if "charger" in update.values:
            seen.append(update.values["charger"])

    await source.start(slow)
    for _ in range(3):
        sim.unplug()
        await asyncio.sleep(0)
        sim.plug("usb")
        await asyncio.sleep(0)
    await source.stop()
    assert seen == ["ac"] + ["none", "usb"] * 3


async def test_an_update_reaches_an_idle_async_callback_without_a_loop_turn(clock) -> None:
    """Issue #8 fast path: with nothing queued, a coroutine callback starts on the edge's own
    callback; one that never suspends has finished before the publishing call returns."""
    sim = SimBoard(clock=clock, charger="ac")
    source = build_source(SIM, clock=clock, sim=sim, poll_interval=None)
    seen: list[bool] = []

    async def quick(update: SourceUpdate) -> None:
        if "screen_locked" in update.values:
            seen.append(update.values["screen_locked"])

    await source.start(quick)
    await source.settled()
    seen.clear()  # the first, full update
    await source.set({"screen_locked": True})  # publishes at its end, then returns at once
    assert seen == [True]
    await source.stop()


async def test_a_suspended_delivery_is_never_overtaken(clock) -> None:
    """A fast-path delivery that suspends is finished by the one consumer before any update
    made after it, including one made re-entrantly inside its synchronous part."""
    sim = SimBoard(clock=clock, charger="ac")
    source = build_source(SIM, clock=clock, sim=sim, poll_interval=None)
    log: list[str] = []
    gate = asyncio.Event()

    async def slow(update: SourceUpdate) -> None:
        name = ",".join(f"{k}={v}" for k, v in sorted(update.values.items())
                        if k in ("charger", "screen_locked", "temperature"))
        log.append(f"start {name}")
        if update.values.get("screen_locked") is True:
            sim.plug("usb")  # same pin level, another kind: the sim notifies the source right here
            await gate.wait()
        log.append(f"end {name}")

    await source.start(slow)
    await source.settled()
    log.clear()
    setter = asyncio.ensure_future(source.set({"screen_locked": True}))
    await asyncio.sleep(0)
    await source.set({"temperature": 31.5})  # made while the first one waits
    assert log == ["start screen_locked=True"]  # nothing overtook it
    settled = asyncio.ensure_future(source.settled())
    await asyncio.sleep(0)
    assert not settled.done()
    gate.set()
    await settled
    await setter
    assert log == ["start screen_locked=True", "end screen_locked=True",
                   "start charger=usb", "end charger=usb",
                   "start temperature=31.5", "end temperature=31.5"]
    await source.stop()


async def test_a_delivery_failing_after_it_suspended_is_logged_and_the_next_runs(
        clock, caplog: pytest.LogCaptureFixture) -> None:
    sim = SimBoard(clock=clock, charger="ac")
    source = build_source(SIM, clock=clock, sim=sim, poll_interval=None)
    seen: list[object] = []

    async def flaky(update: SourceUpdate) -> None:
        await asyncio.sleep(0)
        if update.values.get("screen_locked") is True:
            raise RuntimeError("dashboard fell over")
        seen.append(update.values.get("temperature"))

    await source.start(flaky)
    await source.set({"screen_locked": True})
    await source.set({"temperature": 30.5})
    await source.settled()
    assert seen[-1] == 30.5
    assert "signal update callback failed" in caplog.text and "dashboard fell over" in caplog.text
    await source.stop()


# -- what each gauge measures, and the other board kinds ---------------------------------------------

def test_the_chip_registry_says_what_each_driver_returns() -> None:
    from boards.build import gauge_driver
    from boards.spec import ChipSpec
    from hal.chips import CHIPS

    reading_field = {"battery_level": "soc", "voltage": "voltage", "current": "current",
                     "temperature": "temperature", "charging": "charging"}
    state = BatteryState(voltage=3.8, soc=55.0, current=-0.2, temperature=30.0,
                         full_capacity=2000.0, remaining_capacity=1100.0)
    for name, chip in CHIPS.items():
        bus = EmulatedBus()
        bus.attach(chip.default_address, chip.emulator(state))
        spec = ChipSpec(name, chip.default_address)
        reading = gauge_driver(spec, bus=bus).read()
        measured = {signal for signal, attr in reading_field.items() if getattr(reading, attr) is not None}
        assert chip.measured({}) == measured, name
        assert chip.implausible(reading, {}) is None, name


async def test_power_supply_board_reads_sysfs(clock, tmp_path) -> None:
    from hal.power_supply import PowerSupplySource

    def entry(name: str, **attrs: str) -> None:
        (tmp_path / name).mkdir()
        for attr, value in attrs.items():
            (tmp_path / name / attr).write_text(value + "\n")

    # ABI units: voltage_now µV, current_now µA, temp 0.1 °C
    entry("battery", type="Battery", status="Charging", capacity="81", voltage_now="4012000",
          current_now="350000", temp="287")
    entry("ac", type="Mains", online="1")
    source = build_source(get_board("power-supply"), clock=clock, watch_network=False,
                          power_supply=PowerSupplySource(root=tmp_path), poll_interval=None)
    await source.start()
    values = source.snapshot().values
    assert values["battery_level"] == 81 and values["voltage"] == pytest.approx(4.012)
    assert values["current"] == pytest.approx(0.35) and values["temperature"] == pytest.approx(28.7)
    assert values["charging"] is True and values["charger"] == "ac"
    (tmp_path / "ac" / "online").write_text("0\n")
    (tmp_path / "battery" / "status").write_text("Discharging\n")
    await source.refresh()
    assert source.snapshot().values["charger"] == "none"
    assert source.snapshot().values["charging"] is False
    (tmp_path / "battery" / "capacity").write_text("banana\n")
    update = await source.refresh()
    assert "battery_level" in update.stale
    assert "capacity" in update.faults[0]
    await source.stop()


async def test_a_user_board_with_a_mains_relay(clock) -> None:
    from boards import board_from_mapping

    spec = board_from_mapping({
        "name": "bench", "extends": "ups-lite-v1-3",
        "relays": [{"gpio": 17, "signal": "charger", "polarity": "active_low", "safe": "on"}],
    })
    factory, bus = MockFactory(), EmulatedBus()
    bus.attach(0x62, CW2015Emulator(BatteryState(voltage=3.9, soc=70.0, current=0.3)))
    factory.pin(4).drive_high()                   # "GPIO4 high = external power plugged in"
    source = build_source(spec, clock=clock, pin_factory=factory, bus=bus, poll_interval=None,
                          watch_network=False)
    await source.start()
    assert factory.pin(17).state is False         # active_low relay held ON (power connected)
    with pytest.raises(NotSettableError, match="only connect or cut the board's 'ac' charger"):
        await source.set({"charger": "usb"})
    await source.set({"charger": "none"})
    assert factory.pin(17).state is True          # relay released: power cut
    factory.pin(4).drive_low()                    # ... and the board's power pin sees it
    await asyncio.sleep(0)
    assert source.snapshot().values["charger"] == "none"
    await source.stop()
    assert factory.pin(17).state is False         # safe state: power back on



async def test_every_update_applies_to_the_schedulers_signals(clock) -> None:
    """The rig applies updates with ``Signals.updated(values, t=, stale=, fresh=)``; nothing a
    source emits may be refused there (names and value types of DESIGN.md section 2)."""
    from firmware_sim import Signals

    sim = SimBoard(clock=clock, charger="usb", soc=30.0)
    signals = Signals()

    def apply(update: SourceUpdate) -> None:
        nonlocal signals
        signals = signals.updated(update.values, t=update.t, stale=update.stale, fresh=update.fresh)

    source = build_source(SIM, clock=clock, sim=sim, poll_interval=None)
    await source.start(apply)
    assert signals.charger == "usb" and signals.charging is True
    assert signals.battery_level == pytest.approx(30.0, abs=SOC_LSB_PCT)
    sim.bus.inject_eio(0x36, 0x04)
    await source.refresh()
    assert "battery_level" in signals.stale
    assert signals.effective().battery_level is None       # unknown, not a guess (issue 9)
    sim.bus.clear_faults()
    sim.unplug()
    await asyncio.sleep(0)
    await source.set({"network": "cellular", "roaming": True, "temperature": -5})
    await source.refresh()
    assert not signals.stale
    assert (signals.charger, signals.network, signals.metered, signals.roaming) == ("none", "cellular", True, True)
    assert signals.temperature == -5.0
    await source.stop()


# -- atomic, consistent changes (issue #9.3) ------------------------------------------------------

async def test_a_multi_key_set_is_one_update(sim_source) -> None:
    sim, source, collector = sim_source
    sim.unplug()
    await asyncio.sleep(0)
    await source.refresh()
    collector.updates.clear()
    await source.set({"charger": "ac", "screen_locked": True})
    assert len(collector.updates) == 1
    values = collector.updates[0].values
    assert values["charger"] == "ac" and values["screen_locked"] is True
    assert values["charging"] is True and values["current"] > 0


async def test_charger_charging_and_current_never_contradict(clock) -> None:
    sim = SimBoard(clock=clock, charger="ac", soc=50.0, capacity_mah=2000.0)
    seen: list[dict] = []
    source = build_source(SIM, clock=clock, sim=sim, poll_interval=None)
    await source.start(lambda u: seen.append(dict(source.snapshot().values)))
    for _ in range(3):
        sim.unplug()
        await asyncio.sleep(0)
        sim.plug("ac")
        await asyncio.sleep(0)
        await source.refresh()
    await source.stop()
    for values in seen:
        current = values["current"]
        if values["charger"] == "none":
            assert values["charging"] is False and (current is None or current <= 0), values
        elif values["battery_level"] < 100:
            assert values["charging"] is True and (current is None or current > 0), values
