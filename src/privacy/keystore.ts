// The key store: where the data keys that encrypt personal data live, wrapped by the master key.
// It is deliberately NOT the event log: destroying a key here makes every value it encrypted in
// the (append-only, hash-chained) log unreadable for good — crypto-shredding — without touching
// an event. Adapter: keystore-sqlite.ts (keys.db in the data directory, for either event store).

/** user: one key per (tenant, user stream key); day: one key per (tenant, UTC day) for the
 * verification events of that day (retention destroys the old ones). */
export type KeyKind = 'user' | 'day';

export type StoredKey = {
  keyId: string;
  tenantId: string;
  kind: KeyKind;
  /** The user's stream key (kind user) or the UTC day number (kind day), as text. */
  owner: string;
  /** The key wrapped by the master key (vault.ts). */
  wrapped: string;
  createdAt: number;
};

export type KeyStore = {
  /** A setting of the store itself (the wrapped root key, the master key's fingerprint). */
  meta: (name: string) => string | undefined;
  /** Sets `name` unless it is set already; returns the value it holds afterwards (ours, or the
   * one another process set first). */
  initMeta: (name: string, value: string) => string;
  /** A live key by id; undefined when unknown or destroyed. */
  byId: (keyId: string) => StoredKey | undefined;
  /** The owner's live key; 'destroyed' once it was destroyed (an owner never gets a key again). */
  byOwner: (tenantId: string, kind: KeyKind, owner: string) => StoredKey | 'destroyed' | undefined;
  /** Adds the key unless the owner has (or had) one; answers what the owner has afterwards. */
  add: (key: StoredKey) => StoredKey | 'destroyed';
  /** Destroys the owner's key (a tombstone without key material stays). Answers the ids destroyed. */
  destroy: (tenantId: string, kind: KeyKind, owner: string, at: number) => string[];
  /** Destroys the tenant's day keys of the days before `day`. Answers the ids destroyed. */
  destroyDaysBefore: (tenantId: string, day: number, at: number) => string[];
  /** Every live key wrapped anew and `meta` set, in one transaction (master key rotation). */
  rewrapAll: (rewrap: (k: StoredKey) => string, meta: Record<string, string>) => number;
  /** Live keys per kind (operators' summary). */
  counts: () => Record<KeyKind, number>;
  close: () => void;
};
