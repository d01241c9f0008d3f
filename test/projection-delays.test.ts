// The commit → read model delay the read-models thread reports (securekey_projection_delay_seconds)
// starts when the event's commit returned, as the writer announced it on the commit channel
// (src/eventstore/sqlite/commits.ts); only for an event whose commit it did not hear of (another
// process's) does it fall back to recorded_at, which the writer stamps before the commit.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { BroadcastChannel } from 'node:worker_threads';
import { after, test } from 'node:test';
import { nodeProjections } from '../projections/index.ts';
import { openReadModelDb } from '../projections/sql.ts';
import { startProjectionThread } from '../projections/thread/index.ts';
import { createKeyring } from '../src/crypto/keyring.ts';
import { commitChannelOf, type CommitNotice } from '../src/eventstore/sqlite/commits.ts';
import { createSqliteEventStore } from '../src/eventstore/sqlite/index.ts';
import { until } from './helpers/until.ts';

const dirs: string[] = [];
after(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

test('the read models report each delay from its commit as announced, and from recorded_at only for a commit they did not hear of', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'securekey-delays-'));
  dirs.push(dir);
  const eventsPath = join(dir, 'events.db');
  const store = createSqliteEventStore({ path: eventsPath }); // creates the log
  const root = randomBytes(32);
  const readDb = openReadModelDb(join(dir, 'readmodels.db'));
  const delays: number[] = [];
  const thread = startProjectionThread({
    eventsPath,
    root,
    pollMs: 20,
    runners: [{ id: 'node', dbPath: join(dir, 'readmodels.db'), set: 'node', db: readDb, projections: nodeProjections(createKeyring(root)), relayed: [], delays: true }],
    headPosition: () => store.headPosition(),
    onDelays: (ms) => delays.push(...ms),
  });
  // Events recorded a minute before their commit: as another writer would insert them.
  const other = new DatabaseSync(eventsPath);
  const recordedAt = Date.now() - 60_000;
  const insert = (n: number) =>
    Number(other.prepare("INSERT INTO events (stream, revision, id, type, data, metadata, recorded_at) VALUES (?, 0, ?, 'Seen', '{}', '{}', ?)").run(`s-${n}`, randomUUID(), recordedAt).lastInsertRowid);
  const channel = new BroadcastChannel(commitChannelOf(eventsPath));
  try {
    await thread.runners.node.start();
    // Announced before the row is there, so the thread hears of the commit before it can read it.
    const head = await store.headPosition();
    channel.postMessage({ writer: 'another-store', first: head + 1, last: head + 1, at: Date.now() } satisfies CommitNotice);
    const announced = insert(1);
    assert.equal(announced, head + 1);
    await until('the announced event applied', () => delays.length >= 1);
    assert.equal(delays.length, 1);
    assert.ok(delays[0]! < 30_000, `measured from the announced commit, not from recorded_at a minute earlier: ${delays[0]} ms`);

    insert(2); // no notice: another process's commit
    await until('the unannounced event applied', () => delays.length >= 2);
    assert.ok(delays[1]! >= 60_000, `measured from recorded_at: ${delays[1]} ms`);
  } finally {
    channel.close();
    other.close();
    await thread.runners.node.stop();
    readDb.close();
    await store.close();
  }
});
