// The passkeys application service: registration, sign-in of a named user, username-less sign-in
// (one module each), and the user's credentials.
import { DomainError } from '../../domain/errors.ts';
import type { WebAuthnState } from '../../domain/webauthn/types.ts';
import type { CallerInfo } from '../caller.ts';
import { createAuthentication } from './authentication.ts';
import { createWebAuthnContext, type RelyingParty, type WebAuthnDeps } from './context.ts';
import { toBase64Url } from './credential-json.ts';
import { createDiscoverableSignIn } from './discoverable.ts';
import { createRegistration } from './registration.ts';

export type { RelyingParty } from './context.ts';

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

export const createWebAuthnService = (deps: WebAuthnDeps) => {
  const ctx = createWebAuthnContext(deps);
  const registration = createRegistration(ctx);
  const authentication = createAuthentication(ctx);
  const discoverable = createDiscoverableSignIn(ctx);

  return {
    registerOptions: registration.options,
    registerVerify: registration.verify,

    /** Without userId: a discoverable (username-less) sign-in with empty allowCredentials. */
    authenticateOptions: (caller: CallerInfo, input: { userId?: string; rp: RelyingParty }) =>
      input.userId ? authentication.options(caller, { userId: input.userId, rp: input.rp }) : discoverable.options(caller, { rp: input.rp }),

    /** userId may be omitted after discoverable options; the result then names the user. */
    authenticateVerify: async (caller: CallerInfo, input: { userId?: string; credential: unknown; rp: RelyingParty }) => {
      if (await discoverable.answers(caller.tenantId, input.credential)) return discoverable.verify(caller, input);
      if (!input.userId) throw new DomainError('CHALLENGE_EXPIRED', 'no pending authentication challenge matches the response; request new options');
      return authentication.verify(caller, { userId: input.userId, credential: input.credential, rp: input.rp });
    },

    listCredentials: async (caller: CallerInfo, input: { userId: string }) => {
      const state = await ctx.loadUser(caller.tenantId, input.userId);
      return { credentials: Object.values(state.credentials).sort((a, b) => a.createdAt - b.createdAt).map(credentialView) };
    },

    removeCredential: async (caller: CallerInfo, input: { userId: string; credentialId: string }) => {
      if (!input.credentialId) throw new DomainError('INVALID_ARGUMENT', 'credentialId is required');
      const res = await ctx.runUser(caller, input.userId, { type: 'RemoveCredential', data: { credentialId: toBase64Url(input.credentialId), now: ctx.now() } });
      return { removed: true, position: res.position };
    },
  };
};
