"""``simulate --junit`` and ``run --scenario ... --junit``: one test case per expectation, valid
against the JUnit XML schema Jenkins uses (tests/lab/jenkins-junit.xsd)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.conftest import _require_mosquitto
from tests.rig.helpers import ROOT, RigProcess, unique_rig
from wakebench.cli import main

xmlschema = pytest.importorskip("xmlschema")
SCHEMA = xmlschema.XMLSchema(str(Path(__file__).with_name("jenkins-junit.xsd")))

#: one expectation met, one not (the revoke reason is wrong), one absence
SCENARIO = """\
name: junit report
seed: 1
board: sim
initial: {battery_level: 95, charger: ac, network: wifi, screen_locked: true, on_call: false}
apps:
  - {id: mail, platform: wp8}
steps:
  - {at: 0s, app: mail, request: add, args: {name: sync, type: resource_intensive}}
  - {at: 3m, set: {charger: none}}
expect:
  - {at: 0s, app: mail, event: wake, task: sync}
  - {at: 3m, app: mail, event: revoke, task: sync, reason: network_lost}
  - {app: mail, event: expire, count: 0}
until: 6m
"""


def _cases(path: Path) -> list[ET.Element]:
    SCHEMA.validate(str(path))  # raises XMLSchemaValidationError naming the element
    return ET.parse(path).findall("./testsuite/testcase")


def test_simulate_junit_has_one_case_per_expectation_with_line_and_failure(tmp_path: Path) -> None:
    scenario = tmp_path / "s.yaml"
    scenario.write_text(SCENARIO, encoding="utf-8")
    report = tmp_path / "report.xml"
    assert main(["simulate", str(scenario), "--junit", str(report)]) == 1
    cases = _cases(report)
    assert [c.get("name", "").split(":")[0] for c in cases] == ["line 11", "line 12", "line 13"]
    assert [c.find("failure") is not None for c in cases] == [False, True, False]
    failure = cases[1].find("failure")
    assert failure is not None and "0 matching revoke events" in failure.get("message", "")
    assert f"{scenario}:12:" in (failure.text or "")
    suite = ET.parse(report).getroot().find("testsuite")
    assert suite is not None and (suite.get("tests"), suite.get("failures")) == ("3", "1")


@pytest.mark.parametrize("name", sorted(p.name for p in (ROOT / "scenarios").glob("*.yaml")))
def test_every_shipped_scenario_gives_a_valid_all_green_report(tmp_path: Path, name: str) -> None:
    report = tmp_path / "r.xml"
    assert main(["simulate", str(ROOT / "scenarios" / name), "--junit", str(report)]) == 0
    cases = _cases(report)
    assert cases and all(c.find("failure") is None for c in cases)


def test_an_unwritable_report_is_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", str(ROOT / "scenarios" / "wp8-periodic-cap.yaml"),
                 "--junit", str(tmp_path / "missing" / "r.xml")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("wakebench simulate: cannot write ") and err.count("\n") == 1


@pytest.mark.broker
async def test_run_scenario_junit_validates(tmp_path: Path) -> None:
    _require_mosquitto()
    scenario = tmp_path / "s.yaml"
    scenario.write_text(SCENARIO, encoding="utf-8")
    report = tmp_path / "live.xml"
    proc = await RigProcess("--board", "sim", "--speed", "600", "--rig", unique_rig("junit"),
                            "--scenario", str(scenario), "--junit", str(report)).start()
    try:
        assert await proc.wait(within=60) == 1, proc.output  # the wrong reason is not met
    finally:
        await proc.kill()
    cases = _cases(report)
    assert len(cases) == 3 and cases[1].find("failure") is not None
    assert any(p.get("value") == "run" for p in ET.parse(report).iter("property"))
