"""The contract between the scheduler loop and a platform policy.

A policy is its limits (a :class:`~firmware_sim.limits.Limits` dataclass of sourced constants)
plus small rule methods. The scheduler owns time, the timer heap, apps, ``seq`` numbers and the
signals; a policy sees them only through its :class:`Context`. Timers are handles:
``ctx.call_at(at, callback, app=, task=)`` returns a :class:`~firmware_sim.timers.TimerHandle`
(``cancel()``, ``when``); :class:`TimerMap` keeps one family of them by key, :func:`rearm`
re-arms one. A policy's ``load`` re-arms persisted timers through the same API. Adding a platform means adding a
module under :mod:`firmware_sim.platforms`; the scheduler loop does not change.
"""

from __future__ import annotations

import ast
import random
import sys
import typing
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, ClassVar, Final, Generic, Literal, Protocol, TypeVar

from firmware_sim.compiled import mypyc_attr
from firmware_sim.errors import RequestError
from firmware_sim.events import Event, EventType
from firmware_sim.limits import Limits
from firmware_sim.signals import Signals
from firmware_sim.timers import TimerHandle
from firmware_sim.verbargs import VerbArgs, parse

AppState = Literal["foreground", "background", "suspended", "terminated"]
#: Task states of the platforms' views that mean "not started yet" (for ``debug_fields``).
WAITING_STATES: Final = frozenset({"waiting", "enqueued", "scheduled", "pending"})
#: View keys that carry a time gate (rig s) of a waiting task, across the platforms.
_TIME_KEYS: Final = ("next_run", "next_cycle", "earliest_begin", "launch_at", "not_before")
APP_STATES: Final[tuple[str, ...]] = ("foreground", "background", "suspended", "terminated")


