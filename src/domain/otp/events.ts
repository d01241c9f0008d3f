// Events of the one-time-code aggregate (SMS and email). Plain JSON, times in epoch ms.
// No code and no destination in clear: the code only as a keyed HMAC, the destination encrypted
// (plus a masked form for display). The user id, the masked and the encrypted destination are
// personal data, sealed with the user's data key when the log stores them (src/domain/personal.ts). Every outcome event repeats the code's reference (OtpRef), so a
// projection or webhook needs no other event to describe it.
import type { OtpChannel } from '../channel.ts';
import type { Message } from '../decider.ts';

export type { OtpChannel } from '../channel.ts';

/** What identifies and describes one issued code. */
export type OtpRef = {
  otpId: string;
  channel: OtpChannel;
  /** e.g. "login", "signup", "payment". */
  purpose: string;
  /** The tenant's user id (webhooks call it externalUserId), or null. */
  userId: string | null;
  /** The user's stream key (a keyed hash, src/app/user-keys.ts), or null: who the code is for,
   * without the id. Absent in events written before it existed. */
  userKey?: string | null;
  /** "+82 10-****-5678" or "u***@example.com". */
  masked: string;
  /** ISO region of a phone number; null for email. */
  country: string | null;
  issuedAt: number;
};

export type OtpIssued = Message<'OtpIssued', OtpRef & {
  /** keyring.hmac('otp-code', `${stream}:${code}`) — never the code. */
  codeHash: string;
  /** keyring.encrypt('destination', normalised destination). */
  destinationEnc: string;
  expiresAt: number;
  maxAttempts: number;
  /** The pending code this one replaced, if any. */
  supersedes: string | null;
  /** Who asked for it, as a keyed hash: the end user's address when the tenant passed it, else the
   * API key (per-requester caps, src/domain/otp/caps.ts). Absent in events written before. */
  requester?: string;
}>;

/** A tenant (or operator) reset this destination's limits: earlier sends no longer count against
 * its caps, and the resend cooldown is lifted. */
export type OtpLimitsReset = Message<'OtpLimitsReset', { channel: OtpChannel; at: number }>;

export type OtpDeliverySucceeded = Message<'OtpDeliverySucceeded', OtpRef & {
  provider: string;
  providerId: string | null;
  deliveredAt: number;
}>;

export type OtpDeliveryFailed = Message<'OtpDeliveryFailed', OtpRef & {
  provider: string;
  /** A short, sanitised reason ("http 503", "timeout"): never a provider message that may echo the destination. */
  reason: string;
  failedAt: number;
}>;

export type OtpAttemptFailed = Message<'OtpAttemptFailed', OtpRef & {
  /** Wrong attempts on this code so far, including this one. */
  attempts: number;
  attemptsRemaining: number;
  attemptedAt: number;
}>;

export type OtpVerified = Message<'OtpVerified', OtpRef & {
  /** Wrong attempts before the right one. */
  attempts: number;
  attemptsRemaining: number;
  verifiedAt: number;
}>;

export type OtpLocked = Message<'OtpLocked', OtpRef & {
  attempts: number;
  lockedAt: number;
}>;

/** Someone tried a code past its lifetime (recorded once per code). */
export type OtpExpired = Message<'OtpExpired', OtpRef & {
  expiresAt: number;
  attemptedAt: number;
}>;

/** The code's user was erased while it was pending: it can no longer be used. */
export type OtpCancelled = Message<'OtpCancelled', OtpRef & {
  reason: 'user_erased';
  cancelledAt: number;
}>;

export type OtpEvent = OtpIssued | OtpDeliverySucceeded | OtpDeliveryFailed | OtpAttemptFailed | OtpVerified | OtpLocked | OtpExpired | OtpCancelled | OtpLimitsReset;

export const OTP_EVENT_TYPES: readonly OtpEvent['type'][] = [
  'OtpIssued',
  'OtpDeliverySucceeded',
  'OtpDeliveryFailed',
  'OtpAttemptFailed',
  'OtpVerified',
  'OtpLocked',
  'OtpExpired',
  'OtpCancelled',
  'OtpLimitsReset',
];
