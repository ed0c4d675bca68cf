"""What every chip driver and chip emulator shares: the two protocols and small base classes.

Drivers (``I2CDriver`` subclasses) take keyword-only ``bus=`` and ``address=``, do no I/O in
``__init__`` and count the bus transactions each :meth:`~GaugeDriver.read` takes. Emulators
(``ByteRegisterFile`` / ``WordRegisterFile`` subclasses) are register files that satisfy
:class:`hal.i2c.EmulatedChip` and encode a :class:`~hal.readings.BatteryState` into their
registers with ``update()``, using the same :class:`~hal.registers.Register` declarations the
drivers parse.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar, Protocol, TypeVar

from hal.errors import BusError, ChipError
from hal.i2c import EmulatedChip, EmulatedNack, I2CBus, is_nack
from hal.readings import BatteryState, GaugeReading
from hal.registers import Register

__all__ = [
    "CELL_VOLTAGE_PLAUSIBLE_MAX_V",
    "SOC_PLAUSIBLE_MAX_PCT",
    "TEMPERATURE_PLAUSIBLE_C",
    "ByteRegisterFile",
    "ChipEmulator",
    "GaugeDriver",
    "I2CDriver",
    "WordRegisterFile",
]

T = TypeVar("T")

# -- plausibility bounds: wakebench design choices, not datasheet limits -------------------
# A reading outside them is treated as garbage (ChipError), e.g. an all-ones 0xFFFF word.
# One Li-ion/LiPo cell never charges above ~4.45 V (HV LiPo); 4.6 V leaves margin.
CELL_VOLTAGE_PLAUSIBLE_MAX_V = 4.6
# Gauges may read a little above 100 % at end of charge; 0xFF.. (≈256 %) is garbage.
SOC_PLAUSIBLE_MAX_PCT = 105.0
# Wider than any Li-ion operating range (and the industrial −40..85 °C IC range).
TEMPERATURE_PLAUSIBLE_C = (-55.0, 125.0)
_BOUND_SLACK = 1e-9


class GaugeDriver(Protocol):
    """A fuel-gauge / power-monitor driver (what ``boards`` and ``wakebench probe`` use)."""

    chip: ClassVar[str]
    address: int

    def probe(self) -> bool:
        """True when the chip at :attr:`address` answers and identifies as :attr:`chip`."""
        ...

    def check_identity(self) -> None:
        """Raise :class:`~hal.errors.ChipError` unless the chip identifies as :attr:`chip`."""
        ...

    def read(self) -> GaugeReading:
        """One reading in SI units, with ``transactions`` set to the bus transactions it took."""
        ...


class ChipEmulator(EmulatedChip, Protocol):
    """An emulated chip a battery model can drive."""

    def update(self, state: BatteryState) -> None:
        """Encode the model's voltage, SOC, current and temperature into the registers."""
        ...


class I2CDriver:
    """Base of the chip drivers: bus access that counts transactions and names the chip.

    Subclasses set :attr:`chip` and :attr:`default_address` and implement ``check_identity``
    and ``read``. The transaction counter is per driver; ``read()`` resets it first.

    Args:
        bus: the I²C bus (``SMBusI2C`` or ``EmulatedBus``).
        address: 7-bit address; the datasheet default when omitted.
    """

    chip: ClassVar[str]
    default_address: ClassVar[int]

    def __init__(self, *, bus: I2CBus, address: int | None = None) -> None:
        self.bus = bus
        self.address = self.default_address if address is None else address
        self._transactions = 0

    def __repr__(self) -> str:
        return f"{type(self).__name__}(bus={self.bus!r}, address=0x{self.address:02X})"

    def probe(self) -> bool:
        """True when the chip answers and identifies; False when nothing ACKs or it is another chip.

        Raises:
            BusError: the bus itself failed (EIO, timeout, bus missing), not a plain NACK.
        """
        try:
            self.check_identity()
        except ChipError:
            return False
        except BusError as exc:
            if is_nack(exc):
                return False
            raise
        return True

    def check_identity(self) -> None:
        """Raise :class:`ChipError` unless the chip identifies as :attr:`chip`."""
        raise NotImplementedError

    def read(self) -> GaugeReading:
        """One reading (see the subclass for registers and transaction count)."""
        raise NotImplementedError

    # -- bus access with counting -------------------------------------------------------

    def _read_block(self, start: int, length: int) -> bytes:
        """One ``read_i2c_block_data`` transaction of ``length`` bytes from ``start``."""
        self._transactions += 1
        return bytes(self.bus.read_i2c_block_data(self.address, start, length))

    def _read_register(self, register: Register[T]) -> T:
        """Read and parse one register in one block transaction."""
        return register.parse(self._read_block(register.address, register.size),
                              address=self.address)

    def _write_register(self, register: Register[T], value: T) -> None:
        """Build and write one register in one block transaction."""
        self._transactions += 1
        self.bus.write_i2c_block_data(self.address, register.address, register.build(value))

    def _begin(self) -> None:
        self._transactions = 0

    def _reading(self, **values: Any) -> GaugeReading:
        return GaugeReading(chip=self.chip, address=self.address,
                            transactions=self._transactions, **values)

    def _check_range(self, register: Register[Any], what: str, value: float,
                     low: float, high: float, unit: str) -> float:
        """Return ``value`` or raise :class:`ChipError` naming address and register.

        The bounds get a 1e-9 relative slack: raw × LSB is inexact in binary floating point
        (58880 × 78.125 µV evaluates to 4.6000000000000005).
        """
        slack = _BOUND_SLACK * max(abs(low), abs(high), 1.0)
        if not low - slack <= value <= high + slack:
            raise ChipError(
                f"{self.chip} at 0x{self.address:02X} register {register}: {what} "
                f"{value:.6g} {unit} is outside the plausible {low:g}..{high:g} {unit} "
                "(garbage on the bus or a clone chip?)")
        return value

    def _identity_error(self, register: Register[Any], found: str, expected: str) -> ChipError:
        return ChipError(f"0x{self.address:02X} register {register} reads {found}, expected "
                         f"{expected} for a {self.chip}: another chip is at this address")


