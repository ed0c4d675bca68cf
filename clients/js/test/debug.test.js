// The verbs added after the first facades (README "Platforms", "Debug verbs"), through the
// platforms' own API shapes against a real rig: the debug verbs force_run / force_expire (Xcode's
// BGTaskScheduler helpers, WorkManager's TestDriver), `status` with `debug`, iOS background
// notifications and background URLSession, WP8 tiles and network interfaces.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from '../src/index.js';
import { onFacadeError } from '../src/facade.js';
import {
  BGTaskScheduler, BGAppRefreshTaskRequest, UIApplication, UIBackgroundFetchResult,
  URLSession, URLSessionConfiguration, simulateRemoteNotification,
} from '../src/ios.js';
import {
  ScheduledActionService, ResourceIntensiveTask, PeriodicTask, ScheduledTaskAgent, ShellTile,
  SocketExtensions, NetworkInterfaceType,
} from '../src/wp8.js';
import workScheduler, { WorkSchedulerExtensionAbility, BusinessError, registerExtension } from '../src/harmonyos.js';
import { ExtendedExecutionSession, ExtendedExecutionResult, ExtendedExecutionRevokedReason, reclaimMemory } from '../src/uwp.js';
import { WorkManager, OneTimeWorkRequest, Constraints, Worker, Result, WorkManagerTestInitHelper } from '../src/android.js';
import { URL_, RIG, BENCH, app, appId, deferred, skip, within, TLS, useBench } from './helpers.js';

/** Seed 001, Background Notification: "The time interval between runs was just 15 minutes"
 *  (firmware_sim/platforms/ios.py `push_cadence_s`). */
const IOS_PUSH_CADENCE_S = 15 * 60;
/** Seed 003: "如果你的應用的Tile被固定在開始畫面上了,你的後台代理在任何調用Update(ShellTileData)
 *  來更新Tile時,其存留時間會被自動擴充到兩周" (wp8.py `max_expiration_s`). */
const WP8_TILE_EXTENSION_S = 14 * 86400;
/** An earliest begin far beyond any test: only force_run can start the task. */
const FAR_AHEAD_S = 3600;

const fx = useBench();
const appFor = fx.appFor;

test('iOS: _simulateLaunchForTaskWithIdentifier launches a waiting refresh, _simulateExpiration… expires it', { skip }, async () => {
  await appFor('iosdbg', 'ios');
  const launched = deferred();
  const expired = deferred();
  BGTaskScheduler.register('com-example-refresh', (task) => {
    task.expirationHandler = () => { task.setTaskCompleted(false).then(() => expired.resolve(task.identifier)); };
    launched.resolve(task);
  });
  const request = new BGAppRefreshTaskRequest('com-example-refresh');
  request.earliestBeginDelay = FAR_AHEAD_S;
  await BGTaskScheduler.submit(request);
  await fx.client.setState('background');

  const status = await fx.client.status();
  const debug = status.debug['com-example-refresh'];
  assert.ok(debug, `status.debug names the request: ${JSON.stringify(status.debug)}`);
  assert.ok(debug.next_eligible > (fx.client.signals?.t ?? 0) + FAR_AHEAD_S / 2, 'held back by its earliest begin');

  const forced = await BGTaskScheduler._simulateLaunchForTaskWithIdentifier('com-example-refresh');
  assert.equal(forced.forced, 'run');
  assert.equal(forced.task_id, 'com-example-refresh');
  const task = await within(launched.promise, 10, 'launch handler');
  assert.equal(task.identifier, 'com-example-refresh');
  const wake = fx.client.history.find((e) => e.type === 'wake' && e.task_id === 'com-example-refresh');
  assert.equal(wake.data.forced, true);

  const expiry = await BGTaskScheduler._simulateExpirationForTaskWithIdentifier('com-example-refresh');
  assert.equal(expiry.forced, 'expire');
  assert.equal(await within(expired.promise, 10, 'expirationHandler'), 'com-example-refresh');
  assert.equal(fx.client.history.find((e) => e.type === 'expire' && e.task_id === 'com-example-refresh').data.forced, true);
  // nothing is waiting any more
  await assert.rejects(BGTaskScheduler._simulateLaunchForTaskWithIdentifier('com-example-refresh'),
    (e) => e.code === 'unknown_task' || e.code === 'invalid_state');
  await assert.rejects(BGTaskScheduler._simulateLaunchForTaskWithIdentifier('com-example-none'), { code: 'unknown_task' });
});

