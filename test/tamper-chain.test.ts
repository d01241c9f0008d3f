// Tamper evidence: every event written through handleCommand is hash-linked to the previous event
// of its stream; verifyChain finds edited, removed and reordered events, and tells events appended
// without the chain apart ("unchained") without failing on them.
import assert from 'node:assert/strict';
import { DatabaseSync } from 'node:sqlite';
import { after, before, test } from 'node:test';
import { join } from 'node:path';
import { canonicalJson, eventHash, GENESIS_HASH, verifyChain } from '../src/eventstore/chain.ts';
import { handleCommand } from '../src/eventstore/handle-command.ts';
import { createEnv, echoDecider, type Env } from './fixtures/webhook-env.ts';

let env: Env;
let raw: DatabaseSync;
before(async () => {
  env = await createEnv();
  raw = new DatabaseSync(join(env.dir, 'events.db')); // the attacker's direct access to the file
});
after(async () => {
  raw.close();
  await env.cleanup();
});

const ev = (type: string, data: Record<string, unknown>) => ({ type, data });

test('canonical JSON does not depend on key order and survives a trip through JSON', () => {
  assert.equal(canonicalJson({ b: 1, a: { d: [1, { y: 2, x: 1 }], c: null } }), '{"a":{"c":null,"d":[1,{"x":1,"y":2}]},"b":1}');
  assert.equal(canonicalJson({ a: undefined, b: 2 }), canonicalJson(JSON.parse(JSON.stringify({ a: undefined, b: 2 }))));
});

test('canonical JSON gives, for every kind of value, the text the hashes of stored events were made with', () => {
  // The definition the chain's hashes were first computed with: canonicalJson must never differ from it.
  const sortKeys = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sortKeys);
    if (v === null || typeof v !== 'object') return v;
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) out[k] = sortKeys((v as Record<string, unknown>)[k]);
    return out;
  };
  const reference = (v: unknown) => JSON.stringify(sortKeys(JSON.parse(JSON.stringify(v ?? null))));
  const values: unknown[] = [
    null, undefined, 0, -0, 1.5, 1e21, NaN, Infinity, '', 'é\u2028"\\', '\ud800', true, false, [], {}, [undefined, () => 1, NaN], { a: undefined, f: () => 1 },
    { b: 1, a: 2, 10: 'ten', 2: 'two', '01': 'x', '4294967295': 'big', '4294967294': 'max', '-1': 'neg', ' ': 'sp', B: 'upper', é: 'e' },
    { nested: { z: [{ y: 1, x: [1, { k: null }] }], a: new Date(0) } }, { d: new Date(86_400_000), boxed: Object(1), s: Object('x') },
    { toJSON: () => ({ b: 1, a: 2 }) }, JSON.parse('{"__proto__": {"x": 1}, "a": 1}'), Object.create(null), [[[[]]]],
    // Code-unit order: surrogate pairs sort before U+E000..U+FFFF; more keys than the insertion sort takes.
    { '\uffff': 1, '\ud83d\ude00': 2, '\ue000': 3, é: 4, Z: 5, z: 6, '': 7, aa: 8, a: 9, 'a\u0000': 10 },
    Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`k${(i * 7919) % 40}`, i])),
    Object.fromEntries(Array.from({ length: 32 }, (_, i) => [String.fromCharCode(122 - i), i])),
  ];
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const gen = (d: number): unknown => {
    const r = rnd();
    if (d > 3 || r < 0.3) return [1, 'x', null, true, 3.25, undefined, -7][Math.floor(rnd() * 7)];
    if (r < 0.6) return Array.from({ length: Math.floor(rnd() * 4) }, () => gen(d + 1));
    return Object.fromEntries(Array.from({ length: Math.floor(rnd() * 5) }, () => [['a', 'B', '1', '20', '3', 'zz', '_'][Math.floor(rnd() * 7)]!, gen(d + 1)]));
  };
  for (let i = 0; i < 500; i++) values.push(gen(0));
  for (const v of values) assert.equal(canonicalJson(v), reference(v), `for ${String(JSON.stringify(v))}`);
});

test('events appended through handleCommand carry prevHash and hash linking each to the previous one', async () => {
  await handleCommand(env.store, 'acct-1', echoDecider, { type: 'Record', data: { events: [ev('Opened', { owner: 'x' }), ev('Deposited', { amount: 5 })] } }, { metadata: { tenantId: 'tn_1' } });
  await handleCommand(env.store, 'acct-1', echoDecider, { type: 'Record', data: { events: [ev('Deposited', { amount: 7 })] } }, { metadata: { tenantId: 'tn_1' } });
  const events = await env.store.readStream('acct-1');
  assert.equal(events[0].metadata.prevHash, GENESIS_HASH);
  for (let i = 1; i < events.length; i++) assert.equal(events[i].metadata.prevHash, events[i - 1].metadata.hash);
  for (const e of events) {
    assert.equal(e.metadata.tenantId, 'tn_1');
    assert.equal(eventHash({ prevHash: e.metadata.prevHash as string, stream: e.streamName, revision: e.revision, type: e.type, data: e.data, metadata: e.metadata }), e.metadata.hash);
  }
  const report = await verifyChain(env.store);
  assert.equal(report.ok, true, JSON.stringify(report.problems));
  assert.equal(report.unchained, 0);
});

