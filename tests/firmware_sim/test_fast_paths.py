"""The request and signal paths' shortcuts (issue 15, virtual-time speed) answer exactly as the
full checks they skip: every shortcut is compared against the full path on the same input.

- ``snake``: a name without a capital letter is returned as it is, without the regex;
- ``Args``: text, booleans, null and numbers within ±2**53 skip the recursive range walk;
- ``Signals.updated``: ``true``/``false`` and known charger / network names skip ``coerce``;
  the snapshot is built without ``dataclasses.replace`` (its slots set directly);
- ``Signals.changed``: one tuple comparison when no effective value differs;
- ``events.new_event`` / ``ok_response``: the scheduler's events and answers built by setting
  their slots, equal to the constructors' results.
- ``wbcommon.signals.check``: one dict lookup of the name's kind decides the rule (it scanned
  the tuple of names, then tested the name against each rule's name set).
"""

from __future__ import annotations

import dataclasses
import importlib.util
import math
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from firmware_sim import SignalError, Signals
from firmware_sim.args import MAX_NUMBER, Args, snake
from firmware_sim.errors import RequestError
from firmware_sim.events import Event, Response, new_event, ok_response
from firmware_sim.signals import CHARGERS, NETWORKS, SIGNAL_NAMES, coerce
from wbcommon import signals as wbsignals

_CAMEL = re.compile(r"(?<=[a-z0-9])([A-Z])")
ROOT = Path(__file__).resolve().parents[2]


def snake_by_regex(name: str) -> str:
    """The full conversion, as ``snake`` did it for every name before the shortcut."""
    return _CAMEL.sub(r"_\1", name).lower()


@pytest.mark.parametrize("name", ["repeatCycleTime", "requiresExternalPower", "task_id", "id", "",
                                  "x2Y", "ÜberZeit", "İd", "ǅx", "already_snake_2"])
def test_snake_matches_the_regex_conversion(name: str) -> None:
    assert snake(name) == snake_by_regex(name)


@given(st.text(max_size=30))
def test_snake_matches_the_regex_conversion_for_any_text(name: str) -> None:
    assert snake(name) == snake_by_regex(name)


def _range_answer(value: Any) -> str | None:
    try:
        Args({"v": value})
    except RequestError as exc:
        return exc.message
    return None


@pytest.mark.parametrize("value", [MAX_NUMBER, -MAX_NUMBER, float(MAX_NUMBER), 0, -1, 0.5, True, None, "x"])
def test_plain_scalars_within_2_pow_53_are_accepted(value: Any) -> None:
    """args.MAX_NUMBER: "2**53, beyond which JSON numbers are not interoperable"."""
    assert _range_answer(value) is None


@pytest.mark.parametrize("value", [MAX_NUMBER + 1, -(MAX_NUMBER + 1), 10**400, 1e308, -1e308,
                                   math.nan, math.inf, -math.inf, [MAX_NUMBER + 1], {"x": math.nan}])
def test_numbers_beyond_2_pow_53_are_still_refused(value: Any) -> None:
    answer = _range_answer(value)
    assert answer is not None and "2**53" in answer


class _Int(int):
    pass


class _Str(str):
    pass


@pytest.mark.parametrize("value", [_Int(MAX_NUMBER + 1), _Str("x"), _Int(3)])
def test_subclasses_take_the_full_check(value: Any) -> None:
    expected_refused = isinstance(value, int) and abs(value) > MAX_NUMBER
    assert (_range_answer(value) is not None) == expected_refused


def test_done_still_names_an_unknown_argument() -> None:
    args = Args({"known": 1, "misspelt": 2})
    args.int("known")
    with pytest.raises(RequestError, match="'misspelt' is not a known argument"):
        args.done()


SIGNAL_VALUES = st.one_of(st.booleans(), st.sampled_from([*CHARGERS, *NETWORKS, "AC", "Wifi", ""]),
                          st.integers(-5, 130), st.floats(allow_nan=True), st.none(), st.just(_Str("ac")))


