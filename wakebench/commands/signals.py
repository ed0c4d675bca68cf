"""``wakebench signals [--board NAME] [--json] [--watch]``: a board's current signals snapshot.

Reads the board once through its signal source (gauge, pins, netlink; the ``sim`` board by
default) and prints every signal with its unit, where it comes from, and
whether it is stale. ``--json`` prints one JSON object; ``--watch`` prints one line per change
until Ctrl-C. Exit 0, 1 when a sensor reported a fault, 2 for a bad ``--board``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import sys
from typing import Any, Final, TextIO

from boards import BoardError, SourceSnapshot, SourceUpdate, build_source, resolve_board
from boards.spec import SIGNAL_NAMES
from firmware_sim.clock import ScaledClock

#: Unit printed after each numeric signal.
UNITS: Final = {"battery_level": "%", "voltage": "V", "current": "A", "temperature": "°C"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``signals``."""
    parser.add_argument("--board", default="sim", metavar="NAME",
                        help="board name or board .toml file (default: sim)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--watch", action="store_true",
                        help="print a line per change (at the precision printed) until Ctrl-C")
    parser.add_argument("--poll", type=float, default=1.0, metavar="S",
                        help="gauge poll period in seconds for --watch (default 1)")
    parser.add_argument("--count", type=int, default=None, metavar="N",
                        help="with --watch: stop after N lines")


def run(args: argparse.Namespace) -> int:
    """Read (or watch) the board and print."""
    try:
        spec = resolve_board(args.board)
    except BoardError as exc:
        print(f"wakebench signals: {exc}", file=sys.stderr)
        return 2
    if not args.poll > 0:
        print(f"wakebench signals: --poll must be a positive number of seconds, not {args.poll}",
              file=sys.stderr)
        return 2
    try:
        if args.watch:
            return asyncio.run(_watch(spec.name, args))
        snapshot = asyncio.run(_read_once(args.board))
    except BoardError as exc:
        print(f"wakebench signals: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0
    if args.json:
        json.dump({"board": spec.name, **snapshot.to_dict(), "origins": dict(snapshot.origins)},
                  sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        _print_table(spec.name, snapshot)
    return 1 if snapshot.faults else 0


async def _read_once(board: str) -> SourceSnapshot:
    source = build_source(resolve_board(board), clock=ScaledClock(), poll_interval=None)
    await source.start()
    try:
        return source.snapshot()
    finally:
        await source.stop()


async def _watch(board: str, args: argparse.Namespace) -> int:
    source = build_source(resolve_board(args.board), clock=ScaledClock(), poll_interval=args.poll)
    done = asyncio.Event()
    seen = 0
    faults = False

    changes = OnChange()

    def show(update: SourceUpdate) -> None:
        nonlocal seen, faults
        faults = faults or bool(update.faults)
        line = changes.filter(update)
        if line is None:
            return
        _print_update(line, args.json, sys.stdout)
        seen += 1
        if args.count is not None and seen >= args.count:
            done.set()

    if not args.json:
        print(f"watching board {board} (Ctrl-C to stop)", flush=True)
    await source.start(show)
    try:
        await done.wait()
    except asyncio.CancelledError:  # Ctrl-C cancels the main task under asyncio.run
        pass
    finally:
        with contextlib.suppress(Exception):
            await source.stop()
    return 1 if faults else 0


class OnChange:
    """``--watch`` prints on change only: an update whose values all print as they did last time
    (a gauge re-read every second, a 0.001 % step) gives no line; a change of the stale set,
    recovered signals and new faults always do."""

    def __init__(self) -> None:
        self._shown: dict[str, str] = {}
        self._stale: frozenset[str] = frozenset()

    def filter(self, update: SourceUpdate) -> SourceUpdate | None:
        """The update reduced to what changed at the printed precision, or None."""
        changed = {name: value for name, value in update.values.items()
                   if self._shown.get(name) != _value_text(name, value)}
        if not (changed or update.stale != self._stale or update.fresh or update.faults):
            return None
        self._stale = update.stale
        self._shown.update((name, _value_text(name, value)) for name, value in changed.items())
        return dataclasses.replace(update, values=changed)


def _value_text(name: str, value: Any) -> str:
    if value is None:
        return "unknown"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        digits = {"voltage": 3, "current": 4}.get(name, 1)
        return f"{value:.{digits}f} {UNITS.get(name, '')}".rstrip()
    return str(value)


def _print_update(update: SourceUpdate, as_json: bool, out: TextIO) -> None:
    if as_json:
        out.write(json.dumps({
            "t": update.t,
            "values": dict(update.values),
            "stale": sorted(update.stale),
            "fresh": sorted(update.fresh),
            "faults": list(update.faults),
        }) + "\n")
    else:
        parts = [f"{name}={_value_text(name, value)}" for name, value in update.values.items()]
        parts += [f"STALE {name}=unknown" for name in sorted(update.stale)]
        parts += [f"fresh {name}" for name in sorted(update.fresh)]
        parts += [f"FAULT {fault}" for fault in update.faults]
        out.write(f"t={update.t:9.3f}  " + "  ".join(parts) + "\n")
    out.flush()


def _print_table(board: str, snapshot: SourceSnapshot) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console(width=max(120, Console().width), highlight=False)
    table = Table(title=f"signals of board {board} (t = {snapshot.t:.3f} s)")
    for column in ("signal", "value", "source", "state"):
        table.add_column(column, overflow="fold")
    for name in SIGNAL_NAMES:
        state = "[red]STALE[/red]" if name in snapshot.stale else "fresh"
        value = None if name in snapshot.stale else snapshot.values.get(name)  # None: unknown
        table.add_row(name, _value_text(name, value),
                      escape(snapshot.origins.get(name, "")), state)
    console.print(table)
    for fault in snapshot.faults:
        console.print(f"[red]fault:[/red] {escape(fault)}")
