"""``wakebench run`` as a subprocess on a real Mosquitto, driven only through MQTT.

Timing facts checked (rig ``t`` fields, ``--speed 600``: one wall second is ten rig minutes):

* WP8 resource-intensive agent: "10 minutes" of run time, only with external power — revoked at
  once when the charger is pulled (seed 003; firmware_sim/platforms/wp8.py).
* UWP ExtendedExecution ``unspecified``: unlimited on wall power, "up to ten minutes in the
  background" on battery, then ``revoke`` ``system_policy`` (seed 002; platforms/uwp.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mqtt_bridge import AppClient
from tests.rig.helpers import Msg, Observer, RigProcess, is_json, unique_rig

pytestmark = pytest.mark.broker

SPEED = 600
#: seed 003: a resource-intensive agent runs "for up to 10 minutes"
WP8_RESOURCE_INTENSIVE_S = 600.0
#: seed 002: "unspecified" on battery, in the background: "up to ten minutes"
UWP_ON_BATTERY_S = 600.0
#: wall-clock rounding in the rig: event t and signals t are the same float, rounded to 1 µs
SAME_T = 1e-5


def signals_with(rig: str, **values: Any) -> Any:
    def pred(m: Msg) -> bool:
        if m.topic != f"wakebench/{rig}/signals" or not m.payload:
            return False
        body = m.json()
        return all(body.get(k) == v for k, v in values.items())
    return pred


async def start_rig(url_port: int, rig: str, state_dir: Path, *extra: str) -> RigProcess:
    return await RigProcess("--board", "sim", "--speed", str(SPEED), "--broker", f"mqtt://127.0.0.1:{url_port}",
                            "--rig", rig, "--state-dir", str(state_dir), *extra).start()


async def test_charger_pull_revokes_wp8_at_once_and_uwp_after_ten_battery_minutes(mosquitto: Any, tmp_path: Path) -> None:
    rig = unique_rig("e2e")
    base = f"wakebench/{rig}"
    async with Observer("127.0.0.1", mosquitto.port, f"{base}/#") as obs:
        proc = await start_rig(mosquitto.port, rig, tmp_path / "state")
        try:
            await obs.wait(is_json(f"{base}/bridge/state", state="online"))
            info = (await obs.wait(lambda m: m.topic == f"{base}/bridge/info")).json()
            assert info["board"] == "sim" and info["speed"] == SPEED and "charger" in info["settable"]

            # the bench: on the charger, battery 95 %, Wi-Fi, screen locked (seed 003 conditions)
            await obs.publish(f"{base}/signals/set", {"charger": "ac", "battery_level": 95, "network": "wifi",
                                                      "screen_locked": True, "on_call": False})
            await obs.wait(signals_with(rig, charger="ac", screen_locked=True, charging=True))

            url = f"mqtt://127.0.0.1:{mosquitto.port}"
            async with AppClient(url, app_id="mail", rig=rig) as mail, AppClient(url, app_id="rec", rig=rig) as rec:
                await rec.register("uwp")
                await rec.request("request_extension", reason="unspecified")
                rwake = await rec.next_event()
                assert (rwake["type"], rwake["deadline"]) == ("wake", None)  # unlimited on wall power
                await rec.request("state", state="background")

                # the WP8 agent last: its 10 minutes are one wall second at --speed 600
                await mail.register("wp8")
                await mail.request("add", name="sync", type="resource_intensive")
                wake = await mail.next_event()
                assert (wake["type"], wake["task_id"], wake["seq"]) == ("wake", "sync", 1)
                assert wake["deadline"] - wake["t"] == pytest.approx(WP8_RESOURCE_INTENSIVE_S, abs=SAME_T)

                mark = len(obs.messages)
                await obs.publish(f"{base}/signals/set", {"charger": "none"})
                unplugged = (await obs.wait(signals_with(rig, charger="none"), start=mark)).json()

                revoke = await mail.next_event()
                assert (revoke["type"], revoke["task_id"], revoke["reason"], revoke["seq"]) == (
                    "revoke", "sync", "charger_removed", 2)
                # at once: the revoke carries the very rig time of the edge that caused it
                assert revoke["t"] == pytest.approx(unplugged["t"], abs=SAME_T)
                assert revoke["signals"]["charger"] == "none"
                assert revoke["t"] < wake["deadline"]

                rrev = await rec.next_event(timeout=10)
                assert (rrev["type"], rrev["task_id"], rrev["reason"], rrev["seq"]) == (
                    "revoke", rwake["task_id"], "system_policy", 2)
                assert rrev["t"] == pytest.approx(unplugged["t"] + UWP_ON_BATTERY_S, abs=SAME_T)
            # every event also went to the observer, in seq order, none twice
            seqs = [e["seq"] for e in obs.json_on(f"{base}/apps/mail/events")]
            assert seqs == sorted(set(seqs)) and seqs[:2] == [1, 2]
        finally:
            code = await proc.terminate()
        assert code == 0, proc.output
        offline = await obs.wait(is_json(f"{base}/bridge/state", state="offline"))
        assert offline is not None
    assert "REVOKE" in proc.output and "charger_removed" in proc.output


async def test_sigterm_during_a_task_then_restart(mosquitto_factory: Any, tmp_path: Path) -> None:
    """SIGTERM while a task runs and while the broker is down; restart: the events produced while
    the broker was away arrive from the journal with their original rig times, the Capacitor task
    (it lives in the app process, which a reboot ends) is ``unscheduled`` with reason ``restart``
    — never woken twice, never expired —, and the rig clock continues where it stopped."""
    broker = mosquitto_factory(tls=False)
    rig = unique_rig("restart")
    base = f"wakebench/{rig}"
    state = tmp_path / "state"
    config = tmp_path / "rig.toml"
    # a long Capacitor budget keeps the task running across the restart at --speed 600
    config.write_text("[limits.capacitor]\nbefore_exit_s = 36000\n", encoding="utf-8")
    url = f"mqtt://127.0.0.1:{broker.port}"

    async with Observer("127.0.0.1", broker.port, f"{base}/#") as obs:
        first = await start_rig(broker.port, rig, state, "--config", str(config))
        try:
            await obs.wait(is_json(f"{base}/bridge/state", state="online"))
            await obs.publish(f"{base}/signals/set", {"charger": "ac", "battery_level": 95, "network": "wifi",
                                                      "screen_locked": True})
            await obs.wait(signals_with(rig, charger="ac", screen_locked=True))
            async with AppClient(url, app_id="up", rig=rig) as up, AppClient(url, app_id="mail", rig=rig) as mail:
                await up.register("capacitor")
                await up.request("state", state="background")
                task = await up.request("before_exit")
                up_wake = await up.next_event()
                await mail.register("wp8")
                await mail.request("add", name="sync", type="resource_intensive")
                mail_wake = await mail.next_event()
            assert up_wake["deadline"] - up_wake["t"] == pytest.approx(36000.0)
            running = await obs.wait(lambda m: m.topic == f"{base}/apps/up/tasks/{task['task_id']}" and bool(m.payload))
            assert running.json()["state"] == "running"

            broker.kill()  # the broker vanishes; the WP8 agent's 10 minutes run out meanwhile
            await first.wait_line(r"EXPIRE\s+mail/sync")
            code = await first.terminate()
        except BaseException:
            await first.kill()
            raise
        assert code == 0, first.output
        assert "state saved in" in first.output

    broker.start()
    async with Observer("127.0.0.1", broker.port, f"{base}/#") as obs2:
        second = await start_rig(broker.port, rig, state, "--config", str(config))
        try:
            resumed = await second.wait_line(r"rig clock resumes at (\S+)")
            # the outbox delivers what was pending, with the rig times it happened at
            expire = (await obs2.wait(is_json(f"{base}/apps/mail/events", type="expire"))).json()
            assert (expire["task_id"], expire["seq"]) == ("sync", 2)
            assert expire["t"] == pytest.approx(mail_wake["deadline"], abs=SAME_T)
            # the beforeExit task does not survive the restart: one `unscheduled`, reason restart
            dropped = (await obs2.wait(is_json(f"{base}/apps/up/events", type="unscheduled"))).json()
            assert (dropped["task_id"], dropped["reason"], dropped["seq"]) == (task["task_id"], "restart", 2)
            assert up_wake["deadline"] > dropped["t"]  # it was still running when the rig stopped
            signals = (await obs2.wait(lambda m: m.topic == f"{base}/signals" and bool(m.payload))).json()
            # the rig clock continued from the saved rig time, not from zero
            assert signals["t"] >= expire["t"]
            assert resumed.group(1) != "0:00:00"
        finally:
            code = await second.terminate()
        assert code == 0, second.output
    up_events = obs.json_on(f"{base}/apps/up/events") + obs2.json_on(f"{base}/apps/up/events")
    assert [e["type"] for e in up_events] == ["wake", "unscheduled"]  # no second wake, no expire
    mail_seqs = sorted({e["seq"] for e in obs.json_on(f"{base}/apps/mail/events")
                        + obs2.json_on(f"{base}/apps/mail/events")})
    assert mail_seqs == list(range(1, len(mail_seqs) + 1))  # gap-free across the restart


# -- command-line behaviour -----------------------------------------------------------------------
async def test_config_errors_name_file_key_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "rig.toml"
    bad.write_text('[rig]\nid = "ok"\n\n[broker]\nurl = "mqtt://h"\nkeepalive = "soon"\n', encoding="utf-8")
    proc = await RigProcess("--config", str(bad)).start()
    assert await proc.wait() == 2
    assert f"{bad}:6: broker.keepalive: must be whole seconds" in proc.output

    proc = await RigProcess("--board", "x728", "--speed", "60").start()
    assert await proc.wait() == 2
    assert "--speed only works with the simulated board" in proc.output


@pytest.mark.parametrize("kind", ["in-process", "mosquitto"])
async def test_embedded_broker_serves_the_rig(kind: str, tmp_path: Path) -> None:
    rig = unique_rig(f"emb-{kind}")
    proc = await RigProcess("--board", "sim", "--rig", rig, "--state-dir", str(tmp_path),
                            "--embedded-broker", kind).start()
    try:
        m = await proc.wait_line(rf"embedded broker \({kind}\) on 127\.0\.0\.1:(\d+)")
        port = int(m.group(1))
        await proc.wait_line(r"mosquitto_sub -h 127\.0\.0\.1 -p \d+ -t 'wakebench/")
        async with Observer("127.0.0.1", port, f"wakebench/{rig}/#", v311=True) as obs:
            await obs.wait(is_json(f"wakebench/{rig}/bridge/state", state="online"))
            await obs.publish(f"wakebench/{rig}/signals/set", {"charger": "usb"})
            await obs.wait(signals_with(rig, charger="usb"))
            assert await proc.terminate() == 0, proc.output
            await obs.wait(is_json(f"wakebench/{rig}/bridge/state", state="offline"))
    finally:
        await proc.kill()


def _scenario(tmp_path: Path, expect_reason: str) -> Path:
    path = tmp_path / "s.yaml"
    path.write_text(f"""
