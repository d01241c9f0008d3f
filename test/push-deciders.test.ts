// Push deciders (devices, requests, fatigue index), given/when/then on events.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  type DeviceEvent,
  type InboxEvent,
  type PushRequestEvent,
  deviceDecider,
  inboxDecider,
  pushRequestDecider,
  pushStatusAt,
} from '../src/domain/push/index.ts';
import { deciderSpec } from './helpers/decider-spec.ts';

const spec = deciderSpec;

const T = 1_800_000_000_000;

describe('push devices decider', () => {
  const given = spec(deviceDecider);
  const registered = (deviceId: string, tokenHash: string, at = T): DeviceEvent => ({
    type: 'DeviceRegistered',
    data: { deviceId, tokenEnc: `enc-${tokenHash}`, tokenHash, platform: 'ios', deviceName: 'iPhone 15', at },
  });
  const register = (deviceId: string, tokenHash: string, platform = 'ios', deviceName = 'iPhone 15') => ({
    type: 'RegisterDevice' as const,
    data: { deviceId, tokenEnc: `enc2-${tokenHash}`, tokenHash, platform, deviceName, at: T + 1 },
  });

  test('a new token registers a new device', () =>
    given([]).when(register('dev_1', 'h1', 'Android')).then([
      { type: 'DeviceRegistered', data: { deviceId: 'dev_1', tokenEnc: 'enc2-h1', tokenHash: 'h1', platform: 'android', deviceName: 'iPhone 15', at: T + 1 } },
    ]));

  test('an unknown platform is refused', () => given([]).when(register('dev_1', 'h1', 'blackberry')).thenThrows('INVALID_ARGUMENT'));

  test('the same token again updates the existing device instead of adding one', () =>
    given([registered('dev_1', 'h1')]).when(register('dev_2', 'h1', 'ios', 'iPhone 16')).then([
      { type: 'DeviceUpdated', data: { deviceId: 'dev_1', tokenEnc: 'enc2-h1', platform: 'ios', deviceName: 'iPhone 16', at: T + 1 } },
    ]));

  test('the same token with nothing changed is a no-op', () => given([registered('dev_1', 'h1')]).when(register('dev_2', 'h1')).then([]));

  test('re-registering a stale device revives it', () => {
    const events: DeviceEvent[] = [registered('dev_1', 'h1'), { type: 'DeviceMarkedStale', data: { deviceId: 'dev_1', reason: 'registration-token-not-registered', at: T } }];
    const state = events.reduce(deviceDecider.evolve, deviceDecider.initialState());
    assert.equal(state.status === 'active' && state.devices[0]!.stale, true);
    given(events).when(register('dev_2', 'h1')).then([{ type: 'DeviceUpdated', data: { deviceId: 'dev_1', tokenEnc: 'enc2-h1', platform: 'ios', deviceName: 'iPhone 15', at: T + 1 } }]);
  });

  test('marking stale is idempotent and ignores unknown devices', () => {
    const stale = { type: 'MarkDeviceStale' as const, data: { deviceId: 'dev_1', reason: 'x', at: T } };
    given([registered('dev_1', 'h1')]).when(stale).then([{ type: 'DeviceMarkedStale', data: stale.data }]);
    given([registered('dev_1', 'h1'), { type: 'DeviceMarkedStale', data: stale.data }]).when(stale).then([]);
    given([]).when(stale).then([]);
  });

  test('removing an unknown device is DEVICE_NOT_FOUND; a removed device is gone', () => {
    given([]).when({ type: 'RemoveDevice', data: { deviceId: 'dev_1', at: T } }).thenThrows('DEVICE_NOT_FOUND');
    given([registered('dev_1', 'h1'), { type: 'DeviceRemoved', data: { deviceId: 'dev_1', at: T } }])
      .when({ type: 'RemoveDevice', data: { deviceId: 'dev_1', at: T } })
      .thenThrows('DEVICE_NOT_FOUND');
  });

  test('a user has at most 10 devices', () =>
    given(Array.from({ length: 10 }, (_, i) => registered(`dev_${i}`, `h${i}`))).when(register('dev_x', 'hx')).thenThrows('INVALID_ARGUMENT'));
});

