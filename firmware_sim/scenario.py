"""Scenario files (DESIGN.md section 6): load, validate with file/line/field errors, and model.

Times are ``"90s"``, ``"5m"``, ``"2h"``, ``"1d"``, ``"500ms"``, combinations such as
``"1h30m"``, or plain seconds. ``expect`` entries match events (``event:``) or responses to the
scenario's own requests (``response:``); ``at`` is one time or an inclusive range ``a..b``;
``count`` asks for an exact number of matches (default: at least one); a response expectation
may also name its ``code`` and a ``data`` mapping that must be a subset of the response's data.

Steps are a table of kinds (:data:`STEP_KINDS`: ``set``, ``request``; each kind parses its own
keys) and one of two triggers: ``at`` (a time) or ``on`` (an app's event, optionally a task and
a reason) with ``after`` (a delay, default 0) and ``nth`` (only the n-th matching event) or
``count`` (only the first n): app behaviour such as "finish 4 minutes after each wake". In a
reactive request the string ``"$task"`` anywhere in ``args`` stands for the event's task id.
A request step that is refused fails the run unless ``expect_error: CODE`` is on the step or a
``status: error`` response expectation matches it.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import yaml

from firmware_sim.durations import parse_duration
from firmware_sim.errors import ScenarioError, SignalError
from firmware_sim.events import EVENT_TYPES
from firmware_sim.platforms import POLICIES
from firmware_sim.scheduler import COMMON_VERBS, Scheduler
from firmware_sim.signals import SIGNAL_NAMES, Signals
from wbcommon import files
from wbcommon.faults import Fault, InvalidFaultError, parse_fault

DEFAULT_START: Final = datetime(2026, 1, 1, tzinfo=UTC)
_ID_RE: Final = re.compile(r"^[a-z0-9_-]{1,64}$")

_TOP_KEYS: Final = {"name", "seed", "board", "start", "initial", "limits", "apps", "steps", "expect", "until"}
_EXPECT_KEYS: Final = {"at", "app", "event", "task", "reason", "count", "response", "status", "code", "data"}
#: Keys every step may carry, whatever its kind: the trigger.
_TRIGGER_KEYS: Final = {"at", "on", "after", "nth", "count"}
_ON_KEYS: Final = {"app", "event", "task", "reason"}
#: Placeholder in a reactive request's ``args``: replaced by the triggering event's task id.
TASK_PLACEHOLDER: Final = "$task"


class _Map(dict[str, Any]):
    """A YAML mapping that remembers the line of each key (1-based)."""

    line: int
    key_lines: dict[str, int]


class _List(list[Any]):
    line: int


def _to_python(node: yaml.Node, loader: yaml.SafeLoader) -> Any:
    if isinstance(node, yaml.MappingNode):
        out = _Map()
        out.line = node.start_mark.line + 1
        out.key_lines = {}
        for key_node, value_node in node.value:
            # a key is its text: YAML 1.1 would read the reactive steps' `on:` as True
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else _to_python(key_node, loader)
            if not isinstance(key, str):
                key = str(key)
            out[key] = _to_python(value_node, loader)
            out.key_lines[key] = key_node.start_mark.line + 1
        return out
    if isinstance(node, yaml.SequenceNode):
        seq = _List(_to_python(n, loader) for n in node.value)
        seq.line = node.start_mark.line + 1
        return seq
    return loader.construct_object(node, deep=True)


@dataclass(frozen=True, slots=True)
class AppSpec:
    """An app of the scenario, registered at t = 0 with ``register_args``."""

    id: str
    platform: str
    register_args: dict[str, Any]
    line: int


@dataclass(frozen=True, slots=True)
class Step:
    """A request (``app`` + ``request`` + ``args``), a signal change (``set``; its ``unknown``
    list marks signals unknown) or a fault (``fault``, :mod:`wbcommon.faults`) at ``at`` s.

    ``kind`` is the :data:`STEP_KINDS` key the step was parsed by; ``expect_error`` the error
    code a request step is expected to be refused with (None: it must succeed).
    """

    at: float
    line: int
    app: str | None = None
    request: str | None = None
    args: dict[str, Any] = field(default_factory=dict)
    set: dict[str, Any] = field(default_factory=dict)
    kind: str = "request"
    expect_error: str | None = None
    fault: Fault | None = None


@dataclass(frozen=True, slots=True)
class Trigger:
    """``on:`` of a reactive step: which events it answers (None matches anything)."""

    app: str
    event: str
    task: str | None = None
    reason: str | None = None

    def matches(self, app: str, event: str, task: str | None, reason: str | None) -> bool:
        """True when an event of ``app`` of type ``event`` (``task``, ``reason``) triggers it."""
        return (app == self.app and event == self.event and self.task in (None, task)
                and self.reason in (None, reason))


@dataclass(frozen=True, slots=True)
class Reaction:
    """A reactive step: ``step`` (its ``at`` is 0) runs ``after`` s after a matching event.

    ``nth``: only the n-th matching event (1-based) triggers it; ``count``: only the first n.
    """

    on: Trigger
    after: float
    step: Step
    nth: int | None = None
    count: int | None = None

    @property
    def line(self) -> int:
        """The step's line in the file."""
        return self.step.line

    def wants(self, n: int) -> bool:
        """Whether the ``n``-th matching event (1-based) triggers the step."""
        if self.nth is not None:
            return n == self.nth
        return self.count is None or n <= self.count

    def bind(self, at: float, task: str | None) -> Step:
        """The step to run at rig time ``at`` for an event of task ``task``."""
        args = _substitute(self.step.args, task) if self.step.args else self.step.args
        return _replace_step(self.step, at=at, args=args)


