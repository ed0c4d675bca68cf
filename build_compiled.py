"""Compile the virtual-time core with mypyc (``make compiled``; issue 15's 0.5 s target).

Compiles ``firmware_sim.compiled.COMPILED_MODULES`` into extension modules beside their sources
(one shared library, ``firmware_sim/core__mypyc.*``, plus a small shim per module) and writes
``firmware_sim/_compiled.json`` with the sha256 of each source it compiled and of every project
module those import (``firmware_sim.compiled.type_sources``: the types compiled in), as read
*before* compiling, so an edit made during the build counts as stale. Every output is moved into place with ``os.replace``: a
running process keeps the library it mapped.

Without a C compiler, Python's headers or mypyc it removes any earlier build, prints one line
and exits 0: the pure-Python modules run, nothing else changes.

Run: ``.venv/bin/python build_compiled.py`` (``--sources``: print those sources, for make;
``--clean``: remove the build).
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import sys
import sysconfig
import time
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent
PACKAGE = ROOT / "firmware_sim"
BUILD_DIR = ROOT / "build" / "mypyc"
#: the shared library's module name (``firmware_sim/core__mypyc.<EXT_SUFFIX>``)
GROUP = "firmware_sim.core"


def _compiled_module() -> ModuleType:
    """``firmware_sim/compiled.py`` loaded by path: importing ``firmware_sim`` would load the
    build this script is about to replace."""
    spec = importlib.util.spec_from_file_location("_wakebench_compiled", PACKAGE / "compiled.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def _outputs(compiled: ModuleType) -> list[Path]:
    suffix = str(sysconfig.get_config_var("EXT_SUFFIX"))
    paths = [compiled.extension_path(m, PACKAGE) for m in compiled.COMPILED_MODULES]
    return [*paths, PACKAGE / f"core__mypyc{suffix}", PACKAGE / compiled.MANIFEST]


def clean(compiled: ModuleType) -> None:
    """Remove the compiled modules and the manifest (the pure modules run)."""
    for path in _outputs(compiled):
        path.unlink(missing_ok=True)


def missing_tools() -> str | None:
    """What this machine lacks to compile, or None."""
    cc = str(sysconfig.get_config_var("CC") or "cc").split()[0]
    if shutil.which(cc) is None:
        return f"no C compiler ({cc}; Debian: apt-get install gcc)"
    include = Path(str(sysconfig.get_paths()["include"]))
    if not (include / "Python.h").exists():
        return f"no Python headers ({include}/Python.h; Debian: apt-get install python3-dev)"
    if importlib.util.find_spec("mypyc") is None:
        return "no mypyc (pip install mypy)"
    return None


def build(compiled: ModuleType) -> float:
    """Compile and install the build; returns the seconds it took."""
    from mypyc.build import mypycify
    from setuptools import Distribution

    start = time.perf_counter()
    sources = {m: compiled.source_path(m, PACKAGE) for m in compiled.COMPILED_MODULES}
    digests = {p.relative_to(ROOT).as_posix(): compiled.sha256_of(p) for p in compiled.type_sources(ROOT)}
    os.chdir(ROOT)  # mypyc reads pyproject.toml's [tool.mypy] (strict) from here
    extensions = mypycify([str(p.relative_to(ROOT)) for p in sources.values()],
                          group_name=GROUP, target_dir=str(BUILD_DIR / "c"), opt_level="3")
    dist = Distribution({"name": "wakebench-core", "ext_modules": extensions})
    cmd = dist.get_command_obj("build_ext")
    cmd.build_lib = str(BUILD_DIR / "lib")  # type: ignore[attr-defined]
    cmd.build_temp = str(BUILD_DIR / "temp")  # type: ignore[attr-defined]
    cmd.ensure_finalized()
    cmd.run()
    for ext in extensions:
        built = Path(cmd.get_ext_fullpath(ext.name))
        target = ROOT.joinpath(*ext.name.split(".")).with_name(built.name)
        tmp = target.with_name(target.name + ".tmp")
        shutil.copyfile(built, tmp)
        os.replace(tmp, target)
    manifest = PACKAGE / compiled.MANIFEST
    tmp = manifest.with_name(manifest.name + ".tmp")
    tmp.write_text(json.dumps({"sources": digests, "ext_suffix": sysconfig.get_config_var("EXT_SUFFIX"),
                               "group": GROUP}, indent=1, sort_keys=True) + "\n")
    os.replace(tmp, manifest)
    return time.perf_counter() - start


def main(argv: list[str]) -> int:
    compiled = _compiled_module()
    if "--sources" in argv:
        print(" ".join(p.relative_to(ROOT).as_posix() for p in compiled.type_sources(ROOT)))
        return 0
    if "--clean" in argv:
        clean(compiled)
        return 0
    lacking = missing_tools()
    if lacking is not None:
        clean(compiled)
        print(f"compiled build skipped: {lacking}; the pure-Python modules run")
        return 0
    seconds = build(compiled)
    print(f"compiled build: {len(compiled.COMPILED_MODULES)} modules with mypyc in {seconds:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
