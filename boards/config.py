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

The file is validated by the pydantic models below (:class:`BoardTable` and its tables; the
shared machinery is :mod:`wbcommon.validation`), then built into a :class:`BoardSpec` and checked
against the hardware rules (:func:`boards.spec.problems`). Every error is ONE
:class:`~boards.errors.BoardConfigError` naming the file, the key path (``board.pins[1].gpio``),
the line when it can be found, and what is wrong.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any, Final

from pydantic import BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from boards.catalogue import get_board
from boards.errors import BoardConfigError, UnknownBoardError
from boards.spec import (
    DIRECTIONS,
    POLARITIES,
    PULLS,
    BoardSpec,
    ChipSpec,
    Direction,
    PinSpec,
    Polarity,
    Pull,
    RelaySpec,
    problems,
)
from wbcommon import files
from wbcommon.validation import (
    InvalidFieldError,
    LazyLines,
    Strict,
    describe,
    first_error,
    line_of,
    toml_lines,
)

__all__ = ["BoardTable", "board_from_mapping", "board_from_table", "load_board_file", "resolve_board"]

_PULL_ALIASES: Final = {"none": "floating", "off": "floating"}
_POLARITY_ALIASES: Final = {"high": "active_high", "low": "active_low"}
_GPIO_NAME: Final = re.compile(r"^(?:gpio|bcm)\s*(\d+)$", re.IGNORECASE)

# -- value types: what each key takes, worded as the errors say it ----------------------------


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise InvalidFieldError(f"must be a string, not {describe(value)}")
    return value


def _integer(what: str, *, gpio_names: bool = False) -> Callable[[object], int]:
    def check(value: object) -> int:
        if isinstance(value, str):  # "0x36", "GPIO6", "BCM 6"
            text = value.strip()
            match = _GPIO_NAME.match(text) if gpio_names else None
            try:
                return int(match.group(1)) if match else int(text, 0)
            except ValueError:
                pass
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidFieldError(f"{what} must be an integer, not {describe(value)}")
        return value
    return check


def _number(what: str) -> Callable[[object], float]:
    def check(value: object) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise InvalidFieldError(f"{what} must be a number, not {describe(value)}")
        return float(value)
    return check


