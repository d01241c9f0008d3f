// How aggregate snapshots (src/stream-snapshots) are sealed. A folded state holds personal
// values in clear (opened from the log) and may hold secrets, so a snapshot is never on disk in
// clear: AES-256-GCM under a key derived from the root's snapshot key AND from every data key whose
// values the fold opened (the user's key, the days' keys of verification events). Destroying any of
// them (an erasure, retention) makes the snapshot unreadable, exactly when some value it was folded
// from reads [erased] in the log: crypto-shredding, as for the log itself (personal-data.ts).
import { createCipheriv, createDecipheriv, createHmac, createSecretKey, hkdfSync, type KeyObject } from 'node:crypto';
import { randomChunk } from '../crypto/random.ts';
import { isSealed } from './personal-data.ts';
import type { Vault } from './vault.ts';

export type SnapshotSeal = {
  /** Adds to `into` the ids of the data keys that open the sealed values of an event's data (as
   * stored); `live` keeps only those not destroyed (what a fold opened in clear). */
  keysOf: (data: Record<string, unknown>, into: Set<string>) => void;
  live: (keyIds: Iterable<string>) => string[];
  /** The text sealed under the keys (bound to `aad`); undefined when one of them is gone. */
  seal: (plain: string, aad: string, keyIds: readonly string[]) => Uint8Array | undefined;
  /** The text, or undefined: a key was destroyed, or the blob or its `aad` was altered. */
  open: (blob: Uint8Array, aad: string, keyIds: readonly string[]) => string | undefined;
  /** The vault's epoch: moves when this process destroys or learns of a destroyed key. */
  epoch: () => number;
};

const IV = 12;
const TAG = 16;

export const createSnapshotSeal = (vault: Pick<Vault, 'root' | 'key' | 'epoch'>): SnapshotSeal => {
  const base = Buffer.from(hkdfSync('sha256', vault.root, Buffer.alloc(0), 'securekey:aggregate-snapshot', 32));
  /** HMAC(base, id1 ‖ key1 ‖ id2 ‖ key2 ...) over the ids in order (ids have one length, keys 32 bytes). */
  const keyOf = (keyIds: readonly string[]): KeyObject | undefined => {
    const h = createHmac('sha256', base);
    for (const id of [...keyIds].sort()) {
      const k = vault.key(id);
      if (!k) return undefined;
      h.update(id).update(k);
    }
    return createSecretKey(h.digest());
  };
  return {
    keysOf: (data, into) => {
      for (const v of Object.values(data)) {
        if (!isSealed(v)) continue;
        const [, user = '', day = ''] = v.split('.', 3);
        if (user) into.add(user);
        if (day) into.add(day);
      }
    },
    live: (keyIds) => [...keyIds].filter((id) => vault.key(id) !== undefined),
    seal: (plain, aad, keyIds) => {
      const key = keyOf(keyIds);
      if (!key) return undefined;
      const iv = randomChunk(IV);
      const c = createCipheriv('aes-256-gcm', key, iv);
      c.setAAD(Buffer.from(aad));
      return Buffer.concat([iv, c.update(plain, 'utf8'), c.final(), c.getAuthTag()]);
    },
    open: (blob, aad, keyIds) => {
      if (blob.length < IV + TAG) return undefined;
      const key = keyOf(keyIds);
      if (!key) return undefined;
      const buf = Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength);
      const d = createDecipheriv('aes-256-gcm', key, buf.subarray(0, IV));
      d.setAAD(Buffer.from(aad));
      d.setAuthTag(buf.subarray(buf.length - TAG));
      try {
        return Buffer.concat([d.update(buf.subarray(IV, buf.length - TAG)), d.final()]).toString('utf8');
      } catch {
        return undefined; // altered, or sealed for another stream or revision
      }
    },
    epoch: () => vault.epoch(),
  };
};
