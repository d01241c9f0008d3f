// The SQL helpers every read model (and the webhook outbox) shares: opening a read-model file,
// prepared statements cached per database, an immediate transaction, and paging.
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { DomainError } from '../src/domain/errors.ts';
import { privateDbFile } from '../src/fs/private.ts';

/** Opens (creating its directory) a read-model database, private to this user (0600): WAL, busy
 * timeout for shared use. */
export const openReadModelDb = (path: string): DatabaseSync => {
  privateDbFile(path);
  const db = new DatabaseSync(path);
  db.exec('PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;');
  return db;
};

/** An SQL identifier (a table or index name), quoted. */
export const quoteIdent = (name: string) => `"${name.replaceAll('"', '""')}"`;

const statements = new WeakMap<DatabaseSync, Map<string, StatementSync>>();

/** A prepared statement, compiled once per database and SQL text (node:sqlite has no statement
 * cache of its own, and compiling on every call dominated the hot paths). */
export const prepared = (db: DatabaseSync, sql: string): StatementSync => {
  let cache = statements.get(db);
  if (!cache) statements.set(db, (cache = new Map()));
  let st = cache.get(sql);
  if (!st) cache.set(sql, (st = db.prepare(sql)));
  return st;
};

export { immediate } from '../src/sqlite/immediate.ts';

/** Opaque page tokens: the position to continue after. */
export const encodePageToken = (position: number) => Buffer.from(`p${position}`).toString('base64url');
export const decodePageToken = (token: string | undefined): number | null => {
  if (!token) return null;
  const m = /^p(\d{1,15})$/.exec(Buffer.from(token, 'base64url').toString());
  if (!m) throw new DomainError('INVALID_ARGUMENT', 'pageToken: expected a token returned as nextPageToken by a previous call');
  return Number(m[1]);
};

/** A page size: the default when unset, at most max. */
export const clampLimit = (limit: number | undefined, def = 50, max = 500) => {
  if (limit === undefined || limit === 0) return def;
  if (!Number.isInteger(limit) || limit < 0) throw new DomainError('INVALID_ARGUMENT', `limit: expected a positive integer, got ${limit}`);
  return Math.min(limit, max);
};
