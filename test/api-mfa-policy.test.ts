// Tenant MFA policies end to end: defined through the admin API (and the admin CLI on the same data
// directory), enforced on the live server's verifications with the seed's MFA_REQUIRED envelope on
// REST and PERMISSION_DENIED + ErrorDetail on gRPC. Channels used: SMS (through a local HTTP SMS
// gateway that captures {to, text}), push (console sender) and TOTP.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { Code, ConnectError, createClient } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { generate } from 'otplib';
import { ErrorDetailSchema } from '../src/gen/securekey/v1/options_pb.js';
import { PushService } from '../src/gen/securekey/v1/push_pb.js';
import { adminJson, runAdmin } from './helpers/cli.ts';
import { grpcCall } from './helpers/grpc.ts';
import { createTestClock } from './helpers/clock.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';

const POLICY = '결제 시 추가 인증';

let s: TestServer;
const dataDir = mkdtempSync(join(tmpdir(), 'securekey-mfa-'));
const masterKey = randomBytes(32).toString('base64');
const clock = createTestClock();
/** What the SMS gateway received. */
const sms: { to: string; text: string }[] = [];
const gateway = createServer((req, res) => {
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (c: string) => (body += c));
  req.on('end', () => {
    sms.push(JSON.parse(body));
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: `m${sms.length}` }));
  });
});
before(async () => {
  await new Promise<void>((r) => gateway.listen(0, '127.0.0.1', r));
  s = await startTestServer(
    { SECUREKEY_MASTER_KEY: masterKey, SECUREKEY_SMS_PROVIDER: 'http', SECUREKEY_SMS_HTTP_URL: `http://127.0.0.1:${(gateway.address() as AddressInfo).port}/sms` },
    { dataDir, now: clock.now },
  );
});
after(async () => {
  await s.stop();
  gateway.closeAllConnections();
  await new Promise((r) => gateway.close(r));
  rmSync(dataDir, { recursive: true, force: true });
});

let n = 0;
const newUser = () => `user_${++n}_${randomBytes(3).toString('hex')}`;
const policiesPath = (tenantId: string) => `/api/v1/admin/tenants/${tenantId}/policies`;

const putPolicy = async (tenantId: string, policy: Record<string, unknown>) => {
  const r = await s.admin('POST', policiesPath(tenantId), policy);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.data;
};

/** Registers a device, sends a push for `purpose`, approves it; returns the request id. */
const approvedPush = async (key: string, userId: string, purpose?: string) => {
  const dev = await s.call(key, '/api/v1/push/devices', { userId, fcmToken: `tok_${randomBytes(16).toString('hex')}`, platform: 'ios' });
  assert.equal(dev.status, 200, JSON.stringify(dev.body));
  const sent = await s.call(key, '/api/v1/push/send', { userId, title: '결제 승인 요청', ...(purpose ? { purpose } : {}) });
  assert.equal(sent.status, 200, JSON.stringify(sent.body));
  const requestId = sent.body.data.requestId as string;
  const r = await s.call(key, '/api/v1/push/respond', { requestId, action: 'approve' });
  assert.equal(r.body.data.status, 'approved');
  return requestId;
};

let phones = 0;
/** A fresh Korean mobile number in national form, and its E.164 form. */
const newPhone = () => {
  const rest = String(10_000_000 + ++phones * 7919 + Math.floor(Math.random() * 1000)).slice(-8);
  return { national: `010${rest}`, e164: `+8210${rest}` };
};

/** Sends an SMS OTP with userId and purpose (the gateway captures the text), then verifies the code. */
const smsVerify = async (key: string, userId: string, purpose: string) => {
  const phone = newPhone();
  const sent = await s.call(key, '/api/v1/otp/send', { phone: phone.national, purpose, userId });
  assert.equal(sent.status, 200, JSON.stringify(sent.body));
  const message = sms.findLast((m) => m.to === phone.e164);
  assert.ok(message, 'the gateway received the SMS');
  const code = /\b(\d{6})\b/.exec(message.text)?.[1];
  assert.ok(code, `a code in ${JSON.stringify(message.text)}`);
  return s.call(key, '/api/v1/otp/verify', { phone: phone.national, code });
};

/** Enrols TOTP for the user and verifies the current code (the first verification confirms the enrolment). */
const totpVerify = async (key: string, userId: string) => {
  const setup = await s.call(key, '/api/v1/totp/setup', { userId, accountName: 'user@example.com' });
  assert.equal(setup.status, 200, JSON.stringify(setup.body));
  return s.call(key, '/api/v1/totp/verify', { userId, token: await generate({ secret: setup.body.data.secret, epoch: Math.floor(clock.now() / 1000) }) });
};

