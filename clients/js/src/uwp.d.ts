import type { WakebenchClient } from './index.js';

export enum ExtendedExecutionReason { unspecified = 0, locationTracking = 1, savingData = 2 }
export enum ExtendedExecutionResult { allowed = 0, denied = 1 }
export enum ExtendedExecutionRevokedReason { resumed = 0, systemPolicy = 1 }

export interface ExtendedExecutionRevokedEventArgs {
  reason: ExtendedExecutionRevokedReason;
  target: ExtendedExecutionSession;
  type: 'revoked';
  /** The rig's revoke event (`reason` names the cause: `system_policy`, `connected_standby`, ...). */
  detail: import('./index.js').RigEvent;
}

export class ExtendedExecutionSession {
  /** `client`: bench-only (default: the one `connect()` made). */
  constructor(client?: WakebenchClient);
  reason: ExtendedExecutionReason;
  description: string;
  percentProgress: number;
  onrevoked: ((args: ExtendedExecutionRevokedEventArgs) => void) | null;
  addEventListener(type: 'revoked', listener: (args: ExtendedExecutionRevokedEventArgs) => void): void;
  removeEventListener(type: 'revoked', listener: (args: ExtendedExecutionRevokedEventArgs) => void): void;
  /** Rejects with WakebenchError `0x8007139F` for a second active session (the real constructor throws it). */
  requestExtensionAsync(): Promise<ExtendedExecutionResult>;
  /** `Close()` is synchronous on Windows; the bench's returns a Promise, with `relaunched`: a
   *  relaunch waiting for this SavingData session (seed 002:44) is now in the foreground. */
  close(): Promise<{ relaunched: boolean }>;
}

/** The rig's pseudo-task of the Suspending event (`wake`, then `expire` reason `suspended`). */
export const SUSPENDING_TASK: 'suspending';

/** Advisory on the bench: the rig has no verb for it; the app is suspended at the deadline. */
export class SuspendingDeferral {
  readonly completed: boolean;
  complete(): void;
}

export class SuspendingOperation {
  /** Rig seconds (absolute), not a `Date`: a rig at `--speed` does not run on wall time. */
  readonly deadline: number;
  getDeferral(): SuspendingDeferral;
}

export interface SuspendingEventArgs {
  suspendingOperation: SuspendingOperation;
  target: UwpApplication;
  type: 'suspending';
  /** The rig's `wake` event of pseudo-task `suspending`. */
  detail: import('./index.js').RigEvent;
}

export type AppState = 'foreground' | 'background' | 'suspended' | 'terminated';

export class UwpApplication {
  constructor(client: WakebenchClient);
  onsuspending: ((args: SuspendingEventArgs) => void | Promise<void>) | null;
  /** `Application.Suspending += handler`; returns the function that removes it. */
  onSuspending(handler: (args: SuspendingEventArgs) => void | Promise<void>): () => void;
  addEventListener(type: 'suspending', listener: (args: SuspendingEventArgs) => void | Promise<void>): void;
  removeEventListener(type: 'suspending', listener: (args: SuspendingEventArgs) => void | Promise<void>): void;
  /** Bench-only: the rig's `state`; resolves to where the app actually is (a relaunch waiting for
   *  SavingData: `state: 'background'`, `relaunchPending: true`). */
  setState(state: AppState): Promise<{ state: AppState; previous: AppState; relaunchPending: boolean }>;
  /** Bench-only: the app's state on the rig (`status`). */
  getState(): Promise<{ state: AppState | null; relaunchPending: boolean; suspendingUntil: number | null }>;
}

/** The app object bound to `client` (default: the one `connect()` made). */
export function application(client?: WakebenchClient): UwpApplication;
/** `Application.current`: the default client's app object. */
export const Application: { readonly current: UwpApplication };

/** Bench-only: memory pressure (seed 002) revokes the app's session unless it is in the foreground. */
export function reclaimMemory(client?: WakebenchClient): Promise<{ revoked: string | null }>;
