// Username-less (discoverable) sign-in: options carry a tenant-level challenge and no credential
// list; the assertion names its credential, whose recorded owner is the user. The challenge is
// claimed before the use is recorded, so two racing responses cannot both pass.
import { generateAuthenticationOptions } from './library.ts';
import { discoverableChallengeDecider } from '../../domain/webauthn/discoverable.ts';
import { CHALLENGE_TTL_MS } from '../../domain/webauthn/types.ts';
import { type CallerInfo, callerMetadata } from '../caller.ts';
import type { SignInResult } from './authentication.ts';
import { credentialIn, type RelyingParty, requireRp, type WebAuthnContext } from './context.ts';
import { authenticationCredentialOf, challengeOf } from './credential-json.ts';

export const createDiscoverableSignIn = (ctx: WebAuthnContext) => {
  const claim = (caller: CallerInfo, challenge: string, signatureValid: boolean, now: number) =>
    ctx.events.handle(ctx.challengeStream(caller.tenantId, challenge), discoverableChallengeDecider, { type: 'ClaimDiscoverableChallenge', data: { challenge, signatureValid, now } }, { metadata: callerMetadata(caller) });

  return {
    options: async (caller: CallerInfo, input: { rp: RelyingParty }) => {
      const rp = requireRp(input.rp);
      const publicKey = await generateAuthenticationOptions({ rpID: rp.id, allowCredentials: [], timeout: CHALLENGE_TTL_MS, userVerification: 'required' });
      const res = await ctx.events.handle(
        ctx.challengeStream(caller.tenantId, publicKey.challenge),
        discoverableChallengeDecider,
        { type: 'IssueDiscoverableChallenge', data: { challenge: publicKey.challenge, now: ctx.now() } },
        { metadata: callerMetadata(caller), newStream: true },
      );
      return { publicKey, position: res.position };
    },

    /** Whether the credential JSON answers a discoverable challenge of the tenant. */
    answers: async (tenantId: string, credential: unknown) =>
      (await ctx.events.load(ctx.challengeStream(tenantId, challengeOf(authenticationCredentialOf(credential))), discoverableChallengeDecider)).revision >= 0,

    /** userId, when given, must be the credential's owner. */
    verify: async (caller: CallerInfo, input: { userId?: string; credential: unknown; rp: RelyingParty }): Promise<SignInResult> => {
      const rp = requireRp(input.rp);
      const credential = authenticationCredentialOf(input.credential);
      const challenge = challengeOf(credential);
      const credentialId = credential.id;
      const at = ctx.now();
      const owner = await ctx.ownerOf(caller.tenantId, credentialId);
      const ownerId = ctx.ownerIdOf(owner);
      const stored = ownerId ? credentialIn(await ctx.loadUser(caller.tenantId, ownerId), credentialId) : undefined;
      const check =
        ownerId && stored && (!input.userId || input.userId === ownerId)
          ? await ctx.checkAssertion({ tenantId: caller.tenantId, rp, credential, challenge, stored, userId: ownerId, requireUserVerification: true })
          : ({ verified: false } as const);
      const claimed = await claim(caller, challenge, check.verified, at);
      if (!check.verified || !ownerId) return { verified: false, credentialId, userId: '', position: claimed.position };
      const res = await ctx.runUser(caller, ownerId, { type: 'CompleteAuthentication', data: { challenge: null, credentialId, now: at, outcome: check } });
      const used = res.events.some((e) => e.type === 'CredentialUsed');
      return { verified: used, credentialId, userId: used ? ownerId : '', position: res.position };
    },
  };
};
