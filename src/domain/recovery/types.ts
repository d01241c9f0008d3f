// Recovery codes per (tenant, user): one set of single-use codes at a time; messages and state.
// The user id is never in the data: the stream is named by its keyed hash and the metadata carries
// it, as with TOTP.
import type { Message } from '../decider.ts';
import type { FailureRun } from '../totp/types.ts';

export type RecoveryCodesGenerated = Message<
  'RecoveryCodesGenerated',
  {
    setId: string;
    /** keyring.hmac('recovery-code', `${stream}:${code}`) of each code, in the order shown — never a code. */
    codeHashes: string[];
    /** The set this one replaced (its unused codes stopped working), or null. */
    replaces: string | null;
    at: number;
  }
>;
/** index: which code of the set (in the order shown); remaining: unused codes left after it. */
export type RecoveryCodeUsed = Message<'RecoveryCodeUsed', { setId: string; index: number; remaining: number; at: number }>;
/** Decided with the use that leaves RECOVERY_LOW_REMAINING or fewer codes: time to generate new ones. */
export type RecoveryCodesLow = Message<'RecoveryCodesLow', { setId: string; remaining: number; at: number }>;
/** failures: consecutive failures including this one. A code of the set that was already used is
 * refused but not counted (reason "used"): it is not a guess. */
export type RecoveryCodeRejected = Message<'RecoveryCodeRejected', { at: number; failures: number; reason: 'mismatch' | 'used' }>;
export type RecoveryCodesRemoved = Message<'RecoveryCodesRemoved', { setId: string; at: number }>;

export type RecoveryEvent = RecoveryCodesGenerated | RecoveryCodeUsed | RecoveryCodesLow | RecoveryCodeRejected | RecoveryCodesRemoved;

/** The app draws the codes (CSPRNG) and hashes them; the decider sees only the hashes. */
export type GenerateRecoveryCodes = Message<'GenerateRecoveryCodes', { setId: string; codeHashes: string[]; replace: boolean; now: number }>;
/** candidateHash: the typed code, normalised and hashed like the stored ones. */
export type VerifyRecoveryCode = Message<'VerifyRecoveryCode', { candidateHash: string; now: number }>;
export type RemoveRecoveryCodes = Message<'RemoveRecoveryCodes', { now: number }>;

export type RecoveryCommand = GenerateRecoveryCodes | VerifyRecoveryCode | RemoveRecoveryCodes;

export type RecoverySet = { setId: string; codeHashes: readonly string[]; used: readonly boolean[]; generatedAt: number };

/** Consecutive failures, delayed as TOTP's (src/domain/totp/decider.ts: capped at 30 s): only a
 * used code resets them. */
export type RecoveryThrottle = FailureRun;

export type RecoveryState =
  | { status: 'none'; throttle: RecoveryThrottle }
  | { status: 'active'; set: RecoverySet; remaining: number; throttle: RecoveryThrottle };
