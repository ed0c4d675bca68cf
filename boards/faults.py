"""Faults on demand on an emulated board (issue 9 item 4): the vocabulary of
:mod:`wbcommon.faults` applied to the sim's parts, for a duration or until cleared.

* gauge ``nack`` / ``eio`` / ``garbage`` / ``bad_pec``: the emulated I²C bus's ``inject_*`` at
  the gauge's address (every register); the source's next poll — made at once — reports the
  fault and marks the gauge's signals unknown (``bad_pec``: every read fails with EBADMSG, a
  PEC mismatch — the sim's MAX17048 sends no PEC, so the fault is a frame corrupted on the wire,
  see ``hal.i2c.EmulatedBus.inject_bad_pec``);
* gauge ``stuck``: the gauge's registers stop following the battery model (a frozen chip: in
  range and repeated, so no driver can tell — README "Readings you can trust");
* charger ``stuck``: the power pin keeps its level while the model is plugged / unplugged;
* network ``flap``: the sim's network drops to ``none`` and comes back when the fault ends.

A real board refuses every fault with :class:`FaultNotSupportedError`
(``not_supported_on_hardware``). Timed faults end on the rig clock.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from boards.errors import BoardError
from boards.sim import SimBoard
from boards.source import BoardSource
from boards.updates import SourceClock
from wbcommon.faults import NOT_SUPPORTED_ON_HARDWARE, Fault, FaultRefusedError

__all__ = ["FaultInjector", "FaultNotSupportedError"]


class FaultNotSupportedError(BoardError, FaultRefusedError):
    """Faults are injected only into emulated parts; :attr:`code` is the MQTT error code."""

    code = NOT_SUPPORTED_ON_HARDWARE


class FaultInjector:
    """Applies and clears faults on one board source (its sim, when it has one).

    Args:
        source: the board's signal source (its next poll makes a fault visible).
        sim: the simulated hardware; None on a real board (every fault is refused).
        clock: rig time, for timed faults.
    """

    def __init__(self, source: BoardSource, sim: SimBoard | None, *, clock: SourceClock) -> None:
        self.source = source
        self.sim = sim
        self.clock = clock
        self._active: dict[str, Fault] = {}
        self._ends: dict[str, asyncio.Task[None]] = {}
        self._network_before: str | None = None

    def active(self) -> dict[str, dict[str, Any]]:
        """Active faults by target (``{"gauge": {"gauge": "nack", "for": 120.0}}``)."""
        return {t: f.to_dict() for t, f in sorted(self._active.items())}

    async def inject(self, fault: Fault) -> dict[str, Any]:
        """Apply (or clear) ``fault`` now and poll the source, so its effect is published.

        Raises:
            FaultNotSupportedError: a real board.
        """
        sim = self.sim
        if sim is None:
            raise FaultNotSupportedError(
                f"board {self.source.spec.name!r} is real hardware: faults are injected only into "
                "emulated boards (--board sim)")
        self._cancel_end(fault.target)
        if self._active.pop(fault.target, None) is not None:
            self._undo(sim, fault.target)
        if not fault.clears:
            self._apply(sim, fault)
            self._active[fault.target] = fault
            if fault.duration_s is not None:
                end = self.clock.now() + fault.duration_s
                self._ends[fault.target] = asyncio.create_task(
                    self._end_at(fault.target, end), name=f"wakebench-fault-{fault.target}")
        await self.source.refresh()
        return {"active": self.active()}

    async def close(self) -> None:
        """Cancel pending fault ends (the rig stops); faults stay as they are."""
        for target in list(self._ends):
            task = self._ends.pop(target)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _end_at(self, target: str, at: float) -> None:
        await self.clock.sleep_until(at)
        self._ends.pop(target, None)
        await self.inject(Fault(target, "clear"))

    def _cancel_end(self, target: str) -> None:
        task = self._ends.pop(target, None)
        if task is not None and task is not asyncio.current_task():
            task.cancel()

    def _apply(self, sim: SimBoard, fault: Fault) -> None:
        bus, address = sim.bus, sim.spec.gauge.address if sim.spec.gauge else 0
        if fault.target == "gauge":
            if fault.kind == "nack":
                bus.inject_nack(address)
            elif fault.kind == "eio":
                for register in range(0x100):
                    bus.inject_eio(address, register)
            elif fault.kind == "garbage":
                bus.inject_garbage(address)
            elif fault.kind == "bad_pec":
                bus.inject_bad_pec(address)
            else:  # stuck
                sim.freeze_gauge(True)
        elif fault.target == "charger":
            sim.stick_power_pin(True)
        else:  # network flap
            self._network_before = str(sim.values()["network"])
            sim.set({"network": "none"})

    def _undo(self, sim: SimBoard, target: str) -> None:
        if target == "gauge":
            if sim.spec.gauge is not None:
                sim.bus.clear_faults(sim.spec.gauge.address)
            sim.freeze_gauge(False)
        elif target == "charger":
            sim.stick_power_pin(False)
        elif self._network_before is not None:
            sim.set({"network": self._network_before})
            self._network_before = None
