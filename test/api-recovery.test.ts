// Recovery codes over the API: REST (the envelope) and gRPC on the same port, the tenant's count
// setting, racing uses, throttling, whole-set replacement, error answers that write nothing,
// webhooks (recovery.regenerated, recovery.used, recovery.low), the audit trail, MFA policies.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, describe, test } from 'node:test';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { generate } from 'otplib';
import { RecoveryService } from '../src/gen/securekey/v1/recovery_pb.js';
import { startNodeReceiver, type NodeReceiver } from './fixtures/webhook-node-receiver.ts';
import { createTestClock } from './helpers/clock.ts';
import { grpcCall } from './helpers/grpc.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { until } from './helpers/until.ts';

const CODE = /^[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}$/;

describe('recovery codes over the API', () => {
  let s: TestServer;
  let receiver: NodeReceiver;
  let a: { tenantId: string; apiKey: string; webhookSecret: string };
  let b: { tenantId: string; apiKey: string };
  const clock = createTestClock();
  before(async () => {
    receiver = await startNodeReceiver({ secret: 'unset' });
    s = await startTestServer({ SECUREKEY_WEBHOOK_BACKOFF_BASE_MS: '50', SECUREKEY_WEBHOOK_BACKOFF_MAX_MS: '200' }, { now: clock.now });
    a = await s.createTenant('acme', { webhookUrl: receiver.url });
    receiver.setSecret(a.webhookSecret);
    b = await s.createTenant('globex');
  });
  after(async () => {
    await s.stop();
    await receiver.close();
  });

  let n = 0;
  const newUser = () => `user_${++n}`;
  const generateCodes = async (apiKey: string, userId: string, extra: Record<string, unknown> = {}) => {
    const r = await s.call(apiKey, '/api/v1/recovery/generate', { userId, ...extra });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body.data.codes as string[];
  };
  const verify = (apiKey: string, body: Record<string, unknown>) => s.call(apiKey, '/api/v1/recovery/verify', body);
  /** The log's head position, read from the server's own database file. */
  const head = () => {
    const db = new DatabaseSync(join(s.dataDir, 'events.db'), { readOnly: true });
    try {
      return (db.prepare('SELECT coalesce(max(position), 0) AS p FROM events').get() as { p: number }).p;
    } finally {
      db.close();
    }
  };
  const assertError = (r: { status: number; body: any }, status: number, code: string) => {
    assert.equal(r.status, status, JSON.stringify(r.body));
    assert.deepEqual(Object.keys(r.body).filter((k) => k !== 'retryAfter').sort(), ['code', 'error', 'success']);
    assert.deepEqual([r.body.success, r.body.code], [false, code]);
  };

  test('generate answers the codes once in the envelope; each verifies once, typed loosely; status counts what is left', async () => {
    const userId = newUser();
    const r = await s.call(a.apiKey, '/api/v1/recovery/generate', { userId });
    assert.equal(r.status, 200);
    assert.deepEqual([r.body.success, r.body.message], [true, 'Recovery codes generated']);
    const codes = r.body.data.codes as string[];
    assert.equal(codes.length, 10);
    assert.equal(r.body.data.remaining, 10);
    for (const c of codes) assert.match(c, CODE);

    const ok = await verify(a.apiKey, { userId, code: codes[0]!.toUpperCase().replaceAll('-', ' ') });
    assert.equal(ok.status, 200);
    assert.deepEqual(ok.body.data, { verified: true, remaining: 9, retryAfter: 0 });
    const again = await verify(a.apiKey, { userId, code: codes[0] });
    assert.equal(again.status, 200);
    assert.deepEqual(again.body.data, { verified: false, remaining: 9, retryAfter: 0 });

    const status = await s.call(a.apiKey, '/api/v1/recovery/status', { userId });
    assert.equal(status.status, 200);
    assert.deepEqual([status.body.data.enrolled, status.body.data.remaining, status.body.data.total], [true, 9, 10]);
    assert.ok(Math.abs(Date.parse(status.body.data.generatedAt) - clock.now()) < 60_000);
    assert.ok(!JSON.stringify(status.body).includes(codes[1]!), 'never shown again');
  });

  test("the set's size is the tenant setting recoveryCodeCount (5 to 20)", async () => {
    const patched = await s.admin('PATCH', `/api/v1/admin/tenants/${b.tenantId}/settings`, { settings: { recoveryCodeCount: 12 } });
    assert.equal(patched.status, 200, JSON.stringify(patched.body));
    assert.equal((await generateCodes(b.apiKey, newUser())).length, 12);
    for (const bad of [4, 21]) {
      const r = await s.admin('PATCH', `/api/v1/admin/tenants/${b.tenantId}/settings`, { settings: { recoveryCodeCount: bad } });
      assertError(r, 400, 'INVALID_ARGUMENT');
      assert.match(r.body.error, /recoveryCodeCount: expected an integer from 5 to 20/);
    }
  });

  test('50 concurrent REST uses of one code: exactly one verified:true', async () => {
    const userId = newUser();
    const codes = await generateCodes(a.apiKey, userId);
    const results = await Promise.all(Array.from({ length: 50 }, () => verify(a.apiKey, { userId, code: codes[3] })));
    for (const r of results) assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(results.filter((r) => r.body.data.verified === true).length, 1);
    assert.equal((await s.call(a.apiKey, '/api/v1/recovery/status', { userId })).body.data.remaining, 9);
  });

  test('regenerate replaces the whole set only with replace:true (409 ALREADY_ENROLLED otherwise); the old codes stop working', async () => {
    const userId = newUser();
    const old = await generateCodes(a.apiKey, userId);
    const position = head();
    assertError(await s.call(a.apiKey, '/api/v1/recovery/generate', { userId }), 409, 'ALREADY_ENROLLED');
    assert.equal(head(), position, 'nothing written');
    const fresh = await generateCodes(a.apiKey, userId, { replace: true });
    assert.equal((await verify(a.apiKey, { userId, code: old[0] })).body.data.verified, false);
    assert.equal((await verify(a.apiKey, { userId, code: fresh[0] })).body.data.verified, true);
  });

  test('error answers write nothing: code too long, malformed or missing, userId too long, unknown user, throttled (429 + Retry-After)', async () => {
    const userId = newUser();
    const codes = await generateCodes(a.apiKey, userId);
    const position = head();
    assertError(await verify(a.apiKey, { userId, code: 'k'.repeat(5000) }), 400, 'INVALID_ARGUMENT');
    assertError(await verify(a.apiKey, { userId, code: 'not-a-code' }), 400, 'INVALID_ARGUMENT');
    assertError(await verify(a.apiKey, { userId }), 400, 'INVALID_ARGUMENT');
    assertError(await verify(a.apiKey, { userId: 'u'.repeat(5000), code: codes[0] }), 400, 'INVALID_ARGUMENT');
    assertError(await s.call(a.apiKey, '/api/v1/recovery/generate', { userId: 'u'.repeat(5000) }), 400, 'INVALID_ARGUMENT');
    assertError(await verify(a.apiKey, { userId: 'nobody', code: codes[0] }), 404, 'NOT_ENROLLED');
    assertError(await s.call(a.apiKey, '/api/v1/recovery/delete', { userId: 'nobody' }), 404, 'NOT_ENROLLED');
    assert.equal(head(), position, 'nothing written');

    for (let i = 0; i < 3; i++) assert.equal((await verify(a.apiKey, { userId, code: 'zzzz-zzzz-zzzz' })).body.data.verified, false);
    const afterFailures = head();
    const limited = await verify(a.apiKey, { userId, code: codes[0] });
    assertError(limited, 429, 'RATE_LIMITED');
    assert.equal(limited.headers.get('retry-after'), '1');
    assert.equal(limited.body.retryAfter, 1);
    assert.equal(head(), afterFailures, 'the throttled attempt wrote nothing');
    clock.advance(1000);
    assert.equal((await verify(a.apiKey, { userId, code: codes[0] })).body.data.verified, true);
  });

  test("tenant B's key cannot use tenant A's codes: NOT_ENROLLED, and A's codes still work", async () => {
    const userId = newUser();
    const codes = await generateCodes(a.apiKey, userId);
    assertError(await verify(b.apiKey, { userId, code: codes[0] }), 404, 'NOT_ENROLLED');
    assert.equal((await verify(a.apiKey, { userId, code: codes[0] })).body.data.verified, true);
  });

  test('gRPC on the same port: generate, verify, status, delete; unknown user NOT_FOUND; throttled RESOURCE_EXHAUSTED', async () => {
    const addr = `127.0.0.1:${s.port}`;
    const md = { 'x-api-key': a.apiKey };
    const userId = newUser();
    const gen = await grpcCall(addr, RecoveryService.method.generateRecoveryCodes, { userId }, md);
    assert.ok(gen.ok, gen.ok ? '' : gen.details);
    assert.equal(gen.message.codes.length, 10);
    const v = await grpcCall(addr, RecoveryService.method.verifyRecoveryCode, { userId, code: gen.message.codes[2]! }, md);
    assert.ok(v.ok && v.message.verified && v.message.remaining === 9);
    const st = await grpcCall(addr, RecoveryService.method.getRecoveryStatus, { userId }, md);
    assert.ok(st.ok && st.message.enrolled && st.message.remaining === 9 && st.message.total === 10);
    for (let i = 0; i < 3; i++) await grpcCall(addr, RecoveryService.method.verifyRecoveryCode, { userId, code: 'zzzz-zzzz-zzzz' }, md);
    const limited = await grpcCall(addr, RecoveryService.method.verifyRecoveryCode, { userId, code: gen.message.codes[3]! }, md);
    assert.equal(!limited.ok && limited.code, GrpcStatus.RESOURCE_EXHAUSTED);
    const del = await grpcCall(addr, RecoveryService.method.deleteRecoveryCodes, { userId }, md);
    assert.ok(del.ok && del.message.deleted);
    const none = await grpcCall(addr, RecoveryService.method.verifyRecoveryCode, { userId, code: gen.message.codes[4]! }, md);
    assert.equal(!none.ok && none.code, GrpcStatus.NOT_FOUND);
    const gone = await grpcCall(addr, RecoveryService.method.getRecoveryStatus, { userId }, md);
    assert.ok(gone.ok && !gone.message.enrolled && gone.message.remaining === 0);
  });

  test('webhooks: recovery.regenerated, recovery.used with what remains, recovery.low from 2 left; externalUserId, and never a code', async () => {
    const userId = 'user_hooked';
    const codes = await generateCodes(a.apiKey, userId);
    for (const c of codes.slice(0, 9)) assert.equal((await verify(a.apiKey, { userId, code: c })).body.data.verified, true);
    await generateCodes(a.apiKey, userId, { replace: true });
    const mine = () => receiver.accepted.filter((x) => x.data.externalUserId === userId);
    await until('the webhooks', () => mine().filter((x) => x.event === 'recovery.regenerated').length === 2);
    // A tenant's deliveries run concurrently, so their arrival order is not defined: compare the
    // set of webhooks, ordered by what each one says.
    const byWhatTheySay = (xs: unknown[][]) => xs.map((x) => JSON.stringify(x)).sort();
    const seen = mine().map((x) => [x.event, x.data.remaining ?? x.data.count, x.data.replaced ?? null]);
    assert.deepEqual(byWhatTheySay(seen), byWhatTheySay([
      ['recovery.regenerated', 10, false],
      ...[9, 8, 7, 6, 5, 4, 3].map((r) => ['recovery.used', r, null]),
      ['recovery.used', 2, null],
      ['recovery.low', 2, null],
      ['recovery.used', 1, null],
      ['recovery.low', 1, null],
      ['recovery.regenerated', 10, true],
    ]));
    for (const x of mine()) {
      assert.equal(x.channel, 'recovery');
      for (const c of codes) assert.ok(!x.rawBody.includes(c) && !x.rawBody.includes(c.replaceAll('-', '')), 'no code in a webhook');
      assert.doesNotMatch(x.rawBody, /[0-9a-f]{64}/, 'no code hash in a webhook');
    }
  });

  test('the audit trail records generation, uses, failures and removal on channel recovery', async () => {
    const userId = 'user_audited';
    const codes = await generateCodes(a.apiKey, userId);
    await verify(a.apiKey, { userId, code: codes[0] });
    await verify(a.apiKey, { userId, code: 'zzzz-zzzz-zzzz' });
    await s.call(a.apiKey, '/api/v1/recovery/delete', { userId });
    const r = await s.admin('GET', `/api/v1/admin/tenants/${a.tenantId}/audit?userId=${userId}`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const recs = r.body.data.records as { action: string; channel: string; outcome: string; keyId: string }[];
    assert.deepEqual(recs.map((x) => [x.action, x.channel, x.outcome]), [
      ['recovery.generated', 'recovery', 'ok'],
      ['verification.succeeded', 'recovery', 'success'],
      ['verification.failed', 'recovery', 'failure'],
      ['recovery.removed', 'recovery', 'ok'],
    ]);
    for (const x of recs) assert.equal(x.keyId, recs[0]!.keyId);
  });

  test('MFA policies name recovery as a channel: required by a TOTP payment, and satisfied by TOTP for a recovery payment', async () => {
    const t = await s.createTenant('mfa-recovery');
    const policy = await s.admin('POST', `/api/v1/admin/tenants/${t.tenantId}/policies`, { name: 'payment needs recovery', match: { purpose: 'payment' }, requiredChannels: ['totp', 'recovery'] });
    assert.equal(policy.status, 200, JSON.stringify(policy.body));
    const userId = newUser();
    const codes = await generateCodes(t.apiKey, userId);
    const early = await verify(t.apiKey, { userId, code: codes[0], purpose: 'payment' });
    assert.equal(early.status, 403, JSON.stringify(early.body));
    assert.deepEqual([early.body.code, early.body.requiredChannels, early.body.matchedPolicies], ['MFA_REQUIRED', ['totp'], ['payment needs recovery']]);
    const setup = await s.call(t.apiKey, '/api/v1/totp/setup', { userId, accountName: 'user@example.com' });
    const totp = await s.call(t.apiKey, '/api/v1/totp/verify', { userId, purpose: 'payment', token: await generate({ secret: setup.body.data.secret, epoch: Math.floor(clock.now() / 1000) }) });
    assert.equal(totp.status, 200, 'the recovery code verified above counts for the policy');
    const paid = await verify(t.apiKey, { userId, code: codes[1], purpose: 'payment' });
    assert.equal(paid.status, 200, JSON.stringify(paid.body));
    assert.equal(paid.body.data.verified, true);
    const login = await verify(t.apiKey, { userId, code: codes[2], purpose: 'login' });
    assert.equal(login.status, 200, 'a purpose no policy names');
  });
});
