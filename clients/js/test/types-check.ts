// Compiled (not run) by `tsc -p .` (tests/js/test_js_types.py): the hand-written typings accept
// platform code written against them, and reject what the real APIs reject.
import { connect, WakebenchError, type RigEvent } from '@wakebench/client';
import { Plugins, setActive } from '@wakebench/client/capacitor';
import workScheduler, { WorkSchedulerExtensionAbility, registerExtension, BusinessError, type WorkInfo } from '@wakebench/client/harmonyos';
import { BGTaskScheduler, BGProcessingTaskRequest, UIApplication, UIBackgroundFetchResult, URLSession, URLSessionConfiguration, simulateRemoteNotification } from '@wakebench/client/ios';
import { ExtendedExecutionSession, ExtendedExecutionReason, ExtendedExecutionResult, reclaimMemory, Application, type SuspendingEventArgs } from '@wakebench/client/uwp';
import { ScheduledActionService, ResourceIntensiveTask, PeriodicTask, ScheduledTaskAgent, ShellTile, SocketExtensions, NetworkInterfaceType } from '@wakebench/client/wp8';
import { WorkManager, OneTimeWorkRequest, PeriodicWorkRequest, Constraints, NetworkType, Worker, Result, TimeUnit, WorkManagerTestInitHelper } from '@wakebench/client/android';

export async function all(): Promise<void> {
  const app = await connect('ws://127.0.0.1:9001', { appId: 'typed', rig: 'bench' });
  const data: Record<string, any> = await app.request('status');
  void data;
  for await (const event of app.events()) {
    const e: RigEvent = event;
    if (e.type === 'revoke') break;
  }
  app.subscribeRigState((state: 'online' | 'offline') => state).unsubscribe();
  try { await app.request('finish', { task_id: 'x' }); } catch (err) { if (err instanceof WakebenchError) void err.code.toUpperCase(); }

  const { App, BackgroundTask } = Plugins;
  App.addListener('appStateChange', (state) => {
    if (!state.isActive) {
      const taskId: string = BackgroundTask.beforeExit(async () => { await BackgroundTask.finish({ taskId }); });
    }
  });
  await setActive(false);

  class Ability extends WorkSchedulerExtensionAbility {
    onWorkStart(work: WorkInfo): void { void work.workId; }
  }
  registerExtension(new Ability());
  await workScheduler.startWork({ workId: 1, bundleName: 'b', abilityName: 'a', networkType: workScheduler.NetworkType.NETWORK_TYPE_WIFI });
  const timedOut: boolean = await workScheduler.isLastWorkTimeOut(1);
  void timedOut;
  workScheduler.getWorkStatus(1, (err: BusinessError | undefined, info: WorkInfo | undefined) => void [err, info]);

  BGTaskScheduler.register('id', (task) => { task.expirationHandler = () => { void task.setTaskCompleted(false); }; });
  const req = new BGProcessingTaskRequest('id');
  req.requiresExternalPower = true;
  await BGTaskScheduler.submit(req);
  const id: number = await UIApplication.shared.beginBackgroundTask('upload', () => {});
  await UIApplication.shared.endBackgroundTask(id);

  const session = new ExtendedExecutionSession();
  session.reason = ExtendedExecutionReason.savingData;
  session.addEventListener('revoked', (args) => void args.reason);
  if (await session.requestExtensionAsync() === ExtendedExecutionResult.allowed) await session.close();
  const off: () => void = Application.current.onSuspending(async (args: SuspendingEventArgs) => {
    const deferral = args.suspendingOperation.getDeferral();
    const seconds: number = args.suspendingOperation.deadline - args.detail.t;
    void seconds;
    deferral.complete();
  });
  off();
  const relaunch = await Application.current.setState('foreground');
  const pending: boolean = relaunch.relaunchPending;
  void pending;
  const { relaunched } = await session.close();
  void relaunched;

  class Agent extends ScheduledTaskAgent { onInvoke(): void { void this.notifyComplete(); } }
  ScheduledActionService.registerAgent(Agent);
  await ScheduledActionService.add(new ResourceIntensiveTask('sync'));

  class Upload extends Worker { doWork() { return Result.success(); } }
  const c = new Constraints.Builder().setRequiredNetworkType(NetworkType.UNMETERED).setRequiresCharging(true).build();
  await WorkManager.getInstance().enqueue(new OneTimeWorkRequest.Builder(Upload).setConstraints(c).build());
  await WorkManager.enqueue(new PeriodicWorkRequest.Builder(Upload, 15, TimeUnit.MINUTES).build());

  // the verbs added later: debug verbs, status debug, push, URLSession, tiles, memory pressure
  const forced = await app.forceRun('com-example-refresh');
  const kind: 'run' | 'expire' = forced.forced;
  void kind;
  await app.forceExpire('com-example-refresh');
  const unmet: string[] = (await app.status()).debug['com-example-refresh'].unmet;
  void unmet;
  await BGTaskScheduler._simulateLaunchForTaskWithIdentifier('com-example-refresh');
  await BGTaskScheduler.shared._simulateExpirationForTaskWithIdentifier('com-example-refresh');
  UIApplication.shared.delegate = {
    didReceiveRemoteNotification(userInfo, completionHandler) { void userInfo; void completionHandler(UIBackgroundFetchResult.newData); },
    handleEventsForBackgroundURLSession(identifier, completionHandler) { void identifier; void completionHandler(); },
  };
  const push = await simulateRemoteNotification({ n: 1 });
  const at: number | null = push.deliver_at;
  void at;
  const transfer = await new URLSession(URLSessionConfiguration.background('dl')).downloadTask({ duration: 5 }).resume();
  void transfer.completes_at;
  const tile = await ShellTile.activeTiles[0].update({ count: 1 });
  void tile.extended;
  const added = await ScheduledActionService.add(new PeriodicTask('poll'));
  const warning: string | undefined = added.user_warning;
  void warning;
  await SocketExtensions.associateToNetworkInterface(null, { interfaceType: NetworkInterfaceType.MobileBroadbandGsm });
  await WorkManagerTestInitHelper.getTestDriver().setAllConstraintsMet('id');
  const reclaimed: string | null = (await reclaimMemory()).revoked;
  void reclaimed;

  // @ts-expect-error: force_run takes the task id
  await app.forceRun();
  // @ts-expect-error: a UIBackgroundFetchResult, not a boolean
  UIApplication.shared.delegate = { didReceiveRemoteNotification(_u, done) { void done(true); } };
  // @ts-expect-error: the rig knows these interface types only
  await SocketExtensions.associateToNetworkInterface(null, { interfaceType: 'lte' });
  // @ts-expect-error: Capacitor's finish takes { taskId }
  await BackgroundTask.finish('task-1');
  // @ts-expect-error: an app state is foreground / background / suspended / terminated
  await Application.current.setState('running');
  // @ts-expect-error: the deadline is rig seconds, not a Date
  Application.current.onSuspending((args) => { const d: Date = args.suspendingOperation.deadline; void d; });
  // @ts-expect-error: a WorkInfo needs workId, bundleName and abilityName
  await workScheduler.startWork({ networkType: 2 });
}
