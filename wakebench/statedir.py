"""A rig's state directory: exclusive lock, the journal, one-time migration of legacy state, and
``--reset-state``.

- **Lock** (issue #8.4): ``rig.lock`` is held with ``fcntl.flock(LOCK_EX | LOCK_NB)`` for the
  rig's lifetime and holds its pid; a second rig on the same directory stops with one line naming
  the holder. The kernel drops the lock when the process dies (also on SIGKILL), so a stale file
  never blocks a restart.
- **Journal** (``journal.sqlite3``, :mod:`firmware_sim.journal`): opened, checked and loaded;
  a damaged or foreign file is one :class:`StateDirError` line with the ``--reset-state`` hint.
- **Migration**: a directory of an older wakebench (``scheduler-state.json`` and
  ``mqtt-outbox.sqlite3``) is migrated once into the journal and the old files renamed to
  ``*.migrated``; the message says so.
- **Reset**: the journal (and legacy files) are moved aside to ``*.damaged-<UTC time>``, never
  deleted, and the rig starts fresh.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from firmware_sim.errors import ConfigError
from firmware_sim.journal import JOURNAL_FILE, Journal, JournalError, PendingItem, Synchronous
from firmware_sim.persistence import STATE_FILE, check_state, load_legacy_state
from firmware_sim.scheduler import Scheduler

__all__ = ["LOCK_FILE", "StateDir", "StateDirError", "open_state_dir"]

LOCK_FILE: Final = "rig.lock"
LEGACY_OUTBOX_FILE: Final = "mqtt-outbox.sqlite3"
_SIDE_FILES: Final = ("-wal", "-shm")


class StateDirError(ConfigError):
    """The state directory cannot be used; the message is one line saying what to do."""


@dataclass
class StateDir:
    """An open, locked state directory."""

    path: Path
    journal: Journal
    state: dict[str, Any] | None
    notes: list[str] = field(default_factory=list)
    _lock_fd: int = -1

    def close(self) -> None:
        """Close the journal (checkpointed) and release the lock."""
        with contextlib.suppress(Exception):
            self.journal.checkpoint()
        with contextlib.suppress(Exception):
            self.journal.close()
        if self._lock_fd >= 0:
            with contextlib.suppress(OSError):
                fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
                os.close(self._lock_fd)
            self._lock_fd = -1


def open_state_dir(path: Path, *, reset: bool = False, synchronous: Synchronous = "normal") -> StateDir:
    """Lock ``path``, migrate legacy state once, open and load the journal.

    Raises:
        StateDirError: locked by another rig (names its pid), not creatable, or a damaged
            journal / legacy state (names the file and the fault, with the ``--reset-state`` hint).
    """
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StateDirError(f"state directory {path}: cannot create it ({exc.strerror or exc}); "
                            "set rig.state_dir or pass --state-dir") from exc
    fd = _lock(path)
    try:
        notes: list[str] = []
        if reset:
            moved = _move_aside(path)
            notes.append(f"--reset-state: moved {', '.join(moved)} aside; starting fresh" if moved
                         else "--reset-state: nothing to move aside; starting fresh")
        journal_path = path / JOURNAL_FILE
        legacy = path / STATE_FILE
        fresh = not journal_path.exists()
        try:
            journal = Journal(journal_path, synchronous=synchronous)
        except JournalError as exc:
            raise StateDirError(str(exc)) from exc
        try:
            if fresh and (legacy.exists() or (path / LEGACY_OUTBOX_FILE).exists()):
                notes.append(_migrate(path, journal))
            state = journal.load_state()
            if state is not None:
                check_state(state, str(journal_path))
        except ConfigError as exc:
            journal.close()
            if fresh:  # a half-done migration leaves no journal behind
                for suffix in ("", *_SIDE_FILES):
                    Path(f"{journal_path}{suffix}").unlink(missing_ok=True)
            message = str(exc)
            if "--reset-state" not in message:
                message += "; start with --reset-state to move it aside and begin fresh"
            raise StateDirError(message) from exc
        return StateDir(path, journal, state, notes, fd)
    except BaseException:
        with contextlib.suppress(OSError):
            os.close(fd)
        raise


def _lock(path: Path) -> int:
    lock = path / LOCK_FILE
    try:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise StateDirError(f"state directory {path}: cannot create {LOCK_FILE} ({exc.strerror or exc})") from exc
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
        os.close(fd)
        raise StateDirError(f"state directory {path} is in use by another wakebench rig (pid {holder}); "
                            "stop it, or give this rig its own --state-dir") from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    return fd


def _move_aside(path: Path) -> list[str]:
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    moved = []
    for name in (JOURNAL_FILE, STATE_FILE, LEGACY_OUTBOX_FILE):
        for suffix in ("", *_SIDE_FILES):
            src = path / f"{name}{suffix}"
            if src.exists():
                src.rename(path / f"{name}{suffix}.damaged-{stamp}")
                if not suffix:
                    moved.append(f"{name} → {name}.damaged-{stamp}")
    return moved


def _migrate(path: Path, journal: Journal) -> str:
    """Copy legacy JSON state and outbox entries into ``journal``; rename the old files."""
    legacy = path / STATE_FILE
    state = load_legacy_state(legacy) if legacy.exists() else None
    if state is not None:
        try:  # a trial load: policy data the shape check cannot see
            Scheduler(now=float(state["now"])).load(state)
        except Exception as exc:
            raise ConfigError(f"{legacy}: cannot be loaded ({type(exc).__name__}: {exc})") from exc
    items = _legacy_outbox(path / LEGACY_OUTBOX_FILE)
    journal.commit(state, items)
    done = []
    for name in (STATE_FILE, LEGACY_OUTBOX_FILE):
        src = path / name
        if src.exists():
            src.rename(path / f"{name}.migrated")
            done.append(name)
        for suffix in _SIDE_FILES:
            Path(f"{src}{suffix}").unlink(missing_ok=True)
    return (f"migrated {' and '.join(done)} into {JOURNAL_FILE} ({len(items)} undelivered event(s)); "
            f"the old file(s) are kept as *.migrated")


def _legacy_outbox(file: Path) -> list[PendingItem]:
    if not file.exists():
        return []
    try:
        db = sqlite3.connect(f"file:{file}?mode=ro", uri=True)
        try:
            rows = db.execute("SELECT topic, payload, qos, app, seq FROM outbox ORDER BY id").fetchall()
        finally:
            db.close()
    except sqlite3.Error as exc:
        raise ConfigError(f"{file}: cannot read the legacy outbox ({exc})") from exc
    return [PendingItem(str(t), bytes(p), int(q), a, s) for t, p, q, a, s in rows]
