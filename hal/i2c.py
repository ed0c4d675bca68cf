"""I²C/SMBus access: the :class:`I2CBus` seam, the smbus2 backend and an emulated bus.

Drivers talk to :class:`I2CBus`, a narrow protocol with smbus2's method signatures. Two
implementations satisfy it structurally:

- :class:`SMBusI2C` wraps ``smbus2.SMBus`` on ``/dev/i2c-N`` and translates ``OSError`` into
  :class:`~hal.errors.BusError` naming bus, address and register.
- :class:`EmulatedBus` hosts emulated chips in memory with real SMBus semantics (word byte
  order, PEC framing), counts transactions per address and injects faults on demand.

Nothing here opens a device at import time or in a constructor.

Over 500 lines on purpose: the seam, the smbus2 backend and the emulated bus share one
exact SMBus semantics (word byte order, PEC framing, block reads, I2C_FUNCS, fault kinds); one
module keeps the real and the emulated transaction visibly the same.
"""

from __future__ import annotations

import errno
import random
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from enum import IntFlag
from typing import TYPE_CHECKING, Protocol

from hal.errors import BusError

if TYPE_CHECKING:
    import smbus2

__all__ = [
    "EmulatedBus",
    "EmulatedChip",
    "EmulatedNack",
    "I2CBus",
    "I2CFunc",
    "SMBusI2C",
    "smbus_pec",
]


class I2CFunc(IntFlag):
    """Adapter capability bits returned by the ``I2C_FUNCS`` ioctl.

    Names and values as in ``include/uapi/linux/i2c.h`` (``I2C_FUNC_*``).
    """

    I2C_FUNC_I2C = 0x00000001
    I2C_FUNC_10BIT_ADDR = 0x00000002
    I2C_FUNC_PROTOCOL_MANGLING = 0x00000004
    I2C_FUNC_SMBUS_PEC = 0x00000008
    I2C_FUNC_NOSTART = 0x00000010
    I2C_FUNC_SLAVE = 0x00000020
    I2C_FUNC_SMBUS_BLOCK_PROC_CALL = 0x00008000
    I2C_FUNC_SMBUS_QUICK = 0x00010000
    I2C_FUNC_SMBUS_READ_BYTE = 0x00020000
    I2C_FUNC_SMBUS_WRITE_BYTE = 0x00040000
    I2C_FUNC_SMBUS_READ_BYTE_DATA = 0x00080000
    I2C_FUNC_SMBUS_WRITE_BYTE_DATA = 0x00100000
    I2C_FUNC_SMBUS_READ_WORD_DATA = 0x00200000
    I2C_FUNC_SMBUS_WRITE_WORD_DATA = 0x00400000
    I2C_FUNC_SMBUS_PROC_CALL = 0x00800000
    I2C_FUNC_SMBUS_READ_BLOCK_DATA = 0x01000000
    I2C_FUNC_SMBUS_WRITE_BLOCK_DATA = 0x02000000
    I2C_FUNC_SMBUS_READ_I2C_BLOCK = 0x04000000
    I2C_FUNC_SMBUS_WRITE_I2C_BLOCK = 0x08000000
    I2C_FUNC_SMBUS_HOST_NOTIFY = 0x10000000

    # Composite masks from linux/i2c.h. I2C_FUNC_SMBUS_EMUL is what an adapter gets when
    # the kernel emulates SMBus over plain I²C (the Pi's i2c-bcm2835 does): it includes PEC.
    I2C_FUNC_SMBUS_BYTE = 0x00060000
    I2C_FUNC_SMBUS_BYTE_DATA = 0x00180000
    I2C_FUNC_SMBUS_WORD_DATA = 0x00600000
    I2C_FUNC_SMBUS_BLOCK_DATA = 0x03000000
    I2C_FUNC_SMBUS_I2C_BLOCK = 0x0C000000
    I2C_FUNC_SMBUS_EMUL = 0x0EFF0008


