// Passkey sign-in of a named user: options list the user's credentials; the assertion is checked
// against the user's pending challenge and stored credential, and the decider records the use
// (or a suspected clone) and consumes the challenge.
import { generateAuthenticationOptions } from './library.ts';
import { CHALLENGE_TTL_MS } from '../../domain/webauthn/types.ts';
import type { CallerInfo } from '../caller.ts';
import { requireUserId } from '../user-id.ts';
import { credentialIn, type RelyingParty, requireRp, type WebAuthnContext } from './context.ts';
import { authenticationCredentialOf, challengeOf } from './credential-json.ts';

export type SignInResult = { verified: boolean; credentialId: string; userId: string; position: number };

export const createAuthentication = (ctx: WebAuthnContext) => ({
  options: async (caller: CallerInfo, input: { userId: string; rp: RelyingParty }) => {
    const rp = requireRp(input.rp);
    const userId = requireUserId(input.userId);
    const state = await ctx.loadUser(caller.tenantId, userId);
    const publicKey = await generateAuthenticationOptions({
      rpID: rp.id,
      allowCredentials: Object.values(state.credentials).map((c) => ({ id: c.credentialId, transports: c.transports })),
      timeout: CHALLENGE_TTL_MS,
      userVerification: 'preferred',
    });
    const res = await ctx.runUser(caller, userId, { type: 'IssueChallenge', data: { kind: 'authentication', challenge: publicKey.challenge, now: ctx.now() } });
    return { publicKey, position: res.position };
  },

  verify: async (caller: CallerInfo, input: { userId: string; credential: unknown; rp: RelyingParty }): Promise<SignInResult> => {
    const rp = requireRp(input.rp);
    const credential = authenticationCredentialOf(input.credential);
    const challenge = challengeOf(credential);
    const credentialId = credential.id;
    const at = ctx.now();
    const userId = requireUserId(input.userId);
    const state = await ctx.loadUser(caller.tenantId, userId);
    const pending = Object.hasOwn(state.challenges, challenge) ? state.challenges[challenge] : undefined;
    const stored = credentialIn(state, credentialId);
    const check =
      pending?.kind === 'authentication' && at < pending.expiresAt && stored
        ? await ctx.checkAssertion({ tenantId: caller.tenantId, rp, credential, challenge, stored, userId, requireUserVerification: false })
        : ({ verified: false } as const);
    const res = await ctx.runUser(caller, userId, { type: 'CompleteAuthentication', data: { challenge, credentialId, now: at, outcome: check } });
    const used = res.events.some((e) => e.type === 'CredentialUsed');
    return { verified: used, credentialId, userId: used ? userId : '', position: res.position };
  },
});
