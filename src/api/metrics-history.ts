// This node's own metrics over time, for the console: every interval, the request-latency
// histogram's buckets are read (call-metrics.ts), and the calls answered since the previous sample
// give that interval's count, errors and p50/p90/p99 (interpolated within buckets, as
// Prometheus' histogram_quantile does); with each read model's lag. The last hour is kept in
// memory. Latency per method since start comes from the same histogram.
import type { Buckets, CallMetrics } from './call-metrics.ts';

export type LatencySummary = { method: string; count: number; p50Ms: number; p90Ms: number; p99Ms: number };
export type MetricsSample = { at: number; requests: number; errors: number; p50Ms: number; p90Ms: number; p99Ms: number; lag: { readModel: string; lag: number }[] };

/** The q-quantile (ms) of a cumulative histogram, linear within its bucket; 0 when empty. */
export const quantileMs = (buckets: Buckets, q: number): number => {
  const bounds = [...buckets.keys()].sort((a, b) => a - b);
  const total = buckets.get(Infinity) ?? 0;
  if (total <= 0) return 0;
  const rank = q * total;
  let prevBound = 0;
  let prevCount = 0;
  for (const le of bounds) {
    const c = buckets.get(le)!;
    if (c >= rank) {
      if (le === Infinity) return prevBound * 1000; // beyond the last bound: its value is unknown
      const within = c - prevCount;
      return (prevBound + (le - prevBound) * (within > 0 ? (rank - prevCount) / within : 0)) * 1000;
    }
    prevBound = le;
    prevCount = c;
  }
  return prevBound * 1000;
};

const minus = (a: Buckets, b: Buckets | undefined): Buckets => new Map([...a].map(([le, c]) => [le, c - (b?.get(le) ?? 0)]));

export const createMetricsHistory = (o: {
  calls: Pick<CallMetrics, 'histograms' | 'errors'>;
  lag: () => Promise<Record<string, { lag: number }>>;
  now: () => number;
  /** Default 10 s; samples kept: one hour's worth. */
  intervalMs?: number;
}) => {
  const intervalMs = o.intervalMs ?? 10_000;
  const keep = Math.max(1, Math.ceil(3_600_000 / intervalMs));
  const samples: MetricsSample[] = [];

  let last: { all: Buckets | undefined; errors: number } = { all: undefined, errors: 0 };
  /** A sample of the interval since the previous one. */
  const measure = async (): Promise<MetricsSample & { state: typeof last }> => {
    const all = o.calls.histograms().get('*') ?? new Map<number, number>();
    const errors = o.calls.errors();
    const d = minus(all, last.all);
    const lag = Object.entries(await o.lag().catch(() => ({}))).map(([readModel, h]) => ({ readModel, lag: h.lag }));
    return { at: o.now(), requests: d.get(Infinity) ?? 0, errors: errors - last.errors, p50Ms: quantileMs(d, 0.5), p90Ms: quantileMs(d, 0.9), p99Ms: quantileMs(d, 0.99), lag, state: { all, errors } };
  };
  const take = async () => {
    const { state, ...sample } = await measure();
    last = state;
    samples.push(sample);
    if (samples.length > keep) samples.splice(0, samples.length - keep);
  };
  const timer = setInterval(() => void take().catch(() => {}), intervalMs);
  timer.unref();
  void take().catch(() => {});

  return {
    /** The kept samples, then one for the interval since the last of them. */
    samples: async (): Promise<MetricsSample[]> => {
      const { state: _state, ...current } = await measure();
      return [...samples, current];
    },
    /** Since start, per method (busiest first) and overall ('*'). */
    latency: async (): Promise<LatencySummary[]> =>
      [...o.calls.histograms()]
        .map(([method, b]) => ({ method, count: b.get(Infinity) ?? 0, p50Ms: quantileMs(b, 0.5), p90Ms: quantileMs(b, 0.9), p99Ms: quantileMs(b, 0.99) }))
        .sort((a, b) => (a.method === '*' ? -1 : b.method === '*' ? 1 : b.count - a.count)),
    stop: () => clearInterval(timer),
  };
};

export type MetricsHistory = ReturnType<typeof createMetricsHistory>;
