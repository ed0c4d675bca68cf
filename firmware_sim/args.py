"""The central rules of request arguments, shared by every verb (:func:`normalize`).

Arguments arrive as JSON objects using the platform's own field names in snake_case; camelCase
aliases of the real APIs (``repeatCycleTime``, ``requiresExternalPower``) are accepted too.
Every problem raises :class:`RequestError` with the policy's error code and names the field.

Ranges every verb gets without asking (README "Argument ranges"): every number anywhere in the
arguments, nested ones included, is finite and within ±:data:`MAX_NUMBER`; a duration is 0 to
:data:`~firmware_sim.durations.HORIZON_S`; nesting is at most :data:`MAX_ARG_DEPTH` deep. A
verb's model (:mod:`firmware_sim.verbargs`) adds its own narrower ranges on top.

:class:`Args` is the field-by-field reader the policies used before the verb models; it is kept
as the reference their messages are compared with (``tests/firmware_sim/test_verbargs.py``).
"""

from __future__ import annotations

import builtins
import math
import re
from collections.abc import Mapping
from typing import Any, Final, TypeVar

from firmware_sim.durations import HORIZON_S, parse_duration
from firmware_sim.errors import RequestError

#: Largest magnitude of any number in a request: 2**53, beyond which JSON numbers are not
#: interoperable (RFC 8259 section 6: IEEE 754 doubles represent integers exactly only up to it).
#: Refused centrally so no policy ever sees ``10**400`` (``float()`` overflows) or ``1e308``.
MAX_NUMBER: Final = 2**53
#: Deepest nesting of objects/lists in arguments (the deepest verb, HarmonyOS ``start_work``
#: with ``parameters``, needs 3). wakebench bound.
MAX_ARG_DEPTH: Final = 16
ID_RE: Final = re.compile(r"^[a-z0-9_-]{1,64}$")
_CAMEL: Final = re.compile(r"(?<=[a-z0-9])([A-Z])")
_MISSING: Final = object()
#: Types a value of a plain tuple of choices may have (a tuple, not a union: ``isinstance`` with a
#: tuple takes the interpreter's fast path).
_CHOICE_TYPES: Final = (str, int, float)
E = TypeVar("E")


def snake(name: str) -> str:
    """``repeatCycleTime`` → ``repeat_cycle_time`` (snake_case names pass unchanged)."""
    lowered = name.lower()
    if lowered == name:  # no capital letter, so nothing to split (the common case, no regex)
        return name
    return _CAMEL.sub(r"_\1", name).lower()


class Args:
    """A request's arguments, read field by field; :meth:`done` rejects leftovers."""

    __slots__ = ("_code", "_context", "_used", "_values")

    def __init__(
        self,
        raw: Any,
        *,
        code: builtins.str = "invalid_args",
        context: builtins.str = "",
        ignore: tuple[str, ...] = ("transaction",),
    ) -> None:
        self._code = code
        self._context = context
        self._values: dict[str, Any] = normalize(raw, code=code, context=context, ignore=ignore)
        self._used: set[str] = set()

    def _path(self, name: builtins.str) -> str:
        return _path(self._context, name)

    def fail(
        self, name: builtins.str, message: builtins.str, code: builtins.str | None = None
    ) -> RequestError:
        """An error naming the field, with this parser's code unless ``code`` is given."""
        return RequestError(code or self._code, f"{self._path(name)} {message}", {"field": name})

    def has(self, name: builtins.str) -> bool:
        """True if the argument was given (and is not null)."""
        return self._values.get(name) is not None

    def _get(self, name: builtins.str, default: Any) -> Any:
        self._used.add(name)
        value = self._values.get(name)
        if value is None:
            if default is _MISSING:
                raise self.fail(name, "is required")
            return default
        return value

    def any(self, name: builtins.str, default: Any = _MISSING) -> Any:
        """The raw value."""
        return self._get(name, default)

    def str(
        self, name: builtins.str, default: Any = _MISSING, *, pattern: re.Pattern[builtins.str] | None = None
    ) -> Any:
        """A string, optionally matching ``pattern``."""
        value = self._get(name, default)
        if value is default and default is not _MISSING:
            return value
        if not isinstance(value, str):
            raise self.fail(name, f"must be a string, not {value!r}")
        if pattern is not None and not pattern.match(value):
            raise self.fail(name, f"must match {pattern.pattern}, not {value!r}")
        return value

    def id(self, name: builtins.str, default: Any = _MISSING) -> Any:
        """An id usable in MQTT topics: ``[a-z0-9_-]{1,64}`` (numbers are turned into text)."""
        value = self._get(name, default)
        if value is default and default is not _MISSING:
            return value
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            value = str(value)
        if not isinstance(value, str) or not ID_RE.match(value):
            raise self.fail(name, f"must match [a-z0-9_-]{{1,64}}, not {value!r}")
        return value

    def bool(self, name: builtins.str, default: Any = _MISSING) -> Any:
        """A JSON boolean."""
        value = self._get(name, default)
        if value is default and default is not _MISSING:
            return value
        if not isinstance(value, bool):
            raise self.fail(name, f"must be true or false, not {value!r}")
        return value

    def int(
        self, name: builtins.str, default: Any = _MISSING, *, minimum: int | None = None,
        maximum: int = MAX_NUMBER,
    ) -> Any:
        """A JSON integer (``5.0`` is accepted as 5), from ``minimum`` to ``maximum``."""
        value = self._get(name, default)
        if value is default and default is not _MISSING:
            return value
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(name, f"must be an integer, not {value!r}")
        if minimum is not None and value < minimum:
            raise self.fail(name, f"must be at least {minimum}, not {value!r}")
        if value > maximum:
            raise self.fail(name, f"must be at most {maximum}, not {value!r}")
        return value

    def number(
        self, name: builtins.str, default: Any = _MISSING, *, minimum: float | None = None,
        maximum: float = MAX_NUMBER,
    ) -> Any:
        """A finite JSON number from ``minimum`` to ``maximum``."""
        value = self._get(name, default)
        if value is default and default is not _MISSING:
            return value
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise self.fail(name, f"must be a finite number, not {value!r}")
        if minimum is not None and value < minimum:
            raise self.fail(name, f"must be at least {minimum}, not {value!r}")
        if value > maximum:
            raise self.fail(name, f"must be at most {maximum:g}, not {value!r}")
        return float(value)

    def duration(self, name: builtins.str, default: Any = _MISSING) -> Any:
        """A duration in seconds from 0 to :data:`HORIZON_S`: a number, or text like ``"90s"``."""
        value = self._get(name, default)
        if value is default and default is not _MISSING:
            return value
        try:
            return parse_duration(value)
        except ValueError as exc:
            raise self.fail(name, f"must be seconds from 0 to {HORIZON_S:.0f} (100 years) or a duration "
                                  f"such as \"90s\", \"30m\", \"12h\": {exc}") from None

    def choice(
        self, name: builtins.str, choices: Mapping[Any, E] | tuple[E, ...], default: Any = _MISSING
    ) -> Any:
        """One of ``choices``; a mapping also accepts its keys (enum numbers, aliases)."""
        value = self._get(name, default)
        if value is default and default is not _MISSING:
            return value
        if type(choices) is not tuple and isinstance(choices, Mapping):
            key = value.lower() if isinstance(value, str) else value
            if isinstance(key, bool) or not isinstance(key, builtins.str | builtins.int) or key not in choices:
                names = ", ".join(str(k) for k in choices)
                raise self.fail(name, f"must be one of {names}, not {value!r}")
            return choices[key]
        if not isinstance(value, _CHOICE_TYPES) or value not in choices:
            raise self.fail(name, f"must be one of {', '.join(map(str, choices))}, not {value!r}")
        return value

    def mapping(self, name: builtins.str, default: Any = _MISSING) -> Any:
        """A nested object, returned as a new :class:`Args` for its own fields."""
        value = self._get(name, default)
        if value is default and default is not _MISSING:
            return value
        context = f"{self._context}.{name}" if self._context else name
        return Args(value, code=self._code, context=context)

    def done(self) -> None:
        """Reject arguments nobody read.

        Raises:
            RequestError: with the names of the unknown arguments.
        """
        if self._values.keys() <= self._used:
            return
        unknown = sorted(set(self._values) - self._used)
        if unknown:
            raise self.fail(unknown[0], "is not a known argument", None)


