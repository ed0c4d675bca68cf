"""The chip registry and identify(), as `wakebench probe` uses them."""

from __future__ import annotations

import pytest

from hal.chips import CHIPS, INA219Emulator, MAX17048Emulator, chip_spec, identify
from hal.errors import BusError
from hal.i2c import EmulatedBus
from hal.readings import BatteryState

STATE = BatteryState(voltage=3.8, soc=60.0, current=-0.2, full_capacity=2000.0)
SIBLINGS = {"max17049": "max17048", "max17044": "max17043"}


@pytest.mark.parametrize("name", list(CHIPS))
def test_each_chip_is_identified_at_its_default_address(name: str) -> None:
    spec = CHIPS[name]
    bus = EmulatedBus()
    bus.attach(spec.default_address, spec.emulator(STATE))
    assert identify(bus, spec.default_address) == SIBLINGS.get(name, name)
    assert spec.identifiable is (name not in SIBLINGS)
    assert spec.identity


def test_identify_on_an_empty_address_is_none() -> None:
    assert identify(EmulatedBus(), 0x36) is None
    assert identify(EmulatedBus(), 0x10) is None  # no known chip lives there


def test_identify_picks_the_right_chip_on_a_shared_bus() -> None:
    bus = EmulatedBus()
    bus.attach(0x36, MAX17048Emulator(STATE))
    bus.attach(0x42, INA219Emulator(STATE))
    assert identify(bus, 0x36) == "max17048"
    assert identify(bus, 0x42) == "ina219"


def test_identify_lets_real_bus_failures_through() -> None:
    bus = EmulatedBus()
    bus.attach(0x36, MAX17048Emulator(STATE))
    bus.inject_eio(0x36, 0x08)
    with pytest.raises(BusError, match="0x36"):
        identify(bus, 0x36)


def test_chip_spec_lookup() -> None:
    assert chip_spec("MAX17048").driver.chip == "max17048"
    with pytest.raises(KeyError, match="known chips: max17048"):
        chip_spec("max9999")
