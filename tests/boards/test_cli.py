"""``wakebench boards``, ``probe`` and ``signals`` run in-process (``wakebench.cli.main``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from boards import BOARDS, SIGNAL_NAMES
from hal.chips import CHIPS
from hal.i2c import EmulatedBus
from hal.readings import BatteryState
from wakebench.cli import main
from wakebench.commands.probe import scan

NO_I2C = not any(Path("/dev").glob("i2c-*"))


# -- boards --------------------------------------------------------------------------------------

def test_boards_lists_every_board_with_its_gauge_and_power_pin(capsys) -> None:
    assert main(["boards"]) == 0
    out = capsys.readouterr().out
    for name in BOARDS:
        assert name in out
    assert "GPIO6 active_low" in out      # X728
    assert "GPIO4 active_high" in out     # UPS-Lite
    assert "ina219@0x42" in out
    assert "UNCONFIRMED (2)" in out


def test_boards_name_prints_the_wiring_with_unconfirmed_labels(capsys) -> None:
    assert main(["boards", "x728"]) == 0
    out = capsys.readouterr().out
    assert "Geekworm X728" in out
    assert "0x36" in out and "0x68" in out
    assert "active_low" in out
    assert "1 = AC lost" in out
    assert "UNCONFIRMED: polarity" in out
    assert "github.com/geekworm-com/x728-script" in out


def test_boards_shows_relays(capsys) -> None:
    assert main(["boards", "X1200"]) == 0
    out = capsys.readouterr().out
    assert "relays" in out and "charging" in out and "pin low" in out


def test_boards_unknown_name_lists_the_names_and_exits_2(capsys) -> None:
    assert main(["boards", "x999"]) == 2
    err = capsys.readouterr().err
    assert "unknown board 'x999'" in err
    assert "x728" in err and "sim" in err


def test_boards_reads_a_user_board_file(tmp_path, capsys) -> None:
    path = tmp_path / "mine.toml"
    path.write_text('[board]\nname = "mine"\n[board.gauge]\nchip = "max17048"\naddress = 0x36\n'
                    '[[board.pins]]\ngpio = 17\nsignal = "screen_locked"\n')
    assert main(["boards", str(path)]) == 0
    out = capsys.readouterr().out
    assert "mine" in out and "screen_locked" in out
    path.write_text('[board]\nname = "mine"\n[[board.pins]]\ngpio = 40\n')
    assert main(["boards", str(path)]) == 2
    assert "board.pins[0].gpio" in capsys.readouterr().err


def test_boards_json(capsys) -> None:
    assert main(["boards", "ups-lite-v1-3", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["gauge"] == {"chip": "cw2015", "address": 0x62, "bus": 1, "role": "fuel gauge",
                             "params": {}, "unconfirmed": None}
    assert data["pins"][0]["gpio"] == 4


# -- probe ----------------------------------------------------------------------------------------

@pytest.mark.skipif(not NO_I2C, reason="this machine has an I²C bus")
def test_probe_without_a_bus_says_so_and_how_to_enable_it(capsys) -> None:
    assert main(["probe"]) == 1
    err = capsys.readouterr().err
    assert "no I²C bus /dev/i2c-1" in err
    assert "raspi-config" in err and "dtparam=i2c_arm=on" in err
    assert "--board sim" in err


def test_probe_the_sim_board(capsys) -> None:
    assert main(["probe", "--board", "sim"]) == 0
    out = capsys.readouterr().out
    assert "0x36" in out and "max17048" in out
    assert "voltage 4.160 V" in out and "soc 100.0 %" in out


def test_probe_the_sim_board_as_json(capsys) -> None:
    assert main(["probe", "--board", "sim", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    (device,) = data["devices"]
    assert device["address_hex"] == "0x36" and device["chip"] == "max17048"
    assert device["reading"]["soc"] == 100.0
    assert device["reading"]["current"] < 0      # from CRATE × the sim cell's capacity


def test_probe_unknown_board_exits_2(capsys) -> None:
    assert main(["probe", "--board", "nope"]) == 2


def test_scan_identifies_every_supported_chip_on_one_bus() -> None:
    bus = EmulatedBus()
    state = BatteryState(voltage=3.8, soc=55.0, current=-0.2, full_capacity=2000.0,
                         remaining_capacity=1100.0)
    chosen = {"max17048": 0x36, "bq27441": 0x55, "lc709203f": 0x0B, "cw2015": 0x62, "ina219": 0x41}
    for name, address in chosen.items():
        bus.attach(address, CHIPS[name].emulator(state))
    found = {d.address: d for d in scan(bus)}
    assert set(found) == set(chosen.values())
    for name, address in chosen.items():
        assert found[address].chip == name, found[address]
        assert found[address].reading is not None
        assert found[address].reading["voltage"] == pytest.approx(3.8, abs=0.01)


# -- signals --------------------------------------------------------------------------------------

def test_signals_prints_every_signal_of_the_sim_board(capsys) -> None:
    assert main(["signals"]) == 0
    out = capsys.readouterr().out
    for name in SIGNAL_NAMES:
        assert name in out
    assert "gauge max17048@0x36 on bus 1" in out
    assert "GPIO6" in out


def test_signals_json_is_one_object(capsys) -> None:
    assert main(["signals", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(SIGNAL_NAMES) <= set(data)
    assert data["board"] == "sim" and data["stale"] == [] and data["faults"] == []
    assert data["battery_level"] == 100.0 and data["charger"] == "none"


def test_signals_watch_prints_a_line_per_update(capsys) -> None:
    assert main(["signals", "--watch", "--json", "--count", "1"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1
    assert json.loads(lines[0])["values"]["charger"] == "none"


@pytest.mark.skipif(not NO_I2C, reason="this machine has an I²C bus")
def test_signals_on_a_board_without_hardware_reports_faults(capsys) -> None:
    assert main(["signals", "--board", "x728", "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert "battery_level" in data["stale"]
    assert any("no I²C bus /dev/i2c-1" in fault for fault in data["faults"])


def test_signals_unknown_board_exits_2(capsys) -> None:
    assert main(["signals", "--board", "nope"]) == 2
    assert "known boards" in capsys.readouterr().err
