"""A user's own board, described in TOML and validated into a :class:`~boards.spec.BoardSpec`.

A board file (or the ``[board]`` table of a rig config) looks like this::

    [board]
    name = "my-ups"
    title = "X1200 with a relay on the charger"
    extends = "x120x"            # optional: start from a catalogue board, override below
    charger = "usb"              # type reported while the power pin says plugged

    [board.gauge]
    chip = "max17048"
    address = 0x36
    bus = 1
    capacity_mah = 3000          # chip parameters (see boards.spec.CHIP_PARAMS)

    [[board.pins]]
    gpio = 6
    signal = "charger"
    polarity = "active_high"     # level at which the signal is true / power is present
    pull = "up"                  # up, down, floating ("none" is accepted for floating)
    debounce = 0.01              # seconds

    [[board.relays]]
    gpio = 17
    signal = "charger"           # makes `charger` settable: off = power cut
    polarity = "active_low"      # level at which the switched power is ON
    safe = "on"

Every error is a :class:`~boards.errors.BoardConfigError` naming the file, the key path
(``board.pins[1].gpio``), the line when it can be found, and what is wrong.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any, Final

from boards.catalogue import get_board
from boards.errors import BoardConfigError, UnknownBoardError
from boards.spec import BoardSpec, ChipSpec, PinSpec, RelaySpec, problems
from wbcommon import files

__all__ = ["board_from_mapping", "load_board_file", "resolve_board"]

_BOARD_KEYS: Final = frozenset(
    {"name", "title", "source", "extends", "charger", "power_supply", "gauge", "pins", "relays",
     "chips", "soc_method", "notes", "unconfirmed"}
)
_GAUGE_KEYS: Final = frozenset({"chip", "address", "bus", "role", "unconfirmed"})
_PIN_KEYS: Final = frozenset(
    {"gpio", "signal", "function", "direction", "polarity", "pull", "debounce", "note",
     "unconfirmed"}
)
_RELAY_KEYS: Final = frozenset(
    {"gpio", "signal", "switches", "polarity", "safe", "note", "unconfirmed"}
)
_PULL_ALIASES: Final = {"none": "floating", "off": "floating"}
_GPIO_NAME: Final = re.compile(r"^(?:gpio|bcm)\s*(\d+)$", re.IGNORECASE)


def load_board_file(path: str | Path) -> BoardSpec:
    """Read a board description from a TOML file (a ``[board]`` table, or top-level keys).

    Raises:
        BoardConfigError: unreadable file, TOML syntax error or an invalid board; the message
            names the file, the key path, the line when known, and what is wrong.
    """
    path = Path(path)
    try:  # bounded size, strict UTF-8, depth-bounded TOML (wbcommon.files)
        text = files.read_text(path, limit=files.MAX_CONFIG_BYTES, field="(file)")
        data = files.parse_toml(text, str(path))
    except files.FileFormatError as exc:
        raise BoardConfigError(exc.reason, source=str(path), key=exc.field or "(file)", line=exc.line) from None
    if "board" in data:
        table, prefix = data["board"], "board"
        if not isinstance(table, Mapping):
            raise BoardConfigError("must be a table ([board])", source=str(path), key="board",
                                   line=_locate(text, "board"))
    else:
        table, prefix = data, ""
    return board_from_mapping(table, source=str(path), prefix=prefix, text=text)


def resolve_board(name_or_path: str) -> BoardSpec:
    """A catalogue board by name, or a user board from a ``.toml`` file (``--board`` values).

    Raises:
        UnknownBoardError: not a catalogue name (and not a TOML file).
        BoardConfigError: the file is not a valid board description.
    """
    path = Path(name_or_path)
    if name_or_path.endswith(".toml") or (path.suffix == "" and path.is_file()):
        return load_board_file(path)
    return get_board(name_or_path)


def board_from_mapping(
    mapping: Mapping[str, Any],
    *,
    source: str = "<board>",
    prefix: str = "board",
    text: str | None = None,
) -> BoardSpec:
    """Validate a parsed ``[board]`` table into a :class:`BoardSpec`.

    Args:
        mapping: the table's contents (as ``tomllib`` returns them).
        source: where it came from, for messages (the file name).
        prefix: the table's key path in that file (``board``; ``""`` for top level).
        text: the file's text, if available, so errors can name the line.

    Raises:
        BoardConfigError: the first problem found, naming ``source``, key path and line.
    """
    return _Parser(source, prefix, text).board(mapping)


class _Parser:
    def __init__(self, source: str, prefix: str, text: str | None) -> None:
        self.source = source
        self.prefix = prefix
        self.text = text

    # -- error reporting --------------------------------------------------------------------

    def path(self, key: str) -> str:
        if not self.prefix:
            return key
        return f"{self.prefix}.{key}" if key else self.prefix

    def error(self, key: str, message: str) -> BoardConfigError:
        full = self.path(key)
        line = _locate(self.text, full) if self.text is not None else None
        return BoardConfigError(message, source=self.source, key=full or "(top level)", line=line)

    # -- typed getters ------------------------------------------------------------------------

    def table(self, value: Any, key: str) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise self.error(key, f"must be a table, not {_kind(value)}")
        return value

    def keys(self, table: Mapping[str, Any], allowed: frozenset[str], key: str) -> None:
        for name in table:
            if name not in allowed:
                where = f"{key}.{name}" if key else name
                raise self.error(where, f"unknown key {name!r} (allowed: {', '.join(sorted(allowed))})")

    def string(self, table: Mapping[str, Any], name: str, key: str, default: str | None = None) -> str:
        value = table.get(name, default)
        if value is None:
            raise self.error(f"{key}.{name}" if key else name, "is required")
        if not isinstance(value, str):
            raise self.error(f"{key}.{name}" if key else name, f"must be a string, not {_kind(value)}")
        return value

    def optional_string(self, table: Mapping[str, Any], name: str, key: str) -> str | None:
        if name not in table:
            return None
        return self.string(table, name, key)

    def integer(self, value: Any, key: str, what: str) -> int:
        if isinstance(value, str):
            text = value.strip()
            match = _GPIO_NAME.match(text)
            try:
                if match and what == "GPIO number":
                    return int(match.group(1))
                return int(text, 0)
            except ValueError:
                pass
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(key, f"{what} must be an integer, not {_kind(value)}")
        return value

    def number(self, value: Any, key: str, what: str) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise self.error(key, f"{what} must be a number, not {_kind(value)}")
        return float(value)

    def strings(self, table: Mapping[str, Any], name: str, key: str) -> tuple[str, ...] | None:
        if name not in table:
            return None
        value = table[name]
        where = f"{key}.{name}" if key else name
        if isinstance(value, str):
            return (value,)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.error(where, f"must be a list of strings, not {_kind(value)}")
        return tuple(value)

    def array(self, value: Any, key: str) -> list[Mapping[str, Any]]:
        if not isinstance(value, list):
            raise self.error(key, f"must be an array of tables ([[{self.path(key)}]]), not {_kind(value)}")
        for i, item in enumerate(value):
            self.table(item, f"{key}[{i}]")
        return value

    # -- the board --------------------------------------------------------------------------

    def board(self, mapping: Mapping[str, Any]) -> BoardSpec:
        table = self.table(mapping, "")
        self.keys(table, _BOARD_KEYS, "")
        base = self.base(table)
        name = self.string(table, "name", "", default=base.name if base else None)
        changes: dict[str, Any] = {"name": name}
        if base is None:
            changes["title"] = self.string(table, "title", "", default=name)
            changes["source"] = self.string(table, "source", "", default=self.source)
        else:
            changes["title"] = self.string(table, "title", "", default=f"{base.title} ({name})")
            changes["source"] = self.string(
                table, "source", "", default=f"{self.source}, based on {base.name}: {base.source}"
            )
            changes["simulated"] = base.simulated
        for field_name in ("charger", "power_supply", "soc_method"):
            value = self.optional_string(table, field_name, "")
            if value is not None:
                changes[field_name] = value
        if "gauge" in table:
            changes["gauge"] = self.chip(table["gauge"], "gauge")
        if "chips" in table:
            changes["other_chips"] = tuple(
                self.chip(item, f"chips[{i}]", params_allowed=False)
                for i, item in enumerate(self.array(table["chips"], "chips"))
            )
        if "pins" in table:
            changes["pins"] = tuple(
                self.pin(item, f"pins[{i}]") for i, item in enumerate(self.array(table["pins"], "pins"))
            )
        if "relays" in table:
            own = tuple(
                self.relay(item, f"relays[{i}]")
                for i, item in enumerate(self.array(table["relays"], "relays"))
            )
            # with `extends`, the base board's relays stay unless one of ours takes its GPIO or signal
            taken = {r.gpio for r in own} | {r.signal for r in own}
            kept = tuple(r for r in (base.relays if base is not None else ())
                         if r.gpio not in taken and r.signal not in taken)
            changes["relays"] = own + kept  # own first: problems() keys name the file's indices
        for field_name in ("notes", "unconfirmed"):
            items = self.strings(table, field_name, "")
            if items is not None:
                changes[field_name] = items
        spec = replace(base, **changes) if base is not None else BoardSpec(**changes)
        for key, message in problems(spec):
            raise self.error(key, message)
        return spec

    def base(self, table: Mapping[str, Any]) -> BoardSpec | None:
        name = self.optional_string(table, "extends", "")
        if name is None:
            return None
        try:
            return get_board(name)
        except UnknownBoardError as exc:
            raise self.error("extends", str(exc)) from None

    def chip(self, value: Any, key: str, *, params_allowed: bool = True) -> ChipSpec:
        table = self.table(value, key)
        if not params_allowed:
            self.keys(table, _GAUGE_KEYS, key)
        chip = self.string(table, "chip", key).strip().lower()
        if "address" not in table:
            raise self.error(f"{key}.address", "is required (7-bit I²C address, e.g. 0x36)")
        address = self.integer(table["address"], f"{key}.address", "address")
        bus = self.integer(table.get("bus", 1), f"{key}.bus", "bus number")
        params: dict[str, Any] = {}
        for name, raw in table.items():
            if name in _GAUGE_KEYS:
                continue
            params[name] = raw if isinstance(raw, bool) else self.number(
                raw, f"{key}.{name}", f"parameter {name!r}"
            )
        return ChipSpec(
            chip=chip,
            address=address,
            bus=bus,
            params=params,
            role=self.string(table, "role", key, default="fuel gauge" if params_allowed else "chip"),
            unconfirmed=self.string(table, "unconfirmed", key, default=""),
        )

    def pin(self, value: Any, key: str) -> PinSpec:
        table = self.table(value, key)
        self.keys(table, _PIN_KEYS, key)
        if "gpio" not in table:
            raise self.error(f"{key}.gpio", "is required (BCM number, 0-27)")
        gpio = self.integer(table["gpio"], f"{key}.gpio", "GPIO number")
        signal = self.optional_string(table, "signal", key)
        pull = self.string(table, "pull", key, default="floating").strip().lower()
        debounce = None
        if "debounce" in table:
            debounce = self.number(table["debounce"], f"{key}.debounce", "debounce (seconds)")
        return PinSpec(
            gpio=gpio,
            function=self.string(table, "function", key, default=_function_of(signal)),
            direction=self.string(table, "direction", key, default="input").strip().lower(),  # type: ignore[arg-type]
            polarity=self.polarity(table, key),  # type: ignore[arg-type]
            pull=_PULL_ALIASES.get(pull, pull),  # type: ignore[arg-type]
            debounce=debounce,
            signal=signal,
            note=self.string(table, "note", key, default=""),
            unconfirmed=self.string(table, "unconfirmed", key, default=""),
        )

    def relay(self, value: Any, key: str) -> RelaySpec:
        table = self.table(value, key)
        self.keys(table, _RELAY_KEYS, key)
        if "gpio" not in table:
            raise self.error(f"{key}.gpio", "is required (BCM number, 0-27)")
        gpio = self.integer(table["gpio"], f"{key}.gpio", "GPIO number")
        signal = self.string(table, "signal", key)
        safe = table.get("safe", "on")
        if isinstance(safe, str) and safe.strip().lower() in ("on", "off"):
            safe_on = safe.strip().lower() == "on"
        elif isinstance(safe, bool):
            safe_on = safe
        else:
            raise self.error(f"{key}.safe", f"must be \"on\" or \"off\", not {safe!r}")
        return RelaySpec(
            gpio=gpio,
            switches=self.string(table, "switches", key, default=_function_of(signal)),
            signal=signal,
            polarity=self.polarity(table, key),  # type: ignore[arg-type]
            safe_on=safe_on,
            note=self.string(table, "note", key, default=""),
            unconfirmed=self.string(table, "unconfirmed", key, default=""),
        )

    def polarity(self, table: Mapping[str, Any], key: str) -> str:
        value = table.get("polarity", "active_high")
        if isinstance(value, str):
            text = value.strip().lower().replace("-", "_").replace(" ", "_")
            return {"high": "active_high", "low": "active_low"}.get(text, text)
        raise self.error(f"{key}.polarity", f"must be \"active_high\" or \"active_low\", not {_kind(value)}")


def _function_of(signal: str | None) -> str:
    if signal is None:
        return "unused by wakebench"
    if signal == "charger":
        return "external power present"
    return f"{signal} switch"


def _kind(value: Any) -> str:
    if isinstance(value, Mapping):
        return "a table"
    if isinstance(value, list):
        return "an array"
    return f"{type(value).__name__} {value!r}"


_HEADER: Final = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(?:#.*)?$")
_KEY: Final = re.compile(r"^\s*((?:[A-Za-z0-9_-]+|\"[^\"]*\")(?:\s*\.\s*(?:[A-Za-z0-9_-]+|\"[^\"]*\"))*)\s*=")


def _split_key(raw: str) -> list[str]:
    return [part.strip().strip('"') for part in raw.split(".")]


def _locate(text: str | None, path: str) -> int | None:
    """Best-effort 1-based line of ``path`` (``board.pins[1].gpio``) in TOML ``text``.

    Understands ``[table]`` and ``[[array]]`` headers and (dotted) ``key =`` lines; a key
    inside an inline table resolves to the line of the enclosing key.
    """
    if text is None:
        return None
    lines: dict[str, int] = {}
    counts: dict[str, int] = {}
    current = ""
    for number, line in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(line)
        if header:
            parts = _split_key(header.group(2))
            name = _join(parts[:-1], counts)
            name = f"{name}.{parts[-1]}" if name else parts[-1]
            if header.group(1) == "[[":
                index = counts.get(name, 0)
                counts[name] = index + 1
                name = f"{name}[{index}]"
            current = name
            lines.setdefault(current, number)
            continue
        key = _KEY.match(line)
        if key:
            full = ".".join(p for p in (current, *_split_key(key.group(1))) if p)
            lines.setdefault(full, number)
    probe = path
    while probe:
        if probe in lines:
            return lines[probe]
        probe = _parent(probe)
    return None


def _parent(path: str) -> str:
    if path.endswith("]"):
        return path[: path.rindex("[")]
    return path.rsplit(".", 1)[0] if "." in path else ""


def _join(parts: list[str], counts: dict[str, int]) -> str:
    """Join header parts, indexing parents that are arrays of tables (``board.pins[1].x``)."""
    out = ""
    for part in parts:
        out = f"{out}.{part}" if out else part
        if out in counts:
            out = f"{out}[{counts[out] - 1}]"
    return out
