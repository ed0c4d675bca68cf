"""400 simulated days of every platform's repeating work through the *live* path (issue #8 item 3:
"simulate and the live driver at high speed"), and through ``wakebench simulate``.

``test_longrun.py`` drives the pure scheduler. Here the same kinds of work run

- through :class:`SchedulerDriver` with its timer loop (``run``), a :class:`ManualClock` that
  jumps from deadline to deadline (the fastest speed there is), and the SQLite journal: every
  batch is committed, acknowledged as a PUBACK would, and the rig is restarted from its journal
  half-way — the timer loop must still be firing at day 400, nothing pending may pile up;
- through a scenario file (the ``wakebench simulate`` command), whose reactive steps answer each
  wake as a prototype would, for ``until: 400d``.

Before the fix of issue #8 the Android worker that always answers ``retry`` overflowed
``2.0 ** (attempts - 1)`` after 1024 attempts (about 214 days): the live loop stopped firing
timers and ``simulate`` died with a traceback.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path
from typing import Any

from firmware_sim import Event, Scheduler, Signals
from firmware_sim.clock import ManualClock
from firmware_sim.driver import SchedulerDriver
from firmware_sim.journal import Journal
from wakebench.cli import main

DAY = 86400.0
DAYS = 400
#: WorkManager's retry backoff is capped at 5 hours (``WorkRequest.MAX_BACKOFF_MILLIS``), so a
#: worker answering ``retry`` forever is woken at least 24 / 5 times a day once capped: far more
#: than the 1024 attempts that used to overflow, within 400 days.
OVERFLOW_ATTEMPTS = 1024

SETUP: list[tuple[str, str, str, dict[str, Any]]] = [
    # (platform, app, verb, args): one repeating kind per platform that has one
    ("wp8", "poll", "add", {"name": "poll", "type": "periodic"}),
    ("android", "periodic", "enqueue", {"type": "periodic", "id": "refresh", "repeat_interval": 6 * 3600}),
    ("android", "flaky", "enqueue", {"id": "flaky"}),
    ("harmonyos", "mail", "start_work", {"work_id": 1, "bundle_name": "mail", "ability_name": "Sync",
                                         "network_type": "wifi", "is_repeat": True, "is_persisted": True,
                                         "repeat_cycle_time": 6 * 3600 * 1000}),
    ("ios", "news", "submit", {"identifier": "feed", "type": "refresh"}),
]
#: What the WP8 app does when opened: an agent expires 14 days after ``Add`` (seed 003), so the
#: app removes and adds it again (the documented renewal), then goes back to the background.
OPEN_WP8_APP: list[tuple[str, dict[str, Any]]] = [
    ("state", {"state": "foreground"}), ("remove", {"name": "poll"}),
    ("add", {"name": "poll", "type": "periodic"}), ("state", {"state": "background"})]


def _reply(e: Event) -> list[tuple[str, dict[str, Any]]]:
    """What each prototype answers to a wake."""
    if e.type != "wake":
        return []
    if e.app == "flaky":
        return [("finish", {"id": "flaky", "result": "retry"})]
    if e.app == "periodic":
        return [("finish", {"id": "refresh", "result": "success"})]
    if e.app == "poll":
        return [("notify_complete", {"name": "poll"})]
    if e.app == "news" and e.task_id == "feed":
        return [("set_task_completed", {"identifier": "feed", "success": True}),
                ("submit", {"identifier": "feed", "type": "refresh", "earliest_begin_delay": 6 * 3600})]
    return []


class LiveRig:
    """A driver on a journal, its timer loop running, a sink that acknowledges every batch."""

    def __init__(self, journal_path: Path, clock: ManualClock, *, first: bool) -> None:
        self.clock = clock
        self.journal = Journal(journal_path)
        scheduler = Scheduler(signals=Signals(battery_level=80, charger="ac", network="wifi",
                                              screen_locked=True), seed=3)
        if not first:
            state = self.journal.load_state()
            assert state is not None
            scheduler.load(state)
        self.driver = SchedulerDriver(scheduler, clock=clock, journal=self.journal)
        self.inbox: list[Event] = []
        self.driver.add_sink(self._sink)
        self.loop: asyncio.Task[None] | None = None

    def _sink(self, events: list[Event]) -> None:
        self.inbox += events
        rows = [r for r in self.driver.journal_rows(events) if r is not None]
        if rows:
            self.journal.remove_through(max(rows))  # the broker's PUBACK

    def start(self) -> None:
        self.loop = asyncio.get_running_loop().create_task(self.driver.run())

    async def stop(self) -> None:
        self.driver.stop()
        assert self.loop is not None
        await self.loop
        self.journal.close()

    async def answer(self, counts: Counter[tuple[str, str]]) -> None:
        """Answer every event received so far (answers may bring more)."""
        while self.inbox:
            e = self.inbox.pop(0)
            counts[(e.app, e.type)] += 1
            for verb, args in _reply(e):
                response = await self.driver.request(e.app, verb, args)
                assert response.ok, (e, verb, response)

    async def run_until(self, end: float, counts: Counter[tuple[str, str]]) -> None:
        """Jump the clock from deadline to deadline up to ``end``; the timer loop fires them."""
        sched = self.driver.scheduler
        next_day = (sched.now // DAY + 1) * DAY
        while True:
            await self.answer(counts)
            at = sched.next_deadline()
            if at is None or at > end:
                break
            if at >= next_day:  # once a day the WP8 app is opened and renews its 14-day agent
                self.clock.advance_to(next_day)
                for verb, args in OPEN_WP8_APP:
                    assert (await self.driver.request("poll", verb, args)).ok, verb
                next_day += DAY
                continue
            self.clock.advance_to(at)
            while sched.now < at:  # the loop runs on this event loop: yield until it has fired
                await asyncio.sleep(0)
        self.clock.advance_to(max(end, self.clock.now()))


async def test_the_live_driver_runs_four_hundred_days_on_its_journal(tmp_path: Path) -> None:
    clock = ManualClock()
    counts: Counter[tuple[str, str]] = Counter()
    rig = LiveRig(tmp_path / "journal.sqlite3", clock, first=True)
    rig.start()
    for platform, app, verb, args in SETUP:
        extra = {"group": "active"} if platform == "harmonyos" else {}
        assert (await rig.driver.request(app, "register", {"platform": platform, **extra})).ok
        assert (await rig.driver.request(app, verb, args)).ok, (app, verb)
    assert (await rig.driver.request("news", "state", {"state": "background"})).ok

    await rig.run_until(DAYS / 2 * DAY, counts)
    half = counts.copy()
    await rig.stop()

    # restart from the journal half-way: the same work goes on firing
    rig = LiveRig(tmp_path / "journal.sqlite3", clock, first=False)
    rig.start()
    events = await rig.driver.resume({"charger": "ac", "battery_level": 80, "network": "wifi",
                                      "screen_locked": True})
    assert not [e for e in events if e.type in ("revoke", "unscheduled")], events
    await rig.run_until(DAYS * DAY, counts)
    sched = rig.driver.scheduler
    healthy = sched.health()
    await rig.stop()

    assert healthy == (True, [])
    assert sched.now >= (DAYS - 1) * DAY
    assert counts[("flaky", "wake")] > OVERFLOW_ATTEMPTS
    for app in ("poll", "periodic", "mail", "news"):
        # still firing in the second half, about as often as in the first
        assert counts[(app, "wake")] - half[(app, "wake")] > half[(app, "wake")] * 0.9 > 0, (app, counts)
    assert len(rig.journal) == 0  # every event acknowledged: nothing piles up in 400 days


SCENARIO = """\
name: 400 days of repeating work
initial: {battery_level: 80, charger: ac, network: wifi, screen_locked: true}
apps:
  - {id: poll, platform: wp8}
  - {id: periodic, platform: android}
  - {id: flaky, platform: android}
  - {id: mail, platform: harmonyos, group: active}
  - {id: news, platform: ios}
