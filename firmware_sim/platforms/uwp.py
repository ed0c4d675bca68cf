"""Windows 10 UWP ``ExtendedExecutionSession``: ``request_extension`` and ``dispose``.

Sources: seed 002 ("Postpone app suspension with extended execution", windows-dev-docs
run-minimized-with-extended-execution.md) and ``reference/platform-budgets.md`` section 4.

Behaviour, as a bench user sees it:

* One session per app: a request while the app's session is active is the error ``0x8007139F``
  (thrown by the real constructor). A revoked session that was not disposed yet is disposed by a
  new request, as Microsoft's sample helper does before requesting.
* ``request_extension`` answers ``{"result": "allowed" | "denied", "session_id", ...}``; an
  allowed session gets ``wake`` (deadline when it has one). Denied (not an error) when the app's
  ``background_access`` (``register``; BackgroundAccessStatus names or numbers, or ``allowed`` /
  ``denied``) is Denied / DeniedBySystemPolicy / DeniedByUser, when a reason other than
  ``saving_data`` is requested outside the foreground ("SavingData is the only type ... that can
  be requested in the Suspending state"), for ``location_tracking`` held by another app (one per
  device), for ``unspecified`` during Connected Standby, or when the app is terminated.
* ``unspecified``: on a ``desktop`` device family, unlimited on wall power and on battery "up to
  ten minutes in the background"; on ``mobile`` it runs "as long as the screen is on" (no
  battery limit, Connected Standby ends it); an ``xbox`` has no battery limit either.
  The 10-minute clock runs only while the device is on battery *and* the app is not in the
  foreground; it starts afresh each time both become true (an unplug starts a new 10 minutes,
  plugging in before they end makes the session unlimited again; a session started on battery
  and then plugged in loses its deadline). Any charger (ac, usb, wireless) counts as wall power.
  With ``background_access: always_allowed`` (the user's "Allow the app to run background
  tasks") it is unlimited on battery too (seed 002). It stops (``revoke`` ``connected_standby``)
  when the device enters Connected Standby.
* Connected Standby from signals, by ``device_family`` (a limit, so a rig config sets it):
  ``mobile`` — the screen is off (``screen_locked``) and the device enters it at once;
  ``desktop`` — the lock screen alone does not stop sessions; ``screen_locked`` and ``idle``
  together stand for "the screen has been off for the period Windows waits"; ``xbox`` — the
  console has been ``idle`` for ``xbox_standby_s`` (one hour; "unless the user changes the
  default": override the limit).
* ``background_access`` switched to a denied status by a ``register`` during a session revokes
  it (reason ``background_access_denied``, ``SystemPolicy``).
* ``location_tracking``: foreground request only, unlimited, one app per device.
* Suspension (seed 002: "When the user minimizes or switches away from an app it is put into a
  suspended state"): ``state`` → ``background`` without a session in effect is the Suspending
  event — pseudo-task ``suspending`` gets ``wake`` with a ``suspending_s`` (5 s) deadline; at
  the deadline the app is ``suspended`` (``expire`` of ``suspending``, reason ``suspended``,
  ``data.app_state``). A SavingData session granted in that window holds the app in Suspending
  for the extension, which then suspends it "without further notification". An app whose session
  (requested in the foreground) is in effect gets no Suspending event; when that session ends in
  the background the app is suspended at once.
* ``saving_data``: may be requested while Running (foreground) or Suspending (background), not
  once the app is ``suspended`` (denied, ``app_suspended``), at most ``saving_data_s``; when
  revoked (other than ``resumed``) the app has 1 s to ``dispose``, else ``terminate`` (unless it
  is back in the foreground by then).
* Relaunch during a SavingData session requested in Suspending (seed 002: "the extended
  execution session time period must complete before the old instance of the app can be closed
  and a new instance of the app can be launched"): with ``saving_data_relaunch: wait`` (the
  default) ``state`` → ``foreground`` leaves the app ``background`` with ``relaunch_pending``;
  when the session ends — ``dispose`` (its answer says ``relaunched``), or revoke + 1 s +
  ``terminate`` of the old instance (``data.relaunched``) — the app is in the ``foreground``.
  ``saving_data_relaunch: revoke`` keeps the reference's "returning to foreground" answer: the
  session is revoked at once with ``resumed``.
* Revoke reasons: ``resumed`` — the app returned to the foreground and the session was requested
  outside it (``saving_data_relaunch: revoke`` only); ``system_policy`` — a time limit ran out;
  ``connected_standby``. Each revoke carries the real ``ExtendedExecutionRevokedReason`` in
  ``data``. A session that ends (revoke, dispose) while the app is in the background lets
  Windows suspend it: app state → ``suspended``.
* ``dispose`` ends the session (an unknown ``session_id`` or no session is an error).
* Background energy quota (``energy_quota_s`` per ``energy_quota_window_s``; off by default,
  the seed gives no number): an app's session uses quota while the app is out of the
  foreground on battery — a revoked session too, until it is disposed (disposing early saves
  quota for later sessions). Used up: ``revoke`` ``energy_quota``; new requests are denied
  ``energy_quota_exhausted`` until the window refills.
* ``reclaim_memory`` (sent by the bench: the user opens an app needing memory) revokes the
  app's session with ``memory_pressure`` unless the app is in the foreground.
* Nothing of a session survives a rig restart, as no session survives a Windows restart; only the
  session counter is kept so ids are not reused. On ``Scheduler.resume`` each session that was
  open gets ``unscheduled`` with reason ``restart``.

Length: over 500 lines because seed 002's rules share one session record and its timers (battery
clock, Connected Standby, energy quota, suspension, relaunch); split, each part would reach into
the others' state.

Over 500 lines on purpose, like every platform module: one platform's rules, its verbs'
argument declarations (generated into asyncapi.yaml and docs/verbs.md) and its dump / load
read top to bottom beside the seed they implement (docs/seed-rules.md); what platforms share
lives in ``firmware_sim`` (timers, work queue, verb argument types).
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any, Final

from firmware_sim.errors import ConfigError, RequestError
from firmware_sim.limits import Limits
from firmware_sim.platforms.uwp_spec import (  # noqa: F401  (some only re-exported: tests and bench import them from here)
    ACCESS_STATUS,
    DEVICE_FAMILIES,
    REASONS,
    RELAUNCH_CHOICES,
    SEED,
    DisposeArgs,
    ReclaimMemoryArgs,
    RegisterArgs,
    RequestExtensionArgs,
    UWPLimits,
)
from firmware_sim.policy import (
    App,
    AppState,
    Context,
    Policy,
    SignalIndex,
    TimerMap,
    app_label,
    invalid_state,
    rearm,
    unknown_task,
)
from firmware_sim.signals import SIGNAL_UNKNOWN, Signals
from firmware_sim.timers import TimerHandle

#: The HRESULT the ExtendedExecutionSession constructor throws for a second session (seed 002).
ERROR_SESSION_ACTIVE: Final = "0x8007139F"


_DENIED: Final = frozenset({"denied", "denied_by_system_policy", "denied_by_user"})
#: Revoke reason when the user switches background access off during a session.
BACKGROUND_ACCESS_DENIED: Final = "background_access_denied"
#: Revoke reasons of seed 002's "a background energy quota was reached, or memory needs to be
#: reclaimed in order for the user to open a new app in the foreground".
ENERGY_QUOTA: Final = "energy_quota"
MEMORY_PRESSURE: Final = "memory_pressure"

#: ExtendedExecutionRevokedReason: Resumed 0, SystemPolicy 1 (platform-budgets.md §4).
_REVOKED_REASON: Final = {"resumed": ("Resumed", 0)}
_SYSTEM_POLICY: Final = ("SystemPolicy", 1)

#: Pseudo-task of the Suspending event of an app that leaves the foreground without a session.
SUSPENDING: Final = "suspending"

#: Device families where an unspecified session has the battery limit. Seed 002: "On desktop
#: devices, extended execution sessions created with ExtendedExecutionReason.Unspecified have a
#: battery-aware time limit"; "On mobile devices running Windows 10 Mobile, this kind of extended
#: execution session will run as long as the screen is on"; an Xbox has no battery.
BATTERY_LIMITED_FAMILIES: Final = frozenset({"desktop"})


@dataclass(slots=True)
class _Quota:
    """One app's background energy quota: seconds used in the current window."""

    used: float = 0.0
    window_start: float | None = None
    #: since when the app's session has been using quota (None: not now)
    since: float | None = None
    timer: TimerHandle | None = None


