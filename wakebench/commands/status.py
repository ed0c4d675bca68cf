"""``wakebench status [APP] [--json]``: what a running rig's scheduler holds, like
``adb shell dumpsys jobscheduler``.

For each app (``APP``, or every app registered on the rig, tasks or not, found by the retained
``apps/<app>/state`` topics): platform and app state, then
one line per task with its state first and every other non-empty field the platform's
``status`` verb returns (next run / eligible time, budgets used and left, runs, last outcome);
then the app's other status sections, with unmet conditions (any ``*unmet*`` / ``waiting*``
list) called out. The rendering is generic: fields a platform adds later show up unchanged.
``--json`` prints the ``status`` responses as one JSON object by app. Exit codes as in
:mod:`wakebench.commands._rigargs` (``not_registered`` for an unknown APP exits 1).
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from wakebench.commands._rigargs import EXIT_OK, add_rig_arguments, print_error, run_linked
from wakebench.rigctl import RigLink
from wakebench.timefmt import value_text as _value

#: Fields shown in the task's own columns (not repeated among the rest).
_TASK_HEAD = ("task_id", "state")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``status``."""
    parser.add_argument("app", nargs="?", metavar="APP", help="one app (default: every registered app)")
    parser.add_argument("--json", action="store_true", help="the raw status responses as JSON")
    add_rig_arguments(parser)


def _empty(value: Any) -> bool:
    return value is None or value in ([], {})


def render(app_id: str, data: dict[str, Any]) -> list[str]:
    """The ``status`` data of one app as readable lines."""
    app = data.get("app") or {}
    lines = [f"{app_id} ({app.get('platform', '?')}, {app.get('state', '?')}) · last event #{data.get('seq', 0)}"]
    tasks = data.get("tasks") or {}
    if not tasks:
        lines.append("  no tasks")
    for task_id, task in tasks.items():
        rest = " ".join(f"{k}={_value(v)}" for k, v in task.items() if k not in _TASK_HEAD and not _empty(v))
        lines.append(f"  {task_id:<16} {task.get('state', '?')!s:<10} {rest}".rstrip())
    for section, value in data.items():
        if section in ("app", "seq", "tasks") or _empty(value):
            continue
        if isinstance(value, dict):
            for key, inner in value.items():
                if _empty(inner):
                    continue
                mark = "  ← waits for" if ("unmet" in key or key.startswith("waiting")) else ""
                lines.append(f"  {section}.{key} = {_value(inner)}{mark}")
        else:
            lines.append(f"  {section} = {_value(value)}")
    return lines


def run(args: argparse.Namespace) -> int:
    """Ask ``status`` of one app or of every registered app; print it."""

    async def body(link: RigLink) -> int:
        apps = [args.app] if args.app else await link.retained_apps()
        out: dict[str, Any] = {}
        code = EXIT_OK
        for app in apps:
            response = await link.app_request(app, "status")
            if response.get("status") != "ok":
                if not args.app and response.get("code") == "not_registered":
                    continue  # a retained topic left by an earlier run of the rig (reset state)
                code = print_error("status", response)
                continue
            out[app] = response.get("data") or {}
        if args.json:
            print(json.dumps(out, indent=1))
        elif not out and not args.app:
            print(f"{link.ref.rig}: no app is registered")
        else:
            for app, data in out.items():
                print("\n".join(render(app, data)))
        return code

    return run_linked(args, "status", body)
