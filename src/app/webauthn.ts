// Passkeys application service: @simplewebauthn/server checks the ceremonies, the deciders keep
// the rules (single-use expiring challenges, counters, excludeCredentials, owners).
import {
  type AuthenticationResponseJSON,
  type AuthenticatorAttachment,
  generateAuthenticationOptions,
  generateRegistrationOptions,
  type RegistrationResponseJSON,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
} from '@simplewebauthn/server';
import type { Keyring } from '../crypto/keyring.ts';
import { DomainError } from '../domain/errors.ts';
import { webauthnDecider, webauthnStreamName } from '../domain/webauthn/credentials.ts';
import {
  credentialOwnerDecider,
  credentialOwnerStreamName,
  discoverableChallengeDecider,
  discoverableChallengeStreamName,
} from '../domain/webauthn/discoverable.ts';
import { CHALLENGE_TTL_MS, type StoredCredential, type WebAuthnCommand, type WebAuthnState } from '../domain/webauthn/types.ts';
import { handleCommand, loadState } from '../eventstore/handle-command.ts';
import type { EventStore } from '../eventstore/port.ts';
import { requireUserId } from './user-id.ts';
import { type CallerInfo, callerMetadata } from './caller.ts';

/** The tenant's relying party: id (a domain), display name, and the origins pages run on. */
export type RelyingParty = { id: string; name: string; origins: string[] };

/** EdDSA, ES256, RS256 — not ML-DSA, which Node 24 flags as experimental. */
export const SUPPORTED_ALGORITHM_IDS = [-8, -7, -257];

/** Standard base64 (the seed sends btoa(...)) → base64url; base64url passes unchanged. */
export const toBase64Url = (s: string): string => s.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');

type JsonRecord = Record<string, unknown>;
const isRecord = (v: unknown): v is JsonRecord => typeof v === 'object' && v !== null && !Array.isArray(v);
/** A base64 or base64url string field as base64url; "" when absent (the check then fails). */
const b64url = (v: unknown) => (typeof v === 'string' ? toBase64Url(v) : '');
type Transport = NonNullable<RegistrationResponseJSON['response']['transports']>[number];
const TRANSPORTS: readonly Transport[] = ['ble', 'cable', 'hybrid', 'internal', 'nfc', 'smart-card', 'usb'];
const isTransport = (t: unknown): t is Transport => TRANSPORTS.some((x) => x === t);
const ATTACHMENTS: readonly AuthenticatorAttachment[] = ['platform', 'cross-platform'];
const isAttachment = (a: unknown): a is AuthenticatorAttachment => ATTACHMENTS.some((x) => x === a);

/** What every credential JSON has: ids (base64 or base64url), type, response, attachment. */
const credentialParts = (c: unknown) => {
  if (!isRecord(c) || typeof c.id !== 'string' || !c.id || !isRecord(c.response)) throw new DomainError('INVALID_ARGUMENT', 'credential must have id, rawId, type and response');
  if (c.type !== undefined && c.type !== '' && c.type !== 'public-key') throw new DomainError('INVALID_ARGUMENT', 'credential type: expected "public-key"');
  const id = toBase64Url(c.id);
  const attachment = c.authenticatorAttachment;
  return {
    id,
    rawId: typeof c.rawId === 'string' && c.rawId ? toBase64Url(c.rawId) : id,
    type: 'public-key' as const,
    clientExtensionResults: {},
    ...(isAttachment(attachment) ? { authenticatorAttachment: attachment } : {}),
    response: c.response,
  };
};

/** The browser's registration credential (JSON as sent), checked and normalised. */
export const registrationCredentialOf = (c: unknown): RegistrationResponseJSON => {
  const { response: r, ...rest } = credentialParts(c);
  const transports = Array.isArray(r.transports) ? r.transports.filter(isTransport) : undefined;
  return { ...rest, response: { clientDataJSON: b64url(r.clientDataJSON), attestationObject: b64url(r.attestationObject), ...(transports ? { transports } : {}) } };
};

/** The browser's assertion (JSON as sent), checked and normalised. */
export const authenticationCredentialOf = (c: unknown): AuthenticationResponseJSON => {
  const { response: r, ...rest } = credentialParts(c);
  return {
    ...rest,
    response: {
      clientDataJSON: b64url(r.clientDataJSON),
      authenticatorData: b64url(r.authenticatorData),
      signature: b64url(r.signature),
      ...(typeof r.userHandle === 'string' && r.userHandle ? { userHandle: toBase64Url(r.userHandle) } : {}),
    },
  };
};

