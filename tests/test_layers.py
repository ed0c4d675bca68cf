"""Project-wide promises: the dependency rule of DESIGN.md section 1, and one signal vocabulary.

The signal vocabulary lives once, in :mod:`wbcommon.signals`; ``boards`` and ``firmware_sim``
both import it. These tests check neither layer restates it and that every value the boards
layer accepts is accepted by the scheduler's :class:`~firmware_sim.Signals` too (and the
other way round).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import boards.spec as board_vocab
import firmware_sim.signals as sched_vocab
import wbcommon.signals
from firmware_sim import SignalError, Signals

ROOT = Path(__file__).resolve().parents[1]

#: package -> packages it must never import (DESIGN.md section 1)
FORBIDDEN = {
    "wbcommon": {"firmware_sim", "hal", "boards", "mqtt_bridge", "wakebench", "aiomqtt", "gpiozero", "smbus2"},
    "firmware_sim": {"hal", "boards", "mqtt_bridge", "wakebench", "aiomqtt", "paho", "gpiozero", "smbus2"},
    "hal": {"firmware_sim", "boards", "mqtt_bridge", "wakebench"},
    "boards": {"firmware_sim", "mqtt_bridge", "wakebench"},
    "mqtt_bridge": {"hal", "boards", "wakebench"},
}


def imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_imports_only_point_down_the_layers(package: str) -> None:
    offenders = {
        str(p.relative_to(ROOT)): sorted(imported_roots(p) & FORBIDDEN[package])
        for p in (ROOT / package).rglob("*.py")
        if imported_roots(p) & FORBIDDEN[package]
    }
    assert offenders == {}


def test_the_bridge_asks_the_driver_never_the_scheduler() -> None:
    """Issue #15 item 7: the bridge goes through the driver's small query API (``epoch``,
    ``app_ids``, ``has_app``, ``tasks``, ``app_state``, ``now``) and never reads the scheduler."""
    offenders = [
        f"{p.relative_to(ROOT)}:{node.lineno}"
        for p in sorted((ROOT / "mqtt_bridge").rglob("*.py"))
        for node in ast.walk(ast.parse(p.read_text(encoding="utf-8")))
        if isinstance(node, ast.Attribute) and node.attr == "scheduler"
    ]
    assert offenders == []


def test_scheduler_core_reads_no_wall_clock() -> None:
    allowed = {"clock.py", "driver.py"}
    for p in (ROOT / "firmware_sim").rglob("*.py"):
        if p.name in allowed:
            continue
        text = p.read_text(encoding="utf-8")
        for banned in ("time.time(", "time.monotonic(", "asyncio.sleep(", "datetime.now("):
            assert banned not in text, f"{p.name} calls {banned}"


def test_the_vocabulary_is_defined_once_in_wbcommon() -> None:
    # the same objects, not equal copies
    assert board_vocab.SIGNAL_NAMES is sched_vocab.SIGNAL_NAMES is wbcommon.signals.SIGNAL_NAMES
    assert board_vocab.CHARGERS is sched_vocab.CHARGERS is wbcommon.signals.CHARGERS
    for package in ("boards", "firmware_sim"):
        for p in (ROOT / package).rglob("*.py"):
            text = p.read_text(encoding="utf-8")
            assert '"low_power_mode",\n    "battery_saver"' not in text, f"{p} restates the names"
            assert '"none", "wifi", "ethernet"' not in text, f"{p} restates the network kinds"


@pytest.mark.parametrize(
    ("name", "value"),
    [("charger", "usb"), ("network", "cellular"), ("battery_level", 42.5), ("idle", True),
     ("temperature", 31.0), ("charger", "diesel"), ("battery_level", 101), ("idle", "yes"),
     # the two copies used to disagree on these (issue #15.3)
     ("temperature", 200.0), ("temperature", -41.0), ("voltage", None), ("current", None),
     ("temperature", None), ("battery_level", None), ("warp", 1), ("charging", 1)],
)
def test_boards_and_scheduler_agree_on_values(name: str, value: object) -> None:
    try:
        board_vocab.check_value(name, value)
        boards_ok = True
    except ValueError:
        boards_ok = False
    try:
        Signals().updated({name: value})
        sched_ok = True
    except SignalError:
        sched_ok = False
    assert boards_ok == sched_ok


def test_every_default_battery_threshold_is_a_decision_level() -> None:
    """A gauge reading crossing a level a platform decides on is confirmed by a re-read
    (wbcommon.signals.BATTERY_DECISION_LEVELS_PCT = 15, 20, 90): Android 15 % + 5 % bump,
    HarmonyOS 20 %, iOS 20 %, WP8 resource-intensive above 90 %."""
    from firmware_sim.platforms.android import AndroidLimits
    from firmware_sim.platforms.harmonyos import HarmonyOSLimits
    from firmware_sim.platforms.ios import IOSLimits
    from firmware_sim.platforms.wp8 import WP8Limits

    android = AndroidLimits()
    used = {
        android.battery_low_level,
        android.battery_low_level + android.battery_okay_bump,
        HarmonyOSLimits().battery_low_level,
        IOSLimits().critical_battery_pct,
        WP8Limits().resource_intensive_min_battery_pct,
    }
    assert used == set(wbcommon.signals.BATTERY_DECISION_LEVELS_PCT)
