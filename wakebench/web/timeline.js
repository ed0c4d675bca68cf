// wakebench timeline renderer: a Battery-Historian-like view of timeline records on one canvas.
//
// Data model (wakebench/records.py): records {kind: "event"|"signals"|"response"|"app_state", t, ...},
// t in rig seconds. Feed them all at once (`timeline.load(records, until)`) or one by one
// (`timeline.push(record)`, the live view). No dependencies, no build step: a plain ES module.
// Only rows in sight are drawn, and every lane is searched by binary search and thinned to one
// mark per pixel column, so a redraw costs what is visible, not the size of the recording.
// One file over 500 lines on purpose: the live page imports it as one ES module and `--html`
// inlines it as one script (wakebench/web/__init__.py), with no bundler in between.

const LABEL_W = 170;
const AXIS_H = 22;
const BATTERY_H = 64;
const LANE_H = 14;
const APP_HEAD_H = 18;
const TASK_H = 24;
const MIN_SPAN_S = 1; // zoom in to one second ...
const MAX_SPAN_S = 60 * 86400; // ... and out to 60 days
const TICK_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600,
  43200, 86400, 172800, 604800];
export const SIGNAL_LANES = ["charger", "charging", "network", "screen_locked", "idle", "on_call",
  "low_power_mode", "battery_saver"];
export const RUN_COLORS = {
  finished: "#2ca02c", rewake: "#98df8a", running: "#1f77b4", expire: "#ff7f0e",
  revoke: "#d62728", terminate: "#444444", unscheduled: "#9467bd",
};
// Each marker kind has its own shape and vertical slot in the task row, so none hides another.
export const MARKERS = {
  wake: { shape: "up", color: "#2ca02c", dy: -7 },
  expire: { shape: "down", color: "#ff7f0e", dy: 0 },
  revoke: { shape: "cross", color: "#d62728", dy: 0 },
  terminate: { shape: "square", color: "#111111", dy: 7 },
  unscheduled: { shape: "diamond", color: "#9467bd", dy: 7 },
};
const STATE_COLORS = { foreground: "#4c9be8", background: "#a6c8ef", suspended: "#d9d9d9",
  terminated: "#555555" };
const END_TYPES = new Set(["expire", "revoke", "terminate", "unscheduled"]);
export const ENDING_VERBS = new Set(["finish", "end_background_task", "set_task_completed", "dispose",
  "notify_complete", "abort", "stop_work", "cancel", "remove", "stop_and_clear_works"]);
const ID_KEYS = ["task_id", "taskId", "identifier", "name", "session_id", "work_id", "workId", "id"];

