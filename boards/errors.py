"""Errors of the boards layer. One root, :class:`BoardError`; leaves also subclass a builtin."""

from __future__ import annotations


class BoardError(Exception):
    """Root of every error raised by :mod:`boards`."""


class UnknownBoardError(BoardError, KeyError):
    """No board of that name in the catalogue; the message lists the known names."""

    def __str__(self) -> str:  # KeyError would quote the whole message
        return str(self.args[0]) if self.args else ""


class BoardConfigError(BoardError, ValueError):
    """A board description (TOML file or ``[board]`` table) is not valid.

    ``source`` is the file (or other origin), ``key`` the dotted key path
    (``board.pins[1].gpio``), ``line`` the 1-based line when it could be located.
    """

    def __init__(self, message: str, *, source: str, key: str, line: int | None = None) -> None:
        self.source = source
        self.key = key
        self.line = line
        self.reason = message
        where = f"{source}:{line}" if line is not None else source
        super().__init__(f"{where}: {key}: {message}")


class NotSettableError(BoardError, ValueError):
    """A signal cannot be set on this board (it is measured, and no relay switches it)."""


class UnknownSignalError(NotSettableError):
    """A signal name that DESIGN.md section 2 does not define."""


class SignalValueError(BoardError, ValueError):
    """A signal value of the wrong type or range; the message names signal and value."""