# Largest read_i2c_block_data / write_i2c_block_data payload (linux/i2c.h I2C_SMBUS_BLOCK_MAX).
I2C_SMBUS_BLOCK_MAX = 32
# Highest 7-bit address; 0x00-0x07 and 0x78-0x7F are reserved (I²C-bus spec UM10204 §3.1.12).
_ADDRESS_MAX = 0x7F

# CRC-8 for SMBus PEC: polynomial x^8 + x^2 + x + 1 (0x07), initial value 0, no reflection
# (SMBus 2.0 spec §5.4.1.2 "Packet Error Checking"; linux i2c-core-smbus.c crc8()).
PEC_POLYNOMIAL = 0x07


def smbus_pec(frame: bytes | Sequence[int]) -> int:
    """Return the SMBus packet error code (CRC-8, poly 0x07, init 0) of ``frame``.

    ``frame`` is every byte on the wire including the address bytes, e.g. for a word read
    ``[addr << 1, command, (addr << 1) | 1, low, high]`` (SMBus 2.0 §5.4.1.2).
    """
    crc = 0
    for byte in frame:
        crc ^= byte
        for _ in range(8):
            crc = ((crc << 1) ^ PEC_POLYNOMIAL) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
    return crc


class I2CBus(Protocol):
    """The slice of smbus2's ``SMBus`` API the drivers use (same names and argument order).

    Word values follow SMBus order: the first byte on the wire is the low byte. Big-endian
    chips should be read with :meth:`read_i2c_block_data` and parsed with an explicit byte
    order instead (see ``hal.registers``).
    """

    @property
    def funcs(self) -> I2CFunc:
        """Adapter capabilities (``I2C_FUNCS``)."""
        ...

    @property
    def pec(self) -> bool:
        """Whether SMBus packet error checking is on for subsequent transactions."""
        ...

    @pec.setter
    def pec(self, enable: bool) -> None: ...

    def write_quick(self, i2c_addr: int) -> None:
        """Address the device with no data (presence check)."""
        ...

    def read_byte(self, i2c_addr: int) -> int:
        """Receive one byte without a command (presence check)."""
        ...

    def read_byte_data(self, i2c_addr: int, register: int) -> int:
        """Read one byte from ``register``."""
        ...

    def write_byte_data(self, i2c_addr: int, register: int, value: int) -> None:
        """Write one byte to ``register``."""
        ...

    def read_word_data(self, i2c_addr: int, register: int) -> int:
        """Read a word; the first byte on the wire is the low byte."""
        ...

    def write_word_data(self, i2c_addr: int, register: int, value: int) -> None:
        """Write a word; the low byte goes on the wire first."""
        ...

    def read_i2c_block_data(self, i2c_addr: int, register: int, length: int) -> list[int]:
        """Read ``length`` (≤ 32) bytes starting at ``register``, in wire order."""
        ...

    def write_i2c_block_data(self, i2c_addr: int, register: int, data: Sequence[int]) -> None:
        """Write ``data`` (≤ 32 bytes) starting at ``register``, in wire order."""
        ...

    def close(self) -> None:
        """Release the bus."""
        ...


# --------------------------------------------------------------------------- helpers


def _hex(value: int | None) -> str:
    return "-" if value is None else f"0x{value:02X}"


# errno → what a person on a bench should check. NACK is EREMOTEIO on the Pi's i2c-bcm2835
# and ENXIO on several other adapters (linux Documentation/i2c/fault-codes.rst).
_ERRNO_HINTS = {
    errno.EREMOTEIO: "no ACK: nothing at this address, or wiring/power/pull-ups are wrong",
    errno.ENXIO: "no ACK: nothing at this address, or wiring/power/pull-ups are wrong",
    errno.EIO: "I/O error during the transfer (bus noise, clock stretching, or the chip reset)",
    errno.ETIMEDOUT: "bus timed out (SDA/SCL held low? a chip may be stuck mid-transfer)",
    errno.EBUSY: "a kernel driver owns this address: unbind it or open the bus with force=True",
    errno.EBADMSG: "PEC (CRC-8) mismatch: the frame was corrupted or the chip does not use PEC",
    errno.EOPNOTSUPP: "the adapter does not support this transaction type",
    errno.EAGAIN: "arbitration lost or bus busy (another master?)",
}

