// Durable append throughput of the SQLite event store with 1, 10 and 100 concurrent appenders
// (each on its own stream, exact expected revision), showing what group commit buys.
// Run: node bench/eventstore.ts [seconds per run, default 2]
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSqliteEventStore } from '../src/eventstore/sqlite/index.ts';

export type EventStoreBenchResult = { appenders: number; appendsPerSec: number; commitsPerSec: number; appendsPerCommit: number; p99Ms: number };

const runOnce = async (appenders: number, seconds: number): Promise<EventStoreBenchResult> => {
  const dir = await mkdtemp(join(tmpdir(), 'securekey-bench-'));
  let commits = 0;
  const store = createSqliteEventStore({ path: join(dir, 'events.db'), durable: true, onCommit: () => commits++ });
  const latencies: number[] = [];
  const until = performance.now() + seconds * 1000;
  const appender = async (a: number) => {
    for (let rev = 0; performance.now() < until; rev++) {
      const t = performance.now();
      await store.appendToStream(`bench-${a}`, [{ type: 'Benched', data: { a, rev, pad: 'x'.repeat(100) } }], { expectedRevision: rev === 0 ? 'no_stream' : rev - 1 });
      latencies.push(performance.now() - t);
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: appenders }, (_, a) => appender(a)));
  const elapsed = (performance.now() - started) / 1000;
  await store.close();
  await rm(dir, { recursive: true, force: true });
  latencies.sort((x, y) => x - y);
  return {
    appenders,
    appendsPerSec: Math.round(latencies.length / elapsed),
    commitsPerSec: Math.round(commits / elapsed),
    appendsPerCommit: Math.round((latencies.length / Math.max(commits, 1)) * 10) / 10,
    p99Ms: Math.round(latencies[Math.floor(latencies.length * 0.99)] * 100) / 100,
  };
};

export const benchEventStore = async (seconds = 2): Promise<EventStoreBenchResult[]> => {
  const results: EventStoreBenchResult[] = [];
  for (const appenders of [1, 10, 100]) results.push(await runOnce(appenders, seconds));
  return results;
};

if (import.meta.main) {
  const results = await benchEventStore(Number(process.argv[2] ?? 2));
  console.log('sqlite event store, durable (synchronous=FULL), one event per append');
  console.table(results);
}
