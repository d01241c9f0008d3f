// Webhook delivery over a KurrentDB persistent subscription.
// Always: the delivery processor (what each node does with the events the group pushes to it)
// against real receivers (the seed's Node receiver over HTTP), answering through a recording
// ack/nack; and the factory's behaviour when no server listens.
// With KURRENTDB_URL (e.g. kurrentdb://localhost:2113?tls=false): two delivery instances in one
// group split the work and deliver each event once; a receiver answering 500 gets retries and
// then the event; a receiver that never recovers gets the event parked in the group's parked
// stream. Without it, that part is skipped with the reason printed.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { KurrentDBClient } from '@kurrent/kurrentdb-client';
import { deliveryIdOf } from '../src/webhooks/outbox.ts';
import { personalFor } from './helpers/privacy.ts';
import { createKurrentDbEventStore } from '../src/eventstore/kurrentdb/index.ts';
import type { EventStore, StoredEvent } from '../src/eventstore/port.ts';
import { parkedStreamOf, type WebhookEndpoint } from '../src/webhooks/kurrent/decisions.ts';
import { createPersistentWebhookDelivery, type PersistentWebhookDelivery } from '../src/webhooks/kurrent/index.ts';
import { createDeliveryProcessor, type DeliveryAttempt, type DeliveryProcessorOptions, type PushedEvent } from '../src/webhooks/kurrent/processor.ts';
import { type NodeReceiver, startNodeReceiver } from './fixtures/webhook-node-receiver.ts';
import { LOCAL_RECEIVERS, silentLog } from './fixtures/webhook-env.ts';
import { until } from './helpers/until.ts';

// Events here are appended as they come (not sealed): opening passes them through unchanged.
const { keyring, personal } = personalFor();
const encSecret = (s: string) => keyring.encrypt('webhook-secret', s);

let seq = 0;
const outcomeEvent = (tenantId: string, o: { type?: string; userId?: string } = {}): StoredEvent => {
  seq++;
  return {
    id: randomUUID(),
    type: o.type ?? 'OtpVerified',
    data: { otpId: `otp_${seq}`, channel: 'sms', purpose: 'login', userId: o.userId ?? `user_${seq}`, masked: '+82 10-****-5678', attempts: 1, attemptsRemaining: 4 },
    metadata: { tenantId },
    streamName: `otp-${tenantId}.sms.h${seq}`,
    revision: 1,
    position: 1000 + seq,
    recordedAt: new Date(),
  };
};

type Answer = { kind: 'ack' } | { kind: 'nack'; action: 'retry' | 'park'; reason: string };

/** A pushed event whose ack/nack is recorded; `answered` resolves with the first answer. */
const push = (event: StoredEvent | undefined, retryCount = 0, signal?: AbortSignal) => {
  const answers: Answer[] = [];
  let resolve!: (a: Answer) => void;
  const answered = new Promise<Answer>((r) => (resolve = r));
  const record = (a: Answer) => {
    answers.push(a);
    resolve(a);
    return Promise.resolve();
  };
  const p: PushedEvent = { event, retryCount, signal, reply: { ack: () => record({ kind: 'ack' }), nack: (action, reason) => record({ kind: 'nack', action, reason }) } };
  return { p, answers, answered };
};

const nextTick = () => new Promise((r) => setTimeout(r, 30));

