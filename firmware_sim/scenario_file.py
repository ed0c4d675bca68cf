"""What a scenario YAML file may say, as pydantic models (``firmware_sim.scenario`` builds the
:class:`~firmware_sim.scenario.Scenario`).

Every table derives from :class:`wbcommon.validation.Strict` (unknown keys refused); each value
type words its error the way ``wakebench simulate`` prints it. Checks across entries (a step's
app is declared, the app's platform has the verb, an expectation can still happen before
``until``) are validators of :class:`ScenarioFile`'s fields: a field's validator sees the fields
declared before it (``apps`` before ``steps`` before ``until`` before ``expect``). Signal values
go through the one vocabulary (:mod:`wbcommon.signals`); limits through each platform's
``Limits.with_overrides`` and a scheduler built with them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Final, Literal

from pydantic import (
    BeforeValidator,
    ConfigDict,
    Field,
    PlainValidator,
    ValidationInfo,
    field_validator,
    model_validator,
)

from firmware_sim.durations import parse_duration
from firmware_sim.events import EVENT_TYPES
from firmware_sim.platforms import POLICIES
from firmware_sim.scheduler import COMMON_VERBS, Scheduler
from wbcommon.faults import Fault, InvalidFaultError, parse_fault
from wbcommon.signals import InvalidSignalError, check, check_name
from wbcommon.validation import InvalidFieldError, SignalValue, Strict, describe, signal_values

__all__ = ["STEP_KINDS", "AppEntry", "ExpectEntry", "OnEntry", "ScenarioFile", "StepEntry", "StepKind"]

#: App ids: an MQTT topic level (DESIGN.md section 5). wakebench bound.
APP_ID_RE: Final = re.compile(r"^[a-z0-9_-]{1,64}$")

# -- value types ------------------------------------------------------------------------------


def _text(what: str) -> Callable[[object], str]:
    def check_text(value: object) -> str:
        if not isinstance(value, str):
            raise InvalidFieldError(what)
        return value
    return check_text


def _as_text(value: object) -> str:
    """Anything as text (an id or code written as a number names that number)."""
    return value if isinstance(value, str) else str(value)


def _whole(minimum: int) -> Callable[[object], int]:
    def check_whole(value: object) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise InvalidFieldError(f"must be a whole number >= {minimum}, not {value!r}")
        return value
    return check_whole


def _seed(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidFieldError(f"must be an integer, not {value!r}")
    return value


def _start(value: object) -> datetime:
    try:
        start = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    except ValueError:
        raise InvalidFieldError(f"not an ISO-8601 time: {value!r}") from None
    return start if start.tzinfo is not None else start.replace(tzinfo=UTC)


def _window(value: object) -> tuple[float, float]:
    """``at`` of an expectation: one time, or an inclusive range ``a..b``."""
    if isinstance(value, str) and ".." in value:
        a, b = value.split("..", 1)
        start, end = parse_duration(a), parse_duration(b)
        if end < start:
            raise InvalidFieldError(f"range {value!r} ends before it starts")
        return start, end
    t = parse_duration(value)
    return t, t


def _event_type(value: object) -> str:
    if not isinstance(value, str) or value not in EVENT_TYPES:
        raise InvalidFieldError(f"unknown event type {value!r} (known: {', '.join(EVENT_TYPES)})")
    return value


def _platform(value: object) -> str:
    if not isinstance(value, str) or value not in POLICIES:
        raise InvalidFieldError(f"unknown platform {value!r} (known: {', '.join(POLICIES)})")
    return value


def _app_id(value: object) -> str:
    if not isinstance(value, str) or not APP_ID_RE.match(value):
        raise InvalidFieldError(f"must match [a-z0-9_-]+, not {value!r}")
    return value


def _mapping(value: object) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise InvalidFieldError(f"must be a mapping, not {describe(value)}")
    return {str(k): v for k, v in value.items()}


def _status(value: object) -> str:
    if value not in ("ok", "error"):
        raise InvalidFieldError("must be ok or error")
    return str(value)


def _error_code(value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int) or str(value) == "":
        raise InvalidFieldError(f"must be the expected error code (e.g. invalid_args), not {value!r}")
    return str(value)


def _set_values(raw: object) -> dict[str, Any]:
    """A ``set`` step's signals (the one vocabulary), plus ``unknown``: signals made stale."""
    values = _mapping(raw)
    for name, value in values.items():
        try:
            if name != "unknown":
                check(name, value)
            elif not isinstance(value, list) or not all(isinstance(n, str) for n in value):
                raise InvalidFieldError(f"'unknown' must be a list of signal names, not {value!r}", at=(name,))
            else:
                for stale in value:
                    check_name(stale)
        except InvalidSignalError as exc:
            raise InvalidFieldError(str(exc), at=(name,)) from None
    return values


