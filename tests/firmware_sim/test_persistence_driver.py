"""State survives a restart atomically (legacy JSON store, read for migration); the async driver
fires timers on a scaled clock and commits every batch to its journal."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from firmware_sim import ConfigError, ScaledClock, Scheduler, Signals
from firmware_sim.driver import SchedulerDriver
from firmware_sim.journal import JOURNAL_FILE, Journal
from firmware_sim.persistence import StateStore


def test_store_round_trip_and_atomic_replace(tmp_path: Path) -> None:
    store = StateStore(tmp_path / "state")
    assert store.load() is None
    store.save({"a": 1})
    store.save({"a": 2})
    assert store.load() == {"a": 2}
    assert [p.name for p in (tmp_path / "state").iterdir()] == ["scheduler-state.json"]  # no temp files left


def test_store_reports_corrupt_file(tmp_path: Path) -> None:
    (tmp_path / "scheduler-state.json").write_text("{not json")
    with pytest.raises(ConfigError, match=r"scheduler-state\.json"):
        StateStore(tmp_path).load()


def test_scheduler_rejects_other_state_versions() -> None:
    with pytest.raises(ConfigError):
        Scheduler().load({"version": 99})


async def test_driver_fires_timers_and_saves_state(tmp_path: Path) -> None:
    # speed 1800: Capacitor's 180 s budget passes in 0.1 s of wall time
    driver = SchedulerDriver(
        Scheduler(limits={"capacitor": {"terminate_grace_s": 1.0}}),
        clock=ScaledClock(1800),
        journal=Journal(tmp_path / JOURNAL_FILE),
    )
    batches: list[list[str]] = []
    done = asyncio.Event()

    def sink(events: list) -> None:
        batches.append([e.type for e in events])
        if any(e.type == "terminate" for e in events):
            done.set()

    driver.add_sink(sink)
    runner = asyncio.create_task(driver.run())
    assert (await driver.request("cap", "register", {"platform": "capacitor"})).ok
    seen: list[str] = []
    response = await driver.request("cap", "before_exit", {}, on_response=lambda r: seen.append(r.status))
    assert response.ok and seen == ["ok"] and batches == [["wake"]]  # response hook ran before the wake
    await asyncio.wait_for(done.wait(), timeout=5)
    driver.stop()
    await asyncio.wait_for(runner, timeout=2)
    assert [t for b in batches for t in b] == ["wake", "expire", "terminate"]
    saved = Journal(tmp_path / JOURNAL_FILE).load_state()
    assert saved is not None and saved["seq"] == {"cap": 3}


async def test_driver_signal_updates_reach_sinks() -> None:
    driver = SchedulerDriver(Scheduler(signals=Signals(charger="ac")), clock=ScaledClock(1))
    snapshots: list[Signals] = []
    driver.add_signals_sink(snapshots.append)
    await driver.update_signals({"charger": "none"})
    await driver.update_signals({"charger": "none"})  # no change: no second snapshot
    await driver.update_signals({}, stale=frozenset({"battery_level"}))
    assert [s.charger for s in snapshots] == ["none", "none"]
    assert snapshots[-1].stale == {"battery_level"}


async def test_a_delivered_event_is_the_bytes_the_journal_stored() -> None:
    """Encoded once per batch: what the sinks get from ``driver.encode`` during delivery is the
    journal's row byte for byte (a replay after a restart repeats the live message), and the
    per-batch cache is gone afterwards."""
    from firmware_sim import ManualClock
    from firmware_sim.clock import wall_now

    journal = Journal(None)
    driver = SchedulerDriver(Scheduler(epoch=wall_now()), clock=ManualClock(), journal=journal)
    seen: list[tuple[bytes, int | None]] = []

    def sink(events: list) -> None:
        rows = driver.journal_rows(events)
        seen.extend((driver.encode(e), r) for e, r in zip(events, rows, strict=True))

    driver.add_sink(sink)
    await driver.request("cap", "register", {"platform": "capacitor"})
    await driver.request("cap", "before_exit")
    stored = {e.id: e.payload for e in journal.peek(10)}
    assert seen and all(row is not None and stored[row] == payload for payload, row in seen)
    assert driver._payloads == {} and driver._rows == {}
