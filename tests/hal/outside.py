"""Adapters that let drivers written outside wakebench talk to its emulated I²C bus.

- :class:`BusioI2C` has the ``busio.I2C`` methods the Adafruit CircuitPython drivers use (through
  ``adafruit_bus_device.I2CDevice``): ``try_lock``/``unlock``/``scan``/``writeto``/
  ``readfrom_into``/``writeto_then_readfrom``. A raw write ``[command, data...]`` becomes one
  SMBus block write, write-then-read one block read; so a chip sees exactly the transfers it
  would on a wire (the LC709203F's CRC byte included).
- :class:`SMBusAdapter` has smbus2's ``SMBus`` method names (for max17048-smbus, pi-ina219 via
  Adafruit_GPIO, and SparkFun's qwiic_i2c Linux driver).

Nothing here opens ``/dev/i2c-*``; every driver gets the adapter injected, so the tests run the
same on a laptop and on a Pi.
"""

from __future__ import annotations

import errno
from collections.abc import Callable
from typing import Any

import pytest

from hal.i2c import EmulatedBus

Buffer = bytearray | memoryview


class BusioI2C:
    """A ``busio.I2C`` look-alike over an :class:`~hal.i2c.EmulatedBus`."""

    def __init__(self, bus: EmulatedBus) -> None:
        self.bus = bus
        self._locked = False

    def try_lock(self) -> bool:
        if self._locked:
            return False
        self._locked = True
        return True

    def unlock(self) -> None:
        self._locked = False

    def deinit(self) -> None:
        self._locked = False

    def scan(self) -> list[int]:
        return list(self.bus.addresses)

    def writeto(self, address: int, buffer: bytes | Buffer, *, start: int = 0,
                end: int | None = None) -> None:
        data = bytes(buffer[start:end])
        if not data:
            self.bus.write_quick(address)  # the I2CDevice presence probe
            return
        self.bus.write_i2c_block_data(address, data[0], list(data[1:]))

    def readfrom_into(self, address: int, buffer: Buffer, *, start: int = 0,
                      end: int | None = None) -> None:
        end = len(buffer) if end is None else end
        if end - start != 1:
            raise OSError(errno.EOPNOTSUPP, "adapter: a read without a register is one byte")
        buffer[start] = self.bus.read_byte(address)

    def writeto_then_readfrom(self, address: int, out_buffer: bytes | Buffer,
                              in_buffer: Buffer, *, out_start: int = 0,
                              out_end: int | None = None, in_start: int = 0,
                              in_end: int | None = None) -> None:
        out = bytes(out_buffer[out_start:out_end])
        in_end = len(in_buffer) if in_end is None else in_end
        if len(out) != 1:
            raise OSError(errno.EOPNOTSUPP, "adapter: write-then-read takes one command byte")
        data = self.bus.read_i2c_block_data(address, out[0], in_end - in_start)
        in_buffer[in_start:in_end] = bytes(data)


class SMBusAdapter:
    """An ``smbus2.SMBus`` look-alike over an :class:`~hal.i2c.EmulatedBus`."""

    def __init__(self, bus: EmulatedBus, bus_number: int = 1) -> None:
        self.bus = bus
        self.bus_number = bus_number

    def write_quick(self, i2c_addr: int) -> None:
        self.bus.write_quick(i2c_addr)

    def read_byte(self, i2c_addr: int) -> int:
        return self.bus.read_byte(i2c_addr)

    def write_byte(self, i2c_addr: int, value: int) -> None:
        self.bus.write_i2c_block_data(i2c_addr, value, [])

    def read_byte_data(self, i2c_addr: int, register: int) -> int:
        return self.bus.read_byte_data(i2c_addr, register)

    def write_byte_data(self, i2c_addr: int, register: int, value: int) -> None:
        self.bus.write_byte_data(i2c_addr, register, value)

    def read_word_data(self, i2c_addr: int, register: int) -> int:
        return self.bus.read_word_data(i2c_addr, register)

    def write_word_data(self, i2c_addr: int, register: int, value: int) -> None:
        self.bus.write_word_data(i2c_addr, register, value)

    def read_i2c_block_data(self, i2c_addr: int, register: int, length: int) -> list[int]:
        return self.bus.read_i2c_block_data(i2c_addr, register, length)

    def write_i2c_block_data(self, i2c_addr: int, register: int, data: list[int]) -> None:
        self.bus.write_i2c_block_data(i2c_addr, register, list(data))

    def close(self) -> None:
        """Nothing to release."""


def no_sleep(monkeypatch: pytest.MonkeyPatch, *modules: Any) -> None:
    """Drop the outside drivers' own ``time.sleep`` waits (wall time means nothing here)."""
    for module in modules:
        monkeypatch.setattr(module.time, "sleep", lambda _seconds: None)


def smbus_factory(adapter: SMBusAdapter) -> Callable[..., SMBusAdapter]:
    """What a driver that builds ``SMBus(n)`` itself gets instead."""
    return lambda *_args, **_kwargs: adapter
