// AdminService.GetOtpStats: one UTC day of a tenant's OTP traffic per country and channel
// (sent, delivered, verified, conversion) from the otp-stats read model, so SMS pumping shows.
// AdminService.GetInsights: counts over a range in time buckets, per channel and metric, for a
// tenant or all of them, from the insights read model.
import type { DatabaseSync } from 'node:sqlite';
import { timestampFromMs, timestampMs } from '@bufbuild/protobuf/wkt';
import type { ServiceImpl } from '@connectrpc/connect';
import type { AdminService } from '../../gen/securekey/v1/admin_pb.js';
import type { ReadYourWrites } from '../../app/read-models.ts';
import { DomainError } from '../../domain/errors.ts';
import { getOtpStats, utcDay } from '../../../projections/otp-stats/index.ts';
import { getTenant } from '../../../projections/tenants/index.ts';
import { queryInsights } from '../../../projections/insights/queries.ts';
import { DAY_MS } from '../../../projections/insights/index.ts';

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

export const createOtpStatsImpl = (deps: OtpStatsDeps): Pick<ServiceImpl<typeof AdminService>, 'getOtpStats' | 'getInsights'> => {
  const now = deps.now ?? Date.now;
  return {
    getInsights: async (req) => {
      const to = req.to ? timestampMs(req.to) : now();
      const from = req.from ? timestampMs(req.from) : to - DAY_MS;
      if (req.stepSeconds < 0) throw new DomainError('INVALID_ARGUMENT', `stepSeconds: expected a positive multiple of 3600, got ${req.stepSeconds}`);
      await deps.readModels.current(['insights', 'tenants']);
      const db = deps.readDb();
      if (req.tenantId && !getTenant(db, req.tenantId)) throw new DomainError('TENANT_NOT_FOUND', 'no such tenant');
      const r = queryInsights(db, { tenantId: req.tenantId || undefined, from, to, stepMs: req.stepSeconds * 1000 || undefined });
      return {
        from: timestampFromMs(r.from),
        to: timestampFromMs(r.to),
        stepSeconds: r.stepMs / 1000,
        buckets: r.buckets.map(timestampFromMs),
        series: r.series,
        channels: r.channels,
        smsCountries: r.smsCountries,
      };
    },
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
