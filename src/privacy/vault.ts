// The vault: the key store's keys, unwrapped with the master key and cached.
//
// - The master key (SECUREKEY_MASTER_KEY or master.key) only WRAPS: a key-encryption key derived
//   from it encrypts every data key and the root key in the key store. Rotating it re-wraps them
//   (rotateMasterKey) and rewrites no event.
// - The root key is what every keyed hash (stream names, code hashes) and every older encrypted
//   field (TOTP secrets, push tokens, webhook secrets) derives from (keyring.ts). It is random on
//   an installation that starts with the key store, and the master key itself on one whose log
//   predates it (so that its stream names stay the same). It never changes.
// - Data keys encrypt personal data (personal-data.ts); destroying one shreds what it encrypted.
//   Unwrapped keys sit in bounded LRU caches, so the hot path reads nothing from disk after first use.
import { createCipheriv, createDecipheriv, createHmac, createSecretKey, hkdfSync, type KeyObject, randomBytes } from 'node:crypto';
import type { KeyKind, KeyStore } from './keystore.ts';
import { createLru } from '../lru.ts';

export type Vault = {
  /** The root secret of the keyring (keyring.ts). */
  root: Buffer;
  /** A data key by id; undefined once it was destroyed (or never existed). */
  key: (keyId: string) => Buffer | undefined;
  /** The owner's live data key, made on first use. Throws KeyDestroyedError when the owner's key
   * was destroyed: an erased user's stream key never gets a key again. */
  current: (tenantId: string, kind: KeyKind, owner: string) => { keyId: string; key: Buffer };
  /** Destroys the owner's key (erasure), and drops it from the cache even when another process
   * destroyed it already. Answers the number of keys destroyed here. */
  destroy: (tenantId: string, kind: KeyKind, owner: string) => number;
  /** Destroys the tenant's day keys of the days before `day` (retention). */
  destroyDaysBefore: (tenantId: string, day: number) => number;
  counts: () => Record<KeyKind, number>;
  /** Moves whenever this process destroys a key or learns of one destroyed: values opened
   * before may read [erased] now (the aggregate cache folds again, handle-command.ts). */
  epoch: () => number;
};

export class KeyDestroyedError extends Error {
  constructor(kind: KeyKind) {
    super(`the ${kind} data key was destroyed`);
    this.name = 'KeyDestroyedError';
  }
}

/** The master key does not open this key store (a wrong key, or the old one after a rotation). */
export class WrongMasterKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WrongMasterKeyError';
  }
}

/** The event log holds personal data sealed with a key store this data directory lacks. */
export class KeyStoreMissingError extends Error {
  constructor() {
    super(
      'the event log holds personal data sealed with the keys of a key store (keys.db) that this data directory lacks: restore keys.db from your backup into the data directory (docs/privacy.md); a new key store would read none of it',
    );
    this.name = 'KeyStoreMissingError';
  }
}

// A KeyObject, made once: a raw key given to every unwrap was prepared again each time.
const kekOf = (masterKey: Buffer): KeyObject => createSecretKey(Buffer.from(hkdfSync('sha256', masterKey, Buffer.alloc(0), 'securekey:key-store-kek', 32)));
const fingerprintOf = (kek: KeyObject) => createHmac('sha256', kek).update('securekey:kek-fingerprint').digest('hex').slice(0, 32);

/** AES-256-GCM under the key-encryption key, bound to the key's name (its id, or "root"). */
const wrap = (kek: KeyObject, name: string, key: Buffer): string => {
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', kek, iv);
  c.setAAD(Buffer.from(`securekey-key:${name}`));
  const ct = Buffer.concat([c.update(key), c.final()]);
  return ['w1', iv.toString('base64url'), ct.toString('base64url'), c.getAuthTag().toString('base64url')].join('.');
};

const unwrap = (kek: KeyObject, name: string, wrapped: string): Buffer => {
  const [v, iv, ct, tag] = wrapped.split('.');
  if (v !== 'w1' || !iv || !ct || !tag) throw new Error(`the key store holds a malformed key (${name})`);
  const d = createDecipheriv('aes-256-gcm', kek, Buffer.from(iv, 'base64url'));
  d.setAAD(Buffer.from(`securekey-key:${name}`));
  d.setAuthTag(Buffer.from(tag, 'base64url'));
  return Buffer.concat([d.update(Buffer.from(ct, 'base64url')), d.final()]);
};

