"""One validation approach (issue 15 item 6): rig TOML, board TOML and scenario YAML are pydantic
models (:mod:`wbcommon.validation`), results are typed, and a bad value anywhere in a file is ONE
error naming file, line and field path."""

from __future__ import annotations

import typing
from pathlib import Path

import pytest
import yaml
from pydantic import BaseModel, ValidationError, model_validator

import boards.config
import firmware_sim.scenario_file
import wakebench.rigfile
from boards import BoardConfigError, load_board_file
from boards.config import BoardTable
from firmware_sim import ScenarioError
from firmware_sim.scenario import parse_scenario
from firmware_sim.scenario_file import ScenarioFile
from wakebench.cli import main
from wakebench.config import RigConfigError, load_config
from wakebench.rigfile import RigFile
from wbcommon.signals import TEMP_MAX_C
from wbcommon.validation import (
    InvalidFieldError,
    Strict,
    first_error,
    join_path,
    line_of,
    parent_path,
    toml_lines,
    yaml_document,
)

# -- the machinery ----------------------------------------------------------------------------


def test_paths_join_and_climb() -> None:
    assert join_path(("pins", 1, "gpio"), "board") == "board.pins[1].gpio"
    assert join_path((0, "x")) == "[0].x"
    path, seen = "board.pins[1].gpio", []
    while path:
        seen.append(path)
        path = parent_path(path)
    assert seen == ["board.pins[1].gpio", "board.pins[1]", "board.pins", "board"]


def test_toml_lines_know_tables_arrays_of_tables_dotted_and_quoted_keys() -> None:
    text = ('top = 1\n[board]\nname = "b"\n[[board.pins]]\ngpio = 4\n[[board.pins]]\ngpio = 5\n'
            '[board.pins.extra]\nx = 1\n[limits."ios"]\n\'background_task_s\' = 3\nweb.port = 8\n'
            'inline = {a = 1}\n')
    lines = toml_lines(text)
    assert lines["top"] == 1 and lines["board"] == 2 and lines["board.name"] == 3
    assert lines["board.pins[0]"] == 4 and lines["board.pins[0].gpio"] == 5
    assert lines["board.pins[1].gpio"] == 7
    assert lines["board.pins[1].extra.x"] == 9  # a sub-table of the last array entry
    assert lines["limits.ios.background_task_s"] == 11 and lines["limits.ios.web.port"] == 12
    assert line_of(lines, "limits.ios.inline.a") == 13  # inside an inline table: its key's line
    assert line_of(lines, "nowhere") is None


def test_yaml_document_gives_plain_data_and_the_line_of_every_key_and_item() -> None:
    node = yaml.compose("name: x\nsteps:\n  - at: 1s\n    set: {charger: ac}\n  - 3\non: 1\n")
    data, lines = yaml_document(node)
    assert data == {"name": "x", "steps": [{"at": "1s", "set": {"charger": "ac"}}, 3], "on": 1}
    assert type(data) is dict and type(data["steps"]) is list  # plain types, no line wrappers
    assert lines["steps"] == 2 and lines["steps[0]"] == 3 and lines["steps[0].set.charger"] == 4
    assert lines["steps[1]"] == 5 and lines["on"] == 6  # `on` stays text, not YAML 1.1 True


class _Pin(Strict):
    gpio: int
    pull: str = "floating"


class _Board(Strict):
    name: str
    pins: tuple[_Pin, ...] = ()


def _error(data: object, text: str) -> tuple[str, int | None, str]:
    with pytest.raises(ValidationError) as info:
        _Board.model_validate(data)
    found = first_error(info.value, _Board, toml_lines(text), prefix="board", mapping="table")
    return found.path, found.line, found.message


def test_unknown_keys_list_the_known_ones_and_the_nearest() -> None:
    text = '[board]\nname = "b"\n[[board.pins]]\ngpio = 4\npul = "up"\n'
    path, line, message = _error({"name": "b", "pins": [{"gpio": 4, "pul": "up"}]}, text)
    assert (path, line) == ("board.pins[0].pul", 5)
    assert message == "unknown key 'pul' (known: gpio, pull); did you mean 'pull'?"


