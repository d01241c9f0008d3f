// The rate limiter's memory bound over real sockets (SECUREKEY_RATE_LIMIT_MAX_KEYS): callers
// rotating addresses — anonymous ones (here through a trusted proxy's X-Forwarded-For) or a tenant
// key claiming ever new end-user addresses — cannot grow it past the cap, cannot reset the counters
// of the clients already counted, and cannot take the room of the tenants (nor one tenant that of
// the others); those refused for want
// of room get 429 saying so, and the operator sees it in /metrics.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestServer, type TestServer } from './helpers/server.ts';

const END_USER = 'x-securekey-end-user-ip';

describe('edge: the rate limiter holds a bounded number of counters', () => {
  let s: TestServer;
  let clock = Date.now();
  before(async () => {
    s = await startTestServer(
      { SECUREKEY_TRUST_PROXY: 'true', SECUREKEY_RATE_LIMIT_MAX_KEYS: '200', SECUREKEY_RATE_LIMIT_UNAUTHENTICATED: '3', SECUREKEY_RATE_LIMIT_PER_KEY: '30' },
      { now: () => clock },
    );
  });
  after(() => s.stop());

  let n = 0;
  const phone = () => `0109${String(++n).padStart(7, '0')}`;
  const from = (address: string, headers: Record<string, string> = {}) => ({ 'x-forwarded-for': address, ...headers });
  const send = (apiKey: string | undefined, headers: Record<string, string>) =>
    s.post('/api/v1/otp/send', { phone: phone(), purpose: 'login' }, apiKey ? { 'x-api-key': apiKey, ...headers } : headers);
  const metric = async (name: string, pool: string) => {
    const text = await (await fetch(`${s.url}/metrics`)).text();
    const m = new RegExp(`^${name}\\{pool="${pool}"\\} (\\d+)$`, 'm').exec(text);
    if (!m) throw new Error(`no ${name}{pool="${pool}"} in /metrics`);
    return Number(m[1]);
  };

  test('an anonymous flood from many addresses fills only its half; counted clients keep their counts; the tenants are still served', async () => {
    const tenant = await s.createTenant('already-counted');
    const server = from('198.51.100.1');
    assert.equal((await send(tenant.apiKey, server)).status, 200);
    const guesser = from('192.0.2.1');
    for (let i = 0; i < 3; i++) assert.equal((await send(undefined, guesser)).status, 401);

    const statuses = new Map<number, number>();
    let refusedForRoom;
    for (let i = 0; i < 300; i++) {
      const r = await send(undefined, from(`10.1.${i >> 8}.${i & 255}`));
      statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
      if (r.status === 429) refusedForRoom = r;
    }
    assert.deepEqual(Object.fromEntries(statuses), { 401: 99, 429: 201 }, 'half of 200 counters for anonymous callers (the guesser holds one)');
    assert.equal(refusedForRoom!.body.code, 'RATE_LIMITED');
    assert.match(refusedForRoom!.body.error, /too many clients at once/);
    assert.ok(Number(refusedForRoom!.headers.get('retry-after')) >= 1);
    assert.equal(await metric('securekey_rate_limit_keys', 'anonymous'), 100);
    assert.ok((await metric('securekey_rate_limit_keys', 'all')) <= 200);
    assert.equal(await metric('securekey_rate_limit_full_total', 'anonymous'), 201);

    const again = await send(undefined, guesser);
    assert.equal(again.status, 429);
    assert.match(again.body.error, /unauthenticated requests from this address/, 'the flood did not reset the guesser\'s counter');
    assert.equal((await send(tenant.apiKey, server)).status, 200, 'a tenant already counted is served');
    const newcomer = await s.createTenant('new-after-the-flood');
    assert.equal((await send(newcomer.apiKey, from('198.51.100.2'))).status, 200, 'a new tenant caller finds room: anonymous callers hold at most half');
    assert.ok(s.logs.some((l) => /rate limiter full/.test(l)), 'the operator is told in the log');
  });

  test('a key over its own limit makes no new counters, whatever end-user addresses it claims', async () => {
    const t = await s.createTenant('rotates-end-users');
    const before = await metric('securekey_rate_limit_keys', 'all');
    const statuses = [];
    for (let i = 0; i < 100; i++) statuses.push((await send(t.apiKey, from('198.51.100.3', { [END_USER]: `203.0.113.${i}` }))).status);
    assert.deepEqual(statuses, [...Array(30).fill(200), ...Array(70).fill(429)]);
    const made = (await metric('securekey_rate_limit_keys', 'all')) - before;
    assert.ok(made <= 2 * 30 + 1, `30 admitted sends make 2 counters each and the key 1, got ${made}`);
  });

  /** Sends with the key for ever new end users (`${prefix}:i::1`) until one is refused (at most 200). */
  const floodUntilRefused = async (apiKey: string, server: string, prefix: string) => {
    for (let i = 0; i < 200; i++) {
      const r = await send(apiKey, from(server, { [END_USER]: `${prefix}:${i}::1` }));
      if (r.status === 429) return r;
    }
    return undefined;
  };

  test("a tenant whose key floods with new end users fills only its share: the other tenants' new end users are still served", async () => {
    clock += 61_000; // the earlier tests' windows end
    const counted = await s.createTenant('counted-before');
    const server = from('198.51.100.4');
    assert.equal((await send(counted.apiKey, server)).status, 200);
    const t = await s.createTenant('raised-per-key', { settings: { rateLimitPerKey: 100_000 } });
    const full = await floodUntilRefused(t.apiKey, '198.51.100.5', '2001:db8');
    assert.ok(full, 'the flood reached its share');
    assert.match(full.body.error, /too many clients at once/);
    assert.equal(await metric('securekey_rate_limit_keys', 'largest_tenant'), 100, 'half of 200 (SECUREKEY_RATE_LIMIT_TENANT_PERCENT=50)');
    assert.ok((await metric('securekey_rate_limit_full_total', 'tenant')) >= 1);
    assert.ok(s.logs.some((l) => /rate limiter full/.test(l) && l.includes(t.tenantId)), 'the log names the tenant');
    assert.equal((await send(counted.apiKey, server)).status, 200, 'a caller counted before the flood is served');
    const other = await s.createTenant('other-tenant');
    assert.equal((await send(other.apiKey, from('198.51.100.6', { [END_USER]: '2001:db8:eeee::1' }))).status, 200, "another tenant's new end user finds room");
  });

  test('when the whole is full, new callers get 429 saying why, counted ones go on, and room comes back as windows end', async () => {
    const counted = await s.createTenant('counted-before-all');
    const server = from('198.51.100.7');
    assert.equal((await send(counted.apiKey, server)).status, 200);
    const u = await s.createTenant('second-flood', { settings: { rateLimitPerKey: 100_000 } });
    const full = await floodUntilRefused(u.apiKey, '198.51.100.8', '2001:db9');
    assert.ok(full, 'the two floods reached the cap');
    assert.match(full.body.error, /too many clients at once/);
    assert.ok((await metric('securekey_rate_limit_keys', 'all')) <= 200);
    assert.ok((await metric('securekey_rate_limit_full_total', 'all')) >= 1);
    assert.equal((await send(counted.apiKey, server)).status, 200, 'a caller counted before the flood is served');
    const late = await s.createTenant('late');
    assert.equal((await send(late.apiKey, from('198.51.100.9', { [END_USER]: '2001:db8:ffff::1' }))).status, 429, 'a new one is not');
    assert.equal((await s.admin('GET', `/api/v1/admin/tenants/${u.tenantId}`)).status, 200, 'the operator gets in');

    clock += 61_000;
    assert.equal((await send(late.apiKey, from('198.51.100.9', { [END_USER]: '2001:db8:ffff::1' }))).status, 200, 'the windows ended: room again');
    assert.ok((await metric('securekey_rate_limit_keys', 'all')) < 10, 'ended windows were dropped');
  });
});
