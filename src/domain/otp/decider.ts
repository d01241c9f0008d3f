// The OTP aggregate: one stream per (tenant, channel, destination); at most one live code at a time.
//
// The pattern for outcomes that are refusals AND must be recorded: decide() RETURNS events for
// everything that has to be persisted — a wrong code (OtpAttemptFailed), the attempt that uses up the
// limit (OtpAttemptFailed + OtpLocked), a first try after expiry (OtpExpired) — and the application
// derives its answer from the events it appended (see verifyAnswer in outcome.ts), e.g. it answers
// TOO_MANY_ATTEMPTS after OtpLocked was stored. decide() THROWS only for refusals that change nothing
// (no code pending, already locked/expired, resend too soon), so nothing is appended for them.
import { safeEqual } from '../../crypto/keyring.ts';
import { assertNever, type Decider, type Message } from '../decider.ts';
import { DomainError } from '../errors.ts';
import { CAPS_LOOKBACK_MS, type DestinationCaps, type DestinationSend, destinationCapRefusal } from './caps.ts';
import type { OtpChannel, OtpEvent, OtpRef } from './events.ts';

/** The per-code rules (tenant-configurable; defaults 180 s, 5 attempts, 30 s cooldown). */
export type OtpCodePolicy = {
  ttlSeconds: number;
  maxAttempts: number;
  resendCooldownSeconds: number;
};

/** The new code's reference (issuedAt is `now`). */
export type IssueOtp = Message<'IssueOtp', Omit<OtpRef, 'issuedAt'> & {
  /** HMAC of the code generated (with a CSPRNG) outside the decider. */
  codeHash: string;
  /** Keyed hash of who asked (end-user address or API key). */
  requester: string;
  destinationEnc: string;
  now: number;
  policy: OtpCodePolicy;
  /** The destination's caps (caps.ts), decided on the sends this stream records. */
  caps: DestinationCaps;
}>;

export type VerifyOtp = Message<'VerifyOtp', {
  /** The candidate code's HMAC, computed by the caller exactly as the issued codeHash was. */
  candidateHash: string;
  now: number;
}>;

export type RecordOtpDelivery = Message<'RecordOtpDelivery', {
  ref: OtpRef;
  provider: string;
  now: number;
} & ({ ok: true; providerId: string | null } | { ok: false; reason: string })>;

/** The user was erased: their pending code (if this stream has one) stops working. */
export type CancelOtp = Message<'CancelOtp', { userKey: string; now: number }>;

/** Lifts the resend cooldown and makes earlier sends not count against the destination's caps. */
export type ResetOtpLimits = Message<'ResetOtpLimits', { channel: OtpChannel; now: number }>;

export type OtpCommand = IssueOtp | VerifyOtp | RecordOtpDelivery | CancelOtp | ResetOtpLimits;

export type OtpCode = OtpRef & {
  codeHash: string;
  expiresAt: number;
  maxAttempts: number;
  /** Wrong attempts so far. */
  attempts: number;
  delivery: 'pending' | 'delivered' | 'failed';
};

/** resendFrom: when the last send that counts for the cooldown happened (null after a failed delivery). */
export type OtpCodeState =
  | { status: 'idle' }
  | { status: 'pending'; code: OtpCode; resendFrom: number | null }
  | { status: 'verified'; code: OtpCode; resendFrom: number | null; verifiedAt: number }
  | { status: 'locked'; code: OtpCode; resendFrom: number | null; lockedAt: number }
  | { status: 'expired'; code: OtpCode; resendFrom: number | null }
  | { status: 'undelivered'; code: OtpCode; resendFrom: number | null }
  | { status: 'cancelled'; code: OtpCode; resendFrom: null };

/** A code sent to this destination that counts against its caps. */
export type CountedSend = DestinationSend & { otpId: string };

/** The stream's code, and the sends that count against the destination's caps: those of the last
 * CAPS_LOOKBACK_MS (by the newest send's time) whose delivery did not fail, since the last
 * OtpLimitsReset — what the otp-counters read model counts, but decided with the append's
 * expected revision instead of an eventually consistent read. At most MAX_COUNTED_SENDS, the
 * newest (no cap a setting allows needs more). */
