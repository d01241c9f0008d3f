// Push approval through the live server: REST over real sockets, in the seed's exact request shapes.
// The server uses its default console sender (FCM itself is tested in push-fcm-sender.test.ts).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, describe, test } from 'node:test';
import { startTestServer, type TestServer } from './helpers/server.ts';

const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;

let s: TestServer;
let acme: { tenantId: string; apiKey: string };
let other: { tenantId: string; apiKey: string };
before(async () => {
  s = await startTestServer();
  acme = await s.createTenant('acme');
  other = await s.createTenant('other');
});
after(() => s.stop());

let n = 0;
const newUser = () => `user_${++n}_${randomBytes(3).toString('hex')}`;
const newToken = () => `fcmtok_${randomBytes(24).toString('base64url')}`;

const register = (key: string, body: Record<string, unknown>) => s.call(key, '/api/v1/push/devices', body);
const send = (key: string, body: Record<string, unknown>) => s.call(key, '/api/v1/push/send', body);
const respond = (key: string, body: Record<string, unknown>) => s.call(key, '/api/v1/push/respond', body);
const verify = (key: string, body: Record<string, unknown>) => s.call(key, '/api/v1/push/verify', body);

/** A user with one registered device; returns the user id. */
const userWithDevice = async (key = acme.apiKey) => {
  const userId = newUser();
  const r = await register(key, { userId, fcmToken: newToken(), platform: 'android' });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return userId;
};

const settings = async (tenantId: string, values: Record<string, unknown>) => {
  const r = await s.admin('PATCH', `/api/v1/admin/tenants/${tenantId}/settings`, { settings: values });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  for (const [k, v] of Object.entries(values)) assert.deepEqual(r.body.data.settings[k], v, `setting ${k} applied`);
};

const eventRows = () => {
  const db = new DatabaseSync(join(s.dataDir, 'events.db'), { readOnly: true });
  try {
    return db.prepare('SELECT * FROM events').all() as Record<string, unknown>[];
  } finally {
    db.close();
  }
};

/** The data payload the console sender logged for this push request. */
const loggedPush = (requestId: string) => {
  const line = s.logs.map((l) => JSON.parse(l)).find((l) => l.push?.requestId === requestId);
  assert.ok(line, `the console sender logged push ${requestId}`);
  return line.push as Record<string, string>;
};

