// The passkey deciders, given/when/then on events.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { webauthnDecider } from '../src/domain/webauthn/credentials.ts';
import { credentialOwnerDecider, type DiscoverableChallengeEvent, discoverableChallengeDecider } from '../src/domain/webauthn/discoverable.ts';
import type { StoredCredential, WebAuthnCommand, WebAuthnEvent } from '../src/domain/webauthn/types.ts';
import { deciderSpec } from './helpers/decider-spec.ts';

const T = 1_800_000_000_000;
const cred: StoredCredential = {
  credentialId: 'cred-1',
  publicKey: 'pk',
  counter: 5,
  transports: ['internal'],
  aaguid: '00000000-0000-0000-0000-000000000000',
  backedUp: false,
  deviceType: 'singleDevice',
  deviceName: 'Laptop',
};
const regChallenge = (challenge = 'c-reg', at = T): WebAuthnEvent => ({ type: 'RegistrationChallengeIssued', data: { challenge, expiresAt: at + 300_000 } });
const authChallenge = (challenge = 'c-auth', at = T): WebAuthnEvent => ({ type: 'AuthenticationChallengeIssued', data: { challenge, expiresAt: at + 300_000 } });
const registered: WebAuthnEvent = { type: 'CredentialRegistered', data: { ...cred, at: T } };

const given = deciderSpec(webauthnDecider);

const authenticate = (newCounter: number, challenge: string | null = 'c-auth', now = T + 1000): WebAuthnCommand => ({
  type: 'CompleteAuthentication',
  data: { challenge, credentialId: 'cred-1', now, outcome: { verified: true, newCounter, backedUp: false } },
});

