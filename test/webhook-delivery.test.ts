// At-least-once delivery: outages, restarts, slow tenants, dead letters, the delivery log.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { getDelivery, listDeliveries, redeliver } from '../src/webhooks/deliveries.ts';
import { deliveryIdOf } from '../src/webhooks/outbox.ts';
import { DomainError } from '../src/domain/errors.ts';
import { backoffDelay } from '../src/webhooks/decisions.ts';
import { createWebhookWorker, type WebhookWorkerOptions } from '../src/webhooks/worker.ts';
import { createEnv, type Env, LOCAL_RECEIVERS, silentLog } from './fixtures/webhook-env.ts';
import { until } from './helpers/until.ts';
import { startNodeReceiver } from './fixtures/webhook-node-receiver.ts';

let env: Env;
before(async () => {
  env = await createEnv();
});
after(async () => {
  await env.cleanup();
});

const worker = (o: Partial<WebhookWorkerOptions> = {}) =>
  createWebhookWorker({ egress: LOCAL_RECEIVERS, db: env.db, keyring: env.keyring, openBody: env.personal.openJson, now: () => Date.now(), log: silentLog, timeoutMs: 300, maxAttempts: 100, backoff: { baseMs: 20, maxMs: 150 }, pollMs: 20, ...o });

const receiverFor = async (t: { after: (fn: () => Promise<void>) => void }) => {
  const r = await startNodeReceiver({ secret: 'pending' });
  t.after(() => r.close());
  const tenant = await env.createTenant(r.url);
  r.setSecret(tenant.webhookSecret!);
  return { r, tenant };
};

const countBy = (ids: string[]) => ids.reduce((m, id) => m.set(id, (m.get(id) ?? 0) + 1), new Map<string, number>());

test('backoff grows exponentially, is capped, and is jittered between half and all of the step', () => {
  const b = { baseMs: 100, maxMs: 1000 };
  assert.deepEqual([1, 2, 3, 4, 5, 9].map((n) => backoffDelay(n, b, () => 0.999999)), [100, 200, 400, 800, 1000, 1000]);
  assert.deepEqual([1, 2, 3, 4, 5].map((n) => backoffDelay(n, b, () => 0)), [50, 100, 200, 400, 500]);
});

test('a receiver that answers 500, then times out, then comes back gets every delivery after recovery, with the attempts in the log', async (t) => {
  const { r, tenant } = await receiverFor(t);
  r.setMode('error500');
  const w = worker();
  w.start();
  t.after(() => w.stop());
  for (let i = 0; i < 8; i++) await env.otpVerified(tenant.tenantId, `user_${i}`);
  const all = () => listDeliveries(env.db, { tenantId: tenant.tenantId, limit: 100 }).deliveries;
  assert.equal(all().length, 8);

  await until('failed attempts while answering 500', () => all().every((d) => d.attempts >= 2), 5000);
  r.setMode('hang');
  await until('a timeout', () => all().some((d) => d.lastError?.startsWith('timeout')), 5000);
  assert.equal(r.accepted.length, 0);
  r.setMode('ok');
  await until('every delivery after recovery', () => all().every((d) => d.status === 'delivered'), 10_000);

  const received = countBy(r.accepted.map((a) => a.eventId));
  assert.equal(received.size, 8, 'none lost');
  const eventIds = all().map((d) => d.eventId);
  assert.deepEqual([...received.keys()].sort(), [...eventIds].sort());
  // Duplicates only as at-least-once allows: never more acceptances than attempts that got an answer.
  for (const d of all()) assert.ok(received.get(d.eventId)! <= d.attempts);
  // The attempts, with their failures, are in the delivery log.
  const detail = getDelivery(env.db, tenant.tenantId, all()[0].deliveryId)!;
  assert.ok(detail.attemptLog.length >= 3);
  assert.equal(detail.attemptLog.length, detail.attempts);
  const errors = new Set(all().flatMap((d) => getDelivery(env.db, tenant.tenantId, d.deliveryId)!.attemptLog.map((a) => a.error?.replace(/ after.*/, ''))));
  assert.ok(errors.has('http 500') && errors.has('timeout'), `errors seen: ${[...errors].join(', ')}`);
  assert.equal(detail.attemptLog.at(-1)!.statusCode, 200);
  assert.ok(detail.attemptLog.every((a, i) => a.attempt === i + 1));
});