class ByteRegisterFile:
    """Emulator base for byte-addressed, auto-incrementing register files (MAX1704x, CW2015,
    BQ27441): 256 bytes, a read at ``c`` returns bytes ``c, c+1, ...``.

    Subclasses list :attr:`writable` byte addresses (writes elsewhere are ignored, as the
    chips ignore writes to read-only registers) and may override :meth:`on_write`.
    """

    auto_increment: ClassVar[bool] = True
    pec_required: ClassVar[bool] = False
    writable: ClassVar[frozenset[int]] = frozenset()

    def __init__(self) -> None:
        self.image = bytearray(256)
        self.writes: list[tuple[int, bytes]] = []

    def store(self, register: Register[T], value: T) -> None:
        """Encode ``value`` into ``register`` (what the chip's own logic does)."""
        data = register.build(value)
        self.image[register.address: register.address + len(data)] = data

    def load(self, register: Register[T]) -> T:
        """Decode ``register`` from the register file."""
        return register.parse(self.image[register.address: register.address + register.size])

    def store_raw(self, register: Register[Any], raw: int) -> None:
        """Put the datasheet's raw value (``0x971C``) into ``register``, most significant byte
        first (power-on values, as the register summary lists them)."""
        self.image[register.address: register.address + register.size] = raw.to_bytes(register.size, "big")

    def load_raw(self, register: Register[Any]) -> int:
        """``register``'s raw value, most significant byte first."""
        return int.from_bytes(self.image[register.address: register.address + register.size], "big")

    def read(self, command: int, length: int) -> bytes:
        """See :meth:`hal.i2c.EmulatedChip.read`."""
        return bytes(self.image[(command + i) & 0xFF] for i in range(length))

    def write(self, command: int, data: bytes) -> None:
        """See :meth:`hal.i2c.EmulatedChip.write`: stores writable bytes, then ``on_write``."""
        self.writes.append((command, bytes(data)))
        for offset, byte in enumerate(data):
            target = (command + offset) & 0xFF
            if target in self.writable:
                self.image[target] = byte
        if data:
            self.on_write(command, bytes(data))

    def on_write(self, command: int, data: bytes) -> None:
        """React to a write (commands, resets); the default does nothing."""


class WordRegisterFile:
    """Emulator base for chips where each command is one 16-bit register (LC709203F, INA219).

    Reads longer than two bytes repeat the register (drivers never ask for more).
    Subclasses list :attr:`writable` commands; unknown commands are NACKed.
    """

    auto_increment: ClassVar[bool] = False
    pec_required: ClassVar[bool] = False
    writable: ClassVar[frozenset[int]] = frozenset()

    def __init__(self) -> None:
        self.words: dict[int, bytes] = {}
        self.writes: list[tuple[int, bytes]] = []

    def store(self, register: Register[T], value: T) -> None:
        """Encode ``value`` into ``register``."""
        self.words[register.address] = register.build(value)

    def load(self, register: Register[T]) -> T:
        """Decode ``register``."""
        return register.parse(self.words[register.address])

    def known(self, commands: Iterable[int]) -> None:
        """Make ``commands`` readable (zero) even before anything is stored there."""
        for command in commands:
            self.words.setdefault(command, b"\x00\x00")

    def read(self, command: int, length: int) -> bytes:
        """See :meth:`hal.i2c.EmulatedChip.read`."""
        word = self.words.get(command)
        if word is None:
            raise EmulatedNack(f"command 0x{command:02X} does not exist on this chip")
        return (word * (length // 2 + 1))[:length]

    def write(self, command: int, data: bytes) -> None:
        """See :meth:`hal.i2c.EmulatedChip.write`: a two-byte write to a writable command."""
        self.writes.append((command, bytes(data)))
        if not data:
            return
        if command not in self.writable or len(data) != 2:
            raise EmulatedNack(f"command 0x{command:02X} is not a writable 16-bit register")
        self.words[command] = bytes(data)
        self.on_write(command, bytes(data))

    def on_write(self, command: int, data: bytes) -> None:
        """React to a write; the default does nothing."""
