import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { StoreUnavailableError, type StoredEvent } from '../src/eventstore/port.ts';
import { createSqliteEventStore } from '../src/eventstore/sqlite/index.ts';
import { runEventStoreContract } from './eventstore-contract.ts';

const dirs: string[] = [];
const tempDir = async () => {
  const d = await mkdtemp(join(tmpdir(), 'securekey-es-'));
  dirs.push(d);
  return d;
};
after(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

runEventStoreContract('sqlite', async () => {
  const dir = await tempDir();
  const store = createSqliteEventStore({ path: join(dir, 'events.db') });
  return { store, cleanup: () => store.close() };
});

// ── child processes on the same file ────────────────────────────────────────────────────────
const fixture = fileURLToPath(new URL('./fixtures/eventstore-child.ts', import.meta.url));

type Child = { proc: ChildProcess; lines: string[]; nextLine: (pred: (l: string) => boolean, ms?: number) => Promise<string>; exited: Promise<unknown> };

const child = (...args: string[]): Child => {
  // process.execPath is the Node 24 binary running this test (node_modules/.bin/node).
  const proc = spawn(process.execPath, [fixture, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let stderr = '';
  let partial = '';
  let waiter = () => {};
  proc.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop()!; // only complete lines count
    lines.push(...parts);
    waiter();
  });
  proc.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const exited = once(proc, 'exit');
  exited.then(() => waiter());
  const nextLine = (pred: (l: string) => boolean, ms = 60_000) => // a guard, not a speed limit: a child starts slowly on a busy machine
    new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`child timed out; stderr: ${stderr}`)), ms);
      waiter = () => {
        const l = lines.find(pred);
        if (l !== undefined) {
          clearTimeout(timer);
          resolve(l);
        } else if (proc.exitCode !== null || proc.signalCode !== null) {
          clearTimeout(timer);
          reject(new Error(`child exited (${proc.exitCode ?? proc.signalCode}); stderr: ${stderr}`));
        }
      };
      waiter();
    });
  return { proc, lines, nextLine, exited };
};

test('an append by another process on the same file reaches a live subscriber here within a second', async () => {
  const path = join(await tempDir(), 'events.db');
  const store = createSqliteEventStore({ path });
  const ac = new AbortController();
  try {
    await store.appendToStream('local-1', [{ type: 'Local', data: {} }]);
    const seen = new Promise<{ event: StoredEvent; at: number }>((resolve, reject) => {
      (async () => {
        for await (const event of store.subscribeToAll({ fromPosition: 1, signal: ac.signal })) {
          if (event.type === 'FromChild') return resolve({ event, at: performance.now() });
        }
        reject(new Error('subscription ended'));
      })().catch(reject);
    });
    const c = child('append', path, 'remote-1', 'FromChild');
    const line = await c.nextLine(() => true);
    const ackedAt = performance.now();
    const { event, at } = await seen;
    assert.equal(event.position, Number(line));
    assert.equal(event.streamName, 'remote-1');
    assert.ok(at - ackedAt < 1000, `seen ${at - ackedAt} ms after the other process's ack`);
    await c.exited;
    assert.equal(c.proc.exitCode, 0, 'closing the store (and its writer thread) lets a script end normally');
  } finally {
    ac.abort();
    await store.close();
  }
});

test('durability: a process killed with SIGKILL under load loses no acknowledged append', async () => {
  const path = join(await tempDir(), 'events.db');
  const c = child('load', path, '64');
  try {
    await c.nextLine((l) => l === 'started');
    // Let it run under load, then kill it in the middle of its work.
    await c.nextLine(() => c.lines.length > 1000, 120_000);
    c.proc.kill('SIGKILL');
    await c.exited;
  } finally {
    c.proc.kill('SIGKILL');
  }
  assert.equal(c.proc.signalCode, 'SIGKILL');
  const acked = c.lines.filter((l) => l !== 'started');
  assert.ok(acked.length > 1000);
  const store = createSqliteEventStore({ path });
  try {
    const stored = new Set((await store.readAll()).map((e) => e.id));
    const lost = acked.filter((id) => !stored.has(id));
    assert.deepEqual(lost, [], `${lost.length} of ${acked.length} acknowledged appends lost`);
  } finally {
    await store.close();
  }
});

test('two processes racing on one stream never both win a revision', async () => {
  const path = join(await tempDir(), 'events.db');
  const rounds = 150;
  const racers = [child('race', path, 'race-x', String(rounds), '8', 'a'), child('race', path, 'race-x', String(rounds), '8', 'b')];
  try {
    await Promise.all(racers.map((r) => r.nextLine((l) => l === 'ready')));
    for (const r of racers) r.proc.stdin!.write('go\n');
    await Promise.all(racers.map((r) => r.nextLine((l) => l === 'done', 60_000)));
    await Promise.all(racers.map((r) => r.exited));
  } finally {
    for (const r of racers) r.proc.kill('SIGKILL');
  }
  const wins = racers.flatMap((r) => r.lines.filter((l) => l.startsWith('win ')).map((l) => l.split(' ')));
  assert.equal(wins.length, rounds, 'exactly one win per revision');
  const byRevision = new Map(wins.map(([, rev, id]) => [Number(rev), id]));
  assert.equal(byRevision.size, rounds, 'no revision won twice');
  const store = createSqliteEventStore({ path });
  try {
    const events = await store.readStream('race-x');
    assert.deepEqual(events.map((e) => e.revision), Array.from({ length: rounds }, (_, i) => i));
    for (const e of events) assert.equal(e.id, byRevision.get(e.revision));
  } finally {
    await store.close();
  }
});

