// Replay: every read model rebuilt from the log into a fresh database equals the live one;
// --verify reports a difference table by table; progress is reported and drawn.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createProgressRenderer, formatProgress, replay } from '../src/app/replay.ts';
import { StoreUnavailableError } from '../src/eventstore/port.ts';
import { createWebhookWorker } from '../src/webhooks/worker.ts';
import { handleCommand } from '../src/eventstore/handle-command.ts';
import { createEnv, echoDecider, type Env, PROJECTIONS, LOCAL_RECEIVERS, silentLog } from './fixtures/webhook-env.ts';
import { until } from './helpers/until.ts';
import { startNodeReceiver } from './fixtures/webhook-node-receiver.ts';
import { listDeliveries } from '../src/webhooks/deliveries.ts';

let env: Env;
before(async () => {
  env = await createEnv();
  const receiver = await startNodeReceiver({ secret: 'pending' });
  try {
    const t1 = await env.createTenant(receiver.url);
    receiver.setSecret(t1.webhookSecret!);
    const t2 = await env.createTenant();
    for (let i = 0; i < 30; i++) await env.otpVerified(i % 3 ? t1.tenantId : t2.tenantId, `user_${i % 7}`);
    receiver.setSecret((await env.tenants.rotateWebhookSecret(t1.tenantId)).webhookSecret);
    await env.tenants.changeSettings(t2.tenantId, { webhookUrl: 'http://127.0.0.1:9/x' });
    const last = await env.otpVerified(t2.tenantId, 'user_last');
    await env.runner.waitFor(last);
    // Deliveries happened: their state differs from a rebuilt database, and must not count as a difference.
    const w = createWebhookWorker({ egress: LOCAL_RECEIVERS, db: env.db, keyring: env.keyring, openBody: env.personal.openJson, now: () => Date.now(), log: silentLog, timeoutMs: 1000, maxAttempts: 1, backoff: { baseMs: 10, maxMs: 10 }, pollMs: 10 });
    w.start();
    try {
      await until('deliveries', () => listDeliveries(env.db, { tenantId: t1.tenantId, status: 'delivered', limit: 100 }).deliveries.length === 20, 5000);
    } finally {
      await w.stop();
    }
  } finally {
    await receiver.close();
  }
});
after(async () => {
  await env.cleanup();
});

test('a replay into a fresh database equals the live read models, with progress along the way', async () => {
  const fresh = env.openDb('rebuilt-1.db');
  const progress: { done: number; total: number; rate: number }[] = [];
  const res = await replay({ store: env.store, db: fresh, projections: PROJECTIONS, verify: env.db, onProgress: (p) => progress.push(p), progressEveryMs: 0 });
  const head = await env.store.headPosition();
  assert.equal(res.position, head);
  assert.equal(res.events, head);
  assert.deepEqual(res.errors, []);
  assert.equal(res.verify!.ok, true, JSON.stringify(res.verify!.tables, null, 1));
  assert.deepEqual(res.verify!.equal, ['api_keys', 'audit_log', 'tenants', 'webhook_deliveries', 'webhook_endpoints']);
  assert.ok(progress.length > 10);
  assert.deepEqual(progress.at(-1)!.done, head);
  assert.ok(progress.every((p, i) => p.total === head && (i === 0 || p.done >= progress[i - 1].done)));
  // The rebuilt database is a working read-model database: its checkpoints are at the head.
  const cps = fresh.prepare('SELECT name, position FROM projection_checkpoints ORDER BY name').all();
  assert.deepEqual(cps.map((r: any) => [r.name, r.position]), [['audit', head], ['tenants', head], ['webhooks', head]]);
  await assert.rejects(replay({ store: env.store, db: fresh, projections: PROJECTIONS }), /fresh database/);
});

