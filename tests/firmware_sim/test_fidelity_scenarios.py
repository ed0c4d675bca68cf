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
