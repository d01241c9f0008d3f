// The limits model over real sockets: a stricter bucket for unauthenticated calls, buckets per
// (tenant, address) so tenants sharing an egress address do not throttle each other, the end
// user's address when the tenant passes it, a bucket per API key, per-tenant overrides, and every
// refused request counted whatever refused it.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestServer, type TestServer } from './helpers/server.ts';

const END_USER = 'x-securekey-end-user-ip';

describe('edge: limits that fit tenants', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer({
      SECUREKEY_RATE_LIMIT_UNAUTHENTICATED: '3',
      SECUREKEY_RATE_LIMIT_SEND: '2',
      SECUREKEY_RATE_LIMIT_GLOBAL: '6',
      SECUREKEY_RATE_LIMIT_PER_KEY: '20',
    });
  });
  after(() => s.stop());

  let n = 0;
  const phone = () => `0109${String(++n).padStart(7, '0')}`;
  const send = (apiKey: string, headers: Record<string, string> = {}) => s.post('/api/v1/otp/send', { phone: phone(), purpose: 'login' }, { 'x-api-key': apiKey, ...headers });

  test('unauthenticated calls have their own stricter bucket; they do not throttle a tenant on the same address', async () => {
    // Each server test starts from fresh buckets only per tenant: this test owns the anonymous one.
    const t = await s.createTenant('shares-an-address');
    const anon = [];
    for (let i = 0; i < 4; i++) anon.push(await s.post('/api/v1/otp/send', { phone: phone() }));
    assert.deepEqual(anon.map((r) => r.status), [401, 401, 401, 429]);
    assert.equal(anon[3]!.body.code, 'RATE_LIMITED');
    assert.match(anon[3]!.body.error, /unauthenticated requests from this address/);
    assert.ok(Number(anon[3]!.headers.get('retry-after')) >= 1);
    assert.equal((await send(t.apiKey)).status, 200, 'the tenant on the same address is not throttled by anonymous traffic');
  });

  test('two tenants calling from one address: one using up its send bucket leaves the other alone', async () => {
    const a = await s.createTenant('tenant-a');
    const b = await s.createTenant('tenant-b');
    assert.deepEqual([(await send(a.apiKey)).status, (await send(a.apiKey)).status, (await send(a.apiKey)).status], [200, 200, 429]);
    assert.equal((await send(b.apiKey)).status, 200);
  });

  test('with X-SecureKey-End-User-IP the per-address limits apply to each end user, not to the tenant\'s server', async () => {
    const t = await s.createTenant('passes-end-users');
    const alice = { [END_USER]: '198.51.100.10' };
    const bob = { [END_USER]: '2001:db8:1:2::77' };
    assert.deepEqual([(await send(t.apiKey, alice)).status, (await send(t.apiKey, alice)).status, (await send(t.apiKey, alice)).status], [200, 200, 429]);
    const third = await send(t.apiKey, alice);
    assert.match(third.body.error, /for this end user/);
    const from = s.head();
    assert.equal((await send(t.apiKey, bob)).status, 200, 'another end user behind the same server is not limited');
    assert.equal((await send(t.apiKey, { [END_USER]: '2001:db8:1:2::78' })).status, 200, 'an IPv6 end user counts per /64: the same /64 shares the bucket');
    assert.equal((await send(t.apiKey, { [END_USER]: '2001:db8:1:2::79' })).status, 429);
    const issued = s.opened(from).filter((e) => e.type === 'OtpIssued');
    assert.equal(issued[0]!.metadata.endUserIp, '2001:db8:1:2::77', 'events record the end user\'s address next to the caller\'s');
    assert.equal(issued[0]!.metadata.clientIp, '127.0.0.1');
  });

  test('a malformed end-user address is 400 INVALID_ARGUMENT and sends nothing', async () => {
    const t = await s.createTenant('bad-end-user');
    const head = s.head();
    for (const bad of ['not-an-ip', '198.51.100.1, 10.0.0.1', '999.1.1.1']) {
      const r = await send(t.apiKey, { [END_USER]: bad });
      assert.equal(r.status, 400, bad);
      assert.equal(r.body.code, 'INVALID_ARGUMENT');
      assert.match(r.body.error, /x-securekey-end-user-ip/);
    }
    assert.equal(s.head(), head);
  });

  test('a key has its own bucket whatever the end users: 20 requests per window, and another key of the tenant is not affected', async () => {
    const t = await s.createTenant('per-key');
    const other = (await s.admin('POST', `/api/v1/admin/tenants/${t.tenantId}/keys`, { name: 'second' })).body.data.apiKey as string;
    const statuses = [];
    for (let i = 0; i < 21; i++) statuses.push((await send(t.apiKey, { [END_USER]: `198.51.100.${100 + i}` })).status);
    assert.deepEqual(statuses, [...Array(20).fill(200), 429]);
    assert.equal((await send(other, { [END_USER]: '198.51.100.200' })).status, 200);
  });

  test('per-tenant overrides in settings: rateLimitSend 4 lets that tenant send 4 per window; 0 is the server\'s limit again', async () => {
    const t = await s.createTenant('override');
    const set = await s.admin('PATCH', `/api/v1/admin/tenants/${t.tenantId}/settings`, { settings: { rateLimitSend: 4 } });
    assert.equal(set.status, 200, JSON.stringify(set.body));
    assert.equal(set.body.data.settings.rateLimitSend, 4);
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push((await send(t.apiKey)).status);
    assert.deepEqual(statuses, [200, 200, 200, 200, 429]);
    const bad = await s.admin('PATCH', `/api/v1/admin/tenants/${t.tenantId}/settings`, { settings: { rateLimitSend: -1 } });
    assert.equal(bad.status, 400);
  });

  test('requests refused before any method runs count too: malformed JSON, unknown routes and undecodable protobuf use up the bucket', async () => {
    const t = await s.createTenant('refusals-count');
    const refused = [
      await s.post('/api/v1/otp/verify', '{"phone":', { 'x-api-key': t.apiKey }),
      await s.post('/api/v1/otp/verify', '[1,2]', { 'x-api-key': t.apiKey }),
      await fetch(`${s.url}/securekey.v1.SmsOtpService/VerifySmsOtp`, { method: 'POST', headers: { 'content-type': 'application/proto', 'x-api-key': t.apiKey }, body: new Uint8Array([0x0a, 0xff]) }),
      await s.post('/api/v1/otp/verify', { phone: 'not a phone', code: '1' }, { 'x-api-key': t.apiKey }),
      await s.post('/api/v1/otp/verify', { phone: phone(), code: '123456' }, { 'x-api-key': t.apiKey }),
      await s.post('/api/v1/otp/verify', { phone: phone(), code: '123456' }, { 'x-api-key': t.apiKey }),
    ];
    assert.deepEqual(refused.map((r) => r.status), [400, 400, 400, 400, 404, 404]);
    const next = await send(t.apiKey);
    assert.equal(next.status, 429, 'six refused requests used up the global bucket of 6');
    assert.match(next.body.error, /too many requests from this address/);
  });
});

