"""Manual steps wait for the human: Enter on the terminal, or the board measuring the value."""

from __future__ import annotations

import asyncio
import os
from dataclasses import replace
from pathlib import Path

from wakebench.config import default_config
from wakebench.rig import Rig


def _config(tmp_path: Path) -> object:
    return replace(default_config().with_overrides(rig="hands"), state_dir=None)


async def test_a_manual_step_waits_for_enter(tmp_path: Path) -> None:
    r, w = os.pipe()
    with os.fdopen(r) as terminal, os.fdopen(w, "w") as keyboard:
        async with Rig(_config(tmp_path), embedded="in-process", persist=False) as rig:  # type: ignore[arg-type]
            waiting = asyncio.ensure_future(rig.wait_for_hand({"charger": "usb"}, stdin=terminal))
            await asyncio.sleep(0)  # let it register its reader
            assert not waiting.done()
            keyboard.write("\n")
            keyboard.flush()
            assert await asyncio.wait_for(waiting, 10) == "enter"


async def test_a_manual_step_ends_when_the_board_measures_the_value(tmp_path: Path) -> None:
    async with Rig(_config(tmp_path), embedded="in-process", persist=False) as rig:  # type: ignore[arg-type]
        waiting = asyncio.ensure_future(rig.wait_for_hand({"charger": "ac"}))
        await asyncio.sleep(0)
        assert not waiting.done()
        assert rig.source is not None and rig.source.sim is not None
        await rig.set_signals({"charger": "ac"})  # the hand on the bench: the plug goes in
        assert await asyncio.wait_for(waiting, 10) == "measured"
