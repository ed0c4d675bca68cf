"""Android WorkManager on JobScheduler: ``enqueue`` / ``cancel`` / ``finish``, constraints, buckets.

Sources: ``reference/platform-budgets.md`` section 2 (developer.android.com pages for
``androidx.work.NetworkType``, ``Constraints``, ``PeriodicWorkRequest``, ``Worker``,
``WorkRequest``; topic/performance/appstandby and power-details), and the AOSP / androidx code
named next to each constant.

Verbs:

* ``enqueue``: ``type`` (``one_time`` default | ``periodic``), ``id`` (``[a-z0-9_-]``; else
  ``work-N``), ``repeat_interval`` (periodic, **seconds**; or ``repeat_interval_ms``),
  ``flex_interval`` / ``flex_interval_ms``, ``initial_delay`` / ``initial_delay_ms``,
  ``backoff_policy`` (``exponential`` default | ``linear``), ``backoff_delay`` /
  ``backoff_delay_ms`` and ``constraints``: ``required_network_type`` (``not_required``,
  ``connected``, ``unmetered``, ``not_roaming``, ``metered``, ``temporarily_unmetered``),
  ``requires_charging``, ``requires_battery_not_low``, ``requires_storage_not_low``,
  ``requires_device_idle``. Seconds are wakebench's choice of unit (WorkManager takes a
  ``TimeUnit``); every ``*_ms`` twin takes milliseconds.
* ``cancel`` (``id``): ``cancelWorkById``; a running worker is stopped (no event, the app asked).
* ``finish`` (``id``, ``result``: ``success`` | ``retry`` | ``failure``): the worker returns its
  ``Result``.
* ``register`` takes ``bucket``: ``exempted`` / ``active`` (default) / ``working_set`` /
  ``frequent`` / ``rare`` / ``restricted`` (or the numbers 5 / 10 / 20 / 30 / 40 / 45).

Timing (wakebench's reading of androidx ``WorkSpec.calculateNextRunTime``): a one-time work is
eligible ``initial_delay`` after ``enqueue``; a periodic work first ``initial_delay`` (plus
``interval - flex`` when a flex is set) after ``enqueue``, then ``repeat_interval`` after each
run ends with ``success`` or ``failure``. ``retry`` and an interrupted run (``expire`` /
``revoke``) re-enqueue with backoff: ``backoff_delay × 2^(attempt-1)`` (exponential) or
``× attempt`` (linear), capped at 5 h. Intervals below 15 min are clamped to 15 min and flex to
[5 min, interval], with WorkManager's own warning text in the response's ``warnings``.

Constraints gate every run ("won't run until met even when the period has elapsed") on the
effective signals: network ``connected`` = any network, ``unmetered`` = not ``metered``,
``not_roaming`` = not ``roaming``, ``metered`` = ``metered``, ``temporarily_unmetered`` =
``cellular`` that is currently not ``metered`` (the bench's only "generally metered, currently
unmetered" network); charging = a charger attached (``charger`` signal); battery not low =
AOSP ``BatteryService`` hysteresis (low at <= 15 % on battery, not low again at >= 20 % or on a
charger); storage not low = not ``storage_low``; device idle = ``idle``. A running worker is
stopped with ``revoke`` when one is lost: ``network_lost``, ``charger_removed``,
``battery_low``, ``storage_low``, ``user_active`` (idle lost), or ``app_crashed`` after the
common verb ``crash`` (then rescheduled with backoff, as JobScheduler reschedules a job whose
process died). At 10 minutes it gets ``expire`` with reason ``timeout``.

Standby-bucket job quotas (official pre-Android-13 table, developer.android.com/topic/
performance/power/power-details, reference section 2):

=============  ============================
bucket         jobs
=============  ============================
exempted       no restriction
active         no restriction
working_set    10 min every 2 h
frequent       10 min every 8 h
rare           10 min every 24 h
restricted     once per day
=============  ============================

Restrictions apply only on battery (developer.android.com/topic/performance/appstandby): on a
charger there are "no execution limits except for restricted standby bucket". wakebench models
a window per interval: the first run counted on battery opens it; execution time (while at
least one of the app's workers runs on battery) is summed in it; when the 10 minutes are used
up, running workers get ``revoke`` with reason ``quota`` and waiting work runs when the window
closes and a new one opens. ``restricted`` allows one run per 24 h window, charging or not.

Cost: a signal change re-evaluates only the works it can start or stop (a waiting work is
indexed under the constraints that block it, a running one under all of its constraints, a work
waiting for a delay, backoff or quota window under none).

Not modelled: Doze maintenance windows, expedited work, content-URI triggers, unique-work
policies, the newer (Android 13+) quota values (UNCONFIRMED in the reference).

Over 500 lines on purpose, like every platform module: one platform's rules, its verbs'
argument declarations (generated into asyncapi.yaml and docs/verbs.md) and its dump / load
read top to bottom beside the seed they implement (docs/seed-rules.md); what platforms share
lives in ``firmware_sim`` (timers, work queue, verb argument types).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

from firmware_sim.compiled import mypyc_attr
from firmware_sim.errors import RequestError
from firmware_sim.events import EventType
from firmware_sim.limits import Limits
from firmware_sim.platforms.android_spec import (  # noqa: F401  (some only re-exported: tests and bench import them from here)
    _NO_CONSTRAINTS,
    BACKOFF_POLICIES,
    BUCKETS,
    DOCS,
    NETWORK_TYPES,
    POWER_DETAILS,
    RESULTS,
    WORK_TYPES,
    AndroidLimits,
    CancelArgs,
    ConstraintsArgs,
    EnqueueArgs,
    FinishArgs,
    RegisterArgs,
)
from firmware_sim.policy import (
    App,
    Context,
    Policy,
    TimerMap,
    app_label,
    invalid_state,
    unknown_task,
)
from firmware_sim.signals import SIGNAL_UNKNOWN, Signals
from firmware_sim.verbargs import bad_arg
from firmware_sim.workqueue import WorkQueue, unknown_key

#: Signals a network constraint reads (their change may flip ``network:<type>`` keys).
_NETWORK_SIGNALS: Final = frozenset({"network", "metered", "roaming"})
UNLIMITED_BUCKETS: Final = frozenset({"exempted", "active"})
TIME_QUOTA_BUCKETS: Final = frozenset({"working_set", "frequent", "rare"})
DEFAULT_BUCKET: Final = "active"

_INTERVAL_WARNING: Final = "Interval duration lesser than minimum allowed value; Changed to {}"
_FLEX_MIN_WARNING: Final = "Flex duration lesser than minimum allowed value; Changed to {}"
_FLEX_MAX_WARNING: Final = "Flex duration greater than interval duration; Changed to {}"
_BACKOFF_MIN_WARNING: Final = "Backoff delay duration less than minimum value"
_BACKOFF_MAX_WARNING: Final = "Backoff delay duration exceeds maximum value"

#: Highest exponent of the exponential backoff: 2**64 × the 10 s minimum delay is far beyond the
#: 5 h ``max_backoff_s`` cap, and 2.0**64 is a finite float (2.0**1024 is not).
MAX_BACKOFF_DOUBLINGS: Final = 64

#: Constraint → derived signal it is indexed under → revoke reason when lost (in this order).
_CONSTRAINTS: Final = (
    ("requires_charging", "charging", "charger_removed"),
    ("required_network_type", "network", "network_lost"),
    ("requires_battery_not_low", "battery_not_low", "battery_low"),
    ("requires_storage_not_low", "storage", "storage_low"),
    ("requires_device_idle", "idle", "user_active"),
)
#: Signals each index key's constraint reads: while one is unknown the constraint is unmet
#: (issue 9). Battery-not-low reads the charger too (AOSP: never low on a charger).
_READS: Final = {"charging": ("charger",), "battery_not_low": ("battery_level", "charger"),
                 "storage": ("storage_low",), "idle": ("idle",),
                 "network:connected": ("network",), "network:unmetered": ("network", "metered"),
                 "network:not_roaming": ("network", "roaming"),
                 "network:metered": ("network", "metered"),
                 "network:temporarily_unmetered": ("network", "metered")}


#: ``revoke`` reason of a running worker whose app crashed (common verb ``crash``).
CRASHED: Final = "app_crashed"


@dataclass(slots=True)
class _Work:
    """One WorkRequest and its state: ``enqueued`` or ``running`` (finished work is dropped)."""

    app: str
    id: str
    periodic: bool
    interval_s: float | None
    flex_s: float | None
    initial_delay_s: float
    backoff_policy: str
    backoff_s: float
    constraints: dict[str, Any]
    enqueued_at: float
    eligible_at: float
    state: str = "enqueued"
    run_attempt_count: int = 0
    period_count: int = 0
    started: float | None = None
    deadline: float | None = None
    #: derived signal keys its constraints depend on (``charging``, ``network:unmetered``, ...)
    watched: frozenset[str] = field(default_factory=frozenset)
    #: keys it is indexed under now: none while a timer gates it (delay, backoff, quota window)
    indexed: frozenset[str] = field(default_factory=frozenset)

    def to_dump(self) -> dict[str, Any]:
        return {"app": self.app, "id": self.id, "periodic": self.periodic,
                "interval_s": self.interval_s, "flex_s": self.flex_s,
                "initial_delay_s": self.initial_delay_s, "backoff_policy": self.backoff_policy,
                "backoff_s": self.backoff_s, "constraints": self.constraints,
                "enqueued_at": self.enqueued_at, "eligible_at": self.eligible_at,
                "state": self.state, "run_attempt_count": self.run_attempt_count,
                "period_count": self.period_count, "started": self.started,
                "deadline": self.deadline}

    @classmethod
    def from_dump(cls, raw: dict[str, Any]) -> _Work:
        keys = ("app", "id", "periodic", "interval_s", "flex_s", "initial_delay_s",
                "backoff_policy", "backoff_s", "constraints", "enqueued_at", "eligible_at",
                "state", "run_attempt_count", "period_count", "started", "deadline")
        return cls(**{k: raw[k] for k in keys if k in raw})


@dataclass(slots=True)
class _Quota:
    """An app's standby-bucket quota window."""

    window_start: float | None = None
    used_s: float = 0.0
    runs: int = 0
    accrue_since: float | None = None  # a worker of the app runs on battery since then

    def to_dump(self) -> dict[str, Any]:
        return {"window_start": self.window_start, "used_s": self.used_s, "runs": self.runs,
                "accrue_since": self.accrue_since}


