"""``wakebench force-run|force-expire APP TASK``: make a task run (or expire) now, as
``adb shell cmd jobscheduler run`` does on Android.

Sends the app verb ``force_run`` / ``force_expire`` with ``{"task_id": TASK}``. A rig that does
not know the verb answers ``unknown_verb``; that is printed as one line and the exit code is 1.
Exit codes as in :mod:`wakebench.commands._rigargs`.
"""

from __future__ import annotations

import argparse
import json

from wakebench.commands._rigargs import EXIT_OK, add_rig_arguments, print_error, run_linked
from wakebench.rigctl import RigLink


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``force-run`` / ``force-expire``."""
    parser.add_argument("app", metavar="APP")
    parser.add_argument("task", metavar="TASK", help="the task id (as in `wakebench status APP`)")
    add_rig_arguments(parser)


def run(args: argparse.Namespace) -> int:
    """Send the verb; print the rig's answer."""
    command = str(args.command)
    verb = command.replace("-", "_")

    async def body(link: RigLink) -> int:
        response = await link.app_request(args.app, verb, {"task_id": args.task})
        if response.get("status") != "ok":
            return print_error(command, response)
        print(f"{args.app}/{args.task}: {verb} ok {json.dumps(response.get('data') or {})}")
        return EXIT_OK

    return run_linked(args, command, body)
