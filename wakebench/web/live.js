// wakebench live view: one rig's timeline, app panels and (when the rig enables them) controls,
// fed over MQTT WebSockets straight from the broker (README "MQTT API"). The page's own server
// (wakebench/webserver.py) only gives the configuration, the history before the page opened and
// per-app `status` data; everything live comes from the broker.
//
// The viewer has its own client id and never connects as an app (an app's client id is its app
// id; taking it would disconnect the app under test). It subscribes to `wakebench/<rig>/#`, so
// it also sees the requests and responses of the controls it sends.
import mqtt from "mqtt";
import { mount, formatT, ENDING_VERBS } from "./timeline.js";
import { TOPIC_PREFIX, ID_PATTERN, DEFAULT_TIMEOUT_S, RECONNECT_PERIOD_MS } from "./vendor/client/client.js";
import { randomHex } from "./vendor/client/random.js";

/** At most one `status` read per app this often (ms): events come in bursts. wakebench choice. */
export const STATUS_DEBOUNCE_MS = 500;
/** How often the rig clock estimate moves open runs and countdowns along (ms). wakebench choice. */
export const TICK_MS = 250;
/** Requests seen on the broker remembered to pair with their responses. wakebench choice. */
export const MAX_REMEMBERED_REQUESTS = 1000;
/** Lines kept in the log strip at the bottom. wakebench choice. */
export const MAX_LOG_LINES = 200;
/** The controls: signal values the bench can set (`bridge/request/set_signals`). */
export const SIGNAL_CONTROLS = [
  ["pull charger", { charger: "none" }], ["plug charger", { charger: "ac" }],
  ["lock", { screen_locked: true }], ["unlock", { screen_locked: false }],
  ["drop Wi-Fi", { network: "none" }], ["Wi-Fi back", { network: "wifi" }],
];
/** Faults the controls offer: label → `bridge/request/inject_fault` payload (wbcommon/faults.py),
 * each for 30 s of rig time so a bench left alone recovers by itself. */
export const FAULTS = [
  ["gauge NACK", { gauge: "nack", for: 30 }], ["gauge garbage", { gauge: "garbage", for: 30 }],
  ["gauge stuck", { gauge: "stuck", for: 30 }], ["charger pin stuck", { charger: "stuck", for: 30 }],
  ["network flap", { network: "flap", for: 5 }], ["clear gauge", { gauge: "clear" }],
];

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const live = {
  ready: false, rig: null, config: null, timeline: null, arrivals: [], errors: [], results: [],
  rigNow: 0, connected: false,
};
window.wbLive = live;

function log(line) {
  const el = $("wbl-log");
  const lines = (el.textContent ? el.textContent.split("\n") : []).concat(line).slice(-MAX_LOG_LINES);
  el.textContent = lines.join("\n");
  el.scrollTop = el.scrollHeight;
}

function fail(message) {
  const el = $("wbl-error");
  el.hidden = false;
  el.textContent = message;
}

function json(payload) {
  if (!payload || !payload.length) return null;
  try {
    return JSON.parse(new TextDecoder().decode(payload));
  } catch {
    return undefined; // not JSON: nothing of the API
  }
}

// -- state ---------------------------------------------------------------------------------------
const apps = new Map(); // app id -> {id, platform, state, tasks: Map, status, panel}
const lastSeq = new Map(); // app id -> last event seq shown
const requests = new Map(); // transaction -> {app, verb, args}
const pending = new Map(); // our transaction -> {label, resolve}
let lastSignalsT = -Infinity;
let clock = { t: 0, wall: performance.now(), speed: 1 };
let timeline = null;

function rigNow() {
  return clock.t + ((performance.now() - clock.wall) / 1000) * clock.speed;
}

function seeT(t) {
  if (typeof t === "number" && t >= clock.t) clock = { ...clock, t, wall: performance.now() };
}

