// The application's answer to a VerifyOtp, derived from the events the decider appended
// (see the pattern described in decider.ts).
import { DomainError } from '../errors.ts';
import { otpExpired, tooManyAttempts } from './decider.ts';
import type { OtpEvent } from './events.ts';

export type VerifyAnswer =
  | { verified: true; attemptsRemaining: number; purpose: string; userId: string | null }
  | { verified: false; attemptsRemaining: number };

/** verified:true, or verified:false with attempts left; throws TOO_MANY_ATTEMPTS / OTP_EXPIRED when those were recorded. */
export const verifyAnswer = (events: readonly OtpEvent[]): VerifyAnswer => {
  for (const e of events) {
    if (e.type === 'OtpVerified') return { verified: true, attemptsRemaining: e.data.attemptsRemaining, purpose: e.data.purpose, userId: e.data.userId };
    if (e.type === 'OtpLocked') throw tooManyAttempts(e.data.attempts);
    if (e.type === 'OtpExpired') throw otpExpired();
  }
  const failed = events.find((e) => e.type === 'OtpAttemptFailed');
  if (failed) return { verified: false, attemptsRemaining: failed.data.attemptsRemaining };
  throw new DomainError('INTERNAL', 'verification produced no outcome');
};
