// Types of @wakebench/client (hand-written: the package runs as plain ESM with no build step).

/** Options of `connect()`. */
export interface ConnectOptions {
  /** App id (`[a-z0-9_-]{1,64}`), also the MQTT client id (per-app ACLs apply). */
  appId: string;
  /** Rig id (default `bench`). */
  rig?: string;
  /** Seconds to wait for a connection or a response (default 10). */
  timeout?: number;
  /** 5 (default; Response Topic + Correlation Data) or 4 (MQTT 3.1.1). */
  protocolVersion?: 4 | 5;
  /** Seconds the broker keeps the session while the app is away (default 300). */
  sessionExpiry?: number;
  /** Resume the broker's session of this app id (default true): events sent while away arrive. */
  resumeSession?: boolean;
  username?: string;
  password?: string;
  /** TLS (Node, `mqtts://` / `wss://`): CA, client certificate and key (PEM). */
  ca?: string | Uint8Array;
  cert?: string | Uint8Array;
  key?: string | Uint8Array;
  rejectUnauthorized?: boolean;
  /** Milliseconds between reconnect attempts (default 1000). */
  reconnectPeriod?: number;
  /** Node TCP/TLS only: TCP_NODELAY (default true). false is Node's default socket, whose
   *  round trips wait for delayed ACKs (14–49 ms each, issue #12); for measurements only. */
  noDelay?: boolean;
  /** Make this client the facades' default (default true). */
  makeDefault?: boolean;
}

/** `data` of an ok `force_run` / `force_expire` (asyncapi `ForceResponseData`; platforms add fields). */
export interface ForceResponseData {
  task_id: string;
  forced: 'run' | 'expire';
  state: string;
  [field: string]: unknown;
}

/** One task in `status` `data.debug` (asyncapi `TaskDebug`), like `dumpsys jobscheduler`. */
export interface TaskDebug {
  state: string | null;
  /** Rig seconds; null while it runs. */
  next_eligible: number | null;
  budget_s: number | null;
  budget_used_s: number | null;
  budget_left_s: number | null;
  /** Conditions holding it back, by name ("unsatisfied constraints"). */
  unmet: string[];
}

/** `data` of an ok `status` (asyncapi `StatusResponseData`; the platform adds its own fields). */
export interface StatusResponseData {
  app: Record<string, any>;
  seq: number;
  tasks: Record<string, Record<string, any>>;
  debug: Record<string, TaskDebug>;
  [field: string]: unknown;
}

/** One event on `apps/<app>/events` (mqtt_bridge/asyncapi.yaml `Event`). */
export interface RigEvent {
  type: 'wake' | 'expire' | 'revoke' | 'terminate' | 'unscheduled';
  app: string;
  platform: 'ios' | 'capacitor' | 'uwp' | 'wp8' | 'harmonyos' | 'android';
  task_id: string | null;
  reason: string | null;
  /** Rig seconds since start. */
  t: number;
  /** Wall time, ISO-8601 UTC. */
  ts: string;
  /** Rig seconds, or null. */
  deadline: number | null;
  /** Per app, +1 per event, gap-free on the rig. */
  seq: number;
  signals: Record<string, unknown>;
  data?: Record<string, unknown>;
}

export interface RigResponse {
  status: 'ok' | 'error';
  data?: Record<string, any>;
  code?: string;
  error?: string;
  transaction?: string;
}

export type RigState = 'online' | 'offline';

export class WakebenchClient {
  constructor(url: string, options: ConnectOptions);
  readonly url: string;
  readonly appId: string;
  readonly rig: string;
  /** Highest event seq delivered. */
  lastSeq: number;
  /** Missing seq ranges `[first, last]` (events the broker never delivered). */
  gaps: Array<[number, number]>;
  /** The last events received, oldest first (bounded). */
  history: RigEvent[];
  lastError: string | null;
  readonly connected: boolean;
  /** The last `bridge/state`, null before the first. */
  readonly rigState: RigState | null;
  open(): Promise<this>;
  close(): Promise<void>;
  register(platform: string, settings?: Record<string, unknown>): Promise<Record<string, any>>;
  setState(state: 'foreground' | 'background' | 'suspended' | 'terminated'): Promise<Record<string, any>>;
  /** Debug verb `force_run`: start a waiting task now (events carry `data.forced: true`); rejects
   *  with `unknown_task`, `invalid_state`, `not_supported` (Capacitor, UWP). */
  forceRun(taskId: string): Promise<ForceResponseData>;
  /** Debug verb `force_expire`: a running task reaches its limit now. */
  forceExpire(taskId: string): Promise<ForceResponseData>;
  /** `status` with `debug` per task (asyncapi `StatusResponseData`). */
  status(): Promise<StatusResponseData>;
  /** Resolves to the response's `data`; rejects with WakebenchError (`code`, `message`, `data`). */
  request(verb: string, args?: Record<string, unknown>, options?: { timeout?: number }): Promise<Record<string, any>>;
  /** The whole response, ok or error, without throwing on an error answer. */
  send(verb: string, args?: Record<string, unknown>, options?: { timeout?: number }): Promise<RigResponse>;
  /** Events in seq order, each once, from the call on. */
  events(): AsyncIterableIterator<RigEvent>;
  nextEvent(predicate?: (event: RigEvent) => boolean, options?: { timeout?: number; since?: number }): Promise<RigEvent>;
  onEvent(listener: (event: RigEvent) => void): () => void;
  /** Observe `bridge/state` (called at once when known). */
  subscribeRigState(listener: (state: RigState) => void): { unsubscribe(): void };
  /** The last `signals` snapshot (with `t`, `ts`, `stale`), null before the first. */
  readonly signals: Record<string, any> | null;
  subscribeSignals(listener: (snapshot: Record<string, any>) => void): { unsubscribe(): void };
  /** Publish to `signals/set` and resolve with the first snapshot showing every value. */
  setSignalsAndWait(values: Record<string, unknown>, options?: { timeout?: number }): Promise<Record<string, any>>;
  /** Publish to `signals/set` (no reply; errors go to `bridge/event`). */
  setSignals(values: Record<string, unknown>): Promise<unknown>;
}

export class WakebenchError extends Error {
  constructor(code: string, message: string, data?: Record<string, unknown>, verb?: string);
  /** Machine-readable: `unknown_task`, `invalid_args`, `rate_limited`, `timeout`, `not_connected`, ... */
  code: string;
  data: Record<string, unknown>;
  verb?: string;
}
export class RequestTimeoutError extends WakebenchError {}
export class NotConnectedError extends WakebenchError {}

/** Connect; in Node `mqtt://` uses a TCP_NODELAY socket, `ws://` / `wss://` work everywhere. */
export function connect(url: string, options: ConnectOptions): Promise<WakebenchClient>;
export function useClient(client: WakebenchClient): void;
export function defaultClient(): WakebenchClient;

export const TOPIC_PREFIX: 'wakebench';
export const ID_PATTERN: RegExp;
export const DEFAULT_SESSION_EXPIRY_S: number;
export const DEFAULT_TIMEOUT_S: number;
export const MAX_BUFFERED_EVENTS: number;
export const RECONNECT_PERIOD_MS: number;
