// Trusted proxies: the client address is taken a configured number of hops from the right of
// X-Forwarded-For (or Forwarded), only when it is a valid IP address; events record it.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { clientAddressOf } from '../src/api/client-address.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';

describe('clientAddressOf (pure)', () => {
  const xff = (v: string, hops: number) => clientAddressOf('10.0.0.1', { 'x-forwarded-for': v }, { hops, header: 'x-forwarded-for' });
  const fwd = (v: string, hops: number) => clientAddressOf('10.0.0.1', { forwarded: v }, { hops, header: 'forwarded' });

  test('without trusted proxies the socket address is used and forwarding headers are ignored', () => {
    assert.equal(clientAddressOf('::ffff:198.51.100.4', { 'x-forwarded-for': '203.0.113.9' }, { hops: 0, header: 'x-forwarded-for' }), '198.51.100.4');
    assert.equal(clientAddressOf(undefined, {}, { hops: 0, header: 'x-forwarded-for' }), 'unknown');
  });

  test('one proxy: the right-most entry (the one it appended), not the left-most the client wrote', () => {
    assert.equal(xff('203.0.113.66, 198.51.100.7', 1), '198.51.100.7');
    assert.equal(xff('198.51.100.7', 1), '198.51.100.7');
  });

  test('two proxies: the second entry from the right', () => {
    assert.equal(xff('6.6.6.6, 198.51.100.7, 10.1.1.1', 2), '198.51.100.7');
    assert.equal(xff('198.51.100.7', 2), '10.0.0.1', 'fewer entries than proxies: the socket address');
  });

  test('garbage, "unknown", an empty header and non-addresses are ignored (the socket address is used)', () => {
    for (const bad of ['<script>alert(1)</script>', 'unknown', '', ' , ', '999.1.1.1', '203.0.113.1:8080', 'a'.repeat(5000)]) assert.equal(xff(bad, 1), '10.0.0.1', bad.slice(0, 20));
  });

  test('IPv6 and IPv4-mapped entries; several header lines are one list', () => {
    assert.equal(xff('2001:DB8::1', 1), '2001:db8::1');
    assert.equal(xff('::ffff:198.51.100.7', 1), '198.51.100.7');
    assert.equal(clientAddressOf('10.0.0.1', { 'x-forwarded-for': ['6.6.6.6', '198.51.100.7'] }, { hops: 1, header: 'x-forwarded-for' }), '198.51.100.7');
  });

  test('Forwarded (RFC 7239): for= with ports, brackets and quotes', () => {
    assert.equal(fwd('for=192.0.2.60;proto=http;by=203.0.113.43', 1), '192.0.2.60');
    assert.equal(fwd('for=6.6.6.6, for="[2001:db8:cafe::17]:4711"', 1), '2001:db8:cafe::17');
    assert.equal(fwd('for="192.0.2.43:47011", for=_hidden', 2), '192.0.2.43');
    assert.equal(fwd('for=_hidden', 1), '10.0.0.1', 'an obfuscated identifier is not an address');
    assert.equal(fwd('proto=https', 1), '10.0.0.1');
  });
});

describe('edge: behind trusted proxies, over real sockets', () => {
  let one: TestServer;
  let two: TestServer;
  before(async () => {
    one = await startTestServer({ SECUREKEY_TRUST_PROXY: 'true' });
    two = await startTestServer({ SECUREKEY_TRUST_PROXY: '2', SECUREKEY_TRUST_PROXY_HEADER: 'forwarded' });
  });
  after(async () => {
    await one.stop();
    await two.stop();
  });

  const sendFrom = async (s: TestServer, headers: Record<string, string>) => {
    const t = await s.createTenant(`proxy-${Math.random().toString(36).slice(2, 8)}`);
    const from = s.head();
    const r = await s.post('/api/v1/email-otp/send', { email: 'user@example.com', purpose: 'login' }, { 'x-api-key': t.apiKey, ...headers });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const issued = s.opened(from).find((e) => e.type === 'OtpIssued');
    return issued!.metadata.clientIp as string;
  };

  test('events record the address the proxy appended; a spoofed left-most entry is not used', async () => {
    assert.equal(await sendFrom(one, { 'x-forwarded-for': '6.6.6.6, 198.51.100.23' }), '198.51.100.23');
  });

  test('arbitrary text in X-Forwarded-For never reaches the events: the socket address is recorded', async () => {
    assert.equal(await sendFrom(one, { 'x-forwarded-for': 'Robert"); DROP TABLE events;--' }), '127.0.0.1');
  });

  test('two proxies writing Forwarded: the second for= from the right', async () => {
    assert.equal(await sendFrom(two, { forwarded: 'for=6.6.6.6, for="[2001:db8::42]:1234", for=10.0.0.7', 'x-forwarded-for': '9.9.9.9' }), '2001:db8::42');
  });
});
