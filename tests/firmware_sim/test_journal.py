"""The rig journal: state and events in one transaction, pending until acknowledged, bounded,
only changed state rows rewritten, nothing lost when the process is killed."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from firmware_sim import Scheduler
from firmware_sim.journal import (
    JOURNAL_FILE,
    MAX_PENDING_BYTES,
    MAX_PENDING_EVENTS,
    Journal,
    JournalError,
    PendingItem,
)


def item(app: str, seq: int, size: int = 10) -> PendingItem:
    return PendingItem(None, b"x" * size, 1, app, seq)


def test_bounds_are_todays_outbox_promise() -> None:
    # README "MQTT API": "a bounded on-disk outbox (SQLite, 10,000 events / 16 MiB; overflow
    # drops the oldest and reports it)" — the journal keeps that promise
    assert MAX_PENDING_EVENTS == 10_000 and MAX_PENDING_BYTES == 16 * 1024 * 1024


def test_state_and_events_commit_together_and_reload(tmp_path: Path) -> None:
    path = tmp_path / JOURNAL_FILE
    journal = Journal(path)
    sched = Scheduler()
    sched.handle(0.0, "mail", "register", {"platform": "wp8"})
    rows = journal.commit(sched.dump(), [item("mail", 1), item("mail", 2)])
    assert rows == sorted(rows) and len(rows) == 2
    journal.close()
    again = Journal(path)
    assert again.load_state() == sched.dump()
    assert [(e.app, e.payload) for e in again.peek(10)] == [("mail", b"x" * 10)] * 2
    again.remove_through(rows[0])
    assert [e.id for e in again.peek(10)] == rows[1:] and len(again) == 1


def test_only_changed_state_rows_are_rewritten(tmp_path: Path) -> None:
    journal = Journal(tmp_path / JOURNAL_FILE)
    sched = Scheduler()
    for n in range(5):
        sched.handle(0.0, f"app{n}", "register", {"platform": "android"})
    journal.commit(sched.dump(), [])
    before = journal._db.total_changes
    journal.commit({**sched.dump(), "now": 5.0}, [])
    assert journal._db.total_changes - before == 1  # the "core" row only: apps and policies unchanged


def test_full_journal_drops_the_oldest_and_reports_them() -> None:
    journal = Journal(None, max_events=3)
    journal.commit(None, [item("a", n) for n in range(1, 6)])
    assert [e.id for e in journal.peek(10)] == [3, 4, 5]
    report = journal.drops()
    assert report is not None and report.apps == {"a": {"first_seq": 1, "last_seq": 2, "count": 2}}
    journal.clear_drops(report)
    assert journal.drops() is None


def test_a_killed_process_loses_no_committed_event(tmp_path: Path) -> None:
    path = tmp_path / JOURNAL_FILE
    code = textwrap.dedent(f"""
        import os, signal
        from pathlib import Path
        from firmware_sim.journal import Journal, PendingItem
        j = Journal(Path({str(path)!r}))
        for n in range(1, 201):
            j.commit({{"version": 1, "now": float(n), "seq": {{"a": n}}}}, [PendingItem(None, b"e", 1, "a", n)])
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    proc = subprocess.run([sys.executable, "-c", code], check=False)
    assert proc.returncode == -9
    journal = Journal(path)
    state = journal.load_state()
    assert state is not None and state["seq"] == {"a": 200} and len(journal) == 200


@pytest.mark.parametrize("content, what", [
    (b"hello, not a database" + bytes(100), "not an SQLite database"),
    (b"SQLite format 3\x00" + bytes(50), "damaged"),
])
def test_damaged_files_are_named(tmp_path: Path, content: bytes, what: str) -> None:
    path = tmp_path / JOURNAL_FILE
    path.write_bytes(content)
    with pytest.raises(JournalError, match=what) as err:
        Journal(path)
    assert str(path) in str(err.value) and "--reset-state" in str(err.value)


def test_foreign_sqlite_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / JOURNAL_FILE
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE photos (id INTEGER)")
    db.commit()
    db.close()
    with pytest.raises(JournalError, match="not a wakebench journal"):
        Journal(path)


def test_full_synchronous_is_offered_and_checked(tmp_path: Path) -> None:
    journal = Journal(tmp_path / JOURNAL_FILE, synchronous="full")
    assert journal._db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert journal._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    with pytest.raises(ValueError, match="synchronous"):
        Journal(None, synchronous="off")  # type: ignore[arg-type]


def _state_keys(journal: Journal) -> dict[str, str]:
    return {str(k): str(v) for k, v in journal._db.execute("SELECT key, value FROM state")}


