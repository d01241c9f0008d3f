// A user's push devices: registered (FCM token encrypted, plus a keyed hash of it to recognise a
// re-registration of the same token), updated, marked stale when FCM says the token is dead, removed.
import { assertNever, type Decider } from '../decider.ts';
import { DomainError } from '../errors.ts';

export const PLATFORMS = ['ios', 'android', 'web'] as const;
export type Platform = (typeof PLATFORMS)[number];

/** Fan-out bound: one push goes to every active device of the user. */
export const MAX_DEVICES_PER_USER = 10;

export type DeviceEvent =
  | { type: 'DeviceRegistered'; data: { deviceId: string; tokenEnc: string; tokenHash: string; platform: Platform; deviceName: string; at: number } }
  | { type: 'DeviceUpdated'; data: { deviceId: string; tokenEnc: string; platform: Platform; deviceName: string; at: number } }
  | { type: 'DeviceMarkedStale'; data: { deviceId: string; reason: string; at: number } }
  | { type: 'DeviceRemoved'; data: { deviceId: string; at: number } };

export type DeviceCommand =
  | { type: 'RegisterDevice'; data: { deviceId: string; tokenEnc: string; tokenHash: string; platform: string; deviceName: string; at: number } }
  | { type: 'MarkDeviceStale'; data: { deviceId: string; reason: string; at: number } }
  | { type: 'RemoveDevice'; data: { deviceId: string; at: number } };

export type PushDevice = {
  deviceId: string;
  tokenEnc: string;
  tokenHash: string;
  platform: Platform;
  deviceName: string;
  registeredAt: number;
  updatedAt: number;
  stale: boolean;
};

/** Devices in registration order; removed devices are gone. */
export type DevicesState = { status: 'empty' } | { status: 'active'; devices: PushDevice[] };

export const devicesOf = (state: DevicesState): PushDevice[] => (state.status === 'active' ? state.devices : []);

export const findDeviceByTokenHash = (state: DevicesState, tokenHash: string) => devicesOf(state).find((d) => d.tokenHash === tokenHash);

const withDevices = (devices: PushDevice[]): DevicesState => (devices.length ? { status: 'active', devices } : { status: 'empty' });

const mapDevice = (state: DevicesState, deviceId: string, f: (d: PushDevice) => PushDevice): DevicesState =>
  withDevices(devicesOf(state).map((d) => (d.deviceId === deviceId ? f(d) : d)));

const parsePlatform = (p: string): Platform => {
  const v = p.trim().toLowerCase();
  if ((PLATFORMS as readonly string[]).includes(v)) return v as Platform;
  throw new DomainError('INVALID_ARGUMENT', `platform: expected one of ${PLATFORMS.join(', ')}, got ${JSON.stringify(p.slice(0, 20))}`);
};

export const deviceDecider: Decider<DeviceCommand, DeviceEvent, DevicesState> = {
  snapshotVersion: 1,
  initialState: () => ({ status: 'empty' }),
  evolve: (state, event) => {
    switch (event.type) {
      case 'DeviceRegistered': {
        const d = event.data;
        const device: PushDevice = { deviceId: d.deviceId, tokenEnc: d.tokenEnc, tokenHash: d.tokenHash, platform: d.platform, deviceName: d.deviceName, registeredAt: d.at, updatedAt: d.at, stale: false };
        return withDevices([...devicesOf(state).filter((x) => x.deviceId !== d.deviceId), device]);
      }
      case 'DeviceUpdated': {
        const d = event.data;
        return mapDevice(state, d.deviceId, (x) => ({ ...x, tokenEnc: d.tokenEnc, platform: d.platform, deviceName: d.deviceName, updatedAt: d.at, stale: false }));
      }
      case 'DeviceMarkedStale':
        return mapDevice(state, event.data.deviceId, (x) => ({ ...x, stale: true }));
      case 'DeviceRemoved':
        return withDevices(devicesOf(state).filter((x) => x.deviceId !== event.data.deviceId));
      default:
        return assertNeverEvolve(event, state);
    }
  },
  decide: (command, state) => {
    switch (command.type) {
      case 'RegisterDevice': {
        const c = command.data;
        const platform = parsePlatform(c.platform);
        const existing = findDeviceByTokenHash(state, c.tokenHash);
        if (existing) {
          // Same token again: refresh the record (and revive it if it was stale) instead of a second device.
          const unchanged = !existing.stale && existing.platform === platform && existing.deviceName === c.deviceName;
          if (unchanged) return [];
          return [{ type: 'DeviceUpdated', data: { deviceId: existing.deviceId, tokenEnc: c.tokenEnc, platform, deviceName: c.deviceName, at: c.at } }];
        }
        if (devicesOf(state).length >= MAX_DEVICES_PER_USER) {
          throw new DomainError('INVALID_ARGUMENT', `a user may have at most ${MAX_DEVICES_PER_USER} push devices; remove one before registering another`);
        }
        return [{ type: 'DeviceRegistered', data: { deviceId: c.deviceId, tokenEnc: c.tokenEnc, tokenHash: c.tokenHash, platform, deviceName: c.deviceName, at: c.at } }];
      }
      case 'MarkDeviceStale': {
        const d = devicesOf(state).find((x) => x.deviceId === command.data.deviceId);
        if (!d || d.stale) return [];
        return [{ type: 'DeviceMarkedStale', data: command.data }];
      }
      case 'RemoveDevice': {
        const d = devicesOf(state).find((x) => x.deviceId === command.data.deviceId);
        if (!d) throw new DomainError('DEVICE_NOT_FOUND', 'no device with this deviceId is registered for this user');
        return [{ type: 'DeviceRemoved', data: command.data }];
      }
      default:
        return assertNever(command);
    }
  },
};

/** evolve never throws: an unknown event type (from a newer version) leaves the state as it is. */
const assertNeverEvolve = (_event: never, state: DevicesState): DevicesState => state;