const assertMfaRequired = (r: { status: number; body: any }, requiredChannels: string[], matchedPolicies: string[]) => {
  assert.equal(r.status, 403, JSON.stringify(r.body));
  assert.deepEqual(Object.keys(r.body).sort(), ['code', 'error', 'matchedPolicies', 'requiredChannels', 'success']);
  assert.equal(r.body.success, false);
  assert.equal(r.body.code, 'MFA_REQUIRED');
  assert.equal(typeof r.body.error, 'string');
  assert.deepEqual(r.body.requiredChannels, requiredChannels);
  assert.deepEqual(r.body.matchedPolicies, matchedPolicies);
};

describe('MFA policies through the admin API', () => {
  test('put, list and delete a policy; the seed policy round-trips with its Korean name', async () => {
    const t = await s.createTenant('policies');
    const saved = await putPolicy(t.tenantId, { name: POLICY, match: { purpose: 'payment' }, requiredChannels: ['sms', 'totp'], withinSeconds: 300 });
    assert.deepEqual(saved, { name: POLICY, match: { purpose: 'payment', channels: [] }, requiredChannels: ['sms', 'totp'], withinSeconds: 300 });
    await putPolicy(t.tenantId, { name: 'login needs push', match: { purpose: 'login', channels: ['sms'] }, requiredChannels: ['push'] });
    const list = await s.admin('GET', policiesPath(t.tenantId));
    assert.equal(list.status, 200);
    assert.deepEqual(list.body.data.policies, [saved, { name: 'login needs push', match: { purpose: 'login', channels: ['sms'] }, requiredChannels: ['push'], withinSeconds: 300 }]);

    const del = await s.admin('DELETE', `${policiesPath(t.tenantId)}/${encodeURIComponent(POLICY)}`);
    assert.equal(del.status, 200, JSON.stringify(del.body));
    assert.equal(del.body.data.deleted, true);
    assert.deepEqual((await s.admin('GET', policiesPath(t.tenantId))).body.data.policies.map((p: { name: string }) => p.name), ['login needs push']);
    const again = await s.admin('DELETE', `${policiesPath(t.tenantId)}/${encodeURIComponent(POLICY)}`);
    assert.equal(again.status, 404);
    assert.equal(again.body.code, 'NOT_FOUND');
  });

  test('an unknown channel, a missing requiredChannels and a window over a day are 400; an unknown tenant is 404; no admin token is 401', async () => {
    const t = await s.createTenant('policies-bad');
    for (const bad of [
      { name: 'x', requiredChannels: ['fax'] },
      { name: 'x', requiredChannels: [] },
      { name: 'x', requiredChannels: ['totp'], withinSeconds: 86_401 },
      { name: '', requiredChannels: ['totp'] },
    ]) {
      const r = await s.admin('POST', policiesPath(t.tenantId), bad);
      assert.equal(r.status, 400, JSON.stringify(bad));
      assert.equal(r.body.code, 'INVALID_ARGUMENT');
    }
    const unknown = await s.admin('POST', policiesPath('tn_nosuchtenant'), { name: 'x', requiredChannels: ['totp'] });
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.code, 'TENANT_NOT_FOUND');
    const anon = await s.post(policiesPath(t.tenantId), { name: 'x', requiredChannels: ['totp'] });
    assert.equal(anon.status, 401);
  });
});

