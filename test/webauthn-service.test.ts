import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createWebAuthnService, type RelyingParty } from '../src/app/webauthn/index.ts';
import { privacyFor } from './helpers/privacy.ts';
import { DomainError } from '../src/domain/errors.ts';
import type { EventStore } from '../src/eventstore/port.ts';
import { createSqliteEventStore } from '../src/eventstore/sqlite/index.ts';
import { createSoftAuthenticator } from './fixtures/webauthn-authenticator.ts';

const rp: RelyingParty = { id: 'localhost', name: 'SecureKey demo', origins: ['http://localhost:8080'] };
const origin = 'http://localhost:8080';
const caller = { tenantId: 'tn_demo', keyId: 'key_1', requestId: 'req_1', clientIp: '127.0.0.1' };

let dir: string;
let store: EventStore;
let clock = Date.UTC(2026, 10, 1);
let svc: ReturnType<typeof createWebAuthnService>;
let privacy: ReturnType<typeof privacyFor>;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'securekey-webauthn-'));
  store = createSqliteEventStore({ path: join(dir, 'events.db'), durable: false });
  privacy = privacyFor(store, () => clock);
  svc = createWebAuthnService({ ...privacy, now: () => clock });
});
after(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

let n = 0;
const newUser = () => `user_${++n}`;

const isCode = (code: string) => (e: unknown) => e instanceof DomainError && e.code === code;

/** Registers one passkey for a new user and returns everything the next steps need. */
const enrolled = async (opts: { deviceName?: string } = {}) => {
  const userId = newUser();
  const authenticator = createSoftAuthenticator({ origin });
  const { publicKey } = await svc.registerOptions(caller, { userId, userName: `${userId}@example.com`, rp });
  const credential = authenticator.register(publicKey);
  const reg = await svc.registerVerify(caller, { userId, credential, deviceName: opts.deviceName, rp });
  assert.equal(reg.verified, true);
  return { userId, authenticator, credentialId: reg.credentialId };
};

/** Stored events of the streams of a category, personal fields opened. */
const streamEvents = async (prefix: string) => (await store.readAll()).filter((e) => e.streamName.startsWith(prefix)).map(privacy.personal.open);

describe('passkey registration', () => {
  test('a software authenticator registers through @simplewebauthn/server and the credential is stored with its details', async () => {
    const { userId, credentialId } = await enrolled({ deviceName: 'Chrome on MacOS' });
    const { credentials } = await svc.listCredentials(caller, { userId });
    assert.equal(credentials.length, 1);
    const [c] = credentials;
    assert.equal(c!.credentialId, credentialId);
    assert.equal(c!.deviceName, 'Chrome on MacOS');
    assert.deepEqual(c!.transports, ['internal']);
    assert.equal(c!.aaguid, '00000000-0000-0000-0000-000000000000');
    assert.equal(c!.backedUp, false);
    assert.equal(c!.lastUsedAt, null);
    const registered = (await streamEvents('webauthn-')).find((e) => e.type === 'CredentialRegistered');
    assert.ok(registered);
    assert.equal(typeof registered.data.publicKey, 'string');
    assert.equal(registered.metadata.requestId, 'req_1');
    assert.ok(!registered.streamName.includes(userId), 'no user id in stream names');
  });

  test('registration options exclude the credentials the user already has', async () => {
    const { userId, authenticator, credentialId } = await enrolled();
    const { publicKey } = await svc.registerOptions(caller, { userId, userName: userId, rp });
    assert.deepEqual(publicKey.excludeCredentials?.map((c) => c.id), [credentialId]);
    assert.deepEqual(publicKey.pubKeyCredParams.map((p) => p.alg), [-8, -7, -257]);
    assert.throws(() => authenticator.register(publicKey), { name: 'InvalidStateError' });
  });

  test('a registration challenge is single-use', async () => {
    const userId = newUser();
    const authenticator = createSoftAuthenticator({ origin });
    const { publicKey } = await svc.registerOptions(caller, { userId, userName: userId, rp });
    const credential = authenticator.register(publicKey);
    assert.equal((await svc.registerVerify(caller, { userId, credential, rp })).verified, true);
    await assert.rejects(svc.registerVerify(caller, { userId, credential, rp }), isCode('CHALLENGE_EXPIRED'));
  });

  test('a response from a foreign origin is not verified and still uses up the challenge', async () => {
    const userId = newUser();
    const { publicKey } = await svc.registerOptions(caller, { userId, userName: userId, rp });
    const credential = createSoftAuthenticator({ origin }).register(publicKey, { origin: 'https://evil.example' });
    assert.equal((await svc.registerVerify(caller, { userId, credential, rp })).verified, false);
    await assert.rejects(svc.registerVerify(caller, { userId, credential, rp }), isCode('CHALLENGE_EXPIRED'));
    assert.equal((await svc.listCredentials(caller, { userId })).credentials.length, 0);
  });

  test('a rawId in standard base64 (as the seed sends it, via btoa) is accepted', async () => {
    const userId = newUser();
    const authenticator = createSoftAuthenticator({ origin });
    const { publicKey } = await svc.registerOptions(caller, { userId, userName: userId, rp });
    const credential = authenticator.register(publicKey);
    const rawId = Buffer.from(credential.rawId, 'base64url').toString('base64');
    const reg = await svc.registerVerify(caller, { userId, credential: { ...credential, rawId }, rp });
    assert.equal(reg.verified, true);
    assert.equal(reg.credentialId, credential.id);
  });
});

describe('passkey authentication', () => {
  test('a registered passkey signs in; the counter and last use are recorded', async () => {
    const { userId, authenticator, credentialId } = await enrolled();
    const { publicKey } = await svc.authenticateOptions(caller, { userId, rp });
    assert.deepEqual(publicKey.allowCredentials?.map((c) => c.id), [credentialId]);
    const res = await svc.authenticateVerify(caller, { userId, credential: authenticator.authenticate(publicKey), rp });
    assert.deepEqual({ verified: res.verified, credentialId: res.credentialId, userId: res.userId }, { verified: true, credentialId, userId });
    const [c] = (await svc.listCredentials(caller, { userId })).credentials;
    assert.equal(c!.lastUsedAt, clock);
  });

  test('an assertion with a tampered signature is not verified', async () => {
    const { userId, authenticator } = await enrolled();
    const { publicKey } = await svc.authenticateOptions(caller, { userId, rp });
    const assertion = authenticator.authenticate(publicKey);
    const sig = Buffer.from(assertion.response.signature, 'base64url');
    sig[sig.length - 1]! ^= 1;
    const tampered = { ...assertion, response: { ...assertion.response, signature: sig.toString('base64url') } };
    assert.equal((await svc.authenticateVerify(caller, { userId, credential: tampered, rp })).verified, false);
    assert.equal((await svc.listCredentials(caller, { userId })).credentials[0]!.lastUsedAt, null);
  });

  test('replaying the same assertion fails: the challenge was used', async () => {
    const { userId, authenticator } = await enrolled();
    const { publicKey } = await svc.authenticateOptions(caller, { userId, rp });
    const assertion = authenticator.authenticate(publicKey);
    assert.equal((await svc.authenticateVerify(caller, { userId, credential: assertion, rp })).verified, true);
    await assert.rejects(svc.authenticateVerify(caller, { userId, credential: assertion, rp }), isCode('CHALLENGE_EXPIRED'));
  });

  test('two racing verifications of one assertion: exactly one succeeds', async () => {
    const { userId, authenticator } = await enrolled();
    const { publicKey } = await svc.authenticateOptions(caller, { userId, rp });
    const assertion = authenticator.authenticate(publicKey);
    const results = await Promise.allSettled([1, 2, 3].map(() => svc.authenticateVerify(caller, { userId, credential: assertion, rp })));
    const ok = results.filter((r) => r.status === 'fulfilled' && r.value.verified);
    assert.equal(ok.length, 1);
  });

  test('a challenge older than 300 s is refused', async () => {
    const { userId, authenticator } = await enrolled();
    const { publicKey } = await svc.authenticateOptions(caller, { userId, rp });
    const assertion = authenticator.authenticate(publicKey);
    clock += 300_000;
    await assert.rejects(svc.authenticateVerify(caller, { userId, credential: assertion, rp }), isCode('CHALLENGE_EXPIRED'));
  });

  test('a registration challenge older than 300 s is refused', async () => {
    const userId = newUser();
    const { publicKey } = await svc.registerOptions(caller, { userId, userName: userId, rp });
    const credential = createSoftAuthenticator({ origin }).register(publicKey);
    clock += 300_001;
    await assert.rejects(svc.registerVerify(caller, { userId, credential, rp }), isCode('CHALLENGE_EXPIRED'));
  });

  test('a signature counter that goes backwards is recorded as a suspected clone and refused', async () => {
    const { userId, authenticator, credentialId } = await enrolled();
    let { publicKey } = await svc.authenticateOptions(caller, { userId, rp });
    assert.equal((await svc.authenticateVerify(caller, { userId, credential: authenticator.authenticate(publicKey, { counter: 10 }), rp })).verified, true);
    ({ publicKey } = await svc.authenticateOptions(caller, { userId, rp }));
    const res = await svc.authenticateVerify(caller, { userId, credential: authenticator.authenticate(publicKey, { counter: 7 }), rp });
    assert.equal(res.verified, false);
    const clone = (await streamEvents('webauthn-')).find((e) => e.type === 'CredentialCloneSuspected' && e.data.credentialId === credentialId);
    assert.deepEqual({ stored: clone?.data.storedCounter, received: clone?.data.receivedCounter }, { stored: 10, received: 7 });
    // the genuine authenticator, moving forward, still signs in
    ({ publicKey } = await svc.authenticateOptions(caller, { userId, rp }));
    assert.equal((await svc.authenticateVerify(caller, { userId, credential: authenticator.authenticate(publicKey, { counter: 11 }), rp })).verified, true);
  });

  test('authenticators that keep the counter at zero are accepted', async () => {
    const userId = newUser();
    const authenticator = createSoftAuthenticator({ origin, counterStep: 0 });
    const opts = await svc.registerOptions(caller, { userId, userName: userId, rp });
    assert.equal((await svc.registerVerify(caller, { userId, credential: authenticator.register(opts.publicKey), rp })).verified, true);
    for (let i = 0; i < 2; i++) {
      const { publicKey } = await svc.authenticateOptions(caller, { userId, rp });
      assert.equal((await svc.authenticateVerify(caller, { userId, credential: authenticator.authenticate(publicKey), rp })).verified, true);
    }
  });

  test("another user's passkey does not sign in as this user", async () => {
    const alice = await enrolled();
    const bob = await enrolled();
    const { publicKey } = await svc.authenticateOptions(caller, { userId: alice.userId, rp });
    const assertion = bob.authenticator.authenticate({ ...publicKey, allowCredentials: [] });
    assert.equal((await svc.authenticateVerify(caller, { userId: alice.userId, credential: assertion, rp })).verified, false);
  });

  test('options for a user without passkeys: NOT_ENROLLED', async () => {
    await assert.rejects(svc.authenticateOptions(caller, { userId: newUser(), rp }), isCode('NOT_ENROLLED'));
  });
});

describe('discoverable (username-less) sign-in', () => {
  test('options without a user have an empty allowCredentials; the response names the user', async () => {
    const { userId, authenticator, credentialId } = await enrolled();
    const { publicKey } = await svc.authenticateOptions(caller, { rp });
    assert.deepEqual(publicKey.allowCredentials ?? [], []);
    assert.equal(publicKey.userVerification, 'required');
    const res = await svc.authenticateVerify(caller, { credential: authenticator.authenticate(publicKey), rp });
    assert.deepEqual({ verified: res.verified, credentialId: res.credentialId, userId: res.userId }, { verified: true, credentialId, userId });
    const challengeStreams = (await streamEvents('webauthnchallenge-')).map((e) => e.type);
    assert.deepEqual(challengeStreams.slice(-2), ['AuthenticationChallengeIssued', 'ChallengeConsumed']);
  });

  test('a discoverable challenge is single-use, also under a race', async () => {
    const { authenticator } = await enrolled();
    const { publicKey } = await svc.authenticateOptions(caller, { rp });
    const assertion = authenticator.authenticate(publicKey);
    const results = await Promise.allSettled([1, 2].map(() => svc.authenticateVerify(caller, { credential: assertion, rp })));
    assert.equal(results.filter((r) => r.status === 'fulfilled' && r.value.verified).length, 1);
    await assert.rejects(svc.authenticateVerify(caller, { credential: assertion, rp }), isCode('CHALLENGE_EXPIRED'));
  });

  test('a discoverable challenge expires after 300 s', async () => {
    const { authenticator } = await enrolled();
    const { publicKey } = await svc.authenticateOptions(caller, { rp });
    const assertion = authenticator.authenticate(publicKey);
    clock += 300_000;
    await assert.rejects(svc.authenticateVerify(caller, { credential: assertion, rp }), isCode('CHALLENGE_EXPIRED'));
  });

  test('an unknown credential is not verified', async () => {
    const stranger = createSoftAuthenticator({ origin });
    stranger.register({ rp: { id: 'localhost', name: 'x' }, user: { id: 'AAAA', name: 'x', displayName: 'x' }, challenge: 'AAAA', pubKeyCredParams: [{ alg: -7, type: 'public-key' }] });
    const { publicKey } = await svc.authenticateOptions(caller, { rp });
    assert.equal((await svc.authenticateVerify(caller, { credential: stranger.authenticate(publicKey), rp })).verified, false);
  });
});

describe('credential management', () => {
  test('credentials are listed and removed; a removed passkey no longer signs in', async () => {
    const { userId, authenticator, credentialId } = await enrolled();
    const second = await svc.registerOptions(caller, { userId, userName: userId, rp });
    const other = createSoftAuthenticator({ origin });
    const reg2 = await svc.registerVerify(caller, { userId, credential: other.register(second.publicKey), deviceName: 'YubiKey', rp });
    assert.deepEqual((await svc.listCredentials(caller, { userId })).credentials.map((c) => c.credentialId), [credentialId, reg2.credentialId]);

    const { publicKey } = await svc.authenticateOptions(caller, { userId, rp });
    assert.equal((await svc.removeCredential(caller, { userId, credentialId })).removed, true);
    assert.deepEqual((await svc.listCredentials(caller, { userId })).credentials.map((c) => c.deviceName), ['YubiKey']);
    const res = await svc.authenticateVerify(caller, { userId, credential: authenticator.authenticate(publicKey), rp });
    assert.equal(res.verified, false);
    await assert.rejects(svc.removeCredential(caller, { userId, credentialId }), isCode('CREDENTIAL_NOT_FOUND'));
  });

  test('another tenant sees none of the credentials', async () => {
    const { userId } = await enrolled();
    const other = { ...caller, tenantId: 'tn_other' };
    assert.deepEqual((await svc.listCredentials(other, { userId })).credentials, []);
  });
});
