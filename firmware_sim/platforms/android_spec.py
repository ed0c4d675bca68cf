"""Android's declarations — limits and verb-argument models — for :mod:`firmware_sim.platforms.android`
(interpreted beside the compiled policy; why: :data:`firmware_sim.compiled.COMPILED_MODULES`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Final

from pydantic import model_validator

from firmware_sim.limits import Limits, limit
from firmware_sim.verbargs import (
    Flag,
    Id,
    NestedArgs,
    Number,
    VerbArgs,
    arg,
    choice,
    field_error,
    nested,
)

DOCS = "developer.android.com/reference/androidx/work"


POWER_DETAILS = "developer.android.com/topic/performance/power/power-details (reference §2)"


NETWORK_TYPES: Final = ("not_required", "connected", "unmetered", "not_roaming", "metered",
                        "temporarily_unmetered")


WORK_TYPES: Final = ("one_time", "periodic")


RESULTS: Final = ("success", "retry", "failure")


BACKOFF_POLICIES: Final = ("exponential", "linear")


#: Standby buckets by name or by their ``UsageStatsManager`` number (reference §2; 45 for
#: RESTRICTED is UNCONFIRMED there).
BUCKETS: Final[dict[Any, str]] = {
    "exempted": "exempted", "active": "active", "working_set": "working_set",
    "frequent": "frequent", "rare": "rare", "restricted": "restricted",
    5: "exempted", 10: "active", 20: "working_set", 30: "frequent", 40: "rare", 45: "restricted",
}


@dataclass(frozen=True)
class AndroidLimits(Limits):
    """WorkManager / JobScheduler limits."""

    execution_s: float = limit(
        600.0, "s",
        f"{DOCS}/Worker: 'A Worker is given a maximum of ten minutes to finish its execution'",
        "time a running worker gets before it is stopped (expire, reason timeout)")
    min_periodic_interval_s: float = limit(
        900.0, "s",
        f"{DOCS}/PeriodicWorkRequest: 'Periodic work has a minimum interval of 15 minutes'",
        "shorter repeat intervals are clamped to this (with WorkManager's warning)")
    min_periodic_flex_s: float = limit(
        300.0, "s",
        "secondary (reference §2, gist akueisara): MIN_PERIODIC_FLEX_MILLIS = 5 min; androidx "
        "WorkSpec.setPeriodic 'Flex duration lesser than minimum allowed value; Changed to 300000'",
        "shorter flex intervals are clamped to this")
    backoff_delay_s: float = limit(
        30.0, "s", f"{DOCS}/WorkRequest: DEFAULT_BACKOFF_DELAY_MILLIS = 30000",
        "default initial backoff of a retried worker (BackoffPolicy.EXPONENTIAL by default)")
    min_backoff_s: float = limit(
        10.0, "s",
        "androidx WorkSpec.setBackoffDelayDuration clamps to MIN_BACKOFF_MILLIS = 10000",
        "shortest backoff delay")
    max_backoff_s: float = limit(
        18000.0, "s",
        f"{DOCS}/WorkRequest MAX_BACKOFF_MILLIS (5 hours; android.app.job.JobInfo "
        "MAX_BACKOFF_DELAY_MILLIS = 18000000)",
        "longest backoff delay")
    battery_low_level: float = limit(
        15.0, "%",
        "UNCONFIRMED: AOSP frameworks/base core/res/res/values/config.xml "
        "config_lowBatteryWarningLevel = 15 (20 in some newer releases); BatteryService sets "
        "BATTERY_LOW at level <= this, unplugged",
        "battery-not-low fails at or below this level while on battery")
    battery_okay_bump: float = limit(
        5.0, "%",
        "UNCONFIRMED: AOSP config_lowBatteryCloseWarningBump = 5; BatteryService clears "
        "BATTERY_LOW at level >= warning + bump, or when plugged in",
        "battery-not-low holds again at battery_low_level + this (hysteresis)")
    bucket_execution_s: float = limit(
        600.0, "s", f"{POWER_DETAILS}: working set / frequent / rare 'Jobs: 10 min every ...'",
        "execution time per quota window for working_set, frequent and rare apps on battery")
    working_set_window_s: float = limit(
        7200.0, "s", f"{POWER_DETAILS}: Working set, Jobs '10 min every 2 h'",
        "quota window of the working_set bucket")
    frequent_window_s: float = limit(
        28800.0, "s", f"{POWER_DETAILS}: Frequent, Jobs '10 min every 8 h'",
        "quota window of the frequent bucket")
    rare_window_s: float = limit(
        86400.0, "s", f"{POWER_DETAILS}: Rare, Jobs '10 min every 24 h'",
        "quota window of the rare bucket")
    restricted_window_s: float = limit(
        86400.0, "s", f"{POWER_DETAILS}: Restricted, Jobs 'once per day'",
        "window in which a restricted app may run one job (charging or not)")

    def window_s(self, bucket: str) -> float:
        """Quota window of a limited bucket."""
        return {
            "working_set": self.working_set_window_s,
            "frequent": self.frequent_window_s,
            "rare": self.rare_window_s,
        }.get(bucket, self.restricted_window_s)


class RegisterArgs(VerbArgs):
    """Android settings of ``register``."""

    bucket: Annotated[str, choice(BUCKETS)] | None = arg(
        None, doc="the app's standby bucket, by name or UsageStatsManager number (default active; "
        "a re-register without it keeps the previous one)", api="UsageStatsManager.STANDBY_BUCKET_*")


class ConstraintsArgs(NestedArgs):
    """``Constraints.Builder``: conditions that must hold for the work to run."""

    required_network_type: Annotated[str, choice(NETWORK_TYPES)] = arg(
        "not_required", doc="network the work needs", api="setRequiredNetworkType")
    requires_charging: Flag = arg(False, doc="run only while charging", api="setRequiresCharging")
    requires_battery_not_low: Flag = arg(False, doc="run only while the battery is not low",
                                         api="setRequiresBatteryNotLow")
    requires_storage_not_low: Flag = arg(False, doc="run only while storage is not low",
                                         api="setRequiresStorageNotLow")
    requires_device_idle: Flag = arg(False, doc="run only while the device is idle",
                                     api="setRequiresDeviceIdle")


class EnqueueArgs(VerbArgs):
    """``WorkManager.enqueue``: a ``OneTimeWorkRequest`` or ``PeriodicWorkRequest``. Each duration
    is given in seconds (``name``) or milliseconds (``name_ms``), not both; intervals below the
    minimum are raised to it with a warning, as WorkManager does."""

    type: Annotated[str, choice(WORK_TYPES)] = arg(
        "one_time", doc="one-time or periodic work", api="OneTimeWorkRequest / PeriodicWorkRequest")
    id: Id | None = arg(None, doc="the work's id (default work-N)", api="WorkRequest.getId")
    repeat_interval: Number | None = arg(None, doc="period of periodic work (required for it)",
                                         unit="s", ge=0, api="repeatInterval")
    repeat_interval_ms: Number | None = arg(None, doc="repeat_interval in milliseconds", unit="ms",
                                            ge=0, api="repeatIntervalMillis")
    flex_interval: Number | None = arg(None, doc="flex window at the end of each period (periodic "
                                       "work)", unit="s", ge=0, api="flexInterval")
    flex_interval_ms: Number | None = arg(None, doc="flex_interval in milliseconds", unit="ms", ge=0,
                                          api="flexIntervalMillis")
    initial_delay: Number | None = arg(None, doc="delay before the first run (default 0)", unit="s",
                                       ge=0, api="setInitialDelay")
    initial_delay_ms: Number | None = arg(None, doc="initial_delay in milliseconds", unit="ms", ge=0,
                                          api="setInitialDelay")
    backoff_policy: Annotated[str, choice(BACKOFF_POLICIES)] = arg(
        "exponential", doc="how the delay grows after each retry", api="setBackoffCriteria")
    backoff_delay: Number | None = arg(None, doc="first retry delay (default 30 s, clamped to "
                                       "10 s .. 5 h)", unit="s", ge=0, api="setBackoffCriteria")
    backoff_delay_ms: Number | None = arg(None, doc="backoff_delay in milliseconds", unit="ms", ge=0,
                                          api="setBackoffCriteria")
    constraints: Annotated[ConstraintsArgs, nested(ConstraintsArgs)] | None = arg(
        None, doc="conditions for running (default none)", api="setConstraints")

    @model_validator(mode="after")
    def _seconds_or_millis(self) -> EnqueueArgs:
        for name in ("repeat_interval", "flex_interval", "initial_delay", "backoff_delay"):
            if getattr(self, name) is not None and getattr(self, f"{name}_ms") is not None:
                raise field_error(name, f"give either {name} (s) or {name}_ms, not both")
        return self


class CancelArgs(VerbArgs):
    """``WorkManager.cancelWorkById``: drop the work; a running worker is stopped without an event."""

    id: Id = arg(doc="the work to cancel", api="cancelWorkById(id)")


class FinishArgs(VerbArgs):
    """The running worker returns ``Result.success()`` / ``retry()`` / ``failure()``."""

    id: Id = arg(doc="the running work")
    result: Annotated[str, choice(RESULTS)] = arg(doc="the worker's result", api="ListenableWorker.Result")


_NO_CONSTRAINTS: Final = ConstraintsArgs()
