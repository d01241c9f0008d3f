// The scenarios: what each one sends, to which process, what a successful answer contains, and
// what has to exist before it runs (seeded users, pending codes). Bodies are written to files
// right before each phase (TOTP codes depend on the time), one JSON body per line, "{n}" replaced
// by a number unique to the request (see drivers.ts).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateSync } from 'otplib';
import type { Workload } from './drivers.ts';
import { PRIMED_PHONES_FROM, phoneOf, primeOtpCodes, pushUserId, type Seeded } from './seed.ts';
import type { SecureKeyServer } from './server.ts';

/** half: the lag phase at half the measured rate (scenarios with halfLoad). */
export type Phase = 'warmup' | 'measure' | 'half';

export type BenchOptions = {
  durationS: number;
  warmupS: number;
  connections: number;
  totpUsers: number;
  pushUsers: number;
  otpCodes: number;
  /** totp-verify-long: its users, and the sign-ins each made before. */
  longUsers: number;
  longHistory: number;
};

export type ScenarioContext = {
  options: BenchOptions;
  workDir: string;
  baseline: { http: string; grpc: string };
  /** Server scenarios only. */
  server?: SecureKeyServer;
  seeded?: Seeded;
};

export type Scenario = {
  name: string;
  /** What is measured, for the table and the README. */
  title: string;
  target: 'baseline' | 'server';
  /** Seeded into the store before the server starts. */
  seed?: (o: BenchOptions) => { totpUsers?: number; totpHistory?: number; pushUsers?: number };
  /** Run once the server is up, before the warmup. */
  prime?: (ctx: ScenarioContext) => Promise<void>;
  /** After the prime, the server is stopped and started again on its data directory: the phases
   * then load every stream cold (nothing in the aggregate cache). */
  restartAfterPrime?: boolean;
  /** Each phase sends each of its bodies once and ends (autocannon's amount), instead of running
   * for its duration: for requests that can succeed once each and are too slow to have enough. */
  once?: boolean;
  workload: (ctx: ScenarioContext, phase: Phase) => Workload;
  /** Also measure the projection delay at half the measured rate (`--half-load S`). */
  halfLoad?: boolean;
  /** Requests (warmup + measure) that can succeed; beyond it the answers turn into errors. */
  capacity?: (o: BenchOptions) => { requests: number; raise: string };
};

const bodiesFile = (ctx: ScenarioContext, name: string, phase: Phase, lines: string[]) => {
  const file = join(ctx.workDir, `${name}.${phase}.bodies`);
  writeFileSync(file, lines.join('\n') + '\n');
  return file;
};

const apiKey = (ctx: ScenarioContext) => ({ 'X-API-Key': ctx.seeded!.apiKey });

const OTP_SEND_BODY = '{"phone":"010{n}","purpose":"login"}';
/** Fresh numbers per phase; the primed codes live from PRIMED_PHONES_FROM up. */
const SEND_FROM: Record<Phase, number> = { warmup: 50_000_000, measure: 10_000_000, half: 30_000_000 };

/** Wrong guesses spread over every primed code, round robin: each code takes requests/codes of
 * its 20 attempts (tenant setting otpMaxAttempts: 20). "000000" is right once in a million. */
const wrongGuesses = (ctx: ScenarioContext) =>
  Array.from({ length: ctx.options.otpCodes }, (_, i) => JSON.stringify({ phone: phoneOf(PRIMED_PHONES_FROM + i), code: '000000' }));
const OTP_ATTEMPTS = 20;

/** The users of a phase: warmup and measure get disjoint users (a step is accepted once per user). */
const totpUsersOf = (ctx: ScenarioContext, phase: Phase) => {
  const lines = readFileSync(ctx.seeded!.totpUsersFile, 'utf8').trim().split('\n');
  const { warmupS, durationS } = ctx.options;
  const forWarmup = Math.round((lines.length * warmupS) / (warmupS + durationS));
  return phase === 'warmup' ? lines.slice(0, forWarmup) : lines.slice(forWarmup);
};

