"""MQTT API of a wakebench rig (DESIGN.md section 7): topics, payload schemas, request/response,
events with an on-disk outbox, Home Assistant discovery, ACLs and a client for app prototypes.

The API is described by ``asyncapi.yaml`` in this package. Requests are validated at run time by
pydantic models (the app verbs' in ``firmware_sim``; the envelope, rig verbs and signal values in
:mod:`mqtt_bridge.rigverbs`), from which the document's request schemas are generated.
"""

from mqtt_bridge.acl import render_acl
from mqtt_bridge.bridge import API_VERSION, Bridge
from mqtt_bridge.client import AppClient
from mqtt_bridge.config import BridgeConfig, BrokerConfig
from mqtt_bridge.errors import (
    AppRequestError,
    BridgeConfigError,
    BridgeError,
    NotConnectedError,
    OutboxError,
    RequestTimeoutError,
    TopicError,
)
from mqtt_bridge.requests import BRIDGE_VERBS
from mqtt_bridge.topics import Topics

__all__ = [
    "API_VERSION",
    "BRIDGE_VERBS",
    "AppClient",
    "AppRequestError",
    "Bridge",
    "BridgeConfig",
    "BridgeConfigError",
    "BridgeError",
    "BrokerConfig",
    "NotConnectedError",
    "OutboxError",
    "RequestTimeoutError",
    "TopicError",
    "Topics",
    "render_acl",
]
