// The client against a real rig: requests, coded errors, MQTT 5 correlation, events, reconnect.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import mqtt from 'mqtt';
import { WakebenchClient, WakebenchError, connect } from '../src/index.js';
import { URL_, RIG, WS_URL, BENCH, app, appId, skip, until, within, TLS } from './helpers.js';

test('bridge/info names the WebSocket URL the rig printed', { skip }, async () => {
  const raw = await mqtt.connectAsync(URL_, { clientId: appId('info') });
  try {
    const info = await new Promise((resolve) => {
      raw.on('message', (_t, payload) => resolve(JSON.parse(payload.toString())));
      raw.subscribe(`wakebench/${RIG}/bridge/info`);
    });
    assert.equal(info.ws_url, WS_URL);
  } finally {
    await raw.endAsync();
  }
});

test('rig state is observable: online, and each subscriber hears it', { skip }, async () => {
  const c = await app('state');
  try {
    const seen = [];
    const sub = c.subscribeRigState((s) => seen.push(s));
    await until(() => seen.length > 0, 5, 'bridge/state');
    assert.deepEqual(seen, ['online']);
    assert.equal(c.rigState, 'online');
    sub.unsubscribe();
  } finally {
    await c.close();
  }
});

test('a request resolves to data; an error answer throws with code, message and data', { skip }, async () => {
  const c = await app('req');
  try {
    const reg = await c.register('capacitor');
    assert.equal(reg.app.platform, 'capacitor');
    const task = await c.request('before_exit');
    assert.match(task.task_id, /^task-\d+$/);
    assert.equal(task.deadline > 0, true); // rig seconds: the 3-minute beforeExit budget from now
    await c.request('finish', { task_id: task.task_id });
    await assert.rejects(c.request('finish', { task_id: 'nope' }), (err) => {
      assert.ok(err instanceof WakebenchError);
      assert.equal(err.code, 'unknown_task');
      assert.match(err.message, /no running task 'nope'/);
      assert.deepEqual(err.data, { task_id: 'nope' });
      assert.equal(err.verb, 'finish');
      return true;
    });
    await assert.rejects(c.request('teleport'), { code: 'unknown_verb' });
    // send() gives the whole answer without throwing
    const answer = await c.send('finish', { task_id: 'nope' });
    assert.equal(answer.status, 'error');
  } finally {
    await c.close();
  }
});

test('bad ids are refused before anything is sent', () => {
  assert.throws(() => new WakebenchClient('mqtt://127.0.0.1:1', { appId: 'Mail App' }), { code: 'invalid_id' });
});

test('MQTT 5: the response carries the request\'s correlation data', { skip }, async () => {
  const c = await app('corr');
  try {
    await c.register('capacitor');
    const packets = [];
    c._mqtt.on('message', (topic, _payload, packet) => { if (topic.endsWith('/response/status')) packets.push(packet); });
    await c.request('status');
    const withCorrelation = packets.filter((p) => p.properties?.correlationData);
    assert.ok(withCorrelation.length >= 1, 'a response with Correlation Data');
    const body = JSON.parse(withCorrelation[0].payload.toString());
    assert.equal(Buffer.from(withCorrelation[0].properties.correlationData).toString(), body.transaction);
  } finally {
    await c.close();
  }
});

test('MQTT 3.1.1 works too (transaction in the payload)', { skip }, async () => {
  const c = await app('v311', { protocolVersion: 4 });
  try {
    assert.equal((await c.register('wp8')).app.platform, 'wp8');
  } finally {
    await c.close();
  }
});

test('events come in seq order, each once; gaps are recorded', () => {
  const c = new WakebenchClient('mqtt://127.0.0.1:1', { appId: 'unit' });
  const it = c.events();
  for (const seq of [1, 2, 2, 5, 6, 5]) c._onEvent({ type: 'wake', seq });
  assert.deepEqual(c.history.map((e) => e.seq), [1, 2, 5, 6]);
  assert.deepEqual(c.gaps, [[3, 4]]);
  assert.equal(c.lastSeq, 6);
  // the very same seq 1 again (QoS 1 repeat, or published again after a broker restart): dropped
  c._onEvent({ type: 'wake', seq: 1 });
  assert.equal(c.lastSeq, 6);
  // another seq 1 after more than one event: the rig started over with fresh state (as the Python client)
  c._onEvent({ type: 'wake', seq: 1, t: 5 });
  assert.equal(c.lastSeq, 1);
  return (async () => {
    const got = [];
    for await (const e of it) { got.push(e.seq); if (got.length === 5) break; }
    assert.deepEqual(got, [1, 2, 5, 6, 1]);
  })();
});

test('after a dropped connection the session resumes: an event sent meanwhile arrives once', { skip }, async () => {
  const c = await app('resume');
  const bench = await connect(URL_, { appId: appId('bench'), rig: RIG, makeDefault: false, ...TLS });
  try {
    await bench.setSignalsAndWait({ ...BENCH, screen_locked: true });
    await c.register('wp8');
    const events = c.events();
    await c.request('add', { name: 'sync', type: 'resource_intensive' });
    const wake = (await within(events.next(), 10, 'wake')).value;
    assert.equal(wake.type, 'wake');
    // cut the connection under the client; while it is away the charger goes
    const reconnected = new Promise((r) => c._mqtt.once('connect', r));
    c._mqtt.stream.destroy();
    await bench.setSignalsAndWait({ charger: 'none' });
    await within(reconnected, 10, 'reconnect');
    const revoke = (await within(events.next(), 10, 'revoke after reconnect')).value;
    assert.equal(revoke.type, 'revoke');
    assert.equal(revoke.reason, 'charger_removed');
    assert.equal(revoke.seq, wake.seq + 1);
    assert.deepEqual(c.gaps, []);
    await c.request('remove', { name: 'sync' }); // WP8 runs one resource-intensive agent per device
  } finally {
    await c.close();
    await bench.close();
  }
});
