"""``wakebench run``: the rig daemon.

::

    wakebench run [--config rig.toml] [--board NAME] [--broker URL] [--rig ID] [--speed X]
                  [--scenario FILE [--clock stepped]] [--state-dir DIR] [--reset-state] [--embedded-broker KIND] [--ws-port PORT]
                  [--no-websockets] [--check] [--quiet] [--record FILE] [--ha-discovery]
                  [--set NAME=VALUE ...] [--junit FILE] [--manual-steps auto|wait|report]
                  [--request-rate N] [--request-burst N]
                  [--http-port PORT] [--no-web] [--web-controls] [--takeover]

The live web view (:mod:`wakebench.webserver`) is served on loopback and its URL printed with
the banner. Flags win over the file; ``--set charger=ac --set screen_locked=true`` (repeatable) adds start
values to the file's ``[signals]`` table, read as in a scenario. Without ``--broker`` (and no ``[broker]`` in the file) an embedded
broker is started on loopback and its address printed. SIGINT / SIGTERM stop cleanly: relays to
their safe state, ``bridge/state`` offline, scheduler state saved for the next start. A locked,
damaged or foreign state directory is one line on stderr and exit 2 (:mod:`wakebench.statedir`).
Another *live* rig with the same rig id on the broker (it answers ``health_check``) is one line
and exit 2; ``--takeover`` starts anyway, and the old rig then stops by itself with one line and
exit :data:`EXIT_TAKEN_OVER` (:mod:`mqtt_bridge.owner`).

With ``--scenario`` the scenario's steps are played live on the rig clock and its expectations
checked at ``until``; a step the board cannot do by itself is printed as a manual step and, on
a real board or when stdin is a terminal, waits for the human: Enter on that terminal,
``wakebench continue`` from another one, or the board measuring the value (``--manual-steps
report`` never waits, ``wait`` waits on the sim board too); the exit code is that of ``simulate``: 0 met, 1 not met (or interrupted),
2 invalid file or configuration. ``--clock stepped`` plays the scenario on a manual clock that
jumps to each step once the rig has answered the previous one: the same broker and bridge, with
timing as exact as ``simulate`` however busy the machine is (CI).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import logging
import signal
import sys
from typing import TextIO

from boards import BoardError
from firmware_sim.errors import ScenarioError, SignalError
from firmware_sim.scenario import Scenario, load_scenario
from wakebench.config import RigConfig, RigConfigError, RigError, default_config, load_config
from wakebench.live import LiveResult, play_scenario, scenario_initial
from wakebench.printer import Printer
from wakebench.records import RecordWriter
from wakebench.rig import Rig, print_banner
from wakebench.rigctl import parse_assignments
from wakebench.timefmt import clock
from wakebench.webserver import WebServer
from wbcommon.signals import InvalidSignalError

EXIT_OK, EXIT_NOT_MET, EXIT_INVALID = 0, 1, 2
#: This rig's id was taken over by another rig (``--takeover``) while it ran; it stopped.
EXIT_TAKEN_OVER = 3


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``run``."""
    parser.add_argument("--config", metavar="RIG.toml", help="rig configuration (see deploy/rig.toml)")
    parser.add_argument("--board", metavar="NAME", help="board from `wakebench boards` (default: sim)")
    parser.add_argument("--broker", metavar="URL",
                        help="mqtt[s]://[user[:password]@]host[:port][?ca=..&protocol=3.1.1]; "
                             "default: start an embedded broker")
    parser.add_argument("--rig", metavar="ID", help="rig id, [a-z0-9_-]{1,64} (default: bench)")
    parser.add_argument("--speed", type=float, metavar="X",
                        help="rig clock speed, sim board only (600: a 10-minute budget lasts 1 s)")
    parser.add_argument("--scenario", metavar="FILE", help="play a scenario live and check its expectations")
    parser.add_argument("--clock", choices=("scaled", "stepped"), default="scaled",
                        help="with --scenario: 'stepped' moves rig time from one step to the next as soon "
                             "as the rig has answered (deterministic on any machine; default: scaled, "
                             "real time times --speed)")
    parser.add_argument("--request-rate", type=float, metavar="N",
                        help="per-app requests/s before `rate_limited` (default 10; rig.request_rate)")
    parser.add_argument("--request-burst", type=int, metavar="N",
                        help="per-app request burst (default 20; rig.request_burst)")
    parser.add_argument("--state-dir", metavar="DIR",
                        help="scheduler state and outbox (default: ~/.local/state/wakebench/<rig>)")
    parser.add_argument("--embedded-broker", choices=("auto", "mosquitto", "in-process"), default="auto",
                        help="which embedded broker to start without --broker (default: mosquitto when "
                             "installed, else the in-process one)")
    parser.add_argument("--ws-port", type=int, metavar="PORT",
                        help="WebSocket listener port of the embedded mosquitto (default: a free one)")
    parser.add_argument("--no-websockets", dest="websockets", action="store_false", default=None,
                        help="no WebSocket listener on the embedded broker")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", dest="set_signals",
                        help="start value of a signal, repeatable (--set charger=ac --set screen_locked=true); "
                             "wins over the file's [signals]")
    parser.add_argument("--manual-steps", choices=("auto", "wait", "report"), default="auto",
                        help="with --scenario: a step the board cannot make 'wait's for the human (Enter on "
                             "a terminal, `wakebench continue`, or the board measuring it) or is only "
                             "'report'ed; default auto: wait on a real board or a terminal")
    parser.add_argument("--junit", metavar="XML",
                        help="with --scenario: write a JUnit XML report, one test case per expectation")
    parser.add_argument("--reset-state", action="store_true",
                        help="move the state directory's journal aside (never deleted) and start fresh")
    parser.add_argument("--check", action="store_true", help="validate the configuration and exit")
    parser.add_argument("--record", metavar="FILE",
                        help="append every event and signals snapshot to FILE as JSON lines "
                             "(render with `wakebench timeline FILE`)")
    parser.add_argument("--ha-discovery", action="store_true",
                        help="publish Home Assistant MQTT discovery (same as ha_discovery = true in the file)")
    parser.add_argument("--http-port", type=int, metavar="PORT",
                        help="port of the live web view (default: a free one; [web] port in the file)")
    parser.add_argument("--no-web", dest="web", action="store_false", default=None,
                        help="do not serve the live web view")
    parser.add_argument("--web-controls", action="store_true", default=None,
                        help="show controls on the web view: set signals, inject a fault, force-run/expire")
    parser.add_argument("--takeover", action="store_true",
                        help="start even if a live rig with this rig id is on the broker; it stops (exit 3)")
    parser.add_argument("-q", "--quiet", action="store_true", help="print only the banner and errors")


