"""Helpers for scheduler tests: a scheduler in virtual time and compact event views."""

from __future__ import annotations

from typing import Any

import pytest

from firmware_sim import Event, Scheduler, Signals


class Harness:
    """Drives one scheduler; collects every event in order."""

    def __init__(self, signals: Signals | None = None, **kwargs: Any) -> None:
        self.sched = Scheduler(signals=signals or Signals(), **kwargs)
        self.events: list[Event] = []

    def request(self, t: float, app: str, verb: str, args: Any = None) -> Any:
        response, events = self.sched.handle(t, app, verb, args)
        self.events += events
        return response

    def ok(self, t: float, app: str, verb: str, args: Any = None) -> dict[str, Any]:
        response = self.request(t, app, verb, args)
        assert response.ok, response
        return response.data  # type: ignore[no-any-return]

    def error(self, t: float, app: str, verb: str, args: Any = None) -> Any:
        response = self.request(t, app, verb, args)
        assert not response.ok, response
        return response

    def advance(self, t: float) -> list[Event]:
        events = self.sched.advance(t)
        self.events += events
        return events

    def set(self, t: float, **values: Any) -> list[Event]:
        events = self.sched.set_signals(t, self.sched.signals.updated(values, t=t))
        self.events += events
        return events

    def timeline(self, app: str | None = None) -> list[tuple[float, str, str | None, str | None]]:
        """(t, type, task_id, reason) for every event (of ``app``)."""
        return [(e.t, e.type, e.task_id, e.reason) for e in self.events if app in (None, e.app)]


@pytest.fixture
def harness() -> type[Harness]:
    return Harness
