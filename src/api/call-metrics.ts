// API call metrics, counted and timed without allocating per call: each (method, transport) gets
// its counters the first time it is seen — the latency histogram's buckets in a Float64Array, a
// count per result code — and a call only adds to numbers. The Prometheus text (/metrics) and the
// console's history (metrics-history.ts) read them when asked. prom-client, which keeps the other
// metrics, builds a label hash string and an object or two on every inc/observe.

/** Upper bounds (seconds) of the latency histogram's buckets; +Inf follows. */
export const DURATION_BUCKETS: readonly number[] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

const REQUESTS = 'securekey_requests_total';
const DURATION = 'securekey_request_duration_seconds';

type Series = {
  method: string;
  transport: string;
  /** Calls per bucket (not cumulative), the last one beyond every bound. */
  buckets: Float64Array;
  sum: number;
  count: number;
  codes: Map<string, number>;
};

/** Cumulative counts per upper bound (seconds), +Inf last. */
export type Buckets = Map<number, number>;

const label = (v: string) => v.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`));

export const createCallMetrics = () => {
  const byMethod = new Map<string, Map<string, Series>>();
  const all: Series[] = [];
  const seriesOf = (method: string, transport: string): Series => {
    let byTransport = byMethod.get(method);
    if (!byTransport) byMethod.set(method, (byTransport = new Map()));
    let s = byTransport.get(transport);
    if (!s) {
      s = { method, transport, buckets: new Float64Array(DURATION_BUCKETS.length + 1), sum: 0, count: 0, codes: new Map() };
      byTransport.set(transport, s);
      all.push(s);
    }
    return s;
  };

  return {
    /** One call answered with `code` ("OK" or an error code). */
    count: (method: string, transport: string, code: string) => {
      const s = seriesOf(method, transport);
      s.codes.set(code, (s.codes.get(code) ?? 0) + 1);
    },
    /** One call's latency. */
    observe: (method: string, transport: string, seconds: number) => {
      const s = seriesOf(method, transport);
      let i = 0;
      while (i < DURATION_BUCKETS.length && seconds > DURATION_BUCKETS[i]!) i++;
      s.buckets[i]!++;
      s.sum += seconds;
      s.count++;
    },
    /** Cumulative latency buckets per method since start, and over every method ('*'). */
    histograms: (): Map<string, Buckets> => {
      const out = new Map<string, Buckets>();
      for (const s of all) {
        if (s.count === 0) continue;
        for (const m of [s.method, '*']) {
          const b = out.get(m) ?? new Map<number, number>();
          let cumulative = 0;
          for (let i = 0; i <= DURATION_BUCKETS.length; i++) {
            cumulative += s.buckets[i]!;
            const le = DURATION_BUCKETS[i] ?? Infinity;
            b.set(le, (b.get(le) ?? 0) + cumulative);
          }
          out.set(m, b);
        }
      }
      return out;
    },
    /** Calls answered with an error since start. */
    errors: (): number => {
      let n = 0;
      for (const s of all) for (const [code, c] of s.codes) if (code !== 'OK') n += c;
      return n;
    },
    /** Both metrics in the Prometheus text format. */
    text: (): string => {
      const lines = [`# HELP ${REQUESTS} API calls by method, transport and result code`, `# TYPE ${REQUESTS} counter`];
      for (const s of all) {
        for (const [code, c] of s.codes) lines.push(`${REQUESTS}{method="${label(s.method)}",transport="${label(s.transport)}",code="${label(code)}"} ${c}`);
      }
      lines.push('', `# HELP ${DURATION} API call latency by method`, `# TYPE ${DURATION} histogram`);
      for (const s of all) {
        if (s.count === 0) continue;
        const labels = `method="${label(s.method)}",transport="${label(s.transport)}"`;
        let cumulative = 0;
        for (let i = 0; i <= DURATION_BUCKETS.length; i++) {
          cumulative += s.buckets[i]!;
          lines.push(`${DURATION}_bucket{le="${DURATION_BUCKETS[i] ?? '+Inf'}",${labels}} ${cumulative}`);
        }
        lines.push(`${DURATION}_sum{${labels}} ${s.sum}`, `${DURATION}_count{${labels}} ${s.count}`);
      }
      return lines.join('\n') + '\n';
    },
  };
};

export type CallMetrics = ReturnType<typeof createCallMetrics>;
