// Windows 10 UWP `Windows.ApplicationModel.ExtendedExecution` and the app's Suspending event,
// against the rig's uwp policy (firmware_sim/platforms/uwp.py; seed 002). Enum values are the
// WinRT numbers, in the camelCase the JavaScript projection uses.
import { defaultClient } from './default.js';
import { perClient, report } from './facade.js';

/** The rig's pseudo-task of the Suspending event (firmware_sim/platforms/uwp.py `SUSPENDING`):
 *  `wake` when the app leaves the foreground without a session in effect, `expire` with reason
 *  `suspended` at its deadline (seed 002:5). */
export const SUSPENDING_TASK = 'suspending';

/** `ExtendedExecutionReason`. */
export const ExtendedExecutionReason = Object.freeze({ unspecified: 0, locationTracking: 1, savingData: 2 });
/** `ExtendedExecutionResult`. */
export const ExtendedExecutionResult = Object.freeze({ allowed: 0, denied: 1 });
/** `ExtendedExecutionRevokedReason` (the rig's revoke `data.revoked_reason_value`). */
export const ExtendedExecutionRevokedReason = Object.freeze({ resumed: 0, systemPolicy: 1 });

export class ExtendedExecutionSession {
  /** `client`: bench-only, the app's connection (default: the one `connect()` made). */
  constructor(client = defaultClient()) {
    this._client = client;
    this.reason = ExtendedExecutionReason.unspecified;
    this.description = '';
    this.percentProgress = 0;
    /** WinJS-style handler property, called like the `revoked` listeners. */
    this.onrevoked = null;
    this._listeners = new Set();
    this._sessionId = null;
    this._off = client.onEvent((event) => {
      if (event.platform === 'uwp' && event.type === 'revoke' && event.task_id === this._sessionId) {
        const args = { reason: event.data?.revoked_reason_value ?? ExtendedExecutionRevokedReason.systemPolicy,
          target: this, type: 'revoked', detail: event };
        for (const l of [this.onrevoked, ...this._listeners]) {
          if (typeof l !== 'function') continue;
          try { l(args); } catch (err) { report(client, 'revoked handler', err); }
        }
      }
    });
  }

  addEventListener(type, listener) { if (type === 'revoked') this._listeners.add(listener); }
  removeEventListener(type, listener) { if (type === 'revoked') this._listeners.delete(listener); }

  /** Resolves to `ExtendedExecutionResult.allowed` or `.denied`; the rig's errors reject
   *  (`0x8007139F` for a second active session, as the real constructor throws). */
  async requestExtensionAsync() {
    const data = await this._client.request('request_extension', {
      reason: this.reason, ...(this.description ? { description: this.description } : {}),
    });
    if (data.result === 'allowed') {
      this._sessionId = data.session_id;
      return ExtendedExecutionResult.allowed;
    }
    return ExtendedExecutionResult.denied;
  }

  /**
   * `Close()` / `Dispose()`: synchronous on Windows, a Promise here. Resolves to
   * `{ relaunched }` (bench extension): true when a relaunch was waiting for this session
   * (seed 002:44) and the new instance is now in the foreground; `{ relaunched: false }` when
   * the session had not been granted.
   */
  async close() {
    this._off();
    if (this._sessionId === null) return { relaunched: false };
    const id = this._sessionId;
    this._sessionId = null;
    const data = await this._client.request('dispose', { session_id: id });
    return { relaunched: data.relaunched === true };
  }
}

/** `SuspendingDeferral`: `complete()` says the app's suspend work is done. Advisory on the
 *  bench: the rig has no verb for it, so the app is suspended at the deadline whether or not it
 *  completed (`completed` records that it did). */
export class SuspendingDeferral {
  constructor() { this.completed = false; }
  complete() { this.completed = true; }
}

/** `SuspendingOperation`: `deadline` is rig seconds (absolute, as events' `deadline`), not a
 *  `Date`: a rig at `--speed` does not run on wall time. */
export class SuspendingOperation {
  constructor(deadline) {
    this.deadline = deadline;
    this.deferrals = [];
  }
  getDeferral() {
    const deferral = new SuspendingDeferral();
    this.deferrals.push(deferral);
    return deferral;
  }
}

/**
 * The app object (`Windows.UI.Xaml.Application.Current`; WinJS `WebUIApplication`): its
 * `suspending` event is the rig's Suspending event. One per client: `Application.current`
 * (the default client) or `application(client)`.
 */
export class UwpApplication {
  constructor(client) {
    this._client = client;
    /** WinJS-style handler property, called like the `suspending` listeners. */
    this.onsuspending = null;
    this._listeners = new Set();
    client.onEvent((event) => {
      if (event.platform !== 'uwp' || event.type !== 'wake' || event.task_id !== SUSPENDING_TASK) return;
      const args = { suspendingOperation: new SuspendingOperation(event.deadline), target: this,
        type: 'suspending', detail: event };
      for (const l of [this.onsuspending, ...this._listeners]) {
        if (typeof l !== 'function') continue;
        try {
          const out = l(args);
          if (out && typeof out.then === 'function') out.then(undefined, (err) => report(client, 'suspending handler', err));
        } catch (err) {
          report(client, 'suspending handler', err);
        }
      }
    });
  }

  /** `Application.Suspending += handler`: `handler(args)` with `args.suspendingOperation`
   *  (`deadline`, `getDeferral()`). Returns the function that removes it. */
  onSuspending(handler) {
    this._listeners.add(handler);
    return () => this._listeners.delete(handler);
  }

  addEventListener(type, listener) { if (type === 'suspending') this._listeners.add(listener); }
  removeEventListener(type, listener) { if (type === 'suspending') this._listeners.delete(listener); }

  /**
   * Bench-only (the user switching apps): the rig's `state`. Resolves to the app's actual state
   * afterwards, `{ state, previous, relaunchPending }`: a relaunch (`'foreground'`) during a
   * SavingData session requested while Suspending waits for the session (seed 002:44), so it
   * answers `state: 'background'`, `relaunchPending: true`.
   */
  async setState(state) {
    const data = await this._client.setState(state);
    return { state: data.state, previous: data.previous,
      relaunchPending: state === 'foreground' && data.state !== 'foreground' };
  }

  /** Bench-only: the app's state on the rig (`status`): `{ state, relaunchPending,
   *  suspendingUntil }` (`suspendingUntil`: the Suspending deadline in rig seconds, or null). */
  async getState() {
    const data = await this._client.status();
    return { state: data.app?.state ?? null, relaunchPending: data.relaunch_pending === true,
      suspendingUntil: data.suspending_until ?? null };
  }
}

/** The app object bound to `client` (several apps in one process). */
export const application = perClient((client) => new UwpApplication(client));
/** `Application.current`: the app object of the default client. */
export const Application = Object.freeze({ get current() { return application(); } });

/**
 * Bench-only (Windows has no API for it): the user opens an app that needs memory — seed 002,
 * "memory needs to be reclaimed in order for the user to open a new app in the foreground". The
 * rig's `reclaim_memory`: the app's active session is revoked (`revoked` with
 * `ExtendedExecutionRevokedReason.systemPolicy`, `detail.reason` `memory_pressure`) unless the
 * app is in the foreground. Resolves to `{ revoked: sessionId | null }`.
 */
export function reclaimMemory(client = defaultClient()) {
  return client.request('reclaim_memory', {});
}
