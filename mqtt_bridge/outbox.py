"""A bounded, ordered, on-disk queue of events waiting for the broker (SQLite, one file).

Entries leave only when :meth:`Outbox.remove_through` is called after their QoS 1 publish
completed, so a crash or a broken connection repeats an event rather than losing it. When the
bound (events or bytes) is exceeded the *oldest* entries are dropped and recorded per app
(first/last ``seq``); the bridge reports them on ``bridge/event`` after the next reconnect and
then calls :meth:`Outbox.clear_drops`. Without a path the queue lives in memory (same rules).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from mqtt_bridge.errors import OutboxError

OUTBOX_FILE: Final = "mqtt-outbox.sqlite3"

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    topic TEXT NOT NULL,
    payload BLOB NOT NULL,
    qos INTEGER NOT NULL,
    app TEXT,
    seq INTEGER
);
CREATE TABLE IF NOT EXISTS drops (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    app TEXT NOT NULL,
    first_seq INTEGER,
    last_seq INTEGER,
    count INTEGER NOT NULL
);
"""


@dataclass(frozen=True, slots=True)
class OutboxItem:
    """One message to keep: ``app``/``seq`` let a drop be reported per app."""

    topic: str
    payload: bytes
    qos: int = 1
    app: str | None = None
    seq: int | None = None


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """A stored message with its position ``id`` (increasing in arrival order)."""

    id: int
    topic: str
    payload: bytes
    qos: int


@dataclass(frozen=True, slots=True)
class DropReport:
    """Entries dropped from a full outbox and not yet reported; ``upto`` marks the snapshot."""

    total: int
    apps: dict[str, dict[str, Any]] = field(default_factory=dict)
    upto: int = 0

    def to_dict(self) -> dict[str, Any]:
        """The ``data`` of an ``outbox_overflow`` bridge event (``total`` includes rig events)."""
        return {"dropped": self.total, "apps": self.apps}


