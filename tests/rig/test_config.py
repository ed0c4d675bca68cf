"""The rig TOML: every value reaches the config, every mistake names file, key and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from wakebench.config import DEFAULT_RIG_ID, RigConfigError, default_config, load_config

DEPLOY_SAMPLE = Path(__file__).resolve().parents[2] / "deploy" / "rig.toml"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "rig.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_no_file_means_the_sim_board_and_an_embedded_broker() -> None:
    cfg = default_config()
    assert (cfg.rig_id, cfg.board.name, cfg.simulated, cfg.broker_url) == (DEFAULT_RIG_ID, "sim", True, None)


def test_full_file_is_read(tmp_path: Path) -> None:
    pw = tmp_path / "pw"
    pw.write_text("s3cret\n", encoding="utf-8")
    cfg = load_config(write(tmp_path, f"""
[rig]
id = "bench-7"
board = "x120x"
state_dir = "{tmp_path / 'state'}"
seed = 42

[broker]
url = "mqtts://rig@broker.lan:8883"
password_file = "{pw}"
insecure = true
keepalive = 15
protocol = "3.1.1"

[homeassistant]
discovery = true
prefix = "ha"

[poll]
interval = 2.5

[signals]
screen_locked = true
on_call = false

[limits.ios]
background_task_s = 180
"""))
    assert cfg.rig_id == "bench-7" and cfg.board.name == "x120x" and not cfg.simulated
    assert cfg.state_dir == tmp_path / "state" and cfg.seed == 42
    assert (cfg.ha_discovery, cfg.ha_prefix, cfg.poll_interval) == (True, "ha", 2.5)
    assert cfg.signals == {"screen_locked": True, "on_call": False}
    assert cfg.limits == {"ios": {"background_task_s": 180}}
    broker = cfg.broker_config()
    assert (broker.host, broker.port, broker.tls, broker.username, broker.password) == (
        "broker.lan", 8883, True, "rig", "s3cret")
    assert (broker.insecure, broker.keepalive, broker.protocol, broker.client_id) == (
        True, 15, "3.1.1", "wakebench-bench-7")


def test_custom_board_table(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, """
[board]
name = "my-ups"
title = "X1200 with my own wiring"
extends = "x120x"
"""))
    assert cfg.board.name == "my-ups" and cfg.board.gauge is not None


@pytest.mark.parametrize(
    ("text", "key", "line", "fragment"),
    [
        ("[rig]\nid = \"Bad Id\"\n", "rig.id", 2, "must match [a-z0-9_-]{1,64}"),
        ("[rig]\nboard = \"x9999\"\n", "rig.board", 2, "x9999"),
        ("[rig]\nspeed = 60\nboard = \"x728\"\n", "rig.speed", 2, "only works with the simulated board"),
        ("[rig]\ncolour = \"red\"\n", "rig.colour", 2, "unknown key"),
        ("[brokr]\nurl = \"mqtt://x\"\n", "brokr", 1, "unknown table"),
        ("[broker]\nurl = \"http://x\"\n", "broker.url", 2, "scheme must be mqtt:// or mqtts://"),
        ("[broker]\nurl = \"mqtt://h\"\nkeepalive = \"x\"\n", "broker.keepalive", 3, "whole seconds"),
        ("[broker]\nca_file = \"/ca.pem\"\n", "broker", 1, "need broker.url"),
        ("[broker]\nurl = \"mqtt://h\"\npassword_file = \"/nonexistent/pw\"\n", "broker.password_file", 3,
         "cannot read '/nonexistent/pw'"),
        ("[poll]\ninterval = 0\n", "poll.interval", 2, "positive number"),
        ("[homeassistant]\ndiscovery = \"yes\"\n", "homeassistant.discovery", 2, "true or false"),
        ("[signals]\ncharger = \"mains\"\n", "signals.charger", 2, "must be one of none, ac, usb, wireless"),
        ("[signals]\nbrightness = 3\n", "signals.brightness", 2, "unknown signal"),
        ("[limits.ios]\nbackground_task_z = 1\n", "limits.ios.background_task_z", 2, "unknown limit"),
        ("[limits.blackberry]\nx = 1\n", "limits.blackberry", 1, "unknown key"),
        ("[rig]\nid = \n", "(syntax)", 2, "not valid TOML"),
        ("[rig]\nboard = \"x120x\"\n[board]\nname = \"mine\"\n", "rig.board", 2, "not both"),
    ],
)
def test_errors_name_file_key_and_line(tmp_path: Path, text: str, key: str, line: int, fragment: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(RigConfigError) as info:
        load_config(path)
    err = info.value
    assert (err.source, err.key, err.line) == (str(path), key, line)
    assert fragment in str(err)
    assert str(err).startswith(f"{path}:{line}: {key}: ")


def test_board_table_errors_keep_the_board_key_path(tmp_path: Path) -> None:
    path = write(tmp_path, "[board]\nname = \"mine\"\nextends = \"x120x\"\n[[board.pins]]\ngpio = 99\nsignal = \"charger\"\n")
    with pytest.raises(RigConfigError) as info:
        load_config(path)
    assert info.value.source == str(path)
    assert info.value.key.startswith("board.pins[")


def test_missing_file() -> None:
    with pytest.raises(RigConfigError, match=r"/no/such/rig.toml: \(file\): cannot read the file"):
        load_config("/no/such/rig.toml")


def test_password_never_appears_in_errors(tmp_path: Path) -> None:
    path = write(tmp_path, "[broker]\nurl = \"ftp://u:hunter2@h\"\n")
    with pytest.raises(RigConfigError) as info:
        load_config(path)
    assert "hunter2" not in str(info.value)


# -- command-line overrides -----------------------------------------------------------------------
def test_flags_override_the_file(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, "[rig]\nid = \"a\"\nboard = \"x120x\"\n")).with_overrides(
        board="sim", rig="b", broker="mqtt://127.0.0.1:1884", speed=60, state_dir=tmp_path)
    assert (cfg.rig_id, cfg.board.name, cfg.speed, cfg.state_dir) == ("b", "sim", 60.0, tmp_path)
    assert cfg.broker_config().port == 1884


def test_speed_needs_the_sim_board() -> None:
    with pytest.raises(RigConfigError, match=r"--speed: --speed only works with the simulated board: board 'x728'"):
        default_config().with_overrides(board="x728", speed=60)
    assert default_config().with_overrides(board="x728", speed=1).speed == 1.0


@pytest.mark.parametrize(
    ("flags", "key"),
    [({"board": "nope"}, "--board"), ({"rig": "A B"}, "--rig"), ({"speed": 0}, "--speed"),
     ({"speed": float("nan")}, "--speed"), ({"broker": "tcp://x"}, "broker.url")],
)
def test_bad_flags_name_the_flag(flags: dict[str, object], key: str) -> None:
    with pytest.raises(RigConfigError) as info:
        default_config().with_overrides(**flags)  # type: ignore[arg-type]
    assert info.value.key == key


def test_state_dir_defaults_per_rig(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    assert default_config().with_overrides(rig="r9").resolved_state_dir == tmp_path / "wakebench" / "r9"


@pytest.mark.skipif(not DEPLOY_SAMPLE.exists(), reason="deploy/rig.toml not written yet")
def test_the_shipped_sample_config_is_valid(monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = load_config(DEPLOY_SAMPLE)
    assert cfg.board.name == "x120x" and not cfg.simulated


def test_state_sync_offers_the_stricter_journal_setting(tmp_path: Path) -> None:
    # firmware_sim/journal.py: "normal" loses nothing on a kill, "full" nothing on a power cut
    assert default_config().state_sync == "normal"
    assert load_config(write(tmp_path, '[rig]\nstate_sync = "full"\n')).state_sync == "full"
    with pytest.raises(RigConfigError, match=r"rig\.state_sync: must be 'normal' or 'full', not 'fast'"):
        load_config(write(tmp_path, '[rig]\nstate_sync = "fast"\n'))


# -- start values of signals: [signals] and --set, one vocabulary (wbcommon.signals) ----------
def test_signal_start_values_are_typed_by_the_vocabulary(tmp_path: Path) -> None:
    from wakebench.rigctl import parse_assignments

    cfg = load_config(write(tmp_path, '[signals]\nbattery_level = 15\ncharger = "ac"\n'))
    assert cfg.signals == {"battery_level": 15.0, "charger": "ac"}
    assert type(cfg.signals["battery_level"]) is float
    values = parse_assignments(["battery_level=15", "screen_locked=true", "voltage=null", "charger=usb",
                                "charger=none"])  # the later item for a signal wins
    assert values == {"battery_level": 15.0, "screen_locked": True, "voltage": None, "charger": "none"}
    assert type(values["battery_level"]) is float


@pytest.mark.parametrize(("item", "message"), [
    ("battery_level=150", "signal 'battery_level' must be a number from 0 to 100 %, not 150"),
    ("temperature=200", "signal 'temperature' must be from -40 to 125 °C, not 200"),
    ("screen_locked=maybe", "signal 'screen_locked' must be true or false, not 'maybe'"),
    ("warp=9", "unknown signal 'warp' (known: battery_level, voltage,"),
    ("charger", "'charger': expected NAME=VALUE, e.g. charger=ac or screen_locked=true"),
    ("charger=\nac\nusb", "signal 'charger' must be one of none, ac, usb, wireless, not 'ac usb'"),
])
def test_a_bad_set_is_one_line_naming_the_signal_and_exits_2(item: str, message: str,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    from wakebench.cli import main

    assert main(["run", "--board", "sim", "--set", "charger=ac", "--set", item, "--check"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"wakebench run: --set: {message}")
    assert err.count("\n") == 1  # one line


def test_wakebench_set_refuses_a_bad_value_before_looking_for_a_rig(capsys: pytest.CaptureFixture[str]) -> None:
    from wakebench.cli import main

    assert main(["set", "charger=ac", "battery_level=150", "--broker", "mqtt://127.0.0.1:1"]) == 2
    assert capsys.readouterr().err == ("wakebench set: signal 'battery_level' must be a number from 0 to "
                                       "100 %, not 150\n")
