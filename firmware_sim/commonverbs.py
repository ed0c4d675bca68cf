"""The arguments of the verbs every platform has (``register``, ``state``, ``status``,
``crash``, ``force_run``, ``force_expire``), declared as :class:`VerbArgs` models.

``register``'s platform-specific settings are each policy's ``configure_app`` model; this module
declares only ``platform``, which chooses the policy.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, ClassVar, Final

from pydantic import BeforeValidator, WithJsonSchema

from firmware_sim.platforms import POLICIES
from firmware_sim.policy import APP_STATES, NoArgs
from firmware_sim.verbargs import VerbArgs, arg, arg_error, choice

#: Task ids the debug verbs accept: every id the platforms hand out, reverse-DNS iOS identifiers
#: included (255 characters, as ``BGTaskScheduler`` allows). wakebench bound.
FORCE_TASK_RE: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$")


def _force_task(value: Any) -> Any:
    if isinstance(value, int):  # true/false too: refused as integers, as before
        if isinstance(value, bool):
            raise arg_error(f"must be an integer, not {value!r}")
        if value < 0:
            raise arg_error(f"must be at least 0, not {value!r}")
        return str(value)
    if not isinstance(value, str):
        raise arg_error(f"must be a string, not {value!r}")
    if not FORCE_TASK_RE.match(value):
        raise arg_error(f"must match {FORCE_TASK_RE.pattern}, not {value!r}")
    return value


ForceTaskId = Annotated[str, BeforeValidator(_force_task), WithJsonSchema({"oneOf": [
    {"type": "string", "pattern": FORCE_TASK_RE.pattern}, {"type": "integer", "minimum": 0}]})]


class RegisterArgs(VerbArgs):
    """Register the app (again) as a prototype of ``platform``; the platform's own settings sit
    beside it (see each platform's ``register``)."""

    closed: ClassVar[bool] = False  # the platform's settings are checked by its own model
    platform: Annotated[str, choice(tuple(POLICIES))] = arg(doc="the platform whose rules apply to the app")


class StateArgs(VerbArgs):
    """The app moved between foreground, background, suspended and terminated."""

    state: Annotated[str, choice(APP_STATES)] = arg(doc="the app's new state")


class StatusArgs(NoArgs):
    """The app's registration, its tasks and why each waits (like ``dumpsys jobscheduler``)."""


class CrashArgs(NoArgs):
    """The app prototype reports that its process crashed."""


class ForceArgs(VerbArgs):
    """Debug verbs, after the platforms' own tools: Xcode ``_simulateLaunchForTaskWithIdentifier``
    / ``_simulateExpirationForTaskWithIdentifier`` (ios), ``adb shell cmd jobscheduler run -f`` /
    ``timeout`` (android), ``LaunchForTest`` (wp8). ``force_run`` starts a waiting task now
    whatever holds it back (ios, android, harmonyos, wp8; capacitor and uwp answer
    ``not_supported``); ``force_expire`` makes a running task reach its limit now (``expire``, or
    ``revoke`` ``system_policy`` for a uwp session; a ``terminate`` follows as at the real limit).
    Every event caused at once carries ``data.forced: true``. Errors: ``invalid_args``,
    ``unknown_task``, ``invalid_state`` (not waiting / not running), ``not_supported``, and wp8's
    ``invalid_operation`` (LaunchForTest's rules)."""

    task_id: ForceTaskId = arg(doc="the task id as events carry it (reverse-DNS ios identifiers "
                                   "included)")


#: Each common verb's model.
COMMON_MODELS: Final[dict[str, type[VerbArgs]]] = {
    "register": RegisterArgs, "state": StateArgs, "status": StatusArgs, "crash": CrashArgs,
    "force_run": ForceArgs, "force_expire": ForceArgs,
}