test('iOS: background notifications launch at most every 15 minutes, pushes in between coalesce', { skip }, async () => {
  await appFor('iospush', 'ios');
  await fx.client.setState('background');
  const received = [];
  const first = deferred();
  UIApplication.shared.delegate = {
    didReceiveRemoteNotification(userInfo, completionHandler, event) {
      received.push({ userInfo, event });
      completionHandler(UIBackgroundFetchResult.newData).then(() => first.resolve(event));
    },
  };
  const now = await simulateRemoteNotification({ aps: { 'content-available': 1 }, n: 1 });
  assert.equal(now.delivered, true);
  const wake = await within(first.promise, 10, 'didReceiveRemoteNotification');
  assert.equal(wake.task_id, 'background_notification');
  assert.deepEqual(received[0].userInfo, { aps: { 'content-available': 1 }, n: 1 });
  assert.equal(wake.data.pushes, 1);

  const second = await simulateRemoteNotification({ n: 2 });
  assert.equal(second.delivered, false);
  assert.ok(Math.abs(second.deliver_at - (wake.t + IOS_PUSH_CADENCE_S)) < 1e-3,
    `next launch ${second.deliver_at} = the last launch ${wake.t} + ${IOS_PUSH_CADENCE_S} s`);
  assert.equal(second.pending, 1);
  const third = await simulateRemoteNotification({ n: 3 });
  assert.equal(third.deliver_at, second.deliver_at);
  assert.equal(third.pending, 2);
  assert.equal(received.length, 1, 'no launch before the cadence allows one');
});

test('iOS: a background URLSession download ends in handleEventsForBackgroundURLSession', { skip }, async () => {
  await appFor('iosurl', 'ios');
  await fx.client.setState('background');
  const handled = deferred();
  UIApplication.shared.delegate = {
    handleEventsForBackgroundURLSession(identifier, completionHandler, event) {
      completionHandler().then(() => handled.resolve([identifier, event]));
    },
  };
  const session = new URLSession(URLSessionConfiguration.background('com-example-dl'));
  await assert.rejects(session.downloadTask({ duration: -1 }).resume(), { code: 'invalid_args' });
  const started = await session.downloadTask({ duration: 0.2 }).resume();
  assert.equal(started.session, 'com-example-dl');
  const [identifier, wake] = await within(handled.promise, 10, 'handleEventsForBackgroundURLSession');
  assert.equal(identifier, 'com-example-dl');
  assert.equal(wake.type, 'wake');
  assert.equal(wake.data.type, 'url_session');
  assert.equal(wake.data.launched, true);
});

test('Android: TestDriver.setAllConstraintsMet runs work whose constraints are unmet; force_expire stops it', { skip }, async () => {
  await appFor('andrdbg', 'android');
  await fx.bench.setSignalsAndWait({ charger: 'none' });
  const stopped = deferred();
  const started = deferred();
  class ChargingWorker extends Worker {
    async doWork() { started.resolve(this.getId()); await stopped.promise; return Result.success(); }
    onStopped(event) { stopped.resolve(event); }
  }
  const request = new OneTimeWorkRequest.Builder(ChargingWorker)
    .setConstraints(new Constraints.Builder().setRequiresCharging(true).build()).build();
  await WorkManager.getInstance().enqueue(request);
  const debug = (await fx.client.status()).debug[request.id];
  assert.ok(debug.unmet.length > 0, `held back: ${JSON.stringify(debug)}`);

  const driver = WorkManagerTestInitHelper.getTestDriver();
  const forced = await driver.setAllConstraintsMet(request.id);
  assert.equal(forced.forced, 'run');
  assert.equal(await within(started.promise, 10, 'doWork'), request.id);
  assert.equal(fx.client.history.find((e) => e.type === 'wake').data.forced, true);
  await assert.rejects(driver.setAllConstraintsMet(request.id), { code: 'invalid_state' });

  assert.equal((await fx.client.forceExpire(request.id)).forced, 'expire');
  const event = await within(stopped.promise, 10, 'onStopped');
  assert.equal(event.type, 'expire');
  assert.equal(event.data.forced, true);
});

