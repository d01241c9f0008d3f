// `npm run bench:load`: the load benchmark. Each scenario gets a fresh server process on a fresh
// data directory (seeded first when it needs users), a warmup, then a measured run from a separate
// load process; the raw baseline runs in the same session so that ratios compare like with like.
// Options: --duration 10 --warmup 2 --connections 32 --scenarios a,b --tool wrk|autocannon
// --grpc-channels N --grpc-client h2|grpc-js --sms console|http --totp-users N --push-users N --otp-codes N
// --long-users N --long-history N --half-load S --append-seconds S --replay-events N --cpu-prof SCENARIO --out DIR --keep.
// See bench/README.md.
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { driveAutocannon } from './drive-autocannon.ts';
import { driveGrpc } from './drive-grpc.ts';
import { driveWrk } from './drive-wrk.ts';
import { bodiesCount, defaultHttpTool, errorsOf, type HttpTool, type LoadOptions, type LoadResult, type Workload } from './drivers.ts';
import { cpuSecondsOf, freePort, threadCpuSecondsOf, memoryOf, runNodeForJson, startNode, untilHttpOk, type Proc } from './proc.ts';
import { formatProfile, summariseProfile } from './profile.ts';
import { formatTable, formatThreads, formatWarnings, writeReport, type Report, type ScenarioResult } from './report.ts';
import { SCENARIOS, type BenchOptions, type Scenario, type ScenarioContext } from './scenarios.ts';
import type { Seeded } from './seed.ts';
import { delayP99Ms, sampleLag, serverEnv, startSecureKey, untilCaughtUp, type SecureKeyServer, type SmsChoice } from './server.ts';
import { formatGoals } from './goals.ts';
import type { ReplayBenchResult } from './replay.ts';
import type { StoreBenchResult } from './store.ts';
import { compileCacheEnv } from '../../src/compile-cache.ts';
import { CLI_HEAP_FLAGS } from '../../src/heap-flags.ts';

/** Not load scenarios: durable appends against raw node:sqlite (store.ts), and the replay of a
 * large log with the server on it (replay.ts). */
const EXTRAS = ['append', 'replay'];
/** Run only when named in --scenarios (long to seed, and a question of its own: cold loads). */
const ON_REQUEST = ['totp-verify-long'];

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '2' },
    connections: { type: 'string', default: '32' },
    scenarios: { type: 'string', default: [...SCENARIOS.map((s) => s.name).filter((n) => !ON_REQUEST.includes(n)), ...EXTRAS].join(',') },
    tool: { type: 'string' },
    'grpc-channels': { type: 'string' },
    'grpc-client': { type: 'string', default: 'h2' },
    sms: { type: 'string', default: 'console' },
    'totp-users': { type: 'string', default: '30000' },
    'push-users': { type: 'string', default: '6000' },
    'otp-codes': { type: 'string', default: '4000' },
    'long-users': { type: 'string', default: '2000' },
    'long-history': { type: 'string', default: '1000' },
    'half-load': { type: 'string', default: '5' },
    'append-seconds': { type: 'string', default: '10' },
    'replay-events': { type: 'string', default: '1000000' },
    'cpu-prof': { type: 'string' },
    out: { type: 'string', default: 'bench/results' },
    keep: { type: 'boolean', default: false },
  },
});

