"""Board catalogue, user boards from TOML, the simulated board and per-board signal sources.

``boards`` sits between the CLI / rig and :mod:`hal` (DESIGN.md section 1): a board is data
(:class:`BoardSpec`), and :func:`build_source` turns it into a running source of signal
updates. It never imports ``firmware_sim``; updates are plain :class:`SourceUpdate` values.
"""

from boards.battery import BatteryModel, OcvCurve
from boards.catalogue import BOARDS, get_board
from boards.config import board_from_mapping, load_board_file
from boards.errors import BoardConfigError, BoardError, NotSettableError, UnknownBoardError
from boards.spec import SIGNAL_NAMES, BoardSpec, ChipSpec, PinSpec, RelaySpec, problems

__all__ = [
    "BOARDS",
    "SIGNAL_NAMES",
    "BatteryModel",
    "BoardConfigError",
    "BoardError",
    "BoardSpec",
    "ChipSpec",
    "NotSettableError",
    "OcvCurve",
    "PinSpec",
    "RelaySpec",
    "UnknownBoardError",
    "board_from_mapping",
    "get_board",
    "load_board_file",
    "problems",
]
