"""Task runs and app-state spans derived from timeline records (shared by ``--plot`` and ``--trace``;
``wakebench/web/timeline.js`` derives the same in the browser).

A run starts at a ``wake`` and ends at the first of: an ``expire`` / ``revoke`` / ``terminate`` /
``unscheduled`` of the same task, the app ending the task itself (a successful ending verb, see
:data:`ENDING_VERBS`), the next ``wake`` of the task (``rewake``), or the end of the timeline
(``running``). Its budget extent is the ``deadline`` the ``wake`` carried (None: unlimited).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final

__all__ = ["ENDING_VERBS", "END_TYPES", "Run", "Span", "state_spans", "task_runs"]

END_TYPES: Final[tuple[str, ...]] = ("expire", "revoke", "terminate", "unscheduled")
#: Verbs with which an app ends its own task (README "Platforms"); ``stop_and_clear_works`` ends all.
ENDING_VERBS: Final[tuple[str, ...]] = (
    "finish", "end_background_task", "set_task_completed", "dispose", "notify_complete", "abort",
    "stop_work", "cancel", "remove", "stop_and_clear_works",
)
_ID_KEYS: Final[tuple[str, ...]] = ("task_id", "taskId", "identifier", "name", "session_id", "work_id",
                                    "workId", "id")


@dataclass(frozen=True, slots=True)
class Run:
    """One task run: ``start``/``end``/``deadline`` in rig seconds, ``how`` it ended."""

    app: str
    task: str
    start: float
    end: float
    how: str
    deadline: float | None


@dataclass(frozen=True, slots=True)
class Span:
    """One app state from ``start`` to ``end`` (rig seconds)."""

    app: str
    state: str
    start: float
    end: float


def _ended_ids(rec: dict[str, Any]) -> list[str] | None:
    if rec.get("status") != "ok" or rec.get("verb") not in ENDING_VERBS:
        return None
    if rec["verb"] == "stop_and_clear_works":
        return []
    sources = (rec.get("args") or {}, rec.get("data") or {})
    ids = [str(v) for src in sources if isinstance(src, dict) for k, v in src.items()
           if k in _ID_KEYS and v is not None]
    return ids or None


def task_runs(records: Iterable[dict[str, Any]], until: float) -> list[Run]:
    """Every task run of ``records`` (time-ordered), runs still open at ``until`` end there."""
    open_runs: dict[tuple[str, str], tuple[float, float | None]] = {}
    runs: list[Run] = []
    for rec in records:
        kind = rec.get("kind")
        if kind == "response":
            ids = _ended_ids(rec)
            if ids is None:
                continue
            for key in [k for k in open_runs if k[0] == rec.get("app") and (not ids or k[1] in ids)]:
                start, deadline = open_runs.pop(key)
                runs.append(Run(key[0], key[1], start, float(rec["t"]), "finished", deadline))
        elif kind == "event" and rec.get("task_id") is not None:
            key = (str(rec["app"]), str(rec["task_id"]))
            t = float(rec["t"])
            if rec.get("type") == "wake":
                if key in open_runs:
                    start, deadline = open_runs[key]
                    runs.append(Run(key[0], key[1], start, t, "rewake", deadline))
                open_runs[key] = (t, rec.get("deadline"))
            elif rec.get("type") in END_TYPES and key in open_runs:
                start, deadline = open_runs.pop(key)
                runs.append(Run(key[0], key[1], start, t, str(rec["type"]), deadline))
    for (app, task), (start, deadline) in open_runs.items():
        end = until if deadline is None else min(float(deadline), until)
        runs.append(Run(app, task, start, max(end, start), "running", deadline))
    return runs


def state_spans(records: Iterable[dict[str, Any]], until: float) -> list[Span]:
    """App-state spans from the ``app_state`` records; the last state of an app lasts to ``until``."""
    current: dict[str, tuple[str, float]] = {}
    spans: list[Span] = []
    for rec in records:
        if rec.get("kind") != "app_state":
            continue
        app, state, t = str(rec["app"]), str(rec.get("state")), float(rec["t"])
        if app in current:
            old, start = current[app]
            if old == state:
                continue
            spans.append(Span(app, old, start, t))
        current[app] = (state, t)
    spans.extend(Span(app, state, start, max(until, start)) for app, (state, start) in current.items())
    return spans
