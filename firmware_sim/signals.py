"""The signals snapshot: everything the emulated OS knows about the device (DESIGN.md section 2).

A :class:`Signals` value is immutable. Sources (the board's gauge, GPIO pins, network
interfaces, MQTT ``signals/set``) produce *updates* as plain mappings of signal name to value;
:meth:`Signals.updated` validates them and returns a new snapshot. Nothing here reads hardware.

Freshness: a source that fails marks its signals ``stale``. The scheduler never trusts a stale
value; it reads :meth:`Signals.effective`, which replaces every stale signal with the value that
is least permissive for background work (unknown charger ⇒ no charger, unknown network ⇒ no
network, unknown battery ⇒ 0 %, unknown lock ⇒ unlocked, ...). A bench user pulling the gauge's
I²C wire therefore sees discretionary work stop, never start.

The vocabulary itself (names, value sets, units, bounds, validation) is
:mod:`wbcommon.signals`, shared with ``boards``; this module adds the snapshot type and
translates :class:`wbcommon.signals.InvalidSignalError` into :class:`SignalError`.
"""

from __future__ import annotations

import dataclasses
import operator
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from firmware_sim.errors import SignalError
from wbcommon.signals import (
    BOOL_SIGNALS,
    CHARGERS,
    NETWORKS,
    SIGNAL_NAMES,
    Charger,
    InvalidSignalError,
    Network,
    check,
    check_name,
)

__all__ = ["CHARGERS", "CONSERVATIVE", "NETWORKS", "SIGNAL_NAMES", "Signals", "coerce", "coerce_name"]

#: Value each signal takes while stale: the least permissive reading for background work.
CONSERVATIVE: Final[Mapping[str, Any]] = {
    "battery_level": 0.0,
    "voltage": None,
    "current": None,
    "charging": False,
    "charger": "none",
    "network": "none",
    "metered": True,
    "roaming": True,
    "temperature": None,
    "storage_low": True,
    "screen_locked": False,
    "idle": False,
    "on_call": True,
    "user_present": True,
    "low_power_mode": True,
    "battery_saver": True,
}


@dataclass(frozen=True, slots=True)
class Signals:
    """One immutable snapshot of the device's power, network and user signals.

    Units: ``battery_level`` in percent (0-100), ``voltage`` in V, ``current`` in A (negative
    while discharging), ``temperature`` in °C. ``t`` is the rig clock (s) of the last change.
    """

    battery_level: float = 100.0
    voltage: float | None = None
    current: float | None = None
    charging: bool = False
    charger: Charger = "none"
    network: Network = "wifi"
    metered: bool = False
    roaming: bool = False
    temperature: float | None = 25.0
    storage_low: bool = False
    screen_locked: bool = False
    idle: bool = False
    on_call: bool = False
    user_present: bool = True
    low_power_mode: bool = False
    battery_saver: bool = False
    t: float = 0.0
    stale: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def names(cls) -> tuple[str, ...]:
        """Names of the settable signals (everything but ``t`` and ``stale``)."""
        return SIGNAL_NAMES

    def updated(
        self,
        values: Mapping[str, Any],
        *,
        t: float | None = None,
        stale: Iterable[str] = (),
        fresh: Iterable[str] = (),
    ) -> Signals:
        """Return a new snapshot with ``values`` applied.

        Every name in ``values`` becomes fresh again unless it is also listed in ``stale``;
        ``stale`` marks signals whose source failed, ``fresh`` clears the mark explicitly.

        Raises:
            SignalError: an unknown signal name or a value of the wrong type or range.
        """
        fields = list(_all_fields(self))
        for name, raw in values.items():
            # already canonical (true/false, a known charger or network name): nothing to check
            kind = type(raw)
            if (kind is bool or kind is str) and (name, raw) in _CANONICAL:
                fields[_INDEX[name]] = raw
            else:  # coerce runs first and refuses an unknown name before the index is looked up
                fields[_INDEX[name]] = coerce(name, raw)
        if self.stale or stale or fresh:
            stale_set = set(self.stale)
            stale_set -= set(values)
            stale_set -= set(fresh)
            for name in stale:
                coerce_name(name)
                stale_set.add(name)
            fields[_INDEX["stale"]] = frozenset(stale_set)
        if t is not None:
            fields[_INDEX["t"]] = float(t)
        return Signals(*fields)

    def changed(self, other: Signals) -> frozenset[str]:
        """Names whose *effective* value differs between ``self`` and ``other``."""
        a, b = self.effective(), other.effective()
        return frozenset(n for n in SIGNAL_NAMES if getattr(a, n) != getattr(b, n))

    def effective(self) -> Signals:
        """The snapshot the scheduler acts on: stale signals replaced by :data:`CONSERVATIVE`."""
        if not self.stale:
            return self
        return dataclasses.replace(self, **{n: CONSERVATIVE[n] for n in self.stale})

    @property
    def external_power(self) -> bool:
        """True when any charger is attached (wall, USB or wireless)."""
        return self.charger != "none"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready mapping: every signal, ``t`` and the sorted ``stale`` list."""
        out: dict[str, Any] = {n: getattr(self, n) for n in SIGNAL_NAMES}
        out["t"] = self.t
        out["stale"] = sorted(self.stale)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Signals:
        """Inverse of :meth:`to_dict` (unknown keys are an error)."""
        values = {k: v for k, v in data.items() if k not in ("t", "stale", "ts")}
        return cls().updated(values, t=float(data.get("t", 0.0)), stale=data.get("stale", ()))


#: Every field in declaration order, its position, and a getter of all fields at once (C speed).
_FIELDS: Final = tuple(f.name for f in dataclasses.fields(Signals))
_INDEX: Final = {name: i for i, name in enumerate(_FIELDS)}
_all_fields: Final = operator.attrgetter(*_FIELDS)
#: ``(name, value)`` pairs that are already canonical: each boolean signal with ``True`` /
#: ``False``, each charger and network name. :meth:`Signals.updated` takes them as they are when the
#: value's type is exactly ``bool`` / ``str`` (``1 == True``, so the type is checked first).
_CANONICAL: Final = frozenset(
    [(n, v) for n in BOOL_SIGNALS for v in (False, True)]
    + [("charger", c) for c in CHARGERS] + [("network", n) for n in NETWORKS])


def coerce_name(name: str) -> str:
    """Return ``name`` if it is a signal (:data:`wbcommon.signals.SIGNAL_NAMES`).

    Raises:
        SignalError: unknown name.
    """
    try:
        return check_name(name)
    except InvalidSignalError as exc:
        raise SignalError(str(exc)) from None


def coerce(name: str, raw: Any) -> Any:
    """Validate one signal value and return it in its canonical type
    (:func:`wbcommon.signals.check`, the one validation every layer applies).

    Raises:
        SignalError: unknown name, wrong type or out-of-range value.
    """
    try:
        return check(name, raw)
    except InvalidSignalError as exc:
        raise SignalError(str(exc)) from None
