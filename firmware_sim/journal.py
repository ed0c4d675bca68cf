"""The rig's durable journal: one SQLite file (WAL mode) holding the scheduler state, the ``seq``
counters and every event the broker has not acknowledged yet.

Contract (issue #8):

- :meth:`Journal.commit` writes a batch of events *and* the state change that produced them in
  one transaction, before anything is published. A killed process therefore never loses an
  event and never reuses a ``seq``: either the batch and its state are both on disk, or neither.
- An event leaves the pending set only when :meth:`Journal.remove_through` is called after the
  broker's PUBACK; on start every pending event is re-published in ``seq`` order (row order).
  Subscribers may see a QoS 1 duplicate (same ``seq``), never a gap.
- Pending events are bounded (:data:`MAX_PENDING_EVENTS` / :data:`MAX_PENDING_BYTES`, today's
  outbox promise); beyond it the *oldest* are dropped and recorded per app (first/last ``seq``)
  for an ``outbox_overflow`` report on ``bridge/event``.
- The state is stored as small rows (:mod:`firmware_sim.journal_rows`: ``core``, one row per
  app with its ``seq``, one skeleton row per policy and one row per app's share of each policy)
  and only rows whose JSON changed are rewritten. The driver passes
  :meth:`Scheduler.dump_changed` with ``partial=True``: only the policies the batch touched are
  serialised and compared at all, so a batch's cost follows what it changed, not the whole
  state (issue #8 measurement: 92-94x write amplification when every batch rewrote a 10 KiB
  ``apps`` row and whole policy dumps; see README "Journal cost per batch").

Durability (``PRAGMA synchronous``, https://sqlite.org/pragma.html#pragma_synchronous and
https://sqlite.org/wal.html): in WAL mode ``NORMAL`` (the default here) writes every commit to
the WAL file before returning, so a killed process loses nothing and the batch path has no
fsync; a *power cut* (or OS crash) can roll the journal back to the last checkpoint: consistent,
but batches already published may be lost and their ``seq`` numbers handed out again.
``FULL`` syncs the WAL on every commit: a power cut loses nothing committed, at the price of
an fsync per batch (rig.toml ``[rig] state_sync = "full"``).

Checkpoints at ``NORMAL`` (:mod:`firmware_sim.journal_checkpoint`) run on a thread and
connection of their own, never inside an event commit while they keep up: every 250 commits or
1 s after the first commit not yet checkpointed, and the checkpointer starts the WAL over itself
when the journal is quiet; the WAL is bounded by SQLite's own checkpoint at 16,384 pages (16
MiB). At ``FULL`` SQLite checkpoints inside the commit every 1,000 pages as it does by default:
every commit syncs the WAL there anyway, and a checkpoint thread's fsyncs on the same disk made
those slower (bench_rig, the same tree with and without the thread, three rounds back to back:
edge → ``revoke`` p50 0.53-0.57 ms without, 0.62-0.65 ms with).
"""

from __future__ import annotations

import json
import math
import sqlite3
import threading
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal

from firmware_sim.errors import ConfigError
from firmware_sim.events import Event, iso
from firmware_sim.journal_checkpoint import WAL_MAX_PAGES, Checkpointer
from firmware_sim.journal_rows import RowError, RowSet

__all__ = [
    "JOURNAL_FILE",
    "MAX_PENDING_BYTES",
    "MAX_PENDING_EVENTS",
    "DropReport",
    "Journal",
    "JournalError",
    "PendingEntry",
    "PendingItem",
    "encode_event",
]

