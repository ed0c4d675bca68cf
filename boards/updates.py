"""What a signal source hands out, and the seams around it: updates, snapshots, the clock it
needs, the protocol the rig and CLI use, and the holder of hand-set signals.

``boards`` may not import ``firmware_sim`` (dependency rule), so a source emits plain
:class:`SourceUpdate` values that the rig applies with
``Signals.updated(update.values, t=update.t, stale=update.stale, fresh=update.fresh)``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from boards.spec import MANUAL_DEFAULTS
from wbcommon.signals import SIGNAL_NAMES

__all__ = [
    "Environment",
    "Listener",
    "ManualSignals",
    "SignalSource",
    "SourceClock",
    "SourceSnapshot",
    "SourceUpdate",
    "UpdateCallback",
]


@dataclass(frozen=True, slots=True)
class SourceUpdate:
    """What changed, as the rig applies it to its ``Signals`` snapshot.

    Attributes:
        values: changed signals (every signal in the first update after ``start``), by the
            names of DESIGN.md section 2. Never contains a stale signal after the first update.
        stale: every signal whose source is failing now.
        fresh: signals whose source recovered since the previous update.
        faults: fault messages raised since the previous update (one per failing sensor).
        t: rig time (s) of the update.
    """

    values: Mapping[str, Any]
    stale: frozenset[str] = frozenset()
    fresh: frozenset[str] = frozenset()
    faults: tuple[str, ...] = ()
    t: float = 0.0


@dataclass(frozen=True, slots=True)
class SourceSnapshot:
    """Every signal's value, the stale ones, active faults, and where each signal comes from."""

    values: Mapping[str, Any]
    stale: frozenset[str]
    faults: tuple[str, ...]
    t: float
    origins: Mapping[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: every signal, ``t``, sorted ``stale``, ``faults``."""
        out = {name: self.values.get(name) for name in SIGNAL_NAMES}
        out["t"] = self.t
        out["stale"] = sorted(self.stale)
        out["faults"] = list(self.faults)
        return out


UpdateCallback = Callable[[SourceUpdate], Awaitable[None] | None]
Listener = Callable[[Mapping[str, Any]], None]


class SourceClock(Protocol):
    """Rig time as the source needs it (``firmware_sim.clock.Clock`` fits)."""

    def now(self) -> float:
        """Current rig time (s)."""
        ...

    async def sleep_until(self, t: float) -> None:
        """Return once rig time has reached ``t``."""
        ...


class SignalSource(Protocol):
    """What the rig and the CLI use; :class:`BoardSource` implements it."""

    @property
    def settable(self) -> frozenset[str]:
        """Signals :meth:`set` accepts on this board."""
        ...

    async def start(self, callback: UpdateCallback | None = None) -> None:
        """Open pins, watchers and relays, poll once, deliver the full first update."""
        ...

    def snapshot(self) -> SourceSnapshot:
        """Current values (no I/O)."""
        ...

    async def refresh(self) -> SourceUpdate:
        """Poll every sensor once now; deliver and return what changed."""
        ...

    async def set(self, values: Mapping[str, Any]) -> None:
        """Change settable signals (sim model, relays, manual values)."""
        ...

    async def stop(self) -> None:
        """Stop polling, release pins and relays (relays to their safe state)."""
        ...


class Environment(Protocol):
    """Holder of the signals no sensor measures: :class:`ManualSignals` or a SimBoard."""

    def values(self) -> Mapping[str, Any]: ...

    def set(self, values: Mapping[str, Any]) -> None: ...

    def subscribe(self, listener: Listener) -> Callable[[], None]: ...


class ManualSignals:
    """Signals set by hand (MQTT ``signals/set``, a scenario) on a board with no sensor for them."""

    def __init__(self, names: frozenset[str]) -> None:
        self.names = names
        self._values = {n: MANUAL_DEFAULTS[n] for n in names}
        self._listeners: list[Listener] = []

    def values(self) -> Mapping[str, Any]:
        """Current manual values."""
        return dict(self._values)

    def set(self, values: Mapping[str, Any]) -> None:
        """Store (already validated) values; notify listeners of the ones that changed."""
        changed = {n: v for n, v in values.items() if self._values.get(n) != v}
        self._values.update(changed)
        if changed:
            for listener in list(self._listeners):
                listener(changed)

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener(changed)`` on every change; returns an unsubscribe function."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None