describe('WebAuthn credentials decider', () => {
  test('a verified registration consumes its challenge and registers the credential, in one append', () => {
    given([regChallenge()])
      .when({ type: 'CompleteRegistration', data: { challenge: 'c-reg', now: T + 1000, outcome: { verified: true, credential: cred } } })
      .then([
        { type: 'ChallengeConsumed', data: { challenge: 'c-reg', kind: 'registration', outcome: 'registered', at: T + 1000 } },
        { type: 'CredentialRegistered', data: { ...cred, at: T + 1000 } },
      ]);
  });

  test('a failed registration still consumes the challenge', () => {
    given([regChallenge()])
      .when({ type: 'CompleteRegistration', data: { challenge: 'c-reg', now: T + 1000, outcome: { verified: false } } })
      .then([{ type: 'ChallengeConsumed', data: { challenge: 'c-reg', kind: 'registration', outcome: 'failed', at: T + 1000 } }]);
  });

  test('unknown, used, expired or wrong-ceremony challenges: CHALLENGE_EXPIRED', () => {
    const used: WebAuthnEvent = { type: 'ChallengeConsumed', data: { challenge: 'c-auth', kind: 'authentication', outcome: 'authenticated', at: T } };
    given([registered]).when(authenticate(6)).thenThrows('CHALLENGE_EXPIRED');
    given([registered, authChallenge(), used]).when(authenticate(6)).thenThrows('CHALLENGE_EXPIRED');
    given([registered, authChallenge()]).when(authenticate(6, 'c-auth', T + 300_000)).thenThrows('CHALLENGE_EXPIRED');
    given([registered, regChallenge('c-auth')]).when(authenticate(6)).thenThrows('CHALLENGE_EXPIRED');
  });

  test('a counter moving forward records the use', () => {
    given([registered, authChallenge()])
      .when(authenticate(6))
      .then([
        { type: 'ChallengeConsumed', data: { challenge: 'c-auth', kind: 'authentication', outcome: 'authenticated', at: T + 1000 } },
        { type: 'CredentialUsed', data: { credentialId: 'cred-1', counter: 6, backedUp: false, at: T + 1000 } },
      ]);
  });

  test('a counter that does not move forward is a suspected clone', () => {
    for (const received of [5, 3])
      given([registered, authChallenge()])
        .when(authenticate(received))
        .then([
          { type: 'ChallengeConsumed', data: { challenge: 'c-auth', kind: 'authentication', outcome: 'clone_suspected', at: T + 1000 } },
          { type: 'CredentialCloneSuspected', data: { credentialId: 'cred-1', storedCounter: 5, receivedCounter: received, at: T + 1000 } },
        ]);
  });

  test('counters at zero on both sides (authenticators without counters) are fine', () => {
    const zero: WebAuthnEvent = { type: 'CredentialRegistered', data: { ...cred, counter: 0, at: T } };
    given([zero, authChallenge()]).when(authenticate(0)).then([
      { type: 'ChallengeConsumed', data: { challenge: 'c-auth', kind: 'authentication', outcome: 'authenticated', at: T + 1000 } },
      { type: 'CredentialUsed', data: { credentialId: 'cred-1', counter: 0, backedUp: false, at: T + 1000 } },
    ]);
  });

  test('a discoverable sign-in (challenge consumed elsewhere) records only the use', () => {
    given([registered]).when(authenticate(9, null)).then([{ type: 'CredentialUsed', data: { credentialId: 'cred-1', counter: 9, backedUp: false, at: T + 1000 } }]);
  });

  test('authentication options need a registered credential', () => {
    given([]).when({ type: 'IssueChallenge', data: { kind: 'authentication', challenge: 'c', now: T } }).thenThrows('NOT_ENROLLED');
    given([registered]).when({ type: 'IssueChallenge', data: { kind: 'authentication', challenge: 'c', now: T } }).then([authChallenge('c')]);
  });

  test('removing an unknown credential: CREDENTIAL_NOT_FOUND; removing a known one takes it out', () => {
    given([]).when({ type: 'RemoveCredential', data: { credentialId: 'cred-1', now: T } }).thenThrows('CREDENTIAL_NOT_FOUND');
    const removed: WebAuthnEvent = { type: 'CredentialRemoved', data: { credentialId: 'cred-1', at: T } };
    given([registered]).when({ type: 'RemoveCredential', data: { credentialId: 'cred-1', now: T } }).then([removed]);
    assert.deepEqual([registered, removed].reduce(webauthnDecider.evolve, webauthnDecider.initialState()).credentials, {});
  });

  test('expired challenges are pruned from the state as new ones are issued', () => {
    const state = [regChallenge('old', T), regChallenge('new', T + 300_001)].reduce(webauthnDecider.evolve, webauthnDecider.initialState());
    assert.deepEqual(Object.keys(state.challenges), ['new']);
  });
});

describe('discoverable challenge and credential owner deciders', () => {
  test('a discoverable challenge is claimed once, before it expires', () => {
    const d = discoverableChallengeDecider;
    const issued = d.decide({ type: 'IssueDiscoverableChallenge', data: { challenge: 'c', now: T } }, d.initialState());
    const claim = (now: number) => ({ type: 'ClaimDiscoverableChallenge', data: { challenge: 'c', signatureValid: true, now } }) as const;
    const claimed: DiscoverableChallengeEvent[] = [{ type: 'ChallengeConsumed', data: { challenge: 'c', kind: 'authentication', outcome: 'claimed', at: T + 1 } }];
    deciderSpec(d)(issued).when(claim(T + 1)).then(claimed);
    deciderSpec(d)([...issued, ...claimed]).when(claim(T + 2)).thenThrows('CHALLENGE_EXPIRED');
    deciderSpec(d)(issued).when(claim(T + 300_000)).thenThrows('CHALLENGE_EXPIRED');
  });

  test('a credential has one owner: re-recording is a no-op, another user is a CONFLICT', () => {
    const o = credentialOwnerDecider;
    const cmd = (userKey: string) => ({ type: 'RecordCredentialOwner', data: { credentialId: 'c', userKey, userId: 'pd1.sealed', now: T } }) as const;
    const recorded = o.decide(cmd('u1'), o.initialState());
    deciderSpec(o)(recorded).when(cmd('u1')).then([]);
    deciderSpec(o)(recorded).when(cmd('u2')).thenThrows('CONFLICT');
  });
});
