"""Human-readable rig times for terminal output."""

from __future__ import annotations


def clock(t: float) -> str:
    """Rig seconds as ``[Nd ]H:MM:SS[.fff]`` (``0:05:00``, ``1d 2:00:00``, ``0:00:25.500``)."""
    days, rem = divmod(t, 86400.0)
    hours, rem = divmod(rem, 3600.0)
    minutes, seconds = divmod(rem, 60.0)
    sec = f"{seconds:06.3f}".rstrip("0").rstrip(".") if seconds % 1 else f"{int(seconds):02d}"
    if len(sec) == 1 or (sec[1:2] == "."):
        sec = "0" + sec
    text = f"{int(hours)}:{int(minutes):02d}:{sec}"
    return f"{int(days)}d {text}" if days else text
