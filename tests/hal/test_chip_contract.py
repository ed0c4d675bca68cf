"""The driver contract, run against every backend (emulated bus always; /dev/i2c-1 on a Pi).

Every driver: no I/O in the constructor, ``probe()`` identifies its chip, ``read()`` returns a
``GaugeReading`` in SI units whose ``transactions`` is the real count, and asking an empty
address gives ``probe() is False`` rather than an exception.
"""

from __future__ import annotations

from typing import Any

import pytest

from hal.chips import CHIPS
from hal.i2c import EmulatedBus
from hal.readings import GaugeReading

CHIP_NAMES = list(CHIPS)

# Bus transactions one read() takes (the drivers' docstrings state the same numbers).
TRANSACTIONS_PER_READ = {
    "max17048": 2,   # 4-byte block VCELL+SOC, CRATE
    "max17049": 2,
    "max17043": 1,   # 4-byte block VCELL+SOC
    "max17044": 1,
    "bq27441": 1,    # 28-byte incremental read 0x02..0x1D
    "lc709203f": 2,  # Cell Voltage, ITE (word reads with PEC)
    "cw2015": 1,     # 6-byte block VCELL+SOC+RRT
    "ina219": 2,     # BUS, SHUNT (no clock given: no CNVR stuck check; with one +POWER = 3)
}
TWO_CELL = {"max17049", "max17044"}
# 7-bit addresses 0x00-0x07 are reserved (I²C-bus spec UM10204 §3.1.12): nothing answers there.
EMPTY_ADDRESS = 0x08


def test_every_registered_chip_has_a_transaction_budget() -> None:
    assert set(TRANSACTIONS_PER_READ) == set(CHIPS)


@pytest.mark.parametrize("chip", CHIP_NAMES)
def test_probe_identifies_the_chip(rig: Any, chip: str) -> None:
    assert rig.driver.probe() is True


@pytest.mark.parametrize("chip", CHIP_NAMES)
def test_read_is_si_units_with_the_real_transaction_count(rig: Any, chip: str) -> None:
    before = rig.bus.transactions(rig.address) if isinstance(rig.bus, EmulatedBus) else None
    reading = rig.driver.read()
    assert isinstance(reading, GaugeReading)
    assert (reading.chip, reading.address) == (chip, rig.address)
    assert reading.transactions == TRANSACTIONS_PER_READ[chip]
    if before is not None:
        assert rig.bus.transactions(rig.address) - before == reading.transactions
    assert reading.voltage is not None
    cells = 2 if chip in TWO_CELL else 1
    assert 0.0 <= reading.voltage <= (26.0 if chip == "ina219" else 4.6 * cells)
    if reading.soc is not None:
        assert 0.0 <= reading.soc <= 105.0
    if reading.current is not None:
        assert abs(reading.current) < 10.0  # A


@pytest.mark.parametrize("chip", CHIP_NAMES)
def test_constructor_does_no_io(chip: str) -> None:
    bus = EmulatedBus()
    CHIPS[chip].driver(bus=bus)
    assert bus.transactions() == 0


@pytest.mark.parametrize("chip", CHIP_NAMES)
def test_probe_of_an_empty_address_is_false(rig: Any, chip: str) -> None:
    driver = CHIPS[chip].driver(bus=rig.bus, address=EMPTY_ADDRESS)
    assert driver.probe() is False


@pytest.mark.parametrize("chip", CHIP_NAMES)
def test_default_address_is_the_datasheet_one(chip: str) -> None:
    # reference/pi-hardware.md §1: MAX1704x 0x36, BQ27441 0x55, LC709203F 0x0B,
    # INA219 0x40-0x4F, CW2015 0x62
    expected = {"bq27441": 0x55, "lc709203f": 0x0B, "ina219": 0x40, "cw2015": 0x62}
    assert CHIPS[chip].driver.default_address == expected.get(chip, 0x36)
    assert CHIPS[chip].default_address == CHIPS[chip].driver.default_address
