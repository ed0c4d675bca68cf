"""The rig daemon: one board's signal source, the scheduler on the rig clock, the MQTT bridge,
an embedded broker when none is configured, and the state directory. Kept thin: each part is
built by its own package; this module only wires them and orders start and stop.

Signal path: a pin edge → :class:`boards.source.BoardSource` → :meth:`Rig._on_update` →
``driver.update_signals`` (no polling in between) → the scheduler's events → the bridge's
publisher and the terminal, in that order, at once.

Rig time across restarts: the rig clock continues from the rig time saved with the scheduler
state (the journal ``journal.sqlite3`` in the state directory, see :mod:`wakebench.statedir`),
not from the wall clock. Downtime does
not count: a task with 4 minutes of budget left when the rig stopped has 4 minutes left after
the restart, and saved deadlines (WP8 periodic slots, iOS earliest-begin dates, HarmonyOS
repeat cycles) stay meaningful relative to rig time — as on a phone that was switched off.
``ts`` fields stay wall time.

One rig id, one live rig per broker (:mod:`mqtt_bridge.owner`): before connecting, a rig probes
the broker; when another rig with its id answers ``health_check`` it refuses to start
(:class:`RigOwnedError`, exit 2) unless started with ``takeover``. A retained ``online`` that
nobody answers for (a rig killed a moment ago, its will not yet sent) never blocks a restart.
A rig whose id is taken over stops by itself (:attr:`Rig.lost`).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import math
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final, TextIO

from boards import BoardError, BoardSource, NotSettableError, SourceUpdate, build_source
from boards.faults import FaultInjector
from firmware_sim.clock import ManualClock, ScaledClock
from firmware_sim.driver import SchedulerDriver
from firmware_sim.errors import ConfigError, SignalError
from firmware_sim.events import Event, Response
from firmware_sim.scenario import AppSpec, Expectation, Scenario, Step
from firmware_sim.scheduler import Scheduler
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
from mqtt_bridge import AppClient, Bridge, BridgeConfig, BrokerConfig
from mqtt_bridge.errors import BridgeError
from mqtt_bridge.owner import PROBE_TIMEOUT_S, OwnerState, new_instance, probe_owner
from mqtt_bridge.topics import Topics
from wakebench.broker import BrokerError, BrokerKind, EmbeddedBroker, connect_hint, start_embedded_broker
from wakebench.config import RigConfig, RigError
from wakebench.records import RecordWriter
from wakebench.rigctl import remove_rig_file, write_rig_file
from wakebench.statedir import StateDir, StateDirError, open_state_dir
from wakebench.timefmt import clock as fmt_clock
from wakebench.timefmt import stamp as _stamp
from wakebench.timefmt import value_text as _fmt
from wbcommon.faults import Fault

__all__ = ["LiveResult", "Printer", "Rig", "RigOwnedError", "RigStartError", "live_tolerance", "play_scenario", "print_banner"]

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


class _LoggedDriver(SchedulerDriver):
    """The scheduler driver that also tells the terminal about every request and its answer
    (before the request's events, so ``REQUEST`` precedes the ``WAKE`` it causes)."""

    def __init__(self, *args: Any, on_answer: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._on_answer = on_answer

    async def request(self, app: str, verb: str, args: Any = None, *,
                      on_response: Any = None) -> Response:
        async def answer(response: Response) -> None:
            with contextlib.suppress(Exception):  # the terminal must never break a request
                self._on_answer(app, verb, args, response)
            if on_response is not None:
                result = on_response(response)
                if asyncio.iscoroutine(result):
                    await result

        return await super().request(app, verb, args, on_response=answer)


class RigStartError(RigError):
    """The rig could not start (state directory, broker, board); the message says what to do."""


class RigOwnedError(RigStartError):
    """Another live rig with this rig id is on the broker (it answered ``health_check``)."""


class Printer:
    """Readable terminal lines for events, signal changes and rig events, as they happen.

    Args:
        out: where to write (stdout by default); None prints nothing.
        color: use colours (default: when ``out`` is a terminal).
    """

    STYLES: Final = {"wake": "green", "expire": "yellow", "revoke": "red", "terminate": "bold red",
                     "unscheduled": "magenta", "signals": "cyan", "fault": "bold yellow",
                     "manual": "bold magenta", "rig": "blue", "request": "", "error": "red",
                     "waits": "yellow"}

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

    def request(self, t: float, app: str, verb: str, args: Any, response: Response,
                waits: Mapping[str, Any] | None = None) -> None:
        """``REQUEST  mail  add {"name":"sync"} → ok`` (or ``→ error CODE: message``), then a
        ``WAITS`` line naming what a task that did not start waits for."""
        shown = {k: v for k, v in (args or {}).items() if k != "transaction"} if isinstance(args, dict) else args
        text = f"{verb} {json.dumps(shown, separators=(',', ':'))}" if shown else verb
        answer = "ok" if response.ok else f"error {response.code}: {response.error}"
        self.line(t, "request" if response.ok else "error", app, f"{text} → {answer}")
        for key, value in (waits or {}).items():
            self.line(t, "waits", app, f"{key}: {json.dumps(value)}")

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


def _unmet(scheduler: Scheduler, app_id: str) -> dict[str, Any]:
    """The non-empty ``*unmet*`` / ``waiting*`` entries of the app's ``status`` data (what its
    waiting tasks wait for), e.g. ``{"resource_intensive_unmet": ["charger_removed"]}``."""
    app = scheduler.apps.get(app_id)
    if app is None:
        return {}
    found: dict[str, Any] = {}

    def walk(node: Any, depth: int) -> None:
        if not isinstance(node, dict) or depth > 3:
            return
        for key, value in node.items():
            if ("unmet" in str(key) or str(key).startswith("waiting")) and value:
                found[str(key)] = value
            else:
                walk(value, depth + 1)

    walk(scheduler.policies[app.platform].status(app), 0)
    return found




class Rig:
    """One running rig.

    Args:
        config: the validated configuration (file + flags).
        embedded: which embedded broker to start when ``config`` names none.
        printer: terminal output (None: silent).
        persist: load and save scheduler state in the state directory (a scenario run does not).
        seed / limits: override the config's (a scenario's own seed and limits).
        recorder: ``run --record``: gets every event batch and signals snapshot as it happens.
        reset_state: move the journal aside (``--reset-state``) and start fresh.
        synchronous: the journal's durability, ``"normal"`` or ``"full"`` (see firmware_sim.journal).
        stepped: rig time is a :class:`~firmware_sim.clock.ManualClock` that only
            :func:`play_scenario` moves, from one step to the next (``run --clock stepped``):
            a live scenario whose timing no machine load can spoil.
        takeover: start even when another live rig with this id is on the broker (``--takeover``);
            that rig sees this one's instance in ``bridge/state`` and stops.
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
        reset_state: bool = False,
        synchronous: str | None = None,
        recorder: RecordWriter | None = None,
        stepped: bool = False,
        takeover: bool = False,
    ) -> None:
        self.config = config
        self.takeover = takeover
        #: this run's instance id (``bridge/state``, ``health_check``)
        self.instance = new_instance()
        #: set when another instance took this rig id over on the broker (:attr:`lost_to` says who)
        self.lost = asyncio.Event()
        self.lost_to: OwnerState | None = None
        self.stepped = stepped
        self.reset_state = reset_state
        self.synchronous = synchronous or config.state_sync
        self.state: StateDir | None = None
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
        self.clock: ScaledClock | ManualClock | None = None
        self.driver: SchedulerDriver | None = None
        self.source: BoardSource | None = None
        self.bridge: Bridge | None = None
        #: faults on demand (``inject_fault``, ``wakebench fault``, scenario ``fault:`` steps)
        self.injector: FaultInjector | None = None
        self.faults: list[str] = []
        #: rig files written at start (see :mod:`wakebench.rigctl`), removed at stop
        self.rig_files: list[Path] = []
        self._hand_checks: list[Any] = []
        self._run_task: asyncio.Task[None] | None = None
        self._stopping = False
        self._started = False
        self._last_signals: Signals | None = None
        self._announced = False

    # -- parts (after start) -----------------------------------------------------------------
    def _require(self) -> tuple[ScaledClock | ManualClock, SchedulerDriver, BoardSource, Bridge]:
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
        saved = self._open_state()
        if cfg.broker_url is not None:  # before the clock starts: a refused start changes nothing
            await self._claim_rig_id(cfg.broker_config())
        now = float(saved.get("now", 0.0)) if saved else 0.0
        self.resumed_from = now if saved else None
        self.clock = ManualClock(now) if self.stepped else ScaledClock(cfg.speed, start=now)
        try:
            scheduler = Scheduler(signals=Signals(t=now), now=now, seed=int(saved.get("seed", self.seed))
                                  if saved else self.seed, limits=self.limits)
            if saved:
                scheduler.load(saved)
        except Exception as exc:  # any fault of a damaged state is one line, never a traceback
            where = self.state.journal.path if self.state is not None else "scheduler state"
            raise RigStartError(f"{where}: cannot resume from the saved state ({type(exc).__name__}: {exc}); "
                                "start with --reset-state to move it aside and begin fresh") from exc
        self.driver = _LoggedDriver(scheduler, clock=self.clock,
                                    journal=self.state.journal if self.state is not None else None,
                                    on_answer=self._print_request)
        self.driver.add_sink(self._print_events)
        self.driver.add_signals_sink(self._print_signals)
        if self.recorder is not None:  # `run --record`: what the rig prints, as timeline records
            self.driver.add_sink(self.recorder.events)
            self.driver.add_signals_sink(self.recorder.signals)

        self.driver.add_signals_sink(self._check_hands)

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
        # before `online`: re-check restored tasks against the live signals; what that produces
        # is journaled now and published first when the bridge connects (issue #8.2)
        if saved:
            await self.driver.resume(dict(snap.values), stale=snap.stale)
        else:
            await self.driver.update_signals(dict(snap.values), stale=snap.stale)
        # faults are reported once, by the source's first update through _on_update
        if cfg.signals:
            await self.set_signals(cfg.signals, origin="config")

        bridge_config = BridgeConfig(
            rig=cfg.rig_id, board=cfg.board.name, speed=cfg.speed, state_dir=self.state_dir,
            ha_discovery=cfg.ha_discovery, ha_prefix=cfg.ha_prefix, rate_per_s=cfg.request_rate, rate_burst=cfg.request_burst)
        self.bridge = Bridge(self.driver, broker=self.broker, config=bridge_config,
                             set_signals=self._bridge_set_signals, settable=source.settable,
                             inject_fault=self.inject_fault, instance=self.instance,
                             on_lost_ownership=self._lost_ownership)
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
        self.rig_files = write_rig_file(
            {"rig": cfg.rig_id, "broker": self.broker.url(), "prefix": self.broker.prefix,
             "board": cfg.board.name, "speed": cfg.speed,
             "state_dir": str(self.state_dir) if self.state_dir is not None else None}, self.state_dir)

    async def _claim_rig_id(self, broker: BrokerConfig) -> None:
        """Refuse to start when a live rig with this id answers on the broker (see the module
        docstring); with ``takeover``, say what happens to it and go on."""
        topics = Topics(self.config.rig_id, broker.prefix)
        found = await probe_owner(broker, topics, timeout=PROBE_TIMEOUT_S)
        if found.note is not None:
            self.printer.note(found.note)
            log.warning("%s", found.note)
        if not found.live:
            return
        holder = found.holder.describe() if found.holder is not None else "another instance"
        if not self.takeover:
            raise RigOwnedError(
                f"rig {self.config.rig_id!r} is already online on {broker.url()} ({holder}, answering "
                "health_check); stop it, pick another --rig, or start with --takeover to replace it")
        message = (f"rig {self.config.rig_id!r}: taking over from the live {holder} on {broker.url()} "
                   "(--takeover); it will see this instance in bridge/state and stop")
        self.printer.note(message)
        log.warning("%s", message)

    def _lost_ownership(self, other: OwnerState) -> None:
        """The bridge saw another instance take this rig id over: stop serving (``run`` exits)."""
        self.lost_to = other
        self.lost.set()

    def _open_state(self) -> dict[str, Any] | None:
        if self.state_dir is None:
            return None
        try:
            self.state = open_state_dir(self.state_dir, reset=self.reset_state,
                                        synchronous="full" if self.synchronous == "full" else "normal")
        except StateDirError as exc:
            raise RigStartError(str(exc)) from exc
        for note in self.state.notes:
            self.printer.note(note)
            log.warning("%s", note)
        return self.state.state

    async def stop(self) -> None:
        """Clean shutdown: stop the scheduler and save its state (at the current rig time), put
        relays in their safe state, publish ``bridge/state`` offline, stop the embedded broker.
        Safe to call more than once and after a failed start."""
        if self._stopping:
            return
        self._stopping = True
        remove_rig_file(self.rig_files)
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
            except ConfigError as exc:
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
        if self.state is not None:
            self.state.close()

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

    def _print_events(self, events: list[Event]) -> None:
        """Events after the signal change that caused them (the snapshot is already updated when
        the event sinks run; the signals sink then finds nothing new to print)."""
        if self.driver is not None:
            self._print_signals(self.driver.signals)
        self.printer.events(events)

    def _print_signals(self, snapshot: Signals) -> None:
        if self._announced:
            self.printer.signals(self._last_signals, snapshot)
        self._last_signals = snapshot

    def _print_request(self, app: str, verb: str, args: Any, response: Response) -> None:
        driver = self.driver
        t = driver.scheduler.now if driver is not None else 0.0
        waits: dict[str, Any] = {}
        if response.ok and response.data.get("state") == "waiting" and driver is not None:
            waits = _unmet(driver.scheduler, app)
        self.printer.request(t, app, verb, args, response, waits)

    def announce(self) -> None:
        """Print the current signals in full; from now on every change gets a line."""
        if self.driver is not None and not self._announced:
            self._announced = True
            self.printer.signals(None, self.driver.signals)

    async def _bridge_set_signals(self, values: Mapping[str, Any]) -> None:
        source = self.source
        assert source is not None
        t = self.clock.now() if self.clock is not None else 0.0
        self.printer.line(t, "request", "rig", "set_signals " + ", ".join(f"{n}={_fmt(v)}" for n, v in values.items()))
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

    async def wait_for_hand(self, values: Mapping[str, Any], *, stdin: TextIO | None = None) -> str:
        """Wait for a human to do a manual step: until the board measures ``values`` (returns
        ``"measured"``) or, with ``stdin`` (a terminal), until Enter is pressed (``"enter"``).
        The rig keeps serving meanwhile."""
        driver = self.driver
        if driver is None:
            raise RigError("the rig is not started")
        loop = asyncio.get_running_loop()
        done: asyncio.Future[str] = loop.create_future()

        def measured(snapshot: Signals) -> None:
            if not done.done() and all(getattr(snapshot, n, None) == v for n, v in values.items()):
                done.set_result("measured")

        self._hand_checks.append(measured)
        measured(driver.signals)
        reader = None
        if stdin is not None and not done.done():
            reader = stdin.fileno()

            def enter() -> None:
                stdin.readline()
                if not done.done():
                    done.set_result("enter")

            loop.add_reader(reader, enter)
            t = self.clock.now() if self.clock is not None else 0.0
            self.printer.line(t, "manual", "", "waiting: press Enter once done (or let the board measure it)")
        try:
            return await done
        finally:
            self._hand_checks.remove(measured)
            if reader is not None:
                loop.remove_reader(reader)

    def _check_hands(self, snapshot: Signals) -> None:
        for hand_check in list(self._hand_checks):
            hand_check(snapshot)

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
                         + (" — MQTT 3.1.1 only (AppClient falls back to it by itself)"
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
                        hands: TextIO | None = None) -> LiveResult:
    """Play ``scenario`` on the rig clock: signal steps go to the board (or are reported as manual
    steps), app steps go through the MQTT bridge by an :class:`AppClient` per app, reactive steps
    run ``after`` their triggering event on rig time. Scenario t = 0 is the rig time at which every
    app is connected. At ``until`` the expectations are checked as ``simulate`` checks them, each
    window's end widened by the MEASURED tolerance (the latest any step took effect); an
    expectation whose window is narrower than that tolerance is unverifiable and not met, and a
    refused request fails the run unless the file expects it (as in ``simulate``). A step the
    board cannot make by itself is a manual step; with ``hands`` (a terminal) it waits for Enter.

    Args:
        initial: the scenario's ``initial`` values to apply first (those the file names).
        hands: a terminal: a manual step then waits for the human (:meth:`Rig.wait_for_hand`:
            the board measuring the value, or Enter on this terminal) before the scenario goes on.

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
            if hands is not None:
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
                if hands is not None:
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
        with contextlib.suppress(BridgeError):
            await client.send("status", {})

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
    failures = (*refused_steps(responses, scenario.expect, tolerance=tol), *loops)
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


def print_banner(rig: Rig, out: TextIO = sys.stdout) -> None:
    """Print :meth:`Rig.banner` to ``out``."""
    for line in rig.banner():
        out.write(line + "\n")
    out.flush()