export type OtpState = OtpCodeState & { sends: readonly CountedSend[] };

export const MAX_COUNTED_SENDS = 10_000;

export const initialOtpState = (): OtpState => ({ status: 'idle', sends: [] });

const refOf = (c: OtpRef): OtpRef => ({
  otpId: c.otpId,
  channel: c.channel,
  purpose: c.purpose,
  userId: c.userId,
  userKey: c.userKey ?? null,
  masked: c.masked,
  country: c.country,
  issuedAt: c.issuedAt,
});

const sendsAfter = (sends: readonly CountedSend[], event: OtpEvent): readonly CountedSend[] => {
  switch (event.type) {
    case 'OtpIssued': {
      const d = event.data;
      const kept = sends.filter((x) => x.issuedAt > d.issuedAt - CAPS_LOOKBACK_MS);
      if (kept.length >= MAX_COUNTED_SENDS) kept.splice(0, kept.length - MAX_COUNTED_SENDS + 1);
      kept.push({ otpId: d.otpId, issuedAt: d.issuedAt, requester: d.requester ?? null });
      return kept;
    }
    case 'OtpDeliveryFailed': // of this code or of one it superseded
      return sends.some((x) => x.otpId === event.data.otpId) ? sends.filter((x) => x.otpId !== event.data.otpId) : sends;
    case 'OtpLimitsReset':
      return [];
    default:
      return sends;
  }
};

export const evolveOtp = (state: OtpState, event: OtpEvent): OtpState => {
  const sends = sendsAfter(state.sends, event);
  const next = evolveCode(state, event);
  return next === state && sends === state.sends ? state : { ...next, sends };
};

const evolveCode = (state: OtpCodeState, event: OtpEvent): OtpCodeState => {
  if (event.type === 'OtpIssued') {
    const d = event.data;
    const code: OtpCode = { ...refOf(d), codeHash: d.codeHash, expiresAt: d.expiresAt, maxAttempts: d.maxAttempts, attempts: 0, delivery: 'pending' };
    return { status: 'pending', code, resendFrom: d.issuedAt };
  }
  if (event.type === 'OtpLimitsReset') return state.status === 'idle' ? state : { ...state, resendFrom: null };
  // Every other event concerns one code; an event about a superseded code changes nothing.
  if (state.status === 'idle' || state.code.otpId !== event.data.otpId) return state;
  switch (event.type) {
    case 'OtpDeliverySucceeded':
      return { ...state, code: { ...state.code, delivery: 'delivered' } };
    case 'OtpDeliveryFailed': {
      const code: OtpCode = { ...state.code, delivery: 'failed' };
      return state.status === 'pending' ? { status: 'undelivered', code, resendFrom: null } : { ...state, code, resendFrom: null };
    }
    case 'OtpAttemptFailed':
      return state.status === 'pending' ? { ...state, code: { ...state.code, attempts: event.data.attempts } } : state;
    case 'OtpLocked':
      return { status: 'locked', code: { ...state.code, attempts: event.data.attempts }, resendFrom: state.resendFrom, lockedAt: event.data.lockedAt };
    case 'OtpVerified':
      return { status: 'verified', code: state.code, resendFrom: state.resendFrom, verifiedAt: event.data.verifiedAt };
    case 'OtpExpired':
      return state.status === 'pending' ? { status: 'expired', code: state.code, resendFrom: state.resendFrom } : state;
    case 'OtpCancelled':
      return { status: 'cancelled', code: state.code, resendFrom: null };
    default:
      return assertNeverEvolve(event, state);
  }
};

// evolve never throws: an unknown event (from a newer version) leaves the state as it is.
const assertNeverEvolve = (_event: never, state: OtpCodeState): OtpCodeState => state;

export const tooManyAttempts = (maxAttempts: number) =>
  new DomainError('TOO_MANY_ATTEMPTS', `all ${maxAttempts} attempts for this code were used; request a new code`);
export const otpExpired = () => new DomainError('OTP_EXPIRED', 'the code has expired; request a new code');