describe('push request decider', () => {
  const given = spec(pushRequestDecider);
  const who = { requestId: 'pr_1', userId: 'user_123', purpose: 'login' };
  const requested = (number?: number): PushRequestEvent => ({
    type: 'PushRequested',
    data: { ...who, userIdHash: 'uh', title: 't', body: 'b', expiresAt: T + 120_000, ...(number ? { number, choices: [number, 11, 99] } : {}), at: T },
  });
  const respond = (action: string, at = T + 10_000, extra: { number?: number; notMe?: boolean } = {}) => ({ type: 'RespondPush' as const, data: { action, at, ...extra } });

  test('approve while pending and in time', () => given([requested()]).when(respond('approve')).then([{ type: 'PushApproved', data: { ...who, at: T + 10_000 } }]));

  test('deny while pending', () =>
    given([requested()]).when(respond('deny')).then([{ type: 'PushDenied', data: { ...who, at: T + 10_000, notMe: false, reason: 'user' } }]));

  test('a deny flagged "not me" also records PushReportedNotMe', () =>
    given([requested()]).when(respond('deny', T + 10_000, { notMe: true })).then([
      { type: 'PushDenied', data: { ...who, at: T + 10_000, notMe: true, reason: 'user' } },
      { type: 'PushReportedNotMe', data: { ...who, at: T + 10_000 } },
    ]));

  test('a second response is ALREADY_RESPONDED', () => {
    given([requested(), { type: 'PushApproved', data: { ...who, at: T + 1 } }]).when(respond('deny')).thenThrows('ALREADY_RESPONDED');
    given([requested(), { type: 'PushDenied', data: { ...who, at: T + 1, notMe: false, reason: 'user' } }]).when(respond('approve')).thenThrows('ALREADY_RESPONDED');
  });

  test('a response at or after expiresAt is PUSH_EXPIRED', () => {
    given([requested()]).when(respond('approve', T + 120_000)).thenThrows('PUSH_EXPIRED');
    given([requested(), { type: 'PushExpired', data: { ...who, at: T + 200_000, expiresAt: T + 120_000 } }]).when(respond('approve', T + 1)).thenThrows('PUSH_EXPIRED');
  });

  test('an unknown request is PUSH_NOT_FOUND; a bad action is INVALID_ARGUMENT', () => {
    given([]).when(respond('approve')).thenThrows('PUSH_NOT_FOUND');
    given([requested()]).when(respond('maybe')).thenThrows('INVALID_ARGUMENT');
  });

  test('number matching: the right number approves, a wrong one denies, none is refused', () => {
    given([requested(47)]).when(respond('approve', T + 5, { number: 47 })).then([{ type: 'PushApproved', data: { ...who, at: T + 5 } }]);
    given([requested(47)]).when(respond('approve', T + 5, { number: 11 })).then([{ type: 'PushDenied', data: { ...who, at: T + 5, notMe: false, reason: 'number_mismatch' } }]);
    given([requested(47)]).when(respond('approve', T + 5)).thenThrows('INVALID_ARGUMENT');
    given([requested(47)]).when(respond('deny', T + 5)).then([{ type: 'PushDenied', data: { ...who, at: T + 5, notMe: false, reason: 'user' } }]);
  });

  test('deliveries are recorded once per device', () => {
    const record = {
      type: 'RecordDeliveries' as const,
      data: { at: T + 1, deliveries: [{ deviceId: 'd1', ok: true as const }, { deviceId: 'd2', ok: false as const, reason: 'registration-token-not-registered', stale: true }] },
    };
    given([requested()]).when(record).then([
      { type: 'PushDelivered', data: { requestId: 'pr_1', deviceId: 'd1', at: T + 1 } },
      { type: 'PushDeliveryFailed', data: { requestId: 'pr_1', deviceId: 'd2', reason: 'registration-token-not-registered', stale: true, at: T + 1 } },
    ]);
    given([requested(), { type: 'PushDelivered', data: { requestId: 'pr_1', deviceId: 'd1', at: T + 1 } }])
      .when(record)
      .then([{ type: 'PushDeliveryFailed', data: { requestId: 'pr_1', deviceId: 'd2', reason: 'registration-token-not-registered', stale: true, at: T + 1 } }]);
  });

  test('expiry is derived at read time and recorded once, only when it has happened', () => {
    const state = [requested()].reduce(pushRequestDecider.evolve, pushRequestDecider.initialState());
    assert.ok(state.status !== 'none');
    assert.equal(pushStatusAt(state, T + 119_999), 'pending');
    assert.equal(pushStatusAt(state, T + 120_000), 'expired');
    given([requested()]).when({ type: 'ExpirePush', data: { at: T + 1000 } }).then([]);
    given([requested()]).when({ type: 'ExpirePush', data: { at: T + 130_000 } }).then([{ type: 'PushExpired', data: { ...who, at: T + 130_000, expiresAt: T + 120_000 } }]);
    given([requested(), { type: 'PushExpired', data: { ...who, at: T + 130_000, expiresAt: T + 120_000 } }]).when({ type: 'ExpirePush', data: { at: T + 140_000 } }).then([]);
    given([requested(), { type: 'PushApproved', data: { ...who, at: T + 1 } }]).when({ type: 'ExpirePush', data: { at: T + 140_000 } }).then([]);
  });
});