/** The challenge the browser signed, read from clientDataJSON. */
const challengeOf = (c: { response: { clientDataJSON?: unknown } }): string => {
  try {
    const parsed = JSON.parse(Buffer.from(String(c.response.clientDataJSON), 'base64url').toString('utf8')) as { challenge?: unknown };
    if (typeof parsed.challenge === 'string' && parsed.challenge) return parsed.challenge;
  } catch {
    // fall through
  }
  throw new DomainError('INVALID_ARGUMENT', 'response.clientDataJSON is not base64url-encoded client data JSON');
};

const requireRp = (rp: RelyingParty): RelyingParty => {
  if (!rp?.id || !Array.isArray(rp.origins) || rp.origins.length === 0)
    throw new DomainError('INVALID_ARGUMENT', 'WebAuthn relying party (rpId and origins) is not configured for this tenant');
  return rp;
};



const credentialIn = (state: WebAuthnState, id: string) => (Object.hasOwn(state.credentials, id) ? state.credentials[id] : undefined);

const credentialView = (c: WebAuthnState['credentials'][string]) => ({
  credentialId: c.credentialId,
  deviceName: c.deviceName,
  transports: c.transports,
  aaguid: c.aaguid,
  backedUp: c.backedUp,
  deviceType: c.deviceType,
  createdAt: c.createdAt,
  lastUsedAt: c.lastUsedAt,
});

export type WebAuthnService = ReturnType<typeof createWebAuthnService>;

