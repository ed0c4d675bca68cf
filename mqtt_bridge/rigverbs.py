"""The rig's own requests declared once, as pydantic models: the envelope every request shares
(``transaction``), the arguments of the rig verbs on ``wakebench/<rig>/bridge/request/<verb>``
and the signal values of ``set_signals`` / ``signals/set``.

From these models come the run-time checks of :class:`~mqtt_bridge.requests.RequestRouter`
(typed results, one coded refusal each) and, through ``python -m mqtt_bridge.gen_api``, their
schemas in ``asyncapi.yaml`` (``Transaction``, ``RequestEnvelope``, ``SignalValues``,
``InjectFaultRequest``) and the "Rig verbs" section of ``docs/verbs.md``.

Why this module lives in ``mqtt_bridge``: the envelope and the rig verbs are the MQTT API's own
(topics, ``transaction``, the refusal codes), which ``mqtt_bridge`` owns (DESIGN.md section 7).
``mqtt_bridge`` may import ``firmware_sim`` and ``wbcommon`` but nothing above it
(``tests/test_layers.py``), and that is all the models need: the *vocabularies* they are built
from stay where every layer reads them — signal names, kinds, units and the one value check in
:mod:`wbcommon.signals`, the fault vocabulary in :mod:`wbcommon.faults` — so no name or bound
is restated here. The models derive from :class:`~firmware_sim.verbargs.VerbArgs` only so that
``gen_api`` renders them with the app verbs' machinery (``payload_schema``, docstrings, units).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Final, cast

from pydantic import (
    ConfigDict,
    Field,
    PlainValidator,
    ValidationError,
    ValidationInfo,
    WithJsonSchema,
    create_model,
    model_validator,
)
from pydantic_core import PydanticCustomError

from firmware_sim.verbargs import VerbArgs, arg
from wbcommon import faults
from wbcommon.signals import (
    BATTERY_MAX_PCT,
    BATTERY_MIN_PCT,
    CHARGERS,
    KINDS,
    NETWORKS,
    SIGNAL_NAMES,
    TEMP_MAX_C,
    TEMP_MIN_C,
    UNITS,
    InvalidSignalError,
    check,
)
from wbcommon.validation import SignalValue

__all__ = [
    "COMPONENT_REF",
    "RIG_VERB_MODELS",
    "TRANSACTION_MAX_CHARS",
    "TRANSACTION_SCHEMA",
    "UNKNOWN_KEY",
    "ContinueArgs",
    "HealthCheckArgs",
    "InfoArgs",
    "InjectFaultArgs",
    "RequestEnvelope",
    "RigRequestError",
    "SignalRequest",
    "SignalValues",
    "TransactionValue",
    "envelope_transaction",
    "transaction_problem",
]

#: Longest ``transaction`` string (characters). wakebench bound, stated in asyncapi.yaml
#: ``info.description`` ("string of at most 256 characters, or integer"): a correlation id, not
#: a payload, and every refusal echoes it.
TRANSACTION_MAX_CHARS: Final = 256
#: The key of ``set_signals`` / ``signals/set`` that marks signals unknown (the scenario step's
#: ``set: {unknown: [...]}``).
UNKNOWN_KEY: Final = "unknown"
#: Refusal codes (asyncapi.yaml ``ErrorCode``).
INVALID_PAYLOAD: Final = "invalid_payload"
INVALID_SIGNAL: Final = "invalid_signal"
NOT_SETTABLE: Final = "not_settable"
INVALID_FAULT: Final = "invalid_fault"
#: pydantic error type of a refusal a model decides whole (code and message in its context).
_REFUSAL: Final = "wakebench_refusal"

#: What a valid ``transaction`` holds: text, an integer, or a JSON number with an integral value
#: (``7.0``; JSON Schema's ``integer`` takes it). It is echoed exactly as sent.
TransactionValue = str | int | float

#: ``components.schemas.Transaction`` (generated into asyncapi.yaml; :func:`_check_transaction`
#: is the same rule, and ``tests/bridge/test_rigverbs.py`` runs both on the same values).
TRANSACTION_SCHEMA: Final[dict[str, Any]] = {
    "description": "Echoed unchanged in the response (null when the request had none or it was invalid).",
    "oneOf": [{"type": "string", "maxLength": TRANSACTION_MAX_CHARS}, {"type": "integer"}],
}
#: Where a model's schema refers to another schema of asyncapi.yaml's ``components.schemas``
#: (pydantic resolves ``$ref`` itself, so gen_api turns this key into the ``$ref``).
COMPONENT_REF: Final = "x-component"
_TRANSACTION_REF: Final = {COMPONENT_REF: "Transaction"}


class RigRequestError(ValueError):
    """A rig request refused: ``code`` (asyncapi.yaml ``ErrorCode``) and a one-line message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _refusal(code: str, message: str) -> PydanticCustomError:
    return PydanticCustomError(_REFUSAL, "{m}", {"m": message, "code": code})


