"""The journal's checkpoint policy (firmware_sim/journal_checkpoint.py): checkpoints run off the
event path, the WAL stays bounded, the checkpointer starts the WAL over only while no event
commit is in progress, and a process killed between a commit and the next checkpoint loses
nothing. Checkpoints are called explicitly here (``background_checkpoints=False``); the thread
tests await the checkpointer's ``ran`` event."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

from firmware_sim import Scheduler
from firmware_sim.journal import JOURNAL_FILE, PAGE_SIZE, Journal, PendingItem
from firmware_sim.journal_checkpoint import CHECKPOINT_COMMITS, CHECKPOINT_INTERVAL_S, WAL_MAX_PAGES

#: a WAL frame: a 24-byte frame header and one page (https://sqlite.org/fileformat.html, 4.1)
FRAME = 24 + PAGE_SIZE
#: the WAL file's own header
WAL_HEADER = 32
#: SQLite's default automatic checkpoint, which used to run inside the event commit
SQLITE_DEFAULT_AUTOCHECKPOINT = 1000
WAIT_S = 30.0  # a bound for awaiting the thread, never a delay


def batch(n: int, size: int = 700) -> list[PendingItem]:
    return [PendingItem(None, bytes([65 + n % 26]) * size, 1, "mail", n)]


def wal(path: Path) -> Path:
    return path.with_name(path.name + "-wal")


def frames_in(path: Path) -> int:
    """Frames the WAL holds (checkpointed or not), from a connection of the test's own."""
    db = sqlite3.connect(path)
    try:
        return int(db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()[1])
    finally:
        db.close()


def test_the_policy_constants_and_their_reasons() -> None:
    # journal_checkpoint.py: "SQLite's default cadence of 1,000 WAL pages, as a batch and its
    # acknowledgement write about eight one-KiB pages together"; "bounds in time what a power
    # cut can lose"; "the bound of the WAL (16 MiB)"
    assert CHECKPOINT_COMMITS == 250
    assert CHECKPOINT_INTERVAL_S == 1.0
    assert WAL_MAX_PAGES == 16_384 and WAL_MAX_PAGES * PAGE_SIZE == 16 * 2**20


def test_the_event_connection_checkpoints_by_itself_only_at_the_bound(tmp_path: Path) -> None:
    journal = Journal(tmp_path / JOURNAL_FILE, background_checkpoints=False)
    assert journal._db.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == WAL_MAX_PAGES
    journal.close()


def test_event_commits_never_checkpoint_below_the_bound(tmp_path: Path) -> None:
    """Past SQLite's default 1,000 pages no commit copies anything into the database file: the
    WAL keeps every frame and the file's bytes stay as they were."""
    path = tmp_path / JOURNAL_FILE
    journal = Journal(path, background_checkpoints=False)
    journal.commit(None, batch(0))
    before = path.read_bytes()
    target = WAL_HEADER + (SQLITE_DEFAULT_AUTOCHECKPOINT + 200) * FRAME
    for n in range(1, 5 * SQLITE_DEFAULT_AUTOCHECKPOINT):  # a commit writes at least one page
        journal.commit(None, batch(n))
        if wal(path).stat().st_size >= target:
            break
    assert wal(path).stat().st_size >= target  # a checkpoint would have started the WAL over
    assert path.read_bytes() == before
    assert frames_in(path) > SQLITE_DEFAULT_AUTOCHECKPOINT
    journal.close()


def test_the_wal_is_bounded_when_no_checkpoint_comes(tmp_path: Path) -> None:
    """The safety net: with the background checkpoints gone, a commit checkpoints by itself once
    the WAL reaches ``wal_max_pages``, and the WAL starts over; its file never passes the bound
    by more than one commit."""
    path = tmp_path / JOURNAL_FILE
    bound = 64
    journal = Journal(path, background_checkpoints=False, wal_max_pages=bound)
    largest = 0
    for n in range(20 * bound):
        journal.commit(None, batch(n))
        largest = max(largest, wal(path).stat().st_size)
    one_commit = 8  # pages a commit of one ~700-byte event writes at most (pending, sequence, ...)
    assert largest <= WAL_HEADER + (bound + one_commit) * FRAME
    assert len(journal.peek(10_000)) == 20 * bound
    journal.close()


def test_a_checkpoint_folds_the_wal_in_and_starts_it_over(tmp_path: Path) -> None:
    path = tmp_path / JOURNAL_FILE
    journal = Journal(path, background_checkpoints=False)
    sched = Scheduler()
    sched.handle(0.0, "mail", "register", {"platform": "wp8"})
    journal.commit(sched.dump(), [])
    for n in range(1, 60):
        journal.commit(None, batch(n))
    checkpointer = journal.checkpointer
    assert checkpointer is not None
    assert checkpointer.run_once() is True and checkpointer.restarts == 1
    # everything is in the database file now: a copy of it alone holds the state and events
    alone = tmp_path / "alone.sqlite3"
    alone.write_bytes(path.read_bytes())
    db = sqlite3.connect(alone)
    assert db.execute("SELECT COUNT(*) FROM pending").fetchone()[0] == 59
    assert db.execute("SELECT COUNT(*) FROM state").fetchone()[0] > 0
    db.close()
    # the WAL was started over by the checkpointer's own write: the next commits write from its
    # beginning, so the file does not grow
    size = wal(path).stat().st_size
    for n in range(60, 80):
        journal.commit(None, batch(n))
    assert wal(path).stat().st_size == size
    journal.close()


