"""The fault vocabulary, once (issue 9 item 4): what a bench user may break on demand, in the same
words for the rig verb ``inject_fault`` (MQTT), ``wakebench fault`` (CLI) and a scenario's
``fault:`` step.

One fault names one *target* and what goes wrong with it, optionally for a while::

    {"gauge": "nack", "for": "2m"}     # the fuel gauge stops ACKing for two minutes
    {"charger": "stuck"}               # the charger pin keeps its level until cleared
    {"network": "flap", "for": "5s"}   # the link goes down, and back up 5 s later
    {"gauge": "clear"}                 # end whatever fault the gauge has now

Kinds per target (:data:`KINDS`): the gauge answers with a NACK, an I/O error (EIO), garbage,
a stuck value or a bad SMBus PEC — exactly the faults the emulated bus injects
(``hal.i2c.EmulatedBus.inject_*``); the charger pin can be stuck; the network can flap.
``for`` is a duration (``"90s"``, ``"2m"``, seconds); without it a fault lasts until cleared,
except a flap, which lasts :data:`FLAP_DEFAULT_S`.

Real hardware refuses every fault with :data:`NOT_SUPPORTED_ON_HARDWARE`: the bench does not
break a real chip or pin on purpose.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Final

__all__ = [
    "CLEAR",
    "DURATION_PATTERN",
    "FLAP_DEFAULT_S",
    "KINDS",
    "NOT_SUPPORTED_ON_HARDWARE",
    "SIM_GAUGE_SIGNALS",
    "TARGETS",
    "Fault",
    "FaultRefusedError",
    "InvalidFaultError",
    "parse_fault",
]

#: What may fail, and how (the gauge kinds are the emulated bus's ``inject_*`` methods).
KINDS: Final[Mapping[str, tuple[str, ...]]] = MappingProxyType({
    "gauge": ("nack", "eio", "garbage", "stuck", "bad_pec"),
    "charger": ("stuck",),
    "network": ("flap",),
})
TARGETS: Final[tuple[str, ...]] = tuple(KINDS)
#: The kind that ends a target's fault.
CLEAR: Final = "clear"
#: How long the link stays down in a flap without ``for`` (s). A bench choice, not a platform
#: fact: long enough for every platform to see the loss, short enough to be a "flap".
FLAP_DEFAULT_S: Final = 2.0
#: Signals the sim board's gauge (MAX17048) measures: unknown while it faults (``simulate``);
#: ``charging`` stays known (false) while the charger pin says unplugged, as on the live board.
SIM_GAUGE_SIGNALS: Final[tuple[str, ...]] = ("battery_level", "voltage", "current", "charging")
#: Error code of a fault asked of real hardware.
NOT_SUPPORTED_ON_HARDWARE: Final = "not_supported_on_hardware"

_DURATION_RE: Final = re.compile(r"^(?:(\d+(?:\.\d+)?)(ms|s|m|h|d))+$")
#: The text form of a duration (``"90s"``, ``"1h30m"``), for schemas that document it.
DURATION_PATTERN: Final = _DURATION_RE.pattern
_PART_RE: Final = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")
_UNIT_S: Final = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


class InvalidFaultError(ValueError):
    """A fault request the vocabulary does not allow; ``field`` names the offending key."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field


class FaultRefusedError(Exception):
    """A valid fault the rig will not inject; :attr:`code` is the answer's error code."""

    code: str = NOT_SUPPORTED_ON_HARDWARE


@dataclass(frozen=True, slots=True)
class Fault:
    """One validated fault: ``kind`` of :data:`KINDS` ``[target]`` or :data:`CLEAR`;
    ``duration_s`` None = until cleared."""

    target: str
    kind: str
    duration_s: float | None = None

    @property
    def clears(self) -> bool:
        """True for ``{target: clear}``."""
        return self.kind == CLEAR

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (``for`` in seconds when set)."""
        out: dict[str, Any] = {self.target: self.kind}
        if self.duration_s is not None:
            out["for"] = self.duration_s
        return out


def parse_duration_s(raw: Any) -> float:
    """``"90s"``, ``"2m"``, ``"1h30m"``, ``"500ms"`` or a number of seconds, > 0.

    Raises:
        InvalidFaultError: anything else (field ``for``).
    """
    if isinstance(raw, bool):
        raise InvalidFaultError(f"'for' must be a duration such as '2m' or seconds, not {raw!r}",
                                field="for")
    if isinstance(raw, int | float):
        seconds = float(raw)
    elif isinstance(raw, str) and _DURATION_RE.match(raw.strip()):
        seconds = sum(float(n) * _UNIT_S[u] for n, u in _PART_RE.findall(raw.strip()))
    else:
        raise InvalidFaultError(f"'for' must be a duration such as '2m' or seconds, not {raw!r}",
                                field="for")
    if not math.isfinite(seconds) or seconds <= 0:
        raise InvalidFaultError(f"'for' must be a positive duration, not {raw!r}", field="for")
    return seconds


def parse_fault(raw: Any) -> Fault:
    """Validate ``{target: kind, "for": duration}`` (extra key ``transaction`` is ignored).

    Raises:
        InvalidFaultError: not a mapping, no or several targets, an unknown target or kind, a
            bad duration, or ``for`` with ``clear``; ``field`` names the key.
    """
    if not isinstance(raw, Mapping):
        raise InvalidFaultError(f"a fault must be a mapping such as {{gauge: nack, for: 2m}}, "
                                f"not {type(raw).__name__}", field="fault")
    targets = [k for k in raw if k not in ("for", "transaction")]
    unknown = [k for k in targets if k not in KINDS]
    if unknown:
        raise InvalidFaultError(f"unknown fault target {unknown[0]!r} (known: {', '.join(TARGETS)})",
                                field=str(unknown[0]))
    if len(targets) != 1:
        raise InvalidFaultError(f"a fault names exactly one of {', '.join(TARGETS)}, "
                                f"not {len(targets)}", field="fault")
    target = targets[0]
    kind = raw[target]
    allowed = (*KINDS[target], CLEAR)
    if kind not in allowed:
        raise InvalidFaultError(f"{target} fault must be one of {', '.join(allowed)}, not {kind!r}",
                                field=target)
    duration = None
    if "for" in raw:
        if kind == CLEAR:
            raise InvalidFaultError("'clear' takes no 'for'", field="for")
        duration = parse_duration_s(raw["for"])
    elif kind == "flap":
        duration = FLAP_DEFAULT_S
    return Fault(target, str(kind), duration)