test('a worker restarted mid-backlog resumes from the persisted state', async (t) => {
  const { r, tenant } = await receiverFor(t);
  r.setDelay(60);
  for (let i = 0; i < 16; i++) await env.otpVerified(tenant.tenantId, `backlog_${i}`);
  const first = worker({ perTenantConcurrency: 2 });
  first.start();
  const delivered = () => listDeliveries(env.db, { tenantId: tenant.tenantId, status: 'delivered', limit: 100 }).deliveries.length;
  await until('part of the backlog', () => delivered() >= 4, 5000);
  await first.stop(); // the server stops: requests in flight are abandoned
  const state = listDeliveries(env.db, { tenantId: tenant.tenantId, limit: 100 }).deliveries;
  const done = state.filter((d) => d.status === 'delivered').length;
  assert.ok(done >= 4 && done < 16, `delivered before the restart: ${done}`);
  assert.ok(state.filter((d) => d.status === 'pending').every((d) => d.nextAttemptAt! <= Date.now()), 'abandoned requests are due again at once');

  // "Restart": a new connection to the same read-model file and a new worker.
  const db2 = env.openDb();
  const second = createWebhookWorker({ egress: LOCAL_RECEIVERS, db: db2, keyring: env.keyring, openBody: env.personal.openJson, now: () => Date.now(), log: silentLog, timeoutMs: 1000, maxAttempts: 5, backoff: { baseMs: 20, maxMs: 100 }, pollMs: 20 });
  second.start();
  t.after(() => second.stop());
  await until('the rest of the backlog', () => listDeliveries(db2, { tenantId: tenant.tenantId, limit: 100 }).deliveries.every((d) => d.status === 'delivered'), 10_000);
  const received = countBy(r.accepted.map((a) => a.eventId));
  assert.equal(received.size, 16, 'none lost');
  const duplicates = [...received.values()].reduce((s, n) => s + n - 1, 0);
  // A request the worker gave up on may still have been accepted: those in flight at the stop (at
  // most the concurrency, 2) and, on a loaded machine, any attempt that timed out.
  const timedOut = listDeliveries(db2, { tenantId: tenant.tenantId, limit: 100 }).deliveries
    .flatMap((d) => getDelivery(db2, tenant.tenantId, d.deliveryId)!.attemptLog)
    .filter((a) => a.error?.startsWith('timeout')).length;
  assert.ok(duplicates <= 2 + timedOut, `only requests in flight at the stop or timed out may arrive twice (got ${duplicates} duplicates, ${timedOut} timeouts)`);
});

test('a dead receiver holds only its own tenant: other tenants are delivered meanwhile', async (t) => {
  const slow = await receiverFor(t);
  const fast = await receiverFor(t);
  slow.r.setMode('hang');
  // The hanging receiver's requests time out only after 30 s: the healthy tenant is delivered
  // long before, so it never waited for them (a wide margin for a loaded machine).
  const w = worker({ timeoutMs: 30_000, perTenantConcurrency: 2, concurrency: 8 });
  w.start();
  t.after(() => w.stop());
  for (let i = 0; i < 10; i++) await env.otpVerified(slow.tenant.tenantId, `s_${i}`);
  const started = Date.now();
  for (let i = 0; i < 5; i++) await env.otpVerified(fast.tenant.tenantId, `f_${i}`);
  await until('the healthy tenant', () => fast.r.accepted.length === 5, 20_000);
  assert.ok(Date.now() - started < 20_000);
  assert.equal(slow.r.accepted.length, 0);
  assert.ok(slow.r.requests() <= 2, 'the hanging tenant never gets more than its concurrency');
});

