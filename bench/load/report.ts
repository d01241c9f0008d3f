// The report: a table on stdout, loud warnings for rows that measured errors, the JSON record and
// an SVG chart (throughput and latency per scenario, log scales) under bench/results/.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ReplayBenchResult } from './replay.ts';
import type { StoreBenchResult } from './store.ts';

export type ScenarioResult = {
  name: string;
  title: string;
  transport: 'http' | 'grpc';
  tool: string;
  connections: number;
  durationS: number;
  requests: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** rps / the raw node:http rps of the same run. */
  ratio: number | null;
  /** CPU time the answering process used per request during the measured run (ms). */
  cpuMsPerRequest: number;
  /** Of it, the main thread's (the event loop that parses and answers requests). */
  mainCpuMsPerRequest?: number;
  /** All of it by thread (proc.ts threadCpuSecondsOf: main, writer, read models, checkpoints, V8 helpers, other). */
  threadCpuMsPerRequest?: Record<string, number>;
  /** Of the process that answered (the server, or the baseline process), after the load. */
  rssMb: number;
  peakRssMb: number;
  /** Projection lag in events: the most seen while loaded, and how long catching up took after;
   * the commit → read model delay p99 (ms, a histogram bucket's bound) under this load and, for
   * scenarios with a half-load phase, at half the measured rate. */
  lag: { maxEvents: number; catchUpMs: number; delayP99Ms: number; half?: { rps: number; delayP99Ms: number } } | null;
  errors: number;
  statuses: Record<string, number>;
  socketErrors: number;
  unexpected: number;
  sample: string;
  /** Why the errors happened, when we know (e.g. more requests than seeded users). */
  hint: string;
  warmupErrors: number;
};

export type Report = {
  startedAt: string;
  finishedAt: string;
  machine: { node: string; cpus: number; cpuModel: string; loadAvgBefore: number[]; loadAvgAfter: number[]; commit: string; httpTool: string };
  options: Record<string, unknown>;
  results: ScenarioResult[];
  profile?: { scenario: string; file: string; text: string };
  /** Durable appends against the raw node:sqlite ceiling (scenario `append`). */
  store?: StoreBenchResult;
  /** Replay of every read model over a large log, and the server on it (scenario `replay`). */
  replay?: ReplayBenchResult;
};

const n = (x: number, digits = 0) => (Number.isFinite(x) ? x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : 'n/a');
const ms = (x: number) => (x < 10 ? n(x, 2) : x < 100 ? n(x, 1) : n(x));

export const formatTable = (r: Report): string => {
  const head = ['scenario', 'req/s', 'p50 ms', 'p99 ms', '× raw', 'CPU ms/req', 'main ms/req', 'RSS MB', 'lag max (ev)', 'delay p99 ms', '½ load: req/s, delay p99', 'catch-up ms', 'errors'];
  const rows = r.results.map((s) => [
    s.name,
    n(s.rps),
    ms(s.p50Ms),
    ms(s.p99Ms),
    s.ratio === null ? '' : s.ratio >= 0.1 ? n(s.ratio, 2) : n(s.ratio, 3),
    n(s.cpuMsPerRequest, 3),
    s.mainCpuMsPerRequest === undefined ? '' : n(s.mainCpuMsPerRequest, 3),
    `${s.rssMb} (peak ${s.peakRssMb})`,
    s.lag ? n(s.lag.maxEvents) : '',
    s.lag ? `≤ ${n(s.lag.delayP99Ms)}` : '',
    s.lag?.half ? `${n(s.lag.half.rps)}, ≤ ${n(s.lag.half.delayP99Ms)} ms` : '',
    s.lag ? n(s.lag.catchUpMs) : '',
    s.errors ? `!! ${n(s.errors)} (${n((100 * s.errors) / Math.max(1, s.requests), 1)}%)` : '0',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => '| ' + cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ') + ' |';
  return [line(head), '|' + widths.map((w, i) => (i === 0 ? '-'.repeat(w + 1) + '-' : '-'.repeat(w + 1) + ':')).join('|') + '|', ...rows.map(line)].join('\n');
};

const THREAD_COLUMNS = ['main', 'writer', 'read models', 'checkpoints', 'V8 helpers', 'other'];

/** Where each request's CPU went, by thread (ms per request): the rows of the scenarios that ran a
 * SecureKey server, or '' when none was measured by thread. */
export const formatThreads = (r: Report): string => {
  const rows = r.results.filter((s) => s.threadCpuMsPerRequest && s.threadCpuMsPerRequest.writer !== undefined);
  if (rows.length === 0) return '';
  const head = ['CPU ms/req by thread', ...THREAD_COLUMNS];
  const cells = rows.map((s) => [s.name, ...THREAD_COLUMNS.map((c) => n(s.threadCpuMsPerRequest![c] ?? 0, 3))]);
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((row) => row[i]!.length)));
  const line = (c: string[]) => '| ' + c.map((x, i) => (i === 0 ? x.padEnd(widths[i]!) : x.padStart(widths[i]!))).join(' | ') + ' |';
  return [line(head), '|' + widths.map((w, i) => '-'.repeat(w + 1) + (i === 0 ? '-' : ':')).join('|') + '|', ...cells.map(line)].join('\n');
};

/** One paragraph per scenario whose numbers include errors (they measured the error path), and
 * a line for each that came near its load process's ceiling. */
