// The embedded event store: one SQLite file (node:sqlite), WAL, shareable by several processes.
// Appends are queued and written by group commit (commit.ts): everything queued in one turn of
// the event loop goes to the writer in one batch, written in ONE transaction (one fsync). The
// writer is a worker thread with its own connection (writer.ts), so the main thread never waits
// on the disk; reads and subscriptions use this thread's connection (WAL: readers never block
// the writer). An append is acknowledged only after its commit is durable.
import { randomUUID } from 'node:crypto';
import type { SQLInputValue, StatementSync } from 'node:sqlite';
import {
  type AppendResult,
  type EventStore,
  type NewEvent,
  type StoredEvent,
  type SubscribeOptions,
  StoreUnavailableError,
  WrongExpectedRevisionError,
} from '../port.ts';
import { checkEventType } from '../event-type.ts';
import type { AppendRequest } from './commit.ts';
import { toStoreError } from './errors.ts';
import { createNotifier } from './notifier.ts';
import { listenForCommits } from './commits.ts';
import { createReadSnapshot } from './snapshot.ts';
import { COLUMNS, openEventsDb } from './schema.ts';
import { type WriteResult, createInlineWriter, createWorkerWriter, writeError } from './writer.ts';

export type SqliteEventStoreOptions = {
  /** The database file; its directory is created when missing. */
  path: string;
  /** synchronous=FULL: an acknowledged append survives a crash or power loss. Default true. */
  durable?: boolean;
  /** How long a write waits for another process holding the file's write lock. Default 5000. */
  busyTimeoutMs?: number;
  /** How often live subscriptions check for commits made by other processes. Default 50. */
  pollMs?: number;
  /** 'worker' (default for a file): commits on a worker thread; 'inline': on the caller's thread
   * (always for ':memory:'). */
  writer?: 'worker' | 'inline';
  /** Reads of one event-loop turn share one read transaction (snapshot.ts): for the server's
   * request path, where a commit lands between almost any two reads. Not for a reader that works
   * long on what it read (a rebuild): its snapshot would hold back the WAL's checkpoints. Default
   * false; always false with the inline writer (that connection also writes). */
  readSnapshots?: boolean;
  /** The writer thread's wal_autocheckpoint (pages; SQLite's default 1000): the server raises it
   * to a backstop when its checkpoint thread checkpoints the file (src/sqlite/checkpoints.ts). */
  walAutocheckpoint?: number;
  /** Called after each group commit (for metrics). */
  onCommit?: (info: { appends: number; events: number; ms: number }) => void;
};

/** A row of COLUMNS, read as an array (setReturnArrays): no object with eight named properties
 * made per row only to be copied into the event (a rebuild reads the whole log). */
type Row = [position: number, stream: string, revision: number, id: string, type: string, data: string, metadata: string, recordedAt: number];

type Pending = AppendRequest & { resolve: (r: AppendResult) => void; reject: (e: unknown) => void };

const MAX_APPENDS_PER_COMMIT = 1000;
const PAGE_SIZE = 500;

const toEvent = (r: Row): StoredEvent => ({
  id: r[3],
  type: r[4],
  data: JSON.parse(r[5]),
  metadata: JSON.parse(r[6]),
  streamName: r[1],
  revision: r[2],
  position: r[0],
  recordedAt: new Date(r[7]),
});

/** A query over COLUMNS whose rows come as arrays (Row). */
const rowsQuery = (st: StatementSync) => {
  st.setReturnArrays(true);
  // node:sqlite's types do not follow setReturnArrays: all() is typed as returning objects.
  return (...params: SQLInputValue[]) => st.all(...params) as unknown as Row[];
};

const serialize = (e: NewEvent) => {
  checkEventType(e?.type);
  if (e.data === null || typeof e.data !== 'object' || Array.isArray(e.data)) throw new TypeError(`event ${e.type}: data must be an object`);
  return { id: e.id ?? randomUUID(), type: e.type, data: JSON.stringify(e.data), metadata: JSON.stringify(e.metadata ?? {}) };
};

