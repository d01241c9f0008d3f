// Durable appends against the disk's own ceiling, in one process and one run: a raw node:sqlite
// loop inserting batches of `concurrency` rows per transaction (what group commit can at best
// do: one fsync per batch), and the SecureKey SQLite event store with `concurrency` appenders,
// each appending one event and waiting for its acknowledgement before the next. Both on the same
// disk with synchronous=FULL, in alternating one-second slices so that both see the same disk
// weather. Prints one JSON line. Run by main.ts (scenario `append`); also alone:
//   node bench/load/store.ts '{"seconds":10,"concurrency":32}'
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { createSqliteEventStore } from '../../src/eventstore/sqlite/index.ts';
import { percentile } from './drivers.ts';

export type StoreBenchResult = {
  concurrency: number;
  seconds: number;
  /** Events per second the raw loop committed (batches of `concurrency`). */
  rawEventsPerSec: number;
  rawCommitsPerSec: number;
  /** Appends (one event each) the store acknowledged per second. */
  storeAppendsPerSec: number;
  storeCommitsPerSec: number;
  storeP50Ms: number;
  storeP99Ms: number;
  /** store / raw: the goal is ≥ 0.75. */
  ratio: number;
};

// An event of the size the API appends (an OTP attempt with its chain metadata).
const data = JSON.stringify({ otpId: 'x'.repeat(22), candidateHash: 'h'.repeat(43), at: Date.now(), attemptsRemaining: 19 });
const metadata = JSON.stringify({ tenantId: 'tn_' + 'x'.repeat(22), requestId: 'r'.repeat(22), clientIp: '127.0.0.1', keyId: 'key_' + 'x'.repeat(22), prevHash: 'p'.repeat(64), hash: 'q'.repeat(64) });

const rawSlice = (db: DatabaseSync, insert: ReturnType<DatabaseSync['prepare']>, state: { n: number }, concurrency: number, ms: number) => {
  let commits = 0;
  const until = performance.now() + ms;
  while (performance.now() < until) {
    db.exec('BEGIN IMMEDIATE');
    for (let i = 0; i < concurrency; i++) {
      state.n++;
      insert.run(`raw-${state.n % 1000}`, state.n, crypto.randomUUID(), 'OtpAttemptFailed', data, metadata, Date.now());
    }
    db.exec('COMMIT');
    commits++;
  }
  return { events: commits * concurrency, commits };
};

const storeSlice = async (store: ReturnType<typeof createSqliteEventStore>, revisions: number[], latencies: number[], ms: number) => {
  const until = performance.now() + ms;
  let appends = 0;
  await Promise.all(
    revisions.map(async (_, a) => {
      while (performance.now() < until) {
        const t = performance.now();
        const rev = revisions[a]!;
        await store.appendToStream(`bench-${a}`, [{ type: 'OtpAttemptFailed', data: JSON.parse(data), metadata: JSON.parse(metadata) }], { expectedRevision: rev === -1 ? 'no_stream' : rev });
        revisions[a] = rev + 1;
        latencies.push(performance.now() - t);
        appends++;
      }
    }),
  );
  return appends;
};

export const benchStore = async (opts: { seconds: number; concurrency: number; sliceMs?: number }): Promise<StoreBenchResult> => {
  const dir = mkdtempSync(join(tmpdir(), 'securekey-bench-store-'));
  const sliceMs = opts.sliceMs ?? 1000;
  const db = new DatabaseSync(join(dir, 'raw.db'));
  db.exec(`PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;
    CREATE TABLE events (position INTEGER PRIMARY KEY AUTOINCREMENT, stream TEXT NOT NULL, revision INTEGER NOT NULL, id TEXT NOT NULL,
      type TEXT NOT NULL, data TEXT NOT NULL, metadata TEXT NOT NULL, recorded_at INTEGER NOT NULL, UNIQUE (stream, revision));`);
  const insert = db.prepare('INSERT INTO events (stream, revision, id, type, data, metadata, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)');
  let storeCommits = 0;
  const store = createSqliteEventStore({ path: join(dir, 'events.db'), durable: true, onCommit: () => storeCommits++ });
  const raw = { events: 0, commits: 0 };
  const latencies: number[] = [];
  const revisions = Array.from({ length: opts.concurrency }, () => -1);
  let storeAppends = 0;
  const state = { n: 0 };
  try {
    await storeSlice(store, revisions, [], 200); // the writer thread started, statements compiled
    storeCommits = 0;
    for (let t = 0; t < opts.seconds * 1000; t += sliceMs) {
      const r = rawSlice(db, insert, state, opts.concurrency, sliceMs);
      raw.events += r.events;
      raw.commits += r.commits;
      storeAppends += await storeSlice(store, revisions, latencies, sliceMs);
    }
  } finally {
    await store.close();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
  latencies.sort((x, y) => x - y);
  const rawEventsPerSec = raw.events / opts.seconds;
  const storeAppendsPerSec = storeAppends / opts.seconds;
  return {
    concurrency: opts.concurrency,
    seconds: opts.seconds,
    rawEventsPerSec: Math.round(rawEventsPerSec),
    rawCommitsPerSec: Math.round(raw.commits / opts.seconds),
    storeAppendsPerSec: Math.round(storeAppendsPerSec),
    storeCommitsPerSec: Math.round(storeCommits / opts.seconds),
    storeP50Ms: percentile(latencies, 50),
    storeP99Ms: percentile(latencies, 99),
    ratio: storeAppendsPerSec / rawEventsPerSec,
  };
};

if (import.meta.main) {
  const o = JSON.parse(process.argv[2] ?? '{}') as { seconds?: number; concurrency?: number };
  console.log(JSON.stringify(await benchStore({ seconds: o.seconds ?? 10, concurrency: o.concurrency ?? 32 })));
}
