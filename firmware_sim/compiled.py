"""Which build of the virtual-time core runs: mypyc-compiled modules or their Python sources.

The pure-Python modules are the source and always work. ``make compiled`` (``build_compiled.py``)
compiles :data:`COMPILED_MODULES` with mypyc next to their sources (``<module>.<EXT_SUFFIX>``,
gitignored) and writes :data:`MANIFEST`: the sha256 of every source it compiled and of every
project module those import (:func:`type_sources`: the types compiled in). Python imports
an extension module before a ``.py`` of the same name, so a compiled module built from an older
source would silently shadow an edited one; :func:`install` (run first thing by
``firmware_sim/__init__.py``) prevents that:

- the compiled modules are used only when the manifest exists, every source's sha256 still
  matches it and every extension module is there for this Python;
- otherwise, or when :data:`PURE_ENV` is set (not ``""`` / ``"0"``), a :data:`sys.meta_path`
  finder loads every module of :data:`COMPILED_MODULES` from its ``.py`` (all or none: compiled
  modules call each other's native code), and an out-of-date build warns once
  (:class:`StaleBuildWarning`, naming the edited source and ``make compiled``).

:data:`BUILD` says which one runs (``bench_scheduler.py`` prints it). This module itself is never
compiled and imports only the standard library (``build_compiled.py`` loads it by path).
"""

from __future__ import annotations

import ast
import hashlib
import importlib.abc
import importlib.machinery
import importlib.util
import json
import os
import sys
import sysconfig
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, Final, TypeVar

__all__ = ["BUILD", "COMPILED_MODULES", "MANIFEST", "PACKAGE_DIR", "PURE_ENV", "Build",
           "StaleBuildWarning", "decide", "install", "mypyc_attr", "type_sources"]

#: The virtual-time core mypyc compiles (issue 15: the 14-day benchmark's hot path). Each
#: platform's limits and verb-argument models stay interpreted in ``platforms/<name>_spec.py``:
#: pydantic and ``dataclasses`` read annotations, validators and fields, which compiled classes
#: do not carry.
COMPILED_MODULES: Final[tuple[str, ...]] = (
    "firmware_sim.args",
    "firmware_sim.timers",
    "firmware_sim.events",
    "firmware_sim.signals",
    "firmware_sim.policy",
    "firmware_sim.workqueue",
    "firmware_sim.scheduler",
    "firmware_sim.platforms.android",
    "firmware_sim.platforms.capacitor",
    "firmware_sim.platforms.harmonyos",
    "firmware_sim.platforms.ios",
    "firmware_sim.platforms.uwp",
    "firmware_sim.platforms.wp8",
)
#: Set to anything but ``""`` / ``"0"``: the pure-Python modules run even when a fresh
#: compiled build is there (bench comparisons, debugging with breakpoints in the core).
PURE_ENV: Final = "WAKEBENCH_PURE_PYTHON"
#: The build's record of what it compiled, beside the sources (gitignored).
MANIFEST: Final = "_compiled.json"
#: Top-level packages whose modules the compiled ones may import (their types are compiled in).
_PROJECT_PACKAGES: Final = frozenset({"firmware_sim", "wbcommon"})
#: The package directory the modules live in.
PACKAGE_DIR: Final = Path(__file__).resolve().parent

T = TypeVar("T")


class StaleBuildWarning(UserWarning):
    """A compiled module is older than its source: the pure-Python modules run instead."""


@dataclass(frozen=True, slots=True)
class Build:
    """Which modules run: ``compiled`` (mypyc) or not, and why (one line)."""

    compiled: bool
    reason: str
    #: True when a compiled build exists but is out of date with its sources
    stale: bool = False

    def describe(self) -> str:
        """``"compiled (mypyc)"`` or ``"pure Python (<why>)"``."""
        return "compiled (mypyc)" if self.compiled else f"pure Python ({self.reason})"


def source_path(module: str, package_dir: Path = PACKAGE_DIR) -> Path:
    """The ``.py`` of ``firmware_sim.<name>`` in ``package_dir``."""
    return package_dir.joinpath(*module.split(".")[1:]).with_suffix(".py")