class Outbox:
    """Ordered, bounded, durable queue of :class:`OutboxItem`.

    Args:
        path: the SQLite file (created with its directory); None for an in-memory queue.
        max_events: most entries kept.
        max_bytes: most payload bytes kept.

    Raises:
        OutboxError: the file cannot be created or opened (names it).
    """

    def __init__(self, path: Path | None, *, max_events: int, max_bytes: int) -> None:
        self.path = path
        self.max_events = max_events
        self.max_bytes = max_bytes
        self.dropped_total = 0
        target = ":memory:"
        if path is not None:
            target = str(path)
        try:
            if path is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(target, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(_SCHEMA)
            count, size = self._db.execute(
                "SELECT COUNT(*), COALESCE(SUM(LENGTH(payload)), 0) FROM outbox").fetchone()
        except (OSError, sqlite3.Error) as exc:
            raise OutboxError(f"cannot open outbox {target}: {exc}") from exc
        self._count = int(count)
        self._bytes = int(size)

    # -- size --------------------------------------------------------------------------------
    def __len__(self) -> int:
        return self._count

    @property
    def bytes(self) -> int:
        """Payload bytes currently stored."""
        return self._bytes

    # -- write -------------------------------------------------------------------------------
    def append(self, items: Iterable[OutboxItem]) -> int:
        """Store ``items`` in order (one transaction), then enforce the bound.

        Returns:
            How many of the oldest entries were dropped to make room.

        Raises:
            OutboxError: the write failed (disk full, file removed...).
        """
        rows = [(i.topic, i.payload, i.qos, i.app, i.seq) for i in items]
        if not rows:
            return 0
        try:
            with self._transaction():
                self._db.executemany(
                    "INSERT INTO outbox (topic, payload, qos, app, seq) VALUES (?, ?, ?, ?, ?)", rows)
                self._count += len(rows)
                self._bytes += sum(len(r[1]) for r in rows)
                return self._enforce_bound()
        except sqlite3.Error as exc:
            self._reload_counts()
            raise OutboxError(f"cannot write outbox {self.path or ':memory:'}: {exc}") from exc

    def peek(self, n: int) -> list[OutboxEntry]:
        """The ``n`` oldest entries, oldest first."""
        cur = self._db.execute("SELECT id, topic, payload, qos FROM outbox ORDER BY id LIMIT ?", (n,))
        return [OutboxEntry(int(r[0]), str(r[1]), bytes(r[2]), int(r[3])) for r in cur]

    def remove_through(self, entry_id: int) -> None:
        """Remove every entry up to and including ``entry_id`` (their publish completed).

        Raises:
            OutboxError: the write failed.
        """
        try:
            with self._transaction():
                count, size = self._db.execute(
                    "SELECT COUNT(*), COALESCE(SUM(LENGTH(payload)), 0) FROM outbox WHERE id <= ?",
                    (entry_id,)).fetchone()
                self._db.execute("DELETE FROM outbox WHERE id <= ?", (entry_id,))
        except sqlite3.Error as exc:
            self._reload_counts()
            raise OutboxError(f"cannot write outbox {self.path or ':memory:'}: {exc}") from exc
        self._count -= int(count)
        self._bytes -= int(size)

    # -- drops -------------------------------------------------------------------------------
    def drops(self) -> DropReport | None:
        """Drops not yet reported, aggregated per app (None if there are none)."""
        rows = self._db.execute(
            "SELECT MAX(id), app, MIN(first_seq), MAX(last_seq), SUM(count) FROM drops GROUP BY app").fetchall()
        if not rows:
            return None
        apps = {str(r[1]): {"first_seq": r[2], "last_seq": r[3], "count": int(r[4])} for r in rows if r[1]}
        total = sum(int(r[4]) for r in rows)
        return DropReport(total=total, apps=apps, upto=max(int(r[0]) for r in rows))

    def clear_drops(self, report: DropReport) -> None:
        """Forget the drops contained in ``report`` (it was published)."""
        with self._transaction():
            self._db.execute("DELETE FROM drops WHERE id <= ?", (report.upto,))

    def close(self) -> None:
        """Close the database (entries stay on disk for the next start)."""
        self._db.close()

    # -- internals ---------------------------------------------------------------------------
    def _reload_counts(self) -> None:
        count, size = self._db.execute(
            "SELECT COUNT(*), COALESCE(SUM(LENGTH(payload)), 0) FROM outbox").fetchone()
        self._count, self._bytes = int(count), int(size)

    def _transaction(self) -> Any:
        return _Transaction(self._db)

    def _enforce_bound(self) -> int:
        need_count = self._count - self.max_events
        need_bytes = self._bytes - self.max_bytes
        if need_count <= 0 and need_bytes <= 0:
            return 0
        size = 0
        last_id: int | None = None
        cur = self._db.execute("SELECT id, LENGTH(payload) FROM outbox ORDER BY id")
        for n, (entry_id, length) in enumerate(cur, start=1):
            size += int(length)
            last_id = int(entry_id)
            if n >= need_count and size >= need_bytes:
                break
        cur.close()
        return 0 if last_id is None else self._drop("id <= ?", (last_id,))

    def _drop(self, where: str, params: tuple[Any, ...]) -> int:
        rows = self._db.execute(
            f"SELECT COALESCE(app, ''), MIN(seq), MAX(seq), COUNT(*), COALESCE(SUM(LENGTH(payload)), 0) "
            f"FROM outbox WHERE {where} GROUP BY COALESCE(app, '')", params).fetchall()
        self._db.execute(f"DELETE FROM outbox WHERE {where}", params)
        n = 0
        for app, first, last, count, size in rows:
            self._db.execute("INSERT INTO drops (app, first_seq, last_seq, count) VALUES (?, ?, ?, ?)",
                             (app, first, last, count))
            self._count -= int(count)
            self._bytes -= int(size)
            n += int(count)
        self.dropped_total += n
        return n


class _Transaction:
    """``BEGIN IMMEDIATE`` ... ``COMMIT`` (``ROLLBACK`` on error) on an autocommit connection."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            self._db.execute("COMMIT")
        else:
            self._db.execute("ROLLBACK")
