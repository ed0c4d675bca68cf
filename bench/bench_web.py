"""Timeline renderer in headless Chromium (issue 13): 14 simulated days × 100 apps.

The records come from the same workload as bench_scheduler.py's 14-day run (every event, signal
change and response), written by ``wakebench.web.write_html`` into one self-contained page, opened
from file:// in Debian's chromium through Playwright. Measured with ``performance.now``:

1. first paint: navigation start → data parsed, model built and the first frame drawn
   (``window.timelineReadyMs``), and Chromium's own first-contentful-paint. Target ≤ 1 s.
2. redraw after a zoom / pan at several spans (``timeline.lastRenderMs`` of a synchronous render).
   Target ≤ 100 ms.

Run: ``.venv/bin/python bench/bench_web.py``
"""

from __future__ import annotations

import heapq
import random
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_scheduler import DAY, Later, app_activity, app_setup, register_all

from firmware_sim import Scheduler, Signals
from wakebench.web import write_html

CHROMIUM = "/usr/bin/chromium"
FIRST_PAINT_TARGET_MS = 1000.0
REDRAW_TARGET_MS = 100.0


def fourteen_days_records(n_apps: int = 100, days: int = 14) -> list[dict[str, Any]]:
    """bench_scheduler's 14-day workload, every output kept as a timeline record."""
    rng = random.Random(7)
    sched = Scheduler(signals=Signals(battery_level=80, charger="none", network="wifi"), seed=7)
    records: list[dict[str, Any]] = [{"kind": "signals", **sched.signals.to_dict()}]
    apps = register_all(sched, n_apps)
    for app, platform in apps.items():
        records.append({"kind": "app_state", "t": 0.0, "app": app, "platform": platform, "state": "foreground"})

    def keep(events: list[Any]) -> None:
        records.extend({"kind": "event", **e.to_dict()} for e in events)

    real_handle = sched.handle

    def handle(t: float, app: str, verb: str, args: dict[str, Any]) -> Any:
        response, events = real_handle(t, app, verb, args)
        records.append({"kind": "response", "t": t, "app": app, "verb": verb, "status": response.status,
                        "code": response.code, "data": response.data, "args": args})
        keep(events)
        return response, events

    sched.handle = handle  # type: ignore[method-assign]
    for i, (app, platform) in enumerate(apps.items()):
        app_setup(sched, app, platform, i)
    next_activity = {app: rng.uniform(0, 3600) for app in apps}
    level, t, end = 80.0, 0.0, days * DAY
    later: Later = []
    while t < end:
        t += 60.0
        while later and later[0][0] <= t:
            at, _, app, verb, args = heapq.heappop(later)
            sched.handle(at, app, verb, args())
        hour = (t % DAY) / 3600
        charging = hour < 7 or hour >= 22
        level = min(100.0, level + 0.25) if charging else max(5.0, level - 0.08)
        values: dict[str, Any] = {
            "battery_level": round(level, 1), "charger": "ac" if charging else "none",
            "charging": charging and level < 100, "screen_locked": not (8 <= hour < 22) or rng.random() < 0.6,
            "idle": hour < 6, "network": "cellular" if rng.random() < 0.05 else "wifi",
        }
        values["metered"] = values["network"] == "cellular"
        snap = sched.signals.updated(values, t=t)
        events = sched.set_signals(t, snap)
        records.append({"kind": "signals", **snap.to_dict()})
        keep(events)
        for app, platform in apps.items():
            if next_activity[app] <= t:
                app_activity(sched, app, platform, t, rng, later)
                next_activity[app] = t + rng.uniform(1800, 5400)
    keep(sched.advance(end))
    records.sort(key=lambda r: r["t"])
    return records


def main() -> int:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        print("skipped: playwright is not installed (pip install -e '.[dev]')")
        return 0
    if not Path(CHROMIUM).exists():
        print(f"skipped: {CHROMIUM} is not installed (Debian: apt-get install chromium)")
        return 0

    records = fourteen_days_records()
    n_events = sum(1 for r in records if r["kind"] == "event")
    with tempfile.TemporaryDirectory() as tmp:
        page_path = Path(tmp) / "timeline.html"
        write_html(records, page_path, title="14 days × 100 apps", until=14 * DAY)
        size_mb = page_path.stat().st_size / 1e6
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            ready, fcp = [], []
            for _ in range(3):
                page = browser.new_page(viewport={"width": 1400, "height": 900})
                page.goto(page_path.as_uri())
                page.wait_for_function("window.timelineReadyMs !== undefined")
                ready.append(page.evaluate("window.timelineReadyMs"))
                fcp.append(page.evaluate("new Promise(r => requestAnimationFrame(() => r(("
                                         "performance.getEntriesByName('first-contentful-paint')[0] || {})"
                                         ".startTime || NaN)))"))
                counts = page.evaluate("window.timeline.counts")
                if _ < 2:
                    page.close()
            spans = {"14 days (fit)": 14 * DAY, "1 day": DAY, "1 hour": 3600.0, "1 minute": 60.0}
            redraw: dict[str, list[float]] = {}
            for label, span in spans.items():
                times = []
                for k in range(10):
                    t0 = (k + 1) * DAY * 0.6 if span < 14 * DAY else 0.0
                    times.append(page.evaluate(
                        f"(() => {{ window.timeline.setView({t0}, {t0 + span}); return window.timeline.lastRenderMs; }})()"))
                redraw[label] = times
            pans = [page.evaluate("(() => { window.timeline.pan(3600); return window.timeline.lastRenderMs; })()")
                    for _ in range(10)]
            redraw["pan 1 h at 1 day"] = pans
            browser.close()
    print(f"records: {len(records):,} ({n_events:,} events, {counts['taskBars']:,} task runs, "
          f"{counts['apps']} apps), page {size_mb:.1f} MB\n")
    print("| measurement | median | max | target |")
    print("| --- | --- | --- | --- |")
    print(f"| first paint: navigation → data parsed + first frame drawn | {statistics.median(ready):.0f} ms "
          f"| {max(ready):.0f} ms | ≤ {FIRST_PAINT_TARGET_MS:.0f} ms |")
    print(f"| Chromium first-contentful-paint | {statistics.median(fcp):.0f} ms | {max(fcp):.0f} ms | |")
    for label, times in redraw.items():
        print(f"| redraw after zoom/pan: {label} | {statistics.median(times):.1f} ms | {max(times):.1f} ms "
              f"| ≤ {REDRAW_TARGET_MS:.0f} ms |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
