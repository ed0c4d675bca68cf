"""The emulated OS: a pure, synchronous state machine.

Feed it ``(time, signals, app requests)``; it returns events and tells you its next deadline::

    sched = Scheduler(signals=Signals(), seed=7)
    response, events = sched.handle(0.0, "mail", "register", {"platform": "wp8"})
    events = sched.set_signals(300.0, sched.signals.updated({"charger": "none"}))
    sched.next_deadline()          # -> rig seconds of the next timer, or None
    events = sched.advance(1860.0) # fire every timer due up to then, in time order

Time only moves forward and only when a caller says so; the same code runs in virtual time
(``simulate``) and on the rig's real or scaled clock (``run``).

A failing rule never stops the loop: an exception raised by a policy (timer callback, signal
handler, verb, app-state hook, resume) is logged with its traceback, recorded in
:attr:`Scheduler.faults`, turns :meth:`Scheduler.health` unhealthy until
:meth:`Scheduler.clear_faults`, and the app / task it belongs to gets ``unscheduled`` with reason
``internal_error``. A verb that raises is answered with code ``internal_error``.

Over 500 lines on purpose: it is the one state machine every policy plugs into (requests,
signal fan-out, timers, fault containment, dump / load for the journal); the parts that are
not the machine itself live beside it (``timers``, ``workqueue``, ``events``, ``journal``).
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import random
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, cast

from firmware_sim.args import ID_RE, snake
from firmware_sim.commonverbs import CrashArgs, ForceArgs, RegisterArgs, StateArgs, StatusArgs
from firmware_sim.compiled import mypyc_attr
from firmware_sim.errors import ConfigError, RequestError
from firmware_sim.events import Event, EventType, Response, new_event, ok_response
from firmware_sim.limits import Limits
from firmware_sim.platforms import POLICIES
from firmware_sim.policy import App, AppState, Policy
from firmware_sim.signals import Signals
from firmware_sim.timers import TimerHandle, TimerHeap
from firmware_sim.verbargs import parse

log = logging.getLogger(__name__)

STATE_VERSION: Final = 1
COMMON_VERBS: Final[tuple[str, ...]] = ("register", "state", "status", "crash", "force_run",
                                         "force_expire")
#: The debug verbs (issue 10): like Xcode's ``_simulateLaunchForTaskWithIdentifier`` /
#: ``_simulateExpirationForTaskWithIdentifier`` and ``adb shell cmd jobscheduler run -f``.
FORCE_VERBS: Final = ("force_run", "force_expire")
#: What a forced action puts in the ``data`` of each event it causes.
FORCED: Final = "forced"
#: How many recent faults :attr:`Scheduler.faults` keeps (wakebench's choice: enough to read a
#: burst, bounded so a rule failing every minute for a year cannot grow memory).
FAULTS_KEPT: Final = 100
#: Reason of the ``unscheduled`` event a task gets when its policy raised (issue 8 item 3).
INTERNAL_ERROR: Final = "internal_error"
#: Reason of the ``unscheduled`` event for a task the platform drops on reboot (issue 8 item 2).
RESTART: Final = "restart"
#: Argument names that carry a task id in the platforms' verbs (for containing a failing verb).
_TASK_ARGS: Final = ("task_id", "id", "name", "work_id", "session_id", "identifier")


@dataclass(frozen=True, slots=True)
class Fault:
    """One exception a policy raised: rig time, where it belonged, and the message."""

    t: float
    platform: str | None
    app: str | None
    task: str | None
    where: str
    message: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready mapping."""
        return {"t": self.t, "platform": self.platform, "app": self.app, "task": self.task,
                "where": self.where, "message": self.message}


class _PolicyContext:
    """The :class:`~firmware_sim.policy.Context` one policy sees; its timers carry its name."""

    __slots__ = ("_platform", "_rng", "_sched")

    def __init__(self, sched: Scheduler, platform: str, rng: random.Random) -> None:
        self._sched = sched
        self._platform = platform
        self._rng = rng

    @property
    def now(self) -> float:
        return self._sched._now

    @property
    def signals(self) -> Signals:
        return self._sched._effective

    @property
    def rng(self) -> random.Random:
        return self._rng

    def emit(
        self,
        type: EventType,
        app: App,
        task_id: str | None,
        *,
        reason: str | None = None,
        deadline: float | None = None,
        data: dict[str, Any] | None = None,
    ) -> Event:
        return self._sched._emit(type, app, task_id, reason, deadline, data)

    def call_at(self, at: float, callback: Callable[[], None], *, app: str | None = None,
                task: str | None = None) -> TimerHandle:
        sched = self._sched
        return sched._timers.push(max(float(at), sched._now), callback, app, task, self._platform)

    def app(self, app_id: str) -> App:
        return self._sched._apps[app_id]


