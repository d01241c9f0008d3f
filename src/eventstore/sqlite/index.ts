// The embedded event store: one SQLite file (node:sqlite), WAL, shareable by several processes.
// Appends are queued and written by group commit: everything queued when the writer runs goes
// into ONE transaction (one fsync), each append inside its own SAVEPOINT so a conflict refuses
// that append only. The expected revision is checked inside the write transaction (BEGIN
// IMMEDIATE holds the file's write lock), so it also holds against other processes.
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import {
  type AppendResult,
  type EventStore,
  type ExpectedRevision,
  type NewEvent,
  type StoredEvent,
  type SubscribeOptions,
  StoreUnavailableError,
  WrongExpectedRevisionError,
} from '../port.ts';
import { checkEventType } from '../event-type.ts';
import { isUnavailable, toStoreError } from './errors.ts';
import { createNotifier } from './notifier.ts';

export type SqliteEventStoreOptions = {
  /** The database file; its directory is created when missing. */
  path: string;
  /** synchronous=FULL: an acknowledged append survives a crash or power loss. Default true. */
  durable?: boolean;
  /** How long a write waits for another process holding the file's write lock. Default 5000. */
  busyTimeoutMs?: number;
  /** How often live subscriptions check for commits made by other processes. Default 50. */
  pollMs?: number;
  /** Called after each group commit (for metrics). */
  onCommit?: (info: { appends: number; events: number; ms: number }) => void;
};

type Row = {
  position: number;
  stream: string;
  revision: number;
  id: string;
  type: string;
  data: string;
  metadata: string;
  recorded_at: number;
};

type Pending = {
  stream: string;
  expected: ExpectedRevision;
  rows: { id: string; type: string; data: string; metadata: string }[];
  resolve: (r: AppendResult) => void;
  reject: (e: unknown) => void;
};

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

const COLUMNS = 'position, stream, revision, id, type, data, metadata, recorded_at';
const MAX_APPENDS_PER_COMMIT = 1000;
const PAGE_SIZE = 500;

const toEvent = (r: Row): StoredEvent => ({
  id: r.id,
  type: r.type,
  data: JSON.parse(r.data),
  metadata: JSON.parse(r.metadata),
  streamName: r.stream,
  revision: r.revision,
  position: r.position,
  recordedAt: new Date(r.recorded_at),
});

const conflicts = (expected: ExpectedRevision, actual: number) =>
  expected === 'no_stream' ? actual !== -1 : expected === 'stream_exists' ? actual === -1 : expected !== 'any' && expected !== actual;

const serialize = (e: NewEvent) => {
  checkEventType(e?.type);
  if (e.data === null || typeof e.data !== 'object' || Array.isArray(e.data)) throw new TypeError(`event ${e.type}: data must be an object`);
  return { id: e.id ?? randomUUID(), type: e.type, data: JSON.stringify(e.data), metadata: JSON.stringify(e.metadata ?? {}) };
};

