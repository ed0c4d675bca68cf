import type { WakebenchClient, RigEvent } from './index.js';

declare class ScheduledTask {
  constructor(name: string);
  name: string;
  description: string;
  /** Rig seconds (absolute) or a duration such as "7d"; null: the longest allowed (under 14 days). */
  expirationTime: number | string | null;
  isScheduled?: boolean;
}
export class PeriodicTask extends ScheduledTask {}
export class ResourceIntensiveTask extends ScheduledTask {}

/** Extend: `onInvoke` runs on the rig's `wake`, `onCancel` on `revoke` / `expire`. */
export class ScheduledTaskAgent {
  constructor(client?: WakebenchClient);
  onInvoke(task: PeriodicTask | ResourceIntensiveTask): void | Promise<void>;
  onCancel(event?: RigEvent): void;
  /** Synchronous on the phone; a Promise here. */
  notifyComplete(): Promise<Record<string, any>>;
  /** Synchronous on the phone; a Promise here. */
  abort(): Promise<Record<string, any>>;
}

export interface ScheduledActionServiceApi {
  /** `Add` is synchronous on the phone (throws InvalidOperationException); rejects with WakebenchError here. */
  add(action: PeriodicTask | ResourceIntensiveTask): Promise<AddResult>;
  remove(name: string): Promise<void>;
  /** `delay` in rig seconds or a duration string ("30s"). */
  launchForTest(name: string, delay: number | string): Promise<void>;
  /** Bench-only: the agent class (a new instance per run, as on the phone) or one instance. */
  registerAgent(agent: (new (client: WakebenchClient) => ScheduledTaskAgent) | ScheduledTaskAgent): void;
}
export const ScheduledActionService: ScheduledActionServiceApi;

/** The rig's `add` answer. */
export interface AddResult {
  name: string;
  type: 'periodic' | 'resource_intensive';
  expiration_time: number;
  is_scheduled: boolean;
  replaced: boolean;
  next_run: number | null;
  state: string;
  /** Present when the device has more periodic agents than the warning count: the phone warns
   *  the user that background agents drain the battery (seed 003). */
  user_warning?: string;
  [field: string]: unknown;
}

export const NetworkInterfaceType: {
  readonly Ethernet: 'ethernet';
  readonly Wireless80211: 'wireless80211';
  readonly MobileBroadbandGsm: 'mobile_broadband_gsm';
  readonly MobileBroadbandCdma: 'mobile_broadband_cdma';
  readonly Bluetooth: 'bluetooth';
};
export type NetworkInterfaceTypeValue = (typeof NetworkInterfaceType)[keyof typeof NetworkInterfaceType];

/** The result of `ShellTile.update`. */
export interface UpdateTileResult {
  extended: boolean;
  expiration_time?: number;
  names?: string[];
  /** `tile_not_pinned` when neither `tile_pinned` nor `lock_screen` is set at `register`. */
  reason?: string;
}
export class ShellTile {
  constructor(client: WakebenchClient);
  /** `ShellTile.ActiveTiles`: the first is the app's primary Tile. */
  static readonly activeTiles: ShellTile[];
  /** `Update(ShellTileData)`: synchronous on the phone; a Promise here. `data` stays local. */
  update(data?: Record<string, unknown>): Promise<UpdateTileResult>;
}
export const SocketExtensions: {
  /** Rejects with `network_interface_refused` for mobile broadband in a resource-intensive agent (seed 003). */
  associateToNetworkInterface(socket: unknown, networkInterface: { interfaceType: NetworkInterfaceTypeValue }): Promise<{ interface_type: string; associated: boolean }>;
};
export function wp8(client?: WakebenchClient): {
  ScheduledActionService: ScheduledActionServiceApi;
  ShellTile: { readonly activeTiles: ShellTile[] };
  SocketExtensions: typeof SocketExtensions;
};