def _present(value: object) -> object:
    if value is None:
        raise InvalidFieldError("must be a mapping, not nothing")
    return value


def _fault(raw: object) -> Fault:
    """``{gauge: nack, for: 2m}`` (:mod:`wbcommon.faults`)."""
    _mapping(raw)
    try:
        return parse_fault(raw)
    except InvalidFaultError as exc:
        raise InvalidFieldError(str(exc), at=() if exc.field == "fault" else (exc.field,)) from None


#: Optional values below are written ``Annotated[X | None, BeforeValidator(v)]`` so that a key
#: given as YAML null is checked (and refused) like any other value, not taken as absent; the
#: ones written ``Annotated[X, ...] | None`` accept null as absent (``task: ~``).
MaybeDuration = Annotated[float | None, BeforeValidator(parse_duration)]
OptText = Annotated[str, BeforeValidator(_as_text)] | None

# -- entries ----------------------------------------------------------------------------------


class AppEntry(Strict):
    """An entry of ``apps``: ``id``, ``platform``; every other key is a ``register`` argument."""

    model_config = ConfigDict(extra="allow")

    id: Annotated[str, BeforeValidator(_app_id)]
    platform: Annotated[str, BeforeValidator(_platform)]

    @property
    def register_args(self) -> dict[str, Any]:
        """The ``register`` request's arguments (``platform`` and the extra keys)."""
        return {"platform": self.platform, **(self.model_extra or {})}


class OnEntry(Strict):
    """``on:`` of a reactive step: the app's event (optionally its task and reason)."""

    app: Annotated[str, BeforeValidator(_as_text)]
    event: Annotated[str, BeforeValidator(_event_type)]
    task: OptText = None
    reason: OptText = None

    @model_validator(mode="after")
    def _can_match(self) -> OnEntry:
        if self.event == "wake" and self.reason is not None:
            raise InvalidFieldError("wake events carry no reason: it can never match", at=("reason",))
        return self


@dataclass(frozen=True, slots=True)
class StepKind:
    """One kind of step: the key that names it (the :data:`STEP_KINDS` key) and the other keys
    it takes besides the trigger's (``at``, ``on``, ``after``, ``nth``, ``count``)."""

    keys: frozenset[str]


#: Step kinds, by the key that names them. Another kind registers here with its own keys (and
#: a field of :class:`StepEntry`, and its part of ``firmware_sim.scenario._step_fields``).
STEP_KINDS: Final[dict[str, StepKind]] = {
    "set": StepKind(frozenset({"set"})),
    "request": StepKind(frozenset({"request", "app", "args", "expect_error"})),
    "fault": StepKind(frozenset({"fault"})),
}
#: Keys every step may carry, whatever its kind: the trigger.
TRIGGER_KEYS: Final = frozenset({"at", "on", "after", "nth", "count"})


