// TOTP enrollment aggregate. One stream per (tenant, user); see totpStreamName.
import { assertNever, type Decider } from '../decider.ts';
import { DomainError } from '../errors.ts';
import type { TotpCommand, TotpEvent, TotpState, TotpThrottle } from './types.ts';

/** userKey: keyring.hmac('user', userId) — never the user id itself. */
export const totpStreamName = (tenantId: string, userKey: string): string => `totp-${tenantId}.${userKey}`;

/** Failures allowed before delays start. */
export const FREE_FAILURES = 3;
/** Longest delay between attempts, in seconds. */
export const MAX_DELAY_SECONDS = 15 * 60;

/** Seconds to wait after `failures` consecutive failures: 0, 0, 1, 2, 4, ... capped. */
export const throttleDelaySeconds = (failures: number): number =>
  failures < FREE_FAILURES ? 0 : Math.min(2 ** (failures - FREE_FAILURES), MAX_DELAY_SECONDS);

/** Whole seconds until the next attempt is allowed (0: allowed now). */
export const retryAfterSeconds = (throttle: TotpThrottle, now: number): number => {
  const until = throttle.lastFailureAt + throttleDelaySeconds(throttle.failures) * 1000;
  return now < until ? Math.ceil((until - now) / 1000) : 0;
};

const noThrottle: TotpThrottle = { failures: 0, lastFailureAt: 0 };

const initialState = (): TotpState => ({ status: 'none', throttle: noThrottle });

const evolve = (state: TotpState, event: TotpEvent): TotpState => {
  switch (event.type) {
    case 'TotpEnrollmentStarted': {
      const { startedAt, ...rest } = event.data;
      return { status: 'pending', enrollment: { ...rest, startedAt }, throttle: state.throttle };
    }
    case 'TotpEnrollmentConfirmed':
      if (state.status === 'none') return state;
      return { status: 'confirmed', enrollment: state.enrollment, lastStep: event.data.step, confirmedAt: event.data.at, throttle: noThrottle };
    case 'TotpCodeAccepted':
      if (state.status !== 'confirmed') return state;
      return { ...state, lastStep: Math.max(state.lastStep, event.data.step), throttle: noThrottle };
    case 'TotpCodeRejected':
      // A replayed code is refused, but it is not a guess: it does not slow the user down.
      if (event.data.reason === 'replay') return state;
      return { ...state, throttle: { failures: event.data.failures, lastFailureAt: event.data.at } };
    case 'TotpEnrollmentRemoved':
      return { status: 'none', throttle: state.throttle };
    default:
      return assertNever(event);
  }
};

const decide = (command: TotpCommand, state: TotpState): TotpEvent[] => {
  switch (command.type) {
    case 'StartTotpEnrollment': {
      const { replace, now, ...data } = command.data;
      if (state.status === 'confirmed' && !replace)
        throw new DomainError('ALREADY_ENROLLED', 'TOTP is already enrolled for this user; delete it first or pass replace=true');
      return [{ type: 'TotpEnrollmentStarted', data: { ...data, startedAt: now } }];
    }
    case 'VerifyTotpCode': {
      const { secretEnc, matchedStep, now } = command.data;
      if (state.status === 'none') throw new DomainError('NOT_ENROLLED', 'no TOTP enrollment for this user; call setup first');
      const wait = retryAfterSeconds(state.throttle, now);
      if (wait > 0)
        throw new DomainError('RATE_LIMITED', `too many failed TOTP attempts; retry in ${wait} s`, { retryAfterSeconds: wait });
      const reject = (reason: 'mismatch' | 'replay'): TotpEvent[] => [
        { type: 'TotpCodeRejected', data: { at: now, failures: state.throttle.failures + (reason === 'mismatch' ? 1 : 0), reason } },
      ];
      // The step was computed against another secret (the enrollment changed meanwhile).
      if (matchedStep === null || secretEnc !== state.enrollment.secretEnc) return reject('mismatch');
      if (state.status === 'pending') return [{ type: 'TotpEnrollmentConfirmed', data: { step: matchedStep, at: now } }];
      // RFC 6238 §5.2: a step once accepted, or any earlier one, is never accepted again.
      if (matchedStep <= state.lastStep) return reject('replay');
      return [{ type: 'TotpCodeAccepted', data: { step: matchedStep, at: now } }];
    }
    case 'RemoveTotpEnrollment':
      if (state.status === 'none') throw new DomainError('NOT_ENROLLED', 'no TOTP enrollment for this user');
      return [{ type: 'TotpEnrollmentRemoved', data: { at: command.data.now } }];
    default:
      return assertNever(command);
  }
};

export const totpDecider: Decider<TotpCommand, TotpEvent, TotpState> = { initialState, evolve, decide };
