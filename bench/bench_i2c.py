"""I²C driver cost per read() on the emulated bus (issue 3). Prints one table.

For every registered chip: bus transactions one ``read()`` takes (counted by the bus, checked
against the driver's own count), bytes on the wire per read (SMBus framing: address bytes,
command, data, PEC), and the median / p95 wall time per read on the in-memory bus, which is
the Python cost of the driver + register parsing (a real 100 kHz bus adds ~90 µs per byte).

Run: ``.venv/bin/python bench/bench_i2c.py [--reads N]``
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

from hal.chips import CHIPS
from hal.i2c import EmulatedBus, I2CBus
from hal.readings import BatteryState

STATE = BatteryState(voltage=3.85, soc=72.3, current=-0.42, temperature=31.5,
                     remaining_capacity=1446.0, full_capacity=2000.0)
# Standard-mode I²C: 100 kbit/s, 9 clocks per byte (8 data + ACK) → 90 µs per byte.
STANDARD_MODE_US_PER_BYTE = 9 / 100_000 * 1e6


class WireCounter:
    """An I2CBus wrapper that counts bytes on the wire per SMBus transaction type."""

    def __init__(self, bus: EmulatedBus) -> None:
        self.bus = bus
        self.bytes = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.bus, name)

    @property
    def pec(self) -> bool:
        return self.bus.pec

    @pec.setter
    def pec(self, enable: bool) -> None:
        self.bus.pec = enable

    def _pec(self) -> int:
        return 1 if self.bus.pec else 0

    def read_i2c_block_data(self, addr: int, reg: int, length: int) -> list[int]:
        self.bytes += 3 + length  # addr+W, command, addr+R, data (no PEC on I²C block)
        return self.bus.read_i2c_block_data(addr, reg, length)

    def write_i2c_block_data(self, addr: int, reg: int, data: list[int]) -> None:
        self.bytes += 2 + len(data)
        self.bus.write_i2c_block_data(addr, reg, data)

    def read_word_data(self, addr: int, reg: int) -> int:
        self.bytes += 5 + self._pec()
        return self.bus.read_word_data(addr, reg)

    def write_word_data(self, addr: int, reg: int, value: int) -> None:
        self.bytes += 4 + self._pec()
        self.bus.write_word_data(addr, reg, value)


def measure(chip: str, reads: int) -> tuple[int, int, float, float]:
    spec = CHIPS[chip]
    bus = EmulatedBus()
    bus.attach(spec.default_address, spec.emulator(STATE))
    wire = WireCounter(bus)
    wired: I2CBus = wire  # type: ignore[assignment]  # structural wrapper
    driver = spec.driver(bus=wired)
    reading = driver.read()
    if bus.transactions(spec.default_address) != reading.transactions:
        raise SystemExit(f"{chip}: driver counted {reading.transactions}, bus saw "
                         f"{bus.transactions(spec.default_address)}")
    wire_bytes = wire.bytes
    driver = spec.driver(bus=bus)  # time without the byte counter in the way
    samples = []
    for _ in range(reads):
        start = time.perf_counter_ns()
        driver.read()
        samples.append((time.perf_counter_ns() - start) / 1000.0)
    samples.sort()
    p95 = samples[int(0.95 * (len(samples) - 1))]
    return reading.transactions, wire_bytes, statistics.median(samples), p95


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reads", type=int, default=2000, help="reads per chip (default 2000)")
    args = parser.parse_args()
    header = (f"{'chip':<10} {'transactions/read':>17} {'wire bytes':>10} "
              f"{'µs/read median':>14} {'p95':>8} {'bus time @100k':>14}")
    print(f"I²C driver read() on the emulated bus, {args.reads} reads per chip")
    print(header)
    print("-" * len(header))
    for chip in CHIPS:
        transactions, wire_bytes, median, p95 = measure(chip, args.reads)
        bus_us = wire_bytes * STANDARD_MODE_US_PER_BYTE
        print(f"{chip:<10} {transactions:>17} {wire_bytes:>10} {median:>14.1f} {p95:>8.1f} "
              f"{bus_us:>11.0f} µs")


if __name__ == "__main__":
    main()
