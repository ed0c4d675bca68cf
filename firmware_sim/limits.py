"""Named, sourced, overridable limits.

Every number a platform policy enforces is a field of a frozen ``Limits`` dataclass declared
with :func:`limit`, which records its unit and source (seed file + section, or a public
document). ``wakebench budgets`` prints them; a rig config overrides them by name.

Overrides are validated like every file the bench reads (:mod:`wbcommon.validation`): each
``Limits`` class has a pydantic model of its overrides, made from its fields (a flag takes
true/false, a number a non-negative number, a text one of its ``choices``).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, TypeVar

from pydantic import BeforeValidator, ValidationError, create_model

from firmware_sim.errors import ConfigError
from wbcommon.validation import InvalidFieldError, Strict, first_error

T = TypeVar("T", bound="Limits")


@dataclass(frozen=True, slots=True)
class LimitInfo:
    """One documented limit as ``wakebench budgets`` shows it."""

    platform: str
    name: str
    value: Any
    unit: str
    source: str
    doc: str
    overridden: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready mapping."""
        return dataclasses.asdict(self)


def limit(value: Any, unit: str, source: str, doc: str, *,
          choices: tuple[str, ...] | None = None) -> Any:
    """Declare a limit field: its default ``value``, ``unit``, ``source`` and a one-line ``doc``;
    ``choices``: the only values an override may take (checked by :meth:`Limits.with_overrides`)."""
    metadata: dict[str, Any] = {"unit": unit, "source": source, "doc": doc}
    if choices is not None:
        metadata["choices"] = choices
    return dataclasses.field(default=value, metadata=metadata)


@dataclass(frozen=True)
class Limits:
    """Base of every platform's limits; subclasses add fields with :func:`limit`."""

    def with_overrides(self: T, overrides: Mapping[str, Any]) -> T:
        """Return a copy with some limits replaced (rig config, scenario ``limits:``).

        Raises:
            ConfigError: an unknown limit name, a value of the wrong type or not one of the
                limit's ``choices``.
        """
        if not overrides:
            return self
        model = _overrides_model(type(self))
        try:
            checked = model.model_validate(overrides)
        except ValidationError as exc:
            raise ConfigError(first_error(exc, model, {}).message) from None
        changes = {name: getattr(checked, name) for name in checked.model_fields_set}
        return dataclasses.replace(self, **changes)

    def describe(self, platform: str) -> list[LimitInfo]:
        """Every limit with its value, unit, source and whether it was overridden."""
        out = []
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            out.append(
                LimitInfo(
                    platform=platform,
                    name=f.name,
                    value=value,
                    unit=f.metadata.get("unit", ""),
                    source=f.metadata.get("source", ""),
                    doc=f.metadata.get("doc", ""),
                    overridden=value != f.default,
                )
            )
        return out

    @classmethod
    def source_of(cls, name: str) -> str:
        """The documented source of limit ``name`` (used by tests that quote it)."""
        for f in dataclasses.fields(cls):
            if f.name == name:
                return str(f.metadata.get("source", ""))
        raise KeyError(name)


class _Overrides(Strict):
    """Base of the per-``Limits`` override models (:func:`_overrides_model`)."""

    UNKNOWN_WORD: ClassVar[str] = "limit"


_MODELS: dict[type[Limits], type[_Overrides]] = {}


def _overrides_model(cls: type[Limits]) -> type[_Overrides]:
    """The pydantic model of ``cls``'s overrides (made once per class): one optional field per
    limit, each checked against the limit's default type and ``choices``."""
    if cls in _MODELS:
        return _MODELS[cls]
    fields: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        check = _coercer(f.name, f.default, f.metadata.get("choices"))
        fields[f.name] = (Annotated[_value_type(f.default), BeforeValidator(check)], None)
    model: type[_Overrides] = create_model(f"{cls.__name__}Overrides", __base__=_Overrides, **fields)
    _MODELS[cls] = model
    return model


def _value_type(default: object) -> object:
    """What an override of a limit with this default holds (an int limit keeps a float given)."""
    if isinstance(default, bool):
        return bool
    if isinstance(default, float):
        return float
    if isinstance(default, int):
        return int | float
    return object if default is None else type(default)


def _coercer(name: str, default: object, choices: tuple[str, ...] | None) -> Callable[[object], object]:
    def check(value: object) -> object:
        coerced = _coerce(name, default, value)
        if choices is not None and coerced not in choices:
            raise InvalidFieldError(f"limit {name!r} must be one of {', '.join(choices)}, not {value!r}")
        return coerced
    return check


def _coerce(name: str, default: object, value: object) -> object:
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise InvalidFieldError(f"limit {name!r} must be true or false, not {value!r}")
        return value
    if isinstance(default, int | float):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidFieldError(f"limit {name!r} must be a number, not {value!r}")
        if isinstance(value, float) and not math.isfinite(value):  # a deadline at inf / nan is no rig time, nor JSON
            raise InvalidFieldError(f"limit {name!r} must be a finite number, not {value!r}")
        if value < 0:
            raise InvalidFieldError(f"limit {name!r} must not be negative, not {value!r}")
        try:
            return float(value) if isinstance(default, float) else value
        except OverflowError:  # an int beyond float range (YAML allows any size)
            raise InvalidFieldError(f"limit {name!r} must be a number within range, not {value!r}") from None
    if default is None or isinstance(value, type(default)):
        return value
    raise InvalidFieldError(f"limit {name!r} must be of type {type(default).__name__}, not {value!r}")
