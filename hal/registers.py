"""One declaration per chip register, used both ways: drivers ``parse``, emulators ``build``.

A :class:`Register` pairs a register address and name with one ``construct`` declaration.
Byte order is part of that declaration (``Int16ub`` for MAX1704x/INA219/CW2015, ``Int16ul``
for BQ27441/LC709203F), bit fields are written MSB-first in ``BitStruct`` as in the datasheet
tables, and :class:`Scaled` turns raw counts into SI values with one named LSB per register::

    VCELL_LSB_V = 78.125e-6  # V per LSB (MAX17048 datasheet, VCELL 0x02)
    VCELL = Register(0x02, Scaled(Int16ub, VCELL_LSB_V), "VCELL")
    VCELL.parse(b"\\xc3\\x50")  # 3.90625
    VCELL.build(3.90625)       # b"\\xc3\\x50"
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, cast

import construct

from hal.errors import ChipError

__all__ = ["Field", "Register", "Scaled", "raw_range"]

T = TypeVar("T")


class Scaled(construct.Adapter):  # type: ignore[misc]  # construct ships no type hints
    """Linear scaling of a raw integer field: ``value = raw × lsb + offset``.

    Building rounds to the nearest raw count, so ``parse(build(x)) == x`` for every ``x`` that
    is a raw count times ``lsb`` plus ``offset``. Values outside the field's raw range fail to
    build (emulators saturate explicitly with :func:`raw_range`, as an ADC would).

    Args:
        subcon: the raw field (``Int16ub``, ``BitsInteger(12)``, ...).
        lsb: size of one raw count in the SI unit of the value.
        offset: added after scaling (e.g. −273.15 for a 0.1 K temperature read in °C).
    """

    def __init__(self, subcon: Any, lsb: float, offset: float = 0.0) -> None:
        super().__init__(subcon)
        self.lsb = lsb
        self.offset = offset

    def _decode(self, obj: int, context: Any, path: str) -> float:
        return obj * self.lsb + self.offset

    def _encode(self, obj: float, context: Any, path: str) -> int:
        return round((obj - self.offset) / self.lsb)

    @property
    def limits(self) -> tuple[float, float]:
        """Lowest and highest value the raw field can represent."""
        low_raw, high_raw = raw_range(self.subcon)
        return low_raw * self.lsb + self.offset, high_raw * self.lsb + self.offset

    def saturate(self, value: float) -> float:
        """``value`` limited to :attr:`limits`, as an ADC saturates at full scale."""
        low, high = self.limits
        return min(max(value, low), high)


def raw_range(field: Any) -> tuple[int, int]:
    """Lowest and highest raw integer a fixed-size integer construct can hold.

    Works for ``FormatField`` integers (``Int16ub``, ``Int16sl``, ``Int8ub``...),
    ``BitsInteger(n)`` and adapters wrapping either.
    """
    inner = field
    while isinstance(inner, construct.Subconstruct) and not isinstance(
        inner, construct.BitsInteger
    ):
        inner = inner.subcon
    if isinstance(inner, construct.BitsInteger):
        bits, signed = int(inner.length), bool(inner.signed)
    elif isinstance(inner, construct.FormatField):
        bits, signed = 8 * int(inner.length), inner.fmtstr[-1].islower()
    else:
        raise TypeError(f"{field!r} is not a fixed-size integer field")
    if signed:
        return -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    return 0, (1 << bits) - 1


@dataclass(frozen=True, slots=True)
class Register(Generic[T]):
    """A chip register: its address, its one ``construct`` declaration and its datasheet name.

    Args:
        address: register (command) address on the chip.
        construct: the declaration; its size is the number of bytes on the wire.
        name: the datasheet's name, used in error messages.
    """

    address: int
    construct: Any
    name: str

    def __str__(self) -> str:
        return f"{self.name} (0x{self.address:02X})"

    @property
    def size(self) -> int:
        """Bytes on the wire."""
        return int(self.construct.sizeof())

    def parse(self, data: bytes | Sequence[int], *, address: int | None = None) -> T:
        """Decode wire bytes into the register's value.

        Args:
            data: exactly :attr:`size` bytes in wire order.
            address: the chip's bus address, named in the error message when given.

        Raises:
            ChipError: wrong length or undecodable bytes.
        """
        raw = bytes(data)
        if len(raw) != self.size:
            raise ChipError(f"{self._where(address)}: expected {self.size} bytes, "
                            f"got {len(raw)} ({raw.hex(' ') or 'none'})")
        try:
            return cast(T, self.construct.parse(raw))
        except construct.ConstructError as exc:
            raise ChipError(f"{self._where(address)}: cannot decode {raw.hex(' ')}: "
                            f"{exc}") from exc

    def parse_at(self, block: bytes | Sequence[int], start: int, *,
                 address: int | None = None) -> T:
        """Decode this register out of a block read that began at register ``start``.

        Raises:
            ChipError: the block does not cover this register.
        """
        offset = self.address - start
        chunk = bytes(block)[offset: offset + self.size] if offset >= 0 else b""
        return self.parse(chunk, address=address)

    def build(self, value: T) -> bytes:
        """Encode ``value`` into wire bytes.

        Raises:
            ChipError: the value does not fit the register.
        """
        try:
            return bytes(self.construct.build(value))
        except (construct.ConstructError, ValueError, TypeError, OverflowError) as exc:
            raise ChipError(f"{self._where(None)}: cannot encode {value!r}: {exc}") from exc

    def _where(self, address: int | None) -> str:
        chip = f"chip 0x{address:02X} " if address is not None else ""
        return f"{chip}register {self}"


class Field(construct.Adapter):  # type: ignore[misc]  # construct ships no type hints
    """Expose one named field of a ``Struct``/``BitStruct`` as the register's whole value.

    Used when a register holds one value plus padding, e.g. the MAX17043's 12-bit VCELL,
    left-justified: ``Field(BitStruct("vcell" / Scaled(BitsInteger(12), lsb), Padding(4)), "vcell")``.
    """

    def __init__(self, subcon: Any, name: str) -> None:
        super().__init__(subcon)
        self.field_name = name

    def _decode(self, obj: Any, context: Any, path: str) -> Any:
        return obj[self.field_name]

    def _encode(self, obj: Any, context: Any, path: str) -> dict[str, Any]:
        return {self.field_name: obj}