name: charger pull on the live rig
seed: 1
board: sim
initial: {{battery_level: 95, charger: ac, network: wifi, screen_locked: true, on_call: false}}
apps:
  - {{id: mail, platform: wp8}}
steps:
  - {{at: 0s, app: mail, request: add, args: {{name: sync, type: resource_intensive}}}}
  - {{at: 3m, set: {{charger: none}}}}
expect:
  - {{at: 0s, app: mail, event: wake, task: sync}}
  - {{at: 3m, app: mail, event: revoke, task: sync, reason: {expect_reason}}}
  - {{app: mail, event: expire, count: 0}}
until: 6m
""", encoding="utf-8")
    return path


@pytest.mark.parametrize(("reason", "code"), [("charger_removed", 0), ("network_lost", 1)])
async def test_scenario_exit_code_is_that_of_simulate(tmp_path: Path, reason: str, code: int) -> None:
    # --clock stepped: rig time jumps from step to step, so a loaded machine cannot make a step late
    proc = await RigProcess("--board", "sim", "--clock", "stepped", "--rig", unique_rig("sc"),
                            "--embedded-broker", "in-process",
                            "--scenario", str(_scenario(tmp_path, reason))).start()
    assert await proc.wait(within=30) == code, proc.output
    assert "REVOKE" in proc.output and "charger_removed" in proc.output
    assert ("3/3 met" if code == 0 else "2/3 met") in proc.output


async def test_stepped_clock_needs_a_scenario() -> None:
    proc = await RigProcess("--board", "sim", "--clock", "stepped").start()
    assert await proc.wait() == 2
    assert "--clock stepped needs --scenario" in proc.output


async def test_invalid_scenario_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nsteps:\n  - {at: soon, set: {charger: none}}\n", encoding="utf-8")
    proc = await RigProcess("--board", "sim", "--scenario", str(bad)).start()
    assert await proc.wait() == 2
    assert str(bad) in proc.output


async def test_real_board_reports_unsettable_steps_as_manual(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text("""
name: pull the X1200's supply by hand
board: x120x
steps:
  - {at: 0s, set: {charger: none}}
