"""Linux ``power_supply`` class: batteries and chargers the kernel already drives.

Reads ``/sys/class/power_supply/<name>/`` (root injectable) as the kernel ABI describes it
(``Documentation/ABI/testing/sysfs-class-power``, ``reference/pi-hardware.md`` section 3) and
returns frozen readings in SI units. Kernel drivers for the Pi's gauges (``max17040_battery``,
``bq27xxx_battery``, ``cw2015_battery``) expose a ``battery`` entry; boards with a charger driver
also expose a Mains / USB / Wireless entry, from which the charger is derived.

Missing attributes are None (drivers expose different sets: ``max17040`` has no ``current_now``).
An attribute the driver cannot answer right now (``ENODATA``, ``ENODEV``, ``EINVAL`` on read) is
None too. Anything unreadable otherwise (``EIO`` from a gauge whose I²C wire is off) or
unparseable raises :class:`~hal.errors.SysfsError` naming the file.
"""

from __future__ import annotations

import errno
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal, TypeVar

from hal.errors import SysfsError

__all__ = [
    "DEFAULT_POWER_SUPPLY_ROOT",
    "Charger",
    "PowerSupplyReading",
    "PowerSupplySnapshot",
    "PowerSupplySource",
    "charger_from",
    "read_supplies",
    "read_supply",
]

DEFAULT_POWER_SUPPLY_ROOT: Final = Path("/sys/class/power_supply")

Charger = Literal["none", "ac", "usb", "wireless"]

# Units, from Documentation/ABI/testing/sysfs-class-power (reference section 3).
VOLTAGE_LSB: Final = 1e-6      # V per unit of voltage_now ("µV")
CURRENT_LSB: Final = 1e-6      # A per unit of current_now ("µA", negative = discharging)
TEMPERATURE_LSB: Final = 0.1   # °C per unit of temp ("1/10 °C")
CAPACITY_RANGE: Final = (0, 100)  # capacity, "0 - 100 (percent)"

#: ``type`` values: the ABI lists Battery, UPS, Mains, USB, Wireless; older kernels (before
#: ``usb_type`` was split out) also report the USB charger flavours and BrickID
#: (``power_supply_sysfs.c`` POWER_SUPPLY_TYPE_TEXT).
CHARGER_OF_TYPE: Final[dict[str, Charger | None]] = {
    "Battery": None,
    "UPS": None,
    "Unknown": None,
    "Mains": "ac",
    "USB": "usb",
    "USB_DCP": "usb",
    "USB_CDP": "usb",
    "USB_ACA": "usb",
    "USB_C": "usb",
    "USB_PD": "usb",
    "USB_PD_DRP": "usb",
    "BrickID": "usb",
    "Wireless": "wireless",
}

#: ABI ``status`` values.
STATUSES: Final = ("Unknown", "Charging", "Discharging", "Not charging", "Full")

#: When several chargers are online at once, the one reported (a wall supply first).
CHARGER_PREFERENCE: Final[tuple[Charger, ...]] = ("ac", "usb", "wireless")

#: errno values with which a driver says "no value right now" rather than "broken":
#: ENODATA / ENODEV (bq27xxx without a battery), EINVAL (property not valid in this state).
_NO_VALUE_ERRNOS: Final = frozenset({errno.ENODATA, errno.ENODEV, errno.EINVAL})


@dataclass(frozen=True, slots=True)
class PowerSupplyReading:
    """One ``power_supply`` entry, read once. Units: V, A (negative = discharging), %, °C."""

    name: str
    type: str | None = None         # Battery, UPS, Mains, USB, Wireless, ...
    status: str | None = None       # Charging, Discharging, Not charging, Full, Unknown
    capacity: float | None = None   # %, 0-100
    online: bool | None = None      # supplier connected (0 offline, 1/2 online)
    present: bool | None = None
    voltage: float | None = None    # V
    current: float | None = None    # A
    temperature: float | None = None  # °C

    @property
    def charger(self) -> Charger | None:
        """``ac`` / ``usb`` / ``wireless`` for a supplier entry, None for a battery."""
        return CHARGER_OF_TYPE.get(self.type or "Unknown")

    @property
    def is_battery(self) -> bool:
        """True for Battery and UPS entries."""
        return self.type in ("Battery", "UPS")

    @property
    def charging(self) -> bool | None:
        """From ``status``: Charging → True; Discharging, Not charging, Full → False; else None.

        ``max17040`` reports Unknown without a supplier (reference section 3), so None is common.
        """
        if self.status == "Charging":
            return True
        if self.status in ("Discharging", "Not charging", "Full"):
            return False
        return None


@dataclass(frozen=True, slots=True)
class PowerSupplySnapshot:
    """Every entry plus the signals derived from them."""

    supplies: tuple[PowerSupplyReading, ...]
    battery: PowerSupplyReading | None   # the battery the board reads, if any
    charger: Charger | None              # None: no supplier entry, the kernel can't tell
    external_power: bool | None
    charging: bool | None


