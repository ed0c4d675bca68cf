"""Verb arguments declared once, as pydantic v2 models, and validated into typed results.

Each verb is a :class:`VerbArgs` subclass: one field per argument with its type, range
(``ge``/``le``), default, unit and the real API's name (:func:`arg`). From that one declaration
come the typed object a policy receives, the per-verb payload schemas of
``mqtt_bridge/asyncapi.yaml`` (:meth:`VerbArgs.payload_schema`, written by
``python -m mqtt_bridge.gen_api``) and the reference page ``docs/verbs.md``.

:func:`parse` keeps the central rules of :func:`firmware_sim.args.normalize` (a JSON object,
camelCase names accepted as snake_case, ``transaction`` ignored, numbers within ±2**53, nesting
at most 16 deep), treats ``null`` as "not given", and turns pydantic's errors into exactly one
:class:`RequestError` with the policy's code, today's message and ``data.field``: the first
field in declaration order (the order the policy used to read them), unknown names last.

The field types below (:data:`Int`, :data:`Number`, :data:`Flag`, :data:`Text`, :data:`Id`,
:func:`choice`, :func:`pattern`, :data:`Duration`, :func:`nested`) check in a before-validator so that their
messages stay the ones users already see; pydantic then applies ``ge``/``le``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Final, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    ValidationError,
    ValidationInfo,
    WithJsonSchema,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError, core_schema

from firmware_sim.args import ID_RE, normalize
from firmware_sim.durations import HORIZON_S, parse_duration
from firmware_sim.errors import RequestError

#: pydantic error type of a message written for users (the field path is put in front).
ARG_ERROR: Final = "wakebench_arg"
#: pydantic error type of a complete message (no field path, no ``data.field``).
RAW_ERROR: Final = "wakebench_raw"
#: pydantic error type of a rule across fields (:func:`field_error`), naming its field.
FIELD_ERROR: Final = "wakebench_field"
M = TypeVar("M", bound="VerbArgs")


def arg_error(message: str) -> PydanticCustomError:
    """An error for a validator to raise: ``message`` follows the field's quoted name."""
    return PydanticCustomError(ARG_ERROR, "{m}", {"m": message})


def bad_arg(code: str, name: str, message: str) -> RequestError:
    """A refusal of argument ``name`` found by a policy rule across fields (``'name' message``)."""
    return RequestError(code, f"'{name}' {message}", {"field": name})


def field_error(name: str, message: str, *, raw: bool = False) -> PydanticCustomError:
    """An error for a model validator (a rule across fields) to raise about argument ``name``:
    ``'name' message``, or ``message`` alone with ``raw`` (``data.field`` names it either way)."""
    return PydanticCustomError(FIELD_ERROR, "{m}", {"m": message, "field": name, "raw": raw})


class VerbArgs(BaseModel):
    """Base of every verb's arguments: results are immutable; a subclass's docstring says what
    the verb does (docs/verbs.md and asyncapi.yaml show it).

    Order of refusals, as the policies' field-by-field reading gave them: the fields in
    declaration order, then the model's rules across fields (``model_validator``), then unknown
    names (:func:`parse` checks them last; a nested object, :class:`NestedArgs`, checks its own
    in its turn).
    """

    model_config = ConfigDict(extra="ignore", frozen=True, strict=True, hide_input_in_errors=False,
                              defer_build=False)
    #: Names dropped before validation (:func:`parse` takes others, e.g. ``register``'s ``platform``).
    ignored: ClassVar[tuple[str, ...]] = ("transaction",)
    #: Whether :func:`parse` refuses names that are not fields (``register`` leaves the platform's
    #: settings to the platform's own model).
    closed: ClassVar[bool] = True
    #: The argument names (set for each model when pydantic has built it; read on every request).
    names: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        cls.names = frozenset(cls.__pydantic_fields__)

    @classmethod
    def payload_schema(cls) -> dict[str, Any]:
        """JSON Schema (draft 7 subset) of the arguments, as asyncapi.yaml holds it."""
        return _payload_schema(cls)


