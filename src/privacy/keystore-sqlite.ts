// The key store in its own SQLite file (keys.db in the data directory), never in the event log.
// Durable (synchronous=FULL): a key must be on disk before any event it encrypted is appended.
// Destroying a key leaves a tombstone row without key material (so that the owner never gets a key
// again): secure_delete zeroes the bytes SQLite frees, and the WAL, which still holds the old
// page, is checkpointed and truncated right after, so the wrapped key is gone from both files.
import { DatabaseSync } from 'node:sqlite';
import { privateDbFile } from '../fs/private.ts';
import { immediate } from '../sqlite/immediate.ts';
import type { KeyKind, KeyStore, StoredKey } from './keystore.ts';

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS key_store_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
  CREATE TABLE IF NOT EXISTS data_keys (
    key_id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, kind TEXT NOT NULL, owner TEXT NOT NULL, day INTEGER,
    wrapped TEXT, created_at INTEGER NOT NULL, destroyed_at INTEGER);
  CREATE UNIQUE INDEX IF NOT EXISTS data_keys_owner ON data_keys(tenant_id, kind, owner);
  CREATE INDEX IF NOT EXISTS data_keys_day ON data_keys(tenant_id, kind, day) WHERE wrapped IS NOT NULL;`;

type Row = { key_id: string; tenant_id: string; kind: KeyKind; owner: string; wrapped: string | null; created_at: number };

const toKey = (r: Row): StoredKey | 'destroyed' =>
  r.wrapped === null ? 'destroyed' : { keyId: r.key_id, tenantId: r.tenant_id, kind: r.kind, owner: r.owner, wrapped: r.wrapped, createdAt: r.created_at };

export const createSqliteKeyStore = (path: string): KeyStore => {
  privateDbFile(path); // 0600 before SQLite opens it, so its -wal and -shm are too
  const db = new DatabaseSync(path);
  db.exec('PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA secure_delete = ON;');
  const tx = <T>(fn: () => T): T => immediate(db, fn);
  tx(() => db.exec(SCHEMA));
  const q = {
    meta: db.prepare('SELECT value FROM key_store_meta WHERE name = ?'),
    initMeta: db.prepare('INSERT OR IGNORE INTO key_store_meta (name, value) VALUES (?, ?)'),
    setMeta: db.prepare('INSERT INTO key_store_meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value'),
    byId: db.prepare('SELECT * FROM data_keys WHERE key_id = ?'),
    byOwner: db.prepare('SELECT * FROM data_keys WHERE tenant_id = ? AND kind = ? AND owner = ?'),
    add: db.prepare('INSERT OR IGNORE INTO data_keys (key_id, tenant_id, kind, owner, day, wrapped, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)'),
    destroy: db.prepare('UPDATE data_keys SET wrapped = NULL, destroyed_at = ? WHERE tenant_id = ? AND kind = ? AND owner = ? AND wrapped IS NOT NULL RETURNING key_id'),
    destroyDays: db.prepare("UPDATE data_keys SET wrapped = NULL, destroyed_at = ? WHERE tenant_id = ? AND kind = 'day' AND day < ? AND wrapped IS NOT NULL RETURNING key_id"),
    live: db.prepare('SELECT * FROM data_keys WHERE wrapped IS NOT NULL ORDER BY key_id'),
    rewrap: db.prepare('UPDATE data_keys SET wrapped = ? WHERE key_id = ?'),
    counts: db.prepare('SELECT kind, count(*) AS n FROM data_keys WHERE wrapped IS NOT NULL GROUP BY kind'),
  };
  /** The destroyed bytes leave the WAL too (secure_delete zeroed them in the pages). */
  const checkpoint = () => db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
  const ids = (rows: unknown[]) => (rows as { key_id: string }[]).map((r) => r.key_id);

  return {
    meta: (name) => (q.meta.get(name) as { value: string } | undefined)?.value,
    initMeta: (name, value) =>
      tx(() => {
        q.initMeta.run(name, value);
        return (q.meta.get(name) as { value: string }).value;
      }),
    byId: (keyId) => {
      const r = q.byId.get(keyId) as Row | undefined;
      const k = r && toKey(r);
      return k === 'destroyed' ? undefined : k;
    },
    byOwner: (tenantId, kind, owner) => {
      const r = q.byOwner.get(tenantId, kind, owner) as Row | undefined;
      return r && toKey(r);
    },
    add: (k) =>
      tx(() => {
        q.add.run(k.keyId, k.tenantId, k.kind, k.owner, k.kind === 'day' ? Number(k.owner) : null, k.wrapped, k.createdAt);
        return toKey(q.byOwner.get(k.tenantId, k.kind, k.owner) as Row);
      }),
    destroy: (tenantId, kind, owner, at) => {
      const gone = ids(tx(() => q.destroy.all(at, tenantId, kind, owner)));
      if (gone.length) checkpoint();
      return gone;
    },
    destroyDaysBefore: (tenantId, day, at) => {
      const gone = ids(tx(() => q.destroyDays.all(at, tenantId, day)));
      if (gone.length) checkpoint();
      return gone;
    },
    rewrapAll: (rewrap, meta) => {
      const n = tx(() => {
        const rows = q.live.all() as Row[];
        for (const r of rows) q.rewrap.run(rewrap(toKey(r) as StoredKey), r.key_id);
        for (const [name, value] of Object.entries(meta)) q.setMeta.run(name, value);
        return rows.length;
      });
      checkpoint();
      return n;
    },
    counts: () => {
      const out: Record<KeyKind, number> = { user: 0, day: 0 };
      for (const r of q.counts.all() as { kind: KeyKind; n: number }[]) out[r.kind] = r.n;
      return out;
    },
    close: () => db.close(),
  };
};