describe('MFA_REQUIRED on live verifications', () => {
  let t: { tenantId: string; apiKey: string };
  before(async () => {
    t = await s.createTenant('shop');
    await putPolicy(t.tenantId, { name: POLICY, match: { purpose: 'payment' }, requiredChannels: ['push', 'totp'], withinSeconds: 300 });
  });

  test("a push approved for purpose payment alone answers the seed's MFA envelope (403, requiredChannels [totp]); after TOTP the same verify succeeds", async () => {
    const userId = newUser();
    const requestId = await approvedPush(t.apiKey, userId, 'payment');
    assertMfaRequired(await s.call(t.apiKey, '/api/v1/push/verify', { requestId }), ['totp'], [POLICY]);
    // The PHP shape gets the same answer.
    assertMfaRequired(await s.call(t.apiKey, '/api/v1/push/verify', { userId, requestId }), ['totp'], [POLICY]);

    const totp = await totpVerify(t.apiKey, userId);
    assert.equal(totp.status, 200, JSON.stringify(totp.body));
    assert.equal(totp.body.data.verified, true);

    const done = await s.call(t.apiKey, '/api/v1/push/verify', { requestId });
    assert.equal(done.status, 200, JSON.stringify(done.body));
    assert.deepEqual(done.body.data, { verified: true, status: 'approved' });
  });

  test('gRPC: PERMISSION_DENIED with an ErrorDetail carrying requiredChannels and matchedPolicies', async () => {
    const requestId = await approvedPush(t.apiKey, newUser(), 'payment');
    const g = await grpcCall(`127.0.0.1:${s.port}`, PushService.method.verifyPush, { requestId }, { 'x-api-key': t.apiKey });
    assert.equal(g.ok, false);
    assert.equal(!g.ok && g.code, GrpcStatus.PERMISSION_DENIED);

    const client = createClient(PushService, createGrpcTransport({ baseUrl: s.url }));
    await assert.rejects(client.verifyPush({ requestId }, { headers: { 'x-api-key': t.apiKey } }), (e: unknown) => {
      assert.ok(e instanceof ConnectError);
      assert.equal(e.code, Code.PermissionDenied);
      const [detail] = e.findDetails(ErrorDetailSchema);
      assert.ok(detail, 'an ErrorDetail is attached');
      assert.equal(detail.code, 'MFA_REQUIRED');
      assert.deepEqual(detail.requiredChannels, ['totp']);
      assert.deepEqual(detail.matchedPolicies, [POLICY]);
      return true;
    });
  });

  test('a push for another purpose (login, the default) is not matched by the payment policy', async () => {
    const requestId = await approvedPush(t.apiKey, newUser());
    const r = await s.call(t.apiKey, '/api/v1/push/verify', { requestId });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.data.verified, true);
  });

  test('a denied push is not a verification: verified false, no MFA answer', async () => {
    const userId = newUser();
    await s.call(t.apiKey, '/api/v1/push/devices', { userId, fcmToken: `tok_${randomBytes(16).toString('hex')}`, platform: 'android' });
    const { requestId } = (await s.call(t.apiKey, '/api/v1/push/send', { userId, title: 't', purpose: 'payment' })).body.data;
    await s.call(t.apiKey, '/api/v1/push/respond', { requestId, action: 'deny' });
    const r = await s.call(t.apiKey, '/api/v1/push/verify', { requestId });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.data, { verified: false, status: 'denied' });
  });

  test("another tenant's policy does not apply, and another user's TOTP does not count", async () => {
    const plain = await s.createTenant('no-policies');
    const mine = await approvedPush(plain.apiKey, newUser(), 'payment');
    assert.equal((await s.call(plain.apiKey, '/api/v1/push/verify', { requestId: mine })).body.data.verified, true);

    const alice = newUser();
    assert.equal((await totpVerify(t.apiKey, newUser())).body.data.verified, true); // someone else
    const requestId = await approvedPush(t.apiKey, alice, 'payment');
    assertMfaRequired(await s.call(t.apiKey, '/api/v1/push/verify', { requestId }), ['totp'], [POLICY]);
  });

  test('a TOTP verification is gated by a policy that matches it by channel', async () => {
    const c = await s.createTenant('totp-needs-push');
    await putPolicy(c.tenantId, { name: 'TOTP needs a push first', match: { channels: ['totp'] }, requiredChannels: ['totp', 'push'], withinSeconds: 300 });
    const lone = await totpVerify(c.apiKey, newUser());
    assertMfaRequired(lone, ['push'], ['TOTP needs a push first']);

    const userId = newUser();
    const requestId = await approvedPush(c.apiKey, userId); // push is not matched by this policy
    assert.equal((await s.call(c.apiKey, '/api/v1/push/verify', { requestId })).body.data.verified, true);
    const after = await totpVerify(c.apiKey, userId);
    assert.equal(after.status, 200, JSON.stringify(after.body));
    assert.equal(after.body.data.verified, true);
  });
});

