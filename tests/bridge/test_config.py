"""Broker URLs and bridge options: parsed into frozen dataclasses, errors name the field."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from mqtt_bridge import BridgeConfig, BridgeConfigError, BrokerConfig
from mqtt_bridge.config import DEFAULT_KEEPALIVE_S, MAX_REQUEST_BYTES, MQTT_PORT, MQTTS_PORT


def test_plain_url_defaults() -> None:
    c = BrokerConfig.from_url("mqtt://broker.lan")
    assert (c.host, c.port, c.tls, c.protocol, c.keepalive, c.prefix) == (
        "broker.lan", MQTT_PORT, False, "5", DEFAULT_KEEPALIVE_S, "wakebench")
    assert c.username is None and c.password is None
    assert MQTT_PORT == 1883 and MQTTS_PORT == 8883  # IANA service names mqtt / secure-mqtt


def test_credentials_are_percent_decoded_and_never_shown() -> None:
    c = BrokerConfig.from_url("mqtt://rig%2D1:p%40ss%3Aword@10.0.0.2:1884")
    assert (c.username, c.password, c.host, c.port) == ("rig-1", "p@ss:word", "10.0.0.2", 1884)
    assert "p@ss" not in repr(c)
    assert c.url() == "mqtt://rig-1@10.0.0.2:1884"


def test_mqtts_url_with_options() -> None:
    c = BrokerConfig.from_url(
        "mqtts://u:pw@[::1]?ca=/etc/ca.pem&cert=/c.pem&key=/k.pem&insecure=1&protocol=3.1.1"
        "&keepalive=15&client_id=bench&prefix=lab/wakebench")
    assert (c.host, c.port, c.tls, c.insecure) == ("::1", MQTTS_PORT, True, True)
    assert (c.ca_file, c.cert_file, c.key_file) == ("/etc/ca.pem", "/c.pem", "/k.pem")
    assert (c.protocol, c.keepalive, c.client_id, c.prefix, c.mqtt5) == ("3.1.1", 15, "bench", "lab/wakebench", False)
    assert c.url() == "mqtts://u@[::1]:8883"


def test_overrides_replace_parsed_fields() -> None:
    c = BrokerConfig.from_url("mqtt://h:1", port=2, protocol="3.1.1")
    assert (c.port, c.protocol) == (2, "3.1.1")


@pytest.mark.parametrize(("url", "words"), [
    ("http://h", "scheme"),
    ("mqtt://", "no host"),
    ("mqtt://h:70000", "Port out of range"),
    ("mqtt://h:0", "1-65535"),
    ("mqtt://h/path", "path"),
    ("mqtt://h?colour=red", "unknown option 'colour'"),
    ("mqtt://h?insecure=maybe", "insecure"),
    ("mqtt://h?protocol=4.0", "protocol"),
    ("mqtt://h?keepalive=soon", "keepalive"),
    ("mqtt://h?keepalive=0", "keepalive"),
    ("mqtt://h?ca=/ca.pem", "tls"),
    ("mqtts://h?key=/k.pem", "key_file given without cert_file"),
    ("mqtt://h?prefix=a/+/b", "prefix"),
    ("mqtt://h?prefix=$SYS", "prefix"),
])
def test_bad_urls_name_the_problem(url: str, words: str) -> None:
    with pytest.raises(BridgeConfigError, match=None) as err:
        BrokerConfig.from_url(url)
    assert words in str(err.value)


def test_errors_never_echo_the_password() -> None:
    with pytest.raises(BridgeConfigError) as err:
        BrokerConfig.from_url("mqtt://user:hunter2@h?bogus=1")
    assert "hunter2" not in str(err.value) and "user:***@" in str(err.value)


def test_password_needs_a_user() -> None:
    with pytest.raises(BridgeConfigError, match="username"):
        BrokerConfig(password="x")


def test_broker_config_is_frozen() -> None:
    c = BrokerConfig()
    with pytest.raises(dataclasses.FrozenInstanceError):
        c.port = 1  # type: ignore[misc]


def test_tls_files_that_do_not_exist_are_named(tmp_path: Path) -> None:
    missing = tmp_path / "nope.pem"
    with pytest.raises(BridgeConfigError, match=r"nope\.pem"):
        BrokerConfig.from_url(f"mqtts://h?ca={missing}").ssl_context()


def test_bridge_config_defaults_and_checks(tmp_path: Path) -> None:
    c = BridgeConfig(rig="bench1", state_dir=tmp_path)
    assert c.max_request_bytes == MAX_REQUEST_BYTES == 65536
    assert isinstance(c.state_dir, Path)
    for bad in ({"rig": "Bench1"}, {"rig": "a/b"}, {"rig": "x" * 65}):
        with pytest.raises(BridgeConfigError, match="rig id"):
            BridgeConfig(**bad)  # type: ignore[arg-type]
    assert BridgeConfig(rig="x" * 64).rig == "x" * 64
    with pytest.raises(BridgeConfigError, match="rate_per_s"):
        BridgeConfig(rig="r", rate_per_s=0)
    with pytest.raises(BridgeConfigError, match="max_apps"):
        BridgeConfig(rig="r", max_apps=0)
    with pytest.raises(BridgeConfigError, match="reconnect_max_s"):
        BridgeConfig(rig="r", reconnect_min_s=5, reconnect_max_s=1)
    with pytest.raises(BridgeConfigError, match="event_expiry_s"):
        BridgeConfig(rig="r", event_expiry_s=0)
