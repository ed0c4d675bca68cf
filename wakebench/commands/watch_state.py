"""``watch``'s model: what the watcher knows about each rig, fed one MQTT message at a time
(:meth:`WatchState.feed`), plus the plain one-line form of each message for piped output.
No terminal, no broker: :mod:`wakebench.commands.watch` renders it and follows the broker."""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from wakebench.timefmt import clock, stamp

#: Events kept per rig (and in the fleet view) for the "last events" table.
MAX_EVENTS: Final = 15
#: Task state keys that say why a task waits, first found wins: the fidelity issue's ``unmet``
#: conditions, Android's / iOS's ``waiting_for``, WP8's ``last_skip_reason``.
WAIT_KEYS: Final = ("unmet", "unmet_conditions", "waiting_for", "last_skip_reason")

__all__ = ["MAX_EVENTS", "WAIT_KEYS", "AppView", "RigView", "WatchState", "bridge_text", "event_detail",
           "fmt_value", "json_object", "stamp", "task_deadline", "when", "why_waiting"]


def fmt_value(value: Any) -> str:
    """A signal value for people: ``yes``/``no``, 3 significant digits, ``–`` for null."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


# -- state ----------------------------------------------------------------------------------------
@dataclass
class AppView:
    """What the watcher knows about one app."""

    platform: str | None = None
    state: str | None = None
    events: int = 0
    last_event: dict[str, Any] | None = None
    last_error: str | None = None


@dataclass
class RigView:
    """What the watcher knows about one rig."""

    rig: str
    online: bool | None = None
    info: dict[str, Any] = field(default_factory=dict)
    signals: dict[str, Any] = field(default_factory=dict)
    apps: dict[str, AppView] = field(default_factory=dict)
    tasks: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    events: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=MAX_EVENTS))
    anchor_t: float | None = None  # rig time of the last message that carried one
    anchor_wall: float = 0.0  # receiver's monotonic time when it arrived
    anchor_live: bool = False  # False while only retained (possibly old) times are known
    restarted: bool = False  # came online since the last live time

    @property
    def speed(self) -> float:
        """Rig clock speed from ``bridge/info`` (1 when unknown)."""
        speed = self.info.get("speed")
        return float(speed) if isinstance(speed, int | float) and speed > 0 else 1.0

    def rig_time(self, now: float) -> float | None:
        """Estimated rig time at receiver time ``now`` (None before any timed message)."""
        if self.anchor_t is None:
            return None
        if self.online is False or not self.anchor_live:
            return self.anchor_t
        return self.anchor_t + max(0.0, now - self.anchor_wall) * self.speed

    def app(self, app_id: str) -> AppView:
        return self.apps.setdefault(app_id, AppView())


class WatchState:
    """Rigs seen on the broker, fed message by message.

    Args:
        prefix: base topic prefix (``wakebench``).
        max_events: events kept per rig.
    """

    def __init__(self, prefix: str = "wakebench", *, max_events: int = MAX_EVENTS) -> None:
        self.prefix = prefix
        self.rigs: dict[str, RigView] = {}
        self.connected: bool | None = None
        self.note: str = ""
        self.max_events = max_events
        self.ignored = 0  # messages that were not valid JSON / not understood

    def feed(self, topic: str, payload: bytes, *, now: float, retained: bool = False) -> str | None:
        """Apply one message received at receiver time ``now``; returns it as one plain line
        (for piped output), None when it says nothing new. Never raises for bad input."""
        try:
            return self._feed(topic, payload, now=now, retained=retained)
        except (TypeError, ValueError, AttributeError):  # a well-formed JSON of the wrong shape
            self.ignored += 1
            return None

    def _feed(self, topic: str, payload: bytes, *, now: float, retained: bool) -> str | None:
        levels = topic.split("/")
        base = self.prefix.split("/")
        if levels[: len(base)] != base or len(levels) < len(base) + 2:
            return None
        rig_id, rest = levels[len(base)], levels[len(base) + 1 :]
        rig = self.rigs.get(rig_id)
        if rig is None:
            rig = self.rigs[rig_id] = RigView(rig_id, events=deque(maxlen=self.max_events))
        who = f"{rig_id:<10} "
        if len(rest) >= 3 and rest[0] == "apps" and rest[2] == "tasks":
            if len(rest) == 4:
                task = self._task(rig, rest[1], rest[3], payload)
                if task is None:
                    return f"{who}{'':12}  TASK        {rest[1]}/{rest[3]} gone"
                why = why_waiting(task)
                return (f"{who}{'':12}  TASK        {rest[1]}/{task.get('task_id', rest[3])} "
                        f"{task.get('state', '?')}{f' (waiting for {why})' if why else ''}")
            return None
        data = json_object(payload)
        if data is None:
            if payload:
                self.ignored += 1
            return None
        if rest == ["bridge", "state"]:
            state = data.get("state")
            if state not in ("online", "offline"):
                return None
            if state == "offline" and rig.anchor_t is not None:
                rig.anchor_t, rig.anchor_wall = rig.rig_time(now), now  # the clock stops with the rig
            if state == "online" and rig.online is not True:
                rig.restarted = True  # its next live time re-bases the clock, even if earlier
            rig.online = state == "online"
            return f"{who}{'':12}  {state.upper()}"
        if rest == ["bridge", "info"]:
            rig.info = data
            return f"{who}{'':12}  INFO        board {data.get('board', '?')}, speed ×{rig.speed:g}"
        if rest == ["signals"]:
            before, rig.signals = rig.signals, data
            self._anchor(rig, data.get("t"), now, retained)
            raw_stale = data.get("stale")
            stale = raw_stale if isinstance(raw_stale, list) else []
            changed = [f"{k}={'unknown' if k in stale else fmt_value(v)}" for k, v in data.items()
                       if k not in ("t", "ts") and before.get(k, object()) != v]
            return f"{who}{when(data)}  SIGNALS     {', '.join(changed)}" if changed else None
        if rest == ["bridge", "event"]:
            rig.events.appendleft({"kind": "bridge", **data})
            self._anchor(rig, data.get("t"), now, retained)
            return f"{who}{when(data)}  {str(data.get('type', '')).upper():<10}  {bridge_text(data)}"
        if len(rest) == 3 and rest[0] == "apps" and rest[2] == "events":
            self._event(rig, rest[1], data, now, retained)
            return (f"{who}{when(data)}  {str(data.get('type', '')).upper():<10}  "
                    f"{rest[1]}/{data.get('task_id') or ''}  {event_detail(data)} #{data.get('seq', '')}")
        if len(rest) == 3 and rest[0] == "apps" and rest[2] == "state":
            app = rig.app(rest[1])
            if isinstance(data.get("platform"), str):
                app.platform = data["platform"]
            if isinstance(data.get("state"), str):
                app.state = data["state"]
            return f"{who}{when(data)}  APP         {rest[1]} ({app.platform or '?'}) {app.state or '?'}"
        if len(rest) == 4 and rest[0] == "apps" and rest[2] == "response":
            self._response(rig, rest[1], rest[3], data)
            if data.get("status") == "error":
                return f"{who}{'':12}  ERROR       {rest[1]} {rig.app(rest[1]).last_error}"
        return None

    def _anchor(self, rig: RigView, t: Any, now: float, retained: bool) -> None:
        """Re-base the rig clock estimate on a message's ``t``.

        A retained message may be old, so it only counts until a live one arrives. A live one
        moves the estimate forward, never back (the outbox replays old events after a
        reconnect), except right after the rig came (back) online, when anything goes.
        """
        if not isinstance(t, int | float) or isinstance(t, bool):
            return
        if retained and rig.anchor_live:
            return
        if not retained and rig.anchor_live and not rig.restarted:
            estimate = rig.rig_time(now)
            if estimate is not None and t < estimate:
                return
        rig.anchor_t, rig.anchor_wall, rig.anchor_live = float(t), now, not retained
        if not retained:
            rig.restarted = False

    def _event(self, rig: RigView, app_id: str, data: dict[str, Any], now: float, retained: bool) -> None:
        app = rig.app(app_id)
        app.events += 1
        app.last_event = data
        if isinstance(data.get("platform"), str):
            app.platform = data["platform"]
        rig.events.appendleft({"kind": "event", **data, "app": app_id})
        self._anchor(rig, data.get("t"), now, retained)

    def _response(self, rig: RigView, app_id: str, verb: str, data: dict[str, Any]) -> None:
        app = rig.app(app_id)
        payload = data.get("data") if isinstance(data.get("data"), dict) else {}
        assert isinstance(payload, dict)
        if data.get("status") == "error":
            app.last_error = f"{verb}: {data.get('code')}: {data.get('error')}"
            return
        if verb == "register":
            registered = payload.get("app")
            if isinstance(registered, dict) and isinstance(registered.get("platform"), str):
                app.platform = registered["platform"]
                app.state = registered.get("state") if isinstance(registered.get("state"), str) else app.state
        elif verb == "state" and isinstance(payload.get("state"), str):
            app.state = payload["state"]

    def _task(self, rig: RigView, app_id: str, level: str, payload: bytes) -> dict[str, Any] | None:
        if not payload:
            rig.tasks.pop((app_id, level), None)
            return None
        data = json_object(payload)
        if data is None:
            self.ignored += 1
            return None
        rig.app(app_id)
        rig.tasks[(app_id, level)] = data
        return data


def when(data: Mapping[str, Any]) -> str:
    """The message's rig ``t`` as :func:`stamp`, blank (same width) without one."""
    t = data.get("t")
    return stamp(float(t)) if isinstance(t, int | float) and not isinstance(t, bool) else " " * 12


