"""Issue #8.4, one live rig per rig id on a broker (real mosquitto, ``wakebench run`` subprocesses):
a second live rig with the same id is refused (one line naming the holder, exit 2); a restart
right after a crash is accepted — also while the broker still shows the dead rig ``online``
(its will not yet sent); ``--takeover`` starts anyway and the old rig stops by itself (exit 3)
instead of fighting for the client id."""

from __future__ import annotations

import json
import signal
from pathlib import Path
from typing import Any

import pytest

from mqtt_bridge.owner import PROBE_TIMEOUT_S, lost_to, own_state, parse_state
from tests.mosquitto import Mosquitto
from tests.rig.helpers import Observer, RigProcess, is_json, unique_rig
from tests.rig.test_crash_safety import WAIT, rig_args
from wakebench.commands.run import EXIT_INVALID, EXIT_TAKEN_OVER


async def online(obs: Observer, rig: str, *, start: int = 0) -> dict[str, Any]:
    """The next ``online`` state of ``rig`` (from message ``start`` on)."""
    msg = await obs.wait(is_json(f"wakebench/{rig}/bridge/state", state="online"), start=start, within=WAIT)
    body: dict[str, Any] = msg.json()
    return body


#: One health_check attempt: a live rig answers in milliseconds; a request sent while the rig is
#: reconnecting (a takeover kicks the new rig once) reaches nobody and is sent again.
HEALTH_ATTEMPT_S = 2.0


async def health(obs: Observer, rig: str) -> dict[str, Any]:
    for attempt in range(int(WAIT / HEALTH_ATTEMPT_S)):
        start, tx = len(obs.messages), f"t-owner-{attempt}"
        await obs.publish(f"wakebench/{rig}/bridge/request/health_check", {"transaction": tx})
        try:
            msg = await obs.wait(is_json(f"wakebench/{rig}/bridge/response/health_check", transaction=tx),
                                 start=start, within=HEALTH_ATTEMPT_S)
        except TimeoutError:
            continue
        data: dict[str, Any] = msg.json()["data"]
        return data
    raise AssertionError(f"rig {rig} did not answer health_check within {WAIT:g} s")


def test_state_rules() -> None:
    """What a ``bridge/state`` message means to the running instance ``me``."""
    me = "aaaaaaaaaaaa"
    other_online = own_state("online", "bbbbbbbbbbbb").payload()
    other_offline = own_state("offline", "bbbbbbbbbbbb").payload()
    # live: another instance online = taken over; another's offline (a late will) is not
    assert lost_to(me, other_online, retained=False, reconnected=False) is not None
    assert lost_to(me, other_offline, retained=False, reconnected=True) is None
    # stored at subscribe: a predecessor's at the first connection; a successor's at a reconnection
    assert lost_to(me, other_online, retained=True, reconnected=False) is None
    assert lost_to(me, other_offline, retained=True, reconnected=True) is not None
    # our own, an older rig's (no instance) and garbage never count
    for payload in (own_state("online", me).payload(), b'{"state":"online"}', b"\xff", b"[]", b'{"state":1}'):
        assert lost_to(me, payload, retained=False, reconnected=True) is None
    assert parse_state(b'{"state":"online","instance":"x","pid":true,"host":7}') == parse_state(
        b'{"state":"online","instance":"x"}')


async def test_a_second_live_rig_with_the_same_id_is_refused(mosquitto_factory: Any, tmp_path: Path) -> None:
    broker: Mosquitto = mosquitto_factory(tls=False)
    rig = unique_rig("owned")
    first = await RigProcess(*rig_args(broker, rig, tmp_path / "a")).start()
    try:
        async with Observer("127.0.0.1", broker.port, f"wakebench/{rig}/bridge/#") as obs:
            await first.wait_line(r"wakebench rig", within=WAIT)
            owner = await online(obs, rig)
            assert first.proc is not None and owner["pid"] == first.proc.pid
            second = await RigProcess(*rig_args(broker, rig, tmp_path / "b")).start()
            code = await second.wait(within=WAIT)
            err = second.stderr.decode().strip().splitlines()
            assert code == EXIT_INVALID, second.output
            assert len(err) == 1 and "already online" in err[0], err
            assert f"instance {owner['instance']}" in err[0] and f"pid {first.proc.pid}" in err[0], err
            assert "--takeover" in err[0]
            # the first rig was never disturbed: same instance online, never reconnected
            data = await health(obs, rig)
            assert (data["instance"], data["connected"], data["reconnects"]) == (owner["instance"], True, 0)
            states = [m.json() for m in obs.messages if m.topic.endswith("/bridge/state") and m.payload]
            assert {s["instance"] for s in states} == {owner["instance"]}
        assert await first.terminate(within=WAIT) == 0, first.output
    finally:
        await first.kill()


async def test_sigkill_then_immediate_restart_is_accepted(mosquitto_factory: Any, tmp_path: Path) -> None:
    broker: Mosquitto = mosquitto_factory(tls=False)
    rig, state = unique_rig("crash"), tmp_path / "state"
    async with Observer("127.0.0.1", broker.port, f"wakebench/{rig}/bridge/state") as obs:
        proc = await RigProcess(*rig_args(broker, rig, state)).start()
        try:
            await proc.wait_line(r"wakebench rig", within=WAIT)
            dead = await online(obs, rig)
            await proc.kill()  # SIGKILL
            mark = len(obs.messages)
            proc = await RigProcess(*rig_args(broker, rig, state)).start()  # at once, same state dir
            await proc.wait_line(r"wakebench rig", within=WAIT)
            again = await online(obs, rig, start=mark)
            assert again["instance"] != dead["instance"]
            assert await proc.terminate(within=WAIT) == 0, proc.output
        finally:
            await proc.kill()


