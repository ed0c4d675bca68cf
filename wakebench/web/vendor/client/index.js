// @wakebench/client: talk to a wakebench rig from Node ≥ 18 or a browser.
import { connect as connectClient, WakebenchClient } from './client.js';
import { useClient, defaultClient } from './default.js';

export { WakebenchClient, TOPIC_PREFIX, ID_PATTERN, DEFAULT_SESSION_EXPIRY_S, DEFAULT_TIMEOUT_S,
  MAX_BUFFERED_EVENTS, RECONNECT_PERIOD_MS } from './client.js';
export { WakebenchError, RequestTimeoutError, NotConnectedError } from './errors.js';
export { useClient, defaultClient };

/**
 * Connect an app to a rig; the client also becomes the facades' default (unless
 * `options.makeDefault` is false).
 */
export async function connect(url, options = {}) {
  const client = await connectClient(url, options);
  if (options.makeDefault !== false) useClient(client);
  return client;
}
