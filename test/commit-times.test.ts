// The commit → read model delay starts when an event's commit returned, which the writer thread
// announces with the positions it wrote (src/eventstore/sqlite/commits.ts), not at its
// recorded_at, stamped before the commit's inserts and fsync.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { commitTimes } from '../src/eventstore/sqlite/commits.ts';
import { createSqliteEventStore } from '../src/eventstore/sqlite/index.ts';
import { until } from './helpers/until.ts';

const dirs: string[] = [];
after(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

test('commitTimes knows when each announced commit returned: not before its events were recorded, not after the append resolved; the same moment for every event of a commit', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'securekey-commit-times-'));
  dirs.push(dir);
  const path = join(dir, 'events.db');
  const times = commitTimes(path);
  const store = createSqliteEventStore({ path });
  try {
    const appended: { first: number; last: number; resolvedAt: number }[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await store.appendToStream(`s-${i}`, [1, 2, 3].map((n) => ({ type: 'Seen', data: { n } })), { expectedRevision: 'no_stream' });
      appended.push({ first: r.position - 2, last: r.position, resolvedAt: Date.now() });
    }
    // Appends made in one turn share one group commit.
    const together = await Promise.all(['a', 'b'].map((s) => store.appendToStream(`t-${s}`, [{ type: 'Seen', data: {} }], { expectedRevision: 'no_stream' })));
    const events = await store.readAll({ fromPosition: 0 });
    await until('the last commit announced', () => times.of(together[1]!.position) !== undefined);
    for (const a of appended) {
      const at = times.of(a.first)!;
      for (let p = a.first; p <= a.last; p++) assert.equal(times.of(p), at, `position ${p}`);
      const recordedAt = events.find((e) => e.position === a.first)!.recordedAt.getTime();
      assert.ok(at >= recordedAt && at <= a.resolvedAt, `${at} within [${recordedAt}, ${a.resolvedAt}]`);
    }
    assert.equal(times.of(together[0]!.position), times.of(together[1]!.position));
    assert.equal(times.of(0), undefined, 'a position no announced commit wrote');
    assert.equal(times.of(together[1]!.position + 1), undefined, 'a position not written yet');
  } finally {
    times.close();
    await store.close();
  }
});

test('commitTimes keeps the last commits only: an older position is unknown (the delay then falls back to recorded_at)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'securekey-commit-times-'));
  dirs.push(dir);
  const path = join(dir, 'events.db');
  const times = commitTimes(path, 2);
  const store = createSqliteEventStore({ path });
  try {
    const positions: number[] = [];
    for (let i = 0; i < 6; i++) positions.push((await store.appendToStream(`s-${i}`, [{ type: 'Seen', data: {} }], { expectedRevision: 'no_stream' })).position);
    await until('the last commit announced', () => times.of(positions[5]!) !== undefined);
    assert.equal(times.of(positions[0]!), undefined);
    assert.notEqual(times.of(positions[4]!), undefined);
  } finally {
    times.close();
    await store.close();
  }
});