@dataclass(frozen=True, slots=True)
class Expectation:
    """What must (or, with ``count: 0``, must not) happen."""

    raw: dict[str, Any]
    line: int
    start: float | None
    end: float | None
    count: int | None
    app: str | None = None
    event: str | None = None
    task: str | None = None
    reason: str | None = None
    response: str | None = None
    status: str | None = None
    code: str | None = None
    data: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Scenario:
    """A validated scenario file."""

    path: str
    name: str
    seed: int
    board: str
    start: datetime
    initial: Signals
    limits: dict[str, dict[str, Any]]
    apps: tuple[AppSpec, ...]
    steps: tuple[Step, ...]
    expect: tuple[Expectation, ...]
    until: float
    reactions: tuple[Reaction, ...] = ()
    #: the signals the file's ``initial`` names, in file order (the rest are defaults)
    initial_names: tuple[str, ...] = ()


class _Validator:
    def __init__(self, path: str) -> None:
        self.path = path

    def fail(self, line: int | None, fld: str | None, message: str) -> ScenarioError:
        return ScenarioError(self.path, line, fld, message)

    def mapping(self, value: Any, line: int | None, fld: str) -> _Map:
        if not isinstance(value, _Map):
            raise self.fail(line, fld, f"must be a mapping, not {_kind(value)}")
        return value

    def check_keys(self, m: _Map, allowed: set[str], prefix: str) -> None:
        for key in m:
            if key not in allowed:
                known = ", ".join(sorted(allowed))
                raise self.fail(m.key_lines[key], f"{prefix}{key}", f"unknown key (known: {known})")

    def duration(self, m: _Map, key: str, prefix: str) -> float:
        try:
            return parse_duration(m[key])
        except ValueError as exc:
            raise self.fail(m.key_lines[key], f"{prefix}{key}", str(exc)) from None

    def window(self, m: _Map, prefix: str) -> tuple[float | None, float | None]:
        if "at" not in m:
            return None, None
        raw = m["at"]
        line = m.key_lines["at"]
        try:
            if isinstance(raw, str) and ".." in raw:
                a, b = raw.split("..", 1)
                start, end = parse_duration(a), parse_duration(b)
                if end < start:
                    raise ValueError(f"range {raw!r} ends before it starts")
                return start, end
            t = parse_duration(raw)
            return t, t
        except ValueError as exc:
            raise self.fail(line, f"{prefix}at", str(exc)) from None


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file.

    Raises:
        ScenarioError: naming file, line and field for every problem found (the first one).
    """
    path_s = str(path)
    try:
        text = files.read_text(path, limit=files.MAX_SCENARIO_BYTES)
    except files.FileFormatError as exc:
        raise ScenarioError(path_s, exc.line, exc.field, exc.reason) from None
    return parse_scenario(text, path_s)


def _suggest(start: float, end: float | None) -> str:
    """A round ``until`` that covers an expectation window (for error messages)."""
    t = end if end is not None else start
    return f"{int(t // 60) + 1}m" if t >= 60 else f"{int(t) + 1}s"


def parse_scenario(text: str, path: str = "<scenario>") -> Scenario:
    """Validate scenario YAML ``text`` (``path`` is used in error messages)."""
    v = _Validator(path)
    try:  # bounded: size, depth, alias expansion; duplicate keys refused
        node = files.compose_yaml(text, path)
    except files.FileFormatError as exc:
        raise ScenarioError(path, exc.line, exc.field, exc.reason) from None
    if node is None:
        raise ScenarioError(path, 1, None, "the file is empty")
    try:
        doc = _to_python(node, yaml.SafeLoader(""))
    except (yaml.YAMLError, ValueError, TypeError) as exc:  # e.g. an unknown tag, a bad timestamp
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ScenarioError(path, line, None, f"not valid YAML: {problem}") from None
    top = v.mapping(doc, 1, "")
    v.check_keys(top, _TOP_KEYS, "")

    name = top.get("name", Path(path).stem)
    if not isinstance(name, str):
        raise v.fail(top.key_lines["name"], "name", "must be a string")
    seed = top.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise v.fail(top.key_lines["seed"], "seed", f"must be an integer, not {seed!r}")
    board = top.get("board", "sim")
    if not isinstance(board, str):
        raise v.fail(top.key_lines["board"], "board", "must be a board name")
    start = DEFAULT_START
    if "start" in top:
        raw_start = top["start"]
        try:
            start = raw_start if isinstance(raw_start, datetime) else datetime.fromisoformat(str(raw_start))
        except ValueError:
            raise v.fail(top.key_lines["start"], "start", f"not an ISO-8601 time: {raw_start!r}") from None
        if start.tzinfo is None:
            start = start.replace(tzinfo=UTC)
    until = v.duration(top, "until", "") if "until" in top else None

    initial = Signals()
    initial_names: list[str] = []
    if "initial" in top:
        init = v.mapping(top["initial"], top.key_lines["initial"], "initial")
        initial_names = [str(key) for key in init]
        for key in init:
            try:
                initial = initial.updated({key: init[key]})
            except SignalError as exc:
                raise v.fail(init.key_lines[key], f"initial.{key}", str(exc)) from None

    limits: dict[str, dict[str, Any]] = {}
    if "limits" in top:
        lim = v.mapping(top["limits"], top.key_lines["limits"], "limits")
        for platform in lim:
            line = lim.key_lines[platform]
            if platform not in POLICIES:
                raise v.fail(line, f"limits.{platform}", f"unknown platform (known: {', '.join(POLICIES)})")
            values = v.mapping(lim[platform], line, f"limits.{platform}")
            try:  # the limits themselves, then the platform built with them (combinations)
                POLICIES[platform].limits_type().with_overrides(values)
                Scheduler(limits={platform: dict(values)})
            except (ValueError, TypeError, OverflowError) as exc:
                raise v.fail(_first_line(values, exc, line), f"limits.{platform}", str(exc)) from None
            limits[platform] = dict(values)

    apps: list[AppSpec] = []
    raw_apps = top.get("apps", _List())
    if not isinstance(raw_apps, list):
        raise v.fail(top.key_lines["apps"], "apps", "must be a list of {id, platform, ...}")
    for i, raw_app in enumerate(raw_apps):
        line = getattr(raw_app, "line", top.key_lines.get("apps"))
        m = v.mapping(raw_app, line, f"apps[{i}]")
        for key in ("id", "platform"):
            if key not in m:
                raise v.fail(m.line, f"apps[{i}].{key}", "is required")
        app_id, platform = m["id"], m["platform"]
        if not isinstance(app_id, str) or not _ID_RE.match(app_id):
            raise v.fail(m.key_lines["id"], f"apps[{i}].id", f"must match [a-z0-9_-]+, not {app_id!r}")
        if any(a.id == app_id for a in apps):
            raise v.fail(m.key_lines["id"], f"apps[{i}].id", f"duplicate app id {app_id!r}")
        if platform not in POLICIES:
            raise v.fail(
                m.key_lines["platform"],
                f"apps[{i}].platform",
                f"unknown platform {platform!r} (known: {', '.join(POLICIES)})",
            )
        args = {k: val for k, val in m.items() if k != "id"}
        apps.append(AppSpec(app_id, platform, _plain(args), m.line))
    platform_of = {a.id: a.platform for a in apps}

    steps: list[Step] = []
    reactions: list[Reaction] = []
    raw_steps = top.get("steps", _List())
    if not isinstance(raw_steps, list):
        raise v.fail(top.key_lines["steps"], "steps", "must be a list")
    ctx = _StepContext(v, platform_of)
    for i, raw_step in enumerate(raw_steps):
        m = v.mapping(raw_step, getattr(raw_step, "line", None) or top.key_lines["steps"], f"steps[{i}]")
        parsed = _parse_step(ctx, m, i)
        if isinstance(parsed, Reaction):
            reactions.append(parsed)
        else:
            steps.append(parsed)

    last = max((s.at for s in steps), default=0.0)
    if until is None:
        until = last
    elif until < last:
        raise v.fail(top.key_lines["until"], "until", f"ends before the last step at {last:g} s")

    expects: list[Expectation] = []
    raw_expect = top.get("expect", _List())
    if not isinstance(raw_expect, list):
        raise v.fail(top.key_lines["expect"], "expect", "must be a list")
    for i, raw_exp in enumerate(raw_expect):
        prefix = f"expect[{i}]."
        m = v.mapping(raw_exp, getattr(raw_exp, "line", None) or top.key_lines["expect"], f"expect[{i}]")
        v.check_keys(m, _EXPECT_KEYS, prefix)
        start_t, end_t = v.window(m, prefix)
        if start_t is not None and start_t > until:
            said = (f"is after 'until' ({until:g} s)" if "until" in top else
                    f"is after the scenario's end: without 'until' it ends at the last step ({until:g} s)")
            raise v.fail(m.key_lines["at"], f"{prefix}at",
                         f"{said}: it can never match (add e.g. 'until: {_suggest(start_t, end_t)}')")
        count = m.get("count")
        if count is not None and (isinstance(count, bool) or not isinstance(count, int) or count < 0):
            raise v.fail(
                m.key_lines["count"], f"{prefix}count", f"must be a whole number >= 0, not {count!r}"
            )
        app_id = m.get("app")
        if app_id is not None and app_id not in platform_of:
            raise v.fail(m.key_lines["app"], f"{prefix}app", f"unknown app {app_id!r}: it can never match")
        has_event, has_response = "event" in m, "response" in m
        if has_event == has_response:
            raise v.fail(m.line, f"expect[{i}]", "needs exactly one of 'event' or 'response'")
        if has_event:
            if m["event"] not in EVENT_TYPES:
                raise v.fail(
                    m.key_lines["event"],
                    f"{prefix}event",
                    f"unknown event type {m['event']!r} (known: {', '.join(EVENT_TYPES)})",
                )
            for key in ("status", "code", "data"):
                if key in m:
                    raise v.fail(
                        m.key_lines[key], f"{prefix}{key}", "applies to 'response' expectations only"
                    )
            if m["event"] == "wake" and "reason" in m:
                raise v.fail(
                    m.key_lines["reason"],
                    f"{prefix}reason",
                    "wake events carry no reason: it can never match",
                )
        else:
            verb = m["response"]
            if app_id is not None and verb not in (*COMMON_VERBS, *POLICIES[platform_of[app_id]].verbs()):
                raise v.fail(
                    m.key_lines["response"],
                    f"{prefix}response",
                    f"app {app_id!r} never sends {verb!r}: it can never match",
                )
            if m.get("status", "ok") not in ("ok", "error"):
                raise v.fail(m.key_lines["status"], f"{prefix}status", "must be ok or error")
            if "data" in m:
                v.mapping(m["data"], m.key_lines["data"], f"{prefix}data")
            for key in ("task", "reason"):
                if key in m:
                    raise v.fail(m.key_lines[key], f"{prefix}{key}", "applies to 'event' expectations only")
        expects.append(
            Expectation(
                raw=_plain(m),
                line=m.line,
                start=start_t,
                end=end_t,
                count=count,
                app=app_id,
                event=m.get("event"),
                task=_opt_str(m.get("task")),
                reason=m.get("reason"),
                response=m.get("response"),
                status=m.get("status"),
                code=_opt_str(m.get("code")),
                data=_plain(m["data"]) if "data" in m else None,
            )
        )

    return Scenario(
        path=path,
        name=name,
        seed=seed,
        board=board,
        start=start,
        initial=initial,
        limits=limits,
        apps=tuple(apps),
        steps=tuple(sorted(steps, key=lambda s: s.at)),
        expect=tuple(expects),
        until=until,
        reactions=tuple(reactions),
        initial_names=tuple(initial_names),
    )


class _StepContext:
    """What a step kind's parser may look at: the validator and the declared apps."""

    def __init__(self, v: _Validator, platform_of: dict[str, str]) -> None:
        self.v = v
        self.platform_of = platform_of
        #: the app a reactive request goes to when it names none: its trigger's app
        self.default_app: str | None = None


