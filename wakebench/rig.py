"""The rig daemon: one board's signal source, the scheduler on the rig clock, the MQTT bridge,
an embedded broker when none is configured, and the state directory. Each part is built by its
own package; this module wires them and orders start and stop. The live scenario player is
:mod:`wakebench.live`, the terminal :mod:`wakebench.printer`.

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

Over 500 lines on purpose: start and stop run in a strict order across the state directory,
the owner probe, the broker, the bridge, the board source and the clock (resume before
``online``, relays safe before ``offline``), and the rig verbs that act on those parts (set,
fault, continue, manual steps) share that lifecycle state; one class keeps the order readable.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final, TextIO

from boards import BoardError, BoardSource, NotSettableError, SourceUpdate, build_source
from boards.faults import FaultInjector
from firmware_sim.clock import ManualClock, ScaledClock
from firmware_sim.driver import SchedulerDriver
from firmware_sim.errors import ConfigError, SignalError
from firmware_sim.events import Event, Response
from firmware_sim.scheduler import Scheduler
from firmware_sim.signals import Signals
from mqtt_bridge import Bridge, BridgeConfig, BrokerConfig
from mqtt_bridge.errors import BridgeError
from mqtt_bridge.owner import PROBE_TIMEOUT_S, OwnerState, new_instance, probe_owner
from mqtt_bridge.topics import Topics
from wakebench.broker import BrokerError, BrokerKind, EmbeddedBroker, connect_hint, start_embedded_broker
from wakebench.config import RigConfig, RigError
from wakebench.printer import Printer, unmet_conditions
from wakebench.records import RecordWriter
from wakebench.rigctl import remove_rig_file, write_rig_file
from wakebench.statedir import StateDir, StateDirError, open_state_dir
from wakebench.timefmt import clock as fmt_clock
from wakebench.timefmt import value_text as _fmt
from wbcommon.faults import Fault

__all__ = ["Rig", "RigOwnedError", "RigStartError", "print_banner"]

log = logging.getLogger(__name__)

#: Shortest wall time between two sensor polls. Poll periods are rig seconds; at ``--speed 600``
#: a 1 s period would mean 600 gauge reads per wall second, so the period is stretched to at
#: least this much wall time (battery signals move slowly; charger and network are edges).
MIN_WALL_POLL_S: Final = 0.5
#: How long start-up waits for the broker before going on (events wait in the outbox).
CONNECT_WAIT_S: Final = 5.0


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
        #: apps whose ``status`` answers are not printed: the live scenario player's warm-up
        #: request before ``register`` (an expected ``not_registered``, not the user's request)
        self.warming_up: set[str] = set()
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
        self._hand_waits: list[tuple[dict[str, Any], asyncio.Future[str]]] = []
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
        self.bridge.answer_listeners.append(self._print_answer)  # refusals before the scheduler, rig verbs
        self.bridge.continue_manual = self.release_hands
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
        if verb == "status" and app in self.warming_up:
            return
        driver = self.driver
        t = driver.scheduler.now if driver is not None else 0.0
        waits: dict[str, Any] = {}
        if response.ok and response.data.get("state") == "waiting" and driver is not None:
            waits = unmet_conditions(driver.scheduler, app)
        self.printer.request(t, app, verb, args, response, waits)

    def _print_answer(self, who: str, verb: str, args: Any, response: Response) -> None:
        """An answer the bridge gave without the scheduler (a refusal before it, a rig verb).
        A ``set_signals`` that went through is already printed, before the changes it made."""
        if response.ok and verb in ("set_signals", "signals/set"):
            return
        t = self.clock.now() if self.clock is not None else 0.0
        self.printer.request(t, who, verb, args, response)

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
        ``"measured"``), ``wakebench continue`` (:meth:`release_hands`, ``"continue"``) or, with
        ``stdin`` (a terminal), until Enter is pressed (``"enter"``). The rig keeps serving meanwhile."""
        driver = self.driver
        if driver is None:
            raise RigError("the rig is not started")
        loop = asyncio.get_running_loop()
        done: asyncio.Future[str] = loop.create_future()

        def measured(snapshot: Signals) -> None:
            if not done.done() and all(getattr(snapshot, n, None) == v for n, v in values.items()):
                done.set_result("measured")

        self._hand_checks.append(measured)
        self._hand_waits.append((dict(values), done))
        measured(driver.signals)
        reader = None
        if stdin is not None and not done.done():
            reader = stdin.fileno()

            def enter() -> None:
                stdin.readline()
                if not done.done():
                    done.set_result("enter")

            loop.add_reader(reader, enter)
        if not done.done():
            t = self.clock.now() if self.clock is not None else 0.0
            self.printer.line(t, "manual", "", "waiting: " + ("press Enter, or " if reader is not None else "")
                              + "run `wakebench continue` once done (or let the board measure it)")
        try:
            return await done
        finally:
            self._hand_checks.remove(measured)
            self._hand_waits = [w for w in self._hand_waits if w[1] is not done]
            if reader is not None:
                loop.remove_reader(reader)

    def release_hands(self) -> dict[str, Any] | None:
        """``wakebench continue`` / ``bridge/request/continue``: a human says the manual steps
        are done. Every waiting :meth:`wait_for_hand` returns ``"continue"``; returns the
        answer's data (``{"released": [values, ...]}``), or None when nothing was waiting."""
        waiting = [(values, done) for values, done in self._hand_waits if not done.done()]
        if not waiting:
            return None
        for _values, done in waiting:
            done.set_result("continue")
        t = self.clock.now() if self.clock is not None else 0.0
        self.printer.line(t, "manual", "", f"continued: {len(waiting)} manual step(s) released")
        return {"released": [values for values, _done in waiting]}

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


def print_banner(rig: Rig, out: TextIO = sys.stdout) -> None:
    """Print :meth:`Rig.banner` to ``out``."""
    for line in rig.banner():
        out.write(line + "\n")
    out.flush()
