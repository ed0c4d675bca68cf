// Windows 10 UWP `Windows.ApplicationModel.ExtendedExecution`, against the rig's uwp policy
// (firmware_sim/platforms/uwp.py; seed 002). Enum values are the WinRT numbers, in the
// camelCase the JavaScript projection uses.
import { defaultClient } from './default.js';
import { report } from './facade.js';

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

  /** `Close()` / `Dispose()`: synchronous on Windows, a Promise here. */
  async close() {
    this._off();
    if (this._sessionId === null) return;
    const id = this._sessionId;
    this._sessionId = null;
    await this._client.request('dispose', { session_id: id });
  }
}

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
