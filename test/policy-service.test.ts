// MFA policies end to end below the API: policies stored as events, verification events of
// several channels projected by the real projection runner into mfa-verifications, and the
// check run as a verification would run it (append its success event, wait for the projection,
// check). Time is driven by `now`.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import pino from 'pino';
import { createMfaGate, POLICY_MAX_AGE_MS } from '../src/app/mfa-gate.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import { mfaPolicyStream } from '../src/domain/policy/index.ts';
import { createPolicyService } from '../src/app/policy.ts';
import type { Channel } from '../src/domain/channel.ts';
import { type Caller, createPushService } from '../src/app/push.ts';
import { privacyFor } from './helpers/privacy.ts';
import { DomainError } from '../src/domain/errors.ts';
import type { OtpVerified } from '../src/domain/otp/events.ts';
import { otpStream } from '../src/domain/otp/stream.ts';
import { totpStreamName } from '../src/domain/totp/decider.ts';
import type { TotpCodeAccepted } from '../src/domain/totp/types.ts';
import { webauthnStreamName } from '../src/domain/webauthn/credentials.ts';
import type { CredentialUsed } from '../src/domain/webauthn/types.ts';
import type { EventStore, StoredEvent } from '../src/eventstore/port.ts';
import { createSqliteEventStore } from '../src/eventstore/sqlite/index.ts';
import { createConsoleSender } from '../src/senders/push/index.ts';
import { channelsVerifiedSince, createMfaVerificationsProjection, toVerification, verifiedChannelsReader } from '../projections/mfa-verifications/index.ts';
import { type ProjectionRunner, createProjectionRunner } from '../projections/runtime.ts';
import { openReadModelDb } from '../projections/sql.ts';
import type { DatabaseSync } from 'node:sqlite';