def run(args: argparse.Namespace) -> int:
    """Configure, start, serve until SIGINT/SIGTERM (or the scenario's end), stop cleanly."""
    try:
        config = load_config(args.config) if args.config else default_config()
        config = config.with_overrides(board=args.board, broker=args.broker, rig=args.rig,
                                       speed=args.speed, state_dir=args.state_dir,
                                       ws_port=args.ws_port, websockets=args.websockets,
                                       request_rate=args.request_rate, request_burst=args.request_burst,
                                       http_port=args.http_port, web=args.web, web_controls=args.web_controls)
        if args.ha_discovery:
            config = dataclasses.replace(config, ha_discovery=True)
        if args.set_signals:
            config = dataclasses.replace(config, signals={**config.signals, **parse_assignments(args.set_signals)})
    except InvalidSignalError as exc:  # one line: the signal (or the item) and what is wrong
        print(f"wakebench run: --set: {exc}", file=sys.stderr)
        return EXIT_INVALID
    except RigConfigError as exc:
        print(f"wakebench run: {exc}", file=sys.stderr)
        return EXIT_INVALID
    scenario = None
    if args.scenario:
        try:
            scenario = load_scenario(args.scenario)
        except ScenarioError as exc:
            print(f"wakebench run: {exc}", file=sys.stderr)
            return EXIT_INVALID
    if args.check:
        broker = config.broker_url and config.broker_config().url()
        print(f"{config.source}: OK · rig {config.rig_id} · board {config.board.name} · "
              f"broker {broker or 'embedded'} · state {config.resolved_state_dir}")
        return EXIT_OK
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    if args.clock == "stepped" and scenario is None:
        print("wakebench run: --clock stepped needs --scenario (the scenario's steps move the clock)",
              file=sys.stderr)
        return EXIT_INVALID
    if args.junit and scenario is None:
        print("wakebench run: --junit needs --scenario (it reports a scenario's expectations)", file=sys.stderr)
        return EXIT_INVALID
    recorder = None
    if args.record:
        try:
            recorder = RecordWriter(args.record)
        except OSError as exc:
            print(f"wakebench run: cannot write {args.record}: {exc.strerror or exc}", file=sys.stderr)
            return EXIT_INVALID
    try:
        return asyncio.run(serve(config, scenario=scenario, embedded=args.embedded_broker,
                                 out=None if args.quiet else sys.stdout, recorder=recorder, junit=args.junit,
                                 reset_state=getattr(args, "reset_state", False),
                                 stepped=args.clock == "stepped", manual_steps=args.manual_steps,
                                 takeover=getattr(args, "takeover", False)))
    finally:
        if recorder is not None:
            recorder.close()


