"""Any `limits:` override is either accepted (and the scheduler builds) or a ConfigError."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware_sim import ConfigError, Scheduler
from firmware_sim.platforms import POLICIES

NAMES = [(p, f.name) for p, cls in POLICIES.items() for f in dataclasses.fields(cls.limits_type)]
VALUES = st.one_of(st.none(), st.booleans(), st.integers(-5, 10**9), st.floats(allow_nan=False),
                   st.text(max_size=12), st.sampled_from(["desktop", "mobile", "xbox", "hololens"]),
                   st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))


@settings(max_examples=300, deadline=None)
@given(picks=st.lists(st.tuples(st.sampled_from(NAMES), VALUES), max_size=4))
def test_overrides_are_accepted_or_a_config_error(picks) -> None:
    limits: dict[str, dict[str, object]] = {}
    for (platform, name), value in picks:
        try:
            POLICIES[platform].limits_type().with_overrides({name: value})
        except ConfigError:
            continue
        limits.setdefault(platform, {})[name] = value
    Scheduler(limits=limits)  # never raises for overrides that validated one by one


def test_an_infinite_or_nan_limit_is_a_config_error() -> None:
    """"a deadline at inf / nan is no rig time, nor JSON" (firmware_sim/limits.py): an ``inf``
    SavingData limit once reached a response's ``deadline`` and the timeline printer."""
    limits = POLICIES["uwp"].limits_type()
    for value in (float("inf"), float("-inf"), float("nan")):
        with pytest.raises(ConfigError, match="must be a finite number"):
            limits.with_overrides({"saving_data_s": value})
    assert limits.with_overrides({"saving_data_s": 1e300}).saving_data_s == 1e300  # large is fine
