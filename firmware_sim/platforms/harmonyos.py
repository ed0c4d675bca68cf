"""HarmonyOS / OpenHarmony deferred tasks: ``@ohos.resourceschedule.workScheduler``.

Sources: seed 004 (OpenHarmony "Deferred Task" guide: constraints, Table 1 activity groups,
Table 3 WorkInfo), ``reference/platform-budgets.md`` section 3 (enums, error codes), and the
OpenHarmony sources named next to each constant (``openharmony/resourceschedule_work_scheduler``,
``openharmony/powermgr_battery_manager``).

Verbs (WorkInfo fields in snake_case, camelCase accepted, enums by lowercase name or number):
``start_work`` (a WorkInfo), ``stop_work`` (``work_id`` or ``work: {WorkInfo}``, ``need_cancel``),
``get_work_status`` (``work_id``), ``obtain_all_works``, ``stop_and_clear_works``,
``is_last_work_time_out`` (``work_id``). ``register`` takes ``group`` (activity group, below),
``privileged`` (the app holds the WORK_SCHEDULER efficiency resource) and ``bundle_name``
(the app's bundle; if absent, the first accepted ``start_work`` binds it).

Error codes, as the OpenHarmony sources map them (``utils/native/include/work_sched_errors.h``
and ``interfaces/kits/js/napi/src/common.cpp``; the errorcode-workScheduler doc lists the same
causes):

* ``401`` parameter error: a wrong type, a missing ``work_id`` / ``bundle_name`` /
  ``ability_name``, a negative ``work_id``, an enum or ``battery_level`` out of range, **no
  condition at all** (``E_CONDITION_EMPTY`` is a parameter error), a non-scalar
  ``parameters`` value. wakebench adds, also as ``401``: repeat fields that the real NAPI layer
  would silently ignore or the seed forbids (``is_repeat`` with neither ``repeat_cycle_time``
  nor ``repeat_count``, ``repeat_count`` with neither ``is_repeat`` nor ``repeat_cycle_time``,
  ``repeat_cycle_time`` without ``is_repeat`` or ``repeat_count``), ``charger_type`` without
  ``is_charging: true`` and ``idle_wait_time`` without ``is_deep_idle: true``.
* ``9700004`` "Check on workInfo failed": ``bundle_name`` is not the app's bundle, or the work
  to stop / query does not exist (``E_CHECK_WORKINFO_FAILED``, ``E_WORK_NOT_EXIST_FAILED``).
* ``9700005`` "Calling startWork failed": the work id already exists, the app already holds 10
  works, or ``repeat_cycle_time`` < 20 min (``E_ADD_REPEAT_WORK_ERR``,
  ``E_WORK_EXCEED_UPPER_LIMIT``, ``E_REPEAT_CYCLE_TIME_ERR`` — "StartWork failed. The
  repeatTime must be greater than or equal to 20 minutes.").

Conditions (``WorkStatus::IsReadyInner``), on the effective signals:

* ``network_type``: ``any`` = any network; ``mobile`` = ``cellular``; ``wifi``; ``bluetooth``;
  ``ethernet``. ``wifi_p2p`` is OpenHarmony's Wi-Fi Aware bearer (``network_listener.cpp``:
  ``BEARER_WIFI_AWARE`` → ``NETWORK_TYPE_WIFI_P2P``); the bench's ``network`` signal has no
  such bearer, so a ``wifi_p2p`` work waits (``waiting_for: network``) until you change it.
* ``is_charging: true`` + ``charger_type`` (``plugged_any`` / ``ac`` / ``usb`` / ``wireless``)
  against the ``charger`` signal; ``is_charging: false`` requires *no* charger
  (``CHARGING_UNPLUGGED``, as in the sources).
* ``battery_level``: the battery is at least that level.
* ``battery_status``: ``low`` ⇔ ``battery_level`` <= :attr:`HarmonyOSLimits.battery_low_level`,
  ``okay`` ⇔ above it, ``low_or_okay`` always.
* ``storage_request``: ``low`` ⇔ ``storage_low``, ``okay`` ⇔ not, ``low_or_okay`` always.
* ``is_deep_idle: true``: the ``idle`` signal, held for ``idle_wait_time`` ms;
  ``is_deep_idle: false`` requires the device not idle.
* repeat: a repeating work first runs ``repeat_cycle_time`` after ``start_work`` and then that
  long after each start (``baseTime_`` is refreshed when a run starts); ``repeat_count`` N runs
  it N times (0 behaves as 1); ``is_repeat: true`` without a count repeats forever. The count
  form without a cycle (seed 004: "you must set repeatCycleTime or repeatCount") runs N times,
  each when the conditions and the group interval allow again.

Policy gates: activity group minimum interval between two starts of *any* of the app's works
(seed 004 Table 1; per uid in ``WorkStatus::IsReady``), forbidden for ``restricted`` /
``never_used``; ``exempt`` and ``privileged`` apps are not restricted. A work whose gates all
pass starts at once: ``wake`` (onWorkStart) with the callback deadline.

Callback limit: 2 minutes; privileged apps (``register`` ``privileged: true``) 20 minutes on a
charger, 10 on battery (seed 004). The OpenHarmony sources' 20 minutes for any deep idle +
charger work is the option ``deep_idle_charging_any_app``. Thermal delay: no work starts while
``temperature`` >= ``thermal_delay_c`` (UNCONFIRMED level; not measured = no delay).

A run ends with ``stop_work`` from the app (no event), ``expire`` (reason ``timeout``,
onWorkStop at the callback limit; ``is_last_work_time_out`` then answers true) followed at once
by ``terminate`` (reason ``callback_timeout``: "the system forcibly terminates the process"),
``revoke`` reason ``app_crashed`` after the common verb ``crash``, or ``revoke``
when a condition is lost while running (onWorkStop; reasons ``network_lost``,
``charger_removed``, ``charger_connected``, ``battery_low``, ``battery_okay``, ``storage_low``,
``storage_okay``, ``user_active`` (deep idle lost), ``idle_entered``). A non-repeating work
runs at most once: it is removed when its run ends, however it ends
(``WorkPolicyManager::StopWork``); a repeating one waits for its next cycle.

Persistence: works with ``is_persisted`` are in :meth:`HarmonyOSPolicy.dump` (with their run
state and the app's last start) and come back on :meth:`~HarmonyOSPolicy.load` without a second
``wake``; other works are lost with the scheduler state, as on the device: on
:meth:`~firmware_sim.scheduler.Scheduler.resume` each gets ``unscheduled`` with reason
``restart``, and the persisted ones are re-checked against the live signals.

Cost: a signal change re-evaluates only the works it can start or stop (a waiting work is
indexed under the conditions that block it, battery levels by threshold, a running one under all
of its conditions, a work waiting for its cycle or the group interval under none).

Not modelled: the 3-works-running system cap (``MAX_RUNNING_COUNT``), memory / CPU
policy filters, the 5 s condition-check delay after ``startWork``, the newer charging and
e-mail interval tables of the OpenHarmony spec.

Over 500 lines on purpose, like every platform module: one platform's rules, its verbs'
argument declarations (generated into asyncapi.yaml and docs/verbs.md) and its dump / load
read top to bottom beside the seed they implement (docs/seed-rules.md); what platforms share
lives in ``firmware_sim`` (timers, work queue, verb argument types).
"""

