"""The rig daemon: one board's signal source, the scheduler on the rig clock, the MQTT bridge,
an embedded broker when none is configured, and the state directory. Kept thin: each part is
built by its own package; this module only wires them and orders start and stop.

Signal path: a pin edge → :class:`boards.source.BoardSource` → :meth:`Rig._on_update` →
``driver.update_signals`` (no polling in between) → the scheduler's events → the bridge's
publisher and the terminal, in that order, at once.

Rig time across restarts: the rig clock continues from the rig time saved with the scheduler
state (``scheduler-state.json`` in the state directory), not from the wall clock. Downtime does
not count: a task with 4 minutes of budget left when the rig stopped has 4 minutes left after
the restart, and saved deadlines (WP8 periodic slots, iOS earliest-begin dates, HarmonyOS
repeat cycles) stay meaningful relative to rig time — as on a phone that was switched off.
``ts`` fields stay wall time.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final, TextIO

import yaml

from boards import BoardError, BoardSource, NotSettableError, SourceUpdate, build_source
from boards.faults import FaultInjector
from firmware_sim.clock import ScaledClock
from firmware_sim.driver import SchedulerDriver
from firmware_sim.errors import ConfigError, SignalError
from firmware_sim.events import Event
from firmware_sim.persistence import StateStore
from firmware_sim.scenario import AppSpec, Expectation, Scenario, Step
from firmware_sim.scheduler import Scheduler
from firmware_sim.signals import Signals
from firmware_sim.simulation import ExpectationResult, ResponseRecord, check
from mqtt_bridge import AppClient, Bridge, BridgeConfig, BrokerConfig
from mqtt_bridge.errors import BridgeError
from wakebench.broker import BrokerError, BrokerKind, EmbeddedBroker, connect_hint, start_embedded_broker
from wakebench.config import RigConfig, RigError
from wakebench.records import RecordWriter
from wakebench.timefmt import clock as fmt_clock
from wbcommon.faults import Fault

__all__ = ["LiveResult", "Printer", "Rig", "RigStartError", "live_tolerance", "play_scenario", "print_banner"]

log = logging.getLogger(__name__)

#: Shortest wall time between two sensor polls. Poll periods are rig seconds; at ``--speed 600``
#: a 1 s period would mean 600 gauge reads per wall second, so the period is stretched to at
#: least this much wall time (battery signals move slowly; charger and network are edges).
MIN_WALL_POLL_S: Final = 0.5
#: How long start-up waits for the broker before going on (events wait in the outbox).
CONNECT_WAIT_S: Final = 5.0
#: Signals whose every change is worth a terminal line (the analogue ones change every poll).
_DISCRETE: Final = ("charger", "charging", "network", "metered", "roaming", "storage_low", "screen_locked",
                    "idle", "on_call", "user_present", "low_power_mode", "battery_saver")


class RigStartError(RigError):
    """The rig could not start (state directory, broker, board); the message says what to do."""


class Printer:
    """Readable terminal lines for events, signal changes and rig events, as they happen.

    Args:
        out: where to write (stdout by default); None prints nothing.
        color: use colours (default: when ``out`` is a terminal).
    """

    STYLES: Final = {"wake": "green", "expire": "yellow", "revoke": "red", "terminate": "bold red",
                     "unscheduled": "magenta", "signals": "cyan", "fault": "bold yellow",
                     "manual": "bold magenta", "rig": "blue", "request": "", "error": "red"}

    def __init__(self, out: TextIO | None = None, *, color: bool | None = None) -> None:
        self.out = out
        self._console: Any = None
        if out is not None:
            from rich.console import Console

            self._console = Console(file=out, highlight=False, soft_wrap=True,
                                    force_terminal=color, no_color=color is False)
        self._battery_pct: int | None = None

    def line(self, t: float, kind: str, who: str, detail: str = "") -> None:
        """One line: ``0:05:00.250  REVOKE      mail/sync  charger_removed``."""
        if self._console is None:
            return
        from rich.text import Text

        text = Text.assemble(f"{_stamp(t):>14}  ", (f"{kind.upper():<10}", self.STYLES.get(kind, "")),
                             f"  {who:<24}", f"  {detail}" if detail else "")
        self._console.print(text)
        with contextlib.suppress(Exception):
            self.out.flush()  # type: ignore[union-attr]

    def note(self, message: str) -> None:
        """A free-form line (banner, hints)."""
        if self._console is not None:
            self._console.print(message, markup=False)
            with contextlib.suppress(Exception):
                self.out.flush()  # type: ignore[union-attr]

    def events(self, events: list[Event]) -> None:
        """Driver sink: one line per event."""
        for e in events:
            detail = [e.reason] if e.reason else []
            if e.type == "wake" and e.deadline is not None:
                detail.append(f"until {fmt_clock(e.deadline)}")
            detail.append(f"({e.platform} #{e.seq})")
            self.line(e.t, e.type, f"{e.app}/{e.task_id or '-'}", " ".join(detail))

    def signals(self, before: Signals | None, after: Signals) -> None:
        """A line for discrete signal changes and whole-percent battery steps; a stale signal
        shows as ``unknown``, never as its last value."""
        after = after.effective()
        before = None if before is None else before.effective()
        changes = [f"{n}={_fmt(getattr(after, n))}" for n in _DISCRETE
                   if before is None or getattr(before, n) != getattr(after, n)
                   or (n in before.unknown) != (n in after.unknown)]
        level = after.battery_level
        pct = -1 if level is None else int(level)
        if pct != self._battery_pct:
            changes.insert(0, "battery_level=unknown" if level is None else f"battery_level={pct}%")
            self._battery_pct = pct
        if before is not None and before.stale != after.stale:
            changes.append(f"stale=[{', '.join(sorted(after.stale))}]")
        if changes:
            self.line(after.t, "signals", "", ", ".join(changes))


def _stamp(t: float) -> str:
    """Rig time with milliseconds: ``0:05:00.250``."""
    whole = int(t)
    return f"{fmt_clock(float(whole))}.{int((t - whole) * 1000):03d}"


def _fmt(value: Any) -> str:
    if value is None:
        return "unknown"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


class Rig:
    """One running rig.

    Args:
        config: the validated configuration (file + flags).
        embedded: which embedded broker to start when ``config`` names none.
        printer: terminal output (None: silent).
        persist: load and save scheduler state in the state directory (a scenario run does not).
        seed / limits: override the config's (a scenario's own seed and limits).
        recorder: ``run --record``: gets every event batch and signals snapshot as it happens.
    """

    def __init__(
        self,
        config: RigConfig,
        *,
        embedded: BrokerKind = "auto",
        printer: Printer | None = None,
        persist: bool = True,
        seed: int | None = None,
        limits: Mapping[str, Mapping[str, Any]] | None = None,
        recorder: RecordWriter | None = None,
    ) -> None:
        self.config = config
        self.recorder = recorder
        self.embedded_kind: BrokerKind = embedded
        self.printer = printer or Printer(None)
        self.persist = persist
        self.seed = config.seed if seed is None else seed
        self.limits = {**{k: dict(v) for k, v in config.limits.items()},
                       **{k: dict(v) for k, v in (limits or {}).items()}}
        self.state_dir: Path | None = config.resolved_state_dir if persist else None
        self.resumed_from: float | None = None
        self.embedded: EmbeddedBroker | None = None
        self.broker: BrokerConfig | None = None
        self.clock: ScaledClock | None = None
        self.driver: SchedulerDriver | None = None
        self.source: BoardSource | None = None
        self.bridge: Bridge | None = None
        #: faults on demand (``inject_fault``, ``wakebench fault``, scenario ``fault:`` steps)
        self.injector: FaultInjector | None = None
        self.faults: list[str] = []
        self._run_task: asyncio.Task[None] | None = None
        self._stopping = False
        self._started = False
        self._last_signals: Signals | None = None
        self._announced = False

    # -- parts (after start) -----------------------------------------------------------------
    def _require(self) -> tuple[ScaledClock, SchedulerDriver, BoardSource, Bridge]:
        if self.clock is None or self.driver is None or self.source is None or self.bridge is None:
            raise RigError("the rig is not started")
        return self.clock, self.driver, self.source, self.bridge

    @property
    def broker_url(self) -> str:
        """Where the rig's broker is (``mqtt://127.0.0.1:PORT`` for the embedded one)."""
        if self.broker is None:
            raise RigError("the rig is not started")
        return self.broker.url()

    @property
    def poll_interval(self) -> float:
        """Sensor poll period in rig seconds (stretched at high ``--speed``, see :data:`MIN_WALL_POLL_S`)."""
        return max(self.config.poll_interval, self.config.speed * MIN_WALL_POLL_S)

    # -- lifecycle ---------------------------------------------------------------------------
    async def start(self) -> None:
        """Load state, start the broker (if embedded), the source, the bridge and the scheduler.

        Raises:
            RigStartError: state directory, saved state, broker or board problem (says which).
        """
        if self._started:
            raise RigError("the rig is already started")
        self._started = True
        try:
            await self._start()
        except BaseException:
            await self.stop()
            raise

    async def _start(self) -> None:
        cfg = self.config
        store, saved = self._open_state()
        now = float(saved.get("now", 0.0)) if saved else 0.0
        self.resumed_from = now if saved else None
        self.clock = ScaledClock(cfg.speed, start=now)
        try:
            scheduler = Scheduler(signals=Signals(t=now), now=now, seed=int(saved.get("seed", self.seed))
                                  if saved else self.seed, limits=self.limits)
            if saved:
                scheduler.load(saved)
        except (ConfigError, KeyError, TypeError, ValueError) as exc:
            where = store.path if store is not None else "scheduler state"
            raise RigStartError(f"{where}: cannot resume from the saved state ({exc}); move the file "
                                "away to start fresh") from exc
        self.driver = SchedulerDriver(scheduler, clock=self.clock, store=store)
        self.driver.add_sink(self.printer.events)
        self.driver.add_signals_sink(self._print_signals)
        if self.recorder is not None:  # `run --record`: what the rig prints, as timeline records
            self.driver.add_sink(self.recorder.events)
            self.driver.add_signals_sink(self.recorder.signals)

        try:
            self.source = build_source(cfg.board, clock=self.clock, poll_interval=self.poll_interval)
        except BoardError as exc:
            raise RigStartError(f"board {cfg.board.name!r}: {exc}") from exc

        if cfg.broker_url is None:
            try:
                self.embedded = await start_embedded_broker(self.embedded_kind, websockets=cfg.websockets)
            except BrokerError as exc:
                raise RigStartError(str(exc)) from exc
            extra = {"protocol": "3.1.1"} if self.embedded.kind == "in-process" else {}
            self.broker = cfg.broker_config(self.embedded.url, **extra)
        else:
            self.broker = cfg.broker_config()

        source = self.source
        self.injector = FaultInjector(source, source.sim, clock=self.clock)
        await source.start(self._on_update)
        snap = source.snapshot()
        await self.driver.update_signals(dict(snap.values), stale=snap.stale)
        self._report_faults(snap.faults, snap.t)
        if cfg.signals:
            await self.set_signals(cfg.signals, origin="config")

        bridge_config = BridgeConfig(
            rig=cfg.rig_id, board=cfg.board.name, speed=cfg.speed, state_dir=self.state_dir,
            ha_discovery=cfg.ha_discovery, ha_prefix=cfg.ha_prefix)
        self.bridge = Bridge(self.driver, broker=self.broker, config=bridge_config,
                             set_signals=self._bridge_set_signals, settable=source.settable,
                             inject_fault=self.inject_fault)
        self.bridge.ws_url = self.embedded.ws_url if self.embedded is not None else None
        try:
            await self.bridge.start()
        except BridgeError as exc:
            raise RigStartError(f"MQTT bridge: {exc}") from exc
        for fault in self.faults:
            self.bridge.rig_event("sensor_fault", {"message": fault})
        with contextlib.suppress(TimeoutError):
            await self.bridge.wait_connected(CONNECT_WAIT_S)
        self._run_task = asyncio.create_task(self.driver.run(), name="wakebench-scheduler")

    def _open_state(self) -> tuple[StateStore | None, dict[str, Any] | None]:
        if self.state_dir is None:
            return None, None
        try:
            self.state_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise RigStartError(f"state directory {self.state_dir}: cannot create it ({exc.strerror or exc}); "
                                "set rig.state_dir or pass --state-dir") from exc
        store = StateStore(self.state_dir)
        try:
            return store, store.load()
        except ConfigError as exc:
            raise RigStartError(f"{exc}; move the file away to start fresh") from exc
        except OSError as exc:
            raise RigStartError(f"{store.path}: cannot read it ({exc.strerror or exc})") from exc

    async def stop(self) -> None:
        """Clean shutdown: stop the scheduler and save its state (at the current rig time), put
        relays in their safe state, publish ``bridge/state`` offline, stop the embedded broker.
        Safe to call more than once and after a failed start."""
        if self._stopping:
            return
        self._stopping = True
        driver = self.driver
        if driver is not None:
            driver.stop()
            if self._run_task is not None:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await self._run_task
            if self.bridge is not None:  # fire what fell due up to now, then save at now
                with contextlib.suppress(Exception):
                    await driver.update_signals({})
            try:
                driver.save()
            except OSError as exc:
                log.error("could not save the scheduler state: %s", exc)
        if self.injector is not None:
            with contextlib.suppress(Exception):
                await self.injector.close()
        if self.source is not None:
            with contextlib.suppress(Exception):
                await self.source.stop()
        if self.bridge is not None:
            with contextlib.suppress(Exception):
                await self.bridge.stop()
        if self.embedded is not None:
            with contextlib.suppress(Exception):
                await self.embedded.stop()

    async def __aenter__(self) -> Rig:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- signals -----------------------------------------------------------------------------
    async def _on_update(self, update: SourceUpdate) -> None:
        """The source's callback: straight into the scheduler, faults to ``bridge/event``."""
        if self._stopping or self.driver is None:
            return
        try:
            await self.driver.update_signals(dict(update.values), stale=update.stale, fresh=update.fresh)
        except SignalError as exc:  # a source bug must not stop the rig
            log.error("board %s delivered an invalid update: %s", self.config.board.name, exc)
            self._report_faults((f"invalid update from the board: {exc}",), update.t)
            return
        self._report_faults(update.faults, update.t)

    def _report_faults(self, faults: tuple[str, ...] | list[str], t: float) -> None:
        for fault in faults:
            self.faults.append(fault)
            self.printer.line(t, "fault", "", fault)
            if self.bridge is not None:
                self.bridge.rig_event("sensor_fault", {"message": fault})

    def _print_signals(self, snapshot: Signals) -> None:
        if self._announced:
            self.printer.signals(self._last_signals, snapshot)
        self._last_signals = snapshot

    def announce(self) -> None:
        """Print the current signals in full; from now on every change gets a line."""
        if self.driver is not None and not self._announced:
            self._announced = True
            self.printer.signals(None, self.driver.signals)

    async def _bridge_set_signals(self, values: Mapping[str, Any]) -> None:
        source = self.source
        assert source is not None
        try:
            await source.set(values)
        except NotSettableError as exc:
            raise SignalError(str(exc)) from None
        except BoardError as exc:
            raise SignalError(str(exc)) from None

    async def inject_fault(self, fault: Fault) -> dict[str, Any]:
        """Apply (or clear) a fault on the emulated board, printed as a ``fault`` line.

        Raises:
            boards.faults.FaultNotSupportedError: a real board (code ``not_supported_on_hardware``).
        """
        if self.injector is None or self.clock is None:
            raise RigError("the rig is not started")
        what = ", ".join(f"{k}={v}" for k, v in fault.to_dict().items())
        self.printer.line(self.clock.now(), "fault", "", f"injected: {what}")
        return await self.injector.inject(fault)

    async def set_signals(self, values: Mapping[str, Any], *, origin: str = "scenario") -> dict[str, Any]:
        """Set what the board can set (sim model, relays, manual values); report the rest as
        manual steps (terminal + ``bridge/event``). Returns the values that must be set by hand.

        Raises:
            SignalError: a bad value (names the signal).
        """
        source = self.source
        if source is None:
            raise RigError("the rig is not started")
        settable = source.settable
        auto = {n: v for n, v in values.items() if n in settable}
        manual = {n: v for n, v in values.items() if n not in settable}
        if auto:
            try:
                await source.set(auto)
            except BoardError as exc:
                raise SignalError(str(exc)) from None
        if manual:
            t = self.clock.now() if self.clock is not None else 0.0
            text = ", ".join(f"{n}={_fmt(v)}" for n, v in manual.items())
            message = (f"set {text} by hand: board {self.config.board.name!r} has no relay or "
                       f"simulation for {'it' if len(manual) == 1 else 'them'}")
            self.printer.line(t, "manual", origin, message)
            if self.bridge is not None:
                self.bridge.rig_event("manual_step", {"origin": origin, "set": dict(manual), "message": message})
        return manual

    # -- views -------------------------------------------------------------------------------
    def banner(self) -> list[str]:
        """What ``run`` prints at start: rig, board, clock, broker, how to watch."""
        _clock, driver, source, bridge = self._require()
        cfg = self.config
        lines = [f"wakebench rig {cfg.rig_id!r} · board {cfg.board.name} ({cfg.board.title})"]
        speed = f" at ×{cfg.speed:g}" if cfg.speed != 1 else ""
        if self.resumed_from is not None:
            lines.append(f"  rig clock resumes at {fmt_clock(self.resumed_from)}{speed} "
                         f"({len(driver.scheduler.apps)} app(s) restored from {self.state_dir})")
        else:
            lines.append(f"  rig clock starts at 0:00:00{speed}")
        if self.state_dir is not None:
            lines.append(f"  state: {self.state_dir}")
        broker = self.broker
        assert broker is not None
        if self.embedded is not None:
            lines.append(f"  embedded broker ({self.embedded.kind}) on {self.embedded.host}:{self.embedded.port}"
                         + (" — MQTT 3.1.1 only: app clients add ?protocol=3.1.1 to the URL"
                            if self.embedded.kind == "in-process" else ""))
            lines.append(f"  browsers (WebSockets): {self.embedded.ws_url}" if self.embedded.ws_url else
                         "  browsers: no WebSockets on the in-process broker (install mosquitto)"
                         if self.embedded.kind == "in-process" else "")
        else:
            lines.append(f"  broker {broker.url()}" + ("" if bridge.connected else
                                                        f" — not connected yet ({bridge.last_error or 'trying'}); "
                                                        "events wait in the outbox"))
        lines.append(f"  settable signals: {', '.join(sorted(source.settable)) or 'none'}")
        if broker.host in ("127.0.0.1", "localhost", "::1"):
            lines.append(f"  see the traffic:  {connect_hint(broker.host, broker.port)}")
        watch_url = broker.url() if broker.port != 1883 or broker.tls else ""
        lines.append(f"  live view:        wakebench watch{' --broker ' + watch_url if watch_url else ''} "
                     f"--rig {cfg.rig_id}")
        lines.append(f"  pull the charger: mosquitto_pub -h {broker.host} -p {broker.port} "
                     f"-t 'wakebench/{cfg.rig_id}/signals/set' -m '{{\"charger\":\"none\"}}'"
                     if "charger" in source.settable else "")
        return [line for line in lines if line]



