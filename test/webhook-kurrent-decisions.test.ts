// The decisions of webhook delivery over a KurrentDB persistent subscription, without a server:
// the group's settings and filter, what to do with each event, ack / nack 'retry' / nack 'park'
// after an attempt, secret rotation, and the per-tenant slots.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { END, EVENT_TYPE, ROUND_ROBIN, START } from '@kurrent/kurrentdb-client';
import { deliveryIdOf } from '../src/webhooks/outbox.ts';
import { createKeyring } from '../src/crypto/keyring.ts';
import type { StoredEvent } from '../src/eventstore/port.ts';
import { toWebhookMessage, WEBHOOK_EVENT_TYPES, webhookBody } from '../src/webhooks/events.ts';
import {
  decideAfterAttempt,
  decideBeforeAttempt,
  decideOnArrival,
  defaultMessageTimeoutMs,
  failingTenantCap,
  groupLimits,
  isGroupExistsError,
  parkedStreamOf,
  persistentSubscriptionSettings,
  planDelivery,
  reconnectDelay,
  TIMEOUT_SAFETY_MS,
  webhookEventFilter,
  webhookEventTypeRegex,
} from '../src/webhooks/kurrent/decisions.ts';
import { endpointOf } from '../src/webhooks/kurrent/endpoints.ts';
import { createTenantSlots } from '../src/webhooks/kurrent/tenant-slots.ts';
import { signBody, verifyV2, webhookHeaders } from '../src/webhooks/sign.ts';

const backoff = { baseMs: 100, maxMs: 1000 };
const NOW = Date.UTC(2026, 10, 20, 12, 0, 0);

const otpVerified = (o: { tenantId?: string; recordedAt?: number; type?: string } = {}): StoredEvent => ({
  id: randomUUID(),
  type: o.type ?? 'OtpVerified',
  data: { otpId: 'otp_1', channel: 'sms', purpose: 'login', userId: 'user_42', masked: '+82 10-****-5678', attempts: 1, attemptsRemaining: 4, codeHash: 'never-sent' },
  metadata: { tenantId: o.tenantId ?? 'ten_a' },
  streamName: 'otp-ten_a.sms.abc',
  revision: 1,
  position: 1234,
  recordedAt: new Date(o.recordedAt ?? NOW - 1000),
});