NACK_ERRNOS = frozenset({errno.EREMOTEIO, errno.ENXIO})


def bus_error(
    code: int,
    bus: str,
    operation: str,
    address: int,
    register: int | None,
    detail: str = "",
) -> BusError:
    """Build a :class:`BusError` whose message names bus, operation, address and register."""
    hint = _ERRNO_HINTS.get(code, "")
    what = "; ".join(part for part in (detail, hint) if part)
    message = (
        f"{operation} on {bus} at address {_hex(address)}, register {_hex(register)} failed"
        + (f": {what}" if what else "")
    )
    return BusError(code, message)


def is_nack(exc: BaseException) -> bool:
    """Whether ``exc`` is a bus error meaning "no device acknowledged the address"."""
    return isinstance(exc, OSError) and exc.errno in NACK_ERRNOS


def _check_address(bus: str, address: int) -> None:
    if not isinstance(address, int) or not 0 <= address <= _ADDRESS_MAX:
        raise bus_error(errno.EINVAL, bus, "addressing", 0, None,
                        f"{address!r} is not a 7-bit I²C address (0x00-0x7F)")


# --------------------------------------------------------------------------- smbus2 backend


class SMBusI2C:
    """:class:`I2CBus` on a Linux ``/dev/i2c-N`` through smbus2.

    The device node is opened on first use (or by :meth:`open`), never in the constructor.
    Every ``OSError`` from smbus2 becomes a :class:`~hal.errors.BusError` naming bus, address
    and register, raised ``from`` the original.

    Args:
        bus: bus number (``1`` → ``/dev/i2c-1``) or a device path.
        force: use ``I2C_SLAVE_FORCE`` so addresses bound to a kernel driver (e.g.
            ``max17040_battery``) can still be read; without it such reads fail with EBUSY.
    """

    def __init__(self, bus: int | str = 1, *, force: bool = False) -> None:
        self.path = f"/dev/i2c-{bus}" if isinstance(bus, int) else bus
        self._bus_spec = bus
        self._force = force
        self._smbus: smbus2.SMBus | None = None

    def __repr__(self) -> str:
        return f"SMBusI2C({self.path!r}, force={self._force})"

    def __enter__(self) -> SMBusI2C:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def open(self) -> None:
        """Open the device node now (otherwise the first transaction does).

        Raises:
            BusError: the node is missing (I²C not enabled), not permitted, or not an I²C bus.
        """
        if self._smbus is not None:
            return
        import smbus2

        try:
            self._smbus = smbus2.SMBus(self._bus_spec, force=self._force)
        except FileNotFoundError as exc:
            raise BusError(
                errno.ENOENT,
                f"no I²C bus {self.path}: enable I2C with raspi-config (Interface Options → "
                "I2C) or dtparam=i2c_arm=on in /boot/firmware/config.txt, then reboot",
            ) from exc
        except PermissionError as exc:
            raise BusError(
                errno.EACCES,
                f"no permission to open {self.path}: add the user to the 'i2c' group "
                "(sudo adduser $USER i2c) and log in again",
            ) from exc
        except OSError as exc:
            raise BusError(
                exc.errno or errno.EIO, f"cannot open I²C bus {self.path}: {exc.strerror or exc}"
            ) from exc

    def _device(self) -> smbus2.SMBus:
        self.open()
        assert self._smbus is not None
        return self._smbus

    @contextmanager
    def _translate(self, operation: str, address: int, register: int | None) -> Iterator[None]:
        _check_address(self.path, address)
        try:
            yield
        except BusError:
            raise
        except OSError as exc:
            raise bus_error(exc.errno or errno.EIO, self.path, operation, address, register,
                            exc.strerror or str(exc)) from exc

    @property
    def funcs(self) -> I2CFunc:
        """Adapter capabilities read with ``I2C_FUNCS`` when the bus was opened."""
        return I2CFunc(int(self._device().funcs))

    @property
    def pec(self) -> bool:
        """SMBus PEC on/off (``I2C_PEC`` ioctl); needs ``I2C_FUNC_SMBUS_PEC``."""
        return bool(self._smbus is not None and self._smbus.pec)

    @pec.setter
    def pec(self, enable: bool) -> None:
        device = self._device()
        if enable and not self.funcs & I2CFunc.I2C_FUNC_SMBUS_PEC:
            raise BusError(errno.EOPNOTSUPP,
                           f"{self.path} does not support SMBus PEC (I2C_FUNC_SMBUS_PEC unset)")
        try:
            device.pec = int(enable)
        except OSError as exc:
            raise BusError(exc.errno or errno.EIO,
                           f"cannot set PEC on {self.path}: {exc.strerror or exc}") from exc

    def write_quick(self, i2c_addr: int) -> None:
        """See :meth:`I2CBus.write_quick`."""
        with self._translate("write_quick", i2c_addr, None):
            self._device().write_quick(i2c_addr)

    def read_byte(self, i2c_addr: int) -> int:
        """See :meth:`I2CBus.read_byte`."""
        with self._translate("read_byte", i2c_addr, None):
            return int(self._device().read_byte(i2c_addr))

    def read_byte_data(self, i2c_addr: int, register: int) -> int:
        """See :meth:`I2CBus.read_byte_data`."""
        with self._translate("read_byte_data", i2c_addr, register):
            return int(self._device().read_byte_data(i2c_addr, register))

    def write_byte_data(self, i2c_addr: int, register: int, value: int) -> None:
        """See :meth:`I2CBus.write_byte_data`."""
        with self._translate("write_byte_data", i2c_addr, register):
            self._device().write_byte_data(i2c_addr, register, value)

    def read_word_data(self, i2c_addr: int, register: int) -> int:
        """See :meth:`I2CBus.read_word_data`."""
        with self._translate("read_word_data", i2c_addr, register):
            return int(self._device().read_word_data(i2c_addr, register))

    def write_word_data(self, i2c_addr: int, register: int, value: int) -> None:
        """See :meth:`I2CBus.write_word_data`."""
        with self._translate("write_word_data", i2c_addr, register):
            self._device().write_word_data(i2c_addr, register, value)

    def read_i2c_block_data(self, i2c_addr: int, register: int, length: int) -> list[int]:
        """See :meth:`I2CBus.read_i2c_block_data`."""
        with self._translate("read_i2c_block_data", i2c_addr, register):
            return [int(b) for b in self._device().read_i2c_block_data(i2c_addr, register,
                                                                      length)]

    def write_i2c_block_data(self, i2c_addr: int, register: int, data: Sequence[int]) -> None:
        """See :meth:`I2CBus.write_i2c_block_data`."""
        with self._translate("write_i2c_block_data", i2c_addr, register):
            self._device().write_i2c_block_data(i2c_addr, register, list(data))

    def close(self) -> None:
        """Close the device node (safe to call twice)."""
        if self._smbus is not None:
            smbus, self._smbus = self._smbus, None
            smbus.close()