#: A step kind's parser: (context, the step's mapping, "steps[i].") -> the Step's fields.
StepParser = Callable[[_StepContext, _Map, str], dict[str, Any]]


def _parse_set_step(ctx: _StepContext, m: _Map, prefix: str) -> dict[str, Any]:
    values = ctx.v.mapping(m["set"], m.key_lines["set"], f"{prefix}set")
    probe = Signals()
    for key in values:
        try:
            if key == "unknown":  # signals made unknown (stale) by the step
                probe = probe.updated({}, stale=_names(values[key]))
                continue
            probe = probe.updated({key: values[key]})
        except SignalError as exc:
            raise ctx.v.fail(values.key_lines[key], f"{prefix}set.{key}", str(exc)) from None
    return {"set": _plain(values)}


def _parse_fault_step(ctx: _StepContext, m: _Map, prefix: str) -> dict[str, Any]:
    """``{at: 5m, fault: {gauge: nack, for: 2m}}`` (:mod:`wbcommon.faults`)."""
    v = ctx.v
    raw = v.mapping(m["fault"], m.key_lines["fault"], f"{prefix}fault")
    try:
        fault = parse_fault(raw)
    except InvalidFaultError as exc:
        line = raw.key_lines.get(exc.field, raw.line)
        raise v.fail(line, f"{prefix}fault.{exc.field}" if exc.field != "fault" else f"{prefix}fault",
                     str(exc)) from None
    return {"fault": fault}