describe('the delivery processor (no server needed)', () => {
  const receivers: NodeReceiver[] = [];
  const endpoints = new Map<string, WebhookEndpoint>();
  after(async () => {
    for (const r of receivers) await r.close();
  });

  /** A tenant with its own seed receiver. */
  const tenant = async (o: { mode?: 'ok' | 'error500' | 'hang'; delayMs?: number; secret?: string | null; url?: string } = {}) => {
    const secret = `whsec_${randomBytes(8).toString('hex')}`;
    const r = await startNodeReceiver({ secret, mode: o.mode, delayMs: o.delayMs });
    receivers.push(r);
    const tenantId = `ten_${randomBytes(4).toString('hex')}`;
    endpoints.set(tenantId, { url: o.url ?? r.url, secretsEnc: o.secret === null ? [] : [encSecret(secret)] });
    return { tenantId, r };
  };

  const processor = (o: Partial<DeliveryProcessorOptions> = {}) =>
    createDeliveryProcessor({
      egress: LOCAL_RECEIVERS,
      keyring,
      open: personal.open,
      tenantOf: (id) => endpoints.get(id),
      now: () => Date.now(),
      log: silentLog,
      timeoutMs: 2000,
      maxRetries: 3,
      backoff: { baseMs: 100, maxMs: 400 },
      messageTimeoutMs: 30_000,
      random: () => 0.5,
      ...o,
    });

  test('an outcome event reaches the seed receiver signed as the SQLite worker signs it, and is acked', async () => {
    const { tenantId, r } = await tenant();
    const attempts: DeliveryAttempt[] = [];
    const proc = processor({ onAttempt: (a) => attempts.push(a) });
    const e = outcomeEvent(tenantId, { userId: 'user_77' });
    const x = push(e);
    proc.push(x.p);
    assert.deepEqual(await x.answered, { kind: 'ack' });
    assert.equal(r.accepted.length, 1, 'the seed receiver verified the signature');
    assert.equal(r.accepted[0].eventId, e.id);
    assert.equal(r.accepted[0].headers['x-securekey-delivery-id'], deliveryIdOf(e.id));
    assert.deepEqual(r.log, ['sms 인증 완료: user_77']);
    assert.equal(attempts.length, 1);
    assert.deepEqual({ ...attempts[0], at: 0, durationMs: 0 }, { deliveryId: deliveryIdOf(e.id), eventId: e.id, tenantId, attempt: 1, at: 0, durationMs: 0, statusCode: 200, error: null, outcome: 'delivered' });
    await proc.stop();
  });

  test('a 500 is nacked for retry after the backoff delay; the re-sent event is delivered and acked', async () => {
    const { tenantId, r } = await tenant({ mode: 'error500' });
    const proc = processor();
    const e = outcomeEvent(tenantId);
    const first = push(e, 0);
    const t0 = performance.now();
    proc.push(first.p);
    assert.deepEqual(await first.answered, { kind: 'nack', action: 'retry', reason: 'http 500 (attempt 1 of 4)' });
    assert.ok(performance.now() - t0 >= 70, 'the nack waited out the delay (75 ms with this jitter)');
    assert.equal(r.requests(), 1);
    r.setMode('ok');
    const again = push(e, 1); // the server re-sends it with retryCount 1
    proc.push(again.p);
    assert.deepEqual(await again.answered, { kind: 'ack' });
    assert.equal(r.accepted.length, 1);
    assert.equal(r.accepted[0].eventId, e.id);
    await proc.stop();
  });

  test('a timeout is a failure like any other', async () => {
    const { tenantId } = await tenant({ mode: 'hang' });
    const proc = processor({ timeoutMs: 200 });
    const x = push(outcomeEvent(tenantId));
    proc.push(x.p);
    assert.deepEqual(await x.answered, { kind: 'nack', action: 'retry', reason: 'timeout after 200 ms (attempt 1 of 4)' });
    await proc.stop();
  });

  test('the failure that spends the last retry parks the event, with the reason', async () => {
    const { tenantId, r } = await tenant({ mode: 'error500' });
    const attempts: DeliveryAttempt[] = [];
    const proc = processor({ onAttempt: (a) => attempts.push(a) });
    const x = push(outcomeEvent(tenantId), 3);
    proc.push(x.p);
    assert.deepEqual(await x.answered, { kind: 'nack', action: 'park', reason: 'http 500 (attempt 4 of 4; retries exhausted)' });
    assert.equal(r.requests(), 1);
    assert.equal(attempts[0].outcome, 'parked');
    assert.equal(attempts[0].attempt, 4);
    await proc.stop();
  });

  test('no webhook URL: acked without a request; no secret: parked without a request', async () => {
    const noUrl = await tenant({ url: '' });
    const noSecret = await tenant({ secret: null });
    const proc = processor();
    const a = push(outcomeEvent(noUrl.tenantId));
    const b = push(outcomeEvent(noSecret.tenantId));
    const c = push(outcomeEvent('ten_unknown'));
    proc.push(a.p);
    proc.push(b.p);
    proc.push(c.p);
    assert.deepEqual(await a.answered, { kind: 'ack' });
    assert.deepEqual(await b.answered, { kind: 'nack', action: 'park', reason: 'no webhook secret: rotate the webhook secret, then replay the parked messages' });
    assert.deepEqual(await c.answered, { kind: 'ack' });
    assert.equal(noUrl.r.requests() + noSecret.r.requests(), 0);
    await proc.stop();
  });

  test('an event that is not an outcome is acked at once; an unreadable entry is parked', async () => {
    const proc = processor();
    const a = push(outcomeEvent('ten_x', { type: 'OtpIssued' }));
    const b = push(undefined);
    proc.push(a.p);
    proc.push(b.p);
    assert.deepEqual(await a.answered, { kind: 'ack' });
    assert.deepEqual(await b.answered, { kind: 'nack', action: 'park', reason: 'an entry without an event' });
    assert.equal(proc.size(), 0, 'neither took a slot');
    await proc.stop();
  });

  test('a slow receiver holds only its own tenant\'s slots: another tenant is delivered meanwhile', async () => {
    const slow = await tenant({ delayMs: 500 });
    const fast = await tenant();
    let inFlight = 0;
    let maxSlowInFlight = 0;
    const countingFetch: typeof fetch = async (url, init) => {
      const isSlow = String(url) === slow.r.url;
      if (isSlow) maxSlowInFlight = Math.max(maxSlowInFlight, ++inFlight);
      try {
        return await fetch(url, init);
      } finally {
        if (isSlow) inFlight--;
      }
    };
    const proc = processor({ fetch: countingFetch, perTenantConcurrency: 2 });
    const slowOnes = Array.from({ length: 5 }, () => push(outcomeEvent(slow.tenantId)));
    for (const s of slowOnes) proc.push(s.p);
    const f = push(outcomeEvent(fast.tenantId));
    proc.push(f.p);
    assert.deepEqual(await f.answered, { kind: 'ack' });
    assert.equal(slowOnes.filter((s) => s.answers.length > 0).length, 0, 'the fast tenant did not wait for the slow one');
    await until('only the slow tenant\'s events held', () => proc.size() === 5, 1000);
    await Promise.all(slowOnes.map((s) => s.answered));
    assert.ok(slowOnes.every((s) => s.answers[0].kind === 'ack'));
    assert.equal(maxSlowInFlight, 2, 'the slow tenant never had more than its 2 requests at once');
    assert.equal(slow.r.accepted.length, 5);
    await proc.stop();
  });

  test('a tenant whose endpoint fails keeps at most its cap on this node: the rest are parked unattempted, other tenants flow, and once it works it is capped no more', async () => {
    const failing = await tenant({ mode: 'error500' });
    const healthy = await tenant();
    const attempts: DeliveryAttempt[] = [];
    const proc = processor({ perTenantConcurrency: 1, maxHeldWhenFailing: 2, backoff: { baseMs: 2000, maxMs: 2000 }, onAttempt: (a) => attempts.push(a) });
    const xs = Array.from({ length: 4 }, () => push(outcomeEvent(failing.tenantId)));
    for (const x of xs) proc.push(x.p);
    // The first attempt fails: it waits out its delay, the next one stays queued, the two newest are parked.
    await until('the two newest parked', () => xs[2].answers.length + xs[3].answers.length === 2, 5000);
    for (const x of xs.slice(2)) assert.match(x.answers[0].kind === 'nack' ? `${x.answers[0].action}: ${x.answers[0].reason}` : 'ack', /^park: its endpoint is failing and it already has 2 deliveries in progress/);
    assert.equal(proc.size(), 2);
    const late = push(outcomeEvent(failing.tenantId));
    proc.push(late.p);
    assert.equal(((await late.answered) as { action?: string }).action, 'park', 'an arrival beyond the cap is parked at once');
    const other = push(outcomeEvent(healthy.tenantId));
    proc.push(other.p);
    assert.deepEqual(await other.answered, { kind: 'ack' });
    assert.equal(failing.r.requests(), 1, 'parked events were never attempted');
    assert.deepEqual(attempts.filter((a) => a.tenantId === failing.tenantId).map((a) => a.outcome).sort(), ['parked', 'parked', 'parked', 'retrying']);

    failing.r.setMode('ok');
    assert.equal(((await xs[0].answered) as { action?: string }).action, 'retry');
    assert.deepEqual(await xs[1].answered, { kind: 'ack' }, 'the queued one is attempted, and succeeds');
    const burst = Array.from({ length: 5 }, () => push(outcomeEvent(failing.tenantId)));
    for (const b of burst) proc.push(b.p);
    assert.deepEqual(await Promise.all(burst.map((b) => b.answered)), burst.map(() => ({ kind: 'ack' })), 'working again: a burst beyond the cap queues and is delivered');
    await proc.stop();
  });

  test('stop aborts requests in flight and does not answer (the server re-sends those events)', async () => {
    const { tenantId, r } = await tenant({ mode: 'hang' });
    const proc = processor({ timeoutMs: 10_000 });
    const x = push(outcomeEvent(tenantId));
    proc.push(x.p);
    await until('the request', () => r.requests() === 1, 5000);
    const t0 = performance.now();
    await proc.stop();
    assert.ok(performance.now() - t0 < 5000, 'long before the 10 s request timeout');
    await nextTick();
    assert.deepEqual(x.answers, []);
    const late = push(outcomeEvent(tenantId));
    proc.push(late.p);
    await nextTick();
    assert.deepEqual(late.answers, [], 'nothing is taken after stop');
  });

  test('when the subscription that pushed an event ends, its request and delay are dropped unanswered', async () => {
    const { tenantId, r } = await tenant({ mode: 'error500' });
    const proc = processor({ backoff: { baseMs: 5000, maxMs: 5000 } });
    const ac = new AbortController();
    const x = push(outcomeEvent(tenantId), 0, ac.signal);
    proc.push(x.p);
    await until('the failed request', () => r.requests() === 1, 5000);
    await nextTick();
    ac.abort(); // during the 2.5–5 s delay
    await until('the delay to be dropped', () => proc.size() === 0, 1000);
    assert.deepEqual(x.answers, []);
    await proc.stop();
  });
});

