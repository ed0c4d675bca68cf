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
