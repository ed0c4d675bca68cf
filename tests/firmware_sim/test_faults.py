"""A failing rule never stops the rig (issue 8 item 3): faults are contained, recorded, answered."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from firmware_sim import Scheduler, Signals
from firmware_sim.platforms import POLICIES
from firmware_sim.platforms.android import MAX_BACKOFF_DOUBLINGS, AndroidLimits, AndroidPolicy
from firmware_sim.platforms.capacitor import CapacitorPolicy
from firmware_sim.platforms.capacitor import FinishArgs as CapacitorFinishArgs
from firmware_sim.policy import App, Policy
from firmware_sim.scheduler import FAULTS_KEPT, INTERNAL_ERROR


def _capacitor_pair(policy: type[CapacitorPolicy] = CapacitorPolicy) -> Scheduler:
    s = _with_policy("capacitor", policy)
    for app in ("good", "bad"):
        assert s.handle(0, app, "register", {"platform": "capacitor"})[0].ok
        assert s.handle(0, app, "before_exit", {"task_id": "upload"})[0].ok
    return s


def _with_policy(platform: str, policy: type[Policy], **kwargs: Any) -> Scheduler:
    """A scheduler whose ``platform`` runs ``policy``, a subclass with a broken rule. A subclass,
    not a method replaced on the instance: the compiled build's policies take no instance
    attributes (CONTRIBUTING "Compiled build")."""
    saved = POLICIES[platform]
    POLICIES[platform] = policy
    try:
        return Scheduler(**kwargs)
    finally:
        POLICIES[platform] = saved


class _BadDeadlines(CapacitorPolicy):
    """The Capacitor deadline rule raises for app ``bad`` only."""

    def _on_deadline(self, task: Any) -> None:
        if task.app == "bad":
            raise ZeroDivisionError("rule bug")
        super()._on_deadline(task)


class _BrokenFinish(CapacitorPolicy):
    def verb_finish(self, app: App, args: CapacitorFinishArgs) -> dict[str, Any]:
        raise KeyError("oops")


class _DividingFinish(CapacitorPolicy):
    def verb_finish(self, app: App, args: CapacitorFinishArgs) -> dict[str, Any]:
        return {"x": 1 / 0}


class _BrokenSignals(AndroidPolicy):
    def on_signals(self, old: Signals, new: Signals, changed: frozenset[str]) -> None:
        raise RuntimeError("android rule bug")


def test_a_raising_timer_is_contained_to_its_task(caplog: pytest.LogCaptureFixture) -> None:
    s = _capacitor_pair(_BadDeadlines)
    assert s.health() == (True, [])
    with caplog.at_level(logging.ERROR, logger="firmware_sim.scheduler"):
        events = s.advance(3600)
    got = [(e.app, e.type, e.task_id, e.reason) for e in events]
    # the other app still gets its expire (180 s) and terminate (185 s): the loop kept running
    assert ("good", "expire", "upload", "time_limit") in got
    assert ("good", "terminate", "upload", "not_finished") in got
    assert ("bad", "unscheduled", "upload", INTERNAL_ERROR) in got
    assert "ZeroDivisionError" in caplog.text and "Traceback" in caplog.text
    healthy, reasons = s.health()
    assert not healthy and any("capacitor" in r and "bad" in r for r in reasons)
    fault = s.faults[-1]
    assert (fault.t, fault.app, fault.task, fault.platform) == (180.0, "bad", "upload", "capacitor")
    assert "rule bug" in fault.message
    s.clear_faults()
    assert s.health() == (True, []) and s.faults == []


def test_a_raising_verb_answers_internal_error_and_the_loop_goes_on() -> None:
    s = _capacitor_pair(_BrokenFinish)
    response, events = s.handle(10, "bad", "finish", {"task_id": "upload"})
    assert (response.status, response.code) == ("error", INTERNAL_ERROR)
    assert [(e.app, e.type, e.task_id, e.reason) for e in events] == [
        ("bad", "unscheduled", "upload", INTERNAL_ERROR)]
    assert not s.health()[0]
    later = s.advance(200)
    assert [e.type for e in later if e.app == "good"] == ["expire", "terminate"]
    assert [e for e in later if e.app == "bad"] == []  # the task was dropped with its timers
    assert s.tasks("bad") == {}


def test_a_raising_signal_handler_leaves_other_platforms_running() -> None:
    s = _with_policy("android", _BrokenSignals,
                     signals=Signals(battery_level=95, charger="ac", network="wifi", screen_locked=True))
    s.handle(0, "mail", "register", {"platform": "wp8"})
    r, woke = s.handle(0, "mail", "add", {"name": "sync", "type": "resource_intensive"})
    assert r.ok and [e.type for e in woke] == ["wake"]
    s.handle(0, "pics", "register", {"platform": "android"})
    s.handle(0, "pics", "enqueue", {"id": "up", "constraints": {"requires_charging": True}})
    events = s.set_signals(60, s.signals.updated({"charger": "none"}))
    assert ("mail", "revoke", "charger_removed") in [(e.app, e.type, e.reason) for e in events]
    healthy, reasons = s.health()
    assert not healthy and "android" in reasons[-1] and "signals" in reasons[-1]


def test_faults_are_bounded() -> None:
    s = _capacitor_pair(_DividingFinish)
    for i in range(FAULTS_KEPT + 5):
        s.handle(i, "good", "finish", {"task_id": "x"})
    assert len(s.faults) == FAULTS_KEPT
    assert f"{FAULTS_KEPT + 5} policy fault(s)" in s.health()[1][0]


def test_backoff_is_capped_at_five_hours_after_any_number_of_retries() -> None:
    """developer.android.com/reference/androidx/work/WorkRequest: MAX_BACKOFF_MILLIS = 18000000."""
    assert AndroidLimits().max_backoff_s == 18_000_000 / 1000
    s = Scheduler()
    s.handle(0, "a", "register", {"platform": "android"})
    s.handle(0, "a", "enqueue", {"id": "w"})
    policy = s.policies["android"]
    work = policy._works[("a", "w")]  # type: ignore[attr-defined]
    for attempts in (1, 2, MAX_BACKOFF_DOUBLINGS, 1024, 1025, 10**6):
        work.run_attempt_count = attempts
        assert policy._backoff(work) <= 18000.0  # type: ignore[attr-defined]
    work.run_attempt_count = 10**6
    assert policy._backoff(work) == 18000.0  # type: ignore[attr-defined]
