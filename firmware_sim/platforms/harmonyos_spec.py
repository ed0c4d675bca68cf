"""HarmonyOS's declarations — limits and verb-argument models — for :mod:`firmware_sim.platforms.harmonyos`
(interpreted beside the compiled policy; why: :data:`firmware_sim.compiled.COMPILED_MODULES`)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated, Any, Final

from pydantic import JsonValue, ValidationInfo, field_validator, model_validator

from firmware_sim.limits import Limits, limit
from firmware_sim.verbargs import (
    Flag,
    Int,
    NestedArgs,
    Text,
    VerbArgs,
    arg,
    arg_error,
    choice,
    custom,
    field_error,
    nested,
    rule,
)

SEED = "seed 004 (OpenHarmony Deferred Task guide)"


OH_SRC = "openharmony/resourceschedule_work_scheduler"


#: ``NetworkType`` (reference §3): lowercase name or number → canonical name.
NETWORK_TYPES: Final[dict[Any, str]] = {
    "any": "any", "mobile": "mobile", "wifi": "wifi", "bluetooth": "bluetooth",
    "wifi_p2p": "wifi_p2p", "ethernet": "ethernet",
    0: "any", 1: "mobile", 2: "wifi", 3: "bluetooth", 4: "wifi_p2p", 5: "ethernet",
}


#: ``ChargingType`` (reference §3).
CHARGER_TYPES: Final[dict[Any, str]] = {
    "plugged_any": "plugged_any", "ac": "ac", "usb": "usb", "wireless": "wireless",
    0: "plugged_any", 1: "ac", 2: "usb", 3: "wireless",
}


#: ``BatteryStatus`` (reference §3).
BATTERY_STATUSES: Final[dict[Any, str]] = {
    "low": "low", "okay": "okay", "low_or_okay": "low_or_okay",
    0: "low", 1: "okay", 2: "low_or_okay",
}


#: ``StorageRequest`` (reference §3).
STORAGE_REQUESTS: Final[dict[Any, str]] = {
    "low": "low", "okay": "okay", "low_or_okay": "low_or_okay",
    "level_low": "low", "level_okay": "okay", "level_low_or_okay": "low_or_okay",
    0: "low", 1: "okay", 2: "low_or_okay",
}


#: Activity groups (seed 004 Table 1). Aliases: usage-statistics ``GroupType`` names and
#: numbers (ALIVE 10, DAILY 20, FIXED 30, RARE 40, LIMITED 50, NEVER 60).
GROUPS: Final[dict[Any, str]] = {
    "active": "active", "alive": "active", 10: "active",
    "frequently_used": "frequently_used", "daily": "frequently_used", 20: "frequently_used",
    "neither": "neither", "fixed": "neither", 30: "neither",
    "rarely_used": "rarely_used", "rare": "rarely_used", 40: "rarely_used",
    "restricted": "restricted", "limited": "restricted", 50: "restricted",
    "never_used": "never_used", "never": "never_used", 60: "never_used",
    "exempt": "exempt",
}


FORBIDDEN_GROUPS: Final = frozenset({"restricted", "never_used"})


@dataclass(frozen=True)
class HarmonyOSLimits(Limits):
    """workScheduler limits."""

    max_works_per_app: int = limit(
        10, "works",
        f"{SEED}, Constraints: 'An application can request a maximum of 10 deferred tasks'; "
        f"{OH_SRC} MAX_WORK_COUNT_PER_UID = 10",
        "works one app may hold (the 11th startWork fails with 9700005)")
    min_repeat_cycle_ms: int = limit(
        1_200_000, "ms",
        f"{SEED}, WorkInfo rules: 'repeatCycleTime must be at least 20 minutes'; "
        f"{OH_SRC} minTimeCycle_ = 20 * 60 * 1000",
        "shortest repeat_cycle_time startWork accepts")
    callback_s: float = limit(
        120.0, "s",
        f"{SEED}, Timeout: 'can run for a maximum of 2 minutes for a single callback'",
        "time onWorkStart may run before onWorkStop (timeout)")
    privileged_charging_s: float = limit(
        1200.0, "s",
        f"{SEED}, Timeout: WORK_SCHEDULER resource '20 minutes in the charging state'",
        "callback limit of a privileged app while a charger is attached")
    privileged_battery_s: float = limit(
        600.0, "s",
        f"{SEED}, Timeout: WORK_SCHEDULER resource '10 minutes in the non-charging state'",
        "callback limit of a privileged app on battery")
    deep_idle_charging_s: float = limit(
        1200.0, "s",
        f"{OH_SRC} work_policy_manager.cpp UpdateWatchdogTime: deep idle + charger condition "
        "→ LONG_WATCHDOG_TIME (20 * 60 * 1000)",
        "callback limit of a work that requires deep idle and a charger (with "
        "deep_idle_charging_any_app)")
    deep_idle_charging_any_app: bool = limit(
        False, "",
        f"{SEED}, Timeout: 'a maximum of 2 minutes for a single callback' and 'Privileged system "
        "applications can request the WORK_SCHEDULER resource to extend the duration' (the seed, "
        f"the default); true: {OH_SRC} UpdateWatchdogTime gives every deep idle + charger work "
        "LONG_WATCHDOG_TIME",
        "give deep_idle_charging_s to every app's deep idle + charger work (OpenHarmony sources) "
        "instead of only to privileged apps (seed 004)")
    thermal_delay_c: float = limit(
        45.0, "°C",
        f"UNCONFIRMED: {SEED}, Scheduling delay: 'when the system memory resources are "
        "insufficient or the temperature reaches a certain level, the system delays task "
        "scheduling' names no level; 45 °C is wakebench's choice (the upper end of common "
        "Li-ion charge-temperature ranges)",
        "no work starts while the temperature signal is at or above this (running works go on)")
    interval_active_s: float = limit(
        7200.0, "s", f"{SEED}, Table 1: active applications, minimum interval of 2 hours",
        "minimum time between starts for an app in the active group")
    interval_frequently_used_s: float = limit(
        14400.0, "s", f"{SEED}, Table 1: frequently used applications, 4 hours",
        "minimum time between starts for the frequently-used group")
    interval_neither_s: float = limit(
        86400.0, "s", f"{SEED}, Table 1: used neither frequently nor rarely, 24 hours",
        "minimum time between starts for the neither-frequent-nor-rare group")
    interval_rarely_used_s: float = limit(
        172800.0, "s", f"{SEED}, Table 1: rarely used applications, 48 hours",
        "minimum time between starts for the rarely-used group")
    battery_low_level: float = limit(
        20.0, "%",
        "openharmony/powermgr_battery_manager services/native/src/battery_notify.cpp: "
        "COMMON_EVENT_BATTERY_LOW when capacity <= soc.low, DEFAULT_LOW_CAPACITY = 20 "
        "(a product's battery_config.json may override it)",
        "battery_status LOW at or below this level, OKAY above it")
    revoke_on_condition_loss: bool = limit(
        True, "",
        "UNCONFIRMED: DESIGN.md section 3 (onWorkStop = revoke); the OpenHarmony sources stop "
        "running works only when the screen unlocks (screen_listener.cpp, deep idle lost)",
        "revoke a running work when any of its conditions is lost (false: only deep idle)")

    def interval_s(self, group: str) -> float | None:
        """Minimum interval of ``group`` in seconds; 0 when exempt, None when forbidden."""
        if group in FORBIDDEN_GROUPS:
            return None
        return {
            "active": self.interval_active_s,
            "frequently_used": self.interval_frequently_used_s,
            "neither": self.interval_neither_s,
            "rarely_used": self.interval_rarely_used_s,
        }.get(group, 0.0)


def _not_empty(value: str) -> str | None:
    return None if value else "must not be empty"


def _percent(level: int) -> str | None:
    return None if level <= 100 else f"must be from 0 to 100, not {level}"


def _parameters(raw: Any) -> Any:
    if not isinstance(raw, dict):
        raise arg_error("must be an object of string, number or boolean values")
    for key, value in raw.items():
        ok = isinstance(value, str | bool) or (isinstance(value, int | float) and math.isfinite(value))
        if not isinstance(key, str) or not ok:
            raise arg_error(f"value of {key!r} must be a string, number or boolean, not {value!r}")
    return dict(raw)


NonEmpty = Annotated[Text, rule(_not_empty)]


Parameters = Annotated[dict[str, str | int | float | bool], custom(_parameters, {
    "type": "object", "additionalProperties": {"type": ["string", "number", "boolean"]}})]


class RegisterArgs(VerbArgs):
    """HarmonyOS settings of ``register`` (a re-register keeps what it does not name)."""

    group: Annotated[str, choice(GROUPS)] | None = arg(
        None, doc="the app's activity group (seed 004 Table 1), by name, GroupType name or number "
        "(default active)", api="GroupType")
    privileged: Flag | None = arg(None, doc="the app holds WORK_SCHEDULER privileges (default false)")
    bundle_name: NonEmpty | None = arg(None, doc="the app's bundle; works must name it (default: "
                                       "the first work's)", api="bundleName")


class StartWorkArgs(VerbArgs):
    """``workScheduler.startWork(work: WorkInfo)``: at least one condition; repeat rules as
    OpenHarmony checks them (seed 004)."""

    work_id: Int = arg(doc="the work's id", ge=0, api="workId")
    bundle_name: NonEmpty = arg(doc="the app's bundle", api="bundleName")
    ability_name: NonEmpty = arg(doc="the WorkSchedulerExtensionAbility to call", api="abilityName")
    network_type: Annotated[str, choice(NETWORK_TYPES)] | None = arg(
        None, doc="network the work needs, by name or NetworkType number", api="networkType")
    is_charging: Flag | None = arg(None, doc="run only while charging", api="isCharging")
    charger_type: Annotated[str, choice(CHARGER_TYPES)] | None = arg(
        None, doc="which charger (needs is_charging: true; default plugged_any)", api="chargerType")
    battery_level: Annotated[Int, rule(_percent)] | None = arg(
        None, doc="run when the battery reaches this level", unit="%", ge=0, le=100,
        api="batteryLevel")
    battery_status: Annotated[str, choice(BATTERY_STATUSES)] | None = arg(
        None, doc="run in this battery state", api="batteryStatus")
    storage_request: Annotated[str, choice(STORAGE_REQUESTS)] | None = arg(
        None, doc="run in this storage state", api="storageRequest")
    is_repeat: Flag | None = arg(None, doc="repeat every repeat_cycle_time", api="isRepeat")
    repeat_cycle_time: Int | None = arg(None, doc="repeat period (at least 20 minutes)", unit="ms",
                                        ge=0, api="repeatCycleTime")
    repeat_count: Int | None = arg(None, doc="number of runs", ge=0, api="repeatCount")
    is_persisted: Flag = arg(False, doc="kept across a restart", api="isPersisted")
    is_deep_idle: Flag | None = arg(None, doc="run only in deep idle", api="isDeepIdle")
    idle_wait_time: Int | None = arg(None, doc="idle time before the run (needs is_deep_idle: true)",
                                     unit="ms", ge=0, api="idleWaitTime")
    parameters: Parameters | None = arg(None, doc="handed to the callback (string, number or "
                                        "boolean values)", api="parameters")

    @model_validator(mode="after")
    def _workinfo_rules(self) -> StartWorkArgs:
        """What OpenHarmony would silently ignore or seed 004 forbids (error 401)."""
        charging, cycle, count, is_repeat = (self.is_charging, self.repeat_cycle_time,
                                             self.repeat_count, self.is_repeat)
        if self.charger_type is not None and charging is not True:
            raise field_error("charger_type", "needs is_charging: true (OpenHarmony ignores it otherwise)")
        if is_repeat and cycle is None and count is None:
            raise field_error("repeat_cycle_time",
                              "or repeat_count is required with is_repeat (seed 004: 'When isRepeat "
                              "is set, you must set repeatCycleTime or repeatCount')")
        if cycle is None and count is not None and not is_repeat:
            raise field_error("repeat_count", "needs is_repeat: true or a repeat_cycle_time "
                              "(OpenHarmony ignores it otherwise)")
        if cycle is None and count == 0:
            raise field_error("repeat_count", "must be at least 1 without a repeat_cycle_time")
        if cycle is not None and not is_repeat and count is None:
            raise field_error("repeat_cycle_time",
                              "needs is_repeat: true or a repeat_count (OpenHarmony ignores it otherwise)")
        if self.idle_wait_time is not None and self.is_deep_idle is not True:
            raise field_error("idle_wait_time", "needs is_deep_idle: true")
        if all(v is None for v in (self.network_type, charging, self.battery_level, self.battery_status,
                                   self.storage_request, cycle, self.is_deep_idle)):
            raise field_error(
                "work_info", "The workinfo condition cannot be empty: set at least one of "
                "network_type, is_charging, battery_level, battery_status, storage_request, "
                "repeat_cycle_time (with is_repeat or repeat_count), is_deep_idle", raw=True)
        return self


class WorkRefArgs(NestedArgs):
    """The WorkInfo ``stop_work`` receives: only ``work_id`` and ``bundle_name`` are read; the
    other WorkInfo fields are accepted and not checked."""

    work_id: Int = arg(doc="the work's id", ge=0, api="workId")
    bundle_name: Text | None = arg(None, doc="checked against the app's bundle when given",
                                   api="bundleName")
    ability_name: JsonValue = arg(None, doc="not read", api="abilityName")
    network_type: JsonValue = arg(None, doc="not read", api="networkType")
    is_charging: JsonValue = arg(None, doc="not read", api="isCharging")
    charger_type: JsonValue = arg(None, doc="not read", api="chargerType")
    battery_level: JsonValue = arg(None, doc="not read", api="batteryLevel")
    battery_status: JsonValue = arg(None, doc="not read", api="batteryStatus")
    storage_request: JsonValue = arg(None, doc="not read", api="storageRequest")
    is_repeat: JsonValue = arg(None, doc="not read", api="isRepeat")
    repeat_cycle_time: JsonValue = arg(None, doc="not read", api="repeatCycleTime")
    repeat_count: JsonValue = arg(None, doc="not read", api="repeatCount")
    is_persisted: JsonValue = arg(None, doc="not read", api="isPersisted")
    is_deep_idle: JsonValue = arg(None, doc="not read", api="isDeepIdle")
    idle_wait_time: JsonValue = arg(None, doc="not read", api="idleWaitTime")
    parameters: JsonValue = arg(None, doc="not read", api="parameters")


class StopWorkArgs(VerbArgs):
    """``workScheduler.stopWork(work, needCancel?)``: end a running callback; ``need_cancel``
    removes the work. Give the WorkInfo as ``work``, or its ``work_id`` (and ``bundle_name``)."""

    need_cancel: Flag = arg(False, doc="also remove the work", api="needCancel")
    work: Annotated[WorkRefArgs, nested(WorkRefArgs)] | None = arg(None, doc="the WorkInfo",
                                                                   api="work")
    work_id: Int | None = arg(None, doc="the work's id (required without work)", ge=0, api="workId",
                              validate_default=True)
    bundle_name: Text | None = arg(None, doc="checked against the app's bundle when given "
                                   "(without work)", api="bundleName")

    @field_validator("work_id")
    @classmethod
    def _work_or_id(cls, value: int | None, info: ValidationInfo) -> int | None:
        if value is None and info.data.get("work") is None:
            raise arg_error("is required")
        return value


class WorkIdArgs(VerbArgs):
    """``workScheduler.getWorkStatus(workId)`` / ``isLastWorkTimeOut(workId)``."""

    work_id: Int = arg(doc="the work's id", ge=0, api="workId")


class AppWorksArgs(VerbArgs):
    """``workScheduler.obtainAllWorks()`` / ``stopAndClearWorks()``: every work of the app."""