def _strings(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidFieldError(f"must be a list of strings, not {describe(value)}")
    return tuple(value)


def _array(value: object) -> object:
    if not isinstance(value, list):
        raise InvalidFieldError(f"must be an array of tables, not {describe(value)}")
    return value


def _chip_name(value: object) -> str:
    return _text(value).strip().lower()


def _polarity(value: object) -> Polarity:
    if not isinstance(value, str):
        raise InvalidFieldError(f"must be \"active_high\" or \"active_low\", not {describe(value)}")
    text = value.strip().lower().replace("-", "_").replace(" ", "_")
    text = _POLARITY_ALIASES.get(text, text)
    if text not in POLARITIES:
        raise InvalidFieldError(f"{text!r} is not active_high or active_low")
    return text  # type: ignore[return-value]  # checked against POLARITIES


def _pull(value: object) -> Pull:
    text = _text(value).strip().lower()
    text = _PULL_ALIASES.get(text, text)
    if text not in PULLS:
        raise InvalidFieldError(f"{text!r} is not up, down or floating")
    return text  # type: ignore[return-value]  # checked against PULLS


def _direction(value: object) -> Direction:
    text = _text(value).strip().lower()
    if text not in DIRECTIONS:
        raise InvalidFieldError(f"{text!r} is not input or output")
    return text  # type: ignore[return-value]  # checked against DIRECTIONS


def _safe(value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("on", "off"):
        return value.strip().lower() == "on"
    raise InvalidFieldError(f"must be \"on\" or \"off\", not {value!r}")


def _table(value: object) -> object:
    if not isinstance(value, Mapping):
        raise InvalidFieldError(f"must be a table, not {describe(value)}")
    return value


Text = Annotated[str, BeforeValidator(_text)]
#: Optional keys: absent is None, but a key given as None (a mapping built in Python) is
#: checked like any other value and refused.
OptText = Annotated[str | None, BeforeValidator(_text)]
OptStrings = Annotated[tuple[str, ...] | None, BeforeValidator(_strings)]
Gpio = Annotated[int, BeforeValidator(_integer("GPIO number", gpio_names=True)),
                 Field(description="BCM number, 0-27")]

# -- the tables -------------------------------------------------------------------------------


class ChipTable(Strict):
    """``[[board.chips]]``: a further I²C device (shown only, no parameters)."""

    chip: Annotated[str, BeforeValidator(_chip_name)]
    address: Annotated[int, BeforeValidator(_integer("address")),
                       Field(description="7-bit I²C address, e.g. 0x36")]
    bus: Annotated[int, BeforeValidator(_integer("bus number"))] = 1
    role: OptText = None
    unconfirmed: Text = ""


class GaugeTable(ChipTable):
    """``[board.gauge]``: the chip read for battery signals; every other key is a chip
    parameter (a number, or true/false), checked against the chip by :func:`problems`."""

    model_config = ConfigDict(extra="allow")

    @model_validator(mode="after")
    def _params_are_numbers(self) -> GaugeTable:
        for name, raw in (self.model_extra or {}).items():
            if not isinstance(raw, bool):
                try:
                    _number(f"parameter {name!r}")(raw)
                except InvalidFieldError as exc:
                    raise InvalidFieldError(exc.message, at=(name,)) from None
        return self

    @property
    def params(self) -> dict[str, float | bool]:
        """The chip parameters (numbers as float, flags as bool)."""
        return {name: raw if isinstance(raw, bool) else float(raw)
                for name, raw in (self.model_extra or {}).items()}


class PinTable(Strict):
    """``[[board.pins]]``: a GPIO input that drives a signal (or an output, for wiring)."""

    gpio: Gpio
    signal: OptText = None
    function: OptText = None
    direction: Annotated[Direction, BeforeValidator(_direction)] = "input"
    polarity: Annotated[Polarity, BeforeValidator(_polarity)] = "active_high"
    pull: Annotated[Pull, BeforeValidator(_pull)] = "floating"
    debounce: Annotated[float | None, BeforeValidator(_number("debounce (seconds)"))] = None
    note: Text = ""
    unconfirmed: Text = ""


class RelayTable(Strict):
    """``[[board.relays]]``: a GPIO output that switches a signal's power."""

    gpio: Gpio
    signal: Text
    switches: OptText = None
    polarity: Annotated[Polarity, BeforeValidator(_polarity)] = "active_high"
    safe: Annotated[bool, BeforeValidator(_safe)] = True
    note: Text = ""
    unconfirmed: Text = ""


class BoardTable(Strict):
    """A ``[board]`` table (or a board file's top level), as written."""

    name: OptText = None
    title: OptText = None
    source: OptText = None
    extends: OptText = None
    charger: OptText = None
    power_supply: OptText = None
    soc_method: OptText = None
    gauge: Annotated[GaugeTable | None, BeforeValidator(_table)] = None
    chips: Annotated[tuple[ChipTable, ...] | None, BeforeValidator(_array)] = None
    pins: Annotated[tuple[PinTable, ...] | None, BeforeValidator(_array)] = None
    relays: Annotated[tuple[RelayTable, ...] | None, BeforeValidator(_array)] = None
    notes: OptStrings = None
    unconfirmed: OptStrings = None

    @model_validator(mode="before")
    @classmethod
    def _is_a_table(cls, value: object) -> object:
        return _table(value)

    @model_validator(mode="after")
    def _named(self) -> BoardTable:
        if self.name is None and self.extends is None:
            raise InvalidFieldError("is required", at=("name",))
        return self


# -- loading ----------------------------------------------------------------------------------


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
                                   line=line_of(toml_lines(text), "board"))
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
    lines: Mapping[str, int] = LazyLines(lambda: toml_lines(text)) if text is not None else {}
    try:
        table = BoardTable.model_validate(mapping)
    except ValidationError as exc:
        found = first_error(exc, BoardTable, lines, prefix=prefix, mapping="table")
        raise BoardConfigError(found.message, source=source, key=found.path or "(top level)",
                               line=found.line) from None
    return board_from_table(table, source=source, prefix=prefix, lines=lines)


def board_from_table(table: BoardTable, *, source: str, prefix: str = "board",
                     lines: Mapping[str, int] | None = None) -> BoardSpec:
    """Build a validated :class:`BoardTable` into a :class:`BoardSpec` and check the hardware
    rules (:func:`boards.spec.problems`): the base board of ``extends``, defaults, GPIO use.

    Raises:
        BoardConfigError: an unknown base board or a rule broken, naming key path and line.
    """
    def error(key: str, message: str) -> BoardConfigError:
        full = f"{prefix}.{key}" if prefix and key else (prefix or key)
        return BoardConfigError(message, source=source, key=full or "(top level)",
                                line=line_of(lines or {}, full))

    base = None
    if table.extends is not None:
        try:
            base = get_board(table.extends)
        except UnknownBoardError as exc:
            raise error("extends", str(exc)) from None
    name = table.name if table.name is not None else base.name if base is not None else ""
    changes: dict[str, Any] = {"name": name}
    if base is None:
        changes["title"] = name if table.title is None else table.title
        changes["source"] = source if table.source is None else table.source
    else:
        changes["title"] = f"{base.title} ({name})" if table.title is None else table.title
        changes["source"] = (f"{source}, based on {base.name}: {base.source}" if table.source is None
                             else table.source)
        changes["simulated"] = base.simulated
    for field_name in ("charger", "power_supply", "soc_method"):
        if (value := getattr(table, field_name)) is not None:
            changes[field_name] = value
    if table.gauge is not None:
        changes["gauge"] = _chip(table.gauge, table.gauge.params, "fuel gauge")
    if table.chips is not None:
        changes["other_chips"] = tuple(_chip(chip, {}, "chip") for chip in table.chips)
    if table.pins is not None:
        changes["pins"] = tuple(_pin(pin) for pin in table.pins)
    if table.relays is not None:
        own = tuple(_relay(relay) for relay in table.relays)
        # with `extends`, the base board's relays stay unless one of ours takes its GPIO or signal
        taken = {r.gpio for r in own} | {r.signal for r in own}
        kept = tuple(r for r in (base.relays if base is not None else ())
                     if r.gpio not in taken and r.signal not in taken)
        changes["relays"] = own + kept  # own first: problems() keys name the file's indices
    for field_name in ("notes", "unconfirmed"):
        if (items := getattr(table, field_name)) is not None:
            changes[field_name] = items
    spec = replace(base, **changes) if base is not None else BoardSpec(**changes)
    for key, message in problems(spec):
        raise error(key, message)
    return spec


def _chip(table: ChipTable, params: Mapping[str, float | bool], role: str) -> ChipSpec:
    return ChipSpec(chip=table.chip, address=table.address, bus=table.bus, params=params,
                    role=table.role if table.role is not None else role, unconfirmed=table.unconfirmed)


def _pin(table: PinTable) -> PinSpec:
    return PinSpec(
        gpio=table.gpio,
        function=table.function if table.function is not None else _function_of(table.signal),
        direction=table.direction,
        polarity=table.polarity,
        pull=table.pull,
        debounce=table.debounce,
        signal=table.signal,
        note=table.note,
        unconfirmed=table.unconfirmed,
    )


def _relay(table: RelayTable) -> RelaySpec:
    return RelaySpec(
        gpio=table.gpio,
        switches=table.switches if table.switches is not None else _function_of(table.signal),
        signal=table.signal,
        polarity=table.polarity,
        safe_on=table.safe,
        note=table.note,
        unconfirmed=table.unconfirmed,
    )


def _function_of(signal: str | None) -> str:
    if signal is None:
        return "unused by wakebench"
    if signal == "charger":
        return "external power present"
    return f"{signal} switch"