const decideIssue = ({ data: c }: IssueOtp, state: OtpState): OtpEvent[] => {
  const refusal = destinationCapRefusal(state.sends, c.requester, c.caps, c.now);
  if (refusal) throw refusal;
  if (state.status !== 'idle' && state.resendFrom !== null) {
    const allowedAt = state.resendFrom + c.policy.resendCooldownSeconds * 1000;
    if (c.now < allowedAt) {
      const retryAfterSeconds = Math.ceil((allowedAt - c.now) / 1000);
      throw new DomainError('RESEND_TOO_SOON', `a code was sent to this destination less than ${c.policy.resendCooldownSeconds} s ago; retry in ${retryAfterSeconds} s`, { retryAfterSeconds });
    }
  }
  return [{
    type: 'OtpIssued',
    data: {
      ...refOf({ ...c, issuedAt: c.now }),
      codeHash: c.codeHash,
      destinationEnc: c.destinationEnc,
      requester: c.requester,
      expiresAt: c.now + c.policy.ttlSeconds * 1000,
      maxAttempts: c.policy.maxAttempts,
      supersedes: state.status === 'pending' ? state.code.otpId : null,
    },
  }];
};

const decideVerify = ({ data: c }: VerifyOtp, state: OtpState): OtpEvent[] => {
  switch (state.status) {
    case 'idle':
      throw new DomainError('OTP_NOT_FOUND', 'no code is pending for this destination; send one first');
    case 'verified':
      throw new DomainError('OTP_NOT_FOUND', 'the code for this destination was already used; send a new one');
    case 'undelivered':
      throw new DomainError('OTP_NOT_FOUND', 'the last code could not be delivered; send a new one');
    case 'cancelled':
      throw new DomainError('OTP_NOT_FOUND', 'no code is pending for this destination; send one first');
    case 'locked':
      throw tooManyAttempts(state.code.maxAttempts);
    case 'expired':
      throw otpExpired();
    case 'pending': {
      const code = state.code;
      const ref = refOf(code);
      if (c.now >= code.expiresAt) return [{ type: 'OtpExpired', data: { ...ref, expiresAt: code.expiresAt, attemptedAt: c.now } }];
      if (safeEqual(c.candidateHash, code.codeHash)) {
        return [{ type: 'OtpVerified', data: { ...ref, attempts: code.attempts, attemptsRemaining: code.maxAttempts - code.attempts, verifiedAt: c.now } }];
      }
      const attempts = code.attempts + 1;
      const attemptsRemaining = Math.max(code.maxAttempts - attempts, 0);
      const failed: OtpEvent = { type: 'OtpAttemptFailed', data: { ...ref, attempts, attemptsRemaining, attemptedAt: c.now } };
      return attemptsRemaining > 0 ? [failed] : [failed, { type: 'OtpLocked', data: { ...ref, attempts, lockedAt: c.now } }];
    }
    default:
      return assertNever(state);
  }
};

const decideDelivery = ({ data: c }: RecordOtpDelivery): OtpEvent[] =>
  c.ok
    ? [{ type: 'OtpDeliverySucceeded', data: { ...c.ref, provider: c.provider, providerId: c.providerId, deliveredAt: c.now } }]
    : [{ type: 'OtpDeliveryFailed', data: { ...c.ref, provider: c.provider, reason: c.reason, failedAt: c.now } }];

const decideCancel = ({ data: c }: CancelOtp, state: OtpState): OtpEvent[] =>
  state.status === 'pending' && state.code.userKey === c.userKey
    ? [{ type: 'OtpCancelled', data: { ...refOf(state.code), reason: 'user_erased', cancelledAt: c.now } }]
    : [];

export const decideOtp = (command: OtpCommand, state: OtpState): OtpEvent[] => {
  switch (command.type) {
    case 'IssueOtp':
      return decideIssue(command, state);
    case 'VerifyOtp':
      return decideVerify(command, state);
    case 'RecordOtpDelivery':
      return decideDelivery(command);
    case 'CancelOtp':
      return decideCancel(command, state);
    case 'ResetOtpLimits':
      return [{ type: 'OtpLimitsReset', data: { channel: command.data.channel, at: command.data.now } }];
    default:
      return assertNever(command);
  }
};

export const otpDecider: Decider<OtpCommand, OtpEvent, OtpState> = {
  initialState: initialOtpState,
  evolve: evolveOtp,
  decide: decideOtp,
  snapshotVersion: 1,
};
