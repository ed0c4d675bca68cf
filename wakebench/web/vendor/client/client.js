// A wakebench app client over MQTT.js 5: requests with transactions and MQTT 5 correlation,
// events in `seq` order (QoS 1 repeats dropped, gaps recorded), reconnect with session resume,
// and the rig's `bridge/state` as a subscribable value. The reference behaviour is the Python
// `mqtt_bridge.AppClient`; the topics are README "MQTT API" and mqtt_bridge/asyncapi.yaml.
import mqtt from 'mqtt';
import { WakebenchError, RequestTimeoutError, NotConnectedError } from './errors.js';
import { randomHex } from './random.js';

/** Topic prefix of every rig (README "MQTT API": `wakebench/<rig>`). */
export const TOPIC_PREFIX = 'wakebench';
/** Ids in topics: README "MQTT API" ("ids match [a-z0-9_-]+"), at most 64 characters (config.py). */
export const ID_PATTERN = /^[a-z0-9_-]{1,64}$/;
/** Session kept by the broker while the app is away (s): the Python AppClient's default. */
export const DEFAULT_SESSION_EXPIRY_S = 300;
/** Default wait for a connection or a response (s): the Python AppClient's default. */
export const DEFAULT_TIMEOUT_S = 10;
/** Events buffered per `events()` reader that does not keep up; the oldest go beyond it
 *  (the Python AppClient's MAX_BUFFERED_EVENTS). */
export const MAX_BUFFERED_EVENTS = 10_000;
/** Reconnect period (ms). The Python client backs off 0.1 s → 5 s; MQTT.js retries at a fixed
 *  period, 1 s by default (MQTT.js README, `reconnectPeriod`). */
export const RECONNECT_PERIOD_MS = 1000;

const isNode = typeof process !== 'undefined' && !!process.versions?.node && typeof window === 'undefined';

function checkId(kind, value) {
  if (typeof value !== 'string' || !ID_PATTERN.test(value)) {
    throw new WakebenchError('invalid_id', `${kind} id must match [a-z0-9_-]{1,64}, not ${JSON.stringify(value)}`);
  }
  return value;
}


/**
 * In Node, `mqtt://` and `mqtts://` go through our own socket with TCP_NODELAY: Node's default
 * socket (Nagle on) meets the broker's delayed ACK and makes each request round trip 14–49 ms
 * (issue #12; the Python AppClient sets TCP_NODELAY and gets ~1 ms). MQTT.js's own tcp builder
 * calls `net.createConnection({port, host, path})` with no way to pass `noDelay`.
 */
async function nodeStreamBuilder(url, options) {
  const u = new URL(url);
  const host = u.hostname;
  if (u.protocol === 'mqtt:' || u.protocol === 'tcp:') {
    const net = await import('node:net');
    const port = Number(u.port || 1883);
    return () => net.createConnection({ host, port, noDelay: options.noDelay !== false });
  }
  if (u.protocol === 'mqtts:' || u.protocol === 'ssl:') {
    const tls = await import('node:tls');
    const port = Number(u.port || 8883);
    return () => {
      const socket = tls.connect({
        host, port, servername: host, ca: options.ca, cert: options.cert, key: options.key,
        rejectUnauthorized: options.rejectUnauthorized ?? true,
      });
      socket.setNoDelay(options.noDelay !== false);
      return socket;
    };
  }
  return null;
}

/**
 * Connect an app to a rig. Resolves once connected and subscribed.
 *
 * @param {string} url `mqtt://host:port` (Node), `ws://host:port` / `wss://` (Node and browsers)
 * @param {import('./index.js').ConnectOptions} options
 * @returns {Promise<WakebenchClient>}
 */
export async function connect(url, options) {
  const client = new WakebenchClient(url, options);
  await client.open();
  return client;
}

