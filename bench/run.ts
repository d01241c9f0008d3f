// `npm run bench`: event store throughput, API throughput/latency with projection lag, replay speed.
// Numbers depend on the machine and on what else runs; they are reported, never asserted.
import { rmSync } from 'node:fs';
import { benchEventStore } from './eventstore.ts';
import { benchApi, formatApi } from './api.ts';
import { benchReplay } from './replay.ts';

console.log(`node ${process.version}, ${(await import('node:os')).cpus().length} cores\n`);

for (const r of await benchEventStore(2)) {
  console.log(`event store (SQLite, durable): ${r.appenders} concurrent appenders: ${r.appendsPerSec} appends/s, ${r.commitsPerSec} commits/s (${r.appendsPerCommit} appends per commit), p99 ${r.p99Ms} ms`);
}

const api = await benchApi({ total: Number(process.env.BENCH_FLOWS ?? 2000), concurrency: 32, keepData: true });
console.log('\n' + formatApi(api));

try {
  const r = await benchReplay(api.dataDir, api.masterKey);
  console.log(`\nreplay: ${r.events} events through every read model in ${r.seconds.toFixed(2)} s = ${r.eventsPerSecond} events/s`);
} finally {
  rmSync(api.dataDir, { recursive: true, force: true });
}
