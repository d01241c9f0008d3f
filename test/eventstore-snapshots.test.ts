// The server's store shares one read transaction per event-loop turn (src/eventstore/sqlite/snapshot.ts).
// These tests open that snapshot at the worst moment: after an append was handed to the writer
// thread and before its commit is reported, holding the thread until the writer has committed.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { DatabaseSync } from 'node:sqlite';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { StoredEvent } from '../src/eventstore/port.ts';
import { createSqliteEventStore } from '../src/eventstore/sqlite/index.ts';
import { runEventStoreContract } from './eventstore-contract.ts';

const dirs: string[] = [];
const tempPath = async () => {
  const d = await mkdtemp(join(tmpdir(), 'securekey-snap-'));
  dirs.push(d);
  return join(d, 'events.db');
};
after(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

runEventStoreContract('sqlite with read snapshots', async () => {
  const store = createSqliteEventStore({ path: await tempPath(), readSnapshots: true });
  return { store, cleanup: () => store.close() };
});

/** Runs `read` after the appends queued so far were handed to the writer (the store flushes in
 * setImmediate; this one is queued after it), then holds the thread until the writer has
 * committed `stream` (seen through a connection of its own), so that the commit's report waits. */
const readWhileTheWriterCommits = (path: string, stream: string, read: () => unknown) =>
  new Promise<void>((resolve, reject) =>
    setImmediate(() => {
      read(); // opens this turn's snapshot, as of before the commit
      const probe = new DatabaseSync(path, { readOnly: true });
      try {
        const count = probe.prepare('SELECT count(*) AS n FROM events WHERE stream = ?');
        for (const until = Date.now() + 30_000; (count.get(stream) as { n: number }).n === 0; ) {
          if (Date.now() > until) throw new Error('the writer did not commit within 30 s');
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
        }
        resolve();
      } catch (err) {
        reject(err);
      } finally {
        probe.close();
      }
    }),
  );

test('an append is acknowledged only after the read snapshot that began before its commit ended: the caller reads its own write', async () => {
  const path = await tempPath();
  const store = createSqliteEventStore({ path, readSnapshots: true });
  try {
    await store.appendToStream('other', [{ type: 'Other', data: {} }]); // the writer thread is up
    const appended = store.appendToStream('mine', [{ type: 'Mine', data: {} }]);
    await readWhileTheWriterCommits(path, 'mine', () => void store.readStream('other'));
    const { position } = await appended;
    const events = await store.readStream('mine');
    assert.deepEqual(events.map((e) => e.type), ['Mine']);
    assert.equal(await store.headPosition(), position);
  } finally {
    await store.close();
  }
});

test('a commit wakes a live subscriber past the read snapshot that was open when it landed', async () => {
  const path = await tempPath();
  const writer = createSqliteEventStore({ path });
  const reader = createSqliteEventStore({ path, pollMs: 600_000, readSnapshots: true }); // only the commit notice can wake it
  try {
    await writer.appendToStream('s', [{ type: 'Before', data: {} }]);
    const ac = new AbortController();
    const it = reader.subscribeToAll({ fromPosition: 1, signal: ac.signal })[Symbol.asyncIterator]();
    const next = it.next();
    await new Promise((r) => setTimeout(r, 100)); // the subscriber waits live
    const appended = writer.appendToStream('late', [{ type: 'After', data: {} }]);
    await readWhileTheWriterCommits(path, 'late', () => void reader.readStream('s'));
    await appended;
    const got = await Promise.race([next, new Promise((r) => setTimeout(() => r('timeout'), 5000))]);
    assert.notEqual(got, 'timeout', 'the subscriber read inside the old snapshot and went back to sleep');
    assert.equal((got as IteratorResult<StoredEvent>).value?.type, 'After');
    ac.abort();
  } finally {
    await writer.close();
    await reader.close();
  }
});

test("a read snapshot lasts one turn: a commit made meanwhile by another connection is seen by the next turn's reads", async () => {
  const path = await tempPath();
  const reader = createSqliteEventStore({ path, readSnapshots: true });
  // Another connection that commits synchronously, in the middle of the reader's turn.
  const other = new DatabaseSync(path);
  try {
    await reader.headPosition(); // the file and its table exist
    await new Promise((r) => setImmediate(r));
    await reader.headPosition(); // this turn's snapshot begins
    other.prepare('INSERT INTO events (stream, revision, id, type, data, metadata, recorded_at) VALUES (?, 0, ?, ?, ?, ?, ?)').run('s', 'e-1', 'A', '{}', '{}', Date.now());
    // Still the turn whose snapshot began before the commit: it reads as a moment earlier would.
    assert.equal((await reader.readStream('s')).length, 0);
    await new Promise((r) => setImmediate(r));
    assert.equal((await reader.readStream('s')).length, 1);
  } finally {
    other.close();
    await reader.close();
  }
});