function app(id) {
  let a = apps.get(id);
  if (!a) {
    a = { id, platform: "", state: "", tasks: new Map(), status: null, panel: null, statusTimer: null };
    apps.set(id, a);
  }
  return a;
}

function push(rec) {
  timeline.push(rec);
  live.arrivals.push({ kind: rec.kind, type: rec.type, app: rec.app, task_id: rec.task_id, reason: rec.reason,
    t: rec.t, charger: rec.charger, wallMs: performance.now() });
  if (live.arrivals.length > 10_000) live.arrivals.shift();
}

/** One record of the history or of the broker, deduplicated (events by seq, signals by t). */
function take(rec) {
  if (!rec || typeof rec.t !== "number") return;
  seeT(rec.t);
  if (rec.kind === "signals") {
    if (rec.t <= lastSignalsT) return;
    lastSignalsT = rec.t;
  } else if (rec.kind === "event") {
    const seq = rec.seq;
    if (Number.isInteger(seq)) {
      const last = lastSeq.get(rec.app) ?? 0;
      if (seq <= last && !(seq === 1 && last > 1)) return; // a repeat (seq 1 again: fresh state)
      lastSeq.set(rec.app, seq);
    }
    const a = app(rec.app);
    if (rec.platform) a.platform = rec.platform;
    refreshStatus(a);
  } else if (rec.kind === "app_state") {
    const a = app(rec.app);
    if (a.platform === (rec.platform || a.platform) && a.state === rec.state) return;
    if (rec.platform) a.platform = rec.platform;
    a.state = rec.state;
    renderApp(a);
    refreshStatus(a);
  }
  push(rec);
}

// -- MQTT ----------------------------------------------------------------------------------------
function onMessage(topic, payload) {
  const base = `${TOPIC_PREFIX}/${live.rig}/`;
  if (!topic.startsWith(base)) return;
  const rest = topic.slice(base.length).split("/");
  const body = json(payload);
  if (rest[0] === "signals" && rest.length === 1) {
    if (body) take({ kind: "signals", ...body });
  } else if (rest[0] === "bridge") {
    onBridge(rest, body);
  } else if (rest[0] === "apps" && rest.length >= 3) {
    onApp(rest[1], rest.slice(2), body);
  }
}

function onBridge(rest, body) {
  if (rest[1] === "state" && body) {
    const badge = $("wbl-state");
    badge.textContent = body.state;
    badge.className = `wbl-badge ${body.state}`;
  } else if (rest[1] === "info" && body) {
    clock = { ...clock, speed: Number(body.speed) || 1 };
    $("wbl-info").textContent = `board ${body.board} · ×${body.speed} · v${body.version}`;
    live.info = body;
  } else if (rest[1] === "event" && body) {
    log(`${formatT(body.t ?? rigNow())}  ${body.type}  ${JSON.stringify(body.data ?? {})}`);
  } else if (rest[1] === "request" && body) {
    remember(body.transaction, { app: null, verb: rest[2], args: body });
  } else if (rest[1] === "response" && body) {
    answered(body);
  }
}

function onApp(id, rest, body) {
  if (!ID_PATTERN.test(id)) return;
  if (rest[0] === "events" && body) {
    const last = lastSeq.get(id) ?? 0;
    if (live.ready && Number.isInteger(body.seq) && body.seq > last + 1 && body.seq !== 1
        && refilledAt.get(id) !== body.seq) {
      refilledAt.set(id, body.seq); // events are missing before this one: the history has them
      held.push([`${TOPIC_PREFIX}/${live.rig}/apps/${id}/events`, new TextEncoder().encode(JSON.stringify(body))]);
      refill();
      return;
    }
    take({ kind: "event", ...body, app: body.app ?? id });
  } else if (rest[0] === "state" && body) {
    take({ kind: "app_state", t: body.t ?? rigNow(), app: id, platform: body.platform, state: body.state });
  } else if (rest[0] === "tasks" && rest.length >= 2) {
    const a = app(id);
    const taskId = decodeURIComponent(rest.slice(1).join("/"));
    if (body && typeof body === "object") a.tasks.set(String(body.task_id ?? taskId), body);
    else a.tasks.delete(taskId);
    renderApp(a);
    refreshStatus(a);
  } else if (rest[0] === "request" && body) {
    const { transaction, ...args } = body;
    remember(transaction, { app: id, verb: rest[1], args });
  } else if (rest[0] === "response" && body) {
    const asked = requests.get(String(body.transaction));
    if (asked && body.status === "ok" && ENDING_VERBS.has(asked.verb)) {
      // a task the app ended itself: the run ends here on the timeline
      take({ kind: "response", t: rigNow(), app: id, verb: asked.verb, status: "ok", args: asked.args,
        data: body.data || {} });
    }
    answered(body);
  }
}

