// TotpService: proto ↔ src/app/totp.ts.
import type { ServiceImpl } from '@connectrpc/connect';
import type { TotpService as TotpApp } from '../../app/totp.ts';
import type { TotpService } from '../../gen/securekey/v1/totp_pb.js';
import { callerOf, type ChannelDeps } from './common.ts';

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
    return { uri: r.uri, qrCodeDataUrl: r.qrCodeDataUrl, secret: r.secret };
  },
  verifyTotp: async (req, ctx) => {
    const caller = callerOf(ctx);
    const r = await deps.gate.verify(caller.tenantId, 'totp', async () => ({
      ...(await app.verify(caller, { userId: req.userId, token: req.token || req.code })),
      userId: req.userId,
      purpose: req.purpose || undefined,
    }));
    return { verified: r.verified, retryAfter: r.retryAfter };
  },
  deleteTotp: async (req, ctx) => {
    await app.remove(callerOf(ctx), { userId: req.userId });
    return { deleted: true };
  },
});
