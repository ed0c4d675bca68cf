"""The rig terminal: one readable line per event, signal change, request and rig notice.

Split from :mod:`wakebench.rig`; the rig and the live scenario player both write through it.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping
from typing import Any, Final, TextIO

from firmware_sim.events import Event, Response
from firmware_sim.scheduler import Scheduler
from firmware_sim.signals import Signals
from wakebench.timefmt import clock as fmt_clock
from wakebench.timefmt import stamp as _stamp
from wakebench.timefmt import value_text as _fmt

__all__ = ["Printer", "unmet_conditions"]

#: Signals whose every change is worth a terminal line (the analogue ones change every poll).
_DISCRETE: Final = ("charger", "charging", "network", "metered", "roaming", "storage_low", "screen_locked",
                    "idle", "on_call", "user_present", "low_power_mode", "battery_saver")


class Printer:
    """Readable terminal lines for events, signal changes and rig events, as they happen.

    Args:
        out: where to write (stdout by default); None prints nothing.
        color: use colours (default: when ``out`` is a terminal).
    """

    STYLES: Final = {"wake": "green", "expire": "yellow", "revoke": "red", "terminate": "bold red",
                     "unscheduled": "magenta", "signals": "cyan", "fault": "bold yellow",
                     "manual": "bold magenta", "rig": "blue", "request": "", "error": "red",
                     "waits": "yellow"}

    def __init__(self, out: TextIO | None = None, *, color: bool | None = None) -> None:
        self.out = out
        self._console: Any = None
        if out is not None:
            from rich.console import Console

            self._console = Console(file=out, highlight=False, soft_wrap=True,
                                    force_terminal=color, no_color=color is False)
        self._battery_pct: int | None = None

    def line(self, t: float, kind: str, who: str, detail: str = "") -> None:
        """One line: ``0:05:00.250  REVOKE      mail/sync  charger_removed``."""
        if self._console is None:
            return
        from rich.text import Text

        text = Text.assemble(f"{_stamp(t):>14}  ", (f"{kind.upper():<10}", self.STYLES.get(kind, "")),
                             f"  {who:<24}", f"  {detail}" if detail else "")
        self._console.print(text)
        with contextlib.suppress(Exception):
            self.out.flush()  # type: ignore[union-attr]

    def note(self, message: str) -> None:
        """A free-form line (banner, hints)."""
        if self._console is not None:
            self._console.print(message, markup=False)
            with contextlib.suppress(Exception):
                self.out.flush()  # type: ignore[union-attr]

    def events(self, events: list[Event]) -> None:
        """Driver sink: one line per event."""
        for e in events:
            detail = [e.reason] if e.reason else []
            if e.type == "wake" and e.deadline is not None:
                detail.append(f"until {fmt_clock(e.deadline)}")
            detail.append(f"({e.platform} #{e.seq})")
            self.line(e.t, e.type, f"{e.app}/{e.task_id or '-'}", " ".join(detail))

    def request(self, t: float, app: str, verb: str, args: Any, response: Response,
                waits: Mapping[str, Any] | None = None) -> None:
        """``REQUEST  mail  add {"name":"sync"} → ok`` (or ``→ error CODE: message``), then a
        ``WAITS`` line naming what a task that did not start waits for."""
        if self._console is None:  # --quiet: a flood of refusals costs nothing to format
            return
        shown = {k: v for k, v in (args or {}).items() if k != "transaction"} if isinstance(args, dict) else args
        text = f"{verb} {json.dumps(shown, separators=(',', ':'))}" if shown else verb
        answer = "ok" if response.ok else f"error {response.code}: {response.error}"
        self.line(t, "request" if response.ok else "error", app, f"{text} → {answer}")
        for key, value in (waits or {}).items():
            self.line(t, "waits", app, f"{key}: {json.dumps(value)}")

    def signals(self, before: Signals | None, after: Signals) -> None:
        """A line for discrete signal changes and whole-percent battery steps; a stale signal
        shows as ``unknown``, never as its last value."""
        after = after.effective()
        before = None if before is None else before.effective()
        changes = [f"{n}={_fmt(getattr(after, n))}" for n in _DISCRETE
                   if before is None or getattr(before, n) != getattr(after, n)
                   or (n in before.unknown) != (n in after.unknown)]
        level = after.battery_level
        pct = -1 if level is None else int(level)
        if pct != self._battery_pct:
            changes.insert(0, "battery_level=unknown" if level is None else f"battery_level={pct}%")
            self._battery_pct = pct
        if before is not None and before.stale != after.stale:
            changes.append(f"stale=[{', '.join(sorted(after.stale))}]")
        if changes:
            self.line(after.t, "signals", "", ", ".join(changes))


def unmet_conditions(scheduler: Scheduler, app_id: str) -> dict[str, Any]:
    """The non-empty ``*unmet*`` / ``waiting*`` entries of the app's ``status`` data (what its
    waiting tasks wait for), e.g. ``{"resource_intensive_unmet": ["charger_removed"]}``."""
    app = scheduler.apps.get(app_id)
    if app is None:
        return {}
    found: dict[str, Any] = {}

    def walk(node: Any, depth: int) -> None:
        if not isinstance(node, dict) or depth > 3:
            return
        for key, value in node.items():
            if ("unmet" in str(key) or str(key).startswith("waiting")) and value:
                found[str(key)] = value
            else:
                walk(value, depth + 1)

    walk(scheduler.policies[app.platform].status(app), 0)
    return found