def _seconds(seconds: float | None, millis: float | None) -> float | None:
    """A duration given in seconds or in milliseconds (:class:`EnqueueArgs` refuses both)."""
    if millis is not None:
        return millis / 1000.0
    return seconds


@mypyc_attr(allow_interpreted_subclasses=True)  # tests subclass it to inject faults
class AndroidPolicy(Policy):
    """WorkManager: constraints, periodic minimum, 10-minute workers, standby-bucket quotas."""

    platform = "android"
    limits_type = AndroidLimits
    limits: AndroidLimits
    watched = frozenset({"network", "metered", "roaming", "charger", "battery_level",
                         "storage_low", "idle"})

    def __init__(self, ctx: Context, limits: Limits) -> None:
        super().__init__(ctx, limits)
        self._queue: WorkQueue[_Work, tuple[str, str]] = WorkQueue(
            ctx, self, waiting_state="enqueued")
        self._works = self._queue.works
        self._by_app = self._queue.by_app
        self._running: dict[str, set[str]] = {}
        self._quota: dict[str, _Quota] = {}
        self._quota_timers: TimerMap[str] = TimerMap(ctx, self._on_quota_used, app_label)
        self._next_id: dict[str, int] = {}
        s = ctx.signals
        self._battery_low = (s.charger == "none" and s.battery_level is not None
                             and s.battery_level <= self.limits.battery_low_level)

    # -- register ----------------------------------------------------------------------------
    def configure_app(self, app: App, args: RegisterArgs) -> None:
        """``bucket``: the app's standby bucket."""
        app.settings["bucket"] = args.bucket or app.settings.get("bucket", DEFAULT_BUCKET)

    def on_app_configured(self, app: App) -> None:
        """A new bucket may open (or close) the quota gate: re-check the app's works."""
        if self._by_app.get(app.id):
            self._queue.evaluate_app(app.id)

    # -- verbs -------------------------------------------------------------------------------
    def verb_enqueue(self, app: App, args: EnqueueArgs) -> dict[str, Any]:
        """Enqueue a one-time or periodic WorkRequest."""
        work_id = args.id
        interval = _seconds(args.repeat_interval, args.repeat_interval_ms)
        flex = _seconds(args.flex_interval, args.flex_interval_ms)
        delay = _seconds(args.initial_delay, args.initial_delay_ms) or 0.0
        policy = args.backoff_policy
        backoff = _seconds(args.backoff_delay, args.backoff_delay_ms)
        constraints = (args.constraints or _NO_CONSTRAINTS).model_dump()
        periodic = args.type == "periodic"
        if periodic and interval is None:
            raise bad_arg(self.args_code, "repeat_interval", "is required for periodic work (seconds)")
        if not periodic:
            for name, value in (("repeat_interval", interval), ("flex_interval", flex)):
                if value is not None:
                    raise bad_arg(self.args_code, name, "applies to periodic work only (type: periodic)")
        warnings: list[str] = []
        lim = self.limits
        if interval is not None and interval < lim.min_periodic_interval_s:
            interval = lim.min_periodic_interval_s
            warnings.append(_INTERVAL_WARNING.format(_ms(interval)))
        if periodic and flex is not None and interval is not None:
            if flex < lim.min_periodic_flex_s:
                flex = lim.min_periodic_flex_s
                warnings.append(_FLEX_MIN_WARNING.format(_ms(flex)))
            if flex > interval:
                flex = interval
                warnings.append(_FLEX_MAX_WARNING.format(_ms(flex)))
        if backoff is None:
            backoff = lim.backoff_delay_s
        elif backoff < lim.min_backoff_s:
            backoff = lim.min_backoff_s
            warnings.append(_BACKOFF_MIN_WARNING)
        elif backoff > lim.max_backoff_s:
            backoff = lim.max_backoff_s
            warnings.append(_BACKOFF_MAX_WARNING)
        if work_id is None:
            work_id = self._new_id(app.id)
        if (app.id, work_id) in self._works:
            raise RequestError("work_exists",
                               f"work {work_id!r} of app {app.id!r} is still enqueued or running; "
                               "cancel it first or use another id", {"id": work_id})
        now = self.ctx.now
        eligible = now + delay
        if periodic and flex is not None and interval is not None and flex < interval:
            eligible += interval - flex
        work = _Work(app=app.id, id=work_id, periodic=periodic, interval_s=interval, flex_s=flex,
                     initial_delay_s=delay, backoff_policy=policy, backoff_s=backoff,
                     constraints=constraints, enqueued_at=now, eligible_at=eligible)
        self._add(work)
        self._queue.try_start(work)
        out = self._view(work)
        out["warnings"] = warnings
        return out

    def verb_cancel(self, app: App, args: CancelArgs) -> dict[str, Any]:
        """``cancelWorkById``: drop the work; a running worker is stopped without an event."""
        work = self._find(app, args.id)
        was_running = work.state == "running"
        if was_running:
            self._stop_running(work)
        self._remove(work)
        return {"id": work.id, "state": "cancelled", "stopped": was_running}

    def verb_finish(self, app: App, args: FinishArgs) -> dict[str, Any]:
        """The running worker returns ``Result.success()`` / ``retry()`` / ``failure()``."""
        work = self._find(app, args.id)
        result = args.result
        if work.state != "running":
            raise RequestError("work_not_running",
                               f"work {work.id!r} is not running (state {work.state}); finish "
                               "answers a wake, and a stopped worker's result is ignored",
                               {"id": work.id})
        self._stop_running(work)
        now = self.ctx.now
        if result == "retry":
            work.eligible_at = now + self._backoff(work)
            state = "enqueued"
        elif work.periodic:
            work.period_count += 1
            work.run_attempt_count = 0
            work.eligible_at = now + (work.interval_s or 0.0)
            state = "enqueued"
        else:
            self._remove(work)
            return {"id": work.id, "state": "succeeded" if result == "success" else "failed"}
        self._queue.try_start(work)
        return {"id": work.id, "state": state, "next_run": work.eligible_at}

    # -- argument helpers --------------------------------------------------------------------
    def _new_id(self, app_id: str) -> str:
        """``work-N``, skipping ids the app chose itself."""
        while True:
            n = self._next_id.get(app_id, 0) + 1
            self._next_id[app_id] = n
            if (app_id, f"work-{n}") not in self._works:
                return f"work-{n}"

    def _find(self, app: App, work_id: str) -> _Work:
        work = self._works.get((app.id, work_id))
        if work is None:
            raise RequestError("unknown_task",
                               f"app {app.id!r} has no enqueued or running work {work_id!r}",
                               {"id": work_id})
        return work

    # -- bookkeeping -------------------------------------------------------------------------
    def _add(self, work: _Work) -> None:
        work.watched = _watched(work.constraints)
        self._queue.add(work, work.id)

    def _remove(self, work: _Work) -> None:
        self._queue.remove(work, work.id)

    # -- constraints -------------------------------------------------------------------------
    def _unmet(self, work: _Work, s: Signals) -> list[str]:
        """Revoke reasons of the constraints the signals do not satisfy now."""
        c = work.constraints
        out: list[str] = []
        if c["requires_charging"] and s.charger == "none":
            out.append("charger_removed")
        if not _network_ok(c["required_network_type"], s):
            out.append("network_lost")
        if c["requires_battery_not_low"] and self._battery_low:
            out.append("battery_low")
        if c["requires_storage_not_low"] and s.storage_low:
            out.append("storage_low")
        if c["requires_device_idle"] and not s.idle:
            out.append("user_active")
        return out

    def _backoff(self, work: _Work) -> float:
        """Backoff before the next attempt, never above ``max_backoff_s`` (5 h).

        The exponent is capped at :data:`MAX_BACKOFF_DOUBLINGS` before it is raised: a worker
        that always returns ``retry`` reaches 1024 attempts after ~214 days, where ``2.0 **
        1023`` would overflow a float (issue 8); the cap is reached long before the exponent.
        """
        attempts = max(work.run_attempt_count, 1)
        if work.backoff_policy == "linear":
            delay = work.backoff_s * attempts
        else:
            delay = work.backoff_s * 2.0 ** min(attempts - 1, MAX_BACKOFF_DOUBLINGS)
        return min(delay, self.limits.max_backoff_s)

    # -- quotas ------------------------------------------------------------------------------
    def _bucket(self, app_id: str) -> str:
        return str(self.ctx.app(app_id).settings.get("bucket", DEFAULT_BUCKET))

    def _on_battery(self) -> bool:
        """On battery, or the charger is unknown (quotas apply: no guess lifts them)."""
        return self.ctx.signals.charger in ("none", None)

    def _fold(self, q: _Quota) -> None:
        """Add the running accrual to ``used_s`` (accrual continues from now)."""
        if q.accrue_since is not None:
            q.used_s += self.ctx.now - q.accrue_since
            q.accrue_since = self.ctx.now

    def _quota_state(self, app_id: str) -> _Quota:
        """The app's quota, with an expired window closed (and a new one opened if running)."""
        q = self._quota.setdefault(app_id, _Quota())
        now = self.ctx.now
        if q.window_start is not None and now >= q.window_start + self.limits.window_s(
                self._bucket(app_id)):
            running = q.accrue_since is not None
            q.window_start = now if running else None
            q.used_s, q.runs = 0.0, 0
            q.accrue_since = now if running else None
        return q

    def _quota_wait(self, app_id: str) -> float | None:
        """None if the app may start a worker now, else when its quota window ends."""
        bucket = self._bucket(app_id)
        if bucket in UNLIMITED_BUCKETS:
            return None
        q = self._quota_state(app_id)
        end = None if q.window_start is None else q.window_start + self.limits.window_s(bucket)
        if bucket == "restricted":
            return end if q.runs >= 1 else None
        if bucket not in TIME_QUOTA_BUCKETS or not self._on_battery():
            return None
        self._fold(q)
        return end if q.used_s >= self.limits.bucket_execution_s else None

    def _accrue(self, app_id: str) -> None:
        """Start counting battery execution time for the app, if its bucket counts it."""
        if self._bucket(app_id) not in TIME_QUOTA_BUCKETS or not self._on_battery():
            return
        q = self._quota_state(app_id)
        if q.accrue_since is None:
            q.accrue_since = self.ctx.now
            if q.window_start is None:
                q.window_start = self.ctx.now
        left = self.limits.bucket_execution_s - q.used_s - (self.ctx.now - q.accrue_since)
        self._quota_timers.arm(app_id, self.ctx.now + max(left, 0.0))

    def _stop_accrual(self, app_id: str) -> None:
        q = self._quota.get(app_id)
        if q is not None and q.accrue_since is not None:
            self._fold(q)
            q.accrue_since = None
        self._quota_timers.cancel(app_id)

    def _quota_end(self, app_id: str) -> float | None:
        """When the app's running workers run out of quota, if it is being counted."""
        return self._quota_timers.when(app_id)

    # -- scheduling --------------------------------------------------------------------------
    # The work queue's rules (firmware_sim.workqueue.Rules): Android's gates and names.
    def key(self, work: _Work) -> tuple[str, str]:
        return (work.app, work.id)

    def task_id(self, work: _Work) -> str:
        return work.id

    def not_before(self, work: _Work) -> float:
        """Delay, backoff or next period."""
        return work.eligible_at

    def unmet(self, work: _Work, signals: Signals) -> list[str]:
        return self._unmet(work, signals)

    def reads(self, work: _Work) -> frozenset[str]:
        return frozenset(n for key in work.watched for n in _READS.get(key, ()))

    def on_unknown(self, work: _Work, unknown: list[str]) -> None:
        """A constraint's signal is unknown: stopped as a lost constraint is (reason
        ``signal_unknown``, ``data.unknown``), re-enqueued with backoff."""
        self._interrupt(work, "revoke", SIGNAL_UNKNOWN, data={"unknown": unknown})

    def index_key(self, work: _Work, condition: str) -> str:
        """Index key of the constraint whose loss is named ``condition`` (a revoke reason)."""
        for _, derived, lost in _CONSTRAINTS:
            if lost == condition:
                if derived == "network":
                    return f"network:{work.constraints['required_network_type']}"
                return derived
        raise KeyError(condition)  # pragma: no cover - _unmet only returns _CONSTRAINTS reasons

    def policy_wait(self, work: _Work) -> tuple[float | None, frozenset[str]] | None:
        """The standby-bucket quota: a charger lifts time quotas (not restricted's once a day),
        else the window's end."""
        wait = self._quota_wait(work.app)
        if wait is None:
            return None
        lifts = self._bucket(work.app) in TIME_QUOTA_BUCKETS
        return wait, frozenset({"power"}) if lifts else frozenset()

    def budget_s(self, work: _Work) -> float:
        return self.limits.execution_s

    def on_started(self, work: _Work) -> None:
        now = self.ctx.now
        work.run_attempt_count += 1
        running = self._running.setdefault(work.app, set())
        running.add(work.id)
        bucket = self._bucket(work.app)
        if bucket == "restricted":
            q = self._quota_state(work.app)
            q.window_start = now if q.window_start is None else q.window_start
            q.runs += 1
        self._accrue(work.app)
        stop_at = work.deadline
        quota_end = self._quota_end(work.app)
        if quota_end is not None and stop_at is not None:
            stop_at = min(stop_at, quota_end)
        self.ctx.emit("wake", self.ctx.app(work.app), work.id, deadline=stop_at,
                      data={"run_attempt_count": work.run_attempt_count,
                            "period_count": work.period_count, "periodic": work.periodic})

    def on_timeout(self, work: _Work) -> None:
        self._interrupt(work, "expire", "timeout")

    # -- debug verbs -------------------------------------------------------------------------
    def force_run(self, app: App, task_id: str) -> dict[str, Any]:
        """``adb shell cmd jobscheduler run -f``: run an enqueued work now, constraints, delay,
        backoff and bucket quota notwithstanding."""
        work = self._works.get((app.id, task_id))
        if work is None:
            raise unknown_task(app, task_id)
        if work.state != "enqueued":
            raise invalid_state(app, task_id, work.state, "enqueued")
        self._queue.force_start(work)
        return {"state": work.state, "deadline": work.deadline}

    def force_expire(self, app: App, task_id: str) -> dict[str, Any]:
        """``adb shell cmd jobscheduler timeout``: a running worker times out now (``expire``,
        reason ``timeout``, rescheduled with backoff)."""
        work = self._works.get((app.id, task_id))
        if work is None:
            raise unknown_task(app, task_id)
        if work.state != "running":
            raise invalid_state(app, task_id, work.state, "running")
        self._queue.force_timeout(work)
        return {"state": work.state, "next_run": work.eligible_at}

    def on_crash(self, app: App) -> None:
        """The app process died: each running worker is stopped (``revoke``, ``app_crashed``) and
        rescheduled as JobScheduler reschedules a job whose service died — with backoff, like
        any interrupted run; nothing is lost, nothing runs on in a dead process."""
        for work_id in sorted(self._running.get(app.id, ())):
            self._interrupt(self._works[(app.id, work_id)], "revoke", CRASHED)

    def on_lost(self, work: _Work, lost: list[str]) -> None:
        self._interrupt(work, "revoke", lost[0])

    def on_index(self, work: _Work, old: frozenset[str], new: frozenset[str]) -> None:
        """Android keeps every index key in the queue's index."""

    def _stop_running(self, work: _Work) -> None:
        """Bookkeeping when a running worker stops, whatever the cause."""
        self._queue.stopped(work)
        running = self._running.get(work.app)
        if running is not None:
            running.discard(work.id)
            if not running:
                del self._running[work.app]
                self._stop_accrual(work.app)

    def _interrupt(self, work: _Work, type_: EventType, reason: str,
                   data: dict[str, Any] | None = None) -> None:
        """Stop a running worker (expire / revoke) and re-enqueue it with backoff."""
        self.ctx.emit(type_, self.ctx.app(work.app), work.id, reason=reason,
                      deadline=work.deadline if type_ == "expire" else None, data=data)
        self._stop_running(work)
        work.eligible_at = self.ctx.now + self._backoff(work)
        self._queue.try_start(work)

    # -- time and signals --------------------------------------------------------------------
    def _on_quota_used(self, app_id: str) -> None:
        q = self._quota_state(app_id)
        if q.accrue_since is None:
            return
        self._fold(q)
        if q.used_s < self.limits.bucket_execution_s or self._bucket(
                app_id) not in TIME_QUOTA_BUCKETS:
            self._accrue(app_id)  # a new window opened (or the bucket changed): keep counting
            return
        now = self.ctx.now
        for work_id in sorted(self._running.get(app_id, ())):
            work = self._works[(app_id, work_id)]
            if work.deadline is not None and work.deadline <= now:
                continue  # its own 10-minute timer fires at this instant: timeout, not quota
            self._interrupt(work, "revoke", "quota")

    def on_signals(self, old: Signals, new: Signals, changed: frozenset[str]) -> None:
        derived: set[str] = set()
        if not changed.isdisjoint(_NETWORK_SIGNALS):
            derived |= {f"network:{t}" for t in NETWORK_TYPES
                        if _network_ok(t, old) != _network_ok(t, new)}
        power_changed = "charger" in changed and (old.charger in ("none", None)) != (
            new.charger in ("none", None))  # unknown charger: quotas apply as on battery
        if power_changed:
            derived |= {"charging", "power"}
            for app_id in sorted(self._running):
                if new.charger in ("none", None):
                    self._accrue(app_id)
                else:
                    self._stop_accrual(app_id)
        if "battery_level" in changed or "charger" in changed:
            low = self._battery_low_now(new)
            if low != self._battery_low:
                self._battery_low = low
                derived.add("battery_not_low")
        if "storage_low" in changed:
            derived.add("storage")
        if "idle" in changed:
            derived.add("idle")
        affected = self._queue.unknown_changed(old, new) if old.stale != new.stale else set()
        if derived:
            affected |= self._queue.affected(derived)  # type: ignore[arg-type]
        if affected:
            self._queue.evaluate(affected)

    def on_resume(self) -> None:
        """WorkManager keeps work across a reboot: every work is re-checked against the live
        signals (a running worker whose constraint no longer holds gets ``revoke``)."""
        s = self.ctx.signals
        self._battery_low = self._battery_low_now(s)
        for app_id in sorted(self._running):
            if s.charger in ("none", None):
                self._accrue(app_id)
            else:
                self._stop_accrual(app_id)
        self._queue.evaluate(list(self._works))

    def drop_task(self, app: App, task_id: str | None) -> None:
        for work_id in sorted(self._by_app.get(app.id, {})):
            if task_id is None or work_id == task_id:
                work = self._works[(app.id, work_id)]
                if work.state == "running":
                    self._stop_running(work)
                self._remove(work)

    def _battery_low_now(self, s: Signals) -> bool:
        """AOSP BatteryService.processValuesLocked hysteresis on ``mBatteryLevelLow``."""
        lim = self.limits
        if s.battery_level is None or s.charger is None:
            return self._battery_low  # unknown: the constraint is unmet anyway (reads)
        if s.charger != "none":
            return False
        if not self._battery_low:
            return s.battery_level <= lim.battery_low_level
        return s.battery_level < lim.battery_low_level + lim.battery_okay_bump

    # -- views and persistence ---------------------------------------------------------------
    def _view(self, work: _Work) -> dict[str, Any]:
        out: dict[str, Any] = {
            "task_id": work.id, "id": work.id,
            "type": "periodic" if work.periodic else "one_time", "state": work.state,
            "run_attempt_count": work.run_attempt_count, "period_count": work.period_count,
            "constraints": dict(work.constraints), "started": work.started,
            "deadline": work.deadline}
        if work.periodic:
            out["repeat_interval"] = work.interval_s
            out["flex_interval"] = work.flex_s if work.flex_s is not None else work.interval_s
        if work.state == "enqueued":
            out["next_run"] = work.eligible_at
            by_reason = {reason: name for name, _, reason in _CONSTRAINTS}
            unknown = sorted(self.reads(work) & self.ctx.signals.stale)
            waiting = ([unknown_key(n) for n in unknown] if unknown
                       else [by_reason[r] for r in self._unmet(work, self.ctx.signals)])
            if work.eligible_at > self.ctx.now:
                waiting.append("time")
            q = self._quota.get(work.app)
            bucket = self._bucket(work.app)
            if bucket not in UNLIMITED_BUCKETS and q is not None and q.window_start is not None:
                over = (q.runs >= 1 if bucket == "restricted"
                        else self._on_battery() and q.used_s >= self.limits.bucket_execution_s)
                if over:
                    waiting.append("quota")
            out["waiting_for"] = waiting
        return out

    def tasks(self, app: App) -> dict[str, dict[str, Any]]:
        works = self._by_app.get(app.id, {})
        return {w: self._view(works[w]) for w in sorted(works)}

    def status(self, app: App) -> dict[str, Any]:
        q = self._quota.get(app.id)
        return {"bucket": self._bucket(app.id), "battery_low": self._battery_low,
                "quota": q.to_dump() if q else None, "tasks": self.tasks(app)}

    def dump(self) -> dict[str, Any]:
        return {"next_id": dict(self._next_id), "battery_low": self._battery_low,
                "quota": {a: q.to_dump() for a, q in self._quota.items()},
                "works": [w.to_dump() for w in self._works.values()]}

    def load(self, data: dict[str, Any]) -> None:
        self._next_id.update({k: int(v) for k, v in data.get("next_id", {}).items()})
        self._battery_low = bool(data.get("battery_low", self._battery_low))
        for app_id, raw in data.get("quota", {}).items():
            self._quota[app_id] = _Quota(**raw)
        for raw in data.get("works", []):
            work = _Work.from_dump(raw)
            work.watched = _watched(work.constraints)
            if self._queue.restore(work, work.id):
                self._running.setdefault(work.app, set()).add(work.id)
        for app_id, q in self._quota.items():
            if q.accrue_since is not None and app_id in self._running:
                left = self.limits.bucket_execution_s - q.used_s - (self.ctx.now - q.accrue_since)
                self._quota_timers.arm(app_id, self.ctx.now + max(left, 0.0))


def _watched(c: dict[str, Any]) -> frozenset[str]:
    """Index keys of a work's constraints (``charging``, ``network:unmetered``, ...)."""
    names = {derived for name, derived, _ in _CONSTRAINTS if c[name] not in (False, "not_required")}
    if "network" in names:
        names.remove("network")
        names.add(f"network:{c['required_network_type']}")
    return frozenset(names)


def _network_ok(required: str, s: Signals) -> bool | None:
    """Whether ``required_network_type`` holds on the signals."""
    if required == "not_required":
        return True
    if s.network == "none":
        return False
    if required == "unmetered":
        return not s.metered
    if required == "not_roaming":
        return not s.roaming
    if required == "metered":
        return s.metered
    if required == "temporarily_unmetered":
        return s.network == "cellular" and not s.metered
    return True  # connected


def _ms(seconds: float) -> int:
    return round(seconds * 1000)
