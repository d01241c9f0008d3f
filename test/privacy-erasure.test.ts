// GDPR over the live API: GET /api/v1/users/{userId}/export answers everything held about a user,
// decrypted; DELETE /api/v1/users/{userId} (and UserService.EraseUser over gRPC) cancels what is
// pending, shreds the user's personal data everywhere (history, audit, webhooks), removes their
// read-model rows and sends user.erased; the same id then starts from scratch; and afterwards the
// admin CLI's replay --verify and verify-chain still pass on the data directory.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, describe, test } from 'node:test';
import { generate } from 'otplib';
import { EraseUserRequestSchema, UserService } from '../src/gen/securekey/v1/users_pb.js';
import { type FlowResult, type Person, type PrivacyWorld, startPrivacyWorld } from './fixtures/privacy-world.ts';
import { adminJson } from './helpers/cli.ts';
import { grpcCall } from './helpers/grpc.ts';
import { ADMIN_TOKEN } from './helpers/server.ts';
import { until } from './helpers/until.ts';

const person = (tag: string, ip: string, phone: string): Person => ({
  userId: `${tag}-${randomBytes(3).toString('hex')}`,
  phone,
  email: `${tag}.mail@example.org`,
  accountName: `${tag}.account@example.org`,
  pushDeviceName: `${tag} Galaxy`,
  passkeyName: `${tag} YubiKey`,
  ip,
});

