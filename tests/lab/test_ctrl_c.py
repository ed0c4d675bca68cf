"""Ctrl-C on a rig with an app connected stops cleanly (no traceback), and an app reaches the
in-process (MQTT 3.1.1 only) broker without ``?protocol=3.1.1``."""

from __future__ import annotations

import signal

import pytest

from mqtt_bridge import AppClient
from tests.rig.helpers import RigProcess, unique_rig
from wakebench.broker import start_embedded_broker


async def test_app_client_falls_back_to_3_1_1_when_the_broker_refuses_mqtt5() -> None:
    broker = await start_embedded_broker("in-process")
    try:
        async with AppClient(broker.url, app_id="mail", rig="nobody", timeout=10) as app:
            assert app.connected and app.broker.protocol == "3.1.1"
    finally:
        await broker.stop()


@pytest.mark.parametrize("kind", ["in-process", "mosquitto"])
async def test_ctrl_c_with_a_client_connected_prints_no_traceback(kind: str) -> None:
    if kind == "mosquitto":
        from tests.conftest import _require_mosquitto

        _require_mosquitto()
    rig = unique_rig("ctrlc")
    proc = await RigProcess("--board", "sim", "--rig", rig, "--embedded-broker", kind, "--speed", "60").start()
    try:
        url = (await proc.wait_line(r"embedded broker \([a-z-]+\) on (\S+)")).group(1)
        async with AppClient(f"mqtt://{url}", app_id="mail", rig=rig, timeout=10) as app:
            await app.register("wp8")
            await app.request("add", name="sync", type="resource_intensive")
            code = await proc.terminate(signal.SIGINT)
        assert code == 0, proc.output
        assert "Traceback" not in proc.output and "CancelledError" not in proc.output, proc.output
        assert "stopped at rig time" in proc.output
    finally:
        await proc.kill()
