"""The one place that knows aiomqtt and paho (issue #15.7): the bridge asks a :class:`Transport`
for a connection and reads incoming messages as plain :class:`Incoming` values.

:class:`AiomqttTransport` builds the ``aiomqtt.Client`` (last will, protocol, TLS, in-flight
window, ``TCP_NODELAY``) and translates paho's MQTT 5 properties; a test or another MQTT library
can satisfy :class:`Transport` without subclassing anything.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Final, Protocol

import aiomqtt

from mqtt_bridge.config import BrokerConfig
from mqtt_bridge.publisher import DEFAULT_WINDOW, NO_DELAY, PublishClient

__all__ = ["AiomqttTransport", "Connection", "Incoming", "Transport", "TransportError"]

#: The transport's failure: a lost or refused connection, a failed publish or subscribe.
TransportError: Final = aiomqtt.MqttError


@dataclass(frozen=True, slots=True)
class Incoming:
    """One received message; ``response_topic``/``correlation`` are MQTT 5 properties (or None)."""

    topic: str
    payload: bytes
    response_topic: str | None = None
    correlation: bytes | None = None


class Connection(PublishClient, Protocol):
    """An open connection: publish (with PUBACK), subscribe, read messages."""

    async def subscribe(self, topic: str, qos: int = ..., *args: Any,
                        timeout: float | None = ...,  # noqa: ASYNC109 - aiomqtt's signature
                        **kwargs: Any) -> Any:
        """Subscribe and wait for the SUBACK."""
        ...


class Transport(Protocol):
    """Makes connections for the bridge and turns their messages into :class:`Incoming`."""

    def connect(self, broker: BrokerConfig, *, client_id: str, will_topic: str, will_payload: bytes,
                timeout: float, max_queued_incoming: int) -> Any:
        """An async context manager yielding a :class:`Connection` (raises TransportError)."""
        ...

    def messages(self, connection: Any) -> AsyncIterator[Incoming]:
        """The connection's incoming messages, in arrival order."""
        ...


class AiomqttTransport:
    """:class:`Transport` on aiomqtt 2.x / paho-mqtt 2.x."""

    def connect(self, broker: BrokerConfig, *, client_id: str, will_topic: str, will_payload: bytes,
                timeout: float, max_queued_incoming: int) -> aiomqtt.Client:
        client = aiomqtt.Client(
            broker.host, broker.port,
            username=broker.username, password=broker.password,
            identifier=client_id,
            protocol=aiomqtt.ProtocolVersion.V5 if broker.mqtt5 else aiomqtt.ProtocolVersion.V311,
            will=aiomqtt.Will(will_topic, will_payload, qos=1, retain=True),
            clean_session=None if broker.mqtt5 else True,
            keepalive=broker.keepalive,
            timeout=timeout,
            tls_context=broker.ssl_context(),
            max_queued_incoming_messages=max_queued_incoming,
            max_inflight_messages=DEFAULT_WINDOW,
            socket_options=NO_DELAY,
        )
        client.pending_calls_threshold = 2 * DEFAULT_WINDOW + 10
        return client

    async def messages(self, connection: Any) -> AsyncIterator[Incoming]:
        async for message in connection.messages:
            payload = message.payload
            if isinstance(payload, str):
                payload = payload.encode()
            elif not isinstance(payload, bytes | bytearray):
                payload = b"" if payload is None else str(payload).encode()
            props = message.properties
            response_topic = getattr(props, "ResponseTopic", None) if props is not None else None
            correlation = getattr(props, "CorrelationData", None) if props is not None else None
            yield Incoming(message.topic.value, bytes(payload), response_topic, correlation)
