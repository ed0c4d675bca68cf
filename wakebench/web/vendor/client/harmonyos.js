// HarmonyOS `@ohos.resourceschedule.workScheduler` and `WorkSchedulerExtensionAbility`, against
// the rig's harmonyos policy (firmware_sim/platforms/harmonyos.py; seed 004; OpenHarmony
// work_sched_errors.h for the codes). Enum values are the OpenHarmony numbers.
import { perClient, report } from './facade.js';
import { WakebenchError } from './errors.js';

/** `workScheduler.NetworkType` (OpenHarmony API 9). */
export const NetworkType = Object.freeze({
  NETWORK_TYPE_ANY: 0, NETWORK_TYPE_MOBILE: 1, NETWORK_TYPE_WIFI: 2, NETWORK_TYPE_BLUETOOTH: 3,
  NETWORK_TYPE_WIFI_P2P: 4, NETWORK_TYPE_ETHERNET: 5,
});
/** `workScheduler.ChargingType`. */
export const ChargingType = Object.freeze({
  CHARGING_PLUGGED_ANY: 0, CHARGING_PLUGGED_AC: 1, CHARGING_PLUGGED_USB: 2, CHARGING_PLUGGED_WIRELESS: 3,
});
/** `workScheduler.BatteryStatus`. */
export const BatteryStatus = Object.freeze({
  BATTERY_STATUS_LOW: 0, BATTERY_STATUS_OKAY: 1, BATTERY_STATUS_LOW_OR_OKAY: 2,
});
/** `workScheduler.StorageRequest`. */
export const StorageRequest = Object.freeze({
  STORAGE_LEVEL_LOW: 0, STORAGE_LEVEL_OKAY: 1, STORAGE_LEVEL_LOW_OR_OKAY: 2,
});
/** Error codes (OpenHarmony work_sched_errors.h / errorcode-workScheduler). */
export const ErrorCode = Object.freeze({ PARAMETER_ERROR: 401, CHECK_WORKINFO_FAILED: 9700004, START_WORK_FAILED: 9700005 });

// the rig's canonical enum names (harmonyos.py NETWORK_TYPES ...) → the numbers above
const ENUM_NUMBERS = {
  network_type: { any: 0, mobile: 1, wifi: 2, bluetooth: 3, wifi_p2p: 4, ethernet: 5 },
  charger_type: { plugged_any: 0, ac: 1, usb: 2, wireless: 3 },
  battery_status: { low: 0, okay: 1, low_or_okay: 2 },
  storage_request: { low: 0, okay: 1, low_or_okay: 2 },
};

/** `@ohos.base` BusinessError: `code` is the number OpenHarmony uses (bench-only codes stay strings). */
export class BusinessError extends Error {
  constructor(code, message, data = {}) {
    super(message);
    this.name = 'BusinessError';
    this.code = code;
    this.data = data;
  }
}

/** Base class of the app's extension; override `onWorkStart` / `onWorkStop` (WorkInfo argument). */
export class WorkSchedulerExtensionAbility {
  onWorkStart(_work) {}
  onWorkStop(_work) {}
}

function camel(key) {
  return key.replace(/_([a-z])/g, (_m, c) => c.toUpperCase());
}

/** The rig's work_info (snake_case, enum names) → a WorkInfo (camelCase, enum numbers). */
export function toWorkInfo(info) {
  const out = {};
  for (const [key, value] of Object.entries(info || {})) {
    const numbers = ENUM_NUMBERS[key];
    out[camel(key)] = numbers && typeof value === 'string' && value in numbers ? numbers[value] : value;
  }
  return out;
}

function businessError(err) {
  if (err instanceof WakebenchError && err.code !== 'timeout' && err.code !== 'not_connected') {
    const n = Number(err.code);
    return new BusinessError(Number.isInteger(n) ? n : err.code, err.message, err.data);
  }
  return err;
}

const facade = perClient((client) => {
  let ability = null;
  const running = new Map(); // task_id → WorkInfo of a started work

  client.onEvent((event) => {
    if (event.platform !== 'harmonyos') return;
    if (event.type === 'wake') {
      const work = toWorkInfo(event.data?.work_info);
      running.set(event.task_id, work);
      call('onWorkStart', work);
    } else if (event.type === 'expire' || event.type === 'revoke') {
      const work = running.get(event.task_id);
      running.delete(event.task_id);
      if (work) call('onWorkStop', work);
    }
  });

  function call(name, work) {
    if (!ability) return;
    try {
      const out = ability[name](work);
      if (out && typeof out.then === 'function') out.then(undefined, (err) => report(client, `${name}`, err));
    } catch (err) {
      report(client, name, err);
    }
  }

  async function req(verb, args) {
    try {
      return await client.request(verb, args);
    } catch (err) {
      throw businessError(err);
    }
  }

  const workScheduler = {
    NetworkType, ChargingType, BatteryStatus, StorageRequest,
    /** OpenHarmony's is synchronous (throws BusinessError); the bench's returns a Promise. */
    async startWork(work) { await req('start_work', { ...work }); },
    /** OpenHarmony's is synchronous; the bench's returns a Promise. */
    async stopWork(work, needCancel = false) {
      await req('stop_work', { work: { ...work }, need_cancel: needCancel });
    },
    /** Promise form (the callback form is `getWorkStatus(workId, callback)`). */
    getWorkStatus(workId, callback) {
      const p = req('get_work_status', { work_id: workId }).then((d) => toWorkInfo(d.work_info));
      return withCallback(p, callback);
    },
    obtainAllWorks(callback) {
      const p = req('obtain_all_works', {}).then((d) => d.works.map((w) => toWorkInfo(w.work_info)));
      return withCallback(p, callback);
    },
    /** OpenHarmony's is synchronous; the bench's returns a Promise. */
    async stopAndClearWorks() { await req('stop_and_clear_works', {}); },
    isLastWorkTimeOut(workId, callback) {
      const p = req('is_last_work_time_out', { work_id: workId }).then((d) => d.timed_out);
      return withCallback(p, callback);
    },
  };

  /** Bench-only: the app's extension ability (on a phone module.json5 declares it). */
  function registerExtension(extension) {
    ability = extension;
  }

  return { workScheduler, registerExtension };
});

function withCallback(promise, callback) {
  if (typeof callback !== 'function') return promise;
  promise.then((value) => callback(undefined, value), (err) => callback(err, undefined));
  return undefined;
}

/** The facade bound to `client` (several apps in one process). */
export const harmonyos = facade;
export const workScheduler = {
  NetworkType, ChargingType, BatteryStatus, StorageRequest,
  startWork: (work) => facade().workScheduler.startWork(work),
  stopWork: (work, needCancel) => facade().workScheduler.stopWork(work, needCancel),
  getWorkStatus: (workId, callback) => facade().workScheduler.getWorkStatus(workId, callback),
  obtainAllWorks: (callback) => facade().workScheduler.obtainAllWorks(callback),
  stopAndClearWorks: () => facade().workScheduler.stopAndClearWorks(),
  isLastWorkTimeOut: (workId, callback) => facade().workScheduler.isLastWorkTimeOut(workId, callback),
};
export const registerExtension = (extension) => facade().registerExtension(extension);
export default workScheduler;
