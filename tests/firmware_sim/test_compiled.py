"""The compiled build's guard (firmware_sim/compiled.py, CONTRIBUTING "Compiled build"): a
compiled module never shadows an edited source, WAKEBENCH_PURE_PYTHON forces the pure modules,
and the process says which build it runs."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

import firmware_sim
from firmware_sim.compiled import (
    BUILD,
    COMPILED_MODULES,
    MANIFEST,
    PACKAGE_DIR,
    PURE_ENV,
    decide,
    type_sources,
)
from firmware_sim.platforms import POLICIES

SUFFIX = str(sysconfig.get_config_var("EXT_SUFFIX"))
ROOT = PACKAGE_DIR.parent
built = pytest.mark.skipif(not (PACKAGE_DIR / MANIFEST).exists(),
                           reason="no compiled build here (make compiled; needs a C compiler)")


def _fake_build(tmp_path: Path) -> Path:
    """A package ``firmware_sim`` with modules a (compiled) and b (imported by a), built."""
    pkg = tmp_path / "firmware_sim"
    pkg.mkdir(parents=True)
    (pkg / "a.py").write_text("from firmware_sim.b import X\n")
    (pkg / "b.py").write_text("X = 1\n")
    (pkg / f"a{SUFFIX}").write_bytes(b"")
    sources = {f"firmware_sim/{n}": hashlib.sha256((pkg / n).read_bytes()).hexdigest() for n in ("a.py", "b.py")}
    (pkg / MANIFEST).write_text(json.dumps({"sources": sources}))
    return pkg


MODULES = ("firmware_sim.a",)


def test_a_fresh_build_runs_compiled(tmp_path: Path) -> None:
    pkg = _fake_build(tmp_path)
    assert decide(pkg, {}, MODULES).compiled
    assert decide(pkg, {PURE_ENV: "0"}, MODULES).compiled  # "0" is not set


def test_an_edited_source_or_dependency_runs_pure_and_says_which(tmp_path: Path) -> None:
    pkg = _fake_build(tmp_path)
    (pkg / "b.py").write_text("X = 2\n")
    build = decide(pkg, {}, MODULES)
    assert (build.compiled, build.stale) == (False, True)
    assert build.reason == "firmware_sim/b.py changed since it was compiled: make compiled"
    pkg = _fake_build(tmp_path / "again")
    (pkg / "a.py").write_text("from firmware_sim.b import X  # edited\n")
    assert decide(pkg, {}, MODULES).reason == "firmware_sim/a.py changed since it was compiled: make compiled"


def test_a_missing_extension_or_manifest_runs_pure(tmp_path: Path) -> None:
    pkg = _fake_build(tmp_path)
    (pkg / f"a{SUFFIX}").unlink()
    assert decide(pkg, {}, MODULES).reason == "no compiled firmware_sim.a for this Python: make compiled"
    (pkg / MANIFEST).unlink()
    build = decide(pkg, {}, MODULES)
    assert (build.compiled, build.stale, build.reason) == (False, False, "not built: make compiled")
    assert build.describe() == "pure Python (not built: make compiled)"


def test_the_environment_variable_forces_pure(tmp_path: Path) -> None:
    build = decide(_fake_build(tmp_path), {PURE_ENV: "1"}, MODULES)
    assert (build.compiled, build.stale, build.reason) == (False, False, f"{PURE_ENV} is set")


def test_the_manifest_covers_what_the_compiled_modules_import() -> None:
    paths = {p.relative_to(ROOT).as_posix() for p in type_sources(ROOT)}
    assert {f"{m.replace('.', '/')}.py" for m in COMPILED_MODULES} <= paths
    assert {"firmware_sim/verbargs.py", "firmware_sim/platforms/wp8_spec.py", "wbcommon/signals.py"} <= paths
    assert not {"firmware_sim/journal.py", "firmware_sim/driver.py", "firmware_sim/clock.py"} & paths


def test_this_process_runs_the_build_it_reports() -> None:
    assert decide(PACKAGE_DIR, os.environ) == BUILD == firmware_sim.BUILD
    for module in COMPILED_MODULES:
        assert str(sys.modules[module].__file__).endswith(SUFFIX if BUILD.compiled else ".py"), module


def _run(code: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k != PURE_ENV} | env
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, env=environ, capture_output=True,
                          text=True, timeout=120, check=True)


_WHICH = ("import importlib, json, firmware_sim; from firmware_sim.compiled import COMPILED_MODULES; "
          "print(json.dumps([firmware_sim.BUILD.compiled, firmware_sim.BUILD.reason, "
          "[importlib.import_module(m).__file__ for m in COMPILED_MODULES]]))")


def test_the_environment_variable_loads_every_pure_module() -> None:
    compiled, reason, files = json.loads(_run(_WHICH, ROOT, **{PURE_ENV: "1"}).stdout)
    assert (compiled, reason) == (False, f"{PURE_ENV} is set")
    assert all(f.endswith(".py") for f in files)


@built
def test_a_stale_compiled_module_never_shadows_its_edited_source(tmp_path: Path) -> None:
    project = tmp_path / "project"
    for package in ("firmware_sim", "wbcommon"):
        shutil.copytree(ROOT / package, project / package, ignore=shutil.ignore_patterns("__pycache__"))
    fresh = _run(_WHICH, project)
    assert json.loads(fresh.stdout)[0] is True, fresh.stderr
    assert all(f.endswith(SUFFIX) for f in json.loads(fresh.stdout)[2])
    with (project / "firmware_sim" / "scheduler.py").open("a") as f:
        f.write("# edited after make compiled\n")
    stale = _run(_WHICH, project)
    compiled, reason, files = json.loads(stale.stdout)
    assert (compiled, reason) == (False, "firmware_sim/scheduler.py changed since it was compiled: make compiled")
    assert files == [str(project / m.replace(".", "/")) + ".py" for m in COMPILED_MODULES]
    assert stale.stderr.count("StaleBuildWarning") == 1  # warned once


def test_verb_models_are_the_same_in_both_builds() -> None:
    """A compiled method carries no annotations: Policy.arg_models reads them from the source."""
    code = ("import json; from firmware_sim.platforms import POLICIES; print(json.dumps({p: {v: m.__qualname__ "
            "+ '@' + m.__module__ for v, m in c.arg_models().items()} for p, c in POLICIES.items()}))")
    here = {p: {v: f"{m.__qualname__}@{m.__module__}" for v, m in c.arg_models().items()}
            for p, c in POLICIES.items()}
    assert json.loads(_run(code, ROOT, **{PURE_ENV: "1"}).stdout) == here
    assert here["android"]["enqueue"] == "EnqueueArgs@firmware_sim.platforms.android_spec"


def test_wakebench_version_says_which_build_runs() -> None:
    version = [sys.executable, "-c", "from wakebench.cli import main; main(['--version'])"]
    out = subprocess.run(version, capture_output=True, text=True, env={**os.environ, PURE_ENV: "1"},
                         check=True, cwd=ROOT).stdout
    assert out.strip().endswith(f"scheduler core pure Python ({PURE_ENV} is set)")
    out = subprocess.run(version, capture_output=True, text=True, check=True, cwd=ROOT).stdout
    assert out.strip().endswith(f"scheduler core {BUILD.describe()}")


def test_a_scheduler_reads_every_verb_model_before_the_first_request() -> None:
    """Reading a compiled policy's verb models parses its source (213 ms for the six when it was
    done per verb on each platform's first request, which made a live demo's first steps 0.25 s
    late at ×60): a Scheduler reads them all when it is built, each source parsed once."""
    from firmware_sim import Scheduler, Signals, policy

    policy._MODELS.clear()
    policy._SOURCE_ANNOTATIONS.clear()
    Scheduler(signals=Signals())
    assert set(policy._MODELS) == set(POLICIES.values())
    compiled_policies = {c.__module__ for c in POLICIES.values()} if BUILD.compiled else set()
    # each compiled policy module parsed once (and policy.py, for the base class's configure_app)
    assert set(policy._SOURCE_ANNOTATIONS) - {"firmware_sim.policy"} == compiled_policies
    assert all(POLICIES[n].arg_models() is policy._MODELS[POLICIES[n]] for n in POLICIES)
