"""What apps receive (DESIGN.md section 4) and what the scheduler answers to requests."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from typing import Any, Final, Literal

from firmware_sim.signals import Signals

EventType = Literal["wake", "expire", "revoke", "terminate", "unscheduled"]
EVENT_TYPES: Final[tuple[str, ...]] = ("wake", "expire", "revoke", "terminate", "unscheduled")


@dataclass(frozen=True, slots=True)
class Event:
    """One event for one app. ``t``/``deadline`` are rig seconds; ``seq`` is per app, gap-free."""

    type: EventType
    app: str
    platform: str
    task_id: str | None
    t: float
    seq: int
    signals: Signals
    reason: str | None = None
    deadline: float | None = None
    data: dict[str, Any] = field(default_factory=dict)

    def to_dict(self, epoch: datetime | None = None) -> dict[str, Any]:
        """The JSON event payload; ``ts`` is ``epoch + t`` in ISO-8601 UTC (null without epoch)."""
        out: dict[str, Any] = {
            "type": self.type,
            "app": self.app,
            "platform": self.platform,
            "task_id": self.task_id,
            "reason": self.reason,
            "t": round(self.t, 6),
            "ts": iso(epoch, self.t),
            "deadline": None if self.deadline is None else round(self.deadline, 6),
            "seq": self.seq,
            "signals": self.signals.to_dict(),
        }
        if self.data:
            out["data"] = self.data
        return out


@dataclass(frozen=True, slots=True)
class Response:
    """The scheduler's answer to one request (DESIGN.md section 7 response shape)."""

    status: Literal["ok", "error"]
    data: dict[str, Any] = field(default_factory=dict)
    code: str | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        """True for ``status == "ok"``."""
        return self.status == "ok"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready mapping (``code`` and ``error`` only on errors)."""
        if self.ok:
            return {"status": "ok", "data": self.data}
        return {"status": "error", "code": self.code, "error": self.error, "data": self.data}


#: True when this module runs mypyc-compiled (``make compiled``; CONTRIBUTING "Compiled build"):
#: a compiled class's constructor is a direct C call there, while pure Python builds by slots.
_COMPILED: Final = not __file__.endswith(".py")
_new: Final = object.__new__
#: Slot setters of :class:`Event` / :class:`Response`, in field order. Pure Python: the scheduler
#: builds one event per wake-up and one response per request, and a frozen dataclass's
#: ``__init__`` spends an ``object.__setattr__`` per field (about twice the cost of setting the
#: slots directly). ``vars(cls)``, not ``cls.__dict__``: mypyc compiles the former.
(_ev_type, _ev_app, _ev_platform, _ev_task_id, _ev_t, _ev_seq, _ev_signals, _ev_reason,
 _ev_deadline, _ev_data) = (vars(Event)[f.name].__set__ for f in fields(Event))
_re_status, _re_data, _re_code, _re_error = (vars(Response)[f.name].__set__ for f in fields(Response))


def new_event(type: EventType, app: str, platform: str, task_id: str | None, t: float, seq: int,
              signals: Signals, reason: str | None, deadline: float | None,
              data: dict[str, Any]) -> Event:
    """``Event(type, app, ...)`` with every field given, built by setting its slots (the
    scheduler's hot path; equal to and indistinguishable from the constructor's result).
    Compiled, the constructor itself is the fast way (and ``object.__new__`` is refused)."""
    if _COMPILED:
        return Event(type, app, platform, task_id, t, seq, signals, reason, deadline, data)
    event = _new(Event)
    _ev_type(event, type)
    _ev_app(event, app)
    _ev_platform(event, platform)
    _ev_task_id(event, task_id)
    _ev_t(event, t)
    _ev_seq(event, seq)
    _ev_signals(event, signals)
    _ev_reason(event, reason)
    _ev_deadline(event, deadline)
    _ev_data(event, data)
    return event


def ok_response(data: dict[str, Any]) -> Response:
    """``Response("ok", data)``, built by setting its slots (one per served request; compiled:
    by the constructor)."""
    if _COMPILED:
        return Response("ok", data, None, None)
    response = _new(Response)
    _re_status(response, "ok")
    _re_data(response, data)
    _re_code(response, None)
    _re_error(response, None)
    return response


def iso(epoch: datetime | None, t: float) -> str | None:
    """``epoch + t`` seconds as ISO-8601 UTC with a ``Z`` suffix."""
    if epoch is None:
        return None
    return (epoch + timedelta(seconds=t)).isoformat().replace("+00:00", "Z")
