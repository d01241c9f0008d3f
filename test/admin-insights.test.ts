// The operator's read side through the admin API (REST and gRPC alike): insights from a seeded
// run, per tenant and overall, in time buckets; the settings schema; audit search by channel and
// outcome; one webhook delivery with its attempts and the endpoint's health; this node's metrics
// over time and the system view.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import { AdminService } from '../src/gen/securekey/v1/admin_pb.js';
import { expectedOf, TENANT_SETTINGS } from '../src/domain/tenant/settings.ts';
import { quantileMs } from '../src/api/metrics-history.ts';
import { createTestClock } from './helpers/clock.ts';
import { grpcCall } from './helpers/grpc.ts';
import { ADMIN_TOKEN, startTestServer, type TestServer } from './helpers/server.ts';
import { startSmsGateway } from './helpers/sms-gateway.ts';
import { seedTraffic } from './helpers/traffic.ts';
import { until } from './helpers/until.ts';

const HOUR = 3_600_000;

describe('admin API: insights, schema, audit search, webhook detail, metrics and system', () => {
  const clock = createTestClock(-5 * HOUR);
  let s: TestServer;
  let sms: Awaited<ReturnType<typeof startSmsGateway>>;
  let hook: Server;
  let hookUrl = '';
  let hookAnswers = [500, 503];
  let acme: { tenantId: string; apiKey: string };
  let other: { tenantId: string; apiKey: string };
  let seeded: Awaited<ReturnType<typeof seedTraffic>>;
  const seededFrom = clock.now();

  before(async () => {
    sms = await startSmsGateway();
    hook = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(hookAnswers.shift() ?? 200).end('ok'));
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    hookUrl = `http://127.0.0.1:${(hook.address() as { port: number }).port}/hook`;
    s = await startTestServer(
      { SECUREKEY_SMS_PROVIDER: 'http', SECUREKEY_SMS_HTTP_URL: sms.url, SECUREKEY_WEBHOOK_BACKOFF_BASE_MS: '30', SECUREKEY_WEBHOOK_BACKOFF_MAX_MS: '60', SECUREKEY_WEBHOOK_MAX_ATTEMPTS: '3' },
      { now: clock.now, metricsSampleMs: 200 },
    );
    acme = await s.createTenant('acme');
    other = await s.createTenant('other');
    seeded = await seedTraffic(s, sms, clock, acme);
    const r = await s.call(other.apiKey, '/api/v1/otp/send', { phone: '01012340000', purpose: 'login' });
    assert.equal(r.status, 200, JSON.stringify(r.body));
  });
  after(async () => {
    await s?.stop();
    await sms?.close();
    hook?.close();
  });

  const insights = async (query: string) => {
    const r = await s.admin('GET', `/api/v1/admin/insights?${query}`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body.data as {
      stepSeconds: number;
      buckets: string[];
      series: { channel: string; metric: string; counts: number[]; total: number }[];
      channels: { channel: string; started: number; verified: number; conversion: number; conversionPerBucket: number[] }[];
      smsCountries: { country: string; sent: number; verified: number; failed: number; conversion: number }[];
    };
  };
  const total = (d: Awaited<ReturnType<typeof insights>>, channel: string, metric: string) => d.series.find((x) => x.channel === channel && x.metric === metric)?.total ?? 0;

  test('insights of a tenant: sends, verifications and conversion per channel in hourly buckets, SMS per country, push and TOTP signals', async () => {
    const d = await insights(`tenantId=${acme.tenantId}`);
    assert.equal(d.stepSeconds, 3600);
    assert.ok(d.buckets.length >= 24 && d.buckets.length <= 25, 'the last 24 hours, in whole hours');
    const sent = seeded.smsSent.KR + seeded.smsSent.US + seeded.smsSent.GB;
    const verified = seeded.smsVerified.KR + seeded.smsVerified.US + seeded.smsVerified.GB;
    assert.equal(total(d, 'sms', 'started'), sent);
    assert.equal(total(d, 'sms', 'verified'), verified);
    assert.equal(total(d, 'sms', 'failed'), verified, 'one wrong code before each right one');
    const sms = d.channels.find((c) => c.channel === 'sms')!;
    assert.equal(sms.conversion, verified / sent);
    // Spread over the hours the clock moved through: three buckets hold sends.
    const smsStarted = d.series.find((x) => x.channel === 'sms' && x.metric === 'started')!;
    assert.equal(smsStarted.counts.filter((c) => c > 0).length, 3, JSON.stringify(smsStarted.counts));
    assert.ok(sms.conversionPerBucket.every((c) => c >= 0 && c <= 1));
    assert.deepEqual(
      d.smsCountries.map((c) => [c.country, c.sent, c.verified]),
      [['US', seeded.smsSent.US, 0], ['GB', seeded.smsSent.GB, seeded.smsVerified.GB], ['KR', seeded.smsSent.KR, seeded.smsVerified.KR]],
    );
    assert.equal(d.smsCountries[0]!.conversion, 0, 'the pumping signal: many sends, no verifications');
    assert.equal(total(d, 'email', 'started'), seeded.email);
    assert.equal(total(d, 'push', 'verified'), seeded.pushApproved);
    assert.equal(total(d, 'push', 'denied'), seeded.pushDenied);
    assert.equal(total(d, 'push', 'not_me'), seeded.notMe);
    assert.equal(total(d, 'push', 'number_mismatch'), seeded.numberMismatch);
    assert.equal(total(d, 'totp', 'failed'), seeded.totpFailed);
    assert.equal(total(d, 'totp', 'throttled'), seeded.totpThrottled);
    // A passkey challenge has no time of its own and counts when the store recorded it (by the
    // machine's clock, hours after this server's test clock): a range up to the real now.
    const passkeys = await insights(`tenantId=${acme.tenantId}&from=${new Date(seededFrom).toISOString()}&to=${new Date(Date.now() + HOUR).toISOString()}`);
    assert.deepEqual(
      ['started', 'verified', 'failed', 'clone_suspected'].map((m) => total(passkeys, 'webauthn', m)),
      [seeded.passkeys.started, seeded.passkeys.verified, seeded.passkeys.failed, seeded.passkeys.cloneSuspected],
      'passkey sign-ins: challenges, successes, failures (another origin, a replayed signature) and a suspected clone',
    );
  });

  test('overall insights add every tenant; a range and step select the buckets; gRPC gives the same numbers as REST', async () => {
    const all = await insights('');
    assert.equal(total(all, 'sms', 'started'), seeded.smsSent.KR + seeded.smsSent.US + seeded.smsSent.GB + 1);
    const from = new Date(seededFrom - HOUR).toISOString();
    const to = new Date(clock.now() + HOUR).toISOString();
    const daily = await insights(`tenantId=${acme.tenantId}&from=${from}&to=${to}&stepSeconds=86400`);
    assert.equal(daily.stepSeconds, 86400);
    assert.ok(daily.buckets.length >= 1 && daily.buckets.length <= 2);
    assert.equal(total(daily, 'push', 'denied'), seeded.pushDenied);
    const rest = await insights(`tenantId=${acme.tenantId}&from=${from}&to=${to}`);
    const g = await grpcCall(
      `127.0.0.1:${s.port}`,
      AdminService.method.getInsights,
      { tenantId: acme.tenantId, from: timestampFromMs(Date.parse(from)), to: timestampFromMs(Date.parse(to)) },
      { 'x-admin-token': ADMIN_TOKEN },
    );
    assert.ok(g.ok, g.ok ? '' : g.details);
    assert.equal(g.message.stepSeconds, rest.stepSeconds);
    assert.deepEqual(
      g.message.series.map((x) => [x.channel, x.metric, x.counts]),
      rest.series.map((x) => [x.channel, x.metric, x.counts]),
    );
    assert.deepEqual(g.message.smsCountries.map((c) => [c.country, c.sent, c.verified]), rest.smsCountries.map((c) => [c.country, c.sent, c.verified]));
  });

  test('insights refuse a reversed range, a step that is not whole hours, too many buckets and an unknown tenant', async () => {
    const now = clock.now();
    const cases: [string, number, RegExp][] = [
      [`from=${new Date(now).toISOString()}&to=${new Date(now - HOUR).toISOString()}`, 400, /from: expected a time before to/],
      ['stepSeconds=100', 400, /stepSeconds: expected a positive multiple of 3600/],
      [`from=${new Date(now - 200 * 24 * HOUR).toISOString()}&stepSeconds=3600`, 400, /at most 1000 buckets/],
      ['tenantId=tn_nope', 404, /no such tenant/],
    ];
    for (const [query, status, message] of cases) {
      const r = await s.admin('GET', `/api/v1/admin/insights?${query}`);
      assert.equal(r.status, status, query);
      assert.match(r.body.error, message);
    }
  });

  test('the settings schema is the tenant aggregate table: every setting with type, range, default and what it accepts', async () => {
    const r = await s.admin('GET', '/api/v1/admin/settings-schema');
    assert.equal(r.status, 200);
    const got = r.body.data.settings as { name: string; type: string; accepts: string; defaultJson: string; min?: number; max?: number }[];
    assert.deepEqual(got.map((x) => x.name), Object.keys(TENANT_SETTINGS));
    for (const x of got) {
      const spec = TENANT_SETTINGS[x.name as keyof typeof TENANT_SETTINGS];
      assert.equal(x.type, spec.type);
      assert.equal(x.accepts, expectedOf(spec));
      assert.equal(x.defaultJson, spec.default === null ? '' : JSON.stringify(spec.default));
    }
    assert.deepEqual([got.find((x) => x.name === 'otpLength')!.min, got.find((x) => x.name === 'otpLength')!.max], [4, 10]);
  });

  test('audit search by channel and outcome, and a user timeline; a channel that does not exist is refused', async () => {
    const r = await s.admin('GET', `/api/v1/admin/tenants/${acme.tenantId}/audit?channel=push&outcome=reported`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.data.records.length, seeded.notMe);
    assert.ok(r.body.data.records.every((x: { channel: string; outcome: string; eventType: string }) => x.channel === 'push' && x.outcome === 'reported' && x.eventType === 'PushReportedNotMe'));
    const user = await s.admin('GET', `/api/v1/admin/tenants/${acme.tenantId}/audit?userId=pushuser1`);
    // The user's rows: by id, and those found by the user's stream key that carry no id (the user id is not in every event).
    const found = user.body.data.records as { userId: string; action: string }[];
    assert.ok(found.some((x) => x.userId === 'pushuser1' && x.action === 'push.reported'), JSON.stringify(found));
    assert.deepEqual([...new Set(found.map((x) => x.userId || 'pushuser1'))], ['pushuser1']);
    const bad = await s.admin('GET', `/api/v1/admin/tenants/${acme.tenantId}/audit?channel=fax`);
    assert.equal(bad.status, 400);
    assert.match(bad.body.error, /channel: expected one of sms, email, totp, webauthn, push/);
  });

  test('a webhook delivery shows every attempt with its response; the endpoint health counts failures since the last success', async () => {
    // Deliveries are due from the time their event was recorded (real time): catch the clock up.
    clock.advance(Math.max(0, Date.now() - clock.now()));
    const t = await s.createTenant('hooked', { webhookUrl: hookUrl });
    const sent = await s.call(t.apiKey, '/api/v1/otp/send', { phone: '01099990000', purpose: 'login', userId: 'hookuser' });
    assert.equal(sent.status, 200);
    assert.equal((await s.call(t.apiKey, '/api/v1/otp/verify', { phone: '01099990000', code: sms.lastCode('+821099990000') })).status, 200);
    const delivered = await until('delivered after two failures', async () => {
      const list = await s.admin('GET', `/api/v1/admin/tenants/${t.tenantId}/webhook-deliveries`);
      return list.body.data.deliveries.find((x: { status: string }) => x.status === 'delivered') as { deliveryId: string } | undefined;
    });
    assert.ok(delivered);
    const d = await s.admin('GET', `/api/v1/admin/tenants/${t.tenantId}/webhook-deliveries/${delivered.deliveryId}`);
    assert.equal(d.status, 200, JSON.stringify(d.body));
    assert.deepEqual(d.body.data.attempts.map((a: { statusCode: number }) => a.statusCode), [500, 503, 200]);
    assert.equal(JSON.parse(d.body.data.payload).event, 'verification.succeeded');
    // The payload as sent: the personal values the outbox keeps sealed are opened.
    assert.equal(JSON.parse(d.body.data.payload).data.externalUserId, 'hookuser');
    const h = await s.admin('GET', `/api/v1/admin/tenants/${t.tenantId}/webhook-endpoint`);
    assert.equal(h.status, 200);
    assert.equal(h.body.data.url, hookUrl);
    assert.equal(h.body.data.hasSecret, true);
    assert.equal(h.body.data.delivered, 1);
    assert.equal(h.body.data.attempts24h, 3);
    assert.equal(h.body.data.failures24h, 2);
    assert.equal(h.body.data.consecutiveFailures, 0);
    assert.equal(h.body.data.lastFailureStatusCode, 503);
    const missing = await s.admin('GET', `/api/v1/admin/tenants/${t.tenantId}/webhook-deliveries/whd_nope`);
    assert.equal(missing.status, 404);
  });

  test('server metrics: samples of latency and projection lag over time, and latency per method since start', async () => {
    await until('two samples', async () => (await s.admin('GET', '/api/v1/admin/server-metrics')).body.data.samples.length >= 3);
    const r = await s.admin('GET', '/api/v1/admin/server-metrics');
    const data = r.body.data as { samples: { requests: number; p99Ms: number; lag: { readModel: string }[] }[]; latency: { method: string; count: number; p50Ms: number }[]; lagUnit: string };
    assert.equal(data.lagUnit, 'events');
    assert.ok(data.samples.some((x) => x.requests > 0));
    assert.ok(data.samples.at(-1)!.lag.some((l) => l.readModel === 'insights'));
    assert.equal(data.latency[0]!.method, '*');
    assert.ok(data.latency[0]!.count > 50 && data.latency[0]!.p50Ms > 0);
    assert.ok(data.latency.some((l) => l.method === 'SmsOtpService.SendSmsOtp'));
  });

  test('system status: this node, the store, every read model with its lag, the webhook deliverer and the version', async () => {
    const r = await s.admin('GET', '/api/v1/admin/system');
    assert.equal(r.status, 200);
    const d = r.body.data;
    assert.match(d.version, /^\d+\.\d+\.\d+/);
    assert.deepEqual([d.store.kind, d.store.location, d.store.reachable], ['sqlite', `sqlite (${join(s.dataDir, 'events.db')})`, true]);
    assert.ok(Number(d.store.headPosition) > 50);
    const names = d.readModels.map((m: { name: string }) => m.name);
    for (const n of ['tenants', 'audit', 'insights', 'webhooks']) assert.ok(names.includes(n), n);
    assert.equal(d.webhooks.mode, 'lease');
    assert.equal(d.webhooks.thisNodeDelivers, true);
    assert.equal(d.nodes.length, 1);
    assert.equal(d.nodes[0].thisNode, true);
    assert.equal(d.nodes[0].pid, process.pid);
  });
});

test('quantiles interpolate within the bucket that holds the rank, as histogram_quantile does', () => {
  const b = new Map([[0.01, 50], [0.1, 90], [1, 100], [Infinity, 100]]);
  assert.equal(quantileMs(b, 0.5), 10);
  assert.ok(Math.abs(quantileMs(b, 0.7) - 55) < 1e-9);
  assert.ok(Math.abs(quantileMs(b, 0.99) - 910) < 1e-9);
  assert.equal(quantileMs(new Map([[Infinity, 0]]), 0.5), 0);
});