const int = (name: keyof typeof args, min: number) => {
  const v = Number(args[name]);
  if (!Number.isInteger(v) || v < min) throw new Error(`--${name}: expected an integer >= ${min}, got ${JSON.stringify(args[name])}`);
  return v;
};
const options: BenchOptions = {
  durationS: int('duration', 1),
  warmupS: int('warmup', 0),
  connections: int('connections', 1),
  totpUsers: int('totp-users', 1),
  pushUsers: int('push-users', 1),
  otpCodes: int('otp-codes', 1),
  longUsers: int('long-users', 1),
  longHistory: int('long-history', 0),
};
const halfLoadS = int('half-load', 0);
const appendSeconds = int('append-seconds', 1);
const replayEvents = int('replay-events', 1000);
const chosen = args.scenarios!.split(',').map((s) => s.trim()).filter(Boolean);
const unknown = chosen.filter((name) => !SCENARIOS.some((s) => s.name === name) && !EXTRAS.includes(name));
if (unknown.length) throw new Error(`unknown scenario(s) ${unknown.join(', ')}; known: ${[...SCENARIOS.map((s) => s.name), ...EXTRAS].join(', ')}`);
const scenarios = SCENARIOS.filter((s) => chosen.includes(s.name));
const httpTool: HttpTool = args.tool === 'wrk' || args.tool === 'autocannon' ? args.tool : defaultHttpTool();
if (args.tool && args.tool !== httpTool) throw new Error(`--tool: expected wrk or autocannon, got ${args.tool}`);
const grpcChannels = args['grpc-channels'] ? int('grpc-channels', 1) : undefined;
const grpcClient = args['grpc-client'];
if (grpcClient !== 'h2' && grpcClient !== 'grpc-js') throw new Error(`--grpc-client: expected h2 or grpc-js, got ${grpcClient}`);
if (args.sms !== 'console' && args.sms !== 'http') throw new Error(`--sms: expected console or http, got ${args.sms}`);
if (options.durationS > 50 && scenarios.some((s) => s.name.includes('totp') && !s.once)) console.warn('warning: TOTP codes are computed for the middle of a phase and stay valid ±30 s: keep --duration ≤ 50 for TOTP scenarios');

const BASELINE = fileURLToPath(new URL('./baseline.ts', import.meta.url));
const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
const outDir = resolve(args.out!);
const logDir = join(outDir, 'logs', stamp);
const profDir = join(outDir, 'profiles', stamp);
mkdirSync(logDir, { recursive: true });
// Server logs at info are large (a line per call): keep those of the last three runs only.
for (const dir of [join(outDir, 'logs'), join(outDir, 'profiles')]) {
  if (existsSync(dir)) for (const old of readdirSync(dir).sort().slice(0, -3)) rmSync(join(dir, old), { recursive: true, force: true });
}
const workDir = mkdtempSync(join(tmpdir(), 'securekey-load-'));

const drive = (w: Workload, o: LoadOptions): Promise<LoadResult> =>
  w.transport === 'grpc' ? driveGrpc(w, { ...o, grpcChannels, grpcClient }) : httpTool === 'wrk' && !o.amount ? driveWrk(w, o) : driveAutocannon(w, o);

/** A phase's options: a `once` scenario sends each of the phase's bodies once (autocannon's amount). */
const phaseOptions = (s: Scenario, w: Workload, durationS: number): LoadOptions => ({
  connections: options.connections,
  durationS,
  ...(s.once ? { amount: bodiesCount(w) } : {}),
});

/** The commit measured, when this is a git checkout. */
const commitOf = () => {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
  } catch {
    return 'unknown';
  }
};

