// The one place where personal data is sealed before it enters the log, and opened after.
//
// seal: every field the table of src/domain/personal.ts names, and the personal metadata, becomes
//   "pd1.<user key id>.<day key id>.<iv|ciphertext|tag>" — AES-256-GCM with the event's id as
//   associated data (a value cannot be moved to another event), under
//   - the user's data key (state scope: enrollments, devices), or
//   - a key derived from the user's key AND the tenant's key of the day (verification scope), so
//     that destroying either one shreds it: an erasure destroys the user's key, retention the
//     day's key;
//   - the day's key alone for a verification without a known user (a code sent to a number).
//   The user is the event's `userKey` (data or metadata): a keyed hash, never the id.
// open: the clear value, or "[erased]" once a key it needs is gone — the same answer on every
//   read and every replay, since a destroyed key never comes back.
import { type KeyObject, createCipheriv, createDecipheriv, createHmac, createSecretKey } from 'node:crypto';
import { randomChunk } from '../crypto/random.ts';
import { PERSONAL_METADATA, personalSpecOf } from '../domain/personal.ts';
import { DomainError } from '../domain/errors.ts';
import { createLru } from '../lru.ts';
import { KeyDestroyedError, type Vault } from './vault.ts';

/** What a personal value reads as once its key was destroyed (erasure or retention). */
export const ERASED = '[erased]';

const PREFIX = 'pd1.';
const DAY_MS = 86_400_000;

/** The UTC day number of an epoch-ms time (the day keys' owner). */
export const dayOf = (ms: number) => Math.floor(ms / DAY_MS);

export const isSealed = (v: unknown): v is string => typeof v === 'string' && v.startsWith(PREFIX);

type Fields = Record<string, unknown>;
export type SealableEvent = { id: string; type: string; data: Fields; metadata: Fields };

export type PersonalData = {
  /** The events with their personal fields sealed (each bound to its own id). */
  seal: <E extends SealableEvent>(events: readonly E[]) => E[];
  /** The event with every sealed value opened. Values written before sealing existed pass as they are. */
  open: <E extends { id: string; data: Fields; metadata: Fields }>(event: E) => E;
  /** The event with its data's sealed values opened, its metadata as stored: what a decider folds
   * (deciders read data, never metadata), one decryption per personal field fewer. */
  openData: <E extends { id: string; data: Fields }>(event: E) => E;
  /** One value of event `eventId` opened; anything not sealed is returned as it is. */
  openValue: (value: unknown, eventId: string) => unknown;
  /** A JSON document holding values of event `eventId` (a webhook body) with each of them opened. */
  openJson: (json: string, eventId: string) => string;
  /** Moves whenever a key is destroyed (the vault's epoch). */
  epoch: () => number;
};

const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);

/** HKDF-SHA256 (RFC 5869) of the user's key ‖ the day's key, empty salt, info
 * "securekey:personal-data:user-day", 32 bytes (one block): what hkdfSync derives, on KeyObjects.
 * Node 24's hkdfSync checks a raw key by throwing and catching an error inside, which under a
 * request's deep stack cost several times the derivation itself (one per verification). */
const NO_SALT = createSecretKey(Buffer.alloc(32)); // RFC 5869: an absent salt is HashLen zero bytes
const USER_DAY_INFO = Buffer.from('securekey:personal-data:user-day\x01'); // T(1) = HMAC(PRK, info ‖ 0x01)
export const userDayKey = (user: Buffer, day: Buffer): Buffer => {
  const prk = createHmac('sha256', NO_SALT).update(user).update(day).digest();
  return createHmac('sha256', createSecretKey(prk)).update(USER_DAY_INFO).digest();
};

