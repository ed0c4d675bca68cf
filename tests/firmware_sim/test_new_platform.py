"""CONTRIBUTING "How to add a platform" (issue 15): a platform is ONE new module (its limits, its
verbs' argument models and its policy) plus its registration in ``firmware_sim/platforms``. This
test does exactly that to a copy of the package: it writes a made-up ``tizen`` module, adds its
registration, and drives it through the scheduler in a fresh process. The ``<name>_spec.py``
split is needed only to compile the platform itself (CONTRIBUTING "Compiled build"); the copy
carries no compiled modules, so it also shows the pure core serving a new platform unchanged.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import firmware_sim
from firmware_sim.compiled import MANIFEST

ROOT = Path(firmware_sim.__file__).resolve().parents[1]

TIZEN = '''\
"""A made-up platform: a job runs at once (``wake``) and expires after ``job_s``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from firmware_sim.errors import RequestError
from firmware_sim.limits import Limits, limit
from firmware_sim.policy import App, Policy
from firmware_sim.verbargs import Id, VerbArgs, arg

SEED = "made up for this test"


@dataclass(frozen=True)
class TizenLimits(Limits):
    """The made-up platform's one limit."""

    job_s: float = limit(60.0, "s", f"UNCONFIRMED: {SEED}", "time a job may run before it expires")


class StartJobArgs(VerbArgs):
    """``start_job``: run a job now."""

    job_id: Id = arg(doc="the job's id")


class TizenPolicy(Policy):
    """A job runs at once (``wake``) and expires after ``job_s``."""

    platform = "tizen"
    limits_type = TizenLimits
    limits: TizenLimits

    def __init__(self, ctx: Any, limits: Limits) -> None:
        super().__init__(ctx, limits)
        self._jobs: dict[tuple[str, str], float] = {}

    def verb_start_job(self, app: App, args: StartJobArgs) -> dict[str, Any]:
        if (app.id, args.job_id) in self._jobs:
            raise RequestError("task_exists", f"job {args.job_id!r} is running")
        deadline = self.ctx.now + self.limits.job_s
        self._jobs[(app.id, args.job_id)] = deadline
        self.ctx.call_at(deadline, lambda: self._expire(app.id, args.job_id), app=app.id,
                         task=args.job_id)
        self.ctx.emit("wake", app, args.job_id, deadline=deadline)
        return {"job_id": args.job_id, "deadline": deadline}

    def _expire(self, app_id: str, job_id: str) -> None:
        deadline = self._jobs.pop((app_id, job_id))
        self.ctx.emit("expire", self.ctx.app(app_id), job_id, reason="time_limit", deadline=deadline)
'''

#: "Registration: one line in POLICIES" (and the import it needs)
IMPORT = "from firmware_sim.platforms.tizen import TizenPolicy\n"
ENTRY = '    "tizen": TizenPolicy,\n'

DRIVE = textwrap.dedent("""
    from firmware_sim import Scheduler, Signals
    s = Scheduler(signals=Signals(battery_level=50), seed=1)
    assert s.handle(0, "app", "register", {"platform": "tizen"})[0].ok
    r, events = s.handle(5, "app", "start_job", {"job_id": "sync"})
    assert r.ok and r.data == {"job_id": "sync", "deadline": 65.0}, r
    assert [(e.type, e.task_id, e.seq) for e in events] == [("wake", "sync", 1)]
    assert [(e.type, e.t, e.reason) for e in s.advance(65)] == [("expire", 65.0, "time_limit")]
    bad, _ = s.handle(70, "app", "start_job", {"job_id": ""})
    assert (bad.ok, bad.code) == (False, "invalid_args"), bad  # its model checks its arguments
    assert s.limits("tizen").job_s == 60.0
    import firmware_sim
    print("ok", s.apps["app"].platform, firmware_sim.__file__)
""")


def test_a_platform_is_one_new_module_and_its_registration(tmp_path: Path) -> None:
    for package in ("firmware_sim", "wbcommon"):
        shutil.copytree(ROOT / package, tmp_path / package,
                        ignore=shutil.ignore_patterns("*.so", "__pycache__", MANIFEST))
    platforms = tmp_path / "firmware_sim" / "platforms"
    (platforms / "tizen.py").write_text(TIZEN)
    init = (platforms / "__init__.py").read_text()
    init = init.replace("from firmware_sim.policy import Policy\n",
                        IMPORT + "from firmware_sim.policy import Policy\n")
    init = init.replace('    "android": AndroidPolicy,\n', '    "android": AndroidPolicy,\n' + ENTRY)
    assert IMPORT in init and ENTRY in init
    (platforms / "__init__.py").write_text(init)
    done = subprocess.run([sys.executable, "-c", DRIVE], cwd=tmp_path, capture_output=True, text=True,
                          check=False, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split() == ["ok", "tizen", str(tmp_path / "firmware_sim" / "__init__.py")]
