"""Every register of every chip round-trips through its one construct declaration.

Drivers parse and emulators build from the same ``Register``; ``parse(build(x)) == x`` for
every value the register can hold (generated from arbitrary wire bytes), and building what was
parsed gives the same bytes back except in padding bits.
"""

from __future__ import annotations

from typing import Any

import pytest
from construct import BitsInteger, BitStruct, Int16sb, Int16ub, Int16ul, Padding
from hypothesis import given, settings
from hypothesis import strategies as st

from hal.chips import bq27441, cw2015, ina219, lc709203f, max1704x
from hal.errors import ChipError
from hal.registers import Field, Register, Scaled, raw_range

ALL_REGISTERS: list[Register[Any]] = [
    *max1704x.REGISTERS_17043, *max1704x.REGISTERS_17048, *bq27441.REGISTERS,
    *lc709203f.REGISTERS, *ina219.REGISTERS, *cw2015.REGISTERS,
]
IDS = [f"{r.name}@0x{r.address:02X}:{r.construct.__class__.__name__}:{i}"
       for i, r in enumerate(ALL_REGISTERS)]


@pytest.mark.parametrize("register", ALL_REGISTERS, ids=IDS)
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_parse_build_round_trip(register: Register[Any], data: st.DataObject) -> None:
    wire = data.draw(st.binary(min_size=register.size, max_size=register.size))
    value = register.parse(wire)
    assert register.parse(register.build(value)) == value


@settings(max_examples=150, deadline=None)
@given(raw=st.integers(0, 0xFFFF))
def test_scaled_value_round_trip_is_exact(raw: int) -> None:
    vcell = Register(0x02, Scaled(Int16ub, max1704x.VCELL_LSB_V), "VCELL")
    value = raw * max1704x.VCELL_LSB_V
    assert vcell.parse(vcell.build(value)) == value
    assert vcell.build(value) == raw.to_bytes(2, "big")


@settings(max_examples=150, deadline=None)
@given(raw=st.integers(-0x8000, 0x7FFF))
def test_signed_little_endian_scaled_round_trip(raw: int) -> None:
    current = bq27441.AVERAGE_CURRENT
    value = raw * bq27441.CURRENT_LSB_A
    assert current.parse(current.build(value)) == value
    assert current.build(value) == raw.to_bytes(2, "little", signed=True)


def test_byte_order_is_part_of_the_declaration() -> None:
    wire = b"\x0a\x0f"
    assert Register(0, Int16ul, "le").parse(wire) == 0x0F0A
    assert Register(0, Int16ub, "be").parse(wire) == 0x0A0F


def test_bitstruct_fields_are_msb_first_as_in_datasheet_tables() -> None:
    # MAX17048 CONFIG POR 0x971C: RCOMP 0x97 in bits 15:8, ATHD 0x1C in bits 4:0 [SF-max]
    config = max1704x.CONFIG.parse(b"\x97\x1c")
    assert (config.rcomp, config.sleep, config.alsc, config.alrt, config.athd) == (
        0x97, False, False, False, 0x1C)


def test_field_unwraps_a_padded_value() -> None:
    reg = Register(0x02, Field(BitStruct("v" / Scaled(BitsInteger(12), 1.0), Padding(4)), "v"),
                   "V")
    assert reg.parse(b"\xc3\x5f") == 0xC35
    assert reg.build(0xC35) == b"\xc3\x50"


def test_raw_ranges() -> None:
    assert raw_range(Int16sb) == (-32768, 32767)
    assert raw_range(BitsInteger(13)) == (0, 8191)
    assert Scaled(Int16ub, 0.5).limits == (0.0, 32767.5)
    assert Scaled(Int16ub, 1.0).saturate(1e9) == 65535.0


def test_bad_bytes_and_values_are_chip_errors_naming_the_register() -> None:
    with pytest.raises(ChipError, match=r"chip 0x36 register VCELL \(0x02\): expected 2 bytes"):
        max1704x.VCELL.parse(b"\x01", address=0x36)
    with pytest.raises(ChipError, match=r"register SOC \(0x04\): cannot encode"):
        max1704x.SOC.build(-1.0)
    with pytest.raises(ChipError, match="expected 2 bytes, got 0"):
        max1704x.SOC.parse_at(b"\x00\x00", 0x06)
