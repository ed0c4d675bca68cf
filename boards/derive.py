"""Pure derivation of the DESIGN.md section 2 signals from a board's raw inputs.

No I/O and no asyncio here: :func:`kinds_of` decides, once per board, where each signal comes
from; :func:`derive` turns the latest raw inputs (:class:`Inputs`: a gauge reading, a
``power_supply`` snapshot, pin levels, netlink state, and the faults of each) into values, the
stale set and the active faults. :class:`~boards.source.BoardSource` owns the I/O and calls it.

Rules (they keep ``charger``, ``charging`` and ``current`` consistent in every snapshot):

* ``battery_level``, ``voltage``, ``current``, ``temperature``: what the gauge measures (the
  :mod:`hal.chips` registry says which), else the kernel's ``power_supply`` entry.
* ``charging``: the gauge's flags / current sign, else ``power_supply`` status, else the power
  pin (plugged ⇒ charging, unless a charge-enable relay is off). Unplugged ⇒ not charging,
  whatever the last gauge poll said, and a positive current is then not published either
  (``charger=none`` with +1 A would contradict itself; the next poll measures the truth).
* ``charger``: the power pin (edge-driven) with the board's charger type (on ``sim``: the kind
  plugged in), else the kernel's supplier entries, else the gauge's current sign.
* ``network``, ``metered``: netlink link events.
* anything else: held by the source and settable by hand.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from boards.spec import BoardSpec
from hal.chips import chip_spec
from hal.network import NetworkSignals
from hal.power_supply import PowerSupplySnapshot
from hal.readings import GaugeReading
from wbcommon.signals import BATTERY_MAX_PCT, BATTERY_MIN_PCT, SIGNAL_NAMES

__all__ = ["MEASUREMENTS", "POWER_SUPPLY", "Inputs", "Kind", "derive", "gauge_values", "kinds_of", "labels"]

#: Signals a power_supply board must read to know them (else: unknown + a fault, never 100 %).
_PSY_REQUIRED: Final = frozenset({"battery_level", "charger", "charging"})
#: Signals that come from the battery entry (unknown when there is none).
_PSY_BATTERY: Final = frozenset({"battery_level", "voltage", "current", "temperature"})

Kind = Literal["gauge", "psy", "pin", "net", "env"]

#: Signals that are only ever measured: without a sensor they stay unknown (None) and are
#: not settable by hand on a real board (a hand-set voltage would look like a measurement).
MEASUREMENTS: Final = frozenset({"voltage", "current"})

POWER_SUPPLY: Final = "/sys/class/power_supply"
_PSY_SIGNALS: Final = ("battery_level", "voltage", "current", "temperature", "charging", "charger")


@dataclass(slots=True)
class Inputs:
    """The raw inputs as last read, and the fault of each (None when it reads fine)."""

    reading: GaugeReading | None = None
    gauge_fault: str | None = None
    psy: PowerSupplySnapshot | None = None
    psy_fault: str | None = None
    pins: dict[str, bool] = field(default_factory=dict)
    pin_fault: str | None = None
    net: NetworkSignals | None = None
    net_fault: str | None = None
    relay_faults: dict[str, str] = field(default_factory=dict)


def kinds_of(spec: BoardSpec, *, gauge: bool, power_supply: bool, watch_network: bool) -> dict[str, Kind]:
    """Where each signal comes from on this board (``env`` = held by hand or by the sim)."""
    kinds: dict[str, Kind] = dict.fromkeys(SIGNAL_NAMES, "env")
    if gauge and spec.gauge is not None:
        for name in chip_spec(spec.gauge.chip).measured(spec.gauge.params):
            kinds[name] = "gauge"
    elif power_supply:
        for name in _PSY_SIGNALS:
            kinds[name] = "psy"
    for pin in spec.input_pins:
        assert pin.signal is not None  # input_pins lists only pins that drive a signal
        kinds[pin.signal] = "pin"
    if kinds["charging"] == "env" and spec.power_pin is not None:
        kinds["charging"] = "pin"
    if kinds["charger"] == "env" and kinds["current"] == "gauge" and kinds["charging"] == "gauge":
        kinds["charger"] = "gauge"  # current sign: charging ⇒ the board's charger is plugged
    if watch_network:
        kinds["network"] = kinds["metered"] = "net"
    return kinds


def labels(spec: BoardSpec, kinds: Mapping[str, Kind], *, gauge_label: str, sim: bool) -> dict[str, str]:
    """Human names of each signal's origin (``wakebench signals`` shows them)."""
    out: dict[str, str] = {}
    pins = {p.signal: p for p in spec.input_pins}
    for name, kind in kinds.items():
        if kind == "gauge":
            out[name] = gauge_label + (" (current sign)" if name == "charger" else "")
        elif kind == "psy":
            out[name] = POWER_SUPPLY
        elif kind == "pin" and name in pins:
            out[name] = f"GPIO{pins[name].gpio} ({pins[name].polarity})"
        elif kind == "pin":
            power = spec.power_pin
            out[name] = f"GPIO{power.gpio if power else '?'} (plugged ⇒ charging)"
        elif kind == "net":
            out[name] = "netlink" + (" (cellular ⇒ metered)" if name == "metered" else "")
        elif sim:
            out[name] = "sim"
        else:
            out[name] = "not measured" if name in MEASUREMENTS else "manual"
    for relay in spec.relays:
        out[relay.signal] += f", relay GPIO{relay.gpio}"
    return out


