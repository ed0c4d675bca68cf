"""``wakebench fault TARGET KIND [--for DURATION] [--broker URL] [--rig ID]``: inject a fault
into a running rig's emulated board (issue 9 item 4), the same vocabulary as the MQTT verb
``bridge/request/inject_fault`` and a scenario's ``fault:`` step (:mod:`wbcommon.faults`)::

    wakebench fault gauge nack --for 2m      # the gauge stops ACKing for two rig minutes
    wakebench fault charger stuck            # until: wakebench fault charger clear
    wakebench fault network flap --for 5s

Without flags the local rig is found by its rig file, as the other lab commands find it
(:mod:`wakebench.rigctl`); ``--broker`` without ``--rig`` uses the one rig online on that broker
(several: they are listed). Exit status: 0 applied, 1 refused by the rig (its error code is
printed, e.g. ``not_supported_on_hardware``), 2 bad arguments or several rigs online, 3 no rig
found or reachable (as in :mod:`wakebench.commands._rigargs`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any, Final

from wakebench.commands._rigargs import EXIT_UNREACHABLE, EXIT_USAGE, add_rig_arguments, run_linked
from wbcommon.faults import CLEAR, KINDS, InvalidFaultError, parse_fault

#: How long to wait for the retained ``bridge/state`` of the rigs on the broker (s): retained
#: messages arrive at once after the subscription; this only bounds a silent broker.
DISCOVERY_S: Final = 1.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``fault``."""
    parser.add_argument("target", choices=sorted(KINDS), help="what fails")
    kinds = sorted({k for ks in KINDS.values() for k in ks} | {CLEAR})
    parser.add_argument("kind", choices=kinds, help="how it fails (clear: end the target's fault)")
    parser.add_argument("--for", dest="duration", metavar="DURATION",
                        help="how long, in rig time (90s, 2m, 1h30m, seconds); default: until cleared")
    add_rig_arguments(parser)


def run(args: argparse.Namespace) -> int:
    """Send the fault, print the rig's answer."""
    from mqtt_bridge.config import BrokerConfig
    from mqtt_bridge.errors import BridgeConfigError

    raw: dict[str, Any] = {args.target: args.kind}
    if args.duration is not None:
        raw["for"] = args.duration
    try:
        fault = parse_fault(raw)
    except InvalidFaultError as exc:
        print(f"wakebench fault: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.broker is not None and args.rig is None:  # the one rig online on that broker
        try:
            broker = BrokerConfig.from_url(args.broker, client_id=None, protocol="3.1.1")
        except BridgeConfigError as exc:
            print(f"wakebench fault: --broker: {exc}", file=sys.stderr)
            return EXIT_USAGE
        try:
            rigs = asyncio.run(_online_rigs(broker))
        except Exception as exc:  # aiomqtt.MqttError, OSError: one line, never a traceback
            print(f"wakebench fault: cannot reach the broker at {args.broker}: {exc}", file=sys.stderr)
            return EXIT_UNREACHABLE
        if len(rigs) != 1:
            print(f"wakebench fault: --rig is needed: rigs online on the broker: {', '.join(rigs) or 'none'}",
                  file=sys.stderr)
            return EXIT_USAGE if rigs else EXIT_UNREACHABLE
        args.rig = rigs[0]
    body = fault.to_dict()

    async def send(link: Any) -> int:
        return _report(link.ref.rig, body, await link.bridge_request("inject_fault", body))

    return run_linked(args, "fault", send)


async def _online_rigs(broker: Any) -> list[str]:
    """Rig ids whose retained ``bridge/state`` says online."""
    import aiomqtt

    rigs: dict[str, bool] = {}
    async with aiomqtt.Client(
        broker.host, broker.port, username=broker.username, password=broker.password,
        keepalive=broker.keepalive, tls_context=broker.ssl_context(), protocol=aiomqtt.ProtocolVersion.V311,
    ) as client:
        await client.subscribe(f"{broker.prefix}/+/bridge/state", qos=1)
        try:
            async with asyncio.timeout(DISCOVERY_S):
                async for message in client.messages:
                    rig = str(message.topic).split("/")[-3]
                    rigs[rig] = _json(message.payload).get("state") == "online"
        except TimeoutError:
            pass
    return sorted(r for r, online in rigs.items() if online)


def _json(payload: Any) -> dict[str, Any]:
    try:
        value = json.loads(bytes(payload))
    except (TypeError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def _report(rig: str, body: dict[str, Any], answer: dict[str, Any]) -> int:
    asked = ", ".join(f"{k}={v}" for k, v in body.items())
    if answer.get("status") != "ok":
        print(f"rig {rig}: {asked}: refused: {answer.get('code')}: {answer.get('error')}")
        return 1
    data = answer.get("data")
    active = data.get("active", {}) if isinstance(data, dict) else {}
    now = ", ".join(f"{t}={f.get(t)}" + (f" for {f['for']:g} s" if "for" in f else "")
                    for t, f in active.items()) or "none"
    print(f"rig {rig}: {asked}: applied; active faults: {now}")
    return 0
