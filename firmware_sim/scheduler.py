"""The emulated OS: a pure, synchronous state machine.

Feed it ``(time, signals, app requests)``; it returns events and tells you its next deadline::

    sched = Scheduler(signals=Signals(), seed=7)
    response, events = sched.handle(0.0, "mail", "register", {"platform": "wp8"})
    events = sched.set_signals(300.0, sched.signals.updated({"charger": "none"}))
    sched.next_deadline()          # -> rig seconds of the next timer, or None
    events = sched.advance(1860.0) # fire every timer due up to then, in time order

Time only moves forward and only when a caller says so; the same code runs in virtual time
(``simulate``) and on the rig's real or scaled clock (``run``).
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Hashable, Mapping
from datetime import datetime
from typing import Any, Final

from firmware_sim.args import ID_RE, Args, snake
from firmware_sim.errors import ConfigError, RequestError
from firmware_sim.events import Event, EventType, Response
from firmware_sim.limits import Limits
from firmware_sim.platforms import POLICIES
from firmware_sim.policy import APP_STATES, App, AppState, Policy
from firmware_sim.signals import Signals

STATE_VERSION: Final = 1
COMMON_VERBS: Final[tuple[str, ...]] = ("register", "state", "status", "crash")


class _PolicyContext:
    """The :class:`~firmware_sim.policy.Context` one policy sees; timer keys are namespaced."""

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

    def set_timer(self, key: Hashable, at: float) -> None:
        self._sched._set_timer((self._platform, key), at)

    def cancel_timer(self, key: Hashable) -> None:
        self._sched._timers.pop((self._platform, key), None)

    def timer_at(self, key: Hashable) -> float | None:
        entry = self._sched._timers.get((self._platform, key))
        return None if entry is None else entry[0]

    def app(self, app_id: str) -> App:
        return self._sched._apps[app_id]


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
        # timer key -> (at, version); heap holds (at, counter, key, version), stale ones skipped
        self._timers: dict[tuple[str, Hashable], tuple[float, int]] = {}
        self._heap: list[tuple[float, int, tuple[str, Hashable], int]] = []
        self._counter = 0
        overrides = dict(limits or {})
        unknown = set(overrides) - set(POLICIES)
        if unknown:
            raise ConfigError(f"unknown platform(s) in limits: {', '.join(sorted(unknown))}")
        self.policies: dict[str, Policy] = {}
        for name, cls in POLICIES.items():
            lim: Limits = cls.limits_type().with_overrides(overrides.get(name, {}))
            ctx = _PolicyContext(self, name, random.Random(f"{seed}:{name}"))
            self.policies[name] = cls(ctx, lim)

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
        heap, timers = self._heap, self._timers
        while heap:
            at, _, key, version = heap[0]
            current = timers.get(key)
            if current is not None and current[1] == version:
                return at
            heapq.heappop(heap)
        return None

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
        return self._take()

    def set_signals(self, now: float, signals: Signals) -> list[Event]:
        """Advance to ``now``, then apply a new snapshot; only interested policies re-evaluate."""
        self._run_timers(now)
        old_eff = self._effective
        self._signals = signals
        self._effective = signals.effective()
        changed = old_eff.changed(self._effective)
        if changed:
            for policy in self.policies.values():
                if policy.watched & changed:
                    policy.on_signals(old_eff, self._effective, changed)
        return self._take()

    def resume(self, now: float, signals: Signals) -> list[Event]:
        """After :meth:`load`: apply the live ``signals`` and let every policy re-check its
        restored tasks against all the signals it watches (not only the changed ones).

        MINIMAL VERSION (wb-journal, issue #8.2 driver side); the policy-hook version of the
        scheduler work replaces it at merge.
        """
        self._run_timers(now)
        old_eff = self._effective
        self._signals = signals
        self._effective = signals.effective()
        for policy in self.policies.values():
            if policy.watched:
                policy.on_signals(old_eff, self._effective, policy.watched)
        return self._take()

    def handle(self, now: float, app_id: str, verb: str, args: Any = None) -> tuple[Response, list[Event]]:
        """Advance to ``now``, then serve one request. Never raises for bad input.

        Returns:
            The response (``status`` ``ok`` or ``error`` with a machine-readable ``code``) and
            every event produced up to and including this request.
        """
        self._run_timers(now)
        try:
            data = self._dispatch(app_id, verb, args)
            response = Response("ok", data)
        except RequestError as exc:
            response = Response("error", dict(exc.data), exc.code, exc.message)
        return response, self._take()

    # -- internals ---------------------------------------------------------------------------
    def _take(self) -> list[Event]:
        events, self._pending = self._pending, []
        return events

    def _run_timers(self, now: float) -> None:
        if now < self._now:
            raise ValueError(f"rig time cannot go back from {self._now} to {now}")
        heap, timers = self._heap, self._timers
        while heap and heap[0][0] <= now:
            at, _, key, version = heapq.heappop(heap)
            current = timers.get(key)
            if current is None or current[1] != version:
                continue
            del timers[key]
            self._now = at
            platform, inner = key
            self.policies[platform].on_timer(inner)
        self._now = float(now)

    def _set_timer(self, key: tuple[str, Hashable], at: float) -> None:
        at = max(float(at), self._now)
        current = self._timers.get(key)
        if current is not None and current[0] == at:
            return  # already armed for that time: no second heap entry
        self._counter += 1
        self._timers[key] = (at, self._counter)
        heapq.heappush(self._heap, (at, self._counter, key, self._counter))

    def _emit(
        self,
        type: EventType,
        app: App,
        task_id: str | None,
        reason: str | None,
        deadline: float | None,
        data: dict[str, Any] | None,
    ) -> Event:
        seq = self._seq.get(app.id, 0) + 1
        self._seq[app.id] = seq
        event = Event(type=type, app=app.id, platform=app.platform, task_id=task_id, t=self._now,
                      seq=seq, signals=self._signals, reason=reason, deadline=deadline,
                      data=data or {})
        self._pending.append(event)
        return event

    def _dispatch(self, app_id: str, verb: str, raw: Any) -> dict[str, Any]:
        if not isinstance(verb, str):
            raise RequestError("unknown_verb", f"verb must be a string, not {verb!r}")
        verb = snake(verb)  # camelCase names of the real APIs work too: isLastWorkTimeOut
        if not isinstance(app_id, str) or not ID_RE.match(app_id):
            raise RequestError("invalid_app_id", f"app id must match [a-z0-9_-]{{1,64}}, not {app_id!r}")
        if verb == "register":
            return self._register(app_id, raw)
        app = self._apps.get(app_id)
        if app is None:
            raise RequestError("not_registered", f"app {app_id!r} is not registered; send 'register' first")
        policy = self.policies[app.platform]
        if verb == "state":
            args = Args(raw, code=policy.args_code)
            new: AppState = args.choice("state", APP_STATES)
            args.done()
            old = app.state
            app.state = new
            if new != old:
                policy.on_app_state(app, old, new)
            return {"state": new, "previous": old}
        if verb == "status":
            Args(raw).done()
            return {"app": app.to_dict(), "seq": self._seq.get(app.id, 0), **policy.status(app)}
        if verb == "crash":
            Args(raw).done()
            policy.on_crash(app)
            return {}
        if not hasattr(policy, f"verb_{verb}"):
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

    def _register(self, app_id: str, raw: Any) -> dict[str, Any]:
        args = Args(raw)
        platform = args.choice("platform", tuple(POLICIES))
        existing = self._apps.get(app_id)
        if existing is not None and existing.platform != platform:
            raise RequestError(
                "platform_mismatch",
                f"app {app_id!r} is already registered as {existing.platform}, not {platform}",
            )
        policy = self.policies[platform]
        app = existing or App(id=app_id, platform=platform)
        candidate = App(id=app.id, platform=platform, state=app.state, settings=dict(app.settings))
        reg_args = Args(raw, code=policy.args_code, ignore=("transaction", "platform"))
        policy.configure_app(candidate, reg_args)
        reg_args.done()  # a misspelled register key is an error, never silently ignored
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
        }

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