export const createWebAuthnService = (deps: { store: EventStore; keyring: Keyring; now: () => number }) => {
  const { store, keyring, now } = deps;
  const userKeyOf = (userId: string) => keyring.hmac('user', requireUserId(userId));
  const userStream = (tenantId: string, userId: string) => webauthnStreamName(tenantId, userKeyOf(userId));
  /** The WebAuthn user handle: opaque, stable per (tenant, user), no personal data. */
  const userHandleOf = (tenantId: string, userId: string) => Buffer.from(keyring.hmac('webauthn-user-handle', `${tenantId}\n${userId}`), 'hex');
  const ownerStream = (tenantId: string, credentialId: string) =>
    credentialOwnerStreamName(tenantId, keyring.hmac('webauthn-credential', credentialId));
  const challengeStream = (tenantId: string, challenge: string) =>
    discoverableChallengeStreamName(tenantId, keyring.hmac('webauthn-challenge', challenge));
  const runUser = (caller: CallerInfo, userId: string, command: WebAuthnCommand) =>
    handleCommand(store, userStream(caller.tenantId, userId), webauthnDecider, command, { metadata: { ...callerMetadata(caller), userId } });

  /** Checks an assertion's signature, origin, RP and user handle. The counter is left to the decider. */
  const checkAssertion = async (
    caller: CallerInfo,
    rp: RelyingParty,
    credential: AuthenticationResponseJSON,
    challenge: string,
    stored: StoredCredential,
    userId: string,
    requireUserVerification: boolean,
  ) => {
    const handle = credential.response.userHandle;
    if (handle && handle !== userHandleOf(caller.tenantId, userId).toString('base64url')) return { verified: false } as const;
    try {
      const res = await verifyAuthenticationResponse({
        response: credential,
        expectedChallenge: challenge,
        expectedOrigin: rp.origins,
        expectedRPID: rp.id,
        credential: { id: stored.credentialId, publicKey: Buffer.from(stored.publicKey, 'base64url'), counter: 0, transports: stored.transports },
        requireUserVerification,
      });
      if (!res.verified) return { verified: false } as const;
      return { verified: true, newCounter: res.authenticationInfo.newCounter, backedUp: res.authenticationInfo.credentialBackedUp } as const;
    } catch {
      return { verified: false } as const;
    }
  };

  const ownerOf = async (tenantId: string, credentialId: string) => (await loadState(store, ownerStream(tenantId, credentialId), credentialOwnerDecider)).state.owner;

  return {
    registerOptions: async (caller: CallerInfo, input: { userId: string; userName?: string; displayName?: string; rp: RelyingParty }) => {
      const rp = requireRp(input.rp);
      const userId = requireUserId(input.userId);
      const { state } = await loadState(store, userStream(caller.tenantId, userId), webauthnDecider);
      const publicKey = await generateRegistrationOptions({
        rpName: rp.name || rp.id,
        rpID: rp.id,
        userName: input.userName || userId,
        userDisplayName: input.displayName || input.userName || userId,
        userID: userHandleOf(caller.tenantId, userId),
        timeout: CHALLENGE_TTL_MS,
        attestationType: 'none',
        excludeCredentials: Object.values(state.credentials).map((c) => ({ id: c.credentialId, transports: c.transports })),
        authenticatorSelection: { residentKey: 'preferred', userVerification: 'preferred' },
        supportedAlgorithmIDs: SUPPORTED_ALGORITHM_IDS,
      });
      const res = await runUser(caller, userId, { type: 'IssueChallenge', data: { kind: 'registration', challenge: publicKey.challenge, now: now() } });
      return { publicKey, position: res.position };
    },

    registerVerify: async (
      caller: CallerInfo,
      input: { userId: string; credential: unknown; deviceName?: string; rp: RelyingParty },
    ) => {
      const rp = requireRp(input.rp);
      const userId = requireUserId(input.userId);
      const credential = registrationCredentialOf(input.credential);
      const challenge = challengeOf(credential);
      const at = now();
      const { state } = await loadState(store, userStream(caller.tenantId, userId), webauthnDecider);
      let outcome: { verified: true; credential: StoredCredential } | { verified: false } = { verified: false };
      const pending = Object.hasOwn(state.challenges, challenge) ? state.challenges[challenge] : undefined;
      if (pending?.kind === 'registration' && at < pending.expiresAt) {
        try {
          const res = await verifyRegistrationResponse({
            response: credential,
            expectedChallenge: challenge,
            expectedOrigin: rp.origins,
            expectedRPID: rp.id,
            requireUserVerification: false,
            supportedAlgorithmIDs: SUPPORTED_ALGORITHM_IDS,
          });
          const owner = res.verified ? await ownerOf(caller.tenantId, res.registrationInfo.credential.id) : null;
          if (res.verified && (owner === null || owner.userKey === userKeyOf(userId))) {
            const info = res.registrationInfo;
            outcome = {
              verified: true,
              credential: {
                credentialId: info.credential.id,
                publicKey: Buffer.from(info.credential.publicKey).toString('base64url'),
                counter: info.credential.counter,
                transports: info.credential.transports ?? [],
                aaguid: info.aaguid,
                backedUp: info.credentialBackedUp,
                deviceType: info.credentialDeviceType,
                deviceName: (input.deviceName || 'Passkey').slice(0, 100),
              },
            };
          }
        } catch {
          // verified stays false; the challenge is consumed all the same
        }
      }
      const res = await runUser(caller, userId, { type: 'CompleteRegistration', data: { challenge, now: at, outcome } });
      const registered = res.events.find((e) => e.type === 'CredentialRegistered');
      if (!registered) return { verified: false, credentialId: '', position: res.position };
      const owner = await handleCommand(
        store,
        ownerStream(caller.tenantId, registered.data.credentialId),
        credentialOwnerDecider,
        {
          type: 'RecordCredentialOwner',
          data: { credentialId: registered.data.credentialId, userKey: userKeyOf(userId), userIdEnc: keyring.encrypt('webauthn-user', userId), now: at },
        },
        { metadata: callerMetadata(caller) },
      );
      return { verified: true, credentialId: registered.data.credentialId, position: Math.max(res.position, owner.position) };
    },

    /** Without userId: a discoverable (username-less) sign-in with empty allowCredentials. */
    authenticateOptions: async (caller: CallerInfo, input: { userId?: string; rp: RelyingParty }) => {
      const rp = requireRp(input.rp);
      if (!input.userId) {
        const publicKey = await generateAuthenticationOptions({ rpID: rp.id, allowCredentials: [], timeout: CHALLENGE_TTL_MS, userVerification: 'required' });
        const res = await handleCommand(
          store,
          challengeStream(caller.tenantId, publicKey.challenge),
          discoverableChallengeDecider,
          { type: 'IssueDiscoverableChallenge', data: { challenge: publicKey.challenge, now: now() } },
          { metadata: callerMetadata(caller) },
        );
        return { publicKey, position: res.position };
      }
      const userId = requireUserId(input.userId);
      const { state } = await loadState(store, userStream(caller.tenantId, userId), webauthnDecider);
      const publicKey = await generateAuthenticationOptions({
        rpID: rp.id,
        allowCredentials: Object.values(state.credentials).map((c) => ({ id: c.credentialId, transports: c.transports })),
        timeout: CHALLENGE_TTL_MS,
        userVerification: 'preferred',
      });
      const res = await runUser(caller, userId, { type: 'IssueChallenge', data: { kind: 'authentication', challenge: publicKey.challenge, now: now() } });
      return { publicKey, position: res.position };
    },

    /** userId may be omitted after discoverable options; the result then names the user. */
    authenticateVerify: async (caller: CallerInfo, input: { userId?: string; credential: unknown; rp: RelyingParty }) => {
      const rp = requireRp(input.rp);
      const credential = authenticationCredentialOf(input.credential);
      const challenge = challengeOf(credential);
      const credentialId = credential.id;
      const at = now();
      const failed = (position: number) => ({ verified: false, credentialId, userId: '', position });

      const discoverable = await loadState(store, challengeStream(caller.tenantId, challenge), discoverableChallengeDecider);
      if (discoverable.revision >= 0) {
        // Username-less: find the user from the credential, check, then claim the challenge
        // before recording the use, so two racing responses cannot both pass.
        const owner = await ownerOf(caller.tenantId, credentialId);
        const ownerId = owner ? keyring.decrypt('webauthn-user', owner.userIdEnc) : null;
        const stored = ownerId ? credentialIn((await loadState(store, userStream(caller.tenantId, ownerId), webauthnDecider)).state, credentialId) : undefined;
        const check =
          ownerId && stored && (!input.userId || input.userId === ownerId)
            ? await checkAssertion(caller, rp, credential, challenge, stored, ownerId, true)
            : ({ verified: false } as const);
        const claim = await handleCommand(
          store,
          challengeStream(caller.tenantId, challenge),
          discoverableChallengeDecider,
          { type: 'ClaimDiscoverableChallenge', data: { challenge, signatureValid: check.verified, now: at } },
          { metadata: callerMetadata(caller) },
        );
        if (!check.verified || !ownerId) return failed(claim.position);
        const res = await runUser(caller, ownerId, { type: 'CompleteAuthentication', data: { challenge: null, credentialId, now: at, outcome: check } });
        const used = res.events.some((e) => e.type === 'CredentialUsed');
        return used ? { verified: true, credentialId, userId: ownerId, position: res.position } : failed(res.position);
      }

      if (!input.userId) throw new DomainError('CHALLENGE_EXPIRED', 'no pending authentication challenge matches the response; request new options');
      const userId = requireUserId(input.userId);
      const { state } = await loadState(store, userStream(caller.tenantId, userId), webauthnDecider);
      const pending = Object.hasOwn(state.challenges, challenge) ? state.challenges[challenge] : undefined;
      const stored = credentialIn(state, credentialId);
      const check =
        pending?.kind === 'authentication' && at < pending.expiresAt && stored
          ? await checkAssertion(caller, rp, credential, challenge, stored, userId, false)
          : ({ verified: false } as const);
      const res = await runUser(caller, userId, { type: 'CompleteAuthentication', data: { challenge, credentialId, now: at, outcome: check } });
      const used = res.events.some((e) => e.type === 'CredentialUsed');
      return used ? { verified: true, credentialId, userId, position: res.position } : failed(res.position);
    },

    listCredentials: async (caller: CallerInfo, input: { userId: string }) => {
      const { state } = await loadState(store, userStream(caller.tenantId, input.userId), webauthnDecider);
      return { credentials: Object.values(state.credentials).sort((a, b) => a.createdAt - b.createdAt).map(credentialView) };
    },

    removeCredential: async (caller: CallerInfo, input: { userId: string; credentialId: string }) => {
      if (!input.credentialId) throw new DomainError('INVALID_ARGUMENT', 'credentialId is required');
      const res = await runUser(caller, input.userId, { type: 'RemoveCredential', data: { credentialId: toBase64Url(input.credentialId), now: now() } });
      return { removed: true, position: res.position };
    },
  };
};