async def serve(config: RigConfig, *, scenario: Scenario | None = None, embedded: str = "auto",
                out: TextIO | None = sys.stdout, recorder: RecordWriter | None = None,
                junit: str | None = None, reset_state: bool = False, stepped: bool = False,
                manual_steps: str = "auto", takeover: bool = False) -> int:
    """Run the rig until a signal (or the scenario's end); returns the exit code."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    printer = Printer(out)
    rig = Rig(config, embedded=embedded,  # type: ignore[arg-type]
              printer=printer, persist=scenario is None,
              seed=scenario.seed if scenario else None, limits=scenario.limits if scenario else None,
              recorder=recorder, reset_state=reset_state, stepped=stepped, takeover=takeover)
    web: WebServer | bool | None = None
    try:
        try:
            await rig.start()
        except (RigError, BoardError, SignalError) as exc:
            print(f"wakebench run: {exc}", file=sys.stderr)
            return EXIT_INVALID
        web = await _start_web(rig)
        if web is False:
            return EXIT_INVALID
        print_banner(rig, sys.stdout)
        if isinstance(web, WebServer):
            print(f"  web view:         {web.url}" + ("  (controls on)" if web.options.controls else ""),
                  flush=True)
        rig.announce()
        if scenario is None:
            stopper, lost = asyncio.ensure_future(stop.wait()), asyncio.ensure_future(rig.lost.wait())
            await asyncio.wait({stopper, lost}, return_when=asyncio.FIRST_COMPLETED)
            stopper.cancel()
            lost.cancel()
            if rig.lost_to is not None:
                print(f"wakebench run: rig {config.rig_id!r} was taken over by {rig.lost_to.describe()} "
                      "(started with --takeover); this instance stops", file=sys.stderr)
                return EXIT_TAKEN_OVER
            return EXIT_OK
        return await _scenario(rig, scenario, stop, printer, junit, manual_steps)
    finally:
        if isinstance(web, WebServer):
            await web.stop()
        await rig.stop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(sig)
        if rig.driver is not None:
            where = f"; state saved in {rig.state_dir}" if rig.state_dir is not None else ""
            print(f"wakebench run: stopped at rig time {clock(rig.driver.scheduler.now)}{where}", flush=True)


async def _start_web(rig: Rig) -> WebServer | bool | None:
    """Start the web view; None when disabled, False when it cannot bind (the error is printed)."""
    options = rig.config.web
    if not options.enabled or rig.driver is None or rig.bridge is None:
        return None
    ws_url = rig.embedded.ws_url if rig.embedded is not None else None
    web = WebServer(rig.driver, options=options, rig=rig.config.rig_id, ws_url=ws_url, info=rig.bridge.info)
    rig.bridge.app_listeners.append(web.app_touched)  # state changes without an event reach the history
    try:
        await web.start()
    except OSError as exc:
        print(f"wakebench run: {rig.config.source}: web.port: cannot serve the web view on "
              f"{options.host}:{options.port or 0} ({exc.strerror or exc}); pick another port "
              "(--http-port) or --no-web", file=sys.stderr)
        return False
    return web


async def _scenario(rig: Rig, scenario: Scenario, stop: asyncio.Event, printer: Printer,
                    junit: str | None = None, manual_steps: str = "auto") -> int:
    if scenario.board != rig.config.board.name:
        printer.note(f"note: {scenario.path} was written for board {scenario.board!r}; this rig is "
                     f"{rig.config.board.name!r} (steps it cannot set are reported as manual)")
    printer.note(f"scenario {scenario.name!r}: {len(scenario.steps)} step(s) until {clock(scenario.until)} "
                 + ("rig time, stepped clock" if rig.stepped
                    else f"rig time ({scenario.until / rig.config.speed:.1f} s wall)"))
    # manual steps wait for the human on a real board or a terminal (Enter there, `wakebench
    # continue`, or the board measuring the value); `--manual-steps report` never waits
    terminal = sys.stdin is not None and sys.stdin.isatty()
    hands = sys.stdin if terminal and manual_steps != "report" else None
    real_board = rig.source is not None and rig.source.sim is None
    wait = manual_steps == "wait" or (manual_steps == "auto" and real_board)
    play = asyncio.ensure_future(play_scenario(rig, scenario, initial=scenario_initial(scenario), hands=hands,
                                               wait_for_hands=wait))
    stopper = asyncio.ensure_future(stop.wait())
    await asyncio.wait({play, stopper}, return_when=asyncio.FIRST_COMPLETED)
    stopper.cancel()
    if not play.done():
        play.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await play
        print("wakebench run: scenario interrupted before its end; expectations not checked", file=sys.stderr)
        return EXIT_NOT_MET
    try:
        result = play.result()
    except RigError as exc:
        print(f"wakebench run: {exc}", file=sys.stderr)
        return EXIT_INVALID
    _report(result, sys.stdout)
    if junit:
        from wakebench.junit import write_junit

        try:
            write_junit(junit, scenario, result.expectations, mode="run")
        except OSError as exc:
            print(f"wakebench run: cannot write {junit}: {exc.strerror or exc}", file=sys.stderr)
            return EXIT_INVALID
    return EXIT_OK if result.passed else EXIT_NOT_MET


def _report(result: LiveResult, out: TextIO) -> None:
    met = sum(r.met for r in result.expectations)
    late = sorted(result.lateness)
    median = late[len(late) // 2] if late else 0.0
    out.write(f"\nlive timing: {len(late)} step(s) took effect up to {result.tolerance:.3g} s (median "
              f"{median:.3g} s) rig time after their time in the file, at ×{result.speed:g} (scenario t = 0 "
              f"at rig time {result.origin:.3f} s, when every app was connected); that measured "
              f"tolerance is added to the end of each window, and a window narrower than it is unverifiable\n")
    out.write(f"expectations: {met}/{len(result.expectations)} met\n")
    for r in result.expectations:
        mark = "✔" if r.met else "✘"
        what = ", ".join(f"{k}={v}" for k, v in r.expect.raw.items())
        out.write(f"  {mark} line {r.expect.line}: {what} — {r.detail}\n")
    if result.failures:
        out.write(f"steps: {len(result.failures)} failed\n")
        for f in result.failures:
            out.write(f"  ✘ {result.scenario.path}:{f.line} at {clock(max(f.t, 0.0))}: {f.message}\n")
    if result.manual:
        out.write(f"  ({len(result.manual)} manual step(s) needed a hand on the bench)\n")
    out.flush()