JOURNAL_FILE: Final = "journal.sqlite3"
#: ``PRAGMA application_id`` of a wakebench journal ("wkbj"): tells our file from a foreign one.
APPLICATION_ID: Final = 0x776B626A
#: ``PRAGMA user_version``: the journal's schema version. 2: state in per-app rows
#: (:mod:`firmware_sim.journal_rows`), so a wakebench that only knows 1 refuses it with a clear
#: line instead of misreading it.
SCHEMA_VERSION: Final = 2
#: Versions this wakebench opens: 1 has the same tables with the older row layout, which is
#: read as it is and rewritten row by row (the file is stamped 2 when opened).
READABLE_VERSIONS: Final = (1, 2)
#: Pending events kept at most; then the oldest are dropped and reported. Today's outbox bound
#: (mqtt_bridge/config.py ``DEFAULT_OUTBOX_MAX_EVENTS``, README "MQTT API"). wakebench choice.
MAX_PENDING_EVENTS: Final = 10_000
#: Payload bytes of pending events kept at most (16 MiB, same source as above).
MAX_PENDING_BYTES: Final = 16 * 1024 * 1024
#: ``PRAGMA page_size`` of a new journal (https://sqlite.org/pragma.html#pragma_page_size). SQLite
#: writes every page a transaction touches whole, to the WAL and again at the checkpoint; a
#: batch touches a few small rows (one app's, ``core``, the pending event), so smaller pages
#: write less: bench/bench_rig.py --days-only measured the bytes written per event payload at
#: 4096 and 1024 (README "Journal cost per batch"). An existing journal keeps its page size.
#: wakebench choice.
PAGE_SIZE: Final = 1024
#: ``PRAGMA synchronous`` values offered (see the module docstring).
SYNCHRONOUS: Final = ("normal", "full")
#: SQLite files start with this 16-byte header (https://sqlite.org/fileformat.html, 1.3).
_SQLITE_MAGIC: Final = b"SQLite format 3\x00"

Synchronous = Literal["normal", "full"]

_SCHEMA: Final = """
CREATE TABLE state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE pending (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    topic TEXT,
    payload BLOB NOT NULL,
    qos INTEGER NOT NULL,
    app TEXT,
    seq INTEGER
);
CREATE TABLE drops (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    app TEXT NOT NULL,
    first_seq INTEGER,
    last_seq INTEGER,
    count INTEGER NOT NULL
);
"""
_TABLES: Final = {"state": {"key", "value"}, "pending": {"id", "topic", "payload", "qos", "app", "seq"},
                  "drops": {"id", "app", "first_seq", "last_seq", "count"}}
_HINT: Final = "start with --reset-state to move it aside and begin fresh"


class JournalError(ConfigError):
    """The journal cannot be opened, read or written; the message names the file and the fault."""


@dataclass(frozen=True, slots=True)
class PendingItem:
    """A message to keep until acknowledged. ``topic`` None: an app event (the bridge derives
    ``apps/<app>/events``); ``app``/``seq`` let a drop be reported per app."""

    topic: str | None
    payload: bytes
    qos: int = 1
    app: str | None = None
    seq: int | None = None


@dataclass(frozen=True, slots=True)
class PendingEntry:
    """A stored pending message with its row ``id`` (increasing in commit order)."""

    id: int
    topic: str | None
    payload: bytes
    qos: int
    app: str | None = None


@dataclass(frozen=True, slots=True)
class DropReport:
    """Entries dropped from a full journal and not yet reported; ``upto`` marks the snapshot."""

    total: int
    apps: dict[str, dict[str, Any]] = field(default_factory=dict)
    upto: int = 0

    def to_dict(self) -> dict[str, Any]:
        """The ``data`` of an ``outbox_overflow`` bridge event (``total`` includes rig events)."""
        return {"dropped": self.total, "apps": self.apps}


def compact_json(obj: Any) -> bytes:
    """Compact ASCII JSON (the MQTT payloads and the journal's rows): non-finite floats become
    null, unknown objects their ``str``."""
    try:
        text = json.dumps(obj, separators=(",", ":"), ensure_ascii=True, allow_nan=False, default=str)
    except ValueError:
        text = json.dumps(_finite(obj), separators=(",", ":"), ensure_ascii=True, allow_nan=False,
                          default=str)
    return text.encode("ascii")


def _finite(obj: Any) -> Any:
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_finite(v) for v in obj]
    return obj


def encode_event(event: Event, epoch: Any, wall: Any = None) -> bytes:
    """The ``apps/<app>/events`` payload of ``event``: compact ASCII JSON, non-finite floats as
    null. ``ts`` is the wall time from ``epoch``, else ``wall`` (a datetime: now)."""
    body = event.to_dict(epoch)
    if body.get("ts") is None:
        body["ts"] = iso(wall, 0.0) if wall is not None else None
    return compact_json(body)


