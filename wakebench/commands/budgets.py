"""``wakebench budgets [--platform P] [--json]``: every limit with its value, unit and source."""

from __future__ import annotations

import argparse
import json
import sys

from firmware_sim.limits import LimitInfo
from firmware_sim.platforms import POLICIES


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``budgets``."""
    parser.add_argument("--platform", type=str.lower, choices=sorted(POLICIES),
                        help="only this platform (any case: iOS = ios)")
    parser.add_argument("--json", action="store_true", help="print a JSON list")


def all_limits(platform: str | None = None) -> list[LimitInfo]:
    """Default limits of every (or one) platform."""
    names = [platform] if platform else list(POLICIES)
    return [info for name in names for info in POLICIES[name].limits_type().describe(name)]


def run(args: argparse.Namespace) -> int:
    """Print the table (or JSON)."""
    infos = all_limits(args.platform)
    if args.json:
        json.dump([i.to_dict() for i in infos], sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    from rich.console import Console
    from rich.table import Table

    table = Table(title="wakebench budgets", show_lines=False, expand=False)
    for col in ("platform", "limit", "value", "unit", "source"):
        table.add_column(col, overflow="fold")
    for i in infos:
        value = _value(i.value)
        source = i.source if "UNCONFIRMED" not in i.source else f"[yellow]{i.source}[/yellow]"
        table.add_row(i.platform, f"{i.name}\n[dim]{i.doc}[/dim]", value, i.unit, source)
    Console(width=max(120, Console().width)).print(table)
    return 0


def _value(value: object) -> str:
    """``1209600.0`` → ``1209600``, ``0.5`` → ``0.5``, None → ``unlimited``."""
    if value is None:
        return "unlimited"
    if isinstance(value, float):
        return f"{value:f}".rstrip("0").rstrip(".")
    return str(value)
