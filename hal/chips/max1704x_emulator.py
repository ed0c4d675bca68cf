"""Emulators of the Maxim MAX17043/44 and MAX17048/49 fuel gauges (register maps, scale
factors and datasheet constants in :mod:`hal.chips.max1704x`, beside the drivers).

Split from ``max1704x.py`` so that neither module passes ~500 lines; the emulators build
exactly the register declarations the drivers parse, imported from there. Datasheet keys
[DS-48] / [DS-43] are listed above the emulation constants in :mod:`hal.chips.max1704x`.

"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from hal.chips.base import ByteRegisterFile
from hal.chips.max1704x import (
    _CONFIG_ALRT,
    _CONFIG_ALSC,
    _CONFIG_ATHD,
    _CONFIG_LOW,
    _CONFIG_SLEEP,
    _CRATE_SCALE,
    _MODE_EN_SLEEP,
    _MODE_HIB_STAT,
    _MODE_HIGH,
    _SOC_SCALE,
    _STATUS_ENVR,
    _STATUS_HD,
    _STATUS_HIGH,
    _STATUS_SC,
    _STATUS_VH,
    _STATUS_VL,
    _STATUS_VR,
    _VCELL12_SCALE,
    _VCELL12_SCALE_17044,
    _VCELL_SCALE,
    _VCELL_SCALE_17049,
    _VRESET_DIS,
    _VRESET_HIGH,
    ATHD_BASE_PCT,
    CMD,
    CONFIG,
    CONFIG_POR,
    CRATE,
    HIBERNATE_CONVERSION_PERIOD_S,
    HIBERNATE_ENTRY_S,
    HIBRT,
    HIBRT_ACT_LSB_V,
    HIBRT_ALWAYS,
    HIBRT_HIB_LSB_PCT_PER_H,
    HIBRT_NEVER,
    HIBRT_POR,
    ID_EMULATED,
    MODE,
    POR_COMMAND,
    POR_COMMAND_SWAPPED,
    SOC,
    SOC_CHANGE_ALERT_PCT,
    STATUS,
    STATUS_POR,
    VALRT,
    VALRT_LSB_V,
    VALRT_POR,
    VCELL,
    VCELL_17043,
    VCELL_17044,
    VCELL_17049,
    VERSION,
    VERSION_17043,
    VERSION_17048_EMULATED,
    VRESET_ID,
    VRESET_LSB_V,
    VRESET_POR,
)
from hal.i2c import EmulatedNack
from hal.readings import BatteryState
from hal.registers import Register, Scaled

__all__ = [
    "MAX17043Emulator",
    "MAX17044Emulator",
    "MAX17048Emulator",
    "MAX17049Emulator",
]

def _word_bytes(*addresses: int) -> frozenset[int]:
    return frozenset(b for a in addresses for b in (a, a + 1))


Clock = Callable[[], float]


class _MAX1704xEmulator(ByteRegisterFile):
    """What the MAX17043 and MAX17048 emulators share: conversions driven by a battery model,
    frozen while asleep, CONFIG.ALRT raised on the empty-alert threshold, the CMD reset.

    ``update(state)`` is one ADC conversion when the chip is converting; while it is not
    (sleep, or between two hibernate conversions) the model's state is only remembered.
    """

    vcell_register: ClassVar[Register[float]]
    vcell_scale: ClassVar[Scaled]
    part: ClassVar[str]

    def __init__(self, state: BatteryState | None = None, *, clock: Clock | None = None) -> None:
        super().__init__()
        self.clock = clock
        self.quick_starts = 0
        self.resets = 0
        self.conversions = 0
        self._state: BatteryState | None = None
        self._last_soc: float | None = None
        self._last_conversion: float | None = None
        self.power_on_reset()
        if state is not None:
            self.update(state)

    # -- state the chip exposes -----------------------------------------------------------

    @property
    def asleep(self) -> bool:
        """True while CONFIG.SLEEP holds the IC in sleep (no conversions, no alerts)."""
        return bool(self.image[_CONFIG_LOW] & _CONFIG_SLEEP)

    @property
    def alert(self) -> bool:
        """CONFIG.ALRT, i.e. the open-drain ALRT pin driven low."""
        return bool(self.image[_CONFIG_LOW] & _CONFIG_ALRT)

    @property
    def empty_alert_pct(self) -> int:
        """The empty-alert threshold in %, 32 − CONFIG.ATHD [DS-48, DS-43 CONFIG]."""
        return ATHD_BASE_PCT - (self.image[_CONFIG_LOW] & _CONFIG_ATHD)

    # -- the battery model's side ------------------------------------------------------------

    def power_on_reset(self) -> None:
        """Every register at its power-on value (VCELL and SOC 0 until the next conversion)."""
        self.image[:] = bytes(256)
        self.store_raw(CONFIG, CONFIG_POR)
        self._last_soc = None
        self._last_conversion = None

    def update(self, state: BatteryState) -> None:
        """One conversion of ``state`` when the chip is converting; otherwise only remember it."""
        self._state = state
        if self._converting():
            self._convert(state)

    def _converting(self) -> bool:
        return not self.asleep

    def _convert(self, state: BatteryState) -> None:
        self.conversions += 1
        if self.clock is not None:
            self._last_conversion = self.clock()
        voltage = self.vcell_scale.saturate(state.voltage)
        soc = _SOC_SCALE.saturate(state.soc)
        self.store(self.vcell_register, voltage)
        self.store(SOC, soc)
        self._alerts(voltage, soc)
        self._last_soc = soc

    def _alerts(self, voltage: float, soc: float) -> None:
        """Raise CONFIG.ALRT when SOC falls below the empty-alert threshold."""
        if self._crossed_empty(soc):
            self._raise_alert()

    def _crossed_empty(self, soc: float) -> bool:
        threshold = self.empty_alert_pct
        return soc < threshold and (self._last_soc is None or self._last_soc >= threshold)

    def _raise_alert(self) -> None:
        self.image[_CONFIG_LOW] |= _CONFIG_ALRT

    # -- the host's side -------------------------------------------------------------------

    def on_write(self, command: int, data: bytes) -> None:
        """Quick-start on MODE bit 14; power-on reset, then NACK, on CMD 0x5400."""
        if command <= MODE.address + 1 and command + len(data) > MODE.address:
            self._mode_written()
        if command == CMD.address and len(data) >= CMD.size:
            if int.from_bytes(data[:2], "big") in self.reset_commands():
                self.resets += 1
                self.power_on_reset()  # VCELL/SOC read 0 until the next conversion
                # "The reset occurs when the last bit has been clocked in. The IC does not
                # respond with an I2C ACK after this command sequence." [DS-48, DS-43 CMD]
                raise EmulatedNack(f"{self.part} resets on CMD 0x5400 and does not ACK the write")
            self.store_raw(CMD, 0)

    def reset_commands(self) -> frozenset[int]:
        """CMD values that reset the chip."""
        return frozenset({POR_COMMAND})

    def _mode_written(self) -> None:
        mode = self.load(MODE)
        if mode.quick_start:
            self.quick_starts += 1
            mode.quick_start = False  # a command bit: reads back 0 once it has run
            self.store(MODE, mode)


class MAX17048Emulator(_MAX1704xEmulator):
    """A MAX17048 register file driven by a battery model.

    Behaviour, each from the MAX17048/49 datasheet [DS-48]:

    - POR values: CONFIG 0x971C, HIBRT 0x8030, VALRT 0x00FF, VRESET 0x96, STATUS RI set,
      VERSION 0x0012, ID 0x0C. VERSION and the ID byte (0x19) are factory values: writes to
      them are ignored ("Writes to these bits are ignored", ID in Register Summary).
    - STATUS alerts, evaluated at each conversion: VH while VCELL > VALRT.MAX, VL while
      VCELL < VALRT.MIN, HD when SOC crosses below 32 − CONFIG.ATHD %, SC on a 1 % SOC change
      while CONFIG.ALSC is set. Each sets CONFIG.ALRT (the ALRT pin). RI is set by a power-on
      reset and does not raise ALRT (POR CONFIG 0x971C has ALRT clear while STATUS has RI set).
      The host clears any bit by writing 0. Clearing ALRT does not clear STATUS bits and
      clearing every STATUS bit does not clear ALRT: the sheet documents neither side effect
      (max17048-smbus documents both; not emulated).
    - Sleep: CONFIG.SLEEP = 1 with MODE.EnSleep = 1 halts every operation; readings stop
      changing until SLEEP (or EnSleep) is cleared. SLEEP alone is ignored ("Sleep Mode").
    - Hibernate (MODE.HibStat): HIBRT 0xFFFF always, 0x0000 never; otherwise entered after
      |CRATE| < HibThr for 6 min and left when VCELL moves by more than ActThr from where it
      was on entry (UNCONFIRMED approximation: the chip compares against its OCV estimate,
      which this emulator has no model of). In hibernate the ADC converts every 45 s; with no
      ``clock`` the emulator cannot tell time, so it holds the last conversion until woken,
      and automatic entry (which needs the 6 minutes) never happens.
    - Battery removal and reinsertion (VRESET/ID, STATUS.EnVr / VR): VCELL below
      VRESET (bits 15:9, 40 mV/LSB, POR 3.0 V) is a removed battery; VCELL back at or above it
      resets the IC's fuel gauge ("the IC resets 1 ms after VCELL rises above the threshold"
      with the analog comparator, "250 ms after the VCELL register rises above" it without),
      counted in :attr:`voltage_resets`. "VR (voltage reset) is set after the device has been
      reset if EnVr is set", and EnVr "asserts the ALRT pin when a voltage-reset event occurs"
      [DS-48 VRESET/ID, STATUS]. The comparator watches every :meth:`update` (also between
      hibernate conversions); with Dis = 1 it is off in hibernate, so there only a conversion
      (the ADC threshold) sees the voltage. UNCONFIRMED: which registers such a reset restores
      (the sheet does not say; EnVr must survive it for VR to be set, so the emulator keeps
      the host's configuration and restarts only the SOC-change reference), and hysteresis
      (none emulated).
    - CMD 0x5400 resets every register to POR and NACKs the write; VCELL/SOC read 0 until the
      next :meth:`update` (Adafruit issue #16: ~192 ms on the real chip).
    - MODE 0x4000 quick-start (counted in :attr:`quick_starts`).

    CRATE is current / full capacity in %/h.

    Args:
        state: the battery model's first state (one conversion).
        clock: seconds, monotonic; needed for the hibernate timings.
    """

    # VERSION (0x08/0x09) and the ID byte (0x19) are absent: factory read-only values.
    writable: ClassVar[frozenset[int]] = (_word_bytes(0x06, 0x0A, 0x0C, 0x14, 0x1A, 0xFE)
                                          | {VRESET_ID.address})
    vcell_register: ClassVar[Register[float]] = VCELL
    vcell_scale: ClassVar[Scaled] = _VCELL_SCALE
    version: ClassVar[int] = VERSION_17048_EMULATED
    part: ClassVar[str] = "MAX17048"

    def __init__(self, state: BatteryState | None = None, *, clock: Clock | None = None) -> None:
        self._hib = False
        self._rate = 0.0
        self._low_rate_since: float | None = None
        self._hibernate_vcell: float | None = None
        self._sc_reference: float | None = None
        self._removed = False
        self.voltage_resets = 0
        super().__init__(state, clock=clock)

    def power_on_reset(self) -> None:
        """Put every register at its power-on value (VCELL and SOC 0)."""
        super().power_on_reset()
        self.store(VERSION, self.version)
        self.store_raw(HIBRT, HIBRT_POR)
        self.store_raw(VALRT, VALRT_POR)
        self.store_raw(VRESET_ID, VRESET_POR << 8 | ID_EMULATED)  # VRESET high byte, ID low
        self.store_raw(STATUS, STATUS_POR)
        self._hib = False
        self._rate = 0.0
        self._low_rate_since = None
        self._hibernate_vcell = None
        self._sc_reference = None
        self._removed = False

    @property
    def reset_voltage(self) -> float:
        """VRESET in V: the battery-removal threshold [DS-48 VRESET/ID]."""
        return (self.image[_VRESET_HIGH] >> 1) * VRESET_LSB_V

    @property
    def comparator_disabled(self) -> bool:
        """VRESET/ID.Dis: the analog comparator is off while hibernating."""
        return bool(self.image[_VRESET_HIGH] & _VRESET_DIS)

    @property
    def battery_removed(self) -> bool:
        """VCELL fell below VRESET and has not come back yet."""
        return self._removed

    def update(self, state: BatteryState) -> None:
        """The comparator first (removal / reinsertion), then a conversion when converting."""
        self._state = state
        if self.asleep:  # "halts all operations" [DS-48 Sleep Mode]
            return
        converting = self._converting()
        if converting or not (self.comparator_disabled and self.hibernating):
            self._watch_battery(state.voltage)
        if converting:
            self._convert(state)

    def _watch_battery(self, voltage: float) -> None:
        if voltage < self.reset_voltage:
            self._removed = True
        elif self._removed:
            self._removed = False
            self.voltage_resets += 1
            self._sc_reference = None  # the fuel gauge restarts: SOC is estimated afresh
            if self.image[_STATUS_HIGH] & _STATUS_ENVR:
                self.image[_STATUS_HIGH] |= _STATUS_VR
                self._raise_alert()

    @property
    def asleep(self) -> bool:
        """CONFIG.SLEEP counts only while MODE.EnSleep is set [DS-48 CONFIG, MODE]."""
        return bool(self.image[_CONFIG_LOW] & _CONFIG_SLEEP
                    and self.image[_MODE_HIGH] & _MODE_EN_SLEEP)

    @property
    def hibernating(self) -> bool:
        """MODE.HibStat: the chip is in hibernate."""
        return self._hib

    def _hibrt(self) -> int:
        return self.load_raw(HIBRT)

    def _set_hibernating(self, on: bool) -> None:
        if self._hib != on:
            self._hib = on
            self._hibernate_vcell = self.load(self.vcell_register) if on else None
        self._mirror_hib_stat()

    def _mirror_hib_stat(self) -> None:
        if self._hib:
            self.image[_MODE_HIGH] |= _MODE_HIB_STAT
        else:
            self.image[_MODE_HIGH] &= ~_MODE_HIB_STAT & 0xFF

    def _converting(self) -> bool:
        if self.asleep:
            return False
        self._settle_hibernate_mode()
        if not self.hibernating:
            return True
        if self.clock is None or self._last_conversion is None:
            return False
        return self.clock() - self._last_conversion >= HIBERNATE_CONVERSION_PERIOD_S

    def _settle_hibernate_mode(self) -> None:
        """Enter or leave hibernate from HIBRT, CRATE and VCELL [DS-48 HIBRT, Hibernate Mode]."""
        hibrt = self._hibrt()
        if hibrt in (HIBRT_ALWAYS, HIBRT_NEVER):
            self._set_hibernating(hibrt == HIBRT_ALWAYS)
            return
        hib_thr = self.image[HIBRT.address] * HIBRT_HIB_LSB_PCT_PER_H
        act_thr = self.image[HIBRT.address + 1] * HIBRT_ACT_LSB_V
        if self.hibernating:
            if self._state is not None and self._hibernate_vcell is not None and abs(
                    self._state.voltage - self._hibernate_vcell) > act_thr:
                self._set_hibernating(False)
                self._low_rate_since = None
            return
        if self.clock is None:
            return
        now = self.clock()
        if abs(self._rate) < hib_thr:
            if self._low_rate_since is None:
                self._low_rate_since = now
            elif now - self._low_rate_since > HIBERNATE_ENTRY_S:
                self._set_hibernating(True)
        else:
            self._low_rate_since = None

    def _convert(self, state: BatteryState) -> None:
        rate = (state.current * 1000.0 / state.full_capacity * 100.0
                if state.full_capacity > 0 else 0.0)  # A → mA; mA / mAh = 1/h; × 100 → %/h
        self._rate = _CRATE_SCALE.saturate(rate)
        self.store(CRATE, self._rate)
        super()._convert(state)

    def _alerts(self, voltage: float, soc: float) -> None:
        raised = 0
        valrt_min, valrt_max = self.image[VALRT.address], self.image[VALRT.address + 1]
        if voltage > valrt_max * VALRT_LSB_V:     # VALRT.MAX, low byte [DS-48 VALRT]
            raised |= _STATUS_VH
        if voltage < valrt_min * VALRT_LSB_V:     # VALRT.MIN, high byte
            raised |= _STATUS_VL
        if self._crossed_empty(soc):
            raised |= _STATUS_HD
        if self.image[_CONFIG_LOW] & _CONFIG_ALSC:
            if self._sc_reference is None:
                self._sc_reference = soc
            elif abs(soc - self._sc_reference) >= SOC_CHANGE_ALERT_PCT:
                raised |= _STATUS_SC
                self._sc_reference = soc
        else:
            self._sc_reference = None
        if raised:
            self.image[_STATUS_HIGH] |= raised
            self._raise_alert()

    def _mode_written(self) -> None:
        super()._mode_written()
        self._mirror_hib_stat()  # HibStat is the chip's, whatever the host wrote

    def on_write(self, command: int, data: bytes) -> None:
        """MODE, HIBRT and CMD as in the class docstring."""
        if command <= HIBRT.address + 1 and command + len(data) > HIBRT.address:
            self._low_rate_since = None
            self._settle_hibernate_mode()
        super().on_write(command, data)


class MAX17049Emulator(MAX17048Emulator):
    """MAX17049: as :class:`MAX17048Emulator` with the 156.25 µV VCELL LSB."""

    vcell_register: ClassVar[Register[float]] = VCELL_17049
    vcell_scale: ClassVar[Scaled] = _VCELL_SCALE_17049
    part: ClassVar[str] = "MAX17049"


class MAX17043Emulator(_MAX1704xEmulator):
    """A MAX17043 register file, each behaviour from the MAX17043/44 datasheet [DS-43]:

    VCELL 12-bit left-justified; VERSION 0x0003; CONFIG 0x971C at POR; MODE quick-start;
    CONFIG.SLEEP = 1 halts conversions until cleared ("Sleep Mode": no EnSleep on this part);
    CONFIG.ALRT set when SOC falls below 32 − ATHD % ("Alert Interrupt"), cleared by the host.
    CMD 0x5400 resets every register and is **not ACKed** ("the IC does not respond with an I2C
    ACK after this command sequence", COMMAND Register; quoted in SparkFun's
    ``qwiic_max1704x.reset``). 0x0054, the byte order the kernel sends to the MAX17040/41
    [K-max], resets it too (UNCONFIRMED for the MAX17043, whose sheet names only 0x5400).
    """

    writable: ClassVar[frozenset[int]] = _word_bytes(0x06, 0x0C, 0xFE)
    vcell_register: ClassVar[Register[float]] = VCELL_17043
    vcell_scale: ClassVar[Scaled] = _VCELL12_SCALE
    part: ClassVar[str] = "MAX17043"

    def power_on_reset(self) -> None:
        """Every register at its power-on value (VCELL and SOC 0)."""
        super().power_on_reset()
        self.store(VERSION, VERSION_17043)

    def reset_commands(self) -> frozenset[int]:
        """0x5400 [DS-43] and the kernel's 0x0054 [K-max]."""
        return frozenset({POR_COMMAND, POR_COMMAND_SWAPPED})


class MAX17044Emulator(MAX17043Emulator):
    """MAX17044: as :class:`MAX17043Emulator` with the 2.5 mV VCELL LSB."""

    vcell_register: ClassVar[Register[float]] = VCELL_17044
    vcell_scale: ClassVar[Scaled] = _VCELL12_SCALE_17044
    part: ClassVar[str] = "MAX17044"