def _updated_by_coerce(base: Signals, values: dict[str, Any], **kw: Any) -> Signals | str:
    """What ``updated`` returned before the shortcut: every value through ``coerce`` and
    ``dataclasses.replace``."""
    try:
        changes: dict[str, Any] = {n: coerce(n, v) for n, v in values.items()}
    except SignalError as exc:
        return str(exc)
    stale = set(base.stale) - set(values) - set(kw.get("fresh", ()))
    stale |= set(kw.get("stale", ()))
    changes["stale"] = frozenset(stale)
    if kw.get("t") is not None:
        changes["t"] = float(kw["t"])
    return dataclasses.replace(base, **changes)


def _updated(base: Signals, values: dict[str, Any], **kw: Any) -> Signals | str:
    try:
        return base.updated(values, **kw)
    except SignalError as exc:
        return str(exc)


@given(st.dictionaries(st.sampled_from([*SIGNAL_NAMES, "t", "stale", "bogus"]), SIGNAL_VALUES, max_size=6),
       st.sets(st.sampled_from(SIGNAL_NAMES), max_size=3), st.sets(st.sampled_from(SIGNAL_NAMES), max_size=2),
       st.sets(st.sampled_from(SIGNAL_NAMES), max_size=2))
def test_updated_answers_as_coerce_does(values: dict[str, Any], base_stale: set[str], stale: set[str],
                                        fresh: set[str]) -> None:
    base = Signals(battery_level=50, t=1.0).updated({}, stale=base_stale)
    got = _updated(base, values, t=2.0, stale=stale, fresh=fresh)
    want = _updated_by_coerce(base, values, t=2.0, stale=stale, fresh=fresh)
    assert got == want
    if isinstance(got, Signals) and isinstance(want, Signals):
        assert [type(getattr(got, n)) for n in SIGNAL_NAMES] == [type(getattr(want, n)) for n in SIGNAL_NAMES]


def test_a_number_is_not_taken_for_a_boolean() -> None:
    """``1 == True`` in Python; the shortcut checks the type, so 1 is refused as before."""
    with pytest.raises(SignalError, match="true or false"):
        Signals().updated({"charging": 1})


@given(st.dictionaries(st.sampled_from(SIGNAL_NAMES), SIGNAL_VALUES, max_size=5),
       st.sets(st.sampled_from(SIGNAL_NAMES), max_size=3))
def test_changed_names_exactly_the_differing_effective_signals(values: dict[str, Any], stale: set[str]) -> None:
    a = Signals(battery_level=40, t=0.0)
    b = _updated(a, values, stale=stale)
    if isinstance(b, str):
        return
    ea, eb = a.effective(), b.effective()
    # a signal turning unknown (or known again) is a change even when its value reads the same
    assert a.changed(b) == frozenset(n for n in SIGNAL_NAMES if getattr(ea, n) != getattr(eb, n)
                                     or (n in ea.stale) != (n in eb.stale))
    assert a.changed(a) == frozenset()


@given(st.sampled_from(["wake", "expire", "revoke", "terminate", "unscheduled"]), st.text(max_size=5),
       st.one_of(st.none(), st.text(max_size=5)), st.floats(allow_nan=False), st.integers(0, 10**6),
       st.one_of(st.none(), st.text(max_size=5)), st.one_of(st.none(), st.floats(allow_nan=False)),
       st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))
def test_new_event_is_the_constructors_event(type_: Any, app: str, task: str | None, t: float, seq: int,
                                             reason: str | None, deadline: float | None,
                                             data: dict[str, Any]) -> None:
    """``events.new_event`` sets the slots directly; the result is the constructor's, field for
    field, frozen like it, and serialises the same."""
    signals = Signals(battery_level=42, t=t)
    fast = new_event(type_, app, "ios", task, t, seq, signals, reason, deadline, data)
    slow = Event(type_, app, "ios", task, t, seq, signals, reason, deadline, data)
    assert fast == slow and type(fast) is Event and fast.to_dict() == slow.to_dict()
    with pytest.raises(dataclasses.FrozenInstanceError):
        fast.seq = 0  # type: ignore[misc]


def test_ok_response_is_the_constructors_response() -> None:
    data = {"task_id": "bg-1"}
    fast, slow = ok_response(data), Response("ok", data)
    assert fast == slow and fast.to_dict() == slow.to_dict() and fast.ok
    assert fast.code is None and fast.error is None and fast.data is data