# -- scenarios on the live rig ------------------------------------------------------------------
#: Live timing tolerance. On the rig a step runs when the rig clock has reached its time, a few
#: hundred microseconds of wall time later; at ``--speed 600`` that is a fraction of a rig second.
#: Expectation windows are therefore extended at their END by this much wall time (scaled by the
#: speed), never less than LIVE_TOLERANCE_MIN_S rig seconds. Events never come early, so the
#: start of a window is kept, and windows that demand absence (``count: 0``) are not widened.
#: wakebench choice.
LIVE_TOLERANCE_WALL_S: Final = 0.25
LIVE_TOLERANCE_MIN_S: Final = 1.0


@dataclasses.dataclass(frozen=True, slots=True)
class LiveResult:
    """What a scenario produced on the live rig, and whether its expectations were met."""

    scenario: Scenario
    events: tuple[Event, ...]
    responses: tuple[ResponseRecord, ...]
    expectations: tuple[ExpectationResult, ...]
    tolerance: float
    manual: tuple[tuple[float, dict[str, Any]], ...]

    @property
    def passed(self) -> bool:
        """True when every expectation was met."""
        return all(r.met for r in self.expectations)


def live_tolerance(speed: float) -> float:
    """Rig seconds added to the end of every expectation window (see LIVE_TOLERANCE_WALL_S)."""
    return max(LIVE_TOLERANCE_MIN_S, speed * LIVE_TOLERANCE_WALL_S)


