// The OTP application service on the real SQLite store, real projections and real peers.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { OtpEvent } from '../src/domain/otp/index.ts';
import { createSmtpEmailSender } from '../src/senders/email/index.ts';
import { createHttpSmsSender } from '../src/senders/sms/index.ts';
import { caller, type OtpHarness, otpHarnessPerTest, rejectsCode, T0 } from './fixtures/otp-harness.ts';
import { startSmsGateway } from './helpers/sms-gateway.ts';
import { startSmtp } from './helpers/smtp.ts';

const { harness, closeAfterTest } = otpHarnessPerTest();

const PHONE = '01012345678';
const sms = { channel: 'sms' as const, destination: PHONE };

/** The OTP events as stored, personal fields opened. */
const events = async (h: OtpHarness) => (await h.store.readAll()).filter((e) => e.streamName.startsWith('otp-')).map(h.privacy.personal.open);

test('SMS: a real HTTP gateway receives the code, and verifying it succeeds once', async () => {
  const gw = await startSmsGateway();
  closeAfterTest(gw.close);
  const h = await harness({ smsSender: createHttpSmsSender({ url: gw.url }) });
  const sent = await h.service.send(caller(), { ...sms, purpose: 'login', userId: 'user_123', settings: { otpWebDomain: 'shop.example.com' } });
  assert.deepEqual({ ...sent, position: 0 }, { expiresIn: 180, expiresAt: T0 + 180_000, resendAfter: 30, to: '+82 10-****-5678', position: 0 });
  assert.ok(sent.position > 0);

  assert.equal(gw.messages.length, 1);
  assert.equal(gw.messages[0]?.to, '+821012345678');
  const text = gw.messages[0]?.text ?? '';
  const code = /인증번호는 (\d{6}) /.exec(text)?.[1] as string;
  assert.match(code, /^\d{6}$/);
  assert.equal(text.split('\n').at(-1), `@shop.example.com #${code}`);

  h.clock.now += 20_000;
  const ok = await h.service.verify(caller(), { ...sms, destination: '+821012345678', code });
  assert.deepEqual({ ...ok, position: 0 }, { verified: true, attemptsRemaining: 5, purpose: 'login', userId: 'user_123', position: 0 });
  await rejectsCode(h.service.verify(caller(), { ...sms, code }), 'OTP_NOT_FOUND');

  const types = (await events(h)).map((e) => e.type);
  assert.deepEqual(types, ['OtpIssued', 'OtpDeliverySucceeded', 'OtpVerified']);
  const delivered = (await events(h))[1]?.data as Extract<OtpEvent, { type: 'OtpDeliverySucceeded' }>['data'];
  assert.equal(delivered.provider, 'http');
  assert.equal(delivered.providerId, 'msg-1');
});

test('every OTP event carries the caller (tenant, key, request, client IP) in its metadata', async () => {
  const h = await harness();
  await h.service.send(caller('tenant_a', 7), sms);
  await h.service.verify(caller('tenant_a', 8), { ...sms, code: '000000' === h.lastCode() ? '111111' : '000000' });
  const all = await events(h);
  assert.equal(all.length, 3);
  for (const e of all) {
    assert.deepEqual(
      { tenantId: e.metadata.tenantId, keyId: e.metadata.keyId, clientIp: e.metadata.clientIp },
      { tenantId: 'tenant_a', keyId: 'key_tenant_a', clientIp: '203.0.113.7' },
    );
  }
  assert.deepEqual(all.map((e) => e.metadata.requestId), ['req-7', 'req-7', 'req-8']);
});

