"""User name / password, TLS (CA, client certificate, insecure) and per-app ACLs from
``wakebench acl`` on a real Mosquitto."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable

import aiomqtt
import pytest

from mqtt_bridge import AppClient, BrokerConfig, NotConnectedError
from tests.bridge.helpers import RigHarness, Watcher, unique_id
from tests.mosquitto import Mosquitto

pytestmark = pytest.mark.broker


async def connect_once(url: str, *, wait_s: float = 5.0) -> None:
    c = BrokerConfig.from_url(url)
    client = aiomqtt.Client(c.host, c.port, username=c.username, password=c.password,
                            protocol=aiomqtt.ProtocolVersion.V5, tls_context=c.ssl_context(), timeout=wait_s)
    async with client:
        pass


async def test_anonymous_and_wrong_password_are_refused_on_the_auth_listener(mosquitto: Mosquitto) -> None:
    anon = f"mqtt://127.0.0.1:{mosquitto.auth_port}"
    with pytest.raises(aiomqtt.MqttCodeError) as err:
        await connect_once(anon)
    assert err.value.rc == 135  # MQTT 5 reason code 0x87 Not authorized
    with pytest.raises(aiomqtt.MqttCodeError):
        await connect_once(mosquitto.url(user="wakebench-test", password="wrong"))
    await connect_once(mosquitto.url(user="wakebench-test"))


async def test_bridge_logs_in_with_user_and_password(mosquitto: Mosquitto) -> None:
    rig = unique_id("auth")
    async with RigHarness(mosquitto.url(user="wakebench-test"), rig) as h, \
            Watcher(mosquitto.url(), h.topics.bridge_state()) as watch:
        state = (await watch.topic(h.topics.bridge_state())).json()
        assert (state["state"], state["instance"]) == ("online", h.bridge.instance)


async def test_bridge_with_a_wrong_password_keeps_retrying_and_says_why(mosquitto: Mosquitto) -> None:
    h = RigHarness(mosquitto.url(user="wakebench-test", password="nope"), unique_id("badpw"))
    await h.bridge.start()
    try:
        with pytest.raises(TimeoutError):
            await h.bridge.wait_connected(1.0)
        assert h.bridge.last_error is not None and "authori" in h.bridge.last_error.lower()
    finally:
        await h.bridge.stop()


async def test_tls_with_the_ca_file(mosquitto: Mosquitto) -> None:
    rig = unique_id("tls")
    async with RigHarness(mosquitto.url(tls=True), rig) as h, \
            AppClient(mosquitto.url(tls=True), app_id="secure", rig=rig) as app:
        await app.register("capacitor")
        await app.request("before_exit")
        assert (await app.next_event(5))["type"] == "wake"
        assert h.bridge.connected


async def test_tls_without_the_ca_fails_verification_unless_insecure(mosquitto: Mosquitto) -> None:
    untrusted = f"mqtts://localhost:{mosquitto.tls_port}"
    h = RigHarness(untrusted, unique_id("notrust"))
    await h.bridge.start()
    try:
        with pytest.raises(TimeoutError):
            await h.bridge.wait_connected(1.0)
        assert "certificate verify failed" in (h.bridge.last_error or "")
    finally:
        await h.bridge.stop()
    async with RigHarness(f"{untrusted}?insecure=1", unique_id("insecure")) as ok:
        assert ok.bridge.connected


async def test_mutual_tls_needs_the_client_certificate(mosquitto: Mosquitto) -> None:
    async with RigHarness(mosquitto.url(mtls=True), unique_id("mtls")) as h:
        assert h.bridge.connected
    assert mosquitto.tls_files is not None
    no_cert = f"mqtts://localhost:{mosquitto.mtls_port}?ca={mosquitto.tls_files.ca}"
    with pytest.raises(aiomqtt.MqttError):  # refused in the handshake, or no CONNACK ever comes
        await connect_once(no_cert, wait_s=1.0)


async def test_acl_from_wakebench_acl_confines_each_app(mosquitto_factory: Callable[..., Mosquitto]) -> None:
    rig = unique_id("acl")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "wakebench.cli", "acl", "--rig", rig, "--app", "victim", "--app", "spy",
        stdout=asyncio.subprocess.PIPE)
    out, _ = await proc.communicate()
    assert proc.returncode == 0
    acl = out.decode()
    users = {f"wakebench-{rig}": "rig-pw", "victim": "victim-pw", "spy": "spy-pw"}
    broker = mosquitto_factory(users=users, acl=acl, tls=False, username_as_clientid=True)
    async with RigHarness(broker.url(user=f"wakebench-{rig}"), rig) as h, \
            AppClient(broker.url(user="victim"), app_id="victim", rig=rig) as victim:
        t = h.topics
        await victim.register("capacitor")
        task = await victim.request("before_exit")
        assert (await victim.next_event(5))["seq"] == 1

        async with Watcher(broker.url(user="spy"), t.app_events("spy"), t.app_root("spy") + "/response/+",
                           client_id="spy") as spy:
            # Mosquitto 2.0.11 grants these subscriptions and checks read access per message
            await spy.client.subscribe(t.app_events("victim"), qos=1)
            await spy.client.subscribe(f"{t.base}/apps/+/events", qos=1)
            await spy.client.subscribe(f"{t.base}/apps/victim/#", qos=1)
            # the spy tries to end the victim's task: the broker drops the publish
            await spy.client.publish(t.app_request("victim", "finish"),
                                     f'{{"task_id": "{task["task_id"]}"}}', qos=1)
            # then works on its own topics: these replies are the barrier (same publisher order)
            await spy.client.publish(t.app_request("spy", "register"), b'{"platform": "capacitor"}', qos=1)
            await spy.client.publish(t.app_request("spy", "before_exit"), b"", qos=1)
            await spy.topic(t.app_events("spy"), where=lambda e: e["type"] == "wake")
            await victim.request("status")  # the victim still gets answers
            assert [m.topic for m in spy.messages if "/victim/" in m.topic] == []
            assert h.scheduler.tasks("victim")[task["task_id"]]["state"] == "running"
            assert "spy" in h.scheduler.apps

        # anonymous access to the ACL listener fails
        with pytest.raises(NotConnectedError, match="not connected"):
            async with AppClient(f"mqtt://127.0.0.1:{broker.auth_port}", app_id="victim", rig=rig, timeout=1):
                pass
