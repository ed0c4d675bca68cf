"""Issue #8.6, fleet on real brokers: several sim rigs as separate processes on one mosquitto, and
a rig whose apps sit behind a second mosquitto joined by a ``connection`` bridge — every app's
``seq`` gap-free at a persistent QoS 1 subscriber.

The suite runs :data:`FLEET` rigs (each is a Python process: ~2-4 s of start-up on the shared
2-core machine); ``WAKEBENCH_FLEET=20`` runs the issue's full fleet.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

from tests.mosquitto import Mosquitto
from tests.rig.helpers import RigProcess, unique_rig
from tests.rig.test_crash_safety import APPS, WAIT, Load, Subscriber, check, journal_seq, rig_args

FLEET = int(os.environ.get("WAKEBENCH_FLEET", "2"))


async def run_loaded(broker_port: int, procs: list[tuple[RigProcess, str]], subs: list[Subscriber]) -> None:
    for proc, _rig in procs:
        await proc.start()
    for proc, _rig in procs:
        await proc.wait_line(r"wakebench rig", within=WAIT * 2)
    loads = [Load(broker_port, rig) for _proc, rig in procs]
    for load in loads:
        await load.__aenter__()
    try:
        for sub in subs:
            await sub.wait_for(lambda s=sub: len(s.events) >= 3 * len(APPS), "events from every rig")
    finally:
        for load in loads:
            await load.__aexit__(None, None, None)
    for proc, _rig in procs:
        assert await proc.terminate(within=WAIT * 2) == 0, proc.output


async def test_a_fleet_of_rigs_on_one_broker_is_gap_free(mosquitto_factory: Any, tmp_path: Path) -> None:
    broker: Mosquitto = mosquitto_factory(tls=False, extra_conf=("max_queued_messages 100000",))
    rigs = [(unique_rig(f"fleet{n}"), tmp_path / f"state{n}") for n in range(FLEET)]
    subs = [Subscriber(broker.port, rig) for rig, _state in rigs]
    for sub in subs:
        await sub.__aenter__()
    procs = [(RigProcess(*rig_args(broker, rig, state)), rig) for rig, state in rigs]
    try:
        await run_loaded(broker.port, procs, subs)
        for sub, (_rig, state) in zip(subs, rigs, strict=True):
            final, pending = journal_seq(state)
            assert pending == 0
            await sub.wait_for(lambda s=sub, f=final: all(s.max_seq().get(a, 0) >= f[a] for a in f),  # type: ignore[misc]
                               "every journaled event")
            check(sub.events, final, 0)
    finally:
        for proc, _rig in procs:
            await proc.kill()
        for sub in subs:
            await sub.__aexit__(None, None, None)


async def test_apps_behind_a_bridged_broker_see_every_seq(mosquitto_factory: Any, tmp_path: Path) -> None:
    """The rig talks to broker A; apps and the subscriber use broker B, which carries
    ``wakebench/#`` both ways over a mosquitto ``connection`` bridge (QoS 1)."""
    a: Mosquitto = mosquitto_factory(tls=False, extra_conf=("max_queued_messages 100000",))
    b: Mosquitto = mosquitto_factory(tls=False, extra_conf=(
        "max_queued_messages 100000",
        "connection to-a", f"address 127.0.0.1:{a.port}", "topic wakebench/# both 1",
        "cleansession false", "bridge_protocol_version mqttv311"))
    rig, state = unique_rig("bridged"), tmp_path / "state"
    async with Subscriber(b.port, rig) as sub:
        proc = RigProcess(*rig_args(a, rig, state))
        try:
            await asyncio.wait_for(run_loaded(b.port, [(proc, rig)], [sub]), WAIT * 3)
            final, pending = journal_seq(state)
            assert pending == 0 and final
            await sub.wait_for(lambda: all(sub.max_seq().get(x, 0) >= final[x] for x in final),
                               "every journaled event across the bridge")
            check(sub.events, final, 0)
        finally:
            await proc.kill()
