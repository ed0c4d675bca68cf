"""The state directory: one rig at a time (lock naming the holder), damaged or foreign journals
and legacy JSON state give one line + exit 2 (never a traceback, never a silent fresh start),
``--reset-state`` moves them aside, legacy state is migrated once with a message."""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from firmware_sim import Scheduler
from firmware_sim.journal import JOURNAL_FILE, Journal, PendingItem
from firmware_sim.persistence import STATE_FILE, StateStore
from wakebench.cli import main
from wakebench.statedir import LEGACY_OUTBOX_FILE, StateDirError, open_state_dir


def valid_state() -> dict:
    sched = Scheduler()
    sched.handle(0.0, "mail", "register", {"platform": "wp8"})
    sched.handle(0.0, "mail", "add", {"name": "sync", "type": "resource_intensive"})
    return sched.dump()


def journal_with(path: Path, edit: Callable[[sqlite3.Connection], None]) -> None:
    journal = Journal(path)
    journal.commit(valid_state(), [PendingItem(None, b"{}", 1, "mail", 1)])
    journal.close()
    db = sqlite3.connect(path, isolation_level=None)
    edit(db)
    db.close()


def core(**change: object) -> Callable[[sqlite3.Connection], None]:
    def edit(db: sqlite3.Connection) -> None:
        value = json.loads(db.execute("SELECT value FROM state WHERE key='core'").fetchone()[0])
        value.update(change)
        text = json.dumps(value)  # NaN / Infinity written as JSON's non-standard constants
        db.execute("UPDATE state SET value=? WHERE key='core'", (text,))
    return edit


def row(key: str, text: str) -> Callable[[sqlite3.Connection], None]:
    return lambda db: db.execute("INSERT OR REPLACE INTO state (key, value) VALUES (?, ?)", (key, text))


def sql(statement: str) -> Callable[[sqlite3.Connection], None]:
    return lambda db: db.execute(statement)


def raw(data: bytes) -> Callable[[Path], None]:
    return lambda path: path.write_bytes(data)


def edited(edit: Callable[[sqlite3.Connection], None]) -> Callable[[Path], None]:
    return lambda path: journal_with(path, edit)


def truncated(size: int) -> Callable[[Path], None]:
    def make(path: Path) -> None:
        journal_with(path, lambda db: None)
        data = path.read_bytes()
        path.write_bytes(data[:size])
    return make


def smashed_page(path: Path) -> None:
    journal = Journal(path)
    sched = Scheduler()
    for n in range(60):
        sched.handle(0.0, f"app{n}", "register", {"platform": "android"})
    journal.commit(sched.dump(), [PendingItem(None, b"e" * 500, 1, "a", n) for n in range(1, 40)])
    journal.checkpoint()
    journal.close()
    data = bytearray(path.read_bytes())
    data[4096:12288] = b"\xff" * 8192
    path.write_bytes(bytes(data))


def directory(path: Path) -> None:
    path.mkdir()


#: 33 damaged or foreign journals: name → how to make it
JOURNALS: dict[str, Callable[[Path], None]] = {
    "random bytes": raw(os.urandom(3000)),
    "text": raw(b"hello, I am a text file\n"),
    "json state renamed": raw(b'{"version": 1, "now": 5}'),
    "sqlite header only": raw(b"SQLite format 3\x00"),
    "header then garbage": raw(b"SQLite format 3\x00" + b"\x01" * 5000),
    "truncated to 100 bytes": truncated(100),
    "truncated to half a page": truncated(2048),
    "smashed page": smashed_page,
    "a directory": directory,
    "foreign sqlite": edited(sql("PRAGMA application_id=0")),
    "other application id": edited(sql("PRAGMA application_id=1234")),
    "future schema": edited(sql("PRAGMA user_version=99")),
    "no pending table": edited(sql("DROP TABLE pending")),
    "state table altered": edited(sql("ALTER TABLE state ADD COLUMN extra TEXT")),
    "core not json": edited(row("core", "{not json")),
    "core a list": edited(row("core", "[1, 2]")),
    "core empty object": edited(row("core", "{}")),
    "core version only": edited(row("core", '{"version": 1}')),
    "version 99": edited(core(version=99)),
    "now soon": edited(core(now="soon")),
    "now NaN": edited(core(now=float("nan"))),
    "now Infinity": edited(core(now=float("inf"))),
    "now negative": edited(core(now=-5)),
    "seed text": edited(core(seed="x")),
    "seq negative": edited(core(seq={"mail": -1})),
    "apps garbage": edited(row("apps", '"not a list"')),
    "unknown platform": edited(row("apps", '[{"id": "mail", "platform": "symbian"}]')),
    "app without id": edited(row("apps", '[{"platform": "wp8"}]')),
    "unknown policy": edited(row("policy:symbian", "{}")),
    "policy not an object": edited(row("policy:wp8", "[1, 2]")),
    "garbage policy data": edited(row("policy:android", '{"works": [1, 2, 3]}')),
    "deep nesting": edited(row("apps", "[" * 100_000 + "]" * 100_000)),
    "app row missing": edited(sql("""DELETE FROM state WHERE key = 'app:"mail"'""")),
    "app share of a policy missing": edited(sql("""DELETE FROM state WHERE key = 'app:"mail":wp8'""")),
    "policy skeleton malformed": edited(row("policy:wp8", '[["tasks", 9, 1]]')),
}

