"""The signal vocabulary of DESIGN.md section 2, once: names, types, value sets, units, bounds,
and the one validation every layer applies.

``firmware_sim`` (the :class:`~firmware_sim.Signals` snapshot, MQTT ``signals/set``, scenario
steps) and ``boards`` (board pins, relays, the sim board, ``wakebench signals``) import these
names and :func:`check` from here, so a value one layer accepts the other accepts too. Each
caller translates :class:`InvalidSignalError` into its own package's error at its boundary.

Rules (one per kind of signal):

* booleans (:data:`BOOL_SIGNALS`): ``true`` / ``false`` only (``1`` is refused);
* ``charger`` / ``network``: one of :data:`CHARGERS` / :data:`NETWORKS`;
* ``battery_level``: a finite number in [:data:`BATTERY_MIN_PCT`, :data:`BATTERY_MAX_PCT`];
* measurements (:data:`MEASUREMENTS`: voltage, current, temperature): a finite number, or
  ``None`` for "not measured" (a board without that sensor); ``temperature`` within
  [:data:`TEMP_MIN_C`, :data:`TEMP_MAX_C`].
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Final, Literal, get_args

__all__ = [
    "BATTERY_DECISION_LEVELS_PCT",
    "BATTERY_MAX_PCT",
    "BATTERY_MIN_PCT",
    "BOOL_SIGNALS",
    "CHARGERS",
    "DEFAULTS",
    "KINDS",
    "MEASUREMENTS",
    "NETWORKS",
    "SIGNAL_NAMES",
    "TEMP_MAX_C",
    "TEMP_MIN_C",
    "UNITS",
    "Charger",
    "InvalidSignalError",
    "Kind",
    "Network",
    "check",
    "check_name",
]

Charger = Literal["none", "ac", "usb", "wireless"]
Network = Literal["none", "wifi", "ethernet", "cellular", "bluetooth"]

#: Charger kinds of DESIGN.md section 2 (``none`` = no external power).
CHARGERS: Final[tuple[str, ...]] = get_args(Charger)
#: Network kinds of DESIGN.md section 2.
NETWORKS: Final[tuple[str, ...]] = get_args(Network)

Kind = Literal["level", "measurement", "bool", "charger", "network"]

#: Every signal of DESIGN.md section 2, in its table order, with its kind: ``level`` (0-100 %),
#: ``measurement`` (a number or None), ``bool``, or one of the two value sets.
KINDS: Final[Mapping[str, Kind]] = MappingProxyType(
    {
        "battery_level": "level",
        "voltage": "measurement",
        "current": "measurement",
        "charging": "bool",
        "charger": "charger",
        "network": "network",
        "metered": "bool",
        "roaming": "bool",
        "temperature": "measurement",
        "storage_low": "bool",
        "screen_locked": "bool",
        "idle": "bool",
        "on_call": "bool",
        "user_present": "bool",
        "low_power_mode": "bool",
        "battery_saver": "bool",
    }
)

#: The signal names, in DESIGN.md section 2 order.
SIGNAL_NAMES: Final[tuple[str, ...]] = tuple(KINDS)

#: Boolean signals (DESIGN.md section 2 "bool").
BOOL_SIGNALS: Final[frozenset[str]] = frozenset(n for n, k in KINDS.items() if k == "bool")

#: Signals only a sensor knows; ``None`` means "not measured" (DESIGN.md section 2: voltage,
#: current from the gauge / INA219; temperature from the gauge or a thermal zone).
MEASUREMENTS: Final[frozenset[str]] = frozenset(n for n, k in KINDS.items() if k == "measurement")

#: Units of the numeric signals (DESIGN.md section 2: current < 0 while discharging).
UNITS: Final[Mapping[str, str]] = MappingProxyType(
    {"battery_level": "%", "voltage": "V", "current": "A", "temperature": "°C"}
)

#: battery_level range (%), DESIGN.md section 2 "0-100".
BATTERY_MIN_PCT: Final = 0.0
BATTERY_MAX_PCT: Final = 100.0

#: Temperatures accepted (°C): the -40..125 °C operating range common to the supported gauges
#: (MAX17048 datasheet "Absolute Maximum Ratings", operating -40 °C to +85 °C, junction +150 °C;
#: BQ27441 and INA219 datasheets: -40 °C to +125 °C) — a bound against typos and garbage, not a
#: cell limit.
TEMP_MIN_C: Final = -40.0
TEMP_MAX_C: Final = 125.0

#: Start values (``firmware_sim.Signals`` field defaults): a full battery, no charger, Wi-Fi,
#: unlocked, nothing measured but a 25 °C room.
DEFAULTS: Final[Mapping[str, Any]] = MappingProxyType(
    {
        "battery_level": 100.0,
        "voltage": None,
        "current": None,
        "charging": False,
        "charger": "none",
        "network": "wifi",
        "metered": False,
        "roaming": False,
        "temperature": 25.0,
        "storage_low": False,
        "screen_locked": False,
        "idle": False,
        "on_call": False,
        "user_present": True,
        "low_power_mode": False,
        "battery_saver": False,
    }
)


class InvalidSignalError(ValueError):
    """A signal name DESIGN.md does not define, or a value of the wrong type or range.

    Attributes:
        name: the offending signal name.
        unknown: True when the *name* is unknown (else the value is wrong).
    """

    def __init__(self, message: str, *, name: str, unknown: bool = False) -> None:
        super().__init__(message)
        self.name = name
        self.unknown = unknown


#: Types a numeric signal may arrive as (a tuple: ``isinstance`` takes its fast path, not the
#: union's ``__instancecheck__``; every signal update checks one).
_NUMBER: Final = (int, float)


def check_name(name: object) -> str:
    """Return ``name`` if it is a signal of :data:`SIGNAL_NAMES`.

    Raises:
        InvalidSignalError: unknown name (``unknown=True``); the message lists the known ones.
    """
    if not isinstance(name, str) or name not in KINDS:  # a dict lookup, not a tuple scan
        raise _unknown_name(name)
    return name


def _unknown_name(name: object) -> InvalidSignalError:
    return InvalidSignalError(
        f"unknown signal {name!r} (known: {', '.join(SIGNAL_NAMES)})", name=str(name), unknown=True
    )


def check(name: str, value: Any) -> Any:
    """Validate one signal value and return it in its canonical type (numbers as ``float``).

    Raises:
        InvalidSignalError: unknown name, wrong type or out-of-range value; the message names the
            signal and the value.
    """
    kind = KINDS.get(name) if isinstance(name, str) else None  # the name's kind decides the rule
    if kind is None:
        raise _unknown_name(name)
    if kind == "bool":
        if not isinstance(value, bool):
            raise InvalidSignalError(f"signal {name!r} must be true or false, not {value!r}", name=name)
        return value
    if kind == "charger":
        if value not in CHARGERS:
            raise InvalidSignalError(f"signal 'charger' must be one of {', '.join(CHARGERS)}, not {value!r}",
                                name=name)
        return value
    if kind == "network":
        if value not in NETWORKS:
            raise InvalidSignalError(f"signal 'network' must be one of {', '.join(NETWORKS)}, not {value!r}",
                                name=name)
        return value
    if value is None and kind == "measurement":
        return None
    if isinstance(value, bool) or not isinstance(value, _NUMBER) or not math.isfinite(value):
        raise InvalidSignalError(f"signal {name!r} must be a finite number, not {value!r}", name=name)
    if kind == "level" and not BATTERY_MIN_PCT <= value <= BATTERY_MAX_PCT:
        raise InvalidSignalError(f"signal 'battery_level' must be a number from 0 to 100 %, not {value!r}",
                            name=name)
    if name == "temperature" and not TEMP_MIN_C <= value <= TEMP_MAX_C:
        raise InvalidSignalError(
            f"signal 'temperature' must be from {TEMP_MIN_C:g} to {TEMP_MAX_C:g} °C, not {value!r}", name=name
        )
    return float(value)


#: Battery levels (%) at which some platform's decision flips, with their sources (the default
#: limits of firmware_sim.platforms; ``tests/test_layers.py`` checks every one is listed):
#: Android BATTERY_LOW at <= 15 % (AOSP config_lowBatteryWarningLevel) and okay again at
#: 15 + 5 = 20 % (config_lowBatteryCloseWarningBump); HarmonyOS battery low at <= 20 %
#: (battery_notify.cpp DEFAULT_LOW_CAPACITY); iOS critically low at <= 20 % (seed: "iPhone
#: battery <= 20%"); WP8 resource-intensive agents only above 90 % (seed 最小電量 "大於90%").
#: A gauge reading that crosses one of them is confirmed by a re-read before it is published.
BATTERY_DECISION_LEVELS_PCT: Final[tuple[float, ...]] = (15.0, 20.0, 90.0)