@dataclass(slots=True)
class App:
    """One registered app prototype."""

    id: str
    platform: str
    state: AppState = "foreground"
    settings: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready mapping (also the persisted form)."""
        return {"id": self.id, "platform": self.platform, "state": self.state,
                "settings": dict(self.settings)}


class Context(Protocol):
    """What a policy may see and do. Implemented by the scheduler."""

    @property
    def now(self) -> float:
        """Rig time (s) of the step being processed (a timer's own due time while it fires)."""
        ...

    @property
    def signals(self) -> Signals:
        """The *effective* snapshot (stale signals already replaced conservatively)."""
        ...

    @property
    def rng(self) -> random.Random:
        """This policy's random source, derived from the scenario / rig seed."""
        ...

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
        """Send one event to ``app`` now (the scheduler assigns ``seq``)."""
        ...

    def call_at(self, at: float, callback: Callable[[], None], *, app: str | None = None,
                task: str | None = None) -> TimerHandle:
        """Call ``callback()`` at rig time ``at`` (now, if ``at`` is in the past).

        ``app`` / ``task`` name what the timer belongs to: if the callback raises, that task (or
        app) gets ``unscheduled`` with reason ``internal_error`` and the loop carries on. Keep the
        handle to ``cancel()`` it; ``handle.when`` is its due time.
        """
        ...

    def app(self, app_id: str) -> App:
        """A registered app."""
        ...


# the six platform policies subclass it and stay interpreted (pydantic reads their verbs'
# annotations; CONTRIBUTING "Compiled build")
@mypyc_attr(allow_interpreted_subclasses=True)
class Policy:
    """Base of the six platform policies. Subclasses set the class attributes and verbs.

    Verbs are methods named ``verb_<name>(app, args) -> dict``; the returned dict is the
    response's ``data``. A refusal raises :class:`RequestError` with the platform's code.
    """

    platform: ClassVar[str]
    limits_type: ClassVar[type[Limits]]
    #: Signals whose change may affect this policy; others never reach :meth:`on_signals`.
    watched: ClassVar[frozenset[str]] = frozenset()
    #: Error code for malformed arguments (HarmonyOS uses "401").
    args_code: ClassVar[str] = "invalid_args"

    def __init__(self, ctx: Context, limits: Limits) -> None:
        self.ctx = ctx
        self.limits = limits

    # -- verbs -------------------------------------------------------------------------------
    @classmethod
    def verbs(cls) -> tuple[str, ...]:
        """The platform's own verbs (without the common ones)."""
        return tuple(sorted(n[len("verb_"):] for n in dir(cls) if n.startswith("verb_")))

    @classmethod
    def arg_models(cls) -> dict[str, type[VerbArgs]]:
        """Each verb's argument model, read from its method's ``args`` annotation (the one
        declaration of the verb's arguments), plus ``register`` (:meth:`configure_app`'s)."""
        return _verb_models(cls)

    def handle(self, app: App, verb: str, raw_args: Any) -> dict[str, Any]:
        """Dispatch a platform verb with its arguments validated into the verb's model.

        Raises:
            RequestError: unknown verb, bad arguments or a platform refusal.
        """
        method = getattr(self, f"verb_{verb}", None)
        if method is None:
            raise RequestError("unknown_verb", f"{self.platform} has no verb {verb!r}")
        args = parse(_verb_models(type(self))[verb], raw_args, code=self.args_code)
        result: dict[str, Any] = method(app, args)
        return result

    # -- app lifecycle (override as needed) --------------------------------------------------
    def configure_app(self, app: App, args: Any) -> None:
        """Read platform-specific ``register`` arguments (a :class:`VerbArgs` declared by the
        override's annotation; none by default) into ``app.settings``."""

    def on_app_configured(self, app: App) -> None:
        """``register`` succeeded and ``app.settings`` now holds the new settings."""

    def on_app_state(self, app: App, old: AppState, new: AppState) -> None:
        """The app moved between foreground / background / suspended / terminated."""

    def on_crash(self, app: App) -> None:
        """The app prototype reports that its process crashed (common verb ``crash``)."""

    def drop_task(self, app: App, task_id: str | None) -> None:
        """Forget ``task_id`` of ``app`` (all of the app's tasks when None) and disarm its timers.

        Called when a rule of this policy raised while working on it (the app then gets
        ``unscheduled``, reason ``internal_error``) and on :meth:`Scheduler.resume` for each task
        of :meth:`restart_losses` (reason ``restart``), so the event tells the truth. No event
        from here. Base: nothing to forget.
        """

    def restart_losses(self) -> list[tuple[str, str]]:
        """``(app, task_id)`` of live tasks the platform does not keep across a reboot.

        Saved with the scheduler state; :meth:`Scheduler.resume` drops them and sends each
        ``unscheduled`` with reason ``restart``. Base: none.
        """
        return []

    def on_resume(self) -> None:
        """The rig restarted: :meth:`load` ran and the live signals are applied.

        Re-check every restored task against ``ctx.signals`` exactly as a live signal change
        would (stop running tasks whose conditions no longer hold, start waiting ones), and send
        reboot. The scheduler has already dropped :meth:`restart_losses`. Base: nothing to
        re-check (a policy whose tasks depend on signals overrides this).
        """

    # -- time and signals --------------------------------------------------------------------
    def on_signals(self, old: Signals, new: Signals, changed: frozenset[str]) -> None:
        """Effective signals changed; ``changed`` ∩ :attr:`watched` is never empty."""

    # -- views and persistence ---------------------------------------------------------------
    def tasks(self, app: App) -> dict[str, dict[str, Any]]:
        """Current state of each of the app's tasks, by task id (published retained)."""
        return {}

    def status(self, app: App) -> dict[str, Any]:
        """Data of the common ``status`` verb."""
        return {"tasks": self.tasks(app)}

    def debug_fields(self, app: App, task_id: str, view: dict[str, Any]) -> dict[str, Any]:
        """The common debug fields of one task for ``status`` (``dumpsys jobscheduler`` style).

        From the task's :meth:`tasks` view: ``state``; ``next_eligible`` (rig s: the earliest
        time its time gates allow a start — now if none, None while it runs or when nothing
        will start it); ``budget_s`` / ``budget_used_s`` / ``budget_left_s`` of the current run
        (None when it has no run or no limit); ``unmet``: the conditions holding it back, by
        name. A platform whose view keeps these elsewhere overrides this.
        """
        now = self.ctx.now
        state = view.get("state")
        started, deadline = view.get("started"), view.get("deadline")
        running = state == "running" or (started is not None and state not in WAITING_STATES)
        raw_unmet = view.get("waiting_for")
        unmet = ([raw_unmet] if isinstance(raw_unmet, str)
                 else list(raw_unmet) if isinstance(raw_unmet, list | tuple) else [])
        next_eligible: float | None = None
        if not running:
            gates = [float(view[k]) for k in _TIME_KEYS if isinstance(view.get(k), int | float)]
            next_eligible = max([now, *gates])
        budget = used = left = None
        if running and isinstance(started, int | float):
            used = now - started
            if isinstance(deadline, int | float):
                budget, left = deadline - started, max(0.0, deadline - now)
        return {"state": state, "next_eligible": next_eligible, "budget_s": budget,
                "budget_used_s": used, "budget_left_s": left, "unmet": unmet}

    # -- debug verbs (Xcode _simulateLaunch/_simulateExpiration, jobscheduler run -f, ...) ------
    def force_run(self, app: App, task_id: str) -> dict[str, Any]:
        """Start ``task_id`` now whatever holds it back (common verb ``force_run``); its events
        carry ``data.forced: true``.

        Raises:
            RequestError: ``not_supported`` (the platform has no such debug action),
                ``unknown_task``, ``invalid_state`` (already running).
        """
        raise RequestError("not_supported",
                           f"{self.platform} has no force-run: its tasks start when the app asks")

    def force_expire(self, app: App, task_id: str) -> dict[str, Any]:
        """Make running ``task_id`` run out of time now, as the platform would at its deadline
        (common verb ``force_expire``); its events carry ``data.forced: true``.

        Raises:
            RequestError: ``not_supported``, ``unknown_task``, ``invalid_state`` (not running).
        """
        raise RequestError("not_supported", f"{self.platform} has no force-expire")

    def dump(self) -> dict[str, Any]:
        """State that must survive a restart (JSON-ready)."""
        return {}

    def load(self, data: dict[str, Any]) -> None:
        """Restore :meth:`dump` output; re-arm timers through ``ctx``."""


def unknown_task(app: App, task_id: str) -> RequestError:
    """The debug verbs' answer for a task the app does not have."""
    return RequestError("unknown_task", f"app {app.id!r} has no task {task_id!r}",
                        {"task_id": task_id})


def invalid_state(app: App, task_id: str, state: Any, wanted: str) -> RequestError:
    """The debug verbs' answer for a task in the wrong state (``wanted``: what it must be)."""
    return RequestError("invalid_state",
                        f"task {task_id!r} of app {app.id!r} is {state}, not {wanted}",
                        {"task_id": task_id, "state": state})


def rearm(ctx: Context, handle: TimerHandle | None, at: float, callback: Callable[[], None], *,
          app: str | None = None, task: str | None = None) -> TimerHandle:
    """``handle`` itself if it is armed for ``at`` already (it keeps its place among timers due at
    the same instant), else a new timer for ``at`` (``handle`` cancelled)."""
    at = max(float(at), ctx.now)
    if handle is not None and not handle.cancelled:
        if handle.when == at:
            return handle
        handle.cancel()
    return ctx.call_at(at, callback, app=app, task=task)


K = TypeVar("K", bound=Hashable)


class TimerMap(Generic[K]):
    """One family of a policy's timers (a task's expiry, an app's quota, ...), one per key.

    Every timer of the family calls the same ``callback(key)``; arming a key again replaces its
    timer (re-arming it for the time it already has keeps it, and its place among timers due at
    the same instant). ``labels(key)`` names the app / task a failing callback is contained to.
    """

    __slots__ = ("_callback", "_ctx", "_handles", "_labels")

    def __init__(self, ctx: Context, callback: Callable[[K], None],
                 labels: Callable[[K], tuple[str | None, str | None]]) -> None:
        self._ctx = ctx
        self._callback = callback
        self._labels = labels
        self._handles: dict[K, TimerHandle] = {}

    def arm(self, key: K, at: float) -> None:
        """(Re)arm ``key`` for rig time ``at`` (now, if in the past)."""
        at = max(float(at), self._ctx.now)
        handle = self._handles.get(key)
        if handle is not None:
            if handle.when == at:
                return
            handle.cancel()
        app, task = self._labels(key)
        # a partial, not a lambda: a closure would make ``key`` a cell on every call of arm
        self._handles[key] = self._ctx.call_at(at, partial(self._fire, key), app=app, task=task)

    def _fire(self, key: K) -> None:
        del self._handles[key]
        self._callback(key)

    def cancel(self, key: K) -> None:
        """Disarm ``key`` (no error if it is not armed)."""
        handle = self._handles.pop(key, None)
        if handle is not None:
            handle.cancel()

    def when(self, key: K) -> float | None:
        """When ``key`` fires, or None."""
        handle = self._handles.get(key)
        return None if handle is None else handle.when


def app_label(key: str) -> tuple[str | None, str | None]:
    """Labels of a timer keyed by app id."""
    return key, None


def task_label(key: tuple[str, Any]) -> tuple[str | None, str | None]:
    """Labels of a timer keyed by ``(app id, task)``."""
    return key[0], str(key[1])


class SignalIndex:
    """Which keys (tasks) depend on which signals, so a change re-evaluates only those."""

    def __init__(self) -> None:
        self._by_signal: dict[str, set[Hashable]] = {}
        self._signals_of: dict[Hashable, frozenset[str]] = {}

    def add(self, key: Hashable, signals: Iterable[str]) -> None:
        """Index ``key`` under each signal it depends on (replacing an earlier entry)."""
        self.discard(key)
        names = frozenset(signals)
        self._signals_of[key] = names
        for name in names:
            self._by_signal.setdefault(name, set()).add(key)

    def discard(self, key: Hashable) -> None:
        """Forget ``key``."""
        for name in self._signals_of.pop(key, ()):
            bucket = self._by_signal.get(name)
            if bucket is not None:
                bucket.discard(key)

    def affected(self, changed: Iterable[str]) -> set[Hashable]:
        """Keys depending on any of the ``changed`` signals."""
        out: set[Hashable] = set()
        for name in changed:
            out |= self._by_signal.get(name, set())
        return out

    def __contains__(self, key: object) -> bool:
        return key in self._signals_of

    def __len__(self) -> int:
        return len(self._signals_of)


class NoArgs(VerbArgs):
    """The verb takes no arguments."""


#: Each policy class's verb models, read once from the annotations (:func:`_verb_models`).
_MODELS: Final[dict[type[Policy], dict[str, type[VerbArgs]]]] = {}


def _verb_models(cls: type[Policy]) -> dict[str, type[VerbArgs]]:
    cached = _MODELS.get(cls)
    if cached is not None:
        return cached
    models: dict[str, type[VerbArgs]] = {}
    for name in ("configure_app", *(f"verb_{v}" for v in cls.verbs())):
        model = _args_annotation(cls, name)
        if not (isinstance(model, type) and issubclass(model, VerbArgs)):
            if name == "configure_app":
                model = NoArgs
            else:
                raise TypeError(f"{cls.__name__}.{name}: annotate 'args' with its VerbArgs model")
        models["register" if name == "configure_app" else name.removeprefix("verb_")] = model
    _MODELS[cls] = models
    return models


def _args_annotation(cls: type[Policy], name: str) -> Any:
    """The ``args`` annotation of ``cls``'s method ``name``, evaluated as ``typing.get_type_hints``
    does. A mypyc-compiled method carries no annotations: then they are read from the module's
    ``.py`` source (beside the compiled module; the build's manifest holds its sha256), parsed
    once per module (:func:`_source_annotations`), and evaluated in the compiled module's
    namespace, which holds the same names."""
    owner = next(klass for klass in cls.__mro__ if name in vars(klass))
    method = vars(owner)[name]
    if hasattr(method, "__annotations__"):
        return typing.get_type_hints(method).get("args")
    text = _source_annotations(owner.__module__).get((owner.__name__, name))
    return None if text is None else eval(text, vars(sys.modules[owner.__module__]))  # as get_type_hints does


#: ``(class, method) -> args annotation text`` of each compiled module, parsed once: parsing a
#: policy's source per verb took 6–71 ms a policy (213 ms for the six), paid by the first request
#: of each platform, which made a live scenario's first steps late.
_SOURCE_ANNOTATIONS: dict[str, dict[tuple[str, str], str]] = {}


def _source_annotations(module_name: str) -> dict[tuple[str, str], str]:
    found = _SOURCE_ANNOTATIONS.get(module_name)
    if found is not None:
        return found
    top, *rest = module_name.split(".")  # a compiled module's __file__ names no .py
    source = Path(str(sys.modules[top].__file__)).parent.joinpath(*rest).with_suffix(".py")
    found = {}
    for node in ast.parse(source.read_text()).body:
        if not isinstance(node, ast.ClassDef):
            continue
        for item in node.body:
            if not isinstance(item, ast.FunctionDef):
                continue
            for a in (*item.args.posonlyargs, *item.args.args, *item.args.kwonlyargs):
                if a.arg == "args" and a.annotation is not None:
                    found[(node.name, item.name)] = ast.unparse(a.annotation)
    _SOURCE_ANNOTATIONS[module_name] = found
    return found