def _shown(value: object, limit: int = 80) -> str:
    """A value as a refusal shows it: JSON, shortened (a long string by its length)."""
    if isinstance(value, str) and len(value) > limit:
        return f"a string of {len(value)} characters"
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):  # not from JSON, or an integer too long to print
        text = f"a {type(value).__name__}"
    return text if len(text) <= limit else text[:limit] + "…"


def transaction_problem(value: object) -> str | None:
    """What is wrong with ``value`` as a ``transaction`` (None: nothing)."""
    if isinstance(value, str):
        if len(value) <= TRANSACTION_MAX_CHARS:
            return None
    elif (isinstance(value, int) and not isinstance(value, bool)) or (
            isinstance(value, float) and value.is_integer()):
        return None
    return (f"must be a string of at most {TRANSACTION_MAX_CHARS} characters or an integer, "
            f"not {_shown(value)}")


def _check_transaction(value: object) -> TransactionValue:
    problem = transaction_problem(value)
    if problem is not None:
        raise _refusal(INVALID_PAYLOAD, f"transaction: {problem}")
    return cast(TransactionValue, value)


#: A ``transaction`` field: absent is fine, ``null`` is not (the field's default is never validated).
Transaction = Annotated[TransactionValue | None, PlainValidator(_check_transaction),
                        WithJsonSchema(_TRANSACTION_REF)]


def _first_refusal(exc: ValidationError, code: str) -> RigRequestError:
    """The first error of a rig model as one refusal (a model's own refusal keeps its code)."""
    error = exc.errors(include_url=False)[0]
    ctx = error.get("ctx") or {}
    if error["type"] == _REFUSAL:
        return RigRequestError(str(ctx["code"]), str(ctx["m"]))
    where = ".".join(str(p) for p in error["loc"]) or "payload"
    return RigRequestError(code, f"{where}: {error['msg']}")


class _RigArgs(VerbArgs):
    """Base of the rig's models: the envelope's ``transaction`` beside the arguments."""

    transaction: Transaction = arg(None, doc="echoed in the answer (see `Transaction`)")


class RequestEnvelope(_RigArgs):
    """Every request payload; verb arguments sit beside `transaction`."""


_ENVELOPE: Final = RequestEnvelope.__pydantic_validator__


def envelope_transaction(body: Mapping[str, Any]) -> TransactionValue | None:
    """The request's ``transaction`` (None when it has none) after the envelope check.

    Raises:
        RigRequestError: ``invalid_payload``: the ``transaction`` is not valid (names the field).
    """
    if "transaction" not in body:
        return None
    try:
        envelope: RequestEnvelope = _ENVELOPE.validate_python(body)
    except ValidationError as exc:
        raise _first_refusal(exc, INVALID_PAYLOAD) from None
    return envelope.transaction


# -- rig verbs without arguments --------------------------------------------------------------
class HealthCheckArgs(_RigArgs):
    """Whether the rig is healthy: connected to its broker, events waiting in the outbox and
    dropped from it, apps served (data `HealthCheck`). A starting rig that finds its id online
    sends it to the running instance. Other arguments are ignored."""


class InfoArgs(_RigArgs):
    """The rig's description, as retained on `bridge/info` (data `BridgeInfo`): version, board,
    platforms, speed, request size limit, the signals `set_signals` may set. Other arguments are
    ignored."""


class ContinueArgs(_RigArgs):
    """Release the manual steps a live scenario waits for, as Enter on the rig's terminal does
    (data `ContinueData`); `nothing_waiting` when none waits. Other arguments are ignored."""


