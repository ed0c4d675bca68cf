"""WP8's declarations — limits and verb-argument models — for :mod:`firmware_sim.platforms.wp8`
(interpreted beside the compiled policy; why: :data:`firmware_sim.compiled.COMPILED_MODULES`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Final, Literal

from pydantic import model_validator

from firmware_sim.limits import Limits, limit
from firmware_sim.verbargs import (
    Duration,
    Flag,
    Id,
    Int,
    Number,
    Text,
    VerbArgs,
    arg,
    arg_error,
    choice,
    custom,
    field_error,
)

SEED: Final = "seed 003 (Windows Phone 8 scheduled tasks, zh-Hant)"


MIB: Final = 1024 * 1024


TaskType = Literal["periodic", "resource_intensive"]


_TYPES: Final[dict[str, TaskType]] = {
    "periodic": "periodic",
    "periodictask": "periodic",
    "periodic_task": "periodic",
    "resource_intensive": "resource_intensive",
    "resourceintensive": "resource_intensive",
    "resourceintensivetask": "resource_intensive",
    "resource_intensive_task": "resource_intensive",
}


@dataclass(frozen=True)
class WP8Limits(Limits):
    """Windows Phone 8 scheduled-task limits (seed 003)."""

    periodic_interval_s: float = limit(
        1800.0, "s", f"{SEED}, 調度間隔：30分鐘: 周期性代理一般每30分鐘運行一次",
        "nominal interval between periodic agent runs")
    periodic_drift_s: float = limit(
        600.0, "s", f"{SEED}, 調度間隔：30分鐘: 其執行時間可能會有10分種的波動",
        "each interval is the nominal one ± a seeded drift up to this (whole seconds)")
    periodic_run_s: float = limit(
        25.0, "s", f"{SEED}, 調度持續：25秒: 周其性代理通常運行25秒",
        "time a periodic agent run may take before it expires")
    max_periodic_per_device: int = limit(
        6, "actions", f"{SEED}, 各裝置的周期性代理限制: 這跟據每個裝置的配置而不同，它最低可以到6",
        "periodic actions per device across all apps (the documented lowest device cap)")
    resource_intensive_run_s: float = limit(
        600.0, "s", f"{SEED}, 持續：10分鐘: 資源密集型代理一般只運行10分鐘",
        "time a resource-intensive agent run may take before it expires")
    resource_intensive_min_battery_pct: float = limit(
        90.0, "%", f"{SEED}, 最小電量: 資源密集型代理只有在裝置的電量大於90%時才運行",
        "a resource-intensive agent runs only while battery_level is strictly above this")
    resource_intensive_interval_s: float = limit(
        1800.0, "s",
        "UNCONFIRMED: seed 003 gives no re-run interval for ResourceIntensiveTask; wakebench "
        "re-arms it one periodic interval (調度間隔：30分鐘) after a run that was not revoked",
        "time after a resource-intensive run ends before the task is eligible again")
    max_expiration_s: float = limit(
        14 * 86400.0, "s",
        f"{SEED}, 每兩周需重新調度一次: 當action 是被Add(ScheduledAction)方法所調度時，"
        "此值必須被設定為小於兩周的時間",
        "ExpirationTime must be strictly less than this after Add; also the default")
    memory_limit_bytes: int = limit(
        6 * MIB, "bytes",
        f"{SEED}, 記憶體使用量限制: 周期性代理和資源密集型代理不論任何時刻都不能使用超過6 MB記憶體 "
        "(MB read as 1,048,576 bytes: UNCONFIRMED)",
        "memory an agent may use; above it the agent is terminated at once")
    audio_memory_limit_bytes: int = limit(
        15 * MIB, "bytes", f"{SEED}, 記憶體使用量限制: 音頻代理限制到15 MB",
        "memory cap of an action added with audio: true")
    max_consecutive_crashes: int = limit(
        2, "crashes",
        f"{SEED}, 連續兩次崩潰後代理停止調度: 因為超出記憶體配額或且它任何未處理的異常連續兩次退出後停止調度",
        "consecutive crashes (memory cap or unhandled exception) that unschedule an action")
    periodic_warning_count: int = limit(
        5, "actions",
        f"UNCONFIRMED: {SEED}, 各裝置的周期性代理限制: '還有一個限制低於硬規定數，在超過這個限制"
        "之後使用者被警告有多個後台代理運行從而使電量被快速消耗' names no number; wakebench: one "
        "below the lowest hard cap (6)",
        "periodic actions per device above which the user is warned about battery drain")
    terminate_grace_s: float = limit(
        0.0, "s",
        f"{SEED}: 資源密集型代理將立即終止; platform-budgets.md section 5: OnCancel "
        "'is not called for ScheduledTaskAgent', so no grace (wakebench default 0)",
        "time between expire/revoke and terminate when the agent has not finished")


#: ``NetworkInterfaceType`` values a bench app may name (snake_case).
_INTERFACE_TYPES: Final = {name: name for name in (
    "ethernet", "wireless80211", "mobile_broadband_gsm", "mobile_broadband_cdma", "bluetooth")}


def _expiration_arg(raw: Any) -> Any:
    if isinstance(raw, str) or (isinstance(raw, int | float) and not isinstance(raw, bool)):
        return raw  # finite: the central range check ran before; text is read by _expiration
    raise arg_error(f"must be rig seconds (a number) or a duration such as \"7d\", not {raw!r}")


class RegisterArgs(VerbArgs):
    """WP8 settings of ``register``: what makes ``update_tile`` extend the agent's lifetime."""

    tile_pinned: Flag | None = arg(None, doc="the app's Tile is on Start (default false; a "
                                   "re-register without it keeps the previous value)")
    lock_screen: Flag | None = arg(None, doc="the user shows the app on the lock screen (default "
                                   "false; kept like tile_pinned)")


