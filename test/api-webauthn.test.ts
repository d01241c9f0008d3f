import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createSoftAuthenticator, type SoftAuthenticator } from './fixtures/webauthn-authenticator.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';

/** base64url → standard base64 with padding, as the seed's btoa(...) sends rawId. */
const toStdBase64 = (b64url: string) => Buffer.from(b64url, 'base64url').toString('base64');

describe('passkeys over the REST API (the seed shapes)', () => {
  let s: TestServer;
  let a: { tenantId: string; apiKey: string };
  let b: { tenantId: string; apiKey: string };
  let origin: string;
  before(async () => {
    s = await startTestServer();
    a = await s.createTenant('acme');
    b = await s.createTenant('globex');
    origin = `http://localhost:${s.port}`;
  });
  after(() => s.stop());

  const ok = async (apiKey: string, path: string, body: unknown) => {
    const r = await s.call(apiKey, path, body);
    assert.equal(r.status, 200, `${path}: ${JSON.stringify(r.body)}`);
    assert.equal(r.body.success, true);
    return r.body.data;
  };
  /** Options → authenticator → verify, with the credential at the top level (the JS SDK shape). */
  const register = async (auth: SoftAuthenticator, apiKey: string, userId: string, deviceName = 'Chrome on MacOS') => {
    const { publicKey } = await ok(apiKey, '/api/v1/webauthn/register/options', { userId, userName: `${userId}@example.com` });
    const cred = auth.register(publicKey);
    return ok(apiKey, '/api/v1/webauthn/register/verify', { userId, id: cred.id, rawId: toStdBase64(cred.rawId), type: cred.type, response: cred.response, deviceName });
  };
  const signIn = async (auth: SoftAuthenticator, apiKey: string, userId: string) => {
    const { publicKey } = await ok(apiKey, '/api/v1/webauthn/authenticate/options', { userId });
    const assertion = auth.authenticate(publicKey);
    return { assertion, result: await ok(apiKey, '/api/v1/webauthn/authenticate/verify', { userId, ...assertion }) };
  };

  test('register/options {userId, userName} answers publicKey creation options for the default RP (localhost); {userId} alone works too', async () => {
    const { publicKey } = await ok(a.apiKey, '/api/v1/webauthn/register/options', { userId: 'user_123', userName: 'user@example.com' });
    assert.match(publicKey.challenge, /^[A-Za-z0-9_-]{16,}$/);
    assert.equal(publicKey.rp.id, 'localhost');
    assert.equal(publicKey.rp.name, 'acme');
    assert.equal(publicKey.user.name, 'user@example.com');
    assert.match(publicKey.user.id, /^[A-Za-z0-9_-]+$/);
    assert.notEqual(publicKey.user.id, Buffer.from('user_123').toString('base64url'), 'the user handle carries no user id');
    assert.deepEqual(publicKey.pubKeyCredParams.map((p: { alg: number }) => p.alg), [-8, -7, -257]);
    assert.deepEqual(publicKey.excludeCredentials, []);
    assert.equal(publicKey.timeout, 300_000);

    const java = await ok(a.apiKey, '/api/v1/webauthn/register/options', { userId: 'user_123' });
    assert.equal(java.publicKey.user.name, 'user_123');
    assert.notEqual(java.publicKey.challenge, publicKey.challenge);
  });

  test('register/verify accepts the credential at the top level (id, rawId as btoa, type, response, deviceName) and wrapped as {userId, credential}', async () => {
    const auth = createSoftAuthenticator({ origin });
    const top = await register(auth, a.apiKey, 'user_shapes', 'Chrome on MacOS');
    assert.equal(top.verified, true);
    assert.equal(top.credentialId, auth.credentialIds()[0]);

    // Second passkey for the same user, PHP/Java shape; the first one is now excluded.
    const { publicKey } = await ok(a.apiKey, '/api/v1/webauthn/register/options', { userId: 'user_shapes' });
    assert.deepEqual(publicKey.excludeCredentials.map((c: { id: string }) => c.id), [top.credentialId]);
    assert.throws(() => auth.register(publicKey), { name: 'InvalidStateError' });
    const other = createSoftAuthenticator({ origin });
    const wrapped = await ok(a.apiKey, '/api/v1/webauthn/register/verify', { userId: 'user_shapes', credential: other.register(publicKey) });
    assert.equal(wrapped.verified, true);
    assert.equal(wrapped.credentialId, other.credentialIds()[0]);

    const listed = await ok(a.apiKey, '/api/v1/webauthn/credentials/list', { userId: 'user_shapes' });
    assert.deepEqual(listed.credentials.map((c: { credentialId: string }) => c.credentialId), [top.credentialId, wrapped.credentialId]);
    assert.equal(listed.credentials[0].deviceName, 'Chrome on MacOS');
    assert.equal(listed.credentials[1].deviceName, 'Passkey');
    assert.deepEqual(listed.credentials[0].transports, ['internal']);
    assert.equal(listed.credentials[0].aaguid, '00000000-0000-0000-0000-000000000000');
    assert.match(listed.credentials[0].createdAt, /^\d{4}-\d\d-\d\dT/);
  });

  test('a registration from a foreign origin is verified:false, and its challenge is used up (410 CHALLENGE_EXPIRED)', async () => {
    const { publicKey } = await ok(a.apiKey, '/api/v1/webauthn/register/options', { userId: 'user_origin' });
    const evil = createSoftAuthenticator({ origin: 'http://evil.example' });
    const bad = await ok(a.apiKey, '/api/v1/webauthn/register/verify', { userId: 'user_origin', credential: evil.register(publicKey) });
    assert.equal(bad.verified, false);
    const good = createSoftAuthenticator({ origin });
    const late = await s.call(a.apiKey, '/api/v1/webauthn/register/verify', { userId: 'user_origin', credential: good.register(publicKey) });
    assert.equal(late.status, 410, JSON.stringify(late.body));
    assert.equal(late.body.code, 'CHALLENGE_EXPIRED');
  });

  test('authenticate options/verify signs in; the same assertion replayed fails', async () => {
    const auth = createSoftAuthenticator({ origin });
    await register(auth, a.apiKey, 'user_auth');
    const { publicKey } = await ok(a.apiKey, '/api/v1/webauthn/authenticate/options', { userId: 'user_auth' });
    assert.equal(publicKey.rpId, 'localhost');
    assert.deepEqual(publicKey.allowCredentials.map((c: { id: string }) => c.id), auth.credentialIds());
    const assertion = auth.authenticate(publicKey);
    const body = { userId: 'user_auth', id: assertion.id, rawId: toStdBase64(assertion.rawId), type: assertion.type, response: assertion.response };
    const first = await ok(a.apiKey, '/api/v1/webauthn/authenticate/verify', body);
    assert.deepEqual([first.verified, first.credentialId, first.userId], [true, assertion.id, 'user_auth']);

    for (const replayed of [body, { userId: 'user_auth', credential: assertion }]) {
      const replay = await s.call(a.apiKey, '/api/v1/webauthn/authenticate/verify', replayed);
      assert.equal(replay.status, 410, JSON.stringify(replay.body));
      assert.deepEqual([replay.body.success, replay.body.code], [false, 'CHALLENGE_EXPIRED']);
    }

    const again = await signIn(auth, a.apiKey, 'user_auth');
    assert.equal(again.result.verified, true);
    const listed = await ok(a.apiKey, '/api/v1/webauthn/credentials/list', { userId: 'user_auth' });
    assert.ok(listed.credentials[0].lastUsedAt);
  });

  test('discoverable sign-in: options without userId, verify without userId names the user', async () => {
    const auth = createSoftAuthenticator({ origin });
    await register(auth, a.apiKey, 'user_discoverable');
    const { publicKey } = await ok(a.apiKey, '/api/v1/webauthn/authenticate/options', {});
    assert.deepEqual(publicKey.allowCredentials ?? [], []);
    const assertion = auth.authenticate(publicKey);
    const r = await ok(a.apiKey, '/api/v1/webauthn/authenticate/verify', assertion);
    assert.deepEqual([r.verified, r.userId], [true, 'user_discoverable']);
    const replay = await s.call(a.apiKey, '/api/v1/webauthn/authenticate/verify', assertion);
    assert.equal(replay.status, 410, JSON.stringify(replay.body));
    assert.equal(replay.body.code, 'CHALLENGE_EXPIRED');
  });

  test("tenant B cannot sign in with tenant A's passkey, nor list it", async () => {
    const auth = createSoftAuthenticator({ origin });
    await register(auth, a.apiKey, 'user_tenant');
    const optsA = await ok(a.apiKey, '/api/v1/webauthn/authenticate/options', { userId: 'user_tenant' });
    const assertion = auth.authenticate(optsA.publicKey);
    const cross = await s.call(b.apiKey, '/api/v1/webauthn/authenticate/verify', { userId: 'user_tenant', ...assertion });
    assert.equal(cross.status, 410, JSON.stringify(cross.body));
    assert.equal(cross.body.code, 'CHALLENGE_EXPIRED', "B knows no challenge of A's");
    assert.deepEqual((await ok(b.apiKey, '/api/v1/webauthn/credentials/list', { userId: 'user_tenant' })).credentials, []);
    // A's challenge is untouched by B's attempt.
    assert.equal((await ok(a.apiKey, '/api/v1/webauthn/authenticate/verify', { userId: 'user_tenant', ...assertion })).verified, true);
  });

  test('a removed credential is no longer listed and no longer signs in', async () => {
    const auth = createSoftAuthenticator({ origin });
    const { credentialId } = await register(auth, a.apiKey, 'user_remove');
    const { publicKey } = await ok(a.apiKey, '/api/v1/webauthn/authenticate/options', { userId: 'user_remove' });
    const removed = await ok(a.apiKey, '/api/v1/webauthn/credentials/remove', { userId: 'user_remove', credentialId });
    assert.equal(removed.removed, true);
    assert.deepEqual((await ok(a.apiKey, '/api/v1/webauthn/credentials/list', { userId: 'user_remove' })).credentials, []);
    // An assertion for options issued before the removal is refused...
    const r = await ok(a.apiKey, '/api/v1/webauthn/authenticate/verify', { userId: 'user_remove', ...auth.authenticate(publicKey, { credentialId }) });
    assert.equal(r.verified, false);
    // ...and with no passkey left there are no options to sign in with.
    const none = await s.call(a.apiKey, '/api/v1/webauthn/authenticate/options', { userId: 'user_remove' });
    assert.equal(none.status, 404);
    assert.equal(none.body.code, 'NOT_ENROLLED');
    const unknown = await s.call(a.apiKey, '/api/v1/webauthn/credentials/remove', { userId: 'user_remove', credentialId });
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.code, 'CREDENTIAL_NOT_FOUND');
  });

  test('the RP id, name and origins come from tenant settings', async () => {
    const patched = await s.admin('PATCH', `/api/v1/admin/tenants/${b.tenantId}/settings`, {
      settings: { webauthnRpId: 'example.com', webauthnRpName: 'Globex', webauthnOrigins: ['https://login.example.com'] },
    });
    assert.equal(patched.status, 200, JSON.stringify(patched.body));
    const { publicKey } = await ok(b.apiKey, '/api/v1/webauthn/register/options', { userId: 'user_rp' });
    assert.deepEqual(publicKey.rp, { id: 'example.com', name: 'Globex' });
    const local = await ok(b.apiKey, '/api/v1/webauthn/register/verify', { userId: 'user_rp', credential: createSoftAuthenticator({ origin }).register(publicKey) });
    assert.equal(local.verified, false, 'localhost is not an allowed origin of this tenant');
    const again = await ok(b.apiKey, '/api/v1/webauthn/register/options', { userId: 'user_rp' });
    const auth = createSoftAuthenticator({ origin: 'https://login.example.com' });
    assert.equal((await ok(b.apiKey, '/api/v1/webauthn/register/verify', { userId: 'user_rp', credential: auth.register(again.publicKey) })).verified, true);
    assert.equal((await signIn(auth, b.apiKey, 'user_rp')).result.verified, true);
  });
});
