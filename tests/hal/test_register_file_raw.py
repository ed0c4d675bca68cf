"""Power-on values go through the register map (``store_raw``), not raw bytes beside it."""

from __future__ import annotations

from hal.chips.max1704x import (
    CONFIG,
    CONFIG_POR,
    HIBRT,
    HIBRT_POR,
    STATUS,
    STATUS_POR,
    VALRT,
    VALRT_POR,
    VRESET_ID,
    VRESET_POR,
    MAX17048Emulator,
)


def test_max17048_power_on_values_as_the_datasheet_lists_them() -> None:
    # [SF-max]: CONFIG 0x971C (RCOMP 0x97, ATHD 0x1C), VALRT 0x00FF, VRESET 0x96, STATUS RI set
    chip = MAX17048Emulator()
    assert [chip.load_raw(r) for r in (CONFIG, HIBRT, VALRT, STATUS)] == [CONFIG_POR, HIBRT_POR, VALRT_POR, STATUS_POR]
    assert chip.load_raw(VRESET_ID) >> 8 == VRESET_POR
    config = chip.load(CONFIG)
    assert (config.rcomp, config.athd, config.alrt) == (0x97, 0x1C, False)
    assert chip.load(STATUS).ri is True
    assert chip.read(CONFIG.address, 2) == bytes([0x97, 0x1C])  # MSB first on the wire
