"""The suite's private-Mosquitto helper (``tests/mosquitto.py``), loaded by its path.

``import tests.mosquitto`` is not safe outside pytest: a test-only dependency of the suite
(Adafruit-GPIO, pulled in by pi-ina219) installs a regular package named ``tests`` into
site-packages, and a regular package wins over the repository's ``tests/`` directory (a
namespace package, no ``__init__.py``) wherever it sits on ``sys.path``.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

_PATH = Path(__file__).resolve().parents[1] / "tests" / "mosquitto.py"
_NAME = "wakebench_bench_mosquitto"

_spec = importlib.util.spec_from_file_location(_NAME, _PATH)
assert _spec is not None and _spec.loader is not None
_module = importlib.util.module_from_spec(_spec)
sys.modules[_NAME] = _module  # dataclasses look their module up while the class is built
_spec.loader.exec_module(_module)

Mosquitto = _module.Mosquitto
mosquitto_binary = _module.mosquitto_binary
