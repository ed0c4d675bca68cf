"""JSON encoding of everything the bridge publishes, and the wall-clock ``ts`` field."""

from __future__ import annotations

from firmware_sim.clock import wall_now
from firmware_sim.driver import SchedulerDriver
from firmware_sim.events import iso
from firmware_sim.journal import compact_json

#: Compact ASCII JSON; non-finite floats become null, unknown objects their ``str``.
dumps = compact_json


def wall_iso(driver: SchedulerDriver, t: float) -> str:
    """Wall time of rig second ``t`` (from the scheduler's epoch, else the host's clock now)."""
    return iso(driver.epoch, t) or iso(wall_now(), 0.0) or ""
