// Webhook delivery over a KurrentDB persistent subscription under injected faults, with no
// KurrentDB server: the real client against test/helpers/kurrentdb-fault-server.ts (a failure-path
// test double that pushes a group's events to its consumers as the server does: at most
// bufferSize un-answered per consumer, nacked events re-sent before new ones, parked after
// maxRetryCount), and real receivers. The happy paths against a real server run in
// webhook-kurrent.test.ts when KURRENTDB_URL is set.
import { LOCAL_RECEIVERS } from './fixtures/webhook-env.ts';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, test } from 'node:test';
import { personalFor } from './helpers/privacy.ts';
import type { WebhookEndpoint } from '../src/webhooks/kurrent/decisions.ts';
import { createPersistentWebhookDelivery, type PersistentWebhookDeliveryOptions } from '../src/webhooks/kurrent/index.ts';
import { type NodeReceiver, type ReceiverMode, startNodeReceiver } from './fixtures/webhook-node-receiver.ts';
import { type FaultServer, startFaultServer } from './helpers/kurrentdb-fault-server.ts';
import { until } from './helpers/until.ts';

// Events here are appended as they come (not sealed): opening passes them through unchanged.
const { keyring, personal } = personalFor();
const endpoints = new Map<string, WebhookEndpoint>();
const receivers: NodeReceiver[] = [];
const servers: FaultServer[] = [];
const stops: (() => Promise<void>)[] = [];
after(async () => {
  for (const stop of stops) await stop();
  for (const s of servers) await s.stop();
  for (const r of receivers) await r.close();
});

const server = async (o: Parameters<typeof startFaultServer>[0] = {}) => {
  const s = await startFaultServer(o);
  servers.push(s);
  return s;
};

const tenant = async (mode: ReceiverMode = 'ok') => {
  const secret = `whsec_${randomBytes(8).toString('hex')}`;
  const r = await startNodeReceiver({ secret, mode });
  receivers.push(r);
  const tenantId = `ten_${randomBytes(4).toString('hex')}`;
  endpoints.set(tenantId, { url: r.url, secretsEnc: [keyring.encrypt('webhook-secret', secret)] });
  return { tenantId, r };
};

let seq = 0;
/** Publishes n outcome events of the tenant on the server, as if the API had appended them. */
const publish = (s: FaultServer, tenantId: string, n = 1) =>
  Array.from({ length: n }, () => {
    seq++;
    s.publish(`otp-${tenantId}.sms.h${seq}`, [
      { type: 'OtpVerified', data: { otpId: `otp_${seq}`, channel: 'sms', purpose: 'login', userId: `user_${seq}`, masked: '+82 10-****-5678', attempts: 1, attemptsRemaining: 4 }, metadata: { tenantId } },
    ]);
    return s.log.at(-1)!.id;
  });

const node = (connectionString: string, o: Partial<PersistentWebhookDeliveryOptions> = {}) => {
  const warnings: string[] = [];
  const d = createPersistentWebhookDelivery({
    egress: LOCAL_RECEIVERS,
    connectionString,
    group: `securekey-webhooks-${randomBytes(3).toString('hex')}`,
    keyring,
    open: personal.open,
    tenantOf: (id) => endpoints.get(id),
    now: () => Date.now(),
    log: { info: () => {}, warn: (obj, msg) => warnings.push(`${msg} ${JSON.stringify(obj)}`) },
    timeoutMs: 2000,
    maxRetries: 3,
    backoff: { baseMs: 100, maxMs: 100 },
    operationTimeoutMs: 3000, // generous: calls that must succeed may be slow on a loaded machine
    ...o,
  });
  stops.push(() => d.stop());
  return { d, warnings };
};

