import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { createClient, ConnectError, Code } from '@connectrpc/connect';
import { createConnectTransport, createGrpcTransport } from '@connectrpc/connect-node';
import { AdminService } from '../src/gen/securekey/v1/admin_pb.js';
import { SmsOtpService } from '../src/gen/securekey/v1/otp_pb.js';
import { ErrorDetailSchema } from '../src/gen/securekey/v1/options_pb.js';
import { ADMIN_TOKEN, startTestServer, type TestServer } from './helpers/server.ts';
import { grpcCall } from './helpers/grpc.ts';

describe('platform: one port, three protocols, the envelope', () => {
  let s: TestServer;
  let tenant: { tenantId: string; apiKey: string; keyId: string };
  before(async () => {
    s = await startTestServer();
    tenant = await s.createTenant('acme');
  });
  after(() => s.stop());

  test('grpc-js, HTTP/1.1 JSON and a Connect client reach the same method on the same port and get the same answer', async () => {
    const rest = await s.admin('GET', `/api/v1/admin/tenants/${tenant.tenantId}`);
    assert.equal(rest.status, 200);
    assert.equal(rest.body.success, true);
    assert.equal(rest.body.data.tenantId, tenant.tenantId);
    assert.equal(rest.body.data.name, 'acme');

    const g = await grpcCall(`127.0.0.1:${s.port}`, AdminService.method.getTenant, { tenantId: tenant.tenantId }, { 'x-admin-token': ADMIN_TOKEN });
    assert.ok(g.ok, g.ok ? "" : g.details);
    assert.equal(g.message.tenantId, tenant.tenantId);
    assert.equal(g.message.name, 'acme');
    assert.deepEqual(g.message.keys.map((k) => k.keyId), rest.body.data.keys.map((k: { keyId: string }) => k.keyId));

    const connect = createClient(AdminService, createConnectTransport({ baseUrl: s.url, httpVersion: '1.1' }));
    const c = await connect.getTenant({ tenantId: tenant.tenantId }, { headers: { 'x-admin-token': ADMIN_TOKEN } });
    assert.equal(c.tenantId, tenant.tenantId);
    assert.equal(c.name, 'acme');

    const grpcOverH2 = createClient(AdminService, createGrpcTransport({ baseUrl: s.url }));
    const h2 = await grpcOverH2.getTenant({ tenantId: tenant.tenantId }, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    assert.equal(h2.name, 'acme');
  });

  test('missing, unknown and revoked keys: 401 envelope on REST, UNAUTHENTICATED on gRPC', async () => {
    const body = { phone: '01012345678', purpose: 'login' };
    const missing = await s.post('/api/v1/otp/send', body);
    assert.equal(missing.status, 401);
    assert.deepEqual(Object.keys(missing.body).sort(), ['code', 'error', 'success']);
    assert.equal(missing.body.success, false);
    assert.equal(missing.body.code, 'UNAUTHORIZED');

    const unknown = await s.post('/api/v1/otp/send', body, { 'x-api-key': '2fa_not_a_real_key' });
    assert.equal(unknown.status, 401);
    assert.equal(unknown.body.code, 'UNAUTHORIZED');

    const extra = await s.admin('POST', `/api/v1/admin/tenants/${tenant.tenantId}/keys`, { name: 'temp' });
    assert.equal(extra.status, 200);
    const revoked = await s.admin('DELETE', `/api/v1/admin/tenants/${tenant.tenantId}/keys/${extra.body.data.keyId}`);
    assert.equal(revoked.status, 200);
    const r = await s.post('/api/v1/otp/send', body, { authorization: `Bearer ${extra.body.data.apiKey}` });
    assert.equal(r.status, 401);
    assert.equal(r.body.code, 'UNAUTHORIZED');

    const mds: Record<string, string>[] = [{}, { 'x-api-key': '2fa_nope' }, { authorization: `Bearer ${extra.body.data.apiKey}` }];
    for (const md of mds) {
      const g = await grpcCall(`127.0.0.1:${s.port}`, SmsOtpService.method.sendSmsOtp, body, md);
      assert.equal(g.ok, false);
      assert.equal(!g.ok && g.code, GrpcStatus.UNAUTHENTICATED);
    }
    const connect = createClient(SmsOtpService, createConnectTransport({ baseUrl: s.url, httpVersion: '1.1' }));
    await assert.rejects(connect.sendSmsOtp(body, { headers: { 'x-api-key': '2fa_nope' } }), (e: ConnectError) => {
      assert.equal(e.code, Code.Unauthenticated);
      assert.equal(e.findDetails(ErrorDetailSchema)[0]?.code, 'UNAUTHORIZED');
      return true;
    });
  });

  test('a valid key reaches the method (X-API-Key, Bearer and gRPC metadata alike)', async () => {
    const body = { phone: '01012345678', purpose: 'login' };
    const variants: Record<string, string>[] = [{ 'x-api-key': tenant.apiKey }, { authorization: `Bearer ${tenant.apiKey}` }];
    for (const headers of variants) {
      const r = await s.post('/api/v1/otp/send', body, headers);
      assert.notEqual(r.status, 401, JSON.stringify(r.body));
    }
    const g = await grpcCall(`127.0.0.1:${s.port}`, SmsOtpService.method.sendSmsOtp, body, { 'x-api-key': tenant.apiKey });
    assert.ok(g.ok || g.code !== GrpcStatus.UNAUTHENTICATED);
  });

  test('malformed JSON, a non-object body and a wrongly typed field are 400 INVALID_ARGUMENT envelopes without the value echoed', async () => {
    const bad = await s.post('/api/v1/otp/send', '{"phone": "0101', { 'x-api-key': tenant.apiKey });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.code, 'INVALID_ARGUMENT');
    assert.match(bad.body.error, /malformed JSON/);
    const arr = await s.post('/api/v1/otp/send', '[1,2]', { 'x-api-key': tenant.apiKey });
    assert.equal(arr.status, 400);
    const typed = await s.post('/api/v1/otp/send', { phone: { secret: '01099998888' } }, { 'x-api-key': tenant.apiKey });
    assert.equal(typed.status, 400);
    assert.equal(typed.body.code, 'INVALID_ARGUMENT');
    assert.match(typed.body.error, /phone/);
    assert.doesNotMatch(typed.body.error, /01099998888/);
  });

  test('an oversized body is 413 in the envelope', async () => {
    const big = JSON.stringify({ phone: 'x'.repeat(200 * 1024) });
    const r = await s.post('/api/v1/otp/send', big, { 'x-api-key': tenant.apiKey });
    assert.equal(r.status, 413);
    assert.equal(r.body.success, false);
    assert.equal(r.body.code, 'PAYLOAD_TOO_LARGE');
  });

  test('unknown route is 404 and a wrong verb 405 with Allow, both in the envelope', async () => {
    const r = await s.post('/api/v1/nope', {});
    assert.equal(r.status, 404);
    assert.equal(r.body.success, false);
    assert.equal(r.body.code, 'ROUTE_NOT_FOUND');
    const g = await fetch(`${s.url}/api/v1/otp/send`);
    assert.equal(g.status, 405);
    assert.equal(g.headers.get('allow'), 'POST');
    const body = (await g.json()) as { code: string; success: boolean };
    assert.equal(body.code, 'METHOD_NOT_ALLOWED');
    const other = await fetch(`${s.url}/no/such/thing`);
    assert.equal(other.status, 404);
    assert.equal(((await other.json()) as { success: boolean }).success, false);
  });

  test('the OpenAPI 3.1 document is generated from the proto routes', async () => {
    const r = await fetch(`${s.url}/api/v1/openapi.json`);
    assert.equal(r.status, 200);
    const doc = (await r.json()) as { openapi: string; paths: Record<string, Record<string, { operationId: string; requestBody?: unknown }>> };
    assert.equal(doc.openapi, '3.1.0');
    for (const p of ['/api/v1/otp/send', '/api/v1/otp/verify', '/api/v1/email-otp/send', '/api/v1/totp/setup', '/api/v1/webauthn/register/verify', '/api/v1/push/verify']) {
      assert.ok(doc.paths[p]?.post, `missing ${p}`);
    }
    assert.ok(doc.paths['/api/v1/admin/tenants/{tenantId}/keys/{keyId}']?.delete);
    assert.equal(doc.paths['/api/v1/otp/send']!.post!.operationId, 'SmsOtpService_SendSmsOtp');
  });

  test('health, readiness and Prometheus metrics', async () => {
    assert.equal((await fetch(`${s.url}/healthz`)).status, 200);
    const ready = await fetch(`${s.url}/readyz`);
    assert.equal(ready.status, 200);
    const body = (await ready.json()) as { store: string; projectionLag: Record<string, number> };
    assert.equal(body.store, 'ok');
    assert.equal(body.projectionLag.tenants, 0);
    const m = await (await fetch(`${s.url}/metrics`)).text();
    assert.match(m, /securekey_requests_total\{method="AdminService.GetTenant",transport="[a-z_+]+",code="OK"\}/);
    assert.match(m, /securekey_request_duration_seconds_bucket/);
    assert.match(m, /securekey_eventstore_append_duration_seconds_count [1-9]/);
    assert.match(m, /securekey_projection_lag_events\{projection="tenants"\} 0/);
  });

  test('admin API refuses a wrong admin token and every tenant key', async () => {
    const r = await fetch(`${s.url}/api/v1/admin/tenants`, { headers: { 'x-admin-token': 'wrong-wrong-wrong-wrong' } });
    assert.equal(r.status, 401);
    const k = await fetch(`${s.url}/api/v1/admin/tenants`, { headers: { 'x-api-key': tenant.apiKey } });
    assert.equal(k.status, 401);
  });

  test('no API key, admin token or key hash appears in the logs', async () => {
    const text = s.logs.join('\n');
    assert.ok(s.logs.length > 5);
    assert.ok(!text.includes(tenant.apiKey));
    assert.ok(!text.includes(ADMIN_TOKEN));
    assert.ok(!text.includes(tenant.apiKey.slice(4)));
    for (const line of s.logs) JSON.parse(line); // structured JSON, one object per line
    assert.ok(s.logs.some((l) => JSON.parse(l).requestId?.startsWith('req_')));
  });
});