test('verify reports a live row that differs from the log, table by table', async () => {
  const victim = env.db.prepare("SELECT position FROM audit_log WHERE action = 'verification.succeeded' ORDER BY position LIMIT 1").get() as { position: number };
  env.db.prepare("UPDATE audit_log SET outcome = 'failure' WHERE position = ?").run(victim.position);
  env.db.prepare("DELETE FROM webhook_endpoints WHERE url LIKE '%:9/x'").run();
  try {
    const res = await replay({ store: env.store, db: env.openDb('rebuilt-2.db'), projections: PROJECTIONS, verify: env.db });
    assert.equal(res.verify!.ok, false);
    const byTable = Object.fromEntries(res.verify!.tables.map((t) => [t.table, t]));
    assert.deepEqual(Object.keys(byTable).sort(), ['audit_log', 'webhook_endpoints']);
    assert.deepEqual([byTable.audit_log.onlyInLive, byTable.audit_log.onlyInRebuilt], [1, 1]);
    assert.equal(byTable.audit_log.sampleOnlyInLive[0].position, victim.position);
    assert.equal(byTable.audit_log.sampleOnlyInLive[0].outcome, 'failure');
    assert.equal(byTable.audit_log.sampleOnlyInRebuilt[0].outcome, 'success');
    assert.equal(byTable.webhook_endpoints.liveRows, byTable.webhook_endpoints.rebuiltRows - 1);
  } finally {
    // Let the live runner repair what we broke, for the other tests.
    await env.runner.rebuild(['audit', 'webhooks']);
  }
});

test('replay stops at the live read models\' position, so a busy log does not make differences', async () => {
  await env.runner.stop();
  const livePosition = await env.store.headPosition();
  // A new event the (stopped) live read models have not seen yet.
  await handleCommand(env.store, 'tenant-tn_late', echoDecider, { type: 'Record', data: { events: [{ type: 'TenantCreated', data: { tenantId: 'tn_late', name: 'late', settings: {}, at: 1 } }] } });
  assert.ok((await env.store.headPosition()) > livePosition);
  try {
    const res = await replay({ store: env.store, db: env.openDb('rebuilt-3.db'), projections: PROJECTIONS, verify: env.db });
    assert.equal(res.position, livePosition);
    assert.equal(res.verify!.ok, true, JSON.stringify(res.verify!.tables));
  } finally {
    await env.runner.start();
  }
});

test('the progress renderer redraws one line on a TTY and prints periodic lines otherwise', () => {
  const p = (done: number) => ({ done, total: 10_000, elapsedMs: done / 10, rate: 10_000, etaMs: (10_000 - done) / 10 });
  assert.equal(formatProgress(p(4200), 20), '[########------------]  42%  4,200/10,000 events  10,000 ev/s  ETA 1s');

  const tty: string[] = [];
  const r1 = createProgressRenderer({ write: (s) => tty.push(s), isTTY: true, columns: 100 });
  r1.update(p(1000));
  r1.update(p(5000));
  r1.done();
  assert.ok(tty.slice(0, 2).every((s) => s.startsWith('\r') && s.endsWith('\x1b[K') && !s.includes('\n')));
  assert.equal(tty.at(-1), '\n');

  const log: string[] = [];
  let clock = 0;
  const r2 = createProgressRenderer({ write: (s) => log.push(s), isTTY: false }, { everyMs: 1000, clock: () => clock });
  for (let i = 1; i <= 10; i++) {
    clock += 300;
    r2.update(p(i * 1000));
  }
  r2.done();
  assert.ok(log.every((l) => l.endsWith('\n') && !l.includes('\r')));
  assert.equal(log.length, 4); // at 0.3 s, 1.5 s, 2.7 s, and the final state
  assert.match(log.at(-1)!, /100%/);
});

/** The store, unreadable (StoreUnavailableError, as a KurrentDB restart gives) for its first `failures` reads. */
const flaky = (failures: number) => {
  let reads = 0;
  const store: typeof env.store = {
    ...env.store,
    readAll: (o) => (++reads <= failures ? Promise.reject(new StoreUnavailableError('event store unavailable: connection refused')) : env.store.readAll(o)),
  };
  return { store, reads: () => reads };
};

test('a replay rides out a store that is briefly unavailable: it retries from its checkpoints and rebuilds the same read models', async () => {
  const { store, reads } = flaky(3);
  const retries: string[] = [];
  const res = await replay({ store, db: env.openDb('rebuilt-outage.db'), projections: PROJECTIONS, verify: env.db, onUnavailable: (e) => retries.push(e.message) });
  assert.equal(retries.length, 3);
  assert.ok(reads() > 3);
  assert.deepEqual(res.errors, []);
  assert.equal(res.events, await env.store.headPosition());
  assert.equal(res.verify!.ok, true, JSON.stringify(res.verify!.tables, null, 1));
});

test('a replay gives up once the store has stayed unavailable for unavailableForMs, with the store\'s error', async () => {
  const { store } = flaky(Infinity);
  await assert.rejects(replay({ store, db: env.openDb('rebuilt-down.db'), projections: PROJECTIONS, unavailableForMs: 300 }), (err: unknown) => err instanceof StoreUnavailableError && /connection refused/.test(err.message));
});
