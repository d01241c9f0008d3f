// The privacy stack of a process (server or admin CLI) on a data directory: the key store, the
// vault (keys unwrapped with the master key), the keyring derived from the root key, and the
// personal-data codec. Both open it the same way, so they seal, open and hash alike.
import type { Config } from '../config.ts';
import { keyStorePath } from '../config.ts';
import { createKeyring, type Keyring } from '../crypto/keyring.ts';
import { readdirSync } from 'node:fs';
import { type EventStore, StoreUnavailableError } from '../eventstore/port.ts';
import { isSealed } from './personal-data.ts';
import { createSqliteKeyStore } from './keystore-sqlite.ts';
import { createPersonalData, type PersonalData } from './personal-data.ts';
import { KeyStoreMissingError, openVault, type Vault } from './vault.ts';

export type Privacy = { vault: Vault; keyring: Keyring; personal: PersonalData; close: () => void };

/** Whether the log holds a value sealed with a key store's keys: scanned once, when the key store
 * is new (on an installation upgraded from before the key store, the whole log, once). */
const logHoldsSealedValues = async (store: Pick<EventStore, 'readAll'>): Promise<boolean> => {
  const sealedIn = (fields: Record<string, unknown> | undefined) => Object.values(fields ?? {}).some(isSealed);
  for (let from = 0; ; ) {
    const page = await store.readAll({ fromPosition: from, maxCount: 1000 });
    if (page.length === 0) return false;
    if (page.some((e) => sealedIn(e.data) || sealedIn(e.metadata))) return true;
    from = page[page.length - 1]!.position;
  }
};

/** Whether the event log predates the key store (asked only when the key store is new). A log
 * with sealed values was written with a key store this data directory lacks: refused, since a new
 * one would read none of it. A store that cannot be reached at start-up (KurrentDB down: the
 * server starts and answers 503) cannot say; the data directory then does: read models in it mean
 * a server ran here before. */
const logPredatesKeyStore = async (dataDir: string, store: Pick<EventStore, 'headPosition' | 'readAll'>): Promise<boolean> => {
  try {
    if ((await store.headPosition()) === 0) return false;
    if (await logHoldsSealedValues(store)) throw new KeyStoreMissingError();
    return true;
  } catch (err) {
    if (!(err instanceof StoreUnavailableError)) throw err;
    return readdirSync(dataDir).some((f) => /^(readmodels(-[\w-]+)?|webhooks)\.db$/.test(f));
  }
};

export const openPrivacy = async (config: Pick<Config, 'dataDir' | 'masterKey'>, store: Pick<EventStore, 'headPosition' | 'readAll'>, now: () => number): Promise<Privacy> => {
  const keyStore = createSqliteKeyStore(keyStorePath(config));
  try {
    // Only a new key store asks: a log that predates it keeps the master key as its root (its stream names stay).
    const logHasEvents = keyStore.meta('root') === undefined && (await logPredatesKeyStore(config.dataDir, store));
    const vault = openVault({ keyStore, masterKey: config.masterKey, now, logHasEvents });
    return { vault, keyring: createKeyring(vault.root), personal: createPersonalData({ vault, now }), close: () => keyStore.close() };
  } catch (err) {
    keyStore.close();
    throw err;
  }
};
