"""Fixtures for the I²C and chip tests: an emulated bus, a nominal battery, backends.

The chip contract runs against every backend: the emulated bus always, the Pi's
``/dev/i2c-1`` only when it exists and the chip answers there (gpiozero's test_real_pins idea).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from hal.chips import CHIPS, ChipEmulator, I2CDriver
from hal.i2c import EmulatedBus, I2CBus, SMBusI2C
from hal.readings import BatteryState

HARDWARE_BUS = Path("/dev/i2c-1")

# A healthy one-cell battery, discharging at 420 mA: every field inside every chip's range.
NOMINAL = BatteryState(voltage=3.85, soc=72.3, current=-0.42, temperature=31.5,
                       remaining_capacity=1446.0, full_capacity=2000.0)


@dataclass
class Rig:
    """One chip on one bus, the driver pointed at it, and (emulated only) the emulator."""

    backend: str
    bus: I2CBus
    driver: I2CDriver
    emulator: ChipEmulator | None
    address: int


def emulated_rig(chip: str, state: BatteryState = NOMINAL) -> Rig:
    """``chip``'s emulator at its default address on a fresh bus, and its driver."""
    spec = CHIPS[chip]
    bus = EmulatedBus(name="test bus")
    emulator = spec.emulator(state)
    bus.attach(spec.default_address, emulator)
    driver = spec.driver(bus=bus, address=spec.default_address)
    return Rig("emulated", bus, driver, emulator, spec.default_address)


def hardware_rig(chip: str) -> Rig:
    """The real chip on ``/dev/i2c-1``, or skip with the reason."""
    if not HARDWARE_BUS.exists():
        pytest.skip(f"no {HARDWARE_BUS}: the hardware contract runs on a Pi with the chip wired")
    spec = CHIPS[chip]
    bus = SMBusI2C(1)
    for address in spec.addresses:
        driver = spec.driver(bus=bus, address=address)
        if driver.probe():
            return Rig("hardware", bus, driver, None, address)
    bus.close()
    pytest.skip(f"no {chip} answers on {HARDWARE_BUS}")


@pytest.fixture
def emulated_bus() -> EmulatedBus:
    return EmulatedBus(name="test bus")


@pytest.fixture(params=["emulated", pytest.param("hardware", marks=pytest.mark.hardware)])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def nominal() -> BatteryState:
    return NOMINAL


@pytest.fixture
def make_rig() -> Callable[..., Rig]:
    """``make_rig(chip, state=NOMINAL) -> Rig`` on the emulated bus."""
    return emulated_rig


@pytest.fixture
def rig(backend: str, chip: str) -> Rig:
    """``chip`` (a parametrize argument of the test) on ``backend``."""
    if backend == "hardware":
        return hardware_rig(chip)
    return emulated_rig(chip)
