// iOS BGTaskScheduler and UIApplication background tasks, against the rig's ios policy
// (firmware_sim/platforms/ios.py; seed 001). Identifiers must be MQTT-topic ids
// (`com-example-refresh`, not `com.example.refresh`).
import { perClient, report, reported } from './facade.js';
import { defaultClient } from './default.js';

/** `UIBackgroundTaskIdentifier.invalid`: what beginBackgroundTask returns without background time. */
export const UIBackgroundTaskIdentifier = Object.freeze({ invalid: 0 });

class BGTaskRequest {
  constructor(identifier) {
    this.identifier = identifier;
    /** Rig seconds (absolute), as the rig's `earliest_begin`; null: no delay. A JS `Date` is
     *  wall time, which a rig at `--speed` does not share, so it is not accepted. */
    this.earliestBeginDate = null;
    /** Bench extension: seconds from now (`Date(timeIntervalSinceNow:)`). */
    this.earliestBeginDelay = null;
  }
}
export class BGAppRefreshTaskRequest extends BGTaskRequest {}
export class BGProcessingTaskRequest extends BGTaskRequest {
  constructor(identifier) {
    super(identifier);
    this.requiresNetworkConnectivity = false;
    this.requiresExternalPower = false;
  }
}

/** A launched task: set `expirationHandler`, call `setTaskCompleted({ success })` or `(success)`. */
export class BGTask {
  constructor(client, identifier) {
    this._client = client;
    this.identifier = identifier;
    this.expirationHandler = null;
  }
  /** iOS's is synchronous; the bench's returns a Promise (failures also reported). */
  setTaskCompleted(success) {
    const ok = typeof success === 'object' && success !== null ? !!success.success : !!success;
    const p = this._client.request('set_task_completed', { identifier: this.identifier, success: ok });
    p.catch((err) => report(this._client, 'BGTask.setTaskCompleted', err));
    return p;
  }
}
export class BGAppRefreshTask extends BGTask {}
export class BGProcessingTask extends BGTask {}

function safely(client, where, fn, ...args) {
  try {
    const out = fn(...args);
    if (out && typeof out.then === 'function') out.then(undefined, (err) => report(client, where, err));
  } catch (err) {
    report(client, where, err);
  }
}

/** `UIBackgroundFetchResult`: what a remote-notification completion handler reports. */
export const UIBackgroundFetchResult = Object.freeze({ newData: 0, noData: 1, failed: 2 });

/** `URLSessionConfiguration.background(withIdentifier:)`: the session id is an MQTT-topic id. */
export class URLSessionConfiguration {
  constructor(identifier) { this.identifier = identifier; }
  static background(identifier) { return new URLSessionConfiguration(identifier); }
}

/** A background `URLSession`: `downloadTask({ duration })` runs outside the app; when it ends the
 *  system calls the delegate's `handleEventsForBackgroundURLSession(identifier, completionHandler)`. */
export class URLSession {
  constructor(configuration, client = defaultClient()) {
    this.configuration = configuration;
    this._client = client;
  }
  /** Bench: no URL is fetched; `duration` (s) is how long the transfer takes. `resume()` starts
   *  it and resolves to `{ session, completes_at }` (rig seconds). */
  downloadTask({ duration }) {
    const client = this._client;
    const session = this.configuration.identifier;
    return { resume: () => client.request('url_session_download', { session, duration }) };
  }
}

