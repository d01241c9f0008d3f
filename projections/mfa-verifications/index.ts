// Read model for MFA policies: which channels each user verified, and when. Fed by the success
// event of every channel. Users are keyed by their stream key (src/app/user-keys.ts), the keyed
// hash the TOTP, recovery, WebAuthn and push streams carry, so no user id is stored here. An erasure
// (UserErased) removes the user's rows.
//
// What each event must provide (tenant: metadata.tenantId; user: data.userKey or metadata.userKey;
// events written before those existed: the clear data.userId or metadata.userId, hashed with
// userKeyOf, or the userKey as the last dot-separated part of the stream name):
//   OtpVerified                channel = data.channel (sms|email), the code's user (none: not
//                              counted), data.purpose, time = data.verifiedAt
//   TotpEnrollmentConfirmed,   channel totp, stream `totp-<tenant>.<userKey>`, time = data.at
//   TotpCodeAccepted
//   CredentialUsed             channel webauthn, stream `webauthn-<tenant>.<userKey>`, time = data.at
//   PushApproved               channel push, data.purpose, time = data.at
//   RecoveryCodeUsed           channel recovery, stream `recovery-<tenant>.<userKey>`, time = data.at
import type { DatabaseSync } from 'node:sqlite';
import type { Channel } from '../../src/domain/channel.ts';
import type { StoredEvent } from '../../src/eventstore/port.ts';
import { type Recorded, toRecorded } from '../../src/eventstore/recorded.ts';
import type { EventOfType } from '../../src/domain/events.ts';
import { createLru } from '../../src/lru.ts';
import { isSealed } from '../../src/privacy/personal-data.ts';
import { projection } from '../runtime.ts';
import { prepared } from '../sql.ts';

/** Rows older than this (relative to the newest event) can no longer matter: policies look back at most a day. */
const RETAIN_MS = 2 * 86_400_000;
const PRUNE_EVERY = 1024;

export type Verification = { tenantId: string; userKey: string; channel: Channel; purpose: string | null; at: number };

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const keyFromStream = (stream: string) => (stream.includes('.') ? stream.slice(stream.lastIndexOf('.') + 1) : undefined);

/** Maps a success event to the verification it records (undefined: not one, or no user to credit). */
export const toVerification = (stored: StoredEvent, userKeyOf: (userId: string) => string): Verification | undefined => {
  const event = toRecorded(stored);
  const tenantId = str(event?.metadata.tenantId);
  if (!event || !tenantId) return undefined;
  /** The user's key as the event names it; older events: their clear user id, hashed. */
  const userKey = (fromData: unknown, userId: unknown) => str(fromData) ?? str(event.metadata.userKey) ?? (str(userId) && !isSealed(userId) ? userKeyOf(userId as string) : undefined);
  const fromMeta = event.metadata.userId;
  const v = (channel: Channel, user: string | undefined, purpose: string | null, at: number) => (user ? { tenantId, userKey: user, channel, purpose, at } : undefined);
  switch (event.type) {
    case 'OtpVerified':
      return v(event.data.channel, userKey(event.data.userKey, event.data.userId ?? fromMeta), event.data.purpose || null, event.data.verifiedAt);
    case 'TotpEnrollmentConfirmed':
    case 'TotpCodeAccepted':
      return v('totp', userKey(undefined, fromMeta) ?? keyFromStream(event.streamName), null, event.data.at);
    case 'CredentialUsed':
      return v('webauthn', userKey(undefined, fromMeta) ?? keyFromStream(event.streamName), null, event.data.at);
    case 'PushApproved':
      return v('push', userKey(undefined, event.data.userId || fromMeta), event.data.purpose || null, event.data.at);
    case 'RecoveryCodeUsed':
      return v('recovery', userKey(undefined, fromMeta) ?? keyFromStream(event.streamName), null, event.data.at);
    default:
      return undefined;
  }
};

const HANDLED = ['OtpVerified', 'TotpEnrollmentConfirmed', 'TotpCodeAccepted', 'CredentialUsed', 'PushApproved', 'RecoveryCodeUsed', 'UserErased'] as const;

/** userKeyOf must be (userId) => keyring.hmac('user', userId) (for events older than userKey). */
export const createMfaVerificationsProjection = (opts: { userKeyOf: (userId: string) => string }) => {
  // Older events name their user in clear: one keyed hash per user, not per event (bounded).
  const keys = createLru<string, string>(10_000);
  const userKeyOf = (userId: string) => {
    let k = keys.get(userId);
    if (k === undefined) keys.set(userId, (k = opts.userKeyOf(userId)));
    return k;
  };
  const record = (db: DatabaseSync, events: readonly Recorded<EventOfType<(typeof HANDLED)[number]>>[]) => {
    const insert = prepared(db, 'INSERT OR IGNORE INTO mfa_verifications (position, tenant_id, user_key, channel, purpose, verified_at) VALUES (?, ?, ?, ?, ?, ?)');
    for (const event of events) {
      if (event.type === 'UserErased') {
        const tenantId = str(event.metadata.tenantId);
        if (tenantId) prepared(db, 'DELETE FROM mfa_verifications WHERE tenant_id = ? AND user_key = ?').run(tenantId, event.data.erasedUserKey);
        continue;
      }
      const v = toVerification(event, userKeyOf);
      if (!v) continue;
      // Idempotent on the global position: a replayed event is ignored.
      insert.run(event.position, v.tenantId, v.userKey, v.channel, v.purpose, v.at);
      if (event.position % PRUNE_EVERY === 0) prepared(db, 'DELETE FROM mfa_verifications WHERE verified_at < ?').run(v.at - RETAIN_MS);
    }
  };
  return projection({
    name: 'mfa-verifications',
    version: 2,
    canHandle: HANDLED,
    init: (db) => {
      db.exec(`
        CREATE TABLE IF NOT EXISTS mfa_verifications (
          position INTEGER PRIMARY KEY, tenant_id TEXT NOT NULL, user_key TEXT NOT NULL,
          channel TEXT NOT NULL, purpose TEXT, verified_at INTEGER NOT NULL);
        CREATE INDEX IF NOT EXISTS mfa_verifications_user ON mfa_verifications(tenant_id, user_key, verified_at);
        CREATE INDEX IF NOT EXISTS mfa_verifications_time ON mfa_verifications(verified_at);`);
    },
    // evolve looks a user's rows up only to erase them; the pruning goes by time.
    rareIndexes: [{ name: 'mfa_verifications_user', neededBy: ['UserErased'] }],
    reset: (db) => db.exec('DELETE FROM mfa_verifications;'),
    evolve: (db, event) => record(db, [event]),
    evolveBatch: (db, events) => record(db, events),
  });
};

/** Channels verified for the user at or after sinceMs (epoch ms). */
export const channelsVerifiedSince = (db: DatabaseSync, tenantId: string, userKey: string, sinceMs: number): Set<string> => {
  const rows = prepared(db, 'SELECT DISTINCT channel FROM mfa_verifications WHERE tenant_id = ? AND user_key = ? AND verified_at >= ?').all(tenantId, userKey, sinceMs) as { channel: string }[];
  return new Set(rows.map((r) => r.channel));
};

/** The `verifiedChannelsSince` that policy checks take, bound to a tenant. */
export const verifiedChannelsReader = (db: DatabaseSync, tenantId: string, userKeyOf: (userId: string) => string) => (userId: string, sinceMs: number) =>
  channelsVerifiedSince(db, tenantId, userKeyOf(userId), sinceMs);
