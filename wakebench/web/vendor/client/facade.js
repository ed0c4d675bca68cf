// Shared plumbing of the platform facades: one facade object per client (cached), module-level
// objects that follow the default client, and error reporting for calls the real API makes
// synchronously (they cannot throw here, so failures are reported, never lost).
import { defaultClient } from './default.js';
import { randomHex } from './random.js';

/** `make(client)` once per client; `bound(make)()` uses the default client at call time. */
export function perClient(make) {
  const cache = new WeakMap();
  return (client = defaultClient()) => {
    let facade = cache.get(client);
    if (!facade) {
      facade = make(client);
      cache.set(client, facade);
    }
    return facade;
  };
}

/**
 * Report a failure of fire-and-forget work (a callback that threw, a request that failed where
 * the real API returns nothing): kept on `client.facadeErrors` and passed to
 * `client.onFacadeError` listeners, or printed with console.error when nobody listens.
 */
export function report(client, where, error) {
  client.facadeErrors ??= [];
  client.facadeErrors.push({ where, error });
  const listeners = client.facadeErrorListeners;
  if (listeners && listeners.size) {
    for (const l of [...listeners]) l(error, where);
  } else {
    console.error(`wakebench ${where}:`, error);
  }
}

/** Listen to failures `report` records for `client`; returns the unsubscribe function. */
export function onFacadeError(client, listener) {
  client.facadeErrorListeners ??= new Set();
  client.facadeErrorListeners.add(listener);
  return () => client.facadeErrorListeners.delete(listener);
}

/** `promise`, marked handled (failures go to `report`) but still rejecting for an awaiting caller. */
export function reported(client, where, promise) {
  promise.catch((err) => report(client, where, err));
  return promise;
}

/** A task id the rig accepts (`[a-z0-9_-]`), unique per process. */
export function newId(prefix) {
  return `${prefix}-${randomHex(4)}`;
}