def test_the_wal_is_never_started_over_while_an_event_commit_is_in_progress(tmp_path: Path) -> None:
    path = tmp_path / JOURNAL_FILE
    journal = Journal(path, background_checkpoints=False)
    for n in range(30):
        journal.commit(None, batch(n))
    checkpointer = journal.checkpointer
    assert checkpointer is not None
    with journal._write_lock:  # what every event commit holds
        assert checkpointer.run_once() is True  # folded in ...
    assert checkpointer.restarts == 0  # ... but left for later
    assert checkpointer.run_once() is True and checkpointer.restarts == 1


def test_a_process_killed_between_commit_and_checkpoint_loses_nothing(tmp_path: Path) -> None:
    path = tmp_path / JOURNAL_FILE
    code = textwrap.dedent(f"""
        import os, signal
        from pathlib import Path
        from firmware_sim import Scheduler
        from firmware_sim.journal import Journal, PendingItem
        journal = Journal(Path({str(path)!r}), background_checkpoints=False)
        sched = Scheduler()
        sched.handle(0.0, "mail", "register", {{"platform": "wp8"}})
        ids = journal.commit(sched.dump(), [PendingItem(None, b"e%d" % n, 1, "mail", n) for n in range(1, 4)])
        journal.remove_through(ids[0])  # the first one's PUBACK came
        assert journal.checkpointer.committed == 2 and journal.checkpointer.runs == 0
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    proc = subprocess.run([sys.executable, "-c", code], check=False)
    assert proc.returncode == -9
    assert wal(path).stat().st_size > 0  # the commits were only in the WAL
    journal = Journal(path, background_checkpoints=False)
    sched = Scheduler()
    sched.handle(0.0, "mail", "register", {"platform": "wp8"})
    assert journal.load_state() == sched.dump()
    assert [e.payload for e in journal.peek(10)] == [b"e2", b"e3"]
    journal.close()


def test_the_thread_checkpoints_at_the_commit_threshold(tmp_path: Path) -> None:
    journal = Journal(tmp_path / JOURNAL_FILE, background_checkpoints=False)
    checkpointer = journal.checkpointer
    assert checkpointer is not None
    checkpointer.commits, checkpointer.interval_s = 5, 3600.0  # only the threshold can wake it
    checkpointer.start()
    for n in range(5):
        journal.commit(None, batch(n))
    assert checkpointer.ran.wait(WAIT_S)
    assert checkpointer.runs == 1 and checkpointer.due == 0
    journal.close()
    assert checkpointer._thread is None


def test_the_thread_checkpoints_after_the_interval(tmp_path: Path) -> None:
    journal = Journal(tmp_path / JOURNAL_FILE, background_checkpoints=False)
    checkpointer = journal.checkpointer
    assert checkpointer is not None
    checkpointer.commits, checkpointer.interval_s = 10**9, 0.0  # only the interval can
    checkpointer.start()
    journal.commit(None, batch(1))
    assert checkpointer.ran.wait(WAIT_S)
    assert checkpointer.runs >= 1 and checkpointer.due == 0
    journal.close()


def test_an_in_memory_journal_has_no_checkpointer() -> None:
    journal = Journal(None)
    assert journal.checkpointer is None
    journal.commit(None, batch(1))
    journal.close()


def test_at_full_sqlite_checkpoints_as_it_does_by_default(tmp_path: Path) -> None:
    """journal.py: at FULL every commit syncs the WAL anyway and a checkpoint thread's fsyncs
    slowed those; SQLite's own checkpoint every 1,000 pages stays."""
    journal = Journal(tmp_path / JOURNAL_FILE, synchronous="full")
    assert journal.checkpointer is None
    assert journal._db.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == SQLITE_DEFAULT_AUTOCHECKPOINT
    journal.close()


def test_closing_stops_a_thread_waiting_out_its_interval(tmp_path: Path) -> None:
    journal = Journal(tmp_path / JOURNAL_FILE, background_checkpoints=False)
    checkpointer = journal.checkpointer
    assert checkpointer is not None
    checkpointer.commits, checkpointer.interval_s = 10**9, 3600.0
    checkpointer.start()
    journal.commit(None, batch(1))  # the thread now waits out the hour
    journal.close()  # returns at once: close wakes it
    assert checkpointer._thread is None and checkpointer.runs == 0
