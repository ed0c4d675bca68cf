"""Trustworthy gauge readings (issue #9.2): limits, confirmation re-reads, persisting faults.

A :class:`Glitch` makes exactly one driver read see an injected bus fault (``EmulatedBus.inject_*``),
as a loose wire or a noisy bus does; a re-read sees the chip again.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from boards.gauge import MAX_READS_PER_POLL, MAX_UNCONFIRMED_STEP_PCT, CheckedGauge
from hal.chips import MAX17048, MAX17048Emulator, chip_spec
from hal.i2c import EmulatedBus
from hal.readings import BatteryState, GaugeReading
from wbcommon.signals import BATTERY_DECISION_LEVELS_PCT

ADDR = 0x36
CAPACITY = {"capacity_mah": 2500.0}


class Glitch:
    """A MAX17048 driver whose next ``read()`` alone sees ``fault(bus)``."""

    chip = "max17048"

    def __init__(self, bus: EmulatedBus) -> None:
        self.bus = bus
        self.address = ADDR
        self.driver = MAX17048(bus=bus, address=ADDR)
        self.next: Callable[[EmulatedBus], None] | None = None

    def probe(self) -> bool:
        return self.driver.probe()

    def check_identity(self) -> None:
        self.driver.check_identity()

    def read(self) -> GaugeReading:
        fault, self.next = self.next, None
        if fault is not None:
            fault(self.bus)
        try:
            return self.driver.read()
        finally:
            if fault is not None:
                self.bus.clear_faults()


def rig(soc: float = 95.0, current: float = 1.0) -> tuple[EmulatedBus, MAX17048Emulator, Glitch, CheckedGauge]:
    bus = EmulatedBus()
    emulator = MAX17048Emulator(BatteryState(voltage=4.1, soc=soc, current=current, full_capacity=2500.0))
    bus.attach(ADDR, emulator)
    glitch = Glitch(bus)
    gauge = CheckedGauge(glitch, chip=chip_spec("max17048"), params=CAPACITY, label="gauge max17048@0x36")
    return bus, emulator, glitch, gauge


def test_the_decision_levels_are_the_platforms_thresholds() -> None:
    assert BATTERY_DECISION_LEVELS_PCT == (15.0, 20.0, 90.0)
    assert MAX_READS_PER_POLL == 3 and MAX_UNCONFIRMED_STEP_PCT == 1.0


def test_nothing_changed_costs_one_read() -> None:
    _bus, _emu, glitch, gauge = rig()
    first = gauge.poll(None)          # no previous reading: the first one is confirmed
    assert first.reads == 2 and first.reading is not None
    again = gauge.poll(first.reading)
    assert (again.reads, again.faults, again.stale) == (1, (), False)
    assert again.transactions == glitch.driver.read().transactions


@pytest.mark.parametrize(
    "fault",
    [
        lambda bus: bus.inject_nack(ADDR),
        lambda bus: bus.inject_eio(ADDR, 0x04),
        lambda bus: bus.inject_garbage(ADDR, 0x04, b"\x0a\x00"),      # SOC 10 %: crosses 90/20/15
        lambda bus: bus.inject_stuck(ADDR, 0x16, b"\xff\x00"),        # CRATE −53 %/h: charging flips
        lambda bus: bus.inject_garbage(ADDR, 0x02, b"\x1a\x80"),      # VCELL 0.53 V: implausible
    ],
    ids=["nack", "eio", "garbage-soc", "stuck-crate", "garbage-vcell"],
)
def test_a_single_bad_read_is_reported_never_published(fault: Callable[[EmulatedBus], None]) -> None:
    _bus, _emu, glitch, gauge = rig()
    last = gauge.poll(None).reading
    assert last is not None
    glitch.next = fault
    result = gauge.poll(last)
    assert len(result.faults) == 1 and "max17048" in result.faults[0]
    assert not result.stale
    assert result.reading is not None
    assert result.reading.soc == pytest.approx(last.soc) and result.reading.charging is True


def test_a_persisting_fault_makes_the_signals_stale_within_the_poll() -> None:
    bus, _emu, _glitch, gauge = rig()
    last = gauge.poll(None).reading
    bus.inject_nack(ADDR)
    result = gauge.poll(last)
    assert result.stale and result.reading is None
    assert result.reads == MAX_READS_PER_POLL and len(result.faults) == MAX_READS_PER_POLL
    bus.clear_faults()
    recovered = gauge.poll(last)      # recovery at the next good read
    assert not recovered.stale and recovered.reading is not None and recovered.faults == ()


def test_a_real_change_is_confirmed_and_published() -> None:
    _bus, emulator, _glitch, gauge = rig()
    last = gauge.poll(None).reading
    emulator.update(BatteryState(voltage=3.9, soc=95.0, current=-0.5, full_capacity=2500.0))   # unplugged: CRATE < 0
    result = gauge.poll(last)
    assert result.reads == 2 and result.reading is not None and result.reading.charging is False


def test_an_implausible_reading_names_the_quantity_and_the_datasheet_range() -> None:
    bus, _emu, _glitch, gauge = rig()
    bus.inject_stuck(ADDR, 0x16, b"\x80\x00")   # CRATE −6815 %/h: −170 A on 2500 mAh (issue #9)
    result = gauge.poll(None)
    assert result.stale
    assert "implausible charge rate" in result.faults[0] and "-200..200 %/h" in result.faults[0]


def test_the_baseline_without_confirmation_publishes_the_glitch() -> None:
    _bus, _emu, glitch, gauge = rig()
    gauge.confirm = False
    last = gauge.poll(None).reading
    glitch.next = lambda bus: bus.inject_garbage(ADDR, 0x04, b"\x0a\x00")
    result = gauge.poll(last)
    assert result.reading is not None and result.reading.soc == pytest.approx(10.0)
