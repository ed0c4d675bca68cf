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


# -- chip facts: what each chip measures, its parameters, its datasheet limits ---------------------

def test_every_chip_declares_measures_parameters_and_limits() -> None:
    for name, spec in CHIPS.items():
        assert spec.measures, name
        assert "capacity_mah" in spec.params, name
        lim = spec.limits_for({})
        assert lim.voltage[0] < lim.voltage[1] and lim.soc == (lim.soc[0], lim.soc[1]), name


def test_parameters_enable_measurements() -> None:
    assert "current" in CHIPS["max17048"].measured({"capacity_mah": 2500.0})
    assert "current" not in CHIPS["max17048"].measured({})
    assert "temperature" in CHIPS["lc709203f"].measured({"thermistor": True})
    assert "battery_level" in CHIPS["ina219"].measured({"soc_empty_v": 6.0, "soc_full_v": 8.4})


def test_datasheet_limits_are_quoted() -> None:
    from hal.chips import registry

    # MAX17043/MAX17048 datasheets: VDD 2.5 V to 4.5 V (the chip runs from the cell it measures)
    assert registry.MAX1704X_VDD_V == (2.5, 4.5)
    # INA219 datasheet: bus 0-26 V; shunt full scale ±320 mV at PGA /8 → ±3.2 A on 0.1 Ω
    assert registry.INA219_V[1] == 26.0 and registry.INA219_SHUNT_FSR_V == 0.320
    assert CHIPS["ina219"].limits_for({"shunt_ohm": 0.01}).current == pytest.approx((-32.0, 32.0))
    assert CHIPS["ina219"].limits_for({}).current == pytest.approx((-3.2, 3.2))
    # BQ27441-G1: -40 °C to 85 °C operating; design capacity at most 8000 mAh
    assert registry.BQ27441_C == (-40.0, 85.0) and registry.BQ27441_MAH == (0.0, 8000.0)


@pytest.mark.parametrize(
    ("chip", "field", "value", "what"),
    [
        ("max17048", "voltage", 0.53, "voltage"),          # issue #9: 0.53 V reached the scheduler
        ("max17048", "charge_rate", -6815.0, "charge rate"),  # −170 A on a 2500 mAh cell
        ("ina219", "current", -170.0, "current"),
        ("bq27441", "temperature", 200.0, "temperature"),
        ("bq27441", "full_capacity", 65535.0, "full capacity"),
        ("cw2015", "soc", 100.5, "SOC"),
        ("max17048", "soc", float("nan"), "SOC"),
    ],
)
def test_an_implausible_reading_is_named(chip: str, field: str, value: float, what: str) -> None:
    from dataclasses import replace

    from hal.readings import GaugeReading

    good = GaugeReading(chip=chip, address=CHIPS[chip].default_address, voltage=3.8, soc=60.0)
    assert CHIPS[chip].implausible(good, {}) is None
    message = CHIPS[chip].implausible(replace(good, **{field: value}), {})
    assert message is not None and f"implausible {what}" in message and chip in message


def test_parameter_problems_come_from_the_registry() -> None:
    ina = CHIPS["ina219"]
    assert ina.param_problems({"shunt_ohm": 0.1}) == []
    assert ina.param_problems({"shunt_ohm": -1}) == [("shunt_ohm", "-1 must be a positive number")]
    assert ina.param_problems({"soc_empty_v": 6.0}) == [
        ("soc_full_v", "soc_empty_v and soc_full_v go together (the linear voltage-to-SoC curve)")]
    assert CHIPS["max17048"].param_problems({"thermistor": True})[0][0] == "thermistor"


def test_the_driver_is_made_from_board_parameters() -> None:
    from hal.chips import INA219, LC709203F

    ina = CHIPS["ina219"].make_driver(EmulatedBus(), 0x41, {"shunt_ohm": 0.01, "invert_current": True})
    assert isinstance(ina, INA219) and ina.calibration.shunt_ohms == 0.01 and ina.invert_current
    lc = CHIPS["lc709203f"].make_driver(EmulatedBus(), 0x0B, {"thermistor": True})
    assert isinstance(lc, LC709203F)
