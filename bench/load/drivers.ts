// What a load process is given and what it reports, whichever tool drives it (wrk, autocannon,
// or the gRPC load process), and the choice between them.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export type Workload = {
  transport: 'http' | 'grpc';
  /** http: "http://127.0.0.1:PORT"; grpc: "127.0.0.1:PORT". */
  target: string;
  /** REST path, or the gRPC method path "/package.Service/Method". */
  path: string;
  /** Sent with every request (HTTP headers or gRPC metadata). */
  headers: Record<string, string>;
  /** One JSON body per line; request i sends line i mod lines with "{n}" replaced by nStart + i. */
  bodiesFile: string;
  nStart: number;
  /** Text every successful answer contains (REST body, or the gRPC answer as proto3 JSON with defaults). */
  expect: string;
};

export type LoadOptions = {
  /** HTTP connections, or gRPC calls in flight. */
  connections: number;
  durationS: number;
  /** gRPC: HTTP/2 connections the calls share (default: one per call). */
  grpcChannels?: number;
  /** gRPC: the load process's client (default h2, see drive-grpc.ts). */
  grpcClient?: 'h2' | 'grpc-js';
  /** Requests per second over all connections (open loop at that rate; autocannon only). */
  rate?: number;
  /** Sends this many requests and ends, whatever the duration (autocannon only). */
  amount?: number;
};

export type LoadResult = {
  tool: string;
  requests: number;
  seconds: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Answers by HTTP status, or "grpc-N" by gRPC status code. */
  statuses: Record<string, number>;
  /** Connection errors and timeouts: requests that got no answer. */
  socketErrors: number;
  /** Successful answers without the expected text (e.g. verified:false where true was expected). */
  unexpected: number;
  /** The first wrong answer, to say what went wrong. */
  sample: string;
};

const isOk = (status: string) => /^2\d\d$/.test(status) || status === 'grpc-0';

/** Requests that did not measure the scenario's path: no answer, an error status, or an unexpected answer. */
export const errorsOf = (r: LoadResult) =>
  r.socketErrors + r.unexpected + Object.entries(r.statuses).reduce((n, [status, count]) => n + (isOk(status) ? 0 : count), 0);

export type HttpTool = 'wrk' | 'autocannon';

/** wrk when installed (Debian package `wrk`), else autocannon from npm. */
export const defaultHttpTool = (): HttpTool => (spawnSync('wrk', ['--version']).error ? 'autocannon' : 'wrk');

/** The bodies of a workload, and request i's body (the same rule as wrk.lua). */
export const bodiesOf = (w: Pick<Workload, 'bodiesFile' | 'nStart'>) => {
  const lines = readFileSync(w.bodiesFile, 'utf8').split('\n').filter((l) => l !== '');
  return (i: number) => lines[i % lines.length]!.replaceAll('{n}', String(w.nStart + i));
};

/** How many bodies a workload has. */
export const bodiesCount = (w: Pick<Workload, 'bodiesFile'>) => readFileSync(w.bodiesFile, 'utf8').split('\n').filter((l) => l !== '').length;

/** Latency percentile (ms) of an ascending-sorted list. */
export const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

/** Runs a load process (`node script`) with its workload as an argument, returning its last JSON line. */
export const runLoadProcess = async (script: string, w: Workload, o: LoadOptions): Promise<LoadResult> => {
  const child = spawn(process.execPath, [script, JSON.stringify({ workload: w, options: o })], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  const last = out.trim().split('\n').pop() ?? '';
  if (code !== 0 || !last.startsWith('{')) throw new Error(`load process ${script} exited with ${code}: ${(err || out).slice(-800)}`);
  return JSON.parse(last) as LoadResult;
};

/** In a load process: its workload and options. */
export const loadProcessArgs = () => JSON.parse(process.argv[2]!) as { workload: Workload; options: LoadOptions };
