"""JSON encoding of everything the bridge publishes, and the wall-clock ``ts`` field."""

from __future__ import annotations

import json
import math
from typing import Any

from firmware_sim.clock import wall_now
from firmware_sim.driver import SchedulerDriver
from firmware_sim.events import iso


def dumps(obj: Any) -> bytes:
    """Compact ASCII JSON. Non-finite floats become null; unknown objects their ``str``."""
    try:
        text = json.dumps(obj, separators=(",", ":"), ensure_ascii=True, allow_nan=False, default=str)
    except ValueError:
        text = json.dumps(_finite(obj), separators=(",", ":"), ensure_ascii=True, allow_nan=False,
                          default=str)
    return text.encode("ascii")


def _finite(obj: Any) -> Any:
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_finite(v) for v in obj]
    return obj


def wall_iso(driver: SchedulerDriver, t: float) -> str:
    """Wall time of rig second ``t`` (from the scheduler's epoch, else the host's clock now)."""
    return iso(driver.scheduler.epoch, t) or iso(wall_now(), 0.0) or ""