/** Each user's code for the step in the middle of the phase: it stays valid (±1 step) for phases
 * up to 60 s. Every request of the phase is then a first, correct code for its step. */
const totpVerifies = (ctx: ScenarioContext, phase: Phase, nextStep = false) => {
  const seconds = phase === 'warmup' ? ctx.options.warmupS : ctx.options.durationS;
  // nextStep: the code of the step after this one (valid from now for about 60 s, and later than any
  // step a prime used).
  const epoch = Math.floor(Date.now() / 1000 + (nextStep ? 30 : seconds / 2));
  return totpUsersOf(ctx, phase).map((line) => {
    const [userId, secret] = line.split('\t') as [string, string];
    return JSON.stringify({ userId, token: generateSync({ secret, epoch }) });
  });
};

/** As long as a real key. */
const RAW_KEY = `2fa_${'x'.repeat(32)}`;
const VERIFY_SMS = '/securekey.v1.SmsOtpService/VerifySmsOtp';
const VERIFY_TOTP = '/securekey.v1.TotpService/VerifyTotp';

/** A workload against the server under test, over REST (a path) or gRPC (a method path). */
const onServer = (ctx: ScenarioContext, transport: Workload['transport'], path: string, bodies: string, expect: string, nStart = 0): Workload => ({
  transport,
  target: transport === 'grpc' ? ctx.server!.grpcAddress : ctx.server!.url,
  path,
  headers: apiKey(ctx),
  bodiesFile: bodies,
  nStart,
  expect,
});

const otpVerify = (transport: Workload['transport']): Scenario => {
  const name = transport === 'grpc' ? 'grpc-otp-verify' : 'otp-verify';
  return {
    name,
    title: transport === 'grpc' ? 'gRPC (h2c) SmsOtpService/VerifySmsOtp, as otp-verify' : 'REST POST /api/v1/otp/verify, a wrong code, spread over many pending codes',
    target: 'server',
    prime: (ctx) => primeOtpCodes(ctx.server!.url, ctx.seeded!.apiKey, ctx.options.otpCodes),
    halfLoad: transport === 'http',
    workload: (ctx, phase) =>
      onServer(ctx, transport, transport === 'grpc' ? VERIFY_SMS : '/api/v1/otp/verify', bodiesFile(ctx, name, phase, wrongGuesses(ctx)), '"verified":false'),
    capacity: (o) => ({ requests: o.otpCodes * OTP_ATTEMPTS, raise: '--otp-codes' }),
  };
};

/** Each user's code of the current step (valid ±1 step), sent once per user: a sign-in the day
 * before the measured one (whose codes are those of the next step). On a commit with stream
 * snapshots, each of these cold loads folds the user's whole stream and leaves a snapshot. */
const primeLongTotpUsers = async (ctx: ScenarioContext, concurrency = 16) => {
  const lines = readFileSync(ctx.seeded!.totpUsersFile, 'utf8').trim().split('\n');
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < lines.length) {
      const [userId, secret] = lines[next++]!.split('\t') as [string, string];
      const token = generateSync({ secret, epoch: Math.floor(Date.now() / 1000) });
      const r = await fetch(`${ctx.server!.url}/api/v1/totp/verify`, { method: 'POST', headers: { 'content-type': 'application/json', ...apiKey(ctx) }, body: JSON.stringify({ userId, token }) });
      const text = await r.text();
      if (!text.includes('"verified":true')) throw new Error(`priming TOTP user ${userId}: ${r.status} ${text.slice(0, 200)}`);
    }
  }));
};

