// A user's rights over what we hold (GDPR): erasure (Art. 17) and access (Art. 15), for the tenant
// API (UserService), the admin CLI (`user erase`, `user export`) alike.
//
// Erasure, in this order, so that it takes effect as soon as the key is gone:
//   1. cancel what is pending for the user (one-time codes, push requests), while their key still
//      seals the cancellations;
//   2. destroy the user's data key: every personal value of every event of the user, in the log and
//      in every read model, now reads "[erased]" (crypto-shredding: no event is touched);
//   3. append UserErased (no personal data) to the user's stream: the user moves to a new stream
//      key (src/app/user-keys.ts), so the same external id starts from scratch; read models drop the
//      user's rows; a user.erased webhook goes out.
// A failure after 2 leaves the data erased; running the erasure again completes it.
import type { DatabaseSync } from 'node:sqlite';
import type { Keyring } from '../crypto/keyring.ts';
import { DomainError } from '../domain/errors.ts';
import { OTP_CATEGORY, otpDecider } from '../domain/otp/index.ts';
import { devicesOf, deviceDecider, inboxDecider, pendingAt, pushDevicesStream, pushInboxStream, pushRequestDecider, pushRequestStream } from '../domain/push/index.ts';
import { recoveryDecider, recoveryStreamName } from '../domain/recovery/decider.ts';
import { totpDecider, totpStreamName } from '../domain/totp/decider.ts';
import { userDecider, userStream } from '../domain/user/index.ts';
import { webauthnDecider, webauthnStreamName } from '../domain/webauthn/credentials.ts';
import { auditStreamsOfUser } from '../../projections/audit/index.ts';
import type { EventMetadata, EventStore, StoredEvent } from '../eventstore/port.ts';
import type { PersonalData } from '../privacy/personal-data.ts';
import type { Vault } from '../privacy/vault.ts';
import type { EventLog } from './event-log.ts';
import { userEvents } from './user-events.ts';
import { type NewId, randomId } from './ids.ts';
import { requireUserId } from './user-id.ts';
import type { UserKeys } from './user-keys.ts';

/** Who asks: the tenant, and the metadata of the events the request appends (caller or operator). */
export type Requester = { tenantId: string; metadata: EventMetadata };

export type ErasureResult = { erasureId: string; cancelledCodes: number; cancelledPushRequests: number; position: number };

/** An event as its subject reads it: personal values in clear; secrets, hashes and keys left out. */
export type ExportedEvent = { type: string; at: string; stream: string; data: Record<string, unknown>; metadata: Record<string, unknown> };

export type UserExport = {
  userId: string;
  tenantId: string;
  generatedAt: string;
  summary: {
    totp: null | { status: string; issuer: string; accountName: string; startedAt: string };
    recoveryCodes: null | { remaining: number; total: number; generatedAt: string };
    passkeys: { credentialId: string; deviceName: string; createdAt: string; lastUsedAt: string | null }[];
    pushDevices: { deviceId: string; deviceName: string; platform: string; registeredAt: string }[];
  };
  events: ExportedEvent[];
};

/** Fields that are secrets, hashes or keys of ours rather than data about the person. */
const NOT_EXPORTED = /(Enc|Hash|hash|Hashes|Key)$|secret|token|challenge|publicKey|^code$|^prevHash$/i;
const iso = (ms: number) => new Date(ms).toISOString();
const exported = (fields: Record<string, unknown>) => Object.fromEntries(Object.entries(fields).filter(([k]) => !NOT_EXPORTED.test(k)));

export type UsersService = ReturnType<typeof createUsersService>;

