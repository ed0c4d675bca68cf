"""``wakebench fault [--broker URL] [--rig ID] TARGET KIND [--for DURATION]``: inject a fault
into a running rig's emulated board (issue 9 item 4), the same vocabulary as the MQTT verb
``bridge/request/inject_fault`` and a scenario's ``fault:`` step (:mod:`wbcommon.faults`)::

    wakebench fault gauge nack --for 2m      # the gauge stops ACKing for two rig minutes
    wakebench fault charger stuck            # until: wakebench fault charger clear
    wakebench fault network flap --for 5s

Without ``--rig`` the one rig online on the broker is used (several: they are listed).
Exit status: 0 applied, 1 refused by the rig (its error code is printed, e.g.
``not_supported_on_hardware``), 2 bad arguments or no rig reachable.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import uuid
from typing import Any, Final

from wbcommon.faults import CLEAR, KINDS, InvalidFaultError, parse_fault

DEFAULT_BROKER: Final = "mqtt://127.0.0.1:1883"
#: How long to wait for the retained ``bridge/state`` of the rigs on the broker (s).
DISCOVERY_S: Final = 1.0
#: How long to wait for the rig's answer (s).
ANSWER_S: Final = 10.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``fault``."""
    parser.add_argument("target", choices=sorted(KINDS), help="what fails")
    kinds = sorted({k for ks in KINDS.values() for k in ks} | {CLEAR})
    parser.add_argument("kind", choices=kinds, help="how it fails (clear: end the target's fault)")
    parser.add_argument("--for", dest="duration", metavar="DURATION",
                        help="how long, in rig time (90s, 2m, 1h30m, seconds); default: until cleared")
    parser.add_argument("--broker", default=DEFAULT_BROKER, metavar="URL",
                        help=f"broker URL (default {DEFAULT_BROKER})")
    parser.add_argument("--rig", default=None, metavar="ID",
                        help="rig id (default: the one rig online on the broker)")
    parser.add_argument("--prefix", default="wakebench", help=argparse.SUPPRESS)


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
        return 2
    try:
        broker = BrokerConfig.from_url(args.broker, client_id=None, protocol="3.1.1")
    except BridgeConfigError as exc:
        print(f"wakebench fault: --broker: {exc}", file=sys.stderr)
        return 2
    try:
        return asyncio.run(_send(broker, args.prefix, args.rig, fault.to_dict()))
    except OSError as exc:
        print(f"wakebench fault: cannot reach {args.broker}: {exc}", file=sys.stderr)
        return 2


async def _send(broker: Any, prefix: str, rig: str | None, body: dict[str, Any]) -> int:
    import aiomqtt

    transaction = uuid.uuid4().hex[:12]
    try:
        async with aiomqtt.Client(
            broker.host, broker.port, username=broker.username, password=broker.password,
            identifier=broker.client_id, keepalive=broker.keepalive, tls_context=broker.ssl_context(),
            protocol=aiomqtt.ProtocolVersion.V5 if broker.mqtt5 else aiomqtt.ProtocolVersion.V311,
        ) as client:
            if rig is None:
                rigs = await _online_rigs(client, prefix)
                if len(rigs) != 1:
                    have = ", ".join(rigs) if rigs else "none"
                    print(f"wakebench fault: --rig is needed: rigs online on the broker: {have}",
                          file=sys.stderr)
                    return 2
                rig = rigs[0]
            response = f"{prefix}/{rig}/bridge/response/inject_fault"
            await client.subscribe(response, qos=1)
            await client.publish(f"{prefix}/{rig}/bridge/request/inject_fault",
                                 json.dumps({**body, "transaction": transaction}), qos=1)
            try:
                async with asyncio.timeout(ANSWER_S):
                    async for message in client.messages:
                        answer = _json(message.payload)
                        if answer.get("transaction") == transaction:
                            return _report(rig, body, answer)
            except TimeoutError:
                pass
            print(f"wakebench fault: rig {rig!r} did not answer within {ANSWER_S:g} s "
                  "(is it running on this broker?)", file=sys.stderr)
            return 2
    except aiomqtt.MqttError as exc:
        print(f"wakebench fault: cannot reach the broker: {exc}", file=sys.stderr)
        return 2


async def _online_rigs(client: Any, prefix: str) -> list[str]:
    """Rig ids whose retained ``bridge/state`` says online."""
    rigs: dict[str, bool] = {}
    await client.subscribe(f"{prefix}/+/bridge/state", qos=1)
    try:
        async with asyncio.timeout(DISCOVERY_S):
            async for message in client.messages:
                rig = str(message.topic).split("/")[-3]
                rigs[rig] = _json(message.payload).get("state") == "online"
    except TimeoutError:
        pass
    await client.unsubscribe(f"{prefix}/+/bridge/state")
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
