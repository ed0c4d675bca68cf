"""Trustworthy gauge readings: plausibility limits, confirmation re-reads, fault reports.

A single bad read must never reach the scheduler as a fresh value (issue #9.2). Each poll:

1. read the chip; a bus error (NACK, EIO, bad PEC) or a reading outside the chip's datasheet
   limits (:meth:`hal.chips.ChipSpec.implausible`) is a *fault*, reported, never a value;
2. a good reading that would change a decision — ``charging`` flips, the battery level crosses
   a level of :data:`wbcommon.signals.BATTERY_DECISION_LEVELS_PCT`, or a quantity jumps by
   more than :data:`MAX_UNCONFIRMED_STEP_PCT` / ``_V`` / ``_C`` — is published only when an
   immediate re-read agrees (same charging state, same side of every level, within the steps);
3. at most :data:`MAX_READS_PER_POLL` reads per poll. When none is good the gauge's signals are
   stale within this poll (a persisting fault); when good reads disagree the previous values
   stay and the disagreement is reported.

A stuck register is caught where the chip makes it possible: a value outside the datasheet
range (0xFFFF / 0x0000 words are) is implausible; the INA219 driver reads its conversion-ready
bit (CNVR) and raises when no conversion completed for too long (``hal.chips.ina219``), which
is a fault here like any other. On the other chips a stuck value inside the range is read
identically twice and cannot be told from the truth (README "Readings you can trust" lists
what each chip allows).

When nothing changes a poll costs exactly one read, as before.
"""

from __future__ import annotations

import errno
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from hal.chips import ChipSpec, GaugeDriver
from hal.errors import HalError
from hal.readings import GaugeReading
from wbcommon.signals import BATTERY_DECISION_LEVELS_PCT

__all__ = ["MAX_READS_PER_POLL", "MAX_UNCONFIRMED_STEP_A", "MAX_UNCONFIRMED_STEP_C", "MAX_UNCONFIRMED_STEP_PCT", "MAX_UNCONFIRMED_STEP_V", "CheckedGauge", "GaugePoll", "describe"]

#: Reads per poll at most: the first, a confirmation, and one more to break a tie between a
#: glitch and the truth (wakebench choice: a third read costs little and a fourth cannot tell
#: more than the third when faults are independent).
MAX_READS_PER_POLL: Final = 3

#: A battery-level change larger than this between two polls is confirmed before publishing
#: (wakebench choice: at the default 1 s poll a cell moves 1 % in minutes — 1 % of 2500 mAh at
#: 0.5 A is 3 min — so 1 % in one poll is a glitch or a real jump worth a second read; with
#: long poll intervals it costs one extra read on the polls that see such a change).
MAX_UNCONFIRMED_STEP_PCT: Final = 1.0

#: Voltage and temperature changes between two polls larger than these are confirmed too
#: (wakebench choices: a 0.5 A load step moves a cell with 80 mΩ internal resistance by
#: 0.04 V, a plug by ~0.12 V — one extra read then; a cell warms by degrees per minute, not
#: per second). They catch plausible garbage.
MAX_UNCONFIRMED_STEP_V: Final = 0.05
MAX_UNCONFIRMED_STEP_C: Final = 5.0
#: A battery-current change larger than this (A) is confirmed too (a load step of a Pi is
#: well under it within one poll; a real larger step costs one extra read once).
MAX_UNCONFIRMED_STEP_A: Final = 0.5


@dataclass(frozen=True, slots=True)
class GaugePoll:
    """One poll's outcome.

    Attributes:
        reading: the reading to publish, or None (keep the previous one / mark stale).
        stale: True when no good reading was obtained (every read failed).
        faults: every fault seen in this poll, each naming chip, address and what failed.
        reads: driver reads done (1 when nothing changed).
        transactions: bus transactions those reads took.
    """

    reading: GaugeReading | None
    stale: bool
    faults: tuple[str, ...]
    reads: int
    transactions: int


def describe(exc: BaseException) -> str:
    """``EIO: <message>`` for OS-level errors (no ``[Errno 5]`` prefix), else the message."""
    if isinstance(exc, OSError) and exc.strerror:
        name = errno.errorcode.get(exc.errno or 0, "")
        return f"{name}: {exc.strerror}" if name else exc.strerror
    return str(exc)


