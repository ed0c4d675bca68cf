// One flow per platform facade against a real rig, several ending in a revoke caused by a
// signal change (the charger pulled, the screen off). Platform code below is written as for the
// platform; only its import differs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from '../src/index.js';
import { onFacadeError } from '../src/facade.js';
import { Plugins } from '../src/capacitor.js';
import * as cap from '../src/capacitor.js';
import workScheduler, { WorkSchedulerExtensionAbility, BusinessError, registerExtension } from '../src/harmonyos.js';
import { BGTaskScheduler, BGProcessingTaskRequest, UIApplication } from '../src/ios.js';
import { ExtendedExecutionSession, ExtendedExecutionReason, ExtendedExecutionResult, ExtendedExecutionRevokedReason } from '../src/uwp.js';
import { ScheduledActionService, ResourceIntensiveTask, PeriodicTask, ScheduledTaskAgent } from '../src/wp8.js';
import { WorkManager, OneTimeWorkRequest, Constraints, NetworkType, Worker, Result } from '../src/android.js';
import { URL_, RIG, BENCH, app, appId, deferred, skip, until, within, TLS, useBench } from './helpers.js';

const fx = useBench();
const appFor = fx.appFor;

test('Capacitor: seed 000\'s example, as written but for its 20-second busy loop', { skip }, async () => {
  await appFor('cap', 'capacitor');
  const finished = deferred();
  // ---- seed 000 (Capacitor docs "Background Tasks", example) ----
  const { App, BackgroundTask } = Plugins;
  App.addListener('appStateChange', (state) => {
    if (!state.isActive) {
      let taskId = BackgroundTask.beforeExit(async () => {
        await new Promise((r) => setTimeout(r, 50)); // the upload (the seed busy-waits 20 s)
        BackgroundTask.finish({
          taskId,
        }).then(() => finished.resolve(taskId));
      });
    }
  });
  // ---- the bench's home button ----
  const events = fx.client.events();
  await cap.setActive(false);
  const wake = (await within(events.next(), 10, 'wake')).value;
  assert.equal(wake.type, 'wake');
  const taskId = await within(finished.promise, 10, 'finish');
  assert.equal(wake.task_id, taskId);
  // finished in time: the rig forgot the task, so finishing it again is unknown_task
  await assert.rejects(fx.client.request('finish', { task_id: taskId }), { code: 'unknown_task' });
  assert.equal(fx.client.history.filter((e) => e.type === 'terminate').length, 0);
});

test('HarmonyOS: startWork → onWorkStart, charger pulled → onWorkStop; BusinessError codes', { skip }, async () => {
  await appFor('hmos', 'harmonyos');
  const started = deferred();
  const stopped = deferred();
  class MailSync extends WorkSchedulerExtensionAbility {
    onWorkStart(work) { started.resolve(work); }
    onWorkStop(work) { stopped.resolve(work); }
  }
  registerExtension(new MailSync());
  const work = {
    workId: 1, bundleName: 'com-example-mail', abilityName: 'MailSync',
    networkType: workScheduler.NetworkType.NETWORK_TYPE_WIFI,
    isCharging: true, chargerType: workScheduler.ChargingType.CHARGING_PLUGGED_ANY,
  };
  await workScheduler.startWork(work);
  const onStart = await within(started.promise, 10, 'onWorkStart');
  assert.equal(onStart.workId, 1);
  assert.equal(onStart.networkType, 2); // NETWORK_TYPE_WIFI
  assert.equal(onStart.chargerType, 0); // CHARGING_PLUGGED_ANY
  const status = await workScheduler.getWorkStatus(1);
  assert.equal(status.bundleName, 'com-example-mail');
  assert.equal((await workScheduler.obtainAllWorks()).length, 1);
  // 9700005: the work id exists; 401: no condition at all (OpenHarmony work_sched_errors.h)
  await assert.rejects(workScheduler.startWork(work), (e) => e instanceof BusinessError && e.code === 9700005);
  await assert.rejects(workScheduler.startWork({ workId: 2, bundleName: 'com-example-mail', abilityName: 'MailSync' }),
    (e) => e instanceof BusinessError && e.code === 401);
  await assert.rejects(workScheduler.getWorkStatus(99), (e) => e instanceof BusinessError && e.code === 9700004);
  // the callback form of the same call
  const viaCallback = await new Promise((r) => workScheduler.isLastWorkTimeOut(1, (err, timedOut) => r([err, timedOut])));
  assert.deepEqual(viaCallback, [undefined, false]);

  await fx.bench.setSignalsAndWait({ charger: 'none' });
  const onStop = await within(stopped.promise, 10, 'onWorkStop');
  assert.equal(onStop.workId, 1);
  const revoke = fx.client.history.find((e) => e.type === 'revoke');
  assert.equal(revoke.reason, 'charger_removed');
  await workScheduler.stopAndClearWorks();
  assert.deepEqual(await workScheduler.obtainAllWorks(), []);
});

