// What the passkey ceremonies share: the relying party, the streams of a (tenant, user) and of a
// credential's owner, and the assertion check. @simplewebauthn/server checks the ceremonies; the
// deciders (src/domain/webauthn) keep the rules: single-use expiring challenges, counters, owners.
import type { AuthenticationResponseJSON } from '@simplewebauthn/server';
import { verifyAuthenticationResponse } from './library.ts';
import type { Keyring } from '../../crypto/keyring.ts';
import { DomainError } from '../../domain/errors.ts';
import { webauthnDecider, webauthnStreamName } from '../../domain/webauthn/credentials.ts';
import { credentialOwnerDecider, credentialOwnerStreamName, discoverableChallengeStreamName } from '../../domain/webauthn/discoverable.ts';
import type { StoredCredential, WebAuthnCommand, WebAuthnState } from '../../domain/webauthn/types.ts';
import { ERASED } from '../../privacy/personal-data.ts';
import { type CallerInfo, callerMetadata } from '../caller.ts';
import type { EventLog } from '../event-log.ts';
import { requireUserId } from '../user-id.ts';
import type { UserKeys } from '../user-keys.ts';

/** The tenant's relying party: id (a domain), display name, and the origins pages run on. */
export type RelyingParty = { id: string; name: string; origins: string[] };

/** EdDSA, ES256, RS256 — not ML-DSA, which Node 24 flags as experimental. */
export const SUPPORTED_ALGORITHM_IDS = [-8, -7, -257];

export const requireRp = (rp: RelyingParty): RelyingParty => {
  if (!rp?.id || !Array.isArray(rp.origins) || rp.origins.length === 0)
    throw new DomainError('INVALID_ARGUMENT', 'WebAuthn relying party (rpId and origins) is not configured for this tenant');
  return rp;
};

export const credentialIn = (state: WebAuthnState, id: string) => (Object.hasOwn(state.credentials, id) ? state.credentials[id] : undefined);

export type WebAuthnDeps = { events: EventLog; users: UserKeys; keyring: Keyring; now: () => number };

/** The result of checking an assertion: the counter is the decider's to judge. */
export type AssertionCheck = { verified: true; newCounter: number; backedUp: boolean } | { verified: false };

export const createWebAuthnContext = (deps: WebAuthnDeps) => {
  const { events, users, keyring } = deps;
  /** The user's stream key (src/app/user-keys.ts): it names their credentials' stream. */
  const userKeyOf = (tenantId: string, userId: string) => users.of(tenantId, requireUserId(userId));
  const userStream = async (tenantId: string, userId: string) => webauthnStreamName(tenantId, await userKeyOf(tenantId, userId));
  /** The WebAuthn user handle: opaque, stable per (tenant, user), no personal data. */
  const userHandleOf = (tenantId: string, userId: string) => Buffer.from(keyring.hmac('webauthn-user-handle', `${tenantId}\n${userId}`), 'hex');
  const ownerStream = (tenantId: string, credentialId: string) => credentialOwnerStreamName(tenantId, keyring.hmac('webauthn-credential', credentialId));
  const challengeStream = (tenantId: string, challenge: string) => discoverableChallengeStreamName(tenantId, keyring.hmac('webauthn-challenge', challenge));

  return {
    ...deps,
    userKeyOf,
    userHandleOf,
    ownerStream,
    challengeStream,
    /** The (tenant, user) credentials aggregate's state. */
    loadUser: async (tenantId: string, userId: string) => (await events.load(await userStream(tenantId, userId), webauthnDecider)).state,
    runUser: async (caller: CallerInfo, userId: string, command: WebAuthnCommand) => {
      const userKey = await userKeyOf(caller.tenantId, userId);
      return events.handle(webauthnStreamName(caller.tenantId, userKey), webauthnDecider, command, { metadata: { ...callerMetadata(caller), userId, userKey } });
    },
    ownerOf: async (tenantId: string, credentialId: string) => (await events.load(ownerStream(tenantId, credentialId), credentialOwnerDecider)).state.owner,
    /** Whom a credential's owner record names: null when nobody, or when that user was erased.
     * Records older than the key store carry the id encrypted with the keyring. */
    ownerIdOf: (owner: { userId?: string; userIdEnc?: string } | null) => {
      const id = owner?.userId ?? (owner?.userIdEnc ? keyring.decrypt('webauthn-user', owner.userIdEnc) : null);
      return id === ERASED ? null : id;
    },

    /** Checks an assertion's signature, origin, RP and user handle for the stored credential. */
    checkAssertion: async (o: {
      tenantId: string;
      rp: RelyingParty;
      credential: AuthenticationResponseJSON;
      challenge: string;
      stored: StoredCredential;
      userId: string;
      requireUserVerification: boolean;
    }): Promise<AssertionCheck> => {
      const handle = o.credential.response.userHandle;
      if (handle && handle !== userHandleOf(o.tenantId, o.userId).toString('base64url')) return { verified: false };
      try {
        const res = await verifyAuthenticationResponse({
          response: o.credential,
          expectedChallenge: o.challenge,
          expectedOrigin: o.rp.origins,
          expectedRPID: o.rp.id,
          credential: { id: o.stored.credentialId, publicKey: Buffer.from(o.stored.publicKey, 'base64url'), counter: 0, transports: o.stored.transports },
          requireUserVerification: o.requireUserVerification,
        });
        if (!res.verified) return { verified: false };
        return { verified: true, newCounter: res.authenticationInfo.newCounter, backedUp: res.authenticationInfo.credentialBackedUp };
      } catch {
        return { verified: false };
      }
    },
  };
};

export type WebAuthnContext = ReturnType<typeof createWebAuthnContext>;
