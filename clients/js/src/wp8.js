// Windows Phone 8 `Microsoft.Phone.Scheduler`, against the rig's wp8 policy
// (firmware_sim/platforms/wp8.py; seed 003). The C# members in the camelCase of JavaScript.
import { perClient, report } from './facade.js';

class ScheduledTask {
  constructor(name) {
    this.name = name;
    this.description = '';
    /** Rig seconds (absolute) or a duration such as `"7d"`; null: the longest (under 14 days). */
    this.expirationTime = null;
  }
}
export class PeriodicTask extends ScheduledTask {}
export class ResourceIntensiveTask extends ScheduledTask {}

/** Base class of the app's agent: override `onInvoke(task)` (and `onCancel()`), end a run
 *  with `notifyComplete()` or `abort()` (Promises here; synchronous on the phone). */
export class ScheduledTaskAgent {
  constructor(client) { this._client = client; }
  onInvoke(_task) {}
  onCancel() {}
  notifyComplete() { return this._client.request('notify_complete', {}); }
  abort() { return this._client.request('abort', {}); }
}

/** `Microsoft.Phone.Net.NetworkInformation.NetworkInterfaceType`, as the rig's `interface_type`. */
export const NetworkInterfaceType = Object.freeze({
  Ethernet: 'ethernet',
  Wireless80211: 'wireless80211',
  MobileBroadbandGsm: 'mobile_broadband_gsm',
  MobileBroadbandCdma: 'mobile_broadband_cdma',
  Bluetooth: 'bluetooth',
});

/** `Microsoft.Phone.Shell.ShellTile`: the app's pinned Tile (`ShellTile.activeTiles[0]`). */
export class ShellTile {
  constructor(client) { this._client = client; }
  /** `Update(ShellTileData)`: with the Tile pinned (or the app on the lock screen; `register`
   *  settings `tile_pinned` / `lock_screen`) every scheduled action lives two weeks from now
   *  (seed 003). Synchronous on the phone; resolves to `{ extended, expiration_time, names }` or
   *  `{ extended: false, reason: 'tile_not_pinned' }`. `data` (the tile's content) stays local. */
  update(_data) { return this._client.request('update_tile', {}); }
}

const facade = perClient((client) => {
  let Agent = null;
  let running = null;

  client.onEvent((event) => {
    if (event.platform !== 'wp8' || !Agent) return;
    if (event.type === 'wake') {
      const agent = typeof Agent === 'function' ? new Agent(client) : Agent;
      agent._client ??= client;
      running = agent;
      const Kind = event.data?.type === 'periodic' ? PeriodicTask : ResourceIntensiveTask;
      const task = new Kind(event.task_id);
      try {
        const out = agent.onInvoke(task);
        if (out && typeof out.then === 'function') out.then(undefined, (err) => report(client, 'onInvoke', err));
      } catch (err) {
        report(client, 'onInvoke', err);
      }
    } else if ((event.type === 'revoke' || event.type === 'expire') && running) {
      const agent = running;
      running = null;
      try { agent.onCancel(event); } catch (err) { report(client, 'onCancel', err); }
    }
  });

  const ScheduledActionService = {
    /** `Add(action)`: synchronous on the phone (throws InvalidOperationException), a Promise here. */
    async add(action) {
      const type = action instanceof PeriodicTask ? 'periodic' : 'resource_intensive';
      const args = { name: action.name, type };
      if (action.description) args.description = action.description;
      if (action.expirationTime != null) args.expiration_time = action.expirationTime;
      const data = await client.request('add', args);
      action.isScheduled = data.is_scheduled;
      return data;
    },
    async remove(name) { await client.request('remove', { name }); },
    /** `LaunchForTest(name, delay)`: `delay` in rig seconds (or a duration string). */
    async launchForTest(name, delay) { await client.request('launch_for_test', { name, delay }); },
    /** Bench-only: the agent class (or instance) the phone's manifest would name. */
    registerAgent(agent) { Agent = agent; },
  };
  const tile = new ShellTile(client);
  const SocketExtensions = {
    /** `SocketExtensions.AssociateToNetworkInterface(socket, NetworkInterfaceInfo)`: rejects with
     *  `network_interface_refused` for mobile broadband in a resource-intensive agent (seed 003).
     *  No socket exists on the bench: `socket` is ignored. */
    async associateToNetworkInterface(_socket, networkInterface) {
      return client.request('associate_to_network_interface', { interface_type: networkInterface?.interfaceType });
    },
  };
  return { ScheduledActionService, ShellTile: { get activeTiles() { return [tile]; } }, SocketExtensions };
});

/** The facade bound to `client` (several apps in one process). */
export const wp8 = facade;
export const ScheduledActionService = {
  add: (action) => facade().ScheduledActionService.add(action),
  remove: (name) => facade().ScheduledActionService.remove(name),
  launchForTest: (name, delay) => facade().ScheduledActionService.launchForTest(name, delay),
  registerAgent: (agent) => facade().ScheduledActionService.registerAgent(agent),
};
/** `ShellTile.ActiveTiles`: the first is the app's primary Tile. */
Object.defineProperty(ShellTile, 'activeTiles', { get: () => facade().ShellTile.activeTiles, configurable: true });
export const SocketExtensions = {
  associateToNetworkInterface: (socket, networkInterface) => facade().SocketExtensions.associateToNetworkInterface(socket, networkInterface),
};
