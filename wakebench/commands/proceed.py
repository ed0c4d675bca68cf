"""``wakebench continue``: tell a running rig that the manual steps it waits for are done.

A live scenario on a real board stops at a step the board cannot make by itself (``set
charger=none by hand``) until a human has made it. Enter on the rig's terminal releases it;
this command does the same from another terminal or a script: one ``bridge/request/continue``.
The rig answers with the steps it released, or ``nothing_waiting`` (exit 1). Exit codes as in
:mod:`wakebench.commands._rigargs`. (The module is not ``continue``: that is a Python keyword.)
"""

from __future__ import annotations

import argparse

from wakebench.commands._rigargs import EXIT_OK, add_rig_arguments, print_error, run_linked
from wakebench.rigctl import RigLink
from wakebench.timefmt import value_text


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``continue``."""
    add_rig_arguments(parser)


def run(args: argparse.Namespace) -> int:
    """Send ``continue``; print the released steps."""

    async def body(link: RigLink) -> int:
        response = await link.bridge_request("continue")
        if response.get("status") != "ok":
            return print_error("continue", response)
        released = (response.get("data") or {}).get("released") or []
        for values in released:
            text = ", ".join(f"{k}={value_text(v)}" for k, v in dict(values).items()) or "(no values)"
            print(f"{link.ref.rig}: released the manual step {text}")
        return EXIT_OK

    return run_linked(args, "continue", body)
