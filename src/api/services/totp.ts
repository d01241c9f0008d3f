// TotpService: proto ↔ src/app/totp.ts.
import type { HandlerContext } from '@connectrpc/connect';
import type { TotpService } from '../../app/totp.ts';
import { callerOf, gateVerified, type ChannelDeps } from './common.ts';

export const createTotpImpl = (app: TotpService, deps: ChannelDeps) => ({
  setupTotp: async (req: { userId: string; accountName: string; issuer: string; replace: boolean }, ctx: HandlerContext) => {
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
  verifyTotp: async (req: { userId: string; token: string; code: string; purpose: string }, ctx: HandlerContext) => {
    const caller = callerOf(ctx);
    const r = await app.verify(caller, { userId: req.userId, token: req.token || req.code });
    if (r.verified) await gateVerified(deps, caller, r.position, { userId: req.userId, channel: 'totp', purpose: req.purpose || undefined });
    else await deps.settle(r.position);
    return { verified: r.verified, retryAfter: r.retryAfter };
  },
  deleteTotp: async (req: { userId: string }, ctx: HandlerContext) => {
    const r = await app.remove(callerOf(ctx), { userId: req.userId });
    await deps.settle(r.position);
    return { deleted: true };
  },
});
