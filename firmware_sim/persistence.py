"""Atomic, durable storage of scheduler state (HarmonyOS ``isPersisted`` works, WP8 scheduled
actions, iOS pending requests, seq counters).

The file is replaced atomically: write to a temporary file in the same directory, ``fsync`` it,
``rename`` over the old one, ``fsync`` the directory. A crash leaves either the old or the new
state, never a torn one.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from firmware_sim.errors import ConfigError
from wbcommon import files

STATE_FILE = "scheduler-state.json"


class StateStore:
    """A JSON document on disk, saved atomically."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)
        self.path = self.directory / STATE_FILE

    def save(self, state: dict[str, Any]) -> None:
        """Write ``state`` atomically and durably."""
        self.directory.mkdir(parents=True, exist_ok=True)
        data = json.dumps(state, separators=(",", ":"), sort_keys=True).encode()
        fd, tmp = tempfile.mkstemp(prefix=".state-", dir=self.directory)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        dir_fd = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    def load(self) -> dict[str, Any] | None:
        """The saved state, or None when nothing was saved yet.

        Raises:
            ConfigError: the file exists but is not a JSON object (names the file).
        """
        try:  # bounded size and depth, strict UTF-8 (wbcommon.files)
            state = files.load_json(self.path, limit=files.MAX_STATE_BYTES)
        except FileNotFoundError:
            return None
        except files.FileFormatError as exc:
            raise ConfigError(str(exc)) from None
        if not isinstance(state, dict):
            raise ConfigError(f"{self.path}: expected a JSON object")
        return state
