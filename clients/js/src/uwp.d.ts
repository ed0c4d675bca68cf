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
  /** `Close()` is synchronous on Windows; the bench's returns a Promise. */
  close(): Promise<void>;
}

/** Bench-only: memory pressure (seed 002) revokes the app's session unless it is in the foreground. */
export function reclaimMemory(client?: WakebenchClient): Promise<{ revoked: string | null }>;