export const createUsersService = (deps: {
  events: EventLog;
  store: EventStore;
  personal: PersonalData;
  keyring: Keyring;
  users: UserKeys;
  vault: Pick<Vault, 'destroy'>;
  now: () => number;
  newId?: NewId;
  /** The audit read model, current (it names the one-time-code streams of a user). */
  auditDb: () => Promise<DatabaseSync>;
}) => {
  const { events, users, now } = deps;
  const newId = deps.newId ?? randomId;

  /** The user's pending one-time codes and push requests, cancelled. */
  const cancelPending = async (who: Requester, userId: string, userKey: string) => {
    const metadata = { ...who.metadata, userKey };
    let cancelledCodes = 0;
    const otpStreams = auditStreamsOfUser(await deps.auditDb(), who.tenantId, { userId, userKeys: [userKey] }).filter((s) => s.startsWith(`${OTP_CATEGORY}-`));
    for (const s of otpStreams) {
      const r = await events.handle(s, otpDecider, { type: 'CancelOtp', data: { userKey, now: now() } }, { metadata });
      cancelledCodes += r.events.length;
    }
    let cancelledPushRequests = 0;
    const inbox = (await events.load(pushInboxStream(who.tenantId, userKey), inboxDecider)).state;
    for (const entry of pendingAt(inbox, now())) {
      const r = await events.handle(pushRequestStream(who.tenantId, entry.requestId), pushRequestDecider, { type: 'CancelPush', data: { at: now() } }, { metadata });
      cancelledPushRequests += r.events.length;
    }
    return { cancelledCodes, cancelledPushRequests };
  };

  return {
    erase: async (who: Requester, rawUserId: string): Promise<ErasureResult> => {
      const userId = requireUserId(rawUserId);
      const { generation, userKey } = await users.fresh(who.tenantId, userId);
      const cancelled = await cancelPending(who, userId, userKey);
      deps.vault.destroy(who.tenantId, 'user', userKey);
      const erasureId = `ers_${newId()}`;
      const userHash = users.hashOf(userId);
      // A failure here changes no generation (a racing erasure that got there first reaches the
      // user keys through the erasure follower).
      const res = await events.handle(userStream(who.tenantId, userHash), userDecider, { type: 'EraseUser', data: { erasureId, erasedUserKey: userKey, generation, now: now() } }, { metadata: who.metadata });
      users.erased(who.tenantId, userHash, res.state.generation);
      return { erasureId, ...cancelled, position: res.position };
    },

    export: async (who: Pick<Requester, 'tenantId'>, rawUserId: string): Promise<UserExport> => {
      const userId = requireUserId(rawUserId);
      const { tenantId } = who;
      const userKey = await users.of(tenantId, userId);
      const held = await userEvents({ ...deps, tenantId, userId, currentOnly: true, auditDb: await deps.auditDb() });
      const totp = (await events.load(totpStreamName(tenantId, userKey), totpDecider)).state;
      const recovery = (await events.load(recoveryStreamName(tenantId, userKey), recoveryDecider)).state;
      const passkeys = (await events.load(webauthnStreamName(tenantId, userKey), webauthnDecider)).state;
      const devices = (await events.load(pushDevicesStream(tenantId, userKey), deviceDecider)).state;
      return {
        userId,
        tenantId,
        generatedAt: iso(now()),
        summary: {
          totp: totp.status === 'none' ? null : { status: totp.status, issuer: totp.enrollment.issuer, accountName: totp.enrollment.accountNameMasked ?? '', startedAt: iso(totp.enrollment.startedAt) },
          recoveryCodes: recovery.status === 'none' ? null : { remaining: recovery.remaining, total: recovery.set.codeHashes.length, generatedAt: iso(recovery.set.generatedAt) },
          passkeys: Object.values(passkeys.credentials).map((c) => ({ credentialId: c.credentialId, deviceName: c.deviceName, createdAt: iso(c.createdAt), lastUsedAt: c.lastUsedAt === null ? null : iso(c.lastUsedAt) })),
          pushDevices: devicesOf(devices).map((d) => ({ deviceId: d.deviceId, deviceName: d.deviceName, platform: d.platform, registeredAt: iso(d.registeredAt) })),
        },
        events: held.map((e: StoredEvent) => ({ type: e.type, at: e.recordedAt.toISOString(), stream: e.streamName, data: exported(e.data), metadata: exported(e.metadata ?? {}) })),
      };
    },
  };
};

/** A userId given where one is required (path parameters arrive as strings, maybe empty). */
export const userIdParam = (v: string): string => {
  if (!v) throw new DomainError('INVALID_ARGUMENT', 'userId is required');
  return requireUserId(v);
};