# -- set_signals / signals/set ----------------------------------------------------------------
#: JSON Schema of each kind of signal (wbcommon.signals rules; units in the field's x-unit).
_KIND_SCHEMAS: Final[dict[str, dict[str, Any]]] = {
    "level": {"type": "number", "minimum": BATTERY_MIN_PCT, "maximum": BATTERY_MAX_PCT},
    "measurement": {"type": ["number", "null"]},
    "bool": {"type": "boolean"},
    "charger": {"type": "string", "enum": list(CHARGERS)},
    "network": {"type": "string", "enum": list(NETWORKS)},
}
_KIND_DOCS: Final = {
    "level": "battery charge",
    "measurement": "a sensor's measurement; null: not measured (no such sensor)",
    "bool": "true or false",
    "charger": "external power",
    "network": "the active network",
}


def _signal_schema(name: str) -> dict[str, Any]:
    schema = dict(_KIND_SCHEMAS[KINDS[name]])
    if name == "temperature":
        schema |= {"minimum": TEMP_MIN_C, "maximum": TEMP_MAX_C}
    return schema


def _signal_field(name: str) -> tuple[Any, Any]:
    """A pydantic field for signal ``name``: checked by :func:`wbcommon.signals.check`, whose
    messages users already see (``signal 'battery_level' must be a number from 0 to 100 %``)."""
    def check_value(value: object) -> SignalValue:
        try:
            return cast(SignalValue, check(name, value))
        except InvalidSignalError as exc:
            raise _refusal(INVALID_SIGNAL, str(exc)) from None

    kind = Annotated[SignalValue, PlainValidator(check_value), WithJsonSchema(_signal_schema(name))]
    return kind, arg(None, doc=_KIND_DOCS[KINDS[name]], unit=UNITS.get(name, ""))


def _unknown_names(value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(n, str) for n in value):
        raise _refusal(INVALID_SIGNAL, "'unknown' must be a non-empty list of signal names, such as "
                                       f"[\"battery_level\"], not {_shown(value)}")
    bad = sorted({n for n in value if n not in KINDS})
    if bad:
        raise _refusal(INVALID_SIGNAL, f"unknown signal(s) {', '.join(map(repr, bad))} in 'unknown' "
                                       f"(known: {', '.join(SIGNAL_NAMES)})")
    return tuple(value)


Unknown = Annotated[tuple[str, ...] | None, PlainValidator(_unknown_names), WithJsonSchema(
    {"type": "array", "minItems": 1, "items": {"type": "string", "enum": list(SIGNAL_NAMES)}})]


@dataclass(frozen=True, slots=True)
class SignalRequest:
    """A validated ``set_signals`` / ``signals/set``: values to set, in the request's order
    (checked and in their canonical types), or the names to mark unknown."""

    values: dict[str, SignalValue]
    unknown: tuple[str, ...] | None = None


class _SignalValuesBase(_RigArgs):
    """Set signals on the board at once (all or none), units as in DESIGN.md section 2. Only
    signals with a relay or the simulation behind them may be set (`settable` in `bridge/info`;
    others: `not_settable`). `unknown` (alone, with no values) marks the named signals unknown
    in one snapshot until the board measures a new value or a set sets one. Answer data:
    `applied`, the `signals` snapshot after it (and `unknown`). A bad name or value is
    `invalid_signal`. `signals/set` takes the same payload without an answer (refusals go to
    `bridge/event` as `signals_set_error`)."""

    model_config = ConfigDict(extra="forbid")
    unknown: Unknown = arg(None, doc="signal names to mark unknown, alone in the request")

    @model_validator(mode="before")
    @classmethod
    def _names(cls, data: Any, info: ValidationInfo) -> Any:
        """Rules on the names, before any value: ``unknown`` stands alone; every name is a
        signal; every signal is settable on this rig (``context["settable"]``, when given)."""
        if not isinstance(data, dict):
            return data
        if UNKNOWN_KEY in data:
            others = sorted(k for k in data if k not in ("transaction", UNKNOWN_KEY))
            if others:
                raise _refusal(INVALID_SIGNAL, f"'unknown' cannot be combined with values "
                                               f"({', '.join(others)}) in one request: send them separately")
            return data
        names = [k for k in data if k != "transaction"]
        strangers = sorted(k for k in names if k not in KINDS)
        if strangers:
            raise _refusal(INVALID_SIGNAL, f"unknown signal(s) {', '.join(map(repr, strangers))} "
                                           f"(known: {', '.join(SIGNAL_NAMES)})")
        settable: frozenset[str] | None = (info.context or {}).get("settable")
        if settable is not None:
            blocked = sorted(k for k in names if k not in settable)
            if blocked:
                can = ", ".join(sorted(settable)) or "none"
                raise _refusal(NOT_SETTABLE, f"signal(s) {', '.join(blocked)} cannot be set on this rig "
                                             f"(no relay or simulation behind them; settable: {can})")
        return data

    @classmethod
    def parse(cls, body: Mapping[str, Any], settable: frozenset[str] | None = None) -> SignalRequest:
        """``body`` checked (names, then values); ``settable``: the signals this rig can set
        (None: any).

        Raises:
            RigRequestError: ``invalid_signal`` or ``not_settable``, naming the signal(s).
        """
        try:
            model = cls.__pydantic_validator__.validate_python(body, context={"settable": settable})
        except ValidationError as exc:
            raise _first_refusal(exc, INVALID_SIGNAL) from None
        if model.unknown is not None:
            return SignalRequest({}, model.unknown)
        return SignalRequest({name: getattr(model, name) for name in body if name in KINDS})