class NestedArgs(VerbArgs):
    """Base of a nested object's arguments (:func:`nested`): unknown names refused in its turn."""

    model_config = ConfigDict(extra="forbid")


@functools.cache
def _payload_schema(cls: type[VerbArgs]) -> dict[str, Any]:
    schema = cls.model_json_schema(mode="validation")
    defs = schema.pop("$defs", {})
    inlined: dict[str, Any] = _inline(schema, defs)
    return inlined


#: pydantic leaves a range on an optional before-validated number under its Python name.
_JSON_NAMES: Final = {"ge": "minimum", "le": "maximum", "gt": "exclusiveMinimum", "lt": "exclusiveMaximum"}


def _inline(node: Any, defs: dict[str, Any]) -> Any:
    """Replace ``$ref: #/$defs/X`` by the definition (asyncapi.yaml keeps one schema per verb)."""
    if isinstance(node, dict):
        if "$ref" in node and node["$ref"].startswith("#/$defs/"):
            target = dict(defs[node["$ref"].removeprefix("#/$defs/")])
            extra = {k: v for k, v in node.items() if k != "$ref"}
            return _inline({**target, **extra}, defs)
        keyword = isinstance(node.get("type"), str | list)  # a schema, not a map of property names
        return {(_JSON_NAMES.get(k, k) if keyword else k): _inline(v, defs)
                for k, v in node.items() if not (k == "title" and isinstance(v, str))}
    if isinstance(node, list):
        return [_inline(v, defs) for v in node]
    return node


def arg(default: Any = ..., *, doc: str, unit: str = "", api: str = "", ge: float | None = None,
        le: float | None = None, validate_default: bool = False) -> Any:
    """Declare an argument: its ``default`` (``...``: required), a one-line ``doc``, its ``unit``,
    the real API's name ``api`` (e.g. ``repeatCycleTime``; camelCase input is accepted for every
    argument) and a range ``ge``..``le`` checked by pydantic; ``validate_default``: the field's
    validators also run when it is not given (a field required only in some cases)."""
    extra: dict[str, Any] = {}
    if unit:
        extra["x-unit"] = unit
    if api:
        extra["x-api-name"] = api
    return Field(default, description=doc, ge=ge, le=le, json_schema_extra=extra or None,
                 validate_default=validate_default or None)


# -- field types ---------------------------------------------------------------------------------
def _int(value: Any) -> Any:
    if type(value) is float and value.is_integer():
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise arg_error(f"must be an integer, not {value!r}")
    return value


def _duration(value: Any) -> Any:
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise arg_error(f"must be seconds from 0 to {HORIZON_S:.0f} (100 years) or a duration "
                        f"such as \"90s\", \"30m\", \"12h\": {exc}") from None


@dataclass(frozen=True, slots=True)
class _Native:
    """Field metadata: pydantic-core checks the type itself (no Python call per value); any
    error becomes ``kind``, whose message :func:`_one_error` writes from :data:`_MESSAGES`."""

    kind: str
    context: tuple[tuple[str, str], ...] = ()

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.custom_error_schema(handler(source), custom_error_type=self.kind,
                                               custom_error_message=self.kind,
                                               custom_error_context=dict(self.context) or None)


#: Messages of the natively checked types (``{input}``: the value given, as ``repr``).
_MESSAGES: Final = {
    "wakebench_number": "must be a finite number, not {input}",
    "wakebench_flag": "must be true or false, not {input}",
    "wakebench_text": "must be a string, not {input}",
    "wakebench_choice": "must be one of {choices}, not {input}",
    "wakebench_id": "must match [a-z0-9_-]{{1,64}}, not {input}",
}

