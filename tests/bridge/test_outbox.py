"""The on-disk outbox: ordered, bounded (oldest dropped and reported per app), durable."""

from __future__ import annotations

from pathlib import Path

import pytest

from mqtt_bridge import OutboxError
from mqtt_bridge.config import DEFAULT_OUTBOX_MAX_BYTES, DEFAULT_OUTBOX_MAX_EVENTS
from mqtt_bridge.outbox import OUTBOX_FILE, Outbox, OutboxItem


def item(app: str, seq: int, size: int = 10) -> OutboxItem:
    return OutboxItem(f"wakebench/r/apps/{app}/events", b"x" * size, 1, app, seq)


def test_entries_come_back_in_order_and_leave_only_when_removed(tmp_path: Path) -> None:
    box = Outbox(tmp_path / OUTBOX_FILE, max_events=100, max_bytes=10_000)
    box.append([item("a", 1), item("b", 1), item("a", 2)])
    entries = box.peek(10)
    assert [e.topic.split("/")[3] for e in entries] == ["a", "b", "a"]
    assert len(box) == 3 and box.bytes == 30
    box.remove_through(entries[1].id)
    assert [e.id for e in box.peek(10)] == [entries[2].id]
    assert len(box) == 1 and box.bytes == 10


def test_survives_reopening(tmp_path: Path) -> None:
    path = tmp_path / "state" / OUTBOX_FILE
    box = Outbox(path, max_events=100, max_bytes=10_000)
    box.append([item("a", 1), item("a", 2)])
    box.close()
    again = Outbox(path, max_events=100, max_bytes=10_000)
    assert len(again) == 2 and again.bytes == 20
    assert [e.payload for e in again.peek(5)] == [b"x" * 10] * 2


def test_count_bound_drops_the_oldest_at_the_boundary() -> None:
    box = Outbox(None, max_events=3, max_bytes=10_000)
    assert box.append([item("a", 1), item("a", 2), item("a", 3)]) == 0  # exactly the bound
    assert box.drops() is None
    assert box.append([item("a", 4)]) == 1  # one over: the oldest goes
    assert len(box) == 3
    report = box.drops()
    assert report is not None and report.to_dict() == {
        "dropped": 1, "apps": {"a": {"first_seq": 1, "last_seq": 1, "count": 1}}}


def test_byte_bound_drops_as_many_oldest_as_needed() -> None:
    box = Outbox(None, max_events=100, max_bytes=100)
    box.append([item("a", 1, 40), item("b", 1, 40)])
    assert box.append([item("a", 2, 20)]) == 0  # 100 bytes: at the bound
    assert box.append([item("a", 3, 50)]) == 2  # 150 -> drop 40 + 40
    assert box.bytes == 70 and len(box) == 2
    report = box.drops()
    assert report is not None and report.total == 2
    assert report.apps == {"a": {"first_seq": 1, "last_seq": 1, "count": 1},
                           "b": {"first_seq": 1, "last_seq": 1, "count": 1}}


def test_drop_reports_aggregate_and_clear_only_what_was_reported() -> None:
    box = Outbox(None, max_events=1, max_bytes=10_000)
    box.append([item("a", 1), item("a", 2), item("a", 3)])
    report = box.drops()
    assert report is not None and report.apps == {"a": {"first_seq": 1, "last_seq": 2, "count": 2}}
    box.append([item("a", 4)])  # drops seq 3 after the snapshot
    box.clear_drops(report)
    later = box.drops()
    assert later is not None and later.apps == {"a": {"first_seq": 3, "last_seq": 3, "count": 1}}
    box.clear_drops(later)
    assert box.drops() is None
    assert box.dropped_total == 3


def test_rig_events_count_in_the_total_but_not_per_app() -> None:
    box = Outbox(None, max_events=1, max_bytes=10_000)
    box.append([OutboxItem("wakebench/r/bridge/event", b"{}", 0), item("a", 1)])
    report = box.drops()
    assert report is not None and report.total == 1 and report.apps == {}


def test_unusable_path_is_named(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(OutboxError, match="file"):
        Outbox(blocker / "sub" / OUTBOX_FILE, max_events=1, max_bytes=1)


def test_default_bounds() -> None:
    assert DEFAULT_OUTBOX_MAX_EVENTS == 10_000 and DEFAULT_OUTBOX_MAX_BYTES == 16 * 1024 * 1024
