// API benchmark: SMS OTP send + verify through the live server over HTTP/1.1 (keep-alive),
// durable SQLite store, with C concurrent clients. Prints throughput and latency percentiles.
// Run: npm run bench   (or node bench/api.ts [requests] [concurrency])
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { loadConfig } from '../src/config.ts';
import { startSecureKey } from '../src/securekey.ts';
import { startSmsGateway } from '../test/helpers/sms-gateway.ts';

const TOTAL = Number(process.argv[2] ?? 2000);
const CONCURRENCY = Number(process.argv[3] ?? 32);

const pct = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!.toFixed(2);

/** Runs `total` flows; with keepData the data directory is left for the caller (replay bench). */
export const benchApi = async (opts: { total?: number; concurrency?: number; keepData?: boolean } = {}) => {
  const total = opts.total ?? TOTAL;
  const concurrency = opts.concurrency ?? CONCURRENCY;
  const dataDir = mkdtempSync(join(tmpdir(), 'securekey-bench-'));
  const sms = await startSmsGateway();
  const running = await startSecureKey(
    loadConfig({
      PORT: '0',
      HOST: '127.0.0.1',
      SECUREKEY_DATA_DIR: dataDir,
      SECUREKEY_ADMIN_TOKEN: 'bench-admin-token-0123456789',
      SECUREKEY_MASTER_KEY: randomBytes(32).toString('base64'),
      SECUREKEY_SMS_PROVIDER: 'http',
      SECUREKEY_SMS_HTTP_URL: sms.url,
      SECUREKEY_RATE_LIMIT_GLOBAL: '100000000',
      SECUREKEY_RATE_LIMIT_SEND: '100000000',
      SECUREKEY_RATE_LIMIT_VERIFY: '100000000',
    }),
    { logger: pino({ level: 'silent' }) },
  );
  const url = `http://127.0.0.1:${running.port}`;
  try {
    const t = await fetch(`${url}/api/v1/admin/tenants`, {
      method: 'POST',
      headers: { 'x-admin-token': 'bench-admin-token-0123456789', 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'bench', settings: { smsDailyQuota: 10_000_000, smsPerDestinationHour: 0, smsPerDestinationDay: 0 } }),
    });
    const { apiKey } = ((await t.json()) as { data: { apiKey: string } }).data;
    const post = async (path: string, body: unknown) => {
      const started = performance.now();
      const r = await fetch(url + path, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': apiKey }, body: JSON.stringify(body) });
      const json = (await r.json()) as { success: boolean; code?: string };
      if (r.status !== 200) throw new Error(`${path}: ${r.status} ${JSON.stringify(json)}`);
      return { ms: performance.now() - started, json };
    };
    const sendMs: number[] = [];
    const verifyMs: number[] = [];
    let next = 0;
    // Projection lag as operators see it (/readyz), sampled while the load runs.
    let maxLag = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const r = (await (await fetch(`${url}/readyz`)).json()) as { projectionLag?: Record<string, number> };
        maxLag = Math.max(maxLag, ...Object.values(r.projectionLag ?? {}));
        await new Promise((res) => setTimeout(res, 20));
      }
    })();
    const started = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < total) {
          const i = next++;
          const national = `010${String(10_000_000 + i).slice(-8)}`;
          sendMs.push((await post('/api/v1/otp/send', { phone: national, purpose: 'login' })).ms);
          const code = sms.lastCode(`+82${national.slice(1)}`);
          const v = await post('/api/v1/otp/verify', { phone: national, code });
          if (!(v.json as unknown as { data: { verified: boolean } }).data.verified) throw new Error('not verified');
          verifyMs.push(v.ms);
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    sampling = false;
    await sampler;
    sendMs.sort((a, b) => a - b);
    verifyMs.sort((a, b) => a - b);
    return {
      flows: total,
      concurrency,
      seconds: Number(seconds.toFixed(2)),
      requestsPerSecond: Math.round((2 * total) / seconds),
      send: { p50: pct(sendMs, 50), p99: pct(sendMs, 99) },
      verify: { p50: pct(verifyMs, 50), p99: pct(verifyMs, 99) },
      maxProjectionLagEvents: maxLag,
      dataDir,
      masterKey: running.config.masterKey,
    };
  } finally {
    await running.stop();
    await sms.close();
    if (!opts.keepData) rmSync(dataDir, { recursive: true, force: true });
  }
};

export const formatApi = (r: Awaited<ReturnType<typeof benchApi>>) =>
  `API (durable SQLite, HTTP/1.1, ${r.concurrency} clients): ${r.flows} send+verify flows in ${r.seconds} s = ${r.requestsPerSecond} req/s; ` +
  `send p50 ${r.send.p50} ms p99 ${r.send.p99} ms; verify p50 ${r.verify.p50} ms p99 ${r.verify.p99} ms; max projection lag ${r.maxProjectionLagEvents} events`;

if (import.meta.main) console.log(formatApi(await benchApi()));