steps:
  - {at: 0s, app: poll, request: add, args: {name: poll, type: periodic}}
  - {at: 0s, app: periodic, request: enqueue, args: {type: periodic, id: refresh, repeat_interval: 21600}}
  - {at: 0s, app: flaky, request: enqueue, args: {id: flaky}}
  - {at: 0s, app: mail, request: start_work, args: {work_id: 1, bundle_name: mail, ability_name: Sync,
     network_type: wifi, is_repeat: true, repeat_cycle_time: 21600000}}
  - {at: 0s, app: news, request: submit, args: {identifier: feed, type: refresh}}
  - {at: 0s, app: news, request: state, args: {state: background}}
  - {on: {app: poll, event: wake}, request: notify_complete, args: {name: poll}, count: 100000}
  - {on: {app: poll, event: unscheduled}, request: add, args: {name: poll, type: periodic}, count: 1000}
  - {on: {app: periodic, event: wake}, after: 1m, request: finish, args: {id: refresh, result: success}, count: 100000}
  - {on: {app: flaky, event: wake}, after: 1m, request: finish, args: {id: flaky, result: retry}, count: 100000}
  - {on: {app: news, event: wake, task: feed}, after: 10s, request: set_task_completed,
     args: {identifier: feed, success: true}, count: 100000}
  - {on: {app: news, event: wake, task: feed}, after: 1m, request: submit,
     args: {identifier: feed, type: refresh, earliest_begin_delay: 21600}, count: 100000}
expect:
  - {at: 399d..400d, app: poll, event: wake}
  - {at: 399d..400d, app: periodic, event: wake}
  - {at: 399d..400d, app: flaky, event: wake}
  - {at: 399d..400d, app: mail, event: wake}
  - {at: 399d..400d, app: news, event: wake}
until: 400d
"""


def test_simulate_runs_four_hundred_days_of_repeating_work(tmp_path: Path, capsys: Any) -> None:
    path = tmp_path / "longrun.yaml"
    path.write_text(SCENARIO)
    code = main(["simulate", str(path)])
    out = capsys.readouterr()
    assert "Traceback" not in out.out + out.err
    assert code == 0, out.out[-3000:] + out.err[-3000:]
