// The server's read models are built on a thread of their own (projections/thread.ts): the
// proxies on the server's thread mirror each read model's progress, run `changed` (the tenants'
// key cache) before a wait for that position resolves, and apply relayed events (the erasure
// follower) here; and the read models advance while the server's event loop is busy.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';
import { nodeProjections, sharedProjections } from '../projections/index.ts';
import type { Projection } from '../projections/runtime.ts';
import { openReadModelDb } from '../projections/sql.ts';
import { listTenants } from '../projections/tenants/index.ts';
import { startProjectionThread } from '../projections/thread/index.ts';
import { randomId } from '../src/app/ids.ts';
import { createTenantService } from '../src/app/tenants.ts';
import { createKeyring } from '../src/crypto/keyring.ts';
import { createSqliteEventStore } from '../src/eventstore/sqlite/index.ts';
import { startTestServer } from './helpers/server.ts';
import { until } from './helpers/until.ts';
import { ProjectionStoppedError } from '../projections/progress.ts';

const fixture = fileURLToPath(new URL('./fixtures/eventstore-child.ts', import.meta.url));
const dirs: string[] = [];
after(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

test('the proxies mirror the thread: a wait resolves once the read model holds the write, after `changed` ran here; relayed events are applied here in order; stop ends the thread', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'securekey-thread-'));
  dirs.push(dir);
  const eventsPath = join(dir, 'events.db');
  const store = createSqliteEventStore({ path: eventsPath });
  const root = randomBytes(32);
  const keyring = createKeyring(root);
  const readDb = openReadModelDb(join(dir, 'readmodels.db'));
  const webhookDb = openReadModelDb(join(dir, 'webhooks.db'));
  const seen: string[] = [];
  const projections = nodeProjections(keyring).map((p): Projection => (p.changed ? { ...p, changed: (db) => (seen.push(`changed ${p.name}`), p.changed!(db)) } : p));
  const relay: Projection = { name: 'erasure-follower', canHandle: ['UserErased'], init: () => {}, evolve: (_db, e) => void seen.push(`relayed ${e.type} at ${e.position}`) };
  const thread = startProjectionThread({
    eventsPath,
    root,
    runners: [
      { id: 'node', dbPath: join(dir, 'readmodels.db'), set: 'node', db: readDb, projections, relayed: [relay] },
      { id: 'shared', dbPath: join(dir, 'webhooks.db'), set: 'shared', db: webhookDb, projections: sharedProjections, relayed: [] },
    ],
    headPosition: () => store.headPosition(),
    restartMs: 200,
  });
  const { runners } = thread;
  try {
    await runners.node.start();
    await runners.shared.start();
    assert.deepEqual(runners.node.names().sort(), [...projections.map((p) => p.name), 'erasure-follower'].sort());

    const tenants = createTenantService({ store, keyring, now: Date.now, newId: randomId, webhookTargetProblem: async () => null });
    seen.length = 0;
    const created = await tenants.create({ name: 'Acme' });
    await runners.node.waitFor(created.position, 10_000, ['tenants']);
    assert.ok(seen.includes('changed tenants'), 'the key cache of this thread was dropped before the wait resolved');
    assert.ok(listTenants(readDb).some((t) => t.tenantId === created.tenantId), 'the read model, read over this thread\'s connection, holds the tenant');

    const erased = await store.appendToStream('user-test', [{ type: 'UserErased', data: { erasureId: 'ers_1', erasedUserKey: 'k', generation: 1, at: 0 } }]);
    await runners.node.waitFor(erased.position, 10_000);
    assert.ok(seen.includes(`relayed UserErased at ${erased.position}`), 'the relayed projection got its event before the wait resolved');

    for (const [name, s] of Object.entries(runners.node.status())) assert.ok(s.checkpoint >= erased.position && !s.failure, `${name}: ${JSON.stringify(s)}`);
    for (const h of Object.values(await runners.node.health())) assert.deepEqual(h, { status: 'ok', lag: 0 });
    assert.equal(await runners.node.caughtUp(), true);
    await assert.rejects(runners.node.waitFor(1, 10, ['no-such-read-model']), /unknown projections: no-such-read-model/);

    // The thread dies: every read model reads as stopped (a wait rejects: 503 for the calls that
    // need one) until a new thread has started from the checkpoints; then writes are applied again.
    const next = erased.position + 1;
    await thread.kill();
    assert.ok(Object.values(runners.node.status()).every((s) => s.failure), JSON.stringify(runners.node.status()));
    await assert.rejects(runners.node.waitFor(next, 5000, ['tenants']), ProjectionStoppedError);
    const later = await tenants.create({ name: 'After the crash' });
    await until('a new thread caught up', () => Object.values(runners.node.status()).every((s) => !s.failure && s.checkpoint >= later.position) || undefined, 10_000);
    assert.ok(listTenants(readDb).some((t) => t.tenantId === later.tenantId));
  } finally {
    await runners.shared.stop();
    await runners.node.stop(); // the last stop ends the thread: the test process would not exit otherwise
    await store.close();
    readDb.close();
    webhookDb.close();
  }
});

test('the read models advance while the server\'s event loop is blocked: they are built on their own thread', async () => {
  const s = await startTestServer();
  try {
    await s.createTenant();
    const readModels = new DatabaseSync(join(s.dataDir, 'readmodels.db'), { readOnly: true });
    try {
      const checkpoint = () => (readModels.prepare("SELECT position FROM projection_checkpoints WHERE name = 'otp-counters'").get() as { position: number }).position;
      // This thread (the server's event loop) blocks from here to the end of the check: another
      // process appends to the log meanwhile, and only a runner on another thread can apply it.
      const appended = Number(execFileSync(process.execPath, [fixture, 'append', join(s.dataDir, 'events.db'), 'other-process', 'Appended'], { encoding: 'utf8' }).trim());
      const deadline = Date.now() + 10_000;
      while (checkpoint() < appended && Date.now() < deadline) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
      assert.ok(checkpoint() >= appended, `otp-counters at ${checkpoint()}, the event appended at ${appended}, with the server's event loop blocked`);
    } finally {
      readModels.close();
    }
  } finally {
    await s.stop();
  }
});
