// The TOTP decider, given/when/then on events.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { throttleDelaySeconds, totpDecider } from '../src/domain/totp/decider.ts';
import type { TotpCommand, TotpEvent } from '../src/domain/totp/types.ts';
import { deciderSpec } from './helpers/decider-spec.ts';

const T = 1_800_000_000_000;
const started = (secretEnc = 'v1.sealed-a', at = T): TotpEvent => ({
  type: 'TotpEnrollmentStarted',
  data: { secretEnc, algorithm: 'sha1', digits: 6, period: 30, issuer: 'Acme', accountNameMasked: 'a***@example.com', startedAt: at },
});
const confirmed = (step: number, at = T): TotpEvent => ({ type: 'TotpEnrollmentConfirmed', data: { step, at } });
const rejected = (failures: number, at: number, requester = 'r1', requesterFailures = failures): TotpEvent => ({ type: 'TotpCodeRejected', data: { at, failures, reason: 'mismatch', requester, requesterFailures } });

const start = (replace = false, secretEnc = 'v1.sealed-b'): TotpCommand => ({
  type: 'StartTotpEnrollment',
  data: { secretEnc, algorithm: 'sha1', digits: 6, period: 30, issuer: 'Acme', replace, now: T + 1 },
});
const verifyCode = (matchedStep: number | null, now = T + 5000, secretEnc = 'v1.sealed-a', requester = 'r1'): TotpCommand => ({
  type: 'VerifyTotpCode',
  data: { secretEnc, matchedStep, now, requester },
});

const given = deciderSpec(totpDecider);