async def play_scenario(rig: Rig, scenario: Scenario, *, initial: Mapping[str, Any] | None = None) -> LiveResult:
    """Play ``scenario``'s steps on the rig clock: signal steps go to the board (or are reported
    as manual steps), app steps are sent through the MQTT bridge by an :class:`AppClient` per
    app; at ``until`` the expectations are checked as ``simulate`` checks them, with
    :func:`live_tolerance` at the end of each time window.

    Args:
        initial: the scenario's ``initial`` values to apply first (those the file names).

    Raises:
        RigError: an app client could not reach the rig's broker.
    """
    clock, driver, _source, _bridge = rig._require()
    assert rig.broker is not None
    events: list[Event] = []
    responses: list[ResponseRecord] = []
    manual: list[tuple[float, dict[str, Any]]] = []
    driver.add_sink(events.extend)
    printer = rig.printer
    if initial:
        left = await rig.set_signals(initial, origin="initial")
        if left:
            manual.append((clock.now(), left))
    clients: dict[str, AppClient] = {}

    async def request(app: str, verb: str, args: dict[str, Any], line: int | None) -> None:
        client = clients[app]
        t = clock.now()
        printer.line(t, "request", app, f"→ {verb} {json.dumps(args) if args else ''}".rstrip())
        try:
            response = await client.send(verb, args)
        except BridgeError as exc:
            raise RigError(f"scenario line {line}: {app} {verb}: {exc}") from exc
        status = str(response.get("status"))
        code = response.get("code")
        if status != "ok":
            printer.line(clock.now(), "error", app, f"{verb}: {code}: {response.get('error')}")
        data = response.get("data") if isinstance(response.get("data"), dict) else {}
        responses.append(ResponseRecord(t, app, verb, status, code if isinstance(code, str) else None,
                                        response.get("error"), data or {}, line, args))

    async def connect(spec: AppSpec) -> None:
        assert rig.broker is not None
        client = AppClient(rig.broker, app_id=spec.id, rig=rig.config.rig_id)
        try:
            await client.__aenter__()
        except BridgeError as exc:
            raise RigError(f"scenario app {spec.id!r} cannot reach {rig.broker.url()}: {exc}") from exc
        clients[spec.id] = client
        await request(spec.id, "register", dict(spec.register_args), spec.line)

    async def chain(steps: list[Step]) -> None:
        for step in steps:
            assert step.app is not None and step.request is not None
            await request(step.app, step.request, dict(step.args), step.line)

    try:
        # apps connect and register side by side: each round trip costs rig time at high speed
        await asyncio.gather(*(connect(spec) for spec in scenario.apps))
        for batch in _batches(scenario.steps):
            await clock.sleep_until(batch[0].at)
            if batch[0].fault is not None:
                await rig.inject_fault(batch[0].fault)
                continue
            if "unknown" in batch[0].set:  # a scenario marks signals unknown directly
                await driver.update_signals({}, stale=frozenset(batch[0].set["unknown"]))
            values = {n: v for n, v in batch[0].set.items() if n != "unknown"}
            if values:
                left = await rig.set_signals(values, origin=f"line {batch[0].line}")
                if left:
                    manual.append((clock.now(), left))
            if batch[0].set:
                continue
            per_app: dict[str, list[Step]] = {}
            for step in batch:
                per_app.setdefault(step.app or "", []).append(step)
            await asyncio.gather(*(chain(steps) for steps in per_app.values()))
        await clock.sleep_until(scenario.until)
        await driver.update_signals({})  # fire everything due up to `until` before checking
    finally:
        for client in clients.values():
            with contextlib.suppress(Exception):
                await client.close()
    tol = live_tolerance(rig.config.speed)
    results = tuple(check(_widen(exp, tol), events, responses) for exp in scenario.expect)
    results = tuple(dataclasses.replace(r, expect=exp) for r, exp in zip(results, scenario.expect, strict=True))
    return LiveResult(scenario, tuple(events), tuple(responses), results, tol, tuple(manual))


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
    try:
        raw = yaml.safe_load(Path(scenario.path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return {}
    names = raw.get("initial") if isinstance(raw, dict) else None
    if not isinstance(names, dict):
        return {}
    return {n: getattr(scenario.initial, n) for n in names if n in Signals.names()}


def print_banner(rig: Rig, out: TextIO = sys.stdout) -> None:
    """Print :meth:`Rig.banner` to ``out``."""
    for line in rig.banner():
        out.write(line + "\n")
    out.flush()
