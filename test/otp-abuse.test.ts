// SMS-pumping defences: per-destination caps, per-tenant daily quota, country allow-list — each
// with its error code, counted by the otp-counters projection; the otp-stats read model shows
// sent/delivered/verified/conversion per country.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { countSends, countTenantSends } from '../projections/otp-counters/index.ts';
import { getOtpStats } from '../projections/otp-stats/index.ts';
import { DomainError } from '../src/domain/errors.ts';
import { caller, otpHarnessPerTest, rejectsCode, T0 } from './fixtures/otp-harness.ts';

const { harness } = otpHarnessPerTest();

const sms = (destination: string) => ({ channel: 'sms' as const, destination, settings: { otpResendCooldownSeconds: 0 } });
const MIN = 60_000;

test('per-destination cap: the 6th send within an hour is DESTINATION_LIMIT until the oldest leaves the window', async () => {
  const h = await harness();
  for (let i = 0; i < 5; i++) {
    await h.service.send(caller(), sms('01012345678'));
    h.clock.now += MIN;
  }
  // now = T0 + 5 min; the oldest send (T0) leaves the hour window at T0 + 60 min.
  await rejectsCode(h.service.send(caller(), sms('01012345678')), 'DESTINATION_LIMIT', 55 * 60);
  // Another destination and another tenant are not affected.
  await h.service.send(caller(), sms('01022223333'));
  await h.service.send(caller('tenant_b'), sms('01012345678'));
  h.clock.now = T0 + 60 * MIN + 1;
  await h.service.send(caller(), sms('01012345678'));
});

test('per-destination day cap (10 per 24 h by default) and caps are tenant settings', async () => {
  const h = await harness();
  for (let i = 0; i < 10; i++) {
    await h.service.send(caller(), sms('01012345678'));
    h.clock.now += 20 * MIN; // 3 per hour: under the hourly cap
  }
  await rejectsCode(h.service.send(caller(), sms('01012345678')), 'DESTINATION_LIMIT', (24 * 60 - 200) * 60);
  const strict = { ...sms('01055556666'), settings: { otpResendCooldownSeconds: 0, smsPerDestinationHour: 1 } };
  await h.service.send(caller(), strict);
  await rejectsCode(h.service.send(caller(), strict), 'DESTINATION_LIMIT', 3600);
});

test('sends whose delivery failed do not count toward the caps', async () => {
  const h = await harness({ smsSender: { name: 'down', send: async () => Promise.reject(new Error('down')) } });
  for (let i = 0; i < 7; i++) await rejectsCode(h.service.send(caller(), sms('01012345678')), 'UNAVAILABLE');
  await h.caughtUp();
  assert.equal(countSends(h.db, 'tenant_a', h.keyring.hmac('destination', '+821012345678'), 0), 0);
  assert.equal(countTenantSends(h.db, 'tenant_a', 'sms', 0), 0);
});

test('tenant daily SMS quota: TENANT_QUOTA_EXCEEDED until 00:00 UTC; email is not counted', async () => {
  const h = await harness();
  const quota = (d: string) => ({ channel: 'sms' as const, destination: d, settings: { smsDailyQuota: 3 } });
  for (const d of ['01011110001', '01011110002', '01011110003']) await h.service.send(caller(), quota(d));
  const toMidnight = (Date.UTC(2027, 0, 16) - h.clock.now) / 1000;
  await rejectsCode(h.service.send(caller(), quota('01011110004')), 'TENANT_QUOTA_EXCEEDED', toMidnight);
  await h.service.send(caller(), { channel: 'email', destination: 'a@example.com' });
  await h.service.send(caller('tenant_b'), quota('01011110004'));
  h.clock.now = Date.UTC(2027, 0, 16, 0, 0, 1);
  await h.service.send(caller(), quota('01011110004'));
});

test('country allow-list: the default region only by default; COUNTRY_NOT_ALLOWED names the country', async () => {
  const h = await harness();
  await assert.rejects(h.service.send(caller(), sms('+12025550123')), (e: unknown) => {
    assert.ok(e instanceof DomainError && e.code === 'COUNTRY_NOT_ALLOWED');
    assert.match(e.message, /US/);
    assert.ok(!e.message.includes('2025550123'));
    return true;
  });
  await h.service.send(caller(), { ...sms('+12025550123'), settings: { smsAllowedCountries: ['KR', 'US'] } });
  // A tenant whose default region is the US reads national numbers as US numbers and allows only them.
  await h.service.send(caller('tenant_us'), { ...sms('(202) 555-0123'), settings: { defaultRegion: 'US' } });
  await rejectsCode(h.service.send(caller('tenant_us'), { ...sms('+821012345678'), settings: { defaultRegion: 'US' } }), 'COUNTRY_NOT_ALLOWED');
});

test('stats read model: per tenant, day, country and channel — sent, delivered, verified, conversion', async () => {
  const h = await harness();
  const both = { otpResendCooldownSeconds: 0, smsAllowedCountries: ['KR', 'US'] };
  const codes: string[] = [];
  for (const d of ['01011110001', '01011110002', '01011110003', '01011110004']) {
    await h.service.send(caller(), { channel: 'sms', destination: d, settings: both });
    codes.push(h.lastCode());
  }
  await h.service.send(caller(), { channel: 'sms', destination: '+12025550123', settings: both });
  await h.service.send(caller(), { channel: 'email', destination: 'a@example.com' });
  const emailCode = h.lastCode();
  await h.service.verify(caller(), { channel: 'sms', destination: '01011110001', code: codes[0] as string });
  await h.service.verify(caller(), { channel: 'email', destination: 'a@example.com', code: emailCode });
  await h.caughtUp();
  assert.deepEqual(getOtpStats(h.db, 'tenant_a'), [
    { day: '2027-01-15', country: '', channel: 'email', sent: 1, delivered: 1, failed: 0, verified: 1, locked: 0, conversion: 1 },
    { day: '2027-01-15', country: 'KR', channel: 'sms', sent: 4, delivered: 4, failed: 0, verified: 1, locked: 0, conversion: 0.25 },
    { day: '2027-01-15', country: 'US', channel: 'sms', sent: 1, delivered: 1, failed: 0, verified: 0, locked: 0, conversion: 0 },
  ]);
  assert.deepEqual(getOtpStats(h.db, 'tenant_a', { country: 'US', channel: 'sms' }).length, 1);
  assert.deepEqual(getOtpStats(h.db, 'tenant_b'), []);
  assert.deepEqual(getOtpStats(h.db, 'tenant_a', { fromDay: '2027-01-16' }), []);
});
