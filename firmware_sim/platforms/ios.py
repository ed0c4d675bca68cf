"""iOS background execution: the 5-second background window, ``beginBackgroundTask`` and
``BGTaskScheduler`` refresh / processing requests.

Sources: seed 001 (Apple's "App in the Background" / WWDC "Background execution demystified"
notes) and ``reference/platform-budgets.md`` section 1 (the Apple pages named there).

Behaviour, as a bench user sees it:

* ``state`` → ``background`` runs ``applicationDidEnterBackground``: a pseudo-task
  ``did_enter_background`` gets ``wake`` with a 5 s deadline. At 5 s the app is suspended
  (``expire``, reason ``time_limit``, app state → ``suspended``) unless a background task is
  active; then suspension waits for the last background task to end (``expire`` of the
  pseudo-task with reason ``background_task_ended``). Back to the foreground cancels it.
* ``begin_background_task`` (``beginBackgroundTask(withName:expirationHandler:)``) returns an
  identifier and sends ``wake``. Background time is one budget per app, as
  ``backgroundTimeRemaining`` is: it starts when the app enters the background (a task begun in
  the foreground has no deadline until then, since Apple says the value is meaningful only in the
  background) and every task shares its end. At the end each open task gets ``expire``; one not
  ended within ``terminate_grace_s`` gets the app a ``terminate``. Without time left (suspended
  app, budget used up) the call returns the invalid identifier 0, like ``.invalid``.
* ``submit`` (``BGTaskScheduler.submit``): 1 pending refresh and 10 pending processing requests
  per app; the same identifier replaces its pending request; ``unavailable`` while Background App
  Refresh is off (``register`` with ``background_app_refresh: false``). A request starts (``wake``)
  at its earliest begin, unless held back: battery <= 20 %, Low Power Mode, Background App Refresh
  off, app swiped away (``state`` → ``terminated`` sent by the user; a kill by the OS is not a
  swipe), or a task with the same identifier still running. Processing also waits for ``idle``
  (+ charger / network when required) and is revoked when the user becomes active
  (``user_active``) or a required condition goes (``charger_removed``, ``network_lost``).
  Refresh runs for ``refresh_runtime_s``, processing until revoked (``processing_runtime_s`` 0)
  or for that many seconds. ``set_task_completed`` ends a started task; after ``expire`` /
  ``revoke`` a task not completed within ``terminate_grace_s`` terminates the app.
* ``push``: a background notification (seed 001: "the system delays the delivery of some
  pushes ... The time interval between runs was just 15 minutes"): delivered at once, or at
  the previous push launch + ``push_cadence_s``, pushes in between coalescing into one launch
  (``wake`` ``background_notification``, 30 s, then ``expire`` / ``terminate`` unless
  ``set_task_completed``). None for a swiped-away app.
* ``url_session_download`` (``session``, ``duration``): a background-URLSession transfer run
  outside the app; when it completes the app is launched / resumed
  (``handleEventsForBackgroundURLSession``: ``wake`` of the session, ``url_session_runtime_s``),
  or told in place when in the foreground; cancelled for a swiped-away app.
* Earliest begin: ``earliest_begin`` (alias ``earliestBeginDate``) is an absolute rig time in
  seconds, like the ``Date`` the real API takes; ``earliest_begin_delay`` is seconds from now,
  like ``Date(timeIntervalSinceNow:)``. A time in the past means no delay. wakebench starts a
  request as soon as it is allowed; the real system only promises "not sooner".
* ``BGTaskScheduler`` identifiers are reverse-DNS strings as real apps write them
  (``com.example.refresh``: letters, digits, ``.``, ``_``, ``-``; up to 255 characters). Events
  carry them unchanged; the MQTT bridge maps one that is not a topic-safe id to a
  ``<slug>-<8 hex>`` topic level (asyncapi.yaml).

Restart (``Scheduler.resume``): ``beginBackgroundTask`` tasks belong to the app process and get
``unscheduled`` with reason ``restart``; ``BGTaskScheduler`` requests are kept (wakebench's
reading: the system holds them, not the app) and re-checked against the live signals.

Held-back requests wait in an index keyed by the one condition that blocks them (``hold``,
``idle``, ``power``, ``network``), and a signal change is acted on only when the condition it
drives flips, so a battery tick costs O(1) whatever the number of requests.

Over 500 lines on purpose, like every platform module: one platform's rules, its verbs'
argument declarations (generated into asyncapi.yaml and docs/verbs.md) and its dump / load
read top to bottom beside the seed they implement (docs/seed-rules.md); what platforms share
lives in ``firmware_sim`` (timers, work queue, verb argument types).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any, Final, cast

from firmware_sim.errors import RequestError
from firmware_sim.limits import Limits
from firmware_sim.platforms.ios_spec import (  # noqa: F401  (some only re-exported: tests and bench import them from here)
    _BG_TASK_RE,
    APPLE,
    DID_ENTER_BACKGROUND,
    IDENTIFIER_RE,
    PUSH_TASK,
    SEED,
    BeginBackgroundTaskArgs,
    CancelArgs,
    EndBackgroundTaskArgs,
    Identifier,
    IOSLimits,
    OwnIdentifier,
    PushArgs,
    RegisterArgs,
    SetTaskCompletedArgs,
    SubmitArgs,
    UrlSessionDownloadArgs,
)
from firmware_sim.policy import (
    App,
    AppState,
    Context,
    Policy,
    SignalIndex,
    TimerMap,
    app_label,
    invalid_state,
    task_label,
    unknown_task,
)
from firmware_sim.signals import SIGNAL_UNKNOWN, Signals
from firmware_sim.verbargs import bad_arg

#: UIBackgroundTaskIdentifier.invalid
INVALID_BACKGROUND_TASK: Final = 0

#: BGTaskScheduler.Error.Code (platform-budgets.md §1)
ERROR_UNAVAILABLE: Final = 1
ERROR_TOO_MANY_PENDING: Final = 2

#: Condition index name → revoke reason when a running processing task loses it.
_REVOKE_REASON: Final = {"idle": "user_active", "power": "charger_removed", "network": "network_lost"}
#: The signal each processing condition reads: while it is unknown the condition is unmet.
_READS: Final = {"idle": "idle", "power": "charger", "network": "network"}
#: The signals :func:`_holds` reads: a change of none of them leaves every processing condition.
_HOLD_SIGNALS: Final = frozenset(_READS.values())


@dataclass(slots=True)
class _BackgroundTask:
    """One ``beginBackgroundTask`` assertion."""

    number: int
    name: str | None
    started: float
    state: str = "running"  # running | expired

    @property
    def task_id(self) -> str:
        return f"bg-{self.number}"


@dataclass(slots=True)
class _Request:
    """A submitted, not yet started BGTaskRequest."""

    app: str
    identifier: str
    type: str  # refresh | processing
    earliest_begin: float | None
    requires_power: bool
    requires_network: bool
    submitted: float
    state: str = "scheduled"  # scheduled (before earliest begin) | waiting (held back)
    waiting_for: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"identifier": self.identifier, "type": self.type,
                "earliest_begin": self.earliest_begin,
                "requires_external_power": self.requires_power,
                "requires_network_connectivity": self.requires_network,
                "submitted": self.submitted}

    def view(self) -> dict[str, Any]:
        return {"task_id": self.identifier, "kind": self.type, "state": self.state,
                "earliest_begin": self.earliest_begin, "waiting_for": self.waiting_for,
                "requires_external_power": self.requires_power,
                "requires_network_connectivity": self.requires_network}


@dataclass(slots=True)
class _Launch:
    """A BGTask the system started (the app was launched for it)."""

    app: str
    identifier: str
    type: str
    started: float
    deadline: float | None
    requires_power: bool
    requires_network: bool
    state: str = "running"  # running | expired | revoked
    reason: str | None = None
    grace_until: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"identifier": self.identifier, "type": self.type, "started": self.started,
                "deadline": self.deadline, "requires_external_power": self.requires_power,
                "requires_network_connectivity": self.requires_network, "state": self.state,
                "reason": self.reason, "grace_until": self.grace_until}

    def view(self) -> dict[str, Any]:
        return {"task_id": self.identifier, "kind": self.type, "state": self.state,
                "started": self.started, "deadline": self.deadline, "reason": self.reason}


@dataclass(slots=True)
class _AppRecord:
    """Everything the policy tracks for one app."""

    swiped: bool = False
    #: When the app's background time started (None: foreground / not running).
    window_start: float | None = None
    #: did_enter_background pseudo-task: None | running | extended (waits for background tasks)
    enter_state: str | None = None
    enter_deadline: float | None = None
    bg: dict[int, _BackgroundTask] = field(default_factory=dict)
    next_bg: int = 0
    bg_grace_until: float | None = None
    requests: dict[str, _Request] = field(default_factory=dict)
    launches: dict[str, _Launch] = field(default_factory=dict)
    #: background notifications: the last launch for one, pushes waiting, the latest payload
    last_push_launch: float | None = None
    pending_pushes: int = 0
    push_payload: Any = None
    #: background URLSession transfers by session identifier: when each completes
    transfers: dict[str, float] = field(default_factory=dict)


class IOSPolicy(Policy):
    """5 s background window, background tasks and BGTaskScheduler."""

    platform = "ios"
    limits_type = IOSLimits
    limits: IOSLimits
    watched = frozenset({"battery_level", "low_power_mode", "idle", "charger", "network"})

    def __init__(self, ctx: Context, limits: Limits) -> None:
        super().__init__(ctx, limits)
        self._apps: dict[str, _AppRecord] = {}
        #: held-back requests, under the one condition that blocks them (hold/idle/power/network)
        self._waiting = SignalIndex()
        #: running processing tasks, under the conditions whose loss revokes them
        self._running = SignalIndex()
        self._enter_timers = TimerMap(ctx, self._on_enter, app_label)
        self._bg_timers = TimerMap(ctx, self._on_bg, app_label)
        self._begin_timers = TimerMap(ctx, self._on_begin, task_label)
        self._launch_timers = TimerMap(ctx, self._on_launch, task_label)
        self._push_timers = TimerMap(ctx, self._on_push, app_label)
        self._transfer_timers = TimerMap(ctx, self._on_transfer, task_label)

    def _rec(self, app_id: str) -> _AppRecord:
        rec = self._apps.get(app_id)
        if rec is None:
            rec = self._apps[app_id] = _AppRecord()
        return rec

    # -- register / lifecycle ----------------------------------------------------------------
    def configure_app(self, app: App, args: RegisterArgs) -> None:
        """``background_app_refresh`` (bool, default true): the app's Background App Refresh switch;
        a re-``register`` without it keeps the previous value."""
        value = args.background_app_refresh
        if value is not None:
            app.settings["background_app_refresh"] = value
        app.settings.setdefault("background_app_refresh", True)

    def on_app_configured(self, app: App) -> None:
        """The Background App Refresh switch may have changed: re-check held requests."""
        self._reevaluate_app(app, self._rec(app.id))

    def on_app_state(self, app: App, old: AppState, new: AppState) -> None:
        rec = self._rec(app.id)
        was_swiped = rec.swiped
        rec.swiped = new == "terminated"
        if new == "foreground":
            self._drop_window(app.id, rec)
            for task in rec.bg.values():  # the clock stops in the foreground
                task.state = "running"
        elif new == "background":
            self._open_window(app, rec)
        elif new == "suspended":
            self._drop_window(app.id, rec)
            rec.bg.clear()
        else:
            self._kill(app.id, rec)
        if was_swiped != rec.swiped:
            self._reevaluate_app(app, rec)

    def on_crash(self, app: App) -> None:
        rec = self._rec(app.id)
        self._kill(app.id, rec)
        app.state = "terminated"
        self._reevaluate_app(app, rec)

    def _open_window(self, app: App, rec: _AppRecord) -> None:
        now = self.ctx.now
        rec.window_start = now
        rec.enter_state = "running"
        rec.enter_deadline = now + self.limits.did_enter_background_s
        rec.bg_grace_until = None
        self._enter_timers.arm(app.id, rec.enter_deadline)
        for task in rec.bg.values():
            task.state = "running"
        if rec.bg:
            self._bg_timers.arm(app.id, now + self.limits.background_task_s)
        self.ctx.emit("wake", app, DID_ENTER_BACKGROUND, deadline=rec.enter_deadline)

    def _drop_window(self, app_id: str, rec: _AppRecord) -> None:
        rec.window_start = None
        rec.enter_state = None
        rec.enter_deadline = None
        rec.bg_grace_until = None
        self._enter_timers.cancel(app_id)
        self._bg_timers.cancel(app_id)

    def _kill(self, app_id: str, rec: _AppRecord) -> None:
        """The process is gone: background tasks, the window and started BGTasks end silently."""
        self._drop_window(app_id, rec)
        rec.bg.clear()
        for ident in list(rec.launches):
            self._end_launch(app_id, rec, ident)

    def _suspend(self, app: App, rec: _AppRecord, reason: str) -> None:
        deadline = rec.enter_deadline
        self._drop_window(app.id, rec)
        app.state = "suspended"
        self.ctx.emit("expire", app, DID_ENTER_BACKGROUND, reason=reason, deadline=deadline,
                      data={"app_state": "suspended"})

    def _terminate(self, app: App, rec: _AppRecord, task_id: str, reason: str) -> None:
        self._kill(app.id, rec)
        app.state = "terminated"
        self.ctx.emit("terminate", app, task_id, reason=reason)
        self._reevaluate_app(app, rec)

    def _bg_deadline(self, rec: _AppRecord) -> float | None:
        if rec.window_start is None:
            return None
        return rec.window_start + self.limits.background_task_s

    def _app_running(self, app: App, rec: _AppRecord) -> bool:
        if app.state in ("foreground", "background"):
            return True
        return any(launch.state == "running" for launch in rec.launches.values())

    # -- beginBackgroundTask / endBackgroundTask ---------------------------------------------
    def verb_begin_background_task(self, app: App, args: BeginBackgroundTaskArgs) -> dict[str, Any]:
        """``beginBackgroundTask(withName:expirationHandler:)``: ``name`` (optional).

        Returns ``task_id`` / ``identifier`` and the shared background ``deadline`` (null in the
        foreground), or ``identifier`` 0 (``.invalid``) when the app has no background time.
        """
        name = args.name
        rec = self._rec(app.id)
        now = self.ctx.now
        why = None
        if not self._app_running(app, rec):
            why = f"app is {app.state}: a suspended or terminated app cannot run code"
        elif app.state != "foreground":
            if rec.window_start is None:
                rec.window_start = now  # running for a BGTask launch: its own background time
            deadline = self._bg_deadline(rec)
            if deadline is not None and deadline <= now:
                why = "no background time remaining"
        if why is not None:
            return {"task_id": None, "identifier": INVALID_BACKGROUND_TASK, "invalid": True,
                    "why": why}
        rec.next_bg += 1
        task = _BackgroundTask(rec.next_bg, name, now)
        rec.bg[task.number] = task
        deadline = None if app.state == "foreground" else self._bg_deadline(rec)
        if deadline is not None:
            self._bg_timers.arm(app.id, deadline)
        self.ctx.emit("wake", app, task.task_id, deadline=deadline)
        return {"task_id": task.task_id, "identifier": task.number, "deadline": deadline,
                "background_time_remaining": self._time_remaining(app, rec)}

    def verb_end_background_task(self, app: App, args: EndBackgroundTaskArgs) -> dict[str, Any]:
        """``endBackgroundTask(_:)``: ``identifier`` (number) or ``task_id`` (``bg-N``)."""
        number, task_id = args.identifier, args.task_id
        if task_id is not None and number is None:
            number = int(task_id[3:]) if _BG_TASK_RE.match(task_id) else -1
        elif number is None or task_id is not None:
            raise bad_arg(self.args_code, "identifier", "or 'task_id' is required (exactly one of them)")
        rec = self._rec(app.id)
        task = rec.bg.pop(number, None)
        if task is None:
            shown = task_id if task_id is not None else number
            raise RequestError("unknown_task", f"no background task {shown!r} for app {app.id!r}",
                               {"task_id": task_id, "identifier": number})
        if not rec.bg:
            self._bg_timers.cancel(app.id)
            rec.bg_grace_until = None
            if rec.enter_state == "extended":
                self._suspend(app, rec, "background_task_ended")
            elif rec.enter_state is None and app.state != "foreground":
                rec.window_start = None
        return {"task_id": task.task_id, "identifier": task.number, "state": task.state,
                "ended_at": self.ctx.now}

    # -- BGTaskScheduler ---------------------------------------------------------------------
    def verb_submit(self, app: App, args: SubmitArgs) -> dict[str, Any]:
        """``BGTaskScheduler.submit``: ``type`` (refresh / processing), ``identifier``,
        ``earliest_begin`` (rig s) or ``earliest_begin_delay`` (s from now),
        ``requires_external_power`` / ``requires_network_connectivity`` (processing only).

        Raises:
            RequestError: ``unavailable`` (Background App Refresh off),
                ``too_many_pending_task_requests`` (1 refresh / 10 processing pending).
        """
        kind, ident = args.type, args.identifier
        earliest = self._earliest_begin(args)
        power, network = args.requires_external_power, args.requires_network_connectivity
        if not app.settings.get("background_app_refresh", True):
            raise RequestError(
                "unavailable",
                f"Background App Refresh is off for app {app.id!r} (register with "
                "background_app_refresh: true)",
                {"error_code": ERROR_UNAVAILABLE})
        rec = self._rec(app.id)
        cap = self.limits.max_pending_refresh if kind == "refresh" else self.limits.max_pending_processing
        others = [r.identifier for r in rec.requests.values() if r.type == kind and r.identifier != ident]
        if len(others) >= cap:
            raise RequestError(
                "too_many_pending_task_requests",
                f"app {app.id!r} already has {len(others)} pending {kind} request(s) ({', '.join(others)}); "
                f"at most {cap} may be pending (cancel one or reuse its identifier)",
                {"error_code": ERROR_TOO_MANY_PENDING, "pending": others})
        replaced = self._drop_request(app.id, rec, ident)
        req = _Request(app.id, ident, kind, earliest, power, network, self.ctx.now)
        rec.requests[ident] = req
        self._begin_timers.arm((app.id, ident), earliest if earliest is not None else self.ctx.now)
        return {"identifier": ident, "type": kind, "earliest_begin": earliest,
                "replaced": replaced}

    # -- background notifications and background URLSession (seed 001) -----------------------
    def verb_push(self, app: App, args: PushArgs) -> dict[str, Any]:
        """A background notification (``content-available``) arrives from APNs; ``payload``
        (optional) is handed to the launch. It is delivered at once unless a launch for one came
        less than ``push_cadence_s`` ago: then it waits, and the pushes that arrive meanwhile
        coalesce into one launch (``wake`` of ``background_notification``, ``data.pushes``). A
        swiped-away app gets none (Apple: not delivered after the user force-quits the app).
        ``set_task_completed`` with ``identifier: background_notification`` is the completion
        handler; otherwise ``expire`` at ``push_runtime_s``, then ``terminate``."""
        payload = args.payload
        rec = self._rec(app.id)
        if rec.swiped:
            return {"delivered": False, "reason": "app_swiped_away", "deliver_at": None,
                    "pending": 0}
        rec.pending_pushes += 1
        rec.push_payload = payload
        at = self.ctx.now if rec.last_push_launch is None else max(
            self.ctx.now, rec.last_push_launch + self.limits.push_cadence_s)
        if at <= self.ctx.now and PUSH_TASK not in rec.launches:
            self._deliver_pushes(app, rec)
            return {"delivered": True, "deliver_at": self.ctx.now, "pending": 0}
        if PUSH_TASK in rec.launches:
            at = max(at, self.ctx.now + self.limits.push_cadence_s)
        self._push_timers.arm(app.id, at)
        return {"delivered": False, "deliver_at": at, "pending": rec.pending_pushes}

    def _deliver_pushes(self, app: App, rec: _AppRecord) -> None:
        now = self.ctx.now
        count, payload = rec.pending_pushes, rec.push_payload
        rec.pending_pushes, rec.push_payload = 0, None
        rec.last_push_launch = now
        self._start_system_launch(app, rec, PUSH_TASK, "push", self.limits.push_runtime_s,
                                  {"pushes": count, "payload": payload})

    def _start_system_launch(self, app: App, rec: _AppRecord, ident: str, kind: str,
                             runtime: float, data: dict[str, Any]) -> None:
        """The system launches (or resumes) the app in the background for ``ident``."""
        deadline = self.ctx.now + runtime
        rec.launches[ident] = _Launch(app.id, ident, kind, self.ctx.now, deadline, False, False)
        self._launch_timers.arm((app.id, ident), deadline)
        self.ctx.emit("wake", app, ident, deadline=deadline, data={"type": kind, **data})

    def _on_push(self, app_id: str) -> None:
        rec = self._rec(app_id)
        if rec.pending_pushes == 0 or rec.swiped:
            return
        running = rec.launches.get(PUSH_TASK)
        if running is not None:  # the previous launch has not ended: after it
            self._push_timers.arm(app_id, self.ctx.now + self.limits.push_cadence_s)
            return
        self._deliver_pushes(self.ctx.app(app_id), rec)

    def verb_url_session_download(self, app: App, args: UrlSessionDownloadArgs) -> dict[str, Any]:
        """A download task on a background ``URLSession`` (``session``: its identifier;
        ``duration``: how long the transfer takes, s — the bench decides). The transfer runs
        outside the app; when it ends the system launches (or resumes) the app with
        ``handleEventsForBackgroundURLSession`` — ``wake`` of the session identifier, data type
        ``url_session`` — unless the app is in the foreground then (its delegate is called in
        the running process: ``data.launched: false``, no deadline). A swiped-away app's
        transfers are cancelled (``unscheduled``, reason ``app_swiped_away``)."""
        session, duration = args.session, args.duration
        rec = self._rec(app.id)
        if session in rec.launches:
            raise RequestError("task_exists", f"session {session!r} is handling events now",
                               {"session": session})
        done_at = self.ctx.now + float(duration)
        rec.transfers[session] = done_at
        self._transfer_timers.arm((app.id, session), done_at)
        return {"session": session, "completes_at": done_at}

    def _on_transfer(self, key: tuple[str, str]) -> None:
        app_id, session = key
        rec = self._rec(app_id)
        if rec.transfers.pop(session, None) is None:
            return
        app = self.ctx.app(app_id)
        if rec.swiped:
            self.ctx.emit("unscheduled", app, session, reason="app_swiped_away")
        elif app.state == "foreground":
            self.ctx.emit("wake", app, session, data={"type": "url_session", "launched": False})
        else:
            self._start_system_launch(app, rec, session, "url_session",
                                      self.limits.url_session_runtime_s, {"launched": True})

    def _earliest_begin(self, args: SubmitArgs) -> float | None:
        given = [("earliest_begin", args.earliest_begin), ("earliest_begin_date", args.earliest_begin_date),
                 ("earliest_begin_delay", args.earliest_begin_delay)]
        present = [(n, v) for n, v in given if v is not None]  # one at most (SubmitArgs)
        if not present:
            return None
        name, value = present[0]
        return float(self.ctx.now + value if name == "earliest_begin_delay" else value)

    def verb_cancel(self, app: App, args: CancelArgs) -> dict[str, Any]:
        """``cancel(taskRequestWithIdentifier:)`` with ``identifier``, or ``cancelAllTaskRequests()``
        with ``all: true``. Started tasks are not affected; an unknown identifier cancels nothing."""
        ident, everything = args.identifier, args.all
        if (ident is None) == (not everything):
            raise bad_arg(self.args_code, "identifier", "or 'all: true' is required (exactly one of them)")
        rec = self._rec(app.id)
        idents = [ident] if ident is not None else list(rec.requests)
        cancelled = [i for i in idents if self._drop_request(app.id, rec, i)]
        return {"cancelled": cancelled}

    def verb_set_task_completed(self, app: App, args: SetTaskCompletedArgs) -> dict[str, Any]:
        """``BGTask.setTaskCompleted(success:)``: ``identifier``, ``success``."""
        ident, success = args.identifier, args.success
        rec = self._rec(app.id)
        launch = rec.launches.get(ident)
        if launch is None:
            raise RequestError("unknown_task", f"no started task {ident!r} for app {app.id!r}",
                               {"task_id": ident})
        self._end_launch(app.id, rec, ident)
        pending = rec.requests.get(ident)
        if pending is not None and pending.waiting_for == "identifier_running":
            self._try_launch(app, rec, pending)
        return {"identifier": ident, "success": success, "state": launch.state,
                "completed_at": self.ctx.now}

    def _drop_request(self, app_id: str, rec: _AppRecord, ident: str) -> bool:
        req = rec.requests.pop(ident, None)
        if req is None:
            return False
        self._begin_timers.cancel((app_id, ident))
        self._waiting.discard((app_id, ident))
        return True

    def _end_launch(self, app_id: str, rec: _AppRecord, ident: str) -> None:
        rec.launches.pop(ident, None)
        self._launch_timers.cancel((app_id, ident))
        self._running.discard((app_id, ident))

    # -- launching ---------------------------------------------------------------------------
    def _device_hold(self, s: Signals) -> str | None:
        if s.unknown_of("battery_level", "low_power_mode"):
            return SIGNAL_UNKNOWN  # the ≤ 20 % / Low Power Mode gates cannot be checked
        if cast(float, s.battery_level) <= self.limits.critical_battery_pct:  # known: unknown_of above
            return "battery_low"
        if s.low_power_mode:
            return "low_power_mode"
        return None

    def _blocker(self, app: App, rec: _AppRecord, req: _Request) -> tuple[str, str | None] | None:
        """The first condition holding ``req`` back, with its index name (None: app-level)."""
        if rec.swiped:
            return "app_swiped_away", None
        if not app.settings.get("background_app_refresh", True):
            return "background_app_refresh_off", None
        if req.identifier in rec.launches:
            return "identifier_running", None
        s = self.ctx.signals
        hold = self._device_hold(s)
        if hold is not None:
            return hold, "hold"
        if req.type == "processing":
            holds = _holds(s)
            if holds["idle"] is not True:
                return "device_in_use" if holds["idle"] is False else SIGNAL_UNKNOWN, "idle"
            if req.requires_power and holds["power"] is not True:
                return "no_external_power" if holds["power"] is False else SIGNAL_UNKNOWN, "power"
            if req.requires_network and holds["network"] is not True:
                return "no_network" if holds["network"] is False else SIGNAL_UNKNOWN, "network"
        return None

    def _try_launch(self, app: App, rec: _AppRecord, req: _Request) -> None:
        key = (app.id, req.identifier)
        blocker = self._blocker(app, rec, req)
        if blocker is not None:
            req.state, req.waiting_for = "waiting", blocker[0]
            if blocker[1] is None:
                self._waiting.discard(key)
            else:
                self._waiting.add(key, (blocker[1],))
            return
        self._launch(app, rec, req)

    def _launch(self, app: App, rec: _AppRecord, req: _Request) -> None:
        key = (app.id, req.identifier)
        self._drop_request(app.id, rec, req.identifier)
        now = self.ctx.now
        runtime = (self.limits.refresh_runtime_s if req.type == "refresh"
                   else self.limits.processing_runtime_s)
        deadline = now + runtime if req.type == "refresh" or runtime > 0 else None
        launch = _Launch(app.id, req.identifier, req.type, now, deadline, req.requires_power,
                         req.requires_network)
        rec.launches[req.identifier] = launch
        if deadline is not None:
            self._launch_timers.arm((app.id, req.identifier), deadline)
        if req.type == "processing":
            self._running.add(key, _needs(launch))
        self.ctx.emit("wake", app, req.identifier, deadline=deadline, data={"type": req.type})

    def _reevaluate_app(self, app: App, rec: _AppRecord) -> None:
        for req in list(rec.requests.values()):
            if req.state == "waiting" and rec.requests.get(req.identifier) is req:
                self._try_launch(app, rec, req)

    def _revoke(self, app: App, rec: _AppRecord, launch: _Launch, reason: str,
                data: dict[str, Any] | None = None) -> None:
        launch.state, launch.reason = "revoked", reason
        launch.grace_until = self.ctx.now + self.limits.terminate_grace_s
        self._running.discard((app.id, launch.identifier))
        self._launch_timers.arm((app.id, launch.identifier), launch.grace_until)
        self.ctx.emit("revoke", app, launch.identifier, reason=reason, deadline=launch.deadline,
                      data=data)

    # -- time and signals --------------------------------------------------------------------
    def _on_enter(self, app_id: str) -> None:
        """The 5 s of ``applicationDidEnterBackground`` are over."""
        rec = self._rec(app_id)
        if rec.enter_state != "running":
            return
        if rec.bg:
            rec.enter_state = "extended"  # suspension waits for the last background task
        else:
            self._suspend(self.ctx.app(app_id), rec, "time_limit")

    def _on_bg(self, app_id: str) -> None:
        self._on_bg_timer(self.ctx.app(app_id), self._rec(app_id))

    def _on_begin(self, key: tuple[str, str]) -> None:
        rec = self._rec(key[0])
        req = rec.requests.get(key[1])
        if req is not None:
            self._try_launch(self.ctx.app(key[0]), rec, req)

    def _on_launch(self, key: tuple[str, str]) -> None:
        self._on_launch_timer(self.ctx.app(key[0]), self._rec(key[0]), key[1])

    def _on_bg_timer(self, app: App, rec: _AppRecord) -> None:
        running = [t for t in rec.bg.values() if t.state == "running"]
        if running:
            deadline = self._bg_deadline(rec)
            for task in running:
                task.state = "expired"
                self.ctx.emit("expire", app, task.task_id, reason="time_limit", deadline=deadline)
            rec.bg_grace_until = self.ctx.now + self.limits.terminate_grace_s
            self._bg_timers.arm(app.id, rec.bg_grace_until)
        elif rec.bg:
            first = next(iter(rec.bg.values()))
            self._terminate(app, rec, first.task_id, "not_ended")

    # -- debug verbs (Xcode's LLDB commands on BGTaskScheduler) --------------------------------
    def force_run(self, app: App, task_id: str) -> dict[str, Any]:
        """``e -l objc -- (void)[[BGTaskScheduler sharedScheduler]
        _simulateLaunchForTaskWithIdentifier:@"<id>"]``: launch a submitted request now, earliest
        begin and every hold-back notwithstanding."""
        rec = self._rec(app.id)
        if task_id in rec.launches:
            raise invalid_state(app, task_id, rec.launches[task_id].state, "submitted (pending)")
        req = rec.requests.get(task_id)
        if req is None:
            raise unknown_task(app, task_id)
        self._launch(app, rec, req)
        launch = rec.launches[task_id]
        return {"state": launch.state, "deadline": launch.deadline}

    def force_expire(self, app: App, task_id: str) -> dict[str, Any]:
        """``_simulateExpirationForTaskWithIdentifier:``: a launched task's expiration handler
        runs now (``expire``, then ``terminate`` unless ``set_task_completed`` comes in
        ``terminate_grace_s``). For a ``bg-N`` task, the app's shared background time runs out
        (every open background task expires, as ``backgroundTimeRemaining`` is one budget)."""
        rec = self._rec(app.id)
        if _BG_TASK_RE.match(task_id):
            task = rec.bg.get(int(task_id[3:]))
            if task is None:
                raise unknown_task(app, task_id)
            if task.state != "running":
                raise invalid_state(app, task_id, task.state, "running")
            self._on_bg_timer(app, rec)
            return {"state": task.state, "terminate_at": rec.bg_grace_until}
        launch = rec.launches.get(task_id)
        if launch is None:
            if task_id in rec.requests:
                raise invalid_state(app, task_id, rec.requests[task_id].state, "running")
            raise unknown_task(app, task_id)
        if launch.state != "running":
            raise invalid_state(app, task_id, launch.state, "running")
        self._on_launch_timer(app, rec, task_id)
        return {"state": launch.state, "terminate_at": launch.grace_until}

    def _on_launch_timer(self, app: App, rec: _AppRecord, ident: str) -> None:
        launch = rec.launches.get(ident)
        if launch is None:
            return
        if launch.state == "running":
            launch.state, launch.reason = "expired", "time_limit"
            launch.grace_until = self.ctx.now + self.limits.terminate_grace_s
            self._running.discard((app.id, ident))
            self._launch_timers.arm((app.id, ident), launch.grace_until)
            self.ctx.emit("expire", app, ident, reason="time_limit", deadline=launch.deadline)
        else:
            self._terminate(app, rec, ident, "not_completed")

    def on_signals(self, old: Signals, new: Signals, changed: frozenset[str]) -> None:
        lost: list[str] = []
        gained: list[str] = []
        if self._device_hold(old) is not None and self._device_hold(new) is None:
            gained.append("hold")
        if not changed.isdisjoint(_HOLD_SIGNALS):  # else no processing condition can differ
            before, after = _holds(old), _holds(new)
            for name in ("idle", "power", "network"):
                if (before[name] is True) != (after[name] is True):  # unknown holds no condition
                    (gained if after[name] is True else lost).append(name)
            for name in lost:
                for app_id, ident in sorted(_keys(self._running.affected((name,)))):
                    rec = self._rec(app_id)
                    launch = rec.launches.get(ident)
                    if launch is not None and launch.state == "running":
                        self._revoke(self.ctx.app(app_id), rec, launch, *_lost_reason(name, after))
        if gained:
            for app_id, ident in sorted(_keys(self._waiting.affected(gained))):
                rec = self._rec(app_id)
                req = rec.requests.get(ident)
                if req is not None:
                    self._try_launch(self.ctx.app(app_id), rec, req)

    def on_resume(self) -> None:
        """BGTaskScheduler requests are re-checked against the live signals: a running processing
        task whose condition is gone gets ``revoke``, a held-back request may start. Background
        tasks (``beginBackgroundTask``) live in the app process and were dropped
        (``restart_losses``)."""
        holds = _holds(self.ctx.signals)
        for app_id in sorted(self._apps):
            rec = self._apps[app_id]
            app = self.ctx.app(app_id)
            for ident in sorted(rec.launches):
                launch = rec.launches[ident]
                if launch.state != "running":
                    continue
                for name in ("idle", "power", "network"):
                    if holds[name] is not True and (app_id, ident) in self._running.affected(
                            (name,)):
                        self._revoke(app, rec, launch, *_lost_reason(name, holds))
                        break
            for req in list(rec.requests.values()):
                if rec.requests.get(req.identifier) is req:
                    self._try_launch(app, rec, req)

    def restart_losses(self) -> list[tuple[str, str]]:
        """Every ``beginBackgroundTask`` task: it belongs to the app process a restart ends."""
        return sorted((a, t.task_id) for a, rec in self._apps.items() for t in rec.bg.values())

    def drop_task(self, app: App, task_id: str | None) -> None:
        rec = self._apps.get(app.id)
        if rec is None:
            return
        for number in [n for n, t in rec.bg.items() if task_id in (None, t.task_id)]:
            del rec.bg[number]
        if not rec.bg:
            self._bg_timers.cancel(app.id)
        for ident in [i for i in rec.requests if task_id in (None, i)]:
            self._drop_request(app.id, rec, ident)
        for ident in [i for i in rec.launches if task_id in (None, i)]:
            self._running.discard((app.id, ident))
            self._end_launch(app.id, rec, ident)

    # -- views and persistence ---------------------------------------------------------------
    def _time_remaining(self, app: App, rec: _AppRecord) -> float | None:
        deadline = self._bg_deadline(rec)
        if deadline is None or app.state == "foreground":
            return None
        return max(0.0, deadline - self.ctx.now)

    def tasks(self, app: App) -> dict[str, dict[str, Any]]:
        rec = self._apps.get(app.id)
        if rec is None:
            return {}
        out: dict[str, dict[str, Any]] = {}
        if rec.enter_state is not None:
            out[DID_ENTER_BACKGROUND] = {
                "task_id": DID_ENTER_BACKGROUND, "kind": DID_ENTER_BACKGROUND,
                "state": rec.enter_state, "started": rec.window_start,
                "deadline": rec.enter_deadline}
        bg_deadline = None if app.state == "foreground" else self._bg_deadline(rec)
        for task in rec.bg.values():
            out[task.task_id] = {"task_id": task.task_id, "kind": "background_task",
                                 "identifier": task.number, "name": task.name,
                                 "state": task.state, "started": task.started,
                                 "deadline": bg_deadline}
        for ident, launch in rec.launches.items():
            out[ident] = launch.view()
        for ident, req in rec.requests.items():
            if ident in out:
                out[ident]["next"] = req.view()  # resubmitted while the started one runs
            else:
                out[ident] = req.view()
        return out

    def status(self, app: App) -> dict[str, Any]:
        rec = self._rec(app.id)
        pending = {"refresh": 0, "processing": 0}
        for req in rec.requests.values():
            pending[req.type] += 1
        return {"tasks": self.tasks(app),
                "background_time_remaining": self._time_remaining(app, rec),
                "background_app_refresh": bool(app.settings.get("background_app_refresh", True)),
                "pending": pending}

    def dump(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for app_id, rec in self._apps.items():
            out[app_id] = {
                "swiped": rec.swiped, "window_start": rec.window_start,
                "enter_state": rec.enter_state, "enter_deadline": rec.enter_deadline,
                "next_bg": rec.next_bg, "bg_grace_until": rec.bg_grace_until,
                "bg": [{"number": t.number, "name": t.name, "started": t.started, "state": t.state}
                       for t in rec.bg.values()],
                "requests": [r.to_dict() for r in rec.requests.values()],
                "launches": [launch.to_dict() for launch in rec.launches.values()],
                "last_push_launch": rec.last_push_launch, "pending_pushes": rec.pending_pushes,
                "push_payload": rec.push_payload, "transfers": dict(rec.transfers),
            }
        return {"apps": out}

    def load(self, data: dict[str, Any]) -> None:
        """Restore apps; pending requests are re-checked at their earliest begin (no second wake
        for a task that already started)."""
        for app_id, raw in data.get("apps", {}).items():
            rec = self._rec(app_id)
            rec.swiped = bool(raw.get("swiped", False))
            rec.window_start = raw.get("window_start")
            rec.enter_state = raw.get("enter_state")
            rec.enter_deadline = raw.get("enter_deadline")
            rec.next_bg = int(raw.get("next_bg", 0))
            rec.bg_grace_until = raw.get("bg_grace_until")
            for t in raw.get("bg", []):
                rec.bg[t["number"]] = _BackgroundTask(t["number"], t["name"], t["started"], t["state"])
            for r in raw.get("requests", []):
                req = _Request(app_id, r["identifier"], r["type"], r["earliest_begin"],
                               r["requires_external_power"], r["requires_network_connectivity"],
                               r["submitted"])
                rec.requests[req.identifier] = req
                at = req.earliest_begin if req.earliest_begin is not None else req.submitted
                self._begin_timers.arm((app_id, req.identifier), at)
            for r in raw.get("launches", []):
                launch = _Launch(app_id, r["identifier"], r["type"], r["started"], r["deadline"],
                                 r["requires_external_power"], r["requires_network_connectivity"],
                                 r["state"], r.get("reason"), r.get("grace_until"))
                rec.launches[launch.identifier] = launch
                key = (app_id, launch.identifier)
                if launch.state != "running" and launch.grace_until is not None:
                    self._launch_timers.arm(key, launch.grace_until)
                elif launch.state == "running":
                    if launch.deadline is not None:
                        self._launch_timers.arm(key, launch.deadline)
                    if launch.type == "processing":
                        self._running.add((app_id, launch.identifier), _needs(launch))
            rec.last_push_launch = raw.get("last_push_launch")
            rec.pending_pushes = int(raw.get("pending_pushes", 0))
            rec.push_payload = raw.get("push_payload")
            if rec.pending_pushes:
                last = rec.last_push_launch
                self._push_timers.arm(app_id, self.ctx.now if last is None
                                      else last + self.limits.push_cadence_s)
            for session, done_at in raw.get("transfers", {}).items():
                rec.transfers[session] = float(done_at)
                self._transfer_timers.arm((app_id, session), float(done_at))
            if rec.enter_state == "running" and rec.enter_deadline is not None:
                self._enter_timers.arm(app_id, rec.enter_deadline)
            if rec.bg:
                if rec.bg_grace_until is not None:
                    self._bg_timers.arm(app_id, rec.bg_grace_until)
                else:
                    deadline = self._bg_deadline(rec)
                    if deadline is not None:
                        self._bg_timers.arm(app_id, deadline)


def _needs(launch: _Launch) -> tuple[str, ...]:
    """Conditions whose loss revokes a running processing task."""
    return ("idle",
            *(("power",) if launch.requires_power else ()),
            *(("network",) if launch.requires_network else ()))


def _keys(keys: Iterable[Hashable]) -> list[tuple[str, str]]:
    return [k for k in keys if isinstance(k, tuple)]


def _holds(s: Signals) -> dict[str, bool | None]:
    """Whether each processing condition holds: True, False, or None when its signal is unknown."""
    return {"idle": None if s.idle is None else s.idle,
            "power": None if s.charger is None else s.charger != "none",
            "network": None if s.network is None else s.network != "none"}


def _lost_reason(name: str, holds: dict[str, bool | None]) -> tuple[str, dict[str, Any] | None]:
    """Revoke reason (and data) of a processing task losing condition ``name``."""
    if holds[name] is None:
        return SIGNAL_UNKNOWN, {"unknown": [_READS[name]]}
    return _REVOKE_REASON[name], None
