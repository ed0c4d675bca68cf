"""Board catalogue, user boards from TOML, the simulated board and per-board signal sources.

``boards`` sits between the CLI / rig and :mod:`hal` (DESIGN.md section 1): a board is data
(:class:`BoardSpec`), and :func:`build_source` turns it into a running source of signal
updates. It never imports ``firmware_sim``; updates are plain :class:`SourceUpdate` values.
"""

from boards.battery import BatteryModel, OcvCurve
from boards.build import build_source
from boards.catalogue import BOARDS, get_board
from boards.config import board_from_mapping, load_board_file, resolve_board
from boards.errors import (
    BoardConfigError,
    BoardError,
    NotSettableError,
    SignalValueError,
    UnknownBoardError,
    UnknownSignalError,
)
from boards.sim import SIM_SETTABLE, SimBoard
from boards.source import DEFAULT_POLL_INTERVAL_S, BoardSource
from boards.spec import BoardSpec, ChipSpec, PinSpec, RelaySpec, problems
from boards.updates import SignalSource, SourceSnapshot, SourceUpdate
from wbcommon.signals import SIGNAL_NAMES

__all__ = [
    "BOARDS",
    "DEFAULT_POLL_INTERVAL_S",
    "SIGNAL_NAMES",
    "SIM_SETTABLE",
    "BatteryModel",
    "BoardConfigError",
    "BoardError",
    "BoardSource",
    "BoardSpec",
    "ChipSpec",
    "NotSettableError",
    "OcvCurve",
    "PinSpec",
    "RelaySpec",
    "SignalSource",
    "SignalValueError",
    "SimBoard",
    "SourceSnapshot",
    "SourceUpdate",
    "UnknownBoardError",
    "UnknownSignalError",
    "board_from_mapping",
    "build_source",
    "get_board",
    "load_board_file",
    "problems",
    "resolve_board",
]