from __future__ import annotations

import bisect
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any, Final, cast

from firmware_sim.errors import RequestError
from firmware_sim.limits import Limits
from firmware_sim.platforms.harmonyos_spec import (  # noqa: F401  (some only re-exported: tests and bench import them from here)
    BATTERY_STATUSES,
    CHARGER_TYPES,
    FORBIDDEN_GROUPS,
    GROUPS,
    NETWORK_TYPES,
    OH_SRC,
    SEED,
    STORAGE_REQUESTS,
    AppWorksArgs,
    HarmonyOSLimits,
    NonEmpty,
    Parameters,
    RegisterArgs,
    StartWorkArgs,
    StopWorkArgs,
    WorkIdArgs,
    WorkRefArgs,
)
from firmware_sim.policy import App, Context, Policy, invalid_state, unknown_task
from firmware_sim.signals import SIGNAL_UNKNOWN, Signals
from firmware_sim.verbargs import bad_arg
from firmware_sim.workqueue import WorkQueue, unknown_key

#: ``terminate`` reason after a callback overran its limit (seed 004 Timeout).
TERMINATE_REASON: Final = "callback_timeout"
#: ``revoke`` reason of a running work whose app crashed (common verb ``crash``).
CRASHED: Final = "app_crashed"

CODE_PARAM: Final = "401"
CODE_CHECK_WORKINFO: Final = "9700004"
CODE_START_WORK: Final = "9700005"

DEFAULT_GROUP: Final = "active"  # a prototype on the bench is being used: wakebench default

