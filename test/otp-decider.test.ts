// The OTP aggregate, given events / when a command / then events (or a refusal).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DomainError } from '../src/domain/errors.ts';
import {
  type IssueOtp,
  type OtpCommand,
  type OtpEvent,
  type OtpIssued,
  type OtpRef,
  otpDecider,
  otpStream,
  parseOtpStream,
  verifyAnswer,
} from '../src/domain/otp/index.ts';
import { deciderSpec } from './helpers/decider-spec.ts';

const T0 = 1_800_000_000_000;
const policy = { ttlSeconds: 180, maxAttempts: 5, resendCooldownSeconds: 30 };

const issue = (over: Partial<IssueOtp['data']> = {}): IssueOtp => ({
  type: 'IssueOtp',
  data: {
    otpId: 'otp-1',
    channel: 'sms',
    purpose: 'login',
    userId: 'user_123',
    masked: '+82 10-****-5678',
    country: 'KR',
    codeHash: 'hash-of-right-code',
    destinationEnc: 'v1.sealed',
    requester: 'requester-hash',
    now: T0,
    policy,
    caps: { perRequesterHour: 0, perRequesterDay: 0, burst: 0 },
    ...over,
  },
});
const verify = (candidateHash: string, now = T0 + 10_000): OtpCommand => ({ type: 'VerifyOtp', data: { candidateHash, now } });

/** given events → when command → events or the thrown DomainError. */
const spec = deciderSpec(otpDecider);

const issued = (over: Partial<IssueOtp['data']> = {}): OtpIssued => otpDecider.decide(issue(over), otpDecider.initialState())[0] as OtpIssued;
const ref = (e: OtpIssued): OtpRef => {
  const { otpId, channel, purpose, userId, userKey, masked, country, issuedAt } = e.data;
  return { otpId, channel, purpose, userId, userKey, masked, country, issuedAt };
};
const wrong = (e: OtpIssued, attempts: number): OtpEvent => ({
  type: 'OtpAttemptFailed',
  data: { ...ref(e), attempts, attemptsRemaining: 5 - attempts, attemptedAt: T0 + attempts * 1000 },
});

test('issuing a code records its hash, expiry, attempt limit and reference — never the code', () => {
  spec([]).when(issue()).then((events) => {
    assert.deepEqual(events, [{
      type: 'OtpIssued',
      data: {
        otpId: 'otp-1', channel: 'sms', purpose: 'login', userId: 'user_123', userKey: null, masked: '+82 10-****-5678', country: 'KR',
        issuedAt: T0, codeHash: 'hash-of-right-code', destinationEnc: 'v1.sealed', requester: 'requester-hash', expiresAt: T0 + 180_000, maxAttempts: 5, supersedes: null,
      },
    }]);
  });
});

test('a new send within the cooldown is refused with RESEND_TOO_SOON and the seconds to wait', () => {
  spec([issued()]).when(issue({ otpId: 'otp-2', now: T0 + 12_500 })).thenThrows('RESEND_TOO_SOON', { retryAfterSeconds: 18 });
});

test('a new send after the cooldown supersedes the pending code', () => {
  const first = issued();
  spec([first]).when(issue({ otpId: 'otp-2', codeHash: 'hash-2', now: T0 + 30_000 })).then(([e]) => {
    assert.equal(e?.type, 'OtpIssued');
    assert.equal((e as OtpIssued).data.supersedes, 'otp-1');
  });
  // ...and the old code no longer verifies.
  const second = issued({ otpId: 'otp-2', codeHash: 'hash-2', now: T0 + 30_000 });
  spec([first, second]).when(verify('hash-of-right-code', T0 + 31_000)).then(([e]) => {
    assert.equal(e?.type, 'OtpAttemptFailed');
    assert.equal(e?.data.otpId, 'otp-2');
  });
});

test('a failed delivery lifts the cooldown and leaves the code unusable', () => {
  const first = issued();
  const failed: OtpEvent = { type: 'OtpDeliveryFailed', data: { ...ref(first), provider: 'http', reason: 'http 503', failedAt: T0 + 100 } };
  spec([first, failed]).when(issue({ otpId: 'otp-2', now: T0 + 1_000 })).then(([e]) => assert.equal(e?.type, 'OtpIssued'));
  spec([first, failed]).when(verify('hash-of-right-code')).thenThrows('OTP_NOT_FOUND');
});

