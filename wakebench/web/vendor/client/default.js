// The client the facades use when code calls the platform API without naming a connection
// (as platform code does). `connect()` sets it; `useClient()` changes it.
import { WakebenchError } from './errors.js';

let current = null;

/** Make `client` the one the facades' module-level objects talk to. */
export function useClient(client) {
  current = client;
}

/** The facades' client; throws `no_client` before `connect()` / `useClient()`. */
export function defaultClient() {
  if (!current) {
    throw new WakebenchError('no_client', 'no wakebench connection: call connect(url, { appId, rig }) first');
  }
  return current;
}