#: ``network`` signal value each NetworkType needs (``any``: any but ``none``).
_NETWORK_SIGNAL: Final = {"mobile": "cellular", "wifi": "wifi", "bluetooth": "bluetooth",
                          "ethernet": "ethernet", "wifi_p2p": None}
_NETWORK_KEYS: Final = ("any", "mobile", "wifi", "bluetooth", "ethernet", "wifi_p2p")
_CHARGER_KEYS: Final = ("plugged_any", "ac", "usb", "wireless", "unplugged")
#: Conditions in the order a lost one names the revoke reason when several go at once.
_CONDITIONS: Final = ("charger", "network", "battery_level", "battery_status", "storage", "idle")
#: The signal each condition reads: while it is unknown the condition is unmet (issue 9).
_READS: Final = {"charger": "charger", "network": "network", "battery_level": "battery_level",
                 "battery_status": "battery_level", "storage": "storage_low", "idle": "idle"}


@dataclass(slots=True)
class _Work:
    """One deferred task: its normalized WorkInfo and its run state."""

    app: str
    info: dict[str, Any]
    base_time: float
    state: str = "waiting"  # waiting | running
    cycles_left: int | None = None
    runs: int = 0
    started: float | None = None
    deadline: float | None = None
    last_timeout: bool = False
    #: derived signal keys its conditions depend on (``network:wifi``, ``charger:ac``, ...)
    watched: frozenset[str] = field(default_factory=frozenset)
    #: index keys it is under now: while running all of ``watched``; while waiting only the
    #: keys of the conditions that block it (nothing while a timer gates it)
    indexed: frozenset[str] = field(default_factory=frozenset)

    @property
    def work_id(self) -> int:
        return int(self.info["work_id"])

    @property
    def task_id(self) -> str:
        return str(self.info["work_id"])

    @property
    def cycle_s(self) -> float | None:
        ms = self.info.get("repeat_cycle_time")
        return None if ms is None else ms / 1000.0

    @property
    def repeating(self) -> bool:
        """True while another run is still to come after the current one."""
        if self.cycles_left is not None:
            return self.cycles_left > 0
        return self.cycle_s is not None

    def to_dump(self) -> dict[str, Any]:
        return {"app": self.app, "info": self.info, "base_time": self.base_time,
                "state": self.state, "cycles_left": self.cycles_left, "runs": self.runs,
                "started": self.started, "deadline": self.deadline,
                "last_timeout": self.last_timeout}


class _LevelIndex:
    """Works by battery-level threshold: a level change finds only the thresholds it crossed."""

    def __init__(self) -> None:
        self._keys: dict[int, set[tuple[str, int]]] = {}
        self._sorted: list[int] = []

    def add(self, level: int, key: tuple[str, int]) -> None:
        bucket = self._keys.get(level)
        if bucket is None:
            bucket = self._keys[level] = set()
            bisect.insort(self._sorted, level)
        bucket.add(key)

    def discard(self, level: int, key: tuple[str, int]) -> None:
        bucket = self._keys.get(level)
        if bucket is None:
            return
        bucket.discard(key)
        if not bucket:
            del self._keys[level]
            self._sorted.pop(bisect.bisect_left(self._sorted, level))

    def crossed(self, old: float, new: float) -> set[tuple[str, int]]:
        """Keys whose ``level >= threshold`` answer differs between ``old`` and ``new``."""
        if not self._sorted:  # no work has a battery-level condition (every minute's check)
            return set()
        lo, hi = min(old, new), max(old, new)
        out: set[tuple[str, int]] = set()
        for level in self._sorted[bisect.bisect_right(self._sorted, lo):
                                  bisect.bisect_right(self._sorted, hi)]:
            out |= self._keys[level]
        return out


