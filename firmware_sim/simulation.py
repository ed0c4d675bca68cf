"""Run a scenario in virtual time: no sleeping, time jumps from one step or deadline to the next.

With ``board: sim`` (the default) the battery is the live sim board's model
(:class:`wbcommon.battery.BatteryModel`, the one :mod:`boards.battery` runs behind the emulated
MAX17048) on a virtual clock: the cell drains at the sim's load while no charger is attached and
charges while one is. The scheduler gets a new snapshot each time the level crosses a whole
percent — the exact crossing time, computed, never stepped — so the ≤ 20 % and battery-low
rules trigger by themselves. ``charging``, ``current`` and ``voltage`` are the model's (charging
⇔ a charger is attached and the cell is not full, as on the live sim); a step that sets
``battery_level`` or ``charger`` changes the model, and each step is ONE snapshot. The seam:
``firmware_sim`` may not import ``boards``, so the model lives in the shared leaf ``wbcommon``.

Reactive steps (``on:``) are run by a :class:`Reactor`, shared with the live player: each event
that matches a reaction schedules its step ``after`` seconds later; with reactions the run stops
at every scheduler deadline, so a reaction due between two steps runs at its exact time. Steps
and reactions due at the same time run in file order, reactions after the timed steps. Two
bounds stop a reaction loop and fail the run with the step's line (live too): more than
:data:`MAX_REACTIONS_PER_INSTANT` steps at one instant, and a reaction without ``count`` /
``nth`` firing more than :data:`MAX_REACTION_FIRES` times in the run (re-submit on every expire).

A request that is refused fails the run (:attr:`SimulationResult.failures`, exit 1) unless the
step says ``expect_error`` with that code or a ``status: error`` expectation matches it.

Over 500 lines on purpose: the virtual-time loop, the battery model's crossing times and the
:class:`Reactor` shared with the live player decide together when the run stops next; split,
the stop rules (steps, deadlines, reactions, percent crossings) would be read in three places.
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final, cast

from firmware_sim.errors import ConfigError, ScenarioError
from firmware_sim.events import Event
from firmware_sim.scenario import Expectation, Reaction, Scenario, Step
from firmware_sim.scheduler import Scheduler
from firmware_sim.signals import Signals
from wbcommon.battery import BatteryModel
from wbcommon.faults import SIM_GAUGE_SIGNALS, Fault

#: The board whose battery ``simulate`` models (the live sim board's model and defaults).
SIM_BOARD = "sim"
#: Signals the model derives; a scenario step may not set them on ``board: sim``.
MODEL_DERIVED = frozenset({"charging", "current", "voltage"})

_EPS = 1e-6

#: Reactions that may run at one rig instant before the run is stopped as a loop (a step that
#: answers a wake with a request that wakes again at once). wakebench choice: far above any
#: real app's burst (a WP8 device holds at most 6 periodic agents, HarmonyOS 10 works per app).
MAX_REACTIONS_PER_INSTANT: Final = 1000
#: Times one reactive step without ``count``/``nth`` may fire in a run; then it fires no more and
#: the run fails with a line naming it (a reaction re-firing itself through time, e.g. re-submit on
#: every expire, would otherwise run until ``until``, forever in a long live run). wakebench
#: bound: 30 days of a wake every 5 minutes is 8640; a step that means to fire more says
#: ``count:``.
MAX_REACTION_FIRES: Final = 10_000


@dataclass(frozen=True, slots=True)
class ResponseRecord:
    """One answer of the scheduler to one of the scenario's requests."""

    t: float
    app: str
    verb: str
    status: str
    code: str | None
    error: str | None
    data: dict[str, Any]
    line: int | None = None
    args: dict[str, Any] | None = None
    #: The error code the step said to expect (``expect_error``), None when it must succeed.
    expect_error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON shape of DESIGN.md section 6 (``error`` added for people)."""
        out = {
            "t": self.t,
            "app": self.app,
            "verb": self.verb,
            "status": self.status,
            "code": self.code,
            "data": self.data,
        }
        if self.error:
            out["error"] = self.error
        return out


@dataclass(frozen=True, slots=True)
class ExpectationResult:
    """Whether one expectation was met, and why not."""

    expect: Expectation
    met: bool
    detail: str

    def to_dict(self) -> dict[str, Any]:
        """JSON shape of DESIGN.md section 6."""
        return {"expect": self.expect.raw, "met": self.met, "detail": self.detail}


@dataclass(frozen=True, slots=True)
class StepFailure:
    """A step that did not do what the file says (a refused request, a reaction loop)."""

    t: float
    line: int | None
    message: str

    def to_dict(self) -> dict[str, Any]:
        """JSON: ``{"t", "line", "message"}``."""
        return {"t": self.t, "line": self.line, "message": self.message}


class Reactor:
    """Turns events into the reactive steps they trigger (simulation and live player alike)."""

    def __init__(self, reactions: Iterable[Reaction]) -> None:
        self.reactions = tuple(reactions)
        self._seen = [0] * len(self.reactions)
        self._fired = [0] * len(self.reactions)
        #: Reactions stopped at :data:`MAX_REACTION_FIRES` (one failure each).
        self.failures: list[StepFailure] = []

    def react(self, events: Iterable[Event]) -> list[Step]:
        """The steps that ``events`` trigger, each with ``at`` = event time + ``after``, in order.

        A reaction without ``count`` / ``nth`` fires at most :data:`MAX_REACTION_FIRES` times;
        the next trigger records a :class:`StepFailure` naming its line and it fires no more.
        """
        due: list[Step] = []
        for e in events:
            for i, r in enumerate(self.reactions):
                if not r.on.matches(e.app, e.type, e.task_id, e.reason):
                    continue
                self._seen[i] += 1
                if not r.wants(self._seen[i]):
                    continue
                if r.count is None and r.nth is None and self._fired[i] >= MAX_REACTION_FIRES:
                    if self._fired[i] == MAX_REACTION_FIRES:
                        self._fired[i] += 1
                        self.failures.append(StepFailure(e.t, r.line, (
                            f"reactive step at line {r.line} fired {MAX_REACTION_FIRES} times "
                            f"(MAX_REACTION_FIRES) and was stopped at {e.t:g} s: a reaction that "
                            "keeps triggering itself; give it 'count:' to allow more")))
                    continue
                self._fired[i] += 1
                due.append(r.bind(e.t + r.after, e.task_id))
        return due


@dataclass(frozen=True, slots=True)
class SimulationResult:
    """Everything a run produced."""

    scenario: Scenario
    events: tuple[Event, ...]
    responses: tuple[ResponseRecord, ...]
    expectations: tuple[ExpectationResult, ...]
    signal_history: tuple[Signals, ...]
    #: Everything in the order it happened: ResponseRecord, Signals (a change) or Event.
    log: tuple[ResponseRecord | Signals | Event, ...] = ()
    #: Steps that failed (refused requests nobody expected, reaction loops).
    failures: tuple[StepFailure, ...] = ()

    @property
    def passed(self) -> bool:
        """True when every expectation was met and no step failed."""
        return all(r.met for r in self.expectations) and not self.failures

    def to_dict(self) -> dict[str, Any]:
        """The ``simulate --json`` object."""
        epoch = self.scenario.start
        return {
            "scenario": self.scenario.name,
            "events": [e.to_dict(epoch) for e in self.events],
            "responses": [r.to_dict() for r in self.responses],
            "expectations": [r.to_dict() for r in self.expectations],
            "failures": [f.to_dict() for f in self.failures],
        }


class _VirtualNow:
    """The model's clock: rig seconds, moved by the simulation."""

    def __init__(self) -> None:
        self.t = 0.0

    def now(self) -> float:
        return self.t


