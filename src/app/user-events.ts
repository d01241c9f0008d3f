// Every event held about one user of one tenant, found by the user's stream keys (src/app/
// user-keys.ts) and, for the streams users share (one-time codes), by the audit trail or a scan of
// the log: what the auditor's history (history.ts), the export and the erasure (users.ts) read.
import type { DatabaseSync } from 'node:sqlite';
import { auditStreamsOfUser } from '../../projections/audit/index.ts';
import type { Keyring } from '../crypto/keyring.ts';
import { pushDevicesStream, pushInboxStream, pushRequestStream } from '../domain/push/streams.ts';
import { recoveryStreamName } from '../domain/recovery/decider.ts';
import { totpStreamName } from '../domain/totp/decider.ts';
import { userStream } from '../domain/user/index.ts';
import { webauthnStreamName } from '../domain/webauthn/credentials.ts';
import { credentialOwnerStreamName } from '../domain/webauthn/discoverable.ts';
import type { EventStore, StoredEvent } from '../eventstore/port.ts';
import { tenantOf, userOf } from '../eventstore/recorded.ts';
import type { PersonalData } from '../privacy/personal-data.ts';
import type { UserKeys } from './user-keys.ts';

export type UserEventsQuery = {
  store: EventStore;
  personal: PersonalData;
  keyring: Keyring;
  users: UserKeys;
  tenantId: string;
  userId: string;
  /** Only the current generation (the export, the erasure); default: every one (history). */
  currentOnly?: boolean;
  /** The audit read model: it names the shared streams (one-time codes) of the user; without it
   * the whole log is scanned. */
  auditDb?: DatabaseSync;
};

/** Every event held about one user of one tenant, in log order, personal values opened: their
 * TOTP, passkey (and credential owner), push device and push request streams (found by the
 * user's stream keys), their erasures, and the one-time codes sent for them. */
export const userEvents = async (o: UserEventsQuery): Promise<StoredEvent[]> => {
  const { store, tenantId, userId } = o;
  const all = await o.users.all(tenantId, userId);
  const keys = o.currentOnly ? all.slice(-1) : all;
  const byPosition = new Map<number, StoredEvent>();
  const add = (e: StoredEvent) => byPosition.set(e.position, o.personal.open(e));
  const readInto = async (stream: string, keep: (e: StoredEvent) => boolean = () => true) => {
    const read = await store.readStream(stream);
    for (const e of read) if (keep(e)) add(e);
    return read;
  };
  if (!o.currentOnly) await readInto(userStream(tenantId, o.users.hashOf(userId)));
  for (const key of keys) {
    for (const s of [totpStreamName(tenantId, key), recoveryStreamName(tenantId, key), pushDevicesStream(tenantId, key)]) await readInto(s);
    for (const e of await readInto(webauthnStreamName(tenantId, key))) {
      if (e.type === 'CredentialRegistered') await readInto(credentialOwnerStreamName(tenantId, o.keyring.hmac('webauthn-credential', String(e.data.credentialId))));
    }
    for (const e of await readInto(pushInboxStream(tenantId, key))) {
      if (e.type === 'PushRequestOpened') await readInto(pushRequestStream(tenantId, String(e.data.requestId)));
    }
  }
  // Shared streams (an OTP stream is per destination): only the events of this user.
  const mine = (e: StoredEvent) => {
    const key = e.data.userKey ?? e.metadata?.userKey;
    if (typeof key === 'string') return keys.includes(key);
    // Events older than stream keys name the user in clear.
    return userOf(e) === userId && tenantOf(e) === tenantId;
  };
  if (o.auditDb) {
    for (const s of auditStreamsOfUser(o.auditDb, tenantId, { userId, userKeys: keys })) await readInto(s, mine);
  } else {
    for (let from = 0; ; ) {
      const page = await store.readAll({ fromPosition: from, maxCount: 1000 });
      if (page.length === 0) break;
      for (const e of page) if (tenantOf(e) === tenantId && mine(e)) add(e);
      from = page[page.length - 1].position;
    }
  }
  return [...byPosition.values()].sort((a, b) => a.position - b.position);
};