until: 1s
""", encoding="utf-8")
    proc = await RigProcess("--board", "x120x", "--rig", unique_rig("manual"), "--embedded-broker", "in-process",
                            "--state-dir", str(tmp_path), "--scenario", str(path)).start()
    assert await proc.wait(within=30) == 0, proc.output
    assert "MANUAL" in proc.output and "set charger=none by hand" in proc.output
    # this machine has no I2C bus nor GPIO chip: the faults are reported, the rig keeps running
    assert "FAULT" in proc.output


@pytest.mark.parametrize("listener", ["password", "tls"])
async def test_rig_reaches_a_broker_with_credentials_or_tls(mosquitto: Any, tmp_path: Path, listener: str) -> None:
    """Credentials from ``broker.password_file`` in the rig TOML; TLS from the URL's ``ca``."""
    rig = unique_rig(f"secure-{listener}")
    config = tmp_path / "rig.toml"
    if listener == "password":
        (tmp_path / "pw").write_text("test-password\n", encoding="utf-8")
        config.write_text(f'[broker]\nurl = "mqtt://wakebench-test@127.0.0.1:{mosquitto.auth_port}"\n'
                          f'password_file = "{tmp_path / "pw"}"\n', encoding="utf-8")
    else:
        config.write_text(f'[broker]\nurl = "{mosquitto.url(tls=True)}"\n', encoding="utf-8")
    async with Observer("127.0.0.1", mosquitto.port, f"wakebench/{rig}/#") as obs:
        proc = await RigProcess("--config", str(config), "--board", "sim", "--rig", rig,
                                "--state-dir", str(tmp_path / "state")).start()
        try:
            await obs.wait(is_json(f"wakebench/{rig}/bridge/state", state="online"))
        finally:
            assert await proc.terminate() == 0, proc.output
        await obs.wait(is_json(f"wakebench/{rig}/bridge/state", state="offline"))
    assert "test-password" not in proc.output


async def test_check_validates_the_shipped_sample_without_starting() -> None:
    proc = await RigProcess("--config", "deploy/rig.toml", "--check").start()
    assert await proc.wait() == 0, proc.output
    assert "deploy/rig.toml: OK · rig x1200-bench · board x120x" in proc.output