def _parse_request_step(ctx: _StepContext, m: _Map, prefix: str) -> dict[str, Any]:
    v = ctx.v
    app_id = m.get("app", ctx.default_app)
    if app_id is None:
        raise v.fail(m.line, f"{prefix}app", "is required (or use 'set' to change signals)")
    verb = m["request"]
    if not isinstance(app_id, str) or app_id not in ctx.platform_of:
        raise v.fail(m.key_lines.get("app", m.line), f"{prefix}app",
                     f"unknown app {app_id!r} (declare it under apps)")
    platform = ctx.platform_of[app_id]
    verbs = (*COMMON_VERBS, *POLICIES[platform].verbs())
    if verb not in verbs:
        raise v.fail(
            m.key_lines["request"],
            f"{prefix}request",
            f"{platform} has no verb {verb!r} (known: {', '.join(verbs)})",
        )
    args = m.get("args", _Map())
    if not isinstance(args, dict):
        raise v.fail(m.key_lines["args"], f"{prefix}args", "must be a mapping")
    expect_error = None
    if "expect_error" in m:
        raw = m["expect_error"]
        if isinstance(raw, bool) or not isinstance(raw, str | int) or str(raw) == "":
            raise v.fail(m.key_lines["expect_error"], f"{prefix}expect_error",
                         f"must be the expected error code (e.g. invalid_args), not {raw!r}")
        expect_error = str(raw)
    return {"app": app_id, "request": verb, "args": _plain(args), "expect_error": expect_error}