describe('push fatigue index decider', () => {
  const given = spec(inboxDecider);
  const limits = { maxPending: 3, maxPerWindow: 10, windowSeconds: 600 };
  const opened = (requestId: string, at: number, ttl = 120_000): InboxEvent => ({ type: 'PushRequestOpened', data: { requestId, at, expiresAt: at + ttl } });
  const open = (at: number) => ({ type: 'OpenPushRequest' as const, data: { requestId: 'pr_new', at, expiresAt: at + 120_000, limits } });

  test('a request opens while under both caps', () => given([opened('a', T)]).when(open(T + 1)).then([{ type: 'PushRequestOpened', data: { requestId: 'pr_new', at: T + 1, expiresAt: T + 120_001 } }]));

  test('the 4th pending request is TOO_MANY_PENDING, retry when the first expires', () =>
    given([opened('a', T), opened('b', T + 10_000), opened('c', T + 20_000)]).when(open(T + 30_000)).thenThrows('TOO_MANY_PENDING', { retryAfterSeconds: 90 }));

  test('closed and expired requests no longer count as pending', () => {
    given([opened('a', T), opened('b', T), opened('c', T), { type: 'PushRequestClosed', data: { requestId: 'b', at: T + 1 } }]).when(open(T + 2)).then([
      { type: 'PushRequestOpened', data: { requestId: 'pr_new', at: T + 2, expiresAt: T + 120_002 } },
    ]);
    given([opened('a', T), opened('b', T), opened('c', T)]).when(open(T + 120_000)).then([
      { type: 'PushRequestOpened', data: { requestId: 'pr_new', at: T + 120_000, expiresAt: T + 240_000 } },
    ]);
  });

  test('more than 10 requests in 10 minutes is TOO_MANY_PENDING until the oldest leaves the window', () => {
    const ten = Array.from({ length: 10 }, (_, i): InboxEvent[] => [opened(`r${i}`, T + i * 30_000), { type: 'PushRequestClosed', data: { requestId: `r${i}`, at: T + i * 30_000 + 1 } }]).flat();
    given(ten).when(open(T + 300_000)).thenThrows('TOO_MANY_PENDING', { retryAfterSeconds: 300 });
    given(ten).when(open(T + 600_001)).then([{ type: 'PushRequestOpened', data: { requestId: 'pr_new', at: T + 600_001, expiresAt: T + 720_001 } }]);
  });

  test('closing is idempotent', () => {
    given([opened('a', T)]).when({ type: 'ClosePushRequest', data: { requestId: 'a', at: T + 1 } }).then([{ type: 'PushRequestClosed', data: { requestId: 'a', at: T + 1 } }]);
    given([opened('a', T), { type: 'PushRequestClosed', data: { requestId: 'a', at: T + 1 } }]).when({ type: 'ClosePushRequest', data: { requestId: 'a', at: T + 2 } }).then([]);
    given([]).when({ type: 'ClosePushRequest', data: { requestId: 'a', at: T + 2 } }).then([]);
  });
});
