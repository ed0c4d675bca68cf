"""The web view's configuration: ``[web]`` in rig.toml and ``run --http-port / --no-web /
--web-controls``; every mistake names the file, the line and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from wakebench.config import RigConfigError, default_config, load_config
from wakebench.webserver import WebOptions


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "rig.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_without_a_file_the_view_is_on_loopback_on_a_free_port_without_controls() -> None:
    assert default_config().web == WebOptions(enabled=True, host="127.0.0.1", port=None, controls=False)


def test_the_web_table_sets_every_option(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, '[web]\nport = 8080\ncontrols = true\nhost = "0.0.0.0"\n'
                                      'ws_url = "ws://broker.lan:9001"\n'))
    assert cfg.web == WebOptions(enabled=True, host="0.0.0.0", port=8080, controls=True, ws_url="ws://broker.lan:9001")
    assert load_config(write(tmp_path, "[web]\nenabled = false\n")).web.enabled is False


def test_flags_win_over_the_file(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, "[web]\nport = 8080\nenabled = false\n"))
    cfg = cfg.with_overrides(http_port=9090, web_controls=True)
    assert (cfg.web.port, cfg.web.enabled, cfg.web.controls) == (9090, True, True)
    assert default_config().with_overrides(web=False).web.enabled is False


@pytest.mark.parametrize(("text", "message"), [
    ("[web]\n\nport = 70000\n", "rig.toml:3: web.port: must be a port from 1 to 65535, not 70000"),
    ("[web]\ncontrols = 'yes'\n", "rig.toml:2: web.controls: must be true or false, not 'yes'"),
    ("[web]\nws_url = 'http://x'\n", "rig.toml:2: web.ws_url: must be a ws:// or wss:// URL, not 'http://x'"),
    ("[web]\nhost = ''\n", "rig.toml:2: web.host: must be a non-empty string"),
    ("[web]\nportt = 1\n", "rig.toml:2: web.portt"),
])
def test_a_bad_web_key_names_file_line_and_key(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(RigConfigError) as err:
        load_config(write(tmp_path, text))
    assert str(err.value).endswith(message) or message in str(err.value)


def test_a_bad_http_port_flag_names_the_flag() -> None:
    with pytest.raises(RigConfigError, match="--http-port: must be a port from 1 to 65535, not 0"):
        default_config().with_overrides(http_port=0)