describe('webhook delivery against a fault-injecting KurrentDB server', () => {
  test('a tenant whose endpoint fails cannot hold up the others: beyond its cap its events are parked, and the next tenant is delivered', async () => {
    const s = await server();
    const failing = await tenant('error500');
    const healthy = await tenant();
    // 12 events of the failing tenant are ahead of the healthy one's in the log, more than the window (8).
    const failingIds = publish(s, failing.tenantId, 12);
    const [healthyId] = publish(s, healthy.tenantId);
    const { d } = node(s.url(), { group: 'g-stall', bufferSize: 8, perTenantConcurrency: 2, maxRetries: 50 });
    await d.start();
    await until('the healthy tenant delivered', () => healthy.r.accepted.length === 1, 15_000);
    assert.equal(healthy.r.accepted[0].eventId, healthyId);
    // Without the cap, the healthy event waits until the failing tenant's 12 events have spent
    // their 50 retries each (the server re-sends retried events before new ones).
    assert.ok(failing.r.requests() < 12 * 3, `delivered while the failing tenant had made only ${failing.r.requests()} attempts`);
    const g = s.group('g-stall')!;
    const parked = g.parked.map((p) => s.log[p.index].id);
    assert.ok(parked.length > 0 && parked.every((id) => failingIds.includes(id)), 'only the failing tenant\'s events were parked');
    assert.ok(g.parked.every((p) => /its endpoint is failing/.test(p.reason)));
  });

  test("the group's own retry limit is followed, not this node's configuration", async () => {
    const s = await server();
    const t = await tenant('error500');
    s.createGroup('g-old', { maxRetryCount: 3, messageTimeoutMs: 40_000 }); // created earlier, with other settings
    const [id] = publish(s, t.tenantId);
    const { d, warnings } = node(s.url(), { group: 'g-old', maxRetries: 1 });
    await d.start();
    const g = s.group('g-old')!;
    await until('the event parked', () => g.parked.length === 1, 15_000);
    assert.equal(s.log[g.parked[0].index].id, id);
    assert.match(g.parked[0].reason, /attempt 4 of 4; retries exhausted/, 'parked by us after the group\'s 3 retries, not after the configured 1');
    assert.equal(t.r.requests(), 4);
    assert.ok(warnings.some((w) => /differ from this configuration.*maxRetryCount 3 \(configured 1\)/.test(w)), warnings.join('\n'));
  });

  test('a single-host connection string pointing at a follower: the node follows NotLeader to the leader and delivers', async () => {
    const leader = await server();
    const follower = await server();
    follower.faults.notLeader = { host: '127.0.0.1', port: leader.port };
    const t = await tenant();
    const [id] = publish(leader, t.tenantId);
    const { d } = node(follower.url(), { group: 'g-follow' });
    await d.start();
    await until('delivered through the leader', () => t.r.accepted.length === 1, 15_000);
    assert.equal(t.r.accepted[0].eventId, id);
    assert.ok(follower.calls.some((c) => c.method === 'PersistentSubscriptions.Create'), 'it asked the follower first');
    assert.equal(d.subscribed(), true);
  });

  test('a subscription dropped mid-stream: the node subscribes again and the event it was holding is delivered', async () => {
    const s = await server();
    const t = await tenant('error500');
    const [id] = publish(s, t.tenantId);
    const { d } = node(s.url(), { group: 'g-drop', backoff: { baseMs: 5000, maxMs: 5000 } });
    await d.start();
    await until('the first attempt', () => t.r.requests() === 1, 10_000);
    t.r.setMode('ok');
    s.dropSubscriptions(); // while the node waits out its 2.5–5 s retry delay
    await until('delivered after resubscribing', () => t.r.accepted.length === 1, 15_000);
    assert.equal(t.r.accepted[0].eventId, id);
    assert.equal(s.calls.filter((c) => c.method === 'PersistentSubscriptions.Read').length, 2);
  });

  test('a server that stops answering the node: its stuck client is replaced, and delivery resumes once the server answers', async () => {
    const s = await server();
    const t = await tenant();
    s.faults.stallNodeChannel = true;
    const { d, warnings } = node(s.url(), { group: 'g-stuck' });
    await d.start();
    assert.equal(d.subscribed(), false);
    assert.match(warnings[0] ?? '', /did not complete within 3000 ms/);
    s.faults.stallNodeChannel = false;
    const [id] = publish(s, t.tenantId);
    await until('delivered', () => t.r.accepted.length === 1, 15_000);
    assert.equal(t.r.accepted[0].eventId, id);
    await until('the stuck call dropped with its client', () => s.calls.some((c) => c.cancelled), 5000);
  });
});
