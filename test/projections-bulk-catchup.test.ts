// A runner started far behind the log catches up in bulk (projections/bulk.ts): the read models'
// query-only and rare indexes dropped meanwhile, built back before start() resolves; a rare one
// built back first for an event that needs it (an erasure); a crash in the middle leaves each read
// model at its checkpoint and the next start finishes the job. Real SQLite files, real read models.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DatabaseSync } from 'node:sqlite';
import { type TestContext, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { nodeProjections, sharedProjections } from '../projections/index.ts';
import { createProjectionRunner, type Projection } from '../projections/runtime.ts';
import { openReadModelDb } from '../projections/sql.ts';
import { compareReadModels, replay } from '../src/app/replay.ts';
import { createKeyring, type Keyring } from '../src/crypto/keyring.ts';
import type { EventStore } from '../src/eventstore/port.ts';
import { createSqliteEventStore } from '../src/eventstore/sqlite/index.ts';

const TENANT = 'tn_bulk';
const USERS = 10;
const PER_USER = 60;
/** The user whose erasure falls in the middle of the log. */
const ERASED = 3;

const indexesOf = (projections: readonly Projection[]) => projections.flatMap((p) => [...(p.queryIndexes ?? []), ...(p.rareIndexes ?? []).map((r) => r.name)]);
const hasIndex = (db: DatabaseSync, name: string) => db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ?").get(name) !== undefined;

/** TOTP codes accepted for USERS users, the erasure of one of them halfway: 601 events. */
const seed = async (store: EventStore, keyring: Keyring) => {
  const keyOf = (u: number) => keyring.hmac('user', `user-${u}`);
  const accepted = (u: number, from: number, n: number) =>
    store.appendToStream(
      `totp-${TENANT}.${keyOf(u)}`,
      Array.from({ length: n }, (_, i) => ({ type: 'TotpCodeAccepted', data: { at: 1_700_000_000_000 + from + i, step: from + i }, metadata: { tenantId: TENANT, userKey: keyOf(u) } })),
    );
  for (let u = 0; u < USERS; u++) await accepted(u, 0, PER_USER / 2);
  const erasure = await store.appendToStream(`user-${TENANT}.${keyOf(ERASED)}`, [
    { type: 'UserErased', data: { erasureId: 'ers_1', erasedUserKey: keyOf(ERASED), generation: 1, at: 1_700_000_001_000 }, metadata: { tenantId: TENANT } },
  ]);
  for (let u = 0; u < USERS; u++) if (u !== ERASED) await accepted(u, PER_USER / 2, PER_USER / 2);
  return { erasedKey: keyOf(ERASED), erasureAt: erasure.position };
};

/** A projection, last in the runner, that notes at each batch which of `names` exist. */
const spy = (names: readonly string[]) => {
  const batches: { types: string[]; indexes: string[] }[] = [];
  const projection: Projection = {
    name: 'spy',
    canHandle: ['TotpCodeAccepted', 'UserErased'],
    init: () => {},
    evolve: () => {},
    evolveBatch: (db, events) => void batches.push({ types: [...new Set(events.map((e) => e.type))], indexes: names.filter((n) => hasIndex(db, n)) }),
  };
  return { projection, batches };
};

/** A seeded log and an empty read-model file, closed and removed after the test. */
const setup = async (t: TestContext) => {
  const dir = await mkdtemp(join(tmpdir(), 'securekey-bulk-catchup-'));
  const root = randomBytes(32);
  const keyring = createKeyring(root);
  const eventsPath = join(dir, 'events.db');
  const store = createSqliteEventStore({ path: eventsPath, durable: false });
  const seeded = await seed(store, keyring);
  const head = await store.headPosition();
  /** The read models rebuilt into a fresh file and compared with `live`, table by table. */
  const sameAsReplay = async (live: DatabaseSync) => {
    const rebuilt = openReadModelDb(join(dir, `rebuilt-${randomBytes(4).toString('hex')}.db`));
    try {
      await replay({ store, db: rebuilt, projections: nodeProjections(keyring) });
      return compareReadModels(rebuilt, live);
    } finally {
      rebuilt.close();
    }
  };
  const db = openReadModelDb(join(dir, 'readmodels.db'));
  t.after(async () => (db.close(), await store.close(), await rm(dir, { recursive: true, force: true })));
  /** A runner over db with these read models and a spy last; stopped after the test (before the files close). */
  const runnerOf = (projections: Projection[], bulk: { minEvents: number; batchSize: number } | false, spied: readonly string[] = []) => {
    const s = spy(spied);
    const runner = createProjectionRunner({ store, db, projections: [...projections, s.projection], bulk });
    t.after(() => runner.stop());
    return { runner, batches: s.batches };
  };
  return { dir, root, keyring, eventsPath, store, db, head, ...seeded, sameAsReplay, runnerOf };
};

test('a runner far behind the log catches up in bulk: indexes dropped meanwhile, every one built back before start() resolves, the read models the same as a replay', async (t) => {
  const w = await setup(t);
  const indexes = indexesOf(nodeProjections(w.keyring));
  // The audit trail's indexes in log order, and its partial index of clear user ids (no row of a
  // sealed log), stay: building them back meant one more scan of the widest table.
  const kept = ['audit_tenant', 'audit_tenant_at', 'audit_tenant_legacy_user'];
  const { runner, batches } = w.runnerOf(nodeProjections(w.keyring), { minEvents: 100, batchSize: 100 }, ['audit_tenant_user_key', 'mfa_verifications_user', ...kept]);
  await runner.start();
  assert.ok(batches.length >= 5, `in batches of the bulk size: ${batches.length}`);
  assert.deepEqual(batches[0].indexes, kept, 'the query-only and rare indexes are not kept current while far behind; those in log order are');
  assert.deepEqual(indexes.filter((n) => !hasIndex(w.db, n)), [], 'every index is there once start() resolved');
  for (const [name, cp] of Object.entries(runner.checkpoints())) assert.equal(cp, w.head, name);
  await runner.waitFor(w.head, 1000);
  const report = await w.sameAsReplay(w.db);
  assert.ok(report.ok, JSON.stringify(report.tables));
});

test('an erasure met in a bulk catch-up deletes the user\'s rows: the rare index it needs is built back first', async (t) => {
  const w = await setup(t);
  const { runner, batches } = w.runnerOf(nodeProjections(w.keyring), { minEvents: 100, batchSize: 100 }, ['mfa_verifications_user']);
  await runner.start();
  const at = batches.findIndex((b) => b.types.includes('UserErased'));
  assert.ok(at > 0, 'the erasure is not in the first batch');
  assert.ok(batches.slice(0, at).every((b) => b.indexes.length === 0), 'not there before it');
  assert.deepEqual(batches[at].indexes, ['mfa_verifications_user'], 'built back for the batch holding the erasure');
  const rows = (key: string) => (w.db.prepare('SELECT count(*) AS n FROM mfa_verifications WHERE tenant_id = ? AND user_key = ?').get(TENANT, key) as { n: number }).n;
  assert.equal(rows(w.erasedKey), 0, 'the erased user has no verification left');
  assert.equal(rows(w.keyring.hmac('user', 'user-0')), PER_USER, 'the others keep theirs');
});

test('a runner only a little behind applies the log as usual, its indexes kept current', async (t) => {
  const w = await setup(t);
  const indexes = indexesOf(nodeProjections(w.keyring));
  await w.runnerOf(nodeProjections(w.keyring), false).runner.start();
  // 60 more events: past minEvents, but short of a quarter of the 601 already applied.
  for (let i = 0; i < 60; i++) await w.store.appendToStream(`totp-${TENANT}.late${i}`, [{ type: 'TotpCodeAccepted', data: { at: 1_700_000_002_000 + i, step: i }, metadata: { tenantId: TENANT, userKey: `late${i}` } }]);
  const { runner, batches } = w.runnerOf(nodeProjections(w.keyring), { minEvents: 10, batchSize: 100 }, indexes);
  await runner.start();
  assert.ok(batches.length > 0);
  for (const b of batches) assert.deepEqual(b.indexes, indexes);
  const report = await w.sameAsReplay(w.db);
  assert.ok(report.ok, JSON.stringify(report.tables));
});

test('a SIGKILL in the middle of a bulk catch-up leaves every read model at its checkpoint; the next start finishes it, the same as a replay', async (t) => {
  const w = await setup(t);
  const dbPath = join(w.dir, 'readmodels.db');
  const child = spawn(process.execPath, [fileURLToPath(new URL('./fixtures/catchup-child.ts', import.meta.url)), w.eventsPath, dbPath, w.root.toString('base64'), '3', '100'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (d: string) => (out += d));
  // Three batches committed, the fourth written by every read model and not committed.
  while (!out.includes('blocked')) {
    if (child.exitCode !== null) assert.fail(`the child exited (${child.exitCode}) before blocking`);
    await once(child.stdout, 'data');
  }
  child.kill('SIGKILL');
  await once(child, 'exit');

  const checkpoint = (name: string) => (w.db.prepare('SELECT position FROM projection_checkpoints WHERE name = ?').get(name) as { position: number }).position;
  assert.equal(checkpoint('audit'), 300, 'three batches of 100 committed');
  const audit = w.db.prepare('SELECT count(*) AS n, max(position) AS last FROM audit_log').get() as { n: number; last: number };
  assert.deepEqual({ ...audit }, { n: 300, last: 300 }, 'the rows of the committed batches, none of the one killed');
  assert.equal(hasIndex(w.db, 'audit_tenant_user_key'), false, 'killed while its indexes were dropped');

  await w.runnerOf(nodeProjections(w.keyring), { minEvents: 100, batchSize: 100 }).runner.start();
  assert.deepEqual(indexesOf(nodeProjections(w.keyring)).filter((n) => !hasIndex(w.db, n)), []);
  const report = await w.sameAsReplay(w.db);
  assert.ok(report.ok, JSON.stringify(report.tables));
});

test('the shared webhook outbox keeps its tenant index through a bulk catch-up: the other nodes of the data directory query it meanwhile', async (t) => {
  const w = await setup(t);
  const { runner, batches } = w.runnerOf(sharedProjections, { minEvents: 100, batchSize: 100 }, ['webhook_deliveries_tenant']);
  await runner.start();
  assert.ok(batches.length >= 5, `in batches of the bulk size: ${batches.length}`);
  for (const b of batches) assert.deepEqual(b.indexes, ['webhook_deliveries_tenant']);
});
