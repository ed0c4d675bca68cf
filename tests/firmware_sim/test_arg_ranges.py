"""Argument ranges (README "Argument ranges"): every verb of every platform answers every
payload with a coded response — out-of-range numbers are ``invalid_args`` (HarmonyOS ``401``)
naming the range, never an exception the bridge would turn into ``internal_error``.

Issue #11 listed the payloads that used to crash; they are pinned as examples below, and a
hypothesis property drives :meth:`Scheduler.handle` with huge, NaN, infinite, negative numbers,
long strings and nested junk for every verb, then runs the rig clock forward so timers armed
from those values fire too.
"""

from __future__ import annotations

import math
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from firmware_sim import COMMON_VERBS, Scheduler
from firmware_sim.args import MAX_ARG_DEPTH, MAX_NUMBER, Args
from firmware_sim.durations import HORIZON_S, parse_duration
from firmware_sim.errors import RequestError
from firmware_sim.platforms import POLICIES

HUGE = 10**400
#: Argument names the policies read (from their ``Args`` calls and the verbs' documentation).
FIELDS = sorted({
    "all", "audio", "background_access", "background_app_refresh", "backoff_policy", "battery_level",
    "battery_status", "bucket", "bundle_name", "bytes", "charger_type", "constraints", "delay",
    "description", "expiration_time", "group", "id", "identifier", "idle_wait_time", "is_charging",
    "is_deep_idle", "is_persisted", "is_repeat", "mb", "name", "need_cancel", "network_type",
    "parameters", "privileged", "reason", "repeat_count", "repeat_cycle_time", "required_network_type",
    "requires_battery_not_low", "requires_charging", "requires_device_idle", "requires_external_power",
    "requires_network_connectivity", "requires_storage_not_low", "result", "session_id", "state",
    "storage_request", "success", "task_id", "type", "work", "work_id", "initial_delay",
    "initial_delay_ms", "repeat_interval", "repeat_interval_ms", "flex_interval", "earliest_begin",
    "earliest_begin_date", "earliest_begin_delay", "backoff_delay", "tags",
})
HOSTILE_NUMBERS = st.one_of(
    st.sampled_from([HUGE, -HUGE, MAX_NUMBER, MAX_NUMBER + 1, -1, 0, 1e308, -1e308, math.nan, math.inf,
                     -math.inf, 2**63, 5e-324, HORIZON_S, HORIZON_S + 1]),
    st.integers(), st.floats(),
)
HOSTILE_STRINGS = st.one_of(
    st.sampled_from(["1" + "0" * 400 + "s", "9" * 400, "nan", "inf", "-5s", "1e400", "90s", "1h30m", "x" * 5000]),
    st.text(max_size=40),
)
SCALARS = st.one_of(st.none(), st.booleans(), HOSTILE_NUMBERS, HOSTILE_STRINGS)
JUNK = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3)
                    | st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=8), inner, max_size=3),
                    max_leaves=8)
PAYLOADS = st.one_of(
    st.dictionaries(st.sampled_from(FIELDS), JUNK, max_size=6),
    JUNK,
)
VERBS = [(platform, verb) for platform, cls in POLICIES.items() for verb in (*COMMON_VERBS, *cls.verbs())]
#: Register arguments each platform needs for its verbs to get past "not registered".
REGISTER: dict[str, dict[str, Any]] = {p: {"platform": p} for p in POLICIES}


def _coded(response: Any) -> None:
    assert response.status in ("ok", "error")
    if response.status == "error":
        assert response.code and response.code != "internal_error", response


def _serve(platform: str, verb: str, payload: Any) -> None:
    sched = Scheduler()
    response, _ = sched.handle(0.0, "app", "register", REGISTER[platform])
    assert response.status == "ok", response
    response, events = sched.handle(1.0, "app", verb, payload)
    _coded(response)
    for t in (2.0, 3600.0, 15 * 86400.0, HORIZON_S):
        deadline = sched.next_deadline()
        events += sched.advance(t if deadline is None else min(t, max(deadline, sched.now)))
    for event in events:
        event.to_dict(sched.epoch)


