"""No module of the project over ~500 lines without a reason stated in its docstring (issue 15).

A module that grows past :data:`MAX_LINES` must either be split by job or say why not, with a
paragraph starting "Over 500 lines on purpose" in its module docstring.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("firmware_sim", "hal", "boards", "mqtt_bridge", "wakebench", "wbcommon")
#: The issue's "~500 lines"; tests and benchmarks are not held to it.
MAX_LINES = 500
REASON = "Over 500 lines on purpose"

MODULES = sorted(p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_a_long_module_states_why(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    lines = text.count("\n")
    if lines <= MAX_LINES:
        return
    docstring = ast.get_docstring(ast.parse(text)) or ""
    assert REASON in docstring, (
        f"{path.relative_to(ROOT)} has {lines} lines: split it by job, or say why not in its "
        f"docstring with a paragraph starting {REASON!r}")