export const createSqliteEventStore = (opts: SqliteEventStoreOptions): EventStore => {
  const durable = opts.durable ?? true;
  const busyTimeoutMs = opts.busyTimeoutMs ?? 5000;
  const db = openEventsDb(opts.path, durable, busyTimeoutMs);
  const inline = opts.path === ':memory:' || opts.writer === 'inline';
  const snapshot = createReadSnapshot(db, !inline && opts.readSnapshots === true);
  const reading = snapshot.read;
  const notifier = createNotifier(db, opts.pollMs ?? 50, snapshot.end);
  const commits = listenForCommits(opts.path, () => {
    snapshot.end();
    notifier.notify();
  });
  const onCommit = (info: { appends: number; events: number; ms: number }) => {
    snapshot.end();
    if (info.events > 0) notifier.notify();
    try {
      opts.onCommit?.(info);
    } catch {
      // a metrics hook must not break the writer
    }
  };
  const writer = inline
      ? createInlineWriter(db, onCommit)
      : createWorkerWriter({ path: opts.path, durable, busyTimeoutMs, walAutocheckpoint: opts.walAutocheckpoint, maxAppendsPerCommit: MAX_APPENDS_PER_COMMIT, wake: { channel: commits.channel, writerId: commits.writerId }, onCommit });

  const q = {
    readStream: rowsQuery(db.prepare(`SELECT ${COLUMNS} FROM events WHERE stream = ? AND revision >= ? ORDER BY revision LIMIT ?`)),
    readAll: rowsQuery(db.prepare(`SELECT ${COLUMNS} FROM events WHERE position > ? ORDER BY position LIMIT ?`)),
    head: db.prepare('SELECT COALESCE(MAX(position), 0) AS p FROM events'),
  };
  const head = () => reading(() => (q.head.get() as { p: number }).p);

  const queue: Pending[] = [];
  let scheduled = false;
  let writing = 0;
  let closing: Promise<void> | undefined;
  let closed = false;
  let drained: (() => void) | undefined;

  const closedError = () => new StoreUnavailableError('event store is closed');

  const settle = (batch: Pending[], r: WriteResult) => {
    snapshot.end(); // what the caller reads next includes what it wrote
    if ('failed' in r) {
      const error = writeError(r.failed);
      for (const p of batch) p.reject(error);
      return;
    }
    batch.forEach((p, i) => {
      const o = r.outcomes[i];
      if (o.ok) p.resolve({ nextExpectedRevision: o.nextExpectedRevision, position: o.position });
      else if ('conflict' in o) p.reject(new WrongExpectedRevisionError(o.conflict.stream, o.conflict.expected, o.conflict.actual));
      else p.reject(writeError(o.error));
    });
  };

  // Hands what was queued during this turn to the writer, in batches of at most one commit.
  const flush = () => {
    scheduled = false;
    while (queue.length > 0) {
      const batch = queue.splice(0, MAX_APPENDS_PER_COMMIT);
      writing++;
      writer
        .write(batch.map(({ stream, expected, rows }) => ({ stream, expected, rows })))
        .then((r) => settle(batch, r))
        .finally(() => {
          writing--;
          if (writing === 0 && queue.length === 0) drained?.();
        });
    }
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
    const page = rowsQuery(db.prepare(`SELECT ${COLUMNS} FROM events WHERE position > ? AND position <= ? ${filter} ORDER BY position LIMIT ?`));
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
          rows = reading(() => page(position, upTo, ...filterArgs, PAGE_SIZE));
        } catch (err) {
          throw toStoreError(err);
        }
        for (const row of rows) {
          yield toEvent(row);
          if (signal?.aborted) return;
        }
        if (rows.length === PAGE_SIZE) {
          position = rows[rows.length - 1][0];
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
      let rows: AppendRequest['rows'];
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
      guard(() => reading(() => q.readStream(stream, fromRevision, maxCount)).map(toEvent)),

    readAll: ({ fromPosition = 0, maxCount = -1 } = {}) => guard(() => reading(() => q.readAll(fromPosition, maxCount)).map(toEvent)),

    subscribeToAll: (o) => subscribe(o),

    headPosition: () => guard(head),

    ping: () =>
      guard(() => {
        head();
      }),

    close: () =>
      (closing ??= (async () => {
        if (queue.length > 0 || writing > 0) await new Promise<void>((r) => (drained = r));
        await writer.close();
        closed = true;
        snapshot.end();
        notifier.close();
        commits.close();
        db.close();
      })()),
  };
};
