"""Project-wide promises: the dependency rule of DESIGN.md section 1, and one signal vocabulary.

``boards`` may not import ``firmware_sim``, so it restates the signal names and value sets of
DESIGN.md section 2; these tests keep the two copies identical and check every value the boards
layer accepts is accepted by the scheduler's :class:`~firmware_sim.Signals` too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import boards.spec as board_vocab
import firmware_sim.signals as sched_vocab
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


def test_scheduler_core_reads_no_wall_clock() -> None:
    allowed = {"clock.py", "driver.py"}
    for p in (ROOT / "firmware_sim").rglob("*.py"):
        if p.name in allowed:
            continue
        text = p.read_text(encoding="utf-8")
        for banned in ("time.time(", "time.monotonic(", "asyncio.sleep(", "datetime.now("):
            assert banned not in text, f"{p.name} calls {banned}"


def test_boards_and_scheduler_share_one_signal_vocabulary() -> None:
    assert board_vocab.SIGNAL_NAMES == sched_vocab.SIGNAL_NAMES
    assert tuple(board_vocab.CHARGERS) == sched_vocab.CHARGERS
    assert tuple(board_vocab.NETWORKS) == sched_vocab.NETWORKS


@pytest.mark.parametrize(
    ("name", "value"),
    [("charger", "usb"), ("network", "cellular"), ("battery_level", 42.5), ("idle", True),
     ("temperature", 31.0), ("charger", "diesel"), ("battery_level", 101), ("idle", "yes")],
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
