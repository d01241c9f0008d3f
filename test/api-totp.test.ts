import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { generate } from 'otplib';
import { TotpService } from '../src/gen/securekey/v1/totp_pb.js';
import { grpcCall } from './helpers/grpc.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';

/** The code an authenticator app shows for `secret`, `steps` time steps from now. */
const codeFor = (secret: string, steps = 0) => generate({ secret, epoch: Math.floor(Date.now() / 1000) + steps * 30 });
/** A six-digit code that no step in the ±1 window accepts. */
const wrongCodeFor = async (secret: string) => {
  const window = new Set(await Promise.all([-1, 0, 1].map((d) => codeFor(secret, d))));
  for (let n = 0; ; n++) if (!window.has(String(n).padStart(6, '0'))) return String(n).padStart(6, '0');
};

describe('TOTP over the API (REST and gRPC, the seed shapes)', () => {
  let s: TestServer;
  let a: { tenantId: string; apiKey: string };
  let b: { tenantId: string; apiKey: string };
  before(async () => {
    s = await startTestServer();
    a = await s.createTenant('acme');
    b = await s.createTenant('globex');
  });
  after(() => s.stop());

  const setup = async (apiKey: string, body: Record<string, unknown>) => {
    const r = await s.call(apiKey, '/api/v1/totp/setup', body);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.success, true);
    return r.body.data as { uri: string; qrCodeDataUrl: string; secret: string };
  };
  const verify = (apiKey: string, body: Record<string, unknown>) => s.call(apiKey, '/api/v1/totp/verify', body);

  test('setup {userId, accountName} answers an otpauth URI, a PNG QR data URL and the base32 secret; the issuer defaults to the tenant', async () => {
    const d = await setup(a.apiKey, { userId: 'user_123', accountName: 'user@example.com' });
    assert.deepEqual(Object.keys(d).sort(), ['qrCodeDataUrl', 'secret', 'uri']);
    assert.match(d.secret, /^[A-Z2-7]{16,}=*$/);
    const uri = new URL(d.uri);
    assert.equal(uri.protocol, 'otpauth:');
    assert.equal(uri.host, 'totp');
    assert.equal(uri.searchParams.get('secret'), d.secret);
    assert.equal(uri.searchParams.get('issuer'), 'acme');
    assert.match(decodeURIComponent(uri.pathname), /user@example\.com/);
    assert.match(d.qrCodeDataUrl, /^data:image\/png;base64,[A-Za-z0-9+/]+=*$/);
    const png = Buffer.from(d.qrCodeDataUrl.split(',')[1]!, 'base64');
    assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  });

  test('setup {userId, issuer, accountName} puts the given issuer in the URI; the tenant setting totpIssuer is the default otherwise', async () => {
    const d = await setup(a.apiKey, { userId: 'user_issuer', issuer: 'MyApp', accountName: 'user@example.com' });
    assert.equal(new URL(d.uri).searchParams.get('issuer'), 'MyApp');
    const patched = await s.admin('PATCH', `/api/v1/admin/tenants/${b.tenantId}/settings`, { settings: { totpIssuer: 'Globex Login' } });
    assert.equal(patched.status, 200, JSON.stringify(patched.body));
    const g = await setup(b.apiKey, { userId: 'user_issuer', accountName: 'user@example.com' });
    assert.equal(new URL(g.uri).searchParams.get('issuer'), 'Globex Login');
  });

  test('a code accepted once (token) is refused the second time; the next step is accepted with the Python SDK\'s "code"; a wrong code is 200 verified:false', async () => {
    const { secret } = await setup(a.apiKey, { userId: 'user_replay', accountName: 'replay@example.com' });
    const first = codeFor(secret);
    const ok = await verify(a.apiKey, { userId: 'user_replay', token: await first });
    assert.equal(ok.status, 200);
    assert.deepEqual([ok.body.success, ok.body.data.verified], [true, true]);

    const again = await verify(a.apiKey, { userId: 'user_replay', token: await first });
    assert.equal(again.status, 200);
    assert.equal(again.body.data.verified, false);

    const next = await verify(a.apiKey, { userId: 'user_replay', code: await codeFor(secret, 1) });
    assert.equal(next.status, 200);
    assert.equal(next.body.data.verified, true);

    const wrong = await verify(a.apiKey, { userId: 'user_replay', token: await wrongCodeFor(secret) });
    assert.equal(wrong.status, 200);
    assert.deepEqual([wrong.body.success, wrong.body.data.verified], [true, false]);
  });

  test('two racing verifies of one code: exactly one is true', async () => {
    const { secret } = await setup(a.apiKey, { userId: 'user_race', accountName: 'race@example.com' });
    assert.equal((await verify(a.apiKey, { userId: 'user_race', token: await codeFor(secret) })).body.data.verified, true);
    const code = await codeFor(secret, 1);
    const results = await Promise.all([1, 2, 3].map(() => verify(a.apiKey, { userId: 'user_race', token: code })));
    for (const r of results) assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(results.map((r) => r.body.data.verified).sort(), [false, false, true]);
  });

  test('a code submitted again after it was accepted is refused as a replay, not counted as a guess: the next code still works', async () => {
    const { secret } = await setup(a.apiKey, { userId: 'user_twice', accountName: 'twice@example.com' });
    const code = await codeFor(secret);
    assert.equal((await verify(a.apiKey, { userId: 'user_twice', token: code })).body.data.verified, true);
    for (let i = 0; i < 5; i++) {
      const again = await verify(a.apiKey, { userId: 'user_twice', token: code });
      assert.equal(again.status, 200, JSON.stringify(again.body));
      assert.deepEqual([again.body.data.verified, again.body.data.retryAfter ?? 0], [false, 0]);
    }
    const next = await verify(a.apiKey, { userId: 'user_twice', token: await codeFor(secret, 1) });
    assert.equal(next.status, 200, JSON.stringify(next.body));
    assert.equal(next.body.data.verified, true);
  });

  test('setup on a confirmed enrollment is refused (409 ALREADY_ENROLLED) unless replace is true', async () => {
    const { secret } = await setup(a.apiKey, { userId: 'user_again', accountName: 'again@example.com' });
    assert.equal((await verify(a.apiKey, { userId: 'user_again', token: await codeFor(secret) })).body.data.verified, true);
    const again = await s.call(a.apiKey, '/api/v1/totp/setup', { userId: 'user_again', accountName: 'again@example.com' });
    assert.equal(again.status, 409);
    assert.equal(again.body.code, 'ALREADY_ENROLLED');
    const replaced = await setup(a.apiKey, { userId: 'user_again', accountName: 'again@example.com', replace: true });
    assert.notEqual(replaced.secret, secret);
  });

  test('an unknown user is a 404 NOT_ENROLLED envelope', async () => {
    const r = await verify(a.apiKey, { userId: 'nobody', token: '123456' });
    assert.equal(r.status, 404);
    assert.deepEqual(Object.keys(r.body).sort(), ['code', 'error', 'success']);
    assert.deepEqual([r.body.success, r.body.code], [false, 'NOT_ENROLLED']);
  });

  test("tenant B's key cannot verify or see tenant A's enrollment: NOT_ENROLLED, and A's enrollment is untouched", async () => {
    const { secret } = await setup(a.apiKey, { userId: 'user_tenant', accountName: 'tenant@example.com' });
    const r = await verify(b.apiKey, { userId: 'user_tenant', token: await codeFor(secret) });
    assert.equal(r.status, 404);
    assert.equal(r.body.code, 'NOT_ENROLLED');
    const mine = await verify(a.apiKey, { userId: 'user_tenant', token: await codeFor(secret) });
    assert.equal(mine.body.data.verified, true);
  });

  test('gRPC: setup, verify, replay refused, unknown user NOT_FOUND, on the same port', async () => {
    const addr = `127.0.0.1:${s.port}`;
    const md = { 'x-api-key': a.apiKey };
    const set = await grpcCall(addr, TotpService.method.setupTotp, { userId: 'user_grpc', accountName: 'grpc@example.com', issuer: 'MyApp' }, md);
    assert.ok(set.ok, set.ok ? '' : set.details);
    assert.match(set.message.uri, /^otpauth:\/\/totp\/.*issuer=MyApp/);
    assert.match(set.message.qrCodeDataUrl, /^data:image\/png;base64,/);
    const code = await codeFor(set.message.secret);
    const v1 = await grpcCall(addr, TotpService.method.verifyTotp, { userId: 'user_grpc', token: code }, md);
    assert.ok(v1.ok && v1.message.verified);
    const v2 = await grpcCall(addr, TotpService.method.verifyTotp, { userId: 'user_grpc', code }, md);
    assert.ok(v2.ok);
    assert.equal(v2.message.verified, false);
    const none = await grpcCall(addr, TotpService.method.verifyTotp, { userId: 'nobody', token: '123456' }, md);
    assert.equal(none.ok, false);
    assert.equal(!none.ok && none.code, GrpcStatus.NOT_FOUND);
  });
});
