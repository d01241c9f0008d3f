// The SecureKey server under test, as production runs it: its own process (`node src/main.ts`),
// configured only through the environment — a fresh data directory, the embedded SQLite store
// (durable: synchronous=FULL, the default), per-IP limits raised out of the way, logs at info
// to a file.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, memoryOf, startNode, untilHttpOk } from './proc.ts';

export type SmsChoice = { provider: 'console' } | { provider: 'http'; url: string };

const UNLIMITED = '1000000000';

/** The whole environment the server (and the seeder, which reads the same data dir and key) gets:
 * nothing inherited from the shell but PATH, HOME and TMPDIR, so no stray SECUREKEY_* setting
 * changes what is measured. */
export const serverEnv = (o: { dataDir: string; masterKey: string; port?: number; sms: SmsChoice }): Record<string, string> => ({
  ...Object.fromEntries(['PATH', 'HOME', 'TMPDIR'].flatMap((k) => (process.env[k] ? [[k, process.env[k]]] : []))),
  PORT: String(o.port ?? 0),
  HOST: '127.0.0.1',
  SECUREKEY_DATA_DIR: o.dataDir,
  SECUREKEY_MASTER_KEY: o.masterKey,
  SECUREKEY_EVENTSTORE: 'sqlite',
  SECUREKEY_RATE_LIMIT_GLOBAL: UNLIMITED,
  SECUREKEY_RATE_LIMIT_SEND: UNLIMITED,
  SECUREKEY_RATE_LIMIT_VERIFY: UNLIMITED,
  SECUREKEY_RATE_LIMIT_PER_KEY: UNLIMITED,
  SECUREKEY_DEV_MODE: 'false',
  LOG_LEVEL: 'info',
  SECUREKEY_PUSH_SENDER: 'console',
  SECUREKEY_SMS_PROVIDER: o.sms.provider,
  ...(o.sms.provider === 'http' ? { SECUREKEY_SMS_HTTP_URL: o.sms.url } : {}),
});

export type Lag = { maxEvents: number; byProjection: Record<string, number> };

export type SecureKeyServer = {
  url: string;
  grpcAddress: string;
  pid: number;
  logFile: string;
  /** Projection lag in events, from /metrics (NaN when the server does not report it). */
  lag: () => Promise<Lag>;
  /** The commit → read model delay histogram, cumulative counts by upper bound (seconds). */
  delays: () => Promise<Delays>;
  memory: () => { rssMb: number; peakRssMb: number };
  stop: () => Promise<void>;
};

export type Delays = { le: number; count: number }[];

/** The p99 (ms) of the delays observed between two snapshots: the upper bound of the bucket the
 * 99th percentile falls in (NaN when nothing was observed). */
export const delayP99Ms = (before: Delays, after: Delays) => {
  const deltas = after.map((b, i) => ({ le: b.le, count: b.count - (before[i]?.count ?? 0) }));
  const total = deltas[deltas.length - 1]?.count ?? 0; // the +Inf bucket
  if (total <= 0) return NaN;
  return (deltas.find((b) => b.count >= 0.99 * total)?.le ?? Infinity) * 1000;
};

export const startSecureKey = async (o: { dataDir: string; masterKey: string; sms: SmsChoice; logDir: string; name: string; cpuProfDir?: string }): Promise<SecureKeyServer> => {
  const port = await freePort();
  const logFile = join(o.logDir, `${o.name}.server.log`);
  const nodeArgs = o.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${o.cpuProfDir}`, `--cpu-prof-name=${o.name}.cpuprofile`] : [];
  const proc = startNode(fileURLToPath(new URL('../../src/main.ts', import.meta.url)), { nodeArgs, env: serverEnv({ ...o, port }), inheritEnv: false, logFile });
  const url = `http://127.0.0.1:${port}`;
  try {
    // /readyz is 200 once the store answers and every read model has caught up with the log.
    await untilHttpOk(`${url}/readyz`, proc, `the SecureKey server (${logFile})`);
  } catch (err) {
    await proc.stop(2000);
    throw err;
  }
  return {
    url,
    grpcAddress: `127.0.0.1:${port}`,
    pid: proc.pid,
    logFile,
    lag: async () => {
      // The gauge is head minus checkpoint at scrape time (/readyz instead waits for the read
      // models to reach the head, so it says whether they can, not how far behind they are).
      const text = await (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();
      const byProjection = Object.fromEntries([...text.matchAll(/^securekey_projection_lag_events\{projection="([^"]+)"\} (\S+)$/gm)].map((m) => [m[1]!, Number(m[2])]));
      const values = Object.values(byProjection);
      return { maxEvents: values.length ? Math.max(...values) : NaN, byProjection };
    },
    delays: async () => {
      const text = await (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();
      return [...text.matchAll(/^securekey_projection_delay_seconds_bucket\{le="([^"]+)"\} (\S+)$/gm)].map((m) => ({ le: m[1] === '+Inf' ? Infinity : Number(m[1]), count: Number(m[2]) }));
    },
    memory: () => memoryOf(proc.pid),
    stop: async () => {
      // SIGTERM: the server drains and closes its store; --cpu-prof writes the profile on exit.
      const code = await proc.stop();
      if (code !== 0) throw new Error(`the SecureKey server exited with ${code} on SIGTERM (see ${logFile})`);
    },
  };
};

/** Waits until every read model has applied the whole log; returns how long that took. */
export const untilCaughtUp = async (server: SecureKeyServer, timeoutMs = 300_000) => {
  const started = performance.now();
  for (;;) {
    const lag = await server.lag();
    if (!(lag.maxEvents > 0)) return Math.round(performance.now() - started);
    if (performance.now() - started > timeoutMs) throw new Error(`read models still ${lag.maxEvents} events behind after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

/** Samples projection lag every 250 ms while the load runs; stop() returns the most seen. */
export const sampleLag = (server: SecureKeyServer) => {
  let max = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const lag = await server.lag().catch(() => ({ maxEvents: NaN }));
      if (lag.maxEvents > max) max = lag.maxEvents;
      await new Promise((r) => setTimeout(r, 250));
    }
  })();
  return { stop: async () => ((running = false), await loop, max) };
};