class Journal:
    """Scheduler state + pending events in one SQLite file (None: in memory, same rules).

    Args:
        path: the journal file (its directory must exist); None for an in-memory journal.
        synchronous: ``"normal"`` or ``"full"`` (see the module docstring).
        max_events / max_bytes: bound of the pending events.
        background_checkpoints: at ``"normal"``, run the checkpoints on a thread (False: only
            when :attr:`checkpointer` is called, and by the safety net at ``wal_max_pages``).
        wal_max_pages: at ``"normal"``, WAL pages after which a commit checkpoints by itself
            (the bound).

    Raises:
        JournalError: the file is not a journal, is damaged, or cannot be opened (one line naming
            the file, what is wrong and the ``--reset-state`` hint).
    """

    def __init__(self, path: Path | None, *, synchronous: Synchronous = "normal",
                 max_events: int = MAX_PENDING_EVENTS, max_bytes: int = MAX_PENDING_BYTES,
                 background_checkpoints: bool = True, wal_max_pages: int = WAL_MAX_PAGES) -> None:
        if synchronous not in SYNCHRONOUS:
            raise ValueError(f"synchronous must be one of {SYNCHRONOUS}, not {synchronous!r}")
        self.path = path
        self.max_events = max_events
        self.max_bytes = max_bytes
        self.dropped_total = 0
        self._rows = RowSet({})
        #: (row id, payload bytes) of every pending row, oldest first: an acknowledgement is one
        #: DELETE, with no query for what it removed
        self._sizes: deque[tuple[int, int]] = deque()
        self._where = str(path) if path is not None else ":memory:"
        #: folds the WAL into the file off the event path (None: in memory, or at "full")
        self.checkpointer: Checkpointer | None = None
        #: held around every write transaction (the checkpointer's own write takes it too)
        self._write_lock = threading.Lock()
        if path is not None:
            self._check_header(path)
        try:
            self._db = sqlite3.connect(self._where, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            raise self._error(f"cannot open it ({exc})") from exc
        try:
            self._open(synchronous)
        except sqlite3.Error as exc:
            self._db.close()
            raise self._error(f"damaged ({exc})") from exc
        except JournalError:
            self._db.close()
            raise
        if path is not None and synchronous == "normal":  # at "full" SQLite's own (module docstring)
            try:
                self._db.execute(f"PRAGMA wal_autocheckpoint={int(wal_max_pages)}")
                self.checkpointer = Checkpointer(self._where, synchronous=synchronous, write_lock=self._write_lock)
            except sqlite3.Error as exc:
                self._db.close()
                raise self._error(f"cannot open it ({exc})") from exc
            if background_checkpoints:
                self.checkpointer.start()

    # -- opening -----------------------------------------------------------------------------
    def _error(self, what: str) -> JournalError:
        return JournalError(f"{self._where}: {what}; {_HINT}")

    def _check_header(self, path: Path) -> None:
        try:
            with path.open("rb") as fh:
                head = fh.read(len(_SQLITE_MAGIC))
        except FileNotFoundError:
            return
        except OSError as exc:
            raise self._error(f"cannot read it ({exc.strerror or exc})") from exc
        if head and head != _SQLITE_MAGIC:
            raise self._error("not an SQLite database (foreign or overwritten file)")
        if not head and path.stat().st_size == 0:
            return  # an empty file (created, never written): initialised below

    def _open(self, synchronous: str) -> None:
        db = self._db
        app_id = int(db.execute("PRAGMA application_id").fetchone()[0])
        version = int(db.execute("PRAGMA user_version").fetchone()[0])
        tables = {str(r[0]) for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        tables.discard("sqlite_sequence")
        if app_id == 0 and version == 0 and not tables:
            db.execute(f"PRAGMA page_size={PAGE_SIZE}")  # before WAL mode: fixed from then on
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(f"PRAGMA application_id={APPLICATION_ID}")
            db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            db.executescript(_SCHEMA)
        else:
            if app_id != APPLICATION_ID:
                raise self._error(f"not a wakebench journal (application_id {app_id:#x}, "
                                  f"expected {APPLICATION_ID:#x})")
            if version not in READABLE_VERSIONS:
                raise self._error(f"journal schema version {version}, this wakebench reads "
                                  f"{' and '.join(map(str, READABLE_VERSIONS))}")
            for table, columns in _TABLES.items():
                have = {str(r[1]) for r in db.execute(f"PRAGMA table_info({table})")}
                if have != columns:
                    raise self._error(f"table {table!r} is missing or has columns {sorted(have)}")
            check = db.execute("PRAGMA quick_check").fetchone()
            if check is None or check[0] != "ok":
                raise self._error(f"integrity check failed ({check[0] if check else 'no answer'})")
            db.execute("PRAGMA journal_mode=WAL")
            if version != SCHEMA_VERSION:
                db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        db.execute(f"PRAGMA synchronous={synchronous.upper()}")
        self._load_sizes()
        self._rows = RowSet({str(k): str(v) for k, v in db.execute("SELECT key, value FROM state")})

    # -- state -------------------------------------------------------------------------------
    def load_state(self) -> dict[str, Any] | None:
        """The saved scheduler state (a :meth:`Scheduler.dump`), or None if none was saved.

        Raises:
            JournalError: a state row is not valid JSON of the expected shape (names the row).
        """
        try:
            return self._rows.assemble()
        except RowError as exc:
            raise self._error(str(exc)) from exc

    def commit(self, state: Mapping[str, Any] | None, items: Iterable[PendingItem], *,
               partial: bool = False) -> list[int]:
        """Write ``state`` (rows that changed) and append ``items`` to the pending set, in one
        transaction; then enforce the bound.

        ``partial``: ``state["policies"]`` holds only the policies that may have changed (a
        :meth:`Scheduler.dump_changed`); the rows of the others are kept as they are. Otherwise
        it is a full :meth:`Scheduler.dump` and rows of policies it lacks are deleted.

        Returns:
            The row id of each item, in order (an id of an item dropped by the bound stays valid
            for :meth:`remove_through`).

        Raises:
            JournalError: the write failed (disk full, file removed ...); nothing was written.
        """
        rows = [(i.topic, i.payload, i.qos, i.app, i.seq) for i in items]
        changes = self._rows.changes(state, partial=partial) if state is not None else None
        if not rows and not changes:
            return []
        ids: list[int] = []
        self._write_lock.acquire()  # released in the outer finally
        try:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                if changes:
                    if changes.upserts:
                        self._db.executemany("INSERT OR REPLACE INTO state (key, value) VALUES (?, ?)",
                                             list(changes.upserts.items()))
                    gone = [(k,) for k in changes.deletes if k not in changes.upserts]
                    if gone:
                        self._db.executemany("DELETE FROM state WHERE key = ?", gone)
                for row in rows:
                    cur = self._db.execute(
                        "INSERT INTO pending (topic, payload, qos, app, seq) VALUES (?, ?, ?, ?, ?)", row)
                    ids.append(int(cur.lastrowid or 0))
                for entry_id, row in zip(ids, rows, strict=True):
                    self._sizes.append((entry_id, len(row[1])))
                self._count += len(rows)
                self._bytes += sum(len(r[1]) for r in rows)
                self._enforce_bound()
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            self._reload_counts()
            raise self._error(f"cannot write it ({exc})") from exc
        finally:
            self._write_lock.release()
        if self.checkpointer is not None:
            self.checkpointer.note_commit()
        if changes is not None:
            self._rows.apply(changes)
        return ids

    # -- pending events (the bridge's outbox) ------------------------------------------------
    def __len__(self) -> int:
        return self._count

    @property
    def bytes(self) -> int:
        """Payload bytes of pending events."""
        return self._bytes

    @property
    def first_id(self) -> int | None:
        """The lowest pending row id (None when none is pending); no query."""
        return self._sizes[0][0] if self._sizes else None

    @property
    def last_id(self) -> int:
        """The highest pending row id (0 when none is pending)."""
        row = self._db.execute("SELECT COALESCE(MAX(id), 0) FROM pending").fetchone()
        return int(row[0])

    def append(self, items: Iterable[PendingItem]) -> int:
        """Append ``items`` without a state change. Returns how many oldest entries were dropped.

        Raises:
            JournalError: the write failed.
        """
        before = self.dropped_total
        self.commit(None, items)
        return self.dropped_total - before

    def peek(self, n: int, upto: int | None = None) -> list[PendingEntry]:
        """The ``n`` oldest pending entries (only ids ≤ ``upto`` if given), oldest first."""
        limit = (1 << 62) if upto is None else upto
        cur = self._db.execute(
            "SELECT id, topic, payload, qos, app FROM pending WHERE id <= ? ORDER BY id LIMIT ?", (limit, n))
        return [PendingEntry(int(r[0]), None if r[1] is None else str(r[1]), bytes(r[2]), int(r[3]),
                             None if r[4] is None else str(r[4])) for r in cur]

    def remove_through(self, entry_id: int) -> None:
        """Acknowledge every pending entry up to and including ``entry_id`` (PUBACK received).

        Raises:
            JournalError: the write failed.
        """
        if not self._sizes or self._sizes[0][0] > entry_id:
            return  # nothing pending up to there (acknowledged already, or dropped by the bound)
        try:
            # one statement: SQLite runs it as its own transaction
            with self._write_lock:
                self._db.execute("DELETE FROM pending WHERE id <= ?", (entry_id,))
        except sqlite3.Error as exc:
            self._reload_counts()
            raise self._error(f"cannot write it ({exc})") from exc
        if self.checkpointer is not None:
            self.checkpointer.note_commit()
        sizes = self._sizes
        while sizes and sizes[0][0] <= entry_id:
            self._count -= 1
            self._bytes -= sizes.popleft()[1]

    def drops(self) -> DropReport | None:
        """Drops not yet reported, aggregated per app (None if there are none)."""
        rows = self._db.execute(
            "SELECT MAX(id), app, MIN(first_seq), MAX(last_seq), SUM(count) FROM drops GROUP BY app").fetchall()
        if not rows:
            return None
        apps = {str(r[1]): {"first_seq": r[2], "last_seq": r[3], "count": int(r[4])} for r in rows if r[1]}
        return DropReport(total=sum(int(r[4]) for r in rows), apps=apps, upto=max(int(r[0]) for r in rows))

    def clear_drops(self, report: DropReport) -> None:
        """Forget the drops contained in ``report`` (it was published)."""
        with self._write_lock:
            self._db.execute("DELETE FROM drops WHERE id <= ?", (report.upto,))

    def checkpoint(self) -> None:
        """Fold the WAL into the database file and empty it (on a clean stop)."""
        with self._write_lock:
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def close(self) -> None:
        """Close the file (pending entries stay for the next start). Safe to call twice."""
        if self.checkpointer is not None:
            self.checkpointer.close()
        self._db.close()

    # -- internals ---------------------------------------------------------------------------
    def _reload_counts(self) -> None:
        try:
            self._load_sizes()
        except sqlite3.Error:
            return

    def _load_sizes(self) -> None:
        rows = self._db.execute("SELECT id, LENGTH(payload) FROM pending ORDER BY id").fetchall()
        self._sizes = deque((int(r[0]), int(r[1])) for r in rows)
        self._count, self._bytes = len(rows), sum(int(r[1]) for r in rows)

    def _enforce_bound(self) -> None:
        need_count = self._count - self.max_events
        need_bytes = self._bytes - self.max_bytes
        if need_count <= 0 and need_bytes <= 0:
            return
        size = 0
        last_id: int | None = None
        for n, (entry_id, length) in enumerate(self._sizes, start=1):
            size += length
            last_id = entry_id
            if n >= need_count and size >= need_bytes:
                break
        if last_id is None:
            return
        rows = self._db.execute(
            "SELECT COALESCE(app, ''), MIN(seq), MAX(seq), COUNT(*), COALESCE(SUM(LENGTH(payload)), 0) "
            "FROM pending WHERE id <= ? GROUP BY COALESCE(app, '')", (last_id,)).fetchall()
        self._db.execute("DELETE FROM pending WHERE id <= ?", (last_id,))
        for app, first, last, count, nbytes in rows:
            self._db.execute("INSERT INTO drops (app, first_seq, last_seq, count) VALUES (?, ?, ?, ?)",
                             (app, first, last, count))
            self._count -= int(count)
            self._bytes -= int(nbytes)
            self.dropped_total += int(count)
        while self._sizes and self._sizes[0][0] <= last_id:
            self._sizes.popleft()
