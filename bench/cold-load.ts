// `node bench/cold-load.ts [LENGTHS]` (default 11,101,1001,10001): one cold load of a TOTP
// enrollment's stream by its length — its events read from SQLite, their personal fields opened,
// folded — from the log, and from a snapshot of the stream (src/stream-snapshots) where this commit
// has them. Cold: each load goes through a store object of its own, so the aggregate cache (kept
// per store) has nothing. The streams are seeded as bench/load/seed.ts seeds long histories.
// Reported, never asserted; compare commits with the same script, alternating (bench/README.md).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config.ts';
import { totpDecider } from '../src/domain/totp/decider.ts';
import { loadState } from '../src/eventstore/handle-command.ts';
import { openStore } from '../src/eventstore/open.ts';
import type { EventStore } from '../src/eventstore/port.ts';
import { openPrivacy } from '../src/privacy/open.ts';
import { enrolledTotpUser } from './load/seed.ts';

const lengths = (process.argv[2] ?? '11,101,1001,10001').split(',').map(Number);
const dir = mkdtempSync(join(tmpdir(), 'securekey-cold-load-'));
const config = loadConfig({ SECUREKEY_DATA_DIR: dir, SECUREKEY_MASTER_KEY: randomBytes(32).toString('base64') });
const store = await openStore(config);
const privacy = await openPrivacy(config, store, Date.now);

/** The commit's snapshots, if it has them (the script also runs on commits from before). */
type Snapshots = { flush: () => void; close: () => void };
let snapshots: Snapshots | undefined;
try {
  const { openStreamSnapshots } = await import('../src/stream-snapshots/sqlite.ts');
  const { createSnapshotSeal } = await import('../src/privacy/snapshot-seal.ts');
  snapshots = openStreamSnapshots({ path: join(dir, 'snapshots.db'), seal: createSnapshotSeal(privacy.vault) });
} catch {
  // no snapshots in this commit
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Median ms of `reps` cold loads, and the events each one read. */
const coldLoads = async (stream: string, reps: number, withSnapshots?: Snapshots) => {
  const ms: number[] = [];
  let read = 0;
  for (let i = 0; i < reps; i++) {
    read = 0;
    const cold: EventStore = { ...store, readStream: async (...a) => ((r) => ((read += r.length), r))(await store.readStream(...a)) };
    const t = performance.now();
    // The fifth argument (snapshots) is ignored by a commit without them.
    await (loadState as (...a: unknown[]) => Promise<unknown>)(cold, stream, totpDecider, privacy.personal, withSnapshots);
    ms.push(performance.now() - t);
  }
  return { ms: median(ms), read };
};

const caller = { tenantId: 'tn_coldload', keyId: 'key_coldload', requestId: 'cold-load', clientIp: '127.0.0.1' };
console.log(`node ${process.version}; load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}; snapshots: ${snapshots ? 'yes' : 'not in this commit'}`);
console.log('events | from the log: ms (events read) | from a snapshot: ms (events read)');
try {
  for (const [i, n] of lengths.entries()) {
    const { stream, events } = enrolledTotpUser(privacy.keyring, privacy.personal, caller, { userId: `cold-${i}`, userKey: `uk_cold_${i}` }, 'JBSWY3DPEHPK3PXP', Date.now(), Math.max(0, n - 2));
    await store.appendToStream(stream, events, { expectedRevision: 'no_stream' });
    const reps = n > 5000 ? 15 : 60;
    await coldLoads(stream, 3); // warm the JIT and the page cache
    const log = await coldLoads(stream, reps);
    let fromSnapshot = '-';
    if (snapshots) {
      await coldLoads(stream, 1, snapshots); // folds it all and leaves a snapshot (from 100 events)
      snapshots.flush();
      const s = await coldLoads(stream, reps, snapshots);
      fromSnapshot = `${s.ms.toFixed(3)} (${s.read})`;
    }
    console.log(`${String(events.length).padStart(6)} | ${log.ms.toFixed(3)} (${log.read}) | ${fromSnapshot}`);
  }
} finally {
  snapshots?.close();
  privacy.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}