@pytest.mark.parametrize(("platform", "verb"), VERBS)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(payload=PAYLOADS)
def test_no_payload_yields_an_exception(platform: str, verb: str, payload: Any) -> None:
    _serve(platform, verb, payload)


#: Issue #11: each of these gave ``internal_error`` with a logged traceback.
ISSUE_11 = [
    ("android", "enqueue", {"type": "periodic", "repeat_interval": HUGE}),
    ("android", "enqueue", {"type": "one_time", "initial_delay": HUGE}),
    ("harmonyos", "start_work", {"work_id": 1, "bundle_name": "app", "ability_name": "a",
                                 "is_charging": True, "repeat_cycle_time": HUGE}),
    ("ios", "submit", {"identifier": "refresh", "type": "app_refresh", "earliest_begin": HUGE}),
    ("wp8", "add", {"name": "sync", "type": "periodic", "expiration_time": HUGE}),
    ("wp8", "launch_for_test", {"name": "sync", "delay": HUGE}),
    ("wp8", "report_memory", {"mb": 1e308}),
]


@pytest.mark.parametrize(("platform", "verb", "payload"), ISSUE_11)
def test_issue_11_numbers_are_refused_naming_the_range(platform: str, verb: str, payload: dict[str, Any]) -> None:
    sched = Scheduler()
    sched.handle(0.0, "app", "register", {"platform": platform})
    response, _ = sched.handle(1.0, "app", verb, payload)
    assert response.status == "error"
    assert response.code in ("invalid_args", "401"), response
    assert "2**53" in (response.error or ""), response.error


def test_a_400_digit_duration_string_is_not_an_infinite_delay() -> None:
    with pytest.raises(ValueError, match="characters"):
        parse_duration("1" + "0" * 400 + "s")
    with pytest.raises(ValueError, match="horizon"):
        parse_duration("1" + "0" * 40 + "s")
    with pytest.raises(ValueError, match="horizon"):
        parse_duration(math.inf)
    with pytest.raises(ValueError, match="horizon"):
        parse_duration(math.nan)


def test_the_horizon_is_100_years_and_its_edge_is_accepted() -> None:
    """durations.HORIZON_S: "100 years (365-day years)"."""
    assert HORIZON_S == 100 * 365 * 86400
    assert parse_duration(HORIZON_S) == HORIZON_S
    assert parse_duration(f"{100 * 365}d") == HORIZON_S
    with pytest.raises(ValueError, match="horizon"):
        parse_duration(f"{100 * 365}d1s")


def test_numbers_are_bounded_at_2_53_as_rfc_8259_section_6_says() -> None:
    """args.MAX_NUMBER: "2**53, beyond which JSON numbers are not interoperable"."""
    assert MAX_NUMBER == 2**53
    assert Args({"n": MAX_NUMBER}).int("n") == MAX_NUMBER
    for bad in (MAX_NUMBER + 1, -(MAX_NUMBER + 1), 1e300, math.nan):
        with pytest.raises(RequestError, match=re.escape("2**53")):
            Args({"n": bad})
    with pytest.raises(RequestError, match=re.escape("2**53")):
        Args({"outer": {"inner": [1, HUGE]}})


def test_nesting_is_bounded() -> None:
    deep: Any = 1
    for _ in range(MAX_ARG_DEPTH):
        deep = [deep]
    with pytest.raises(RequestError, match="nested deeper"):
        Args({"n": deep})


def test_a_policy_maximum_names_the_range() -> None:
    with pytest.raises(RequestError, match="at most 100"):
        Args({"level": 101}).int("level", maximum=100)
    with pytest.raises(RequestError, match="at most 5"):
        Args({"x": 6.5}).number("x", maximum=5)
