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

What a file may say is declared once, as the pydantic models of :mod:`firmware_sim.scenario_file`
(the shared machinery is :mod:`wbcommon.validation`); this module reads the file, turns the
first problem into ONE :class:`ScenarioError` naming file, line and field, and builds the
validated models into the :class:`Scenario` the simulation and the rig run.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import yaml
from pydantic import ValidationError

from firmware_sim.errors import ScenarioError
from firmware_sim.scenario_file import STEP_KINDS, ScenarioFile, StepEntry, StepKind
from firmware_sim.signals import SIGNAL_NAMES, Signals
from wbcommon import files
from wbcommon.faults import Fault
from wbcommon.validation import first_error, line_of, yaml_document

__all__ = [
    "DEFAULT_START",
    "STEP_KINDS",
    "TASK_PLACEHOLDER",
    "AppSpec",
    "Expectation",
    "Reaction",
    "Scenario",
    "Step",
    "StepKind",
    "Trigger",
    "load_scenario",
    "parse_scenario",
]

DEFAULT_START: Final = datetime(2026, 1, 1, tzinfo=UTC)
#: Placeholder in a reactive request's ``args``: replaced by the triggering event's task id.
TASK_PLACEHOLDER: Final = "$task"

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


def parse_scenario(text: str, path: str = "<scenario>") -> Scenario:
    """Validate scenario YAML ``text`` (``path`` is used in error messages).

    Raises:
        ScenarioError: the first problem (by line), naming file, line and field.
    """
    try:  # bounded: size, depth, alias expansion; duplicate keys refused
        node = files.compose_yaml(text, path)
    except files.FileFormatError as exc:
        raise ScenarioError(path, exc.line, exc.field, exc.reason) from None
    if node is None:
        raise ScenarioError(path, 1, None, "the file is empty")
    try:
        doc, lines = yaml_document(node)
    except (yaml.YAMLError, ValueError, TypeError) as exc:  # e.g. an unknown tag, a bad timestamp
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ScenarioError(path, line, None, f"not valid YAML: {problem}") from None
    if not isinstance(doc, dict):
        raise ScenarioError(path, 1, None, f"must be a mapping, not {_kind(doc)}")
    try:
        model = ScenarioFile.model_validate(doc)
    except ValidationError as exc:
        found = first_error(exc, ScenarioFile, lines)
        raise ScenarioError(path, found.line, found.path or None, found.message) from None
    return _build(model, doc, lines, path)


def _build(model: ScenarioFile, doc: Mapping[str, Any], lines: Mapping[str, int], path: str) -> Scenario:
    """The validated file as the :class:`Scenario` the simulation and the rig run."""
    def line(key: str) -> int:
        return line_of(lines, key) or 1

    apps = tuple(AppSpec(app.id, app.platform, _plain(app.register_args), line(f"apps[{i}]"))
                 for i, app in enumerate(model.apps))
    steps: list[Step] = []
    reactions: list[Reaction] = []
    for i, entry in enumerate(model.steps):
        step = Step(at=0.0 if entry.on is not None else entry.at or 0.0, line=line(f"steps[{i}]"),
                    kind=entry.kind, **_step_fields(entry))
        if entry.on is None:
            steps.append(step)
            continue
        on = entry.on
        trigger = Trigger(app=on.app, event=on.event, task=on.task, reason=on.reason)
        reactions.append(Reaction(on=trigger, after=entry.after or 0.0, step=step, nth=entry.nth,
                                  count=entry.count))
    until = model.until if model.until is not None else max((s.at for s in steps), default=0.0)
    raw_expect = doc.get("expect", [])
    expects = tuple(
        Expectation(
            raw=_plain(raw_expect[i]),
            line=line(f"expect[{i}]"),
            start=None if e.at is None else e.at[0],
            end=None if e.at is None else e.at[1],
            count=e.count,
            app=e.app,
            event=e.event,
            task=e.task,
            reason=e.reason,
            response=e.response,
            status=e.status,
            code=e.code,
            data=_plain(e.data) if e.data is not None else None,
        )
        for i, e in enumerate(model.expect)
    )
    return Scenario(
        path=path,
        name=model.name if model.name is not None else Path(path).stem,
        seed=model.seed,
        board=model.board,
        start=model.start if model.start is not None else DEFAULT_START,
        initial=Signals().updated(model.initial),
        limits={platform: dict(values) for platform, values in model.limits.items()},
        apps=apps,
        steps=tuple(sorted(steps, key=lambda s: s.at)),
        expect=expects,
        until=until,
        reactions=tuple(reactions),
        initial_names=tuple(model.initial),
    )


def _step_fields(entry: StepEntry) -> dict[str, Any]:
    """The :class:`Step` fields of a step's kind."""
    if entry.set is not None:
        return {"set": _plain(entry.set)}
    if entry.fault is not None:
        return {"fault": entry.fault}
    return {"app": entry.target_app, "request": entry.request, "args": _plain(entry.args or {}),
            "expect_error": entry.expect_error}


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
