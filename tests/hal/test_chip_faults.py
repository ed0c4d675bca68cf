"""Injected faults reach the caller as BusError / ChipError naming address and register.

A driver never lets a bare OSError or construct's ConstructError escape.
"""

from __future__ import annotations

import errno
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hal.chips import CHIPS
from hal.errors import BusError, ChipError
from hal.i2c import is_nack
from hal.readings import BatteryState, GaugeReading

CHIP_NAMES = list(CHIPS)

# The register each read() starts with, and the register holding the voltage.
FIRST_REGISTER = {"max17048": 0x02, "max17049": 0x02, "max17043": 0x02, "max17044": 0x02,
                  "bq27441": 0x02, "lc709203f": 0x09, "cw2015": 0x02, "ina219": 0x02}
VOLTAGE_REGISTER = {**FIRST_REGISTER, "bq27441": 0x04}


def hex2(value: int) -> str:
    return f"0x{value:02X}"


@pytest.mark.parametrize("chip", CHIP_NAMES)
def test_nack_is_a_bus_error_and_probe_says_absent(make_rig: Callable[..., Any],
                                                   chip: str) -> None:
    rig = make_rig(chip)
    rig.bus.inject_nack(rig.address)
    with pytest.raises(BusError) as caught:
        rig.driver.read()
    assert is_nack(caught.value)
    message = str(caught.value)
    assert hex2(rig.address) in message
    assert f"register {hex2(FIRST_REGISTER[chip])}" in message
    assert rig.driver.probe() is False


@pytest.mark.parametrize("chip", CHIP_NAMES)
def test_eio_is_a_bus_error_and_probe_does_not_hide_it(make_rig: Callable[..., Any],
                                                       chip: str) -> None:
    rig = make_rig(chip)
    rig.bus.inject_eio(rig.address, VOLTAGE_REGISTER[chip])
    with pytest.raises(BusError) as caught:
        rig.driver.read()
    assert caught.value.errno == errno.EIO
    assert hex2(rig.address) in str(caught.value)
    assert f"register {hex2(VOLTAGE_REGISTER[chip])}" in str(caught.value)
    rig.bus.clear_faults()
    assert rig.driver.read().voltage is not None


@pytest.mark.parametrize("chip", CHIP_NAMES)
def test_all_ones_garbage_fails_validation_with_a_chip_error(make_rig: Callable[..., Any],
                                                             chip: str) -> None:
    rig = make_rig(chip)
    rig.bus.inject_garbage(rig.address, data=b"\xff")
    with pytest.raises(ChipError) as caught:
        rig.driver.read()
    assert hex2(rig.address) in str(caught.value)
    assert "register" in str(caught.value)


@pytest.mark.parametrize("chip", CHIP_NAMES)
def test_register_stuck_high_is_a_chip_error_naming_it(make_rig: Callable[..., Any],
                                                       chip: str) -> None:
    rig = make_rig(chip)
    rig.bus.inject_stuck(rig.address, VOLTAGE_REGISTER[chip], b"\xff\xff")
    with pytest.raises(ChipError) as caught:
        rig.driver.read()
    assert f"({hex2(VOLTAGE_REGISTER[chip])})" in str(caught.value)
    assert hex2(rig.address) in str(caught.value)


@pytest.mark.parametrize("chip", CHIP_NAMES)
def test_plausible_stuck_value_freezes_the_reading(make_rig: Callable[..., Any],
                                                   nominal: BatteryState, chip: str) -> None:
    """One read cannot tell a stuck register from a steady battery: the value just stops
    following the model (freshness/staleness is the boards layer's job)."""
    rig = make_rig(chip)
    frozen = bytes(rig.bus.read_i2c_block_data(rig.address, VOLTAGE_REGISTER[chip], 2))
    if chip == "lc709203f":  # word + PEC: read what the chip sends, without the CRC byte
        frozen = frozen[:2]
    first = rig.driver.read().voltage
    rig.bus.inject_stuck(rig.address, VOLTAGE_REGISTER[chip], frozen)
    rig.emulator.update(replace(nominal, voltage=nominal.voltage - 0.2))
    assert rig.driver.read().voltage == first
    rig.bus.clear_faults()
    assert rig.driver.read().voltage != first


def test_corrupted_pec_is_a_bus_error() -> None:
    from hal.chips import LC709203F, LC709203FEmulator
    from hal.i2c import EmulatedBus

    bus = EmulatedBus()
    bus.attach(0x0B, LC709203FEmulator())
    bus.inject_bad_pec(0x0B)
    with pytest.raises(BusError) as caught:
        LC709203F(bus=bus).read()
    assert caught.value.errno == errno.EBADMSG
    assert "0x0B" in str(caught.value) and "register 0x09" in str(caught.value)


@pytest.mark.parametrize("chip", CHIP_NAMES)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(noise=st.binary(min_size=1, max_size=8))
def test_random_garbage_never_escapes_as_anything_but_hal_errors(
        make_rig: Callable[..., Any], chip: str, noise: bytes) -> None:
    rig = make_rig(chip)
    rig.bus.inject_garbage(rig.address, data=noise)
    try:
        reading = rig.driver.read()
    except ChipError as exc:
        assert hex2(rig.address) in str(exc)
    else:
        assert isinstance(reading, GaugeReading)


@pytest.mark.parametrize("chip", ["max17048", "max17043", "ina219", "cw2015", "bq27441"])
def test_a_bad_pec_fails_every_read_of_a_chip_without_pec_too(chip: str) -> None:
    # a chip that sends no PEC byte: the injected bad PEC stands for a corrupted frame
    from hal.chips import CHIPS
    from hal.i2c import EmulatedBus

    spec = CHIPS[chip]
    bus = EmulatedBus()
    bus.attach(spec.default_address, spec.emulator())
    driver = spec.driver(bus=bus, address=spec.default_address)
    bus.inject_bad_pec(spec.default_address)
    with pytest.raises(BusError) as caught:
        driver.read()
    assert caught.value.errno == errno.EBADMSG and "PEC" in str(caught.value)
    assert hex2(spec.default_address) in str(caught.value)
    bus.clear_faults(spec.default_address)
    driver.read()
