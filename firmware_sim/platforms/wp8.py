"""Windows Phone 8 scheduled tasks (``Microsoft.Phone.Scheduler``): PeriodicTask and
ResourceIntensiveTask run by one ``ScheduledTaskAgent`` per app.

Source: seed 003 (Windows Phone 8 / 7.1 "後台代理" docs, zh-Hant) and
``reference/platform-budgets.md`` section 5. Every number is a :class:`WP8Limits` field.

Verbs (``ScheduledActionService`` and the agent's own calls):

``add``  ``{"name", "type": "periodic" | "resource_intensive", "expiration_time"?,
"description"?, "audio"?}``
    Foreground only. ``expiration_time`` is either a number, the absolute rig time (s) when the
    action stops being scheduled (``ScheduledTask.ExpirationTime`` is a point in time), or a
    duration string from now (``"90s"``, ``"30m"``, ``"12h"``, ``"7d"``). Omitted: now + 14 days.
    Given: it must lie after now and *strictly* less than 14 days ahead (seed: "此值必須被設定
    為小於兩周的時間", 小於 = less than), else ``argument_out_of_range``. ``add`` of a name the
    app already has (same type) reschedules it in place (the documented Remove + Add from the
    foreground: expiration reset, crash count cleared, IsScheduled true again).
``remove`` ``{"name"}``
    Drops the action; a running agent instance finishes under its own budget.
``launch_for_test`` ``{"name", "delay"}``
    ``LaunchForTest(name, delay)``: runs the agent ``delay`` seconds (number or duration string)
    from now regardless of its schedule *and* of the resource-intensive conditions; memory and
    time limits still apply (WP8 enforces them even under the debugger, platform-budgets.md
    section 5). An unknown name or a passed ExpirationTime is ``invalid_operation``
    (InvalidOperationException). A test run is never revoked by signal changes and does not take
    the device's resource-intensive slot.
``notify_complete`` / ``abort`` ``{"name"?}``
    Called by the running agent. ``notify_complete`` ends the run cleanly and clears the
    consecutive-crash count; ``abort`` ends it and unschedules the action (IsScheduled false,
    ``unscheduled`` reason ``abort``). Without a running agent: ``invalid_operation``.
``report_memory`` ``{"bytes": int}`` or ``{"mb": number}`` (1 MB = 1,048,576 bytes)
    The running agent's memory use; above the cap (6 MB, 15 MB with ``audio``) the agent is
    terminated at once (``terminate`` reason ``memory_limit``) and that counts as a crash.

Behaviour:

* **Periodic** — the interval between consecutive runs is 30 min ± a seeded drift of up to
  10 min (whole seconds, uniform, drawn per task and run index, so every interval lies in
  [20 min, 40 min] and the same seed gives the same schedule). The first run comes one such
  interval after ``add``. A run gets ``wake`` with a 25 s deadline, ``expire`` at 25 s,
  then ``terminate`` after ``terminate_grace_s`` (0 s: OnCancel is not called for a
  ScheduledTaskAgent). A run due while ``battery_saver`` is on, or while the app's agent is
  already running (one agent instance at a time), is skipped; the schedule goes on.
* **Resource-intensive** — runs only while external power (``charger`` != none), Wi-Fi or
  Ethernet (PC connection), ``battery_level`` > 90 %, ``screen_locked`` and not ``on_call`` all
  hold; at most one per device (the others wait, first eligible first). 10 min, then ``expire``.
  Losing a condition revokes the run at once with ``charger_removed``, ``network_lost``
  (network none or Bluetooth), ``cellular_network`` (switched to cellular), ``battery_low``,
  ``screen_unlocked`` or ``call_started``, then ``terminate`` (seed: "將立即終止"). A revoked
  run did not finish, so the task stays eligible and runs again as soon as all conditions hold;
  after any other end it becomes eligible again ``resource_intensive_interval_s`` later.
* **Crashes** — a memory-cap kill or an unhandled exception (the common ``crash`` verb while an
  agent runs) counts; two in a row unschedule the action (``unscheduled`` reason ``crashes``);
  a clean ``notify_complete`` resets the count. Timeouts and revokes neither count nor reset.
* **Caps** — one agent per app: at most one periodic and one resource-intensive action per app;
  at most 6 periodic actions per device across all wp8 apps (every added action counts until
  ``remove``d, scheduled or not): the 7th ``add`` fails with ``invalid_operation`` and the text
  of :data:`MAX_ACTIONS_ERROR`.
* **Expiration** — at ExpirationTime the action is ``unscheduled`` (reason ``expired``).
  ``update_tile`` (``ShellTile.Update``) with ``register`` ``tile_pinned: true`` or
  ``lock_screen: true`` moves every scheduled action's ExpirationTime to two weeks from now.
* **Warning** — an ``add`` that takes the device above ``periodic_warning_count`` periodic
  actions (UNCONFIRMED number, below the hard cap) answers with ``user_warning``.
* **Networking** — ``associate_to_network_interface`` (``interface_type``) fails with
  ``network_interface_refused`` for ``mobile_broadband_gsm`` / ``_cdma`` inside a
  resource-intensive agent.

Signal changes touch only the device-level resource-intensive state (one running task, a heap of
waiting ones); periodic tasks read ``battery_saver`` when a run falls due. So a signal change
costs O(log n) whatever the number of registered tasks.

Over 500 lines on purpose, like every platform module: one platform's rules, its verbs'
argument declarations (generated into asyncapi.yaml and docs/verbs.md) and its dump / load
read top to bottom beside the seed they implement (docs/seed-rules.md); what platforms share
lives in ``firmware_sim`` (timers, work queue, verb argument types).
"""

