"""``wakebench boards [NAME]``: the supported boards, or one board's full wiring.

Without NAME: one line per board (gauge chip@address, power pin and polarity, relays, and an
UNCONFIRMED marker when the reference leaves a fact open). With NAME (a catalogue name or a
board ``.toml`` file): chips, pins, relays, notes, each UNCONFIRMED fact labelled, and sources.
Exit 2 for an unknown board or an invalid file.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from boards import BOARDS, BoardError, BoardSpec, resolve_board
from boards.spec import UNCONFIRMED, PinSpec

_WIDTH = 120


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``boards``."""
    parser.add_argument("name", nargs="?", metavar="NAME",
                        help="a board name (see the list) or a board .toml file")
    parser.add_argument("--json", action="store_true", help="print the spec(s) as JSON")


def run(args: argparse.Namespace) -> int:
    """Print the list or one board."""
    if args.name is None:
        specs = list(BOARDS.values())
        if args.json:
            _print_json([_spec_dict(s) for s in specs])
        else:
            _console().print(_list_table(specs))
        return 0
    try:
        spec = resolve_board(args.name)
    except BoardError as exc:
        print(f"wakebench boards: {exc}", file=sys.stderr)
        return 2
    if args.json:
        _print_json(_spec_dict(spec))
    else:
        _print_board(spec)
    return 0


def _console(width: int = _WIDTH) -> Console:
    return Console(width=max(width, Console().width), highlight=False)


def _print_json(data: Any) -> None:
    json.dump(data, sys.stdout, indent=2)
    sys.stdout.write("\n")


def _pin_text(pin: PinSpec | None) -> str:
    if pin is None:
        return "-"
    return f"GPIO{pin.gpio} {pin.polarity}"


def _list_table(specs: list[BoardSpec]) -> Table:
    table = Table(title="wakebench boards (wakebench boards NAME for the wiring)")
    table.add_column("board", overflow="fold", min_width=30)
    for column in ("gauge", "power pin", "relays", "facts"):
        table.add_column(column, no_wrap=True)
    for spec in specs:
        if spec.gauge is not None:
            gauge = spec.gauge.label if spec.gauge.bus == 1 else f"{spec.gauge.label} bus {spec.gauge.bus}"
        elif spec.power_supply is not None:
            gauge = "sysfs power_supply"
        else:
            gauge = "-"
        relays = ", ".join(f"GPIO{r.gpio} {r.signal}" for r in spec.relays) or "-"
        notes = spec.unconfirmed_notes()
        facts = f"[yellow]{UNCONFIRMED} ({len(notes)})[/yellow]" if notes else "confirmed"
        if spec.simulated:
            facts = "simulated"
        name = f"[bold]{spec.name}[/bold]\n[dim]{escape(spec.title)}[/dim]"
        table.add_row(name, gauge, _pin_text(spec.power_pin), relays, facts)
    return table


def _unconfirmed(text: str) -> str:
    return f"[yellow]{escape(text)}[/yellow]" if text else ""


def _print_board(spec: BoardSpec) -> None:
    console = _console()
    console.print(f"[bold]{escape(spec.title)}[/bold]  ({spec.name})")
    console.print(f"source: {escape(spec.source)}")
    console.print(f"battery level: {escape(spec.soc_method)}")
    console.print(f"charger type when plugged: {spec.charger}")
    if spec.power_supply is not None:
        console.print(f"kernel power_supply: {spec.power_supply}")

    chips = ([spec.gauge] if spec.gauge else []) + list(spec.other_chips)
    if chips:
        table = Table(title="I²C chips")
        for column in ("role", "chip", "address", "bus", "parameters", "status"):
            table.add_column(column, overflow="fold")
        for chip in chips:
            params = ", ".join(f"{k}={_number(v)}" for k, v in chip.params.items()) or "-"
            table.add_row(chip.role, chip.chip, f"0x{chip.address:02x}", str(chip.bus), params,
                          _unconfirmed(chip.unconfirmed) or "confirmed")
        console.print(table)

    if spec.pins:
        table = Table(title="GPIO pins (BCM numbering)")
        for column in ("GPIO", "dir", "means (when asserted)", "polarity", "pull", "debounce",
                       "signal", "vendor wording / status"):
            table.add_column(column, overflow="fold")
        for pin in spec.pins:
            debounce = "-" if pin.debounce is None else f"{pin.debounce * 1000:g} ms"
            status = "\n".join(filter(None, (escape(pin.note), _unconfirmed(pin.unconfirmed))))
            table.add_row(str(pin.gpio), pin.direction, escape(pin.function), pin.polarity,
                          pin.pull, debounce, pin.signal or "-", status)
        console.print(table)

    if spec.relays:
        table = Table(title="relays (make a signal settable)")
        for column in ("GPIO", "switches", "signal", "ON when", "safe state", "note / status"):
            table.add_column(column, overflow="fold")
        for relay in spec.relays:
            level = "high" if relay.active_high else "low"
            status = "\n".join(filter(None, (escape(relay.note), _unconfirmed(relay.unconfirmed))))
            table.add_row(str(relay.gpio), escape(relay.switches), relay.signal, f"pin {level}",
                          "on" if relay.safe_on else "off", status)
        console.print(table)

    for note in spec.notes:
        console.print(f"note: {escape(note)}")
    for note in spec.unconfirmed_notes():
        console.print(f"[yellow]{escape(note)}[/yellow]")
    if not spec.has_unconfirmed and not spec.simulated:
        console.print("every fact above is confirmed by the sources named")


def _number(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _spec_dict(spec: BoardSpec) -> dict[str, Any]:
    def chip(c: Any) -> dict[str, Any]:
        return {"chip": c.chip, "address": c.address, "bus": c.bus, "role": c.role,
                "params": dict(c.params), "unconfirmed": c.unconfirmed or None}

    return {
        "name": spec.name,
        "title": spec.title,
        "source": spec.source,
        "gauge": chip(spec.gauge) if spec.gauge else None,
        "chips": [chip(c) for c in spec.other_chips],
        "pins": [
            {"gpio": p.gpio, "function": p.function, "direction": p.direction,
             "polarity": p.polarity, "pull": p.pull, "debounce": p.debounce, "signal": p.signal,
             "note": p.note, "unconfirmed": p.unconfirmed or None}
            for p in spec.pins
        ],
        "relays": [
            {"gpio": r.gpio, "switches": r.switches, "signal": r.signal, "polarity": r.polarity,
             "safe": "on" if r.safe_on else "off", "note": r.note,
             "unconfirmed": r.unconfirmed or None}
            for r in spec.relays
        ],
        "charger": spec.charger,
        "power_supply": spec.power_supply,
        "soc_method": spec.soc_method,
        "notes": list(spec.notes),
        "unconfirmed": list(spec.unconfirmed_notes()),
        "simulated": spec.simulated,
    }
