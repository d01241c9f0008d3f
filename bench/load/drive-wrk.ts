// HTTP load from wrk (its own process, C, several threads), scripted by wrk.lua.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { LoadOptions, LoadResult, Workload } from './drivers.ts';

const SCRIPT = fileURLToPath(new URL('./wrk.lua', import.meta.url));

export const driveWrk = async (w: Workload, o: LoadOptions): Promise<LoadResult> => {
  const threads = Math.min(2, o.connections);
  const args = [
    `-t${threads}`, `-c${o.connections}`, `-d${o.durationS}s`, '--timeout', '5s', '-s', SCRIPT, w.target,
    '--', w.bodiesFile, w.path, String(w.nStart), w.expect, String(threads),
    ...Object.entries(w.headers).map(([k, v]) => `${k}: ${v}`),
  ];
  const child = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  const line = out.split('\n').find((l) => l.startsWith('WRK_JSON '));
  if (code !== 0 || !line) throw new Error(`wrk exited with ${code}: ${out.slice(-500)}`);
  const r = JSON.parse(line.slice('WRK_JSON '.length)) as {
    requests: number; durationUs: number; p50Us: number; p99Us: number; maxUs: number;
    socketErrors: number; timeouts: number; statuses: Record<string, number>; unexpected: number; sample: string;
  };
  const seconds = r.durationUs / 1e6;
  return {
    tool: 'wrk',
    requests: r.requests,
    seconds,
    rps: r.requests / seconds,
    p50Ms: r.p50Us / 1000,
    p99Ms: r.p99Us / 1000,
    maxMs: r.maxUs / 1000,
    statuses: r.statuses,
    socketErrors: r.socketErrors + r.timeouts,
    unexpected: r.unexpected,
    sample: r.sample,
  };
};