describe('the subscription group', () => {
  test('the server-side filter matches exactly our outcome event types, by event type', () => {
    const re = new RegExp(webhookEventTypeRegex());
    for (const t of WEBHOOK_EVENT_TYPES) assert.ok(re.test(t), t);
    for (const t of ['OtpIssued', 'OtpVerifiedX', 'xOtpVerified', '$metadata', '$>', 'TenantCreated', 'WebhookSecretRotated', '']) assert.ok(!re.test(t), t);
    const f = webhookEventFilter();
    assert.equal(f.filterOn, EVENT_TYPE);
    assert.equal(f.regex, webhookEventTypeRegex());
    assert.equal(new RegExp(webhookEventTypeRegex(['A.B', 'C+'])).test('AxB'), false, 'type names are escaped');
  });

  test('settings: start, no link resolution, retry budget, round robin, message timeout beyond a request plus the longest delay', () => {
    const s = persistentSubscriptionSettings({ timeoutMs: 10_000, maxRetries: 11, backoff: { baseMs: 5000, maxMs: 60_000 }, startFrom: 'start' });
    assert.equal(s.startFrom, START);
    assert.equal(s.resolveLinkTos, false);
    assert.equal(s.maxRetryCount, 11);
    assert.equal(s.consumerStrategyName, ROUND_ROBIN);
    assert.equal(s.messageTimeout, 2 * (10_000 + 60_000) + TIMEOUT_SAFETY_MS);
    assert.ok(s.messageTimeout > 10_000 + 60_000);
    assert.equal(persistentSubscriptionSettings({ timeoutMs: 1000, maxRetries: 0, backoff, startFrom: 'end' }).startFrom, END);
    assert.equal(defaultMessageTimeoutMs(100, { baseMs: 10, maxMs: 100 }), 30_000, 'never under 30 s');
    assert.equal(persistentSubscriptionSettings({ timeoutMs: 1000, maxRetries: 3, backoff, startFrom: 'end', messageTimeoutMs: 45_000 }).messageTimeout, 45_000);
  });

  test('settings that could not work are refused', () => {
    assert.throws(() => persistentSubscriptionSettings({ timeoutMs: 10_000, maxRetries: 3, backoff, startFrom: 'end', messageTimeoutMs: 12_000 }), RangeError);
    assert.throws(() => persistentSubscriptionSettings({ timeoutMs: 10_000, maxRetries: -1, backoff, startFrom: 'end' }), RangeError);
    assert.throws(() => persistentSubscriptionSettings({ timeoutMs: 0, maxRetries: 1, backoff, startFrom: 'end' }), RangeError);
  });

  test('the parked (dead-letter) stream of a group on $all', () => {
    assert.equal(parkedStreamOf('securekey-webhooks'), '$persistentsubscription-$all::securekey-webhooks-parked');
  });

  test('"group exists" is recognised by the client error tag or a bare ALREADY_EXISTS, nothing else', () => {
    assert.equal(isGroupExistsError({ type: 'persistent-subscription-exists', code: 6 }), true);
    assert.equal(isGroupExistsError({ code: 6, message: '6 ALREADY_EXISTS' }), true);
    assert.equal(isGroupExistsError({ type: 'unavailable', code: 14 }), false);
    assert.equal(isGroupExistsError({ type: 'access-denied', code: 6 }), false);
    assert.equal(isGroupExistsError(new Error('boom')), false);
    assert.equal(isGroupExistsError(null), false);
  });

  test("the processor follows the group's own limits, read back from the server, and names what differs from the configuration", () => {
    const configured = { maxRetries: 11, messageTimeoutMs: 145_000 };
    assert.deepEqual(groupLimits({ configured, server: { maxRetryCount: 11, messageTimeout: 145_000 }, timeoutMs: 10_000 }), { limits: configured, differences: [] });
    // Created earlier with other settings: a lower retry budget and a shorter message timeout are followed,
    // so an event is not parked before the server stops retrying it, nor held past the server's timeout.
    const r = groupLimits({ configured, server: { maxRetryCount: 3, messageTimeout: 40_000 }, timeoutMs: 10_000 });
    assert.ok('limits' in r);
    assert.deepEqual(r.limits, { maxRetries: 3, messageTimeoutMs: 40_000 });
    assert.deepEqual(r.differences, ['maxRetryCount 3 (configured 11)', 'messageTimeout 40000 ms (configured 145000 ms)']);
    const more = groupLimits({ configured, server: { maxRetryCount: 20, messageTimeout: 145_000 }, timeoutMs: 10_000 });
    assert.ok('limits' in more && more.limits.maxRetries === 20, 'a higher budget too: parking earlier than the server would be wrong as well');
  });

  test('a group that does not time messages out (messageTimeout 0) leaves the processor unhurried; one too short for a request is refused', () => {
    const r = groupLimits({ configured: { maxRetries: 3, messageTimeoutMs: 30_000 }, server: { maxRetryCount: 3, messageTimeout: 0 }, timeoutMs: 10_000 });
    assert.ok('limits' in r && r.limits.messageTimeoutMs === Infinity);
    const short = groupLimits({ configured: { maxRetries: 3, messageTimeoutMs: 30_000 }, server: { maxRetryCount: 3, messageTimeout: 12_000 }, timeoutMs: 10_000 });
    assert.ok('unusable' in short);
    assert.match(short.unusable, /12000 ms.*10000 ms/);
  });

  test('resubscribing backs off, from half a second to at most 30 s', () => {
    assert.ok(reconnectDelay(1, () => 0) >= 250 && reconnectDelay(1, () => 0.99) <= 500);
    assert.ok(reconnectDelay(50, () => 0.99) <= 30_000);
  });
});