# --------------------------------------------------------------------------- emulated bus


class EmulatedNack(Exception):  # noqa: N818 - it models the NACK bit, not a program error
    """Raised by an emulated chip to NACK a transfer; :class:`EmulatedBus` turns it into a
    :class:`~hal.errors.BusError`. Never escapes the bus."""


class EmulatedChip(Protocol):
    """The target side of an SMBus transaction, as :class:`EmulatedBus` drives it.

    ``write`` receives the command byte and every following byte on the wire (for a
    ``pec_required`` chip the bus has already checked and removed the PEC byte). ``read``
    returns ``length`` bytes for a read that starts at ``command``.
    """

    @property
    def auto_increment(self) -> bool:
        """True when a read at ``command`` continues with ``command + 1, ...`` (byte-addressed
        register files: MAX1704x, BQ27441, CW2015); False when every command is one register
        (LC709203F, INA219)."""
        ...

    @property
    def pec_required(self) -> bool:
        """True when the chip appends a PEC byte to reads and NACKs writes without a valid one."""
        ...

    def write(self, command: int, data: bytes) -> None:
        """Accept a write frame; raise :class:`EmulatedNack` to refuse it."""
        ...

    def read(self, command: int, length: int) -> bytes:
        """Return ``length`` bytes for a read starting at ``command``."""
        ...


