// The push service on a real SQLite event store, delivering through the real FCM sender
// (firebase-admin) to a local HTTPS stand-in for the FCM endpoint. Time is driven by `now`.
import assert from 'node:assert/strict';

/** verify's outcome (it also returns the request's userId and purpose, for the MFA gate). */
const outcome = ({ verified, status }: { verified: boolean; status: string }) => ({ verified, status });
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, test } from 'node:test';
import pino from 'pino';
import { type Caller, createPushService } from '../src/app/push.ts';
import { privacyFor } from './helpers/privacy.ts';
import { DomainError } from '../src/domain/errors.ts';
import { pushRequestStream } from '../src/domain/push/index.ts';
import type { EventStore } from '../src/eventstore/port.ts';
import { createSqliteEventStore } from '../src/eventstore/sqlite/index.ts';
import { createFcmSender, type PushSender } from '../src/senders/push/index.ts';
import { type FcmStandIn, startFcmStandIn } from './fixtures/fcm-server.ts';

const T = 1_800_000_000_000;
let clock = T;
let dir: string;
let store: EventStore;
let fcm: FcmStandIn;
let sender: PushSender;
const logs: string[] = [];
let privacy: ReturnType<typeof privacyFor>;
let push: ReturnType<typeof createPushService>;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'push-service-'));
  store = createSqliteEventStore({ path: join(dir, 'events.db'), durable: false });
  fcm = await startFcmStandIn();
  sender = createFcmSender({ projectId: 'test-project', credential: fcm.credential, httpAgent: fcm.agent });
  const log = pino({ level: 'info' }, { write: (line: string) => void logs.push(line) });
  privacy = privacyFor(store, () => clock);
  push = createPushService({ ...privacy, now: () => clock, sender, log });
});
after(async () => {
  await sender.close();
  await fcm.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => {
  clock += 3_600_000; // a fresh hour: earlier tests' requests are long expired and out of the window
  fcm.requests.length = 0;
});

let n = 0;
const caller = (tenantId = 'tn_a'): Caller => ({ tenantId, keyId: 'key_1', requestId: `req_${++n}`, clientIp: '203.0.113.7' });
const newUser = () => `user_${++n}`;
const rejects = (code: string, extras?: object) => (e: unknown) => {
  assert.ok(e instanceof DomainError, `expected a DomainError, got ${e}`);
  assert.equal(e.code, code);
  if (extras) assert.deepEqual(e.extras, extras);
  return true;
};
const withDevice = async (userId: string, token = `good-${userId}`) => {
  await push.registerDevice(caller(), { userId, fcmToken: token, platform: 'ios', deviceName: 'iPhone 15' });
};
const eventsOf = async (tenantId: string, requestId: string) => (await store.readStream(pushRequestStream(tenantId, requestId))).map((e) => e.type);

test('devices: the same token re-registers as the same device; tokens are never stored or logged in clear', async () => {
  const userId = newUser();
  const token = `good-token-${randomBytes(8).toString('hex')}`;
  const a = await push.registerDevice(caller(), { userId, fcmToken: token, platform: 'android', deviceName: 'Galaxy S24' });
  const b = await push.registerDevice(caller(), { userId, fcmToken: token, platform: 'android', deviceName: 'Galaxy S24 Ultra' });
  assert.equal(a.deviceId, b.deviceId);
  const other = await push.registerDevice(caller(), { userId, fcmToken: `${token}-2`, platform: 'web' });
  assert.notEqual(other.deviceId, a.deviceId);

  const { devices } = await push.listDevices(caller(), { userId });
  assert.deepEqual(devices.map((d) => [d.deviceId, d.deviceName, d.platform, d.stale]), [
    [a.deviceId, 'Galaxy S24 Ultra', 'android', false],
    [other.deviceId, '', 'web', false],
  ]);
  assert.deepEqual(await push.removeDevice(caller(), { userId, deviceId: other.deviceId }), { removed: true });
  await assert.rejects(push.removeDevice(caller(), { userId, deviceId: other.deviceId }), rejects('DEVICE_NOT_FOUND'));
  await assert.rejects(push.registerDevice(caller(), { userId, fcmToken: token, platform: 'symbian' }), rejects('INVALID_ARGUMENT'));
  await assert.rejects(push.registerDevice(caller(), { userId, fcmToken: '', platform: 'ios' }), rejects('INVALID_ARGUMENT'));

  const all = JSON.stringify(await store.readAll());
  assert.ok(!all.includes(token), 'no token in any event');
  assert.ok(!all.includes(userId), 'no user id in the device stream');
  assert.ok(!all.includes('Galaxy S24'), 'no device name in clear');
  assert.ok(!logs.join('').includes(token), 'no token in the logs');
});

test('send → FCM data message → approve → verify answers verified, with caller metadata on every event', async () => {
  const userId = newUser();
  await withDevice(userId);
  const c = caller();
  const sent = await push.send(c, { userId, title: '로그인 승인 요청', body: '새로운 기기에서 로그인을 시도합니다.', settings: {} });
  assert.match(sent.requestId, /^pr_[A-Za-z0-9_-]{22}$/);
  assert.equal(sent.status, 'pending');
  assert.equal(sent.expiresAt, clock + 120_000);
  assert.equal(sent.number, undefined);

  assert.equal(fcm.requests.length, 1);
  const m = fcm.requests[0]!.body.message;
  assert.equal(m.token, `good-${userId}`);
  assert.deepEqual(m.data, { type: 'securekey.push', requestId: sent.requestId, title: '로그인 승인 요청', body: '새로운 기기에서 로그인을 시도합니다.', purpose: 'login', expiresAt: String(sent.expiresAt) });
  assert.equal(m.android.ttl, '120s');

  clock += 5_000;
  assert.deepEqual(outcome(await push.verify(caller(), { requestId: sent.requestId })), { verified: false, status: 'pending' });
  assert.deepEqual(await push.respond(caller(), { requestId: sent.requestId, action: 'approve' }), { status: 'approved' });
  assert.deepEqual(outcome(await push.verify(caller(), { requestId: sent.requestId })), { verified: true, status: 'approved' });
  // An approval verifies once.
  await assert.rejects(push.verify(caller(), { requestId: sent.requestId, userId }), (e: unknown) => e instanceof DomainError && e.code === 'PUSH_NOT_FOUND');

  const raw = await store.readStream(pushRequestStream('tn_a', sent.requestId));
  assert.ok(!JSON.stringify(raw).includes(userId) && !JSON.stringify(raw).includes('203.0.113.7') && !JSON.stringify(raw).includes('로그인'), 'user id, client IP and text sealed');
  const stored = raw.map(privacy.personal.open);
  assert.deepEqual(stored.map((e) => e.type), ['PushRequested', 'PushDelivered', 'PushApproved', 'PushApprovalConsumed']);
  const { hash, prevHash, ...metadata } = stored[0]!.metadata; // the hash chain (src/eventstore/chain.ts)
  assert.match(String(hash), /^[0-9a-f]{64}$/);
  assert.match(String(prevHash), /^0{64}$/);
  assert.deepEqual(metadata, { tenantId: 'tn_a', keyId: 'key_1', requestId: c.requestId, clientIp: '203.0.113.7', userKey: privacy.keyring.hmac('user', userId) });
  assert.equal(stored[2]!.data.userId, userId);
});

test('deny, "not me", and a second response', async () => {
  const userId = newUser();
  await withDevice(userId);
  const a = await push.send(caller(), { userId, title: 'Login?' });
  assert.deepEqual(await push.respond(caller(), { requestId: a.requestId, action: 'deny' }), { status: 'denied' });
  assert.deepEqual(outcome(await push.verify(caller(), { requestId: a.requestId })), { verified: false, status: 'denied' });
  await assert.rejects(push.respond(caller(), { requestId: a.requestId, action: 'approve' }), rejects('ALREADY_RESPONDED'));

  const b = await push.send(caller(), { userId, title: 'Login?' });
  await push.respond(caller(), { requestId: b.requestId, action: 'deny', notMe: true });
  assert.deepEqual(await eventsOf('tn_a', b.requestId), ['PushRequested', 'PushDelivered', 'PushDenied', 'PushReportedNotMe']);
  await assert.rejects(push.respond(caller(), { requestId: b.requestId, action: 'deny' }), rejects('ALREADY_RESPONDED'));
});

test('expiry: a response after the lifetime is PUSH_EXPIRED, verify says expired, PushExpired is stored once', async () => {
  const userId = newUser();
  await withDevice(userId);
  const sent = await push.send(caller(), { userId, title: 'Login?', settings: { pushTtlSeconds: 60 } });
  assert.equal(sent.expiresAt, clock + 60_000);
  clock += 60_000;
  await assert.rejects(push.respond(caller(), { requestId: sent.requestId, action: 'approve' }), rejects('PUSH_EXPIRED'));
  assert.deepEqual(outcome(await push.verify(caller(), { requestId: sent.requestId })), { verified: false, status: 'expired' });
  assert.deepEqual(outcome(await push.verify(caller(), { requestId: sent.requestId })), { verified: false, status: 'expired' });
  assert.deepEqual(await eventsOf('tn_a', sent.requestId), ['PushRequested', 'PushDelivered', 'PushExpired']);
  await assert.rejects(push.respond(caller(), { requestId: sent.requestId, action: 'approve' }), rejects('PUSH_EXPIRED'));
});

test('verify by the wrong user, from another tenant, or with an unknown id reads as PUSH_NOT_FOUND', async () => {
  const userId = newUser();
  await withDevice(userId);
  const sent = await push.send(caller(), { userId, title: 'Login?' });
  await assert.rejects(push.verify(caller(), { requestId: sent.requestId, userId: 'someone_else' }), rejects('PUSH_NOT_FOUND'));
  await assert.rejects(push.verify(caller('tn_b'), { requestId: sent.requestId }), rejects('PUSH_NOT_FOUND'));
  await assert.rejects(push.respond(caller('tn_b'), { requestId: sent.requestId, action: 'approve' }), rejects('PUSH_NOT_FOUND'));
  await assert.rejects(push.verify(caller(), { requestId: 'pr_AAAAAAAAAAAAAAAAAAAAAA' }), rejects('PUSH_NOT_FOUND'));
  await assert.rejects(push.verify(caller(), { requestId: '../etc/passwd' }), rejects('PUSH_NOT_FOUND'));
});

test('pending cap: the 4th pending push is TOO_MANY_PENDING with retryAfterSeconds; answering one frees a slot', async () => {
  const userId = newUser();
  await withDevice(userId);
  const sent = [];
  for (let i = 0; i < 3; i++) {
    sent.push(await push.send(caller(), { userId, title: 'Login?' }));
    clock += 10_000;
  }
  await assert.rejects(push.send(caller(), { userId, title: 'Login?' }), rejects('TOO_MANY_PENDING', { retryAfterSeconds: 90 }));
  await push.respond(caller(), { requestId: sent[1]!.requestId, action: 'deny' });
  await push.send(caller(), { userId, title: 'Login?' });
  await assert.rejects(push.send(caller(), { userId, title: 'Login?' }), rejects('TOO_MANY_PENDING'));
});

test('pending cap holds under concurrent sends for the same user', async () => {
  const userId = newUser();
  await withDevice(userId);
  const results = await Promise.allSettled(Array.from({ length: 6 }, () => push.send(caller(), { userId, title: 'Login?' })));
  assert.equal(results.filter((r) => r.status === 'fulfilled').length, 3);
  for (const r of results) if (r.status === 'rejected') rejects('TOO_MANY_PENDING')(r.reason);
});

test('window cap: more than 10 pushes in 10 minutes is refused even when each was answered', async () => {
  const userId = newUser();
  await withDevice(userId);
  for (let i = 0; i < 10; i++) {
    const s = await push.send(caller(), { userId, title: 'Login?' });
    await push.respond(caller(), { requestId: s.requestId, action: 'deny' });
    clock += 1_000;
  }
  await assert.rejects(push.send(caller(), { userId, title: 'Login?' }), rejects('TOO_MANY_PENDING', { retryAfterSeconds: 590 }));
  clock += 590_000;
  await push.send(caller(), { userId, title: 'Login?' });
});

test('number matching: send returns the number, the device gets three choices; right number approves, wrong one denies', async () => {
  const userId = newUser();
  await withDevice(userId);
  const settings = { pushNumberMatching: true };
  const a = await push.send(caller(), { userId, title: 'Login?', settings });
  assert.ok(typeof a.number === 'number' && a.number >= 10 && a.number <= 99);
  const choices = String(fcm.requests[0]!.body.message.data.numberChoices).split(',').map(Number);
  assert.equal(choices.length, 3);
  assert.equal(new Set(choices).size, 3);
  assert.ok(choices.includes(a.number!));
  await assert.rejects(push.respond(caller(), { requestId: a.requestId, action: 'approve' }), rejects('INVALID_ARGUMENT'));
  assert.deepEqual(await push.respond(caller(), { requestId: a.requestId, action: 'approve', number: a.number }), { status: 'approved' });
  assert.deepEqual(outcome(await push.verify(caller(), { requestId: a.requestId })), { verified: true, status: 'approved' });

  const b = await push.send(caller(), { userId, title: 'Login?', settings });
  const wrong = b.number === 99 ? 98 : b.number! + 1;
  assert.deepEqual(await push.respond(caller(), { requestId: b.requestId, action: 'approve', number: wrong }), { status: 'denied' });
  assert.deepEqual(outcome(await push.verify(caller(), { requestId: b.requestId })), { verified: false, status: 'denied' });
});

test('a dead token marks its device stale and never breaks delivery to the other device', async () => {
  const userId = newUser();
  await withDevice(userId, `dead-${userId}`);
  await withDevice(userId, `good-${userId}`);
  const sent = await push.send(caller(), { userId, title: 'Login?' });
  assert.deepEqual(fcm.requests.map((r) => r.body.message.token).sort(), [`dead-${userId}`, `good-${userId}`]);
  assert.deepEqual(await eventsOf('tn_a', sent.requestId), ['PushRequested', 'PushDeliveryFailed', 'PushDelivered']);
  const { devices } = await push.listDevices(caller(), { userId });
  assert.deepEqual(devices.map((d) => d.stale), [true, false]);
  assert.deepEqual(await push.respond(caller(), { requestId: sent.requestId, action: 'approve' }), { status: 'approved' });

  fcm.requests.length = 0;
  await push.send(caller(), { userId, title: 'Login?' });
  assert.deepEqual(fcm.requests.map((r) => r.body.message.token), [`good-${userId}`], 'the stale device is skipped');
});

test('send without an active device is DEVICE_NOT_FOUND; bad input is INVALID_ARGUMENT', async () => {
  const userId = newUser();
  await assert.rejects(push.send(caller(), { userId, title: 'Login?' }), rejects('DEVICE_NOT_FOUND'));
  await withDevice(userId, `dead-${userId}`);
  await push.send(caller(), { userId, title: 'Login?' }); // marks the only device stale
  await assert.rejects(push.send(caller(), { userId, title: 'Login?' }), rejects('DEVICE_NOT_FOUND'));
  await assert.rejects(push.send(caller(), { userId: '', title: 'Login?' }), rejects('INVALID_ARGUMENT'));
  await assert.rejects(push.send(caller(), { userId, title: '' }), rejects('INVALID_ARGUMENT'));
  await assert.rejects(push.respond(caller(), { requestId: 'pr_AAAAAAAAAAAAAAAAAAAAAA', action: 'maybe' }), rejects('INVALID_ARGUMENT'));
});
