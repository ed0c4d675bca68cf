"""The emulated OS: clock, signals, platform policies, scheduler, scenarios.

Pure and synchronous: no hardware, no MQTT, no wall-clock reads outside :mod:`clock`.

The virtual-time core may run mypyc-compiled; :mod:`firmware_sim.compiled` decides first (before
any of those modules is imported) whether the compiled build is fresh, and else loads the
pure-Python sources (``firmware_sim.compiled.BUILD`` says which).
"""

from firmware_sim.clock import Clock, ManualClock, ScaledClock, VirtualClock
from firmware_sim.compiled import BUILD
from firmware_sim.errors import (
    ConfigError,
    RequestError,
    ScenarioError,
    SchedulerError,
    SignalError,
)
from firmware_sim.events import EVENT_TYPES, Event, Response
from firmware_sim.limits import LimitInfo, Limits
from firmware_sim.scheduler import COMMON_VERBS, Scheduler
from firmware_sim.signals import SIGNAL_NAMES, Signals

__all__ = [
    "BUILD",
    "COMMON_VERBS",
    "EVENT_TYPES",
    "SIGNAL_NAMES",
    "Clock",
    "ConfigError",
    "Event",
    "LimitInfo",
    "Limits",
    "ManualClock",
    "RequestError",
    "Response",
    "ScaledClock",
    "ScenarioError",
    "Scheduler",
    "SchedulerError",
    "SignalError",
    "Signals",
    "VirtualClock",
]
