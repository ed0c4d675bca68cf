"""The signals snapshot: everything the emulated OS knows about the device (DESIGN.md section 2).

A :class:`Signals` value is immutable. Sources (the board's gauge, GPIO pins, network
interfaces, MQTT ``signals/set``) produce *updates* as plain mappings of signal name to value;
:meth:`Signals.updated` validates them and returns a new snapshot. Nothing here reads hardware.

Freshness: a source that fails marks its signals ``stale``. The scheduler never trusts a stale
value; it reads :meth:`Signals.effective`, in which every stale signal is *unknown*: its field
holds :data:`UNKNOWN` (``None``) and its name is in :attr:`Signals.unknown`. No value is guessed
(a fixed "conservative" value blocks one condition but satisfies its inverse: 0 % *is* "battery
low", "no charger" *is* "unplugged"). Every platform condition that reads an unknown signal is
unmet (:meth:`Signals.unknown_of`), so work never starts on it, and running discretionary work
whose condition becomes unknown is revoked with reason :data:`SIGNAL_UNKNOWN`. A bench user
pulling the gauge's I²C wire therefore sees discretionary work stop, never start.

Snapshots published (MQTT ``signals``, event snapshots, records) show an unknown signal as
``null`` and list it in ``stale`` (:meth:`Signals.to_dict`), never as its last number.

The vocabulary itself (names, value sets, units, bounds, validation) is
:mod:`wbcommon.signals`, shared with ``boards``; this module adds the snapshot type and
translates :class:`wbcommon.signals.InvalidSignalError` into :class:`SignalError`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from itertools import compress
from operator import attrgetter, ne
from typing import Any, Final

from firmware_sim.errors import SignalError
from wbcommon.signals import (
    CHARGERS,
    NETWORKS,
    SIGNAL_NAMES,
    Charger,
    InvalidSignalError,
    Network,
    check,
    check_name,
)

__all__ = ["CHARGERS", "NETWORKS", "SIGNAL_NAMES", "SIGNAL_UNKNOWN", "UNKNOWN", "Signals",
           "coerce", "coerce_name"]

#: What an unknown signal's field holds in the effective snapshot (and ``null`` in JSON).
UNKNOWN: Final = None
#: Revoke / wait reason when a condition's signal is unknown (issue 9: "unknown is not a guess");
#: the event's ``data.unknown`` lists the signals.
SIGNAL_UNKNOWN: Final = "signal_unknown"

_FIELDS: Final[tuple[str, ...]] = (*SIGNAL_NAMES, "t", "stale")
_get_signals = attrgetter(*SIGNAL_NAMES)
_get_fields = attrgetter(*_FIELDS)
_NO_STALE: Final[frozenset[str]] = frozenset()
_NO_CHANGE: Final[frozenset[str]] = frozenset()
#: position of each signal in :data:`_FIELDS` (and in :func:`_build`'s list)
_SIGNAL_INDEX: Final = {name: i for i, name in enumerate(SIGNAL_NAMES)}
_T_AT: Final = _FIELDS.index("t")
_STALE_AT: Final = _FIELDS.index("stale")


@dataclass(frozen=True, slots=True)
class Signals:
    """One immutable snapshot of the device's power, network and user signals.

    Units: ``battery_level`` in percent (0-100), ``voltage`` in V, ``current`` in A (negative
    while discharging), ``temperature`` in °C. ``t`` is the rig clock (s) of the last change.
    """

    #: Each signal's field also holds ``None`` (:data:`UNKNOWN`) in an :meth:`effective` snapshot;
    #: ``battery_level`` is ``float | int``: compiled (mypyc), a ``float`` field would store a given
    #: ``80`` as ``80.0``, and snapshots must read the same in both builds.
    battery_level: float | int | None = 100.0
    voltage: float | None = None
    current: float | None = None
    charging: bool | None = False
    charger: Charger | None = "none"
    network: Network | None = "wifi"
    metered: bool | None = False
    roaming: bool | None = False
    temperature: float | None = 25.0
    storage_low: bool | None = False
    screen_locked: bool | None = False
    idle: bool | None = False
    on_call: bool | None = False
    user_present: bool | None = True
    low_power_mode: bool | None = False
    battery_saver: bool | None = False
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
        ``stale`` marks signals whose source failed (their value becomes unknown), ``fresh``
        clears the mark explicitly.

        Raises:
            SignalError: an unknown signal name or a value of the wrong type or range.
        """
        state = list(_get_fields(self))  # a list indexed by _INDEX: the hot path of every update
        for name, raw in values.items():
            i = _SIGNAL_INDEX.get(name)
            if i is None:
                i = _SIGNAL_INDEX[coerce_name(name)]  # coerce_name raises: not a signal
            if raw is not state[i]:  # the very object it holds was checked before
                state[i] = coerce(name, raw)
        old_stale = self.stale
        if old_stale or stale or fresh:
            stale_set = set(old_stale)
            stale_set.difference_update(values)
            stale_set.difference_update(fresh)
            for name in stale:
                stale_set.add(coerce_name(name))
            state[_STALE_AT] = frozenset(stale_set) if stale_set else _NO_STALE
        if t is not None:
            state[_T_AT] = float(t)
        return _build(state)

    def changed(self, other: Signals) -> frozenset[str]:
        """Names whose *effective* value differs between ``self`` and ``other`` (a signal turning
        unknown, or known again, is a change)."""
        if not (self.stale or other.stale):  # nothing unknown: each is its own effective view
            return _changed_names(self, other)
        return _changed_names(self.effective(), other.effective())

    def effective(self) -> Signals:
        """The snapshot the scheduler acts on: each stale signal is unknown (:data:`UNKNOWN`).

        Conditions must ask :meth:`unknown_of` before reading a value: an unknown signal
        satisfies no condition, and its inverse neither.
        """
        stale = self.stale
        if not stale or all(getattr(self, n) is None for n in stale):
            return self
        return _build([UNKNOWN if name in stale else value
                       for name, value in zip(_FIELDS, _get_fields(self), strict=True)])

    @property
    def unknown(self) -> frozenset[str]:
        """Signals whose value is unknown (their source failed): the ``stale`` marks."""
        return self.stale

    def unknown_of(self, *names: str) -> list[str]:
        """Those of ``names`` that are unknown, in the given order (empty: all known)."""
        stale = self.stale
        if not stale:
            return []
        return [n for n in names if n in stale]

    @property
    def external_power(self) -> bool:
        """True when a charger is known to be attached (wall, USB or wireless); False on battery
        and while the charger is unknown."""
        return self.charger != "none" and self.charger is not None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready mapping: every signal (``null`` when unknown), ``t`` and the sorted
        ``stale`` list (the unknown signals)."""
        out: dict[str, Any] = dict(zip(SIGNAL_NAMES, _get_signals(self), strict=True))
        for name in self.stale:
            out[name] = UNKNOWN
        out["t"] = self.t
        out["stale"] = sorted(self.stale)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Signals:
        """Inverse of :meth:`to_dict` (unknown keys are an error; a stale signal's ``null``
        keeps the default value underneath its stale mark)."""
        stale = data.get("stale", ())
        values = {k: v for k, v in data.items()
                  if k not in ("t", "stale", "ts") and not (v is None and k in stale)}
        return cls().updated(values, t=float(data.get("t", 0.0)), stale=data.get("stale", ()))


#: True when this module runs mypyc-compiled (``make compiled``; CONTRIBUTING "Compiled build"):
#: there the constructor is a direct C call and ``object.__new__`` of a compiled class is refused.
_COMPILED: Final = not __file__.endswith(".py")
#: The slot descriptors' setters, in :data:`_FIELDS` order: pure Python builds a snapshot by
#: setting its slots directly (a frozen dataclass's ``__init__`` goes through
#: ``object.__setattr__`` per field, about twice the cost; every signal update builds one).
#: ``vars(Signals)``, not ``Signals.__dict__``: mypyc compiles the former.
_SETTERS: Final = tuple(vars(Signals)[name].__set__ for name in _FIELDS)


def _build(values: list[Any]) -> Signals:
    """A snapshot from its field values in :data:`_FIELDS` order (already validated)."""
    if _COMPILED:
        (battery_level, voltage, current, charging, charger, network, metered, roaming, temperature,
         storage_low, screen_locked, idle, on_call, user_present, low_power_mode, battery_saver,
         t, stale) = values
        return Signals(battery_level, voltage, current, charging, charger, network, metered, roaming,
                       temperature, storage_low, screen_locked, idle, on_call, user_present,
                       low_power_mode, battery_saver, t, stale)
    new = object.__new__(Signals)
    for setter, value in zip(_SETTERS, values, strict=True):
        setter(new, value)
    return new


def _changed_names(a: Signals, b: Signals) -> frozenset[str]:
    """:meth:`Signals.changed` of two effective snapshots (``effective()`` of one is itself)."""
    stale_a, stale_b = a.stale, b.stale
    values_a, values_b = _get_signals(a), _get_signals(b)
    if stale_a == stale_b:  # a stale signal is None on both sides
        if values_a == values_b:  # the common case: one tuple comparison in C
            return _NO_CHANGE
        return frozenset(compress(SIGNAL_NAMES, map(ne, values_a, values_b)))  # all in C
    return frozenset([n for n, x, y in zip(SIGNAL_NAMES, values_a, values_b, strict=True)
                      if x != y or (n in stale_a) != (n in stale_b)])


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
