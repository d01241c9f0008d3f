// LimitsService: a tenant's support desk resets a user's limits (src/app/limits.ts).
import type { ServiceImpl } from '@connectrpc/connect';
import { callerMetadata } from '../../app/caller.ts';
import type { LimitsReset } from '../../app/limits.ts';
import type { ReadYourWrites } from '../../app/read-models.ts';
import type { LimitsService } from '../../gen/securekey/v1/limits_pb.js';
import { callerOf } from './common.ts';

export const createLimitsImpl = (reset: LimitsReset, readModels: ReadYourWrites): ServiceImpl<typeof LimitsService> => ({
  resetLimits: async (req, ctx) => {
    const caller = callerOf(ctx);
    // Answered once the counters (the admin views) include the reset; the next send's caps read
    // the destination's own stream, where the reset is.
    const r = await readModels.command(['otp-counters'], () =>
      reset(caller.tenantId, { phone: req.phone || undefined, email: req.email || undefined, userId: req.userId || undefined }, { settings: caller.tenant.settings, metadata: callerMetadata(caller) }),
    );
    return { phoneReset: r.phoneReset, emailReset: r.emailReset, totpReset: r.totpReset };
  },
});