describe('push devices', () => {
  test('the Node SDK shape {userId, fcmToken, deviceName, platform: ios} registers a device and answers data.deviceId', async () => {
    const userId = newUser();
    const r = await register(acme.apiKey, { userId, fcmToken: newToken(), deviceName: 'iPhone 15', platform: 'ios' });
    assert.equal(r.status, 200);
    assert.equal(r.body.success, true);
    assert.equal(typeof r.body.message, 'string');
    assert.match(r.body.data.deviceId, /^dev_/);
    const list = await s.call(acme.apiKey, '/api/v1/push/devices/list', { userId });
    assert.equal(list.status, 200);
    assert.deepEqual(
      list.body.data.devices.map((d: Record<string, unknown>) => ({ deviceId: d.deviceId, deviceName: d.deviceName, platform: d.platform, stale: d.stale })),
      [{ deviceId: r.body.data.deviceId, deviceName: 'iPhone 15', platform: 'ios', stale: false }],
    );
    assert.match(list.body.data.devices[0].registeredAt, RFC3339);
  });

  test('the Java/Go/PHP shape {userId, fcmToken, platform: android} (no deviceName) works', async () => {
    const r = await register(acme.apiKey, { userId: newUser(), fcmToken: newToken(), platform: 'android' });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.match(r.body.data.deviceId, /^dev_/);
  });

  test('re-registering the same token updates the device instead of adding a second one', async () => {
    const userId = newUser();
    const token = newToken();
    const first = await register(acme.apiKey, { userId, fcmToken: token, deviceName: 'Galaxy S24', platform: 'android' });
    const again = await register(acme.apiKey, { userId, fcmToken: token, deviceName: 'Galaxy S24 (work)', platform: 'android' });
    assert.equal(again.status, 200);
    assert.equal(again.body.data.deviceId, first.body.data.deviceId);
    const second = await register(acme.apiKey, { userId, fcmToken: newToken(), deviceName: 'iPad', platform: 'ios' });
    assert.notEqual(second.body.data.deviceId, first.body.data.deviceId);
    const list = await s.call(acme.apiKey, '/api/v1/push/devices/list', { userId });
    assert.deepEqual(
      list.body.data.devices.map((d: { deviceId: string; deviceName: string }) => [d.deviceId, d.deviceName]),
      [
        [first.body.data.deviceId, 'Galaxy S24 (work)'],
        [second.body.data.deviceId, 'iPad'],
      ],
    );
    const removed = await s.call(acme.apiKey, '/api/v1/push/devices/remove', { userId, deviceId: second.body.data.deviceId });
    assert.equal(removed.status, 200);
    assert.equal(removed.body.data.removed, true);
    const after = await s.call(acme.apiKey, '/api/v1/push/devices/list', { userId });
    assert.deepEqual(after.body.data.devices.map((d: { deviceId: string }) => d.deviceId), [first.body.data.deviceId]);
  });

  test('a bad platform, a missing token and a missing userId are 400 INVALID_ARGUMENT envelopes', async () => {
    const bad = await register(acme.apiKey, { userId: newUser(), fcmToken: newToken(), platform: 'windows-phone' });
    assert.equal(bad.status, 400);
    assert.deepEqual(Object.keys(bad.body).sort(), ['code', 'error', 'success']);
    assert.equal(bad.body.success, false);
    assert.equal(bad.body.code, 'INVALID_ARGUMENT');
    assert.match(bad.body.error, /platform/);
    const noToken = await register(acme.apiKey, { userId: newUser(), platform: 'ios' });
    assert.equal(noToken.status, 400);
    assert.match(noToken.body.error, /fcmToken/);
    const noUser = await register(acme.apiKey, { fcmToken: newToken(), platform: 'ios' });
    assert.equal(noUser.status, 400);
    assert.match(noUser.body.error, /userId/);
  });

  test('a push to a user without a device is 404 DEVICE_NOT_FOUND', async () => {
    const r = await send(acme.apiKey, { userId: newUser(), title: '로그인 승인 요청' });
    assert.equal(r.status, 404);
    assert.equal(r.body.code, 'DEVICE_NOT_FOUND');
  });

  test('the FCM token never appears in the server logs, the stored events or any answer', async () => {
    const userId = newUser();
    const token = newToken();
    const answers = [
      await register(acme.apiKey, { userId, fcmToken: token, deviceName: 'Pixel', platform: 'android' }),
      await register(acme.apiKey, { userId, fcmToken: token, deviceName: 'Pixel 9', platform: 'ANDROID' }),
      await register(acme.apiKey, { userId, fcmToken: token, platform: 'blackberry' }),
      await s.call(acme.apiKey, '/api/v1/push/devices/list', { userId }),
    ];
    const sent = await send(acme.apiKey, { userId, title: '로그인 승인 요청', body: '새로운 기기에서 로그인을 시도합니다.' });
    assert.equal(sent.status, 200);
    answers.push(sent, await respond(acme.apiKey, { requestId: sent.body.data.requestId, action: 'approve' }), await verify(acme.apiKey, { requestId: sent.body.data.requestId }));
    assert.equal(answers[1]!.body.data.deviceId, answers[0]!.body.data.deviceId);
    assert.equal(answers[2]!.status, 400);

    const rows = eventRows();
    assert.ok(rows.some((r) => r.type === 'DeviceRegistered'), 'the device was stored');
    assert.ok(rows.some((r) => r.type === 'DeviceUpdated'), 'the re-registration was stored as an update');
    const secretPart = token.slice('fcmtok_'.length);
    for (const [where, text] of [
      ['server logs', s.logs.join('\n')],
      ['events table', JSON.stringify(rows)],
      ['answers', JSON.stringify(answers.map((a) => a.body))],
    ] as const) {
      assert.ok(!text.includes(secretPart), `the token is not in the ${where}`);
    }
  });
});

