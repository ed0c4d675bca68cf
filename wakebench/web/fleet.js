// wakebench fleet page: every rig on the broker, from the retained topics each rig publishes
// (`bridge/info`, `bridge/state`, `signals`, `apps/<app>/state`; README "MQTT API"), so a rig
// that was started before the page opened shows at once. Each row links to that rig's live view.
import mqtt from "mqtt";
import { formatT } from "./timeline.js";
import { TOPIC_PREFIX, ID_PATTERN, DEFAULT_TIMEOUT_S, RECONNECT_PERIOD_MS } from "./vendor/client/client.js";
import { randomHex } from "./vendor/client/random.js";

const rigs = new Map(); // rig id -> {info, state, signals, apps: Map}
const fleet = { ready: false, rigs };
window.wbFleet = fleet;

function json(payload) {
  try {
    return payload && payload.length ? JSON.parse(new TextDecoder().decode(payload)) : null;
  } catch {
    return null;
  }
}

function rig(id) {
  let r = rigs.get(id);
  if (!r) {
    r = { id, info: null, state: null, signals: null, apps: new Map() };
    rigs.set(id, r);
  }
  return r;
}

function cell(tr, text) {
  const td = tr.insertCell();
  td.textContent = text ?? "–";
  return td;
}

function render() {
  const body = document.getElementById("wbl-rigs");
  body.replaceChildren();
  for (const r of [...rigs.values()].sort((a, b) => a.id.localeCompare(b.id))) {
    const tr = body.insertRow();
    tr.dataset.rig = r.id;
    const link = document.createElement("a");
    link.href = `./?rig=${encodeURIComponent(r.id)}`;
    link.textContent = r.id;
    tr.insertCell().append(link);
    cell(tr, r.state);
    cell(tr, r.info?.board);
    cell(tr, r.info ? `×${r.info.speed}` : null);
    const s = r.signals;
    cell(tr, s ? `${Number(s.battery_level).toFixed(1)} %` : null);
    cell(tr, s?.charger);
    cell(tr, s?.network);
    cell(tr, s?.stale?.length ? s.stale.join(", ") : s ? "none" : null);
    cell(tr, String(r.apps.size));
    cell(tr, s ? formatT(s.t) : null);
  }
}

async function main() {
  const config = await (await fetch("api/config")).json();
  if (!config.ws_url) throw new Error("no WebSocket URL for the broker: set [web] ws_url");
  const client = mqtt.connect(config.ws_url, { clientId: `wakebench-fleet-${randomHex(4)}`, clean: true,
    reconnectPeriod: RECONNECT_PERIOD_MS, connectTimeout: DEFAULT_TIMEOUT_S * 1000 });
  const badge = document.getElementById("wbl-state");
  client.on("connect", () => { badge.textContent = "connected"; badge.className = "wbl-badge online"; });
  client.on("close", () => { badge.textContent = "broker unreachable"; badge.className = "wbl-badge offline"; });
  client.on("message", (topic, payload) => {
    const parts = topic.split("/");
    if (parts[0] !== TOPIC_PREFIX || !ID_PATTERN.test(parts[1] ?? "")) return;
    const r = rig(parts[1]);
    const body = json(payload);
    const rest = parts.slice(2).join("/");
    if (rest === "bridge/info") r.info = body;
    else if (rest === "bridge/state") r.state = body?.state ?? null;
    else if (rest === "signals") r.signals = body;
    else if (parts[2] === "apps" && parts[4] === "state") {
      if (body) r.apps.set(parts[3], body);
      else r.apps.delete(parts[3]);
    }
    render();
  });
  await new Promise((resolve) => client.once("connect", resolve));
  await client.subscribeAsync({
    [`${TOPIC_PREFIX}/+/bridge/info`]: { qos: 1 }, [`${TOPIC_PREFIX}/+/bridge/state`]: { qos: 1 },
    [`${TOPIC_PREFIX}/+/signals`]: { qos: 0 }, [`${TOPIC_PREFIX}/+/apps/+/state`]: { qos: 1 },
  });
  fleet.ready = true;
}

main().catch((err) => {
  const el = document.getElementById("wbl-error");
  el.hidden = false;
  el.textContent = `the fleet page could not start: ${err.message}`;
});