from __future__ import annotations

import heapq
import math
import random
from dataclasses import dataclass, fields
from typing import Any, Final, cast

from firmware_sim.durations import parse_duration
from firmware_sim.errors import RequestError
from firmware_sim.limits import Limits
from firmware_sim.platforms.wp8_spec import (  # noqa: F401  (some only re-exported: tests and bench import them from here)
    MIB,
    SEED,
    AddArgs,
    AssociateToNetworkInterfaceArgs,
    LaunchForTestArgs,
    RegisterArgs,
    RemoveArgs,
    ReportMemoryArgs,
    RunArgs,
    TaskType,
    UpdateTileArgs,
    WP8Limits,
)
from firmware_sim.policy import (
    App,
    Context,
    Policy,
    TimerMap,
    app_label,
    invalid_state,
    task_label,
    unknown_task,
)
from firmware_sim.signals import SIGNAL_UNKNOWN, Signals
from firmware_sim.verbargs import parse

PERIODIC: Final = "periodic"
RESOURCE_INTENSIVE: Final = "resource_intensive"

#: InvalidOperationException text of ``ScheduledActionService.Add`` past the per-device cap
#: (platform-budgets.md section 5, Microsoft's background-agent sample).
MAX_ACTIONS_ERROR: Final = (
    "BNS Error: The maximum number of ScheduledActions of this type have already been added."
)
#: Networks that count as "Wi-Fi or a connection through a PC" (seed 003, 非蜂窩串連).
NON_CELLULAR: Final = frozenset({"wifi", "ethernet"})
#: Signals the resource-intensive conditions read: while one is unknown they do not hold.
_RI_READS: Final = ("charger", "network", "battery_level", "screen_locked", "on_call")


_MOBILE_BROADBAND: Final = frozenset({"mobile_broadband_gsm", "mobile_broadband_cdma"})


@dataclass(slots=True)
class _Task:
    """One added ScheduledAction (a PeriodicTask or ResourceIntensiveTask)."""

    app: str
    name: str
    type: TaskType
    gen: int                      # changes on every add, so a stale run cannot touch a new task
    order: int                    # tie-break among equally eligible resource-intensive tasks
    seed: int                     # drift source: run k drifts by Random(f"{seed}:{k}")
    added: float
    expires: float
    audio: bool = False
    description: str | None = None
    scheduled: bool = True        # IsScheduled
    unscheduled_reason: str | None = None
    next_run: float | None = None  # periodic: next run; resource-intensive: eligible again at
    slot: int = 0                 # periodic run index (drift key)
    ready_at: float | None = None  # resource-intensive: eligible and waiting since
    crashes: int = 0              # consecutive
    runs: int = 0
    skipped: int = 0
    last_skip_reason: str | None = None
    last_run: float | None = None
    last_outcome: str | None = None


@dataclass(slots=True)
class _Run:
    """The app's one running agent instance."""

    app: str
    name: str
    type: TaskType
    gen: int
    started: float
    deadline: float
    test: bool = False
    state: str = "running"         # running | expired | revoked
    reason: str | None = None      # revoke reason
    ends_at: float | None = None   # terminate time after expire / revoke
    ready_at: float | None = None  # resource-intensive: eligibility kept if revoked
    memory: int = 0                # last reported bytes
    peak_memory: int = 0


#: field names of the dumped records. Every field is a scalar, so a flat copy is the whole
#: record: ``dataclasses.asdict`` deep-copies field by field and made ``dump`` of 100 tasks cost
#: ~3 ms, on every charger edge's journal commit (bench/bench_journal.py).
_TASK_FIELDS: Final = tuple(f.name for f in fields(_Task))
_RUN_FIELDS: Final = tuple(f.name for f in fields(_Run))


