"""WAL checkpoints of the rig journal, off the event path (issue #8 edge benchmark).

Why: SQLite's automatic checkpoint (https://sqlite.org/wal.html#automatic_checkpoint) runs
inside the COMMIT that takes the WAL past ``wal_autocheckpoint`` pages (1,000 by default): that
commit copies every WAL page into the database file and, at ``synchronous=NORMAL``, fsyncs the
WAL and the database file first. In bench_rig's edge benchmark that was 30 of ~4,000 commits
(event batches and PUBACK acknowledgements) taking 1.2-6 ms instead of ~130 µs, landing in the
path of ~1.5 % of the charger edges: the whole p99 tail of ``state_sync = "normal"`` (1.8 ms
against 0.6 ms without a journal), and why ``"full"`` (the WAL synced per commit, so a
checkpoint finds less to sync) had the better p99.

Policy (at ``synchronous=NORMAL``; at ``FULL`` the journal keeps SQLite's own checkpoints, see
:mod:`firmware_sim.journal`):

- The event connection's automatic checkpoint is raised to :data:`WAL_MAX_PAGES`: a safety net
  that bounds the WAL (disk use, recovery time, what a power cut can lose) when the background
  checkpoints cannot start it over (see below); then a commit checkpoints by itself as before.
- A :class:`Checkpointer` with its own connection runs ``PRAGMA wal_checkpoint(PASSIVE)``
  (https://sqlite.org/pragma.html#pragma_wal_checkpoint: copies what it can "without waiting for
  any database readers or writers to finish", so the event commit never waits for it) on its
  own thread: after :data:`CHECKPOINT_COMMITS` commits, or :data:`CHECKPOINT_INTERVAL_S`
  seconds after the first commit it has not folded in. Python's ``sqlite3`` releases the GIL
  while SQLite works, so the copy and the fsyncs do not hold the event loop.
- SQLite starts the WAL over (writes from its beginning again) in the first write transaction
  after a checkpoint folded in all of it, and at ``synchronous=NORMAL`` that transaction syncs
  the new WAL header (https://sqlite.org/src/info/ff5be73dee): left to the next event commit,
  that fsync would land in the path of the next charger edge. So when a checkpoint folded in
  the whole WAL and no commit came meanwhile, the checkpointer starts the WAL over itself with
  a write of its own (``PRAGMA user_version`` rewritten with its value), holding the journal's
  write lock so no event commit is in progress; an event commit arriving then waits for that
  one small transaction. Under a dense stream of commits (a checkpoint always overlapping one)
  the WAL is started over by the safety net instead.

A killed process loses nothing either way: every commit is in the WAL file before it returns,
and the next open replays it (https://sqlite.org/wal.html, "Durability"). What a power cut can
lose at ``synchronous=NORMAL`` is what was committed since the last checkpoint synced the WAL:
about :data:`CHECKPOINT_INTERVAL_S` seconds or :data:`CHECKPOINT_COMMITS` commits (at most
:data:`WAL_MAX_PAGES` pages).
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from typing import Final

__all__ = [
    "CHECKPOINT_COMMITS",
    "CHECKPOINT_INTERVAL_S",
    "WAL_MAX_PAGES",
    "Checkpointer",
]

log = logging.getLogger(__name__)

#: Commits (event batches, acknowledgements) after which the background checkpoint runs: SQLite's
#: default cadence of 1,000 WAL pages, as a batch and its acknowledgement write about eight
#: one-KiB pages together (bench/bench_journal.py: 8.2 KiB per batch), so the pages copied per
#: event, and with them the write amplification, stay what they were (100 commits measured
#: 8.3 KiB). wakebench choice.
CHECKPOINT_COMMITS: Final = 250
#: Seconds after the first commit not yet checkpointed before the background checkpoint runs
#: anyway: bounds in time what a power cut can lose at ``synchronous=NORMAL`` (before, a quiet
#: rig could wait hours for its 1,000th page). wakebench choice.
CHECKPOINT_INTERVAL_S: Final = 1.0
#: ``PRAGMA wal_autocheckpoint`` of the event connection: the WAL pages (1 KiB each in a new
#: journal, ``journal.PAGE_SIZE``) after which a commit checkpoints by itself, as SQLite does by
#: default at 1,000 (https://sqlite.org/pragma.html#pragma_wal_autocheckpoint). The bound of the
#: WAL (16 MiB): reached only when no quiet moment let the checkpointer start the WAL over, i.e.
#: under a stream of commits closer together than a checkpoint takes (bench_rig's back-to-back
#: edges: about once per 500 edges). wakebench choice.
WAL_MAX_PAGES: Final = 16_384


class Checkpointer:
    """Folds the journal's WAL into its database file on a connection (and thread) of its own.

    The journal calls :meth:`note_commit` after every commit (cheap: a counter, and a notify on
    the first commit after a checkpoint and at the threshold) and holds ``write_lock`` around each of its write transactions.
    :meth:`start` runs the policy of the module docstring on a daemon thread; without it,
    :meth:`run_once` is the explicit call (tests, benchmarks).

    Args:
        path: the journal file.
        synchronous: the journal's ``PRAGMA synchronous`` (the checkpoint syncs as it says).
        write_lock: held by the journal around its write transactions.
        commits / interval_s: when the thread checkpoints (:data:`CHECKPOINT_COMMITS`,
            :data:`CHECKPOINT_INTERVAL_S`).

    Raises:
        sqlite3.Error: the file cannot be opened.
    """

    def __init__(self, path: str, *, synchronous: str, write_lock: threading.Lock,
                 commits: int = CHECKPOINT_COMMITS, interval_s: float = CHECKPOINT_INTERVAL_S) -> None:
        self.commits = commits
        self.interval_s = interval_s
        self._write_lock = write_lock
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute(f"PRAGMA synchronous={synchronous.upper()}")
        #: commits noted so far (written by the journal's thread only)
        self.committed = 0
        #: ``committed`` when the last checkpoint started (written by the checkpointing thread)
        self.folded = 0
        #: checkpoints run, and the times this checkpointer started the WAL over
        self.runs = 0
        self.restarts = 0
        #: set after every checkpoint (a test awaits it)
        self.ran = threading.Event()
        self._cond = threading.Condition()  # wakes the thread: a commit, the threshold, close()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()  # one checkpoint at a time on this connection

    @property
    def due(self) -> int:
        """Commits not yet folded in by a checkpoint."""
        return self.committed - self.folded

    def note_commit(self) -> None:
        """Count a commit; wake the thread on the first one after a checkpoint (its interval
        starts) and from the threshold on."""
        self.committed += 1
        due = self.committed - self.folded
        if due == 1 or due >= self.commits:
            with self._cond:
                self._cond.notify()

    def run_once(self) -> bool:
        """Checkpoint now (PASSIVE); if that folded in the whole WAL and no commit came
        meanwhile, start the WAL over. Never raises: a failure is logged, and the event
        connection's automatic checkpoint keeps the WAL bounded.

        Returns:
            True if the whole WAL was folded in.
        """
        with self._lock:
            start = self.committed
            try:
                self.runs += 1
                busy, frames, copied = self._db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                complete = not busy and frames == copied
                if complete and frames > 0 and self.committed == start:
                    self._restart(start)
                return bool(complete)
            except sqlite3.Error:
                log.exception("journal checkpoint failed; the WAL is bounded by its automatic checkpoint")
                return False
            finally:
                self.folded = start
                self.ran.set()

    def _restart(self, start: int) -> None:
        """Start the WAL over with a write of our own (see the module docstring)."""
        if not self._write_lock.acquire(blocking=False):
            return  # an event commit is in progress: it (or a later checkpoint) will do
        try:
            if self.committed != start:
                return  # a commit came since: the WAL holds frames not folded in
            self._db.execute("BEGIN IMMEDIATE")
            try:
                version = int(self._db.execute("PRAGMA user_version").fetchone()[0])
                self._db.execute(f"PRAGMA user_version={version}")
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self.restarts += 1
        finally:
            self._write_lock.release()

    def start(self) -> None:
        """Run checkpoints on a daemon thread until :meth:`close`."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="wakebench-journal-checkpoint", daemon=True)
            self._thread.start()

    def close(self) -> None:
        """Stop the thread (after a checkpoint in progress) and close the connection. Safe to
        call twice."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        with self._lock:
            self._db.close()

    def _run(self) -> None:
        while True:
            with self._cond:  # the predicates are checked under the lock: no wake-up is lost
                self._cond.wait_for(lambda: self._stopping or self.due > 0)  # a first commit
                if self._stopping:
                    return
                # the interval, cut short by the threshold
                self._cond.wait_for(lambda: self._stopping or self.due >= self.commits, self.interval_s)
                if self._stopping:
                    return
            self.run_once()
