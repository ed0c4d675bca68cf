"""``wakebench`` command line. Each command lives in its own module
under :mod:`wakebench.commands` with ``add_arguments(parser)`` and ``run(args) -> int``."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import Final

import firmware_sim
from wakebench import __version__

#: command -> (module, one-line help)
COMMANDS: Final[dict[str, tuple[str, str]]] = {
    "run": ("wakebench.commands.run", "run the rig: live signals, scheduler and MQTT bridge"),
    "simulate": ("wakebench.commands.simulate", "run a scenario file in virtual time"),
    "timeline": ("wakebench.commands.timeline", "render a `run --record` recording as HTML / trace JSON"),
    "budgets": ("wakebench.commands.budgets", "print every platform limit with its source"),
    "boards": ("wakebench.commands.boards", "wiring and chips of each supported board"),
    "probe": ("wakebench.commands.probe", "scan I2C, identify known gauges, read them once"),
    "signals": ("wakebench.commands.signals", "print the current signals snapshot of a board"),
    "watch": ("wakebench.commands.watch", "live terminal view of a running rig over MQTT"),
    "acl": ("wakebench.commands.acl", "print a Mosquitto ACL file confining each app"),
    "set": ("wakebench.commands.set", "set signals on a running rig (one atomic set_signals)"),
    "status": ("wakebench.commands.status", "tasks, state, budgets and unmet conditions of a rig's apps"),
    "force-run": ("wakebench.commands.force", "make a task run now (verb force_run)"),
    "force-expire": ("wakebench.commands.force", "make a running task expire now (verb force_expire)"),
    "events": ("wakebench.commands.events", "follow a running rig's events (one line or JSON each)"),
    "fault": ("wakebench.commands.fault", "inject a fault (gauge, charger pin, network) into a running rig"),
    "continue": ("wakebench.commands.proceed", "release a manual step a running rig waits for (done by hand)"),
}


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser (imports each command module)."""
    parser = argparse.ArgumentParser(prog="wakebench", description=__doc__.split("\n")[0])
    parser.add_argument("--version", action="version",
                        version=f"wakebench {__version__}, scheduler core {firmware_sim.BUILD.describe()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (module, help_text) in COMMANDS.items():
        mod = importlib.import_module(module)
        p = sub.add_parser(name, help=help_text, description=help_text)
        mod.add_arguments(p)
        p.set_defaults(_run=mod.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``wakebench`` console script."""
    args = build_parser().parse_args(argv)
    try:
        return int(args._run(args))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `wakebench simulate x.yaml | head`
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