const facade = perClient((client) => {
  const handlers = new Map(); // identifier → launch handler
  const launched = new Map(); // identifier → BGTask
  const bgHandlers = new Map(); // 'bg-N' → expiration handler

  const delegate = {}; // UIApplication.shared.delegate: the app's UIApplicationDelegate methods
  const completion = (id, where) => (result) => {
    const success = result !== UIBackgroundFetchResult.failed;
    return reported(client, where, client.request('set_task_completed', { identifier: id, success }));
  };

  client.onEvent((event) => {
    if (event.platform !== 'ios') return;
    const id = event.task_id;
    if (event.type === 'wake' && event.data?.type === 'push') {
      const handler = delegate.current?.didReceiveRemoteNotification;
      if (handler) {
        safely(client, 'didReceiveRemoteNotification', handler.bind(delegate.current), event.data.payload ?? null,
          completion(id, 'didReceiveRemoteNotification completionHandler'), event);
      }
    } else if (event.type === 'wake' && event.data?.type === 'url_session') {
      const handler = delegate.current?.handleEventsForBackgroundURLSession;
      if (handler) {
        const done = event.data.launched === false ? () => Promise.resolve({}) : completion(id, 'handleEventsForBackgroundURLSession completionHandler');
        safely(client, 'handleEventsForBackgroundURLSession', handler.bind(delegate.current), id, done, event);
      }
    } else if (event.type === 'wake' && handlers.has(id)) {
      const task = event.data?.type === 'processing' ? new BGProcessingTask(client, id) : new BGAppRefreshTask(client, id);
      launched.set(id, task);
      safely(client, `launch handler ${id}`, handlers.get(id), task);
    } else if ((event.type === 'expire' || event.type === 'revoke') && launched.has(id)) {
      const task = launched.get(id);
      launched.delete(id);
      if (task.expirationHandler) safely(client, `expirationHandler ${id}`, task.expirationHandler);
    } else if (event.type === 'expire' && bgHandlers.has(id)) {
      const handler = bgHandlers.get(id);
      if (handler) safely(client, `expirationHandler ${id}`, handler);
    }
  });

  const BGTaskScheduler = {
    /** Local, as on iOS (no rig round trip): true, or false when already registered. */
    register(identifier, launchHandler) {
      if (handlers.has(identifier)) return false;
      handlers.set(identifier, launchHandler);
      return true;
    },
    /** iOS's is synchronous (`throws`); the bench's returns a Promise rejecting with the rig's error. */
    async submit(request) {
      const args = {
        type: request instanceof BGProcessingTaskRequest ? 'processing' : 'refresh',
        identifier: request.identifier,
      };
      if (request.earliestBeginDate instanceof Date) {
        throw new TypeError('earliestBeginDate: give rig seconds (a number) or earliestBeginDelay; a Date is wall time');
      }
      if (request.earliestBeginDate != null) args.earliest_begin = request.earliestBeginDate;
      if (request.earliestBeginDelay != null) args.earliest_begin_delay = request.earliestBeginDelay;
      if (request instanceof BGProcessingTaskRequest) {
        args.requires_network_connectivity = !!request.requiresNetworkConnectivity;
        args.requires_external_power = !!request.requiresExternalPower;
      }
      await client.request('submit', args);
    },
    async cancel(identifier) { await client.request('cancel', { identifier }); },
    async cancelAllTaskRequests() { await client.request('cancel', { all: true }); },
    /** Xcode's debugger helper (`e -l objc -- (void)[[BGTaskScheduler sharedScheduler]
     *  _simulateLaunchForTaskWithIdentifier:@"ID"]`): the rig's `force_run`. */
    _simulateLaunchForTaskWithIdentifier(identifier) { return client.forceRun(identifier); },
    /** `_simulateExpirationForTaskWithIdentifier:`: the rig's `force_expire` (the expirationHandler runs). */
    _simulateExpirationForTaskWithIdentifier(identifier) { return client.forceExpire(identifier); },
  };
  BGTaskScheduler.shared = BGTaskScheduler;

  const application = {
    /** iOS returns the identifier synchronously; the bench's resolves to it (0 = `.invalid`). */
    async beginBackgroundTask(name, expirationHandler) {
      const data = await client.request('begin_background_task', name ? { name } : {});
      if (data.identifier) bgHandlers.set(data.task_id, expirationHandler || null);
      return data.identifier;
    },
    /** iOS's is synchronous; the bench's returns a Promise. */
    async endBackgroundTask(identifier) {
      await client.request('end_background_task', { identifier });
      bgHandlers.delete(`bg-${identifier}`);
    },
  };
  Object.defineProperty(application, 'delegate', {
    get: () => delegate.current ?? null,
    set: (value) => { delegate.current = value; },
    enumerable: true,
  });
  const UIApplication = { shared: application };

  /** Bench side of APNs (`xcrun simctl push`): a background notification (`content-available: 1`)
   *  for this app, the rig's `push`. Resolves to `{ delivered, deliver_at, pending }`: launches
   *  come at most every 15 minutes (seed 001), pushes in between coalesce into one. */
  const simulateRemoteNotification = (payload) => client.request('push', payload === undefined ? {} : { payload });

  return { BGTaskScheduler, UIApplication, URLSession, simulateRemoteNotification };
});

/** The facade bound to `client` (several apps in one process). */
export const ios = facade;
export const BGTaskScheduler = {
  register: (identifier, handler) => facade().BGTaskScheduler.register(identifier, handler),
  submit: (request) => facade().BGTaskScheduler.submit(request),
  cancel: (identifier) => facade().BGTaskScheduler.cancel(identifier),
  cancelAllTaskRequests: () => facade().BGTaskScheduler.cancelAllTaskRequests(),
};
BGTaskScheduler.shared = BGTaskScheduler;
export const UIApplication = {
  shared: {
    beginBackgroundTask: (name, handler) => facade().UIApplication.shared.beginBackgroundTask(name, handler),
    endBackgroundTask: (id) => facade().UIApplication.shared.endBackgroundTask(id),
  },
};
Object.defineProperty(UIApplication.shared, 'delegate', {
  get: () => facade().UIApplication.shared.delegate,
  set: (value) => { facade().UIApplication.shared.delegate = value; },
  enumerable: true,
});
BGTaskScheduler._simulateLaunchForTaskWithIdentifier = (identifier) => facade().BGTaskScheduler._simulateLaunchForTaskWithIdentifier(identifier);
BGTaskScheduler._simulateExpirationForTaskWithIdentifier = (identifier) => facade().BGTaskScheduler._simulateExpirationForTaskWithIdentifier(identifier);
export const simulateRemoteNotification = (payload) => facade().simulateRemoteNotification(payload);
export const beginBackgroundTask = UIApplication.shared.beginBackgroundTask;
export const endBackgroundTask = UIApplication.shared.endBackgroundTask;
