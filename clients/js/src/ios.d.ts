import type { WakebenchClient, RigEvent, ForceResponseData } from './index.js';

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
  /** Xcode's debugger helper: the rig's `force_run` (the launch handler runs; `data.forced`). */
  _simulateLaunchForTaskWithIdentifier(identifier: string): Promise<ForceResponseData>;
  /** Xcode's debugger helper: the rig's `force_expire` (the expirationHandler runs). */
  _simulateExpirationForTaskWithIdentifier(identifier: string): Promise<ForceResponseData>;
  shared: BGTaskSchedulerApi;
}
export interface UIApplicationApi {
  /** iOS returns the identifier synchronously; the bench's resolves to it (0 = `.invalid`). */
  beginBackgroundTask(name: string | null, expirationHandler?: () => void): Promise<number>;
  /** iOS's is synchronous; the bench's returns a Promise. */
  endBackgroundTask(identifier: number): Promise<void>;
  /** The app's delegate methods the rig's launches call; null until set. */
  delegate: UIApplicationDelegate | null;
}

export const UIBackgroundFetchResult: { readonly newData: 0; readonly noData: 1; readonly failed: 2 };
export type UIBackgroundFetchResultValue = 0 | 1 | 2;

/** `UIApplicationDelegate`, the methods the bench calls. */
export interface UIApplicationDelegate {
  /** `application(_:didReceiveRemoteNotification:fetchCompletionHandler:)` on a `push` launch
   *  (`wake` of `background_notification`); `userInfo` is the last push's payload. Calling
   *  `completionHandler` ends the launch (`set_task_completed`; `failed` reports no success). */
  didReceiveRemoteNotification?(userInfo: unknown, completionHandler: (result: UIBackgroundFetchResultValue) => Promise<Record<string, any>>, event: RigEvent): void | Promise<void>;
  /** `application(_:handleEventsForBackgroundURLSession:completionHandler:)` when a background
   *  transfer ends (`wake`, data type `url_session`). */
  handleEventsForBackgroundURLSession?(identifier: string, completionHandler: () => Promise<Record<string, any>>, event: RigEvent): void | Promise<void>;
}

export class URLSessionConfiguration {
  constructor(identifier: string);
  readonly identifier: string;
  /** `URLSessionConfiguration.background(withIdentifier:)`; an MQTT-topic id. */
  static background(identifier: string): URLSessionConfiguration;
}
export class URLSession {
  constructor(configuration: URLSessionConfiguration, client?: WakebenchClient);
  readonly configuration: URLSessionConfiguration;
  /** Bench: `duration` (s) is how long the transfer takes; `resume()` starts it (`url_session_download`). */
  downloadTask(options: { duration: number }): { resume(): Promise<{ session: string; completes_at: number }> };
}

/** The rig's `push` answer. */
export interface PushResult {
  delivered: boolean;
  /** Rig seconds of the launch, null when not delivered at all (app swiped away). */
  deliver_at: number | null;
  /** Pushes waiting to coalesce into the next launch. */
  pending: number;
  reason?: string;
}
/** Bench side of APNs (`xcrun simctl push`): a background notification; launches at most every 15 min (seed 001). */
export function simulateRemoteNotification(payload?: unknown): Promise<PushResult>;
export const BGTaskScheduler: BGTaskSchedulerApi;
export const UIApplication: { shared: UIApplicationApi };
export const beginBackgroundTask: UIApplicationApi['beginBackgroundTask'];
export const endBackgroundTask: UIApplicationApi['endBackgroundTask'];
export function ios(client?: WakebenchClient): {
  BGTaskScheduler: BGTaskSchedulerApi;
  UIApplication: { shared: UIApplicationApi };
  simulateRemoteNotification(payload?: unknown): Promise<PushResult>;
};