/** A copy with its own memory. The root key stays for the process's life, and a small Buffer
 * (Buffer.concat, Buffer.from) is a slice of Node's shared 64 KiB pool: one cached key would keep
 * its whole pool alive, with whatever else was cut from it, for as long as it is cached. */
export const unpooled = (b: Buffer): Buffer => {
  const own = Buffer.alloc(b.length);
  b.copy(own);
  return own;
};

const KEY_BYTES = 32;
const NO_KEY = -1;

const newKeyId = () => randomBytes(16).toString('base64url');

/** Checks (or, on a new key store, records) that `masterKey` is the one the store is wrapped with. */
const checkMasterKey = (store: KeyStore, kek: KeyObject) => {
  const mine = fingerprintOf(kek);
  const recorded = store.initMeta('kek', mine);
  // A fingerprint, not a secret: a plain comparison is fine.
  if (recorded !== mine) {
    throw new WrongMasterKeyError('the master key does not open the key store (keys.db): it is not the key the store was made or last rotated with. After a rotation, start with the new key');
  }
};

export const openVault = (o: {
  keyStore: KeyStore;
  masterKey: Buffer;
  now: () => number;
  /** Whether the event log already has events (its root key is then the master key itself). */
  logHasEvents: boolean;
  cacheSize?: number;
}): Vault => {
  const { keyStore: store, now } = o;
  const kek = kekOf(o.masterKey);
  checkMasterKey(store, kek);
  const rootWrapped = store.meta('root') ?? store.initMeta('root', wrap(kek, 'root', o.logHasEvents ? o.masterKey : randomBytes(32)));
  const root = unpooled(unwrap(kek, 'root', rootWrapped));

  // The unwrapped keys sit in one buffer of 32-byte slots (~230 bytes per cached key with the two
  // maps, against ~800 for a Buffer and an object each), zeroed when they leave the cache, so the
  // cache can hold the keys of many more users than the aggregates' 10,000 streams in less memory.
  const size = o.cacheSize ?? 50_000;
  const slots = Buffer.alloc((size + 1) * KEY_BYTES); // a set may hold one more until its eviction
  const freeSlots: number[] = [];
  let usedSlots = 0;
  const release = (slot: number) => {
    slots.fill(0, slot * KEY_BYTES, (slot + 1) * KEY_BYTES);
    freeSlots.push(slot);
  };
  /** Day keys' tenant and day, for the retention cutoff (a few per tenant). */
  const days = new Map<string, { tenantId: string; day: number }>();
  /** keyId → its slot, or NO_KEY: destroyed or unknown (ids are random and never reused, so that stays true). */
  const keys = createLru<string, number>(size, (keyId, slot) => {
    if (slot !== NO_KEY) release(slot);
    days.delete(keyId);
  });
  const cache = (keyId: string, k: { key: Buffer; tenantId: string; kind: KeyKind; owner: string } | null) => {
    const old = keys.peek(keyId);
    if (old !== undefined && old !== NO_KEY) release(old);
    if (!k) {
      keys.set(keyId, NO_KEY);
      days.delete(keyId);
      return;
    }
    if (k.key.length !== KEY_BYTES) throw new Error(`the key store holds a data key of ${k.key.length} bytes (${keyId}), not ${KEY_BYTES}`);
    const slot = freeSlots.pop() ?? usedSlots++;
    k.key.copy(slots, slot * KEY_BYTES);
    if (k.kind === 'day') days.set(keyId, { tenantId: k.tenantId, day: Number(k.owner) });
    keys.set(keyId, slot);
  };
  /** A copy of the slot: the slot itself may hold another key after the next eviction. */
  const slotKey = (slot: number) => Buffer.from(slots.subarray(slot * KEY_BYTES, (slot + 1) * KEY_BYTES));
  /** Per tenant, the first day whose key retention keeps (set by every process's retention run,
   * so a day key another process destroyed is not used from this cache either). */
  const cutoffs = new Map<string, number>();
  const retired = (keyId: string) => {
    const d = days.get(keyId);
    return d !== undefined && d.day < (cutoffs.get(d.tenantId) ?? -Infinity);
  };
  /** tenant/kind/owner → keyId of the live key. */
  const owners = createLru<string, string>(size);
  const ownerKey = (tenantId: string, kind: KeyKind, owner: string) => `${tenantId}\n${kind}\n${owner}`;

  let epoch = 0;

  const key = (keyId: string): Buffer | undefined => {
    const slot = keys.get(keyId);
    if (slot === NO_KEY) return undefined;
    if (slot !== undefined && !retired(keyId)) return slotKey(slot);
    const row = store.byId(keyId);
    if (!row) {
      cache(keyId, null);
      return undefined;
    }
    const k = unwrap(kek, row.keyId, row.wrapped);
    cache(keyId, { key: k, tenantId: row.tenantId, kind: row.kind, owner: row.owner });
    owners.set(ownerKey(row.tenantId, row.kind, row.owner), row.keyId); // so that forgetOwner finds it
    return k;
  };

  return {
    root,
    key,
    current: (tenantId, kind, owner) => {
      const cachedId = owners.get(ownerKey(tenantId, kind, owner));
      const cachedKey = cachedId ? key(cachedId) : undefined;
      if (cachedId && cachedKey) return { keyId: cachedId, key: cachedKey };
      let row = store.byOwner(tenantId, kind, owner);
      if (row === undefined) {
        const keyId = newKeyId();
        row = store.add({ keyId, tenantId, kind, owner, wrapped: wrap(kek, keyId, randomBytes(32)), createdAt: now() });
      }
      if (row === 'destroyed') throw new KeyDestroyedError(kind);
      const k = unwrap(kek, row.keyId, row.wrapped);
      cache(row.keyId, { key: k, tenantId, kind, owner });
      owners.set(ownerKey(tenantId, kind, owner), row.keyId);
      return { keyId: row.keyId, key: k };
    },
    destroy: (tenantId, kind, owner) => {
      const cachedId = owners.get(ownerKey(tenantId, kind, owner));
      const gone = store.destroy(tenantId, kind, owner, now());
      for (const id of cachedId ? [cachedId, ...gone] : gone) cache(id, null);
      owners.delete(ownerKey(tenantId, kind, owner));
      epoch++;
      return gone.length;
    },
    destroyDaysBefore: (tenantId, day) => {
      const cutoff = Math.max(day, cutoffs.get(tenantId) ?? -Infinity);
      if (cutoff !== cutoffs.get(tenantId)) epoch++;
      cutoffs.set(tenantId, cutoff);
      const gone = store.destroyDaysBefore(tenantId, day, now());
      for (const id of gone) cache(id, null);
      if (gone.length) epoch++;
      return gone.length;
    },
    counts: () => store.counts(),
    epoch: () => epoch,
  };
};

/** Master key rotation: every data key and the root key re-wrapped under `newMasterKey`, in one
 * transaction; no event is read or written. Afterwards only the new key opens the store. */
export const rotateMasterKey = (store: KeyStore, oldMasterKey: Buffer, newMasterKey: Buffer): { keys: number } => {
  if (newMasterKey.length < 32) throw new Error(`the new master key must be at least 32 bytes, got ${newMasterKey.length}`);
  if (newMasterKey.equals(oldMasterKey)) throw new Error('the new master key is the current one');
  const oldKek = kekOf(oldMasterKey);
  checkMasterKey(store, oldKek);
  const newKek = kekOf(newMasterKey);
  const rootWrapped = store.meta('root');
  if (!rootWrapped) throw new Error('the key store has no root key yet: start the server once before rotating');
  const root = wrap(newKek, 'root', unwrap(oldKek, 'root', rootWrapped));
  const keys = store.rewrapAll((k) => wrap(newKek, k.keyId, unwrap(oldKek, k.keyId, k.wrapped)), { root, kek: fingerprintOf(newKek) });
  return { keys };
};
