"""``wakebench events [--app A] [--json]``: follow a running rig's events as they happen.

One line per event (rig time, type, app/task, reason, deadline, seq), or with ``--json`` each
event's payload as one JSON line (``jq``-friendly), plus the rig's ``bridge/event`` notices
(faults, manual steps) unless ``--app`` is given. Runs until Ctrl-C (exit 0).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from wakebench.commands._rigargs import EXIT_OK, add_rig_arguments, run_linked
from wakebench.rigctl import RigLink
from wakebench.timefmt import clock, stamp


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``events``."""
    parser.add_argument("--app", metavar="APP", help="only this app's events")
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    add_rig_arguments(parser)


def format_event(app: str, event: dict[str, Any]) -> str:
    """``0:05:00.091  revoke     mail/sync  charger_removed  #2``."""
    t = event.get("t")
    when = stamp(float(t)) if isinstance(t, int | float) else "?"
    parts = [f"{when:>12}", f"{event.get('type')!s:<11}", f"{app}/{event.get('task_id') or '-'}"]
    if event.get("reason"):
        parts.append(str(event["reason"]))
    if event.get("deadline") is not None:
        parts.append(f"until {clock(float(event['deadline']))}")
    parts.append(f"#{event.get('seq')}")
    return "  ".join(parts)


def run(args: argparse.Namespace) -> int:
    """Subscribe and print until interrupted."""

    async def body(link: RigLink) -> int:
        base = link.topics.base
        topic = f"{base}/apps/{args.app or '+'}/events"
        queue = await link.subscribe(topic if args.app else f"{base}/#")
        print(f"following {link.ref.rig} on {link.config.url()} (Ctrl-C ends)", file=sys.stderr, flush=True)
        while True:
            message = await queue.get()
            name = message.topic.value
            parts = name[len(base) + 1:].split("/")
            try:
                body = json.loads(bytes(message.payload))  # type: ignore[arg-type,unused-ignore]
            except (TypeError, ValueError):
                continue
            if len(parts) == 3 and parts[0] == "apps" and parts[2] == "events" and isinstance(body, dict):
                line = json.dumps({"app": parts[1], **body}) if args.json else format_event(parts[1], body)
            elif parts == ["bridge", "event"] and isinstance(body, dict):
                line = json.dumps({"rig_event": body}) if args.json else f"{'':>10}  rig event  {json.dumps(body)}"
            else:
                continue
            print(line, flush=True)

    try:
        return run_linked(args, "events", body)
    except KeyboardInterrupt:  # Ctrl-C is how `events` ends
        return EXIT_OK
