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
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from firmware_sim.errors import ScenarioError
from firmware_sim.events import Event
from firmware_sim.scenario import Expectation, Scenario
from firmware_sim.scheduler import Scheduler
from firmware_sim.signals import Signals
from wbcommon.battery import BatteryModel
from wbcommon.faults import SIM_GAUGE_SIGNALS, Fault

#: The board whose battery ``simulate`` models (the live sim board's model and defaults).
SIM_BOARD = "sim"
#: Signals the model derives; a scenario step may not set them on ``board: sim``.
MODEL_DERIVED = frozenset({"charging", "current", "voltage"})

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
        self.model = BatteryModel(clock=self.clock, soc=initial.battery_level,
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
        target = below + 1 if current > 0 else above - 1
        wait = self.model.seconds_until_level(float(min(max(target, 0), 100)))
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
        ScenarioError: a step sets a signal the sim board's battery model derives.
    """
    battery = _Battery(scenario.initial) if scenario.board == SIM_BOARD else None
    initial = scenario.initial
    if battery is not None:
        for step in scenario.steps:
            derived = sorted(set(step.set) & MODEL_DERIVED)
            if derived:
                raise ScenarioError(
                    scenario.path, step.line, f"set.{derived[0]}",
                    f"{derived[0]!r} is derived by the sim board's battery model "
                    "(set charger or battery_level instead)")
        initial = initial.updated(battery.values(), t=0.0)
    sched = Scheduler(
        signals=initial, seed=scenario.seed, limits=scenario.limits, epoch=scenario.start
    )
    events: list[Event] = []
    responses: list[ResponseRecord] = []
    history: list[Signals] = [initial]
    log: list[ResponseRecord | Signals | Event] = []

    def add_events(produced: list[Event]) -> None:
        events.extend(produced)
        log.extend(produced)

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
            pending.append((t + f.duration_s, Fault(f.target, "clear")))
        publish(t, values, stale=stale, fresh=fresh)

    pending: list[tuple[float, Fault]] = []

    def faults_until(t: float, *, inclusive: bool) -> None:
        """Clear the timed faults that end before ``t`` (at ``t`` too when ``inclusive``)."""
        while pending:
            pending.sort(key=lambda p: p[0])
            end, f = pending[0]
            if end > t or (end == t and not inclusive):
                return
            pending.pop(0)
            battery_until(end)
            if faults.active(f.target):
                fault(end, f)

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
        faults_until(step.at, inclusive=True)
        battery_until(step.at)
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
            request(step.at, step.app, step.request, step.args, step.line)
    faults_until(scenario.until, inclusive=True)
    battery_until(scenario.until)
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