export class WakebenchClient {
  constructor(url, { appId, rig = 'bench', timeout = DEFAULT_TIMEOUT_S, protocolVersion = 5,
    sessionExpiry = DEFAULT_SESSION_EXPIRY_S, resumeSession = true, username, password,
    ca, cert, key, rejectUnauthorized, reconnectPeriod = RECONNECT_PERIOD_MS, noDelay = true } = {}) {
    this.url = url;
    this.appId = checkId('app', appId);
    this.rig = checkId('rig', rig);
    this.timeout = timeout;
    this.protocolVersion = protocolVersion;
    this.lastSeq = 0;
    this._firstEvent = null; // JSON of the seq 1 event
    /** Missing seq ranges `[first, last]`: events the broker never delivered. */
    this.gaps = [];
    this.lastError = null;
    this.base = `${TOPIC_PREFIX}/${this.rig}`;
    this.appRoot = `${this.base}/apps/${this.appId}`;
    this._opts = { username, password, ca, cert, key, rejectUnauthorized, reconnectPeriod, sessionExpiry, resumeSession, noDelay };
    this._pending = new Map();
    this._eventListeners = new Set();
    /** The last events received (at most MAX_BUFFERED_EVENTS), oldest first. */
    this.history = [];
    this._readers = new Set();
    this._rigState = null;
    this._rigStateListeners = new Set();
    this._signals = null;
    this._signalsListeners = new Set();
    this._txPrefix = randomHex(4);
    this._txCounter = 0;
    this._mqtt = null;
  }

