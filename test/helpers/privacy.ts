// The privacy stack over a test's event store, as the composition root builds it (src/securekey.ts):
// a key store (in memory unless a path is given), the vault, the keyring of its root key, the
// personal-data codec, the event log that seals and opens, and the users' stream keys.
import { randomBytes } from 'node:crypto';
import { createEventLog } from '../../src/app/event-log.ts';
import { createUserKeys } from '../../src/app/user-keys.ts';
import { createKeyring } from '../../src/crypto/keyring.ts';
import type { EventStore } from '../../src/eventstore/port.ts';
import { createSqliteKeyStore } from '../../src/privacy/keystore-sqlite.ts';
import { createPersonalData } from '../../src/privacy/personal-data.ts';
import { openVault } from '../../src/privacy/vault.ts';

export type PersonalOptions = { now?: () => number; keyStorePath?: string; masterKey?: Buffer };

/** The key store, vault, keyring and personal-data codec (no event store needed). */
export const personalFor = (o: PersonalOptions = {}) => {
  const now = o.now ?? Date.now;
  const keyStore = createSqliteKeyStore(o.keyStorePath ?? ':memory:');
  const vault = openVault({ keyStore, masterKey: o.masterKey ?? randomBytes(32), now, logHasEvents: false });
  return { keyStore, vault, keyring: createKeyring(vault.root), personal: createPersonalData({ vault, now }) };
};

export const privacyFor = (store: EventStore, now: () => number = Date.now, opts: Omit<PersonalOptions, 'now'> = {}) => {
  const p = personalFor({ ...opts, now });
  return { ...p, events: createEventLog(store, p.personal), users: createUserKeys({ store, keyring: p.keyring }) };
};