test('email: nodemailer → a real SMTP server → mailparser finds the code, and the verify with it succeeds', async () => {
  const smtp = await startSmtp();
  closeAfterTest(smtp.close);
  const h = await harness({ emailSender: createSmtpEmailSender({ url: smtp.url, from: 'SecureKey <no-reply@securekey.test>' }) });

  const sent = await h.service.send(caller(), { channel: 'email', destination: 'Kim.Minji@Example.COM', purpose: 'signup', locale: 'en' });
  assert.equal(sent.to, 'K***@example.com');
  assert.equal(smtp.received.length, 1);
  assert.deepEqual(smtp.received[0]?.rcptTo, ['Kim.Minji@example.com']);
  assert.equal(smtp.received[0]?.mail.subject, '[SecureKey] Your sign-up code');
  const code = /code is (\d{6})/.exec(smtp.received[0]?.mail.text ?? '')?.[1] as string;
  assert.ok(code && String(smtp.received[0]?.mail.html).includes(code));

  // The domain's case does not matter; the local part is kept as given.
  const ok = await h.service.verify(caller(), { channel: 'email', destination: 'Kim.Minji@example.com', code });
  assert.equal(ok.verified, true);
  assert.equal(ok.purpose, 'signup');
  assert.equal(ok.userId, undefined);
});

test('wrong codes count down, the fifth locks the code, and then even the right code is refused', async () => {
  const h = await harness();
  await h.service.send(caller(), sms);
  const code = h.lastCode();
  const wrong = code === '000000' ? '000001' : '000000';
  for (const left of [4, 3, 2, 1]) {
    const r = await h.service.verify(caller(), { ...sms, code: wrong });
    assert.deepEqual({ verified: r.verified, attemptsRemaining: r.attemptsRemaining }, { verified: false, attemptsRemaining: left });
  }
  await rejectsCode(h.service.verify(caller(), { ...sms, code: wrong }), 'TOO_MANY_ATTEMPTS');
  await rejectsCode(h.service.verify(caller(), { ...sms, code }), 'TOO_MANY_ATTEMPTS');
  const types = (await events(h)).map((e) => e.type);
  assert.deepEqual(types.filter((t) => t === 'OtpAttemptFailed').length, 5);
  assert.deepEqual(types.at(-1), 'OtpLocked');
});

test('the attempt limit is a tenant setting', async () => {
  const h = await harness();
  await h.service.send(caller(), { ...sms, settings: { otpMaxAttempts: 2 } });
  const wrong = h.lastCode() === '000000' ? '000001' : '000000';
  assert.equal((await h.service.verify(caller(), { ...sms, code: wrong })).attemptsRemaining, 1);
  await rejectsCode(h.service.verify(caller(), { ...sms, code: wrong }), 'TOO_MANY_ATTEMPTS');
});

test('a code past its lifetime answers OTP_EXPIRED; the lifetime is a tenant setting', async () => {
  const h = await harness();
  await h.service.send(caller(), sms);
  const code = h.lastCode();
  h.clock.now += 180_000;
  await rejectsCode(h.service.verify(caller(), { ...sms, code }), 'OTP_EXPIRED');
  await rejectsCode(h.service.verify(caller(), { ...sms, code }), 'OTP_EXPIRED');
  assert.deepEqual((await events(h)).map((e) => e.type).filter((t) => t === 'OtpExpired'), ['OtpExpired']);

  h.clock.now += 60_000;
  const sent = await h.service.send(caller(), { ...sms, settings: { otpTtlSeconds: 60 } });
  assert.equal(sent.expiresIn, 60);
  h.clock.now += 59_000;
  assert.equal((await h.service.verify(caller(), { ...sms, code: h.lastCode() })).verified, true);
});

test('resend: refused within the 30 s cooldown with the seconds to wait; afterwards the new code supersedes the old', async () => {
  const h = await harness();
  await h.service.send(caller(), sms);
  const first = h.lastCode();
  h.clock.now += 10_000;
  await rejectsCode(h.service.send(caller(), sms), 'RESEND_TOO_SOON', 20);
  h.clock.now += 20_000;
  await h.service.send(caller(), sms);
  const second = h.lastCode();
  if (first !== second) {
    const r = await h.service.verify(caller(), { ...sms, code: first });
    assert.deepEqual([r.verified, r.attemptsRemaining], [false, 4]);
  }
  assert.equal((await h.service.verify(caller(), { ...sms, code: second })).verified, true);
  const issued = (await events(h)).filter((e) => e.type === 'OtpIssued');
  assert.equal(issued[1]?.data.supersedes, issued[0]?.data.otpId);
});

