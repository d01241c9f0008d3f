// Passkey registration: options (a registration challenge for the user), then the browser's
// credential checked, its challenge consumed whatever the outcome, and the credential's owner
// recorded so that a username-less sign-in can find the user.
import { generateRegistrationOptions, verifyRegistrationResponse } from './library.ts';
import { credentialOwnerDecider } from '../../domain/webauthn/discoverable.ts';
import { CHALLENGE_TTL_MS, type StoredCredential } from '../../domain/webauthn/types.ts';
import { type CallerInfo, callerMetadata } from '../caller.ts';
import { MAX_LENGTH, textField } from '../input.ts';
import { requireUserId } from '../user-id.ts';
import { type RelyingParty, requireRp, SUPPORTED_ALGORITHM_IDS, type WebAuthnContext } from './context.ts';
import { challengeOf, registrationCredentialOf } from './credential-json.ts';

export const createRegistration = (ctx: WebAuthnContext) => ({
  options: async (caller: CallerInfo, input: { userId: string; userName?: string; displayName?: string; rp: RelyingParty }) => {
    const rp = requireRp(input.rp);
    const userId = requireUserId(input.userId);
    const state = await ctx.loadUser(caller.tenantId, userId);
    const publicKey = await generateRegistrationOptions({
      rpName: rp.name || rp.id,
      rpID: rp.id,
      userName: textField('userName', input.userName, MAX_LENGTH.accountName) || userId,
      userDisplayName: textField('displayName', input.displayName, MAX_LENGTH.displayName) || input.userName || userId,
      userID: ctx.userHandleOf(caller.tenantId, userId),
      timeout: CHALLENGE_TTL_MS,
      attestationType: 'none',
      excludeCredentials: Object.values(state.credentials).map((c) => ({ id: c.credentialId, transports: c.transports })),
      authenticatorSelection: { residentKey: 'preferred', userVerification: 'preferred' },
      supportedAlgorithmIDs: SUPPORTED_ALGORITHM_IDS,
    });
    const res = await ctx.runUser(caller, userId, { type: 'IssueChallenge', data: { kind: 'registration', challenge: publicKey.challenge, now: ctx.now() } });
    return { publicKey, position: res.position };
  },

  verify: async (caller: CallerInfo, input: { userId: string; credential: unknown; deviceName?: string; rp: RelyingParty }) => {
    const rp = requireRp(input.rp);
    const userId = requireUserId(input.userId);
    const credential = registrationCredentialOf(input.credential);
    const challenge = challengeOf(credential);
    const at = ctx.now();
    const userKey = await ctx.userKeyOf(caller.tenantId, userId);
    const state = await ctx.loadUser(caller.tenantId, userId);
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
        const owner = res.verified ? await ctx.ownerOf(caller.tenantId, res.registrationInfo.credential.id) : null;
        if (res.verified && (owner === null || owner.userKey === userKey)) {
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
    const res = await ctx.runUser(caller, userId, { type: 'CompleteRegistration', data: { challenge, now: at, outcome } });
    const registered = res.events.find((e) => e.type === 'CredentialRegistered');
    if (!registered) return { verified: false, credentialId: '', position: res.position };
    const owner = await ctx.events.handle(
      ctx.ownerStream(caller.tenantId, registered.data.credentialId),
      credentialOwnerDecider,
      { type: 'RecordCredentialOwner', data: { credentialId: registered.data.credentialId, userKey, userId, now: at } },
      { metadata: callerMetadata(caller) },
    );
    return { verified: true, credentialId: registered.data.credentialId, position: Math.max(res.position, owner.position) };
  },
});