#: ``components.schemas.SignalValues``: one field per signal of :data:`wbcommon.signals.KINDS`.
SignalValues: type[_SignalValuesBase] = create_model(  # type: ignore[call-overload]  # fields from KINDS
    "SignalValues", __base__=_SignalValuesBase, __module__=__name__,
    **{name: _signal_field(name) for name in SIGNAL_NAMES})
SignalValues.__doc__ = _SignalValuesBase.__doc__


# -- inject_fault -------------------------------------------------------------------------------
_FOR_SCHEMA: Final = {"oneOf": [{"type": "number", "exclusiveMinimum": 0},
                                {"type": "string", "pattern": faults.DURATION_PATTERN}]}


class _InjectFaultBase(_RigArgs):
    """Break an emulated part on purpose (wbcommon/faults.py): exactly one target with its fault,
    and optionally `for` (seconds or "2m"; without it the fault lasts until `clear`, a flap
    2 s). Answer data: `{"active": {target: fault}}`. Real hardware answers
    `not_supported_on_hardware`; anything outside the fault vocabulary `invalid_fault`."""

    #: exactly one target (the schema says it too; ``clear`` without ``for`` only the parse does)
    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "oneOf": [{"required": [target]} for target in faults.TARGETS]})

    @classmethod
    def parse(cls, body: Mapping[str, Any]) -> faults.Fault:
        """``body`` as one fault of the vocabulary (:func:`wbcommon.faults.parse_fault`).

        Raises:
            RigRequestError: ``invalid_fault``, naming what is wrong.
        """
        try:
            return faults.parse_fault(body)
        except faults.InvalidFaultError as exc:
            raise RigRequestError(INVALID_FAULT, str(exc)) from None


def _target_field(target: str) -> tuple[Any, Any]:
    kinds = (*faults.KINDS[target], faults.CLEAR)
    kind = Annotated[str | None, WithJsonSchema({"type": "string", "enum": list(kinds)})]
    return kind, arg(None, doc=f"the {target}'s fault ({faults.CLEAR}: end it)")


_DURATION_FIELD: Final = (
    Annotated[float | str | None, WithJsonSchema(_FOR_SCHEMA), Field(alias="for")],
    arg(None, doc="how long the fault lasts: seconds, or text such as \"90s\", \"2m\"", unit="s"))


#: ``components.schemas.InjectFaultRequest``: one field per target of :data:`wbcommon.faults.KINDS`.
InjectFaultArgs: type[_InjectFaultBase] = create_model(  # type: ignore[call-overload]  # fields from KINDS
    "InjectFaultArgs", __base__=_InjectFaultBase, __module__=__name__,
    **{target: _target_field(target) for target in faults.TARGETS}, duration=_DURATION_FIELD)
InjectFaultArgs.__doc__ = _InjectFaultBase.__doc__

#: Every rig verb's model, in the order of asyncapi.yaml's ``bridgeVerb`` enum.
RIG_VERB_MODELS: Final[dict[str, type[VerbArgs]]] = {
    "set_signals": SignalValues,
    "health_check": HealthCheckArgs,
    "info": InfoArgs,
    "inject_fault": InjectFaultArgs,
    "continue": ContinueArgs,
}
#: Each rig model's schema name in asyncapi.yaml (verbs without arguments take the envelope).
SCHEMA_NAMES: Final[dict[type[VerbArgs], str]] = {
    RequestEnvelope: "RequestEnvelope", SignalValues: "SignalValues", InjectFaultArgs: "InjectFaultRequest",
}