def _flat(record: _Task | _Run, names: tuple[str, ...]) -> dict[str, Any]:
    return {name: getattr(record, name) for name in names}


class WP8Policy(Policy):
    """PeriodicTask / ResourceIntensiveTask scheduling with the seed 003 limits."""

    platform = "wp8"
    limits_type = WP8Limits
    limits: WP8Limits
    args_code = "invalid_args"
    watched = frozenset({"charger", "network", "battery_level", "screen_locked", "on_call"})

    def __init__(self, ctx: Context, limits: Limits) -> None:
        super().__init__(ctx, limits)
        self._tasks: dict[tuple[str, str], _Task] = {}
        self._by_app: dict[str, dict[str, _Task]] = {}
        self._runs: dict[str, _Run] = {}           # app id -> its running agent
        self._ri_app: str | None = None            # app holding the device's RI slot
        self._ri_heap: list[tuple[float, int, str, str, int]] = []  # (ready_at, order, app, name, gen)
        self._tests: dict[tuple[str, str], float] = {}  # pending launch_for_test -> rig time
        self._test_waiting: dict[str, str] = {}   # app -> task name, waiting for its agent
        self._periodic_count = 0
        self._gen = 0
        self._expiry_timers = TimerMap(ctx, self._on_expiry, task_label)
        self._slot_timers = TimerMap(ctx, self._on_slot, task_label)
        self._test_timers = TimerMap(ctx, self._on_test, task_label)
        self._run_timers = TimerMap(ctx, self._on_run, app_label)

    # -- verbs -------------------------------------------------------------------------------
    def verb_add(self, app: App, args: AddArgs) -> dict[str, Any]:
        """``ScheduledActionService.Add``: schedule (or reschedule) a task."""
        name, kind = args.name, cast(TaskType, args.type)
        raw_expiration, description, audio = args.expiration_time, args.description, args.audio
        now = self.ctx.now
        if app.state != "foreground":
            raise RequestError(
                "invalid_operation",
                f"ScheduledActionService.Add must be called from the foreground app; app "
                f"{app.id!r} is {app.state} (seed 003: 代理必須通過前台進程才能重新調度)",
                {"state": app.state})
        expires = self._expiration(raw_expiration, now)
        existing = self._tasks.get((app.id, name))
        if existing is not None and existing.type != kind:
            raise RequestError(
                "invalid_operation",
                f"app {app.id!r} already has a {existing.type} action named {name!r}; "
                f"remove it before adding a {kind} one", {"name": name})
        for other in self._by_app.get(app.id, {}).values():
            if other.type == kind and other.name != name:
                raise RequestError(
                    "invalid_operation",
                    f"app {app.id!r} already has a {kind} action {other.name!r}: an app has one "
                    f"background agent, registered as periodic, resource-intensive or both "
                    f"(seed 003: 一個應用可能只有一個後台代理); remove {other.name!r} first",
                    {"name": name, "existing": other.name, "scope": "app"})
        if kind == PERIODIC and existing is None:
            cap = self.limits.max_periodic_per_device
            if self._periodic_count >= cap:
                raise RequestError("invalid_operation", MAX_ACTIONS_ERROR,
                                   {"name": name, "scope": "device", "limit": cap})
        if existing is not None:
            self._drop_schedule(existing)
        self._gen += 1
        task = _Task(app=app.id, name=name, type=kind, gen=self._gen, order=self._gen,
                     seed=self.ctx.rng.getrandbits(32), added=now, expires=expires, audio=audio,
                     description=description)
        self._tasks[(app.id, name)] = task
        self._by_app.setdefault(app.id, {})[name] = task
        if existing is None and kind == PERIODIC:
            self._periodic_count += 1
        self._expiry_timers.arm((app.id, name), expires)
        if kind == PERIODIC:
            task.next_run = now + self._interval(task)
            self._slot_timers.arm((app.id, name), task.next_run)
        else:
            self._make_ready(task, now)
            self._try_start_ri()
        out = {"name": name, "type": kind, "expiration_time": expires, "is_scheduled": True,
               "replaced": existing is not None, "next_run": task.next_run,
               "state": self._state_of(task)}
        if kind == PERIODIC and self._periodic_count > self.limits.periodic_warning_count:
            out["user_warning"] = (
                f"{self._periodic_count} periodic agents on this device (more than "
                f"{self.limits.periodic_warning_count}): the user is warned that background "
                "agents are draining the battery (seed 003)")
        return out

    def configure_app(self, app: App, args: RegisterArgs) -> None:
        """``tile_pinned`` (the app's Tile is on Start) and ``lock_screen`` (the user shows the
        app on the lock screen): what makes ``update_tile`` extend the agent's lifetime."""
        for name, value in (("tile_pinned", args.tile_pinned), ("lock_screen", args.lock_screen)):
            app.settings[name] = value if value is not None else app.settings.get(name, False)

    def verb_update_tile(self, app: App, args: UpdateTileArgs) -> dict[str, Any]:
        """``ShellTile.Update(ShellTileData)``: with the Tile pinned (or the app on the lock
        screen), every scheduled action of the app lives two weeks from now — seed 003:
        "如果你的應用的Tile被固定在開始畫面上了,你的後台代理在任何調用Update(ShellTileData)
        來更新Tile時,其存留時間會被自動擴充到兩周"."""
        if not (app.settings.get("tile_pinned") or app.settings.get("lock_screen")):
            return {"extended": False, "reason": "tile_not_pinned"}
        until = self.ctx.now + self.limits.max_expiration_s
        names = []
        for task in self._by_app.get(app.id, {}).values():
            if task.scheduled:
                task.expires = until
                self._expiry_timers.arm((app.id, task.name), until)
                names.append(task.name)
        return {"extended": bool(names), "expiration_time": until, "names": sorted(names)}

    def verb_associate_to_network_interface(self, app: App, args: AssociateToNetworkInterfaceArgs) -> dict[str, Any]:
        """``SocketExtensions.AssociateToNetworkInterface(socket, NetworkInterfaceInfo)`` from
        the running agent: fails for a mobile-broadband interface in a resource-intensive agent
        (seed 003: "如果一個資源密集型代理試圖調用AssociateToNetworkInterface ... 指定了
        MobileBroadbandGSM或MobileBroadbandCDMA,調用會失敗")."""
        kind = args.interface_type
        run = self._runs.get(app.id)
        if run is not None and run.type == RESOURCE_INTENSIVE and kind in _MOBILE_BROADBAND:
            raise RequestError(
                "network_interface_refused",
                f"AssociateToNetworkInterface with {kind} fails in a resource-intensive agent "
                "(seed 003)", {"interface_type": kind, "agent": run.name})
        return {"interface_type": kind, "associated": True}

    def verb_remove(self, app: App, args: RemoveArgs) -> dict[str, Any]:
        """``ScheduledActionService.Remove``: drop an action (a running agent finishes)."""
        name = args.name
        task = self._tasks.pop((app.id, name), None)
        if task is None:
            raise RequestError("unknown_task", f"app {app.id!r} has no scheduled action {name!r}",
                               {"name": name})
        del self._by_app[app.id][name]
        if task.type == PERIODIC:
            self._periodic_count -= 1
        self._drop_schedule(task)
        self._test_timers.cancel((app.id, name))
        self._tests.pop((app.id, name), None)
        if self._test_waiting.get(app.id) == name:
            del self._test_waiting[app.id]
        return {"name": name, "removed": True}

    def verb_launch_for_test(self, app: App, args: LaunchForTestArgs) -> dict[str, Any]:
        """``ScheduledActionService.LaunchForTest(name, delay)``."""
        name, delay = args.name, args.delay
        now = self.ctx.now
        task = self._tasks.get((app.id, name))
        if task is None:
            raise RequestError(
                "invalid_operation",
                f"LaunchForTest: task {name!r} is not registered for app {app.id!r} "
                f"(InvalidOperationException); add it first", {"name": name})
        if now >= task.expires:
            raise RequestError(
                "invalid_operation",
                f"LaunchForTest: the ExpirationTime of {name!r} ({task.expires:g} s) has passed "
                f"(InvalidOperationException); add it again from the foreground",
                {"name": name, "expiration_time": task.expires})
        at = now + delay
        self._tests[(app.id, name)] = at
        self._test_timers.arm((app.id, name), at)
        return {"name": name, "launch_at": at}

    # -- debug verbs -------------------------------------------------------------------------
    def force_run(self, app: App, task_id: str) -> dict[str, Any]:
        """``LaunchForTest(name, TimeSpan.Zero)``: the same rules as ``launch_for_test`` (the task
        must be added and not expired), started at once (or after the app's running agent)."""
        self.verb_launch_for_test(app, parse(LaunchForTestArgs, {"name": task_id, "delay": 0}))
        key = (app.id, task_id)
        self._test_timers.cancel(key)
        self._on_test(key)
        run = self._runs.get(app.id)
        started = run is not None and run.name == task_id and run.test
        return {"state": "running" if started else "waiting_for_agent",
                "deadline": run.deadline if started and run is not None else None}

    def force_expire(self, app: App, task_id: str) -> dict[str, Any]:
        """The running agent reaches its run-time limit now (``expire`` ``time_limit``, then
        ``terminate`` after the grace period unless ``notify_complete`` comes)."""
        if (app.id, task_id) not in self._tasks:
            raise unknown_task(app, task_id)
        run = self._runs.get(app.id)
        if run is None or run.name != task_id or run.state != "running":
            raise invalid_state(app, task_id, "not running" if run is None or run.name != task_id
                                else run.state, "running")
        self._run_timers.cancel(app.id)
        self._run_timer(run)
        return {"state": run.state, "terminate_at": run.ends_at}

    def verb_notify_complete(self, app: App, args: RunArgs) -> dict[str, Any]:
        """``BackgroundAgent.NotifyComplete()``: the agent finished its work."""
        run = self._current_run(app, args, "NotifyComplete")
        state = run.state
        self._end_run(run, "completed")
        return {"name": run.name, "state": state, "ran_s": self.ctx.now - run.started}

    def verb_abort(self, app: App, args: RunArgs) -> dict[str, Any]:
        """``BackgroundAgent.Abort()``: the agent cannot do its work; IsScheduled becomes false."""
        run = self._current_run(app, args, "Abort")
        self._end_run(run, "abort")
        return {"name": run.name, "is_scheduled": False}

    def verb_report_memory(self, app: App, args: ReportMemoryArgs) -> dict[str, Any]:
        """The running agent's memory use, ``bytes`` or ``mb`` (1 MB = 1,048,576 bytes)."""
        used = args.bytes if args.bytes is not None else round((args.mb or 0.0) * MIB)
        run = self._runs.get(app.id)
        if run is None:
            raise RequestError("invalid_operation",
                               f"no background agent of app {app.id!r} is running")
        task = self._task_of(run)
        audio = task.audio if task is not None else False
        cap = self.limits.audio_memory_limit_bytes if audio else self.limits.memory_limit_bytes
        run.memory = used
        run.peak_memory = max(run.peak_memory, used)
        terminated = used > cap
        if terminated:
            self.ctx.emit("terminate", self.ctx.app(app.id), run.name, reason="memory_limit",
                          data={"memory_bytes": used, "limit_bytes": cap})
            self._end_run(run, "memory_limit")
        return {"name": run.name, "bytes": used, "limit_bytes": cap, "terminated": terminated}

    # -- lifecycle hooks ---------------------------------------------------------------------
    def on_crash(self, app: App) -> None:
        """An unhandled exception: ends the running agent (if any) and counts as a crash."""
        run = self._runs.get(app.id)
        if run is not None:
            self._end_run(run, "crash")

    def _on_run(self, app_id: str) -> None:
        run = self._runs.get(app_id)
        if run is not None:
            self._run_timer(run)

    def _on_expiry(self, key: tuple[str, str]) -> None:
        task = self._tasks.get(key)
        if task is not None and task.scheduled:
            self._unschedule(task, "expired")

    def _on_slot(self, key: tuple[str, str]) -> None:
        task = self._tasks.get(key)
        if task is not None:
            self._slot(task)

    def _on_test(self, key: tuple[str, str]) -> None:
        task = self._tasks.get(key)
        if task is None:
            return
        app_id, name = key
        self._tests.pop(key, None)
        if app_id in self._runs:
            self._test_waiting[app_id] = name
        else:
            self._start(task, test=True)

    def on_signals(self, old: Signals, new: Signals, changed: frozenset[str]) -> None:
        self._reevaluate_ri()

    def on_resume(self) -> None:
        """Scheduled actions are kept by the OS across a reboot; the resource-intensive agent is
        re-checked against the live signals (revoked if they no longer allow it)."""
        self._reevaluate_ri()

    # -- views and persistence ---------------------------------------------------------------
    def tasks(self, app: App) -> dict[str, dict[str, Any]]:
        return {t.name: self._view(t) for t in self._by_app.get(app.id, {}).values()}

    def status(self, app: App) -> dict[str, Any]:
        run = self._runs.get(app.id)
        return {
            "tasks": self.tasks(app),
            "agent": None if run is None else self._run_view(run),
            "device": {
                "periodic_actions": self._periodic_count,
                "max_periodic_per_device": self.limits.max_periodic_per_device,
                "user_warned": self._periodic_count > self.limits.periodic_warning_count,
                "resource_intensive_running": (
                    None if self._ri_app is None else
                    {"app": self._ri_app, "name": self._runs[self._ri_app].name}),
                "resource_intensive_unmet": self._unmet(self.ctx.signals),
            },
        }

    def dump(self) -> dict[str, Any]:
        return {
            "gen": self._gen,
            "tasks": [_flat(t, _TASK_FIELDS) for t in self._tasks.values()],
            "runs": [_flat(r, _RUN_FIELDS) for r in self._runs.values()],
            "ri_app": self._ri_app,
            "tests": [{"app": a, "name": n, "at": at} for (a, n), at in self._tests.items()],
            "test_waiting": dict(self._test_waiting),
        }

    def load(self, data: dict[str, Any]) -> None:
        self._gen = max(self._gen, int(data.get("gen", 0)))
        for raw in data.get("tasks", []):
            task = _Task(**raw)
            self._tasks[(task.app, task.name)] = task
            self._by_app.setdefault(task.app, {})[task.name] = task
            if task.type == PERIODIC:
                self._periodic_count += 1
            if task.scheduled:
                self._expiry_timers.arm((task.app, task.name), task.expires)
                if task.ready_at is not None:
                    heapq.heappush(self._ri_heap, self._heap_entry(task))
                elif task.next_run is not None:
                    self._slot_timers.arm((task.app, task.name), task.next_run)
        for raw in data.get("runs", []):
            run = _Run(**raw)
            self._runs[run.app] = run
            at = run.deadline if run.state == "running" else run.ends_at
            self._run_timers.arm(run.app, run.deadline if at is None else at)
        self._ri_app = data.get("ri_app")
        for raw in data.get("tests", []):
            self._tests[(raw["app"], raw["name"])] = raw["at"]
            self._test_timers.arm((raw["app"], raw["name"]), raw["at"])
        self._test_waiting.update(data.get("test_waiting", {}))
        # Signals may differ after the restart: on_resume re-checks the resource-intensive slot
        # (never emit from load itself).

    # -- internals: scheduling ---------------------------------------------------------------
    def _expiration(self, raw: Any, now: float) -> float:
        longest = self.limits.max_expiration_s
        if raw is None:
            return now + longest
        if isinstance(raw, str):
            try:
                at = now + parse_duration(raw)
            except ValueError as exc:
                raise RequestError("invalid_args", f"'expiration_time': {exc}", {"field": "expiration_time"}) from None
        elif isinstance(raw, int | float) and not isinstance(raw, bool) and math.isfinite(raw):
            at = float(raw)
        else:
            raise RequestError("invalid_args",
                               f"'expiration_time' must be rig seconds (a number) or a duration "
                               f"such as \"7d\", not {raw!r}", {"field": "expiration_time"})
        if at <= now:
            raise RequestError("argument_out_of_range",
                               f"'expiration_time' {at:g} s is not after now ({now:g} s)",
                               {"field": "expiration_time"})
        if at - now >= longest:
            raise RequestError(
                "argument_out_of_range",
                f"'expiration_time' must be less than two weeks ({longest:g} s) from now "
                f"({now:g} s), not {at - now:g} s ahead (seed 003: 此值必須被設定為小於兩周的時間)",
                {"field": "expiration_time", "max_s": longest})
        return at

    def _interval(self, task: _Task) -> float:
        """Time from run ``task.slot`` to the next: nominal ± seeded drift (whole seconds)."""
        drift = int(self.limits.periodic_drift_s)
        offset = random.Random(f"{task.seed}:{task.slot}").randint(-drift, drift) if drift else 0
        return max(1.0, self.limits.periodic_interval_s + offset)

    def _slot(self, task: _Task) -> None:
        if not task.scheduled:
            return
        now = self.ctx.now
        if task.type == RESOURCE_INTENSIVE:
            task.next_run = None
            self._make_ready(task, now)
            self._try_start_ri()
            return
        task.slot += 1
        task.next_run = now + self._interval(task)
        self._slot_timers.arm((task.app, task.name), task.next_run)
        saver = self.ctx.signals.battery_saver
        if saver is None:  # unknown: the run cannot be shown to be allowed
            self._skip(task, SIGNAL_UNKNOWN)
        elif saver:
            self._skip(task, "battery_saver")
        elif task.app in self._runs:
            self._skip(task, "agent_running")
        else:
            self._start(task)

    def _skip(self, task: _Task, reason: str) -> None:
        task.skipped += 1
        task.last_skip_reason = reason

    def _make_ready(self, task: _Task, since: float) -> None:
        task.ready_at = since
        heapq.heappush(self._ri_heap, self._heap_entry(task))

    @staticmethod
    def _heap_entry(task: _Task) -> tuple[float, int, str, str, int]:
        assert task.ready_at is not None
        return (task.ready_at, task.order, task.app, task.name, task.gen)

    def _unmet(self, s: Signals) -> list[str]:
        """Reasons the resource-intensive conditions do not hold, in a fixed order (only
        ``signal_unknown`` while a signal they read is unknown)."""
        if s.stale and s.unknown_of(*_RI_READS):
            return [SIGNAL_UNKNOWN]
        out: list[str] = []
        if s.charger == "none":
            out.append("charger_removed")
        if s.network not in NON_CELLULAR:
            out.append("cellular_network" if s.network == "cellular" else "network_lost")
        if not cast(float, s.battery_level) > self.limits.resource_intensive_min_battery_pct:  # known: _RI_READS
            out.append("battery_low")
        if not s.screen_locked:
            out.append("screen_unlocked")
        if s.on_call:
            out.append("call_started")
        return out

    def _reevaluate_ri(self) -> None:
        unmet = self._unmet(self.ctx.signals)
        if self._ri_app is not None:
            run = self._runs[self._ri_app]
            if unmet and run.state == "running":
                self._revoke(run, unmet)
        if not unmet:
            self._try_start_ri()

    def _try_start_ri(self) -> None:
        if self._ri_app is not None or not self._ri_heap or self._unmet(self.ctx.signals):
            return
        busy: list[tuple[float, int, str, str, int]] = []
        while self._ri_heap:
            entry = heapq.heappop(self._ri_heap)
            ready_at, _, app_id, name, gen = entry
            task = self._tasks.get((app_id, name))
            if task is None or task.gen != gen or task.ready_at != ready_at or not task.scheduled:
                continue  # stale entry
            if app_id in self._runs:
                busy.append(entry)  # its agent is running as the other type: wait
                continue
            self._start(task)
            break
        for entry in busy:
            heapq.heappush(self._ri_heap, entry)

    def _unschedule(self, task: _Task, reason: str) -> None:
        self._drop_schedule(task)
        task.scheduled = False
        task.unscheduled_reason = reason
        self.ctx.emit("unscheduled", self.ctx.app(task.app), task.name, reason=reason)

    def _drop_schedule(self, task: _Task) -> None:
        """Cancel the task's own timers and queue place (its running agent is left alone)."""
        self._slot_timers.cancel((task.app, task.name))
        self._expiry_timers.cancel((task.app, task.name))
        task.next_run = None
        task.ready_at = None  # any heap entry is now stale

    # -- internals: runs ---------------------------------------------------------------------
    def _start(self, task: _Task, *, test: bool = False) -> None:
        now = self.ctx.now
        budget = (self.limits.periodic_run_s if task.type == PERIODIC
                  else self.limits.resource_intensive_run_s)
        run = _Run(app=task.app, name=task.name, type=task.type, gen=task.gen, started=now,
                   deadline=now + budget, test=test)
        self._runs[task.app] = run
        if task.type == RESOURCE_INTENSIVE and not test:
            self._ri_app = task.app
            run.ready_at = task.ready_at
            task.ready_at = None
        task.runs += 1
        task.last_run = now
        self._run_timers.arm(task.app, run.deadline)
        data: dict[str, Any] = {"type": task.type}
        if test:
            data["launch_for_test"] = True
        self.ctx.emit("wake", self.ctx.app(task.app), task.name, deadline=run.deadline, data=data)

    def _run_timer(self, run: _Run) -> None:
        if run.state == "running":
            run.state = "expired"
            self.ctx.emit("expire", self.ctx.app(run.app), run.name, reason="time_limit",
                          deadline=run.deadline)
            self._after_notice(run, "expired")
        else:
            self._terminate(run, "expired" if run.state == "expired" else "revoked")

    def _revoke(self, run: _Run, unmet: list[str]) -> None:
        run.state = "revoked"
        run.reason = unmet[0]
        data: dict[str, Any] = {"unmet": unmet}
        if unmet[0] == SIGNAL_UNKNOWN:
            data["unknown"] = self.ctx.signals.unknown_of(*_RI_READS)
        self.ctx.emit("revoke", self.ctx.app(run.app), run.name, reason=unmet[0],
                      deadline=run.deadline, data=data)
        self._after_notice(run, "revoked")

    def _after_notice(self, run: _Run, outcome: str) -> None:
        grace = self.limits.terminate_grace_s
        if grace <= 0:
            self._terminate(run, outcome)
        else:
            run.ends_at = self.ctx.now + grace
            self._run_timers.arm(run.app, run.ends_at)

    def _terminate(self, run: _Run, outcome: str) -> None:
        self.ctx.emit("terminate", self.ctx.app(run.app), run.name, reason="not_finished")
        self._end_run(run, outcome)

    def _end_run(self, run: _Run, outcome: str) -> None:
        """Free the agent (and the device slot), then apply the outcome to its task.

        ``outcome``: completed | expired | revoked | crash | memory_limit | abort.
        """
        del self._runs[run.app]
        self._run_timers.cancel(run.app)
        if self._ri_app == run.app and run.type == RESOURCE_INTENSIVE and not run.test:
            self._ri_app = None
        task = self._task_of(run)
        if task is not None:
            task.last_outcome = outcome
            if outcome == "completed":
                task.crashes = 0
            elif outcome in ("crash", "memory_limit"):
                task.crashes += 1
            if task.scheduled:
                if outcome == "abort":
                    self._unschedule(task, "abort")
                elif task.crashes >= self.limits.max_consecutive_crashes:
                    self._unschedule(task, "crashes")
                elif task.type == RESOURCE_INTENSIVE and not run.test:
                    if outcome == "revoked" and run.ready_at is not None:
                        self._make_ready(task, run.ready_at)
                    else:
                        task.next_run = self.ctx.now + self.limits.resource_intensive_interval_s
                        self._slot_timers.arm((task.app, task.name), task.next_run)
        waiting = self._test_waiting.pop(run.app, None)
        if waiting is not None:
            queued = self._tasks.get((run.app, waiting))
            if queued is not None:
                self._start(queued, test=True)
        self._try_start_ri()

    def _current_run(self, app: App, args: RunArgs, call: str) -> _Run:
        name = args.name
        run = self._runs.get(app.id)
        if run is None:
            raise RequestError("invalid_operation",
                               f"{call}: no background agent of app {app.id!r} is running")
        if name is not None and name != run.name:
            raise RequestError("invalid_operation",
                               f"{call}: the running agent of app {app.id!r} is for {run.name!r}, "
                               f"not {name!r}", {"name": name, "running": run.name})
        return run

    def _task_of(self, run: _Run) -> _Task | None:
        task = self._tasks.get((run.app, run.name))
        return task if task is not None and task.gen == run.gen else None

    # -- internals: views --------------------------------------------------------------------
    def _state_of(self, task: _Task) -> str:
        run = self._runs.get(task.app)
        if run is not None and run.name == task.name and run.gen == task.gen:
            return run.state
        if not task.scheduled:
            return "unscheduled"
        if task.ready_at is not None:
            return "waiting"
        return "scheduled"

    def debug_fields(self, app: App, task_id: str, view: dict[str, Any]) -> dict[str, Any]:
        """The agent's run (``view["run"]``) carries the budget; a periodic action's next slot or
        a resource-intensive one's conditions say when it may run."""
        now = self.ctx.now
        task = self._tasks.get((app.id, task_id))
        run = view.get("run")
        out: dict[str, Any] = {"state": view["state"], "next_eligible": None, "budget_s": None,
                               "budget_used_s": None, "budget_left_s": None, "unmet": []}
        if run is not None:
            out.update(budget_s=run["deadline"] - run["started"],
                       budget_used_s=now - run["started"],
                       budget_left_s=max(0.0, run["deadline"] - now))
        elif task is not None and task.scheduled:
            if task.type == PERIODIC:
                out["next_eligible"] = max(now, task.next_run or now)
                if self.ctx.signals.battery_saver:
                    out["unmet"] = ["battery_saver"]
            else:
                out["next_eligible"] = max(now, task.next_run or now)
                out["unmet"] = self._unmet(self.ctx.signals)
                if self._ri_app not in (None, app.id):
                    out["unmet"].append("resource_intensive_slot_busy")
        return out

    def _view(self, task: _Task) -> dict[str, Any]:
        run = self._runs.get(task.app)
        mine = run is not None and run.name == task.name and run.gen == task.gen
        cap = (self.limits.audio_memory_limit_bytes if task.audio
               else self.limits.memory_limit_bytes)
        return {
            "task_id": task.name, "type": task.type, "state": self._state_of(task),
            "is_scheduled": task.scheduled, "unscheduled_reason": task.unscheduled_reason,
            "expiration_time": task.expires, "next_run": task.next_run,
            "eligible_since": task.ready_at, "last_run": task.last_run,
            "last_outcome": task.last_outcome, "runs": task.runs,
            "skipped_runs": task.skipped, "last_skip_reason": task.last_skip_reason,
            "consecutive_crashes": task.crashes, "memory_limit_bytes": cap,
            "audio": task.audio, "description": task.description,
            "run": self._run_view(run) if mine and run is not None else None,
        }

    @staticmethod
    def _run_view(run: _Run) -> dict[str, Any]:
        return {"name": run.name, "type": run.type, "state": run.state, "started": run.started,
                "deadline": run.deadline, "launch_for_test": run.test, "reason": run.reason,
                "memory_bytes": run.memory, "peak_memory_bytes": run.peak_memory}
