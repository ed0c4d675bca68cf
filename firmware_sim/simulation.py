"""Run a scenario in virtual time: no sleeping, time jumps from one step or deadline to the next."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from firmware_sim.events import Event
from firmware_sim.scenario import Expectation, Scenario
from firmware_sim.scheduler import Scheduler
from firmware_sim.signals import Signals

_EPS = 1e-6


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
class SimulationResult:
    """Everything a run produced."""

    scenario: Scenario
    events: tuple[Event, ...]
    responses: tuple[ResponseRecord, ...]
    expectations: tuple[ExpectationResult, ...]
    signal_history: tuple[Signals, ...]
    #: Everything in the order it happened: ResponseRecord, Signals (a change) or Event.
    log: tuple[ResponseRecord | Signals | Event, ...] = ()

    @property
    def passed(self) -> bool:
        """True when every expectation was met."""
        return all(r.met for r in self.expectations)

    def to_dict(self) -> dict[str, Any]:
        """The ``simulate --json`` object."""
        epoch = self.scenario.start
        return {
            "scenario": self.scenario.name,
            "events": [e.to_dict(epoch) for e in self.events],
            "responses": [r.to_dict() for r in self.responses],
            "expectations": [r.to_dict() for r in self.expectations],
        }


def simulate(scenario: Scenario) -> SimulationResult:
    """Play ``scenario`` from t = 0 to ``until`` and check its expectations."""
    sched = Scheduler(
        signals=scenario.initial, seed=scenario.seed, limits=scenario.limits, epoch=scenario.start
    )
    events: list[Event] = []
    responses: list[ResponseRecord] = []
    history: list[Signals] = [scenario.initial]
    log: list[ResponseRecord | Signals | Event] = []

    def add_events(produced: list[Event]) -> None:
        events.extend(produced)
        log.extend(produced)

    def request(t: float, app: str, verb: str, args: dict[str, Any], line: int | None) -> None:
        add_events(sched.advance(t))
        response, produced = sched.handle(t, app, verb, args)
        record = ResponseRecord(
            t, app, verb, response.status, response.code, response.error, response.data, line, args
        )
        responses.append(record)
        log.append(record)
        add_events(produced)

    for spec in scenario.apps:
        request(0.0, spec.id, "register", spec.register_args, spec.line)
    for step in scenario.steps:
        if step.set:
            add_events(sched.advance(step.at))
            snapshot = sched.signals.updated(step.set, t=step.at)
            history.append(snapshot)
            log.append(snapshot)
            add_events(sched.set_signals(step.at, snapshot))
        else:
            assert step.app is not None and step.request is not None
            request(step.at, step.app, step.request, step.args, step.line)
    add_events(sched.advance(scenario.until))

    results = tuple(check(exp, events, responses) for exp in scenario.expect)
    return SimulationResult(scenario, tuple(events), tuple(responses), results, tuple(history), tuple(log))


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
            return f"; nearest: {r.verb} {r.status} code={r.code} at {r.t:g}s"
    return ""
