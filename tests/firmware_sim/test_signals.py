"""The signals snapshot: validation, freshness, and stale signals read as unknown (issue 9)."""

from __future__ import annotations

import pytest

from firmware_sim import SignalError, Signals
from firmware_sim.signals import SIGNAL_NAMES, UNKNOWN


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


def test_stale_signals_are_unknown_not_a_guess() -> None:
    # issue 9: "in the effective snapshot a stale signal is *unknown*" - no fixed value that
    # blocks one condition and satisfies its inverse (0 % *is* battery-low, "none" *is* unplugged)
    s = Signals(charger="ac", battery_level=95, network="wifi", screen_locked=True)
    stale = s.updated({}, stale=["charger", "battery_level", "network", "screen_locked"])
    eff = stale.effective()
    assert (eff.charger, eff.battery_level, eff.network, eff.screen_locked) == (UNKNOWN,) * 4
    assert UNKNOWN is None
    assert eff.unknown == {"charger", "battery_level", "network", "screen_locked"}
    assert eff.unknown_of("idle", "network", "charger") == ["network", "charger"]
    assert s.changed(stale) == {"charger", "battery_level", "network", "screen_locked"}
    # a fresh value for a stale signal clears the mark
    again = stale.updated({"charger": "ac"})
    assert "charger" not in again.stale and again.effective().charger == "ac"
    assert eff.effective() is eff  # cheap when already effective


def test_a_measurement_turning_unknown_is_a_change() -> None:
    # voltage None ("not measured") and voltage unknown are both null, but the mark differs
    s = Signals(voltage=None)
    assert s.changed(s.updated({}, stale=["voltage"])) == {"voltage"}


def test_unknown_shows_as_null_in_every_published_snapshot() -> None:
    # issue 9: "The terminal and MQTT show unknown as unknown, never as a number"
    out = Signals(battery_level=100).updated({}, stale=["battery_level", "charger"]).to_dict()
    assert out["battery_level"] is None and out["charger"] is None
    assert out["stale"] == ["battery_level", "charger"]


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