const T = 1_800_000_000_000;
let clock = T;
let dir: string;
let store: EventStore;
let db: DatabaseSync;
let runner: ProjectionRunner;
let privacy: ReturnType<typeof privacyFor>;
const userKeyOf = (userId: string) => privacy.keyring.hmac('user', userId);
const policies = () => createPolicyService({ store, now: () => clock });

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'policy-service-'));
  store = createSqliteEventStore({ path: join(dir, 'events.db'), durable: false });
  privacy = privacyFor(store, () => clock);
  db = openReadModelDb(join(dir, 'read.db'));
  runner = createProjectionRunner({ store, db, projections: [createMfaVerificationsProjection({ userKeyOf })] });
  await runner.start();
});
after(async () => {
  await runner.stop();
  db.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const meta = { tenantId: 'tn_a', keyId: 'key_1', requestId: 'req_1', clientIp: '203.0.113.7' };
const ref = (channel: 'sms' | 'email', userId: string | null, purpose: string) => ({
  otpId: `otp_${randomBytes(4).toString('hex')}`, channel, purpose, userId, masked: '+82 10-****-5678', country: 'KR', issuedAt: clock,
});

/** Appends a channel's success event (shapes owned by the OTP, TOTP and WebAuthn aggregates) and waits for the projection. */
const verified = {
  sms: async (userId: string | null, purpose: string, tenantId = 'tn_a') => {
    const e: OtpVerified = { type: 'OtpVerified', data: { ...ref('sms', userId, purpose), attempts: 0, attemptsRemaining: 5, verifiedAt: clock } };
    return append(otpStream(tenantId, 'sms', privacy.keyring.hmac('destination', '+821012345678')), e, tenantId);
  },
  totp: async (userId: string, tenantId = 'tn_a') => {
    const e: TotpCodeAccepted = { type: 'TotpCodeAccepted', data: { step: Math.floor(clock / 30_000), at: clock } };
    return append(totpStreamName(tenantId, userKeyOf(userId)), e, tenantId);
  },
  webauthn: async (userId: string) => {
    const e: CredentialUsed = { type: 'CredentialUsed', data: { credentialId: 'cred1', counter: 1, backedUp: true, at: clock } };
    return append(webauthnStreamName('tn_a', userKeyOf(userId)), e, 'tn_a');
  },
};
const append = async (stream: string, e: { type: string; data: object }, tenantId: string) => {
  const res = await store.appendToStream(stream, [{ type: e.type, data: e.data as Record<string, unknown>, metadata: { ...meta, tenantId } }]);
  await runner.waitFor(res.position);
};

/** A verification that succeeded, run through the MFA gate (src/app/mfa-gate.ts) as every channel runs. */
const check = (userId: string | undefined, channel: Channel, purpose?: string, tenantId = 'tn_a') =>
  createMfaGate({
    store,
    now: () => clock,
    readModels: { current: async () => runner.waitFor(await store.headPosition()) },
    verifiedChannels: (t, u, since) => verifiedChannelsReader(db, t, userKeyOf)(u, since),
  })
    .verify(tenantId, channel, async () => ({ verified: true, userId, purpose }))
    .then((r) => ({ matchedPolicies: r.matchedPolicies }));

const mfaRequired = (requiredChannels: string[], matchedPolicies: string[]) => (e: unknown) => {
  assert.ok(e instanceof DomainError, `expected a DomainError, got ${e}`);
  assert.equal(e.code, 'MFA_REQUIRED');
  assert.deepEqual(e.extras, { requiredChannels, matchedPolicies });
  return true;
};

const PAYMENT = { name: '결제 시 추가 인증', match: { purpose: 'payment' }, requiredChannels: ['sms', 'totp'], withinSeconds: 300 };

test('policies: put, list, put again unchanged, delete', async () => {
  const p = policies();
  const saved = await p.put('tn_list', PAYMENT, meta);
  assert.deepEqual(saved, { name: '결제 시 추가 인증', match: { purpose: 'payment' }, requiredChannels: ['sms', 'totp'], withinSeconds: 300 });
  await p.put('tn_list', { name: 'login push', match: { purpose: 'login', channels: ['push'] }, requiredChannels: ['push', 'webauthn'] });
  await p.put('tn_list', PAYMENT);
  assert.deepEqual((await p.list('tn_list')).map((x) => x.name), ['결제 시 추가 인증', 'login push']);
  assert.deepEqual(await p.list('tn_other'), []);
  assert.deepEqual(await p.delete('tn_list', 'login push'), { deleted: true });
  await assert.rejects(p.delete('tn_list', 'login push'), (e: unknown) => e instanceof DomainError && e.code === 'NOT_FOUND');
  const events = await store.readStream('mfapolicy-tn_list');
  assert.deepEqual(events.map((e) => e.type), ['PolicyPut', 'PolicyPut', 'PolicyDeleted']);
  assert.equal(events[0]!.metadata.tenantId, 'tn_list');
});

test('"payment requires sms + totp": SMS alone → MFA_REQUIRED ["totp"]; then TOTP → success; outside the window → required again', async () => {
  await policies().put('tn_a', PAYMENT);
  const userId = 'user_pay';

  clock += 1_000;
  await verified.sms(userId, 'payment');
  await assert.rejects(check(userId, 'sms', 'payment'), mfaRequired(['totp'], ['결제 시 추가 인증']));

  clock += 60_000;
  await verified.totp(userId);
  assert.deepEqual(await check(userId, 'totp', 'payment'), { matchedPolicies: ['결제 시 추가 인증'] });

  clock += 301_000; // the SMS is now 361 s old, the window is 300 s
  await verified.totp(userId);
  await assert.rejects(check(userId, 'totp', 'payment'), mfaRequired(['sms'], ['결제 시 추가 인증']));
});

test('the order does not matter: TOTP first (refused), then SMS completes it', async () => {
  const userId = 'user_order';
  clock += 1_000;
  await verified.totp(userId);
  await assert.rejects(check(userId, 'totp', 'payment'), mfaRequired(['sms'], ['결제 시 추가 인증']));
  clock += 10_000;
  await verified.sms(userId, 'payment');
  await check(userId, 'sms', 'payment');
});

test('no policy applies to another purpose, another user, another tenant, or a verification without a user id', async () => {
  clock += 1_000;
  await check('user_x', 'sms', 'login');
  await verified.sms('user_y', 'payment');
  await assert.rejects(check('user_z', 'totp', 'payment'), mfaRequired(['sms'], ['결제 시 추가 인증']));
  await verified.sms('user_t', 'payment', 'tn_b');
  await check('user_t', 'sms', 'payment', 'tn_b');
  await check(undefined, 'sms', 'payment');
});

test('a push approval and a passkey count toward policies too', async () => {
  await policies().put('tn_a', { name: 'admin', match: { purpose: 'admin' }, requiredChannels: ['push', 'webauthn'], withinSeconds: 120 });
  const logs: string[] = [];
  const log = pino({}, { write: (l: string) => void logs.push(l) });
  const push = createPushService({ ...privacy, now: () => clock, sender: createConsoleSender({ log }), log });
  const caller: Caller = { tenantId: 'tn_a', keyId: 'key_1', requestId: 'req_9', clientIp: '203.0.113.7' };
  const userId = 'user_admin';
  clock += 1_000;
  await verified.webauthn(userId);
  await assert.rejects(check(userId, 'webauthn', 'admin'), mfaRequired(['push'], ['admin']));

  await push.registerDevice(caller, { userId, fcmToken: 'tok-admin', platform: 'android' });
  const sent = await push.send(caller, { userId, title: 'Admin?', purpose: 'admin' });
  await push.respond(caller, { requestId: sent.requestId, action: 'approve' });
  await runner.waitFor(await store.headPosition());
  await check(userId, 'push', 'admin');
  assert.deepEqual(channelsVerifiedSince(db, 'tn_a', userKeyOf(userId), clock - 120_000), new Set(['webauthn', 'push']));
});

test('the gate reads a tenant\'s policies once per POLICY_MAX_AGE_MS, not per verification; a policy put by another process applies within it, one put here at once', async () => {
  let reads = 0;
  // The real store, counting the reads of one policy stream (the gate and the policy service share
  // it, as in the server: src/securekey.ts).
  const counted: EventStore = { ...store, readStream: (s, o) => ((reads += s === mfaPolicyStream('tn_far') ? 1 : 0), store.readStream(s, o)) };
  const gate = createMfaGate({ store: counted, now: () => clock, readModels: { current: async () => {} }, verifiedChannels: () => new Set() });
  const here = createPolicyService({ store: counted, now: () => clock });
  const payment = () => gate.verify('tn_far', 'sms', async () => ({ verified: true, userId: 'user_far', purpose: 'payment' }));
  const required = (e: unknown) => e instanceof DomainError && e.code === 'MFA_REQUIRED';

  const started = performance.now();
  for (let i = 0; i < 50; i++) assert.deepEqual((await payment()).matchedPolicies, []);
  assert.ok(reads <= 1 + Math.ceil((performance.now() - started) / POLICY_MAX_AGE_MS), `${reads} reads for 50 verifications`);

  // Another process (another connection to the same file, with its own cache) puts a policy.
  const other = createSqliteEventStore({ path: join(dir, 'events.db'), durable: false });
  try {
    await createPolicyService({ store: other, now: () => clock }).put('tn_far', PAYMENT);
  } finally {
    await other.close();
  }
  await sleep(POLICY_MAX_AGE_MS + 1);
  await assert.rejects(payment(), required);

  // Deleted through this process: the next verification, at once, finds no policy.
  await here.delete('tn_far', PAYMENT.name);
  assert.deepEqual((await payment()).matchedPolicies, []);
  await here.put('tn_far', PAYMENT);
  await assert.rejects(payment(), required);
});

test('mfa-verifications projection: maps each success event, keys users by hash, ignores the rest and replays', () => {
  const ev = (type: string, data: Record<string, unknown>, streamName: string, position: number, metadata: Record<string, unknown> = { tenantId: 'tn_a' }): StoredEvent => ({
    id: `e${position}`, type, data, metadata, streamName, revision: 0, position, recordedAt: new Date(T),
  });
  const uk = userKeyOf('u1');
  assert.deepEqual(toVerification(ev('OtpVerified', { channel: 'email', userId: 'u1', purpose: 'signup', verifiedAt: T + 5 }, 'otp-tn_a.email.h', 1), userKeyOf), {
    tenantId: 'tn_a', userKey: uk, channel: 'email', purpose: 'signup', at: T + 5,
  });
  assert.equal(toVerification(ev('OtpVerified', { channel: 'sms', userId: null, purpose: 'login', verifiedAt: T }, 'otp-tn_a.sms.h', 2), userKeyOf), undefined);
  assert.deepEqual(toVerification(ev('TotpEnrollmentConfirmed', { step: 1, at: T }, `totp-tn.with.dots.${uk}`, 3), userKeyOf)?.userKey, uk);
  assert.deepEqual(toVerification(ev('CredentialUsed', { credentialId: 'c', at: T }, `webauthn-tn_a.${uk}`, 4), userKeyOf)?.channel, 'webauthn');
  assert.deepEqual(toVerification(ev('PushApproved', { requestId: 'pr', userId: 'u1', purpose: 'login', at: T }, 'push-tn_a.pr', 5), userKeyOf)?.channel, 'push');
  assert.equal(toVerification(ev('TotpCodeRejected', { at: T }, `totp-tn_a.${uk}`, 6), userKeyOf), undefined);
  assert.equal(toVerification(ev('TotpCodeAccepted', { at: T }, `totp-tn_a.${uk}`, 7, {}), userKeyOf), undefined, 'no tenant, not counted');

  const mem = openReadModelDb(':memory:');
  try {
    const p = createMfaVerificationsProjection({ userKeyOf });
    p.init(mem);
    const e = ev('TotpCodeAccepted', { step: 1, at: T }, `totp-tn_a.${uk}`, 8);
    p.evolve(mem, e);
    p.evolve(mem, e);
    assert.equal((mem.prepare('SELECT COUNT(*) AS n FROM mfa_verifications').get() as { n: number }).n, 1);
    assert.deepEqual(channelsVerifiedSince(mem, 'tn_a', uk, T), new Set(['totp']));
    assert.deepEqual(channelsVerifiedSince(mem, 'tn_a', uk, T + 1), new Set());
  } finally {
    mem.close();
  }
});