test('provider down: UNAVAILABLE, the failure is recorded, that code is unusable, and a retry needs no cooldown', async () => {
  const gw = await startSmsGateway();
  closeAfterTest(gw.close);
  gw.failWith(503);
  const h = await harness({ smsSender: createHttpSmsSender({ url: gw.url }) });
  await rejectsCode(h.service.send(caller(), sms), 'UNAVAILABLE');
  assert.deepEqual((await events(h)).map((e) => e.type), ['OtpIssued', 'OtpDeliveryFailed']);
  const failed = (await events(h))[1]?.data as Extract<OtpEvent, { type: 'OtpDeliveryFailed' }>['data'];
  assert.equal(failed.reason, 'http 503');
  assert.equal(h.warnings.length, 1);
  assert.ok(!JSON.stringify(h.warnings).includes('1012345678'));
  await rejectsCode(h.service.verify(caller(), { ...sms, code: '123456' }), 'OTP_NOT_FOUND');

  gw.failWith(0);
  h.clock.now += 1_000;
  await h.service.send(caller(), sms);
  const code = /(\d{6}) 입니다/.exec(gw.messages[0]?.text ?? '')?.[1] as string;
  assert.equal((await h.service.verify(caller(), { ...sms, code })).verified, true);
});

test('nothing sent, another destination or another tenant: OTP_NOT_FOUND', async () => {
  const h = await harness();
  await rejectsCode(h.service.verify(caller(), { ...sms, code: '123456' }), 'OTP_NOT_FOUND');
  await h.service.send(caller('tenant_a'), sms);
  const code = h.lastCode();
  await rejectsCode(h.service.verify(caller('tenant_b'), { ...sms, code }), 'OTP_NOT_FOUND');
  await rejectsCode(h.service.verify(caller('tenant_a'), { ...sms, destination: '01099998888', code }), 'OTP_NOT_FOUND');
  await rejectsCode(h.service.verify(caller('tenant_a'), { channel: 'email', destination: 'a@example.com', code }), 'OTP_NOT_FOUND');
});

test('bad input: INVALID_PHONE, INVALID_EMAIL, INVALID_ARGUMENT for a code that is not digits or a bad setting', async () => {
  const h = await harness();
  await rejectsCode(h.service.send(caller(), { channel: 'sms', destination: '0101234' }), 'INVALID_PHONE');
  await rejectsCode(h.service.send(caller(), { channel: 'email', destination: 'not-an-address' }), 'INVALID_EMAIL');
  await rejectsCode(h.service.verify(caller(), { ...sms, code: '12ab56' }), 'INVALID_ARGUMENT');
  await rejectsCode(h.service.verify(caller(), { ...sms, code: undefined as unknown as string }), 'INVALID_ARGUMENT');
  await rejectsCode(h.service.send(caller(), { ...sms, settings: { otpLength: 3 } }), 'INVALID_ARGUMENT');
  await rejectsCode(h.service.send(caller(), { ...sms, purpose: 'log in!' }), 'INVALID_ARGUMENT');
  await rejectsCode(h.service.send(caller(), { channel: 'fax' as 'sms', destination: PHONE }), 'INVALID_ARGUMENT');
  assert.equal((await events(h)).length, 0);
});

test('code length is a tenant setting', async () => {
  const h = await harness();
  await h.service.send(caller(), { ...sms, settings: { otpLength: 8 } });
  assert.match(h.lastCode(), /^\d{8}$/);
});
