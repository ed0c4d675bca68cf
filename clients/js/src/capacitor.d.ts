import type { WakebenchClient } from './index.js';

export type CallbackID = string;
export interface AppState { isActive: boolean }
export interface PluginListenerHandle { remove(): Promise<void> }

export interface AppPlugin {
  addListener(eventName: 'appStateChange', listener: (state: AppState) => void): PluginListenerHandle;
  getState(): Promise<AppState>;
  removeAllListeners(): Promise<void>;
}
export interface BackgroundTaskPlugin {
  /** Returns the CallbackID at once (as Capacitor); `callback` runs once the rig accepted the task. */
  beforeExit(callback: () => void | Promise<void>): CallbackID;
  /** Capacitor's is synchronous (`void`); the bench's returns a Promise (failures are also reported). */
  finish(options: { taskId: CallbackID }): Promise<void>;
}

export const App: AppPlugin;
export const BackgroundTask: BackgroundTaskPlugin;
export const Plugins: { App: AppPlugin; BackgroundTask: BackgroundTaskPlugin };
/** Bench-only home button: `state` → background (false) / foreground (true), then `appStateChange`. */
export function setActive(isActive: boolean): Promise<void>;
/** The facade bound to one client (several apps in one process). */
export function capacitor(client?: WakebenchClient): {
  App: AppPlugin; BackgroundTask: BackgroundTaskPlugin;
  Plugins: { App: AppPlugin; BackgroundTask: BackgroundTaskPlugin };
  setActive(isActive: boolean): Promise<void>;
};
