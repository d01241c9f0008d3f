// Opening the event store's SQLite file: shared by the store (reads, subscriptions) and its writer
// (a worker thread with its own connection, writer.ts).
import { DatabaseSync } from 'node:sqlite';
import { privateDbFile } from '../../fs/private.ts';
import { StoreUnavailableError } from '../port.ts';
import { toStoreError } from './errors.ts';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS events (
  position    INTEGER PRIMARY KEY AUTOINCREMENT,
  stream      TEXT    NOT NULL,
  revision    INTEGER NOT NULL,
  id          TEXT    NOT NULL,
  type        TEXT    NOT NULL,
  data        TEXT    NOT NULL,
  metadata    TEXT    NOT NULL,
  recorded_at INTEGER NOT NULL,
  UNIQUE (stream, revision)
);`;

export const COLUMNS = 'position, stream, revision, id, type, data, metadata, recorded_at';

/** Opens (creating the file 0600, its directory 0700 and the table when missing) one connection in WAL
 * mode; `durable` is synchronous=FULL (one fsync per commit), else NORMAL. */
export const openEventsDb = (path: string, durable: boolean, busyTimeoutMs: number): DatabaseSync => {
  try {
    privateDbFile(path);
  } catch (err) {
    throw new StoreUnavailableError(`event store unavailable: cannot create its directory (${(err as { code?: string }).code})`, { cause: err });
  }
  let db: DatabaseSync | undefined;
  try {
    db = new DatabaseSync(path);
    db.exec(`PRAGMA busy_timeout = ${Math.trunc(busyTimeoutMs)}`);
    const conn = db;
    // Two processes creating the same new file can hit SQLITE_BUSY without the busy handler
    // being consulted (SQLite's deadlock avoidance while switching to WAL): retry briefly.
    retryBusy(() => conn.exec('PRAGMA journal_mode = WAL'), busyTimeoutMs);
    db.exec(`PRAGMA synchronous = ${durable ? 'FULL' : 'NORMAL'}`);
    retryBusy(() => {
      try {
        conn.exec(`BEGIN IMMEDIATE; ${SCHEMA} COMMIT;`);
      } catch (err) {
        if (conn.isTransaction) conn.exec('ROLLBACK');
        throw err;
      }
    }, busyTimeoutMs);
    return db;
  } catch (err) {
    if (db?.isOpen) db.close();
    throw toStoreError(err);
  }
};

const isBusy = (err: unknown) => (err as { code?: string }).code === 'ERR_SQLITE_ERROR' && ((err as { errcode?: number }).errcode! & 0xff) === 5;

const retryBusy = (fn: () => void, budgetMs: number) => {
  const until = Date.now() + budgetMs;
  for (let delay = 1; ; delay = Math.min(delay * 2, 50)) {
    try {
      return fn();
    } catch (err) {
      if (!isBusy(err) || Date.now() > until) throw err;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, delay); // a short synchronous pause
    }
  }
};