export const formatWarnings = (r: Report): string =>
  r.results
    .filter((s) => s.errors > 0 || s.warmupErrors > 0 || s.hint)
    .map((s) => {
      if (!s.errors && !s.warmupErrors) return `!! ${s.name}: ${s.hint}`;
      const bad = Object.entries(s.statuses).filter(([st]) => !/^2\d\d$/.test(st) && st !== 'grpc-0').map(([st, c]) => `${st} ×${c}`);
      if (s.socketErrors) bad.push(`no answer ×${s.socketErrors}`);
      if (s.unexpected) bad.push(`unexpected answer ×${s.unexpected}`);
      return [
        `!!!! ${s.name}: ${n(s.errors)} of ${n(s.requests)} requests were errors (${bad.join(', ') || 'during warmup only'})` +
          (s.warmupErrors ? `; warmup errors: ${n(s.warmupErrors)}` : '') + '.',
        `     Its req/s and latencies measure the error path, not the scenario: do not compare it.`,
        s.sample ? `     first wrong answer: ${s.sample.replace(/\s+/g, ' ').slice(0, 240)}` : '',
        s.hint ? `     ${s.hint}` : '',
      ].filter(Boolean).join('\n');
    })
    .join('\n');

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

/** Two panels of horizontal bars, log scale: req/s (with × raw), and p50/p99 latency. */
export const renderSvg = (r: Report): string => {
  const rows = r.results;
  const rowH = 30;
  const top = 70;
  const labelW = 150;
  const panelW = 330;
  const gap = 60;
  const height = top + rows.length * rowH + 50;
  const width = labelW + 2 * panelW + gap + 30;
  const logScale = (min: number, max: number) => {
    const lo = Math.floor(Math.log10(Math.max(min, 1e-3)));
    const hi = Math.ceil(Math.log10(Math.max(max, 1e-3)));
    const span = Math.max(1, hi - lo);
    return { lo, hi, x: (v: number) => (Math.max(0, Math.log10(Math.max(v, 10 ** lo)) - lo) / span) * panelW };
  };
  const rps = logScale(Math.min(...rows.map((s) => s.rps)) / 2, Math.max(...rows.map((s) => s.rps)));
  const lat = logScale(Math.min(...rows.map((s) => s.p50Ms)) / 2, Math.max(...rows.map((s) => s.p99Ms)));
  const out: string[] = [];
  const text = (x: number, y: number, s: string, attrs = '') => out.push(`<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" ${attrs}>${esc(s)}</text>`);
  const axis = (x0: number, scale: ReturnType<typeof logScale>, unit: string) => {
    for (let e = scale.lo; e <= scale.hi; e++) {
      const x = x0 + scale.x(10 ** e);
      out.push(`<line x1="${x.toFixed(1)}" y1="${top - 8}" x2="${x.toFixed(1)}" y2="${top + rows.length * rowH}" stroke="#ddd"/>`);
      text(x, top + rows.length * rowH + 16, `${n(10 ** e, e < 0 ? -e : 0)}${unit}`, 'text-anchor="middle" font-size="10" fill="#666"');
    }
  };
  const x1 = labelW;
  const x2 = labelW + panelW + gap;
  text(width / 2, 22, `SecureKey load benchmark — ${r.startedAt} — ${r.machine.cpus} cores, ${r.results[0]?.connections ?? ''} connections, ${r.results[0]?.durationS ?? ''} s, ${r.machine.httpTool}`, 'text-anchor="middle" font-size="13" font-weight="bold"');
  text(x1, top - 20, 'throughput, req/s (log scale; × raw node:http)', 'font-size="11" font-weight="bold"');
  text(x2, top - 20, 'latency, ms (log scale; p50 dark, p99 light)', 'font-size="11" font-weight="bold"');
  axis(x1, rps, '');
  axis(x2, lat, '');
  rows.forEach((s, i) => {
    const y = top + i * rowH;
    const color = s.errors ? '#c0392b' : s.name.startsWith('raw') ? '#7f8c8d' : '#2c6fbb';
    text(labelW - 8, y + 15, s.name + (s.errors ? ' !!' : ''), `text-anchor="end" font-size="11"${s.errors ? ' fill="#c0392b"' : ''}`);
    const w = rps.x(s.rps);
    out.push(`<rect x="${x1}" y="${y + 4}" width="${w.toFixed(1)}" height="16" fill="${color}"/>`);
    text(x1 + w + 4, y + 16, `${n(s.rps)}${s.ratio === null ? '' : ` (× ${s.ratio >= 0.1 ? n(s.ratio, 2) : n(s.ratio, 3)})`}`, 'font-size="10"');
    const w99 = lat.x(s.p99Ms);
    const w50 = lat.x(s.p50Ms);
    out.push(`<rect x="${x2}" y="${y + 4}" width="${w99.toFixed(1)}" height="16" fill="${color}" fill-opacity="0.35"/>`);
    out.push(`<rect x="${x2}" y="${y + 4}" width="${w50.toFixed(1)}" height="16" fill="${color}"/>`);
    text(x2 + w99 + 4, y + 16, `${ms(s.p50Ms)} / ${ms(s.p99Ms)}`, 'font-size="10"');
  });
  text(10, height - 10, 'red: the run had errors (its numbers measure the error path). Ratios matter; absolute numbers move ~30% between runs on a shared 2-core machine.', 'font-size="10" fill="#666"');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif">\n<rect width="100%" height="100%" fill="white"/>\n${out.join('\n')}\n</svg>\n`;
};

/** Writes load-<stamp>.json/.svg and load-latest.json/.svg; returns the paths. */
export const writeReport = (r: Report, dir: string, stamp: string) => {
  const json = JSON.stringify(r, null, 2) + '\n';
  const svg = renderSvg(r);
  const files = { json: join(dir, `load-${stamp}.json`), svg: join(dir, `load-${stamp}.svg`) };
  writeFileSync(files.json, json);
  writeFileSync(files.svg, svg);
  writeFileSync(join(dir, 'load-latest.json'), json);
  writeFileSync(join(dir, 'load-latest.svg'), svg);
  return files;
};