class StepEntry(Strict):
    """An entry of ``steps``: a trigger (``at``, or ``on`` with ``after``/``nth``/``count``)
    and one kind of action (:data:`STEP_KINDS`)."""

    at: MaybeDuration = None
    on: Annotated[OnEntry | None, BeforeValidator(_present)] = None
    after: MaybeDuration = None
    nth: Annotated[int, BeforeValidator(_whole(1))] | None = None
    count: Annotated[int, BeforeValidator(_whole(1))] | None = None
    set: Annotated[dict[str, Any] | None, BeforeValidator(_set_values)] = None
    request: Annotated[str | None, BeforeValidator(_as_text)] = None
    app: Annotated[str, BeforeValidator(_as_text)] | None = None
    args: Annotated[dict[str, Any] | None, BeforeValidator(_mapping)] = None
    expect_error: Annotated[str | None, BeforeValidator(_error_code)] = None
    fault: Annotated[Fault | None, PlainValidator(_fault)] = None

    @model_validator(mode="before")
    @classmethod
    def _one_kind(cls, raw: object) -> object:
        if not isinstance(raw, Mapping):
            return raw  # pydantic says "must be a mapping"
        kinds = [k for k in STEP_KINDS if k in raw]
        if not kinds:
            if "app" in raw:
                raise InvalidFieldError("is required (or use 'set' to change signals)", at=("request",))
            raise InvalidFieldError(f"needs one of: {', '.join(STEP_KINDS)}")
        if len(kinds) > 1:
            raise InvalidFieldError(f"a step does one thing: {' or '.join(kinds)}, not both")
        if kinds[0] == "set" and "app" in raw:
            raise InvalidFieldError("a step either sets signals or sends a request, not both")
        allowed = STEP_KINDS[kinds[0]].keys | TRIGGER_KEYS
        for key in raw:
            if key not in allowed:
                raise InvalidFieldError(f"unknown key (known: {', '.join(sorted(allowed))})", at=(str(key),))
        if kinds[0] == "request" and "app" not in raw and "on" not in raw:
            raise InvalidFieldError("is required (or use 'set' to change signals)", at=("app",))
        return raw

    @model_validator(mode="after")
    def _one_trigger(self) -> StepEntry:
        if self.on is None:
            for key in ("after", "nth", "count"):
                if key in self.model_fields_set:
                    raise InvalidFieldError("applies to reactive steps (with 'on') only", at=(key,))
            if self.at is None:
                raise InvalidFieldError("is required (or 'on' for a reactive step)", at=("at",))
        elif "at" in self.model_fields_set:
            raise InvalidFieldError("a reactive step ('on') takes 'after', not 'at'", at=("at",))
        elif self.nth is not None and self.count is not None:
            raise InvalidFieldError("use either 'nth' or 'count', not both", at=("count",))
        return self

    @property
    def kind(self) -> str:
        """The :data:`STEP_KINDS` key of this step."""
        return next(k for k in STEP_KINDS if getattr(self, k) is not None)

    @property
    def target_app(self) -> str | None:
        """The app a request goes to: its own ``app``, else its trigger's."""
        return self.app if self.app is not None else self.on.app if self.on is not None else None


class ExpectEntry(Strict):
    """An entry of ``expect``: an event or a response to match, in a window, some times."""

    at: Annotated[tuple[float, float] | None, BeforeValidator(_window)] = None
    app: Annotated[str, BeforeValidator(_as_text)] | None = None
    event: Annotated[str | None, BeforeValidator(_event_type)] = None
    task: OptText = None
    reason: OptText = None
    count: Annotated[int, BeforeValidator(_whole(0))] | None = None
    response: Annotated[str | None, BeforeValidator(_as_text)] = None
    status: Annotated[Literal["ok", "error"] | None, BeforeValidator(_status)] = None
    code: OptText = None
    data: Annotated[dict[str, Any] | None, BeforeValidator(_mapping)] = None

    @model_validator(mode="after")
    def _event_or_response(self) -> ExpectEntry:
        given = self.model_fields_set
        if ("event" in given) == ("response" in given):
            raise InvalidFieldError("needs exactly one of 'event' or 'response'")
        if "event" in given:
            for key in ("status", "code", "data"):
                if key in given:
                    raise InvalidFieldError("applies to 'response' expectations only", at=(key,))
            if self.event == "wake" and "reason" in given:
                raise InvalidFieldError("wake events carry no reason: it can never match", at=("reason",))
        else:
            for key in ("task", "reason"):
                if key in given:
                    raise InvalidFieldError("applies to 'event' expectations only", at=(key,))
        return self


def _limits(raw: object) -> dict[str, dict[str, Any]]:
    """``limits:``: per platform, overrides its ``Limits`` accept and a scheduler runs with."""
    out: dict[str, dict[str, Any]] = {}
    for platform, values in _mapping(raw).items():
        if platform not in POLICIES:
            raise InvalidFieldError(f"unknown platform (known: {', '.join(POLICIES)})", at=(platform,))
        try:
            overrides = _mapping(values)
        except InvalidFieldError as exc:
            raise InvalidFieldError(exc.message, at=(platform,)) from None
        try:  # the limits themselves, then the platform built with them (combinations)
            POLICIES[platform].limits_type().with_overrides(overrides)
            Scheduler(limits={platform: dict(overrides)})
        except (ValueError, TypeError, OverflowError) as exc:
            named = next((k for k in overrides if repr(str(k)) in str(exc)), None)
            raise InvalidFieldError(str(exc), at=(platform,),
                                    line_at=(platform, named) if named is not None else None) from None
        out[platform] = overrides
    return out