describe('platform: per-IP rate limits', () => {
  let s: TestServer;
  let t: { apiKey: string };
  before(async () => {
    s = await startTestServer({ SECUREKEY_RATE_LIMIT_SEND: '3', SECUREKEY_RATE_LIMIT_VERIFY: '10', SECUREKEY_RATE_LIMIT_GLOBAL: '100' });
    t = await s.createTenant('limits');
  });
  after(() => s.stop());

  test('the 4th send from one IP inside a minute is 429 RATE_LIMITED with Retry-After and RateLimit headers', async () => {
    const results = [];
    for (let i = 0; i < 4; i++) results.push(await s.call(t.apiKey, '/api/v1/otp/send', { phone: `0101234567${i}`, purpose: 'login' }));
    for (const r of results.slice(0, 3)) assert.equal(r.status, 200, JSON.stringify(r.body));
    const fourth = results[3]!;
    assert.equal(fourth.status, 429);
    assert.equal(fourth.body.code, 'RATE_LIMITED');
    const retry = Number(fourth.headers.get('retry-after'));
    assert.ok(retry >= 1 && retry <= 60, `Retry-After ${retry}`);
    assert.equal(fourth.headers.get('ratelimit-limit'), '3');
    assert.equal(fourth.headers.get('ratelimit-remaining'), '0');
    assert.equal(results[0]!.headers.get('ratelimit-remaining'), '2');
    // Verification has its own, larger bucket.
    const v = await s.call(t.apiKey, '/api/v1/otp/verify', { phone: '01012345678', code: '000000' });
    assert.notEqual(v.status, 429);
  });

  test('X-Forwarded-For is ignored unless a trusted proxy is configured', async () => {
    const r = await s.post('/api/v1/push/send', { userId: 'u' }, { 'x-api-key': t.apiKey, 'x-forwarded-for': '203.0.113.9' });
    assert.equal(r.status, 429, 'same socket IP as before: still limited');
  });
});

describe('platform: behind a trusted proxy', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer({ SECUREKEY_TRUST_PROXY: 'true', SECUREKEY_RATE_LIMIT_SEND: '1' });
  });
  after(() => s.stop());

  test('with SECUREKEY_TRUST_PROXY the client IP is the entry the proxy appended to X-Forwarded-For: each client has its own bucket', async () => {
    const t = await s.createTenant('proxied');
    // What the client wrote (left) proves nothing; the proxy appended the address it saw (right).
    const send = (ip: string, phone: string) => s.post('/api/v1/otp/send', { phone, purpose: 'login' }, { 'x-api-key': t.apiKey, 'x-forwarded-for': `10.9.9.9, ${ip}` });
    assert.equal((await send('203.0.113.1', '01011110001')).status, 200);
    assert.equal((await send('203.0.113.1', '01011110002')).status, 429);
    assert.equal((await send('203.0.113.2', '01011110003')).status, 200);
  });
});
