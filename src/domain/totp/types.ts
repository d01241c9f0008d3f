// TOTP (RFC 6238) enrollment per (tenant, user): messages and state.
import type { Message } from '../decider.ts';

export type TotpAlgorithm = 'sha1' | 'sha256' | 'sha512';

export type TotpEnrollmentStarted = Message<
  'TotpEnrollmentStarted',
  {
    /** keyring.encrypt('totp', base32 secret): never the secret in clear. */
    secretEnc: string;
    algorithm: TotpAlgorithm;
    digits: number;
    /** Seconds per time step. */
    period: number;
    issuer: string;
    accountNameMasked?: string;
    startedAt: number;
  }
>;
/** The first correct code: the step it matched is the last used step. */
export type TotpEnrollmentConfirmed = Message<'TotpEnrollmentConfirmed', { step: number; at: number }>;
export type TotpCodeAccepted = Message<'TotpCodeAccepted', { step: number; at: number }>;
/** failures: consecutive failures of the enrollment including this one; requesterFailures: those of
 * the requester who sent it (a keyed hash of the end user's address, or of the API key). A replay
 * of a used step is refused but not counted: it is not a guess. */
export type TotpCodeRejected = Message<'TotpCodeRejected', { at: number; failures: number; reason: 'mismatch' | 'replay'; requester?: string; requesterFailures?: number }>;
export type TotpEnrollmentRemoved = Message<'TotpEnrollmentRemoved', { at: number }>;
/** A tenant (or operator) lifted the throttle: delays and the lock after too many failures. */
export type TotpThrottleReset = Message<'TotpThrottleReset', { at: number }>;

export type TotpEvent = TotpEnrollmentStarted | TotpEnrollmentConfirmed | TotpCodeAccepted | TotpCodeRejected | TotpEnrollmentRemoved | TotpThrottleReset;

export type StartTotpEnrollment = Message<
  'StartTotpEnrollment',
  Omit<TotpEnrollmentStarted['data'], 'startedAt'> & { replace: boolean; now: number }
>;
/** The app checks the token with otplib against `secretEnc`'s secret and passes the step it
 * matched (null: none). The decider only compares steps, so it stays pure. */
export type VerifyTotpCode = Message<'VerifyTotpCode', { secretEnc: string; matchedStep: number | null; now: number; requester: string }>;
export type RemoveTotpEnrollment = Message<'RemoveTotpEnrollment', { now: number }>;
export type ResetTotpThrottle = Message<'ResetTotpThrottle', { now: number }>;

export type TotpCommand = StartTotpEnrollment | VerifyTotpCode | RemoveTotpEnrollment | ResetTotpThrottle;

export type TotpEnrollment = Omit<TotpEnrollmentStarted['data'], 'startedAt'> & { startedAt: number };

/** Consecutive failures of the enrollment (the lock after MAX_CONSECUTIVE_FAILURES) and of each
 * requester (its own delays). An accepted code, a new enrollment (a new secret makes earlier
 * guesses worthless) or a reset clears them. */
export type TotpThrottle = FailureRun & { byRequester: Record<string, FailureRun> };

/** Consecutive failures and when the last one was (delays are computed from these). */
export type FailureRun = { failures: number; lastFailureAt: number };

export type TotpState =
  | { status: 'none'; throttle: TotpThrottle }
  | { status: 'pending'; enrollment: TotpEnrollment; throttle: TotpThrottle }
  | { status: 'confirmed'; enrollment: TotpEnrollment; lastStep: number; confirmedAt: number; throttle: TotpThrottle };
