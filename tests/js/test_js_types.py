"""The hand-written typings of clients/js compile: ``tsc -p clients/js`` (strict) checks
test/types-check.ts, which uses every facade as platform code would and expects the errors the
real APIs' types give (``@ts-expect-error`` lines fail the build when the typings let them pass)."""

from __future__ import annotations

import subprocess

import pytest

from tests.js.rig import JS_DIR, node_or_skip

TSC_TIMEOUT_S = 120


def test_typings_compile_strictly() -> None:
    node = node_or_skip()
    tsc = JS_DIR / "node_modules" / "typescript" / "bin" / "tsc"
    if not tsc.exists():
        pytest.skip("typescript is not installed in clients/js (npm ci installs the devDependencies)")
    done = subprocess.run([node, str(tsc), "-p", "."], cwd=JS_DIR, capture_output=True, text=True,
                          timeout=TSC_TIMEOUT_S, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