export const createPersonalData = (o: { vault: Vault; now: () => number; cacheSize?: number }): PersonalData => {
  const { vault } = o;
  /** "userKeyId.dayKeyId" → the AES key (derived when both are set). */
  const aesKeys = createLru<string, KeyObject>(o.cacheSize ?? 10_000);

  const aesKey = (userKeyId: string, dayKeyId: string, user: Buffer | undefined, day: Buffer | undefined): KeyObject => {
    const id = `${userKeyId}.${dayKeyId}`;
    let k = aesKeys.get(id);
    if (!k) {
      const raw = user && day ? userDayKey(user, day) : (user ?? day)!;
      k = createSecretKey(raw);
      aesKeys.set(id, k);
    }
    return k;
  };

  const keysFor = (tenantId: string, userKey: string | undefined, scope: 'state' | 'verification') => {
    try {
      const user = userKey ? vault.current(tenantId, 'user', userKey) : undefined;
      const day = scope === 'verification' || !user ? vault.current(tenantId, 'day', String(dayOf(o.now()))) : undefined;
      return { prefix: `${PREFIX}${user?.keyId ?? ''}.${day?.keyId ?? ''}.`, key: aesKey(user?.keyId ?? '', day?.keyId ?? '', user?.key, day?.key) };
    } catch (err) {
      if (err instanceof KeyDestroyedError) throw new DomainError('CONFLICT', 'this user was erased while the request ran; nothing was written, retry the request');
      throw err;
    }
  };

  const sealOne = (keys: { prefix: string; key: KeyObject }, eventId: string, value: string) => {
    const iv = randomChunk(12);
    const c = createCipheriv('aes-256-gcm', keys.key, iv);
    c.setAAD(Buffer.from(eventId));
    const ct = Buffer.concat([c.update(value, 'utf8'), c.final()]);
    return keys.prefix + Buffer.concat([iv, ct, c.getAuthTag()]).toString('base64url');
  };

  const openOne = (sealed: string, eventId: string): string => {
    const [, userKeyId = '', dayKeyId = '', blob = ''] = sealed.split('.');
    const user = userKeyId ? vault.key(userKeyId) : undefined;
    const day = dayKeyId ? vault.key(dayKeyId) : undefined;
    if ((userKeyId && !user) || (dayKeyId && !day)) return ERASED;
    const buf = Buffer.from(blob, 'base64url');
    if ((!user && !day) || buf.length < 28) throw new Error(`event ${eventId} holds a malformed sealed value`);
    const d = createDecipheriv('aes-256-gcm', aesKey(userKeyId, dayKeyId, user, day), buf.subarray(0, 12));
    d.setAAD(Buffer.from(eventId));
    d.setAuthTag(buf.subarray(buf.length - 16));
    try {
      return Buffer.concat([d.update(buf.subarray(12, buf.length - 16)), d.final()]).toString('utf8');
    } catch {
      throw new Error(`a sealed value of event ${eventId} does not open with its key: it was altered or moved from another event`);
    }
  };

  const openFields = (fields: Fields, eventId: string): Fields | undefined => {
    let out: Fields | undefined;
    for (const [k, v] of Object.entries(fields)) {
      if (!isSealed(v)) continue;
      out ??= { ...fields };
      out[k] = openOne(v, eventId);
    }
    return out;
  };

  const openDeep = (v: unknown, eventId: string): unknown => {
    if (isSealed(v)) return openOne(v, eventId);
    if (Array.isArray(v)) return v.map((x) => openDeep(x, eventId));
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, openDeep(x, eventId)]));
    return v;
  };

  return {
    seal: (events) =>
      events.map((e) => {
        const spec = personalSpecOf(e.type);
        const dataFields = spec.fields.filter((f) => str(e.data[f]) !== undefined);
        const metaFields = PERSONAL_METADATA.filter((f) => str(e.metadata[f]) !== undefined);
        if (dataFields.length === 0 && metaFields.length === 0) return e;
        const tenantId = str(e.metadata.tenantId) ?? str(e.data.tenantId);
        if (!tenantId) throw new Error(`event ${e.type} holds personal data but names no tenant`);
        const keys = keysFor(tenantId, str(e.data.userKey) ?? str(e.metadata.userKey), spec.scope);
        const data = { ...e.data };
        for (const f of dataFields) data[f] = sealOne(keys, e.id, data[f] as string);
        const metadata = { ...e.metadata };
        for (const f of metaFields) metadata[f] = sealOne(keys, e.id, metadata[f] as string);
        return { ...e, data, metadata };
      }),
    open: (e) => {
      const data = openFields(e.data, e.id);
      const metadata = openFields(e.metadata ?? {}, e.id);
      return data || metadata ? { ...e, data: data ?? e.data, metadata: metadata ?? e.metadata } : e;
    },
    openData: (e) => {
      const data = openFields(e.data, e.id);
      return data ? { ...e, data } : e;
    },
    openValue: (value, eventId) => (isSealed(value) ? openOne(value, eventId) : value),
    epoch: () => vault.epoch(),
    openJson: (json, eventId) => (json.includes(PREFIX) ? JSON.stringify(openDeep(JSON.parse(json), eventId)) : json),
  };
};