def derive(
    spec: BoardSpec,
    kinds: Mapping[str, Kind],
    inputs: Inputs,
    *,
    previous: Mapping[str, Any],
    env: Mapping[str, Any],
    plug_kind: str,
    charging_relay: bool | None,
    plugged_since_poll: bool = False,
) -> tuple[dict[str, Any], set[str], list[str]]:
    """Every signal's value, the stale set and the active faults, from the raw inputs.

    Args:
        previous: the values published last (kept for stale signals).
        env: hand-set (or sim-held) values.
        plug_kind: the charger type while the power pin says plugged.
        charging_relay: state of a charge-enable relay, None when there is none.
        plugged_since_poll: the power pin went to "plugged" after the last gauge poll: the
            gauge's charging / current predate the plug, so charging follows the pin (as on a
            board without a gauge) and the current is unknown until the next poll.
    """
    values = dict(previous)
    owned_env = {n for n, k in kinds.items() if k == "env"}
    values.update({n: v for n, v in env.items() if n in owned_env})
    stale: set[str] = set()
    faults: list[str] = []

    if "gauge" in kinds.values() or inputs.gauge_fault is not None:
        owned = frozenset(n for n, k in kinds.items() if k == "gauge")
        if inputs.gauge_fault is not None or inputs.reading is None:
            stale |= owned
            faults += [inputs.gauge_fault] if inputs.gauge_fault else []
        else:
            values.update(gauge_values(inputs.reading, owned, charger=spec.charger))
    if "psy" in kinds.values():
        owned = frozenset(n for n, k in kinds.items() if k == "psy")
        if inputs.psy_fault is not None or inputs.psy is None:
            stale |= owned
            faults += [inputs.psy_fault] if inputs.psy_fault else []
        else:
            got = _psy_values(inputs.psy, owned, charger=spec.charger)
            values.update(got)
            unknown = owned & _PSY_REQUIRED - got.keys()  # unknown, never a stale default
            if inputs.psy.battery is None:
                unknown |= owned & _PSY_BATTERY
            if unknown:
                stale |= unknown
                why = "no battery entry" if inputs.psy.battery is None else "the kernel cannot tell"
                faults.append(f"{POWER_SUPPLY}: no reading for {', '.join(sorted(unknown))} ({why})")

    for pin in spec.input_pins:
        signal = pin.signal or ""
        if inputs.pin_fault is not None or signal not in inputs.pins:
            stale.add(signal)
        elif signal == "charger":
            values["charger"] = plug_kind if inputs.pins[signal] else "none"
        else:
            values[signal] = inputs.pins[signal]
    faults += [inputs.pin_fault] if inputs.pin_fault else []
    faults += list(inputs.relay_faults.values())

    if spec.power_pin is not None:
        if "charger" in stale:
            if kinds["charging"] == "pin":
                stale.add("charging")
        elif not inputs.pins["charger"]:
            values["charging"] = False  # no power, no charging, whatever the gauge last said
            stale.discard("charging")
            if isinstance(values.get("current"), float) and values["current"] > 0:
                values["current"] = None  # measured before the unplug; the next poll reads it
        elif kinds["charging"] == "pin" or plugged_since_poll:
            values["charging"] = charging_relay if charging_relay is not None else True
            if plugged_since_poll and kinds["current"] == "gauge":
                values["current"] = None

    if "net" in kinds.values():
        if inputs.net_fault is not None or inputs.net is None:
            stale |= {"network", "metered"}
            faults += [inputs.net_fault] if inputs.net_fault else []
        else:
            values["network"] = inputs.net.network
            values["metered"] = inputs.net.metered
    return values, stale, faults


def gauge_values(reading: GaugeReading, owned: frozenset[str], *, charger: str) -> dict[str, Any]:
    """The signals a gauge reading gives (only the ``owned`` ones, never None).

    ``charging`` is the chip's flag, else the current's sign; ``charger`` (when the gauge owns
    it) is the board's charger type while charging, else ``none``.
    """
    current = reading.current
    charging = reading.charging
    if charging is None and current is not None:
        charging = current > 0
    soc = reading.soc
    out: dict[str, Any] = {
        "battery_level": None if soc is None else min(max(soc, BATTERY_MIN_PCT), BATTERY_MAX_PCT),
        "voltage": reading.voltage,
        "current": current,
        "temperature": reading.temperature,
        "charging": charging,
        "charger": None if charging is None else (charger if charging else "none"),
    }
    return {n: v for n, v in out.items() if n in owned and v is not None}


def _psy_values(snap: PowerSupplySnapshot, owned: frozenset[str], *, charger: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    battery = snap.battery
    if battery is not None:
        out.update(voltage=battery.voltage, current=battery.current)
        if battery.capacity is not None:
            out["battery_level"] = battery.capacity
        if battery.temperature is not None:
            out["temperature"] = battery.temperature
    if snap.charging is not None:
        out["charging"] = snap.charging
    if snap.charger is not None:
        out["charger"] = snap.charger
    elif snap.external_power is not None:
        out["charger"] = charger if snap.external_power else "none"
    return {n: v for n, v in out.items() if n in owned}