function remember(transaction, what) {
  if (transaction === undefined || transaction === null) return;
  requests.set(String(transaction), what);
  if (requests.size > MAX_REMEMBERED_REQUESTS) requests.delete(requests.keys().next().value);
}

function answered(body) {
  const mine = pending.get(String(body.transaction));
  if (!mine) return;
  pending.delete(String(body.transaction));
  mine.resolve(body);
}

// -- controls ------------------------------------------------------------------------------------
let client = null;
let txCounter = 0;
const txPrefix = `web-${randomHex(3)}`;

/** Publish a request and show its answer (ok, or the coded error) next to the controls. */
function send(topic, args, label) {
  const transaction = `${txPrefix}-${++txCounter}`;
  const shown = $("wbl-result");
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      pending.delete(transaction);
      resolve({ status: "error", code: "timeout", error: `no answer within ${DEFAULT_TIMEOUT_S} s` });
    }, DEFAULT_TIMEOUT_S * 1000);
    pending.set(transaction, { label, resolve: (b) => { clearTimeout(timer); resolve(b); } });
    client.publish(topic, JSON.stringify({ ...args, transaction }), { qos: 1 });
  }).then((body) => {
    const ok = body.status === "ok";
    const text = ok ? `${label}: ok` : `${label}: ${body.code}: ${body.error}`;
    live.results.push({ label, status: body.status, code: body.code ?? null, error: body.error ?? null });
    if (shown) {
      shown.textContent = text;
      shown.className = `wbl-result${ok ? "" : " error"}`;
    }
    log(text);
    return body;
  });
}

function button(label, onClick) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = label;
  b.addEventListener("click", onClick);
  return b;
}

function buildControls() {
  const el = $("wbl-controls");
  el.hidden = false;
  const base = `${TOPIC_PREFIX}/${live.rig}`;
  for (const [label, values] of SIGNAL_CONTROLS) {
    el.append(button(label, () => send(`${base}/bridge/request/set_signals`, values, label)));
  }
  const fault = document.createElement("select");
  fault.id = "wbl-fault";
  FAULTS.forEach(([label], i) => fault.append(new Option(label, String(i))));
  el.append(fault, button("inject fault", () => {
    const [label, payload] = FAULTS[Number(fault.value)];
    send(`${base}/bridge/request/inject_fault`, payload, `inject fault: ${label}`);
  }));
  const result = document.createElement("span");
  result.id = "wbl-result";
  result.className = "wbl-result";
  el.append(result);
}

// -- app panels ----------------------------------------------------------------------------------
function refreshStatus(a) {
  if (!live.config || live.config.rig !== live.rig) return;
  if (a.statusTimer) {
    a.statusDirty = true; // read again once the pending read is done: the last change counts
    return;
  }
  a.statusDirty = false;
  a.statusTimer = setTimeout(async () => {
    try {
      const r = await fetch(`api/status/${encodeURIComponent(a.id)}`);
      if (r.ok) a.status = await r.json();
    } catch {
      // the page stays up without the status details; the next change asks again
    }
    a.statusTimer = null;
    renderApp(a);
    if (a.statusDirty) refreshStatus(a);
  }, STATUS_DEBOUNCE_MS);
}

