// RecoveryService: proto ↔ src/app/recovery.ts. Verification runs through the MFA gate with
// channel "recovery"; the set's size is the tenant setting recoveryCodeCount.
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import type { ServiceImpl } from '@connectrpc/connect';
import type { RecoveryService as RecoveryApp } from '../../app/recovery.ts';
import { integerSetting } from '../../domain/tenant/settings.ts';
import type { RecoveryService } from '../../gen/securekey/v1/recovery_pb.js';
import { callerOf, type ChannelDeps } from './common.ts';

export const createRecoveryImpl = (app: RecoveryApp, deps: ChannelDeps): ServiceImpl<typeof RecoveryService> => ({
  generateRecoveryCodes: async (req, ctx) => {
    const caller = callerOf(ctx);
    const r = await app.generate(caller, { userId: req.userId, count: integerSetting(caller.tenant.settings, 'recoveryCodeCount'), replace: req.replace });
    return { codes: r.codes, remaining: r.codes.length };
  },
  verifyRecoveryCode: async (req, ctx) => {
    const caller = callerOf(ctx);
    const r = await deps.gate.verify(caller.tenantId, 'recovery', () => app.verify(caller, { userId: req.userId, code: req.code, purpose: req.purpose }));
    return { verified: r.verified, remaining: r.remaining, retryAfter: r.retryAfter };
  },
  getRecoveryStatus: async (req, ctx) => {
    const r = await app.status(callerOf(ctx), { userId: req.userId });
    return { enrolled: r.enrolled, remaining: r.remaining, total: r.total, generatedAt: r.enrolled ? timestampFromMs(r.generatedAt) : undefined };
  },
  deleteRecoveryCodes: async (req, ctx) => {
    await app.remove(callerOf(ctx), { userId: req.userId });
    return { deleted: true };
  },
});
