"""The relays of a board: outputs wakebench switches to make a signal settable.

:class:`RelayBank` opens every :class:`~boards.spec.RelaySpec` of a board through
:class:`hal.gpio.Relay` (safe state at start-up and on close), checks a requested change before
anything switches, and switches. A relay that cannot be opened is a fault named by its GPIO,
never an exception at start-up.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from gpiozero.pins import Factory

from boards.errors import NotSettableError
from boards.spec import BoardSpec
from hal.errors import PinError
from hal.gpio import Relay
from hal.gpio import RelaySpec as HalRelaySpec

__all__ = ["RelayBank"]

log = logging.getLogger(__name__)


class RelayBank:
    """Every relay of ``spec``; :attr:`faults` names the ones that could not be opened."""

    def __init__(self, spec: BoardSpec) -> None:
        self.spec = spec
        self.relays: dict[str, Relay] = {}
        self.faults: dict[str, str] = {}

    def open(self, pin_factory: Factory | None, factory_error: str | None) -> None:
        """Open each relay in its safe state; failures become :attr:`faults`."""
        for relay in self.spec.relays:
            if pin_factory is None:
                self.faults[relay.signal] = (
                    f"relay GPIO{relay.gpio} of board {self.spec.name}: {factory_error or 'no pin factory'}"
                )
                continue
            hal_spec = HalRelaySpec(gpio=relay.gpio, name=relay.switches, active_high=relay.active_high,
                                    safe_state=relay.safe_on, source=relay.note)
            try:
                self.relays[relay.signal] = Relay(hal_spec, pin_factory=pin_factory, board=self.spec.name)
            except PinError as exc:
                self.faults[relay.signal] = str(exc)

    def active(self, signal: str) -> bool | None:
        """Whether the relay switching ``signal`` is on, None when there is none."""
        relay = self.relays.get(signal)
        return relay.active if relay is not None else None

    def check(self, values: Mapping[str, Any]) -> None:
        """Refuse a change a relay cannot make, before anything switches.

        Raises:
            NotSettableError: the relay is unusable, or a charger kind the board's relay
                cannot produce.
        """
        for name, value in values.items():
            relay = self.relays.get(name)
            if relay is None:
                why = self.faults.get(name, "the source is not started")
                raise NotSettableError(f"board {self.spec.name!r}: relay for {name!r} unusable: {why}")
            if name == "charger" and value not in ("none", self.spec.charger):
                raise NotSettableError(
                    f"board {self.spec.name!r}: the relay on GPIO{relay.spec.gpio} can only "
                    f"connect or cut the board's {self.spec.charger!r} charger, not make it {value!r}"
                )

    def switch(self, values: Mapping[str, Any]) -> None:
        """Switch each relay (charger: on unless ``none``; booleans: on = True).

        Raises:
            NotSettableError: the pin failed.
        """
        for name, value in values.items():
            on = value != "none" if name == "charger" else bool(value)
            try:
                self.relays[name].set(on)
            except PinError as exc:
                raise NotSettableError(f"board {self.spec.name!r}: {exc}") from exc

    def close(self) -> None:
        """Put every relay in its safe state and release it (failures are logged)."""
        for relay in self.relays.values():
            try:
                relay.close()
            except PinError as exc:
                log.warning("%s", exc)