class _Battery:
    """The sim board's battery model on a virtual clock, read as signals."""

    def __init__(self, initial: Signals) -> None:
        self.clock = _VirtualNow()
        self.model = BatteryModel(clock=self.clock, soc=cast(float, initial.battery_level),
                                  plugged=initial.charger != "none")

    def values(self) -> dict[str, Any]:
        current = self.model.current
        return {"battery_level": round(self.model.soc, 6), "current": current,
                "voltage": round(self.model.voltage, 6), "charging": current > 0}

    def apply(self, t: float, values: dict[str, Any]) -> None:
        self.clock.t = t
        if "battery_level" in values:
            self.model.set_soc(float(values["battery_level"]))
        if "charger" in values:
            if values["charger"] == "none":
                self.model.unplug()
            else:
                self.model.plug()

    def next_crossing(self) -> float | None:
        """Rig time at which the level reaches the next whole percent, or None."""
        soc = self.model.soc
        current = self.model.current
        if current == 0.0:
            return None
        below, above = math.floor(soc + _EPS), math.ceil(soc - _EPS)
        target = min(max(below + 1 if current > 0 else above - 1, 0), 100)
        if abs(target - soc) <= _EPS:  # full or empty within float error: nothing left to cross
            return None
        wait = self.model.seconds_until_level(float(target))
        return None if wait is None else self.clock.t + max(wait, 0.0)


