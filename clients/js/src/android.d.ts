import type { WakebenchClient, RigEvent, ForceResponseData } from './index.js';

export const NetworkType: {
  NOT_REQUIRED: 'not_required'; CONNECTED: 'connected'; UNMETERED: 'unmetered';
  NOT_ROAMING: 'not_roaming'; METERED: 'metered'; TEMPORARILY_UNMETERED: 'temporarily_unmetered';
};
export type NetworkTypeValue = typeof NetworkType[keyof typeof NetworkType];
/** Seconds per unit. */
export const TimeUnit: { MILLISECONDS: number; SECONDS: number; MINUTES: number; HOURS: number; DAYS: number };
export const BackoffPolicy: { EXPONENTIAL: 'exponential'; LINEAR: 'linear' };

export interface WorkResult { result: 'success' | 'retry' | 'failure' }
export const Result: { success(): WorkResult; retry(): WorkResult; failure(): WorkResult };

export class Constraints {
  requiredNetworkType: NetworkTypeValue;
  requiresCharging: boolean;
  requiresBatteryNotLow: boolean;
  requiresStorageNotLow: boolean;
  requiresDeviceIdle: boolean;
  static NONE: Constraints;
  static Builder: new () => {
    setRequiredNetworkType(t: NetworkTypeValue): any; setRequiresCharging(v: boolean): any;
    setRequiresBatteryNotLow(v: boolean): any; setRequiresStorageNotLow(v: boolean): any;
    setRequiresDeviceIdle(v: boolean): any; build(): Constraints;
  };
}

/** Extend: `doWork()` runs on the rig's `wake`; its Result is sent as `finish`. */
export class Worker {
  constructor(context?: unknown, params?: { id?: string; runAttemptCount?: number });
  isStopped: boolean;
  doWork(): WorkResult | Promise<WorkResult>;
  /** The rig revoked (constraint lost) or expired (10-minute limit) the run. */
  onStopped(event?: RigEvent): void;
  getRunAttemptCount(): number;
  getId(): string;
}
type WorkerClass = new (context?: unknown, params?: any) => Worker;

interface RequestBuilder<R> {
  setConstraints(c: Constraints): this;
  setInitialDelay(duration: number, unit?: number): this;
  setBackoffCriteria(policy: 'exponential' | 'linear', duration: number, unit?: number): this;
  build(): R;
}
export class OneTimeWorkRequest {
  /** A lowercase UUID (a valid rig id). */
  readonly id: string;
  getId(): string;
  static Builder: new (worker: WorkerClass) => RequestBuilder<OneTimeWorkRequest>;
  static from(worker: WorkerClass): OneTimeWorkRequest;
}
export class PeriodicWorkRequest {
  readonly id: string;
  getId(): string;
  /** Intervals under 15 minutes are clamped by the rig (the warning is in enqueue's result). */
  static Builder: new (worker: WorkerClass, repeatInterval: number, unit?: number, flexInterval?: number, flexUnit?: number) => RequestBuilder<PeriodicWorkRequest>;
}

export interface WorkManagerApi {
  getInstance(): WorkManagerApi;
  /** Android's returns an Operation at once; the bench's resolves to the rig's answer (with `warnings`). */
  enqueue(request: OneTimeWorkRequest | PeriodicWorkRequest | Array<OneTimeWorkRequest | PeriodicWorkRequest>): Promise<Record<string, any>>;
  cancelWorkById(id: string): Promise<void>;
}
export const WorkManager: WorkManagerApi;
export function android(client?: WakebenchClient): { WorkManager: WorkManagerApi };

/** `WorkManagerTestInitHelper.getTestDriver()`'s driver: each call is the rig's `force_run` of the
 *  work (Android's are synchronous; Promises here, rejecting with `unknown_task` / `invalid_state`). */
export class TestDriver {
  constructor(client: WakebenchClient);
  setAllConstraintsMet(workSpecId: string): Promise<ForceResponseData>;
  setInitialDelayMet(workSpecId: string): Promise<ForceResponseData>;
  setPeriodDelayMet(workSpecId: string): Promise<ForceResponseData>;
}
export const WorkManagerTestInitHelper: { getTestDriver(client?: WakebenchClient): TestDriver };