test('after the retry budget a delivery is dead; redeliver queues it again with a fresh budget', async (t) => {
  const { r, tenant } = await receiverFor(t);
  r.setMode('error500');
  const w = worker({ maxAttempts: 3 });
  w.start();
  t.after(() => w.stop());
  await env.otpVerified(tenant.tenantId, 'user_dead');
  const dead = await until('dead letter', () => listDeliveries(env.db, { tenantId: tenant.tenantId, status: 'dead' }).deliveries[0], 5000);
  assert.deepEqual([dead.attempts, dead.lastStatusCode, dead.lastError, dead.nextAttemptAt], [3, 500, 'http 500', null]);
  assert.equal(r.requests(), 3);

  r.setMode('ok');
  assert.equal(redeliver(env.db, { tenantId: 'tn_other', deliveryId: dead.deliveryId, now: Date.now() }), false, 'another tenant cannot touch it');
  assert.equal(redeliver(env.db, { tenantId: tenant.tenantId, deliveryId: dead.deliveryId, now: Date.now() }), true);
  w.kick();
  const d = await until('redelivered', () => listDeliveries(env.db, { tenantId: tenant.tenantId, status: 'delivered' }).deliveries[0], 5000);
  assert.equal(d.attempts, 4);
  assert.equal(r.accepted.length, 1);
});

test('the delivery log lists newest first, filters by status and paginates', async (t) => {
  const { tenant } = await receiverFor(t);
  const ids: string[] = [];
  for (let i = 0; i < 5; i++) {
    await env.otpVerified(tenant.tenantId, `page_${i}`);
    ids.push(listDeliveries(env.db, { tenantId: tenant.tenantId, limit: 1 }).deliveries[0].deliveryId);
  }
  const p1 = listDeliveries(env.db, { tenantId: tenant.tenantId, status: 'pending', limit: 2 });
  const p2 = listDeliveries(env.db, { tenantId: tenant.tenantId, status: 'pending', limit: 2, pageToken: p1.nextPageToken });
  const p3 = listDeliveries(env.db, { tenantId: tenant.tenantId, status: 'pending', limit: 2, pageToken: p2.nextPageToken });
  assert.deepEqual([...p1.deliveries, ...p2.deliveries, ...p3.deliveries].map((d) => d.deliveryId), [...ids].reverse());
  assert.equal(p3.nextPageToken, '');
  assert.equal(listDeliveries(env.db, { tenantId: tenant.tenantId, status: 'delivered' }).deliveries.length, 0);
  assert.throws(() => listDeliveries(env.db, { tenantId: tenant.tenantId, status: 'sent' }), DomainError);
  assert.throws(() => listDeliveries(env.db, { tenantId: tenant.tenantId, pageToken: 'garbage' }), DomainError);
});

test('the projector is idempotent, skips tenants without a webhook URL and ignores non-outcome events', async () => {
  const tenant = await env.createTenant();
  await env.otpVerified(tenant.tenantId, 'nobody');
  assert.equal(listDeliveries(env.db, { tenantId: tenant.tenantId }).deliveries.length, 0);

  const withUrl = await env.createTenant('http://127.0.0.1:9/hook');
  await env.otpVerified(withUrl.tenantId, 'someone');
  const [d] = listDeliveries(env.db, { tenantId: withUrl.tenantId }).deliveries;
  assert.equal(d.deliveryId, deliveryIdOf(d.eventId));
  // Rebuilding the projection re-derives the same delivery and keeps its state.
  await env.runner.rebuild(['webhooks']);
  const again = listDeliveries(env.db, { tenantId: withUrl.tenantId }).deliveries;
  assert.deepEqual(again, [d]);
  assert.equal(
    (env.db.prepare("SELECT COUNT(*) AS n FROM webhook_deliveries WHERE event = 'otp.issued' OR body LIKE '%codeHash%'").get() as { n: number }).n,
    0,
  );
});