  /** Connect (called by `connect()`). Rejects with NotConnectedError after `timeout` s. */
  async open() {
    const o = this._opts;
    const mqttOptions = {
      clientId: this.appId,
      protocolVersion: this.protocolVersion,
      // resume the broker's session: events sent while the app was away arrive after reconnect
      clean: !o.resumeSession,
      reconnectPeriod: o.reconnectPeriod,
      connectTimeout: this.timeout * 1000,
      username: o.username, password: o.password,
      ca: o.ca, cert: o.cert, key: o.key,
      rejectUnauthorized: o.rejectUnauthorized,
      resubscribe: true,
    };
    if (this.protocolVersion === 5) {
      mqttOptions.properties = { sessionExpiryInterval: o.sessionExpiry };
    }
    const builder = isNode ? await nodeStreamBuilder(this.url, o) : null;
    if (builder) {
      const u = new URL(this.url);
      if (u.username && !mqttOptions.username) mqttOptions.username = decodeURIComponent(u.username);
      if (u.password && !mqttOptions.password) mqttOptions.password = decodeURIComponent(u.password);
      this._mqtt = new mqtt.MqttClient(builder, mqttOptions);
    } else {
      this._mqtt = mqtt.connect(this.url, mqttOptions);
    }
    const c = this._mqtt;
    c.on('message', (topic, payload, packet) => this._dispatch(topic, payload, packet));
    c.on('error', (err) => { this.lastError = `${err.name}: ${err.message}`; });
    c.on('close', () => { if (!this.lastError) this.lastError = 'connection closed'; });
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        cleanup();
        c.end(true);
        reject(new NotConnectedError(`${this.appId}: not connected to ${this.url} within ${this.timeout} s (${this.lastError || 'no answer'})`));
      }, this.timeout * 1000);
      const onConnect = () => { cleanup(); resolve(); };
      const cleanup = () => { clearTimeout(timer); c.off('connect', onConnect); };
      c.on('connect', onConnect);
    });
    await c.subscribeAsync({
      [`${this.appRoot}/events`]: { qos: 1 },
      [`${this.appRoot}/response/+`]: { qos: 1 },
      [`${this.base}/bridge/state`]: { qos: 1 },
      [`${this.base}/signals`]: { qos: 0 },
    });
    this.lastError = null;
    return this;
  }

  /** True while the MQTT connection is up. */
  get connected() { return !!this._mqtt?.connected; }

  /** Disconnect and stop reconnecting; pending requests reject with NotConnectedError. */
  async close() {
    for (const [, p] of this._pending) p.reject(new NotConnectedError(`${this.appId}: client closed`));
    this._pending.clear();
    for (const reader of this._readers) reader.end();
    if (this._mqtt) await this._mqtt.endAsync();
  }

  /** `register` with `platform` and platform settings; resolves to the response data. */
  register(platform, settings = {}) {
    return this.request('register', { platform, ...settings });
  }

  /**
   * Debug verb `force_run {task_id}`: start a waiting task now whatever holds it back (Xcode's
   * `_simulateLaunchForTaskWithIdentifier`, `adb shell cmd jobscheduler run -f`). Its events carry
   * `data.forced: true`; rejects with `unknown_task`, `invalid_state` or `not_supported`
   * (Capacitor, UWP).
   */
  forceRun(taskId) {
    return this.request('force_run', { task_id: taskId });
  }

  /** Debug verb `force_expire {task_id}`: a running task reaches its limit now. */
  forceExpire(taskId) {
    return this.request('force_expire', { task_id: taskId });
  }

  /** `status`: the app's tasks, and in `debug` per task `state`, `next_eligible`, budgets and `unmet`. */
  status() {
    return this.request('status', {});
  }

  /** Set the app state (`foreground` / `background` / `suspended` / `terminated`). */
  setState(state) {
    return this.request('state', { state });
  }

  /**
   * Send `verb` with `args`; resolves to the response's `data`, rejects with WakebenchError
   * (`code`, `message`, `data`) on an error answer, RequestTimeoutError without one in time.
   */
  async request(verb, args = {}, { timeout } = {}) {
    const response = await this.send(verb, args, { timeout });
    if (response.status !== 'ok') {
      throw new WakebenchError(String(response.code), String(response.error), response.data || {}, verb);
    }
    return response.data || {};
  }

  /** Send `verb` and resolve to the whole response (ok or error) without throwing on errors. */
  send(verb, args = {}, { timeout } = {}) {
    checkId('verb', verb);
    const limit = timeout ?? this.timeout;
    const transaction = `${this._txPrefix}-${++this._txCounter}`;
    const topic = `${this.appRoot}/request/${verb}`;
    const body = JSON.stringify({ ...args, transaction });
    const opts = { qos: 1 };
    if (this.protocolVersion === 5) {
      // MQTT 5 request/response (section 4.10): the bridge answers on the Response Topic with
      // this Correlation Data as well as on the app's own response topic
      opts.properties = {
        responseTopic: `${this.appRoot}/response/${verb}`,
        correlationData: new TextEncoder().encode(transaction),
      };
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this._pending.delete(transaction);
        reject(new RequestTimeoutError(`${this.appId}: no response to ${verb} within ${limit} s`));
      }, limit * 1000);
      this._pending.set(transaction, {
        resolve: (v) => { clearTimeout(timer); resolve(v); },
        reject: (e) => { clearTimeout(timer); reject(e); },
      });
      this._mqtt.publish(topic, body, opts, (err) => {
        if (err && this._pending.has(transaction)) {
          this._pending.get(transaction).reject(new NotConnectedError(`${this.appId}: ${verb} was not sent: ${err.message}`));
          this._pending.delete(transaction);
        }
      });
    });
  }

  /**
   * Events in `seq` order, each once, from now on, as an async iterator. Each call is its own
   * reader; `break` out of the loop ends it.
   */
  events() {
    const queue = [];
    let wake = null;
    let done = false;
    const reader = {
      push(event) {
        if (queue.length >= MAX_BUFFERED_EVENTS) queue.shift();
        queue.push(event);
        if (wake) { wake(); wake = null; }
      },
      end() { done = true; if (wake) { wake(); wake = null; } },
    };
    this._readers.add(reader);
    const readers = this._readers;
    return {
      [Symbol.asyncIterator]() { return this; },
      async next() {
        while (!queue.length && !done) await new Promise((r) => { wake = r; });
        if (queue.length) return { value: queue.shift(), done: false };
        return { value: undefined, done: true };
      },
      async return() { readers.delete(reader); done = true; return { value: undefined, done: true }; },
    };
  }

  /**
   * The next event matching `predicate` (all events by default), within `timeout` s; with
   * `since` (a seq) an already received later event counts too. Rejects with RequestTimeoutError.
   */
  nextEvent(predicate = () => true, { timeout, since } = {}) {
    const limit = timeout ?? this.timeout;
    if (since !== undefined) {
      const seen = this.history.find((e) => e.seq > since && predicate(e));
      if (seen) return Promise.resolve(seen);
    }
    return new Promise((resolve, reject) => {
      const off = this.onEvent((event) => {
        if (predicate(event)) { off(); clearTimeout(timer); resolve(event); }
      });
      const timer = setTimeout(() => { off(); reject(new RequestTimeoutError(`${this.appId}: no matching event within ${limit} s`)); }, limit * 1000);
    });
  }

  /** Call `listener(event)` for every event (seq order, once each); returns the unsubscribe function. */
  onEvent(listener) {
    this._eventListeners.add(listener);
    return () => this._eventListeners.delete(listener);
  }

  /** The rig's last `bridge/state` (`"online"` / `"offline"`), null before the first one. */
  get rigState() { return this._rigState; }

  /**
   * Observe `bridge/state`: `listener(state)` now (if known) and on every change; returns an
   * object with `unsubscribe()` (the shape of an Observable subscription).
   */
  subscribeRigState(listener) {
    this._rigStateListeners.add(listener);
    if (this._rigState !== null) listener(this._rigState);
    return { unsubscribe: () => this._rigStateListeners.delete(listener) };
  }

  /** The rig's last `signals` snapshot (with `t`, `ts`, `stale`), null before the first one. */
  get signals() { return this._signals; }

  /** Observe the `signals` snapshots (called at once when known); returns `{ unsubscribe() }`. */
  subscribeSignals(listener) {
    this._signalsListeners.add(listener);
    if (this._signals !== null) listener(this._signals);
    return { unsubscribe: () => this._signalsListeners.delete(listener) };
  }

  /**
   * Publish signal values (`signals/set`, e.g. `{ charger: 'none' }`) and resolve with the first
   * snapshot that shows them all, within `timeout` s (the topic itself has no reply).
   */
  setSignalsAndWait(values, { timeout } = {}) {
    const limit = timeout ?? this.timeout;
    const shows = (snap) => snap && Object.entries(values).every(([k, v]) => snap[k] === v);
    return new Promise((resolve, reject) => {
      let sub = null;
      const timer = setTimeout(() => {
        sub?.unsubscribe();
        reject(new RequestTimeoutError(`${this.appId}: the rig did not show ${JSON.stringify(values)} within ${limit} s`));
      }, limit * 1000);
      this.setSignals(values).then(() => {
        sub = this.subscribeSignals((snap) => {
          if (shows(snap)) { clearTimeout(timer); sub?.unsubscribe(); resolve(snap); }
        });
        if (shows(this._signals)) { clearTimeout(timer); sub.unsubscribe(); resolve(this._signals); }
      }, (err) => { clearTimeout(timer); reject(err); });
    });
  }

  /** Publish signal values to the rig (`signals/set`, e.g. `{ charger: 'none' }`); no reply. */
  setSignals(values) {
    return this._mqtt.publishAsync(`${this.base}/signals/set`, JSON.stringify(values), { qos: 1 });
  }

  _dispatch(topic, payload, packet) {
    let body;
    try {
      body = JSON.parse(new TextDecoder().decode(payload));
    } catch {
      return; // not JSON: nothing of the API (the Python AppClient ignores it too)
    }
    if (body === null || typeof body !== 'object') return;
    if (topic === `${this.appRoot}/events`) { this._onEvent(body); return; }
    if (topic === `${this.base}/bridge/state`) {
      if (body.state !== this._rigState) {
        this._rigState = body.state;
        for (const l of [...this._rigStateListeners]) l(body.state);
      }
      return;
    }
    if (topic === `${this.base}/signals`) {
      this._signals = body;
      for (const l of [...this._signalsListeners]) l(body);
      return;
    }
    let tx = body.transaction;
    const corr = packet?.properties?.correlationData;
    if (tx === undefined && corr) tx = new TextDecoder().decode(corr);
    const pending = this._pending.get(String(tx));
    if (pending) {
      this._pending.delete(String(tx));
      pending.resolve(body);
    }
  }

  _onEvent(event) {
    const seq = event.seq;
    if (!Number.isInteger(seq)) return;
    const text = seq === 1 ? JSON.stringify(event) : null;
    // the rig started over with fresh state, unless this is a repeat of its seq 1 (QoS 1, or
    // published again after a broker restart)
    if (seq === 1 && this.lastSeq > 1 && text !== this._firstEvent) this.lastSeq = 0;
    if (seq === 1) this._firstEvent = text;
    if (seq <= this.lastSeq) return; // a QoS 1 repeat
    if (seq > this.lastSeq + 1) this.gaps.push([this.lastSeq + 1, seq - 1]);
    this.lastSeq = seq;
    this.history.push(event);
    if (this.history.length > MAX_BUFFERED_EVENTS) this.history.shift();
    for (const reader of this._readers) reader.push(event);
    for (const l of [...this._eventListeners]) l(event);
  }
}
