"""Construction of a :class:`~boards.source.BoardSource` from a board spec: the one place that
picks real or simulated parts (I²C bus, pin factory, ``power_supply`` reader, the sim).

Chip drivers come from the :mod:`hal.chips` registry (:meth:`hal.chips.ChipSpec.make_driver`),
configured from the board's chip parameters; nothing here names a chip.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from gpiozero.pins import Factory
from gpiozero.pins.mock import MockFactory

from boards.errors import BoardError
from boards.sim import SimBoard
from boards.source import DEFAULT_POLL_INTERVAL_S, BoardSource
from boards.spec import BoardSpec, ChipSpec
from boards.updates import SourceClock
from hal.chips import GaugeDriver, chip_spec
from hal.errors import PinError
from hal.gpio import lgpio_pin_factory
from hal.i2c import EmulatedBus, I2CBus, SMBusI2C
from hal.power_supply import PowerSupplySource
from wbcommon.signals import BATTERY_DECISION_LEVELS_PCT

__all__ = ["build_source", "gauge_driver"]


def gauge_driver(chip: ChipSpec, *, bus: I2CBus) -> GaugeDriver:
    """The :mod:`hal.chips` driver for the board's ``chip``, configured from its parameters.

    Raises:
        BoardError: the chip has no driver in :mod:`hal.chips`.
    """
    try:
        entry = chip_spec(chip.chip)
    except KeyError as exc:
        raise BoardError(str(exc.args[0]) if exc.args else f"no driver for {chip.chip!r}") from None
    return entry.make_driver(bus, chip.address, chip.params)


def build_source(
    spec: BoardSpec,
    *,
    clock: SourceClock,
    pin_factory: Factory | None = None,
    bus: I2CBus | None = None,
    poll_interval: float | None = DEFAULT_POLL_INTERVAL_S,
    sim: SimBoard | None = None,
    power_supply: PowerSupplySource | None = None,
    watch_network: bool | None = None,
    decision_levels: Sequence[float] = BATTERY_DECISION_LEVELS_PCT,
    confirm: bool = True,
) -> BoardSource:
    """Turn a board spec into a :class:`BoardSource`.

    Args:
        spec: the board (``get_board(name)`` or a user board from TOML).
        clock: rig time, ``now()`` and ``async sleep_until(t)`` (``firmware_sim`` clocks fit).
        pin_factory: gpiozero factory; default: the sim's ``MockFactory`` on ``sim``, lgpio on
            a real board (a fault in the first update, not an exception, when unavailable).
        bus: I²C bus; default: the sim's emulated bus, or ``/dev/i2c-<gauge.bus>`` (opened on
            the first read, so a missing bus is a fault, not an exception).
        poll_interval: gauge poll period (rig s); None: only :meth:`BoardSource.refresh` polls.
        sim: the simulated hardware for a simulated spec (made here when omitted).
        power_supply: ``/sys/class/power_supply`` reader (default for ``power_supply`` boards).
        watch_network: follow netlink for network signals; default on for real boards, off on
            ``sim`` (its network is settable state).
        decision_levels: battery levels (%) whose crossing a gauge re-read confirms.
        confirm: range-check and confirm gauge readings (False: benchmark baseline only).

    Raises:
        BoardError: the sim cannot be built from the spec, or the gauge chip has no driver.
    """
    factory_error: str | None = None
    if spec.simulated:
        if sim is None:
            if pin_factory is not None and not isinstance(pin_factory, MockFactory):
                raise BoardError("the sim board needs a gpiozero MockFactory as pin_factory")
            if bus is not None and not isinstance(bus, EmulatedBus):
                raise BoardError("the sim board needs an hal.i2c.EmulatedBus as bus")
            sim = SimBoard(clock=clock, spec=spec, pin_factory=pin_factory, bus=bus)
        pin_factory, bus = sim.pin_factory, sim.bus
        if spec.gauge is not None and spec.gauge.params.get("capacity_mah") != sim.model.capacity_mah:
            params = {**spec.gauge.params, "capacity_mah": sim.model.capacity_mah}
            spec = replace(spec, gauge=replace(spec.gauge, params=params))
        watch_network = bool(watch_network)
    else:
        watch_network = True if watch_network is None else watch_network
        if pin_factory is None and (spec.input_pins or spec.relays):
            try:
                pin_factory = lgpio_pin_factory()
            except PinError as exc:
                factory_error = str(exc)
    gauge: GaugeDriver | None = None
    label = "gauge"
    if spec.gauge is not None:
        if bus is None:
            bus = SMBusI2C(spec.gauge.bus)
        gauge = gauge_driver(spec.gauge, bus=bus)
        label = f"gauge {spec.gauge.label} on bus {spec.gauge.bus}"
    if power_supply is None and spec.power_supply is not None:
        power_supply = PowerSupplySource(battery=None if spec.power_supply == "auto" else spec.power_supply)
    return BoardSource(
        spec,
        clock=clock,
        gauge=gauge,
        gauge_label=label,
        pin_factory=pin_factory,
        power_supply=power_supply,
        watch_network=watch_network,
        sim=sim,
        poll_interval=poll_interval,
        pin_factory_error=factory_error,
        decision_levels=decision_levels,
        confirm=confirm,
    )