def normalize(
    raw: Any, *, code: str = "invalid_args", context: str = "", ignore: tuple[str, ...] = ("transaction",),
) -> dict[str, Any]:
    """The central rules every verb gets: ``raw`` (None means ``{}``) must be a JSON object;
    names are turned to snake_case (:func:`snake`), names in ``ignore`` dropped, a name given
    twice (``repeatCycleTime`` and ``repeat_cycle_time``) refused; every number, nested ones
    included, finite and within ±:data:`MAX_NUMBER`, nesting at most :data:`MAX_ARG_DEPTH`.

    Raises:
        RequestError: with ``code``, naming the field (``context.name`` inside a nested object).
    """
    if raw is None:
        return {}
    if type(raw) is not dict and not isinstance(raw, Mapping):  # dict first: the ABC check is slow
        raise RequestError(code, f"{context or 'arguments'} must be a JSON object")
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if not isinstance(key, str):
            raise RequestError(code, f"argument names must be strings, not {key!r}")
        name = snake(key)
        if name in ignore:
            continue
        if name in values:
            raise RequestError(code, f"argument {_path(context, name)} given twice")
        if not _plainly_in_range(value):
            problem = _out_of_range(value, 1)
            if problem is not None:
                raise RequestError(code, f"{_path(context, name)} {problem}", {"field": name})
        values[name] = value
    return values


def _path(context: str, name: str) -> str:
    return f"'{context}.{name}'" if context else f"'{name}'"


def _plainly_in_range(value: Any) -> builtins.bool:
    """True for the common scalars that need no look: text, true/false, null and numbers within
    ±:data:`MAX_NUMBER` (NaN and infinities fail the comparison); anything else goes to
    :func:`_out_of_range`."""
    kind = type(value)
    if kind is str or kind is bool or value is None:
        return True
    return (kind is builtins.int or kind is builtins.float) and -MAX_NUMBER <= value <= MAX_NUMBER


def _out_of_range(value: Any, depth: builtins.int) -> str | None:
    """Why ``value`` (or something nested in it) is outside the central ranges, or None."""
    if depth > MAX_ARG_DEPTH:
        return f"is nested deeper than {MAX_ARG_DEPTH} levels"
    if isinstance(value, bool):
        return None
    if isinstance(value, builtins.int):
        if abs(value) > MAX_NUMBER:
            return f"must be within ±{MAX_NUMBER} (2**53), not a {len(str(abs(value)))}-digit number"
        return None
    if isinstance(value, builtins.float):
        if not math.isfinite(value) or abs(value) > MAX_NUMBER:
            return f"must be a finite number within ±{MAX_NUMBER} (2**53), not {value!r}"
        return None
    if isinstance(value, Mapping):
        for key, item in value.items():
            problem = _out_of_range(item, depth + 1)
            if problem is not None:
                return f"(at {key!r}) {problem}" if depth == 1 else problem
        return None
    if isinstance(value, list | tuple):
        for item in value:
            problem = _out_of_range(item, depth + 1)
            if problem is not None:
                return problem
    return None