def test_a_batch_rewrites_only_the_rows_of_the_app_it_changed(tmp_path: Path) -> None:
    """Issue #8 write amplification: one row per app (object + seq) and per app's share of a
    policy; a change to one app rewrites its rows and ``core`` (rig time), nothing else."""
    from firmware_sim.journal_rows import app_key, part_key

    journal = Journal(tmp_path / JOURNAL_FILE)
    sched = Scheduler()
    for n in range(20):
        sched.handle(0.0, f"app{n}", "register", {"platform": "wp8"})
        sched.handle(0.0, f"app{n}", "add", {"name": "sync", "type": "resource_intensive"})
    journal.commit(sched.dump(), [])
    before = _state_keys(journal)
    response, events = sched.handle(5.0, "app7", "remove", {"name": "sync"})
    assert response.ok
    journal.commit(sched.dump(), [item("app7", e.seq) for e in events])
    after = _state_keys(journal)
    changed = {k for k in after if before.get(k) != after[k]} | (before.keys() - after.keys())
    assert changed <= {"core", app_key("app7"), part_key("app7", "wp8"), "policy:wp8"}, changed
    assert app_key("app7") in changed or part_key("app7", "wp8") in changed
    assert journal.load_state() == sched.dump()
    journal.close()
    assert Journal(tmp_path / JOURNAL_FILE).load_state() == sched.dump()


def test_a_new_journal_has_small_pages() -> None:
    # PAGE_SIZE: a batch touches a few small rows and SQLite writes each touched page whole
    from firmware_sim.journal import PAGE_SIZE

    assert PAGE_SIZE == 1024
    assert Journal(None)._db.execute("PRAGMA page_size").fetchone()[0] == 1024


def test_an_app_without_an_id_is_stored_whole_and_comes_back_for_the_loader(tmp_path: Path) -> None:
    """The case that broke the first per-app attempt: an app that cannot be keyed is written in
    the older whole-row form, never a crash, and comes back as given (the loader reports it)."""
    journal = Journal(tmp_path / JOURNAL_FILE)
    sched = Scheduler()
    sched.handle(0.0, "mail", "register", {"platform": "wp8"})
    journal.commit(sched.dump(), [])
    odd = {**sched.dump(), "apps": [{"platform": "wp8"}], "seq": {"mail": 3}}
    journal.commit(odd, [])
    state = journal.load_state()
    assert state is not None and state["apps"] == [{"platform": "wp8"}] and state["seq"] == {"mail": 3}
    journal.commit(sched.dump(), [])  # and back to per-app rows
    assert journal.load_state() == sched.dump()


def test_a_journal_of_the_older_row_layout_loads_and_is_rewritten(tmp_path: Path) -> None:
    """Before per-app rows: ``apps`` a list of app objects, ``seq`` inside ``core``, each policy
    one row holding its whole dump."""
    import json

    sched = Scheduler()
    sched.handle(0.0, "mail", "register", {"platform": "wp8"})
    sched.handle(0.0, "mail", "add", {"name": "sync", "type": "resource_intensive"})
    dump = sched.dump()
    path = tmp_path / JOURNAL_FILE
    Journal(path).close()
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA user_version=1")  # the schema version of that layout
    core = {k: v for k, v in dump.items() if k not in ("apps", "policies")}
    rows = {"core": core, "apps": dump["apps"], **{f"policy:{n}": p for n, p in dump["policies"].items()}}
    db.executemany("INSERT INTO state (key, value) VALUES (?, ?)", [(k, json.dumps(v)) for k, v in rows.items()])
    db.close()
    journal = Journal(path)
    assert journal.load_state() == dump
    assert journal._db.execute("PRAGMA user_version").fetchone()[0] == 2  # stamped: older wakebenches refuse it
    journal.commit(sched.dump(), [])
    keys = set(_state_keys(journal))
    assert 'app:"mail"' in keys and 'app:"mail":wp8' in keys
    assert json.loads(_state_keys(journal)["apps"]) == ["mail"]
    assert journal.load_state() == dump


@pytest.mark.parametrize("key, text, what", [
    ('app:"mail"', None, "is missing"),
    ("policy:wp8", '[["tasks", 2, ["mail", "mail"]]]', "fewer 'tasks' records"),
    ("policy:wp8", '[["tasks", 7, []]]', "malformed entry"),
    ('app:"mail":wp8', '{"tasks": {}}', "is not a list"),
])
def test_a_damaged_per_app_row_is_named(tmp_path: Path, key: str, text: str | None, what: str) -> None:
    path = tmp_path / JOURNAL_FILE
    journal = Journal(path)
    sched = Scheduler()
    sched.handle(0.0, "mail", "register", {"platform": "wp8"})
    sched.handle(0.0, "mail", "add", {"name": "sync", "type": "resource_intensive"})
    journal.commit(sched.dump(), [])
    journal.close()
    db = sqlite3.connect(path, isolation_level=None)
    if text is None:
        db.execute("DELETE FROM state WHERE key = ?", (key,))
    else:
        db.execute("INSERT OR REPLACE INTO state (key, value) VALUES (?, ?)", (key, text))
    db.close()
    with pytest.raises(JournalError, match=what) as err:
        Journal(path).load_state()
    assert key in str(err.value) and "--reset-state" in str(err.value)
