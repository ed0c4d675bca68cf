"""Named, sourced, overridable limits.

Every number a platform policy enforces is a field of a frozen ``Limits`` dataclass declared
with :func:`limit`, which records its unit and source (seed file + section, or a public
document). ``wakebench budgets`` prints them; a rig config overrides them by name.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from firmware_sim.errors import ConfigError

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
        fields = {f.name: f for f in dataclasses.fields(self)}
        changes: dict[str, Any] = {}
        for name, value in overrides.items():
            if name not in fields:
                known = ", ".join(sorted(fields))
                raise ConfigError(f"unknown limit {name!r} (known: {known})")
            default = fields[name].default
            changes[name] = _coerce(name, default, value)
            choices = fields[name].metadata.get("choices")
            if choices is not None and changes[name] not in choices:
                raise ConfigError(f"limit {name!r} must be one of {', '.join(choices)}, "
                                  f"not {value!r}")
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


def _coerce(name: str, default: Any, value: Any) -> Any:
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ConfigError(f"limit {name!r} must be true or false, not {value!r}")
        return value
    if isinstance(default, int | float) and not isinstance(default, bool):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"limit {name!r} must be a number, not {value!r}")
        if not math.isfinite(value):  # a deadline at inf / nan is no rig time, nor JSON
            raise ConfigError(f"limit {name!r} must be a finite number, not {value!r}")
        if value < 0:
            raise ConfigError(f"limit {name!r} must not be negative, not {value!r}")
        return type(default)(value) if isinstance(default, float) else value
    if default is None or isinstance(value, type(default)):
        return value
    raise ConfigError(f"limit {name!r} must be of type {type(default).__name__}, not {value!r}")
