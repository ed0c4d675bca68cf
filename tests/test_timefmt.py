"""The one copy of the terminal time and value helpers (``run``, ``simulate``, ``status``, ``watch``)."""

from __future__ import annotations

import ast
from pathlib import Path

from wakebench.timefmt import clock, stamp, value_text

ROOT = Path(__file__).resolve().parents[1]


def test_clock_and_stamp() -> None:
    assert clock(300) == "0:05:00"
    assert clock(86400 + 7200) == "1d 2:00:00"
    assert stamp(300.25) == "0:05:00.250"
    assert stamp(3) == "0:00:03.000"


def test_clock_rounds_to_the_millisecond_and_never_shows_sixty_seconds() -> None:
    # a battery crossing computed at 179.9996 s once printed as "0:02:60"
    assert clock(179.9996) == "0:03:00"
    assert clock(86399.9999) == "1d 0:00:00"
    assert clock(25.25) == "0:00:25.25"


def test_an_infinite_or_nan_time_reads_never() -> None:
    assert [clock(float("inf")), clock(float("nan")), stamp(float("inf"))] == ["never"] * 3


def test_values_read_as_typed_on_a_command_line() -> None:
    assert [value_text(v) for v in (True, False, 95.0, 0.5, "ac", 3, {"a": 1}, [1, 2])] == [
        "true", "false", "95", "0.5", "ac", "3", '{"a":1}', "[1,2]"]


def test_no_module_writes_its_own_copy() -> None:
    copies = []
    for path in sorted((ROOT / "wakebench").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef) and node.name in {"_fmt", "_stamp", "stamp"} \
                    and path.name != "timefmt.py":
                copies.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name}")
    assert copies == []


def test_stamp_rounds_to_the_millisecond_and_always_prints_three_digits() -> None:
    # 1.17 is 1.16999... as a float: truncating printed .169; a 0 ms digit must not be dropped
    assert stamp(1.17) == "0:00:01.170"
    assert stamp(59.9996) == "0:01:00.000"
    assert stamp(3.0) == "0:00:03.000"
