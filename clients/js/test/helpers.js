// Shared by the node:test files: the rig the pytest wrapper (tests/js/test_js_client.py) started.
import { readFileSync } from 'node:fs';
import { beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from '../src/index.js';
import { onFacadeError } from '../src/facade.js';

/** `mqtt://...` (TCP) or `ws://...` (WebSockets): which transport this run uses. */
export const URL_ = process.env.WAKEBENCH_URL;
export const RIG = process.env.WAKEBENCH_RIG || 'bench';
export const WS_URL = process.env.WAKEBENCH_WS_URL;
export const TCP_URL = process.env.WAKEBENCH_TCP_URL;
/** Rig clock speed of the rig under test (`--speed`). */
export const SPEED = Number(process.env.WAKEBENCH_SPEED || 1);
/** `wss://` / `mqtts://` rigs: the test CA (PEM file in WAKEBENCH_CA, from tests/mosquitto.py
 *  make_certs), spread into every `connect()` options. */
export const TLS = process.env.WAKEBENCH_CA ? { ca: readFileSync(process.env.WAKEBENCH_CA) } : {};
export const skip = URL_ ? false : 'WAKEBENCH_URL is not set: run through tests/js/test_js_client.py';

const transport = URL_ && URL_.startsWith('ws') ? 'w' : 't';
let n = 0;

/** A fresh app id per test and transport (app ids are MQTT client ids: they must not collide). */
export function appId(name) {
  n += 1;
  return `${name}-${transport}${n}-${process.pid}`;
}

/** Connect an app (the default client for the facades too). */
export function app(name, options = {}) {
  return connect(URL_, { appId: appId(name), rig: RIG, timeout: 10, ...TLS, ...options });
}

/** The bench every flow starts from: on a charger, full, Wi-Fi, unlocked, not idle. */
export const BENCH = { charger: 'ac', battery_level: 95, network: 'wifi', screen_locked: false, idle: false };

/** A promise with its resolve function (to await a callback). */
export function deferred() {
  let resolve;
  const promise = new Promise((r) => { resolve = r; });
  return { promise, resolve };
}

/** `promise` or a rejection naming `what` after `seconds`. */
export function within(promise, seconds, what) {
  let timer;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise((_r, reject) => { timer = setTimeout(() => reject(new Error(`no ${what} within ${seconds} s`)), seconds * 1000); }),
  ]);
}

/** Resolves once `condition()` is true (checked every 5 ms); rejects naming `what` after `seconds`. */
export function until(condition, seconds, what) {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const timer = setInterval(() => {
      if (condition()) {
        clearInterval(timer);
        resolve();
      } else if (Date.now() - started > seconds * 1000) {
        clearInterval(timer);
        reject(new Error(`no ${what} within ${seconds} s`));
      }
    }, 5);
  });
}

/** The fixture every facade suite shares: before each test a `bench` client puts the rig in
 *  BENCH; `fx.appFor(name, platform, settings)` connects and registers the test's app (with
 *  facade errors collected); after each test both close, and a facade error that nobody saw
 *  fails the test. Call once at the top of a test file. */
export function useBench() {
  const fx = { client: undefined, bench: undefined, errors: undefined };
  beforeEach(async () => {
    if (skip) return;
    fx.bench = await connect(URL_, { appId: appId('bench'), rig: RIG, makeDefault: false, ...TLS });
    await fx.bench.setSignalsAndWait(BENCH);
  });
  afterEach(async () => {
    if (skip) return;
    await fx.client?.close();
    await fx.bench?.close();
    fx.client = undefined;
    assert.deepEqual(fx.errors ?? [], []); // nothing a facade ran in the background failed unseen
    fx.errors = undefined;
  });
  fx.appFor = async (name, platform, settings) => {
    fx.client = await app(name);
    fx.errors = [];
    onFacadeError(fx.client, (err, where) => fx.errors.push(`${where}: ${err.message}`));
    await fx.client.register(platform, settings);
    return fx.client;
  };
  return fx;
}
