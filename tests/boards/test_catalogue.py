"""The board catalogue (DESIGN.md section 8) against reference/pi-hardware.md."""

from __future__ import annotations

import pytest

from boards import BOARDS, SIGNAL_NAMES, UnknownBoardError, get_board, problems
from boards.catalogue import WAVESHARE_SHUNT_OHM
from boards.spec import CHIP_ADDRESSES, GPIO_MAX, GPIO_MIN, I2C_ADDR_MAX, I2C_ADDR_MIN

REQUIRED = (
    "x728",
    "x120x",
    "waveshare-ups-hat-b",
    "waveshare-ups-hat-c",
    "ups-lite-v1-2",
    "ups-lite-v1-3",
    "sparkfun-lipo-fuel-gauge",
    "sparkfun-battery-babysitter",
    "adafruit-max17048",
    "adafruit-lc709203f",
    "power-supply",
    "sim",
)


def test_catalogue_has_every_board_design_names() -> None:
    assert set(REQUIRED) <= set(BOARDS)


def test_signal_names_match_the_scheduler() -> None:
    from firmware_sim import SIGNAL_NAMES as SCHEDULER_SIGNALS

    assert SIGNAL_NAMES == SCHEDULER_SIGNALS


@pytest.mark.parametrize("name", sorted(BOARDS))
def test_every_board_is_valid(name: str) -> None:
    spec = BOARDS[name]
    assert spec.name == name
    assert list(problems(spec)) == []
    for pin in (*spec.pins, *spec.relays):
        assert GPIO_MIN <= pin.gpio <= GPIO_MAX
    for chip in filter(None, (spec.gauge, *spec.other_chips)):
        assert I2C_ADDR_MIN <= chip.address <= I2C_ADDR_MAX
        if chip.chip in CHIP_ADDRESSES:
            assert chip.address in CHIP_ADDRESSES[chip.chip]
    assert spec.gauge is not None or spec.power_supply is not None


@pytest.mark.parametrize("name", sorted(BOARDS))
def test_unconfirmed_facts_say_so(name: str) -> None:
    for note in BOARDS[name].unconfirmed_notes():
        assert "UNCONFIRMED" in note


@pytest.mark.parametrize(
    ("name", "where"),
    [
        # "Geekworm X728 v2.x | MAX1704x (17043-style scaling; exact part unconfirmed)"
        ("x728", "max17043@0x36"),
        # "V2.5 adds GPIO16 charge control (Geekworm wiki; polarity unconfirmed)"
        ("x728", "GPIO16"),
        # "docs say MAX17040G+, unconfirmed"
        ("x120x", "max17043@0x36"),
        # "INA219 @0x40 seen (unconfirmed)"
        ("x120x", "ina219@0x40"),
        # "Charging inferred from current sign (examples use current > 0 = charging; verify per board)"
        ("waveshare-ups-hat-b", "current sign"),
        ("waveshare-ups-hat-c", "current sign"),
    ],
)
def test_facts_the_reference_leaves_open_are_labelled(name: str, where: str) -> None:
    assert any(where in note for note in BOARDS[name].unconfirmed_notes())


def test_confirmed_boards_carry_no_unconfirmed_label() -> None:
    for name in ("ups-lite-v1-2", "ups-lite-v1-3", "adafruit-max17048", "sim"):
        assert not BOARDS[name].has_unconfirmed, name


def test_x728_power_pin_reads_high_when_ac_is_lost() -> None:
    # "GPIO6 PLD input: 1 = AC lost, 0 = AC OK (rising edge = loss)."
    pin = get_board("x728").power_pin
    assert pin is not None and pin.gpio == 6 and pin.polarity == "active_low"


def test_x120x_power_pin_is_the_opposite_of_x728() -> None:
    # "GPIO6: High = supply OK, Low = supply failed (opposite of X728)" ; "gpio=6=ip,pu"
    spec = get_board("x120x")
    assert spec.power_pin is not None
    assert (spec.power_pin.gpio, spec.power_pin.polarity, spec.power_pin.pull) == (6, "active_high", "up")
    # "GPIO16: High = charging disabled, Low = enabled"
    relay = spec.relay_for("charging")
    assert relay is not None and (relay.gpio, relay.polarity) == (16, "active_low")


def test_ups_lite_power_pin() -> None:
    # "UPS-Lite ... GPIO4 high = external power plugged in"
    for name in ("ups-lite-v1-2", "ups-lite-v1-3"):
        pin = get_board(name).power_pin
        assert pin is not None and (pin.gpio, pin.polarity) == (4, "active_high")


@pytest.mark.parametrize(
    ("name", "chip", "address"),
    [
        ("waveshare-ups-hat-b", "ina219", 0x42),   # "INA219 @0x42"
        ("waveshare-ups-hat-c", "ina219", 0x43),   # "INA219 @0x43"
        ("ups-lite-v1-3", "cw2015", 0x62),         # "v1.3 CW2015 @0x62"
        ("sparkfun-battery-babysitter", "bq27441", 0x55),
        ("adafruit-lc709203f", "lc709203f", 0x0B),
        ("adafruit-max17048", "max17048", 0x36),
    ],
)
def test_gauge_addresses(name: str, chip: str, address: int) -> None:
    gauge = get_board(name).gauge
    assert gauge is not None and (gauge.chip, gauge.address) == (chip, address)


def test_waveshare_shunt_follows_from_the_example_calibration() -> None:
    # "set_calibration_32V_2A: cal 4096, I_lsb 0.1 mA"; "CALIBRATION (trunc(0.04096/(I_lsb*R_shunt))"
    assert int(0.04096 / (0.1e-3 * WAVESHARE_SHUNT_OHM)) == 4096
    assert pytest.approx(0.1) == WAVESHARE_SHUNT_OHM


def test_aliases_and_case() -> None:
    assert get_board("X1200") is get_board("x120x")
    assert get_board("ups-lite-v1.3").name == "ups-lite-v1-3"


def test_unknown_board_lists_known_names() -> None:
    with pytest.raises(UnknownBoardError, match=r"known boards: .*x728.*sim"):
        get_board("x999")