test('iOS: a processing task needing power is revoked when the charger goes; background task expires', { skip }, async () => {
  await appFor('ios', 'ios');
  const expired = deferred();
  const launched = deferred();
  assert.equal(BGTaskScheduler.register('com-example-db-clean', (task) => {
    task.expirationHandler = () => {
      task.setTaskCompleted(false).then(() => expired.resolve(task.identifier));
    };
    launched.resolve(task);
  }), true);
  assert.equal(BGTaskScheduler.register('com-example-db-clean', () => {}), false);
  const request = new BGProcessingTaskRequest('com-example-db-clean');
  request.requiresExternalPower = true;
  await BGTaskScheduler.submit(request);
  await fx.bench.setSignalsAndWait({ idle: true, screen_locked: true }); // processing waits for an idle device
  const task = await within(launched.promise, 10, 'launch');
  assert.equal(task.identifier, 'com-example-db-clean');
  await fx.bench.setSignalsAndWait({ charger: 'none' });
  assert.equal(await within(expired.promise, 10, 'expirationHandler'), 'com-example-db-clean');
  assert.equal(fx.client.history.find((e) => e.type === 'revoke').reason, 'charger_removed');

  // beginBackgroundTask: the shared background budget runs out, the handler ends the task
  await fx.bench.setSignalsAndWait({ idle: false, screen_locked: false });
  const ended = deferred();
  let id;
  id = await UIApplication.shared.beginBackgroundTask('upload', () => {
    UIApplication.shared.endBackgroundTask(id).then(() => ended.resolve(id));
  });
  assert.ok(id > 0);
  await fx.client.setState('background');
  assert.equal(await within(ended.promise, 60, 'background task expiry'), id);
});

test('UWP: an unspecified session is revoked when the device enters Connected Standby', { skip }, async () => {
  await appFor('uwp', 'uwp');
  const session = new ExtendedExecutionSession();
  session.reason = ExtendedExecutionReason.unspecified;
  session.description = 'recording';
  const revoked = deferred();
  session.addEventListener('revoked', (args) => revoked.resolve(args));
  assert.equal(await session.requestExtensionAsync(), ExtendedExecutionResult.allowed);
  // a second session while this one is active: the HRESULT the real constructor throws
  await assert.rejects(new ExtendedExecutionSession().requestExtensionAsync(), { code: '0x8007139F' });
  // desktop: the screen off and idle together stand for Connected Standby (platforms/uwp.py)
  await fx.bench.setSignalsAndWait({ screen_locked: true, idle: true });
  const args = await within(revoked.promise, 10, 'revoked');
  assert.equal(args.reason, ExtendedExecutionRevokedReason.systemPolicy);
  assert.equal(args.detail.reason, 'connected_standby');
  await session.close();
});

test('WP8: the resource-intensive agent is cancelled when the charger is pulled; a periodic test launch completes', { skip }, async () => {
  await appFor('wp8', 'wp8');
  const invoked = [];
  const cancelled = deferred();
  const completed = deferred();
  class Agent extends ScheduledTaskAgent {
    onInvoke(task) {
      invoked.push(task);
      if (task instanceof PeriodicTask) this.notifyComplete().then(() => completed.resolve(task.name));
    }
    onCancel() { cancelled.resolve(); }
  }
  ScheduledActionService.registerAgent(Agent);
  await fx.bench.setSignalsAndWait({ screen_locked: true });
  const sync = new ResourceIntensiveTask('sync');
  sync.description = 'mail sync';
  const added = await ScheduledActionService.add(sync);
  assert.equal(sync.isScheduled, true);
  assert.equal(added.type, 'resource_intensive');
  await until(() => invoked.length > 0, 10, 'onInvoke');
  assert.ok(invoked[0] instanceof ResourceIntensiveTask);
  await fx.bench.setSignalsAndWait({ charger: 'none' });
  await within(cancelled.promise, 10, 'onCancel');
  assert.equal(fx.client.history.find((e) => e.type === 'revoke').reason, 'charger_removed');

  await ScheduledActionService.remove('sync');
  await fx.bench.setSignalsAndWait({ screen_locked: false });
  await ScheduledActionService.add(new PeriodicTask('poll'));
  await ScheduledActionService.launchForTest('poll', 1);
  assert.equal(await within(completed.promise, 30, 'periodic test launch'), 'poll');
  await assert.rejects(ScheduledActionService.remove('nothing'), { code: 'unknown_task' });
});

test('Android: doWork\'s success ends the work; a charging-only worker is stopped when unplugged', { skip }, async () => {
  await appFor('andr', 'android');
  const stopped = deferred();
  class UploadWorker extends Worker {
    doWork() { return Result.success(); }
  }
  class BackupWorker extends Worker {
    async doWork() {
      await stopped.promise;
      return Result.success(); // ignored: the worker was stopped
    }
    onStopped(event) { stopped.resolve(event); }
  }
  const upload = OneTimeWorkRequest.from(UploadWorker);
  const done = fx.client.nextEvent((e) => e.type === 'wake' && e.task_id === upload.id);
  await WorkManager.getInstance().enqueue(upload);
  await within(done, 10, 'upload wake');
  // success removed the one-time work: cancelling it is unknown_task
  await within((async () => {
    for (;;) {
      try { await WorkManager.cancelWorkById(upload.id); } catch (e) { if (e.code === 'unknown_task') return; throw e; }
      await new Promise((r) => setTimeout(r, 20));
    }
  })(), 10, 'finish of the upload');

  const constraints = new Constraints.Builder()
    .setRequiresCharging(true)
    .setRequiredNetworkType(NetworkType.UNMETERED)
    .build();
  const backup = new OneTimeWorkRequest.Builder(BackupWorker).setConstraints(constraints).build();
  await WorkManager.enqueue(backup);
  await fx.bench.setSignalsAndWait({ charger: 'none' });
  const event = await within(stopped.promise, 10, 'onStopped');
  assert.equal(event.type, 'revoke');
  assert.equal(event.task_id, backup.id);
});
