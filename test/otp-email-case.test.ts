// Email addresses that differ only in letter case are one destination: one cooldown, one set of
// caps, one pending code a verify with any casing can use; the mail goes to the address as given.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { normaliseEmail } from '../src/domain/destination.ts';
import { startMessagingTestServer, type MessagingTestServer } from './helpers/messaging-server.ts';
import { mailCodes } from './helpers/smtp.ts';
import { until } from './helpers/until.ts';

describe('email destinations compared case-insensitively', () => {
  test('normaliseEmail: the key folds the local part, the address keeps it', () => {
    const e = normaliseEmail('John.Doe@Example.COM');
    assert.equal(e.address, 'John.Doe@example.com');
    assert.equal(e.key, 'john.doe@example.com');
    assert.equal(normaliseEmail('john.doe@example.com').key, e.key);
  });

  let m: MessagingTestServer;
  let apiKey: string;
  before(async () => {
    m = await startMessagingTestServer({ SECUREKEY_RATE_LIMIT_SEND: '100' });
    apiKey = (await m.server.createTenant('case')).apiKey;
    await m.server.admin('PATCH', `/api/v1/admin/tenants/${(await m.server.admin('GET', '/api/v1/admin/tenants')).body.data.tenants[0].tenantId}/settings`, { settings: { otpResendCooldownSeconds: 30 } });
  });
  after(() => m.stop());

  test('a second send with other casing is within the same cooldown (no email bombing by casing)', async () => {
    assert.equal((await m.server.call(apiKey, '/api/v1/email-otp/send', { email: 'Victim@Example.com' })).status, 200);
    for (const email of ['victim@example.com', 'VICTIM@EXAMPLE.COM', 'vIcTiM@example.com']) {
      const r = await m.server.call(apiKey, '/api/v1/email-otp/send', { email });
      assert.equal(r.status, 429, email);
      assert.equal(r.body.code, 'RESEND_TOO_SOON');
    }
  });

  test('the mail goes to the address as given, and a verify with other casing accepts its code', async () => {
    const before = m.smtp.received.length;
    assert.equal((await m.server.call(apiKey, '/api/v1/email-otp/send', { email: 'Mixed.Case@Example.org' })).status, 200);
    const mail = await until('the mail arrives', () => m.smtp.received[before]);
    assert.deepEqual(mail.rcptTo, ['Mixed.Case@example.org']);
    const { text: code } = mailCodes(mail.mail);
    const v = await m.server.call(apiKey, '/api/v1/email-otp/verify', { email: 'mixed.case@EXAMPLE.ORG', code });
    assert.equal(v.status, 200, JSON.stringify(v.body));
    assert.equal(v.body.data.verified, true);
  });
});
