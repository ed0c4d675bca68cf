// Android WorkManager (androidx.work), against the rig's android policy
// (firmware_sim/platforms/android.py; reference/platform-budgets.md section 2).
import { perClient, report } from './facade.js';
import { randomUUID } from './random.js';

/** `NetworkType` (androidx.work), as the rig names them. */
export const NetworkType = Object.freeze({
  NOT_REQUIRED: 'not_required', CONNECTED: 'connected', UNMETERED: 'unmetered',
  NOT_ROAMING: 'not_roaming', METERED: 'metered', TEMPORARILY_UNMETERED: 'temporarily_unmetered',
});
/** `java.util.concurrent.TimeUnit`, as seconds per unit. */
export const TimeUnit = Object.freeze({ MILLISECONDS: 0.001, SECONDS: 1, MINUTES: 60, HOURS: 3600, DAYS: 86400 });
/** `BackoffPolicy`. */
export const BackoffPolicy = Object.freeze({ EXPONENTIAL: 'exponential', LINEAR: 'linear' });

/** `ListenableWorker.Result`. */
export const Result = Object.freeze({
  success: () => ({ result: 'success' }),
  retry: () => ({ result: 'retry' }),
  failure: () => ({ result: 'failure' }),
});

export class Constraints {
  constructor(fields = {}) {
    this.requiredNetworkType = fields.requiredNetworkType ?? NetworkType.NOT_REQUIRED;
    this.requiresCharging = !!fields.requiresCharging;
    this.requiresBatteryNotLow = !!fields.requiresBatteryNotLow;
    this.requiresStorageNotLow = !!fields.requiresStorageNotLow;
    this.requiresDeviceIdle = !!fields.requiresDeviceIdle;
  }
  toArgs() {
    return {
      required_network_type: this.requiredNetworkType, requires_charging: this.requiresCharging,
      requires_battery_not_low: this.requiresBatteryNotLow, requires_storage_not_low: this.requiresStorageNotLow,
      requires_device_idle: this.requiresDeviceIdle,
    };
  }
  static Builder = class {
    constructor() { this.fields = {}; }
    setRequiredNetworkType(t) { this.fields.requiredNetworkType = t; return this; }
    setRequiresCharging(v) { this.fields.requiresCharging = v; return this; }
    setRequiresBatteryNotLow(v) { this.fields.requiresBatteryNotLow = v; return this; }
    setRequiresStorageNotLow(v) { this.fields.requiresStorageNotLow = v; return this; }
    setRequiresDeviceIdle(v) { this.fields.requiresDeviceIdle = v; return this; }
    build() { return new Constraints(this.fields); }
  };
  static NONE = new Constraints();
}

/** Base class of the app's workers: override `doWork()` (may be async) and `onStopped()`. */
export class Worker {
  constructor(context = null, params = {}) {
    this.context = context;
    this.params = params;
    this.isStopped = false;
  }
  doWork() { return Result.success(); }
  onStopped() {}
  getRunAttemptCount() { return this.params.runAttemptCount ?? 0; }
  getId() { return this.params.id; }
}

class WorkRequestBuilder {
  constructor(workerClass) {
    this.workerClass = workerClass;
    this.args = {};
    this.constraints = null;
  }
  setConstraints(c) { this.constraints = c; return this; }
  setInitialDelay(duration, unit = TimeUnit.SECONDS) { this.args.initial_delay = duration * unit; return this; }
  setBackoffCriteria(policy, duration, unit = TimeUnit.SECONDS) {
    this.args.backoff_policy = policy; this.args.backoff_delay = duration * unit; return this;
  }
}

class WorkRequest {
  constructor(type, builder) {
    this.type = type;
    /** A lowercase UUID, like WorkRequest.getId() (a valid rig id). */
    this.id = randomUUID();
    this.workerClass = builder.workerClass;
    this.args = { ...builder.args };
    this.constraints = builder.constraints;
  }
  getId() { return this.id; }
}

export class OneTimeWorkRequest extends WorkRequest {
  static Builder = class extends WorkRequestBuilder {
    build() { return new OneTimeWorkRequest('one_time', this); }
  };
  static from(workerClass) { return new OneTimeWorkRequest.Builder(workerClass).build(); }
}

