"""``wakebench set NAME=VALUE ...``: set signals on a running rig in one atomic request.

Sends one ``set_signals`` request on ``bridge/request/set_signals`` (all values or none) and
prints what the rig applied. Values are read as in a scenario (``charger=none
screen_locked=true battery_level=15``). Exit codes as in :mod:`wakebench.commands._rigargs`.
"""

from __future__ import annotations

import argparse
import sys

from wakebench.commands._rigargs import EXIT_OK, EXIT_USAGE, add_rig_arguments, print_error, run_linked
from wakebench.rigctl import RigLink, parse_assignments
from wbcommon.signals import InvalidSignalError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``set``."""
    parser.add_argument("values", nargs="+", metavar="NAME=VALUE", help="e.g. charger=none screen_locked=true")
    add_rig_arguments(parser)


def run(args: argparse.Namespace) -> int:
    """Parse, send one ``set_signals``, print the applied values."""
    try:
        values = parse_assignments(args.values)
    except InvalidSignalError as exc:  # one line: the signal (or the item) and what is wrong
        print(f"wakebench set: {exc}", file=sys.stderr)
        return EXIT_USAGE

    async def body(link: RigLink) -> int:
        response = await link.bridge_request("set_signals", values)
        if response.get("status") != "ok":
            return print_error("set", response)
        applied = response.get("data", {}).get("applied", {})
        print(f"{link.ref.rig}: set " + ", ".join(f"{k}={_show(v)}" for k, v in applied.items()))
        return EXIT_OK

    return run_linked(args, "set", body)


def _show(value: object) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)
