import type { WakebenchClient } from './index.js';

export enum NetworkType { NETWORK_TYPE_ANY = 0, NETWORK_TYPE_MOBILE, NETWORK_TYPE_WIFI, NETWORK_TYPE_BLUETOOTH, NETWORK_TYPE_WIFI_P2P, NETWORK_TYPE_ETHERNET }
export enum ChargingType { CHARGING_PLUGGED_ANY = 0, CHARGING_PLUGGED_AC, CHARGING_PLUGGED_USB, CHARGING_PLUGGED_WIRELESS }
export enum BatteryStatus { BATTERY_STATUS_LOW = 0, BATTERY_STATUS_OKAY, BATTERY_STATUS_LOW_OR_OKAY }
export enum StorageRequest { STORAGE_LEVEL_LOW = 0, STORAGE_LEVEL_OKAY, STORAGE_LEVEL_LOW_OR_OKAY }
export const ErrorCode: { PARAMETER_ERROR: 401; CHECK_WORKINFO_FAILED: 9700004; START_WORK_FAILED: 9700005 };

/** `workScheduler.WorkInfo` (OpenHarmony field names). */
export interface WorkInfo {
  workId: number;
  bundleName: string;
  abilityName: string;
  networkType?: NetworkType;
  isCharging?: boolean;
  chargerType?: ChargingType;
  batteryLevel?: number;
  batteryStatus?: BatteryStatus;
  storageRequest?: StorageRequest;
  isRepeat?: boolean;
  /** Milliseconds, at least 20 minutes. */
  repeatCycleTime?: number;
  repeatCount?: number;
  isPersisted?: boolean;
  isDeepIdle?: boolean;
  idleWaitTime?: number;
  parameters?: Record<string, number | string | boolean>;
}

/** `@ohos.base` BusinessError: 401, 9700004, 9700005 as numbers; bench-only codes as strings. */
export class BusinessError extends Error {
  code: number | string;
  data: Record<string, unknown>;
}

export type AsyncCallback<T> = (err: BusinessError | undefined, data: T | undefined) => void;

export interface WorkScheduler {
  NetworkType: typeof NetworkType; ChargingType: typeof ChargingType;
  BatteryStatus: typeof BatteryStatus; StorageRequest: typeof StorageRequest;
  /** OpenHarmony's is synchronous and throws BusinessError; the bench's returns a Promise that rejects with it. */
  startWork(work: WorkInfo): Promise<void>;
  /** OpenHarmony's is synchronous; the bench's returns a Promise. */
  stopWork(work: WorkInfo, needCancel?: boolean): Promise<void>;
  getWorkStatus(workId: number): Promise<WorkInfo>;
  getWorkStatus(workId: number, callback: AsyncCallback<WorkInfo>): void;
  obtainAllWorks(): Promise<WorkInfo[]>;
  obtainAllWorks(callback: AsyncCallback<WorkInfo[]>): void;
  /** OpenHarmony's is synchronous; the bench's returns a Promise. */
  stopAndClearWorks(): Promise<void>;
  isLastWorkTimeOut(workId: number): Promise<boolean>;
  isLastWorkTimeOut(workId: number, callback: AsyncCallback<boolean>): void;
}

/** Extend and override; register with `registerExtension` (module.json5 does it on a phone). */
export class WorkSchedulerExtensionAbility {
  /** `wake`: the work's conditions hold and its run starts. */
  onWorkStart(work: WorkInfo): void;
  /** `expire` (callback time limit) or `revoke` (a condition was lost). */
  onWorkStop(work: WorkInfo): void;
}

export const workScheduler: WorkScheduler;
export default workScheduler;
/** Bench-only: the app's WorkSchedulerExtensionAbility instance. */
export function registerExtension(extension: WorkSchedulerExtensionAbility): void;
/** The rig's `work_info` → a WorkInfo. */
export function toWorkInfo(info: Record<string, unknown>): WorkInfo;
export function harmonyos(client?: WakebenchClient): { workScheduler: WorkScheduler; registerExtension(e: WorkSchedulerExtensionAbility): void };
