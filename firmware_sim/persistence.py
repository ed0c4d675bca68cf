"""Checking a saved scheduler state, and the legacy JSON state file it is migrated from.

Since the journal (:mod:`firmware_sim.journal`) the state lives in ``journal.sqlite3``. A state
directory of an older wakebench holds ``scheduler-state.json`` (and ``mqtt-outbox.sqlite3``);
:func:`load_legacy_state` reads it strictly so it can be migrated once. Every problem is one
:class:`~firmware_sim.errors.ConfigError` line naming the file and the field — never a
traceback, never a silent fresh start.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from firmware_sim.errors import ConfigError
from wbcommon import files

STATE_FILE: Final = "scheduler-state.json"
#: Legacy state files larger than this are refused (a state of 100 apps is ~100 KiB). wakebench choice.
MAX_LEGACY_BYTES: Final = 64 * 1024 * 1024


def check_state(state: Any, where: str) -> dict[str, Any]:
    """Check the shape of a :meth:`Scheduler.dump` (what :meth:`Scheduler.load` relies on).

    Raises:
        ConfigError: ``<where>: <field>: <what is wrong>``.
    """
    from firmware_sim.platforms import POLICIES
    from firmware_sim.scheduler import STATE_VERSION

    if not isinstance(state, dict):
        raise ConfigError(f"{where}: expected a JSON object, not {type(state).__name__}")
    if not state:
        raise ConfigError(f"{where}: empty state (no version, no rig time)")
    if state.get("version") != STATE_VERSION:
        raise ConfigError(f"{where}: version: state format {state.get('version')!r} is not {STATE_VERSION}")
    now = state.get("now")
    if isinstance(now, bool) or not isinstance(now, int | float) or not math.isfinite(now) or now < 0:
        raise ConfigError(f"{where}: now: rig time must be a finite number ≥ 0, not {now!r}")
    seed = state.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise ConfigError(f"{where}: seed: must be an integer, not {seed!r}")
    apps = state.get("apps", [])
    if not isinstance(apps, list):
        raise ConfigError(f"{where}: apps: expected a list")
    for n, app in enumerate(apps):
        if not isinstance(app, dict) or not isinstance(app.get("id"), str):
            raise ConfigError(f"{where}: apps[{n}]: expected an object with a string id")
        if app.get("platform") not in POLICIES:
            raise ConfigError(f"{where}: apps[{n}].platform: unknown platform {app.get('platform')!r}")
        if not isinstance(app.get("settings", {}), dict):
            raise ConfigError(f"{where}: apps[{n}].settings: expected an object")
    seq = state.get("seq", {})
    if not isinstance(seq, dict) or not all(
            isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in seq.values()):
        raise ConfigError(f"{where}: seq: expected an object of counts ≥ 0")
    policies = state.get("policies", {})
    if not isinstance(policies, dict):
        raise ConfigError(f"{where}: policies: expected an object")
    for name, data in policies.items():
        if name not in POLICIES:
            raise ConfigError(f"{where}: policies.{name}: unknown platform")
        if not isinstance(data, dict):
            raise ConfigError(f"{where}: policies.{name}: expected an object")
    return state


def load_legacy_state(path: Path) -> dict[str, Any]:
    """Read and check a legacy ``scheduler-state.json`` (NaN / Infinity refused, depth bounded).

    Raises:
        ConfigError: one line naming the file and what is wrong.
    """
    try:
        if path.stat().st_size > MAX_LEGACY_BYTES:
            raise ConfigError(f"{path}: larger than {MAX_LEGACY_BYTES} bytes; not a wakebench state")
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read it ({exc.strerror or exc})") from exc
    try:
        state = json.loads(raw, parse_constant=_no_constant)
    except RecursionError as exc:
        raise ConfigError(f"{path}: nested too deeply to be a wakebench state") from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid JSON ({exc})") from exc
    return check_state(state, str(path))


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


class StateStore:
    """The legacy JSON state document (kept to read old state directories and to write test
    fixtures of them); the rig itself keeps its state in the journal."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)
        self.path = self.directory / STATE_FILE

    def save(self, state: Mapping[str, Any]) -> None:
        """Write ``state`` atomically (temp file, fsync, rename, fsync of the directory)."""
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
        """The saved state as a JSON object, or None when there is no file.

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
