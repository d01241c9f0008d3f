// Username-less sign-in needs two small tenant-level aggregates: the challenge (no user known yet
// when options are requested) and a credential id → user pointer (to find the user afterwards).
import { assertNever, type Decider, type Message } from '../decider.ts';
import { DomainError } from '../errors.ts';
import { CHALLENGE_TTL_MS, type AuthenticationChallengeIssued, type ChallengeConsumed } from './types.ts';

/** challengeKey: a hash of the challenge (keeps stream names short and uniform). */
export const discoverableChallengeStreamName = (tenantId: string, challengeKey: string): string =>
  `webauthnchallenge-${tenantId}.${challengeKey}`;

export type DiscoverableChallengeEvent = AuthenticationChallengeIssued | ChallengeConsumed;
export type DiscoverableChallengeCommand =
  | Message<'IssueDiscoverableChallenge', { challenge: string; now: number }>
  | Message<'ClaimDiscoverableChallenge', { challenge: string; signatureValid: boolean; now: number }>;
export type DiscoverableChallengeState =
  | { status: 'none' }
  | { status: 'pending'; challenge: string; expiresAt: number }
  | { status: 'consumed'; challenge: string };

export const discoverableChallengeDecider: Decider<DiscoverableChallengeCommand, DiscoverableChallengeEvent, DiscoverableChallengeState> = {
  initialState: () => ({ status: 'none' }),
  evolve: (state, event) => {
    switch (event.type) {
      case 'AuthenticationChallengeIssued':
        return { status: 'pending', challenge: event.data.challenge, expiresAt: event.data.expiresAt };
      case 'ChallengeConsumed':
        return { status: 'consumed', challenge: event.data.challenge };
      default:
        return assertNever(event);
    }
  },
  decide: (command, state) => {
    switch (command.type) {
      case 'IssueDiscoverableChallenge':
        if (state.status !== 'none') throw new DomainError('CONFLICT', 'challenge already issued');
        return [{ type: 'AuthenticationChallengeIssued', data: { challenge: command.data.challenge, expiresAt: command.data.now + CHALLENGE_TTL_MS } }];
      case 'ClaimDiscoverableChallenge': {
        const { challenge, signatureValid, now } = command.data;
        if (state.status !== 'pending' || state.challenge !== challenge)
          throw new DomainError('CHALLENGE_EXPIRED', 'no pending authentication challenge matches the response (unknown or already used); request new options');
        if (now >= state.expiresAt) throw new DomainError('CHALLENGE_EXPIRED', 'the authentication challenge has expired; request new options');
        return [{ type: 'ChallengeConsumed', data: { challenge, kind: 'authentication', outcome: signatureValid ? 'claimed' : 'failed', at: now } }];
      }
      default:
        return assertNever(command);
    }
  },
};

/** credentialKey: keyring.hmac('webauthn-credential', credentialId). */
export const credentialOwnerStreamName = (tenantId: string, credentialKey: string): string => `webauthncred-${tenantId}.${credentialKey}`;

/** userId: sealed with the user's data key in the log (src/domain/personal.ts), so that a
 * discoverable sign-in can name the user, and an erasure makes the credential name nobody.
 * Events written before the key store carry userIdEnc (keyring.encrypt('webauthn-user', userId)). */
export type CredentialOwner = { credentialId: string; userKey: string; userId?: string; userIdEnc?: string };
export type CredentialOwnerRecorded = Message<'CredentialOwnerRecorded', CredentialOwner & { at: number }>;
export type RecordCredentialOwner = Message<'RecordCredentialOwner', { credentialId: string; userKey: string; userId: string; now: number }>;
export type CredentialOwnerState = { owner: null | CredentialOwner };

export const credentialOwnerDecider: Decider<RecordCredentialOwner, CredentialOwnerRecorded, CredentialOwnerState> = {
  initialState: () => ({ owner: null }),
  evolve: (_state, event) => {
    const { at: _at, ...owner } = event.data;
    return { owner };
  },
  decide: (command, state) => {
    const { now, ...owner } = command.data;
    if (state.owner === null) return [{ type: 'CredentialOwnerRecorded', data: { ...owner, at: now } }];
    if (state.owner.userKey === owner.userKey) return [];
    throw new DomainError('CONFLICT', 'this credential is registered to another user');
  },
};
