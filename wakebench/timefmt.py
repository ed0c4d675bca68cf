"""Human-readable rig times and values for terminal output (the one copy of each helper)."""

from __future__ import annotations

import json
import math
from typing import Any


def clock(t: float) -> str:
    """Rig seconds as ``[Nd ]H:MM:SS[.fff]`` (``0:05:00``, ``1d 2:00:00``, ``0:00:25.500``),
    to the millisecond (179.9996 is ``0:03:00``, never ``0:02:60``); ``never`` for an infinite
    or NaN time."""
    if not math.isfinite(t):
        return "never"
    days, rem = divmod(round(t, 3), 86400.0)
    hours, rem = divmod(rem, 3600.0)
    minutes, seconds = divmod(rem, 60.0)
    sec = f"{seconds:06.3f}".rstrip("0").rstrip(".") if seconds % 1 else f"{int(seconds):02d}"
    if len(sec) == 1 or (sec[1:2] == "."):
        sec = "0" + sec
    text = f"{int(hours)}:{int(minutes):02d}:{sec}"
    return f"{int(days)}d {text}" if days else text


def stamp(t: float) -> str:
    """Rig time with milliseconds, always: ``0:05:00.250``, ``0:00:03.000``."""
    if not math.isfinite(t):
        return "never"
    whole, ms = divmod(round(t * 1000), 1000)  # rounded like clock(): 1.17 is .170, not .169
    return f"{clock(float(whole))}.{ms:03d}"


def value_text(value: Any) -> str:
    """A signal or argument value as typed on a command line: ``true``/``false``, ``95``
    (floats as ``%g``), compact JSON for tables and lists, ``unknown`` for a signal that has no
    trustworthy value (None), anything else as ``str``."""
    if value is None:
        return "unknown"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"))
    return str(value)