describe('planning one event', () => {
  const keyring = createKeyring(randomBytes(32));
  const decrypt = (enc: string) => keyring.decrypt('webhook-secret', enc);
  const secret = 'whsec_current';
  const endpoint = { url: 'https://hooks.example/securekey', secretsEnc: [keyring.encrypt('webhook-secret', secret)] };
  const plan = (o: Partial<Parameters<typeof planDelivery>[0]> = {}) => planDelivery({ event: otpVerified(), endpoint, decrypt, now: NOW, maxAgeMs: 3 * 24 * 3600_000, ...o });

  test('an outcome event is sent with the SQLite worker\'s body, headers and signatures', () => {
    const event = otpVerified();
    const p = plan({ event });
    assert.equal(p.kind, 'send');
    if (p.kind !== 'send') return;
    const body = webhookBody(toWebhookMessage(event)!);
    assert.equal(p.body, body);
    assert.equal(p.url, endpoint.url);
    assert.equal(p.tenantId, 'ten_a');
    assert.equal(p.deliveryId, deliveryIdOf(event.id));
    assert.deepEqual(p.headers, webhookHeaders({ secret, previousSecret: null, body, t: Math.floor(NOW / 1000), eventId: event.id, deliveryId: deliveryIdOf(event.id) }));
    assert.equal(p.headers['X-SecureKey-Signature'], signBody(secret, body));
    assert.ok(verifyV2({ header: p.headers['X-SecureKey-Signature-V2'], body, secret, nowSeconds: Math.floor(NOW / 1000) }));
    assert.doesNotMatch(p.body, /never-sent/, 'only whitelisted fields');
  });

  test('during a rotation\'s grace period both secrets sign', () => {
    const p = plan({ endpoint: { url: endpoint.url, secretsEnc: [keyring.encrypt('webhook-secret', 'new'), keyring.encrypt('webhook-secret', 'old')] } });
    assert.equal(p.kind, 'send');
    if (p.kind !== 'send') return;
    assert.equal(p.headers['X-SecureKey-Signature'], signBody('new', p.body));
    assert.equal(p.headers['X-SecureKey-Signature-Previous'], signBody('old', p.body));
    for (const s of ['new', 'old']) assert.ok(verifyV2({ header: p.headers['X-SecureKey-Signature-V2'], body: p.body, secret: s, nowSeconds: Math.floor(NOW / 1000) }));
  });

  test('not an outcome event, too old, or no URL: acked without sending', () => {
    assert.deepEqual(plan({ event: otpVerified({ type: 'OtpIssued' }) }), { kind: 'skip', reason: 'not a webhook event' });
    assert.equal(plan({ event: otpVerified({ recordedAt: NOW - 4 * 24 * 3600_000 }) }).kind, 'skip');
    assert.match((plan({ event: otpVerified({ recordedAt: NOW - 4 * 24 * 3600_000 }) }) as { reason: string }).reason, /older than 72 h/);
    assert.deepEqual(plan({ endpoint: undefined }), { kind: 'skip', reason: 'no webhook URL configured' });
    assert.deepEqual(plan({ endpoint: { url: '', secretsEnc: endpoint.secretsEnc } }), { kind: 'skip', reason: 'no webhook URL configured' });
  });

  test('no secret, or a secret this master key cannot decrypt: parked with the reason', () => {
    assert.deepEqual(plan({ endpoint: { url: endpoint.url, secretsEnc: [] } }), { kind: 'park', reason: 'no webhook secret: rotate the webhook secret, then replay the parked messages' });
    const other = createKeyring(randomBytes(32));
    assert.deepEqual(plan({ endpoint: { url: endpoint.url, secretsEnc: [other.encrypt('webhook-secret', 's')] } }), { kind: 'park', reason: 'webhook secret cannot be decrypted with this master key' });
  });
});

