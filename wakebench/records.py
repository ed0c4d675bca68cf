"""Timeline records: the one data model of ``--html``, ``--trace``, ``run --record`` and ``timeline``.

A record is a JSON object with ``kind`` and ``t`` (rig seconds):

- ``{"kind": "event", "t", "type", "app", "platform", "task_id", "reason", "deadline", "seq", "signals"}``
  (the MQTT event payload of DESIGN.md section 4 plus ``kind``);
- ``{"kind": "signals", "t", <every signal>, "stale": [...]}`` (the ``signals`` topic payload);
- ``{"kind": "response", "t", "app", "verb", "status", "code", "error", "args"}``;
- ``{"kind": "app_state", "t", "app", "platform", "state"}`` (also the retained
  ``apps/<app>/state`` payload of the bridge).

A recording (``run --record FILE``) is JSON Lines, one record a line, written as things happen.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Final, TextIO

from firmware_sim.events import Event
from firmware_sim.signals import Signals
from firmware_sim.simulation import ResponseRecord, SimulationResult

__all__ = ["KINDS", "RecordError", "RecordWriter", "from_simulation", "load_records", "record_of"]

KINDS: Final[tuple[str, ...]] = ("event", "signals", "response", "app_state")
#: A recording line longer than this is rejected, not parsed (a record is a few hundred bytes).
MAX_LINE_BYTES: Final[int] = 1 << 20


class RecordError(ValueError):
    """A recording line that is not a record; the message names file, line and field."""


def record_of(entry: Event | Signals | ResponseRecord) -> dict[str, Any]:
    """One simulation log entry as a record."""
    if isinstance(entry, Event):
        return {"kind": "event", **entry.to_dict()}
    if isinstance(entry, Signals):
        return {"kind": "signals", **entry.to_dict()}
    return {"kind": "response", "t": entry.t, "app": entry.app, "verb": entry.verb, "status": entry.status,
            "code": entry.code, "error": entry.error, "args": entry.args or {}}


def app_state_of(response: ResponseRecord, platforms: dict[str, str]) -> dict[str, Any] | None:
    """The ``app_state`` record a successful ``register`` / ``state`` / ``crash`` response implies."""
    if response.status != "ok":
        return None
    if response.verb == "register":
        platforms[response.app] = str((response.args or {}).get("platform", ""))
        state = str(response.data.get("state", "foreground"))
    elif response.verb == "state":
        state = str(response.data.get("state", ""))
    elif response.verb == "crash":
        state = "terminated"
    else:
        return None
    return {"kind": "app_state", "t": response.t, "app": response.app,
            "platform": platforms.get(response.app), "state": state}


def from_simulation(result: SimulationResult) -> list[dict[str, Any]]:
    """Every record of a simulated run, in time order, starting with the initial signals."""
    out: list[dict[str, Any]] = [record_of(result.scenario.initial)]
    platforms = {a.id: a.platform for a in result.scenario.apps}
    for entry in result.log:
        out.append(record_of(entry))
        if isinstance(entry, ResponseRecord):
            state = app_state_of(entry, platforms)
            if state is not None:
                out.append(state)
    return out


class RecordWriter:
    """Appends records to a JSONL file, one flushed line each (a crash loses at most a line)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._file: TextIO | None = self.path.open("a", encoding="utf-8")

    def write(self, record: dict[str, Any]) -> None:
        """Append one record (ignored after :meth:`close`)."""
        if self._file is None:
            return
        self._file.write(json.dumps(record, separators=(",", ":"), default=str) + "\n")
        self._file.flush()

    def events(self, events: Iterable[Event]) -> None:
        """Event sink for :meth:`SchedulerDriver.add_sink`."""
        for e in events:
            self.write({"kind": "event", **e.to_dict()})

    def signals(self, snapshot: Signals) -> None:
        """Signals sink for :meth:`SchedulerDriver.add_signals_sink`."""
        self.write({"kind": "signals", **snapshot.to_dict()})

    def close(self) -> None:
        """Close the file (idempotent)."""
        if self._file is not None:
            self._file.close()
            self._file = None


def load_records(path: str | Path) -> list[dict[str, Any]]:
    """Read a recording; a bad line raises :class:`RecordError` naming ``file:line: field``.

    Raises:
        RecordError: a line that is not JSON, not an object, lacks ``kind``/``t`` or is too long.
        OSError: the file cannot be read.
    """
    return list(_iter_records(Path(path)))


def _iter_records(path: Path) -> Iterator[dict[str, Any]]:
    with path.open("rb") as f:
        for lineno, raw in enumerate(f, 1):
            if len(raw) > MAX_LINE_BYTES:
                raise RecordError(f"{path}:{lineno}: line longer than {MAX_LINE_BYTES} bytes")
            text = raw.strip()
            if not text:
                continue
            try:
                rec = json.loads(text)
            except (ValueError, UnicodeDecodeError) as exc:
                raise RecordError(f"{path}:{lineno}: not JSON ({exc})") from exc
            if not isinstance(rec, dict):
                raise RecordError(f"{path}:{lineno}: a record must be a JSON object")
            if rec.get("kind") not in KINDS:
                raise RecordError(f"{path}:{lineno}: kind: must be one of {', '.join(KINDS)}, "
                                  f"not {rec.get('kind')!r}")
            t = rec.get("t")
            if isinstance(t, bool) or not isinstance(t, int | float):
                raise RecordError(f"{path}:{lineno}: t: must be a number of rig seconds, not {t!r}")
            yield rec
