// The client over `wss://` (the rig's WebSocket listener with a certificate, `[embedded_broker]`
// ws_cert_file / ws_key_file): trusted through `ca` it works end to end, including the debug
// verbs; without the test CA the certificate is refused and connect() says so.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, NotConnectedError } from '../src/index.js';
import { URL_, RIG, app, appId, skip as noRig, TLS } from './helpers.js';

const skip = noRig || (!URL_.startsWith('wss://') && 'not a wss:// rig: run through tests/js/test_js_client.py');
/** connect()'s timeout for the refused connection (s): the refusal comes at the TLS handshake. */
const REFUSED_TIMEOUT_S = 2;

test('wss with the test CA: requests, status debug and the debug verbs answer', { skip }, async () => {
  assert.ok(TLS.ca, 'WAKEBENCH_CA names the test CA');
  const client = await app('wss');
  try {
    await client.register('android');
    const status = await client.status();
    assert.deepEqual(status.debug, {});
    await assert.rejects(client.forceRun('nothing'), { code: 'unknown_task' });
    await assert.rejects(client.forceExpire('nothing'), { code: 'unknown_task' });
  } finally {
    await client.close();
  }
});

test('wss without the CA: the certificate is refused, connect() rejects naming the TLS error', { skip }, async () => {
  await assert.rejects(
    connect(URL_, { appId: appId('untrusted'), rig: RIG, timeout: REFUSED_TIMEOUT_S, makeDefault: false }),
    (err) => err instanceof NotConnectedError && /certificate|self.signed|unable to verify/i.test(err.message),
  );
});
