// SMS pumping controls through the live API: per-destination caps, the tenant's daily SMS quota
// and the country allow-list, each with its own code and status, all set through the admin API;
// the admin otp-stats endpoint shows per-country sent / delivered / verified / conversion.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type MessagingTestServer, startMessagingTestServer } from './helpers/messaging-server.ts';
import type { TestServer } from './helpers/server.ts';
import { mailCodes } from './helpers/smtp.ts';

type Tenant = { tenantId: string; apiKey: string };

describe('OTP abuse controls through the live API', () => {
  let peers: MessagingTestServer | undefined;
  let s: TestServer;
  let gateway: MessagingTestServer['gateway'];
  let smtp: MessagingTestServer['smtp'];
  const sendSms = (t: Tenant, phone: string) => s.call(t.apiKey, '/api/v1/otp/send', { phone, purpose: 'login' });
  const verifySms = (t: Tenant, phone: string, code: string) => s.call(t.apiKey, '/api/v1/otp/verify', { phone, code });
  const sendEmail = (t: Tenant, email: string) => s.call(t.apiKey, '/api/v1/email-otp/send', { email, purpose: 'login' });
  const settings = async (t: Tenant, values: Record<string, unknown>) => {
    const r = await s.admin('PATCH', `/api/v1/admin/tenants/${t.tenantId}/settings`, { settings: values });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body.data.settings;
  };
  const stats = (t: Tenant, query = '') => s.admin('GET', `/api/v1/admin/tenants/${t.tenantId}/otp-stats${query}`);

  before(async () => {
    peers = await startMessagingTestServer();
    ({ server: s, gateway, smtp } = peers);
  });
  after(() => peers?.stop());

  test('per-destination cap: with smsPerDestinationHour 2 the third send to one number is 429 DESTINATION_LIMIT with Retry-After; other numbers still get codes', async () => {
    const t = await s.createTenant('cap');
    const set = await settings(t, { otpResendCooldownSeconds: 0, smsPerDestinationHour: 2 });
    assert.deepEqual([set.otpResendCooldownSeconds, set.smsPerDestinationHour], [0, 2]);
    assert.equal((await sendSms(t, '01011112222')).status, 200);
    assert.equal((await sendSms(t, '+821011112222')).status, 200);
    const count = gateway.messages.length;
    const third = await sendSms(t, '010-1111-2222');
    assert.equal(third.status, 429);
    assert.equal(third.body.code, 'DESTINATION_LIMIT');
    const retry = Number(third.headers.get('retry-after'));
    assert.ok(retry > 3500 && retry <= 3600, `Retry-After ${retry}`);
    assert.equal(third.body.retryAfter, retry);
    assert.equal(gateway.messages.length, count, 'nothing was sent');
    assert.equal((await sendSms(t, '01011113333')).status, 200);
    // The capped destination's last code still verifies: the refusal issued nothing.
    assert.deepEqual((await verifySms(t, '01011112222', gateway.lastCode('+821011112222'))).body.data, { verified: true, attemptsRemaining: 5 });
  });

  test("tenant daily quota: with smsDailyQuota 3 the fourth number is 429 TENANT_QUOTA_EXCEEDED; failed deliveries don't count; email has no quota", async () => {
    const t = await s.createTenant('quota');
    await settings(t, { smsDailyQuota: 3 });
    gateway.failWith(502);
    try {
      assert.equal((await sendSms(t, '01020000000')).status, 503);
    } finally {
      gateway.failWith(0);
    }
    for (const phone of ['01020000001', '01020000002', '01020000003']) {
      const r = await sendSms(t, phone);
      assert.equal(r.status, 200, JSON.stringify(r.body));
    }
    const fourth = await sendSms(t, '01020000004');
    assert.equal(fourth.status, 429);
    assert.equal(fourth.body.code, 'TENANT_QUOTA_EXCEEDED');
    const retry = Number(fourth.headers.get('retry-after'));
    const toMidnight = Math.ceil((86_400_000 - (Date.now() % 86_400_000)) / 1000);
    assert.ok(retry >= 1 && Math.abs(retry - toMidnight) <= 5, `Retry-After ${retry}, midnight UTC in ${toMidnight}`);
    assert.equal(fourth.body.retryAfter, retry);
    // Another tenant is not affected, nor is email.
    const other = await s.createTenant('quota-other');
    assert.equal((await sendSms(other, '01020000004')).status, 200);
    assert.equal((await sendEmail(t, 'quota@example.com')).status, 200);
  });

  test('country allow-list: a US number is 403 COUNTRY_NOT_ALLOWED under the default (KR only) and is sent once US is allowed', async () => {
    const t = await s.createTenant('country');
    const count = gateway.messages.length;
    const refused = await sendSms(t, '+12015550123');
    assert.equal(refused.status, 403);
    assert.equal(refused.body.code, 'COUNTRY_NOT_ALLOWED');
    assert.match(refused.body.error, /US/);
    assert.doesNotMatch(refused.body.error, /5550123/);
    assert.equal(gateway.messages.length, count);
    assert.deepEqual((await settings(t, { smsAllowedCountries: ['KR', 'us'] })).smsAllowedCountries, ['KR', 'US']);
    const ok = await sendSms(t, '+12015550123');
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.equal(ok.body.data.to, '+1 20-****-0123');
    assert.equal(gateway.messages.at(-1)!.to, '+12015550123');
    assert.equal((await verifySms(t, '+12015550123', gateway.lastCode('+12015550123'))).body.data.verified, true);
    // Still refused elsewhere.
    const jp = await sendSms(t, '+819012345678');
    assert.equal(jp.status, 403);
    assert.equal(jp.body.code, 'COUNTRY_NOT_ALLOWED');
  });

  test('admin otp-stats: per country and channel, sent / delivered / verified / conversion for the day', async () => {
    const t = await s.createTenant('stats');
    await settings(t, { smsAllowedCountries: ['KR', 'US'] });
    for (const phone of ['01030000001', '01030000002', '01030000003']) assert.equal((await sendSms(t, phone)).status, 200);
    gateway.failWith(500);
    try {
      assert.equal((await sendSms(t, '01030000004')).status, 503);
    } finally {
      gateway.failWith(0);
    }
    assert.equal((await verifySms(t, '01030000001', gateway.lastCode('+821030000001'))).body.data.verified, true);
    assert.equal((await sendSms(t, '+12015550199')).status, 200);
    assert.equal((await verifySms(t, '+12015550199', gateway.lastCode('+12015550199'))).body.data.verified, true);
    assert.equal((await sendEmail(t, 'stats@example.com')).status, 200);
    const mail = smtp.received.at(-1)!;
    assert.deepEqual(mail.rcptTo, ['stats@example.com']);
    assert.ok(mailCodes(mail.mail).text);

    const r = await stats(t);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const byKey = Object.fromEntries((r.body.data.stats as { channel: string; country: string }[]).map((x) => [`${x.channel}:${x.country}`, x]));
    assert.deepEqual(byKey, {
      'sms:KR': { country: 'KR', channel: 'sms', sent: 4, delivered: 3, verified: 1, conversion: 0.25 },
      'sms:US': { country: 'US', channel: 'sms', sent: 1, delivered: 1, verified: 1, conversion: 1 },
      'email:': { country: '', channel: 'email', sent: 1, delivered: 1, verified: 0, conversion: 0 },
    });
    const today = new Date().toISOString().slice(0, 10);
    assert.deepEqual((await stats(t, `?day=${today}`)).body.data, r.body.data);
    assert.deepEqual((await stats(t, '?day=2001-01-01')).body.data, { stats: [] });
    const bad = await stats(t, '?day=2001-02-30');
    assert.equal(bad.status, 400);
    assert.equal(bad.body.code, 'INVALID_ARGUMENT');
    const none = await s.admin('GET', '/api/v1/admin/tenants/tn_nope/otp-stats');
    assert.equal(none.status, 404);
    assert.equal(none.body.code, 'TENANT_NOT_FOUND');
    // Admin only.
    const asTenant = await fetch(`${s.url}/api/v1/admin/tenants/${t.tenantId}/otp-stats`, { headers: { 'x-api-key': t.apiKey } });
    assert.equal(asTenant.status, 401);
  });
});