test('the destination caps are decided on the stream: a requester at its hourly cap is refused its next send with DESTINATION_LIMIT, another requester still gets one', () => {
  const caps = { perRequesterHour: 2, perRequesterDay: 0, burst: 0 };
  const sends = [issued({ caps }), issued({ otpId: 'otp-2', now: T0 + 60_000, caps })];
  spec(sends).when(issue({ otpId: 'otp-3', now: T0 + 120_000, caps })).thenThrows('DESTINATION_LIMIT', { retryAfterSeconds: 3480 });
  spec(sends).when(issue({ otpId: 'otp-3', now: T0 + 120_000, caps, requester: 'someone-else' })).then(([e]) => assert.equal(e?.type, 'OtpIssued'));
  // An hour after the first send, the requester has room again.
  spec(sends).when(issue({ otpId: 'otp-3', now: T0 + 3_600_001, caps })).then(([e]) => assert.equal(e?.type, 'OtpIssued'));
});

test('sends whose delivery failed, sends before a limits reset and sends older than a day do not count against the caps', () => {
  const caps = { perRequesterHour: 0, perRequesterDay: 1, burst: 1 };
  const first = issued({ caps });
  const failed: OtpEvent = { type: 'OtpDeliveryFailed', data: { ...ref(first), provider: 'http', reason: 'http 503', failedAt: T0 + 100 } };
  spec([first]).when(issue({ otpId: 'otp-2', now: T0 + 60_000, caps })).thenThrows('DESTINATION_LIMIT');
  spec([first, failed]).when(issue({ otpId: 'otp-2', now: T0 + 60_000, caps })).then(([e]) => assert.equal(e?.type, 'OtpIssued'));
  const reset: OtpEvent = { type: 'OtpLimitsReset', data: { channel: 'sms', at: T0 + 200 } };
  spec([first, reset]).when(issue({ otpId: 'otp-2', now: T0 + 60_000, caps })).then(([e]) => assert.equal(e?.type, 'OtpIssued'));
  // A send a day later prunes the first: the state keeps only what a cap can still count.
  const later = issued({ otpId: 'otp-2', now: T0 + 86_400_001, caps: { perRequesterHour: 0, perRequesterDay: 0, burst: 0 } });
  const state = [first, later].reduce(otpDecider.evolve, otpDecider.initialState());
  assert.deepEqual(state.sends.map((x) => x.otpId), ['otp-2']);
});

test('the right code verifies and carries purpose, user and attempts left', () => {
  const first = issued();
  spec([first, wrong(first, 1)]).when(verify('hash-of-right-code')).then((events) => {
    assert.deepEqual(events.map((e) => e.type), ['OtpVerified']);
    assert.deepEqual(verifyAnswer(events), { verified: true, attemptsRemaining: 4, purpose: 'login', userId: 'user_123' });
  });
});

test('a verified code is consumed: the next verify finds nothing pending', () => {
  const first = issued();
  const verified: OtpEvent = { type: 'OtpVerified', data: { ...ref(first), attempts: 0, attemptsRemaining: 5, verifiedAt: T0 + 5_000 } };
  spec([first, verified]).when(verify('hash-of-right-code')).thenThrows('OTP_NOT_FOUND');
});

test('a wrong code with attempts left records the attempt and answers verified:false with the attempts remaining', () => {
  const first = issued();
  spec([first, wrong(first, 1)]).when(verify('hash-of-wrong-code')).then((events) => {
    assert.deepEqual(events.map((e) => [e.type, (e.data as { attempts?: number }).attempts]), [['OtpAttemptFailed', 2]]);
    assert.deepEqual(verifyAnswer(events), { verified: false, attemptsRemaining: 3 });
  });
});

