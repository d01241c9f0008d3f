import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createFcmSender, createPushSenderFromEnv, type PushMessage } from '../src/senders/push/index.ts';
import { type FcmStandIn, STUB_ACCESS_TOKEN, startFcmStandIn } from './fixtures/fcm-server.ts';

let fcm: FcmStandIn;
before(async () => {
  fcm = await startFcmStandIn();
});
after(() => fcm.close());

const message = (token: string, ttlSeconds = 120): PushMessage => ({
  token,
  title: '로그인 승인 요청',
  body: '새로운 기기에서 로그인을 시도합니다.',
  ttlSeconds,
  data: { type: 'securekey.push', requestId: 'pr_x', title: '로그인 승인 요청', body: '새로운 기기에서 로그인을 시도합니다.', expiresAt: '1700000120000', numberChoices: '12,47,83' },
});

test('fcm sender: firebase-admin posts an HTTP v1 data message with high priority and TTL = remaining lifetime', async () => {
  const sender = createFcmSender({ projectId: 'test-project', credential: fcm.credential, httpAgent: fcm.agent, now: () => 1_700_000_000_000 });
  try {
    fcm.requests.length = 0;
    const result = await sender.send(message('good-token-1', 97));
    assert.deepEqual(result, { ok: true });
    assert.equal(fcm.requests.length, 1);
    const req = fcm.requests[0]!;
    assert.equal(req.method, 'POST');
    assert.equal(req.path, '/v1/projects/test-project/messages:send');
    assert.equal(req.authorization, `Bearer ${STUB_ACCESS_TOKEN}`);
    const m = req.body.message;
    assert.equal(m.token, 'good-token-1');
    assert.deepEqual(m.data, message('x').data);
    assert.equal(m.notification, undefined, 'a data message, not a notification message');
    assert.equal(m.android.priority, 'high');
    assert.equal(m.android.ttl, '97s');
    assert.equal(m.apns.headers['apns-priority'], '10');
    assert.equal(m.apns.headers['apns-expiration'], String(1_700_000_000 + 97));
    assert.deepEqual(m.apns.payload.aps.alert, { title: '로그인 승인 요청', body: '새로운 기기에서 로그인을 시도합니다.' });
    assert.equal(m.webpush.headers.TTL, '97');
  } finally {
    await sender.close();
  }
});

test('fcm sender: an unregistered token fails stale for that device only; the other device still gets its message', async () => {
  const sender = createFcmSender({ projectId: 'test-project', credential: fcm.credential, httpAgent: fcm.agent });
  try {
    fcm.requests.length = 0;
    const results = await sender.sendEach([message('dead-token-a'), message('good-token-b')]);
    assert.deepEqual(results, [{ ok: false, stale: true, reason: 'registration-token-not-registered' }, { ok: true }]);
    assert.deepEqual(fcm.requests.map((r) => r.body.message.token).sort(), ['dead-token-a', 'good-token-b']);
  } finally {
    await sender.close();
  }
});

test('fcm sender: a malformed token is stale, a provider outage is not', async () => {
  const sender = createFcmSender({ projectId: 'test-project', credential: fcm.credential, httpAgent: fcm.agent });
  try {
    const [bad, flaky] = await sender.sendEach([message('bad-token'), message('flaky-token')]);
    assert.deepEqual(bad, { ok: false, stale: true, reason: 'invalid-argument' });
    assert.equal(flaky!.ok, false);
    assert.equal(flaky!.ok === false && flaky!.stale, false);
    // Reasons are short provider codes: never the token.
    assert.ok(flaky!.ok === false && !flaky!.reason.includes('flaky-token'));
  } finally {
    await sender.close();
  }
});

test('sender from env: console without Firebase credentials, fcm with a service-account file', async () => {
  const none = await createPushSenderFromEnv({});
  assert.equal(none.name, 'console');
  await none.close();
  assert.equal((await createPushSenderFromEnv({ SECUREKEY_PUSH_SENDER: 'console', GOOGLE_APPLICATION_CREDENTIALS: '/nonexistent' })).name, 'console');
  await assert.rejects(() => createPushSenderFromEnv({ SECUREKEY_PUSH_SENDER: 'fcm' }), /SECUREKEY_FCM_CREDENTIALS/);
  await assert.rejects(() => createPushSenderFromEnv({ SECUREKEY_PUSH_SENDER: 'apns' }), /expected fcm or console/);

  const dir = mkdtempSync(join(tmpdir(), 'fcm-env-'));
  try {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const file = join(dir, 'sa.json');
    writeFileSync(file, JSON.stringify({
      type: 'service_account',
      project_id: 'env-project',
      private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }),
      client_email: 'push@env-project.iam.gserviceaccount.com',
    }));
    const sender = await createPushSenderFromEnv({ GOOGLE_APPLICATION_CREDENTIALS: file });
    assert.equal(sender.name, 'fcm');
    await sender.close();
    await assert.rejects(() => createPushSenderFromEnv({ SECUREKEY_FCM_CREDENTIALS: join(dir, 'missing.json') }), /cannot read the Firebase credentials file/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
