// The checkpoint thread (src/sqlite/checkpoints.ts): the server's writing connections defer their
// WAL checkpoints to it, so that no group commit or read-model batch runs one. The WAL must still
// stay bounded under continuous commits, be emptied once they stop, and lose nothing.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, test } from 'node:test';
import { createSqliteEventStore } from '../src/eventstore/sqlite/index.ts';
import { type Checkpointed, startCheckpointer } from '../src/sqlite/checkpoints.ts';
import { until } from './helpers/until.ts';

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'securekey-checkpoints-'));
  dirs.push(d);
  return d;
};
const walSize = (path: string) => (existsSync(`${path}-wal`) ? statSync(`${path}-wal`).size : 0);

test('under continuous appends the WAL stays bounded and is checkpointed off the writer; once they stop it is emptied, and every event is in the database file', async () => {
  const path = join(tempDir(), 'events.db');
  const PAGE = 4096;
  const backstop = 400; // pages: the writer's own checkpoint only past this (the server: 10,000)
  const store = createSqliteEventStore({ path, walAutocheckpoint: backstop });
  const seen: Checkpointed[] = [];
  // The thread's threshold (the server: 1000 pages) well under the backstop.
  const checkpointer = startCheckpointer({ files: [{ path, synchronous: 'FULL' }], pages: 50, everyMs: 5, idleMs: 300, onCheckpoint: (c) => seen.push(c) });
  try {
    // ~6 MB of events, 4 times the backstop, 30 times the thread's threshold, in commits of ten appends.
    const blob = 'x'.repeat(4000);
    let largest = 0;
    let appended = 0;
    for (let round = 0; round < 150; round++) {
      await Promise.all(Array.from({ length: 10 }, (_, i) => store.appendToStream(`s-${round}-${i}`, [{ type: 'Filled', data: { blob } }])));
      appended += 10;
      largest = Math.max(largest, walSize(path));
    }
    // Bounded whatever the thread's speed: at most the backstop and a few commits of frames.
    assert.ok(largest < 2 * backstop * (PAGE + 24) + 512 * 1024, `the WAL reached ${largest} bytes`);
    assert.ok(seen.some((c) => c.mode === 'PASSIVE' && c.frames > 0), 'the thread checkpointed while the appends went on');

    // Quiet: the thread truncates the WAL, and the database file alone holds every event.
    await until('the WAL is emptied once the appends stop', () => walSize(path) === 0 && seen.some((c) => c.mode === 'TRUNCATE'), 30_000);
    const reader = new DatabaseSync(path, { readOnly: true });
    try {
      assert.equal((reader.prepare('SELECT count(*) AS n FROM events').get() as { n: number }).n, appended);
    } finally {
      reader.close();
    }
  } finally {
    await store.close();
    await checkpointer.close();
  }
});

test('the checkpoint thread waits for a file that does not exist yet, never creates it, and takes it up once its owner has', async () => {
  const path = join(tempDir(), 'later.db');
  const seen: Checkpointed[] = [];
  const checkpointer = startCheckpointer({ files: [{ path, synchronous: 'NORMAL' }], everyMs: 10, idleMs: 50, onCheckpoint: (c) => seen.push(c) });
  try {
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(existsSync(path), false);
    const db = new DatabaseSync(path);
    try {
      db.exec('PRAGMA journal_mode = WAL; CREATE TABLE t (x); INSERT INTO t VALUES (1)');
      await until('the new file is checkpointed and its WAL emptied', () => seen.some((c) => c.mode === 'TRUNCATE') && walSize(path) === 0);
      assert.deepEqual(db.prepare('SELECT x FROM t').all().map((r) => r.x), [1]);
    } finally {
      db.close();
    }
  } finally {
    await checkpointer.close();
  }
});