describe('the persistent delivery with no KurrentDB server listening', () => {
  test('start resolves quickly without subscribing, keeps retrying in the background, and stop is prompt', async () => {
    const warnings: string[] = [];
    const d = createPersistentWebhookDelivery({
      egress: LOCAL_RECEIVERS,
      connectionString: 'kurrentdb://127.0.0.1:1?tls=false',
      keyring,
      open: personal.open,
      tenantOf: () => undefined,
      now: () => Date.now(),
      log: { info: () => {}, warn: (o, m) => warnings.push(`${m} ${JSON.stringify(o)}`) },
      timeoutMs: 1000,
      maxRetries: 3,
      operationTimeoutMs: 1000,
    });
    const t0 = performance.now();
    await d.start();
    assert.ok(performance.now() - t0 < 3000);
    assert.equal(d.subscribed(), false);
    await until('a second subscription attempt', () => warnings.length >= 2, 5000);
    assert.match(warnings[0], /webhook subscription failed; subscribing again/);
    const t1 = performance.now();
    await d.stop();
    assert.ok(performance.now() - t1 < 1000);
    const n = warnings.length;
    await new Promise((r) => setTimeout(r, 1200));
    assert.equal(warnings.length, n, 'no attempts after stop');
    await assert.rejects(d.replayParked(), 'replaying parked messages needs the server');
  });
});

