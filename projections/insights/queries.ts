// Reading the insights: counts summed into buckets of a chosen step over a range, for one tenant
// or all of them; conversion (verified / started) per channel and bucket; SMS per country.
import type { DatabaseSync } from 'node:sqlite';
import { DomainError } from '../../src/domain/errors.ts';
import { prepared } from '../sql.ts';
import { BUCKET_TABLES, DAY_MS, HOUR_MS } from './index.ts';

/** Steps offered when the caller names none: the finest that keeps a chart legible. */
const STEPS = [HOUR_MS, 3 * HOUR_MS, 6 * HOUR_MS, 12 * HOUR_MS, DAY_MS, 7 * DAY_MS];
const MAX_BUCKETS = 1000;
const DEFAULT_BUCKETS = 200;
export const MAX_RANGE_MS = 400 * DAY_MS;

export type InsightsQuery = {
  /** Undefined: every tenant. */
  tenantId?: string;
  /** Epoch ms; the range is widened to whole steps (UTC). */
  from: number;
  to: number;
  /** A whole number of hours; default: the finest step giving at most 200 buckets. */
  stepMs?: number;
};

export type InsightSeries = { channel: string; metric: string; counts: number[]; total: number };
export type ChannelConversion = { channel: string; started: number; verified: number; conversion: number; conversionPerBucket: number[] };
export type CountryConversion = { country: string; sent: number; verified: number; failed: number; conversion: number };

export type Insights = {
  from: number;
  to: number;
  stepMs: number;
  /** Start of each bucket (epoch ms). */
  buckets: number[];
  series: InsightSeries[];
  channels: ChannelConversion[];
  smsCountries: CountryConversion[];
};

const ratio = (a: number, b: number) => (b > 0 ? a / b : 0);

/** The step a query uses: the caller's (checked) or the default for the range. */
export const stepFor = (from: number, to: number, stepMs?: number): number => {
  if (stepMs) {
    if (!Number.isInteger(stepMs / HOUR_MS) || stepMs <= 0) throw new DomainError('INVALID_ARGUMENT', `stepSeconds: expected a positive multiple of 3600, got ${stepMs / 1000}`);
    if ((to - from) / stepMs > MAX_BUCKETS) throw new DomainError('INVALID_ARGUMENT', `stepSeconds: at most ${MAX_BUCKETS} buckets per range; use a step of at least ${Math.ceil((to - from) / MAX_BUCKETS / HOUR_MS) * 3600} s`);
    return stepMs;
  }
  return STEPS.find((s) => (to - from) / s <= DEFAULT_BUCKETS) ?? STEPS[STEPS.length - 1]!;
};

export const queryInsights = (db: DatabaseSync, q: InsightsQuery): Insights => {
  if (!(q.from < q.to)) throw new DomainError('INVALID_ARGUMENT', 'from: expected a time before to');
  if (q.to - q.from > MAX_RANGE_MS) throw new DomainError('INVALID_ARGUMENT', `to: expected a range of at most ${MAX_RANGE_MS / DAY_MS} days`);
  const stepMs = stepFor(q.from, q.to, q.stepMs);
  const from = Math.floor(q.from / stepMs) * stepMs;
  const to = Math.ceil(q.to / stepMs) * stepMs;
  const n = (to - from) / stepMs;
  const buckets = Array.from({ length: n }, (_, i) => from + i * stepMs);
  const source = stepMs % DAY_MS === 0 ? BUCKET_TABLES[DAY_MS] : BUCKET_TABLES[HOUR_MS];
  const tenant = q.tenantId ?? null;
  const rows = prepared(
    db,
    `SELECT CAST((bucket - ?) / ? AS INTEGER) AS i, channel, country, metric, SUM(n) AS n FROM ${source}
     WHERE bucket >= ? AND bucket < ? AND (? IS NULL OR tenant_id = ?)
     GROUP BY i, channel, country, metric ORDER BY channel, metric`,
  ).all(from, stepMs, from, to, tenant, tenant) as { i: number; channel: string; country: string; metric: string; n: number }[];

  const series = new Map<string, InsightSeries>();
  const countries = new Map<string, CountryConversion>();
  for (const r of rows) {
    const key = `${r.channel}\u0000${r.metric}`;
    let s = series.get(key);
    if (!s) series.set(key, (s = { channel: r.channel, metric: r.metric, counts: new Array<number>(n).fill(0), total: 0 }));
    s.counts[r.i] += r.n;
    s.total += r.n;
    if (r.channel === 'sms') {
      let c = countries.get(r.country);
      if (!c) countries.set(r.country, (c = { country: r.country, sent: 0, verified: 0, failed: 0, conversion: 0 }));
      if (r.metric === 'started') c.sent += r.n;
      else if (r.metric === 'verified') c.verified += r.n;
      else if (r.metric === 'failed' || r.metric === 'locked') c.failed += r.n;
    }
  }
  const channels = [...new Set([...series.values()].map((s) => s.channel))].map((channel): ChannelConversion => {
    const started = series.get(`${channel}\u0000started`);
    const verified = series.get(`${channel}\u0000verified`);
    return {
      channel,
      started: started?.total ?? 0,
      verified: verified?.total ?? 0,
      conversion: ratio(verified?.total ?? 0, started?.total ?? 0),
      conversionPerBucket: buckets.map((_, i) => ratio(verified?.counts[i] ?? 0, started?.counts[i] ?? 0)),
    };
  });
  const smsCountries = [...countries.values()].map((c) => ({ ...c, conversion: ratio(c.verified, c.sent) })).sort((a, b) => b.sent - a.sent || a.country.localeCompare(b.country));
  return { from, to, stepMs, buckets, series: [...series.values()], channels, smsCountries };
};
