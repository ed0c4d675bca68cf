"""The ``--html`` file in a real headless Chromium (Debian ``chromium`` driven by Playwright): it
opens from file:// without network and without console errors, and draws one bar per task run and
one marker per event (``window.timeline.counts``)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from firmware_sim.scenario import load_scenario
from firmware_sim.simulation import simulate
from wakebench.records import from_simulation
from wakebench.runs import task_runs
from wakebench.web import write_html

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

sync_api = pytest.importorskip("playwright.sync_api")
if not Path(CHROMIUM).exists():
    pytest.skip("chromium is not installed (Debian: apt-get install chromium)", allow_module_level=True)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


def _open(browser: Any, path: Path) -> tuple[Any, list[str], list[str]]:
    page = browser.new_page(viewport={"width": 1200, "height": 2400})
    errors: list[str] = []
    requests: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: requests.append(r.url) if not r.url.startswith(("file:", "data:")) else None)
    page.goto(path.as_uri())
    page.wait_for_function("window.timeline !== undefined")
    return page, errors, requests


@pytest.mark.parametrize("name", ["demo.yaml", "wp8-periodic.yaml", "wp8-resource-intensive.yaml"])
def test_html_opens_offline_without_errors_and_draws_every_run_and_event(
    browser: Any, tmp_path: Path, name: str
) -> None:
    result = simulate(load_scenario(SCENARIOS / name))
    records = from_simulation(result)
    out = tmp_path / "t.html"
    write_html(records, out, title=result.scenario.name, until=result.scenario.until)
    page, errors, requests = _open(browser, out)
    counts = page.evaluate("window.timeline.counts")
    assert errors == [] and requests == []
    assert counts["events"] == counts["markers"] == len(result.events)
    assert counts["taskBars"] == len(task_runs(records, result.scenario.until))
    assert counts["apps"] == len(result.scenario.apps)
    assert counts["drawn"]["bars"] >= 1 and counts["drawn"]["markers"] >= 1
    page.screenshot(path=str(tmp_path / "timeline.png"))
    page.close()


def test_zoom_and_pan_redraw_without_errors(browser: Any, tmp_path: Path) -> None:
    result = simulate(load_scenario(SCENARIOS / "wp8-periodic.yaml"))
    out = tmp_path / "t.html"
    write_html(from_simulation(result), out, title="periodic", until=result.scenario.until)
    page, errors, _ = _open(browser, out)
    full = page.evaluate("window.timeline.counts.drawn.markers")
    page.evaluate("window.timeline.setView(3600, 7200)")  # one hour of a day: a few runs
    hour = page.evaluate("window.timeline.counts.drawn.markers")
    assert 0 < hour < full
    page.evaluate("window.timeline.zoom(1e9)")  # clamped at 60 days, never breaks
    span = page.evaluate("window.timeline.t1 - window.timeline.t0")
    assert span == 60 * 86400
    page.evaluate("window.timeline.pan(-1e6); window.timeline.fit()")
    assert page.evaluate("window.timeline.counts.drawn.markers") == full
    assert errors == []
    page.close()


def test_push_adds_records_one_by_one_as_the_live_view_will(browser: Any, tmp_path: Path) -> None:
    result = simulate(load_scenario(SCENARIOS / "wp8-resource-intensive.yaml"))
    records = from_simulation(result)
    out = tmp_path / "t.html"
    write_html([], out, title="live", until=None)
    page, errors, _ = _open(browser, out)
    page.evaluate("(recs) => { for (const r of recs) window.timeline.push(r); window.timeline.render(); }", records)
    counts = page.evaluate("window.timeline.counts")
    assert counts["events"] == len(result.events)
    assert counts["taskBars"] == 1 and counts["drawn"]["bars"] == 1
    assert errors == []
    page.close()
