"""Capacitor's declarations — limits and verb-argument models — for :mod:`firmware_sim.platforms.capacitor`
(interpreted beside the compiled policy; why: :data:`firmware_sim.compiled.COMPILED_MODULES`)."""

from __future__ import annotations

from dataclasses import dataclass

from firmware_sim.limits import Limits, limit
from firmware_sim.verbargs import Id, VerbArgs, arg

SEED = "seed 000 (Capacitor BackgroundTask docs)"


@dataclass(frozen=True)
class CapacitorLimits(Limits):
    """Capacitor BackgroundTask limits."""

    before_exit_s: float = limit(
        180.0, "s", f"{SEED}, beforeExit: 任务必须在 3 分钟内完成",
        "time a beforeExit callback may run before it expires")
    terminate_grace_s: float = limit(
        5.0, "s",
        "UNCONFIRMED: Apple documents only that an unfinished background task 'will result in "
        "the termination of the app' (beginBackgroundTask docs); wakebench default",
        "time between expire and terminate when finish() never comes")


class BeforeExitArgs(VerbArgs):
    """``BackgroundTask.beforeExit(cb)``: start a background task now (3-minute budget)."""

    task_id: Id | None = arg(None, doc="id of the new task (default task-N)", api="taskId")


class FinishArgs(VerbArgs):
    """``BackgroundTask.finish({taskId})``: end a task cleanly."""

    task_id: Id = arg(doc="the task to end", api="taskId")