/** "used 0:00:12 · 0:09:48 left" for a run with a start and a deadline (rig s). */
function countdown(deadline, started) {
  if (typeof deadline !== "number") return "";
  const now = rigNow();
  const used = typeof started === "number" ? `used ${formatT(Math.floor(now - started))} · ` : "";
  const left = deadline - now;
  return used + (left > 0 ? `${formatT(Math.ceil(left))} left` : "due");
}

function deadlineOf(task) {
  return task.deadline ?? task.run?.deadline ?? null;
}

function startedOf(task) {
  return task.started ?? task.run?.started ?? null;
}

function summary(value, depth = 0) {
  if (value === null || typeof value !== "object") return String(value);
  if (Array.isArray(value)) return `[${value.map((v) => summary(v, depth + 1)).join(", ")}]`;
  if (depth > 1) return JSON.stringify(value);
  return Object.entries(value).map(([k, v]) => `${k}: ${summary(v, depth + 1)}`).join(depth ? ", " : "\n");
}

function unmetOf(obj) {
  // conditions a task waits for, by name, wherever the status puts them ("unmet", "waiting_for" ...)
  const out = [];
  const walk = (v, key) => {
    const named = key && /unmet|waiting_for|blocked_by/.test(key);
    if (named && Array.isArray(v)) {
      if (v.length) out.push(`${key}: ${v.join(", ")}`);
    } else if (named && v && typeof v === "object") {
      if (Object.keys(v).length) out.push(`${key}: ${Object.keys(v).join(", ")}`);
    } else if (named && v) {
      out.push(`${key}: ${v}`);
    } else if (v && typeof v === "object") {
      for (const [k, w] of Object.entries(v)) walk(w, k);
    }
  };
  walk(obj, "");
  return [...new Set(out)];
}

function renderApp(a) {
  const root = $("wbl-apps");
  if (!a.panel) {
    a.panel = document.createElement("div");
    a.panel.className = "wbl-app";
    a.panel.dataset.app = a.id;
    const panels = [...root.children].filter((p) => p.dataset.app < a.id);
    root.insertBefore(a.panel, panels.length ? panels.at(-1).nextSibling : root.firstChild);
  }
  const p = a.panel;
  p.replaceChildren();
  const h = document.createElement("h3");
  h.textContent = `${a.id} (${a.platform || "?"}) — ${a.state || "?"}`;
  p.append(h);
  const table = document.createElement("table");
  for (const [id, task] of [...a.tasks.entries()].sort()) {
    const tr = table.insertRow();
    tr.dataset.task = id;
    tr.insertCell().textContent = id;
    tr.insertCell().textContent = task.run?.state ?? task.state ?? task.status ?? "";
    const left = tr.insertCell();
    left.className = "wbl-countdown";
    left.dataset.deadline = deadlineOf(task) ?? "";
    left.dataset.started = startedOf(task) ?? "";
    left.textContent = countdown(deadlineOf(task), startedOf(task));
    const unmet = unmetOf(task);
    if (unmet.length) {
      const u = tr.insertCell();
      u.className = "wbl-unmet";
      u.textContent = unmet.join("; ");
    }
    if (live.config?.controls && live.config.rig === live.rig) {
      const c = tr.insertCell();
      const base = `${TOPIC_PREFIX}/${live.rig}/apps/${a.id}/request`;
      c.append(button("force run", () => send(`${base}/force_run`, { task_id: id }, `force run ${a.id}/${id}`)),
        button("force expire", () => send(`${base}/force_expire`, { task_id: id }, `force expire ${a.id}/${id}`)));
    }
  }
  p.append(table);
  if (a.status) {
    const { tasks: _tasks, app: _app, t: _t, ...extra } = a.status;
    const unmet = unmetOf(extra);
    if (unmet.length) {
      const u = document.createElement("div");
      u.className = "wbl-unmet";
      u.textContent = `unmet: ${unmet.join("; ")}`;
      p.append(u);
    }
    if (Object.keys(extra).length) {
      const kv = document.createElement("div");
      kv.className = "wbl-kv";
      kv.textContent = summary(extra);
      p.append(kv);
    }
  }
}

