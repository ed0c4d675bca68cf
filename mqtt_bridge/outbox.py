"""The bridge's view of the rig journal's pending events: a bounded, ordered queue of messages
waiting for the broker's PUBACK.

Since issue #8 there is one durable file per rig, :class:`firmware_sim.journal.Journal`; the
driver commits events there before they are published and the bridge acknowledges them on
PUBACK. A bridge whose driver has no journal (tests, library use) opens one of its own through
:class:`Outbox` and uses only its queue part — same rules: entries leave only through
:meth:`~firmware_sim.journal.Journal.remove_through`, the oldest are dropped beyond the bound and
reported per app (first/last ``seq``). Without a path the queue lives in memory.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from firmware_sim.journal import (
    JOURNAL_FILE,
    DropReport,
    Journal,
    JournalError,
    PendingEntry,
    PendingItem,
    Synchronous,
)
from mqtt_bridge.errors import OutboxError

__all__ = ["OUTBOX_FILE", "DropReport", "Outbox", "OutboxEntry", "OutboxItem"]

#: The file a bridge with a ``state_dir`` keeps its queue in: the rig journal's file.
OUTBOX_FILE: Final = JOURNAL_FILE
#: The separate outbox file of wakebench before the journal (migrated once by the rig).
LEGACY_OUTBOX_FILE: Final = "mqtt-outbox.sqlite3"

OutboxItem = PendingItem
OutboxEntry = PendingEntry


class Outbox(Journal):
    """A journal used as the bridge's outbox (its directory is created).

    Raises:
        OutboxError: the file cannot be created, opened or is not a journal (names it).
    """

    def __init__(self, path: Path | None, *, max_events: int, max_bytes: int,
                 synchronous: Synchronous = "normal") -> None:
        try:
            if path is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
            super().__init__(path, synchronous=synchronous, max_events=max_events, max_bytes=max_bytes)
        except OSError as exc:
            raise OutboxError(f"cannot open outbox {path}: {exc.strerror or exc}") from exc
        except JournalError as exc:
            raise OutboxError(f"cannot open outbox {exc}") from exc
