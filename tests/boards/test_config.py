"""User boards in TOML: valid files load, each kind of mistake names file, key and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from boards import BoardConfigError, board_from_mapping, get_board, load_board_file

GOOD = """\
[board]
name = "bench-ups"
title = "X1200 with a mains relay"
extends = "x120x"
charger = "usb"

[board.gauge]
chip = "max17048"
address = 0x36
capacity_mah = 3000

[[board.pins]]
gpio = 6
signal = "charger"
polarity = "active_high"
pull = "up"

[[board.pins]]
gpio = 27
signal = "screen_locked"
polarity = "active_low"
pull = "up"
debounce = 0.02

[[board.relays]]
gpio = 17
signal = "charger"
polarity = "active_low"
safe = "on"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "board.toml"
    path.write_text(text)
    return path


def error_for(tmp_path: Path, text: str) -> BoardConfigError:
    with pytest.raises(BoardConfigError) as info:
        load_board_file(write(tmp_path, text))
    return info.value


def test_a_valid_file_loads(tmp_path: Path) -> None:
    spec = load_board_file(write(tmp_path, GOOD))
    assert spec.name == "bench-ups"
    assert spec.charger == "usb"
    assert spec.gauge is not None and spec.gauge.params["capacity_mah"] == 3000
    assert [p.gpio for p in spec.input_pins] == [6, 27]
    assert spec.input_pins[1].debounce == 0.02
    relay = spec.relay_for("charger")
    assert relay is not None and relay.polarity == "active_low" and relay.safe_on
    # what the file did not override comes from the catalogue board it extends
    assert spec.other_chips == get_board("x120x").other_chips


def test_top_level_keys_without_a_board_table(tmp_path: Path) -> None:
    spec = load_board_file(write(tmp_path, 'name = "mini"\n[gauge]\nchip = "max17043"\naddress = 0x36\n'))
    assert spec.gauge is not None and spec.gauge.label == "max17043@0x36"


def test_board_table_of_a_rig_config_is_reusable() -> None:
    spec = board_from_mapping(
        {"name": "rig-board", "gauge": {"chip": "ina219", "address": 0x41, "shunt_ohm": 0.01}},
        source="rig.toml",
    )
    assert spec.gauge is not None and spec.gauge.params["shunt_ohm"] == 0.01


def bad(text: str, old: str, new: str) -> str:
    assert old in text
    return text.replace(old, new, 1)


@pytest.mark.parametrize(
    ("old", "new", "key", "line", "words"),
    [
        ('chip = "max17048"', 'chip = "max99999"', "board.gauge.chip", 8, "unknown chip 'max99999'"),
        ("address = 0x36", "address = 0x78", "board.gauge.address", 9, "0x78 is not a usable"),
        ("address = 0x36", "address = 0x55", "board.gauge.address", 9, "max17048 answers only at 0x36"),
        ("gpio = 27", "gpio = 28", "board.pins[1].gpio", 19, "out of range 0-27"),
        ("gpio = 27", "gpio = -1", "board.pins[1].gpio", 19, "out of range 0-27"),
        ("gpio = 27", "gpio = 6", "board.pins[1].gpio", 19, "GPIO6 is already used by pins[0]"),
        ("gpio = 17", "gpio = 27", "board.relays[0].gpio", 26, "GPIO27 is already used"),
        ('signal = "screen_locked"', 'signal = "screen_lock"', "board.pins[1].signal", 20,
         "unknown signal 'screen_lock'"),
        ('signal = "screen_locked"', 'signal = "network"', "board.pins[1].signal", 20,
         "cannot be driven by a pin"),
        ('polarity = "active_low"', 'polarity = "inverted"', "board.pins[1].polarity", 21,
         "not active_high or active_low"),
        ('pull = "up"', 'pull = "sideways"', "board.pins[0].pull", 16, "not up, down or floating"),
        ("debounce = 0.02", "debounce = 2", "board.pins[1].debounce", 23, "outside 0-1 s"),
        ("debounce = 0.02", 'debounce = "fast"', "board.pins[1].debounce", 23, "must be a number"),
        ("capacity_mah = 3000", "capacity_mah = -1", "board.gauge.capacity_mah", 10, "positive"),
        ("capacity_mah = 3000", "shunt_ohm = 0.1", "board.gauge.shunt_ohm", 10, "takes no parameter"),
        ('charger = "usb"', 'charger = "solar"', "board.charger", 5, "not a charger type"),
        ('extends = "x120x"', 'extends = "x9000"', "board.extends", 4, "unknown board 'x9000'"),
        ('title = "X1200', 'colour = "red"\ntitle = "X1200', "board.colour", 3, "unknown key 'colour'"),
        ('safe = "on"', 'safe = "maybe"', "board.relays[0].safe", 29, 'must be "on" or "off"'),
    ],
)
def test_each_mistake_names_file_key_and_line(tmp_path, old, new, key, line, words) -> None:
    err = error_for(tmp_path, bad(GOOD, old, new))
    assert err.key == key
    assert err.line == line
    assert words in str(err)
    assert str(err).startswith(f"{tmp_path / 'board.toml'}:{line}: {key}: ")


def test_gpio_boundaries_0_and_27_are_valid() -> None:
    for gpio in (0, 27):
        board_from_mapping({"name": "b", "power_supply": "auto",
                            "pins": [{"gpio": gpio, "signal": "idle"}]})


def test_i2c1_pins_conflict_with_a_gauge_on_bus_1() -> None:
    with pytest.raises(BoardConfigError, match="GPIO2 is SDA1 of I²C bus 1"):
        board_from_mapping({"name": "b", "gauge": {"chip": "max17048", "address": 0x36},
                            "pins": [{"gpio": 2, "signal": "idle"}]})


def test_syntax_error_names_the_line(tmp_path: Path) -> None:
    err = error_for(tmp_path, '[board]\nname = "x"\ngpio = = 3\n')
    assert err.line == 3 and "not valid TOML" in str(err)


def test_missing_name_and_missing_file(tmp_path: Path) -> None:
    err = error_for(tmp_path, '[board]\ntitle = "no name"\n')
    assert err.key == "board.name" and "is required" in str(err)
    with pytest.raises(BoardConfigError, match="cannot read the file"):
        load_board_file(tmp_path / "missing.toml")


def test_wrong_types_name_the_key() -> None:
    with pytest.raises(BoardConfigError, match=r"board.pins: must be an array of tables"):
        board_from_mapping({"name": "b", "pins": {"gpio": 4}})
    with pytest.raises(BoardConfigError, match=r"board.gauge.address: address must be an integer"):
        board_from_mapping({"name": "b", "gauge": {"chip": "max17048", "address": 3.5}})
