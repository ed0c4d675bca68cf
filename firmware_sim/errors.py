"""Errors of the emulated OS. One root, :class:`SchedulerError`; leaves also subclass a builtin."""

from __future__ import annotations

from typing import Any


class SchedulerError(Exception):
    """Root of every error raised by :mod:`firmware_sim`."""


class SignalError(SchedulerError, ValueError):
    """A signal name or value is not valid."""


class ConfigError(SchedulerError, ValueError):
    """A limit override or platform configuration is not valid."""


class RequestError(SchedulerError, ValueError):
    """An app request was refused; ``code`` is machine-readable, the message is for people.

    Platform errors carry the platform's own code (``0x8007139F``, ``9700004``,
    ``too_many_pending_task_requests``); generic ones use wakebench codes
    (``invalid_args``, ``unknown_verb``, ``unknown_task``, ...).
    """

    def __init__(self, code: str, message: str, data: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data: dict[str, Any] = data or {}


class ScenarioError(SchedulerError, ValueError):
    """A scenario file is invalid; the message names file, line and field."""

    def __init__(self, path: str, line: int | None, field: str | None, message: str) -> None:
        where = f"{path}:{line}" if line is not None else path
        what = f" field '{field}':" if field else ""
        super().__init__(f"{where}:{what} {message}")
        self.path = path
        self.line = line
        self.field = field
        self.message = message