describe('export and erasure of a user over the API', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'securekey-erasure-'));
  const masterKey = randomBytes(32).toString('base64');
  let w: PrivacyWorld;
  const alice = person('alice', '198.51.100.23', '01031112222');
  const bob = person('bob', '203.0.113.45', '01041113333');
  let aliceFlow: FlowResult;
  let bobFlow: FlowResult;
  let erasureId = '';

  before(async () => {
    w = await startPrivacyWorld({ dataDir, env: { SECUREKEY_MASTER_KEY: masterKey } });
    aliceFlow = await w.fullFlow(alice);
    bobFlow = await w.fullFlow(bob);
  });
  after(async () => {
    await w.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const exportOf = async (p: Person) => {
    const r = await fetch(`${w.s.url}/api/v1/users/${encodeURIComponent(p.userId)}/export`, { headers: { 'x-api-key': w.tenant.apiKey } });
    assert.equal(r.status, 200);
    return ((await r.json()) as { data: any }).data;
  };
  const audit = async (p: Person) => {
    const r = await w.s.admin('GET', `/api/v1/admin/tenants/${w.tenant.tenantId}/audit?userId=${encodeURIComponent(p.userId)}&limit=1000`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body.data.records as Record<string, string>[];
  };

  test('export answers everything held about the user, decrypted: enrollments and every event with its client address, never a secret', async () => {
    const x = await exportOf(alice);
    assert.equal(x.userId, alice.userId);
    assert.deepEqual([x.totp.status, x.totp.accountName], ['confirmed', 'a***@example.org']);
    assert.deepEqual([x.recoveryCodes.remaining, x.recoveryCodes.total], [9, 10]);
    assert.deepEqual(x.passkeys.map((p: { deviceName: string }) => p.deviceName), [alice.passkeyName]);
    assert.deepEqual(x.pushDevices.map((d: { deviceName: string; platform: string }) => [d.deviceName, d.platform]), [[alice.pushDeviceName, 'android']]);
    const types = new Set(x.events.map((e: { type: string }) => e.type));
    for (const t of ['OtpIssued', 'OtpVerified', 'TotpEnrollmentStarted', 'TotpEnrollmentConfirmed', 'RecoveryCodesGenerated', 'RecoveryCodeUsed', 'CredentialRegistered', 'CredentialUsed', 'DeviceRegistered', 'PushRequested', 'PushApproved']) assert.ok(types.has(t), `export lacks ${t}`);
    assert.ok(x.events.every((e: { metadata: { clientIp?: string } }) => e.metadata.clientIp === undefined || e.metadata.clientIp === alice.ip));
    assert.ok(x.events.some((e: { data: { masked?: string } }) => e.data.masked === '+82 10-****-2222'));
    const text = JSON.stringify(x);
    for (const secret of [aliceFlow.totpSecret, ...aliceFlow.recoveryCodes, 'codeHashes', `fcm-${alice.userId}-token`, 'codeHash', 'secretEnc', 'tokenEnc', 'pd1.', bob.userId, bob.ip]) assert.ok(!text.includes(secret), `export shows ${secret}`);
  });

  test("DELETE /api/v1/users/{userId} cancels the pending code and push request, and answers the erasure's id", async () => {
    const r = await fetch(`${w.s.url}/api/v1/users/${encodeURIComponent(alice.userId)}`, { method: 'DELETE', headers: { 'x-api-key': w.tenant.apiKey } });
    const body = (await r.json()) as { data: { erased: boolean; erasureId: string; cancelledCodes: number; cancelledPushRequests: number } };
    assert.equal(r.status, 200, JSON.stringify(body));
    assert.deepEqual([body.data.erased, body.data.cancelledCodes, body.data.cancelledPushRequests], [true, 1, 1]);
    assert.match(body.data.erasureId, /^ers_/);
    erasureId = body.data.erasureId;
    const code = await w.call(alice, '/api/v1/otp/verify', { phone: aliceFlow.pendingPhone, code: aliceFlow.pendingCode });
    assert.deepEqual([code.status, code.body.code], [404, 'OTP_NOT_FOUND']);
    const push = await w.call(alice, '/api/v1/push/respond', { requestId: aliceFlow.pendingPushId, action: 'approve' });
    assert.deepEqual([push.status, push.body.code], [404, 'PUSH_NOT_FOUND']);
  });

  test('the receiver gets user.erased with the erasure id and no user id', async () => {
    await until('user.erased', () => w.receiver.accepted.find((a) => a.event === 'user.erased'));
    const got = w.receiver.accepted.find((a) => a.event === 'user.erased')!;
    assert.equal(got.data.erasureId, erasureId);
    assert.equal(got.data.externalUserId, null);
    assert.ok(!got.rawBody.includes(alice.userId));
    // Deliveries of the user's earlier events that go out from now on read [erased] too: none
    // names them (every delivery was sent before the erasure, in clear, as it should).
    assert.ok(w.receiver.accepted.some((a) => a.data.externalUserId === alice.userId));
  });

  test("the audit trail keeps the user's events, their personal values [erased]; another user's stay", async () => {
    const records = await audit(alice);
    assert.ok(records.length > 15);
    const ofEvents = records.filter((r) => r.action !== 'user.erased');
    assert.ok(ofEvents.every((r) => r.userId === '[erased]' || r.userId === ''), JSON.stringify(ofEvents.map((r) => r.userId)));
    assert.ok(ofEvents.every((r) => r.clientIp === '[erased]'));
    assert.ok(ofEvents.filter((r) => r.destination).every((r) => r.destination === '[erased]'));
    assert.ok(records.some((r) => r.action === 'user.erased'));
    const bobs = await audit(bob);
    assert.ok(bobs.some((r) => r.userId === bob.userId) && bobs.every((r) => r.clientIp === '203.0.113.0'));
  });

  test("the user's MFA verifications are gone from the read model", async () => {
    const db = new DatabaseSync(join(dataDir, 'readmodels.db'), { readOnly: true });
    try {
      const rows = db.prepare('SELECT tenant_id, count(*) AS n FROM mfa_verifications GROUP BY tenant_id').all() as { n: number }[];
      // Bob's 6 verifications (sms, email, totp, recovery, passkey, push) remain; none of Alice's.
      assert.deepEqual(rows.map((r) => r.n), [6]);
    } finally {
      db.close();
    }
  });

  test('the same user id starts from scratch: nothing to export, no old recovery code, a new TOTP enrollment, no old passkey or device', async () => {
    const x = await exportOf(alice);
    assert.deepEqual([x.totp ?? null, x.recoveryCodes ?? null, x.passkeys, x.pushDevices, x.events], [null, null, [], [], []]);
    const code = await w.call(alice, '/api/v1/recovery/verify', { userId: alice.userId, code: aliceFlow.recoveryCodes[1] });
    assert.equal(code.status === 200 ? code.body.data.verified : code.body.code, code.status === 200 ? false : 'NOT_ENROLLED');
    const old = await w.call(alice, '/api/v1/totp/verify', { userId: alice.userId, token: await generate({ secret: aliceFlow.totpSecret }) });
    assert.deepEqual([old.status, old.body.code], [404, 'NOT_ENROLLED']);
    const setup = await w.ok(alice, '/api/v1/totp/setup', { userId: alice.userId, accountName: alice.accountName });
    assert.notEqual(setup.secret, aliceFlow.totpSecret);
    const devices = await w.ok(alice, '/api/v1/push/devices/list', { userId: alice.userId });
    assert.deepEqual(devices.devices, []);
    // The old passkey names nobody: a discoverable sign-in with it fails.
    const { publicKey } = await w.ok(alice, '/api/v1/webauthn/authenticate/options', {});
    const r = await w.ok(alice, '/api/v1/webauthn/authenticate/verify', aliceFlow.authenticator.authenticate(publicKey));
    assert.deepEqual([r.verified, r.userId], [false, '']);
    assert.equal((await exportOf(alice)).totp.status, 'pending');
  });

  test('gRPC UserService.EraseUser erases too; an empty user id is INVALID_ARGUMENT and another tenant cannot reach the user', async () => {
    const address = `127.0.0.1:${w.s.port}`;
    const bad = await grpcCall(address, UserService.method.eraseUser, { userId: '' }, { 'x-api-key': w.tenant.apiKey });
    assert.equal(bad.ok, false);
    assert.equal(!bad.ok && bad.code, 3);
    const other = await w.s.createTenant('other');
    const elsewhere = await grpcCall(address, UserService.method.eraseUser, { userId: bob.userId }, { 'x-api-key': other.apiKey });
    assert.equal(elsewhere.ok, true); // erasing in another tenant erases nothing of this one
    assert.equal((await exportOf(bob)).pushDevices.length, 1);
    const r = await grpcCall(address, UserService.method.eraseUser, { userId: bob.userId }, { 'x-api-key': w.tenant.apiKey });
    assert.ok(r.ok && r.message.erased && r.message.erasureId.startsWith('ers_'));
    assert.equal((await exportOf(bob)).pushDevices.length, 0);
    void EraseUserRequestSchema;
    void bobFlow;
  });

  test("the request log names no user: the route's user id is left out", async () => {
    const lines = w.s.logs.filter((l) => l.includes('/api/v1/users/'));
    assert.ok(lines.length >= 3);
    for (const l of lines) assert.ok(!l.includes(alice.userId) && !l.includes(bob.userId), l);
    assert.ok(lines.some((l) => l.includes('DELETE /api/v1/users/{userId}')));
  });

  test('after the erasures the CLI rebuilds identical read models (replay --verify) and the hash chain holds (verify-chain)', async () => {
    const env = { SECUREKEY_DATA_DIR: dataDir, SECUREKEY_MASTER_KEY: masterKey, SECUREKEY_ADMIN_TOKEN: ADMIN_TOKEN };
    const replay = await adminJson(env, 'replay', '--verify', '--json');
    assert.equal(replay.verify.ok, true, JSON.stringify(replay.verify.tables));
    assert.ok(replay.verify.equal.includes('audit_log') && replay.verify.equal.includes('mfa_verifications') && replay.verify.equal.includes('webhook_deliveries'));
    const chain = await adminJson(env, 'verify-chain', '--json');
    assert.deepEqual([chain.ok, chain.problemCount, chain.unchained], [true, 0, 0]);
  });
});