describe('TOTP decider', () => {
  const startedBy = (c: TotpCommand): TotpEvent => {
    const { replace: _, now, ...data } = c.data as Extract<TotpCommand, { type: 'StartTotpEnrollment' }>['data'];
    return { type: 'TotpEnrollmentStarted', data: { ...data, startedAt: now } };
  };

  test('setup with nothing enrolled starts an enrollment', () => {
    given([]).when(start()).then([startedBy(start())]);
  });

  test('setup on a pending enrollment replaces it', () => {
    given([started()]).when(start()).then([startedBy(start())]);
  });

  test('setup on a confirmed enrollment is refused unless replace is asked', () => {
    given([started(), confirmed(100)]).when(start()).thenThrows('ALREADY_ENROLLED');
    given([started(), confirmed(100)]).when(start(true)).then([startedBy(start(true))]);
  });

  test('verify with nothing enrolled: NOT_ENROLLED', () => {
    given([]).when(verifyCode(5)).thenThrows('NOT_ENROLLED');
    given([started(), { type: 'TotpEnrollmentRemoved', data: { at: T } }]).when(verifyCode(5)).thenThrows('NOT_ENROLLED');
  });

  test('the first correct code confirms the enrollment and records its step', () => {
    given([started()]).when(verifyCode(100)).then([{ type: 'TotpEnrollmentConfirmed', data: { step: 100, at: T + 5000 } }]);
  });

  test('a later step is accepted; the same or an earlier step is a replay', () => {
    given([started(), confirmed(100)]).when(verifyCode(101)).then([{ type: 'TotpCodeAccepted', data: { step: 101, at: T + 5000 } }]);
    given([started(), confirmed(100)]).when(verifyCode(100)).then([{ type: 'TotpCodeRejected', data: { at: T + 5000, failures: 0, reason: 'replay', requester: 'r1', requesterFailures: 0 } }]);
    given([started(), confirmed(100)]).when(verifyCode(99)).then([{ type: 'TotpCodeRejected', data: { at: T + 5000, failures: 0, reason: 'replay', requester: 'r1', requesterFailures: 0 } }]);
  });

  test('a replay is refused but does not count as a guess for throttling', () => {
    const replay: TotpEvent = { type: 'TotpCodeRejected', data: { at: T + 1, failures: 2, reason: 'replay', requester: 'r1', requesterFailures: 2 } };
    const state = [started(), confirmed(100), rejected(1, T), rejected(2, T), replay].reduce(totpDecider.evolve, totpDecider.initialState());
    assert.deepEqual(state.throttle, { failures: 2, lastFailureAt: T, byRequester: { r1: { failures: 2, lastFailureAt: T } } });
  });

  test('a step matched against a replaced secret counts as a mismatch', () => {
    given([started('v1.old'), started('v1.new')]).when(verifyCode(100, T + 5000, 'v1.old')).then([rejected(1, T + 5000)]);
  });

  test('failures count up; from the third on, the requester\'s next attempt waits 1, 2, 4 ... s, never more than 30 s', () => {
    given([started(), rejected(1, T), rejected(2, T)]).when(verifyCode(null, T)).then([rejected(3, T)]);
    given([started(), rejected(3, T)]).when(verifyCode(100, T + 999)).thenThrows('RATE_LIMITED', { retryAfterSeconds: 1 });
    given([started(), rejected(3, T)]).when(verifyCode(null, T + 1000)).then([rejected(4, T + 1000)]);
    given([started(), rejected(5, T)]).when(verifyCode(100, T + 1000)).thenThrows('RATE_LIMITED', { retryAfterSeconds: 3 });
    assert.deepEqual([1, 2, 3, 4, 5, 6, 13, 40].map(throttleDelaySeconds), [0, 0, 1, 2, 4, 8, 30, 30]);
    given([started(), rejected(60, T)]).when(verifyCode(100, T + 29_999)).thenThrows('RATE_LIMITED', { retryAfterSeconds: 1 });
  });

  test("another requester's wrong guesses do not delay this one: the victim's correct code is accepted at once", () => {
    const attacker = Array.from({ length: 20 }, (_, i) => rejected(i + 1, T + i, 'attacker', i + 1));
    given([started(), confirmed(90), ...attacker]).when(verifyCode(100, T + 30, 'v1.sealed-a', 'victim')).then([{ type: 'TotpCodeAccepted', data: { step: 100, at: T + 30 } }]);
    given([started(), confirmed(90), ...attacker]).when(verifyCode(100, T + 30, 'v1.sealed-a', 'attacker')).thenThrows('RATE_LIMITED');
  });

  test('100 failures in a row, whoever made them, lock the enrollment: TOO_MANY_ATTEMPTS even for a correct code', () => {
    given([started(), confirmed(90), rejected(100, T, 'someone', 1)]).when(verifyCode(100, T + 60_000, 'v1.sealed-a', 'victim')).thenThrows('TOO_MANY_ATTEMPTS');
    given([started(), confirmed(90), rejected(99, T, 'someone', 1)]).when(verifyCode(100, T + 60_000, 'v1.sealed-a', 'victim')).then([{ type: 'TotpCodeAccepted', data: { step: 100, at: T + 60_000 } }]);
  });

  test('a reset or a new enrollment lifts the throttle and the lock; a reset with nothing to lift writes nothing', () => {
    const reset: TotpEvent = { type: 'TotpThrottleReset', data: { at: T + 1 } };
    given([started(), confirmed(90), rejected(100, T)]).when({ type: 'ResetTotpThrottle', data: { now: T + 1 } }).then([reset]);
    given([started(), confirmed(90), rejected(100, T), reset]).when(verifyCode(100, T + 2)).then([{ type: 'TotpCodeAccepted', data: { step: 100, at: T + 2 } }]);
    given([started(), confirmed(90)]).when({ type: 'ResetTotpThrottle', data: { now: T + 1 } }).then([]);
    given([started(), confirmed(90), rejected(100, T), started('v1.sealed-a', T + 1)]).when(verifyCode(100, T + 2)).then([{ type: 'TotpEnrollmentConfirmed', data: { step: 100, at: T + 2 } }]);
  });

  test('an accepted code resets the failures', () => {
    const state = [started(), rejected(5, T), confirmed(100, T + 10_000)].reduce(totpDecider.evolve, totpDecider.initialState());
    assert.deepEqual(state.throttle, { failures: 0, lastFailureAt: 0, byRequester: {} });
  });

  test('removing needs an enrollment', () => {
    given([]).when({ type: 'RemoveTotpEnrollment', data: { now: T } }).thenThrows('NOT_ENROLLED');
    given([started()]).when({ type: 'RemoveTotpEnrollment', data: { now: T } }).then([{ type: 'TotpEnrollmentRemoved', data: { at: T } }]);
  });
});
