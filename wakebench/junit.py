"""JUnit XML for a scenario's expectations, for Jenkins' and GitLab's test reports.

One ``<testsuite>`` per scenario (``name`` = the scenario's name, ``package`` = its file), one
``<testcase>`` per expectation: ``name`` is ``line N: key=value, ...`` (the schema Jenkins
validates against, jenkins-junit.xsd, has no ``line`` or ``file`` attribute on a test case, so
the line is in the name), ``classname`` is the scenario file with dots for separators (Jenkins
groups by it), the detail is the test case's ``system-out``, and an unmet expectation carries a
``<failure>`` whose ``message`` is that detail. ``time`` is the scenario's rig time in seconds
on the suite (expectations are checked together at ``until``, so each case reports 0).
Schema: https://github.com/junit-team/junit5/blob/main/platform-tests/src/test/resources/jenkins-junit.xsd
"""

from __future__ import annotations

import os
import socket
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from firmware_sim.scenario import Scenario
from firmware_sim.simulation import ExpectationResult

__all__ = ["junit_xml", "write_junit"]


def _describe(result: ExpectationResult) -> str:
    what = ", ".join(f"{k}={v}" for k, v in result.expect.raw.items())
    return f"line {result.expect.line}: {what}"


def junit_xml(scenario: Scenario, results: Sequence[ExpectationResult], *, mode: str = "simulate") -> bytes:
    """The report as UTF-8 XML bytes (``mode``: ``simulate`` or ``run``, recorded as a property)."""
    failures = sum(not r.met for r in results)
    classname = os.path.splitext(str(scenario.path))[0].replace(os.sep, ".").strip(".") or "scenario"
    root = ET.Element("testsuites", name="wakebench", tests=str(len(results)), failures=str(failures),
                      errors="0", time=f"{scenario.until:g}")
    suite = ET.SubElement(root, "testsuite", name=scenario.name, tests=str(len(results)),
                          failures=str(failures), errors="0", skipped="0", time=f"{scenario.until:g}",
                          timestamp=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S"),
                          hostname=socket.gethostname(), package=str(scenario.path))
    props = ET.SubElement(suite, "properties")
    for name, value in (("mode", mode), ("seed", str(scenario.seed)), ("board", scenario.board),
                        ("until_s", f"{scenario.until:g}")):
        ET.SubElement(props, "property", name=name, value=value)
    for result in results:
        case = ET.SubElement(suite, "testcase", name=_describe(result), classname=classname, time="0",
                             status="met" if result.met else "not met")
        if not result.met:
            failure = ET.SubElement(case, "failure", type="ExpectationNotMet", message=result.detail)
            failure.text = f"{scenario.path}:{result.expect.line}: {result.detail}"
        ET.SubElement(case, "system-out").text = result.detail
    ET.indent(root)
    text: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return text + b"\n"


def write_junit(path: str | os.PathLike[str], scenario: Scenario, results: Sequence[ExpectationResult], *,
                mode: str = "simulate") -> None:
    """Write :func:`junit_xml` to ``path`` (atomically: a temporary file, then a rename).

    Raises:
        OSError: the file cannot be written.
    """
    target = Path(path)
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_bytes(junit_xml(scenario, results, mode=mode))
    os.replace(tmp, target)