const open = (path: string, durable: boolean, busyTimeoutMs: number) => {
  try {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
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

export const createSqliteEventStore = (opts: SqliteEventStoreOptions): EventStore => {
  const db = open(opts.path, opts.durable ?? true, opts.busyTimeoutMs ?? 5000);
  const notifier = createNotifier(db, opts.pollMs ?? 50);

  const q = {
    lastRevision: db.prepare('SELECT MAX(revision) AS r FROM events WHERE stream = ?'),
    insert: db.prepare('INSERT INTO events (stream, revision, id, type, data, metadata, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)'),
    readStream: db.prepare(`SELECT ${COLUMNS} FROM events WHERE stream = ? AND revision >= ? ORDER BY revision LIMIT ?`),
    readAll: db.prepare(`SELECT ${COLUMNS} FROM events WHERE position > ? ORDER BY position LIMIT ?`),
    head: db.prepare('SELECT COALESCE(MAX(position), 0) AS p FROM events'),
    savepoint: db.prepare('SAVEPOINT append'),
    release: db.prepare('RELEASE append'),
    rollbackTo: db.prepare('ROLLBACK TO append'),
  };
  const head = () => (q.head.get() as { p: number }).p;

  let queue: Pending[] = [];
  let scheduled = false;
  let closing: Promise<void> | undefined;
  let closed = false;
  let drained: (() => void) | undefined;

  const closedError = () => new StoreUnavailableError('event store is closed');

  const appendOne = (p: Pending, now: number): AppendResult => {
    const row = q.lastRevision.get(p.stream) as { r: number | null };
    const actual = row.r ?? -1;
    if (conflicts(p.expected, actual)) throw new WrongExpectedRevisionError(p.stream, p.expected, actual);
    let revision = actual;
    let position = 0;
    for (const e of p.rows) {
      revision++;
      position = Number(q.insert.run(p.stream, revision, e.id, e.type, e.data, e.metadata, now).lastInsertRowid);
    }
    return { nextExpectedRevision: revision, position };
  };

  // Writes every queued append in one transaction. Synchronous: nothing else runs meanwhile, so
  // appends issued during a commit wait in the queue for the next one.
  const flush = () => {
    scheduled = false;
    const batch = queue.splice(0, MAX_APPENDS_PER_COMMIT);
    if (batch.length === 0) return;
    if (queue.length > 0) schedule();
    const started = performance.now();
    const outcomes: ({ ok: true; value: AppendResult } | { ok: false; error: unknown })[] = [];
    let events = 0;
    try {
      db.exec('BEGIN IMMEDIATE');
      try {
        const now = Date.now();
        for (const p of batch) {
          q.savepoint.run();
          try {
            outcomes.push({ ok: true, value: appendOne(p, now) });
            q.release.run();
            events += p.rows.length;
          } catch (error) {
            if (isUnavailable(error)) throw error; // the whole commit fails
            q.rollbackTo.run();
            q.release.run();
            outcomes.push({ ok: false, error });
          }
        }
        db.exec('COMMIT');
      } catch (err) {
        if (db.isTransaction) db.exec('ROLLBACK');
        throw err;
      }
    } catch (err) {
      const error = toStoreError(err);
      for (const p of batch) p.reject(error);
      afterFlush();
      return;
    }
    batch.forEach((p, i) => {
      const o = outcomes[i];
      if (o.ok) p.resolve(o.value);
      else p.reject(o.error);
    });
    if (events > 0) notifier.notify();
    try {
      opts.onCommit?.({ appends: batch.length, events, ms: performance.now() - started });
    } catch {
      // a metrics hook must not break the writer
    }
    afterFlush();
  };

  const afterFlush = () => {
    if (queue.length === 0 && drained) drained();
  };

  const schedule = () => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(flush);
  };

  const guard = <T>(fn: () => T): Promise<T> => {
    if (closed) return Promise.reject(closedError());
    try {
      return Promise.resolve(fn());
    } catch (err) {
      return Promise.reject(toStoreError(err));
    }
  };

  async function* subscribe({ fromPosition, typePrefixes, signal }: SubscribeOptions): AsyncGenerator<StoredEvent> {
    if (closed) throw closedError();
    const prefixes = typePrefixes ?? [];
    const filter = prefixes.length === 0 ? '' : `AND (${prefixes.map(() => 'substr(type, 1, ?) = ?').join(' OR ')})`;
    const page = db.prepare(`SELECT ${COLUMNS} FROM events WHERE position > ? AND position <= ? ${filter} ORDER BY position LIMIT ?`);
    const filterArgs = prefixes.flatMap((p) => [p.length, p]);
    const release = notifier.open();
    try {
      let position = fromPosition;
      while (!signal?.aborted && !closed) {
        const seen = notifier.seq();
        let rows: Row[];
        let upTo: number;
        try {
          upTo = head();
          rows = page.all(position, upTo, ...filterArgs, PAGE_SIZE) as Row[];
        } catch (err) {
          throw toStoreError(err);
        }
        for (const row of rows) {
          yield toEvent(row);
          if (signal?.aborted) return;
        }
        if (rows.length === PAGE_SIZE) {
          position = rows[rows.length - 1].position;
          await new Promise((r) => setImmediate(r)); // let other work run between pages
        } else {
          position = upTo; // caught up: everything up to the head has been seen
          if (notifier.seq() === seen) await notifier.wait(signal);
        }
      }
    } finally {
      release();
    }
  }

  return {
    appendToStream: (stream, events, { expectedRevision = 'any' } = {}) => {
      if (closing) return Promise.reject(closedError());
      let rows: Pending['rows'];
      try {
        if (typeof stream !== 'string' || stream === '') throw new TypeError('stream name must be a non-empty string');
        if (!Array.isArray(events) || events.length === 0) throw new TypeError('appendToStream needs at least one event');
        rows = events.map(serialize);
      } catch (err) {
        return Promise.reject(err);
      }
      return new Promise<AppendResult>((resolve, reject) => {
        queue.push({ stream, expected: expectedRevision, rows, resolve, reject });
        schedule();
      });
    },

    readStream: (stream, { fromRevision = 0, maxCount = -1 } = {}) =>
      guard(() => (q.readStream.all(stream, fromRevision, maxCount) as Row[]).map(toEvent)),

    readAll: ({ fromPosition = 0, maxCount = -1 } = {}) => guard(() => (q.readAll.all(fromPosition, maxCount) as Row[]).map(toEvent)),

    subscribeToAll: (o) => subscribe(o),

    headPosition: () => guard(head),

    ping: () =>
      guard(() => {
        head();
      }),

    close: () =>
      (closing ??= (async () => {
        if (queue.length > 0) await new Promise<void>((r) => (drained = r));
        closed = true;
        notifier.close();
        db.close();
      })()),
  };
};