class _Faults:
    """Faults in virtual time (issue 9 item 4): a faulty gauge's signals are unknown (its
    readings are not published), a stuck charger pin keeps reporting the charger it had, a
    flapping link reports no network; clearing publishes the truth again."""

    def __init__(self, initial: Signals) -> None:
        self.gauge = False
        self.charger_held: str | None = None
        self.network_down = False
        self.truth: dict[str, Any] = {"charger": initial.charger, "network": initial.network}

    def active(self, target: str) -> bool:
        return {"gauge": self.gauge, "charger": self.charger_held is not None,
                "network": self.network_down}[target]

    def seen(self, values: dict[str, Any]) -> dict[str, Any]:
        """What the sources report of ``values`` (the truth) under the active faults."""
        for name in ("charger", "network"):
            if name in values:
                self.truth[name] = values[name]
        out = dict(values)
        if self.gauge:
            for name in SIM_GAUGE_SIGNALS:
                out.pop(name, None)
        if self.charger_held is not None:
            out["charger"] = self.charger_held
        if self.network_down:
            out["network"] = "none"
        return out

    def apply(self, f: Fault, readings: dict[str, Any]
              ) -> tuple[dict[str, Any], tuple[str, ...], tuple[str, ...]]:
        """Values to publish, signals turning unknown, signals known again."""
        if f.target == "gauge":
            self.gauge = not f.clears
            if self.gauge:
                unplugged = self.truth["charger"] == "none"
                return {}, tuple(n for n in SIM_GAUGE_SIGNALS
                                 if not (n == "charging" and unplugged)), ()
            return dict(readings), (), SIM_GAUGE_SIGNALS
        if f.target == "charger":
            self.charger_held = None if f.clears else str(self.truth["charger"])
            return {"charger": self.truth["charger"]}, (), ()
        self.network_down = not f.clears
        return {"network": self.truth["network"]}, (), ()