@dataclass(slots=True)
class _Session:
    app: str
    session_id: str
    reason: str
    requested_in: str
    started: float
    description: str | None
    state: str = "active"  # active | revoked
    #: since when the app has been out of the foreground (None: in the foreground)
    background_since: float | None = None
    #: the deadline in force when the session was revoked
    deadline: float | None = None
    revoke_reason: str | None = None
    grace_until: float | None = None
    timer: TimerHandle | None = None

    def view(self, deadline: float | None) -> dict[str, Any]:
        return {"task_id": self.session_id, "kind": "extended_execution", "reason": self.reason,
                "state": self.state, "started": self.started, "deadline": deadline,
                "requested_in": self.requested_in, "description": self.description,
                "revoke_reason": self.revoke_reason, "grace_until": self.grace_until}


class UWPPolicy(Policy):
    """``ExtendedExecutionSession``: one session per app, battery-aware, revocable."""

    platform = "uwp"
    limits_type = UWPLimits
    limits: UWPLimits
    watched = frozenset({"charger", "screen_locked", "idle"})

    def __init__(self, ctx: Context, limits: Limits) -> None:
        super().__init__(ctx, limits)
        if self.limits.device_family not in DEVICE_FAMILIES:
            raise ConfigError(
                f"uwp limit 'device_family' must be one of {', '.join(DEVICE_FAMILIES)}, "
                f"not {self.limits.device_family!r}")
        self._sessions: dict[str, _Session] = {}
        self._next_id: dict[str, int] = {}
        self._location_holder: str | None = None
        #: app id under "standby" (active unspecified) and "power" (battery clock may run)
        self._index = SignalIndex()
        #: when the device last went on battery (None: on wall power)
        #: (no ``battery`` timer needed now: sessions made later have their own timers)
        self._battery_since: float | None = None if ctx.signals.external_power else ctx.now
        self._battery_timer: TimerHandle | None = None
        #: xbox: since when the console has been idle (None: not idle), and the standby timer
        self._idle_since: float | None = ctx.now if ctx.signals.idle else None
        self._xbox_timer: TimerHandle | None = None
        self._quota: dict[str, _Quota] = {}
        #: apps in the Suspending window without a session: their suspension timers
        self._suspending: TimerMap[str] = TimerMap(ctx, self._on_suspended, app_label)
        #: the same deadlines by app, kept across a restart (an app left ``background`` is still
        #: suspended at its time)
        self._suspend_at: dict[str, float] = {}
        #: apps whose relaunch waits for their SavingData session (``saving_data_relaunch: wait``)
        self._relaunch: set[str] = set()
        if self._idle_since is not None:
            self._arm_xbox()

    # -- register / lifecycle ----------------------------------------------------------------
    def configure_app(self, app: App, args: RegisterArgs) -> None:
        """``background_access``: a BackgroundAccessStatus (name or number) or ``allowed`` /
        ``denied``; default ``allowed_subject_to_system_policy``. A re-``register`` without it
        keeps the previous value."""
        value = args.background_access
        if value is not None:
            app.settings["background_access"] = value
        app.settings.setdefault("background_access", "allowed_subject_to_system_policy")

    def on_app_configured(self, app: App) -> None:
        """New ``background_access``: the session's clock and index entries follow it; switched
        to a denied status, the running session is revoked (reason ``background_access_denied``,
        ``SystemPolicy``: seed 002, the Revoked handler runs "if the user, or the system, decides
        that the app can no longer run in the background")."""
        session = self._sessions.get(app.id)
        if session is None or session.state != "active":
            return
        if str(app.settings.get("background_access")) in _DENIED:
            self._revoke(app, session, BACKGROUND_ACCESS_DENIED)
        else:
            self._schedule(app, session)

    def on_app_state(self, app: App, old: AppState, new: AppState) -> None:
        self._stop_suspending(app.id)
        session = self._sessions.get(app.id)
        if new != "foreground":
            self._relaunch.discard(app.id)
        if new == "terminated":
            if session is not None:
                self._drop(session)
            return
        if new == "foreground" and session is not None and self._saving_in_suspending(session):
            if self.limits.saving_data_relaunch == "wait":
                # seed 002: "the extended execution session time period must complete before the
                # old instance of the app can be closed and a new instance ... launched"
                app.state = old
                self._relaunch.add(app.id)
                return
            if session.state == "active":
                self._revoke(app, session, "resumed")
                return
        if new == "background" and (session is None or session.state != "active"):
            self._start_suspending(app)
        if session is not None:
            self._schedule(app, session)

    def on_crash(self, app: App) -> None:
        self._stop_suspending(app.id)
        self._relaunch.discard(app.id)
        session = self._sessions.get(app.id)
        if session is not None:
            self._drop(session)
        app.state = "terminated"

    # -- suspension and relaunch (seed 002: 002:5, 002:20, 002:22, 002:44) --------------------
    def _saving_in_suspending(self, session: _Session) -> bool:
        """A SavingData session requested in Suspending that is still running (active, or
        revoked and inside its one second)."""
        return (session.reason == "saving_data"
                and session.requested_in != "foreground"
                and (session.state == "active" or session.grace_until is not None))

    def _start_suspending(self, app: App) -> None:
        """The Suspending event: ``wake`` of ``suspending``; suspended at its deadline."""
        deadline = self.ctx.now + self.limits.suspending_s
        self._suspending.arm(app.id, deadline)
        self._suspend_at[app.id] = deadline
        self.ctx.emit("wake", app, SUSPENDING, deadline=deadline)

    def _stop_suspending(self, app_id: str) -> None:
        self._suspending.cancel(app_id)
        self._suspend_at.pop(app_id, None)

    def _on_suspended(self, app_id: str) -> None:
        """The Suspending deadline: the app is suspended unless a session holds it."""
        self._suspend_at.pop(app_id, None)
        app = self.ctx.app(app_id)
        session = self._sessions.get(app_id)
        if app.state != "background" or (session is not None and session.state == "active"):
            return
        app.state = "suspended"
        self.ctx.emit("expire", app, SUSPENDING, reason="suspended", deadline=self.ctx.now,
                      data={"app_state": "suspended"})

    def _settle(self, app: App) -> bool:
        """The app's session ended: a waiting relaunch completes (the new instance is in the
        foreground), else a background app becomes suspended. True when it relaunched."""
        if app.id in self._relaunch:
            self._relaunch.discard(app.id)
            app.state = "foreground"
            return True
        self._maybe_suspend(app)
        return False

    # -- debug verbs -------------------------------------------------------------------------
    def force_expire(self, app: App, task_id: str) -> dict[str, Any]:
        """The session's time limit is reached now: ``revoke`` ``system_policy`` (SystemPolicy),
        with SavingData's one second before ``terminate``. ``force_run`` is not supported: a
        session runs from the moment the app's request is allowed."""
        session = self._sessions.get(app.id)
        if session is None or session.session_id != task_id:
            raise unknown_task(app, task_id)
        if session.state != "active":
            raise invalid_state(app, task_id, session.state, "active")
        self._revoke(app, session, "system_policy")
        return {"state": session.state, "grace_until": session.grace_until}

    # -- verbs -------------------------------------------------------------------------------
    def verb_reclaim_memory(self, app: App, args: ReclaimMemoryArgs) -> dict[str, Any]:
        """The user opens an app that needs memory (sent by the bench): seed 002 "memory needs to
        be reclaimed in order for the user to open a new app in the foreground" — this app's
        session is revoked (``memory_pressure``, SystemPolicy) unless the app is itself in the
        foreground."""
        session = self._sessions.get(app.id)
        if session is None or session.state != "active" or app.state == "foreground":
            return {"revoked": None}
        self._revoke(app, session, MEMORY_PRESSURE)
        return {"revoked": session.session_id}

    def verb_request_extension(self, app: App, args: RequestExtensionArgs) -> dict[str, Any]:
        """``new ExtendedExecutionSession { Reason, Description }.RequestExtensionAsync()``.

        Raises:
            RequestError: ``0x8007139F`` while the app's session is active.
        """
        reason, description = args.reason, args.description
        current = self._sessions.get(app.id)
        if current is not None and current.state == "active":
            raise RequestError(
                ERROR_SESSION_ACTIVE,
                f"app {app.id!r} already has an active {current.reason} session "
                f"{current.session_id!r}; dispose it first ({ERROR_SESSION_ACTIVE}: the group or "
                "resource is not in the correct state to perform the requested operation)",
                {"session_id": current.session_id})
        why = self._denial(app, reason)
        if why is not None:
            return {"result": "denied", "session_id": None, "reason": reason, "denied_because": why}
        if current is not None:
            self._drop(current)
        n = self._next_id.get(app.id, 0) + 1
        self._next_id[app.id] = n
        session = _Session(app.id, f"session-{n}", reason, app.state, self.ctx.now, description)
        self._sessions[app.id] = session
        if reason == "location_tracking":
            self._location_holder = app.id
        # seed 002: "it will stay in a suspending state for the period of the extension"
        self._stop_suspending(app.id)
        self._schedule(app, session)
        deadline = self._deadline(app, session)
        self.ctx.emit("wake", app, session.session_id, deadline=deadline, data={"reason": reason})
        return {"result": "allowed", "session_id": session.session_id, "reason": reason,
                "deadline": deadline}

    def verb_dispose(self, app: App, args: DisposeArgs) -> dict[str, Any]:
        """``ExtendedExecutionSession.Dispose()``: ``session_id`` (optional: the app's session)."""
        session_id = args.session_id
        session = self._sessions.get(app.id)
        if session is None or (session_id is not None and session_id != session.session_id):
            have = f"its session is {session.session_id!r}" if session else "it has no session"
            asked = f" {session_id!r}" if session_id is not None else ""
            raise RequestError("unknown_task", f"app {app.id!r} cannot dispose session{asked}: {have}",
                               {"session_id": session_id})
        state = session.state
        self._drop(session)
        out = {"session_id": session.session_id, "state": state, "disposed_at": self.ctx.now}
        if self._settle(app):
            out.update(relaunched=True, app_state=app.state)
        return out

    def _denial(self, app: App, reason: str) -> str | None:
        access = str(app.settings.get("background_access", "allowed_subject_to_system_policy"))
        if access in _DENIED:
            return f"background_access_{access}"
        if app.state == "terminated":
            return "app_not_running"
        if reason != "saving_data" and app.state != "foreground":
            return "not_in_foreground"
        if reason == "saving_data" and app.state == "suspended":
            # seed 002: "can be requested either when the app is in the foreground and in the
            # Running state, or in the background and in the Suspending state"
            return "app_suspended"
        if reason == "unspecified":
            standby = self._standby(self.ctx.signals)
            if standby is None:  # not shown to be out of Connected Standby: refused
                return SIGNAL_UNKNOWN
            if standby:
                return "connected_standby"
        if self.limits.energy_quota_s > 0 and self._quota_left(app.id) <= 0:
            return "energy_quota_exhausted"
        if reason == "location_tracking" and self._location_holder not in (None, app.id):
            return f"location_tracking_held_by_{self._location_holder}"
        return None

    # -- session clock -----------------------------------------------------------------------
    def _standby_reads(self) -> tuple[str, ...]:
        family = self.limits.device_family
        return {"mobile": ("screen_locked",), "xbox": ("idle",)}.get(family, ("screen_locked", "idle"))

    def _standby(self, s: Signals) -> bool | None:
        """Connected Standby: True, False, or None when it depends on an unknown signal."""
        family = self.limits.device_family
        if family == "mobile":
            return None if s.unknown_of("screen_locked") else s.screen_locked
        if family == "xbox":
            if s.idle is False:
                return False
            if s.unknown_of("idle"):
                return None
            return self._idle_since is not None and self.ctx.now >= self._idle_since + self.limits.xbox_standby_s
        if s.screen_locked is False or s.idle is False:
            return False
        return None if s.unknown_of("screen_locked", "idle") else True

    def _arm_xbox(self) -> None:
        if self.limits.device_family == "xbox" and self._idle_since is not None:
            self._xbox_timer = rearm(self.ctx, self._xbox_timer,
                                     self._idle_since + self.limits.xbox_standby_s,
                                     self._on_xbox_timer)

    def _on_xbox_timer(self) -> None:
        """An hour idle: the Xbox enters Connected Standby."""
        self._xbox_timer = None
        if self._standby(self.ctx.signals):
            self._enter_standby()

    def _enter_standby(self) -> None:
        """'On all OS editions this kind of extended execution session stops when the device
        enters Connected Standby' (seed 002): every active unspecified session is revoked."""
        for app_id in sorted(_ids(self._index.affected(("standby",)))):
            session = self._sessions.get(app_id)
            if session is not None and session.state == "active" and session.reason == "unspecified":
                self._revoke(self.ctx.app(app_id), session, "connected_standby")

    def _battery_limited(self, app: App) -> bool:
        return (self.limits.device_family in BATTERY_LIMITED_FAMILIES
                and app.settings.get("background_access") != "always_allowed")

    def _deadline(self, app: App, session: _Session) -> float | None:
        """When the session runs out, from the current state (None: unlimited).

        Unspecified: 10 minutes from the later of "the device went on battery" and "the app left
        the foreground" (a fresh 10 minutes at every unplug); none on wall power, in the
        foreground or with ``always_allowed``.
        """
        if session.state != "active":
            return session.deadline
        if session.reason == "saving_data":
            return session.started + self.limits.saving_data_s
        if session.reason == "location_tracking":
            return None
        if (session.background_since is None or self._battery_since is None
                or not self._battery_limited(app)):
            return None
        return max(self._battery_since, session.background_since) + self.limits.unspecified_battery_s

    def _schedule(self, app: App, session: _Session) -> None:
        """After a request, app-state or settings change: index entries and the session's own
        timer. A charger change needs none of this: its one ``battery`` timer covers every
        session that was already in the background, and stale session timers re-check."""
        self._account(app.id)
        if session.state != "active":
            return
        if app.state == "foreground":
            session.background_since = None
        elif session.background_since is None:
            session.background_since = self.ctx.now
        if session.reason == "unspecified":
            clocked = session.background_since is not None and self._battery_limited(app)
            self._index.add(app.id, ("standby", "power") if clocked else ("standby",))
        deadline = self._deadline(app, session)
        if deadline is not None:
            self._arm(session, deadline)

    def _arm(self, session: _Session, at: float) -> None:
        session.timer = rearm(self.ctx, session.timer, at, lambda: self._on_session_timer(session),
                              app=session.app, task=session.session_id)

    def _revoke(self, app: App, session: _Session, reason: str,
                extra: dict[str, Any] | None = None) -> None:
        session.deadline = self._deadline(app, session)
        session.state, session.revoke_reason = "revoked", reason
        self._release(session)
        name, number = _REVOKED_REASON.get(reason, _SYSTEM_POLICY)
        self.ctx.emit("revoke", app, session.session_id, reason=reason, deadline=session.deadline,
                      data={"revoked_reason": name, "revoked_reason_value": number, **(extra or {})})
        if session.reason == "saving_data" and reason != "resumed":
            session.grace_until = self.ctx.now + self.limits.saving_data_revoke_grace_s
            self._arm(session, session.grace_until)
        else:
            self._settle(app)
        self._account(app.id)

    def _release(self, session: _Session) -> None:
        """Stop the session's timer and index entries; free the device's location slot."""
        if session.timer is not None:
            session.timer.cancel()
            session.timer = None
        self._index.discard(session.app)
        if self._location_holder == session.app:
            self._location_holder = None

    def _drop(self, session: _Session) -> None:
        self._release(session)
        if self._sessions.get(session.app) is session:
            del self._sessions[session.app]
        self._account(session.app)

    # -- background energy quota (seed 002; numbers UNCONFIRMED, off by default) -------------
    def _quota_left(self, app_id: str) -> float:
        q = self._fold(app_id)
        return self.limits.energy_quota_s - q.used

    def _fold(self, app_id: str) -> _Quota:
        """Bring ``app_id``'s quota up to now (a new window refills it)."""
        q = self._quota.setdefault(app_id, _Quota())
        now = self.ctx.now
        if q.since is not None:
            q.used += now - q.since
            q.since = now
        if q.window_start is None or now >= q.window_start + self.limits.energy_quota_window_s:
            q.window_start, q.used = now, 0.0
        return q

    def _account(self, app_id: str) -> None:
        """Start or stop the app's quota clock: it runs while the app holds a session (active,
        or revoked and not yet disposed: "the energy used by the app while it is waiting for the
        session to close will be counted") outside the foreground on battery."""
        if self.limits.energy_quota_s <= 0:
            return
        q = self._fold(app_id)
        session = self._sessions.get(app_id)
        using = (session is not None and self.ctx.app(app_id).state != "foreground"
                 and not self.ctx.signals.external_power)
        q.since = self.ctx.now if using else None
        if q.timer is not None:
            q.timer.cancel()
            q.timer = None
        if using and session is not None and session.state == "active":
            left = max(0.0, self.limits.energy_quota_s - q.used)
            q.timer = self.ctx.call_at(self.ctx.now + left, lambda: self._on_quota(app_id),
                                       app=app_id, task=session.session_id)

    def _on_quota(self, app_id: str) -> None:
        q = self._quota[app_id]
        q.timer = None
        session = self._sessions.get(app_id)
        if session is None or session.state != "active":
            return
        if self._quota_left(app_id) <= 0:
            self._revoke(self.ctx.app(app_id), session, ENERGY_QUOTA)
        self._account(app_id)

    def _maybe_suspend(self, app: App) -> None:
        """'When the extension is disposed, the application becomes eligible for suspension.'"""
        if app.state == "background":
            app.state = "suspended"

    # -- time and signals --------------------------------------------------------------------
    def _on_battery_timer(self) -> None:
        """10 minutes since the unplug: every session clocked since then."""
        self._battery_timer = None
        for app_id in sorted(_ids(self._index.affected(("power",)))):
            self._expire_if_due(app_id)

    def _on_session_timer(self, session: _Session) -> None:
        if self._sessions.get(session.app) is not session:
            return
        session.timer = None
        app_id = session.app
        session_id = session.session_id
        app = self.ctx.app(app_id)
        if session.state == "active":
            self._expire_if_due(app_id)
        elif session.grace_until is not None:
            self._drop(session)
            if app.state != "foreground":
                relaunch = app.id in self._relaunch
                app.state = "terminated"
                self._relaunch.discard(app.id)
                if relaunch:  # the old instance is closed, the new one launched
                    app.state = "foreground"
                self.ctx.emit("terminate", app, session_id, reason="not_disposed",
                              data={"relaunched": True, "app_state": "foreground"} if relaunch
                              else None)

    def _expire_if_due(self, app_id: str) -> None:
        session = self._sessions.get(app_id)
        if session is None or session.state != "active":
            return
        app = self.ctx.app(app_id)
        deadline = self._deadline(app, session)
        if deadline is None:
            return  # plugged in (or back in the foreground) since the timer was set
        if deadline <= self.ctx.now:
            self._revoke(app, session, "system_policy")
        else:
            self._arm(session, deadline)

    def on_signals(self, old: Signals, new: Signals, changed: frozenset[str]) -> None:
        before = self._standby(old)
        if "idle" in changed:
            self._idle_since = self.ctx.now if new.idle else None
            if self._idle_since is not None:
                self._arm_xbox()
            elif self._xbox_timer is not None:
                self._xbox_timer.cancel()
                self._xbox_timer = None
        after = self._standby(new)
        if before is False and after is not False:  # in standby, or unknown
            unknown = new.unknown_of(*self._standby_reads()) if after is None else []
            if not unknown:
                self._enter_standby()
            for app_id in sorted(_ids(self._index.affected(("standby",)))) if unknown else ():
                session = self._sessions.get(app_id)
                if session is not None and session.state == "active" and session.reason == "unspecified":
                    self._revoke(self.ctx.app(app_id), session, SIGNAL_UNKNOWN, {"unknown": unknown})
        if old.external_power and not new.external_power:
            self._battery_since = self.ctx.now
            self._battery_timer = rearm(self.ctx, self._battery_timer,
                                        self.ctx.now + self.limits.unspecified_battery_s,
                                        self._on_battery_timer)
        elif new.external_power and not old.external_power:
            self._battery_since = None
            if self._battery_timer is not None:
                self._battery_timer.cancel()
                self._battery_timer = None
        if old.external_power != new.external_power and self.limits.energy_quota_s > 0:
            for app_id in sorted(self._sessions):
                self._account(app_id)

    # -- views and persistence ---------------------------------------------------------------
    def tasks(self, app: App) -> dict[str, dict[str, Any]]:
        session = self._sessions.get(app.id)
        if session is None:
            return {}
        return {session.session_id: session.view(self._deadline(app, session))}

    def status(self, app: App) -> dict[str, Any]:
        return {"tasks": self.tasks(app),
                "background_access": app.settings.get("background_access"),
                "device_family": self.limits.device_family,
                "connected_standby": self._standby(self.ctx.signals),
                "location_tracking_holder": self._location_holder,
                "energy_quota_left_s": (self._quota_left(app.id)
                                        if self.limits.energy_quota_s > 0 else None),
                "suspending_until": self._suspending.when(app.id),
                "relaunch_pending": app.id in self._relaunch}

    def restart_losses(self) -> list[tuple[str, str]]:
        """Every session: an ``ExtendedExecutionSession`` lives in the app process, which a
        restart ends (each gets ``unscheduled``, reason ``restart``, on resume)."""
        return sorted((s.app, s.session_id) for s in self._sessions.values())

    def dump(self) -> dict[str, Any]:
        """The session counters and the Suspending deadlines: sessions, like the app process,
        end with a restart (and a waiting relaunch with them)."""
        return {"next_id": dict(self._next_id), "suspending": dict(sorted(self._suspend_at.items()))}

    def load(self, data: dict[str, Any]) -> None:
        self._next_id.update({k: int(v) for k, v in data.get("next_id", {}).items()})
        for app_id, at in dict(data.get("suspending", {})).items():
            self._suspend_at[str(app_id)] = float(at)
            self._suspending.arm(str(app_id), float(at))  # overdue: fires first on resume


def _ids(keys: set[Hashable]) -> list[str]:
    return [k for k in keys if isinstance(k, str)]
