"""``simulate --plot`` (issue 13 item 3): what the PNG is drawn from."""

from __future__ import annotations

from pathlib import Path

import pytest

from wakebench.cli import main
from wakebench.plot import MARKERS, MIN_BAR_FRACTION, RUN_COLORS, SIGNAL_LANES, _spans

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"


def snap(t: float, **values: object) -> dict[str, object]:
    base: dict[str, object] = {"kind": "signals", "t": t, "battery_level": 80.0, "charger": "none",
                               "charging": False, "network": "wifi", "stale": []}
    return {**base, **values}


def test_charging_lane_is_derived_from_the_charger_when_the_snapshot_does_not_say() -> None:
    signals = [snap(0, charger="ac"), snap(60, charger="none"), snap(120, charger="usb", battery_level=100.0)]
    assert _spans(signals, "charging", 300) == [(0, 60, True), (60, 300, False)]  # full: not charging


def test_charger_is_its_own_lane_with_its_values() -> None:
    assert SIGNAL_LANES[0] == "charger"
    signals = [snap(0, charger="ac"), snap(300, charger="none")]
    assert _spans(signals, "charger", 600) == [(0, 300, "ac"), (300, 600, "none")]


def test_a_stale_signal_is_unknown_not_its_last_value() -> None:
    assert _spans([snap(0, charger="ac", stale=["charger"])], "charger", 10) == [(0, 10, "?")]


def test_terminate_has_its_own_slot_and_shape_apart_from_revoke() -> None:
    slots = {t: (m, dy) for t, (m, _, dy) in MARKERS.items()}
    assert slots["terminate"][1] != slots["revoke"][1] and slots["terminate"][0] != slots["revoke"][0]
    assert slots["wake"][1] != slots["expire"][1]
    assert set(RUN_COLORS) == {"finished", "rewake", "running", "expire", "revoke", "terminate", "unscheduled"}


def test_a_day_of_periodic_runs_gets_bars_of_visible_width() -> None:
    # a 25 s WP8 run in a 24 h plot, 1320 px wide at dpi 110: at least 4 px
    assert 86400 * MIN_BAR_FRACTION / 86400 * 1320 >= 4


@pytest.mark.parametrize("name", ["wp8-periodic.yaml", "demo.yaml", "ios-news-refresh-low-battery.yaml"])
def test_plot_writes_a_png_for_each_kind_of_run(tmp_path: Path, name: str, capsys: pytest.CaptureFixture[str]) -> None:
    png = tmp_path / "p.png"
    assert main(["simulate", str(SCENARIOS / name), "--plot", str(png)]) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