def simulate(scenario: Scenario) -> SimulationResult:
    """Play ``scenario`` from t = 0 to ``until`` and check its expectations.

    Raises:
        ScenarioError: a step sets a signal the sim board's battery model derives, or the
            scenario's ``limits`` are refused by a platform (names the file and field).
    """
    battery = _Battery(scenario.initial) if scenario.board == SIM_BOARD else None
    initial = scenario.initial
    if battery is not None:
        for step in (*scenario.steps, *(r.step for r in scenario.reactions)):
            derived = sorted(set(step.set) & MODEL_DERIVED)
            if derived:
                raise ScenarioError(
                    scenario.path, step.line, f"set.{derived[0]}",
                    f"{derived[0]!r} is derived by the sim board's battery model "
                    "(set charger or battery_level instead)")
        initial = initial.updated(battery.values(), t=0.0)
    try:
        sched = Scheduler(
            signals=initial, seed=scenario.seed, limits=scenario.limits, epoch=scenario.start
        )
    except (ConfigError, ValueError, TypeError, OverflowError) as exc:
        raise ScenarioError(scenario.path, None, "limits", str(exc)) from None
    events: list[Event] = []
    responses: list[ResponseRecord] = []
    history: list[Signals] = [initial]
    log: list[ResponseRecord | Signals | Event] = []
    failures: list[StepFailure] = []
    reactor = Reactor(scenario.reactions)
    order = itertools.count()
    #: (at, order, step): timed steps in file order first, reactions as they are triggered
    pending: list[tuple[float, int, Step]] = [(s.at, next(order), s) for s in scenario.steps]
    heapq.heapify(pending)

    def add_events(produced: list[Event]) -> None:
        events.extend(produced)
        log.extend(produced)
        for step in reactor.react(produced):
            heapq.heappush(pending, (step.at, next(order), step))

    faults = _Faults(initial)

    def publish(t: float, values: dict[str, Any], *, stale: tuple[str, ...] = (),
                fresh: tuple[str, ...] = ()) -> None:
        seen = faults.seen(values)
        if not (seen or stale or fresh):
            return  # a faulty gauge's readings are not published
        add_events(sched.advance(t))
        snapshot = sched.signals.updated(seen, t=t, stale=stale, fresh=fresh)
        history.append(snapshot)
        log.append(snapshot)
        add_events(sched.set_signals(t, snapshot))

    def battery_until(t: float) -> None:
        """Publish each whole-percent crossing of the model before ``t``."""
        if battery is None:
            return
        while (crossing := battery.next_crossing()) is not None and crossing < t:
            battery.clock.t = crossing
            publish(crossing, battery.values())
        battery.clock.t = t

    def fault(t: float, f: Fault) -> None:
        """Apply (or clear) a fault; a timed one is cleared at its end (a pending step)."""
        values, stale, fresh = faults.apply(f, battery.values() if battery is not None else {})
        if f.duration_s is not None:
            fault_ends.append((t + f.duration_s, Fault(f.target, "clear")))
        publish(t, values, stale=stale, fresh=fresh)

    fault_ends: list[tuple[float, Fault]] = []

    def faults_until(t: float, *, inclusive: bool) -> None:
        """Clear the timed faults that end before ``t`` (at ``t`` too when ``inclusive``)."""
        while fault_ends:
            fault_ends.sort(key=lambda p: p[0])
            end, f = fault_ends[0]
            if end > t or (end == t and not inclusive):
                return
            fault_ends.pop(0)
            battery_until(end)
            if faults.active(f.target):
                fault(end, f)

    def request(t: float, app: str, verb: str, args: dict[str, Any], line: int | None,
                expect_error: str | None = None) -> None:
        add_events(sched.advance(t))
        response, produced = sched.handle(t, app, verb, args)
        record = ResponseRecord(t, app, verb, response.status, response.code, response.error,
                                response.data, line, args, expect_error)
        responses.append(record)
        log.append(record)
        add_events(produced)

    def run(step: Step) -> None:
        if step.fault is not None:
            fault(step.at, step.fault)
        elif step.set:
            values = dict(step.set)
            unknown = tuple(values.pop("unknown", ()))
            if battery is not None:
                battery.apply(step.at, values)
                values.update(battery.values())
            publish(step.at, values, stale=unknown)
        else:
            assert step.app is not None and step.request is not None
            request(step.at, step.app, step.request, step.args, step.line, step.expect_error)

    for spec in scenario.apps:
        request(0.0, spec.id, "register", spec.register_args, spec.line)
    reactive = bool(scenario.reactions)
    instant, at_instant, stopped = -1.0, 0, False
    while pending or reactive:
        at = pending[0][0] if pending else math.inf
        if reactive:  # stop at every deadline before the step: its events may trigger reactions
            deadline = sched.next_deadline()
            if deadline is not None and deadline < at and deadline <= scenario.until:
                battery_until(deadline)
                add_events(sched.advance(deadline))
                continue
        if at > scenario.until:
            break
        faults_until(at, inclusive=True)
        battery_until(at)
        if pending[0][0] < at:  # a battery crossing or a fault's end triggered an earlier reaction
            continue
        _at, _order, step = heapq.heappop(pending)
        if at == instant:
            at_instant += 1
            if at_instant > MAX_REACTIONS_PER_INSTANT:
                failures.append(StepFailure(at, step.line, (
                    f"reactive steps keep triggering each other at {at:g} s (more than "
                    f"{MAX_REACTIONS_PER_INSTANT} steps at one instant); the run stopped there")))
                stopped = True
                break
        else:
            instant, at_instant = at, 1
        run(step)
    if not stopped:
        faults_until(scenario.until, inclusive=True)
        battery_until(scenario.until)
        add_events(sched.advance(scenario.until))

    results = tuple(check(exp, events, responses) for exp in scenario.expect)
    failures = [*refused_steps(responses, scenario.expect), *reactor.failures, *failures]
    return SimulationResult(scenario, tuple(events), tuple(responses), results, tuple(history), tuple(log),
                            tuple(failures))


