"""Scenarios played on the live rig (``wakebench run --scenario``): steps at their rig times,
reactions, expectations checked against what subscribers really received, and a tolerance that
is measured (how late each step's effect came), never assumed.

Split from :mod:`wakebench.rig`, which builds and runs the rig itself; this module only drives a
started :class:`~wakebench.rig.Rig` through a scenario.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final, TextIO

from firmware_sim.clock import ManualClock, ScaledClock
from firmware_sim.events import Event
from firmware_sim.scenario import AppSpec, Expectation, Scenario, Step
from firmware_sim.signals import Signals
from firmware_sim.simulation import (
    MAX_REACTIONS_PER_INSTANT,
    ExpectationResult,
    Reactor,
    ResponseRecord,
    StepFailure,
    check,
    refused_steps,
)
from mqtt_bridge import AppClient
from mqtt_bridge.errors import BridgeError
from wakebench.config import RigError

if TYPE_CHECKING:
    from wakebench.rig import Rig

__all__ = ["LiveResult", "checked_window", "live_tolerance", "play_scenario", "scenario_initial", "step_apps"]


#: A-priori estimate of how late a step may be applied live: 0.25 s of wall time at the rig's
#: speed, never less than LIVE_TOLERANCE_MIN_S rig seconds. Only used to warn before the run that
#: a window may be too narrow; the tolerance actually applied is MEASURED (see play_scenario).
#: wakebench choice.
LIVE_TOLERANCE_WALL_S: Final = 0.25
LIVE_TOLERANCE_MIN_S: Final = 1.0


@dataclasses.dataclass(frozen=True, slots=True)
class LiveResult:
    """What a scenario produced on the live rig, and whether its expectations were met.

    Times are scenario seconds (rig time minus ``origin``, the rig time at which the scenario's
    apps were connected and its t = 0 began). ``tolerance`` is the measured lateness: the most
    any step's effect came after its time in the file (round trip included), in rig seconds.
    """

    scenario: Scenario
    events: tuple[Event, ...]
    responses: tuple[ResponseRecord, ...]
    expectations: tuple[ExpectationResult, ...]
    tolerance: float
    manual: tuple[tuple[float, dict[str, Any]], ...]
    failures: tuple[StepFailure, ...] = ()
    lateness: tuple[float, ...] = ()
    origin: float = 0.0
    speed: float = 1.0
    #: lateness of reactive steps beyond their trigger's (added on top of the worst timed step)
    reaction_lateness: tuple[float, ...] = ()

    @property
    def passed(self) -> bool:
        """True when every expectation was met (and verifiable) and no step failed."""
        return all(r.met for r in self.expectations) and not self.failures


def live_tolerance(speed: float) -> float:
    """The a-priori lateness estimate at ``speed`` (see LIVE_TOLERANCE_WALL_S), in rig seconds."""
    return max(LIVE_TOLERANCE_MIN_S, speed * LIVE_TOLERANCE_WALL_S)


def checked_window(exp: Expectation, steps: Sequence[tuple[float, str | None]], until: float) -> float | None:
    """Rig seconds of timing an expectation checks, or None when it has no ``at``.

    ``steps`` are the file's timed steps as ``(time, app)`` (``app`` None for signal steps and for
    the registration at 0, which concern every app); an expectation about one app is measured
    against that app's steps and the signal steps only. Reactions move with their events.

    A window measured from a cause: from the latest step before it to its end (``at: 30s``
    after a step at 0 checks 30 s). A window that opens with a step (an immediate consequence,
    ``at: 5m`` with a step at 5m) checks that the event came with that step and not with the next
    one: the time from its end to the next step (or ``until``). An absence range (``count: 0``,
    never widened) checks its own width.
    """
    if exp.start is None or exp.end is None:
        return None
    if exp.count == 0 and exp.end > exp.start:  # an absence: late steps only push events later,
        return exp.end - exp.start                # so what it checks is its own width
    times = [t for t, app in steps if exp.app is None or app in (None, exp.app)]
    if any(abs(t - exp.start) < 1e-9 for t in times):
        return min((t for t in times if t > exp.end), default=until) - exp.end
    return exp.end - max((t for t in times if t < exp.start), default=0.0)


def step_apps(scenario: Scenario) -> list[tuple[float, str | None]]:
    """``(time, app)`` of the registration (0, every app) and each timed step (signal steps: None)."""
    return [(0.0, None), *((s.at, s.app) for s in scenario.steps)]


def _verdict(result: ExpectationResult, window: float | None, tolerance: float, speed: float) -> ExpectationResult:
    """``result``, or not met when ``tolerance`` is larger than the ``window`` it checks."""
    if window is None or tolerance <= window:
        return result
    fastest = math.floor(speed * window / tolerance) if tolerance > 0 else speed
    hint = f"run at --speed {fastest:g} or slower" if fastest >= 1 else "too narrow to check live"
    return dataclasses.replace(result, met=False, detail=(
        f"unverifiable live at ×{speed:g}: steps were applied up to {tolerance:.3g} s (rig time) "
        f"late, more than the {window:g} s this window checks; {hint} (measured: {result.detail})"))


async def play_scenario(rig: Rig, scenario: Scenario, *, initial: Mapping[str, Any] | None = None,
                        hands: TextIO | None = None, wait_for_hands: bool = False) -> LiveResult:
    """Play ``scenario`` on the rig clock: signal steps go to the board (or are reported as manual
    steps), app steps go through the MQTT bridge by an :class:`AppClient` per app, reactive steps
    run ``after`` their triggering event on rig time. Scenario t = 0 is the rig time at which every
    app is connected. At ``until`` the expectations are checked as ``simulate`` checks them, each
    window's end widened by the MEASURED tolerance (the latest any step took effect); an
    expectation whose window is narrower than that tolerance is unverifiable and not met, and a
    refused request fails the run unless the file expects it (as in ``simulate``). A step the
    board cannot make by itself is a manual step; with ``hands`` (a terminal) or ``wait_for_hands``
    the scenario waits for the human (Enter, ``wakebench continue``, or the board measuring it).

    Args:
        initial: the scenario's ``initial`` values to apply first (those the file names).
        hands: a terminal: a manual step then waits for the human (:meth:`Rig.wait_for_hand`:
            the board measuring the value, ``wakebench continue``, or Enter on this terminal)
            before the scenario goes on.
        wait_for_hands: wait for the human as well without a terminal (a real board: released by
            ``wakebench continue`` or by the board measuring the value).

    Raises:
        RigError: an app client could not reach the rig's broker.
    """
    clock, driver, source, _bridge = rig._require()
    assert rig.broker is not None
    speed = rig.config.speed
    events: list[Event] = []
    responses: list[ResponseRecord] = []
    manual: list[tuple[float, dict[str, Any]]] = []
    lateness: list[float] = []
    #: a reaction's time inherits its trigger's lateness; its own is kept apart and added on top
    reaction_lateness: list[float] = []
    step_times = step_apps(scenario)
    reactor = Reactor(scenario.reactions)
    reactions: set[asyncio.Task[None]] = set()
    origin = clock.now()
    printer = rig.printer
    estimate = live_tolerance(speed)
    for exp in scenario.expect:
        window = checked_window(exp, step_times, scenario.until)
        if window is not None and window < estimate:
            printer.note(f"note: line {exp.line} checks {window:g} s; at ×{speed:g} a step may be applied "
                         f"up to ~{estimate:g} s late: it may be unverifiable (the measured lateness decides)")

    def scenario_time() -> float:
        return clock.now() - origin

    playing = True
    loops: list[StepFailure] = []
    per_instant: dict[float, int] = {}

    def on_events(batch: list[Event]) -> None:
        if not playing:
            return
        shifted = [dataclasses.replace(e, t=e.t - origin, deadline=None if e.deadline is None
                                       else e.deadline - origin) for e in batch]
        events.extend(shifted)
        for step in reactor.react(shifted):
            per_instant[step.at] = per_instant.get(step.at, 0) + 1
            if per_instant[step.at] > MAX_REACTIONS_PER_INSTANT:
                if not loops:
                    loops.append(StepFailure(step.at, step.line, (
                        f"reactive steps keep triggering each other at {step.at:g} s (more than "
                        f"{MAX_REACTIONS_PER_INSTANT} steps at one instant); no more were run")))
                continue
            if step.at <= scenario.until:
                task = asyncio.create_task(run_at(step))
                reactions.add(task)
                task.add_done_callback(reactions.discard)

    driver.add_sink(on_events)
    if initial:
        left = await rig.set_signals(initial, origin="initial")
        if rig.stepped:
            await source.settled()
        if left:
            manual.append((scenario_time(), left))
            if hands is not None or wait_for_hands:
                await rig.wait_for_hand(left, stdin=hands)
    clients: dict[str, AppClient] = {}

    async def request(app: str, verb: str, args: dict[str, Any], line: int | None, due: float,
                      expect_error: str | None = None, late: list[float] | None = None) -> None:
        client = clients[app]
        t = scenario_time()
        try:  # the rig's driver prints the request and its answer
            response = await client.send(verb, args)
        except BridgeError as exc:
            raise RigError(f"scenario line {line}: {app} {verb}: {exc}") from exc
        (lateness if late is None else late).append(max(0.0, scenario_time() - due))
        status = str(response.get("status"))
        code = response.get("code")
        data = response.get("data") if isinstance(response.get("data"), dict) else {}
        responses.append(ResponseRecord(t, app, verb, status, code if isinstance(code, str) else None,
                                        response.get("error"), data or {}, line, args, expect_error))

    async def run_step(step: Step, late: list[float] | None = None) -> None:
        if step.fault is not None:
            await rig.inject_fault(step.fault)
            lateness.append(max(0.0, scenario_time() - step.at))
            return
        if step.set:
            if "unknown" in step.set:  # a scenario marks signals unknown directly
                await driver.update_signals({}, stale=frozenset(step.set["unknown"]))
            values = {n: v for n, v in step.set.items() if n != "unknown"}
            left = await rig.set_signals(values, origin=f"line {step.line}") if values else {}
            if rig.stepped and rig.source is not None:  # the change reaches the scheduler first
                await rig.source.settled()
            lateness.append(max(0.0, scenario_time() - step.at))
            if left:
                manual.append((scenario_time(), left))
                if hands is not None or wait_for_hands:
                    await rig.wait_for_hand(left, stdin=hands)
            return
        assert step.app is not None and step.request is not None
        await request(step.app, step.request, dict(step.args), step.line, step.at, step.expect_error, late)

    async def run_at(step: Step) -> None:  # a reaction
        await clock.sleep_until(origin + step.at)
        await run_step(step, reaction_lateness)

    async def connect(spec: AppSpec) -> None:
        assert rig.broker is not None
        client = AppClient(rig.broker, app_id=spec.id, rig=rig.config.rig_id)
        try:
            await client.__aenter__()
        except BridgeError as exc:
            raise RigError(f"scenario app {spec.id!r} cannot reach {rig.broker.url()}: {exc}") from exc
        clients[spec.id] = client
        # warm-up before t = 0, not recorded: the first request through the bridge pays one-time
        # costs (validators, topic routes) that would otherwise make the register step late
        rig.warming_up.add(spec.id)  # its not_registered answer is not printed as an error
        try:
            with contextlib.suppress(BridgeError):
                await client.send("status", {})
        finally:
            rig.warming_up.discard(spec.id)

    async def chain(steps: list[Step]) -> None:
        for step in steps:
            await run_step(step)

    try:
        # apps connect side by side before t = 0 (each round trip costs rig time at high speed),
        # then register together at t = 0
        await asyncio.gather(*(connect(spec) for spec in scenario.apps))
        origin = clock.now()
        await asyncio.gather(*(request(spec.id, "register", dict(spec.register_args), spec.line, 0.0)
                               for spec in scenario.apps))
        for batch in _batches(scenario.steps):
            await _reach(clock, origin + batch[0].at)
            if batch[0].set or batch[0].fault is not None:
                await run_step(batch[0])
                continue
            per_app: dict[str, list[Step]] = {}
            for step in batch:
                per_app.setdefault(step.app or "", []).append(step)
            await asyncio.gather(*(chain(steps) for steps in per_app.values()))
        await _reach(clock, origin + scenario.until)
        await driver.update_signals({})  # fire everything due up to `until` before checking
        while due := [t for t in reactions if not t.done()]:  # reactions due by `until` finish
            await asyncio.gather(*due)
    finally:
        playing = False
        for task in list(reactions):
            task.cancel()
        for client in clients.values():
            with contextlib.suppress(Exception):
                await client.close()
    tol = max(lateness, default=0.0) + max(reaction_lateness, default=0.0)
    results = tuple(check(_widen(exp, tol), events, responses) for exp in scenario.expect)
    results = tuple(
        _verdict(dataclasses.replace(r, expect=exp), checked_window(exp, step_times, scenario.until), tol, speed)
        for r, exp in zip(results, scenario.expect, strict=True))
    failures = (*refused_steps(responses, scenario.expect, tolerance=tol), *reactor.failures, *loops)
    return LiveResult(scenario, tuple(events), tuple(responses), results, tol, tuple(manual), failures,
                      tuple(lateness), origin, speed, tuple(reaction_lateness))


async def _reach(clock: ScaledClock | ManualClock, t: float) -> None:
    """Wait for rig time ``t``; a stepped rig's clock is moved there instead (never back)."""
    if isinstance(clock, ManualClock):
        clock.advance_to(max(t, clock.now()))
    await clock.sleep_until(t)


def _batches(steps: tuple[Step, ...]) -> list[list[Step]]:
    """Steps grouped for playing: each signal step alone; consecutive app steps of the same time
    together (run per app in file order, different apps side by side)."""
    out: list[list[Step]] = []
    for step in steps:
        last = out[-1] if out else None
        alone = step.set or step.fault is not None
        if alone or last is None or last[0].set or last[0].fault is not None or last[0].at != step.at:
            out.append([step])
        else:
            last.append(step)
    return out


def _widen(exp: Expectation, tol: float) -> Expectation:
    """Extend a window's end by ``tol``; absence windows (``count: 0``) stay as written."""
    if exp.end is None or exp.count == 0:
        return exp
    return dataclasses.replace(exp, end=exp.end + tol)


def scenario_initial(scenario: Scenario) -> dict[str, Any]:
    """The ``initial`` values the scenario file names (not every default of the snapshot)."""
    return {n: getattr(scenario.initial, n) for n in scenario.initial_names if n in Signals.names()}
