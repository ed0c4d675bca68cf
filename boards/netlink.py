"""Network signals of a real board: a :class:`hal.network.NetworkWatcher` kept running.

:class:`NetlinkInput` writes the watcher's state (or its failure) into the source's
:class:`~boards.derive.Inputs` and calls ``notify()`` so the source publishes. A watcher that
cannot start or fails later is a fault (``network`` and ``metered`` go stale); the source
retries it at every poll.
"""

from __future__ import annotations

from collections.abc import Callable

from boards.derive import Inputs
from hal.errors import NetworkError
from hal.network import NetworkSignals, NetworkWatcher

__all__ = ["NetlinkInput"]


class NetlinkInput:
    """The netlink watcher of one source."""

    def __init__(self, inputs: Inputs, notify: Callable[[], None]) -> None:
        self._inputs = inputs
        self._notify = notify
        self._watcher: NetworkWatcher | None = None

    @property
    def running(self) -> bool:
        """True while a watcher delivers link events."""
        return self._watcher is not None

    async def start(self) -> None:
        """Start (or restart) the watcher; a failure is recorded as the network fault."""
        watcher = NetworkWatcher(on_change=self._on_change, on_error=self._on_error)
        try:
            self._inputs.net = await watcher.start()
        except NetworkError as exc:
            self._inputs.net_fault = f"network: {exc}"
            return
        self._watcher = watcher
        self._inputs.net_fault = None

    async def close(self) -> None:
        """Stop the watcher (safe when it never started)."""
        watcher, self._watcher = self._watcher, None
        if watcher is not None:
            await watcher.close()

    def _on_change(self, signals: NetworkSignals) -> None:
        self._inputs.net = signals
        self._notify()

    def _on_error(self, error: NetworkError) -> None:
        self._watcher = None
        self._inputs.net_fault = f"network: {error}"
        self._notify()