const log = (line: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`);

const runPhases = async (s: Scenario, ctx: ScenarioContext, pid: number, server?: SecureKeyServer) => {
  const loadOptions = { connections: options.connections };
  let warmupErrors = 0;
  if (options.warmupS > 0) {
    const warmup = s.workload(ctx, 'warmup');
    const warm = await drive(warmup, phaseOptions(s, warmup, options.warmupS));
    warmupErrors = errorsOf(warm);
    if (server) await untilCaughtUp(server);
  }
  const sampler = server ? sampleLag(server) : undefined;
  const delaysBefore = await server?.delays();
  log(`${s.name}: measuring for ${options.durationS} s`);
  const workload = s.workload(ctx, 'measure');
  const cpuBefore = cpuSecondsOf(pid);
  const threadsBefore = threadCpuSecondsOf(pid);
  const result = await drive(workload, phaseOptions(s, workload, options.durationS));
  const perRequest = (seconds: number) => (seconds * 1000) / Math.max(1, result.requests);
  const cpuMsPerRequest = perRequest(cpuSecondsOf(pid) - cpuBefore);
  const threadCpuMsPerRequest = Object.fromEntries(Object.entries(threadCpuSecondsOf(pid)).map(([group, s]) => [group, perRequest(s - (threadsBefore[group] ?? 0))]));
  const mainCpuMsPerRequest = threadCpuMsPerRequest.main ?? NaN;
  const maxLag = await sampler?.stop();
  const delayP99 = server ? delayP99Ms(delaysBefore!, await server.delays()) : NaN;
  const catchUpMs = server ? await untilCaughtUp(server) : 0;
  let half: { rps: number; delayP99Ms: number } | undefined;
  if (server && s.halfLoad && halfLoadS > 0 && result.rps > 0) {
    // Open loop at half the rate just measured (autocannon paces it): the delay an event waits
    // for its read models when the server is not saturated.
    log(`${s.name}: ${halfLoadS} s at half that rate (${Math.round(result.rps / 2)} req/s) for the projection delay`);
    const before = await server.delays();
    const r = await driveAutocannon(s.workload(ctx, 'half'), { ...loadOptions, durationS: halfLoadS, rate: result.rps / 2 });
    half = { rps: r.rps, delayP99Ms: delayP99Ms(before, await server.delays()) };
    await untilCaughtUp(server);
  }
  return { result, cpuMsPerRequest, mainCpuMsPerRequest, threadCpuMsPerRequest, transport: workload.transport, warmupErrors, lag: server ? { maxEvents: maxLag ?? NaN, catchUpMs, delayP99Ms: delayP99, half } : null };
};

const toRow = (s: Scenario, run: Awaited<ReturnType<typeof runPhases>>, memory: { rssMb: number; peakRssMb: number }): ScenarioResult => {
  const r = run.result;
  const cap = s.capacity?.(options);
  const errors = errorsOf(r);
  return {
    name: s.name,
    title: s.title,
    transport: run.transport,
    tool: r.tool,
    connections: options.connections,
    durationS: options.durationS,
    requests: r.requests,
    rps: r.rps,
    p50Ms: r.p50Ms,
    p99Ms: r.p99Ms,
    maxMs: r.maxMs,
    ratio: null,
    cpuMsPerRequest: run.cpuMsPerRequest,
    mainCpuMsPerRequest: run.mainCpuMsPerRequest,
    threadCpuMsPerRequest: run.threadCpuMsPerRequest,
    ...memory,
    lag: run.lag,
    errors,
    statuses: r.statuses,
    socketErrors: r.socketErrors,
    unexpected: r.unexpected,
    sample: r.sample,
    hint: cap && errors ? `this scenario can succeed ${cap.requests.toLocaleString('en-US')} times (warmup + measure); if it ran out, raise ${cap.raise}` : '',
    warmupErrors: run.warmupErrors,
  };
};

const runServerScenario = async (s: Scenario, base: Omit<ScenarioContext, 'server' | 'seeded'>, sms: SmsChoice) => {
  const dataDir = mkdtempSync(join(tmpdir(), `securekey-load-${s.name}-`));
  const masterKey = randomBytes(32).toString('base64');
  let server: SecureKeyServer | undefined;
  try {
    const want = s.seed?.(options) ?? {};
    log(`${s.name}: seeding ${want.totpUsers ?? 0} TOTP users${want.totpHistory ? ` with ${want.totpHistory} sign-ins each` : ''}, ${want.pushUsers ?? 0} push users`);
    const seeded = await runNodeForJson<Seeded>(
      fileURLToPath(new URL('./seed.ts', import.meta.url)),
      ['--totp-users', String(want.totpUsers ?? 0), '--totp-history', String(want.totpHistory ?? 0), '--push-users', String(want.pushUsers ?? 0), '--totp-users-file', join(workDir, `${s.name}.totp-users.tsv`)],
      { env: serverEnv({ dataDir, masterKey, sms }), logFile: join(logDir, `${s.name}.seed.log`) },
    );
    log(`${s.name}: seeded in ${seeded.seconds.toFixed(1)} s; starting the server`);
    const profiling = args['cpu-prof'] === s.name;
    if (profiling) mkdirSync(profDir, { recursive: true });
    const start = () => startSecureKey({ dataDir, masterKey, sms, logDir, name: s.name, cpuProfDir: profiling ? profDir : undefined });
    server = await start();
    let ctx: ScenarioContext = { ...base, server, seeded };
    if (s.prime) {
      log(`${s.name}: priming`);
      const primed = performance.now();
      await s.prime(ctx);
      log(`${s.name}: primed in ${((performance.now() - primed) / 1000).toFixed(1)} s`);
    }
    if (s.restartAfterPrime) {
      await untilCaughtUp(server);
      log(`${s.name}: restarting the server (an empty aggregate cache)`);
      await server.stop();
      server = undefined;
      server = await start();
      ctx = { ...ctx, server };
    }
    await untilCaughtUp(server);
    const run = await runPhases(s, ctx, server.pid, server);
    const memory = server.memory();
    await server.stop();
    server = undefined;
    return { row: toRow(s, run, memory), profile: profiling ? join(profDir, `${s.name}.cpuprofile`) : undefined };
  } finally {
    await server?.stop().catch(() => {});
    if (!args.keep) rmSync(dataDir, { recursive: true, force: true });
    else log(`${s.name}: data kept in ${dataDir}`);
  }
};

const STORE_BENCH = fileURLToPath(new URL('./store.ts', import.meta.url));
const REPLAY_BENCH = fileURLToPath(new URL('./replay.ts', import.meta.url));

/** Seeds a large log, replays every read model over it, then starts the server on it and loads it
 * with otp-send: its start-up (catch-up) time and its memory with the whole log and under load. */
const runReplay = async (base: Omit<ScenarioContext, 'server' | 'seeded'>, sms: SmsChoice): Promise<ReplayBenchResult> => {
  const dataDir = mkdtempSync(join(tmpdir(), 'securekey-load-replay-'));
  const masterKey = randomBytes(32).toString('base64');
  const env = serverEnv({ dataDir, masterKey, sms });
  let server: SecureKeyServer | undefined;
  try {
    log(`replay: seeding ${replayEvents.toLocaleString('en-US')} events (OTP cycles)`);
    const seeded = await runNodeForJson<{ tenantId: string; apiKey: string; events: number; seconds: number }>(REPLAY_BENCH, ['seed', '--events', String(replayEvents)], { env, logFile: join(logDir, 'replay.seed.log') });
    log(`replay: seeded ${seeded.events.toLocaleString('en-US')} events in ${seeded.seconds.toFixed(1)} s; rebuilding every read model`);
    // With the heap flag and compile cache the admin CLI runs with (src/cli/main.ts).
    const r = await runNodeForJson<{ events: number; seconds: number; eventsPerSec: number; cpuSeconds: number; peakRssMb: number }>(REPLAY_BENCH, ['replay'], {
      env: { ...env, ...compileCacheEnv(env) },
      nodeArgs: CLI_HEAP_FLAGS,
      logFile: join(logDir, 'replay.log'),
    });
    log(`replay: ${r.eventsPerSec.toLocaleString('en-US')} events/s (${r.seconds.toFixed(1)} s, ${r.cpuSeconds.toFixed(1)} s of CPU); starting the server on that log`);
    const started = performance.now();
    server = await startSecureKey({ dataDir, masterKey, sms, logDir, name: 'replay', cpuProfDir: undefined });
    const serverStartSeconds = (performance.now() - started) / 1000;
    const s = SCENARIOS.find((x) => x.name === 'otp-send')!;
    const ctx: ScenarioContext = { ...base, server, seeded: { tenantId: seeded.tenantId, apiKey: seeded.apiKey, totpUsersFile: '', totpUsers: 0, pushUsers: 0, seconds: seeded.seconds } };
    log(`replay: server ready in ${serverStartSeconds.toFixed(1)} s; otp-send for ${options.durationS} s`);
    const load = await drive(s.workload(ctx, 'measure'), { connections: options.connections, durationS: options.durationS });
    const memory = server.memory();
    await server.stop();
    server = undefined;
    return {
      events: r.events,
      seedSeconds: seeded.seconds,
      seconds: r.seconds,
      eventsPerSec: r.eventsPerSec,
      cpuSeconds: r.cpuSeconds,
      replayPeakRssMb: r.peakRssMb,
      serverStartSeconds,
      serverRps: load.rps,
      serverRssMb: memory.rssMb,
      serverPeakRssMb: memory.peakRssMb,
    };
  } finally {
    await server?.stop().catch(() => {});
    if (!args.keep) rmSync(dataDir, { recursive: true, force: true });
    else log(`replay: data kept in ${dataDir}`);
  }
};

const main = async () => {
  const startedAt = new Date().toISOString();
  const loadAvgBefore = loadavg().map((x) => Number(x.toFixed(2)));
  const ports = { http: await freePort(), grpc: await freePort() };
  const procs: Proc[] = [];
  const report: Report = {
    startedAt,
    finishedAt: '',
    machine: {
      node: process.version,
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? '',
      loadAvgBefore,
      loadAvgAfter: [],
      commit: commitOf(),
      httpTool: httpTool === 'wrk' ? spawnSync('wrk', ['--version']).stdout.toString().split('\n')[0]!.split(' Copyright')[0]! : 'autocannon',
    },
    options: { ...options, scenarios: chosen, sms: args.sms, grpcChannels: grpcChannels ?? options.connections, grpcClient },
    results: [],
  };
  log(`load benchmark: ${chosen.join(', ')}; ${options.connections} connections, ${options.durationS} s (+${options.warmupS} s warmup) each; HTTP load from ${report.machine.httpTool}; load average ${loadAvgBefore.join(' ')}`);
  try {
    const baseline = startNode(BASELINE, { env: { PORT: String(ports.http), GRPC_PORT: String(ports.grpc) }, logFile: join(logDir, 'baseline.log') });
    procs.push(baseline);
    await untilHttpOk(`http://127.0.0.1:${ports.http}/healthz`, baseline, 'the baseline server');
    let sms: SmsChoice = { provider: 'console' };
    if (args.sms === 'http') {
      const port = await freePort();
      const gateway = startNode(BASELINE, { env: { PORT: String(port) }, logFile: join(logDir, 'sms-gateway.log') });
      procs.push(gateway);
      await untilHttpOk(`http://127.0.0.1:${port}/healthz`, gateway, 'the SMS gateway');
      sms = { provider: 'http', url: `http://127.0.0.1:${port}/sms` };
    }
    const base = { options, workDir, baseline: { http: `http://127.0.0.1:${ports.http}`, grpc: `127.0.0.1:${ports.grpc}` } };
    for (const s of scenarios) {
      if (s.target === 'baseline') {
        const run = await runPhases(s, base, baseline.pid);
        report.results.push(toRow(s, run, memoryOf(baseline.pid)));
      } else {
        const { row, profile } = await runServerScenario(s, base, sms);
        report.results.push(row);
        if (profile) report.profile = { scenario: s.name, file: profile, text: formatProfile(summariseProfile(profile, 10)) };
      }
      const last = report.results[report.results.length - 1]!;
      log(`${s.name}: ${Math.round(last.rps)} req/s, p50 ${last.p50Ms.toFixed(2)} ms, p99 ${last.p99Ms.toFixed(2)} ms${last.errors ? `, !! ${last.errors} errors` : ''}`);
    }
    if (chosen.includes('append')) {
      log(`append: durable appends by ${options.connections} appenders vs raw node:sqlite batches of ${options.connections}, ${appendSeconds} s each (alternating 1 s slices)`);
      const st = await runNodeForJson<StoreBenchResult>(STORE_BENCH, [JSON.stringify({ seconds: appendSeconds, concurrency: options.connections })], { env: { PATH: process.env.PATH ?? '' }, logFile: join(logDir, 'append.log') });
      report.store = st;
      log(`append: store ${st.storeAppendsPerSec} appends/s, raw ${st.rawEventsPerSec} events/s: ${st.ratio.toFixed(2)} × raw`);
    }
    if (chosen.includes('replay')) report.replay = await runReplay(base, sms);
  } finally {
    for (const p of procs) await p.stop(5000);
    rmSync(workDir, { recursive: true, force: true });
  }
  const raw = report.results.find((s) => s.name === 'raw');
  const rawGrpc = report.results.find((s) => s.name === 'raw-grpc');
  for (const s of report.results) {
    s.ratio = raw ? s.rps / raw.rps : null;
    const ceiling = s.transport === 'grpc' ? rawGrpc : raw;
    if (ceiling && ceiling !== s && s.rps > 0.7 * ceiling.rps) s.hint ||= `within 30% of ${ceiling.name} (the load process's own ceiling): the load generator, not the server, may limit this row`;
  }
  report.finishedAt = new Date().toISOString();
  report.machine.loadAvgAfter = loadavg().map((x) => Number(x.toFixed(2)));
  const files = writeReport(report, outDir, stamp);
  console.log(`\nSecureKey load benchmark, ${report.startedAt} → ${report.finishedAt.slice(11, 19)}; ${report.machine.cpus} × ${report.machine.cpuModel}; node ${report.machine.node}; commit ${report.machine.commit}`);
  console.log(`${options.connections} connections (gRPC: calls in flight over ${grpcChannels ?? options.connections} connections, client ${grpcClient}), ${options.durationS} s after ${options.warmupS} s warmup; HTTP load: ${report.machine.httpTool}; load average before ${loadAvgBefore.join(' ')}, after ${report.machine.loadAvgAfter.join(' ')}\n`);
  console.log(formatTable(report));
  const threads = formatThreads(report);
  if (threads) console.log('\n' + threads);
  const warnings = formatWarnings(report);
  if (warnings) console.log('\n' + warnings);
  if (!raw) console.log('\n(no raw scenario in this run: no ratios)');
  if (report.store) {
    const st = report.store;
    console.log(`\nDurable appends (synchronous=FULL, ${st.concurrency} appenders of one event each vs raw node:sqlite inserting batches of ${st.concurrency} rows per transaction, ${st.seconds} s each in alternating slices):`);
    console.log(`  raw ${st.rawEventsPerSec.toLocaleString('en-US')} events/s (${st.rawCommitsPerSec} commits/s); store ${st.storeAppendsPerSec.toLocaleString('en-US')} appends/s (${st.storeCommitsPerSec} commits/s, p50 ${st.storeP50Ms.toFixed(1)} ms, p99 ${st.storeP99Ms.toFixed(1)} ms): ${st.ratio.toFixed(2)} × raw`);
  }
  if (report.replay) {
    const rp = report.replay;
    console.log(`\nReplay: ${rp.events.toLocaleString('en-US')} events (seeded in ${rp.seedSeconds.toFixed(0)} s), every read model rebuilt in ${rp.seconds.toFixed(1)} s = ${rp.eventsPerSec.toLocaleString('en-US')} events/s (${Math.round(rp.events / rp.cpuSeconds).toLocaleString('en-US')} per CPU second), peak RSS ${rp.replayPeakRssMb} MB;`);
    console.log(`  the server on that log: ready in ${rp.serverStartSeconds.toFixed(1)} s, otp-send ${Math.round(rp.serverRps).toLocaleString('en-US')} req/s, RSS ${rp.serverRssMb} MB (peak ${rp.serverPeakRssMb})`);
  }
  console.log('\n' + formatGoals(report));
  if (report.profile) console.log(`\nCPU profile of the server under ${report.profile.scenario} (${report.profile.file}):\n${report.profile.text}`);
  console.log(`\nresults: ${files.json}\nchart:   ${files.svg}\nlogs:    ${logDir}`);
  return report;
};

const report = await main();
if (report.results.some((s) => s.errors > 0)) process.exitCode = 1;
