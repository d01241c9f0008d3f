import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DatabaseSync } from 'node:sqlite';
import { after, test } from 'node:test';
import { createProjectionRunner, type Projection, type ProjectionFailure, ProjectionStoppedError } from '../projections/runtime.ts';
import { openReadModelDb } from '../projections/sql.ts';
import { until } from './helpers/until.ts';
import type { EventStore } from '../src/eventstore/port.ts';
import { createSqliteEventStore } from '../src/eventstore/sqlite/index.ts';

const dirs: string[] = [];
after(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

const setup = async () => {
  const dir = await mkdtemp(join(tmpdir(), 'securekey-proj-'));
  dirs.push(dir);
  const store = createSqliteEventStore({ path: join(dir, 'events.db') });
  const open: DatabaseSync[] = [];
  const openDb = () => {
    const db = openReadModelDb(join(dir, 'readmodels.db'));
    open.push(db);
    return db;
  };
  const cleanup = async () => {
    await store.close();
    for (const db of open) if (db.isOpen) db.close();
  };
  return { store, openDb, cleanup };
};

// The example read model: account balances. Deliberately not idempotent on its own (balance +=),
// so applying an event twice would show.
const accounts = (opts: { version?: number; calls?: { n: number } } = {}): Projection => ({
  name: 'accounts',
  version: opts.version,
  canHandle: ['Deposited', 'Withdrawn'],
  init: (db) => db.exec('CREATE TABLE IF NOT EXISTS accounts (id TEXT PRIMARY KEY, balance INTEGER NOT NULL, moves INTEGER NOT NULL)'),
  reset: (db) => db.exec('DROP TABLE IF EXISTS accounts'),
  evolve: (db, e) => {
    if (opts.calls) opts.calls.n++;
    const amount = (e.data.amount as number) * (e.type === 'Withdrawn' ? -1 : 1);
    db.prepare(
      'INSERT INTO accounts (id, balance, moves) VALUES (?, ?, 1) ON CONFLICT (id) DO UPDATE SET balance = balance + excluded.balance, moves = moves + 1',
    ).run(e.streamName, amount);
  },
});

// A second read model: a journal of deposits keyed by position.
const journal: Projection = {
  name: 'journal',
  canHandle: ['Deposited'],
  init: (db) => db.exec('CREATE TABLE IF NOT EXISTS journal (position INTEGER PRIMARY KEY, account TEXT NOT NULL, amount INTEGER NOT NULL)'),
  reset: (db) => db.exec('DELETE FROM journal'),
  evolve: (db, e) => {
    db.prepare('INSERT INTO journal (position, account, amount) VALUES (?, ?, ?)').run(e.position, e.streamName, e.data.amount as number);
  },
};

const deposit = (store: EventStore, account: string, amount: number) => store.appendToStream(`account-${account}`, [{ type: 'Deposited', data: { amount } }]);
const withdraw = (store: EventStore, account: string, amount: number) => store.appendToStream(`account-${account}`, [{ type: 'Withdrawn', data: { amount } }]);
const balances = (db: DatabaseSync) => Object.fromEntries((db.prepare('SELECT id, balance FROM accounts ORDER BY id').all() as { id: string; balance: number }[]).map((r) => [r.id, r.balance]));
const dump = (db: DatabaseSync, table: string) => db.prepare(`SELECT * FROM ${table} ORDER BY 1`).all();

test('the runner catches up with the log, then follows new events live', async () => {
  const { store, openDb, cleanup } = await setup();
  const db = openDb();
  const runner = createProjectionRunner({ store, db, projections: [accounts(), journal] });
  try {
    await deposit(store, 'a', 10);
    await deposit(store, 'b', 5);
    await withdraw(store, 'a', 3);
    await runner.start();
    assert.deepEqual(balances(db), { 'account-a': 7, 'account-b': 5 });
    assert.deepEqual(runner.checkpoints(), { accounts: 3, journal: 3 });
    assert.equal(await runner.caughtUp(), true);

    const r = await deposit(store, 'b', 20);
    await runner.waitFor(r.position);
    assert.deepEqual(balances(db), { 'account-a': 7, 'account-b': 25 });
    assert.equal(dump(db, 'journal').length, 3);
  } finally {
    await runner.stop();
    await cleanup();
  }
});

test('after a restart the runner resumes from its checkpoint without applying an event twice', async () => {
  const { store, openDb, cleanup } = await setup();
  try {
    const first = { n: 0 };
    const db1 = openDb();
    const r1 = createProjectionRunner({ store, db: db1, projections: [accounts({ calls: first }), journal], batchSize: 7 });
    for (let i = 0; i < 20; i++) await deposit(store, `x${i % 3}`, 1);
    await r1.start();
    await r1.stop();
    db1.close();
    assert.equal(first.n, 20);

    for (let i = 0; i < 10; i++) await deposit(store, `x${i % 3}`, 100);
    const second = { n: 0 };
    const db2 = openDb();
    const r2 = createProjectionRunner({ store, db: db2, projections: [accounts({ calls: second }), journal] });
    await r2.start();
    await r2.stop();
    assert.equal(second.n, 10, 'only the new events are applied');
    assert.deepEqual(balances(db2), { 'account-x0': 7 + 400, 'account-x1': 7 + 300, 'account-x2': 6 + 300 });
    const cps = db2.prepare('SELECT name, position FROM projection_checkpoints ORDER BY name').all();
    assert.deepEqual(cps.map((r) => ({ ...r })), [{ name: 'accounts', position: 30 }, { name: 'journal', position: 30 }]);
  } finally {
    await cleanup();
  }
});

test('rebuilding from zero gives identical tables; a version bump rebuilds on start', async () => {
  const { store, openDb, cleanup } = await setup();
  const db = openDb();
  const runner = createProjectionRunner({ store, db, projections: [accounts(), journal], batchSize: 50 });
  try {
    for (let i = 0; i < 300; i++) await (i % 4 === 3 ? withdraw(store, `r${i % 5}`, 2) : deposit(store, `r${i % 5}`, i));
    await runner.start();
    const before = { accounts: dump(db, 'accounts'), journal: dump(db, 'journal') };
    assert.equal(before.journal.length, 225);

    await runner.rebuild();
    assert.deepEqual({ accounts: dump(db, 'accounts'), journal: dump(db, 'journal') }, before);
    // still live after the rebuild
    const r = await deposit(store, 'r0', 1000);
    await runner.waitFor(r.position);
    assert.equal(dump(db, 'journal').length, 226);
    await runner.stop();

    const calls = { n: 0 };
    const bumped = createProjectionRunner({ store, db, projections: [accounts({ version: 2, calls }), journal] });
    await bumped.start();
    await bumped.stop();
    assert.equal(calls.n, 301, 'the bumped projection replayed the whole log');
    assert.equal(balances(db)['account-r0'], (before.accounts as { id: string; balance: number }[]).find((a) => a.id === 'account-r0')!.balance + 1000);
  } finally {
    await runner.stop();
    await cleanup();
  }
});

test('waitFor resolves once the write is projected and rejects after its timeout otherwise', async () => {
  const { store, openDb, cleanup } = await setup();
  const db = openDb();
  const runner = createProjectionRunner({ store, db, projections: [accounts(), journal] });
  try {
    await runner.start();
    const r = await deposit(store, 'w', 42);
    await runner.waitFor(r.position, 2000);
    assert.deepEqual(balances(db), { 'account-w': 42 });
    // An event no projection handles still advances the checkpoints.
    const other = await store.appendToStream('other-1', [{ type: 'Unrelated', data: {} }]);
    await runner.waitFor(other.position, 2000);
    await assert.rejects(runner.waitFor(other.position + 1, 100), /did not reach position/);
    await assert.rejects(runner.waitFor(1, 100, ['nope']), /unknown projections/);
    await runner.stop();
    const late = await deposit(store, 'w', 1);
    await assert.rejects(runner.waitFor(late.position, 100), /did not reach position/);
    assert.deepEqual(await runner.lag(), { accounts: 1, journal: 1 });
    assert.equal(await runner.caughtUp(), false);
  } finally {
    await runner.stop();
    await cleanup();
  }
});

test('a projection that throws stops at that event without blocking the others, and resumes there after a fix', async () => {
  const { store, openDb, cleanup } = await setup();
  const db = openDb();
  const errors: [string, unknown][] = [];
  let broken = true;
  const fragile = accounts();
  const flaky: Projection = {
    ...fragile,
    evolve: (d, e) => {
      fragile.evolve(d, e); // its writes for the failing event must be rolled back
      if (broken && e.data.amount === 13) throw new Error('unlucky');
    },
  };
  const runner = createProjectionRunner({ store, db, projections: [flaky, journal], onError: (name, err) => errors.push([name, err]), retry: { baseMs: 3_600_000 } }); // no retry during this test: the restart below retries
  try {
    await deposit(store, 'f', 1);
    const bad = await deposit(store, 'f', 13);
    await deposit(store, 'f', 2);
    await runner.start();
    const after = await deposit(store, 'f', 3);
    await runner.waitFor(after.position, 2000, ['journal']);
    assert.equal(dump(db, 'journal').length, 4);
    assert.deepEqual(runner.checkpoints(), { accounts: bad.position - 1, journal: after.position });
    assert.deepEqual(balances(db), { 'account-f': 1 });
    assert.deepEqual(errors.map(([n, e]) => [n, (e as Error).message]), [['accounts', 'unlucky']]);
    await assert.rejects(runner.waitFor(after.position, 2000), /projection accounts stopped at position 2: unlucky/);
    assert.equal(await runner.caughtUp(), false);
    await runner.stop();

    broken = false; // the fix ships; a restart retries the failing event, it is never skipped
    await runner.start();
    await runner.waitFor(after.position, 2000);
    assert.deepEqual(balances(db), { 'account-f': 1 + 13 + 2 + 3 });
    assert.equal(dump(db, 'journal').length, 4);
  } finally {
    await runner.stop();
    await cleanup();
  }
});

test('a stopped projection tries its event again with growing delays and rejoins once it goes through, while the others never wait', async () => {
  const { store, openDb, cleanup } = await setup();
  const db = openDb();
  const failures: ProjectionFailure[] = [];
  const recovered: string[] = [];
  let broken = true;
  const fragile = accounts();
  const flaky: Projection = {
    ...fragile,
    evolve: (d, e) => {
      if (broken && e.data.amount === 13) throw new Error('unlucky');
      fragile.evolve(d, e);
    },
  };
  const runner = createProjectionRunner({
    store,
    db,
    projections: [flaky, journal],
    onError: (_name, _err, f) => void (f && failures.push(f)),
    onRecovered: (name) => recovered.push(name),
    retry: { baseMs: 20, maxMs: 80 },
  });
  try {
    await runner.start();
    const bad = await deposit(store, 'g', 13);
    const later = await deposit(store, 'g', 2);
    await runner.waitFor(later.position, 5000, ['journal']); // the other projection goes on
    await until('three failed tries', () => failures.length >= 3);
    assert.deepEqual(failures.slice(0, 3).map((f) => [f.position, f.attempts]), [[bad.position, 1], [bad.position, 2], [bad.position, 3]]);
    const waits = failures.slice(0, 3).map((f) => f.retryAt - f.since);
    assert.ok(waits[0]! >= 20 && waits[0]! < waits[1]! && waits[1]! < waits[2]!, `growing delays: ${waits}`);
    const status = runner.status();
    assert.equal(status.accounts.failure?.position, bad.position);
    assert.equal(status.journal.failure, undefined);
    await assert.rejects(runner.waitFor(later.position, 5000, ['accounts']), ProjectionStoppedError);

    broken = false; // fixed while running: the next try goes through, no restart needed
    await until('accounts to rejoin', () => runner.status().accounts.failure === undefined);
    await runner.waitFor(later.position, 5000);
    assert.deepEqual(balances(db), { 'account-g': 15 });
    assert.deepEqual(recovered, ['accounts']);
    const more = await deposit(store, 'g', 5);
    await runner.waitFor(more.position, 5000);
    assert.deepEqual(balances(db), { 'account-g': 20 }, 'and follows live again');
  } finally {
    await runner.stop();
    await cleanup();
  }
});

test('a large catch-up is applied in batches and keeps following afterwards', async () => {
  const { store, openDb, cleanup } = await setup();
  const db = openDb();
  const runner = createProjectionRunner({ store, db, projections: [accounts(), journal], batchSize: 100 });
  try {
    await Promise.all(Array.from({ length: 2000 }, (_, i) => deposit(store, `b${i % 10}`, 1)));
    await runner.start();
    assert.equal(dump(db, 'journal').length, 2000);
    assert.equal(Object.values(balances(db)).reduce((a, b) => a + b, 0), 2000);
    const results = await Promise.all(Array.from({ length: 300 }, (_, i) => deposit(store, `b${i % 10}`, 1)));
    await runner.waitFor(Math.max(...results.map((r) => r.position)));
    assert.equal(dump(db, 'journal').length, 2300);
    assert.deepEqual(await runner.lag(), { accounts: 0, journal: 0 });
  } finally {
    await runner.stop();
    await cleanup();
  }
});
