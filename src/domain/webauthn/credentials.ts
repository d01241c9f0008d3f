// The per-user credentials aggregate: challenges (single-use, expiring) and registered passkeys.
import { assertNever, type Decider } from '../decider.ts';
import { DomainError } from '../errors.ts';
import { CHALLENGE_TTL_MS, type ChallengeKind, type WebAuthnCommand, type WebAuthnEvent, type WebAuthnState } from './types.ts';

/** userKey: keyring.hmac('user', userId) — never the user id itself. */
export const webauthnStreamName = (tenantId: string, userKey: string): string => `webauthn-${tenantId}.${userKey}`;

const initialState = (): WebAuthnState => ({ credentials: {}, challenges: {} });

const withoutKey = <V>(record: Record<string, V>, key: string): Record<string, V> => {
  const { [key]: _, ...rest } = record;
  return rest;
};

const evolve = (state: WebAuthnState, event: WebAuthnEvent): WebAuthnState => {
  switch (event.type) {
    case 'RegistrationChallengeIssued':
    case 'AuthenticationChallengeIssued': {
      const issuedAt = event.data.expiresAt - CHALLENGE_TTL_MS;
      const live = Object.entries(state.challenges).filter(([, c]) => c.expiresAt > issuedAt);
      const kind: ChallengeKind = event.type === 'RegistrationChallengeIssued' ? 'registration' : 'authentication';
      return { ...state, challenges: { ...Object.fromEntries(live), [event.data.challenge]: { kind, expiresAt: event.data.expiresAt } } };
    }
    case 'ChallengeConsumed':
      return { ...state, challenges: withoutKey(state.challenges, event.data.challenge) };
    case 'CredentialRegistered': {
      const { at, ...credential } = event.data;
      return { ...state, credentials: { ...state.credentials, [credential.credentialId]: { ...credential, createdAt: at, lastUsedAt: null } } };
    }
    case 'CredentialUsed': {
      const c = state.credentials[event.data.credentialId];
      if (!c) return state;
      const used = { ...c, counter: event.data.counter, backedUp: event.data.backedUp, lastUsedAt: event.data.at };
      return { ...state, credentials: { ...state.credentials, [c.credentialId]: used } };
    }
    case 'CredentialCloneSuspected':
      return state;
    case 'CredentialRemoved':
      return { ...state, credentials: withoutKey(state.credentials, event.data.credentialId) };
    default:
      return assertNever(event);
  }
};

/** Refuses a challenge that is unknown, already used, expired or of the other ceremony. */
const requireChallenge = (state: WebAuthnState, challenge: string, kind: ChallengeKind, now: number) => {
  const c = Object.hasOwn(state.challenges, challenge) ? state.challenges[challenge] : undefined;
  if (!c || c.kind !== kind)
    throw new DomainError('CHALLENGE_EXPIRED', `no pending ${kind} challenge matches the response (unknown or already used); request new options`);
  if (now >= c.expiresAt) throw new DomainError('CHALLENGE_EXPIRED', `the ${kind} challenge has expired; request new options`);
};

const decide = (command: WebAuthnCommand, state: WebAuthnState): WebAuthnEvent[] => {
  switch (command.type) {
    case 'IssueChallenge': {
      const { kind, challenge, now } = command.data;
      const data = { challenge, expiresAt: now + CHALLENGE_TTL_MS };
      if (kind === 'registration') return [{ type: 'RegistrationChallengeIssued', data }];
      if (Object.keys(state.credentials).length === 0) throw new DomainError('NOT_ENROLLED', 'no passkey registered for this user');
      return [{ type: 'AuthenticationChallengeIssued', data }];
    }
    case 'CompleteRegistration': {
      const { challenge, now, outcome } = command.data;
      requireChallenge(state, challenge, 'registration', now);
      const consumed = (o: 'registered' | 'failed'): WebAuthnEvent => ({ type: 'ChallengeConsumed', data: { challenge, kind: 'registration', outcome: o, at: now } });
      if (!outcome.verified || Object.hasOwn(state.credentials, outcome.credential.credentialId)) return [consumed('failed')];
      return [consumed('registered'), { type: 'CredentialRegistered', data: { ...outcome.credential, at: now } }];
    }
    case 'CompleteAuthentication': {
      const { challenge, credentialId, now, outcome } = command.data;
      if (challenge !== null) requireChallenge(state, challenge, 'authentication', now);
      const consumed = (o: 'authenticated' | 'failed' | 'clone_suspected'): WebAuthnEvent[] =>
        challenge === null ? [] : [{ type: 'ChallengeConsumed', data: { challenge, kind: 'authentication', outcome: o, at: now } }];
      const stored = Object.hasOwn(state.credentials, credentialId) ? state.credentials[credentialId] : undefined;
      if (!stored || !outcome.verified) return consumed('failed');
      const received = outcome.newCounter;
      // A counter that does not move forward (when either side uses counters) means two
      // authenticators share the key: record it and refuse.
      if ((received > 0 || stored.counter > 0) && received <= stored.counter)
        return [
          ...consumed('clone_suspected'),
          { type: 'CredentialCloneSuspected', data: { credentialId, storedCounter: stored.counter, receivedCounter: received, at: now } },
        ];
      return [...consumed('authenticated'), { type: 'CredentialUsed', data: { credentialId, counter: received, backedUp: outcome.backedUp, at: now } }];
    }
    case 'RemoveCredential': {
      const { credentialId, now } = command.data;
      if (!Object.hasOwn(state.credentials, credentialId)) throw new DomainError('CREDENTIAL_NOT_FOUND', 'no such passkey for this user');
      return [{ type: 'CredentialRemoved', data: { credentialId, at: now } }];
    }
    default:
      return assertNever(command);
  }
};

export const webauthnDecider: Decider<WebAuthnCommand, WebAuthnEvent, WebAuthnState> = { initialState, evolve, decide, snapshotVersion: 1 };
