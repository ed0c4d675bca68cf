"""Durations as people write them: ``"90s"``, ``"5m"``, ``"2h"``, ``"1d"``, ``"500ms"``,
combinations such as ``"1h30m"``, or plain seconds. Used by scenario files and by verbs that take
a duration (WP8 ``launch_for_test`` delay, ``expiration_time``).

Every duration is finite and at most :data:`HORIZON_S`; ``"1000…0s"`` with 400 digits is refused,
not read as an infinite delay.
"""

from __future__ import annotations

import math
import re
from typing import Any, Final

#: The longest duration wakebench accepts anywhere (scenario times, verb arguments): 100 years
#: (365-day years). Rig times are float seconds; up to 2**53 µs ≈ 285 years they keep
#: microsecond resolution, and a rig start plus 100 years stays a valid ``datetime`` for ``ts``.
#: No platform schedules that far (the longest seeded horizon is WP8's 14-day
#: ``ExpirationTime``, seeds/003). wakebench bound.
HORIZON_S: Final = 100 * 365 * 86400.0
UNITS: Final = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_PART_RE: Final = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")
_NUMBER_RE: Final = re.compile(r"\d+(\.\d+)?")
#: Longest duration text read: "100y" in the longest spelling people use is far shorter.
_MAX_TEXT: Final = 64


def parse_duration(value: Any) -> float:
    """A duration in seconds, from 0 to :data:`HORIZON_S`.

    Raises:
        ValueError: not a non-negative number or duration text, or beyond the horizon (the
            caller names the field).
    """
    if isinstance(value, bool):
        raise ValueError(f"not a duration: {value!r}")
    if isinstance(value, int | float):
        if isinstance(value, int) and abs(value) > HORIZON_S:  # float(10**400) would overflow
            return _bounded(math.inf, value)
        if value < 0:
            raise ValueError(f"durations cannot be negative: {value!r}")
        return _bounded(float(value), value)
    if not isinstance(value, str):
        raise ValueError(f"not a duration: {value!r}")
    text = value.strip().replace(" ", "")
    if len(text) > _MAX_TEXT:
        raise ValueError(f"not a duration: {_short(value)} (longer than {_MAX_TEXT} characters)")
    if _NUMBER_RE.fullmatch(text):
        return _bounded(float(text), value)
    pos, total = 0, 0.0
    for m in _PART_RE.finditer(text):
        if m.start() != pos:
            break
        total += float(m.group(1)) * UNITS[m.group(2)]
        pos = m.end()
    if pos != len(text) or not text:
        raise ValueError(f"not a duration: {_short(value)} (use e.g. 90s, 5m, 2h, 1d, 500ms or seconds)")
    return _bounded(total, value)


def _bounded(seconds: float, raw: Any) -> float:
    if not math.isfinite(seconds) or seconds > HORIZON_S:
        raise ValueError(f"{_short(raw)} is beyond the {HORIZON_S:.0f} s (100-year) horizon")
    return seconds


def _short(raw: Any) -> str:
    text = repr(raw) if not isinstance(raw, int) or abs(raw) < 10**30 else f"a {len(str(abs(raw)))}-digit number"
    return text if len(text) <= 60 else text[:57] + "..."