class CheckedGauge:
    """A gauge driver read with plausibility checks and confirmation re-reads.

    Args:
        driver: the chip driver (from :meth:`hal.chips.ChipSpec.make_driver`).
        chip: its registry entry (limits).
        params: the board's chip parameters.
        label: how faults name the gauge (``gauge max17048@0x36 on bus 1``).
        levels: battery levels (%) whose crossing is confirmed.
        confirm: False reproduces the behaviour before issue #9 — one read, accepted unless
            the driver raises, no limits, no re-read (the baseline of bench/bench_faults.py).
    """

    def __init__(
        self,
        driver: GaugeDriver,
        *,
        chip: ChipSpec,
        params: Mapping[str, Any],
        label: str,
        levels: Sequence[float] = BATTERY_DECISION_LEVELS_PCT,
        confirm: bool = True,
    ) -> None:
        self.driver = driver
        self.chip = chip
        self.params = params
        self.label = label
        self.levels = tuple(levels)
        self.confirm = confirm

    def poll(self, last: GaugeReading | None) -> GaugePoll:
        """Read until a reading is trustworthy (see module docstring). Never raises."""
        if not self.confirm:
            return self._unchecked()
        faults: list[str] = []
        good: list[GaugeReading] = []
        transactions = 0
        reads = 0
        while reads < MAX_READS_PER_POLL:
            reads += 1
            reading, fault = self._read_once()
            if reading is not None:
                transactions += reading.transactions
            if fault is not None:
                faults.append(fault)
                continue
            assert reading is not None
            if not self._decisive(reading, last) or any(self._agree(reading, g) for g in good):
                faults += [self._discarded(g) for g in good if not self._agree(reading, g)]
                return GaugePoll(self.chip.complete(reading, self.params), False, tuple(faults),
                                 reads, transactions)
            good.append(reading)
        if not good:
            return GaugePoll(None, True, tuple(faults), reads, transactions)
        faults.append(f"{self.label}: {reads} reads disagree on a decision "
                      f"(charging / battery level); keeping the previous values")
        return GaugePoll(None, last is None, tuple(faults), reads, transactions)

    def _unchecked(self) -> GaugePoll:
        try:
            raw = self.driver.read()
        except HalError as exc:
            return GaugePoll(None, True, (f"{self.label}: {describe(exc)}",), 1, 0)
        return GaugePoll(self.chip.complete(raw, self.params), False, (), 1, raw.transactions)

    def _read_once(self) -> tuple[GaugeReading | None, str | None]:
        try:
            raw = self.driver.read()
        except HalError as exc:
            return None, f"{self.label}: {describe(exc)}"
        reading = self.chip.complete(raw, self.params)
        why = self.chip.implausible(reading, self.params)
        if why is not None:
            return raw, f"{self.label}: {why}"
        return raw, None

    def _discarded(self, reading: GaugeReading) -> str:
        return (f"{self.label}: discarded an unconfirmed reading (SOC {reading.soc!r} %, charging "
                f"{self._charging(reading)!r}): an immediate re-read disagreed")

    def _current(self, reading: GaugeReading) -> float | None:
        return self.chip.complete(reading, self.params).current

    def _charging(self, reading: GaugeReading) -> bool | None:
        if reading.charging is not None:
            return reading.charging
        current = self.chip.complete(reading, self.params).current
        return None if current is None else current > 0

    def _band(self, soc: float | None) -> int | None:
        return None if soc is None else sum(soc > level for level in self.levels)

    def _decisive(self, reading: GaugeReading, last: GaugeReading | None) -> bool:
        return last is None or not self._agree(reading, last)

    def _agree(self, a: GaugeReading, b: GaugeReading) -> bool:
        """Same decision (charging state, side of every level) and no jump between them."""
        if self._charging(a) != self._charging(b) or self._band(a.soc) != self._band(b.soc):
            return False
        return (_near(a.soc, b.soc, MAX_UNCONFIRMED_STEP_PCT)
                and _near(a.voltage, b.voltage, MAX_UNCONFIRMED_STEP_V)
                and _near(a.temperature, b.temperature, MAX_UNCONFIRMED_STEP_C)
                and _near(self._current(a), self._current(b), MAX_UNCONFIRMED_STEP_A))


def _near(a: float | None, b: float | None, step: float) -> bool:
    return a is None or b is None or abs(a - b) <= step
