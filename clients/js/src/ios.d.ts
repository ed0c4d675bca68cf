import type { WakebenchClient } from './index.js';

export const UIBackgroundTaskIdentifier: { invalid: 0 };

declare class BGTaskRequest {
  constructor(identifier: string);
  /** MQTT-topic id (`com-example-refresh`). */
  identifier: string;
  /** Rig seconds (absolute), the rig's `earliest_begin`; a JS Date (wall time) is refused. */
  earliestBeginDate: number | null;
  /** Bench extension: seconds from now. */
  earliestBeginDelay: number | null;
}
export class BGAppRefreshTaskRequest extends BGTaskRequest {}
export class BGProcessingTaskRequest extends BGTaskRequest {
  requiresNetworkConnectivity: boolean;
  requiresExternalPower: boolean;
}
export class BGTask {
  readonly identifier: string;
  /** Called on the rig's `expire` / `revoke` of this launch. */
  expirationHandler: (() => void) | null;
  /** iOS's is synchronous; the bench's returns a Promise. `success` or `{ success }`. */
  setTaskCompleted(success: boolean | { success: boolean }): Promise<Record<string, any>>;
}
export class BGAppRefreshTask extends BGTask {}
export class BGProcessingTask extends BGTask {}

export interface BGTaskSchedulerApi {
  /** Local as on iOS: false when the identifier already has a handler. */
  register(identifier: string, launchHandler: (task: BGTask) => void): boolean;
  /** iOS's is synchronous (`throws`); the bench's rejects with WakebenchError (`unavailable`, `too_many_pending_task_requests`). */
  submit(request: BGAppRefreshTaskRequest | BGProcessingTaskRequest): Promise<void>;
  cancel(identifier: string): Promise<void>;
  cancelAllTaskRequests(): Promise<void>;
  shared: BGTaskSchedulerApi;
}
export interface UIApplicationApi {
  /** iOS returns the identifier synchronously; the bench's resolves to it (0 = `.invalid`). */
  beginBackgroundTask(name: string | null, expirationHandler?: () => void): Promise<number>;
  /** iOS's is synchronous; the bench's returns a Promise. */
  endBackgroundTask(identifier: number): Promise<void>;
}
export const BGTaskScheduler: BGTaskSchedulerApi;
export const UIApplication: { shared: UIApplicationApi };
export const beginBackgroundTask: UIApplicationApi['beginBackgroundTask'];
export const endBackgroundTask: UIApplicationApi['endBackgroundTask'];
export function ios(client?: WakebenchClient): { BGTaskScheduler: BGTaskSchedulerApi; UIApplication: { shared: UIApplicationApi } };