@dataclass(frozen=True, slots=True)
class StepKind:
    """One kind of step: the key that names it, the other keys it takes, its parser."""

    keys: frozenset[str]
    parse: StepParser


#: Step kinds, by the key that names them. Another kind registers here with its own keys.
STEP_KINDS: Final[dict[str, StepKind]] = {
    "set": StepKind(frozenset({"set"}), _parse_set_step),
    "request": StepKind(frozenset({"request", "app", "args", "expect_error"}), _parse_request_step),
    "fault": StepKind(frozenset({"fault"}), _parse_fault_step),
}


def _parse_step(ctx: _StepContext, m: _Map, i: int) -> Step | Reaction:
    """One entry of ``steps``: its kind (by :data:`STEP_KINDS`) and its trigger (``at`` / ``on``)."""
    v, prefix = ctx.v, f"steps[{i}]."
    kinds = [k for k in STEP_KINDS if k in m]
    if not kinds:
        if "app" in m:
            raise v.fail(m.line, f"{prefix}request", "is required (or use 'set' to change signals)")
        raise v.fail(m.line, f"steps[{i}]", f"needs one of: {', '.join(STEP_KINDS)}")
    if len(kinds) > 1:
        raise v.fail(m.line, f"steps[{i}]", f"a step does one thing: {' or '.join(kinds)}, not both")
    kind = STEP_KINDS[kinds[0]]
    allowed = set(kind.keys) | _TRIGGER_KEYS
    if kinds[0] == "set" and ("app" in m):
        raise v.fail(m.line, f"steps[{i}]", "a step either sets signals or sends a request, not both")
    v.check_keys(m, allowed, prefix)
    on = _parse_trigger(ctx, m, prefix) if "on" in m else None
    ctx.default_app = on.app if on is not None else None
    fields = kind.parse(ctx, m, prefix)
    if on is None:
        for key in ("after", "nth", "count"):
            if key in m:
                raise v.fail(m.key_lines[key], f"{prefix}{key}", "applies to reactive steps (with 'on') only")
        if "at" not in m:
            raise v.fail(m.line, f"{prefix}at", "is required (or 'on' for a reactive step)")
        return Step(at=v.duration(m, "at", prefix), line=m.line, kind=kinds[0], **fields)
    if "at" in m:
        raise v.fail(m.key_lines["at"], f"{prefix}at",
                     "a reactive step ('on') takes 'after', not 'at'")
    after = v.duration(m, "after", prefix) if "after" in m else 0.0
    if "nth" in m and "count" in m:
        raise v.fail(m.key_lines["count"], f"{prefix}count", "use either 'nth' or 'count', not both")
    picks: dict[str, int | None] = {}
    for key in ("nth", "count"):
        raw = m.get(key)
        if raw is not None and (isinstance(raw, bool) or not isinstance(raw, int) or raw < 1):
            raise v.fail(m.key_lines[key], f"{prefix}{key}", f"must be a whole number >= 1, not {raw!r}")
        picks[key] = raw
    step = Step(at=0.0, line=m.line, kind=kinds[0], **fields)
    return Reaction(on=on, after=after, step=step, nth=picks["nth"], count=picks["count"])