describe('after an attempt', () => {
  const decide = (o: Partial<Parameters<typeof decideAfterAttempt>[0]> = {}) => decideAfterAttempt({ result: { status: 200 }, retryCount: 0, maxRetries: 3, backoff, random: () => 0.5, ...o });

  test('any 2xx acks, whatever the retry count', () => {
    for (const status of [200, 201, 202, 204, 299]) assert.equal(decide({ result: { status }, retryCount: 3 }), 'ack');
  });

  test('a failure is retried after an exponential, jittered delay while retries remain', () => {
    assert.deepEqual(decide({ result: { status: 500 } }), { nack: 'retry', delayMs: 75, reason: 'http 500 (attempt 1 of 4)' });
    assert.deepEqual(decide({ result: { status: 503 }, retryCount: 2 }), { nack: 'retry', delayMs: 300, reason: 'http 503 (attempt 3 of 4)' });
    assert.deepEqual(decide({ result: { error: 'timeout after 10000 ms' }, retryCount: 1 }), { nack: 'retry', delayMs: 150, reason: 'timeout after 10000 ms (attempt 2 of 4)' });
    for (const status of [301, 302, 400, 404, 410, 429]) assert.equal((decide({ result: { status } }) as { nack: string }).nack, 'retry', `${status} is a failure`);
    const delays = [0, 0.25, 0.999].map((r) => (decide({ result: { status: 500 }, retryCount: 9, maxRetries: 20, random: () => r }) as { delayMs: number }).delayMs);
    assert.ok(delays.every((d) => d >= 500 && d <= 1000), `capped at maxMs with jitter: ${delays}`);
  });

  test('the failure that spends the last retry parks the event', () => {
    assert.deepEqual(decide({ result: { status: 500 }, retryCount: 3 }), { nack: 'park', reason: 'http 500 (attempt 4 of 4; retries exhausted)' });
    assert.deepEqual(decide({ result: { error: 'network error: ECONNREFUSED' }, maxRetries: 0 }), { nack: 'park', reason: 'network error: ECONNREFUSED (attempt 1 of 1; retries exhausted)' });
    assert.equal((decide({ result: { status: 500 }, retryCount: 7 }) as { nack: string }).nack, 'park', 'a replayed or over-counted event too');
  });

  test('the delay ends before the server\'s message timeout', () => {
    assert.equal((decide({ result: { status: 500 }, retryCount: 2, timeLeftMs: TIMEOUT_SAFETY_MS + 120 }) as { delayMs: number }).delayMs, 120);
    assert.equal((decide({ result: { status: 500 }, retryCount: 2, timeLeftMs: 10 }) as { delayMs: number }).delayMs, 0);
    assert.equal((decide({ result: { status: 500 }, retryCount: 2, timeLeftMs: 60_000 }) as { delayMs: number }).delayMs, 300);
  });

  test('an event that waited too long for its tenant\'s slot is handed back instead of sent', () => {
    assert.equal(decideBeforeAttempt({ heldMs: 0, timeoutMs: 10_000, messageTimeoutMs: 30_000 }), 'attempt');
    assert.equal(decideBeforeAttempt({ heldMs: 14_999, timeoutMs: 10_000, messageTimeoutMs: 30_000 }), 'attempt');
    const back = decideBeforeAttempt({ heldMs: 15_000, timeoutMs: 10_000, messageTimeoutMs: 30_000 });
    assert.deepEqual(back, { nack: 'retry', reason: 'waited 15 s for a free slot of its tenant on this node; handed back' });
  });
});

describe('secret rotation', () => {
  const row = { url: 'https://h.example/x', secret_enc: 'enc-new', previous_secret_enc: 'enc-old', rotated_at: NOW - 1000 };
  test('the previous secret signs too until the grace period ends', () => {
    assert.deepEqual(endpointOf(row, NOW, 24 * 3600_000), { url: row.url, secretsEnc: ['enc-new', 'enc-old'] });
    assert.deepEqual(endpointOf(row, NOW + 24 * 3600_000, 24 * 3600_000), { url: row.url, secretsEnc: ['enc-new'] });
    assert.deepEqual(endpointOf({ ...row, previous_secret_enc: null }, NOW, 24 * 3600_000), { url: row.url, secretsEnc: ['enc-new'] });
    assert.deepEqual(endpointOf({ ...row, secret_enc: null, previous_secret_enc: null, rotated_at: null }, NOW, 1000), { url: row.url, secretsEnc: [] });
    assert.equal(endpointOf(undefined, NOW, 1000), undefined);
  });
});

