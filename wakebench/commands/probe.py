"""``wakebench probe [--bus N] [--board NAME]``: scan an I²C bus, identify known gauges, read once.

Addresses 0x03-0x77 are probed the way ``i2cdetect`` does by default (i2cdetect(8): SMBus
"receive byte" for 0x30-0x37 and 0x50-0x5F, where a quick write could upset EEPROMs and
write-only devices, "quick write" elsewhere). Each answering address is identified through its
identity registers (:func:`hal.chips.identify`; BQ27441 and INA219 identification writes a
control word / round-trips the calibration register, as their read protocols require) and read
once with its driver; values are printed in SI units.

``--board sim`` probes the simulated board's emulated bus. Exit 0 after a scan, 1 when the bus
cannot be opened (no ``/dev/i2c-N``: the message says how to enable I²C on a Pi), 2 for a bad
``--board``.
"""

from __future__ import annotations

import argparse
import glob
import json
import sys
from dataclasses import asdict, dataclass
from typing import Any, Final

from boards import BoardError, BoardSpec, ChipSpec, SimBoard, resolve_board
from boards.build import gauge_driver
from firmware_sim.clock import VirtualClock
from hal.chips import CHIPS, current_from_charge_rate, identify
from hal.errors import BusError, HalError
from hal.i2c import I2CBus, SMBusI2C, is_nack
from hal.readings import GaugeReading

#: Scan range: 7-bit addresses not reserved by the I²C-bus specification (UM10204 table 4),
#: the same default range as i2cdetect(8).
SCAN_FIRST: Final = 0x03
SCAN_LAST: Final = 0x77
#: Ranges i2cdetect(8) probes with "receive byte" instead of "quick write" by default.
READ_BYTE_RANGES: Final = ((0x30, 0x37), (0x50, 0x5F))

_SIM_HINT: Final = "without hardware, probe the simulated board: wakebench probe --board sim"