describe('push send, respond, verify', () => {
  test('send answers requestId, expiresAt (RFC 3339, 120 s ahead) and status pending; approve then verify gives verified true', async () => {
    const userId = await userWithDevice();
    const before = Date.now();
    const sent = await send(acme.apiKey, { userId, title: '로그인 승인 요청', body: '새로운 기기에서 로그인을 시도합니다.' });
    assert.equal(sent.status, 200, JSON.stringify(sent.body));
    assert.equal(sent.body.success, true);
    const { requestId, expiresAt, status } = sent.body.data;
    assert.match(requestId, /^pr_[A-Za-z0-9_-]{22}$/);
    assert.match(expiresAt, RFC3339);
    const ttl = (Date.parse(expiresAt) - before) / 1000;
    assert.ok(ttl > 115 && ttl <= 121, `expires in ${ttl} s`);
    assert.equal(status, 'pending');

    const pending = await verify(acme.apiKey, { requestId });
    assert.equal(pending.status, 200);
    assert.deepEqual(pending.body.data, { verified: false, status: 'pending' });

    const approved = await respond(acme.apiKey, { requestId, action: 'approve' });
    assert.equal(approved.status, 200, JSON.stringify(approved.body));
    assert.equal(approved.body.data.status, 'approved');

    const result = await verify(acme.apiKey, { requestId });
    assert.equal(result.status, 200);
    assert.equal(result.body.success, true);
    assert.deepEqual(result.body.data, { verified: true, status: 'approved' });

    const payload = loggedPush(requestId);
    assert.equal(payload.title, '로그인 승인 요청');
    assert.equal(payload.expiresAt, String(Date.parse(expiresAt)));
  });

  test('the Java/Go shape {userId, title} sends, and the PHP shape {userId, requestId} verifies', async () => {
    const userId = await userWithDevice();
    const sent = await send(acme.apiKey, { userId, title: '로그인 승인 요청' });
    assert.equal(sent.status, 200, JSON.stringify(sent.body));
    const requestId = sent.body.data.requestId;
    await respond(acme.apiKey, { requestId, action: 'approve' });
    const r = await verify(acme.apiKey, { userId, requestId });
    assert.equal(r.status, 200);
    assert.equal(r.body.data.verified, true);
    assert.equal(r.body.data.status, 'approved');
  });

  test('deny: verify answers verified false, status denied', async () => {
    const userId = await userWithDevice();
    const { requestId } = (await send(acme.apiKey, { userId, title: '로그인 승인 요청' })).body.data;
    const denied = await respond(acme.apiKey, { requestId, action: 'deny' });
    assert.equal(denied.status, 200);
    assert.equal(denied.body.data.status, 'denied');
    const r = await verify(acme.apiKey, { requestId, userId });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.data, { verified: false, status: 'denied' });
  });

  test('a second answer is refused with 409 ALREADY_RESPONDED and changes nothing', async () => {
    const userId = await userWithDevice();
    const { requestId } = (await send(acme.apiKey, { userId, title: 't' })).body.data;
    assert.equal((await respond(acme.apiKey, { requestId, action: 'deny' })).status, 200);
    const again = await respond(acme.apiKey, { requestId, action: 'approve' });
    assert.equal(again.status, 409);
    assert.equal(again.body.success, false);
    assert.equal(again.body.code, 'ALREADY_RESPONDED');
    assert.match(again.body.error, /already answered/);
    assert.deepEqual((await verify(acme.apiKey, { requestId })).body.data, { verified: false, status: 'denied' });
  });

  test('a bad action is 400; an unknown or malformed requestId is 404 PUSH_NOT_FOUND on respond and verify', async () => {
    const userId = await userWithDevice();
    const { requestId } = (await send(acme.apiKey, { userId, title: 't' })).body.data;
    const bad = await respond(acme.apiKey, { requestId, action: 'maybe' });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.code, 'INVALID_ARGUMENT');
    for (const id of ['pr_' + randomBytes(16).toString('base64url'), 'nope', '']) {
      const r = await respond(acme.apiKey, { requestId: id, action: 'approve' });
      assert.equal(r.status, 404, id);
      assert.equal(r.body.code, 'PUSH_NOT_FOUND');
      const v = await verify(acme.apiKey, { requestId: id });
      assert.equal(v.status, 404, id);
      assert.equal(v.body.code, 'PUSH_NOT_FOUND');
    }
  });

  test('verify by the wrong user reads like an unknown request (404) and leaks nothing', async () => {
    const userId = await userWithDevice();
    const { requestId } = (await send(acme.apiKey, { userId, title: 't' })).body.data;
    await respond(acme.apiKey, { requestId, action: 'approve' });
    const wrong = await verify(acme.apiKey, { requestId, userId: 'someone_else' });
    assert.equal(wrong.status, 404);
    assert.equal(wrong.body.code, 'PUSH_NOT_FOUND');
    assert.ok(!JSON.stringify(wrong.body).includes(userId));
    assert.equal((await verify(acme.apiKey, { requestId, userId })).body.data.verified, true);
  });

  test("another tenant's key can neither see nor answer the request", async () => {
    const userId = await userWithDevice();
    const { requestId } = (await send(acme.apiKey, { userId, title: 't' })).body.data;
    const seen = await verify(other.apiKey, { requestId });
    assert.equal(seen.status, 404);
    assert.equal(seen.body.code, 'PUSH_NOT_FOUND');
    const answered = await respond(other.apiKey, { requestId, action: 'approve' });
    assert.equal(answered.status, 404);
    assert.equal(answered.body.code, 'PUSH_NOT_FOUND');
    const list = await s.call(other.apiKey, '/api/v1/push/devices/list', { userId });
    assert.deepEqual(list.body.data.devices, []);
    assert.deepEqual((await verify(acme.apiKey, { requestId })).body.data, { verified: false, status: 'pending' });
  });

  test('the tenant setting pushTtlSeconds sets the lifetime', async () => {
    const t = await s.createTenant('short-lived');
    await settings(t.tenantId, { pushTtlSeconds: 30 });
    const userId = await userWithDevice(t.apiKey);
    const before = Date.now();
    const sent = await send(t.apiKey, { userId, title: 't' });
    const ttl = (Date.parse(sent.body.data.expiresAt) - before) / 1000;
    assert.ok(ttl > 25 && ttl <= 31, `expires in ${ttl} s`);
    assert.equal(Number(loggedPush(sent.body.data.requestId).ttlSeconds) <= 30, true);
  });
});

