"""The journal's per-batch cost follows what changed (issue #8): the scheduler marks the policies
a batch ran, only those are serialised, and the journal still always holds the whole state."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

from firmware_sim import Scheduler
from firmware_sim.journal import JOURNAL_FILE, Journal, PendingItem, encode_event
from firmware_sim.signals import Signals

ROOT = Path(__file__).resolve().parents[2]


def _plain(state: Any) -> Any:
    return json.loads(json.dumps(state, sort_keys=True, default=str))


def _bench_scheduler() -> Any:
    spec = importlib.util.spec_from_file_location("bench_scheduler_dirty", ROOT / "bench" / "bench_scheduler.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_request_marks_only_its_apps_policy() -> None:
    sched = Scheduler()
    sched.handle(0.0, "mail", "register", {"platform": "wp8"})
    sched.handle(0.0, "news", "register", {"platform": "android"})
    sched.mark_saved()
    sched.handle(1.0, "news", "enqueue", {"type": "one_time", "id": "w1"})
    assert set(sched.dump_changed()["policies"]) == {"android"}


def test_a_signal_change_marks_only_the_policies_watching_it() -> None:
    sched = Scheduler()
    sched.mark_saved()
    sched.set_signals(1.0, sched.signals.updated({"charger": "ac"}, t=1.0))
    marked = set(sched.dump_changed()["policies"])
    assert marked == {n for n, p in sched.policies.items() if "charger" in p.watched}
    assert marked != set(sched.policies)


def test_marks_accumulate_until_saved_so_a_failed_write_is_repeated() -> None:
    sched = Scheduler()
    sched.handle(0.0, "mail", "register", {"platform": "wp8"})
    sched.handle(0.0, "news", "register", {"platform": "android"})
    sched.mark_saved()
    sched.handle(1.0, "mail", "status")
    sched.dump_changed()  # the journal write of this batch failed: no mark_saved
    sched.handle(2.0, "news", "status")
    assert set(sched.dump_changed()["policies"]) == {"wp8", "android"}
    sched.mark_saved()
    assert sched.dump_changed()["policies"] == {}


def test_a_loaded_or_resumed_scheduler_rewrites_every_policy() -> None:
    sched = Scheduler()
    sched.handle(0.0, "mail", "register", {"platform": "wp8"})
    again = Scheduler()
    again.load(sched.dump())
    assert set(again.dump_changed()["policies"]) == set(again.policies)
    again.mark_saved()
    again.resume(10.0, again.signals.updated({}, t=10.0))
    assert set(again.dump_changed()["policies"]) == set(again.policies)


def test_a_partial_commit_keeps_the_other_policies_rows(tmp_path: Path) -> None:
    journal = Journal(tmp_path / JOURNAL_FILE)
    sched = Scheduler()
    sched.handle(0.0, "mail", "register", {"platform": "wp8"})
    journal.commit(sched.dump_changed(), [], partial=True)
    sched.mark_saved()
    sched.handle(5.0, "news", "register", {"platform": "android"})
    before = journal._db.total_changes
    journal.commit(sched.dump_changed(), [], partial=True)
    assert journal._db.total_changes - before <= 3  # core, apps, android: nothing else
    assert _plain(journal.load_state()) == _plain(sched.dump())


def test_the_journal_always_holds_the_whole_state_over_a_mixed_day(tmp_path: Path) -> None:
    """bench_scheduler's day (every platform, requests, timers, signal changes), 12 apps: after
    every batch committed as the driver does, the journal's state equals a full dump."""
    bench = _bench_scheduler()
    path = tmp_path / JOURNAL_FILE
    journal = Journal(path)
    checked = {"batches": 0}

    def commit(sched: Scheduler, events: list[Any], changed: bool) -> None:
        if not events and not changed:
            return
        items = [PendingItem(None, encode_event(e, None), 1, e.app, e.seq) for e in events]
        journal.commit(sched.dump_changed(), items, partial=True)
        sched.mark_saved()
        assert _plain(journal.load_state()) == _plain(sched.dump())
        checked["batches"] += 1

    class Journaled(Scheduler):
        def handle(self, now: float, app_id: str, verb: str, args: Any = None) -> Any:
            response, events = super().handle(now, app_id, verb, args)
            commit(self, events, response.ok)
            return response, events

        def set_signals(self, now: float, signals: Signals) -> list[Any]:
            events = super().set_signals(now, signals)
            commit(self, events, True)  # every change: the policies' state must match too
            return events

        def advance(self, now: float) -> list[Any]:
            events = super().advance(now)
            commit(self, events, True)
            return events

    bench.Scheduler = Journaled
    bench.fourteen_days(n_apps=12, days=1)
    assert checked["batches"] >= 1440  # at least one per simulated minute
    journal.close()
    reopened = Journal(path)
    state = reopened.load_state()
    assert state is not None and set(state["policies"]) == set(Scheduler().policies)
