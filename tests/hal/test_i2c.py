"""hal.i2c: SMBus semantics of the emulated bus, PEC, faults, counting, and the smbus2 wrapper."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest

from hal.errors import BusError, HalError
from hal.i2c import (
    EmulatedBus,
    EmulatedNack,
    I2CBus,
    I2CFunc,
    SMBusI2C,
    is_nack,
    smbus_pec,
)


class Echo:
    """A minimal byte-addressed chip: 256 bytes, auto-increment, every byte writable."""

    auto_increment = True
    pec_required = False

    def __init__(self) -> None:
        self.image = bytearray(range(256))

    def read(self, command: int, length: int) -> bytes:
        return bytes(self.image[(command + i) & 0xFF] for i in range(length))

    def write(self, command: int, data: bytes) -> None:
        if command == 0xFE:
            raise EmulatedNack("refuses 0xFE")
        for i, byte in enumerate(data):
            self.image[(command + i) & 0xFF] = byte


class PecWord:
    """A word chip that requires PEC (LC709203F-like): one 16-bit word per command."""

    auto_increment = False
    pec_required = True

    def __init__(self) -> None:
        self.words = {0x09: b"\x0a\x0f"}

    def read(self, command: int, length: int) -> bytes:
        return (self.words.get(command, b"\x00\x00") * 2)[:length]

    def write(self, command: int, data: bytes) -> None:
        self.words[command] = data


def crc8_long_division(frame: bytes) -> int:
    """CRC-8 as polynomial long division: message × x^8 mod (x^8 + x^2 + x + 1) over GF(2).

    Independent of hal.i2c.smbus_pec (SMBus 2.0 §5.4.1.2: "the PEC is a CRC-8 ... polynomial
    C(x) = x^8 + x^2 + x^1 + 1", initial value 0).
    """
    remainder = int.from_bytes(frame, "big") << 8
    poly = 0x107
    for bit in range(remainder.bit_length() - 1, 7, -1):
        if remainder >> bit & 1:
            remainder ^= poly << (bit - 8)
    return remainder


# -- the protocol ---------------------------------------------------------------------------

def test_both_backends_satisfy_the_i2cbus_protocol() -> None:
    buses: list[I2CBus] = [EmulatedBus(), SMBusI2C(1)]  # mypy checks the structural fit
    assert all(callable(bus.read_i2c_block_data) for bus in buses)


def test_i2c_func_flags_carry_linux_names_and_values() -> None:
    # include/uapi/linux/i2c.h: #define I2C_FUNC_SMBUS_PEC 0x00000008, SMBUS_EMUL 0x0eff0008
    assert I2CFunc.I2C_FUNC_SMBUS_PEC == 0x08
    assert I2CFunc.I2C_FUNC_SMBUS_EMUL & I2CFunc.I2C_FUNC_SMBUS_PEC
    assert EmulatedBus().funcs & I2CFunc.I2C_FUNC_SMBUS_PEC


# -- SMBus byte order -------------------------------------------------------------------------

def test_read_word_data_returns_the_first_wire_byte_as_low_byte() -> None:
    # reference/pi-hardware.md §0: "SMBus read word puts the first byte on the wire in the low byte"
    bus = EmulatedBus()
    chip = Echo()
    chip.image[0x02:0x04] = b"\xc3\x50"  # a MAX17048 VCELL, MSB first
    bus.attach(0x36, chip)
    assert bus.read_word_data(0x36, 0x02) == 0x50C3
    assert bus.read_i2c_block_data(0x36, 0x02, 2) == [0xC3, 0x50]


def test_write_word_data_sends_the_low_byte_first() -> None:
    bus = EmulatedBus()
    chip = Echo()
    bus.attach(0x62, chip)
    bus.write_word_data(0x62, 0x0A, 0x0030)  # UPS-Lite v1.3 quick-start write
    assert chip.image[0x0A:0x0C] == b"\x30\x00"


def test_block_reads_auto_increment_and_byte_reads_follow_the_pointer() -> None:
    bus = EmulatedBus()
    bus.attach(0x36, Echo())
    assert bus.read_i2c_block_data(0x36, 0x02, 4) == [2, 3, 4, 5]
    assert bus.read_byte_data(0x36, 0x10) == 0x10
    assert bus.read_byte(0x36) == 0x10  # receive-byte reads at the last command
    bus.write_quick(0x36)


def test_block_length_limits_are_the_kernel_ones() -> None:
    # linux/i2c.h: I2C_SMBUS_BLOCK_MAX 32
    bus = EmulatedBus()
    bus.attach(0x36, Echo())
    assert len(bus.read_i2c_block_data(0x36, 0, 32)) == 32
    with pytest.raises(BusError, match="length 33"):
        bus.read_i2c_block_data(0x36, 0, 33)
    with pytest.raises(BusError, match="33 bytes"):
        bus.write_i2c_block_data(0x36, 0, [0] * 33)


def test_bad_arguments_are_bus_errors_not_crashes() -> None:
    bus = EmulatedBus()
    bus.attach(0x36, Echo())
    with pytest.raises(BusError, match="not a 7-bit"):
        bus.read_byte_data(0x80, 0)
    with pytest.raises(BusError, match=r"outside 0\.\.0xFFFF"):
        bus.write_word_data(0x36, 0, 0x10000)
    with pytest.raises(BusError, match=r"has a value outside 0\.\.0xFF"):
        bus.write_byte_data(0x36, 0, 256)
    with pytest.raises(BusError, match="not a command byte"):
        bus.read_i2c_block_data(0x36, 0x100, 2)
    with pytest.raises(BusError, match="already has"):
        bus.attach(0x36, Echo())


def test_a_chip_that_nacks_a_read_command_gives_a_bus_error() -> None:
    from hal.chips import LC709203FEmulator

    bus = EmulatedBus()
    bus.attach(0x0B, LC709203FEmulator())
    with pytest.raises(BusError, match=r"register 0x30 failed: command 0x30 does not exist") as c:
        bus.read_word_data(0x0B, 0x30)
    assert is_nack(c.value)


# -- PEC ------------------------------------------------------------------------------------------

def test_pec_is_crc8_smbus_with_the_published_check_value() -> None:
    # Catalogue of parametrised CRC algorithms (reveng), CRC-8/SMBUS: width=8 poly=0x07
    # init=0x00 refin=false refout=false xorout=0x00 check=0xf4 (over ASCII "123456789").
    assert smbus_pec(b"123456789") == 0xF4
    assert crc8_long_division(b"123456789") == 0xF4


def test_pec_of_an_lc709203f_cell_voltage_frame_worked_by_hand() -> None:
    # reference/pi-hardware.md §1 LC709203F: CRC-8, poly 0x07, init 0, over
    # [addr<<1, cmd, (addr<<1)|1, lo, hi] on reads. Cell Voltage 0x09 = 3850 mV = 0x0F0A:
    frame = bytes([0x0B << 1, 0x09, (0x0B << 1) | 1, 0x0A, 0x0F])  # 16 09 17 0A 0F
    assert crc8_long_division(frame) == smbus_pec(frame) == 0xC4


def test_pec_read_checks_the_chips_crc_byte() -> None:
    bus = EmulatedBus()
    bus.attach(0x0B, PecWord())
    bus.pec = True
    assert bus.read_word_data(0x0B, 0x09) == 0x0F0A
    bus.inject_bad_pec(0x0B)
    with pytest.raises(BusError) as caught:
        bus.read_word_data(0x0B, 0x09)
    assert caught.value.errno == errno.EBADMSG
    assert "0x0B" in str(caught.value) and "register 0x09" in str(caught.value)


def test_pec_chip_rejects_writes_without_or_with_wrong_pec() -> None:
    bus = EmulatedBus()
    chip = PecWord()
    bus.attach(0x0B, chip)
    with pytest.raises(BusError, match="requires a valid SMBus PEC"):
        bus.write_word_data(0x0B, 0x15, 0x0001)          # no PEC byte
    frame_pec = smbus_pec([0x16, 0x15, 0x01, 0x00])
    with pytest.raises(BusError, match="requires a valid SMBus PEC"):
        bus.write_i2c_block_data(0x0B, 0x15, [0x01, 0x00, frame_pec ^ 1])  # wrong PEC
    assert 0x15 not in chip.words
    bus.write_i2c_block_data(0x0B, 0x15, [0x01, 0x00, frame_pec])  # as Adafruit sends it
    assert chip.words[0x15] == b"\x01\x00"
    bus.pec = True
    bus.write_word_data(0x0B, 0x15, 0x0002)
    assert chip.words[0x15] == b"\x02\x00"


def test_pec_chip_sends_its_crc_after_the_word_even_without_smbus_pec() -> None:
    bus = EmulatedBus()
    bus.attach(0x0B, PecWord())
    low, high, pec = bus.read_i2c_block_data(0x0B, 0x09, 3)
    assert (low, high, pec) == (0x0A, 0x0F, 0xC4)


def test_pec_on_a_chip_without_pec_fails_with_ebadmsg() -> None:
    bus = EmulatedBus()
    bus.attach(0x36, Echo())
    bus.pec = True
    with pytest.raises(BusError) as caught:
        bus.read_word_data(0x36, 0x08)
    assert caught.value.errno == errno.EBADMSG
    # I²C block transfers carry no PEC (linux i2c-core-smbus.c), so they still work
    assert bus.read_i2c_block_data(0x36, 0x08, 2) == [8, 9]


def test_pec_needs_adapter_support() -> None:
    bus = EmulatedBus(funcs=I2CFunc.I2C_FUNC_I2C | I2CFunc.I2C_FUNC_SMBUS_I2C_BLOCK)
    with pytest.raises(BusError, match="I2C_FUNC_SMBUS_PEC"):
        bus.pec = True
    bus.pec = False
    assert not bus.pec


# -- faults -----------------------------------------------------------------------------------------

def test_missing_chip_nacks_with_eremoteio() -> None:
    bus = EmulatedBus(name="bus-x")
    with pytest.raises(BusError) as caught:
        bus.read_i2c_block_data(0x36, 0x02, 4)
    error = caught.value
    assert error.errno == errno.EREMOTEIO and is_nack(error)
    assert isinstance(error, OSError) and isinstance(error, HalError)
    assert "bus-x" in str(error) and "0x36" in str(error) and "register 0x02" in str(error)
    assert "no ACK" in str(error)


def test_injected_nack_eio_and_chip_nack() -> None:
    bus = EmulatedBus()
    bus.attach(0x36, Echo())
    bus.inject_eio(0x36, 0x04)
    assert bus.read_i2c_block_data(0x36, 0x02, 2) == [2, 3]   # does not touch 0x04
    with pytest.raises(BusError, match=r"register 0x02.*injected EIO on register 0x04") as eio:
        bus.read_i2c_block_data(0x36, 0x02, 4)
    assert eio.value.errno == errno.EIO and not is_nack(eio.value)
    with pytest.raises(BusError, match="refuses 0xFE"):
        bus.write_i2c_block_data(0x36, 0xFE, [0x54, 0x00])
    bus.inject_nack(0x36)
    with pytest.raises(BusError, match="0x36"):
        bus.write_quick(0x36)
    bus.clear_faults(0x36)
    assert bus.read_i2c_block_data(0x36, 0x02, 4) == [2, 3, 4, 5]


def test_stuck_register_ignores_writes_and_shows_through_block_reads() -> None:
    bus = EmulatedBus()
    bus.attach(0x36, Echo())
    bus.inject_stuck(0x36, 0x04, b"\x12\x34")
    bus.write_i2c_block_data(0x36, 0x04, [0, 0])
    assert bus.read_i2c_block_data(0x36, 0x02, 6) == [2, 3, 0x12, 0x34, 6, 7]
    assert bus.read_word_data(0x36, 0x04) == 0x3412
    bus.clear_faults()
    assert bus.read_i2c_block_data(0x36, 0x04, 2) == [0, 0]


def test_garbage_is_repeatable_and_confined_to_its_register() -> None:
    first, second = EmulatedBus(seed=3), EmulatedBus(seed=3)
    for bus in (first, second):
        bus.attach(0x36, Echo())
        bus.inject_garbage(0x36, 0x04)
    reads = [bus.read_i2c_block_data(0x36, 0x02, 6) for bus in (first, second)]
    assert reads[0] == reads[1]
    assert reads[0][:2] == [2, 3] and reads[0][4:] == [6, 7]
    first.inject_garbage(0x36, data=b"\xff")
    assert first.read_i2c_block_data(0x36, 0x00, 4) == [0xFF] * 4


def test_transactions_are_counted_per_address_failures_included() -> None:
    bus = EmulatedBus()
    bus.attach(0x36, Echo())
    bus.read_i2c_block_data(0x36, 0x02, 4)
    bus.write_byte_data(0x36, 0x06, 0)
    with pytest.raises(BusError):
        bus.read_byte(0x40)
    assert bus.transactions(0x36) == 2
    assert bus.transactions(0x40) == 1
    assert bus.transactions() == 3
    bus.reset_counts()
    assert bus.transactions() == 0


def test_detached_chip_nacks_like_an_unplugged_board() -> None:
    bus = EmulatedBus()
    bus.attach(0x36, Echo())
    assert bus.addresses == [0x36]
    bus.detach(0x36)
    with pytest.raises(BusError) as caught:
        bus.read_byte_data(0x36, 0)
    assert is_nack(caught.value)


# -- the smbus2 backend ----------------------------------------------------------------------------

def test_smbus_constructor_opens_nothing() -> None:
    bus = SMBusI2C(7)
    assert bus.path == "/dev/i2c-7"
    assert not bus.pec
    bus.close()


def test_missing_bus_node_says_how_to_enable_i2c(tmp_path: Path) -> None:
    bus = SMBusI2C(str(tmp_path / "i2c-1"))
    with pytest.raises(BusError, match=r"no I²C bus .*i2c-1: enable I2C with raspi-config") as c:
        bus.read_byte_data(0x36, 0x08)
    assert c.value.errno == errno.ENOENT
    assert isinstance(c.value.__cause__, FileNotFoundError)


def test_a_node_that_is_not_an_i2c_adapter_is_a_bus_error() -> None:
    bus = SMBusI2C("/dev/null")  # opens, but the I2C_FUNCS ioctl fails with ENOTTY
    with pytest.raises(BusError, match="cannot open I²C bus /dev/null"):
        bus.open()
    bus.close()


@pytest.mark.hardware
def test_real_bus_reports_its_functionality() -> None:
    if not Path("/dev/i2c-1").exists():
        pytest.skip("no /dev/i2c-1: enable I2C on a Pi to run this")
    with SMBusI2C(1) as bus:
        assert bus.funcs & I2CFunc.I2C_FUNC_I2C
        with pytest.raises(BusError) as caught:
            bus.read_byte_data(0x08, 0)  # reserved address range, nothing answers
        assert "0x08" in str(caught.value)
