// Group commit (src/eventstore/sqlite/commit.ts): the appends handed over together are written in
// one transaction, and an append that fails is refused alone, leaving none of its events behind,
// whether it has one event (no savepoint: SQLite undoes the failed statement) or several (its own
// savepoint).
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createCommitter } from '../src/eventstore/sqlite/commit.ts';
import { openEventsDb } from '../src/eventstore/sqlite/schema.ts';

const dirs: string[] = [];
after(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

const row = (type: string) => ({ id: crypto.randomUUID(), type, data: '{}', metadata: '{}' });

test('a failing append is refused alone: single-event and multi-event appends leave nothing behind, the others of the commit are written with consecutive positions', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'securekey-group-commit-'));
  dirs.push(dir);
  const db = openEventsDb(join(dir, 'events.db'), false, 5000);
  // A statement that fails for one event type, as a broken insert would.
  db.exec("CREATE TRIGGER poison BEFORE INSERT ON events WHEN NEW.type = 'Poison' BEGIN SELECT RAISE(ABORT, 'poisoned'); END");
  const commit = createCommitter(db);
  const r = commit([
    { stream: 'a', expected: 'no_stream', rows: [row('Ok')] },
    { stream: 'b', expected: 'no_stream', rows: [row('Poison')] },
    { stream: 'c', expected: 'no_stream', rows: [row('Ok'), row('Ok'), row('Poison')] },
    { stream: 'd', expected: 'stream_exists', rows: [row('Ok')] },
    { stream: 'e', expected: 'no_stream', rows: [row('Ok'), row('Ok')] },
  ]);
  assert.ok(!('failed' in r));
  const [a, b, c, d, e] = r.outcomes;
  assert.equal(a!.ok, true);
  assert.ok(!b!.ok && 'error' in b! && /poisoned/.test(b.error.message));
  assert.ok(!c!.ok && 'error' in c! && /poisoned/.test(c.error.message));
  assert.ok(!d!.ok && 'conflict' in d!);
  assert.ok(e!.ok);
  const rows = db.prepare('SELECT position, stream, revision FROM events ORDER BY position').all() as { position: number; stream: string; revision: number }[];
  assert.deepEqual(rows.map((x) => [x.stream, x.revision]), [['a', 0], ['e', 0], ['e', 1]]);
  assert.equal(r.events, 3);
  assert.deepEqual([r.first, r.last], [rows[0]!.position, rows[2]!.position]);
  assert.deepEqual(rows.map((x) => x.position), [rows[0]!.position, rows[0]!.position + 1, rows[0]!.position + 2], 'consecutive: a refused append left no gap it filled');
  db.close();
});
