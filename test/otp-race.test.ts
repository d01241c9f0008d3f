// Verification is linearizable through the expected-revision append: racing requests on one code.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DomainError } from '../src/domain/errors.ts';
import { caller, otpHarnessPerTest } from './fixtures/otp-harness.ts';

const { harness } = otpHarnessPerTest();

const sms = { channel: 'sms' as const, destination: '01012345678' };
const outcome = (r: PromiseSettledResult<{ verified: boolean; attemptsRemaining: number }>) =>
  r.status === 'fulfilled' ? `verified:${r.value.verified}:${r.value.attemptsRemaining}` : r.reason instanceof DomainError ? r.reason.code : `unexpected ${r.reason}`;
const tally = (xs: string[]) => xs.reduce<Record<string, number>>((m, x) => ((m[x] = (m[x] ?? 0) + 1), m), {});

test('50 concurrent verifies with the right code: exactly one verified:true, the others find the code consumed', async () => {
  const h = await harness();
  await h.service.send(caller(), sms);
  const code = h.lastCode();
  const results = await Promise.allSettled(Array.from({ length: 50 }, (_, i) => h.service.verify(caller('tenant_a', i), { ...sms, code })));
  assert.deepEqual(tally(results.map(outcome)), { 'verified:true:5': 1, OTP_NOT_FOUND: 49 });
  const types = (await h.store.readAll()).map((e) => e.type);
  assert.equal(types.filter((t) => t === 'OtpVerified').length, 1);
});

test('50 concurrent wrong codes: the attempt count is exact and the code locks at the limit', async () => {
  const h = await harness();
  await h.service.send(caller(), sms);
  const wrong = h.lastCode() === '000000' ? '000001' : '000000';
  const results = await Promise.allSettled(Array.from({ length: 50 }, (_, i) => h.service.verify(caller('tenant_a', i), { ...sms, code: wrong })));
  assert.deepEqual(tally(results.map(outcome)), {
    'verified:false:4': 1,
    'verified:false:3': 1,
    'verified:false:2': 1,
    'verified:false:1': 1,
    TOO_MANY_ATTEMPTS: 46,
  });
  const stored = await h.store.readAll();
  const attempts = stored.filter((e) => e.type === 'OtpAttemptFailed').map((e) => e.data.attempts);
  assert.deepEqual(attempts, [1, 2, 3, 4, 5]);
  assert.deepEqual(stored.map((e) => e.type).slice(-2), ['OtpAttemptFailed', 'OtpLocked']);
  await assert.rejects(h.service.verify(caller(), { ...sms, code: h.lastCode() }), (e: unknown) => e instanceof DomainError && e.code === 'TOO_MANY_ATTEMPTS');
});

test('50 concurrent sends to one destination: one code is issued, the others wait for the cooldown', async () => {
  const h = await harness();
  const results = await Promise.allSettled(Array.from({ length: 50 }, (_, i) => h.service.send(caller('tenant_a', i), sms)));
  const codes = results.map((r) => (r.status === 'fulfilled' ? 'sent' : r.reason instanceof DomainError ? r.reason.code : String(r.reason)));
  assert.deepEqual(tally(codes), { sent: 1, RESEND_TOO_SOON: 49 });
  assert.equal((await h.store.readAll()).filter((e) => e.type === 'OtpIssued').length, 1);
});

test('20 concurrent sends to one number with an hourly cap of 3: exactly 3 codes issued, the rest refused with DESTINATION_LIMIT', async () => {
  const h = await harness();
  const settings = { otpResendCooldownSeconds: 0, smsPerDestinationHour: 3, smsPerDestinationDay: 0, smsPerDestinationBurst: 0 };
  const results = await Promise.allSettled(Array.from({ length: 20 }, () => h.service.send(caller(), { ...sms, settings })));
  const outcomes = results.map((r) => (r.status === 'fulfilled' ? 'sent' : r.reason instanceof DomainError ? r.reason.code : `unexpected ${r.reason}`));
  assert.deepEqual(tally(outcomes), { sent: 3, DESTINATION_LIMIT: 17 });
  assert.equal((await h.store.readAll()).filter((e) => e.type === 'OtpIssued').length, 3);
});