test('HarmonyOS: a count-only repeating work, force_run past its unmet charging, force_expire → onWorkStop and terminate', { skip }, async () => {
  await appFor('hmosdbg', 'harmonyos');
  await fx.bench.setSignalsAndWait({ charger: 'none' });
  const started = deferred();
  const stopped = deferred();
  registerExtension(new (class extends WorkSchedulerExtensionAbility {
    onWorkStart(work) { started.resolve(work); }
    onWorkStop(work) { stopped.resolve(work); }
  })());
  const work = { workId: 7, bundleName: 'com-example-mail', abilityName: 'Sync', isCharging: true };
  // seed 004: "When isRepeat is set, you must set repeatCycleTime or repeatCount"; a count alone needs isRepeat
  await assert.rejects(workScheduler.startWork({ ...work, repeatCount: 2 }), (e) => e instanceof BusinessError && e.code === 401);
  await workScheduler.startWork({ ...work, isRepeat: true, repeatCount: 2 });
  const debug = (await fx.client.status()).debug['7'];
  assert.ok(debug && debug.unmet.length > 0, `held back by the charger: ${JSON.stringify(debug)}`);

  assert.equal((await fx.client.forceRun('7')).forced, 'run');
  assert.equal((await within(started.promise, 10, 'onWorkStart')).workId, 7);
  assert.equal((await fx.client.forceExpire('7')).forced, 'expire');
  assert.equal((await within(stopped.promise, 10, 'onWorkStop')).workId, 7);
  const terminate = await fx.client.nextEvent((e) => e.type === 'terminate' && e.task_id === '7', { since: 0 });
  assert.equal(terminate.data.forced, true); // seed 004: "forcibly terminates the process"
  assert.equal(await workScheduler.isLastWorkTimeOut(7), true);
});

test('UWP: memory pressure revokes a background session (seed 002), not a foreground one; force_run is not_supported', { skip }, async () => {
  await appFor('uwpmem', 'uwp');
  const session = new ExtendedExecutionSession();
  const revoked = deferred();
  session.addEventListener('revoked', (args) => revoked.resolve(args));
  assert.equal(await session.requestExtensionAsync(), ExtendedExecutionResult.allowed);
  await fx.client.setState('foreground');
  assert.deepEqual(await reclaimMemory(), { revoked: null });
  await fx.client.setState('background');
  const answer = await reclaimMemory();
  assert.ok(answer.revoked, JSON.stringify(answer));
  const args = await within(revoked.promise, 10, 'revoked');
  assert.equal(args.reason, ExtendedExecutionRevokedReason.systemPolicy);
  assert.equal(args.detail.reason, 'memory_pressure');
  await assert.rejects(fx.client.forceRun(answer.revoked), { code: 'not_supported' });
  await session.close();
});

test('Capacitor: force_run is not_supported (no platform tool exists for it)', { skip }, async () => {
  await appFor('capdbg', 'capacitor');
  await assert.rejects(fx.client.forceRun('task-1'), { code: 'not_supported' });
});

test('WP8: ShellTile.update extends a pinned app\'s actions to two weeks; MobileBroadband fails in a resource-intensive agent', { skip }, async () => {
  await appFor('wp8tile', 'wp8');
  const poll = new PeriodicTask('poll');
  poll.expirationTime = '1d';
  const added = await ScheduledActionService.add(poll);
  const [tile] = ShellTile.activeTiles;
  assert.deepEqual(await tile.update({ title: 'Mail', count: 3 }), { extended: false, reason: 'tile_not_pinned' });

  await fx.client.register('wp8', { tile_pinned: true });
  const now = fx.client.signals.t;
  const updated = await ShellTile.activeTiles[0].update({ count: 4 });
  assert.equal(updated.extended, true);
  assert.deepEqual(updated.names, ['poll']);
  assert.ok(updated.expiration_time > added.expiration_time);
  assert.ok(updated.expiration_time >= now + WP8_TILE_EXTENSION_S - 60, `${updated.expiration_time} ≈ ${now} + 14 days`);

  // bad input gets the rig's coded answer, never a local crash
  await assert.rejects(SocketExtensions.associateToNetworkInterface(null, { interfaceType: 'lte' }), { code: 'invalid_args' });
  await assert.rejects(SocketExtensions.associateToNetworkInterface(null, undefined), { code: 'invalid_args' });
  // a resource-intensive agent may not use mobile broadband (seed 003)
  const outcome = deferred();
  class Agent extends ScheduledTaskAgent {
    async onInvoke(task) {
      if (!(task instanceof ResourceIntensiveTask)) return;
      const results = [];
      for (const interfaceType of [NetworkInterfaceType.MobileBroadbandGsm, NetworkInterfaceType.Wireless80211]) {
        try {
          results.push((await SocketExtensions.associateToNetworkInterface(null, { interfaceType })).associated);
        } catch (err) {
          results.push(err.code);
        }
      }
      await this.notifyComplete();
      outcome.resolve(results);
    }
  }
  ScheduledActionService.registerAgent(Agent);
  await fx.bench.setSignalsAndWait({ screen_locked: true });
  await ScheduledActionService.add(new ResourceIntensiveTask('sync'));
  assert.deepEqual(await within(outcome.promise, 10, 'resource-intensive agent'), ['network_interface_refused', true]);
});
