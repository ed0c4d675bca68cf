"""Fault injection against the gauge path (issue #9.2). Prints two tables.

1. **Faults**: 1,000 refreshes of a board on emulated parts, 1 s of rig time apart; before
   each refresh, with probability 10 %, ONE gauge read sees an injected fault
   (``EmulatedBus.inject_*``: NACK, EIO, garbage, stuck register, bad PEC where the chip uses
   PEC); a re-read sees the chip again. A WP8 ``resource_intensive`` task runs on external power
   above 90 %, so with the charger plugged and the cell at 95 % nothing real revokes it: every
   revoke is caused by a single bad read. Columns: faults injected, injected faults the
   refresh reported (a ``fault`` in its update), revokes
   (must be 0 with confirmation), polls until stale when a fault persists (must be 1),
   polls until fresh again after it clears (must be 1), and polls until stale when the chip
   stops converting and keeps answering its last values ("never" where the chip gives no way
   to tell: MAX17048, LC709203F; the INA219's CNVR bit does). Boards: the sim (MAX17048, bad
   PEC = a corrupted frame, every read EBADMSG), Adafruit LC709203F (PEC on every word) and
   Waveshare UPS HAT (B) (INA219, its emulator converting before each refresh on the rig
   clock, charger set by hand).
2. **Cost**: refresh cost with nothing changing — wall time per refresh (median, p99) and bus
   transactions per refresh (median, p99) — before (``confirm=False``: one read, accepted as
   read, the behaviour before issue #9) and after (limits + confirmation re-reads).

Run: ``.venv/bin/python bench/bench_faults.py [--n N] [--rate R] [--seed S]``
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

from boards import SimBoard, SourceUpdate, get_board
from boards.source import BoardSource
from firmware_sim import Scheduler, Signals
from firmware_sim.clock import VirtualClock
from hal.chips import CHIPS, INA219, ChipEmulator, GaugeDriver
from hal.i2c import EmulatedBus
from hal.readings import BatteryState, GaugeReading

Fault = Callable[[EmulatedBus, int, random.Random], None]

#: Fault kinds, as EmulatedBus injects them (registers: MAX17048 VCELL 0x02, SOC 0x04, CRATE 0x16;
#: LC709203F Cell Voltage 0x09, ITE 0x0F).
FAULTS: dict[str, Fault] = {
    "nack": lambda bus, addr, rng: bus.inject_nack(addr),
    "eio": lambda bus, addr, rng: bus.inject_eio(addr, rng.choice(REGS[addr])),
    "garbage": lambda bus, addr, rng: bus.inject_garbage(addr, rng.choice(REGS[addr])),
    "stuck": lambda bus, addr, rng: bus.inject_stuck(addr, rng.choice(REGS[addr]),
                                                     bytes([rng.randrange(256), rng.randrange(256)])),
    "bad_pec": lambda bus, addr, rng: bus.inject_bad_pec(addr),
}
REGS = {0x36: (0x02, 0x04, 0x16), 0x0B: (0x09, 0x0F), 0x42: (0x02, 0x01)}
#: INA219 BUS 0x02 and SHUNT 0x01 (Waveshare UPS HAT (B) at 0x42).

#: Each board's cell(s) at 95 % (the WP8 task's external-power + > 90 % condition): 1S boards
#: 4.1 V; the Waveshare HAT (B) 2S pack reads its level off the 6.0-8.4 V curve (95 % = 8.28 V).
STATES = {
    "adafruit-lc709203f": BatteryState(voltage=4.1, soc=95.0, current=0.05, temperature=25.0,
                                       full_capacity=2500.0),
    "waveshare-ups-hat-b": BatteryState(voltage=8.28, soc=95.0, current=0.05, temperature=25.0,
                                        full_capacity=2500.0),
}


class OneRead:
    """A gauge driver whose next ``read()`` alone sees an injected fault (a glitch)."""

    def __init__(self, driver: GaugeDriver, bus: EmulatedBus) -> None:
        self.driver, self.bus = driver, bus
        self.chip, self.address = driver.chip, driver.address
        self.fault: Callable[[], None] | None = None

    def probe(self) -> bool:
        return self.driver.probe()

    def check_identity(self) -> None:
        self.driver.check_identity()

    def read(self) -> GaugeReading:
        fault, self.fault = self.fault, None
        if fault is not None:
            fault()
        try:
            return self.driver.read()
        finally:
            if fault is not None:
                self.bus.clear_faults()


@dataclass
class Rig:
    clock: VirtualClock
    bus: EmulatedBus
    address: int
    gauge: OneRead
    source: BoardSource
    sched: Scheduler
    signals: Signals
    chip: ChipEmulator | None = None
    state: BatteryState | None = None
    frozen: bool = False
    revokes: int = 0

    async def refresh(self) -> SourceUpdate:
        self.clock.advance_to(self.clock.now() + 1.0)
        if self.chip is not None and self.state is not None and not self.frozen:
            self.chip.update(self.state)  # a converting chip (the sim board syncs its own)
        update = await self.source.refresh()
        events = self.sched.set_signals(update.t, self.signals)
        self.revokes += sum(e.type == "revoke" for e in events)
        return update


async def make_rig(board: str, *, confirm: bool) -> Rig:
    clock = VirtualClock()
    spec = get_board(board)
    assert spec.gauge is not None
    chip: ChipEmulator | None = None
    state = STATES.get(board)
    if spec.simulated:
        sim = SimBoard(clock=clock, charger="ac", soc=95.0, charge_current=0.05)
        bus, factory = sim.bus, sim.pin_factory
    else:
        assert state is not None
        sim, bus, factory = None, EmulatedBus(), None
        chip = CHIPS[spec.gauge.chip].emulator(state)
        bus.attach(spec.gauge.address, chip)
    driver = CHIPS[spec.gauge.chip].make_driver(bus, spec.gauge.address, spec.gauge.params)
    if isinstance(driver, INA219):
        # the emulated chip converts on the rig clock; before issue #9 there was no CNVR check
        driver.clock = clock.now if confirm else None
    gauge = OneRead(driver, bus)
    source = BoardSource(spec, clock=clock, gauge=gauge, gauge_label=f"gauge {spec.gauge.label}",
                         pin_factory=factory, sim=sim, poll_interval=None, confirm=confirm)
    signals = Signals().updated({"charger": "ac", "battery_level": 95.0, "screen_locked": True})
    sched = Scheduler(signals=signals, seed=1)
    rig = Rig(clock, bus, spec.gauge.address, gauge, source, sched, signals, chip, state)

    def apply(update: SourceUpdate) -> None:
        rig.signals = rig.signals.updated(update.values, t=update.t, stale=update.stale, fresh=update.fresh)

    await source.start(apply)
    if spec.power_pin is None and "charger" in source.settable:  # no pin: the charger is set by hand
        await source.set({"charger": "ac"})
    await source.set({"screen_locked": True})
    sched.set_signals(clock.now(), rig.signals)
    sched.handle(clock.now(), "mail", "register", {"platform": "wp8"})
    sched.handle(clock.now(), "mail", "add", {"name": "sync", "type": "resource_intensive"})
    return rig


async def run_faults(board: str, kinds: list[str], n: int, rate: float, seed: int, confirm: bool) -> list[object]:
    rng = random.Random(seed)
    rig = await make_rig(board, confirm=confirm)
    injected = reported = 0
    for _ in range(n):
        glitch = rng.random() < rate
        if glitch:
            kind = rng.choice(kinds)
            injected += 1
            rig.gauge.fault = lambda k=kind: FAULTS[k](rig.bus, rig.address, rng)
        update = await rig.refresh()
        reported += glitch and bool(update.faults)
    # a persisting fault: polls until the gauge's signals are stale, then until fresh again
    rig.bus.inject_nack(rig.address)
    to_stale = 0
    while not (await rig.refresh()).stale:
        to_stale += 1
        if to_stale > 10:
            break
    to_stale += 1
    rig.bus.clear_faults()
    to_fresh = 1
    while (await rig.refresh()).stale and to_fresh <= 10:
        to_fresh += 1
    stuck = await polls_to_stale_when_frozen(rig) if "stuck" in kinds else "-"
    await rig.source.stop()
    mode = "after" if confirm else "before"
    return [f"{board} ({mode})", "/".join(kinds), injected, reported, rig.revokes, to_stale, to_fresh,
            stuck]


async def polls_to_stale_when_frozen(rig: Rig, limit: int = 10) -> str:
    """A chip that stops converting (keeps answering its last values): polls until its signals
    are unknown, or "never" when the chip gives no way to tell (README stuck-register table)."""
    rig.frozen = True
    if rig.source.sim is not None:
        rig.source.sim.freeze_gauge(True)
    polls = 0
    try:
        while polls < limit:
            polls += 1
            if (await rig.refresh()).stale:
                return str(polls)
        return "never"
    finally:
        rig.frozen = False
        if rig.source.sim is not None:
            rig.source.sim.freeze_gauge(False)


async def run_cost(board: str, n: int, confirm: bool) -> list[object]:
    rig = await make_rig(board, confirm=confirm)
    walls: list[float] = []
    transactions: list[int] = []
    for _ in range(n):
        before = rig.source.gauge_transactions
        start = time.perf_counter_ns()
        await rig.refresh()
        walls.append((time.perf_counter_ns() - start) / 1000.0)
        transactions.append(rig.source.gauge_transactions - before)
    await rig.source.stop()
    walls.sort()
    transactions.sort()
    p99 = int(0.99 * (n - 1))
    return [f"{board} ({'after' if confirm else 'before'})", f"{statistics.median(walls):.0f}",
            f"{walls[p99]:.0f}", f"{statistics.median(transactions):g}", transactions[p99]]


def table(headers: list[str], rows: list[list[object]]) -> None:
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *rows, strict=True)]
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)))
    for row in rows:
        print("  ".join(str(x).ljust(w) for x, w in zip(row, widths, strict=True)))


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=0.10)
    parser.add_argument("--seed", type=int, default=9)
    args = parser.parse_args()
    boards = {"sim": ["nack", "eio", "garbage", "stuck", "bad_pec"],
              "adafruit-lc709203f": ["nack", "eio", "garbage", "stuck", "bad_pec"],
              "waveshare-ups-hat-b": ["nack", "eio", "garbage", "stuck", "bad_pec"]}
    rows = []
    for board, kinds in boards.items():
        for confirm in (False, True):
            rows.append(await run_faults(board, kinds, args.n, args.rate, args.seed, confirm))
    print(f"Faults: {args.n} refreshes, {args.rate:.0%} of them with one faulty gauge read")
    table(["board", "fault kinds", "injected", "reported", "revokes", "polls→stale", "polls→fresh",
           "frozen chip→stale"], rows)
    print()
    cost = []
    for board in boards:
        for confirm in (False, True):
            cost.append(await run_cost(board, args.n, confirm))
    print(f"Cost per refresh, nothing changing ({args.n} refreshes)")
    table(["board", "median µs", "p99 µs", "median bus tx", "p99 bus tx"], cost)


if __name__ == "__main__":
    asyncio.run(main())
