// TotpService: proto ↔ src/app/totp.ts.
import type { ServiceImpl } from '@connectrpc/connect';
import type { TotpService as TotpApp } from '../../app/totp.ts';
import type { TotpService } from '../../gen/securekey/v1/totp_pb.js';
import { callerOf, gateVerified, type ChannelDeps } from './common.ts';

export const createTotpImpl = (app: TotpApp, deps: ChannelDeps): ServiceImpl<typeof TotpService> => ({
  setupTotp: async (req, ctx) => {
    const caller = callerOf(ctx);
    const r = await app.setup(caller, {
      userId: req.userId,
      accountName: req.accountName,
      issuer: req.issuer || undefined,
      defaultIssuer: caller.tenant.settings.totpIssuer || caller.tenant.name,
      replace: req.replace,
    });
    await deps.settle(r.position);
    return { uri: r.uri, qrCodeDataUrl: r.qrCodeDataUrl, secret: r.secret };
  },
  verifyTotp: async (req, ctx) => {
    const caller = callerOf(ctx);
    const r = await app.verify(caller, { userId: req.userId, token: req.token || req.code });
    if (r.verified) await gateVerified(deps, caller, r.position, { userId: req.userId, channel: 'totp', purpose: req.purpose || undefined });
    else await deps.settle(r.position);
    return { verified: r.verified, retryAfter: r.retryAfter };
  },
  deleteTotp: async (req, ctx) => {
    const r = await app.remove(callerOf(ctx), { userId: req.userId });
    await deps.settle(r.position);
    return { deleted: true };
  },
});