// ── SQLite specifics ────────────────────────────────────────────────────────────────────────
test('a new store starts empty with its first event at position 1', async () => {
  const store = createSqliteEventStore({ path: join(await tempDir(), 'sub', 'dir', 'events.db') });
  try {
    assert.equal(await store.headPosition(), 0);
    const r = await store.appendToStream('first-1', [{ type: 'A', data: {} }]);
    assert.equal(r.position, 1);
    assert.equal(await store.headPosition(), 1);
  } finally {
    await store.close();
  }
});

test('concurrent appends are written by group commit: few transactions, each caller its own result', async () => {
  const commits: { appends: number; events: number }[] = [];
  const store = createSqliteEventStore({ path: join(await tempDir(), 'events.db'), onCommit: ({ appends, events }) => commits.push({ appends, events }) });
  try {
    const results = await Promise.allSettled(
      Array.from({ length: 200 }, (_, i) => store.appendToStream(`gc-${i % 20}`, [{ type: 'G', data: { i } }], { expectedRevision: 'no_stream' })),
    );
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 20);
    assert.equal(results.filter((r) => r.status === 'rejected').length, 180);
    assert.equal(commits.length, 1);
    assert.deepEqual(commits[0], { appends: 200, events: 20 });
  } finally {
    await store.close();
  }
});

test('close waits for queued appends; afterwards the store reports itself unavailable', async () => {
  const path = join(await tempDir(), 'events.db');
  const store = createSqliteEventStore({ path });
  const pending = Array.from({ length: 100 }, (_, i) => store.appendToStream(`q-${i}`, [{ type: 'Q', data: { i } }]));
  await store.close();
  assert.equal((await Promise.all(pending)).length, 100);
  await assert.rejects(store.ping(), StoreUnavailableError);
  await assert.rejects(store.appendToStream('q-x', [{ type: 'Q', data: {} }]), StoreUnavailableError);
  await assert.rejects(store.readAll(), StoreUnavailableError);
  const reopened = createSqliteEventStore({ path, durable: false });
  try {
    assert.equal(await reopened.headPosition(), 100);
  } finally {
    await reopened.close();
  }
});

test('a live subscription ends when the store closes', async () => {
  const store = createSqliteEventStore({ path: join(await tempDir(), 'events.db') });
  const ended = (async () => {
    for await (const _ of store.subscribeToAll({ fromPosition: 0 })) throw new Error('no events expected');
  })();
  setTimeout(() => store.close(), 20);
  await ended;
});

test('a path that cannot hold a database fails with StoreUnavailableError', async () => {
  const dir = await tempDir();
  await writeFile(join(dir, 'not-a-dir'), 'x');
  assert.throws(() => createSqliteEventStore({ path: join(dir, 'not-a-dir', 'events.db') }), StoreUnavailableError);
  await writeFile(join(dir, 'garbage.db'), 'this is not a sqlite database, just text that is long enough'.repeat(20));
  assert.throws(() => createSqliteEventStore({ path: join(dir, 'garbage.db') }), StoreUnavailableError);
});

test('appends need at least one event with a type and object data', async () => {
  const store = createSqliteEventStore({ path: join(await tempDir(), 'events.db') });
  try {
    await assert.rejects(store.appendToStream('v-1', []), TypeError);
    await assert.rejects(store.appendToStream('v-1', [{ type: '', data: {} }]), TypeError);
    await assert.rejects(store.appendToStream('v-1', [{ type: 'A', data: null as never }]), TypeError);
    assert.equal(await store.headPosition(), 0);
  } finally {
    await store.close();
  }
});

test('a commit by another store of this process wakes a live subscriber at once, not at its next poll (the projections thread reads the file the server writes)', async () => {
  const path = join(await tempDir(), 'events.db');
  const writer = createSqliteEventStore({ path });
  const reader = createSqliteEventStore({ path, pollMs: 600_000 }); // its poll alone would take ten minutes
  try {
    await writer.appendToStream('s-1', [{ type: 'Before', data: {} }]);
    const ac = new AbortController();
    const it = reader.subscribeToAll({ fromPosition: 1, signal: ac.signal })[Symbol.asyncIterator]();
    const next = it.next();
    await new Promise((r) => setTimeout(r, 100)); // the subscriber is waiting live
    await writer.appendToStream('s-1', [{ type: 'After', data: {} }]);
    const got = await Promise.race([next, new Promise((r) => setTimeout(() => r('timeout'), 5000))]);
    assert.notEqual(got, 'timeout', 'the subscriber was not woken by the commit');
    assert.equal((got as IteratorResult<StoredEvent>).value?.type, 'After');
    ac.abort();
  } finally {
    await writer.close();
    await reader.close();
  }
});