describe('edge: unknown routes and bad bodies count against the unauthenticated bucket', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer({ SECUREKEY_RATE_LIMIT_UNAUTHENTICATED: '4' });
  });
  after(() => s.stop());

  test('404s, 405s, malformed JSON and undecodable protobuf without a key: the 5th is 429, in the caller\'s protocol', async () => {
    const answers = [
      (await fetch(`${s.url}/api/v1/nope`, { method: 'POST' })).status,
      (await fetch(`${s.url}/api/v1/otp/send`, { method: 'GET' })).status,
      (await s.post('/api/v1/otp/send', '{"phone":')).status,
      (await fetch(`${s.url}/securekey.v1.SmsOtpService/SendSmsOtp`, { method: 'POST', headers: { 'content-type': 'application/proto' }, body: new Uint8Array([0x0a, 0xff]) })).status,
    ];
    assert.deepEqual(answers, [404, 405, 401, 401]);
    const connect = await fetch(`${s.url}/securekey.v1.SmsOtpService/SendSmsOtp`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    assert.equal(connect.status, 429);
    assert.equal(((await connect.json()) as { code: string }).code, 'resource_exhausted', 'a Connect client gets the Connect error form');
    const rest = await s.post('/api/v1/otp/send', { phone: '01012345678' });
    assert.equal(rest.status, 429);
    assert.equal(rest.body.code, 'RATE_LIMITED', 'a REST client gets the envelope');
  });
});
