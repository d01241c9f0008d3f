// Recovery codes aggregate. One stream per (tenant, user); see recoveryStreamName. Attempts are
// throttled by TOTP's rules (the same delays after the same number of failures), since both are
// what stands between a guesser and a user's second factor.
import { safeEqual } from '../../crypto/keyring.ts';
import { assertNever, type Decider } from '../decider.ts';
import { DomainError } from '../errors.ts';
import { waitSeconds } from '../totp/decider.ts';
import type { RecoveryCommand, RecoveryEvent, RecoverySet, RecoveryState, RecoveryThrottle } from './types.ts';

/** userKey: keyring.hmac('user', userId) — never the user id itself. */
export const recoveryStreamName = (tenantId: string, userKey: string): string => `recovery-${tenantId}.${userKey}`;

/** A use that leaves this many codes or fewer also decides RecoveryCodesLow. */
export const RECOVERY_LOW_REMAINING = 2;

/** Whole seconds until the user may try a code again (0: allowed now). */
export const retryAfterSeconds = (throttle: RecoveryThrottle, now: number): number => waitSeconds(throttle, now);

const noThrottle: RecoveryThrottle = { failures: 0, lastFailureAt: 0 };

const initialState = (): RecoveryState => ({ status: 'none', throttle: noThrottle });

/** The index of the code whose hash equals `candidate`, or -1. Every hash is compared, in constant
 * time each, whatever matched: the answer's timing does not depend on where the code sits. */
export const matchingIndex = (codeHashes: readonly string[], candidate: string, equal: (a: string, b: string) => boolean = safeEqual): number => {
  let found = -1;
  for (let i = 0; i < codeHashes.length; i++) {
    const same = equal(codeHashes[i]!, candidate);
    found = same ? i : found;
  }
  return found;
};

const evolve = (state: RecoveryState, event: RecoveryEvent): RecoveryState => {
  switch (event.type) {
    case 'RecoveryCodesGenerated': {
      const { setId, codeHashes, at } = event.data;
      const set: RecoverySet = { setId, codeHashes, used: codeHashes.map(() => false), generatedAt: at };
      return { status: 'active', set, remaining: codeHashes.length, throttle: state.throttle };
    }
    case 'RecoveryCodeUsed': {
      if (state.status !== 'active' || state.set.setId !== event.data.setId) return state;
      const used = state.set.used.map((u, i) => u || i === event.data.index);
      return { ...state, set: { ...state.set, used }, remaining: used.filter((u) => !u).length, throttle: noThrottle };
    }
    case 'RecoveryCodesLow':
      return state;
    case 'RecoveryCodeRejected':
      if (event.data.reason === 'used') return state;
      return { ...state, throttle: { failures: event.data.failures, lastFailureAt: event.data.at } };
    case 'RecoveryCodesRemoved':
      return { status: 'none', throttle: state.throttle };
    default:
      return assertNever(event);
  }
};

const decide = (command: RecoveryCommand, state: RecoveryState): RecoveryEvent[] => {
  switch (command.type) {
    case 'GenerateRecoveryCodes': {
      const { setId, codeHashes, replace, now } = command.data;
      if (state.status === 'active' && state.remaining > 0 && !replace)
        throw new DomainError('ALREADY_ENROLLED', `this user has ${state.remaining} unused recovery codes; pass replace=true to replace the whole set`);
      return [{ type: 'RecoveryCodesGenerated', data: { setId, codeHashes, replaces: state.status === 'active' ? state.set.setId : null, at: now } }];
    }
    case 'VerifyRecoveryCode': {
      const { candidateHash, now } = command.data;
      if (state.status === 'none') throw new DomainError('NOT_ENROLLED', 'no recovery codes for this user; generate them first');
      const wait = retryAfterSeconds(state.throttle, now);
      if (wait > 0) throw new DomainError('RATE_LIMITED', `too many failed recovery code attempts; retry in ${wait} s`, { retryAfterSeconds: wait });
      const index = matchingIndex(state.set.codeHashes, candidateHash);
      if (index === -1) return [{ type: 'RecoveryCodeRejected', data: { at: now, failures: state.throttle.failures + 1, reason: 'mismatch' } }];
      if (state.set.used[index]) return [{ type: 'RecoveryCodeRejected', data: { at: now, failures: state.throttle.failures, reason: 'used' } }];
      const { setId } = state.set;
      const remaining = state.remaining - 1;
      const used: RecoveryEvent = { type: 'RecoveryCodeUsed', data: { setId, index, remaining, at: now } };
      return remaining <= RECOVERY_LOW_REMAINING ? [used, { type: 'RecoveryCodesLow', data: { setId, remaining, at: now } }] : [used];
    }
    case 'RemoveRecoveryCodes':
      if (state.status === 'none') throw new DomainError('NOT_ENROLLED', 'no recovery codes for this user');
      return [{ type: 'RecoveryCodesRemoved', data: { setId: state.set.setId, at: command.data.now } }];
    default:
      return assertNever(command);
  }
};

export const recoveryDecider: Decider<RecoveryCommand, RecoveryEvent, RecoveryState> = { initialState, evolve, decide, snapshotVersion: 1 };
