"""Durations as people write them: ``"90s"``, ``"5m"``, ``"2h"``, ``"1d"``, ``"500ms"``,
combinations such as ``"1h30m"``, or plain seconds. Used by scenario files and by verbs that take
a duration (WP8 ``launch_for_test`` delay, ``expiration_time``)."""

from __future__ import annotations

import re
from typing import Any, Final

UNITS: Final = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_PART_RE: Final = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")
_NUMBER_RE: Final = re.compile(r"\d+(\.\d+)?")


def parse_duration(value: Any) -> float:
    """A duration in seconds.

    Raises:
        ValueError: not a non-negative number or duration text (the caller names the field).
    """
    if isinstance(value, bool):
        raise ValueError(f"not a duration: {value!r}")
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError(f"durations cannot be negative: {value!r}")
        return float(value)
    if not isinstance(value, str):
        raise ValueError(f"not a duration: {value!r}")
    text = value.strip().replace(" ", "")
    if _NUMBER_RE.fullmatch(text):
        return float(text)
    pos, total = 0, 0.0
    for m in _PART_RE.finditer(text):
        if m.start() != pos:
            break
        total += float(m.group(1)) * UNITS[m.group(2)]
        pos = m.end()
    if pos != len(text) or not text:
        raise ValueError(f"not a duration: {value!r} (use e.g. 90s, 5m, 2h, 1d, 500ms or seconds)")
    return total