def _check_by_name(name: Any, value: Any) -> Any:
    """``wbcommon.signals.check`` as it was before it dispatched on the name's kind: the name
    checked against the tuple of names, then one rule per name or name set."""
    if not isinstance(name, str) or name not in SIGNAL_NAMES:
        return f"unknown signal {name!r} (known: {', '.join(SIGNAL_NAMES)})"
    if name in wbsignals.BOOL_SIGNALS:
        return value if isinstance(value, bool) else "bool"
    if name == "charger":
        return value if value in CHARGERS else "charger"
    if name == "network":
        return value if value in NETWORKS else "network"
    if value is None and name in wbsignals.MEASUREMENTS:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return "number"
    if name == "battery_level" and not 0 <= value <= 100:
        return "battery range"
    if name == "temperature" and not -40 <= value <= 125:
        return "temperature range"
    return float(value)


def _check_now(name: Any, value: Any) -> Any:
    try:
        return wbsignals.check(name, value)
    except wbsignals.InvalidSignalError as exc:
        message = str(exc)
        if message.startswith("unknown signal"):
            return message
        for marker, label in (("true or false", "bool"), ("'charger' must", "charger"),
                              ("'network' must", "network"), ("finite number", "number"),
                              ("0 to 100 %", "battery range"), ("°C", "temperature range")):
            if marker in message:
                return label
        raise


@given(st.one_of(st.sampled_from([*SIGNAL_NAMES, "t", "stale", "bogus", ""]), st.integers(), st.none()),
       SIGNAL_VALUES)
def test_check_dispatches_on_the_kind_as_the_per_name_rules_did(name: Any, value: Any) -> None:
    want, got = _check_by_name(name, value), _check_now(name, value)
    assert got == want  # (a NaN is refused by both, so no NaN is compared)
    assert type(got) is type(want)


def _bench_scheduler() -> Any:
    spec = importlib.util.spec_from_file_location("bench_scheduler", ROOT / "bench" / "bench_scheduler.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_benchmark_workload_is_unchanged_by_the_speed_work() -> None:
    """bench_scheduler's virtual-time run, one simulated day: the same signal changes and the
    same events as the slow paths give. 2,823 events before the fidelity rules (issue #10:
    HarmonyOS terminate after a callback timeout, crash semantics) added their events; 2,903 with
    them — the speed work itself changed none (measured on both sides of it). 3,320 since UWP
    apps suspend by themselves (seed 002:5): the 417 ``expire`` of ``suspending`` that the
    benchmark counts (its ``state`` requests' ``wake`` of ``suspending`` are not counted); no
    other event changed (per-platform counts compared on both sides)."""
    _wall, _cpu, events, changes = _bench_scheduler().fourteen_days(days=1)
    assert (changes, events) == (1440, 3320)


def test_wp8_dump_flat_records_equal_asdict() -> None:
    """wp8's dump copies its task/run records field by field (every field a scalar) instead of
    dataclasses.asdict's deep copy; the result must be the same."""
    from firmware_sim import Scheduler
    from firmware_sim.platforms import wp8

    sched = Scheduler()
    sched.set_signals(0.0, sched.signals.updated({"charger": "ac", "battery_level": 95, "screen_locked": True}, t=0.0))
    for n in range(3):
        sched.handle(0.0, f"a{n}", "register", {"platform": "wp8"})
        sched.handle(0.0, f"a{n}", "add", {"name": "ri", "type": "resource_intensive"})
        sched.handle(0.0, f"a{n}", "add", {"name": "p", "type": "periodic"})
    sched.advance(60.0)
    policy = sched.policies["wp8"]
    assert isinstance(policy, wp8.WP8Policy)
    dump = policy.dump()
    assert dump["tasks"] == [dataclasses.asdict(t) for t in policy._tasks.values()]
    assert dump["runs"] == [dataclasses.asdict(r) for r in policy._runs.values()]
    assert dump["runs"], "an agent runs, so the runs path is covered"
    for record in (*policy._tasks.values(), *policy._runs.values()):
        for value in dataclasses.astuple(record):
            assert value is None or isinstance(value, str | int | float | bool)  # scalars only