// ── against a real server ───────────────────────────────────────────────────────────────────
const url = process.env.KURRENTDB_URL;
if (!url) {
  const reason = 'KURRENTDB_URL is not set: no KurrentDB server on this machine';
  console.log(`KurrentDB webhook delivery tests skipped: ${reason}`);
  test('webhook delivery through a KurrentDB persistent subscription', { skip: reason }, () => {});
} else {
  describe('webhook delivery through a KurrentDB persistent subscription', () => {
    let store: EventStore;
    let admin: KurrentDBClient;
    const groups: string[] = [];
    const receivers: NodeReceiver[] = [];
    const endpoints = new Map<string, WebhookEndpoint>();
    before(() => {
      store = createKurrentDbEventStore({ connectionString: url });
      admin = KurrentDBClient.connectionString(url);
    });
    const started: PersistentWebhookDelivery[] = [];
    after(async () => {
      for (const d of started) await d.stop(); // first: a running node would re-create a deleted group
      for (const r of receivers) await r.close();
      for (const g of groups) await admin.deletePersistentSubscriptionToAll(g).catch(() => {});
      await admin.dispose();
      await store.close();
    });

    const tenant = async (mode: 'ok' | 'error500' = 'ok') => {
      const secret = `whsec_${randomBytes(8).toString('hex')}`;
      const r = await startNodeReceiver({ secret, mode });
      receivers.push(r);
      const tenantId = `tenkwh${randomBytes(4).toString('hex')}`;
      endpoints.set(tenantId, { url: r.url, secretsEnc: [encSecret(secret)] });
      return { tenantId, r };
    };

    /** A delivery instance (one "node") in `group`, counting what it sent. */
    const node = (group: string, o: { maxRetries?: number } = {}) => {
      const sent: string[] = [];
      const d = createPersistentWebhookDelivery({
        egress: LOCAL_RECEIVERS,
        connectionString: url,
        group,
        startFrom: 'end', // only this test's events, not the server's history
        keyring,
        open: personal.open,
        tenantOf: (id) => endpoints.get(id),
        fetch: async (u, init) => {
          sent.push(String((init?.headers as Record<string, string>)['X-SecureKey-Event-Id']));
          return fetch(u, init);
        },
        now: () => Date.now(),
        log: silentLog,
        timeoutMs: 2000,
        maxRetries: o.maxRetries ?? 5,
        backoff: { baseMs: 100, maxMs: 300 },
        bufferSize: 4,
      });
      return { d, sent };
    };

    const newGroup = () => {
      const g = `securekey-webhooks-test-${randomBytes(4).toString('hex')}`;
      groups.push(g);
      return g;
    };

    const append = async (tenantId: string, n: number) => {
      const ids: string[] = [];
      for (let i = 0; i < n; i++) {
        const id = randomUUID();
        ids.push(id);
        await store.appendToStream(`otp-${tenantId}.sms.h${i}`, [
          { id, type: 'OtpVerified', data: { otpId: `otp_${i}`, channel: 'sms', purpose: 'login', userId: `user_${i}`, masked: '+82 10-****-5678', attempts: 1, attemptsRemaining: 4 }, metadata: { tenantId } },
        ]);
      }
      return ids;
    };

    const startAll = async (...ds: PersistentWebhookDelivery[]) => {
      for (const d of ds) {
        started.push(d);
        await d.start();
        assert.equal(d.subscribed(), true, 'subscribed to the group');
      }
    };

    test('two nodes in one group share the work and each event arrives once', async () => {
      const group = newGroup();
      const { tenantId, r } = await tenant();
      const a = node(group);
      const b = node(group);
      await startAll(a.d, b.d);
      const ids = await append(tenantId, 40);
      await until('every event delivered', () => new Set(r.accepted.map((x) => x.eventId)).size === ids.length, 30_000);
      await new Promise((res) => setTimeout(res, 500)); // would-be duplicates arrive now
      assert.deepEqual(r.accepted.map((x) => x.eventId).sort(), [...ids].sort(), 'each event exactly once');
      assert.ok(a.sent.length > 0 && b.sent.length > 0, `both nodes delivered (${a.sent.length} + ${b.sent.length})`);
      assert.equal(a.sent.length + b.sent.length, ids.length);
      assert.equal(new Set([...a.sent, ...b.sent]).size, ids.length);
    });

    test('a receiver answering 500 gets retries, then the event once it recovers', async () => {
      const group = newGroup();
      const { tenantId, r } = await tenant('error500');
      const a = node(group);
      await startAll(a.d);
      const [id] = await append(tenantId, 1);
      await until('two failed attempts', () => r.requests() >= 2, 15_000);
      assert.equal(r.accepted.length, 0);
      r.setMode('ok');
      await until('the delivery after recovery', () => r.accepted.length === 1, 15_000);
      assert.equal(r.accepted[0].eventId, id);
      assert.ok(a.sent.length >= 3 && a.sent.every((x) => x === id));
    });

    test('a receiver that never recovers gets the event parked in the group\'s parked stream', async () => {
      const group = newGroup();
      const { tenantId, r } = await tenant('error500');
      const a = node(group, { maxRetries: 1 });
      await startAll(a.d);
      const [id] = await append(tenantId, 1);
      const parked = async () => {
        try {
          for await (const e of admin.readStream(parkedStreamOf(group), { resolveLinkTos: true, maxCount: 10 })) if (e.event?.id === id) return true;
        } catch {
          // the parked stream does not exist yet
        }
        return false;
      };
      await until('the event in the parked stream', parked, 20_000);
      assert.equal(r.requests(), 2, 'the first attempt and one retry');
      assert.equal(r.accepted.length, 0);
    });
  });
}