function tick() {
  live.rigNow = rigNow();
  timeline.advance(live.rigNow);
  for (const cell of document.querySelectorAll(".wbl-countdown")) {
    const d = cell.dataset.deadline;
    const started = cell.dataset.started;
    if (d !== "") cell.textContent = countdown(Number(d), started === "" ? null : Number(started));
  }
}

// -- history -------------------------------------------------------------------------------------
const held = []; // broker messages that arrived while the history was being read
let holding = 0;
const refilledAt = new Map(); // app id -> the event seq a gap refill was made for

function release() {
  if (!holding) for (const [topic, payload] of held.splice(0)) onMessage(topic, payload);
}

/** Merge the rig's records (``/api/history``) into the view: at the start, after a reconnect
 *  and when an app's event seq jumps; take() drops what is already shown. */
async function refill() {
  if (live.config.rig !== live.rig) {
    release();
    return;
  }
  holding += 1;
  try {
    const history = await (await fetch("api/history")).json();
    for (const rec of history.records) take(rec);
    if (history.dropped && !live.droppedLogged) {
      live.droppedLogged = true;
      log(`history: the oldest ${history.dropped} records were dropped (the rig keeps the newest)`);
    }
  } catch (err) {
    log(`history: ${err.message}`);
  } finally {
    holding -= 1;
    release();
  }
}

// -- start ---------------------------------------------------------------------------------------
async function main() {
  const config = await (await fetch("api/config")).json();
  live.config = config;
  live.rig = params.get("rig") || config.rig;
  if (!ID_PATTERN.test(live.rig)) {
    fail(`rig id must match [a-z0-9_-]{1,64}, not ${JSON.stringify(live.rig)}`);
    return;
  }
  $("wbl-rig").textContent = `rig ${live.rig}`;
  document.title = `wakebench ${live.rig}`;
  timeline = mount($("wb-root"), { title: `rig ${live.rig} (live)` });
  live.timeline = timeline;
  window.timeline = timeline;
  if (!config.ws_url) {
    fail("no WebSocket URL for the broker: start the rig with its embedded mosquitto, or set [web] ws_url");
    return;
  }
  // subscribe first and hold the messages while the history is read: nothing is lost between them
  client = mqtt.connect(config.ws_url, { clientId: `wakebench-web-${randomHex(4)}`, clean: true,
    reconnectPeriod: RECONNECT_PERIOD_MS, connectTimeout: DEFAULT_TIMEOUT_S * 1000 });
  live.client = client;
  client.on("message", (topic, payload) => (holding ? held.push([topic, payload]) : onMessage(topic, payload)));
  client.on("error", (err) => log(`MQTT: ${err.message}`));
  client.on("close", () => { live.connected = false; $("wbl-state").textContent = "broker unreachable"; });
  holding += 1;
  await new Promise((resolve) => client.once("connect", resolve));
  live.connected = true;
  await client.subscribeAsync(`${TOPIC_PREFIX}/${live.rig}/#`, { qos: 1 });
  // back after a broken connection: what was published meanwhile is in the history
  client.on("connect", () => { live.connected = true; if (live.ready) refill(); });
  timeline.load([], 0);
  await refill();
  holding -= 1;
  release();
  if (config.controls && config.rig === live.rig) buildControls();
  for (const a of apps.values()) renderApp(a);
  setInterval(tick, TICK_MS);
  live.ready = true;
}

main().catch((err) => {
  fail(`the live view could not start: ${err.message}`);
  live.errors.push(String(err));
});