def _parse_trigger(ctx: _StepContext, m: _Map, prefix: str) -> Trigger:
    v = ctx.v
    on = v.mapping(m["on"], m.key_lines["on"], f"{prefix}on")
    v.check_keys(on, _ON_KEYS, f"{prefix}on.")
    for key in ("app", "event"):
        if key not in on:
            raise v.fail(on.line, f"{prefix}on.{key}", "is required")
    app_id, event = on["app"], on["event"]
    if not isinstance(app_id, str) or app_id not in ctx.platform_of:
        raise v.fail(on.key_lines["app"], f"{prefix}on.app", f"unknown app {app_id!r} (declare it under apps)")
    if event not in EVENT_TYPES:
        raise v.fail(on.key_lines["event"], f"{prefix}on.event",
                     f"unknown event type {event!r} (known: {', '.join(EVENT_TYPES)})")
    if event == "wake" and "reason" in on:
        raise v.fail(on.key_lines["reason"], f"{prefix}on.reason", "wake events carry no reason: it can never match")
    return Trigger(app=app_id, event=event, task=_opt_str(on.get("task")), reason=_opt_str(on.get("reason")))


def _substitute(value: Any, task: str | None) -> Any:
    if isinstance(value, str) and TASK_PLACEHOLDER in value:
        return value.replace(TASK_PLACEHOLDER, task or "")
    if isinstance(value, dict):
        return {k: _substitute(x, task) for k, x in value.items()}
    if isinstance(value, list):
        return [_substitute(x, task) for x in value]
    return value


def _replace_step(step: Step, **changes: Any) -> Step:
    return dataclasses.replace(step, **changes)


def _first_line(values: _Map, exc: Exception, default: int) -> int:
    """The line of the limit an error message names (``limit 'x' ...``), else ``default``."""
    for key in values:
        if repr(str(key)) in str(exc):
            return values.key_lines[key]
    return default


def _opt_str(value: Any) -> str | None:
    return None if value is None else str(value)


def _plain(value: Any) -> Any:
    """Strip the line-tracking types (so JSON output and requests see plain values)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _kind(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing"
    return f"{type(value).__name__} {value!r}"


SIGNALS_HELP: Final = ", ".join(SIGNAL_NAMES)


def _names(raw: Any) -> list[str]:
    """A ``set.unknown`` list of signal names (validated by :meth:`Signals.updated`)."""
    if not isinstance(raw, list) or not all(isinstance(n, str) for n in raw):
        raise SignalError(f"'unknown' must be a list of signal names, not {raw!r}")
    return list(raw)
