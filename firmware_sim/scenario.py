"""Scenario files (DESIGN.md section 6): load, validate with file/line/field errors, and model.

Times are ``"90s"``, ``"5m"``, ``"2h"``, ``"1d"``, ``"500ms"``, combinations such as
``"1h30m"``, or plain seconds. ``expect`` entries match events (``event:``) or responses to the
scenario's own requests (``response:``); ``at`` is one time or an inclusive range ``a..b``;
``count`` asks for an exact number of matches (default: at least one).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import yaml

from firmware_sim.durations import parse_duration
from firmware_sim.errors import ScenarioError, SignalError
from firmware_sim.events import EVENT_TYPES
from firmware_sim.platforms import POLICIES
from firmware_sim.scheduler import COMMON_VERBS
from firmware_sim.signals import SIGNAL_NAMES, Signals
from wbcommon import files

DEFAULT_START: Final = datetime(2026, 1, 1, tzinfo=UTC)
_ID_RE: Final = re.compile(r"^[a-z0-9_-]{1,64}$")

_TOP_KEYS: Final = {"name", "seed", "board", "start", "initial", "limits", "apps", "steps", "expect", "until"}
_EXPECT_KEYS: Final = {"at", "app", "event", "task", "reason", "count", "response", "status", "code"}


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
            key = _to_python(key_node, loader)
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
    """A request (``app`` + ``request`` + ``args``) or a signal change (``set``) at ``at`` s."""

    at: float
    line: int
    app: str | None = None
    request: str | None = None
    args: dict[str, Any] = field(default_factory=dict)
    set: dict[str, Any] = field(default_factory=dict)


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
            try:
                POLICIES[platform].limits_type().with_overrides(values)
            except ValueError as exc:
                raise v.fail(line, f"limits.{platform}", str(exc)) from None
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
    raw_steps = top.get("steps", _List())
    if not isinstance(raw_steps, list):
        raise v.fail(top.key_lines["steps"], "steps", "must be a list")
    for i, raw_step in enumerate(raw_steps):
        prefix = f"steps[{i}]."
        m = v.mapping(raw_step, getattr(raw_step, "line", None) or top.key_lines["steps"], f"steps[{i}]")
        v.check_keys(m, {"at", "app", "request", "args", "set"}, prefix)
        if "at" not in m:
            raise v.fail(m.line, f"{prefix}at", "is required")
        at = v.duration(m, "at", prefix)
        if "set" in m:
            if "request" in m or "app" in m:
                raise v.fail(m.line, f"steps[{i}]", "a step either sets signals or sends a request, not both")
            values = v.mapping(m["set"], m.key_lines["set"], f"{prefix}set")
            probe = Signals()
            for key in values:
                try:
                    probe = probe.updated({key: values[key]})
                except SignalError as exc:
                    raise v.fail(values.key_lines[key], f"{prefix}set.{key}", str(exc)) from None
            steps.append(Step(at=at, line=m.line, set=_plain(values)))
            continue
        for key in ("app", "request"):
            if key not in m:
                raise v.fail(m.line, f"{prefix}{key}", "is required (or use 'set' to change signals)")
        app_id, verb = m["app"], m["request"]
        if app_id not in platform_of:
            raise v.fail(
                m.key_lines["app"], f"{prefix}app", f"unknown app {app_id!r} (declare it under apps)"
            )
        platform = platform_of[app_id]
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
        steps.append(Step(at=at, line=m.line, app=app_id, request=verb, args=_plain(args)))

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
            for key in ("status", "code"):
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
        initial_names=tuple(initial_names),
    )


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
