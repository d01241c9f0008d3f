// Snapshots of long streams (src/eventstore/stream-snapshots.ts) in a SQLite file of the data
// directory, beside the log whatever its adapter (SQLite or KurrentDB): a cache of this node's, each
// row checked against the log before use, so losing or deleting the file costs only folds.
// Synchronous=NORMAL (a commit lost on a crash is a snapshot to fold again); written after the
// load that folded it, in setImmediate, never on its path.
//
// A row is sealed (src/privacy/snapshot-seal.ts) under the data keys its fold opened values with,
// bound to its stream, version, revision and link hash: a destroyed key, a flipped byte or a row
// moved elsewhere reads as no snapshot. An erasure also deletes the user's rows (forgetUser).
import { DatabaseSync } from 'node:sqlite';
import { rmSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { privateDbFile } from '../fs/private.ts';
import { createBloomFilter } from '../privacy/bloom.ts';
import type { StoredEvent } from '../eventstore/port.ts';
import { tenantOf } from '../eventstore/recorded.ts';
import type { StreamSnapshot, StreamSnapshots } from '../eventstore/stream-snapshots.ts';
import type { SnapshotSeal } from '../privacy/snapshot-seal.ts';

/** Cold loads by stream length (bench/cold-load.ts, load 11): 2-7 µs per event read and folded,
 * against 0.06-0.16 ms to read and open a snapshot, so a fold of 100 events is worth one. */
export const DEFAULT_MIN_EVENTS = 100;
/** More data keys than this (a stream of verifications over months of day keys) gets no snapshot:
 * opening it would check as many keys. */
const MAX_KEYS = 64;

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS stream_snapshots (
    stream TEXT PRIMARY KEY, version INTEGER NOT NULL, revision INTEGER NOT NULL, link_hash TEXT NOT NULL,
    keys TEXT NOT NULL, tenant_id TEXT, user_key TEXT, sealed BLOB NOT NULL, written_at INTEGER NOT NULL) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS stream_snapshots_user ON stream_snapshots(tenant_id, user_key) WHERE user_key IS NOT NULL;`;

/** Which data keys sealed the state, and whose stream it is (an erasure deletes it). */
type Carried = { keys: readonly string[]; tenantId: string | null; userKey: string | null };
type Row = { version: number; revision: number; link_hash: string; keys: string; tenant_id: string | null; user_key: string | null; sealed: Uint8Array };
type Job = Carried & { version: number; revision: number; linkHash: string; state: unknown; epoch: number };

/** opened: snapshots read and opened; missing: none for the stream; ignored: one that did not open
 * (another version, a destroyed key, altered); mismatched: opened, but the log differs (drop). */
export type SnapshotStats = { opened: number; missing: number; ignored: number; mismatched: number; written: number; skipped: number };

export type SqliteStreamSnapshots = StreamSnapshots & {
  /** Deletes the user's snapshots (an erasure; their keys are destroyed too). Answers how many. */
  forgetUser: (tenantId: string, userKey: string) => number;
  /** Writes the snapshots waiting for setImmediate now. */
  flush: () => void;
  stats: () => SnapshotStats;
  close: () => void;
};

const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : null);
const userKeyOf = (e: StoredEvent) => str(e.data.userKey) ?? str(e.metadata?.userKey);
const aadOf = (stream: string, version: number, revision: number, linkHash: string, keys: readonly string[]) => JSON.stringify(['stream-snapshot', stream, version, revision, linkHash, keys]);

const open = (path: string, walAutocheckpoint: number | undefined) => {
  privateDbFile(path); // 0600 before SQLite opens it, so its -wal and -shm are too
  const db = new DatabaseSync(path);
  try {
    db.exec(`PRAGMA busy_timeout = 1000; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA secure_delete = ON;${walAutocheckpoint ? ` PRAGMA wal_autocheckpoint = ${Math.trunc(walAutocheckpoint)};` : ''}`);
    db.exec(SCHEMA);
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
};

export const openStreamSnapshots = (o: {
  path: string;
  seal: SnapshotSeal;
  minEvents?: number;
  /** Hands the file's checkpoints to the server's checkpoint thread (src/sqlite/checkpoints.ts). */
  walAutocheckpoint?: number;
  /** A write or read that failed (the file is a cache: the load goes on from the log). */
  onError?: (err: unknown) => void;
}): SqliteStreamSnapshots => {
  const { seal } = o;
  let db: DatabaseSync;
  try {
    db = open(o.path, o.walAutocheckpoint);
  } catch {
    // Not a database (corrupt, truncated): a cache starts again empty.
    for (const f of [o.path, `${o.path}-wal`, `${o.path}-shm`]) rmSync(f, { force: true });
    db = open(o.path, o.walAutocheckpoint);
  }
  // The streams that have a snapshot, as a Bloom filter (2 MiB; under 1 % of false hits up to ~1.7M
  // snapshots): a cold load of a stream without one (most streams are short) costs a hash, not a
  // query (~5-10 µs). Only this node writes its file, so the filter holds every row.
  const known = createBloomFilter(2 ** 24);
  for (const r of db.prepare('SELECT stream FROM stream_snapshots').iterate()) known.add((r as { stream: string }).stream);
  const q = {
    get: db.prepare('SELECT version, revision, link_hash, keys, tenant_id, user_key, sealed FROM stream_snapshots WHERE stream = ?'),
    put: db.prepare(`INSERT INTO stream_snapshots (stream, version, revision, link_hash, keys, tenant_id, user_key, sealed, written_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (stream) DO UPDATE SET version = excluded.version, revision = excluded.revision, link_hash = excluded.link_hash, keys = excluded.keys,
        tenant_id = excluded.tenant_id, user_key = excluded.user_key, sealed = excluded.sealed, written_at = excluded.written_at
      WHERE excluded.version <> stream_snapshots.version OR excluded.revision > stream_snapshots.revision`),
    drop: db.prepare('DELETE FROM stream_snapshots WHERE stream = ?'),
    forget: db.prepare('DELETE FROM stream_snapshots WHERE tenant_id = ? AND user_key = ?'),
  };
  const stats: SnapshotStats = { opened: 0, missing: 0, ignored: 0, mismatched: 0, written: 0, skipped: 0 };
  const failed = (err: unknown) => {
    stats.skipped++;
    o.onError?.(err);
  };
  const pending = new Map<string, Job>();
  let scheduled = false;

  const write = (stream: string, j: Job) => {
    // A key destroyed since the fold opened its values: they may read [erased] in the log now.
    if (seal.epoch() !== j.epoch) return void stats.skipped++;
    const json = JSON.stringify(j.state);
    // Only a state that JSON gives back as it is (no Map, Set, Date, undefined member, -0, bigint).
    if (json === undefined || !isDeepStrictEqual(JSON.parse(json), j.state)) return void stats.skipped++;
    const sealed = seal.seal(json, aadOf(stream, j.version, j.revision, j.linkHash, j.keys), j.keys);
    if (!sealed) return void stats.skipped++;
    q.put.run(stream, j.version, j.revision, j.linkHash, j.keys.join(' '), j.tenantId, j.userKey, sealed, Date.now());
    known.add(stream);
    stats.written++;
  };
  const flush = () => {
    scheduled = false;
    for (const [stream, j] of pending) {
      pending.delete(stream);
      try {
        write(stream, j);
      } catch (err) {
        failed(err);
      }
    }
  };
  const forget = (stream: string) => {
    pending.delete(stream);
    try {
      q.drop.run(stream);
    } catch (err) {
      failed(err);
    }
  };

  return {
    minEvents: o.minEvents ?? DEFAULT_MIN_EVENTS,
    get: (stream, version): StreamSnapshot | undefined => {
      if (!known.has(stream)) return void stats.missing++;
      try {
        const row = q.get.get(stream) as Row | undefined;
        if (!row) return void stats.missing++;
        const keys = row.keys === '' ? [] : row.keys.split(' ');
        const plain = row.version === version ? seal.open(row.sealed, aadOf(stream, row.version, row.revision, row.link_hash, keys), keys) : undefined;
        if (plain === undefined) {
          stats.ignored++;
          forget(stream); // folded by other code, a key destroyed, or altered: never usable again
          return undefined;
        }
        stats.opened++;
        const carried: Carried = { keys, tenantId: row.tenant_id, userKey: row.user_key };
        return { revision: row.revision, linkHash: row.link_hash, state: JSON.parse(plain), carried };
      } catch (err) {
        stats.ignored++;
        o.onError?.(err);
        return undefined;
      }
    },
    put: (stream, version, at, folded, base) => {
      const from = base?.carried as Carried | undefined;
      const ids = new Set<string>(from?.keys);
      let tenantId = from?.tenantId ?? null;
      let userKey = from?.userKey ?? null;
      for (const e of folded) {
        seal.keysOf(e.data, ids);
        tenantId = tenantOf(e) ?? tenantId;
        userKey = userKeyOf(e) ?? userKey;
      }
      // The keys that opened values in clear now (a destroyed one's values read [erased] for good).
      const keys = seal.live(ids);
      if (keys.length > MAX_KEYS) return void stats.skipped++;
      pending.set(stream, { ...at, version, keys, tenantId, userKey });
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    },
    drop: (stream) => {
      stats.mismatched++;
      forget(stream);
    },
    forgetUser: (tenantId, userKey) => {
      for (const [stream, j] of pending) if (j.tenantId === tenantId && j.userKey === userKey) pending.delete(stream);
      return Number(q.forget.run(tenantId, userKey).changes);
    },
    flush,
    stats: () => ({ ...stats }),
    close: () => {
      if (!db.isOpen) return;
      flush();
      db.close();
    },
  };
};
