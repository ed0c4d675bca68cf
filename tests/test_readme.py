"""The README's examples work as written."""

from __future__ import annotations

from pathlib import Path

from firmware_sim.scenario import parse_scenario
from firmware_sim.simulation import simulate

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_scenario_example_runs_and_meets_its_expectations() -> None:
    text = README.read_text(encoding="utf-8")
    block = text.split("## Scenario files", 1)[1].split("```yaml", 1)[1].split("```", 1)[0]
    result = simulate(parse_scenario(block, "README.md"))
    assert result.passed, [r.detail for r in result.expectations if not r.met]
    assert len(result.expectations) >= 3


def test_readme_names_only_files_that_exist() -> None:
    root = README.parent
    text = README.read_text(encoding="utf-8")
    for word in text.replace("`", " ").split():
        if word.startswith(("scenarios/", "deploy/", "bench/")) and "." in word:
            path = word.rstrip(".,:;)")
            assert (root / path).exists(), path