describe('a failing tenant', () => {
  test('holds at most twice its concurrency, and never more than a quarter of the window (bufferSize)', () => {
    assert.equal(failingTenantCap(4, 32), 8);
    assert.equal(failingTenantCap(4, 200), 8);
    assert.equal(failingTenantCap(4, 16), 4);
    assert.equal(failingTenantCap(2, 8), 2);
    assert.equal(failingTenantCap(4, 2), 1, 'never zero: it can still retry one event');
  });

  test('beyond its cap, a failing tenant\'s events are parked at once; a working tenant is never capped', () => {
    assert.equal(decideOnArrival({ held: 100, cap: 8, failing: false }), 'take');
    assert.equal(decideOnArrival({ held: 7, cap: 8, failing: true }), 'take');
    const parked = decideOnArrival({ held: 8, cap: 8, failing: true });
    assert.notEqual(parked, 'take');
    assert.match((parked as { park: string }).park, /endpoint is failing.*8 deliveries in progress.*replay the parked messages/);
  });
});

describe('per-tenant slots', () => {
  const deferred = () => {
    let resolve!: () => void;
    const promise = new Promise<void>((r) => (resolve = r));
    return { promise, resolve };
  };

  test('a tenant runs at most its limit at once, in arrival order, and never holds up another tenant', async () => {
    const slots = createTenantSlots(2);
    const started: string[] = [];
    const gates = new Map<string, ReturnType<typeof deferred>>();
    const job = (name: string) => () => {
      started.push(name);
      const g = deferred();
      gates.set(name, g);
      return g.promise;
    };
    const done = ['a1', 'a2', 'a3', 'a4'].map((n) => slots.run('A', job(n)));
    const b = slots.run('B', job('b1'));
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(started, ['a1', 'a2', 'b1']);
    assert.equal(slots.running('A'), 2);
    assert.equal(slots.waiting('A'), 2);
    assert.equal(slots.size(), 5);
    gates.get('b1')!.resolve();
    await b;
    gates.get('a2')!.resolve();
    await done[1];
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(started, ['a1', 'a2', 'b1', 'a3']);
    for (const n of ['a1', 'a3']) gates.get(n)!.resolve();
    await new Promise((r) => setImmediate(r));
    gates.get('a4')!.resolve();
    await Promise.all(done);
    assert.equal(slots.size(), 0);
    assert.equal(slots.running('A'), 0);
  });

  test('shedding drops the newest waiting jobs (never a running one) and reports each', async () => {
    const slots = createTenantSlots(1);
    const started: string[] = [];
    const shed: string[] = [];
    let release!: () => void;
    const first = slots.run('A', () => {
      started.push('a1');
      return new Promise<void>((r) => (release = r));
    });
    const rest = ['a2', 'a3', 'a4'].map((n) => slots.run('A', async () => void started.push(n), () => shed.push(n)));
    assert.equal(slots.shed('A', 2), 2);
    assert.deepEqual(shed, ['a4', 'a3'], 'newest first');
    assert.equal(slots.size(), 2);
    await Promise.all(rest.slice(1)); // shed jobs resolve at once
    assert.equal(slots.shed('A', 0), 1, 'keep 0 still leaves the running job');
    assert.equal(slots.shed('B', 0), 0);
    release();
    await first;
    await rest[0];
    assert.deepEqual(started, ['a1']);
    assert.deepEqual(shed, ['a4', 'a3', 'a2']);
    assert.equal(slots.size(), 0);
  });

  test('a job that throws frees its slot and is reported', async () => {
    const errors: unknown[] = [];
    const slots = createTenantSlots(1, (e) => errors.push(e));
    await slots.run('A', async () => {
      throw new Error('boom');
    });
    let ran = false;
    await slots.run('A', async () => {
      ran = true;
    });
    assert.equal(ran, true);
    assert.equal(errors.length, 1);
    assert.throws(() => createTenantSlots(0), RangeError);
  });
});
