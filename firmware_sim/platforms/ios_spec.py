"""iOS's declarations — limits and verb-argument models — for :mod:`firmware_sim.platforms.ios`
(interpreted beside the compiled policy; why: :data:`firmware_sim.compiled.COMPILED_MODULES`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any, Final

from pydantic import JsonValue, model_validator

from firmware_sim.limits import Limits, limit
from firmware_sim.verbargs import (
    Flag,
    Int,
    Number,
    Text,
    VerbArgs,
    arg,
    arg_error,
    choice,
    custom,
    field_error,
    rule,
)

SEED: Final = "seed 001 (iOS App in the Background)"


APPLE: Final = "developer.apple.com/documentation"


#: The pseudo-task standing for ``applicationDidEnterBackground``.
DID_ENTER_BACKGROUND: Final = "did_enter_background"


_BG_TASK_RE: Final = re.compile(r"^bg-\d+$")


#: A ``BGTaskScheduler`` task identifier: reverse-DNS by convention (Apple: "use reverse-DNS
#: notation", BGTaskSchedulerPermittedIdentifiers); wakebench bounds it to a printable token.
IDENTIFIER_RE: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$")


#: The task id of a launch for background notifications (pushes with ``content-available``).
PUSH_TASK: Final = "background_notification"


_TYPES: Final = {"refresh": "refresh", "app_refresh": "refresh", "processing": "processing"}


@dataclass(frozen=True)
class IOSLimits(Limits):
    """iOS background-execution limits."""

    did_enter_background_s: float = limit(
        5.0, "s",
        f"{SEED}: applicationDidEnterBackground(_:) 'has five seconds to perform any tasks and "
        "return'", "time before a backgrounded app is suspended without a background task")
    background_task_s: float = limit(
        30.0, "s",
        "empirical, modern iOS: Apple DTS 'your task ran for 30 seconds' "
        "(forums.developer.apple.com/message/391799, platform-budgets.md §1); legacy iOS 7+ is "
        "180 s (permittedBackgroundDuration: 180.000000); Apple documents no number",
        "background time shared by beginBackgroundTask tasks (set 180 for legacy iOS)")
    terminate_grace_s: float = limit(
        5.0, "s",
        "UNCONFIRMED: Apple documents only that an unfinished background task 'will result in "
        "the termination of the app' (beginBackgroundTask docs); wakebench default",
        "time between expire/revoke and terminate when the app never ends the task")
    max_pending_refresh: int = limit(
        1, "requests",
        f"{APPLE}/backgroundtasks/bgtaskscheduler/submit(_:): 'a total of 1 refresh task and "
        "10 processing tasks scheduled at any time'", "pending BGAppRefreshTaskRequests per app")
    max_pending_processing: int = limit(
        10, "requests",
        f"{APPLE}/backgroundtasks/bgtaskscheduler/submit(_:): 'a total of 1 refresh task and "
        "10 processing tasks scheduled at any time'", "pending BGProcessingTaskRequests per app")
    critical_battery_pct: float = limit(
        20.0, "%",
        f"{SEED}: 'Critically low battery (iPhone battery <= 20%)'; secondary: WWDC20 summary "
        "(blog.derrickshowers.com), 'below 20%, essential work only'",
        "at or below this level no discretionary launch (refresh / processing) starts")
    refresh_runtime_s: float = limit(
        30.0, "s",
        "UNCONFIRMED in Apple reference docs: '~30 s' from the Capacitor background-runner README "
        "('approximately up to 30 seconds') and community write-ups (platform-budgets.md §1)",
        "run time of a BGAppRefreshTask before its expirationHandler")
    processing_runtime_s: float = limit(
        0.0, "s (0 = until revoked)",
        f"{SEED}: processing tasks get 'several minutes runtime'; {APPLE}/backgroundtasks/"
        "bgprocessingtask: 'can run for minutes', terminated 'when the user starts using the "
        "device'. Apple gives no number, so by default it runs until revoked",
        "run time of a BGProcessingTask (0: no time limit, ends by revoke or completion)")
    push_cadence_s: float = limit(
        900.0, "s",
        f"{SEED}, Background Notification: 'Instead of running upon every push, the system "
        "delays the delivery of some pushes to limit the amount of execution while maintaining a "
        "frequent launch cadence. The time interval between runs was just 15 minutes'",
        "least time between two launches for background notifications (later pushes coalesce)")
    push_runtime_s: float = limit(
        30.0, "s",
        f"{APPLE}/uikit/uiapplicationdelegate/application(_:didreceiveremotenotification:"
        "fetchcompletionhandler:): 'Your app has up to 30 seconds of wall-clock time to process "
        "the notification and call the specified completion handler block'",
        "run time of a background-notification launch before it expires")
    url_session_runtime_s: float = limit(
        30.0, "s",
        "UNCONFIRMED: seed 001 says the system 'resumes the app and calls ... "
        "handleEventsForBackgroundURLSession' but gives no time; wakebench uses the "
        "background-notification 30 s",
        "run time of a background-URLSession completion launch before it expires")


def _identifier(raw: Any) -> Any:
    """A task identifier (:data:`IDENTIFIER_RE`; a number is taken as its text)."""
    if isinstance(raw, int) and not isinstance(raw, bool) and raw >= 0:
        raw = str(raw)
    if not isinstance(raw, str) or not IDENTIFIER_RE.match(raw):
        raise arg_error("must be a task identifier such as com.example.refresh "
                        f"(letters, digits, '.', '_', '-'; up to 255), not {raw!r}")
    return raw


def _not_reserved(ident: str) -> str | None:
    if ident in (DID_ENTER_BACKGROUND, PUSH_TASK) or _BG_TASK_RE.match(ident):
        return f"{ident!r} is reserved for wakebench's own task ids"
    return None


#: A ``BGTaskScheduler`` identifier: reverse-DNS text (a number is taken as its text).
Identifier = Annotated[str, custom(_identifier, {"anyOf": [
    {"type": "string", "pattern": IDENTIFIER_RE.pattern}, {"type": "integer", "minimum": 0}]})]


#: An identifier the app may choose (not one of wakebench's own task ids).
OwnIdentifier = Annotated[Identifier, rule(_not_reserved)]


#: The three ways to give a request's earliest begin; at most one per request.
_EARLIEST: Final = ("earliest_begin", "earliest_begin_date", "earliest_begin_delay")


class RegisterArgs(VerbArgs):
    """iOS settings of ``register``."""

    background_app_refresh: Flag | None = arg(
        None, doc="the app's Background App Refresh switch (default true; a re-register without "
        "it keeps the previous value)", api="UIApplication.backgroundRefreshStatus")


class BeginBackgroundTaskArgs(VerbArgs):
    """``UIApplication.beginBackgroundTask(withName:expirationHandler:)``: finish work after
    leaving the foreground, within the shared background time."""

    name: Text | None = arg(None, doc="a name for debugging", api="withName")


class EndBackgroundTaskArgs(VerbArgs):
    """``UIApplication.endBackgroundTask(_:)``: exactly one of ``identifier`` and ``task_id``."""

    identifier: Int | None = arg(None, doc="the UIBackgroundTaskIdentifier number", ge=0,
                                 api="UIBackgroundTaskIdentifier")
    task_id: Text | None = arg(None, doc="the task id as events carry it (bg-N)")


class SubmitArgs(VerbArgs):
    """``BGTaskScheduler.submit(_:)`` of a ``BGAppRefreshTaskRequest`` or
    ``BGProcessingTaskRequest``; at most one of the three earliest-begin arguments."""

    type: Annotated[str, choice(_TYPES)] = arg(
        doc="refresh (BGAppRefreshTaskRequest) or processing (BGProcessingTaskRequest)",
        api="BGAppRefreshTaskRequest / BGProcessingTaskRequest")
    identifier: OwnIdentifier = arg(doc="the task identifier, reverse-DNS (com.example.refresh)",
                                    api="identifier")
    earliest_begin: Number | None = arg(None, doc="earliest start, absolute rig time", unit="s",
                                        ge=0.0, api="earliestBeginDate")
    earliest_begin_date: Number | None = arg(None, doc="alias of earliest_begin", unit="s", ge=0.0,
                                             api="earliestBeginDate")
    earliest_begin_delay: Number | None = arg(None, doc="earliest start, from now", unit="s", ge=0.0,
                                              api="Date(timeIntervalSinceNow:)")
    requires_external_power: Flag = arg(False, doc="run only on external power (processing only)",
                                        api="requiresExternalPower")
    requires_network_connectivity: Flag = arg(False, doc="run only with a network (processing only)",
                                              api="requiresNetworkConnectivity")

    @model_validator(mode="after")
    def _request_rules(self) -> SubmitArgs:
        if (self.earliest_begin is not None) + (self.earliest_begin_date is not None) \
                + (self.earliest_begin_delay is not None) > 1:
            present = [n for n in _EARLIEST if getattr(self, n) is not None]
            raise field_error(present[1], f"cannot be combined with '{present[0]}'")
        if self.type == "refresh" and (self.requires_external_power or self.requires_network_connectivity):
            name = "requires_external_power" if self.requires_external_power else "requires_network_connectivity"
            raise field_error(name, "exists only on BGProcessingTaskRequest (type: processing)")
        return self


class PushArgs(VerbArgs):
    """A background notification (``content-available: 1``) arrives from APNs."""

    payload: JsonValue = arg(None, doc="handed to the launch in the wake event",
                             api="userInfo")


class UrlSessionDownloadArgs(VerbArgs):
    """A download task on a background ``URLSession``; when it ends the system launches the app
    with ``handleEventsForBackgroundURLSession``."""

    session: OwnIdentifier = arg(doc="the session's identifier",
                                 api="URLSessionConfiguration.background(withIdentifier:)")
    duration: Number = arg(doc="how long the transfer takes (the bench decides)", unit="s", ge=0.0)


class CancelArgs(VerbArgs):
    """``BGTaskScheduler.cancel(taskRequestWithIdentifier:)`` or ``cancelAllTaskRequests()``:
    exactly one of ``identifier`` and ``all: true``."""

    identifier: Identifier | None = arg(None, doc="the request to cancel",
                                        api="cancel(taskRequestWithIdentifier:)")
    all: Flag = arg(False, doc="cancel every pending request", api="cancelAllTaskRequests")


class SetTaskCompletedArgs(VerbArgs):
    """``BGTask.setTaskCompleted(success:)`` (also the push's completion handler)."""

    identifier: Identifier = arg(doc="the started task", api="BGTask.identifier")
    success: Flag = arg(doc="whether the work succeeded", api="success")