describe('the issue scenario: payment requires sms + totp', () => {
  test("SMS alone answers MFA_REQUIRED with requiredChannels [totp]; TOTP then succeeds, and the next SMS for payment passes", async () => {
    const t = await s.createTenant('shop-sms');
    await putPolicy(t.tenantId, { name: POLICY, match: { purpose: 'payment' }, requiredChannels: ['sms', 'totp'], withinSeconds: 300 });
    const userId = newUser();
    assertMfaRequired(await smsVerify(t.apiKey, userId, 'payment'), ['totp'], [POLICY]);

    const totp = await totpVerify(t.apiKey, userId);
    assert.equal(totp.status, 200, JSON.stringify(totp.body));
    assert.equal(totp.body.data.verified, true);

    const next = await smsVerify(t.apiKey, userId, 'payment');
    assert.equal(next.status, 200, JSON.stringify(next.body));
    assert.equal(next.body.data.verified, true);

    // Login codes are not matched; an SMS without userId cannot be tied to a user and is not gated.
    assert.equal((await smsVerify(t.apiKey, newUser(), 'login')).body.data.verified, true);
    const anonymous = newPhone();
    await s.call(t.apiKey, '/api/v1/otp/send', { phone: anonymous.national, purpose: 'payment' });
    const code = /\b(\d{6})\b/.exec(sms.findLast((m) => m.to === anonymous.e164)!.text)![1];
    assert.equal((await s.call(t.apiKey, '/api/v1/otp/verify', { phone: anonymous.national, code })).body.data.verified, true);
  });

  test('outside the window the missing channels are required again', async () => {
    const w = await s.createTenant('short-window');
    const name = 'payment: sms + totp within 3 s';
    await putPolicy(w.tenantId, { name, match: { purpose: 'payment' }, requiredChannels: ['sms', 'totp'], withinSeconds: 3 });
    const userId = newUser();
    assert.equal((await totpVerify(w.apiKey, userId)).body.data.verified, true);
    const inTime = await smsVerify(w.apiKey, userId, 'payment');
    assert.equal(inTime.status, 200, JSON.stringify(inTime.body));
    assert.equal(inTime.body.data.verified, true);
    const requestId = await approvedPush(w.apiKey, userId, 'payment');
    assert.equal((await s.call(w.apiKey, '/api/v1/push/verify', { requestId })).body.data.verified, true);
    clock.advance(3_100); // every verification above now lies more than 3 s back
    assertMfaRequired(await smsVerify(w.apiKey, userId, 'payment'), ['totp'], [name]);
    // An approval verifies once: a new push, approved now, needs TOTP again.
    const later = await approvedPush(w.apiKey, userId, 'payment');
    assertMfaRequired(await s.call(w.apiKey, '/api/v1/push/verify', { requestId: later }), ['totp'], [name]);
  });
});

/** `npm run admin -- ...` on the server's data directory. */
const cliEnv = { SECUREKEY_DATA_DIR: dataDir, SECUREKEY_MASTER_KEY: masterKey };
const cliJson = (...args: string[]) => adminJson(cliEnv, ...args, '--json');

describe('admin CLI policy commands on the data directory of a running server', () => {
  test('policy put takes effect on the running server at once; list shows it; delete lifts it', async () => {
    const t = await s.createTenant('cli-shop');
    const put = await cliJson('policy', 'put', '--tenant', t.tenantId, '--name', POLICY, '--purpose', 'payment', '--require', 'push,totp', '--within', '300');
    assert.deepEqual(put.policy, { name: POLICY, match: { purpose: 'payment', channels: [] }, requiredChannels: ['push', 'totp'], withinSeconds: 300 });

    const requestId = await approvedPush(t.apiKey, newUser(), 'payment');
    assertMfaRequired(await s.call(t.apiKey, '/api/v1/push/verify', { requestId }), ['totp'], [POLICY]);

    assert.deepEqual((await cliJson('policy', 'list', '--tenant', t.tenantId)).policies, [put.policy]);
    assert.deepEqual((await s.admin('GET', policiesPath(t.tenantId))).body.data.policies, [put.policy]);
    const human = await runAdmin(cliEnv, 'policy', 'list', '--tenant', t.tenantId);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /결제 시 추가 인증: purpose payment requires push \+ totp within 300 s/);

    assert.deepEqual(await cliJson('policy', 'delete', '--tenant', t.tenantId, '--name', POLICY), { deleted: true, name: POLICY });
    const lifted = await s.call(t.apiKey, '/api/v1/push/verify', { requestId });
    assert.equal(lifted.status, 200, JSON.stringify(lifted.body));
    assert.equal(lifted.body.data.verified, true);
    assert.deepEqual((await cliJson('policy', 'list', '--tenant', t.tenantId)).policies, []);
  });

  test('bad policy commands fail with a clear message and a non-zero exit', async () => {
    const t = await s.createTenant('cli-bad');
    const fails = async (args: string[], message: RegExp) => {
      const r = await runAdmin(cliEnv, ...args);
      assert.match(r.stderr, message);
      assert.notEqual(r.code, 0);
    };
    await fails(['policy', 'put', '--tenant', t.tenantId, '--name', 'x', '--require', 'sms,fax'], /requiredChannels: expected channels among/);
    await fails(['policy', 'put', '--tenant', t.tenantId, '--name', 'x'], /--require is required/);
    await fails(['policy', 'put', '--tenant', t.tenantId, '--name', 'x', '--require', 'sms', '--within', 'soon'], /--within: expected a whole number of seconds/);
    await fails(['policy', 'list', '--tenant', 'tn_nosuchtenant'], /no tenant tn_nosuchtenant/);
    await fails(['policy', 'delete', '--tenant', t.tenantId, '--name', 'nothing'], /no MFA policy with this name/);
  });
});