@dataclass(frozen=True, slots=True)
class Device:
    """One answering address: what it is and what it read."""

    address: int
    chip: str | None = None
    identity: str = ""
    reading: dict[str, Any] | None = None
    error: str | None = None
    busy: bool = False


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``probe``."""
    parser.add_argument("--bus", type=int, metavar="N",
                        help="I²C bus /dev/i2c-N (default: the board's gauge bus, else 1)")
    parser.add_argument("--board", metavar="NAME",
                        help="sim: probe the simulated board's emulated bus; another board "
                             "(name or .toml): use its gauge bus and chip parameters")
    parser.add_argument("--force", action="store_true",
                        help="read chips bound to a kernel driver (I2C_SLAVE_FORCE)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def run(args: argparse.Namespace) -> int:
    """Scan, identify, read, print."""
    spec: BoardSpec | None = None
    if args.board is not None:
        try:
            spec = resolve_board(args.board)
        except BoardError as exc:
            print(f"wakebench probe: {exc}", file=sys.stderr)
            return 2
    bus: I2CBus
    if spec is not None and spec.simulated:
        sim = SimBoard(clock=VirtualClock(), spec=spec)
        sim.sync()
        bus, bus_name = sim.bus, f"{sim.bus.name} (board {spec.name})"
    else:
        number = args.bus
        if number is None:
            number = spec.gauge.bus if spec is not None and spec.gauge is not None else 1
        real = SMBusI2C(number, force=args.force)
        try:
            real.open()
        except BusError as exc:
            existing = sorted(glob.glob("/dev/i2c-*"))
            print(f"wakebench probe: {exc.strerror or exc}", file=sys.stderr)
            print("I²C buses on this machine: " + (", ".join(existing) if existing else "none"),
                  file=sys.stderr)
            print(_SIM_HINT, file=sys.stderr)
            return 1
        bus, bus_name = real, real.path
    try:
        devices = scan(bus, spec)
    finally:
        bus.close()
    if args.json:
        json.dump({"bus": bus_name, "devices": [_device_dict(d) for d in devices]}, sys.stdout,
                  indent=2)
        sys.stdout.write("\n")
    else:
        _print(bus_name, devices)
    return 0


def scan(bus: I2CBus, spec: BoardSpec | None = None) -> list[Device]:
    """Probe 0x03-0x77, then identify and read every answering address (never raises)."""
    devices = []
    for address in range(SCAN_FIRST, SCAN_LAST + 1):
        try:
            if any(lo <= address <= hi for lo, hi in READ_BYTE_RANGES):
                bus.read_byte(address)
            else:
                bus.write_quick(address)
        except BusError as exc:
            if is_nack(exc):
                continue
            if exc.errno == _EBUSY:
                devices.append(Device(address, busy=True,
                                      error="in use by a kernel driver (use --force to read it)"))
            else:
                devices.append(Device(address, error=exc.strerror or str(exc)))
            continue
        devices.append(_identify_and_read(bus, address, spec))
    return devices


_EBUSY: Final = 16


def _identify_and_read(bus: I2CBus, address: int, spec: BoardSpec | None) -> Device:
    try:
        name = identify(bus, address)
    except HalError as exc:
        return Device(address, error=f"identify failed: {_text(exc)}")
    if name is None:
        return Device(address, identity="no known chip identifies here")
    params: dict[str, Any] = {}
    if spec is not None and spec.gauge is not None and spec.gauge.address == address \
            and spec.gauge.chip == name:
        params = dict(spec.gauge.params)
    try:
        reading = gauge_driver(ChipSpec(name, address, params=params), bus=bus).read()
    except HalError as exc:
        return Device(address, chip=name, identity=CHIPS[name].identity, error=_text(exc))
    values = _reading_dict(reading)
    capacity = params.get("capacity_mah")
    if reading.current is None and reading.charge_rate is not None and capacity:
        values["current"] = current_from_charge_rate(reading.charge_rate, float(capacity))
    return Device(address, chip=name, identity=CHIPS[name].identity, reading=values)


def _text(exc: BaseException) -> str:
    return exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)


def _reading_dict(reading: GaugeReading) -> dict[str, Any]:
    return {k: v for k, v in asdict(reading).items() if k not in ("chip", "address")}


def _device_dict(device: Device) -> dict[str, Any]:
    out = asdict(device)
    out["address_hex"] = f"0x{device.address:02x}"
    return out


_UNITS: Final = (
    ("voltage", "V", "{:.3f}"),
    ("soc", "%", "{:.1f}"),
    ("current", "A", "{:+.4f}"),
    ("temperature", "°C", "{:.1f}"),
    ("charge_rate", "%/h", "{:+.2f}"),
    ("remaining_capacity", "mAh", "{:.0f}"),
    ("full_capacity", "mAh", "{:.0f}"),
)


def _format_reading(reading: dict[str, Any]) -> str:
    parts = [f"{key.replace('_', ' ')} {fmt.format(reading[key])} {unit}"
             for key, unit, fmt in _UNITS if reading.get(key) is not None]
    if reading.get("charging") is not None:
        parts.append("charging" if reading["charging"] else "not charging")
    return ", ".join(parts) + f" ({reading.get('transactions', 0)} bus transactions)"


def _print(bus_name: str, devices: list[Device]) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console(width=max(120, Console().width), highlight=False)
    if not devices:
        console.print(f"{bus_name}: no device answered at 0x{SCAN_FIRST:02x}-0x{SCAN_LAST:02x}")
        return
    table = Table(title=f"I²C devices on {bus_name}")
    for column in ("address", "chip", "identified by", "reading (SI units)"):
        table.add_column(column, overflow="fold")
    for device in devices:
        if device.busy:
            table.add_row(f"0x{device.address:02x}", "UU", "", escape(device.error or ""))
            continue
        detail = _format_reading(device.reading) if device.reading else ""
        if device.error:
            detail = f"[red]{escape(device.error)}[/red]"
        table.add_row(f"0x{device.address:02x}", device.chip or "?", escape(device.identity),
                      escape(detail) if device.reading else detail)
    console.print(table)
    if not any(d.chip for d in devices):
        console.print("no known gauge found (supported: " + ", ".join(CHIPS) + ")")
