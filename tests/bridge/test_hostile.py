"""Hostile requests answered in-process (issue #11): refusals echo ``transaction``, a full intake
queue hands messages to ``overloaded`` instead of dropping them, Response Topics never reach
topics the rig owns, TLS files are bounded, and the rate limit is configurable."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aiomqtt
import pytest

from firmware_sim import Scheduler, VirtualClock
from firmware_sim.driver import SchedulerDriver
from mqtt_bridge import BridgeConfig, BridgeConfigError, BrokerConfig, Topics
from mqtt_bridge.intake import intake_queue
from mqtt_bridge.publisher import Outgoing
from mqtt_bridge.requests import RequestMeta, RequestRouter
from wakebench.config import MAX_REQUEST_RATE, RigConfigError, default_config, load_config

RIG = "hostile"
T = Topics(RIG)


def router(**config: Any) -> tuple[RequestRouter, list[Outgoing]]:
    out: list[Outgoing] = []
    driver = SchedulerDriver(Scheduler(), clock=VirtualClock())
    r = RequestRouter(driver, T, BridgeConfig(rig=RIG, **config), out.append,
                      info=dict, health=dict)
    return r, out


def answers(out: list[Outgoing], topic: str) -> list[dict[str, Any]]:
    return [json.loads(m.payload) for m in out if m.topic == topic]


async def test_rate_limited_answers_echo_transaction_and_correlation() -> None:
    r, out = router(rate_per_s=0.001, rate_burst=1)
    meta = RequestMeta(correlation=b"c-2")
    topic = T.app_request("mail", "status")
    await r.handle(topic, b'{"transaction": "t-1"}')
    await r.handle(topic, b'{"transaction": "t-2"}', meta)
    second = answers(out, T.app_response("mail", "status"))[1]
    assert (second["code"], second["transaction"]) == ("rate_limited", "t-2")
    assert [m.correlation for m in out if m.topic == T.app_response("mail", "status")][1] == b"c-2"


async def test_retained_requests_are_answered_and_never_run() -> None:
    r, out = router()
    await r.handle(T.app_request("mail", "register"), b'{"platform": "capacitor", "transaction": 7}',
                   RequestMeta(retained=True))
    (answer,) = answers(out, T.app_response("mail", "register"))
    assert (answer["code"], answer["transaction"]) == ("retained_request", 7)
    assert "mail" not in r.driver.scheduler.apps
    await r.handle(T.app_request("mail", "crash"), b"", RequestMeta(retained=True))  # a clear: ignored
    assert len(out) == 1


def test_shed_answers_overloaded_with_the_transaction() -> None:
    r, out = router()
    r.shed(T.app_request("mail", "status"), b'{"transaction": "x"}', RequestMeta(correlation=b"k"))
    (answer,) = answers(out, T.app_response("mail", "status"))
    assert (answer["code"], answer["transaction"]) == ("overloaded", "x")
    assert r.shed_total == 1


async def test_intake_queue_hands_overflow_to_the_callback_by_count_and_bytes() -> None:
    shed: list[aiomqtt.Message] = []
    queue = intake_queue(max_messages=2, max_bytes=10, on_overflow=shed.append)()

    def msg(payload: bytes) -> aiomqtt.Message:
        return aiomqtt.Message("t", payload, qos=1, retain=False, mid=1, properties=None)

    queue.put_nowait(msg(b"1234"))
    queue.put_nowait(msg(b"12345678"))  # 12 bytes > 10: overflow by bytes
    queue.put_nowait(msg(b"12"))
    queue.put_nowait(msg(b"1"))  # third message: overflow by count
    assert [m.payload for m in shed] == [b"12345678", b"1"]
    assert queue.qsize() == 2 and queue.bytes == 6
    assert (await queue.get()).payload == b"1234"
    assert queue.bytes == 2
    assert queue.overflowed == 2


@pytest.mark.parametrize(("topic", "allowed"), [
    (f"{T.app_root('mail')}/events", False),
    (f"{T.app_root('mail')}/tasks/task-1", False),
    (f"{T.app_root('mail')}/response/status", False),
    (f"{T.app_root('mail')}/request/crash", False),
    (f"{T.app_root('mail')}/inbox", True),
    (f"{T.app_root('mail')}/eventsx", True),
])
def test_response_topics_never_reach_topics_the_rig_owns(topic: str, allowed: bool) -> None:
    assert T.may_reply_to(topic, "mail") is allowed


def test_tls_files_must_be_small_regular_files(tmp_path: Path) -> None:
    cfg = BrokerConfig.from_url("mqtts://127.0.0.1", ca_file="/dev/zero")
    with pytest.raises(BridgeConfigError, match="not a regular file"):
        cfg.ssl_context()


def test_rate_limits_come_from_rig_toml_and_flags(tmp_path: Path) -> None:
    """mqtt_bridge.config: defaults 10/s, burst 20; rig.request_rate / request_burst; flags win."""
    assert (default_config().request_rate, default_config().request_burst) == (10.0, 20)
    f = tmp_path / "rig.toml"
    f.write_text("[rig]\nrequest_rate = 50\nrequest_burst = 100\n")
    cfg = load_config(f)
    assert (cfg.request_rate, cfg.request_burst) == (50.0, 100)
    cfg = cfg.with_overrides(request_rate=5, request_burst=7)
    assert (cfg.request_rate, cfg.request_burst) == (5.0, 7)
    f.write_text(f"[rig]\nrequest_rate = {MAX_REQUEST_RATE + 1}\n")
    with pytest.raises(RigConfigError, match=r"rig.toml:2: rig.request_rate: must be at most 10000"):
        load_config(f)
    f.write_text("[rig]\nrequest_burst = 0\n")
    with pytest.raises(RigConfigError, match=r"rig\.request_burst"):
        load_config(f)
    with pytest.raises(RigConfigError, match="--request-rate"):
        default_config().with_overrides(request_rate=float("nan"))


def test_run_flags_reach_the_config(capsys: pytest.CaptureFixture[str]) -> None:
    from wakebench.cli import main

    assert main(["run", "--board", "sim", "--request-rate", "0", "--check"]) == 2
    assert "--request-rate" in capsys.readouterr().err
    assert main(["run", "--board", "sim", "--request-rate", "3", "--request-burst", "4", "--check"]) == 0