describe('fatigue defences', () => {
  test('over the pending cap a send is 429 TOO_MANY_PENDING; answering one frees a slot', async () => {
    const t = await s.createTenant('capped');
    await settings(t.tenantId, { pushMaxPending: 2 });
    const userId = await userWithDevice(t.apiKey);
    const a = await send(t.apiKey, { userId, title: '1' });
    const b = await send(t.apiKey, { userId, title: '2' });
    assert.equal(a.status, 200);
    assert.equal(b.status, 200);
    const c = await send(t.apiKey, { userId, title: '3' });
    assert.equal(c.status, 429);
    assert.equal(c.body.success, false);
    assert.equal(c.body.code, 'TOO_MANY_PENDING');
    // Another user of the same tenant is not affected.
    assert.equal((await send(t.apiKey, { userId: await userWithDevice(t.apiKey), title: 'x' })).status, 200);

    await respond(t.apiKey, { requestId: a.body.data.requestId, action: 'deny' });
    const d = await send(t.apiKey, { userId, title: '4' });
    assert.equal(d.status, 200, JSON.stringify(d.body));
  });

  test('number matching: send returns data.number, the device gets three choices, the right number approves', async () => {
    const t = await s.createTenant('matching');
    await settings(t.tenantId, { pushNumberMatching: true });
    const userId = await userWithDevice(t.apiKey);
    const sent = await send(t.apiKey, { userId, title: '로그인 승인 요청' });
    assert.equal(sent.status, 200);
    const { requestId, number } = sent.body.data;
    assert.ok(Number.isInteger(number) && number >= 10 && number <= 99, `number ${number}`);
    const choices = loggedPush(requestId).numberChoices!.split(',').map(Number);
    assert.equal(choices.length, 3);
    assert.ok(choices.includes(number));

    const noNumber = await respond(t.apiKey, { requestId, action: 'approve' });
    assert.equal(noNumber.status, 400);
    assert.match(noNumber.body.error, /number/);

    const ok = await respond(t.apiKey, { requestId, action: 'approve', number });
    assert.equal(ok.body.data.status, 'approved');
    assert.deepEqual((await verify(t.apiKey, { requestId, userId })).body.data, { verified: true, status: 'approved' });
  });

  test('number matching: a wrong number counts as a deny', async () => {
    const t = await s.createTenant('matching-wrong');
    await settings(t.tenantId, { pushNumberMatching: true });
    const userId = await userWithDevice(t.apiKey);
    const { requestId, number } = (await send(t.apiKey, { userId, title: 't' })).body.data;
    const wrong = loggedPush(requestId).numberChoices!.split(',').map(Number).find((c) => c !== number)!;
    const r = await respond(t.apiKey, { requestId, action: 'approve', number: wrong });
    assert.equal(r.status, 200);
    assert.equal(r.body.data.status, 'denied');
    assert.deepEqual((await verify(t.apiKey, { requestId })).body.data, { verified: false, status: 'denied' });
    const denied = eventRows().find((e) => e.type === 'PushDenied' && JSON.parse(e.data as string).requestId === requestId)!;
    assert.equal(JSON.parse(denied.data as string).reason, 'number_mismatch');
  });

  test('a deny flagged notMe is recorded as a distinct PushReportedNotMe event', async () => {
    const userId = await userWithDevice();
    const { requestId } = (await send(acme.apiKey, { userId, title: 't' })).body.data;
    const r = await respond(acme.apiKey, { requestId, action: 'deny', notMe: true });
    assert.equal(r.status, 200);
    assert.equal(r.body.data.status, 'denied');
    assert.deepEqual((await verify(acme.apiKey, { requestId })).body.data, { verified: false, status: 'denied' });
    const mine = eventRows().filter((e) => JSON.parse(e.data as string).requestId === requestId).map((e) => e.type);
    assert.ok(mine.includes('PushReportedNotMe'), mine.join());
    const plain = (await send(acme.apiKey, { userId, title: 't2' })).body.data.requestId;
    await respond(acme.apiKey, { requestId: plain, action: 'deny' });
    assert.ok(!eventRows().some((e) => e.type === 'PushReportedNotMe' && JSON.parse(e.data as string).requestId === plain), 'a plain deny is not "not me"');
  });
});
