// WebAuthnService: proto ↔ src/app/webauthn/. Accepts the browser credential at the top level
// (id, rawId, type, response) or wrapped as { userId, credential: {...} } — both shapes of the seed.
import type { JsonObject } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import type { ServiceImpl } from '@connectrpc/connect';
import type { RelyingParty, WebAuthnService as WebAuthnApp } from '../../app/webauthn/index.ts';
import { DomainError } from '../../domain/errors.ts';
import type { RegisterVerifyRequest, WebAuthnService } from '../../gen/securekey/v1/webauthn_pb.js';
import type { Caller } from '../context.ts';
import { callerOf, type ChannelDeps, structOf } from './common.ts';

/** The fields both verify requests share (RegisterVerifyRequest and AuthenticateVerifyRequest). */
type CredentialFields = Pick<RegisterVerifyRequest, 'id' | 'rawId' | 'type' | 'response' | 'clientExtensionResults' | 'authenticatorAttachment' | 'credential'>;


/** The browser credential as JSON, from either body shape (the app checks it). */
const credentialOf = (req: CredentialFields): JsonObject => {
  if (req.credential && Object.keys(req.credential).length) return req.credential;
  if (!req.id && !req.rawId) throw new DomainError('INVALID_ARGUMENT', 'expected the browser credential: id, rawId, type and response at the top level, or {credential: {...}}');
  if (!req.response) throw new DomainError('INVALID_ARGUMENT', 'response is required (the credential\'s response object)');
  return {
    id: req.id || req.rawId,
    rawId: req.rawId || req.id,
    type: req.type || 'public-key',
    response: req.response,
    clientExtensionResults: req.clientExtensionResults ?? {},
    ...(req.authenticatorAttachment ? { authenticatorAttachment: req.authenticatorAttachment } : {}),
  };
};

export const relyingPartyOf = (caller: Caller, publicUrl: string): RelyingParty => {
  const s = caller.tenant.settings;
  const url = new URL(publicUrl);
  return {
    id: s.webauthnRpId || url.hostname,
    name: s.webauthnRpName || caller.tenant.name,
    origins: s.webauthnOrigins?.length ? s.webauthnOrigins : [url.origin],
  };
};

export const createWebAuthnImpl = (app: WebAuthnApp, deps: ChannelDeps): ServiceImpl<typeof WebAuthnService> => ({
  registerOptions: async (req, ctx) => {
    const caller = callerOf(ctx);
    const r = await app.registerOptions(caller, { userId: req.userId, userName: req.userName || undefined, displayName: req.displayName || undefined, rp: relyingPartyOf(caller, deps.publicUrl) });
    return { publicKey: structOf(r.publicKey) };
  },
  registerVerify: async (req, ctx) => {
    const caller = callerOf(ctx);
    const r = await app.registerVerify(caller, { userId: req.userId, credential: credentialOf(req), deviceName: req.deviceName || undefined, rp: relyingPartyOf(caller, deps.publicUrl) });
    return { verified: r.verified, credentialId: r.credentialId };
  },
  authenticateOptions: async (req, ctx) => {
    const caller = callerOf(ctx);
    const r = await app.authenticateOptions(caller, { userId: req.userId || undefined, rp: relyingPartyOf(caller, deps.publicUrl) });
    return { publicKey: structOf(r.publicKey) };
  },
  authenticateVerify: async (req, ctx) => {
    const caller = callerOf(ctx);
    const r = await deps.gate.verify(caller.tenantId, 'webauthn', async () => ({
      ...(await app.authenticateVerify(caller, { userId: req.userId || undefined, credential: credentialOf(req), rp: relyingPartyOf(caller, deps.publicUrl) })),
      purpose: req.purpose || undefined,
    }));
    return { verified: r.verified, credentialId: r.credentialId, userId: r.userId };
  },
  listCredentials: async (req, ctx) => {
    const r = await app.listCredentials(callerOf(ctx), { userId: req.userId });
    return {
      credentials: r.credentials.map((c) => ({
        credentialId: c.credentialId,
        deviceName: c.deviceName,
        transports: c.transports,
        aaguid: c.aaguid,
        backedUp: c.backedUp,
        createdAt: timestampFromMs(c.createdAt),
        lastUsedAt: c.lastUsedAt === null ? undefined : timestampFromMs(c.lastUsedAt),
      })),
    };
  },
  removeCredential: async (req, ctx) => {
    await app.removeCredential(callerOf(ctx), { userId: req.userId, credentialId: req.credentialId });
    return { removed: true };
  },
});
