"""Issue 10 item 1 as a scenario author meets it: `wakebench simulate` with the seed's rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from wakebench.cli import main

XBOX = """\
name: xbox recorder
limits: {uwp: {device_family: xbox}}
initial: {charger: ac, idle: false}
apps:
  - {id: rec, platform: uwp}
steps:
  - {at: 0s, app: rec, request: request_extension, args: {reason: unspecified}}
  - {at: 1s, app: rec, request: state, args: {state: background}}
  - {at: 10m, set: {idle: true}}
expect:
  - {at: 0s, app: rec, event: wake, task: session-1}
  # seed 002: "On the Xbox OS Edition, the device enters Connect Standby after one hour"
  - {at: 1h10m, app: rec, event: revoke, task: session-1, reason: connected_standby}
until: 3h
"""


def test_xbox_device_family_simulates_and_meets_the_seed(tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "xbox.yaml"
    path.write_text(XBOX)
    assert main(["simulate", str(path)]) == 0, capsys.readouterr().out


@pytest.mark.parametrize("value", ["hololens", 3, None, ["xbox"]])
def test_a_bad_device_family_is_exit_2_with_one_line(tmp_path: Path, value: object,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(XBOX.replace("device_family: xbox", f"device_family: {value!r}".replace("'", "")))
    assert main(["simulate", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "bad.yaml" in err and "Traceback" not in err


FORCED_RUN = """\
name: force-run an Android job whose network is missing (adb shell cmd jobscheduler run -f)
initial: {charger: ac, network: none}
apps:
  - {id: photos, platform: android}
steps:
  - {at: 0s, app: photos, request: enqueue, args: {id: backup, constraints: {required_network_type: unmetered}}}
  - {at: 1m, app: photos, request: force_run, args: {task_id: backup}}
  - {at: 2m, app: photos, request: force_expire, args: {task_id: backup}}
expect:
  - {at: 1m, app: photos, event: wake, task: backup}
  - {at: 2m, app: photos, event: expire, task: backup, reason: timeout}
  - {at: 1m, app: photos, response: force_run, status: ok}
  - {app: photos, event: wake, count: 1}
until: 1h
"""


def test_debug_verbs_are_usable_from_scenarios(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "forced.yaml"
    path.write_text(FORCED_RUN)
    assert main(["simulate", str(path)]) == 0, capsys.readouterr().out