test('editing one event row directly in SQLite is reported, with the stream, revision and position', async () => {
  for (let i = 0; i < 3; i++) await env.otpVerified('tn_edit', `user_${i}`);
  const before = await verifyChain(env.store);
  assert.equal(before.ok, true);
  // user_1's success: the second of the tenant's (the log holds user ids only sealed).
  const target = (await env.store.readAll()).filter((e) => e.type === 'OtpVerified' && e.metadata.tenantId === 'tn_edit')[1]!;
  // The attacker turns a failed login into someone else's success.
  raw.prepare('UPDATE events SET data = json_set(data, \'$.userId\', \'mallory\') WHERE position = ?').run(target.position);
  const progress: number[] = [];
  const report = await verifyChain(env.store, { onProgress: (p) => progress.push(p.done), progressEveryMs: 0, pageSize: 2 });
  assert.equal(report.ok, false);
  assert.deepEqual(
    report.problems.map((p) => [p.kind, p.stream, p.revision, p.position]),
    [['hash_mismatch', target.streamName, target.revision, target.position]],
  );
  assert.ok(progress.length > 1, 'progress is reported along the way');
  assert.equal(progress.at(-1), await env.store.headPosition());
  // Putting it back restores a clean report.
  raw.prepare('UPDATE events SET data = ? WHERE position = ?').run(JSON.stringify(target.data), target.position);
  assert.equal((await verifyChain(env.store)).ok, true);
});

test('a removed event and reordered events are reported', async () => {
  await handleCommand(env.store, 'acct-2', echoDecider, { type: 'Record', data: { events: [0, 1, 2, 3].map((i) => ev('Deposited', { amount: i })) } }, { metadata: {} });
  const events = await env.store.readStream('acct-2');

  raw.prepare('DELETE FROM events WHERE position = ?').run(events[1].position);
  const removed = await verifyChain(env.store);
  assert.deepEqual(removed.problems.map((p) => [p.kind, p.revision]), [['revision_gap', 2], ['broken_link', 2]]);

  // Put it back, then swap the contents of revisions 2 and 3 (revision numbers kept): the order is forged.
  const row = (e: (typeof events)[number]) => [e.position, e.streamName, e.revision, e.id, e.type, JSON.stringify(e.data), JSON.stringify(e.metadata), e.recordedAt.getTime()];
  raw.prepare('INSERT INTO events (position, stream, revision, id, type, data, metadata, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)').run(...(row(events[1]) as any[]));
  assert.equal((await verifyChain(env.store)).ok, true);
  const swap = raw.prepare('UPDATE events SET data = ?, metadata = ? WHERE position = ?');
  swap.run(JSON.stringify(events[3].data), JSON.stringify(events[3].metadata), events[2].position);
  swap.run(JSON.stringify(events[2].data), JSON.stringify(events[2].metadata), events[3].position);
  const reordered = await verifyChain(env.store);
  assert.equal(reordered.ok, false);
  assert.ok(reordered.problems.some((p) => p.kind === 'broken_link' && p.revision === 2));
  assert.ok(reordered.problems.some((p) => p.kind === 'hash_mismatch' && p.revision === 2), 'the hash covers the revision');
  // Restore.
  swap.run(JSON.stringify(events[2].data), JSON.stringify(events[2].metadata), events[2].position);
  swap.run(JSON.stringify(events[3].data), JSON.stringify(events[3].metadata), events[3].position);

  // Moving an event after a later one in the log (new position) is a revision out of order.
  raw.prepare('UPDATE events SET position = (SELECT MAX(position) + 1 FROM events) WHERE position = ?').run(events[0].position);
  const moved = await verifyChain(env.store);
  assert.ok(moved.problems.some((p) => p.kind === 'revision_order' && p.stream === 'acct-2' && p.revision === 0));
});

test('events appended without handleCommand are reported as unchained, not as tampering', async () => {
  const fresh = await createEnv();
  try {
    await fresh.store.appendToStream('legacy-1', [ev('Imported', { n: 1 }), ev('Imported', { n: 2 })]);
    await handleCommand(fresh.store, 'legacy-1', echoDecider, { type: 'Record', data: { events: [ev('Imported', { n: 3 })] } }, { metadata: {} });
    const report = await verifyChain(fresh.store);
    assert.equal(report.ok, true, JSON.stringify(report.problems));
    assert.equal(report.unchained, 2);
    assert.equal(report.chained, 1);
    assert.deepEqual(report.unchainedSample.map((u) => [u.stream, u.revision]), [['legacy-1', 0], ['legacy-1', 1]]);
    // But stripping the hash off a chained event is not "unchained": its successor's link breaks.
    await handleCommand(fresh.store, 'legacy-1', echoDecider, { type: 'Record', data: { events: [ev('Imported', { n: 4 })] } }, { metadata: {} });
    const r2 = new DatabaseSync(join(fresh.dir, 'events.db'));
    r2.prepare("UPDATE events SET metadata = json_remove(metadata, '$.hash') WHERE stream = 'legacy-1' AND revision = 2").run();
    r2.close();
    const stripped = await verifyChain(fresh.store);
    assert.equal(stripped.ok, false);
    assert.ok(stripped.problems.some((p) => p.kind === 'broken_link' && p.revision === 3));
  } finally {
    await fresh.cleanup();
  }
});