def _read_text(path: Path) -> str | None:
    try:
        text = path.read_text(encoding="ascii", errors="strict")
    except FileNotFoundError:
        return None
    except UnicodeDecodeError as exc:
        raise SysfsError(f"{path}: not ASCII text ({exc})") from exc
    except OSError as exc:
        if exc.errno in _NO_VALUE_ERRNOS:
            return None
        raise SysfsError(f"{path}: read failed: {exc.strerror or exc}") from exc
    value = text.strip()
    if not value:
        raise SysfsError(f"{path}: empty")
    return value


T = TypeVar("T")


def _parse(path: Path, parse: Callable[[str], T], what: str) -> T | None:
    text = _read_text(path)
    if text is None:
        return None
    try:
        return parse(text)
    except ValueError:
        raise SysfsError(f"{path}: expected {what}, got {text[:40]!r}") from None


def _scaled(lsb: float) -> Callable[[str], float]:
    return lambda text: int(text) * lsb


def _flag(text: str) -> bool:
    value = int(text)
    if value < 0:
        raise ValueError(text)
    return value != 0


def _one_of(choices: Iterable[str]) -> Callable[[str], str]:
    allowed = tuple(choices)

    def parse(text: str) -> str:
        if text not in allowed:
            raise ValueError(text)
        return text

    return parse


def _capacity(text: str) -> float:
    value = int(text)
    low, high = CAPACITY_RANGE
    if not low <= value <= high:
        raise ValueError(text)
    return float(value)


def read_supply(name: str, *, root: Path = DEFAULT_POWER_SUPPLY_ROOT) -> PowerSupplyReading:
    """Read ``<root>/<name>/``.

    Raises:
        SysfsError: no such supply, or an attribute is unreadable / unparseable (names the file).
    """
    base = Path(root) / name
    if not base.is_dir():
        found = ", ".join(sorted(p.name for p in Path(root).iterdir())) if Path(root).is_dir() else ""
        raise SysfsError(f"{base}: no such power supply (found: {found or 'none'})")
    return PowerSupplyReading(
        name=name,
        type=_parse(base / "type", _one_of(CHARGER_OF_TYPE), "one of " + ", ".join(CHARGER_OF_TYPE)),
        status=_parse(base / "status", _one_of(STATUSES), "one of " + ", ".join(STATUSES)),
        capacity=_parse(base / "capacity", _capacity, "an integer percentage 0-100"),
        online=_parse(base / "online", _flag, "0, 1 or 2"),
        present=_parse(base / "present", _flag, "0 or 1"),
        voltage=_parse(base / "voltage_now", _scaled(VOLTAGE_LSB), "an integer in µV"),
        current=_parse(base / "current_now", _scaled(CURRENT_LSB), "an integer in µA"),
        temperature=_parse(base / "temp", _scaled(TEMPERATURE_LSB), "an integer in 0.1 °C"),
    )


def read_supplies(*, root: Path = DEFAULT_POWER_SUPPLY_ROOT) -> tuple[PowerSupplyReading, ...]:
    """Read every entry under ``root``, sorted by name; empty if the class does not exist."""
    root = Path(root)
    if not root.is_dir():
        return ()
    return tuple(read_supply(p.name, root=root) for p in sorted(root.iterdir()) if p.is_dir())


def charger_from(supplies: Iterable[PowerSupplyReading]) -> Charger | None:
    """The charger the supplier entries report: the first online in :data:`CHARGER_PREFERENCE`.

    ``none`` when supplier entries exist and none is online; None when there are no supplier
    entries (or their ``online`` is unreadable), i.e. the kernel cannot tell.
    """
    suppliers = [s for s in supplies if s.charger is not None]
    online = {s.charger for s in suppliers if s.online}
    for kind in CHARGER_PREFERENCE:
        if kind in online:
            return kind
    if not suppliers or any(s.online is None for s in suppliers):
        return None
    return "none"


class PowerSupplySource:
    """Reads one board's ``power_supply`` entries and derives charger / charging.

    Args:
        root: the class directory (a fake tree in tests).
        battery: name of the battery entry (``battery`` for max17040, ``cw2015-battery``,
            ``bq27441-0``, ...); None takes the first Battery / UPS entry.
    """

    def __init__(
        self, *, root: Path = DEFAULT_POWER_SUPPLY_ROOT, battery: str | None = None
    ) -> None:
        self._root = Path(root)
        self._battery = battery

    def read(self) -> PowerSupplySnapshot:
        """Read every entry once.

        Raises:
            SysfsError: the named battery is missing, or an attribute is bad (names the file).
        """
        supplies = read_supplies(root=self._root)
        if self._battery is not None:
            battery: PowerSupplyReading | None = next(
                (s for s in supplies if s.name == self._battery), None
            )
            if battery is None:
                read_supply(self._battery, root=self._root)  # raises, naming what was found
        else:
            battery = next((s for s in supplies if s.is_battery), None)
        charger = charger_from(supplies)
        charging = battery.charging if battery is not None else None
        status = battery.status if battery is not None else None
        if charger is not None:
            external_power: bool | None = charger != "none"
        elif status in ("Charging", "Discharging"):
            # no supplier entry: Charging implies a charger, Discharging implies none
            external_power = status == "Charging"
        else:
            external_power = None  # Not charging / Full / Unknown say nothing about the plug
        return PowerSupplySnapshot(
            supplies=supplies,
            battery=battery,
            charger=charger,
            external_power=external_power,
            charging=charging,
        )
