// Child processes of the load benchmark: free ports, `node` children with their output in a log
// file, readiness polling, a clean stop, and the resident memory of a process.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { WRITER_THREAD_NAME } from '../../src/eventstore/sqlite/writer.ts';
import { READ_MODELS_THREAD_NAME } from '../../projections/thread/index.ts';
import { CHECKPOINT_THREAD_NAME } from '../../src/sqlite/checkpoints.ts';

export const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });

export type Proc = { child: ChildProcess; pid: number; exited: Promise<number | null>; stop: (graceMs?: number) => Promise<number | null> };

/** `node [nodeArgs] script [args]` on the Node running this harness, stdout and stderr to logFile;
 * the environment is ours plus env, or env alone with inheritEnv: false. */
export const startNode = (script: string, opts: { args?: string[]; nodeArgs?: string[]; env?: Record<string, string>; inheritEnv?: boolean; logFile: string }): Proc => {
  const fd = openSync(opts.logFile, 'a');
  const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), script, ...(opts.args ?? [])], {
    env: opts.inheritEnv === false ? opts.env : { ...process.env, ...opts.env },
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code, signal) => resolve(code ?? (signal ? -1 : null))));
  const stop = async (graceMs = 30_000) => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    }
    return exited;
  };
  return { child, pid: child.pid!, exited, stop };
};

/** Polls url until it answers 200; fails when the process exits first or timeoutMs passes. */
export const untilHttpOk = async (url: string, proc: Proc, what: string, timeoutMs = 180_000) => {
  let exited: number | null | undefined;
  void proc.exited.then((c) => (exited = c));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (exited !== undefined) throw new Error(`${what} exited with ${exited} before it was ready (see its log)`);
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await r.arrayBuffer();
      if (r.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${what} not ready after ${timeoutMs} ms (see its log)`);
    await new Promise((r) => setTimeout(r, 100));
  }
};

/** Resident set size now and at its peak (VmHWM), in MB, from /proc (Linux). */
export const memoryOf = (pid: number): { rssMb: number; peakRssMb: number } => {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rssMb: Math.round(kb('VmRSS') / 1024), peakRssMb: Math.round(kb('VmHWM') / 1024) };
};

/** Runs `node script args` with env alone, its stderr to logFile, and returns the last JSON line it printed. */
export const runNodeForJson = async <T>(script: string, args: string[], opts: { env: Record<string, string>; logFile: string; nodeArgs?: readonly string[] }): Promise<T> => {
  const errFd = openSync(opts.logFile, 'a');
  const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), script, ...args], { env: opts.env, stdio: ['ignore', 'pipe', errFd] });
  closeSync(errFd);
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  const last = out.trim().split('\n').pop() ?? '';
  if (code !== 0) throw new Error(`${script} exited with ${code} (see ${opts.logFile}): ${last.slice(0, 300)}`);
  return JSON.parse(last) as T;
};

/** CPU time (seconds) used so far by each of the process's threads, by what they do: the main
 * thread, the event store's writer, the read models' and the checkpoints' threads (named by the
 * server: writer.ts, projections/thread, src/sqlite/checkpoints.ts), V8's helpers (garbage collection and compilation, shared by every isolate
 * of the process), and the rest (libuv's pool, …). Threads that ended are not counted. {} where
 * /proc is missing. */
export const threadCpuSecondsOf = (pid: number): Record<string, number> => {
  const out: Record<string, number> = {};
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const group = tid === String(pid) ? 'main' : (THREAD_GROUPS[comm] ?? 'other');
      out[group] = (out[group] ?? 0) + (Number(fields[11]) + Number(fields[12])) / 100;
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return out;
};

const THREAD_GROUPS: Record<string, string> = { [WRITER_THREAD_NAME]: 'writer', [READ_MODELS_THREAD_NAME]: 'read models', [CHECKPOINT_THREAD_NAME]: 'checkpoints', V8Worker: 'V8 helpers', DelayedTaskSche: 'V8 helpers' };

/** CPU time (user + system, seconds) the process has used so far, from /proc (Linux): per
 * request, it says what a request costs the server whatever else the machine is doing. */
export const cpuSecondsOf = (pid: number): number => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // after "pid (comm) "
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
};