def test_the_first_problem_by_line_is_the_one_reported() -> None:
    text = '[board]\n[[board.pins]]\ngpio = "x"\n[[board.pins]]\ngpio = 5\nbogus = 1\n'
    path, line, message = _error({"pins": [{"gpio": "x"}, {"gpio": 5, "bogus": 1}]}, text)
    assert (path, line, message) == ("board.name", 1, "is required")  # missing: the table's line
    path, line, _ = _error({"name": "b", "pins": [{"gpio": "x"}, {"gpio": 5, "bogus": 1}]}, text)
    assert (path, line) == ("board.pins[0].gpio", 3)


def test_a_validator_can_name_a_field_below_it_and_a_line_elsewhere() -> None:
    class Checked(Strict):
        limits: dict[str, int]

        @model_validator(mode="after")
        def _small(self) -> Checked:
            raise InvalidFieldError("limit 'b' too big", at=("limits",), line_at=("limits", "b"))

    text = "[limits]\na = 1\nb = 2\n"
    with pytest.raises(ValidationError) as info:
        Checked.model_validate({"limits": {"a": 1, "b": 2}})
    found = first_error(info.value, Checked, toml_lines(text))
    assert (found.path, found.line, found.message) == ("limits", 3, "limit 'b' too big")


# -- every file kind: a bad value deep in the file is file:line:field -----------------------------


def test_a_deep_board_value_names_file_line_and_field(tmp_path: Path) -> None:
    path = tmp_path / "b.toml"
    path.write_text('[board]\nname = "b"\n[[board.pins]]\ngpio = 4\nsignal = "idle"\n'
                    '[[board.pins]]\ngpio = 5\nsignal = "on_call"\npull = 3\n', encoding="utf-8")
    with pytest.raises(BoardConfigError) as info:
        load_board_file(path)
    assert str(info.value) == f"{path}:9: board.pins[1].pull: must be a string, not the number 3"


def test_a_deep_rig_value_names_file_line_and_field(tmp_path: Path) -> None:
    path = tmp_path / "rig.toml"
    path.write_text('[rig]\nid = "r"\n\n[board]\nname = "mine"\n[board.gauge]\nchip = "max17048"\n'
                    'address = 0x36\ncapacity_mah = "big"\n', encoding="utf-8")
    with pytest.raises(RigConfigError) as info:
        load_config(path)
    assert (info.value.key, info.value.line) == ("board.gauge.capacity_mah", 9)
    assert str(info.value).startswith(f"{path}:9: board.gauge.capacity_mah: parameter 'capacity_mah' must be")
    path.write_text("[limits.ios]\nbackground_task_s = 10\nrefresh_runtime_s = true\n", encoding="utf-8")
    with pytest.raises(RigConfigError) as info:
        load_config(path)
    assert (info.value.key, info.value.line) == ("limits.ios.refresh_runtime_s", 3)


def test_a_deep_scenario_value_names_file_line_and_field() -> None:
    # wbcommon/signals.py TEMP_MAX_C: "the -40..125 °C operating range common to the supported gauges"
    assert TEMP_MAX_C == 125.0
    text = ("apps:\n  - {id: a, platform: ios}\nsteps:\n  - at: 1s\n    set: {charger: ac}\n"
            "  - at: 2s\n    set:\n      network: wifi\n      temperature: 130\n")
    with pytest.raises(ScenarioError) as info:
        parse_scenario(text, "deep.yaml")
    assert (info.value.line, info.value.field) == (9, "steps[1].set.temperature")
    assert "from -40 to 125 °C" in str(info.value)


def test_a_scenario_limit_error_keeps_the_line_of_the_limit() -> None:
    text = "limits:\n  ios:\n    background_task_s: 30\n    refresh_runtime_s: fast\n"
    with pytest.raises(ScenarioError) as info:
        parse_scenario(text, "l.yaml")
    assert (info.value.line, info.value.field) == (4, "limits.ios")


