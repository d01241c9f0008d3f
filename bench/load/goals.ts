// The goals of the hot-path work (issue 13), checked against one run's figures: each line says
// met, NOT met, or not measured (scenario not run, or its row had errors), with the figures.
import type { Report, ScenarioResult } from './report.ts';

type Verdict = { goal: string; status: 'met' | 'NOT met' | 'not measured'; detail: string };

const f = (x: number, d = 0) => (Number.isFinite(x) ? x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }) : 'n/a');

export const checkGoals = (r: Report): Verdict[] => {
  const row = (name: string) => r.results.find((s) => s.name === name);
  const usable = (s: ScenarioResult | undefined): s is ScenarioResult => !!s && s.errors === 0;
  const out: Verdict[] = [];
  const check = (goal: string, ok: boolean | undefined, detail: string) => out.push({ goal, status: ok === undefined ? 'not measured' : ok ? 'met' : 'NOT met', detail });

  for (const [name, minRatio, maxP99] of [['totp-verify', 0.2, 20], ['otp-verify', 0.2, 20], ['otp-send', 0.1, 30]] as const) {
    const s = row(name);
    const measured = usable(s) && s.ratio !== null;
    check(
      `${name}: ≥ ${minRatio} × raw, p99 ≤ ${maxP99} ms`,
      measured ? s.ratio! >= minRatio && s.p99Ms <= maxP99 : undefined,
      measured ? `${f(s.ratio!, 3)} × raw (${f(s.rps)} req/s), p99 ${f(s.p99Ms, 1)} ms` : 'no raw row, or not run, or errors',
    );
  }
  for (const [grpc, rest] of [['grpc-totp-verify', 'totp-verify'], ['grpc-otp-verify', 'otp-verify']] as const) {
    const g = row(grpc);
    const h = row(rest);
    check(`${grpc}: at least the req/s of ${rest}`, usable(g) && usable(h) ? g.rps >= h.rps : undefined, usable(g) && usable(h) ? `${f(g.rps)} vs ${f(h.rps)} req/s` : 'both rows needed, without errors');
  }
  const st = r.store;
  check(
    'durable appends ≥ 0.75 × raw node:sqlite batched inserts (same synchronous)',
    st ? st.ratio >= 0.75 : undefined,
    st ? `${f(st.ratio, 2)} (${f(st.storeAppendsPerSec)} vs ${f(st.rawEventsPerSec)} events/s, ${st.concurrency} appenders / rows per batch)` : 'scenario append not run',
  );
  const halves = r.results.filter((s) => s.lag?.half && Number.isFinite(s.lag.half.delayP99Ms));
  check(
    'projection delay (commit → read model) p99 ≤ 10 ms at half the maximum load',
    halves.length ? halves.every((s) => s.lag!.half!.delayP99Ms <= 10) : undefined,
    halves.length ? halves.map((s) => `${s.name} at ${f(s.lag!.half!.rps)} req/s: ≤ ${f(s.lag!.half!.delayP99Ms)} ms`).join('; ') : 'no half-load phase run (otp-send, otp-verify; --half-load)',
  );
  const rp = r.replay;
  check(
    'replay of every read model ≥ 200k events/s with ≥ 1M events',
    rp ? rp.eventsPerSec >= 200_000 && rp.events >= 1_000_000 : undefined,
    rp ? `${f(rp.eventsPerSec)} events/s over ${f(rp.events)} events (${f(rp.seconds, 1)} s)` : 'scenario replay not run',
  );
  const servers = r.results.filter((s) => !s.name.startsWith('raw'));
  const peaks = [...servers.map((s) => ({ what: s.name, mb: s.peakRssMb })), ...(rp ? [{ what: `server on ${f(rp.events)} events under load`, mb: rp.serverPeakRssMb }] : [])];
  check(
    'RSS ≤ 250 MB (1M events in the store, under full load)',
    rp ? peaks.every((p) => p.mb <= 250) : undefined,
    peaks.length ? `peak ${peaks.map((p) => `${p.what} ${p.mb}`).join(', ')} MB` : 'nothing measured',
  );
  return out;
};

export const formatGoals = (r: Report) =>
  'Goals (issue 13; ratios within this run):\n' + checkGoals(r).map((v) => `  [${v.status}] ${v.goal}: ${v.detail}`).join('\n');