#: An integer (``5.0`` is taken as 5; ``true`` and ``"5"`` are not integers).
Int = Annotated[int, BeforeValidator(_int)]
#: A finite number (integers included; finite because the central check ran first), as a float.
Number = Annotated[float, _Native("wakebench_number")]
#: A JSON boolean.
Flag = Annotated[bool, _Native("wakebench_flag")]
#: A string.
Text = Annotated[str, _Native("wakebench_text")]
@dataclass(frozen=True, slots=True)
class _NativeId:
    """Field metadata: an id, checked by pydantic-core (text matching :data:`ID_RE`, or a
    non-negative integer turned into its text)."""

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.custom_error_schema(
            core_schema.union_schema([
                core_schema.str_schema(pattern=ID_RE.pattern, strict=True),
                core_schema.no_info_after_validator_function(str, core_schema.int_schema(ge=0, strict=True)),
            ]), custom_error_type="wakebench_id", custom_error_message="wakebench_id")

    def __get_pydantic_json_schema__(self, schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        return {"anyOf": [{"type": "string", "pattern": ID_RE.pattern}, {"type": "integer", "minimum": 0}]}


#: An id usable in MQTT topics, ``[a-z0-9_-]{1,64}``; a non-negative integer is taken as its text.
Id = Annotated[str, _NativeId()]
#: A duration in seconds from 0 to HORIZON_S: a number, or text such as ``"90s"``, ``"1h30m"``.
Duration = Annotated[float, BeforeValidator(_duration), WithJsonSchema({
    "anyOf": [{"type": "number", "minimum": 0, "maximum": HORIZON_S},
              {"type": "string", "pattern": r"^(\d+(\.\d+)?(ms|s|m|h|d)?)+$"}]})]


@dataclass(frozen=True, slots=True, eq=False)  # hashed by identity: pydantic caches by metadata
class _Checked:
    """Field metadata: a before-check with its own message and the JSON Schema it documents."""

    check: Callable[[Any], Any]
    schema: dict[str, Any]

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.no_info_before_validator_function(self.check, handler(source))

    def __get_pydantic_json_schema__(self, schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        return dict(self.schema)


def custom(check: Callable[[Any], Any], schema: dict[str, Any]) -> Any:
    """Metadata for ``Annotated[T, custom(check, schema)]``: ``check`` takes the raw value and
    returns the field's value or raises :func:`arg_error`; ``schema`` documents it."""
    return _Checked(check, schema)


def pattern(regex: re.Pattern[str]) -> Any:
    """Metadata for ``Annotated[str, pattern(regex)]``: a string matching ``regex`` (message:
    ``must match <regex>, not <value>``)."""
    def check(value: Any) -> Any:
        if not isinstance(value, str):
            raise arg_error(f"must be a string, not {value!r}")
        if not regex.match(value):
            raise arg_error(f"must match {regex.pattern}, not {value!r}")
        return value
    return _Checked(check, {"type": "string", "pattern": regex.pattern})


def choice(choices: Mapping[Any, str] | tuple[str, ...]) -> Any:
    """Metadata for ``Annotated[str, choice(...)]``: one of ``choices``; a mapping also accepts
    its keys (enum numbers, aliases; text in any case) and gives the value it maps to."""
    if type(choices) is not tuple and isinstance(choices, Mapping):
        table = dict(choices)
        names = ", ".join(str(k) for k in table)

        def check(value: Any) -> Any:
            key = value.lower() if isinstance(value, str) else value
            if isinstance(key, bool) or not isinstance(key, str | int) or key not in table:
                raise arg_error(f"must be one of {names}, not {value!r}")
            return table[key]
        return _Checked(check, {"enum": list(table)})
    return _NativeChoice(tuple(choices))


@dataclass(frozen=True, slots=True)
class _NativeChoice:
    """Field metadata: one of a tuple of names, checked by pydantic-core."""

    allowed: tuple[str, ...]

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.custom_error_schema(
            core_schema.literal_schema(list(self.allowed)), custom_error_type="wakebench_choice",
            custom_error_message="wakebench_choice",
            custom_error_context={"choices": ", ".join(self.allowed)})

    def __get_pydantic_json_schema__(self, schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        return {"type": "string", "enum": list(self.allowed)}


def rule(check: Callable[[Any], str | None]) -> Any:
    """Metadata: a rule on the validated value (``check`` returns a message or None). It runs
    in the field's turn, as the policy's check right after reading the field did."""
    def after(value: Any) -> Any:
        problem = check(value)
        if problem is not None:
            raise arg_error(problem)
        return value
    return AfterValidator(after)


def nested(model: type[NestedArgs]) -> Any:
    """Metadata for ``Annotated[SomeArgs, nested(SomeArgs)]``: a nested object whose names get
    the central rules (and whose nulls mean "not given") before ``model`` validates it."""
    def check(value: Any, info: ValidationInfo) -> Any:
        context = info.field_name or "arguments"
        try:
            values = normalize(value, context=context)
        except RequestError as exc:
            raise PydanticCustomError(RAW_ERROR, "{m}", {"m": exc.message}) from None
        return _without_nulls(values, model)
    return BeforeValidator(check)


# -- parse -----------------------------------------------------------------------------------------
def parse(model: type[M], raw: Any, *, code: str = "invalid_args", context: str = "",
          ignore: tuple[str, ...] | None = None) -> M:
    """``raw`` request arguments validated into ``model``.

    Raises:
        RequestError: one, with ``code``: the first problem in field order, then unknown names.
    """
    values = normalize(raw, code=code, context=context, ignore=model.ignored if ignore is None else ignore)
    if not values:  # no arguments: one shared, immutable instance per model once validated
        empty = _EMPTY.get(model)
        if empty is not None:
            return empty  # type: ignore[return-value]  # _EMPTY maps each model to its own instance
    elif None in values.values():
        values = _without_nulls(values, model)
    try:  # the core validator itself: model_validate adds Python-side work on every request
        result: M = model.__pydantic_validator__.validate_python(values)
    except ValidationError as exc:
        raise _one_error(exc, code, context) from None
    if not values:
        _EMPTY[model] = result
    elif model.closed and not values.keys() <= model.names:
        name = min(k for k in values if k not in model.names)
        raise RequestError(code, f"'{f'{context}.' if context else ''}{name}' is not a known argument",
                           {"field": name})
    return result


#: Each model's instance for an empty payload (models are frozen, so one instance serves all).
_EMPTY: Final[dict[type[VerbArgs], VerbArgs]] = {}


def _without_nulls(values: dict[str, Any], model: type[VerbArgs]) -> dict[str, Any]:
    """null is "not given" for a known argument (an unknown one is still refused)."""
    if None not in values.values():
        return values
    names = model.names
    return {k: v for k, v in values.items() if v is not None or k not in names}


def _one_error(exc: ValidationError, code: str, context: str) -> RequestError:
    errors = exc.errors(include_url=False)
    fields = [e for e in errors if not (e["type"] == "extra_forbidden" and len(e["loc"]) == 1)]
    first = fields[0] if fields else min(errors, key=lambda e: str(e["loc"][0]))
    loc = [str(p) for p in first["loc"]]
    path = ".".join([context, *loc] if context else loc)
    kind = first["type"]
    ctx = first.get("ctx") or {}
    if kind == RAW_ERROR:
        return RequestError(code, str(ctx["m"]))
    if kind == FIELD_ERROR:
        name = str(ctx["field"])
        loc = [*loc, name]
        if ctx.get("raw"):
            return RequestError(code, str(ctx["m"]), {"field": name})
        path = ".".join([context, *loc] if context else loc)
        return RequestError(code, f"'{path}' {ctx['m']}", {"field": name})
    if kind == ARG_ERROR:
        message = str(ctx["m"])
    elif kind in _MESSAGES:
        message = _MESSAGES[kind].format(input=repr(first["input"]), choices=ctx.get("choices", ""))
    elif kind == "missing":
        message = "is required"
    elif kind == "extra_forbidden":
        message = "is not a known argument"
    elif kind == "greater_than_equal":
        message = f"must be at least {ctx['ge']}, not {first['input']!r}"
    elif kind == "less_than_equal":
        bound = ctx["le"]
        message = f"must be at most {format(bound, 'g') if isinstance(bound, float) else bound}, " \
                  f"not {first['input']!r}"
    else:  # a pydantic check without a wakebench message (none is expected): say what it says
        message = f"is not valid: {first['msg']}"
    return RequestError(code, f"'{path}' {message}", {"field": loc[-1]})