def extension_path(module: str, package_dir: Path = PACKAGE_DIR) -> Path:
    """Where the compiled ``firmware_sim.<name>`` lives for this Python (``EXT_SUFFIX``)."""
    suffix = str(sysconfig.get_config_var("EXT_SUFFIX"))
    return package_dir.joinpath(*module.split(".")[1:]).with_name(module.rsplit(".", 1)[1] + suffix)


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file's bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def type_sources(root: Path, modules: Sequence[str] = COMPILED_MODULES) -> list[Path]:
    """The compiled modules' sources and every project module they import, directly or not (the
    types mypyc compiled them against), as paths under ``root`` (the project directory)."""
    seen: dict[str, Path] = {}
    todo = list(modules)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        parts = name.split(".")
        path = root.joinpath(*parts).with_suffix(".py")
        if not path.exists():
            path = root.joinpath(*parts, "__init__.py")
            if not path.exists():
                continue  # a name imported from a package, not a module
        seen[name] = path
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            elif isinstance(node, ast.Import):
                found = [a.name for a in node.names]
            else:
                continue
            todo.extend(m for m in found if m.split(".")[0] in _PROJECT_PACKAGES)
    return sorted(seen.values())


def decide(package_dir: Path, environ: Mapping[str, str],
           modules: Sequence[str] = COMPILED_MODULES) -> Build:
    """Whether the compiled modules in ``package_dir`` may run (never raises): the manifest's
    sha256 of every source they were compiled against still holds."""
    if environ.get(PURE_ENV, "") not in ("", "0"):
        return Build(False, f"{PURE_ENV} is set")
    try:
        recorded = json.loads((package_dir / MANIFEST).read_text())["sources"]
        if not isinstance(recorded, dict):
            raise TypeError("sources is not a mapping")
    except FileNotFoundError:
        return Build(False, "not built: make compiled")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return Build(False, f"unreadable {MANIFEST} ({exc}): make compiled", stale=True)
    root = package_dir.parent
    for module in modules:
        if not extension_path(module, package_dir).exists():
            return Build(False, f"no compiled {module} for this Python: make compiled", stale=True)
        if source_path(module, package_dir).relative_to(root).as_posix() not in recorded:
            return Build(False, f"{module} is not in {MANIFEST}: make compiled", stale=True)
    for relative, digest in recorded.items():
        try:
            current = sha256_of(root / relative)
        except OSError:
            current = None
        if current != digest:
            return Build(False, f"{relative} changed since it was compiled: make compiled", stale=True)
    return Build(True, "mypyc")


class PureFinder(importlib.abc.MetaPathFinder):
    """Loads each of the given modules from its ``.py``, never from an extension module."""

    def __init__(self, sources: Mapping[str, Path]) -> None:
        self.sources = dict(sources)

    def find_spec(self, fullname: str, path: Sequence[str] | None = None,
                  target: ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        source = self.sources.get(fullname)
        if source is None:
            return None
        return importlib.util.spec_from_file_location(fullname, source)


def install(package_dir: Path = PACKAGE_DIR, environ: Mapping[str, str] = os.environ) -> Build:
    """Decide the build (:func:`decide`); unless compiled, put a :class:`PureFinder` first on
    :data:`sys.meta_path` (once) and warn once when the build is out of date."""
    build = decide(package_dir, environ)
    if not build.compiled:
        if not any(isinstance(f, PureFinder) for f in sys.meta_path):
            sys.meta_path.insert(0, PureFinder({m: source_path(m, package_dir) for m in COMPILED_MODULES}))
        if build.stale:
            warnings.warn(f"firmware_sim: running the pure-Python modules: {build.reason}",
                          StaleBuildWarning, stacklevel=2)
    return build


if TYPE_CHECKING:  # mypyc recognises the real decorator by its name
    from mypy_extensions import mypyc_attr
else:
    def mypyc_attr(*_args: Any, **_kwargs: Any) -> Callable[[T], T]:
        """Run-time stand-in for ``mypy_extensions.mypyc_attr``: the interpreter needs no
        ``mypy_extensions`` at run time, and this module is never compiled."""
        def keep(cls: T) -> T:
            return cls
        return keep


#: The build this process runs (decided at ``firmware_sim`` import; ``build_compiled.py`` loads
#: this file under another name and decides nothing).
BUILD: Build = install() if __name__ == "firmware_sim.compiled" else Build(False, "not decided")
