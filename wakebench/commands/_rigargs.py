"""Arguments and exit codes shared by the commands that talk to a running rig
(``set``, ``status``, ``force-run``, ``force-expire``, ``events``).

Exit codes: 0 done; 1 the rig answered with an error (its ``code`` is printed); 2 bad command
line (a bad signal name or value); 3 no rig found, or the broker / rig did not answer.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import Any, Final

import aiomqtt

from mqtt_bridge.errors import BridgeError
from wakebench.rigctl import RigLink, resolve_rig

EXIT_OK: Final = 0
EXIT_RIG_ERROR: Final = 1
EXIT_USAGE: Final = 2
EXIT_UNREACHABLE: Final = 3


def add_rig_arguments(parser: argparse.ArgumentParser) -> None:
    """``--broker`` and ``--rig`` (both optional: a single local rig is found by its rig file)."""
    parser.add_argument("--broker", metavar="URL",
                        help="mqtt[s]://[user[:password]@]host[:port]; default: the local rig's (from its rig file)")
    parser.add_argument("--rig", metavar="ID", help="rig id (needed when several rigs run here)")


def run_linked(args: argparse.Namespace, command: str,
               body: Callable[[RigLink], Awaitable[int]]) -> int:
    """Resolve the rig, connect, run ``body``; errors become one line on stderr and an exit code."""
    try:
        ref = resolve_rig(args.broker, args.rig)
    except BridgeError as exc:
        print(f"wakebench {command}: {exc}", file=sys.stderr)
        return EXIT_UNREACHABLE

    async def main() -> int:
        async with RigLink(ref) as link:
            return await body(link)

    try:
        return asyncio.run(main())
    except BridgeError as exc:
        print(f"wakebench {command}: {exc}", file=sys.stderr)
        return EXIT_UNREACHABLE
    except aiomqtt.MqttError as exc:
        print(f"wakebench {command}: cannot reach the broker at {ref.broker}: {exc}", file=sys.stderr)
        return EXIT_UNREACHABLE


def print_error(command: str, response: dict[str, Any]) -> int:
    """One line for an error response: ``wakebench set: not_settable: ...``; returns 1."""
    print(f"wakebench {command}: {response.get('code')}: {response.get('error')}", file=sys.stderr)
    return EXIT_RIG_ERROR
