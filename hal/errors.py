"""HAL errors: one root, :class:`HalError`; leaves also subclass the builtin they refine."""

from __future__ import annotations


class HalError(Exception):
    """Root of every error raised by :mod:`hal`."""


class BusError(HalError, OSError):
    """An I²C transaction failed (NACK, EIO, PEC mismatch); the message names address and register."""


class ChipError(HalError, ValueError):
    """A chip answered, but not as the datasheet says (wrong identity, garbage, out-of-range)."""


class PinError(HalError, RuntimeError):
    """A GPIO pin could not be set up or read; the message names the pin."""


class NetworkError(HalError, OSError):
    """Network interface state could not be read or watched."""


class SysfsError(HalError, OSError):
    """A ``/sys/class/power_supply`` attribute could not be read or parsed."""
