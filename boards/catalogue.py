"""The supported boards (DESIGN.md section 8), as frozen :class:`~boards.spec.BoardSpec` data.

Every fact comes from ``/work/shared/reference/pi-hardware.md`` (sections 1-3 and the board
table), which names the vendor scripts, wikis and kernel drivers behind it. What the reference
marks unconfirmed or inferred is labelled ``UNCONFIRMED`` on the item it concerns.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from boards.battery import DEFAULT_CAPACITY_MAH
from boards.errors import UnknownBoardError
from boards.spec import BoardSpec, ChipSpec, PinSpec, RelaySpec

_REF: Final = "reference/pi-hardware.md section 2"

#: INA219 calibration of Waveshare's ``INA219.py`` ``set_calibration_32V_2A``: calibration
#: 4096, current LSB 0.1 mA (reference/pi-hardware.md section 1, "TI INA219").
WAVESHARE_CURRENT_LSB_A: Final = 0.1e-3
#: Shunt implied by that calibration: R = 0.04096 / (cal · I_lsb) = 0.04096 / (4096 · 1e-4)
#: = 0.1 Ω (INA219 calibration formula, same reference section).
WAVESHARE_SHUNT_OHM: Final = 0.04096 / (4096 * WAVESHARE_CURRENT_LSB_A)

_EXT_POWER: Final = "external power present"

X728: Final = BoardSpec(
    name="x728",
    title="Geekworm X728 UPS HAT (v2.x)",
    source=f"https://wiki.geekworm.com/X728 ; github.com/geekworm-com/x728-script ; {_REF}",
    gauge=ChipSpec(
        "max17043",
        0x36,
        unconfirmed="UNCONFIRMED: exact MAX1704x part (vendor scripts read it with MAX17043 scaling)",
    ),
    other_chips=(ChipSpec("rtc", 0x68, role="RTC"),),
    pins=(
        PinSpec(6, _EXT_POWER, polarity="active_low", signal="charger",
                note="PLD: 1 = AC lost, 0 = AC OK (rising edge = loss)"),
        PinSpec(5, "shutdown request from the board's button",
                note="pulse 200-600 ms = reboot, > 600 ms = power off"),
        PinSpec(12, "boot OK, held high by the Pi", direction="output"),
        PinSpec(26, "software power-off", direction="output",
                note="pulse high >= 3 s; GPIO13 on v1.2-v2.0 boards"),
        PinSpec(20, "buzzer", direction="output"),
        PinSpec(16, "charge control (V2.5 only)", direction="output",
                unconfirmed="UNCONFIRMED: polarity (Geekworm wiki names the pin, not its level)"),
    ),
    notes=(
        "kernel >= 6.6.45 offsets sysfs GPIO numbers by 512 (x728 script uses 517/524 for 5/12)",
    ),
)

X120X: Final = BoardSpec(
    name="x120x",
    title="Geekworm/SupTronics X1200/X1201/X1202/X1207/X1209 UPS",
    source=f"https://wiki.geekworm.com/X1200_Hardware ; github.com/suptronics/x120x ; {_REF}",
    gauge=ChipSpec(
        "max17043",
        0x36,
        unconfirmed="UNCONFIRMED: exact part (docs list MAX17040G+; scripts use 1.25 mV/16 scaling)",
    ),
    other_chips=(
        ChipSpec("ina219", 0x40, role="power monitor",
                 unconfirmed="UNCONFIRMED: seen on one X1200 (geekworm-x1200-ups-cli), not in vendor docs"),
    ),
    pins=(
        PinSpec(6, _EXT_POWER, polarity="active_high", pull="up", signal="charger",
                note="PLD: high = supply OK, low = supply failed (opposite of X728); "
                     "config.txt gpio=6=ip,pu"),
    ),
    relays=(
        RelaySpec(16, "battery charging", signal="charging", polarity="active_low", safe_on=True,
                  note="GPIO16: high = charging disabled, low = enabled"),
    ),
    notes=(
        "pogo-pin contact",
        "LED levels: 3.87-4.2 V 100 %, 3.7 V 75 %, 3.55 V 50 %, 3.4 V 25 %",
    ),
)


def _waveshare(name: str, title: str, address: int, empty_v: float, full_v: float,
               pack: str, extra: tuple[str, ...]) -> BoardSpec:
    return BoardSpec(
        name=name,
        title=title,
        source=f"https://www.waveshare.com/wiki/UPS_HAT ; Waveshare INA219.py ; {_REF}",
        gauge=ChipSpec(
            "ina219",
            address,
            params={
                "shunt_ohm": WAVESHARE_SHUNT_OHM,
                "current_lsb_a": WAVESHARE_CURRENT_LSB_A,
                "soc_empty_v": empty_v,
                "soc_full_v": full_v,
            },
            role="power monitor",
        ),
        soc_method=f"voltage: (V - {empty_v:g}) / {full_v - empty_v:g} x 100, clamped",
        notes=(pack, "no power pin: charging and charger are inferred from the current sign"),
        unconfirmed=(
            "UNCONFIRMED: current sign (Waveshare examples treat current > 0 as charging; "
            "verify per board)",
            *extra,
        ),
    )


WAVESHARE_UPS_HAT_B: Final = _waveshare(
    "waveshare-ups-hat-b", "Waveshare UPS HAT (B)", 0x42, 6.0, 8.4,
    "2S 18650 pack, 8.4 V full", (),
)
WAVESHARE_UPS_HAT_C: Final = _waveshare(
    "waveshare-ups-hat-c", "Waveshare UPS HAT (C) for Pi Zero", 0x43, 3.0, 4.2,
    "1S cell, 4.2 V full",
    ("UNCONFIRMED: shunt/calibration assumed equal to the UPS HAT (B) example code",),
)

_UPS_LITE_PIN: Final = PinSpec(4, _EXT_POWER, polarity="active_high", signal="charger",
                               note="GPIO4 high = external power plugged in")
_UPS_LITE_SOURCE: Final = f"https://github.com/linshuqin329/UPS-Lite ; {_REF}"

UPS_LITE_V1_2: Final = BoardSpec(
    name="ups-lite-v1-2",
    title="UPS-Lite v1.2 (MAX17040G)",
    source=_UPS_LITE_SOURCE,
    gauge=ChipSpec("max17043", 0x36),
    pins=(_UPS_LITE_PIN,),
    notes=("MAX17040G read with the MAX17043 register map (kernel max17040_battery drives both)",),
)

UPS_LITE_V1_3: Final = BoardSpec(
    name="ups-lite-v1-3",
    title="UPS-Lite v1.3 (CW2015)",
    source=_UPS_LITE_SOURCE,
    gauge=ChipSpec("cw2015", 0x62),
    pins=(_UPS_LITE_PIN,),
    notes=("vendor script quick-starts the gauge: write_word_data(0x62, 0x0A, 0x30)",),
)

SPARKFUN_LIPO_FUEL_GAUGE: Final = BoardSpec(
    name="sparkfun-lipo-fuel-gauge",
    title="SparkFun LiPo Fuel Gauge (MAX17043)",
    source=f"SparkFun_MAX1704x_Fuel_Gauge_Arduino_Library ; {_REF}",
    gauge=ChipSpec("max17043", 0x36),
    notes=("ALRT pin is not wired to a GPIO; add it under pins if you wire it",
           "no power pin: charging is unknown unless a pin is added"),
)

SPARKFUN_BATTERY_BABYSITTER: Final = BoardSpec(
    name="sparkfun-battery-babysitter",
    title="SparkFun Battery Babysitter (BQ27441-G1A)",
    source=f"SparkFun_BQ27441_Arduino_Library ; {_REF}",
    gauge=ChipSpec("bq27441", 0x55),
    soc_method="chip StateOfCharge (0x1C); charging from Flags CHG/DSG",
    notes=("GPOUT (BAT_LOW or SOC_INT) is not wired to a GPIO by default",),
)

ADAFRUIT_MAX17048: Final = BoardSpec(
    name="adafruit-max17048",
    title="Adafruit MAX17048 LiPoly/LiIon Fuel Gauge (PID 5580)",
    source=f"https://www.adafruit.com/product/5580 ; Adafruit_CircuitPython_MAX1704x ; {_REF}",
    gauge=ChipSpec("max17048", 0x36),
    soc_method="chip SOC register; charging from CRATE sign",
)

ADAFRUIT_LC709203F: Final = BoardSpec(
    name="adafruit-lc709203f",
    title="Adafruit LC709203F LiPoly/LiIon Fuel Gauge (PID 4712)",
    source=f"https://www.adafruit.com/product/4712 ; Adafruit_CircuitPython_LC709203F ; {_REF}",
    gauge=ChipSpec("lc709203f", 0x0B),
    soc_method="chip RSOC (0x0D) / ITE (0x0F)",
    notes=("words carry an SMBus PEC byte (CRC-8 poly 0x07); the chip may sleep and need retries",
           "no mainline Linux driver"),
)

POWER_SUPPLY: Final = BoardSpec(
    name="power-supply",
    title="Generic Linux power_supply (any kernel battery driver)",
    source="Linux Documentation/ABI/testing/sysfs-class-power ; reference/pi-hardware.md section 3",
    power_supply="auto",
    soc_method="sysfs capacity (%), status for charging, Mains/USB/Wireless supply for charger",
    notes=("reads /sys/class/power_supply: e.g. max17040_battery, bq27xxx_battery, cw2015_battery",),
)

SIM: Final = BoardSpec(
    name="sim",
    title="Simulated board: battery model + emulated MAX17048 + mock power pin",
    source="wakebench boards/battery.py and boards/sim.py (no hardware)",
    gauge=ChipSpec("max17048", 0x36, params={"capacity_mah": DEFAULT_CAPACITY_MAH}),
    pins=(PinSpec(6, _EXT_POWER, polarity="active_high", signal="charger",
                  note="gpiozero MockFactory pin, driven by plug()/unplug()"),),
    soc_method="battery model (coulomb counting) encoded into MAX17048 registers",
    notes=("every signal is settable: unplug(), plug(kind), set_load(A), set({...})",),
    simulated=True,
)

BOARDS: Final[Mapping[str, BoardSpec]] = MappingProxyType(
    {
        b.name: b
        for b in (
            X728,
            X120X,
            WAVESHARE_UPS_HAT_B,
            WAVESHARE_UPS_HAT_C,
            UPS_LITE_V1_2,
            UPS_LITE_V1_3,
            SPARKFUN_LIPO_FUEL_GAUGE,
            SPARKFUN_BATTERY_BABYSITTER,
            ADAFRUIT_MAX17048,
            ADAFRUIT_LC709203F,
            POWER_SUPPLY,
            SIM,
        )
    }
)

#: Other spellings people type: model numbers of the X120x family, dotted versions.
ALIASES: Final[Mapping[str, str]] = MappingProxyType(
    {
        **{m: "x120x" for m in ("x1200", "x1201", "x1202", "x1207", "x1209")},
        "ups-lite-v1.2": "ups-lite-v1-2",
        "ups-lite-v1.3": "ups-lite-v1-3",
        "waveshare-ups-hat": "waveshare-ups-hat-b",
        "power_supply": "power-supply",
        "simulated": "sim",
    }
)


def get_board(name: str) -> BoardSpec:
    """The catalogue board called ``name`` (case-insensitive; aliases such as ``x1200``).

    Raises:
        UnknownBoardError: no such board; the message lists the known names.
    """
    key = name.strip().lower()
    key = ALIASES.get(key, key)
    try:
        return BOARDS[key]
    except KeyError:
        raise UnknownBoardError(
            f"unknown board {name!r}; known boards: {', '.join(BOARDS)}"
        ) from None
