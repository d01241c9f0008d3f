// Push approval: devices, send (fatigue caps, number matching, FCM delivery), respond, verify.
// Used by the API's PushService. Tokens are encrypted in events and never logged.
import { randomInt } from 'node:crypto';
import type { Keyring } from '../crypto/keyring.ts';
import { type CallerInfo, callerMetadata } from './caller.ts';
import { MAX_LENGTH, textField } from './input.ts';
import { type NewId, randomId } from './ids.ts';
import { DomainError, isDomainError } from '../domain/errors.ts';
import {
  DEFAULT_MAX_PER_WINDOW,
  DEFAULT_WINDOW_SECONDS,
  type DeliveryOutcome,
  type KnownPushRequest,
  MAX_TRACKED,
  type PushDevice,
  type PushStatus,
  deviceDecider,
  devicesOf,
  findDeviceByTokenHash,
  inboxDecider,
  pushDevicesStream,
  pushInboxStream,
  pushRequestDecider,
  pushRequestStream,
  pushStatusAt,
} from '../domain/push/index.ts';
import { booleanSetting, integerSetting, type TenantSettings } from '../domain/tenant/index.ts';
import type { EventLog } from './event-log.ts';
import type { UserKeys } from './user-keys.ts';
import type { PushLog, PushMessage, PushSender } from '../senders/push/port.ts';

/** Who is calling: all four go into every event's metadata. requestId is the HTTP request id. */
export type Caller = CallerInfo;

export type PushSettings = Pick<TenantSettings, 'pushTtlSeconds' | 'pushNumberMatching' | 'pushMaxPending'> & {
  /** Max pushes per user per window (default 10 per 600 s). 0 = no cap. */
  pushMaxPerWindow?: number;
  pushWindowSeconds?: number;
};

const MAX_TITLE = 100;
const MAX_BODY = 500;
const PUSH_REQUEST_ID = /^pr_[A-Za-z0-9_-]{22}$/;


/** A two-digit number and three distinct choices containing it, in random order. */
export const numberChallenge = () => {
  const number = randomInt(10, 100);
  const choices = [number];
  while (choices.length < 3) {
    const n = randomInt(10, 100);
    if (!choices.includes(n)) choices.push(n);
  }
  for (let i = choices.length - 1; i > 0; i--) {
    const j = randomInt(0, i + 1);
    [choices[i], choices[j]] = [choices[j]!, choices[i]!];
  }
  return { number, choices };
};

const text = textField;
const userIdOf = (v: unknown) => text('userId', v, MAX_LENGTH.userId, true);

export type DeviceView = { deviceId: string; deviceName: string; platform: string; stale: boolean; registeredAt: number };
const deviceView = (d: PushDevice): DeviceView => ({ deviceId: d.deviceId, deviceName: d.deviceName, platform: d.platform, stale: d.stale, registeredAt: d.registeredAt });

export type PushService = ReturnType<typeof createPushService>;