function lowerBound(arr, t, key) {
  let lo = 0;
  let hi = arr.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (key(arr[mid]) < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export function formatT(t) {
  const s = Math.max(0, t);
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const secText = sec < 10 ? "0" + sec.toFixed(sec % 1 ? 1 : 0) : sec.toFixed(sec % 1 ? 1 : 0);
  const hms = `${h}:${String(m).padStart(2, "0")}:${secText}`;
  return d ? `${d}d ${hms}` : hms;
}

function endedIds(rec) {
  if (rec.status !== "ok" || !ENDING_VERBS.has(rec.verb)) return null;
  if (rec.verb === "stop_and_clear_works") return [];
  const ids = [];
  for (const src of [rec.args || {}, rec.data || {}]) {
    for (const k of ID_KEYS) if (src[k] !== undefined && src[k] !== null) ids.push(String(src[k]));
  }
  return ids.length ? ids : null;
}

class AppModel {
  constructor(id) {
    this.id = id;
    this.platform = "";
    this.states = []; // {t, state}
    this.tasks = new Map(); // task id -> {id, runs: [{start, end, how, deadline}], open}
    this.appEvents = []; // events without a task
  }

  task(id) {
    let task = this.tasks.get(id);
    if (!task) {
      task = { id, runs: [], open: null, events: [] };
      this.tasks.set(id, task);
    }
    return task;
  }
}

export class Timeline {
  constructor(container, options = {}) {
    this.container = container;
    this.options = options;
    this.signals = []; // signals records, time-ordered
    this._resetLanes(); // per lane: only the changes of its displayed value, {t, v}
    this.apps = new Map();
    this.events = 0;
    this.until = 0;
    this.t0 = 0;
    this.t1 = 60;
    this.follow = true;
    this.scrollY = 0;
    this.drawn = { bars: 0, markers: 0, rows: 0 };
    this.lastRenderMs = 0;
    this._rows = [];
    this._rowsDirty = true; // a frame drawn before any data (the live view) still lays out its rows
    this._hits = [];
    this._pending = false;
    this.canvas = document.createElement("canvas");
    this.canvas.className = "wb-canvas";
    this.tip = document.createElement("div");
    this.tip.className = "wb-tip";
    this.tip.hidden = true;
    container.classList.add("wb-timeline");
    container.append(this.canvas, this.tip);
    this._bind();
  }

  // -- data ------------------------------------------------------------------------------------
  app(id) {
    let app = this.apps.get(id);
    if (!app) {
      app = new AppModel(id);
      this.apps.set(id, app);
      this._rowsDirty = true;
    }
    return app;
  }

  /** Add one record (the live view calls this per MQTT message). */
  push(rec) {
    this._add(rec);
    this._closeOpenRuns();
    if (this.follow) this._fit();
    this.schedule();
  }

  /** The live view: the rig clock reached `now` (rig s); open runs and lanes reach it too. */
  advance(now) {
    if (!(now > this.until)) return;
    this.until = now;
    if (this.follow) this._fit();
    this.schedule();
  }

  /** Replace the contents with `records`; `until` (rig s) is the end of the timeline. */
  load(records, until) {
    this.signals = [];
    this._resetLanes();
    this.apps = new Map();
    this.events = 0;
    this.until = 0;
    for (const rec of records) this._add(rec);
    if (until !== undefined && until !== null) this.until = Math.max(this.until, until);
    this._closeOpenRuns();
    this._rowsDirty = true;
    this._fit();
    this.render();
  }

  _add(rec) {
    if (!rec || typeof rec.t !== "number") return;
    this.until = Math.max(this.until, rec.t);
    if (rec.kind === "signals") {
      const last = this.signals[this.signals.length - 1];
      if (!last || last.t <= rec.t) {
        this.signals.push(rec);
        this._laneAdd(rec);
      } else {
        this.signals.splice(lowerBound(this.signals, rec.t, (s) => s.t + 1e-9), 0, rec);
        this._lanesDirty = true;
      }
    } else if (rec.kind === "app_state") {
      const app = this.app(rec.app);
      if (rec.platform) app.platform = rec.platform;
      app.states.push({ t: rec.t, state: rec.state });
    } else if (rec.kind === "event") {
      this.events += 1;
      const app = this.app(rec.app);
      if (rec.platform) app.platform = rec.platform;
      if (rec.task_id === null || rec.task_id === undefined) {
        app.appEvents.push(rec);
        return;
      }
      const task = app.task(String(rec.task_id));
      if (!task.events.length) this._rowsDirty = true;
      task.events.push(rec);
      if (rec.type === "wake") {
        if (task.open) this._end(task, rec.t, "rewake");
        task.open = { start: rec.t, end: null, how: "running", deadline: rec.deadline ?? null };
        task.runs.push(task.open);
      } else if (END_TYPES.has(rec.type) && task.open) {
        this._end(task, rec.t, rec.type);
      }
    } else if (rec.kind === "response") {
      const ids = endedIds(rec);
      const app = this.apps.get(rec.app);
      if (ids === null || !app) return;
      for (const task of app.tasks.values()) {
        if (task.open && (!ids.length || ids.includes(task.id))) this._end(task, rec.t, "finished");
      }
    }
  }

  _resetLanes() {
    this.lanes = Object.fromEntries(SIGNAL_LANES.map((n) => [n, []]));
    this._lanesDirty = false;
  }

  _laneAdd(rec) {
    const stale = rec.stale || [];
    for (const name of SIGNAL_LANES) {
      let v = stale.includes(name) ? "?" : rec[name];
      if (name === "charging" && v === false && rec.charger && rec.charger !== "none" && rec.battery_level < 100) {
        v = true; // derived from the charger when the snapshot does not say so
      }
      const lane = this.lanes[name];
      if (!lane.length || lane[lane.length - 1].v !== v) lane.push({ t: rec.t, v });
    }
  }

  _end(task, t, how) {
    task.open.end = t;
    task.open.how = how;
    task.open = null;
  }

  _closeOpenRuns() {
    // open runs are drawn to min(deadline, until); nothing to store
  }

  /** Counts for tests and the status line: records in the model and marks in the last frame. */
  get counts() {
    let bars = 0;
    let markers = this.events;
    for (const app of this.apps.values()) for (const task of app.tasks.values()) bars += task.runs.length;
    return { apps: this.apps.size, events: this.events, markers, taskBars: bars, signals: this.signals.length,
      drawn: { ...this.drawn } };
  }

  // -- view ------------------------------------------------------------------------------------
  _fit() {
    this.t0 = 0;
    this.t1 = Math.max(this.until, MIN_SPAN_S * 60);
  }

  fit() {
    this.follow = true;
    this._fit();
    this.render();
  }

  /** Show rig seconds [t0, t1] (clamped to 1 s .. 60 days). */
  setView(t0, t1) {
    const span = Math.min(MAX_SPAN_S, Math.max(MIN_SPAN_S, t1 - t0));
    const mid = (t0 + t1) / 2;
    this.t0 = mid - span / 2;
    this.t1 = mid + span / 2;
    this.follow = false;
    this.render();
  }

  /** Zoom by `factor` (< 1 zooms in) around rig time `at` (default: the middle). */
  zoom(factor, at) {
    const center = at ?? (this.t0 + this.t1) / 2;
    const span = Math.min(MAX_SPAN_S, Math.max(MIN_SPAN_S, (this.t1 - this.t0) * factor));
    const frac = (center - this.t0) / (this.t1 - this.t0);
    this.t0 = center - span * frac;
    this.t1 = this.t0 + span;
    this.follow = false;
    this.render();
  }

  pan(seconds) {
    this.t0 += seconds;
    this.t1 += seconds;
    this.follow = false;
    this.render();
  }

  schedule() {
    if (this._pending) return;
    this._pending = true;
    requestAnimationFrame(() => {
      this._pending = false;
      this.render();
    });
  }

  _x(t) {
    return LABEL_W + ((t - this.t0) / (this.t1 - this.t0)) * (this.width - LABEL_W);
  }

  _t(x) {
    return this.t0 + ((x - LABEL_W) / (this.width - LABEL_W)) * (this.t1 - this.t0);
  }

  _layout() {
    if (!this._rowsDirty) return;
    this._rowsDirty = false;
    const rows = [{ kind: "battery", h: BATTERY_H, label: "battery %" }];
    for (const name of SIGNAL_LANES) rows.push({ kind: "lane", name, h: LANE_H, label: name });
    const apps = [...this.apps.values()].sort((a, b) => a.id.localeCompare(b.id));
    for (const app of apps) {
      rows.push({ kind: "app", app, h: APP_HEAD_H, label: app.platform ? `${app.id} (${app.platform})` : app.id });
      const tasks = [...app.tasks.values()].sort((a, b) => a.id.localeCompare(b.id));
      for (const task of tasks) rows.push({ kind: "task", app, task, h: TASK_H, label: task.id });
    }
    let y = AXIS_H;
    for (const row of rows) {
      row.y = y;
      y += row.h;
    }
    this._rows = rows;
    this.contentHeight = y;
  }

  // -- drawing ---------------------------------------------------------------------------------
  render() {
    const started = performance.now();
    this._layout();
    const dpr = window.devicePixelRatio || 1;
    const width = Math.max(300, this.container.clientWidth || 800);
    const height = Math.max(200, this.container.clientHeight || 600);
    if (this.canvas.width !== Math.round(width * dpr) || this.canvas.height !== Math.round(height * dpr)) {
      this.canvas.width = Math.round(width * dpr);
      this.canvas.height = Math.round(height * dpr);
      this.canvas.style.width = `${width}px`;
      this.canvas.style.height = `${height}px`;
    }
    this.width = width;
    this.height = height;
    this.scrollY = Math.max(0, Math.min(this.scrollY, this.contentHeight - height + 10));
    const ctx = this.canvas.getContext("2d");
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, width, height);
    ctx.font = "11px system-ui, sans-serif";
    ctx.textBaseline = "middle";
    this._hits = [];
    this.drawn = { bars: 0, markers: 0, rows: 0 };
    ctx.save();
    ctx.beginPath();
    ctx.rect(0, AXIS_H, width, height - AXIS_H);
    ctx.clip();
    for (const row of this._rows) {
      const y = row.y - this.scrollY;
      if (y + row.h < AXIS_H || y > height) continue;
      this.drawn.rows += 1;
      this._drawRow(ctx, row, y);
    }
    ctx.restore();
    this._drawAxis(ctx);
    this.lastRenderMs = performance.now() - started;
    if (this.options.onRender) this.options.onRender(this);
  }

  _drawAxis(ctx) {
    const { width } = this;
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, width, AXIS_H);
    ctx.strokeStyle = "#999";
    ctx.beginPath();
    ctx.moveTo(0, AXIS_H - 0.5);
    ctx.lineTo(width, AXIS_H - 0.5);
    ctx.stroke();
    const span = this.t1 - this.t0;
    const step = TICK_STEPS.find((s) => (s / span) * (width - LABEL_W) >= 90) ?? TICK_STEPS.at(-1);
    ctx.fillStyle = "#333";
    ctx.textAlign = "left";
    for (let t = Math.ceil(this.t0 / step) * step; t <= this.t1; t += step) {
      const x = this._x(t);
      if (x < LABEL_W) continue;
      ctx.fillRect(x, AXIS_H - 6, 1, 6);
      ctx.fillText(formatT(t), x + 3, AXIS_H / 2 - 1);
    }
    ctx.fillText(`rig time · ${this.counts.events} events`, 6, AXIS_H / 2 - 1);
  }

  _grid(ctx, y, h) {
    ctx.fillStyle = "#f4f4f4";
    ctx.fillRect(LABEL_W, y + h - 1, this.width - LABEL_W, 1);
  }

  _label(ctx, row, y, bold) {
    ctx.fillStyle = bold ? "#eef3fa" : "#fafafa";
    ctx.fillRect(0, y, LABEL_W - 4, row.h);
    ctx.fillStyle = "#222";
    ctx.textAlign = "left";
    ctx.font = bold ? "bold 11px system-ui, sans-serif" : "11px system-ui, sans-serif";
    const indent = row.kind === "task" ? 14 : 4;
    ctx.fillText(row.label, indent, y + row.h / 2, LABEL_W - indent - 6);
    ctx.font = "11px system-ui, sans-serif";
  }

  _drawRow(ctx, row, y) {
    this._label(ctx, row, y, row.kind === "app");
    if (row.kind === "battery") this._drawBattery(ctx, y, row.h);
    else if (row.kind === "lane") this._drawLane(ctx, row.name, y, row.h);
    else if (row.kind === "app") this._drawAppState(ctx, row.app, y, row.h);
    else this._drawTask(ctx, row, y, row.h);
    this._grid(ctx, y, row.h);
  }

  _span(start, end) {
    const x0 = Math.max(LABEL_W, this._x(start));
    const x1 = Math.min(this.width, this._x(end));
    return [x0, Math.max(x1 - x0, 1)];
  }

  _drawBattery(ctx, y, h) {
    const top = y + 4;
    const ph = h - 8;
    const sigs = this.signals;
    ctx.fillStyle = "#999";
    ctx.textAlign = "right";
    for (const level of [0, 50, 100]) ctx.fillText(String(level), LABEL_W - 8, top + ph * (1 - level / 100));
    if (!sigs.length) return;
    let i = Math.max(0, lowerBound(sigs, this.t0, (s) => s.t) - 1);
    const yOf = (level) => top + ph * (1 - Math.max(0, Math.min(100, level)) / 100);
    ctx.beginPath();
    ctx.moveTo(Math.max(LABEL_W, this._x(sigs[i].t)), yOf(sigs[i].battery_level));
    let lastX = -1;
    let staleFrom = null;
    let gap = sigs[i].battery_level === null || sigs[i].battery_level === undefined;
    for (; i < sigs.length && sigs[i].t <= this.t1; i++) {
      const rec = sigs[i];
      const x = Math.max(LABEL_W, this._x(rec.t));
      const stale = rec.stale && rec.stale.includes("battery_level");
      if (stale && staleFrom === null) staleFrom = rec.t;
      if (!stale && staleFrom !== null) {
        this._shade(ctx, staleFrom, rec.t, top, ph);
        staleFrom = null;
      }
      const px = Math.floor(x);
      if (px === lastX && i + 1 < sigs.length && Math.floor(this._x(sigs[i + 1].t)) === px) continue;
      lastX = px;
      if (rec.battery_level === null || rec.battery_level === undefined) {
        gap = true; // unknown: no line, never a number
        continue;
      }
      const yy = yOf(rec.battery_level);
      if (gap) ctx.moveTo(x, yy); else ctx.lineTo(x, yy);
      gap = false;
      const next = i + 1 < sigs.length ? sigs[i + 1].t : this.until;
      ctx.lineTo(Math.min(this.width, this._x(next)), yy);
    }
    if (staleFrom !== null) this._shade(ctx, staleFrom, this.until, top, ph);
    ctx.strokeStyle = "#1f77b4";
    ctx.lineWidth = 1.5;
    ctx.stroke();
    ctx.lineWidth = 1;
  }

  _shade(ctx, start, end, top, ph) {
    const [x, w] = this._span(start, end);
    ctx.save();
    ctx.fillStyle = "rgba(120,120,120,0.25)";
    ctx.fillRect(x, top, w, ph);
    ctx.restore();
  }

  _drawLane(ctx, name, y, h) {
    if (this._lanesDirty) {
      this._resetLanes();
      for (const rec of this.signals) this._laneAdd(rec);
    }
    const lane = this.lanes[name];
    let i = Math.max(0, lowerBound(lane, this.t0, (c) => c.t) - 1);
    let paintedTo = -1;
    for (; i < lane.length && lane[i].t <= this.t1; i++) {
      const { v } = lane[i];
      const end = i + 1 < lane.length ? lane[i + 1].t : this.until;
      if (v === false || v === "none" || v === undefined || v === null) continue;
      const [x, w] = this._span(lane[i].t, end);
      if (x + w <= paintedTo) continue; // one mark per pixel column
      paintedTo = Math.ceil(x + w);
      ctx.fillStyle = v === "?" ? "rgba(120,120,120,0.35)" : name === "charger" ? "#2ca02c"
        : name === "network" ? (v === "wifi" ? "#17becf" : "#bcbd22") : "#6baed6";
      ctx.fillRect(x, y + 2, w, h - 4);
      if (typeof v === "string" && w > 40) {
        ctx.fillStyle = v === "?" ? "#333" : "#fff";
        ctx.textAlign = "left";
        ctx.fillText(v === "?" ? "unknown" : v, x + 3, y + h / 2, w - 4);
      }
    }
  }

  _drawAppState(ctx, app, y, h) {
    const states = app.states;
    let i = Math.max(0, lowerBound(states, this.t0, (s) => s.t) - 1);
    for (; i < states.length && states[i].t <= this.t1; i++) {
      const end = i + 1 < states.length ? states[i + 1].t : this.until;
      const [x, w] = this._span(states[i].t, end);
      ctx.fillStyle = STATE_COLORS[states[i].state] || "#ccc";
      ctx.fillRect(x, y + 4, w, h - 8);
      if (w > 70) {
        ctx.fillStyle = states[i].state === "terminated" ? "#fff" : "#123";
        ctx.textAlign = "left";
        ctx.fillText(states[i].state, x + 3, y + h / 2, w - 4);
      }
      const text = `${app.id}: ${states[i].state} from ${formatT(states[i].t)}`;
      this._hits.push({ x0: x, x1: x + w, y0: y, y1: y + h, text: () => text });
    }
    this._drawMarkers(ctx, app.appEvents, app.id, y, h);
  }

  _drawTask(ctx, row, y, h) {
    const { task, app } = row;
    const runs = task.runs;
    // runs are in start order; a run can reach back into the view, so start a little early
    let i = Math.max(0, lowerBound(runs, this.t0, (r) => r.start) - 1);
    while (i > 0 && (runs[i - 1].end ?? this.until) > this.t0) i--;
    // runs are time-ordered: once a pixel column is painted, later runs ending in it add nothing
    let barTo = -1;
    let budgetTo = -1;
    for (; i < runs.length; i++) {
      const run = runs[i];
      if (run.start > this.t1) break;
      const openEnd = run.deadline !== null ? Math.min(run.deadline, this.until) : this.until;
      const end = run.end ?? openEnd;
      if (end < this.t0) continue;
      if (run.deadline !== null && run.deadline > run.start) {
        const [bx, bw] = this._span(run.start, run.deadline);
        if (bx + bw > budgetTo) {
          ctx.fillStyle = "rgba(31,119,180,0.13)";
          ctx.fillRect(bx, y + 3, bw, h - 6);
          ctx.strokeStyle = "rgba(31,119,180,0.5)";
          ctx.strokeRect(bx + 0.5, y + 3.5, Math.max(bw - 1, 1), h - 7);
          budgetTo = Math.ceil(bx + bw);
        }
      }
      const [x, w] = this._span(run.start, end);
      const width = Math.max(w, 2);
      if (x + width <= barTo) continue;
      barTo = Math.ceil(x + width);
      ctx.fillStyle = RUN_COLORS[run.how] || "#2ca02c";
      ctx.fillRect(x, y + 7, width, h - 14);
      this.drawn.bars += 1;
      this._hits.push({ x0: x, x1: x + Math.max(w, 3), y0: y, y1: y + h, run, end, who: `${app.id}/${task.id}` });
    }
    this._drawMarkers(ctx, task.events, `${app.id}/${task.id}`, y, h);
  }

  _drawMarkers(ctx, events, who, y, h) {
    if (!events.length) return;
    let i = lowerBound(events, this.t0 - (this.t1 - this.t0) * 0.01, (e) => e.t);
    const lastX = {}; // events are time-ordered: same kind in the same pixel column, one mark is enough
    for (; i < events.length && events[i].t <= this.t1; i++) {
      const e = events[i];
      const x = Math.round(this._x(e.t));
      if (x < LABEL_W || lastX[e.type] === x) continue;
      lastX[e.type] = x;
      const m = MARKERS[e.type] || MARKERS.wake;
      const cy = y + h / 2 + m.dy;
      this._mark(ctx, m, x, cy);
      this.drawn.markers += 1;
      this._hits.push({ x0: x - 5, x1: x + 5, y0: cy - 5, y1: cy + 5, marker: true, event: e, who });
    }
  }

  _mark(ctx, m, x, y) {
    ctx.fillStyle = m.color;
    ctx.strokeStyle = m.color;
    ctx.beginPath();
    if (m.shape === "up") {
      ctx.moveTo(x, y - 4); ctx.lineTo(x + 4, y + 3); ctx.lineTo(x - 4, y + 3); ctx.fill();
    } else if (m.shape === "down") {
      ctx.moveTo(x, y + 4); ctx.lineTo(x + 4, y - 3); ctx.lineTo(x - 4, y - 3); ctx.fill();
    } else if (m.shape === "cross") {
      ctx.lineWidth = 2;
      ctx.moveTo(x - 4, y - 4); ctx.lineTo(x + 4, y + 4); ctx.moveTo(x + 4, y - 4); ctx.lineTo(x - 4, y + 4);
      ctx.stroke();
      ctx.lineWidth = 1;
    } else if (m.shape === "square") {
      ctx.fillRect(x - 3, y - 3, 6, 6);
    } else {
      ctx.moveTo(x, y - 4); ctx.lineTo(x + 4, y); ctx.lineTo(x, y + 4); ctx.lineTo(x - 4, y); ctx.fill();
    }
  }

  // -- interaction -----------------------------------------------------------------------------
  _bind() {
    const c = this.canvas;
    let drag = null;
    c.addEventListener("wheel", (ev) => {
      ev.preventDefault();
      if (ev.ctrlKey || ev.metaKey || ev.altKey) {
        const rect = c.getBoundingClientRect();
        this.zoom(ev.deltaY > 0 ? 1.25 : 0.8, this._t(ev.clientX - rect.left));
      } else if (ev.shiftKey) {
        this.pan(((ev.deltaY || ev.deltaX) / (this.width - LABEL_W)) * (this.t1 - this.t0));
      } else {
        this.scrollY += ev.deltaY;
        this.render();
      }
    }, { passive: false });
    c.addEventListener("mousedown", (ev) => { drag = { x: ev.clientX, t0: this.t0, t1: this.t1 }; });
    window.addEventListener("mouseup", () => { drag = null; });
    c.addEventListener("mousemove", (ev) => {
      const rect = c.getBoundingClientRect();
      const x = ev.clientX - rect.left;
      const y = ev.clientY - rect.top;
      if (drag) {
        const dt = ((drag.x - ev.clientX) / (this.width - LABEL_W)) * (drag.t1 - drag.t0);
        this.t0 = drag.t0 + dt;
        this.t1 = drag.t1 + dt;
        this.follow = false;
        this.schedule();
        return;
      }
      this._hover(x, y, ev.clientX - rect.left, ev.clientY - rect.top);
    });
    c.addEventListener("mouseleave", () => { this.tip.hidden = true; });
    c.addEventListener("dblclick", (ev) => {
      const rect = c.getBoundingClientRect();
      this.zoom(ev.shiftKey ? 2 : 0.5, this._t(ev.clientX - rect.left));
    });
    c.tabIndex = 0;
    c.addEventListener("keydown", (ev) => {
      const span = this.t1 - this.t0;
      if (ev.key === "+" || ev.key === "=") this.zoom(0.5);
      else if (ev.key === "-") this.zoom(2);
      else if (ev.key === "ArrowLeft") this.pan(-span / 5);
      else if (ev.key === "ArrowRight") this.pan(span / 5);
      else if (ev.key === "0") this.fit();
    });
    if (typeof ResizeObserver !== "undefined") new ResizeObserver(() => this.schedule()).observe(this.container);
  }

  signalsAt(t) {
    const i = lowerBound(this.signals, t + 1e-9, (s) => s.t) - 1;
    return i >= 0 ? this.signals[i] : null;
  }

  _describe(hit) {
    if (hit.event) return describe(hit.event, hit.who, hit.event.signals || this.signalsAt(hit.event.t));
    if (hit.run) {
      const { run } = hit;
      return `${hit.who}: run ${formatT(run.start)} → ${formatT(hit.end)} (${run.how})` +
        (run.deadline !== null ? `\nbudget until ${formatT(run.deadline)}` : "");
    }
    return hit.text();
  }

  _hover(x, y, px, py) {
    // markers win over bars: they sit on top
    let hit = null;
    for (const h of this._hits) {
      if (x >= h.x0 && x <= h.x1 && y >= h.y0 && y <= h.y1 && (!hit || (h.marker && !hit.marker))) hit = h;
    }
    if (!hit && x > LABEL_W && y < AXIS_H + BATTERY_H + SIGNAL_LANES.length * LANE_H - this.scrollY + 0) {
      const t = this._t(x);
      const snap = this.signalsAt(t);
      if (snap) hit = { text: () => `${formatT(t)}\n${signalText(snap)}` };
    }
    if (!hit) {
      this.tip.hidden = true;
      return;
    }
    this.tip.textContent = this._describe(hit);
    this.tip.hidden = false;
    this.tip.style.left = `${Math.min(px + 12, this.width - 260)}px`;
    this.tip.style.top = `${py + 12}px`;
  }
}

