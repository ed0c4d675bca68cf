"""Capacitor ``BackgroundTask`` (v2): ``beforeExit(cb) → taskId`` and ``finish({taskId})``.

Source: seed 000 (Capacitor "Background Tasks" docs, zh): "任务必须在 3 分钟内完成，否则应用
可能被系统终止" (the task must finish within 3 minutes, or the app may be terminated), and
"任务完成后*必须*调用 BackgroundTask.finish({ taskId })".

Behaviour: ``before_exit`` runs the callback at once (``wake`` with the 3-minute deadline); at
the deadline an unfinished task gets ``expire``, then ``terminate`` after the grace period;
``finish`` before that ends it cleanly. An unknown ``task_id`` is an error. The common verb
``crash`` ends every task of the app at once (no later event: the process is gone).

Restart: a ``beforeExit`` callback runs inside the app process, so no task survives a restart of
the device; :meth:`~firmware_sim.scheduler.Scheduler.load` restores them (their timers run as
before), and :meth:`~firmware_sim.scheduler.Scheduler.resume` drops each with ``unscheduled``,
reason ``restart``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from firmware_sim.compiled import mypyc_attr
from firmware_sim.errors import RequestError
from firmware_sim.limits import Limits
from firmware_sim.platforms.capacitor_spec import (  # noqa: F401  (some only re-exported: tests and bench import them from here)
    SEED,
    BeforeExitArgs,
    CapacitorLimits,
    FinishArgs,
)
from firmware_sim.policy import App, Policy, invalid_state, unknown_task
from firmware_sim.timers import TimerHandle


@dataclass(slots=True)
class _Task:
    app: str
    task_id: str
    started: float
    deadline: float
    state: str = "running"  # running | expired
    timer: TimerHandle | None = None

    def view(self) -> dict[str, Any]:
        return {"task_id": self.task_id, "kind": "before_exit", "state": self.state,
                "started": self.started, "deadline": self.deadline}


@mypyc_attr(allow_interpreted_subclasses=True)  # tests subclass it to inject faults
class CapacitorPolicy(Policy):
    """``before_exit`` / ``finish`` with the 3-minute budget."""

    platform = "capacitor"
    limits_type = CapacitorLimits
    limits: CapacitorLimits

    def __init__(self, ctx: Any, limits: Limits) -> None:
        super().__init__(ctx, limits)
        self._tasks: dict[tuple[str, str], _Task] = {}
        self._next_id: dict[str, int] = {}

    def verb_before_exit(self, app: App, args: BeforeExitArgs) -> dict[str, Any]:
        """Start a background task now; returns its ``task_id`` (the CallbackID)."""
        task_id = args.task_id
        if task_id is None:
            n = self._next_id.get(app.id, 0) + 1
            self._next_id[app.id] = n
            task_id = f"task-{n}"
        if (app.id, task_id) in self._tasks:
            raise RequestError("task_exists", f"task {task_id!r} is already running")
        now = self.ctx.now
        task = _Task(app.id, task_id, now, now + self.limits.before_exit_s)
        self._tasks[(app.id, task_id)] = task
        self._arm(task, task.deadline)
        self.ctx.emit("wake", app, task_id, deadline=task.deadline)
        return {"task_id": task_id, "deadline": task.deadline}

    def verb_finish(self, app: App, args: FinishArgs) -> dict[str, Any]:
        """End a task cleanly (``finish({taskId})``)."""
        task_id = args.task_id
        task = self._tasks.pop((app.id, task_id), None)
        if task is None:
            raise RequestError("unknown_task", f"no running task {task_id!r} for app {app.id!r}",
                               {"task_id": task_id})
        _cancel(task)
        return {"task_id": task_id, "finished_at": self.ctx.now, "state": task.state}

    def _arm(self, task: _Task, at: float) -> None:
        task.timer = self.ctx.call_at(at, lambda: self._on_deadline(task), app=task.app,
                                      task=task.task_id)

    def _on_deadline(self, task: _Task) -> None:
        """The 3-minute budget ran out (``expire``), then the grace period (``terminate``)."""
        app = self.ctx.app(task.app)
        if task.state == "running":
            task.state = "expired"
            self.ctx.emit("expire", app, task.task_id, reason="time_limit", deadline=task.deadline)
            self._arm(task, self.ctx.now + self.limits.terminate_grace_s)
        else:
            del self._tasks[(task.app, task.task_id)]
            self.ctx.emit("terminate", app, task.task_id, reason="not_finished")

    def force_expire(self, app: App, task_id: str) -> dict[str, Any]:
        """The 3-minute budget runs out now: ``expire``, then ``terminate`` after the grace
        period unless ``finish`` comes (``force_run`` is not supported: a task runs at once)."""
        task = self._tasks.get((app.id, task_id))
        if task is None:
            raise unknown_task(app, task_id)
        if task.state != "running":
            raise invalid_state(app, task_id, task.state, "running")
        _cancel(task)
        self._on_deadline(task)
        return {"state": task.state, "terminate_at": self.ctx.now + self.limits.terminate_grace_s}

    def on_crash(self, app: App) -> None:
        """The app process crashed: its ``beforeExit`` callbacks died with it — no later
        ``expire`` / ``terminate``; the app is ``terminated``."""
        self.drop_task(app, None)
        app.state = "terminated"

    def on_app_state(self, app: App, old: str, new: str) -> None:
        if new == "terminated":
            for key in [k for k in self._tasks if k[0] == app.id]:
                _cancel(self._tasks.pop(key))

    def restart_losses(self) -> list[tuple[str, str]]:
        """Every task: a ``beforeExit`` callback runs in the app process, which a restart ends."""
        return sorted(self._tasks)

    def drop_task(self, app: App, task_id: str | None) -> None:
        for key in [k for k in self._tasks if k[0] == app.id and task_id in (None, k[1])]:
            _cancel(self._tasks.pop(key))

    def tasks(self, app: App) -> dict[str, dict[str, Any]]:
        return {t.task_id: t.view() for (a, _), t in self._tasks.items() if a == app.id}

    def dump(self) -> dict[str, Any]:
        return {"next_id": self._next_id,
                "tasks": [{"app": t.app, "task_id": t.task_id, "started": t.started,
                           "deadline": t.deadline, "state": t.state} for t in self._tasks.values()]}

    def load(self, data: dict[str, Any]) -> None:
        self._next_id.update(data.get("next_id", {}))
        for raw in data.get("tasks", []):
            task = _Task(raw["app"], raw["task_id"], raw["started"], raw["deadline"], raw["state"])
            self._tasks[(task.app, task.task_id)] = task
            at = task.deadline if task.state == "running" else task.deadline + self.limits.terminate_grace_s
            self._arm(task, at)


def _cancel(task: _Task) -> None:
    if task.timer is not None:
        task.timer.cancel()