const totpVerify = (transport: Workload['transport']): Scenario => {
  const name = transport === 'grpc' ? 'grpc-totp-verify' : 'totp-verify';
  return {
    name,
    title: transport === 'grpc' ? 'gRPC (h2c) TotpService/VerifyTotp, as totp-verify' : 'REST POST /api/v1/totp/verify, the correct code of an enrolled user, each user once',
    target: 'server',
    seed: (o) => ({ totpUsers: o.totpUsers }),
    workload: (ctx, phase) =>
      onServer(ctx, transport, transport === 'grpc' ? VERIFY_TOTP : '/api/v1/totp/verify', bodiesFile(ctx, name, phase, totpVerifies(ctx, phase)), '"verified":true'),
    capacity: (o) => ({ requests: o.totpUsers, raise: '--totp-users' }),
  };
};

/** TOTP users with long streams, verified cold after a restart: what the aggregate cache does not
 * cover (src/stream-snapshots). */
const totpVerifyLong: Scenario = {
  name: 'totp-verify-long',
  title: 'REST POST /api/v1/totp/verify, users with long histories (--long-history sign-ins each), each once, cold after a restart',
  target: 'server',
  seed: (o) => ({ totpUsers: o.longUsers, totpHistory: o.longHistory }),
  prime: (ctx) => primeLongTotpUsers(ctx),
  restartAfterPrime: true,
  once: true,
  workload: (ctx, phase) => onServer(ctx, 'http', '/api/v1/totp/verify', bodiesFile(ctx, 'totp-verify-long', phase, totpVerifies(ctx, phase, true)), '"verified":true'),
};

const pushSends = (ctx: ScenarioContext) =>
  Array.from({ length: ctx.options.pushUsers }, (_, i) => JSON.stringify({ userId: pushUserId(i), title: 'Sign in?', body: 'Approve the sign-in on your other device' }));

export const SCENARIOS: Scenario[] = [
  {
    name: 'raw',
    title: 'raw node:http: parse the JSON body, answer a JSON envelope',
    target: 'baseline',
    // The same request line, headers and body as otp-send (the key is not checked here).
    workload: (ctx, phase) => ({
      transport: 'http', target: ctx.baseline.http, path: '/api/v1/otp/send', headers: { 'X-API-Key': RAW_KEY },
      bodiesFile: bodiesFile(ctx, 'raw', phase, [OTP_SEND_BODY]), nStart: SEND_FROM[phase], expect: '"success":true',
    }),
  },
  {
    name: 'otp-send',
    title: 'REST POST /api/v1/otp/send, a new phone number each request, console SMS sender',
    target: 'server',
    halfLoad: true,
    workload: (ctx, phase) => onServer(ctx, 'http', '/api/v1/otp/send', bodiesFile(ctx, 'otp-send', phase, [OTP_SEND_BODY]), '"success":true', SEND_FROM[phase]),
  },
  otpVerify('http'),
  totpVerify('http'),
  {
    name: 'push-send',
    title: 'REST POST /api/v1/push/send to users with one device each, console push sender',
    target: 'server',
    seed: (o) => ({ pushUsers: o.pushUsers }),
    workload: (ctx, phase) => onServer(ctx, 'http', '/api/v1/push/send', bodiesFile(ctx, 'push-send', phase, pushSends(ctx)), '"success":true'),
    // The fatigue cap allows 10 pushes per user per 10 minutes (not a tenant setting).
    capacity: (o) => ({ requests: o.pushUsers * 10, raise: '--push-users' }),
  },
  otpVerify('grpc'),
  totpVerify('grpc'),
  totpVerifyLong,
  {
    name: 'raw-grpc',
    title: 'raw h2c gRPC on node:http2 (the ceiling of the gRPC load process)',
    target: 'baseline',
    workload: (ctx, phase) => ({
      transport: 'grpc', target: ctx.baseline.grpc, path: VERIFY_SMS, headers: { 'X-API-Key': RAW_KEY },
      bodiesFile: bodiesFile(ctx, 'raw-grpc', phase, ['{"phone":"01090000000","code":"000000"}']), nStart: 0, expect: '"verified":false',
    }),
  },
];