def event_detail(e: Mapping[str, Any]) -> str:
    """Reason, and for a wake its deadline (``until 0:11:40``)."""
    detail = [str(e["reason"])] if e.get("reason") else []
    if e.get("type") == "wake" and isinstance(e.get("deadline"), int | float):
        detail.append(f"until {clock(float(e['deadline']))}")
    return " ".join(detail)


def bridge_text(e: Mapping[str, Any]) -> str:
    """The human part of a ``bridge/event``."""
    data = e.get("data") if isinstance(e.get("data"), dict) else {}
    assert isinstance(data, dict)
    return str(data.get("message") or data.get("error") or json.dumps(data)[:80]) if data else ""


def task_deadline(task: Mapping[str, Any]) -> float | None:
    """A task state's deadline: top-level, or nested in the current run (WP8: ``run.deadline``)."""
    for holder in (task, task.get("run"), task.get("session")):
        if isinstance(holder, Mapping):
            deadline = holder.get("deadline")
            if isinstance(deadline, int | float) and not isinstance(deadline, bool):
                return float(deadline)
    return None


def why_waiting(task: Mapping[str, Any]) -> str:
    """Why a task waits (see :data:`WAIT_KEYS`), "" when it does not say."""
    if task.get("state") in ("running", "finished", "done"):
        return ""
    for key in WAIT_KEYS:
        value = task.get(key)
        if isinstance(value, list | tuple) and value:
            return ", ".join(str(v) for v in value)
        if isinstance(value, str) and value:
            return value
    return ""


def json_object(payload: bytes) -> dict[str, Any] | None:
    """The payload as a JSON object, None for anything else."""
    try:
        data = json.loads(payload)
    except (ValueError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None