# Transaction kinds that carry no PEC byte even with PEC on: quick has no data, and the kernel's
# I²C-block emulation never adds one (linux i2c-core-smbus.c i2c_smbus_xfer_emulated, wants_pec).
_NO_PEC = frozenset({"write_quick", "read_i2c_block_data", "write_i2c_block_data"})
# Bytes of garbage an injected fault puts over one register of an auto-incrementing chip
# (every chip family here has 16-bit registers).
_GARBAGE_WIDTH = 2
# Chips that require PEC (LC709203F) answer every command with one 16-bit word + PEC byte.
_PEC_CHIP_WORD = 2
# What an injected bad PEC means on a chip that sends no PEC byte of its own (wakebench bound:
# the emulated frame is corrupted and the host's CRC-8 over it mismatches, SMBus 2.0 §5.4.1.2).
BAD_PEC_ON_PLAIN_CHIP = ("injected bad PEC: the frame arrived corrupted and its CRC-8 "
                         "(SMBus PEC) does not match")


class EmulatedBus:
    """In-memory :class:`I2CBus` hosting emulated chips, with transaction counts and faults.

    SMBus semantics follow the kernel: ``read_word_data`` returns ``low | high << 8`` of the
    two bytes on the wire, block reads return wire order, PEC (when :attr:`pec` is on) is
    CRC-8 over the whole frame including address bytes, and I²C block transfers carry no PEC.

    Faults (cleared with :meth:`clear_faults`) surface as :class:`~hal.errors.BusError`
    naming address and register, or as wrong bytes the driver has to catch:

    - :meth:`inject_nack` — nothing acknowledges ``address`` (EREMOTEIO, like i2c-bcm2835).
    - :meth:`inject_eio` — transfers touching ``register`` fail with EIO.
    - :meth:`inject_garbage` — reads return garbage bytes (PEC, if any, is computed over them).
    - :meth:`inject_stuck` — a register keeps returning one value whatever the chip holds.
    - :meth:`inject_bad_pec` — the PEC byte is corrupted: reads fail with EBADMSG (a chip
      that requires PEC sends a wrong CRC; on any other chip every read fails the same way).

    Args:
        name: how error messages name this bus.
        funcs: adapter capabilities; the default is the kernel's SMBus emulation (incl. PEC).
        seed: seed for generated garbage bytes, so fault tests are repeatable.
    """

    def __init__(
        self,
        *,
        name: str = "emulated I²C bus",
        funcs: I2CFunc = I2CFunc.I2C_FUNC_I2C | I2CFunc.I2C_FUNC_SMBUS_EMUL,
        seed: int = 0,
    ) -> None:
        self.name = name
        self._funcs = funcs
        self._pec = False
        self._chips: dict[int, EmulatedChip] = {}
        self._pointer: dict[int, int] = {}
        self._counts: Counter[int] = Counter()
        self._random = random.Random(seed)
        self._nack: set[int] = set()
        self._eio: set[tuple[int, int]] = set()
        self._garbage: dict[tuple[int, int | None], bytes | None] = {}
        self._stuck: dict[tuple[int, int], bytes] = {}
        self._bad_pec: set[int] = set()

    def __repr__(self) -> str:
        chips = ", ".join(f"{_hex(a)}: {type(c).__name__}" for a, c in sorted(self._chips.items()))
        return f"EmulatedBus({self.name!r}, {{{chips}}})"

    # -- wiring -------------------------------------------------------------------------

    def attach(self, address: int, chip: EmulatedChip) -> None:
        """Put ``chip`` on the bus at ``address``.

        Raises:
            BusError: ``address`` is not 7-bit or is already taken.
        """
        _check_address(self.name, address)
        if address in self._chips:
            raise BusError(errno.EADDRINUSE,
                           f"{self.name}: address {_hex(address)} already has "
                           f"{type(self._chips[address]).__name__}")
        self._chips[address] = chip

    def detach(self, address: int) -> None:
        """Remove the chip at ``address`` (it then NACKs like an unplugged board)."""
        self._chips.pop(address, None)
        self._pointer.pop(address, None)

    def chip_at(self, address: int) -> EmulatedChip | None:
        """The chip attached at ``address``, if any."""
        return self._chips.get(address)

    @property
    def addresses(self) -> list[int]:
        """Addresses with a chip attached, ascending."""
        return sorted(self._chips)

    # -- counting -----------------------------------------------------------------------

    def transactions(self, address: int | None = None) -> int:
        """Transactions attempted so far on ``address`` (or on every address).

        Failed transactions count: they occupied the bus too.
        """
        return self._counts.total() if address is None else self._counts[address]

    def reset_counts(self) -> None:
        """Set every transaction count back to zero."""
        self._counts.clear()

    # -- faults -------------------------------------------------------------------------

    def inject_nack(self, address: int) -> None:
        """Make every transaction to ``address`` fail as if nothing acknowledged it."""
        self._nack.add(address)

    def inject_eio(self, address: int, register: int) -> None:
        """Make every transfer at ``address`` that touches ``register`` fail with EIO."""
        self._eio.add((address, register))

    def inject_garbage(
        self, address: int, register: int | None = None, data: bytes | None = None
    ) -> None:
        """Make reads of ``register`` (every register when None) return garbage.

        ``data`` gives the bytes (repeated as needed); by default seeded random bytes are used.
        The chip's PEC, if any, is computed over the garbage, so only validation can catch it.
        """
        self._garbage[(address, register)] = data

    def inject_stuck(self, address: int, register: int, value: bytes) -> None:
        """Make ``register`` read back ``value`` (wire order) whatever is written or updated."""
        if not value:
            raise ValueError("a stuck value needs at least one byte")
        self._stuck[(address, register)] = bytes(value)

    def inject_bad_pec(self, address: int) -> None:
        """Corrupt the PEC byte of every frame the chip at ``address`` sends: reads fail with
        EBADMSG (PEC mismatch).

        A chip that requires PEC (LC709203F) sends a wrong CRC byte, which the bus checks like
        the kernel does when PEC is on. A chip that sends no PEC (MAX1704x, INA219, ...) stands
        for a frame corrupted on the wire that the host's PEC check catches
        (:data:`BAD_PEC_ON_PLAIN_CHIP`): every read at ``address`` fails with EBADMSG, so the
        fault is reported and, while it persists, the chip's signals are unknown.
        """
        self._bad_pec.add(address)

    def clear_faults(self, address: int | None = None) -> None:
        """Remove every injected fault (on ``address`` only, when given)."""
        if address is None:
            self._nack.clear()
            self._eio.clear()
            self._garbage.clear()
            self._stuck.clear()
            self._bad_pec.clear()
            return
        self._nack.discard(address)
        self._bad_pec.discard(address)
        self._eio = {key for key in self._eio if key[0] != address}
        self._garbage = {k: v for k, v in self._garbage.items() if k[0] != address}
        self._stuck = {k: v for k, v in self._stuck.items() if k[0] != address}

    # -- I2CBus -------------------------------------------------------------------------

    @property
    def funcs(self) -> I2CFunc:
        """Adapter capabilities given to the constructor."""
        return self._funcs

    @property
    def pec(self) -> bool:
        """SMBus PEC on/off for subsequent transactions."""
        return self._pec

    @pec.setter
    def pec(self, enable: bool) -> None:
        if enable and not self._funcs & I2CFunc.I2C_FUNC_SMBUS_PEC:
            raise BusError(errno.EOPNOTSUPP,
                           f"{self.name} does not support SMBus PEC (I2C_FUNC_SMBUS_PEC unset)")
        self._pec = bool(enable)

    def write_quick(self, i2c_addr: int) -> None:
        """See :meth:`I2CBus.write_quick`."""
        self._target("write_quick", i2c_addr, None, ())

    def read_byte(self, i2c_addr: int) -> int:
        """See :meth:`I2CBus.read_byte`: returns the byte at the chip's register pointer."""
        return self._read("read_byte", i2c_addr, None, 1)[0]

    def read_byte_data(self, i2c_addr: int, register: int) -> int:
        """See :meth:`I2CBus.read_byte_data`."""
        return self._read("read_byte_data", i2c_addr, register, 1)[0]

    def write_byte_data(self, i2c_addr: int, register: int, value: int) -> None:
        """See :meth:`I2CBus.write_byte_data`."""
        self._write("write_byte_data", i2c_addr, register, [value])

    def read_word_data(self, i2c_addr: int, register: int) -> int:
        """See :meth:`I2CBus.read_word_data`: ``first_byte | second_byte << 8``."""
        low, high = self._read("read_word_data", i2c_addr, register, 2)
        return low | high << 8

    def write_word_data(self, i2c_addr: int, register: int, value: int) -> None:
        """See :meth:`I2CBus.write_word_data`: the low byte goes first."""
        self._write("write_word_data", i2c_addr, register, [value & 0xFF, (value >> 8) & 0xFF],
                    value_max=0xFFFF, value=value)

    def read_i2c_block_data(self, i2c_addr: int, register: int, length: int) -> list[int]:
        """See :meth:`I2CBus.read_i2c_block_data`."""
        if not 1 <= length <= I2C_SMBUS_BLOCK_MAX:
            raise bus_error(errno.EINVAL, self.name, "read_i2c_block_data", i2c_addr, register,
                            f"length {length} outside 1..{I2C_SMBUS_BLOCK_MAX}")
        return list(self._read("read_i2c_block_data", i2c_addr, register, length))

    def write_i2c_block_data(self, i2c_addr: int, register: int, data: Sequence[int]) -> None:
        """See :meth:`I2CBus.write_i2c_block_data`."""
        if len(data) > I2C_SMBUS_BLOCK_MAX:
            raise bus_error(errno.EINVAL, self.name, "write_i2c_block_data", i2c_addr, register,
                            f"{len(data)} bytes exceed {I2C_SMBUS_BLOCK_MAX}")
        self._write("write_i2c_block_data", i2c_addr, register, list(data))

    def close(self) -> None:
        """Nothing to release; PEC goes back off, as smbus2 does."""
        self._pec = False

    # -- the wire -----------------------------------------------------------------------

    def _target(
        self, operation: str, address: int, register: int | None, touched: Sequence[int]
    ) -> EmulatedChip:
        """Count the transaction and return the chip, or raise the fault/NACK it meets."""
        _check_address(self.name, address)
        if register is not None and not (isinstance(register, int) and 0 <= register <= 0xFF):
            raise bus_error(errno.EINVAL, self.name, operation, address, None,
                            f"register {register!r} is not a command byte (0x00-0xFF)")
        self._counts[address] += 1
        chip = self._chips.get(address)
        if chip is None or address in self._nack:
            raise bus_error(errno.EREMOTEIO, self.name, operation, address, register)
        for reg in touched:
            if (address, reg) in self._eio:
                raise bus_error(errno.EIO, self.name, operation, address, register,
                                f"injected EIO on register {_hex(reg)}")
        return chip

    def _read(self, operation: str, address: int, register: int | None, length: int) -> bytes:
        command = register if register is not None else self._pointer.get(address, 0)
        chip = self._target(operation, address, register,
                            self._touched(self._chips.get(address), command, length))
        pointer_only = register is None
        if not pointer_only:
            self._pointer[address] = command
        read_addr = (address << 1) | 1
        prefix = [read_addr] if pointer_only else [address << 1, command, read_addr]
        with_pec = self._pec and operation not in _NO_PEC

        try:
            if chip.pec_required:
                # The chip sends its 16-bit word, then its PEC byte, whatever the master expects.
                payload = bytearray(chip.read(command, _PEC_CHIP_WORD))
                self._apply_read_faults(address, chip.auto_increment, command, payload)
                pec = smbus_pec([*prefix, *payload])
                stream = bytes(payload) + bytes([pec ^ 0xFF if address in self._bad_pec else pec])
            else:
                raw = bytearray(chip.read(command, length + with_pec))
                self._apply_read_faults(address, chip.auto_increment, command, raw)
                stream = bytes(raw)
        except EmulatedNack as exc:
            raise bus_error(errno.EREMOTEIO, self.name, operation, address, register,
                            str(exc)) from None
        if address in self._bad_pec and not chip.pec_required:
            raise bus_error(errno.EBADMSG, self.name, operation, address, register,
                            BAD_PEC_ON_PLAIN_CHIP)
        stream = stream.ljust(length + with_pec, b"\xff")  # SDA idles high after the last byte
        data = stream[:length]
        if with_pec:
            expected = smbus_pec([*prefix, *data])
            if stream[length] != expected:
                raise bus_error(errno.EBADMSG, self.name, operation, address, register,
                                f"received PEC 0x{stream[length]:02X}, expected 0x{expected:02X}")
        return data

    @staticmethod
    def _touched(chip: EmulatedChip | None, command: int, length: int) -> list[int]:
        """Registers a transfer of ``length`` bytes starting at ``command`` touches."""
        if chip is None or not chip.auto_increment:
            return [command]
        return [(command + i) & 0xFF for i in range(max(length, 1))]

    def _apply_read_faults(
        self, address: int, auto_increment: bool, command: int, data: bytearray
    ) -> None:
        """Overwrite bytes of a read with stuck values and garbage injected at ``address``."""
        overrides: list[tuple[int | None, bytes]] = [
            (reg, value) for (addr, reg), value in self._stuck.items() if addr == address
        ]
        for (addr, reg), garbage in self._garbage.items():
            if addr == address:
                width = len(data) if reg is None else _GARBAGE_WIDTH
                noise = garbage or bytes(self._random.randrange(256) for _ in range(width))
                overrides.append((reg, (noise * len(data))[: max(width, len(noise))]))
        for reg, value in overrides:
            for offset in range(len(data)):
                if reg is None:
                    position = offset
                elif auto_increment:
                    position = (command + offset - reg) & 0xFF
                else:
                    position = offset if command == reg else -1
                if 0 <= position < len(value):
                    data[offset] = value[position]

    def _write(
        self,
        operation: str,
        address: int,
        register: int,
        payload: list[int],
        *,
        value_max: int = 0xFF,
        value: int | None = None,
    ) -> None:
        if value is not None and not 0 <= value <= value_max:
            raise bus_error(errno.EINVAL, self.name, operation, address, register,
                            f"value {value!r} outside 0..0x{value_max:X}")
        if any(not 0 <= b <= 0xFF for b in payload):
            raise bus_error(errno.EINVAL, self.name, operation, address, register,
                            f"data {payload!r} has a value outside 0..0xFF")
        touched = self._touched(self._chips.get(address), register, len(payload))
        chip = self._target(operation, address, register, touched)
        self._pointer[address] = register
        wire = [*payload]
        if self._pec and operation not in _NO_PEC:
            wire.append(smbus_pec([address << 1, register, *payload]))
        if chip.pec_required:
            if not wire or smbus_pec([address << 1, register, *wire[:-1]]) != wire[-1]:
                raise bus_error(errno.EREMOTEIO, self.name, operation, address, register,
                                "chip NACKed the PEC byte: it requires a valid SMBus PEC "
                                "on every write (set bus.pec = True)")
            wire = wire[:-1]
        try:
            chip.write(register, bytes(wire))
        except EmulatedNack as exc:
            raise bus_error(errno.EREMOTEIO, self.name, operation, address, register,
                            str(exc)) from None
