import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { startSmsGateway } from './helpers/sms-gateway.ts';

describe('tenant settings shape what the channels do', () => {
  let s: TestServer;
  let sms: Awaited<ReturnType<typeof startSmsGateway>>;
  before(async () => {
    sms = await startSmsGateway();
    s = await startTestServer({ SECUREKEY_SMS_PROVIDER: 'http', SECUREKEY_SMS_HTTP_URL: sms.url });
  });
  after(async () => {
    await s.stop();
    await sms.close();
  });

  test('brand name and WebOTP domain appear in the SMS (origin-bound line last, for browser autofill)', async () => {
    const t = await s.createTenant('acme');
    const patch = await s.admin('PATCH', `/api/v1/admin/tenants/${t.tenantId}/settings`, { settings: { brandName: 'Acme Pay', otpWebDomain: 'Login.Example.com' } });
    assert.equal(patch.status, 200, JSON.stringify(patch.body));
    assert.equal(patch.body.data.settings.otpWebDomain, 'login.example.com');
    assert.equal((await s.call(t.apiKey, '/api/v1/otp/send', { phone: '01012340000', purpose: 'login' })).status, 200);
    const text = sms.messages.at(-1)!.text;
    const code = sms.lastCode('+821012340000');
    assert.match(text, /^\[Acme Pay\]/);
    assert.ok(text.endsWith(`@login.example.com #${code}`), text);
  });

  test('the brand defaults to the tenant name', async () => {
    const t = await s.createTenant('Bravo Bank');
    assert.equal((await s.call(t.apiKey, '/api/v1/otp/send', { phone: '01012340001', purpose: 'login' })).status, 200);
    assert.match(sms.messages.at(-1)!.text, /^\[Bravo Bank\]/);
  });

  test('settings a channel would refuse are refused at the admin API, and the tenant keeps working', async () => {
    const t = await s.createTenant('strict');
    for (const settings of [{ otpMaxAttempts: 0 }, { otpResendCooldownSeconds: 7200 }, { otpWebDomain: 'not a domain' }]) {
      const r = await s.admin('PATCH', `/api/v1/admin/tenants/${t.tenantId}/settings`, { settings });
      assert.equal(r.status, 400, JSON.stringify(settings));
      assert.equal(r.body.code, 'INVALID_ARGUMENT');
    }
    const empty = await s.admin('PATCH', `/api/v1/admin/tenants/${t.tenantId}/settings`, { pushNumberMatching: true });
    assert.equal(empty.status, 400, 'a flat body is not silently ignored');
    assert.equal((await s.call(t.apiKey, '/api/v1/otp/send', { phone: '01012340002', purpose: 'login' })).status, 200);
    const bad = await s.admin('POST', '/api/v1/admin/tenants', { name: 'x', settings: { otpMaxAttempts: 50 } });
    assert.equal(bad.status, 400);
  });

  test('unknown setting names are refused with a 400 naming them, on create and on change; nothing is written', async () => {
    const t = await s.createTenant('typo');
    const patch = await s.admin('PATCH', `/api/v1/admin/tenants/${t.tenantId}/settings`, { settings: { otpLenght: 8, otpLength: 8, smsQuota: 1 } });
    assert.equal(patch.status, 400, JSON.stringify(patch.body));
    assert.equal(patch.body.code, 'INVALID_ARGUMENT');
    assert.match(patch.body.error, /unknown settings "otpLenght", "smsQuota"/);
    assert.equal((await s.admin('GET', `/api/v1/admin/tenants/${t.tenantId}`)).body.data.settings.otpLength, undefined, 'otpLength was not changed either');
    const created = await s.admin('POST', '/api/v1/admin/tenants', { name: 'typo-2', settings: { brandNmae: 'Acme' } });
    assert.equal(created.status, 400);
    assert.match(created.body.error, /unknown setting "brandNmae"/);
    // Elsewhere unknown request fields are still ignored, as the contract says.
    assert.equal((await s.admin('POST', '/api/v1/admin/tenants', { name: 'extra-field', colour: 'red' })).status, 200);
  });
});
