"""The embedded broker's WebSocket listener (issue #12): browsers cannot speak MQTT over raw TCP,
so ``wakebench run`` opens ``ws://127.0.0.1:PORT`` next to the TCP listener, shows it in the
banner and in ``bridge/info`` (``ws_url``), and takes ``--ws-port`` / ``[embedded_broker]``.
"""

from __future__ import annotations

import asyncio
import shutil
import ssl
from pathlib import Path
from urllib.parse import urlsplit

import aiomqtt
import pytest

from tests.mosquitto import make_certs
from wakebench.broker import InProcessBroker, MosquittoBroker, WebSocketOptions
from wakebench.config import RigConfigError, default_config, load_config
from wakebench.rig import Rig

TIMEOUT = 10.0
HAS_MOSQUITTO = shutil.which("mosquitto") is not None or Path("/usr/sbin/mosquitto").exists()
needs_mosquitto = [pytest.mark.broker, pytest.mark.skipif(not HAS_MOSQUITTO, reason="no mosquitto")]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "rig.toml"
    path.write_text(text, encoding="utf-8")
    return path


# -- configuration ------------------------------------------------------------------------------
def test_websockets_are_on_by_default_on_a_free_port() -> None:
    ws = default_config().websockets
    assert ws.enabled and ws.port is None and not ws.tls


def test_embedded_broker_table_sets_port_and_wss_files(tmp_path: Path) -> None:
    (tmp_path / "ws.pem").write_text("x")
    (tmp_path / "ws.key").write_text("x")
    cfg = load_config(write(tmp_path, f'[embedded_broker]\nws_port = 9001\nws_cert_file = "{tmp_path}/ws.pem"\n'
                                      f'ws_key_file = "{tmp_path}/ws.key"\n'))
    assert cfg.websockets == WebSocketOptions(True, 9001, f"{tmp_path}/ws.pem", f"{tmp_path}/ws.key")
    assert cfg.websockets.tls


@pytest.mark.parametrize(("body", "message"), [
    ("ws_port = 70000", "rig.toml:2: embedded_broker.ws_port: must be a port from 1 to 65535, not 70000"),
    ("ws_port = \"9001\"", "embedded_broker.ws_port: must be a port from 1 to 65535, not '9001'"),
    ("websockets = \"yes\"", "rig.toml:2: embedded_broker.websockets: must be true or false, not 'yes'"),
    ("ws_cert_file = \"/etc/hostname\"", "embedded_broker.ws_key_file: wss needs both ws_cert_file and ws_key_file"),
    ("ws_cert_file = \"/nonexistent.pem\"\nws_key_file = \"/nonexistent.key\"",
     "embedded_broker.ws_cert_file: no such file: /nonexistent.pem"),
    ("wsport = 1", "embedded_broker.wsport: unknown key"),
])
def test_bad_embedded_broker_keys_name_file_line_and_key(tmp_path: Path, body: str, message: str) -> None:
    with pytest.raises(RigConfigError) as err:
        load_config(write(tmp_path, f"[embedded_broker]\n{body}\n"))
    assert message in str(err.value)


def test_ws_port_flag_wins_and_is_checked() -> None:
    cfg = default_config().with_overrides(ws_port=9002)
    assert cfg.websockets.port == 9002 and cfg.websockets.enabled
    assert not default_config().with_overrides(websockets=False).websockets.enabled
    with pytest.raises(RigConfigError, match=r"--ws-port: must be a port from 1 to 65535, not 0"):
        default_config().with_overrides(ws_port=0)


# -- the listener -------------------------------------------------------------------------------
async def roundtrip(tcp: tuple[str, int], ws_url: str, tls: ssl.SSLContext | None = None) -> bytes:
    """Publish over TCP, receive over WebSockets."""
    parts = urlsplit(ws_url)
    assert parts.hostname is not None and parts.port is not None
    async with aiomqtt.Client(parts.hostname, parts.port, transport="websockets", tls_context=tls,
                              identifier="ws-sub") as sub, aiomqtt.Client(*tcp, identifier="tcp-pub") as pub:
        await sub.subscribe("wb/ws", qos=1)
        await pub.publish("wb/ws", b"over websockets", qos=1)
        async with asyncio.timeout(TIMEOUT):
            async for message in sub.messages:
                return bytes(message.payload)  # type: ignore[arg-type]
    raise AssertionError("no message")


@pytest.mark.parametrize("_", [0], ids=["ws"])
async def test_mosquitto_serves_websockets_next_to_tcp(_: int) -> None:
    if not HAS_MOSQUITTO:
        pytest.skip("no mosquitto")
    async with MosquittoBroker(shutil.which("mosquitto") or "/usr/sbin/mosquitto") as broker:
        assert broker.ws_url == f"ws://127.0.0.1:{broker.ws_port}" and broker.ws_port != broker.port
        assert await roundtrip((broker.host, broker.port), broker.ws_url) == b"over websockets"


async def test_mosquitto_serves_wss_with_the_given_certificate(tmp_path: Path) -> None:
    if not HAS_MOSQUITTO:
        pytest.skip("no mosquitto")
    certs = make_certs(tmp_path / "certs")
    ws = WebSocketOptions(cert_file=str(certs.server_cert), key_file=str(certs.server_key))
    async with MosquittoBroker(shutil.which("mosquitto") or "/usr/sbin/mosquitto", websockets=ws) as broker:
        assert broker.ws_url is not None and broker.ws_url.startswith("wss://127.0.0.1:")
        context = ssl.create_default_context(cafile=str(certs.ca))
        context.check_hostname = False  # the test certificate names localhost, the listener is 127.0.0.1
        assert await roundtrip((broker.host, broker.port), broker.ws_url, context) == b"over websockets"


async def test_no_websockets_means_no_listener() -> None:
    if not HAS_MOSQUITTO:
        pytest.skip("no mosquitto")
    async with MosquittoBroker(websockets=WebSocketOptions(enabled=False)) as broker:
        assert broker.ws_url is None
        assert "websockets" not in "\n".join(broker.log)


def test_the_in_process_broker_has_no_websockets() -> None:
    assert InProcessBroker().ws_url is None


async def test_in_process_banner_says_browsers_need_mosquitto(tmp_path: Path) -> None:
    cfg = default_config().with_overrides(rig="wsinproc", state_dir=tmp_path / "state")
    async with Rig(cfg, embedded="in-process") as rig:
        assert rig.bridge is not None and rig.bridge.info()["ws_url"] is None
        assert "  browsers: no WebSockets on the in-process broker (install mosquitto)" in rig.banner()


async def test_mosquitto_banner_and_bridge_info_carry_the_ws_url(tmp_path: Path) -> None:
    if not HAS_MOSQUITTO:
        pytest.skip("no mosquitto")
    cfg = default_config().with_overrides(rig="wsmosq", state_dir=tmp_path / "state")
    async with Rig(cfg, embedded="mosquitto") as rig:
        assert rig.embedded is not None and rig.bridge is not None
        url = rig.embedded.ws_url
        assert url is not None and url.startswith("ws://127.0.0.1:")
        assert f"  browsers (WebSockets): {url}" in rig.banner()
        assert rig.bridge.info()["ws_url"] == url
