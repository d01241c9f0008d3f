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
/** failures: consecutive failures including this one (a replay of a used step is refused but not
 * counted: it is not a guess). */
export type TotpCodeRejected = Message<'TotpCodeRejected', { at: number; failures: number; reason: 'mismatch' | 'replay' }>;
export type TotpEnrollmentRemoved = Message<'TotpEnrollmentRemoved', { at: number }>;

export type TotpEvent = TotpEnrollmentStarted | TotpEnrollmentConfirmed | TotpCodeAccepted | TotpCodeRejected | TotpEnrollmentRemoved;

export type StartTotpEnrollment = Message<
  'StartTotpEnrollment',
  Omit<TotpEnrollmentStarted['data'], 'startedAt'> & { replace: boolean; now: number }
>;
/** The app checks the token with otplib against `secretEnc`'s secret and passes the step it
 * matched (null: none). The decider only compares steps, so it stays pure. */
export type VerifyTotpCode = Message<'VerifyTotpCode', { secretEnc: string; matchedStep: number | null; now: number }>;
export type RemoveTotpEnrollment = Message<'RemoveTotpEnrollment', { now: number }>;

export type TotpCommand = StartTotpEnrollment | VerifyTotpCode | RemoveTotpEnrollment;

export type TotpEnrollment = Omit<TotpEnrollmentStarted['data'], 'startedAt'> & { startedAt: number };

/** Consecutive failures survive re-enrollment and removal; only an accepted code resets them. */
export type TotpThrottle = { failures: number; lastFailureAt: number };

export type TotpState =
  | { status: 'none'; throttle: TotpThrottle }
  | { status: 'pending'; enrollment: TotpEnrollment; throttle: TotpThrottle }
  | { status: 'confirmed'; enrollment: TotpEnrollment; lastStep: number; confirmedAt: number; throttle: TotpThrottle };
