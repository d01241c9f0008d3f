// AdminService.GetOtpStats: one UTC day of a tenant's OTP traffic per country and channel
// (sent, delivered, verified, conversion) from the otp-stats read model, so SMS pumping shows.
import type { DatabaseSync } from 'node:sqlite';
import type { ServiceImpl } from '@connectrpc/connect';
import type { AdminService } from '../../gen/securekey/v1/admin_pb.js';
import type { ReadYourWrites } from '../../app/read-models.ts';
import { DomainError } from '../../domain/errors.ts';
import { getOtpStats, utcDay } from '../../../projections/otp-stats/index.ts';
import { getTenant } from '../../../projections/tenants/index.ts';

export type OtpStatsDeps = {
  readDb: () => DatabaseSync;
  /** The stats include every write made before the call. */
  readModels: Pick<ReadYourWrites, 'current'>;
  /** Epoch ms, for "today". Default Date.now. */
  now?: () => number;
};

const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** "YYYY-MM-DD" that names a real calendar day, else INVALID_ARGUMENT. */
const checkDay = (day: string): string => {
  if (!DAY.test(day) || utcDay(Date.parse(`${day}T00:00:00Z`) || 0) !== day) {
    throw new DomainError('INVALID_ARGUMENT', 'day: expected a UTC date as YYYY-MM-DD (e.g. "2025-01-31"), or empty for today');
  }
  return day;
};

export const createOtpStatsImpl = (deps: OtpStatsDeps): Pick<ServiceImpl<typeof AdminService>, 'getOtpStats'> => {
  const now = deps.now ?? Date.now;
  return {
    getOtpStats: async (req) => {
      if (!req.tenantId) throw new DomainError('INVALID_ARGUMENT', 'tenantId is required');
      const day = req.day ? checkDay(req.day) : utcDay(now());
      await deps.readModels.current(['otp-stats']);
      const db = deps.readDb();
      if (!getTenant(db, req.tenantId)) throw new DomainError('TENANT_NOT_FOUND', 'no such tenant');
      const rows = getOtpStats(db, req.tenantId, { fromDay: day, toDay: day });
      return {
        stats: rows.map((r) => ({ country: r.country, channel: r.channel, sent: r.sent, delivered: r.delivered, verified: r.verified, conversion: r.conversion })),
      };
    },
  };
};