test('the attempt that uses up the limit records the attempt and the lock, and answers TOO_MANY_ATTEMPTS', () => {
  const first = issued();
  spec([first, wrong(first, 1), wrong(first, 2), wrong(first, 3), wrong(first, 4)]).when(verify('hash-of-wrong-code')).then((events) => {
    assert.deepEqual(events.map((e) => e.type), ['OtpAttemptFailed', 'OtpLocked']);
    assert.throws(() => verifyAnswer(events), (e: unknown) => e instanceof DomainError && e.code === 'TOO_MANY_ATTEMPTS');
  });
});

test('a locked code refuses even the right code, and records nothing more', () => {
  const first = issued();
  const locked: OtpEvent = { type: 'OtpLocked', data: { ...ref(first), attempts: 5, lockedAt: T0 + 6_000 } };
  spec([first, wrong(first, 5), locked]).when(verify('hash-of-right-code')).thenThrows('TOO_MANY_ATTEMPTS');
});

test('the attempt limit comes from the issued code (tenant setting)', () => {
  const first = issued({ policy: { ...policy, maxAttempts: 1 } });
  spec([first]).when(verify('nope')).then((events) => assert.deepEqual(events.map((e) => e.type), ['OtpAttemptFailed', 'OtpLocked']));
});

test('a code tried past its lifetime records OtpExpired once and answers OTP_EXPIRED', () => {
  const first = issued();
  spec([first]).when(verify('hash-of-right-code', T0 + 180_000)).then((events) => {
    assert.deepEqual(events.map((e) => e.type), ['OtpExpired']);
    assert.throws(() => verifyAnswer(events), (e: unknown) => e instanceof DomainError && e.code === 'OTP_EXPIRED');
  });
  const expired: OtpEvent = { type: 'OtpExpired', data: { ...ref(first), expiresAt: T0 + 180_000, attemptedAt: T0 + 180_000 } };
  spec([first, expired]).when(verify('hash-of-right-code', T0 + 200_000)).thenThrows('OTP_EXPIRED');
});

test('the code verifies one millisecond before expiry', () => {
  spec([issued()]).when(verify('hash-of-right-code', T0 + 179_999)).then(([e]) => assert.equal(e?.type, 'OtpVerified'));
});

test('nothing ever sent: verify answers OTP_NOT_FOUND', () => {
  spec([]).when(verify('x')).thenThrows('OTP_NOT_FOUND');
});

test('delivery outcomes are recorded with the code reference; a late outcome of a superseded code changes nothing', () => {
  const first = issued();
  const second = issued({ otpId: 'otp-2', codeHash: 'hash-2', now: T0 + 40_000 });
  spec([first, second]).when({ type: 'RecordOtpDelivery', data: { ref: ref(first), provider: 'http', now: T0 + 41_000, ok: false, reason: 'timeout' } }).then((events) => {
    assert.deepEqual(events, [{ type: 'OtpDeliveryFailed', data: { ...ref(first), provider: 'http', reason: 'timeout', failedAt: T0 + 41_000 } }]);
    const state = [first, second, ...events].reduce(otpDecider.evolve, otpDecider.initialState());
    assert.equal(state.status, 'pending');
  });
  spec([first]).when({ type: 'RecordOtpDelivery', data: { ref: ref(first), provider: 'twilio', now: T0 + 500, ok: true, providerId: 'SM1' } }).then((events) => {
    const state = [first, ...events].reduce(otpDecider.evolve, otpDecider.initialState());
    assert.ok(state.status === 'pending' && state.code.delivery === 'delivered');
  });
});

test('evolve ignores an event type it does not know', () => {
  const state = [issued()].reduce(otpDecider.evolve, otpDecider.initialState());
  const unknown = { type: 'OtpSomethingNew', data: { otpId: 'otp-1' } } as unknown as OtpEvent;
  assert.deepEqual(otpDecider.evolve(state, unknown), state);
});

test('stream names hold tenant, channel and destination hash only, and parse back', () => {
  const s = otpStream('tenant.a', 'email', 'abc123');
  assert.equal(s, 'otp-tenant.a.email.abc123');
  assert.deepEqual(parseOtpStream(s), { tenantId: 'tenant.a', channel: 'email', destinationHash: 'abc123' });
  assert.equal(parseOtpStream('totp-t1.x'), null);
});
