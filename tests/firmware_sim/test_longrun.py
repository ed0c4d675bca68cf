"""Every platform's repeating work for 400 simulated days without an exception (issue 8 item 3).

Virtual time: the test drives the scheduler from one deadline to the next and answers the apps'
events as a prototype would. Before the fix, the Android worker that always returns ``retry``
overflowed ``2.0 ** (attempts - 1)`` after 1024 attempts (~214 days).
"""

from __future__ import annotations

from collections import Counter

from firmware_sim import Event, Scheduler, Signals

DAY = 86400.0
DAYS = 400
#: What the WP8 app does when opened: an agent expires 14 days after ``Add`` (seed 003), so the
#: app removes and adds it again (the documented renewal), then goes back to the background.
OPEN_WP8_APP: list[tuple[str, dict[str, object]]] = [
    ("state", {"state": "foreground"}), ("remove", {"name": "poll"}),
    ("add", {"name": "poll", "type": "periodic"}), ("state", {"state": "background"})]


def test_four_hundred_days_of_repeating_work() -> None:
    s = Scheduler(signals=Signals(battery_level=80, charger="ac", network="wifi",
                                  screen_locked=True), seed=3)
    setup = [
        ("wp8", "poll", "add", {"name": "poll", "type": "periodic"}),
        ("android", "periodic", "enqueue", {"type": "periodic", "id": "refresh",
                                            "repeat_interval": 900}),
        ("android2", "flaky", "enqueue", {"id": "flaky"}),
        ("harmonyos", "mail", "start_work", {"work_id": 1, "bundle_name": "mail",
                                             "ability_name": "Sync", "network_type": "wifi",
                                             "is_repeat": True,
                                             "repeat_cycle_time": 20 * 60 * 1000}),
        ("ios", "news", "submit", {"identifier": "feed", "type": "refresh"}),
    ]
    counts: Counter[tuple[str, str]] = Counter()
    last_wake: dict[str, float] = {}

    def answer(events: list[Event]) -> None:
        """What each prototype does with its events (replies may bring more events)."""
        todo = list(events)
        while todo:
            e = todo.pop(0)
            counts[(e.app, e.type)] += 1
            if e.type == "wake":
                last_wake[e.app] = e.t
            if e.type != "wake":
                continue
            reply: tuple[str, dict[str, object]] | None = None
            if e.app == "flaky":
                reply = ("finish", {"id": "flaky", "result": "retry"})
            elif e.app == "periodic":
                reply = ("finish", {"id": "refresh", "result": "success"})
            elif e.app == "poll":
                reply = ("notify_complete", {"name": "poll"})
            elif e.app == "news" and e.task_id == "feed":
                s.handle(e.t, "news", "set_task_completed", {"identifier": "feed", "success": True})
                reply = ("submit", {"identifier": "feed", "type": "refresh",
                                    "earliest_begin_delay": 3600})
            if reply is not None:
                r, more = s.handle(e.t, e.app, *reply)
                assert r.ok, (e, r)
                todo += more

    for platform, app, verb, args in setup:
        s.handle(0, app, "register", {"platform": platform.rstrip("2"), **(
            {"group": "active"} if platform == "harmonyos" else {})})
        r, events = s.handle(0, app, verb, args)
        assert r.ok, (app, r)
        answer(events)
    answer(s.handle(0, "news", "state", {"state": "background"})[1])
    next_day = DAY
    end = DAYS * DAY
    while True:
        at = s.next_deadline()
        if at is None or at > end:
            break
        if at >= next_day:  # once a day the WP8 app is opened and renews its 14-day agent
            for verb, args in OPEN_WP8_APP:
                r, events = s.handle(next_day, "poll", verb, args)
                assert r.ok, (verb, r)
                answer(events)
            next_day += DAY
            continue
        answer(s.advance(at))
    assert s.health() == (True, [])
    assert s.now >= end - DAY
    # the retrying worker went far past the 1024 attempts that used to overflow
    assert counts[("flaky", "wake")] > 1100
    # every repeating kind kept running to the end
    for app in ("poll", "periodic", "mail", "news"):
        assert counts[(app, "wake")] > DAYS, (app, counts)
        assert last_wake[app] >= (DAYS - 1) * DAY, (app, last_wake[app] / DAY)  # to the very end
    assert counts[("poll", "unscheduled")] == 0  # renewed every day, never expired
