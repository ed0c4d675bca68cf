"""Errors of the MQTT bridge. One root, :class:`BridgeError`; leaves also subclass a builtin."""

from __future__ import annotations

from typing import Any


class BridgeError(Exception):
    """Root of every error raised by :mod:`mqtt_bridge`."""


class BridgeConfigError(BridgeError, ValueError):
    """A broker URL, bridge option or id is not valid; the message names the field."""


class TopicError(BridgeError, ValueError):
    """A topic cannot be built: an id outside ``[a-z0-9_-]{1,64}`` or a wildcard character."""


class OutboxError(BridgeError, OSError):
    """The on-disk outbox cannot be opened or written (names the file)."""


class AppRequestError(BridgeError):
    """The rig answered a request with ``status: error`` (raised by :class:`AppClient`).

    Attributes:
        code: the machine-readable code (``unknown_task``, ``rate_limited``, ``0x8007139F``...).
        data: the response's ``data`` object.
    """

    def __init__(self, verb: str, code: str, message: str, data: dict[str, Any] | None = None) -> None:
        super().__init__(f"{verb}: {code}: {message}")
        self.verb = verb
        self.code = code
        self.message = message
        self.data: dict[str, Any] = data or {}


class RequestTimeoutError(BridgeError, TimeoutError):
    """No response arrived in time (the rig is down or the broker dropped the request)."""


class NotConnectedError(BridgeError, ConnectionError):
    """The broker could not be reached in time, or the publish of a request failed."""
