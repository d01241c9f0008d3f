// TOTP enrollment aggregate. One stream per (tenant, user); see totpStreamName.
import { assertNever, type Decider } from '../decider.ts';
import { DomainError } from '../errors.ts';
import type { FailureRun, TotpCommand, TotpEvent, TotpState, TotpThrottle } from './types.ts';

/** userKey: keyring.hmac('user', userId) — never the user id itself. */
export const totpStreamName = (tenantId: string, userKey: string): string => `totp-${tenantId}.${userKey}`;

// Throttling (NIST SP 800-63B §5.2.2; docs/security.md, lock-out policy): each requester — the
// end user's address when the tenant passes it, else its API key — waits after its own failures,
// so an attacker's wrong guesses do not delay the victim's correct code; the delay is capped short,
// so a victim behind the same requester waits at most MAX_DELAY_SECONDS; and the enrollment locks
// after MAX_CONSECUTIVE_FAILURES failures in a row, whoever made them, until the tenant resets it
// or the user enrolls again.

/** Failures a requester may make before delays start. */
export const FREE_FAILURES = 3;
/** Longest delay between a requester's attempts, in seconds. */
export const MAX_DELAY_SECONDS = 30;
/** Failures in a row (all requesters) after which the enrollment stops verifying (NIST: at most 100). */
export const MAX_CONSECUTIVE_FAILURES = 100;

/** Seconds to wait after `failures` consecutive failures: 0, 0, 0, 1, 2, 4, ... capped. */
export const throttleDelaySeconds = (failures: number): number =>
  failures < FREE_FAILURES ? 0 : Math.min(2 ** (failures - FREE_FAILURES), MAX_DELAY_SECONDS);

/** Whole seconds until the next attempt after `run` is allowed (0: allowed now). */
export const waitSeconds = (run: FailureRun, now: number): number => {
  const until = run.lastFailureAt + throttleDelaySeconds(run.failures) * 1000;
  return now < until ? Math.ceil((until - now) / 1000) : 0;
};

/** Whole seconds until `requester` may try again (0: allowed now). */
export const retryAfterSeconds = (throttle: TotpThrottle, now: number, requester: string): number =>
  Object.hasOwn(throttle.byRequester, requester) ? waitSeconds(throttle.byRequester[requester]!, now) : 0;

/** Whether too many failures in a row have locked the enrollment. */
export const isLocked = (throttle: TotpThrottle): boolean => throttle.failures >= MAX_CONSECUTIVE_FAILURES;

const noThrottle: TotpThrottle = { failures: 0, lastFailureAt: 0, byRequester: {} };

const initialState = (): TotpState => ({ status: 'none', throttle: noThrottle });

const evolve = (state: TotpState, event: TotpEvent): TotpState => {
  switch (event.type) {
    case 'TotpEnrollmentStarted': {
      const { startedAt, ...rest } = event.data;
      return { status: 'pending', enrollment: { ...rest, startedAt }, throttle: noThrottle };
    }
    case 'TotpEnrollmentConfirmed':
      if (state.status === 'none') return state;
      return { status: 'confirmed', enrollment: state.enrollment, lastStep: event.data.step, confirmedAt: event.data.at, throttle: noThrottle };
    case 'TotpCodeAccepted':
      if (state.status !== 'confirmed') return state;
      return { ...state, lastStep: Math.max(state.lastStep, event.data.step), throttle: noThrottle };
    case 'TotpCodeRejected': {
      // A replayed code is refused, but it is not a guess: it does not slow the user down.
      if (event.data.reason === 'replay') return state;
      const { at, failures, requester = '', requesterFailures = failures } = event.data;
      return { ...state, throttle: { failures, lastFailureAt: at, byRequester: { ...state.throttle.byRequester, [requester]: { failures: requesterFailures, lastFailureAt: at } } } };
    }
    case 'TotpEnrollmentRemoved':
      return { status: 'none', throttle: state.throttle };
    case 'TotpThrottleReset':
      return { ...state, throttle: noThrottle };
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
      const { secretEnc, matchedStep, now, requester } = command.data;
      if (state.status === 'none') throw new DomainError('NOT_ENROLLED', 'no TOTP enrollment for this user; call setup first');
      if (isLocked(state.throttle))
        throw new DomainError('TOO_MANY_ATTEMPTS', `${MAX_CONSECUTIVE_FAILURES} wrong TOTP codes in a row: verification is locked until the tenant resets this user's limits or the user enrolls again`);
      const wait = retryAfterSeconds(state.throttle, now, requester);
      if (wait > 0)
        throw new DomainError('RATE_LIMITED', `too many failed TOTP attempts; retry in ${wait} s`, { retryAfterSeconds: wait });
      const own = Object.hasOwn(state.throttle.byRequester, requester) ? state.throttle.byRequester[requester]!.failures : 0;
      const reject = (reason: 'mismatch' | 'replay'): TotpEvent[] => {
        const counted = reason === 'mismatch' ? 1 : 0;
        return [{ type: 'TotpCodeRejected', data: { at: now, failures: state.throttle.failures + counted, reason, requester, requesterFailures: own + counted } }];
      };
      // The step was computed against another secret (the enrollment changed meanwhile).
      if (matchedStep === null || secretEnc !== state.enrollment.secretEnc) return reject('mismatch');
      if (state.status === 'pending') return [{ type: 'TotpEnrollmentConfirmed', data: { step: matchedStep, at: now } }];
      // RFC 6238 §5.2: a step once accepted, or any earlier one, is never accepted again.
      if (matchedStep <= state.lastStep) return reject('replay');
      return [{ type: 'TotpCodeAccepted', data: { step: matchedStep, at: now } }];
    }
    case 'ResetTotpThrottle':
      if (state.throttle.failures === 0 && Object.keys(state.throttle.byRequester).length === 0) return [];
      return [{ type: 'TotpThrottleReset', data: { at: command.data.now } }];
    case 'RemoveTotpEnrollment':
      if (state.status === 'none') throw new DomainError('NOT_ENROLLED', 'no TOTP enrollment for this user');
      return [{ type: 'TotpEnrollmentRemoved', data: { at: command.data.now } }];
    default:
      return assertNever(command);
  }
};

export const totpDecider: Decider<TotpCommand, TotpEvent, TotpState> = { initialState, evolve, decide, snapshotVersion: 1 };