class AddArgs(VerbArgs):
    """``ScheduledActionService.Add``: schedule (or reschedule) a PeriodicTask or
    ResourceIntensiveTask, from the foreground app."""

    name: Id = arg(doc="the action's name", api="ScheduledAction.Name")
    type: Annotated[str, choice(_TYPES)] = arg(doc="periodic or resource_intensive",
                                               api="PeriodicTask / ResourceIntensiveTask")
    expiration_time: Annotated[float | str, custom(_expiration_arg, {"anyOf": [
        {"type": "number"}, {"type": "string"}]})] | None = arg(
        None, doc="absolute rig time (number) or a duration from now (text such as \"7d\"); at "
        "most 14 days ahead (default 14 days)", unit="s", api="ExpirationTime")
    description: Text | None = arg(None, doc="shown to the user in the phone's settings",
                                   api="Description")
    audio: Flag = arg(False, doc="an audio agent (its own memory limit)", api="AudioPlayerAgent")


class UpdateTileArgs(VerbArgs):
    """``ShellTile.Update(ShellTileData)``: with the Tile pinned (or the app on the lock screen),
    every scheduled action of the app lives two weeks from now (seed 003)."""


class AssociateToNetworkInterfaceArgs(VerbArgs):
    """``SocketExtensions.AssociateToNetworkInterface`` from the running agent (fails for mobile
    broadband in a resource-intensive agent, seed 003)."""

    interface_type: Annotated[str, choice(_INTERFACE_TYPES)] = arg(
        doc="the NetworkInterfaceType", api="NetworkInterfaceInfo.InterfaceType")


class RemoveArgs(VerbArgs):
    """``ScheduledActionService.Remove``: drop an action (a running agent finishes)."""

    name: Id = arg(doc="the action's name", api="name")


class LaunchForTestArgs(VerbArgs):
    """``ScheduledActionService.LaunchForTest(name, delay)``: run the agent after ``delay``."""

    name: Id = arg(doc="the action's name", api="name")
    delay: Duration = arg(doc="seconds from now, or text such as \"30s\"", unit="s",
                          api="delay (TimeSpan)")


class RunArgs(VerbArgs):
    """The running agent's ``NotifyComplete()`` / ``Abort()``."""

    name: Id | None = arg(None, doc="the running action's name (checked when given)")


class ReportMemoryArgs(VerbArgs):
    """The running agent's memory use: exactly one of ``bytes`` and ``mb``."""

    bytes: Int | None = arg(None, doc="memory in use", unit="bytes", ge=0,
                            api="DeviceStatus.ApplicationCurrentMemoryUsage")
    mb: Number | None = arg(None, doc="memory in use (1 MB = 1,048,576 bytes)", unit="MiB", ge=0)

    @model_validator(mode="before")
    @classmethod
    def _exactly_one(cls, data: Any) -> Any:
        if isinstance(data, dict) and (data.get("bytes") is None) == (data.get("mb") is None):
            raise field_error("bytes", "or 'mb' is required (exactly one of them)")
        return data