class ScenarioFile(Strict):
    """A whole scenario file (DESIGN.md section 6). Field order matters: each cross-check
    sees the fields declared before it."""

    name: Annotated[str | None, BeforeValidator(_text("must be a string"))] = None
    seed: Annotated[int, BeforeValidator(_seed)] = 0
    board: Annotated[str, BeforeValidator(_text("must be a board name"))] = "sim"
    start: Annotated[datetime | None, BeforeValidator(_start)] = None
    initial: Annotated[dict[str, SignalValue], BeforeValidator(signal_values)] = Field(default_factory=dict)
    limits: Annotated[dict[str, dict[str, Any]], BeforeValidator(_limits)] = Field(default_factory=dict)
    apps: list[AppEntry] = Field(default_factory=list)
    steps: list[StepEntry] = Field(default_factory=list)
    until: MaybeDuration = None
    expect: list[ExpectEntry] = Field(default_factory=list)

    @field_validator("apps")
    @classmethod
    def _unique_ids(cls, apps: list[AppEntry]) -> list[AppEntry]:
        seen: set[str] = set()
        for i, app in enumerate(apps):
            if app.id in seen:
                raise InvalidFieldError(f"duplicate app id {app.id!r}", at=(i, "id"))
            seen.add(app.id)
        return apps

    @field_validator("steps")
    @classmethod
    def _apps_and_verbs(cls, steps: list[StepEntry], info: ValidationInfo) -> list[StepEntry]:
        if "apps" not in info.data:
            return steps  # the apps are wrong: that error is reported
        platform_of = _platforms(info.data["apps"])
        for i, step in enumerate(steps):
            if step.on is not None and step.on.app not in platform_of:
                raise InvalidFieldError(f"unknown app {step.on.app!r} (declare it under apps)", at=(i, "on", "app"))
            if step.request is None:
                continue
            app = step.target_app
            if app not in platform_of:
                raise InvalidFieldError(f"unknown app {app!r} (declare it under apps)", at=(i, "app"))
            platform = platform_of[app]
            verbs = (*COMMON_VERBS, *POLICIES[platform].verbs())
            if step.request not in verbs:
                raise InvalidFieldError(f"{platform} has no verb {step.request!r} (known: {', '.join(verbs)})",
                                        at=(i, "request"))
        return steps

    @field_validator("until")
    @classmethod
    def _after_the_last_step(cls, until: float | None, info: ValidationInfo) -> float | None:
        last = _last_step(info.data.get("steps"))
        if until is not None and until < last:
            raise InvalidFieldError(f"ends before the last step at {last:g} s")
        return until

    @field_validator("expect")
    @classmethod
    def _can_happen(cls, expect: list[ExpectEntry], info: ValidationInfo) -> list[ExpectEntry]:
        if "apps" not in info.data or "steps" not in info.data or "until" not in info.data:
            return expect  # an earlier field is wrong: that error is reported
        platform_of = _platforms(info.data["apps"])
        given: float | None = info.data["until"]
        until = given if given is not None else _last_step(info.data["steps"])
        for i, entry in enumerate(expect):
            if entry.at is not None and entry.at[0] > until:
                start, end = entry.at
                said = (f"is after 'until' ({until:g} s)" if given is not None else
                        f"is after the scenario's end: without 'until' it ends at the last step ({until:g} s)")
                raise InvalidFieldError(f"{said}: it can never match (add e.g. 'until: {_suggest(start, end)}')",
                                        at=(i, "at"))
            if entry.app is not None and entry.app not in platform_of:
                raise InvalidFieldError(f"unknown app {entry.app!r}: it can never match", at=(i, "app"))
            if entry.response is not None and entry.app is not None:
                verbs = (*COMMON_VERBS, *POLICIES[platform_of[entry.app]].verbs())
                if entry.response not in verbs:
                    raise InvalidFieldError(f"app {entry.app!r} never sends {entry.response!r}: it can never match",
                                            at=(i, "response"))
        return expect


def _platforms(apps: list[AppEntry]) -> dict[str, str]:
    return {app.id: app.platform for app in apps}


def _last_step(steps: list[StepEntry] | None) -> float:
    """The time of the last timed step (reactive steps have none); 0 without steps."""
    return max((s.at for s in steps or () if s.on is None and s.at is not None), default=0.0)


def _suggest(start: float, end: float | None) -> str:
    """A round ``until`` that covers an expectation window (for error messages)."""
    t = end if end is not None else start
    return f"{int(t // 60) + 1}m" if t >= 60 else f"{int(t) + 1}s"