async def test_restart_while_the_broker_still_shows_the_dead_rig_online(
        mosquitto_factory: Any, tmp_path: Path) -> None:
    """A hung rig (SIGSTOP: its connection open, its will not sent, nothing answered) is what a
    crashed rig looks like before the broker notices: the broker holds its ``online``. A new rig
    with that id is accepted after the probe's ``health_check`` goes unanswered, says so, and takes
    the client id over."""
    broker: Mosquitto = mosquitto_factory(tls=False)
    rig = unique_rig("hung")
    hung = await RigProcess(*rig_args(broker, rig, tmp_path / "a")).start()
    new: RigProcess | None = None
    try:
        async with Observer("127.0.0.1", broker.port, f"wakebench/{rig}/bridge/#") as obs:
            await hung.wait_line(r"wakebench rig", within=WAIT)
            dead = await online(obs, rig)
            assert hung.proc is not None
            hung.proc.send_signal(signal.SIGSTOP)
            mark = len(obs.messages)
            args = [a for a in rig_args(broker, rig, tmp_path / "b") if a != "--quiet"]
            new = await RigProcess(*args).start()
            await new.wait_line(r"wakebench rig", within=WAIT + PROBE_TIMEOUT_S)
            note = await new.wait_line(r"did not answer health_check", within=1)
            assert f"instance {dead['instance']}" in note.string
            fresh = await online(obs, rig, start=mark)
            assert fresh["instance"] != dead["instance"]
            data = await health(obs, rig)
            assert data["instance"] == fresh["instance"] and data["connected"]
    finally:
        if hung.proc is not None and hung.proc.returncode is None:
            hung.proc.send_signal(signal.SIGKILL)
        await hung.kill()
        if new is not None:
            await new.kill()


async def test_takeover_starts_and_the_old_rig_stops_by_itself(mosquitto_factory: Any, tmp_path: Path) -> None:
    broker: Mosquitto = mosquitto_factory(tls=False)
    rig = unique_rig("takeover")
    old = await RigProcess(*rig_args(broker, rig, tmp_path / "a")).start()
    new: RigProcess | None = None
    try:
        async with Observer("127.0.0.1", broker.port, f"wakebench/{rig}/bridge/#") as obs:
            await old.wait_line(r"wakebench rig", within=WAIT)
            first = await online(obs, rig)
            mark = len(obs.messages)
            args = [a for a in rig_args(broker, rig, tmp_path / "b") if a != "--quiet"]
            new = await RigProcess(*args, "--takeover").start()
            await new.wait_line(r"taking over from the live instance", within=WAIT)
            code = await old.wait(within=WAIT)
            err = old.stderr.decode().strip().splitlines()
            assert code == EXIT_TAKEN_OVER, old.output
            assert [line for line in err if "taken over" in line and "wakebench run:" in line], err
            taker = await online(obs, rig, start=mark)
            assert taker["instance"] != first["instance"]
            assert f"instance {taker['instance']}" in "\n".join(err)
            # no fight: the new rig owns the id, was kicked at most once by the old one's reconnect
            data = await health(obs, rig)
            assert (data["instance"], data["connected"]) == (taker["instance"], True)
            assert data["reconnects"] <= 1
            async with Observer("127.0.0.1", broker.port, f"wakebench/{rig}/bridge/state") as late:
                retained = await late.wait(lambda m: bool(m.payload), within=WAIT)
                assert retained.retain and json.loads(retained.payload) == {**taker, "state": "online"}
        assert new is not None and await new.terminate(within=WAIT) == 0, new.output
    finally:
        await old.kill()
        if new is not None:
            await new.kill()


pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")


async def test_refused_on_a_listener_that_forces_client_id_to_user_name(
        mosquitto_factory: Any, tmp_path: Path) -> None:
    """``use_username_as_clientid true``: the probe, logging in as the rig's user, is given the
    live rig's client id and disconnects it for a moment; the rig takes it back and the probe
    counts that as a live owner."""
    broker: Mosquitto = mosquitto_factory(tls=False, username_as_clientid=True)
    rig = unique_rig("userid")
    url = broker.url(user="wakebench-test")

    def args(state: Path) -> tuple[str, ...]:
        return ("--board", "sim", "--speed", "600", "--broker", url, "--rig", rig,
                "--state-dir", str(state), "--quiet")

    first = await RigProcess(*args(tmp_path / "a")).start()
    try:
        await first.wait_line(r"wakebench rig", within=WAIT)
        second = await RigProcess(*args(tmp_path / "b")).start()
        code = await second.wait(within=WAIT)
        err = second.stderr.decode().strip().splitlines()
        assert code == EXIT_INVALID and len(err) == 1 and "already online" in err[0], second.output
        assert first.proc is not None and f"pid {first.proc.pid}" in err[0]
        assert first.proc.returncode is None  # the first rig runs on
        assert await first.terminate(within=WAIT) == 0, first.output
    finally:
        await first.kill()
