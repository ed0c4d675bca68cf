"""One way to validate the files users write: pydantic models, one error with file:line:field.

Rig TOML (``wakebench.config``), board TOML (``boards.config``) and scenario YAML
(``firmware_sim.scenario``) each declare what they accept as pydantic v2 models derived from
:class:`Strict` (unknown keys refused). This module turns what those models raise into ONE
:class:`FieldError` — the first problem in the file: its key path (``board.pins[1].gpio``), its
1-based line, and a sentence — using a position map of the file:

* TOML: :func:`toml_lines`, a best-effort locator of ``[table]``, ``[[array]]`` and ``key =``
  lines (tomllib keeps no positions);
* YAML: :func:`yaml_document`, which builds plain Python data and the line of every key and list
  item from the node tree (``yaml.compose``) in one walk.

Validators say what is wrong in words by raising :class:`InvalidFieldError` (a ``ValueError``,
so pydantic records it with the field's location); ``InvalidFieldError(..., at=("pins", 1,
"gpio"))`` from a model validator names a field below the model. Pydantic's own errors are
worded here once: a missing key ``is required`` (plus the field's ``description`` as a hint),
an unknown key lists the known ones and the nearest name. Of several problems, the one reported
is the first in the file (by line; on one line, an unknown key first, then pydantic's order).

This is a leaf: it imports pydantic, PyYAML and the standard library, no layer of wakebench.
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Final, Union

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from wbcommon.signals import InvalidSignalError, check

__all__ = [
    "FieldError",
    "InvalidFieldError",
    "LazyLines",
    "Loc",
    "SignalValue",
    "Strict",
    "describe",
    "first_error",
    "join_path",
    "line_of",
    "parent_path",
    "signal_values",
    "toml_lines",
    "yaml_document",
]

#: A location inside a document: keys and list indices (pydantic's ``loc``).
Loc = tuple[str | int, ...]
#: A signal value in its canonical type (:func:`wbcommon.signals.check`): a flag, a number, a
#: charger or network kind, or None for a measurement not taken.
SignalValue = bool | float | str | None


class Strict(BaseModel):
    """Base of every file model: unknown keys refused, frozen (a validated file is a value).

    ``UNKNOWN_WORD`` is what an unknown key of this model is called in errors (``key``; the rig
    file's top level says ``table``).
    """

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    UNKNOWN_WORD: ClassVar[str] = "key"


class InvalidFieldError(ValueError):
    """A validator's verdict in words; ``at`` is a key path below the validated value.

    ``line_at`` (same base as ``at``): where to look for the line when it is not the named
    field's own (a scenario's ``limits.ios`` error found at one of its limits).
    """

    def __init__(self, message: str, *, at: Loc = (), line_at: Loc | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.at = at
        self.line_at = line_at


@dataclass(frozen=True, slots=True)
class FieldError:
    """The first problem of a document: key path, line (None when not found), sentence."""

    path: str
    line: int | None
    message: str
    loc: Loc = ()


def join_path(loc: Sequence[str | int], prefix: str = "") -> str:
    """``("pins", 1, "gpio")`` -> ``"pins[1].gpio"`` (after ``prefix``, e.g. ``"board"``)."""
    out = prefix
    for part in loc:
        if isinstance(part, int):
            out = f"{out}[{part}]"
            continue
        out = f"{out}.{part}" if out else str(part)
    return out


def parent_path(path: str) -> str:
    """``board.pins[1].gpio`` -> ``board.pins[1]`` -> ``board.pins`` -> ``board`` -> ``""``."""
    if path.endswith("]"):
        return path[: path.rindex("[")]
    return path.rsplit(".", 1)[0] if "." in path else ""


def line_of(lines: Mapping[str, int], path: str) -> int | None:
    """The line of ``path``, or of its nearest ancestor the map knows (None: not found)."""
    while path:
        if path in lines:
            return lines[path]
        path = parent_path(path)
    return None


def signal_values(raw: object) -> dict[str, SignalValue]:
    """A mapping of signal names to values, each checked by the one vocabulary
    (:func:`wbcommon.signals.check`); use as a ``BeforeValidator``.

    Raises:
        InvalidFieldError: not a mapping, or (at the signal's key) an unknown signal or a value
            of the wrong type or range.
    """
    if not isinstance(raw, Mapping):
        raise InvalidFieldError(f"must be a mapping, not {describe(raw)}")
    out: dict[str, SignalValue] = {}
    for name, value in raw.items():
        try:
            out[str(name)] = check(str(name), value)
        except InvalidSignalError as exc:
            raise InvalidFieldError(str(exc), at=(str(name),)) from None
    return out


# -- position maps ----------------------------------------------------------------------------

_TOML_HEADER: Final = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(?:#.*)?$")
_TOML_PART: Final = r"(?:[A-Za-z0-9_-]+|\"[^\"]*\"|'[^']*')"
_TOML_KEY: Final = re.compile(rf"^\s*({_TOML_PART}(?:\s*\.\s*{_TOML_PART})*)\s*=")


def _toml_parts(raw: str) -> list[str]:
    return [part.strip().strip("\"'") for part in raw.split(".")]


class LazyLines(Mapping[str, int]):
    """A position map built on first use: most files have no error, and their lines are then
    never needed (``LazyLines(lambda: toml_lines(text))``)."""

    def __init__(self, build: Callable[[], Mapping[str, int]]) -> None:
        self._build = build
        self._lines: Mapping[str, int] | None = None

    def _get(self) -> Mapping[str, int]:
        if self._lines is None:
            self._lines = self._build()
        return self._lines

    def __getitem__(self, key: str) -> int:
        return self._get()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._get())

    def __len__(self) -> int:
        return len(self._get())


def toml_lines(text: str) -> dict[str, int]:
    """The 1-based line of every table, array-of-tables entry and key of TOML ``text``.

    ``{"broker": 3, "broker.keepalive": 5, "board.pins[1]": 19, "board.pins[1].gpio": 20}``:
    first occurrence wins; a key inside an inline table resolves (through :func:`line_of`) to
    the line of the enclosing key. Best effort (tomllib keeps no positions): good for the
    hand-written files the bench reads.
    """
    lines: dict[str, int] = {}
    counts: dict[str, int] = {}  # array-of-tables path -> entries seen so far
    current = ""
    for number, line in enumerate(text.splitlines(), start=1):
        if header := _TOML_HEADER.match(line):
            parts = _toml_parts(header.group(2))
            name = ""
            for part in parts[:-1]:  # parents that are arrays of tables name their last entry
                name = f"{name}.{part}" if name else part
                if name in counts:
                    name = f"{name}[{counts[name] - 1}]"
            name = f"{name}.{parts[-1]}" if name else parts[-1]
            if header.group(1) == "[[":
                index = counts.get(name, 0)
                counts[name] = index + 1
                name = f"{name}[{index}]"
            current = name
            lines.setdefault(current, number)
        elif key := _TOML_KEY.match(line):
            full = ".".join(p for p in (current, *_toml_parts(key.group(1))) if p)
            lines.setdefault(full, number)
    return lines


def yaml_document(node: yaml.Node) -> tuple[object, dict[str, int]]:
    """Plain Python data of a composed YAML document, and the line of every key and list item.

    Keys are their text (YAML 1.1 would read a step's ``on:`` as ``True``); scalars are
    constructed by the safe loader (so ``2026-01-01`` is a date, ``0x10`` an int).

    Raises:
        yaml.YAMLError, ValueError, TypeError: a scalar the safe loader cannot construct (an
            unknown tag, a bad timestamp).
    """
    loader = yaml.SafeLoader("")
    lines: dict[str, int] = {}

    def build(n: yaml.Node, path: str | None) -> object:
        if path is not None:  # None: a complex key (``? [a, b]``), built but not located
            lines.setdefault(path, n.start_mark.line + 1)
        if isinstance(n, yaml.MappingNode):
            out: dict[str, object] = {}
            for key_node, value_node in n.value:
                key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(build(key_node, None))
                child = None if path is None else f"{path}.{key}" if path else str(key)
                if child is not None:
                    lines.setdefault(child, key_node.start_mark.line + 1)
                out[str(key)] = build(value_node, child)
            return out
        if isinstance(n, yaml.SequenceNode):
            return [build(item, None if path is None else f"{path}[{i}]") for i, item in enumerate(n.value)]
        return loader.construct_object(n, deep=True)

    data = build(node, "")
    lines.pop("", None)
    return data, lines


# -- errors -----------------------------------------------------------------------------------


def describe(value: object) -> str:
    """A value as an error message shows it: ``a table``, ``a list``, ``the string 'x'``."""
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, Mapping):
        return "a table"
    if isinstance(value, list | tuple):
        return "a list"
    if value is None:
        return "nothing"
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, int | float):
        return f"the number {value!r}"
    return f"{type(value).__name__} {value!r}"


def _models_in(annotation: object) -> list[type[BaseModel]]:
    """The model classes an annotation may hold directly (through Optional, Union, Annotated)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    origin = typing.get_origin(annotation)
    if origin in (Union, types.UnionType, typing.Annotated):
        return [m for arg in typing.get_args(annotation) for m in _models_in(arg)]
    return []


def _element(annotation: object, part: str | int) -> object:
    """The annotation of ``part`` (a list index or a dict key) inside a container annotation."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (Union, types.UnionType, typing.Annotated):
        for arg in args:
            if (found := _element(arg, part)) is not None:
                return found
        return None
    if origin in (list, tuple, Sequence) and args:
        return args[0]
    if origin in (dict, Mapping) and len(args) == 2:
        return args[1]
    return None


def _model_at(root: type[BaseModel], loc: Loc) -> type[BaseModel] | None:
    """The model class that validated the value at ``loc`` below ``root`` (None: not a model)."""
    annotation: object = root
    for part in loc:
        models = _models_in(annotation)
        if models and isinstance(part, str):
            for model in models:
                fields = {f.alias or n: f for n, f in model.model_fields.items()}
                if part in fields:
                    annotation = fields[part].annotation
                    break
            else:
                return None
            continue
        annotation = _element(annotation, part)
        if annotation is None:
            return None
    models = _models_in(annotation)
    return models[0] if models else None


def _field_names(model: type[BaseModel]) -> list[str]:
    return [f.alias or n for n, f in model.model_fields.items()]


def _line_loc(error: Mapping[str, Any]) -> Loc | None:
    cause = error.get("ctx", {}).get("error")
    if isinstance(cause, InvalidFieldError) and cause.line_at is not None:
        return tuple(error["loc"]) + cause.line_at
    return None


def _message(error: Mapping[str, Any], root: type[BaseModel], mapping: str) -> tuple[Loc, str]:
    loc: Loc = tuple(error["loc"])
    kind = error["type"]
    cause = error.get("ctx", {}).get("error")
    if isinstance(cause, InvalidFieldError):
        return loc + cause.at, cause.message
    if isinstance(cause, Exception):
        return loc, str(cause)
    if kind == "extra_forbidden":
        name = str(loc[-1])
        model = _model_at(root, loc[:-1])
        known = _field_names(model) if model is not None else []
        word = model.UNKNOWN_WORD if model is not None and issubclass(model, Strict) else "key"
        nearest = difflib.get_close_matches(name, known, n=1)
        near = f"; did you mean {nearest[0]!r}?" if nearest else ""
        return loc, f"unknown {word} {name!r} (known: {', '.join(sorted(known))}){near}"
    if kind == "missing":
        model = _model_at(root, loc[:-1])
        info = model.model_fields.get(str(loc[-1])) if model is not None else None
        if model is not None and info is None:  # the key is an alias
            info = next((f for f in model.model_fields.values() if f.alias == loc[-1]), None)
        hint = f" ({info.description})" if info is not None and info.description else ""
        return loc, f"is required{hint}"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return loc, f"must be a {mapping}, not {describe(error.get('input'))}"
    if kind in ("list_type", "tuple_type"):
        return loc, f"must be a list, not {describe(error.get('input'))}"
    text = str(error["msg"]).replace("Input should be", "must be")
    return loc, f"{text}, not {describe(error.get('input'))}"


def first_error(exc: ValidationError, root: type[BaseModel], lines: Mapping[str, int], *,
                prefix: str = "", mapping: str = "mapping") -> FieldError:
    """The first problem (by line in the file, then pydantic's order) of ``exc``.

    Args:
        exc: what ``root.model_validate`` raised.
        root: the model validated (to name the known keys of the model an unknown key was in).
        lines: the file's position map (:func:`toml_lines`, :func:`yaml_document`), keyed by
            paths that start with ``prefix``.
        prefix: the key path of the validated value inside its file (``"board"``).
        mapping: what the file format calls a mapping (``table`` in TOML), for type errors.
    """
    found: list[tuple[int, int, int, FieldError]] = []
    for index, error in enumerate(exc.errors()):
        keys, message = _message(error, root, mapping)
        path = join_path(keys, prefix)
        line_loc = _line_loc(error)
        line = line_of(lines, path if line_loc is None else join_path(line_loc, prefix))
        rank = 0 if error["type"] == "extra_forbidden" else 1
        found.append((line if line is not None else 1 << 30, rank, index, FieldError(path, line, message, keys)))
    return min(found, key=lambda item: item[:3])[3]
