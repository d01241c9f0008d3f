// Runners of one thread started together read each page of their catch-up once
// (projections/shared-pages.ts): the node's read models and the webhook outbox at a server's start.
// Real SQLite files; the store is only counted, never faked.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DatabaseSync } from 'node:sqlite';
import { type TestContext, test } from 'node:test';
import { createProjectionRunner, type Projection } from '../projections/runtime.ts';
import { sharePages } from '../projections/shared-pages.ts';
import { openReadModelDb } from '../projections/sql.ts';
import type { EventStore } from '../src/eventstore/port.ts';
import { createSqliteEventStore } from '../src/eventstore/sqlite/index.ts';

const EVENTS = 1000;

/** A read model that keeps the position of every event it is given. */
const positions = (name: string): Projection => ({
  name,
  canHandle: ['Tick'],
  init: (db) => db.exec('CREATE TABLE IF NOT EXISTS seen (position INTEGER PRIMARY KEY)'),
  evolve: (db, e) => void db.prepare('INSERT INTO seen (position) VALUES (?)').run(e.position),
});
const seen = (db: DatabaseSync) => (db.prepare('SELECT count(*) AS n, max(position) AS last FROM seen').get() as { n: number; last: number | null });

/** A store of EVENTS events whose readAll calls are counted. */
const setup = async (t: TestContext) => {
  const dir = await mkdtemp(join(tmpdir(), 'securekey-shared-pages-'));
  const store = createSqliteEventStore({ path: join(dir, 'events.db'), durable: false });
  for (let i = 0; i < EVENTS; i += 100) await store.appendToStream(`tick-${i}`, Array.from({ length: 100 }, (_, j) => ({ type: 'Tick', data: { n: i + j } })));
  const reads = { count: 0 };
  const counted: EventStore = { ...store, readAll: (o) => (reads.count++, store.readAll(o)) };
  const dbs: DatabaseSync[] = [];
  const open = (name: string) => {
    const db = openReadModelDb(join(dir, `${name}.db`));
    dbs.push(db);
    return db;
  };
  t.after(async () => {
    for (const db of dbs) db.close();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });
  return { store, counted, reads, open };
};

test('two runners that catch up together from the start read each page of the log once, and each applies all of it', async (t) => {
  const w = await setup(t);
  const log = sharePages(w.counted, { readers: 2 });
  const runners = ['node', 'shared'].map((name) => createProjectionRunner({ store: log, db: w.open(name), projections: [positions(name)], bulk: { minEvents: 0, batchSize: 100 } }));
  t.after(() => Promise.all(runners.map((r) => r.stop())));
  await Promise.all(runners.map((r) => r.start()));
  for (const r of runners) assert.deepEqual(Object.values(r.checkpoints()), [EVENTS]);
  // Ten full pages, then the short one at the head, which each reads itself (it may still grow).
  assert.ok(w.reads.count <= 10 + 2 + 2, `${w.reads.count} reads of the store for 10 pages (each read twice: 22)`);
  for (const name of ['node', 'shared']) assert.deepEqual({ ...seen(w.open(name)) }, { n: EVENTS, last: EVENTS });
});

test('runners at different checkpoints each read their own pages and apply all of them', async (t) => {
  const w = await setup(t);
  const log = sharePages(w.counted, { readers: 2, maxPages: 2 });
  const ahead = createProjectionRunner({ store: log, db: w.open('ahead'), projections: [positions('ahead')], batchSize: 100, bulk: false });
  t.after(() => ahead.stop());
  await ahead.start();
  await ahead.stop();
  for (let i = 0; i < 500; i += 100) await w.store.appendToStream(`late-${i}`, Array.from({ length: 100 }, (_, j) => ({ type: 'Tick', data: { n: i + j } })));
  const behind = createProjectionRunner({ store: log, db: w.open('behind'), projections: [positions('behind')], batchSize: 100, bulk: false });
  t.after(() => behind.stop());
  await Promise.all([ahead.start(), behind.start()]);
  assert.deepEqual(ahead.checkpoints(), { ahead: EVENTS + 500 });
  assert.deepEqual(behind.checkpoints(), { behind: EVENTS + 500 });
  assert.deepEqual({ ...seen(w.open('behind')) }, { n: EVENTS + 500, last: EVENTS + 500 });
});

test('a page shorter than asked for is not kept: the head of the log grows', async (t) => {
  const w = await setup(t);
  const log = sharePages(w.counted, { readers: 2 });
  assert.equal((await log.readAll({ fromPosition: EVENTS - 10, maxCount: 100 })).length, 10);
  await w.store.appendToStream('tick-more', [{ type: 'Tick', data: { n: EVENTS } }]);
  assert.equal((await log.readAll({ fromPosition: EVENTS - 10, maxCount: 100 })).length, 11, 'read again from the store');
  const full = await log.readAll({ fromPosition: 0, maxCount: 100 });
  assert.equal(await log.readAll({ fromPosition: 0, maxCount: 100 }), full, 'a full page: the same events for the second reader');
  assert.notEqual(await log.readAll({ fromPosition: 0, maxCount: 100 }), full, 'and read again for a third (each reader takes it once)');
});

test('at most maxPages pages wait for the other readers: the oldest is dropped first', async (t) => {
  const w = await setup(t);
  const log = sharePages(w.counted, { readers: 2, maxPages: 2 });
  for (const from of [0, 100, 200]) await log.readAll({ fromPosition: from, maxCount: 100 });
  assert.equal(w.reads.count, 3);
  await log.readAll({ fromPosition: 200, maxCount: 100 });
  await log.readAll({ fromPosition: 100, maxCount: 100 });
  assert.equal(w.reads.count, 3, 'the two newest were kept');
  await log.readAll({ fromPosition: 0, maxCount: 100 });
  assert.equal(w.reads.count, 4, 'the oldest was not');
});
