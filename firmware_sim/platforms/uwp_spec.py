"""UWP's declarations — limits and verb-argument models — for :mod:`firmware_sim.platforms.uwp`
(interpreted beside the compiled policy; why: :data:`firmware_sim.compiled.COMPILED_MODULES`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Final

from firmware_sim.limits import Limits, limit
from firmware_sim.verbargs import Id, Text, VerbArgs, arg, choice

SEED: Final = "seed 002 (UWP extended execution)"


#: ExtendedExecutionReason, by lowercase name, snake_case name or number.
REASONS: Final[dict[Any, str]] = {
    "unspecified": "unspecified", 0: "unspecified",
    "location_tracking": "location_tracking", "locationtracking": "location_tracking",
    1: "location_tracking",
    "saving_data": "saving_data", "savingdata": "saving_data", 2: "saving_data",
}


#: BackgroundAccessStatus (winrt-api backgroundaccessstatus.md), snake_case name → number.
ACCESS_STATUS: Final[dict[str, int]] = {
    "unspecified": 0,
    "allowed_with_always_on_real_time_connectivity": 1,
    "allowed_may_use_active_real_time_connectivity": 2,
    "denied": 3,
    "always_allowed": 4,
    "allowed_subject_to_system_policy": 5,
    "denied_by_system_policy": 6,
    "denied_by_user": 7,
}


_ACCESS_CHOICES: Final[dict[Any, str]] = {
    **{name: name for name in ACCESS_STATUS},
    **{name.replace("_", ""): name for name in ACCESS_STATUS},
    **{number: name for name, number in ACCESS_STATUS.items()},
    "allowed": "allowed_subject_to_system_policy",  # Windows' default, "Managed by Windows"
}


#: ``saving_data_relaunch`` choices: wait for the session (seed 002:44) or revoke it ``resumed``.
RELAUNCH_CHOICES: Final = ("wait", "revoke")


DEVICE_FAMILIES: Final = ("desktop", "mobile", "xbox")


@dataclass(frozen=True)
class UWPLimits(Limits):
    """ExtendedExecutionSession limits."""

    unspecified_battery_s: float = limit(
        600.0, "s",
        f"{SEED}: 'If the device is on battery power, the extended execution time period can run "
        "up to ten minutes in the background'; on wall power 'there is no limit'",
        "background time of an Unspecified session on battery")
    saving_data_s: float = limit(
        600.0, "s",
        "platform-budgets.md §4 (learn.microsoft.com .../extendedexecutionreason): "
        "'SavingData 2 (≤10 min)'", "longest SavingData session")
    saving_data_revoke_grace_s: float = limit(
        1.0, "s",
        f"{SEED}: 'When the Revoked event is fired for an ExtendedExecutionReason.SavingData "
        "extended execution session, the app has one second to complete the operation'",
        "time after a SavingData revoke before the app is terminated unless it disposed")
    device_family: str = limit(
        "desktop", "desktop | mobile | xbox",
        f"{SEED}: mobile 'When the screen turns off, the device immediately attempts to enter the "
        "low-power Connected-Standby mode'; desktop 'the session will continue running if the "
        "lock screen appears ... does not enter Connected Standby for a period of time after the "
        "screen turns off'; xbox 'On the Xbox OS Edition, the device enters Connect Standby after "
        "one hour unless the user changes the default'",
        "how Connected Standby follows the signals (mobile: screen_locked; desktop: "
        "screen_locked and idle; xbox: idle held for xbox_standby_s)",
        choices=DEVICE_FAMILIES)
    energy_quota_s: float = limit(
        0.0, "s (0 = off)",
        f"UNCONFIRMED: {SEED}: 'Revocation can occur for many reasons: ... a background energy "
        "quota was reached' and 'the energy used by the app while it is waiting for the session "
        "to close will be counted against the app's energy quota' — no number is given, so it is "
        "off by default",
        "background session time on battery an app may use per energy_quota_window_s "
        "(0: no quota)")
    energy_quota_window_s: float = limit(
        86400.0, "s",
        "UNCONFIRMED: wakebench's choice (the seed names no period for the energy quota)",
        "period after which an app's energy quota is full again")
    xbox_standby_s: float = limit(
        3600.0, "s",
        f"{SEED}: 'On the Xbox OS Edition, the device enters Connect Standby after one hour "
        "unless the user changes the default'",
        "xbox: how long the console is idle (the ``idle`` signal) before Connected Standby")
    suspending_s: float = limit(
        5.0, "s",
        f"{SEED}: 'When the user minimizes or switches away from an app it is put into a "
        "suspended state' (no time given); the time: "
        "https://learn.microsoft.com/uwp/api/windows.ui.xaml.application.suspending (winrt-api "
        "application_suspending.md) 'the Suspending event handler has only 5 seconds to "
        "complete its operation'",
        "time from leaving the foreground (without a session in effect) to suspended")
    saving_data_relaunch: str = limit(
        "wait", "wait | revoke",
        f"{SEED}: 'the extended execution session time period must complete before the old "
        "instance of the app can be closed and a new instance of the app can be launched' "
        "(wait); the seed's sample handler 'Extended execution revoked due to returning to "
        "foreground' with ExtendedExecutionRevokedReason.Resumed (revoke)",
        "what state: foreground does to a SavingData session requested in Suspending",
        choices=RELAUNCH_CHOICES)


class RegisterArgs(VerbArgs):
    """UWP settings of ``register``."""

    background_access: Annotated[str, choice(_ACCESS_CHOICES)] | None = arg(
        None, doc="a BackgroundAccessStatus (name or number) or allowed / denied (default "
        "allowed_subject_to_system_policy; a re-register without it keeps the previous value)",
        api="BackgroundExecutionManager.RequestAccessAsync")


class ReclaimMemoryArgs(VerbArgs):
    """The user opens an app that needs memory (sent by the bench): this app's session is revoked
    (memory_pressure) unless the app is in the foreground."""


class RequestExtensionArgs(VerbArgs):
    """``new ExtendedExecutionSession { Reason, Description }.RequestExtensionAsync()``."""

    reason: Annotated[str, choice(REASONS)] = arg(
        "unspecified", doc="the ExtendedExecutionReason, by name or number", api="Reason")
    description: Text | None = arg(None, doc="why the app asks (shown to the user)",
                                   api="Description")


class DisposeArgs(VerbArgs):
    """``ExtendedExecutionSession.Dispose()``."""

    session_id: Id | None = arg(None, doc="the session to end (default: the app's session)")