function signalText(s) {
  if (!s) return "";
  const level = s.battery_level;
  const parts = [level === null || level === undefined ? "battery unknown" : `battery ${Number(level).toFixed(1)} %`];
  for (const n of SIGNAL_LANES) parts.push(`${n}=${s[n]}`);
  if (s.stale && s.stale.length) parts.push(`stale: ${s.stale.join(", ")}`);
  return parts.join("  ");
}

function describe(e, who, signals) {
  const lines = [`${e.type.toUpperCase()} ${who} at ${formatT(e.t)} (#${e.seq})`];
  if (e.reason) lines.push(`reason: ${e.reason}`);
  if (e.deadline !== null && e.deadline !== undefined) lines.push(`deadline: ${formatT(e.deadline)}`);
  if (signals) lines.push(signalText(signals));
  return lines.join("\n");
}

/** Build the page chrome (toolbar + legend) around a Timeline in `root`; returns the Timeline. */
export function mount(root, options = {}) {
  root.classList.add("wb-root");
  const bar = document.createElement("div");
  bar.className = "wb-toolbar";
  const title = document.createElement("strong");
  title.textContent = options.title || "wakebench timeline";
  bar.append(title);
  const view = document.createElement("div");
  view.className = "wb-view";
  const tl = new Timeline(view, options);
  for (const [label, fn] of [["zoom in", () => tl.zoom(0.5)], ["zoom out", () => tl.zoom(2)],
    ["◀", () => tl.pan(-(tl.t1 - tl.t0) / 5)], ["▶", () => tl.pan((tl.t1 - tl.t0) / 5)], ["fit", () => tl.fit()]]) {
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = label;
    b.addEventListener("click", fn);
    bar.append(b);
  }
  const legend = document.createElement("div");
  legend.className = "wb-legend";
  for (const [how, color] of Object.entries(RUN_COLORS)) {
    const item = document.createElement("span");
    item.innerHTML = `<i style="background:${color}"></i>`;
    item.append(`run: ${how}`);
    legend.append(item);
  }
  const budget = document.createElement("span");
  budget.innerHTML = '<i class="wb-budget"></i>';
  budget.append("budget (wake → deadline)");
  legend.append(budget);
  for (const [type, m] of Object.entries(MARKERS)) {
    const item = document.createElement("span");
    item.innerHTML = `<b style="color:${m.color}">${{ up: "▲", down: "▼", cross: "✕", square: "■", diamond: "◆" }[m.shape]}</b>`;
    item.append(type);
    legend.append(item);
  }
  const stale = document.createElement("span");
  stale.innerHTML = '<i style="background:rgba(120,120,120,0.35)"></i>';
  stale.append("unknown / stale");
  legend.append(stale);
  const help = document.createElement("div");
  help.className = "wb-help";
  help.textContent = "ctrl+wheel or double-click: zoom · drag or shift+wheel: pan · wheel: scroll apps · hover: details";
  root.append(bar, legend, view, help);
  return tl;
}

globalThis.WakebenchTimeline = { Timeline, mount, formatT };
