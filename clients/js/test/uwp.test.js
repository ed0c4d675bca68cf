// UWP's app lifecycle through the facade (README "JavaScript and browsers", UWP): the
// Suspending event as `Application.Suspending` with a deadline and a deferral, SavingData asked
// for in it (Microsoft's pattern), and a relaunch that waits for that session (seed 002:44).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from '../src/index.js';
import { onFacadeError } from '../src/facade.js';
import {
  Application, application, ExtendedExecutionSession, ExtendedExecutionReason, ExtendedExecutionResult,
  SUSPENDING_TASK,
} from '../src/uwp.js';
import { URL_, RIG, BENCH, app, appId, deferred, skip, within, TLS, useBench } from './helpers.js';

/** winrt-api application_suspending.md: "the Suspending event handler has only 5 seconds to
 *  complete its operation" (firmware_sim/platforms/uwp.py `suspending_s`). */
const SUSPENDING_S = 5;
/** Events carry rig seconds rounded to the microsecond, `status` the unrounded float. */
const RIG_TIME_EPS_S = 1e-3;

function sameRigTime(actual, expected, what) {
  assert.ok(Math.abs(actual - expected) < RIG_TIME_EPS_S, `${what}: ${actual} is not ${expected}`);
}

const fx = useBench();
const uwpApp = (name) => fx.appFor(name, 'uwp');

test('UWP: leaving the foreground without a session raises Suspending (5 s deadline), then the app is suspended', { skip }, async () => {
  await uwpApp('uwpsusp');
  const app = Application.current;
  assert.equal(app, application(fx.client)); // one app object per client
  const suspending = deferred();
  let deferral;
  app.onSuspending((args) => {
    deferral = args.suspendingOperation.getDeferral();
    suspending.resolve(args);
    deferral.complete();
  });
  const removed = [];
  const off = app.onSuspending(() => removed.push('called')); // removed before the event
  off();
  app.onsuspending = () => { throw new Error('handler failed'); };

  assert.deepEqual(await app.setState('background'), { state: 'background', previous: 'foreground', relaunchPending: false });
  const args = await within(suspending.promise, 10, 'suspending');
  assert.equal(args.type, 'suspending');
  assert.equal(args.detail.task_id, SUSPENDING_TASK);
  sameRigTime(args.suspendingOperation.deadline, args.detail.t + SUSPENDING_S, 'deadline');
  assert.equal(deferral.completed, true);
  assert.deepEqual(removed, []);
  // a throwing handler is reported, not lost, and the others still ran
  assert.deepEqual(fx.errors.splice(0), ['suspending handler: handler failed']);
  const during = await app.getState();
  assert.equal(during.state, 'background');
  sameRigTime(during.suspendingUntil, args.suspendingOperation.deadline, 'status suspending_until');

  // the deferral is advisory: the rig suspends the app at the deadline
  const expire = await fx.client.nextEvent((e) => e.type === 'expire' && e.task_id === SUSPENDING_TASK,
    { timeout: SUSPENDING_S + 10, since: 0 });
  assert.equal(expire.reason, 'suspended');
  sameRigTime(expire.t, args.suspendingOperation.deadline, 'expire time');
  assert.deepEqual(await app.getState(), { state: 'suspended', relaunchPending: false, suspendingUntil: null });
  // seed 002:42: SavingData only while Running or Suspending — not once suspended
  const late = new ExtendedExecutionSession();
  late.reason = ExtendedExecutionReason.savingData;
  assert.equal(await late.requestExtensionAsync(), ExtendedExecutionResult.denied);
  await late.close();
});

test('UWP: SavingData asked for in Suspending holds the app; a relaunch waits for it and completes on close', { skip }, async () => {
  await uwpApp('uwpsave');
  const app = Application.current;
  const granted = deferred();
  let session;
  // Microsoft's pattern: take a deferral, ask for SavingData, complete the deferral
  app.onSuspending(async (args) => {
    const deferral = args.suspendingOperation.getDeferral();
    session = new ExtendedExecutionSession();
    session.reason = ExtendedExecutionReason.savingData;
    session.description = 'saving the document';
    granted.resolve(await session.requestExtensionAsync());
    deferral.complete();
  });
  await app.setState('background');
  assert.equal(await within(granted.promise, 10, 'SavingData answer'), ExtendedExecutionResult.allowed);
  const held = await app.getState();
  assert.equal(held.state, 'background');
  assert.equal(held.suspendingUntil, null); // the session holds it in Suspending (seed 002:22)

  // seed 002:44: "the extended execution session time period must complete before the old
  // instance of the app can be closed and a new instance of the app can be launched"
  assert.deepEqual(await app.setState('foreground'), { state: 'background', previous: 'background', relaunchPending: true });
  assert.equal((await app.getState()).relaunchPending, true);
  assert.equal(fx.client.history.filter((e) => e.type === 'revoke').length, 0);
  assert.deepEqual(await session.close(), { relaunched: true });
  assert.deepEqual(await app.getState(), { state: 'foreground', relaunchPending: false, suspendingUntil: null });
  assert.equal(fx.client.history.filter((e) => e.type === 'expire' && e.task_id === SUSPENDING_TASK).length, 0);
});

test('UWP: an app with a foreground session gets no Suspending event (seed 002:20)', { skip }, async () => {
  await uwpApp('uwpheld');
  const app = Application.current;
  const calls = [];
  app.addEventListener('suspending', (args) => calls.push(args));
  const session = new ExtendedExecutionSession();
  assert.equal(await session.requestExtensionAsync(), ExtendedExecutionResult.allowed);
  await app.setState('background');
  // the rig's own view: no Suspending deadline
  const status = await app.getState();
  assert.equal(status.state, 'background');
  assert.equal(status.suspendingUntil, null);
  assert.deepEqual(await session.close(), { relaunched: false });
  assert.equal((await app.getState()).state, 'suspended'); // disposed in the background: suspended at once
  assert.deepEqual(calls, []);
});