export class PeriodicWorkRequest extends WorkRequest {
  static Builder = class extends WorkRequestBuilder {
    /** `(worker, repeatInterval, unit[, flexInterval, flexUnit])`: intervals under 15 min are
     *  clamped by the rig, with WorkManager's warning in `enqueue`'s result. */
    constructor(workerClass, repeatInterval, unit = TimeUnit.SECONDS, flexInterval, flexUnit = unit) {
      super(workerClass);
      this.args.repeat_interval = repeatInterval * unit;
      if (flexInterval !== undefined) this.args.flex_interval = flexInterval * flexUnit;
    }
    build() { return new PeriodicWorkRequest('periodic', this); }
  };
}

const facade = perClient((client) => {
  const workers = new Map(); // work id → worker class
  const running = new Map(); // work id → worker instance

  client.onEvent((event) => {
    if (event.platform !== 'android') return;
    const id = event.task_id;
    if (event.type === 'wake' && workers.has(id)) {
      const WorkerClass = workers.get(id);
      const worker = new WorkerClass(null, { id, runAttemptCount: event.data?.run_attempt_count ?? 0 });
      running.set(id, worker);
      runWorker(id, worker);
    } else if ((event.type === 'revoke' || event.type === 'expire') && running.has(id)) {
      const worker = running.get(id);
      running.delete(id);
      worker.isStopped = true;
      try { worker.onStopped(event); } catch (err) { report(client, 'onStopped', err); }
    }
  });

  async function runWorker(id, worker) {
    let outcome;
    try {
      outcome = await worker.doWork();
    } catch (err) {
      report(client, 'doWork', err);
      outcome = Result.failure(); // WorkManager treats a throwing doWork as failure
    }
    if (worker.isStopped) return; // stopped by the rig: its result is ignored, as on Android
    running.delete(id);
    const result = outcome?.result ?? 'failure';
    try {
      await client.request('finish', { id, result });
    } catch (err) {
      report(client, 'Worker result', err);
    }
  }

  const WorkManager = {
    getInstance() { return WorkManager; },
    /** Android's enqueue returns an Operation at once; the bench's resolves to the rig's answer
     *  for the last request (with `warnings`, e.g. a clamped interval). */
    async enqueue(requests) {
      let last;
      for (const request of Array.isArray(requests) ? requests : [requests]) {
        workers.set(request.id, request.workerClass);
        const args = { type: request.type, id: request.id, ...request.args };
        if (request.constraints) args.constraints = request.constraints.toArgs();
        try {
          last = await client.request('enqueue', args);
        } catch (err) {
          workers.delete(request.id);
          throw err;
        }
      }
      return last;
    },
    async cancelWorkById(id) { await client.request('cancel', { id }); },
  };
  return { WorkManager };
});

/** The facade bound to `client` (several apps in one process). */
export const android = facade;
export const WorkManager = {
  getInstance: () => WorkManager,
  enqueue: (requests) => facade().WorkManager.enqueue(requests),
  cancelWorkById: (id) => facade().WorkManager.cancelWorkById(id),
};

/**
 * `androidx.work.testing.WorkManagerTestInitHelper.getTestDriver()`: the test driver's calls
 * start the work now on the rig (the debug verb `force_run`, like `adb shell cmd jobscheduler
 * run -f`), whatever constraint or delay holds it back. Android's are synchronous; these return
 * Promises rejecting with `unknown_task` / `invalid_state`. The work's `wake` carries
 * `data.forced: true`.
 */
export class TestDriver {
  constructor(client) { this._client = client; }
  setAllConstraintsMet(workSpecId) { return this._client.forceRun(String(workSpecId)); }
  setInitialDelayMet(workSpecId) { return this._client.forceRun(String(workSpecId)); }
  setPeriodDelayMet(workSpecId) { return this._client.forceRun(String(workSpecId)); }
}
const drivers = perClient((client) => new TestDriver(client));
export const WorkManagerTestInitHelper = {
  /** The driver of the default client, or of `client`. */
  getTestDriver: (client) => drivers(client),
};