export const createPushService = (deps: { events: EventLog; users: UserKeys; keyring: Keyring; now: () => number; sender: PushSender; log: PushLog; newId?: NewId }) => {
  const { events, users, keyring, now, sender, log } = deps;
  const newId = deps.newId ?? randomId;
  /** The metadata of a user's events: userKey names the user (whose data key seals them). */
  const meta = (c: Caller, userKey: string) => ({ metadata: { ...callerMetadata(c), userKey } });
  const notFound = () => new DomainError('PUSH_NOT_FOUND', 'no push request with this requestId');

  const loadRequest = async (caller: Caller, requestId: unknown) => {
    if (typeof requestId !== 'string' || !PUSH_REQUEST_ID.test(requestId)) throw notFound();
    const { state } = await events.load(pushRequestStream(caller.tenantId, requestId), pushRequestDecider);
    if (state.status === 'none') throw notFound();
    return state;
  };

  /** Best effort: a lost close only keeps the entry counted as pending until its expiry. */
  const closeInboxEntry = async (caller: Caller, req: KnownPushRequest) => {
    try {
      await events.handle(pushInboxStream(caller.tenantId, req.userIdHash), inboxDecider, { type: 'ClosePushRequest', data: { requestId: req.requestId, at: now() } }, meta(caller, req.userIdHash));
    } catch (err) {
      log.warn({ err: errName(err), pushRequestId: req.requestId }, 'could not close the push request in the fatigue index');
    }
  };

  /** Records PushExpired once someone observes the expiry (respond or verify). Best effort. */
  const recordExpiry = async (caller: Caller, req: KnownPushRequest) => {
    try {
      await events.handle(pushRequestStream(caller.tenantId, req.requestId), pushRequestDecider, { type: 'ExpirePush', data: { at: now() } }, meta(caller, req.userIdHash));
    } catch (err) {
      log.warn({ err: errName(err), pushRequestId: req.requestId }, 'could not record the push expiry');
    }
    await closeInboxEntry(caller, req);
  };

  const deliver = async (caller: Caller, devices: PushDevice[], message: Omit<PushMessage, 'token'>, requestId: string, userIdHash: string) => {
    const targets: PushDevice[] = [];
    const msgs: PushMessage[] = [];
    const outcomes: DeliveryOutcome[] = [];
    for (const d of devices) {
      try {
        msgs.push({ ...message, token: keyring.decrypt('fcm-token', d.tokenEnc) });
        targets.push(d);
      } catch {
        outcomes.push({ deviceId: d.deviceId, ok: false, reason: 'token-undecryptable', stale: false });
      }
    }
    let results;
    try {
      results = await sender.sendEach(msgs);
    } catch (err) {
      log.error({ err: errName(err), sender: sender.name }, 'push sender failed');
      results = msgs.map(() => ({ ok: false as const, stale: false, reason: 'sender-error' }));
    }
    targets.forEach((d, i) => {
      const r = results[i] ?? { ok: false as const, stale: false, reason: 'no-result' };
      outcomes.push(r.ok ? { deviceId: d.deviceId, ok: true } : { deviceId: d.deviceId, ok: false, reason: r.reason, stale: r.stale });
    });
    const at = now();
    await events.handle(pushRequestStream(caller.tenantId, requestId), pushRequestDecider, { type: 'RecordDeliveries', data: { deliveries: outcomes, at } }, meta(caller, userIdHash));
    for (const o of outcomes) {
      if (o.ok || !o.stale) continue;
      await events.handle(pushDevicesStream(caller.tenantId, userIdHash), deviceDecider, { type: 'MarkDeviceStale', data: { deviceId: o.deviceId, reason: o.reason, at } }, meta(caller, userIdHash));
    }
    const delivered = outcomes.filter((o) => o.ok).length;
    if (!delivered) log.warn({ pushRequestId: requestId, devices: outcomes.length, sender: sender.name }, 'push reached no device');
    return delivered;
  };

  return {
    registerDevice: async (caller: Caller, input: { userId: string; fcmToken: string; platform: string; deviceName?: string }): Promise<{ deviceId: string }> => {
      const userId = userIdOf(input.userId);
      const token = input.fcmToken;
      if (typeof token !== 'string' || !token || token.length > 4096 || /\s/.test(token)) {
        throw new DomainError('INVALID_ARGUMENT', 'fcmToken: expected the FCM registration token from the Firebase SDK (non-empty, no spaces, at most 4096 characters)');
      }
      const deviceName = text('deviceName', input.deviceName, MAX_LENGTH.deviceName, false);
      const platform = typeof input.platform === 'string' ? input.platform : '';
      const tokenHash = keyring.hmac('fcm-token', token);
      const userKey = await users.of(caller.tenantId, userId);
      const res = await events.handle(
        pushDevicesStream(caller.tenantId, userKey),
        deviceDecider,
        { type: 'RegisterDevice', data: { deviceId: `dev_${newId()}`, tokenEnc: keyring.encrypt('fcm-token', token), tokenHash, platform, deviceName, at: now() } },
        meta(caller, userKey),
      );
      return { deviceId: findDeviceByTokenHash(res.state, tokenHash)!.deviceId };
    },

    listDevices: async (caller: Caller, input: { userId: string }): Promise<{ devices: DeviceView[] }> => {
      const userKey = await users.of(caller.tenantId, userIdOf(input.userId));
      const { state } = await events.load(pushDevicesStream(caller.tenantId, userKey), deviceDecider);
      return { devices: devicesOf(state).map(deviceView) };
    },

    removeDevice: async (caller: Caller, input: { userId: string; deviceId: string }): Promise<{ removed: true }> => {
      const deviceId = text('deviceId', input.deviceId, 64, true);
      const userKey = await users.of(caller.tenantId, userIdOf(input.userId));
      await events.handle(pushDevicesStream(caller.tenantId, userKey), deviceDecider, { type: 'RemoveDevice', data: { deviceId, at: now() } }, meta(caller, userKey));
      return { removed: true };
    },

    send: async (
      caller: Caller,
      input: { userId: string; title: string; body?: string; purpose?: string; settings?: PushSettings },
    ): Promise<{ requestId: string; expiresAt: number; status: PushStatus; number?: number }> => {
      const userId = userIdOf(input.userId);
      const title = text('title', input.title, MAX_TITLE, true);
      const body = text('body', input.body, MAX_BODY, false);
      const purpose = text('purpose', input.purpose, MAX_LENGTH.purpose, false) || 'login';
      const settings = input.settings ?? {};
      const hash = await users.of(caller.tenantId, userId);

      const { state: devState } = await events.load(pushDevicesStream(caller.tenantId, hash), deviceDecider);
      const devices = devicesOf(devState).filter((d) => !d.stale);
      if (!devices.length) throw new DomainError('DEVICE_NOT_FOUND', 'this user has no active push device; register one with /push/devices');

      const at = now();
      const ttlSeconds = integerSetting(settings, 'pushTtlSeconds');
      const expiresAt = at + ttlSeconds * 1000;
      const requestId = `pr_${newId()}`;
      const limits = {
        // Stored before the table capped it, a larger value means as many as are tracked.
        maxPending: Math.min(integerSetting(settings, 'pushMaxPending'), MAX_TRACKED),
        maxPerWindow: Math.min(settings.pushMaxPerWindow ?? DEFAULT_MAX_PER_WINDOW, MAX_TRACKED),
        windowSeconds: settings.pushWindowSeconds ?? DEFAULT_WINDOW_SECONDS,
      };
      // The gate: caps checked and the request recorded in one conditional append on the user's index.
      await events.handle(pushInboxStream(caller.tenantId, hash), inboxDecider, { type: 'OpenPushRequest', data: { requestId, at, expiresAt, limits } }, meta(caller, hash));

      const challenge = booleanSetting(settings, 'pushNumberMatching') ? numberChallenge() : undefined;
      await events.handle(
        pushRequestStream(caller.tenantId, requestId),
        pushRequestDecider,
        { type: 'RequestPush', data: { requestId, userId, userIdHash: hash, title, body, purpose, expiresAt, ...(challenge ?? {}), at } },
        { ...meta(caller, hash), newStream: true },
      );

      const data: Record<string, string> = { type: 'securekey.push', requestId, title, body, purpose, expiresAt: String(expiresAt) };
      if (challenge) data.numberChoices = challenge.choices.join(',');
      const ttl = Math.max(1, Math.ceil((expiresAt - now()) / 1000));
      await deliver(caller, devices, { data, title, body, ttlSeconds: ttl }, requestId, hash);
      return { requestId, expiresAt, status: 'pending', ...(challenge ? { number: challenge.number } : {}) };
    },

    respond: async (caller: Caller, input: { requestId: string; action: string; number?: number; notMe?: boolean }): Promise<{ status: PushStatus }> => {
      const action = typeof input.action === 'string' ? input.action.trim().toLowerCase() : '';
      if (action !== 'approve' && action !== 'deny') throw new DomainError('INVALID_ARGUMENT', 'action: expected "approve" or "deny"');
      const req = await loadRequest(caller, input.requestId);
      // proto3 int32: 0 means "not given" (choices are 10..99).
      const number = typeof input.number === 'number' && input.number !== 0 ? input.number : undefined;
      try {
        const res = await events.handle(
          pushRequestStream(caller.tenantId, req.requestId),
          pushRequestDecider,
          { type: 'RespondPush', data: { action, number, notMe: input.notMe === true, at: now() } },
          meta(caller, req.userIdHash),
        );
        await closeInboxEntry(caller, req);
        return { status: res.state.status === 'none' ? 'pending' : res.state.status };
      } catch (err) {
        if (isDomainError(err) && err.code === 'PUSH_EXPIRED') await recordExpiry(caller, req);
        throw err;
      }
    },

    /** An approval verifies once, before expiresAt (then PUSH_NOT_FOUND, like a used code). userId
     * is optional (the seed verifies by requestId alone, an unguessable 128-bit capability of the
     * tenant); when given it must be the request's. `gate` (the MFA policy) runs before the approval
     * is used: when it refuses, nothing is written and the approval still verifies later. */
    verify: async (
      caller: Caller,
      input: { requestId: string; userId?: string },
      gate: (approved: { userId: string; purpose: string }) => Promise<void> = async () => {},
    ): Promise<{ verified: boolean; status: PushStatus; userId: string; purpose: string }> => {
      const req = await loadRequest(caller, input.requestId);
      // A request of another user reads exactly like an unknown one.
      if (input.userId && input.userId !== req.userId) throw notFound();
      const at = now();
      const status = pushStatusAt(req, at);
      if (status === 'approved') {
        if (req.consumedAt !== undefined) throw new DomainError('PUSH_NOT_FOUND', 'this push approval was already used; send a new push request');
        if (at < req.expiresAt) await gate({ userId: req.userId, purpose: req.purpose });
        const res = await events.handle(pushRequestStream(caller.tenantId, req.requestId), pushRequestDecider, { type: 'ConsumeApproval', data: { at } }, meta(caller, req.userIdHash));
        const used = res.events.some((e) => e.type === 'PushApprovalConsumed');
        return { verified: used, status: used ? 'approved' : 'expired', userId: req.userId, purpose: req.purpose };
      }
      if (status === 'expired' && req.status === 'pending') await recordExpiry(caller, req);
      return { verified: false, status, userId: req.userId, purpose: req.purpose };
    },
  };
};

const errName = (err: unknown) => (isDomainError(err) ? err.code : err instanceof Error ? err.name : 'unknown');
