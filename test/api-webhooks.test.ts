// Webhooks through the live server: outcome → signed delivery the seed's receiver accepts,
// delivery log and redeliver through the admin API, audit through the admin API.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startNodeReceiver, type NodeReceiver } from './fixtures/webhook-node-receiver.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { startSmsGateway } from './helpers/sms-gateway.ts';
import { until } from './helpers/until.ts';

describe('webhooks and audit through the live server', () => {
  let s: TestServer;
  let sms: Awaited<ReturnType<typeof startSmsGateway>>;
  let receiver: NodeReceiver;
  let t: { tenantId: string; apiKey: string; webhookSecret: string };
  before(async () => {
    sms = await startSmsGateway();
    receiver = await startNodeReceiver({ secret: 'unset' });
    s = await startTestServer({ SECUREKEY_SMS_PROVIDER: 'http', SECUREKEY_SMS_HTTP_URL: sms.url, SECUREKEY_WEBHOOK_BACKOFF_BASE_MS: '50', SECUREKEY_WEBHOOK_BACKOFF_MAX_MS: '200', SECUREKEY_WEBHOOK_TIMEOUT_MS: '1000' });
    t = await s.createTenant('hooks', { webhookUrl: receiver.url });
    receiver.setSecret(t.webhookSecret);
  });
  after(async () => {
    await s.stop();
    await receiver.close();
    await sms.close();
  });

  test('a verified SMS code reaches the seed Node receiver as a signed verification.succeeded with externalUserId', async () => {
    assert.match(t.webhookSecret, /^whsec_/);
    assert.equal((await s.call(t.apiKey, '/api/v1/otp/send', { phone: '01077778888', purpose: 'login', userId: 'user_123' })).status, 200);
    const v = await s.call(t.apiKey, '/api/v1/otp/verify', { phone: '01077778888', code: sms.lastCode('+821077778888') });
    assert.equal(v.body.data.verified, true);
    await until('delivery', () => receiver.accepted.some((a) => a.event === 'verification.succeeded'));
    const got = receiver.accepted.find((a) => a.event === 'verification.succeeded')!;
    assert.equal(got.channel, 'sms');
    assert.equal(got.data.externalUserId, 'user_123');
    assert.ok(receiver.log.includes('sms 인증 완료: user_123'));
    assert.ok(got.headers['x-securekey-event-id']);
    assert.ok(got.headers['x-securekey-timestamp']);
    assert.ok(!got.rawBody.includes('1077778888'), 'no phone number in the payload');
  });

  test('the delivery log lists it as delivered; redeliver sends it again', async () => {
    const list = await s.admin('GET', `/api/v1/admin/tenants/${t.tenantId}/webhook-deliveries?status=delivered`);
    assert.equal(list.status, 200, JSON.stringify(list.body));
    const d = list.body.data.deliveries.find((x: { event: string }) => x.event === 'verification.succeeded');
    assert.ok(d, JSON.stringify(list.body.data));
    assert.equal(d.status, 'delivered');
    assert.equal(d.attempts, 1);
    assert.equal(d.lastStatusCode, 200);
    const before = receiver.accepted.length;
    const re = await s.admin('POST', `/api/v1/admin/tenants/${t.tenantId}/webhook-deliveries/${d.deliveryId}/redeliver`, {});
    assert.equal(re.status, 200, JSON.stringify(re.body));
    await until('redelivery', () => receiver.accepted.length > before);
    const unknown = await s.admin('POST', `/api/v1/admin/tenants/${t.tenantId}/webhook-deliveries/whd_nope/redeliver`, {});
    assert.equal(unknown.status, 404);
    const bad = await s.admin('GET', `/api/v1/admin/tenants/${t.tenantId}/webhook-deliveries?status=weird`);
    assert.equal(bad.status, 400);
  });

  test('after a secret rotation the receiver needs the new secret', async () => {
    const r = await s.admin('POST', `/api/v1/admin/tenants/${t.tenantId}/webhook-secret`, {});
    assert.equal(r.status, 200);
    receiver.setSecret(r.body.data.webhookSecret);
    await s.call(t.apiKey, '/api/v1/otp/send', { phone: '01077779999', purpose: 'login', userId: 'user_9' });
    await s.call(t.apiKey, '/api/v1/otp/verify', { phone: '01077779999', code: sms.lastCode('+821077779999') });
    await until('delivery signed with the new secret', () => receiver.accepted.some((a) => a.data.externalUserId === 'user_9'));
  });

  test('the audit trail through the admin API: who, what, channel, outcome, truncated IP, masked destination', async () => {
    const r = await s.admin('GET', `/api/v1/admin/tenants/${t.tenantId}/audit?userId=user_123`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const recs = r.body.data.records as { action: string; channel: string; outcome: string; clientIp: string; destination: string; keyId: string }[];
    assert.ok(recs.length >= 2, JSON.stringify(recs));
    for (const rec of recs) {
      assert.equal(rec.channel, 'sms');
      assert.equal(rec.clientIp, '127.0.0.0');
      assert.ok(!rec.destination.includes('7777'), rec.destination);
      assert.match(rec.keyId, /^key_/);
    }
    assert.ok(recs.some((x) => x.outcome === 'verified' || x.action.includes('verif')), JSON.stringify(recs));
  });
});
