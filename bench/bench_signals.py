"""Signal-source costs on the sim board and on real boards' emulated parts (issue 3). One table.

1. ``refresh()`` on ``sim``: battery model → MAX17048 emulator registers → real driver over the
   emulated bus → derived signals → one ``SourceUpdate`` to a callback. The clock advances 1 s
   between refreshes, so every refresh has a new reading to deliver.
2. The same for catalogue boards on emulated chips (what a Pi pays in Python on top of the
   bus time; a real 100 kHz bus adds ~90 µs per byte, see bench/bench_i2c.py).
3. A charger edge on the sim's mock pin until the snapshot shows it (``drive_low()`` + one
   event-loop turn), and ``set({...})`` of a plain signal.

Bus transactions are counted by the emulated bus. Run:
``.venv/bin/python bench/bench_signals.py [--n N]``
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

from gpiozero.pins.mock import MockFactory

from boards import SimBoard, SourceUpdate, build_source, get_board
from boards.source import BoardSource
from firmware_sim.clock import VirtualClock
from hal.chips import CHIPS
from hal.i2c import EmulatedBus
from hal.readings import BatteryState

STATE = BatteryState(voltage=3.85, soc=72.3, current=-0.42, temperature=31.5,
                     remaining_capacity=1446.0, full_capacity=2000.0)
PACK_2S = BatteryState(voltage=7.7, soc=72.3, current=-0.42)


def _stats(samples: list[float]) -> tuple[float, float]:
    samples.sort()
    return statistics.median(samples), samples[int(0.99 * (len(samples) - 1))]


async def _time_async(n: int, step: Callable[[int], Awaitable[Any]]) -> list[float]:
    samples = []
    for i in range(n):
        start = time.perf_counter_ns()
        await step(i)
        samples.append((time.perf_counter_ns() - start) / 1000.0)
    return samples


def _sink(update: SourceUpdate) -> None:
    """The callback a rig would pass (it forwards to the scheduler); here it does nothing."""


async def bench_sim_refresh(n: int) -> tuple[str, list[float], float]:
    clock = VirtualClock()
    sim = SimBoard(clock=clock, charger="none", soc=90.0)
    source = build_source(get_board("sim"), clock=clock, sim=sim, poll_interval=None)
    await source.start(_sink)
    before = sim.bus.transactions()

    async def step(i: int) -> None:
        clock.advance_to(float(i + 1))
        await source.refresh()

    samples = await _time_async(n, step)
    per_refresh = (sim.bus.transactions() - before) / n
    await source.stop()
    return "sim: refresh() (model → MAX17048 → driver → update)", samples, per_refresh


async def bench_board_refresh(name: str, n: int) -> tuple[str, list[float], float]:
    spec = get_board(name)
    assert spec.gauge is not None
    bus = EmulatedBus()
    state = PACK_2S if name == "waveshare-ups-hat-b" else STATE
    bus.attach(spec.gauge.address, CHIPS[spec.gauge.chip].emulator(state))
    factory = MockFactory()
    source: BoardSource = build_source(spec, clock=VirtualClock(), pin_factory=factory, bus=bus,
                                       poll_interval=None, watch_network=False)
    await source.start(_sink)
    before = bus.transactions()

    async def step(i: int) -> None:
        await source.refresh()

    samples = await _time_async(n, step)
    per_refresh = (bus.transactions() - before) / n
    await source.stop()
    return f"{name}: refresh() ({spec.gauge.label})", samples, per_refresh


async def bench_edge(n: int) -> tuple[str, list[float], float]:
    clock = VirtualClock()
    sim = SimBoard(clock=clock, charger="ac")
    source = build_source(get_board("sim"), clock=clock, sim=sim, poll_interval=None)
    await source.start(_sink)

    async def step(i: int) -> None:
        if i % 2 == 0:
            sim.power_pin.drive_low()
        else:
            sim.power_pin.drive_high()
        await asyncio.sleep(0)
        expected = "none" if i % 2 == 0 else "ac"
        if source.snapshot().values["charger"] != expected:
            raise SystemExit("edge did not reach the snapshot within one loop turn")

    samples = await _time_async(n, step)
    await source.stop()
    return "sim: charger pin edge → snapshot (1 loop turn)", samples, 0.0


async def bench_set(n: int) -> tuple[str, list[float], float]:
    clock = VirtualClock()
    sim = SimBoard(clock=clock)
    source = build_source(get_board("sim"), clock=clock, sim=sim, poll_interval=None)
    await source.start(_sink)
    before = sim.bus.transactions()

    async def step(i: int) -> None:
        await source.set({"screen_locked": i % 2 == 0})

    samples = await _time_async(n, step)
    per_set = (sim.bus.transactions() - before) / n
    await source.stop()
    return "sim: set({'screen_locked': ...})", samples, per_set


async def run(n: int) -> None:
    rows = [await bench_sim_refresh(n)]
    for name in ("x728", "adafruit-max17048", "sparkfun-battery-babysitter",
                 "adafruit-lc709203f", "ups-lite-v1-3", "waveshare-ups-hat-b"):
        rows.append(await bench_board_refresh(name, n))
    rows.append(await bench_edge(n))
    rows.append(await bench_set(n))
    width = max(len(r[0]) for r in rows)
    header = f"{'case':<{width}} {'N':>6} {'median µs':>10} {'p99 µs':>9} {'bus tx/op':>9}"
    print(f"signal source costs, {n} operations per case (emulated bus, VirtualClock)")
    print(header)
    print("-" * len(header))
    for label, samples, transactions in rows:
        median, p99 = _stats(samples)
        print(f"{label:<{width}} {len(samples):>6} {median:>10.1f} {p99:>9.1f} {transactions:>9.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="operations per case (default 2000)")
    args = parser.parse_args()
    asyncio.run(run(args.n))


if __name__ == "__main__":
    main()