# subclassed by the bench (bench_scheduler's digest, bench_rig) and tests
@mypyc_attr(allow_interpreted_subclasses=True)
class Scheduler:
    """All six platform policies behind one request/event interface.

    Args:
        signals: initial snapshot (default: :class:`Signals` defaults).
        now: initial rig time (s).
        seed: derives every random choice (WP8 drift, ...), per platform.
        limits: per-platform limit overrides, ``{"ios": {"background_task_s": 180}}``.
        epoch: wall time of rig second 0, for the events' ``ts`` (None: ``ts`` is null).

    Raises:
        ConfigError: an unknown platform or limit in ``limits``.
    """

    def __init__(
        self,
        *,
        signals: Signals | None = None,
        now: float = 0.0,
        seed: int = 0,
        limits: Mapping[str, Mapping[str, Any]] | None = None,
        epoch: datetime | None = None,
    ) -> None:
        self._now = float(now)
        self._signals = signals or Signals(t=self._now)
        self._effective = self._signals.effective()
        self.seed = seed
        self.epoch = epoch
        self._apps: dict[str, App] = {}
        self._seq: dict[str, int] = {}
        self._pending: list[Event] = []
        self._timers = TimerHeap()
        self._faults: deque[Fault] = deque(maxlen=FAULTS_KEPT)
        self._fault_count = 0
        self._lost_on_restart: dict[str, list[tuple[str, str]]] = {}
        #: Policies whose state may have changed since :meth:`mark_saved` (issue #8: the journal
        #: rewrites only their rows). Every entry point that runs policy code marks the policy.
        self._dirty: set[str] = set(POLICIES)
        #: ``restart_losses()`` of each policy as of its last :meth:`dump_changed`.
        self._losses: dict[str, list[list[str]]] = {}
        overrides = dict(limits or {})
        unknown = set(overrides) - set(POLICIES)
        if unknown:
            raise ConfigError(f"unknown platform(s) in limits: {', '.join(sorted(unknown))}")
        self.policies: dict[str, Policy] = {}
        for name, cls in POLICIES.items():
            lim: Limits = cls.limits_type().with_overrides(overrides.get(name, {}))
            ctx = _PolicyContext(self, name, random.Random(f"{seed}:{name}"))
            self.policies[name] = cls(ctx, lim)
            cls.arg_models()  # read once now, not on the platform's first request (live t = 0)
        #: each platform's own verbs (``verb_<name>`` methods), asked once per request
        self._verbs: dict[str, frozenset[str]] = {
            name: frozenset(policy.verbs()) for name, policy in self.policies.items()}
        #: ``(name, policy, watched)`` for the signal fan-out, in registration order
        self._watchers: tuple[tuple[str, Policy, frozenset[str]], ...] = tuple(
            (name, policy, policy.watched) for name, policy in self.policies.items())

    # -- read-only views ---------------------------------------------------------------------
    @property
    def now(self) -> float:
        """Rig time (s) of the last step."""
        return self._now

    @property
    def signals(self) -> Signals:
        """The current snapshot as the sources reported it (stale marks included)."""
        return self._signals

    @property
    def apps(self) -> Mapping[str, App]:
        """Registered apps by id."""
        return self._apps

    def next_deadline(self) -> float | None:
        """Rig time of the earliest armed timer, or None when nothing is scheduled."""
        return self._timers.peek()

    @property
    def faults(self) -> list[Fault]:
        """The most recent policy faults (at most :data:`FAULTS_KEPT`), oldest first."""
        return list(self._faults)

    def health(self) -> tuple[bool, list[str]]:
        """``(healthy, reasons)``: unhealthy from a policy's first fault until :meth:`clear_faults`."""
        if not self._fault_count:
            return True, []
        reasons = [f"{self._fault_count} policy fault(s) since last cleared"]
        reasons += [f"t={f.t:g} {f.platform or '-'} {f.where} app={f.app or '-'} "
                    f"task={f.task or '-'}: {f.message}" for f in self._faults]
        return False, reasons

    def clear_faults(self) -> None:
        """Forget recorded faults; :meth:`health` reports healthy again."""
        self._faults.clear()
        self._fault_count = 0

    def tasks(self, app_id: str) -> dict[str, dict[str, Any]]:
        """Every task of ``app_id`` with its current state (empty for unknown apps)."""
        app = self._apps.get(app_id)
        if app is None:
            return {}
        return self.policies[app.platform].tasks(app)

    def limits(self, platform: str) -> Limits:
        """The limits in force for ``platform``."""
        return self.policies[platform].limits

    # -- stepping ----------------------------------------------------------------------------
    def advance(self, now: float) -> list[Event]:
        """Fire every timer due at or before ``now`` (each at its own time) and move to ``now``."""
        self._run_timers(now)
        events, self._pending = self._pending, []
        return events

    def set_signals(self, now: float, signals: Signals) -> list[Event]:
        """Advance to ``now``, then apply a new snapshot; only interested policies re-evaluate."""
        self._run_timers(now)
        self._apply_signals(signals)
        events, self._pending = self._pending, []
        return events

    def resume(self, now: float, signals: Signals) -> list[Event]:
        """After :meth:`load`: apply the live ``signals`` and re-check every restored task.

        Called once by the driver before the rig reports online. Overdue timers fire first (at
        their own times), then the snapshot is applied like a live change, then every policy's
        :meth:`~firmware_sim.policy.Policy.on_resume` re-checks all its tasks against it (a
        running task whose conditions no longer hold is stopped as a live edge would stop it) and
        drops what the platform does not keep across a reboot (``unscheduled``, reason
        ``restart``).
        """
        self._run_timers(now)
        self._apply_signals(signals)
        self._dirty.update(self.policies)  # every policy re-checks its tasks
        lost, self._lost_on_restart = self._lost_on_restart, {}
        for name, policy in self.policies.items():
            for app_id, task_id in lost.get(name, ()):
                app = self._apps.get(app_id)
                if app is None or app.platform != name:
                    continue
                self._guard(name, app, task_id, "resume", policy.drop_task, app, task_id)
                self._emit("unscheduled", app, task_id, RESTART, None, None)
            self._guard(name, None, None, "resume", policy.on_resume)
        return self._take()

    def handle(self, now: float, app_id: str, verb: str, args: Any = None) -> tuple[Response, list[Event]]:
        """Advance to ``now``, then serve one request. Never raises for bad input.

        Returns:
            The response (``status`` ``ok`` or ``error`` with a machine-readable ``code``) and
            every event produced up to and including this request.
        """
        self._run_timers(now)
        try:
            response = ok_response(self._dispatch(app_id, verb, args))
        except RequestError as exc:
            response = Response("error", dict(exc.data), exc.code, exc.message)
        except Exception as exc:  # a failing rule: contained, answered, recorded
            app = self._apps.get(app_id) if isinstance(app_id, str) else None
            task = _task_arg(args)
            self._fault(app.platform if app else None, app, task, f"verb {verb!r}", exc)
            response = Response("error", {}, INTERNAL_ERROR,
                                 f"internal error while serving {verb!r}: {exc!r}")
        served = self._apps.get(app_id) if isinstance(app_id, str) else None
        if served is not None:
            self._dirty.add(served.platform)  # the verb ran this policy's code
        events, self._pending = self._pending, []
        return response, events

    # -- internals ---------------------------------------------------------------------------
    def _take(self) -> list[Event]:
        events, self._pending = self._pending, []
        return events

    def _run_timers(self, now: float) -> None:
        if now < self._now:
            raise ValueError(f"rig time cannot go back from {self._now} to {now}")
        due = self._timers.heap
        if not due or due[0][0] > now:  # nothing due: the common case of a request
            self._now = float(now)
            return
        pop_due = self._timers.pop_due
        handle = pop_due(now)
        while handle is not None:
            self._now = handle.when
            owner = handle.owner
            if owner is not None:
                self._dirty.add(owner)
            else:  # a timer armed outside a policy context: it may have touched any of them
                self._dirty.update(self.policies)
            try:
                handle.callback()
            except Exception as exc:  # a failing rule: contained to its app / task
                app = self._apps.get(handle.app) if handle.app is not None else None
                self._fault(owner, app, handle.task, "timer", exc)
            handle = pop_due(now)
        self._now = float(now)

    def _apply_signals(self, signals: Signals) -> None:
        old_eff = self._effective
        self._signals = signals
        self._effective = signals.effective()
        changed = old_eff.changed(self._effective)
        if changed:
            new_eff = self._effective
            dirty = self._dirty
            for name, policy, watched in self._watchers:
                if not watched.isdisjoint(changed):
                    dirty.add(name)
                    try:
                        policy.on_signals(old_eff, new_eff, changed)
                    except Exception as exc:  # a failing rule: recorded, the others go on
                        self._fault(name, None, None, "signals", exc)

    def _guard(self, platform: str, app: App | None, task: str | None, where: str,
               fn: Callable[..., None], *args: Any) -> None:
        """Run a policy hook; an exception becomes a recorded fault, never a stopped loop."""
        try:
            fn(*args)
        except Exception as exc:
            self._fault(platform, app, task, where, exc)

    def _fault(self, platform: str | None, app: App | None, task: str | None, where: str,
               exc: Exception) -> None:
        log.error("policy fault: %s %s app=%s task=%s at t=%s", platform, where,
                  app.id if app else None, task, self._now, exc_info=exc)
        self._faults.append(Fault(self._now, platform, app.id if app else None, task, where,
                                  f"{type(exc).__name__}: {exc}"))
        self._fault_count += 1
        if app is None:
            return  # a platform-wide hook failed: no single app to tell
        self._dirty.add(app.platform)
        try:
            self.policies[app.platform].drop_task(app, task)
        except Exception:
            log.exception("policy %s: drop_task failed too", app.platform)
        self._emit("unscheduled", app, task, INTERNAL_ERROR, None, {"error": where})

    def _emit(
        self,
        type: EventType,
        app: App,
        task_id: str | None,
        reason: str | None,
        deadline: float | None,
        data: dict[str, Any] | None,
    ) -> Event:
        app_id = app.id
        seq = self._seq.get(app_id, 0) + 1
        self._seq[app_id] = seq
        event = new_event(type, app_id, app.platform, task_id, self._now, seq, self._signals,
                          reason, deadline, data or {})
        self._pending.append(event)
        return event

    def _dispatch(self, app_id: str, verb: str, raw: Any) -> dict[str, Any]:
        if not isinstance(verb, str):
            raise RequestError("unknown_verb", f"verb must be a string, not {verb!r}")
        verb = _verb_name(verb)  # camelCase names of the real APIs work too: isLastWorkTimeOut
        if not isinstance(app_id, str) or (app_id not in self._apps and not ID_RE.match(app_id)):
            raise RequestError("invalid_app_id", f"app id must match [a-z0-9_-]{{1,64}}, not {app_id!r}")
        if verb == "register":
            return self._register(app_id, raw)
        app = self._apps.get(app_id)
        if app is None:
            raise RequestError("not_registered", f"app {app_id!r} is not registered; send 'register' first")
        policy = self.policies[app.platform]
        if verb == "state":
            new = cast(AppState, parse(StateArgs, raw, code=policy.args_code).state)
            old = app.state
            app.state = new
            if new != old:
                policy.on_app_state(app, old, new)
            # app.state, not new: a policy may keep the app where it is (UWP: a relaunch waits)
            return {"state": app.state, "previous": old}
        if verb == "status":
            parse(StatusArgs, raw)
            data = {"app": app.to_dict(), "seq": self._seq.get(app.id, 0), **policy.status(app)}
            views = data.get("tasks")
            if not isinstance(views, dict):
                views = policy.tasks(app)
            data["debug"] = {tid: policy.debug_fields(app, tid, view) for tid, view in views.items()}
            return data
        if verb in FORCE_VERBS:
            return self._force(policy, app, verb, raw)
        if verb == "crash":
            parse(CrashArgs, raw)
            policy.on_crash(app)
            return {}
        if verb not in self._verbs[app.platform]:
            owners = [p for p, cls in POLICIES.items() if hasattr(cls, f"verb_{verb}")]
            if owners:
                raise RequestError(
                    "wrong_platform",
                    f"{verb!r} is a {'/'.join(owners)} verb; app {app_id!r} is registered as "
                    f"{app.platform}",
                )
            known = ", ".join((*COMMON_VERBS, *policy.verbs()))
            raise RequestError("unknown_verb", f"unknown verb {verb!r} for {app.platform} (known: {known})")
        return policy.handle(app, verb, raw)

    def _force(self, policy: Policy, app: App, verb: str, raw: Any) -> dict[str, Any]:
        """``force_run`` / ``force_expire`` ``{"task_id"}``: the policy acts as the platform's
        debug tool does; every event it causes now is marked ``data.forced: true``."""
        task_id = parse(ForceArgs, raw, code=policy.args_code).task_id
        first = len(self._pending)
        method = policy.force_run if verb == "force_run" else policy.force_expire
        data = method(app, task_id)
        self._pending[first:] = [
            dataclasses.replace(e, data={**e.data, FORCED: True}) if e.app == app.id else e
            for e in self._pending[first:]]
        return {"task_id": task_id, FORCED: verb.removeprefix("force_"), **data}

    def _register(self, app_id: str, raw: Any) -> dict[str, Any]:
        platform = parse(RegisterArgs, raw).platform
        existing = self._apps.get(app_id)
        if existing is not None and existing.platform != platform:
            raise RequestError(
                "platform_mismatch",
                f"app {app_id!r} is already registered as {existing.platform}, not {platform}",
            )
        policy = self.policies[platform]
        app = existing or App(id=app_id, platform=platform)
        candidate = App(id=app.id, platform=platform, state=app.state, settings=dict(app.settings))
        # a misspelled register key is an error, never silently ignored (the model refuses it)
        settings = parse(policy.arg_models()["register"], raw, code=policy.args_code,
                         ignore=("transaction", "platform"))
        policy.configure_app(candidate, settings)
        app.settings = candidate.settings
        self._apps[app_id] = app
        self._seq.setdefault(app_id, 0)
        policy.on_app_configured(app)
        return {"app": app.to_dict(), "verbs": [*COMMON_VERBS, *policy.verbs()],
                "limits": {li.name: li.value for li in policy.limits.describe(platform)}}

    # -- persistence -------------------------------------------------------------------------
    def dump(self) -> dict[str, Any]:
        """Everything that must survive a restart, JSON-ready."""
        return {
            "version": STATE_VERSION,
            "now": self._now,
            "seed": self.seed,
            "apps": [a.to_dict() for a in self._apps.values()],
            "seq": dict(self._seq),
            "policies": {name: p.dump() for name, p in self.policies.items()},
            "lost_on_restart": {name: [list(pair) for pair in pairs] for name, p in
                                self.policies.items() if (pairs := p.restart_losses())},
        }

    def dump_changed(self) -> dict[str, Any]:
        """A :meth:`dump` whose ``policies`` hold only the policies that may have changed since
        :meth:`mark_saved` (issue #8: a batch's journal cost follows what it touched).

        ``apps``, ``seq`` and the other core fields are always complete (an app's state can
        change from any policy's code; they are small). A policy is marked when a request for
        one of its apps is served, one of its timers fires, a signal it watches changes, one of
        its rules fails, on :meth:`resume` and on :meth:`load`. Until :meth:`mark_saved` the
        marks accumulate, so a failed journal write is repeated in full by the next one.
        """
        policies: dict[str, Any] = {}
        for name in self._dirty:
            policy = self.policies[name]
            policies[name] = policy.dump()
            pairs = policy.restart_losses()
            if pairs:
                self._losses[name] = [list(pair) for pair in pairs]
            else:
                self._losses.pop(name, None)
        return {
            "version": STATE_VERSION,
            "now": self._now,
            "seed": self.seed,
            "apps": [a.to_dict() for a in self._apps.values()],
            "seq": dict(self._seq),
            "policies": policies,
            "lost_on_restart": {name: self._losses[name] for name in self.policies
                                if name in self._losses},
        }

    def mark_saved(self) -> None:
        """The last :meth:`dump_changed` (or :meth:`dump`) is durable: forget the marks."""
        self._dirty.clear()

    def load(self, data: Mapping[str, Any]) -> None:
        """Restore a :meth:`dump` into this (fresh) scheduler.

        Times in the dump are rig seconds; the rig keeps its clock running across restarts, so a
        task whose deadline passed while the rig was down fires as soon as time advances.

        Raises:
            ConfigError: the dump is of another format version.
        """
        if data.get("version") != STATE_VERSION:
            raise ConfigError(f"state format {data.get('version')!r} is not {STATE_VERSION}")
        for raw in data.get("apps", []):
            self._apps[raw["id"]] = App(id=raw["id"], platform=raw["platform"],
                                        state=raw.get("state", "foreground"),
                                        settings=dict(raw.get("settings", {})))
        self._seq.update({k: int(v) for k, v in data.get("seq", {}).items()})
        for name, pdata in data.get("policies", {}).items():
            if name in self.policies and pdata:
                self.policies[name].load(pdata)
        for name, pairs in data.get("lost_on_restart", {}).items():
            self._lost_on_restart[name] = [(str(a), str(t)) for a, t in pairs]
        self._dirty.update(self.policies)


#: Verb names seen so far, snake_cased once (the request path's hottest string work).
_verb_name = functools.lru_cache(maxsize=512)(snake)


def _task_arg(args: Any) -> str | None:
    """The task a verb's arguments name, if any."""
    if isinstance(args, Mapping):
        for name in _TASK_ARGS:
            value = args.get(name)
            if isinstance(value, str | int) and not isinstance(value, bool):
                return str(value)
    return None
