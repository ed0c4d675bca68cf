// Capacitor's App and BackgroundTask plugins (seed 000, Capacitor 2 `Plugins`), against the rig.
// Seed 000's example runs with only its import changed:
//   import { Plugins } from '@wakebench/client/capacitor';
import { perClient, reported, report, newId } from './facade.js';

const facade = perClient((client) => {
  const stateListeners = new Set();
  let isActive = true;

  const App = {
    /** `appStateChange` fires when `setActive()` (the bench's home button) changes the state. */
    addListener(eventName, listener) {
      if (eventName !== 'appStateChange') {
        throw new TypeError(`the bench's App plugin has only 'appStateChange', not ${JSON.stringify(eventName)}`);
      }
      stateListeners.add(listener);
      const handle = { remove: async () => { stateListeners.delete(listener); } };
      return handle;
    },
    async getState() { return { isActive }; },
    async removeAllListeners() { stateListeners.clear(); },
  };

  const BackgroundTask = {
    /**
     * Start a background task and run `callback` in it. Returns the CallbackID at once, as
     * Capacitor does; the rig's `before_exit` is sent with it and `callback` runs when the rig
     * has accepted it (a refusal is reported, see facade.js `report`).
     */
    beforeExit(callback) {
      const taskId = newId('cb');
      reported(client, 'BackgroundTask.beforeExit', client.request('before_exit', { task_id: taskId })
        .then(() => {
          try {
            const out = callback();
            if (out && typeof out.then === 'function') out.then(undefined, (err) => report(client, 'beforeExit callback', err));
          } catch (err) {
            report(client, 'beforeExit callback', err);
          }
        }));
      return taskId;
    },
    /** End the task. Capacitor's is synchronous; the bench's returns a Promise (failures also reported). */
    finish({ taskId }) {
      return reported(client, 'BackgroundTask.finish', client.request('finish', { task_id: taskId }).then(() => undefined));
    },
  };

  /** The bench's home button: the app leaves (false) or returns to (true) the foreground. */
  async function setActive(active) {
    await client.setState(active ? 'foreground' : 'background');
    isActive = active;
    for (const l of [...stateListeners]) l({ isActive });
  }

  return { App, BackgroundTask, Plugins: { App, BackgroundTask }, setActive };
});

/** The facade bound to `client` (several apps in one process). */
export const capacitor = facade;
export const App = {
  addListener: (eventName, listener) => facade().App.addListener(eventName, listener),
  getState: () => facade().App.getState(),
  removeAllListeners: () => facade().App.removeAllListeners(),
};
export const BackgroundTask = {
  beforeExit: (callback) => facade().BackgroundTask.beforeExit(callback),
  finish: (options) => facade().BackgroundTask.finish(options),
};
export const Plugins = { App, BackgroundTask };
export const setActive = (active) => facade().setActive(active);