#: legacy scheduler-state.json files that must not start a rig (issue #8's list and more)
LEGACY: dict[str, bytes] = {
    "now soon": b'{"version": 1, "now": "soon"}',
    "now NaN": b'{"version": 1, "now": NaN}',
    "now Infinity": b'{"version": 1, "now": Infinity}',
    "unknown platform": b'{"version": 1, "now": 1, "apps": [{"id": "a", "platform": "symbian"}]}',
    "garbage policies": b'{"version": 1, "now": 1, "policies": "garbage"}',
    "garbage policy data": b'{"version": 1, "now": 1, "policies": {"android": {"works": [1]}}}',
    "deep nesting": b"[" * 100_000 + b"]" * 100_000,
    "empty object": b"{}",
    "version only": b'{"version": 1}',
    "other version": b'{"version": 7, "now": 1}',
    "not json": b"{not json",
    "a list": b"[1, 2, 3]",
    "empty file": b"",
    "binary": b"\x00\xff\xfe" * 100,
}


def run_on(state_dir: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, list[str]]:
    code = main(["run", "--board", "sim", "--state-dir", str(state_dir), "--embedded-broker", "in-process",
                 "--quiet", *extra])
    err = capsys.readouterr().err
    return code, [line for line in err.splitlines() if line.strip()]


@pytest.mark.parametrize("name", sorted(JOURNALS))
def test_a_damaged_journal_is_one_line_and_exit_2(name: str, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    assert len(JOURNALS) >= 25  # issue #8 acceptance: a corpus of at least 25 damaged journals
    JOURNALS[name](tmp_path / JOURNAL_FILE)
    code, lines = run_on(tmp_path, capsys)
    assert code == 2
    assert len(lines) == 1, lines
    assert JOURNAL_FILE in lines[0] and "--reset-state" in lines[0] and "Traceback" not in lines[0]
    assert (tmp_path / JOURNAL_FILE).exists()  # never deleted


@pytest.mark.parametrize("name", sorted(LEGACY))
def test_damaged_legacy_state_is_one_line_and_exit_2(name: str, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / STATE_FILE).write_bytes(LEGACY[name])
    code, lines = run_on(tmp_path, capsys)
    assert code == 2
    assert len(lines) == 1, lines
    assert STATE_FILE in lines[0] and "--reset-state" in lines[0]
    assert (tmp_path / STATE_FILE).read_bytes() == LEGACY[name]  # untouched
    assert not (tmp_path / JOURNAL_FILE).exists()  # no half-migrated journal left behind


def test_a_second_rig_on_the_directory_names_the_holder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    held = open_state_dir(tmp_path)
    try:
        code, lines = run_on(tmp_path, capsys)
    finally:
        held.close()
    assert code == 2 and len(lines) == 1
    assert f"pid {os.getpid()}" in lines[0] and str(tmp_path) in lines[0]
    open_state_dir(tmp_path).close()  # released: the next start gets it


def test_reset_state_moves_the_damaged_journal_aside(tmp_path: Path) -> None:
    (tmp_path / JOURNAL_FILE).write_bytes(b"garbage")
    with pytest.raises(StateDirError):
        open_state_dir(tmp_path)
    state = open_state_dir(tmp_path, reset=True)
    try:
        assert state.state is None and "moved" in state.notes[0]
        aside = [p for p in tmp_path.iterdir() if p.name.startswith(f"{JOURNAL_FILE}.damaged-")]
        assert len(aside) == 1 and aside[0].read_bytes() == b"garbage"
    finally:
        state.close()


def test_legacy_state_and_outbox_are_migrated_once(tmp_path: Path) -> None:
    saved = valid_state()
    StateStore(tmp_path).save(saved)
    old = sqlite3.connect(tmp_path / LEGACY_OUTBOX_FILE)
    old.execute("CREATE TABLE outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, topic TEXT NOT NULL, "
                "payload BLOB NOT NULL, qos INTEGER NOT NULL, app TEXT, seq INTEGER)")
    old.execute("INSERT INTO outbox (topic, payload, qos, app, seq) VALUES ('t/mail', x'7b7d', 1, 'mail', 4)")
    old.commit()
    old.close()
    state = open_state_dir(tmp_path)
    try:
        assert state.state == saved
        assert "migrated" in state.notes[0] and "1 undelivered" in state.notes[0]
        assert [(e.topic, e.payload) for e in state.journal.peek(10)] == [("t/mail", b"{}")]
    finally:
        state.close()
    assert (tmp_path / f"{STATE_FILE}.migrated").exists() and not (tmp_path / STATE_FILE).exists()
    again = open_state_dir(tmp_path)  # second start: from the journal, no new migration
    try:
        assert again.state == saved and again.notes == []
    finally:
        again.close()