class HarmonyOSPolicy(Policy):
    """workScheduler: WorkInfo validation, conditions, activity groups, callback timeouts."""

    platform = "harmonyos"
    limits_type = HarmonyOSLimits
    limits: HarmonyOSLimits
    args_code = CODE_PARAM
    watched = frozenset({"network", "charger", "battery_level", "storage_low", "idle",
                         "temperature"})

    def __init__(self, ctx: Context, limits: Limits) -> None:
        super().__init__(ctx, limits)
        self._queue: WorkQueue[_Work, tuple[str, int]] = WorkQueue(
            ctx, self, waiting_state="waiting", side_keys=frozenset({"battery_level"}))
        self._works = self._queue.works
        self._by_app = self._queue.by_app
        self._levels = _LevelIndex()
        self._last_start: dict[str, float] = {}
        self._idle_since: float | None = ctx.now if ctx.signals.idle else None

    # -- register ----------------------------------------------------------------------------
    def configure_app(self, app: App, args: RegisterArgs) -> None:
        """``group`` (activity group), ``privileged`` (WORK_SCHEDULER), ``bundle_name``."""
        group = args.group or app.settings.get("group", DEFAULT_GROUP)
        privileged = args.privileged if args.privileged is not None else app.settings.get("privileged", False)
        bundle = args.bundle_name if args.bundle_name is not None else app.settings.get("bundle_name")
        app.settings.update({"group": group, "privileged": privileged, "bundle_name": bundle})

    def on_app_configured(self, app: App) -> None:
        """The group may have changed: re-check the app's works."""
        if self._by_app.get(app.id):
            self._queue.evaluate_app(app.id)

    # -- verbs -------------------------------------------------------------------------------
    def verb_start_work(self, app: App, args: StartWorkArgs) -> dict[str, Any]:
        """``startWork(work: WorkInfo)``: validate, add, and start at once if everything holds."""
        info = self._parse_work_info(args)
        self._check_bundle(app, info)
        cycle = info.get("repeat_cycle_time")
        if cycle is not None and cycle < self.limits.min_repeat_cycle_ms:
            raise RequestError(
                CODE_START_WORK,
                f"Calling startWork failed: repeat_cycle_time {cycle} ms is shorter than "
                f"{self.limits.min_repeat_cycle_ms} ms (20 minutes)",
                {"field": "repeat_cycle_time"})
        works = self._by_app.setdefault(app.id, {})
        wid = info["work_id"]
        if wid in works:
            raise RequestError(
                CODE_START_WORK,
                f"Calling startWork failed: work {wid} already exists; stop_work it with "
                "need_cancel: true first", {"work_id": wid})
        if len(works) >= self.limits.max_works_per_app:
            raise RequestError(
                CODE_START_WORK,
                f"Calling startWork failed: app {app.id!r} already holds "
                f"{self.limits.max_works_per_app} works", {"work_id": wid})
        if app.settings.get("bundle_name") is None:
            app.settings["bundle_name"] = info["bundle_name"]
        count = info.get("repeat_count")
        work = _Work(app=app.id, info=info, base_time=self.ctx.now,
                     cycles_left=None if count is None else max(count, 1))
        self._add(work)
        self._queue.try_start(work)
        return self._view(work)

    def verb_stop_work(self, app: App, args: StopWorkArgs) -> dict[str, Any]:
        """``stopWork(work, needCancel?)``: end a running callback; ``need_cancel`` removes it."""
        need_cancel = args.need_cancel
        if args.work is not None:
            for name in ("work_id", "bundle_name"):
                if getattr(args, name) is not None:  # beside work they are not read: unknown
                    raise bad_arg(self.args_code, name, "is not a known argument")
            wid, bundle = args.work.work_id, args.work.bundle_name
        else:
            wid, bundle = args.work_id or 0, args.bundle_name  # (StopWorkArgs requires work_id here)
        if bundle is not None:
            self._check_bundle(app, {"bundle_name": bundle})
        work = self._find(app, wid)
        was_running = work.state == "running"
        if was_running:
            self._end(work, timeout=False)
        removed = (app.id, wid) not in self._works
        if need_cancel and not removed:
            self._remove(work)
            removed = True
        return {"work_id": wid, "stopped": was_running, "removed": removed}

    def verb_get_work_status(self, app: App, args: WorkIdArgs) -> dict[str, Any]:
        """``getWorkStatus(workId)``: the WorkInfo and its run state."""
        return self._view(self._find(app, args.work_id))

    def verb_obtain_all_works(self, app: App, args: AppWorksArgs) -> dict[str, Any]:
        """``obtainAllWorks()``: every work of the app."""
        works = self._by_app.get(app.id, {})
        return {"works": [self._view(works[w]) for w in sorted(works)]}

    def verb_stop_and_clear_works(self, app: App, args: AppWorksArgs) -> dict[str, Any]:
        """``stopAndClearWorks()``: stop running callbacks and remove every work of the app."""
        works = self._by_app.get(app.id, {})
        cleared = sorted(works)
        for wid in cleared:
            self._remove(works[wid])
        return {"cleared": cleared}

    def verb_is_last_work_time_out(self, app: App, args: WorkIdArgs) -> dict[str, Any]:
        """``isLastWorkTimeOut(workId)``: whether the last run ended by the callback timeout."""
        wid = args.work_id
        return {"work_id": wid, "timed_out": self._find(app, wid).last_timeout}

    # -- WorkInfo ----------------------------------------------------------------------------
    def _parse_work_info(self, args: StartWorkArgs) -> dict[str, Any]:
        """WorkInfo → normalized dict (enum names, ms integers). Raises 401 errors."""
        info: dict[str, Any] = {"work_id": args.work_id, "bundle_name": args.bundle_name,
                                "ability_name": args.ability_name}
        net, charging, charger = args.network_type, args.is_charging, args.charger_type
        level, status, storage = args.battery_level, args.battery_status, args.storage_request
        is_repeat, cycle, count = args.is_repeat, args.repeat_cycle_time, args.repeat_count
        persisted, deep_idle, idle_wait = args.is_persisted, args.is_deep_idle, args.idle_wait_time
        params = args.parameters
        if params is not None:
            info["parameters"] = dict(params)
        if net is not None:
            info["network_type"] = net
        if charging is not None:
            info["is_charging"] = charging
            if charging:
                info["charger_type"] = charger or "plugged_any"
        if level is not None:
            info["battery_level"] = level
        if status is not None:
            info["battery_status"] = status
        if storage is not None:
            info["storage_request"] = storage
        if cycle is not None:
            info["repeat_cycle_time"] = cycle
            # common.cpp GetRepeatInfo: with isRepeat, a repeatCount > 0 wins, else it repeats forever
            info["is_repeat"] = bool(is_repeat) and not count
            if not info["is_repeat"]:
                info["repeat_count"] = count or 0
        elif count is not None:  # the count form: N runs, each when the conditions hold again
            info["is_repeat"] = False
            info["repeat_count"] = count
        if deep_idle is not None:
            info["is_deep_idle"] = deep_idle
            if deep_idle:
                info["idle_wait_time"] = idle_wait or 0
        info["is_persisted"] = persisted
        return info

    def _check_bundle(self, app: App, info: dict[str, Any]) -> None:
        bundle = app.settings.get("bundle_name")
        if bundle is not None and info["bundle_name"] != bundle:
            raise RequestError(
                CODE_CHECK_WORKINFO,
                f"Check on workInfo failed: bundle_name {info['bundle_name']!r} is not the bundle "
                f"of app {app.id!r} ({bundle!r})", {"field": "bundle_name"})

    def _find(self, app: App, wid: int) -> _Work:
        work = self._works.get((app.id, wid))
        if work is None:
            raise RequestError(CODE_CHECK_WORKINFO,
                               f"Check on workInfo failed: app {app.id!r} has no work {wid}",
                               {"work_id": wid})
        return work

    # -- bookkeeping -------------------------------------------------------------------------
    def _add(self, work: _Work) -> None:
        work.watched = frozenset(self._key(work, c) for c in _CONDITIONS if self._has(work, c))
        self._queue.add(work, work.work_id)

    @staticmethod
    def _has(work: _Work, condition: str) -> bool:
        info = work.info
        if condition == "network":
            return "network_type" in info
        if condition == "charger":
            return "is_charging" in info
        if condition == "battery_level":
            return "battery_level" in info
        if condition == "battery_status":
            return info.get("battery_status") in ("low", "okay")
        if condition == "storage":
            return info.get("storage_request") in ("low", "okay")
        return "is_deep_idle" in info

    @staticmethod
    def _key(work: _Work, condition: str) -> str:
        """Index key of one condition (``battery_level`` lives in the level index)."""
        info = work.info
        if condition == "network":
            return f"network:{info['network_type']}"
        if condition == "charger":
            return f"charger:{info['charger_type']}" if info["is_charging"] else "charger:unplugged"
        return condition

    def on_index(self, work: _Work, old: frozenset[str], new: frozenset[str]) -> None:
        """``battery_level`` lives in the level index (a level change finds crossed thresholds)."""
        level = work.info.get("battery_level")
        if level is None:
            return
        key = (work.app, work.work_id)
        if new:
            self._levels.add(level, key)
        else:
            self._levels.discard(level, key)

    def _remove(self, work: _Work) -> None:
        self._queue.remove(work, work.work_id)

    # -- conditions --------------------------------------------------------------------------
    def _unmet(self, work: _Work, s: Signals) -> list[str]:
        """Conditions of ``work`` the signals do not satisfy now; the first names a revoke."""
        info = work.info
        out: list[str] = []
        if "is_charging" in info:
            want = info["charger_type"] if info["is_charging"] else "unplugged"
            if not _charger_ok(want, s.charger):
                out.append("charger")
        net = info.get("network_type")
        if net is not None and not _network_ok(net, s.network):
            out.append("network")
        level = info.get("battery_level")
        # battery_level is known where a condition reads it (_unmet runs once reads() are known)
        if level is not None and cast(float, s.battery_level) < level:
            out.append("battery_level")
        status = info.get("battery_status")
        if status in ("low", "okay"):
            low = cast(float, s.battery_level) <= self.limits.battery_low_level
            if (status == "low" and not low) or (status == "okay" and low):
                out.append("battery_status")
        storage = info.get("storage_request")
        if (storage == "low" and not s.storage_low) or (storage == "okay" and s.storage_low):
            out.append("storage")
        deep = info.get("is_deep_idle")
        if deep is not None and deep != s.idle:
            out.append("idle")
        return out

    def _revoke_reason(self, work: _Work, lost: str) -> str:
        info = work.info
        if lost == "charger":
            return "charger_removed" if info["is_charging"] else "charger_connected"
        if lost == "network":
            return "network_lost"
        if lost == "battery_level":
            return "battery_low"
        if lost == "battery_status":
            return "battery_low" if info["battery_status"] == "okay" else "battery_okay"
        if lost == "storage":
            return "storage_low" if info["storage_request"] == "okay" else "storage_okay"
        return "user_active" if info["is_deep_idle"] else "idle_entered"

    def _group(self, app_id: str) -> str:
        settings = self.ctx.app(app_id).settings
        if settings.get("privileged"):
            return "exempt"
        return str(settings.get("group", DEFAULT_GROUP))

    def _budget_s(self, work: _Work) -> float:
        app = self.ctx.app(work.app)
        charging = self.ctx.signals.external_power  # an unknown charger earns no charging budget
        if app.settings.get("privileged"):
            return self.limits.privileged_charging_s if charging else self.limits.privileged_battery_s
        if (self.limits.deep_idle_charging_any_app and work.info.get("is_deep_idle")
                and work.info.get("is_charging")):
            return self.limits.deep_idle_charging_s
        return self.limits.callback_s

    # -- scheduling --------------------------------------------------------------------------
    def _not_before(self, work: _Work) -> float:
        """Earliest time the work's time conditions (repeat cycle, idle wait) allow a start."""
        at = self.ctx.now
        cycle = work.cycle_s
        if cycle is not None:
            at = max(at, work.base_time + cycle)
        wait_ms = work.info.get("idle_wait_time") or 0
        if work.info.get("is_deep_idle") and wait_ms and self._idle_since is not None:
            at = max(at, self._idle_since + wait_ms / 1000.0)
        return at

    def _too_hot(self, s: Signals) -> bool:
        """Seed 004 scheduling delay: at or above ``thermal_delay_c`` (not measured: no delay)."""
        return s.temperature is not None and s.temperature >= self.limits.thermal_delay_c

    def _blockers(self, work: _Work) -> list[str]:
        """Why a waiting work does not run now (for ``status``); ``unknown:<signal>`` first."""
        unknown = sorted(self.reads(work) & self.ctx.signals.stale)
        out = [unknown_key(n) for n in unknown] if unknown else self._unmet(work, self.ctx.signals)
        if self._not_before(work) > self.ctx.now:
            out.append("time")
        if self._too_hot(self.ctx.signals):
            out.append("temperature")
        interval = self.limits.interval_s(self._group(work.app))
        if interval is None:
            out.append("group_forbidden")
        elif work.app in self._last_start and self._last_start[work.app] + interval > self.ctx.now:
            out.append("min_interval")
        return out

    # The work queue's rules (firmware_sim.workqueue.Rules): HarmonyOS's gates and names.
    def key(self, work: _Work) -> tuple[str, int]:
        return (work.app, work.work_id)

    def task_id(self, work: _Work) -> str:
        return work.task_id

    def not_before(self, work: _Work) -> float:
        return self._not_before(work)

    def unmet(self, work: _Work, signals: Signals) -> list[str]:
        return self._unmet(work, signals)

    def index_key(self, work: _Work, condition: str) -> str:
        return self._key(work, condition)

    def reads(self, work: _Work) -> frozenset[str]:
        return frozenset(_READS[c] for c in _CONDITIONS if self._has(work, c))

    def on_unknown(self, work: _Work, unknown: list[str]) -> None:
        """A condition's signal is unknown: revoked as a lost condition would be (reason
        ``signal_unknown``, ``data.unknown``); with ``revoke_on_condition_loss`` off only a deep-idle
        condition's unknown ``idle`` stops it."""
        if not self.limits.revoke_on_condition_loss:
            unknown = [n for n in unknown if n == "idle"]
        if unknown:
            self.ctx.emit("revoke", self.ctx.app(work.app), work.task_id, reason=SIGNAL_UNKNOWN,
                          data={"unknown": unknown})
            self._end(work, timeout=False)

    def policy_wait(self, work: _Work) -> tuple[float | None, frozenset[str]] | None:
        """The activity group's minimum interval; a forbidden group waits until the app is
        re-registered in another group."""
        if self._too_hot(self.ctx.signals):
            return None, frozenset({"temperature"})
        interval = self.limits.interval_s(self._group(work.app))
        last = self._last_start.get(work.app)
        if interval is None:
            return None, frozenset()
        if last is not None and last + interval > self.ctx.now:
            return last + interval, frozenset()
        return None

    def budget_s(self, work: _Work) -> float:
        return self._budget_s(work)

    def on_started(self, work: _Work) -> None:
        now = self.ctx.now
        work.base_time = now
        work.runs += 1
        if work.cycles_left is not None:
            work.cycles_left -= 1
        self._last_start[work.app] = now
        self.ctx.emit("wake", self.ctx.app(work.app), work.task_id, deadline=work.deadline,
                      data={"work_info": dict(work.info), "run": work.runs})

    def on_timeout(self, work: _Work) -> None:
        """The callback overran: ``expire`` (onWorkStop), then ``terminate`` — seed 004: "If the
        application does not cancel the deferred task upon a timeout, the system forcibly
        terminates the process for the WorkSchedulerExtensionAbility"."""
        app = self.ctx.app(work.app)
        self.ctx.emit("expire", app, work.task_id, reason="timeout", deadline=work.deadline)
        self.ctx.emit("terminate", app, work.task_id, reason=TERMINATE_REASON,
                      data={"process": "WorkSchedulerExtensionAbility"})
        self._end(work, timeout=True)

    # -- debug verbs -------------------------------------------------------------------------
    def _debug_work(self, app: App, task_id: str) -> _Work:
        work = self._works.get((app.id, int(task_id))) if task_id.isdigit() else None
        if work is None:
            raise unknown_task(app, task_id)
        return work

    def force_run(self, app: App, task_id: str) -> dict[str, Any]:
        """Start a waiting work now (onWorkStart), conditions, repeat cycle and activity-group
        interval notwithstanding; the run counts as a start (group interval, repeat count)."""
        work = self._debug_work(app, task_id)
        if work.state != "waiting":
            raise invalid_state(app, task_id, work.state, "waiting")
        self._queue.force_start(work)
        return {"state": work.state, "deadline": work.deadline}

    def force_expire(self, app: App, task_id: str) -> dict[str, Any]:
        """The running callback reaches its limit now: ``expire`` (onWorkStop) and
        ``terminate``, as at the real timeout."""
        work = self._debug_work(app, task_id)
        if work.state != "running":
            raise invalid_state(app, task_id, work.state, "running")
        self._queue.force_timeout(work)
        return {"state": work.state if (app.id, work.work_id) in self._works else "removed"}

    def on_crash(self, app: App) -> None:
        """The app process crashed: each running work gets ``revoke`` (onWorkStop), reason
        ``app_crashed``, and ends like any stopped run (a repeating work waits for its next
        cycle, a one-shot work is removed)."""
        for work in [w for w in self._by_app.get(app.id, {}).values() if w.state == "running"]:
            self.ctx.emit("revoke", app, work.task_id, reason=CRASHED)
            self._end(work, timeout=False)

    def on_lost(self, work: _Work, lost: list[str]) -> None:
        if not self.limits.revoke_on_condition_loss:
            lost = [c for c in lost if c == "idle"]
        if lost:
            self.ctx.emit("revoke", self.ctx.app(work.app), work.task_id,
                          reason=self._revoke_reason(work, lost[0]))
            self._end(work, timeout=False)

    def _end(self, work: _Work, *, timeout: bool) -> None:
        """A run ended: remove a work with no run to come, or wait for the next cycle."""
        self._queue.stopped(work)
        work.last_timeout = timeout
        if not work.repeating:
            self._remove(work)
        else:
            self._queue.try_start(work)

    # -- time and signals --------------------------------------------------------------------
    def on_signals(self, old: Signals, new: Signals, changed: frozenset[str]) -> None:
        derived: set[str] = set()
        affected: set[Hashable] = set()
        if "network" in changed:
            derived |= {f"network:{t}" for t in _NETWORK_KEYS
                        if _network_ok(t, old.network) != _network_ok(t, new.network)}
        if "charger" in changed:
            derived |= {f"charger:{t}" for t in _CHARGER_KEYS
                        if _charger_ok(t, old.charger) != _charger_ok(t, new.charger)}
        if "storage_low" in changed:
            derived.add("storage")
        if "temperature" in changed and self._too_hot(old) and not self._too_hot(new):
            derived.add("temperature")
        if "idle" in changed:
            derived.add("idle")
            self._idle_since = self.ctx.now if new.idle else None
        if "battery_level" in changed and old.battery_level is not None \
                and new.battery_level is not None:  # turning (un)known: unknown_changed below
            low = self.limits.battery_low_level
            if (old.battery_level <= low) != (new.battery_level <= low):
                derived.add("battery_status")
            affected |= self._levels.crossed(old.battery_level, new.battery_level)
        if derived:
            affected |= self._queue.affected(derived)
        if old.stale != new.stale:
            affected |= self._queue.unknown_changed(old, new)
        if affected:  # a level change crossing no work's threshold re-checks nothing
            self._queue.evaluate(affected)  # type: ignore[arg-type]

    def on_resume(self) -> None:
        """Persisted works are re-checked against the live signals (a running one whose condition
        no longer holds gets ``revoke``); the others were dropped (``restart_losses``)."""
        self._queue.evaluate(list(self._works))

    def restart_losses(self) -> list[tuple[str, str]]:
        """Works without ``is_persisted`` (seed 004 / OpenHarmony ``WorkInfo.isPersisted``:
        "whether the work is persisted after device reboot")."""
        return sorted((w.app, w.task_id) for w in self._works.values()
                      if not w.info.get("is_persisted"))

    def drop_task(self, app: App, task_id: str | None) -> None:
        for work in [w for w in self._by_app.get(app.id, {}).values()
                     if task_id is None or w.task_id == task_id]:
            self._remove(work)

    # -- views and persistence ---------------------------------------------------------------
    def _view(self, work: _Work) -> dict[str, Any]:
        out: dict[str, Any] = {
            "task_id": work.task_id, "work_id": work.work_id, "state": work.state,
            "runs": work.runs, "started": work.started, "deadline": work.deadline,
            "last_timeout": work.last_timeout, "work_info": dict(work.info)}
        if work.cycles_left is not None:
            out["cycles_left"] = work.cycles_left
        if work.state == "waiting":
            out["waiting_for"] = self._blockers(work)
            if work.cycle_s is not None:
                out["next_cycle"] = work.base_time + work.cycle_s
        return out

    def tasks(self, app: App) -> dict[str, dict[str, Any]]:
        works = self._by_app.get(app.id, {})
        return {works[w].task_id: self._view(works[w]) for w in sorted(works)}

    def status(self, app: App) -> dict[str, Any]:
        return {"group": self._group(app.id), "last_start": self._last_start.get(app.id),
                "tasks": self.tasks(app)}

    def dump(self) -> dict[str, Any]:
        works = [w.to_dump() for w in self._works.values() if w.info.get("is_persisted")]
        return {"last_start": dict(self._last_start), "works": works}

    def load(self, data: dict[str, Any]) -> None:
        self._last_start.update({k: float(v) for k, v in data.get("last_start", {}).items()})
        for raw in data.get("works", []):
            work = _Work(app=raw["app"], info=dict(raw["info"]), base_time=float(raw["base_time"]),
                         state=raw.get("state", "waiting"), cycles_left=raw.get("cycles_left"),
                         runs=int(raw.get("runs", 0)), started=raw.get("started"),
                         deadline=raw.get("deadline"),
                         last_timeout=bool(raw.get("last_timeout", False)))
            work.watched = frozenset(self._key(work, c) for c in _CONDITIONS
                                     if self._has(work, c))
            self._queue.restore(work, work.work_id)

def _network_ok(network_type: str, network: str | None) -> bool:
    """Whether the ``network`` signal satisfies a NetworkType."""
    if network_type == "any":
        return network != "none"
    return network == _NETWORK_SIGNAL[network_type]


def _charger_ok(want: str, charger: str | None) -> bool:
    """Whether the ``charger`` signal satisfies a ChargingType (``unplugged``: is_charging false)."""
    if want == "unplugged":
        return charger == "none"
    if want == "plugged_any":
        return charger != "none"
    return charger == want