def test_a_deep_rig_error_is_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "rig.toml"
    path.write_text('[board]\nname = "mine"\n[[board.relays]]\ngpio = 17\nsignal = "charger"\nsafe = "maybe"\n',
                    encoding="utf-8")
    assert main(["run", "--config", str(path), "--check"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{path}:6: board.relays[0].safe: " in err


# -- typed results ----------------------------------------------------------------------------


def test_the_models_give_typed_values() -> None:
    rig = RigFile.model_validate({"rig": {"request_burst": 3, "speed": 2}, "signals": {"battery_level": 50},
                                  "board": {"name": "b", "pins": [{"gpio": "GPIO6", "pull": "none"}]}})
    assert rig.rig.request_burst == 3 and type(rig.rig.speed) is float
    assert rig.signals == {"battery_level": 50.0} and type(rig.signals["battery_level"]) is float
    assert rig.board is not None and rig.board.pins is not None
    pin = rig.board.pins[0]
    assert (pin.gpio, pin.pull, pin.polarity) == (6, "floating", "active_high")
    board = BoardTable.model_validate({"name": "g", "gauge": {"chip": "MAX17048", "address": "0x36", "rcomp": 5}})
    assert board.gauge is not None and (board.gauge.chip, board.gauge.address) == ("max17048", 0x36)
    assert board.gauge.params == {"rcomp": 5.0}
    sc = ScenarioFile.model_validate({"apps": [{"id": "a", "platform": "ios", "x": 1}],
                                      "steps": [{"on": {"app": "a", "event": "wake"}, "after": "4m",
                                                 "request": "state"}],
                                      "expect": [{"at": "1m..2m", "event": "wake"}], "until": "1h"})
    assert sc.apps[0].register_args == {"platform": "ios", "x": 1}
    step = sc.steps[0]
    assert (step.kind, step.target_app, step.after) == ("request", "a", 240.0)
    assert sc.expect[0].at == (60.0, 120.0) and sc.until == 3600.0


def _models(module: object) -> list[type[BaseModel]]:
    return [v for v in vars(module).values()
            if isinstance(v, type) and issubclass(v, BaseModel) and v.__module__ == getattr(module, "__name__", "")]


@pytest.mark.parametrize("module", [boards.config, wakebench.rigfile, firmware_sim.scenario_file],
                         ids=lambda m: m.__name__)
def test_every_file_model_refuses_unknown_keys(module: object) -> None:
    # the two tables whose free keys mean something: a gauge's chip parameters, an app's register args
    open_tables = {"GaugeTable", "AppEntry"}
    models = _models(module)
    assert models
    for model in models:
        assert issubclass(model, Strict), model
        want = "allow" if model.__name__ in open_tables else "forbid"
        assert model.model_config.get("extra") == want, model


def test_no_field_of_a_file_model_is_typed_any() -> None:
    for module in (boards.config, wakebench.rigfile, firmware_sim.scenario_file):
        for model in _models(module):
            for name, info in model.model_fields.items():
                assert info.annotation is not typing.Any, f"{model.__name__}.{name}"


# -- inputs the hand-written parsers got wrong ------------------------------------------------


@pytest.mark.parametrize(("text", "field", "words"), [
    # a list where a platform name goes: the old parser raised TypeError (unhashable)
    ("apps:\n  - {id: a, platform: [ios]}\n", "apps[0].platform", "unknown platform ['ios']"),
    # a key given as null is a value like any other, not an absent key
    ("until: ~\n", "until", "not a duration"),
    ("steps:\n  - {at: 1s, set: ~}\n", "steps[0].set", "must be a mapping"),
    ("expect:\n  - {event: ~}\n", "expect[0].event", "unknown event type None"),
    # an int beyond float range as a limit: the old _coerce raised OverflowError
    ("limits:\n  ios: {background_task_s: " + "9" * 400 + "}\n", "limits.ios", "within range"),
])
def test_hostile_scenario_values_are_one_error(text: str, field: str, words: str) -> None:
    with pytest.raises(ScenarioError) as info:
        parse_scenario(text, "h.yaml")
    assert info.value.field == field and words in str(info.value)
    assert "\n" not in str(info.value)