def refused_steps(responses: Iterable[ResponseRecord], expect: Iterable[Expectation],
                  tolerance: float = 0.0) -> list[StepFailure]:
    """Requests whose outcome the file did not ask for: refused without ``expect_error`` or a
    matching ``status: error`` expectation, refused with another code, or accepted although
    ``expect_error`` said otherwise. ``tolerance`` widens the expectations' windows (live)."""
    errors = [e for e in expect if e.response is not None and e.status == "error"]
    out: list[StepFailure] = []
    for r in responses:
        where = f"{r.app} {r.verb}"
        if r.status == "ok":
            if r.expect_error is not None:
                out.append(StepFailure(r.t, r.line, f"{where}: expected error {r.expect_error}, but it succeeded"))
            continue
        if r.expect_error is not None:
            if r.code != r.expect_error:
                out.append(StepFailure(r.t, r.line, (f"{where}: expected error {r.expect_error}, "
                                                     f"refused with {r.code}: {r.error}")))
            continue
        if any(_expects_error(e, r, tolerance) for e in errors):
            continue
        out.append(StepFailure(r.t, r.line, (f"{where} refused: {r.code}: {r.error} (if this is "
                                             f"intended, add expect_error: {r.code} to the step)")))
    return out


def _expects_error(exp: Expectation, r: ResponseRecord, tolerance: float) -> bool:
    if exp.response != r.verb or exp.app not in (None, r.app) or exp.code not in (None, r.code):
        return False
    if exp.data is not None and not subset(exp.data, r.data):
        return False
    if exp.start is None or exp.end is None:
        return True
    return exp.start - _EPS <= r.t <= exp.end + tolerance + _EPS


def subset(want: Any, have: Any) -> bool:
    """True when ``want`` is part of ``have``: mappings key by key (recursively), anything else
    equal (``1`` matches ``1.0``; a list must match element by element)."""
    if isinstance(want, dict):
        return isinstance(have, dict) and all(k in have and subset(v, have[k]) for k, v in want.items())
    if isinstance(want, list):
        return (isinstance(have, list) and len(want) == len(have)
                and all(subset(a, b) for a, b in zip(want, have, strict=True)))
    if isinstance(want, bool) or isinstance(have, bool):
        return isinstance(want, bool) and isinstance(have, bool) and want is have
    return bool(want == have)


def _in_window(exp: Expectation, t: float) -> bool:
    if exp.start is None or exp.end is None:
        return True
    return exp.start - _EPS <= t <= exp.end + _EPS


def check(exp: Expectation, events: list[Event], responses: list[ResponseRecord]) -> ExpectationResult:
    """Evaluate one expectation against a run's events and responses."""
    matches: list[float]
    if exp.event is not None:
        matches = [
            e.t
            for e in events
            if e.type == exp.event
            and exp.app in (None, e.app)
            and exp.task in (None, e.task_id)
            and exp.reason in (None, e.reason)
            and _in_window(exp, e.t)
        ]
        what = f"{exp.event} events"
    else:
        matches = [
            r.t
            for r in responses
            if r.verb == exp.response
            and exp.app in (None, r.app)
            and (exp.status or "ok") == r.status
            and exp.code in (None, r.code)
            and (exp.data is None or subset(exp.data, r.data))
            and _in_window(exp, r.t)
        ]
        what = f"{exp.response} responses"
    if exp.count is not None:
        met = len(matches) == exp.count
        detail = f"{len(matches)} matching {what}, expected exactly {exp.count}"
    else:
        met = bool(matches)
        detail = f"{len(matches)} matching {what}" + ("" if met else ", expected at least one")
    if matches:
        detail += " at " + ", ".join(f"{t:g}s" for t in matches[:5]) + ("..." if len(matches) > 5 else "")
    elif not met:
        detail += _near_miss(exp, events, responses)
    return ExpectationResult(exp, met, detail)


def _near_miss(exp: Expectation, events: list[Event], responses: list[ResponseRecord]) -> str:
    """Say what came closest, so a failing expectation is quick to debug."""
    if exp.event is not None:
        same = [e for e in events if e.type == exp.event and exp.app in (None, e.app)]
        if same:
            e = same[0]
            return f"; nearest: {e.type} task={e.task_id} reason={e.reason} at {e.t:g}s"
    else:
        same_r = [r for r in responses if r.verb == exp.response and exp.app in (None, r.app)]
        if same_r:
            r = same_r[0]
            data = f" data={r.data}" if exp.data is not None else ""
            return f"; nearest: {r.verb} {r.status} code={r.code}{data} at {r.t:g}s"
    return ""
