"""The signals snapshot: validation, freshness, and the conservative reading of stale signals."""

from __future__ import annotations

import pytest

from firmware_sim import SignalError, Signals
from firmware_sim.signals import CONSERVATIVE, SIGNAL_NAMES


def test_every_design_signal_exists() -> None:
    # DESIGN.md section 2, in table order
    assert SIGNAL_NAMES == (
        "battery_level",
        "voltage",
        "current",
        "charging",
        "charger",
        "network",
        "metered",
        "roaming",
        "temperature",
        "storage_low",
        "screen_locked",
        "idle",
        "on_call",
        "user_present",
        "low_power_mode",
        "battery_saver",
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("charger", "diesel"),
        ("network", "5g"),
        ("battery_level", 101),
        ("battery_level", -1),
        ("idle", "yes"),
        ("voltage", float("nan")),
        ("warp", 1),
        ("charging", 1),
    ],
)
def test_bad_values_are_refused(name: str, value: object) -> None:
    with pytest.raises(SignalError):
        Signals().updated({name: value})


def test_stale_signals_read_conservatively() -> None:
    s = Signals(charger="ac", battery_level=95, network="wifi", screen_locked=True)
    stale = s.updated({}, stale=["charger", "battery_level", "network", "screen_locked"])
    eff = stale.effective()
    assert (eff.charger, eff.battery_level, eff.network, eff.screen_locked) == ("none", 0.0, "none", False)
    assert s.changed(stale) == {"charger", "battery_level", "network", "screen_locked"}
    # a fresh value for a stale signal clears the mark
    again = stale.updated({"charger": "ac"})
    assert "charger" not in again.stale and again.effective().charger == "ac"


def test_conservative_table_covers_every_signal() -> None:
    assert set(CONSERVATIVE) == set(SIGNAL_NAMES)


def test_round_trip_dict() -> None:
    s = Signals(charger="usb", voltage=3.9).updated({}, stale=["temperature"], t=12.5)
    assert Signals.from_dict(s.to_dict()) == s


def test_snapshot_defaults_are_the_vocabularys_defaults() -> None:
    from wbcommon.signals import DEFAULTS

    assert {n: getattr(Signals(), n) for n in SIGNAL_NAMES} == dict(DEFAULTS)


def test_temperature_is_bounded_by_the_gauges_operating_range() -> None:
    # wbcommon.signals: TEMP_MIN_C = -40.0, TEMP_MAX_C = 125.0 (MAX17048 / BQ27441 / INA219
    # datasheets, -40 °C to +125 °C); the scheduler used to accept any temperature.
    from wbcommon.signals import TEMP_MAX_C, TEMP_MIN_C

    assert (TEMP_MIN_C, TEMP_MAX_C) == (-40.0, 125.0)
    assert Signals().updated({"temperature": 125.0}).temperature == 125.0
    for bad in (125.5, -40.5):
        with pytest.raises(SignalError, match="from -40 to 125 °C"):
            Signals().updated({"temperature": bad})


@pytest.mark.parametrize("name", ["voltage", "current", "temperature"])
def test_measurements_may_be_unknown(name: str) -> None:
    # None = "not measured" (a board without that sensor), for measurements only
    assert getattr(Signals().updated({name: None}), name) is None


def test_a_level_is_never_unknown_by_value() -> None:
    with pytest.raises(SignalError, match="finite number"):
        Signals().updated({"battery_level": None})
