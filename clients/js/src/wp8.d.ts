import type { WakebenchClient, RigEvent } from './index.js';

declare class ScheduledTask {
  constructor(name: string);
  name: string;
  description: string;
  /** Rig seconds (absolute) or a duration such as "7d"; null: the longest allowed (under 14 days). */
  expirationTime: number | string | null;
  isScheduled?: boolean;
}
export class PeriodicTask extends ScheduledTask {}
export class ResourceIntensiveTask extends ScheduledTask {}

/** Extend: `onInvoke` runs on the rig's `wake`, `onCancel` on `revoke` / `expire`. */
export class ScheduledTaskAgent {
  constructor(client?: WakebenchClient);
  onInvoke(task: PeriodicTask | ResourceIntensiveTask): void | Promise<void>;
  onCancel(event?: RigEvent): void;
  /** Synchronous on the phone; a Promise here. */
  notifyComplete(): Promise<Record<string, any>>;
  /** Synchronous on the phone; a Promise here. */
  abort(): Promise<Record<string, any>>;
}

export interface ScheduledActionServiceApi {
  /** `Add` is synchronous on the phone (throws InvalidOperationException); rejects with WakebenchError here. */
  add(action: PeriodicTask | ResourceIntensiveTask): Promise<Record<string, any>>;
  remove(name: string): Promise<void>;
  /** `delay` in rig seconds or a duration string ("30s"). */
  launchForTest(name: string, delay: number | string): Promise<void>;
  /** Bench-only: the agent class (a new instance per run, as on the phone) or one instance. */
  registerAgent(agent: (new (client: WakebenchClient) => ScheduledTaskAgent) | ScheduledTaskAgent): void;
}
export const ScheduledActionService: ScheduledActionServiceApi;
export function wp8(client?: WakebenchClient): { ScheduledActionService: ScheduledActionServiceApi };
