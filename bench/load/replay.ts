// A large log, then three figures over it (scenario `replay`, run by main.ts):
// - seed: `--replay-events` events (default 1M) appended straight to a fresh store, as the API
//   records them: OTP cycles (issued, delivered, a wrong attempt, verified: four events per
//   destination), decided by the OTP decider, personal fields sealed, hash-chained, with the API's
//   metadata;
// - replay: every read model rebuilt from that log into a fresh database in its own process
//   (what `npm run admin -- replay` does), events/s and the process's peak RSS;
// - the server started on that directory (it catches up at start-up), then loaded with otp-send:
//   its RSS with the whole log in the store and under full load.
//   node bench/load/replay.ts seed  --events N   (environment as the server's)
//   node bench/load/replay.ts replay             (environment as the server's)
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { callerMetadata, type CallerInfo } from '../../src/app/caller.ts';
import { hashOtpCode } from '../../src/app/otp.ts';
import { replay } from '../../src/app/replay.ts';
import { requesterOf } from '../../src/app/requester.ts';
import { createTenantService } from '../../src/app/tenants.ts';
import { loadConfig } from '../../src/config.ts';
import type { Keyring } from '../../src/crypto/keyring.ts';
import { USER_HASH_PURPOSE } from '../../src/domain/push/streams.ts';
import { type OtpEvent, type OtpIssued, otpDecider, otpStream } from '../../src/domain/otp/index.ts';
import { chainEvents, GENESIS_HASH } from '../../src/eventstore/chain.ts';
import { openStore } from '../../src/eventstore/open.ts';
import { openPrivacy } from '../../src/privacy/open.ts';
import type { PersonalData } from '../../src/privacy/personal-data.ts';
import { nodeProjections, sharedProjections } from '../../projections/index.ts';
import { openReadModelDb } from '../../projections/sql.ts';
import { BENCH_TENANT_SETTINGS } from './seed.ts';

export type ReplayBenchResult = {
  events: number;
  seedSeconds: number;
  /** The rebuild of every read model, in its own process. */
  seconds: number;
  eventsPerSec: number;
  /** CPU time (user + system) of the rebuild's process: on a shared machine, events per CPU
   * second move much less than events per second. */
  cpuSeconds: number;
  replayPeakRssMb: number;
  /** The server on that log: start-up until ready (it catches up first), then under otp-send load. */
  serverStartSeconds: number;
  serverRps: number;
  serverRssMb: number;
  serverPeakRssMb: number;
};

/** One destination's OTP cycle, as the OTP service records it: issued, delivered, a wrong code, the
 * right code; personal fields sealed (the user id, the masked destination, the client IP) and
 * hash-chained over what is stored, as handleCommand does. */
const otpCycle = (keyring: Keyring, personal: PersonalData, caller: CallerInfo, i: number, now: number) => {
  const destination = `+8210${String(10_000_000 + i)}`;
  const stream = otpStream(caller.tenantId, 'sms', keyring.hmac('destination', destination));
  const policy = { ttlSeconds: 3600, maxAttempts: 20, resendCooldownSeconds: 0 };
  const userId = `bench-user-${i % 50_000}`;
  // The user's stream key as the API records it (src/app/user-keys.ts, a user never erased): the
  // read models find the user by it, with no keyed hash of the id per event.
  const userKey = keyring.hmac(USER_HASH_PURPOSE, userId);
  const issue = { otpId: `bench-otp-${i}`, channel: 'sms' as const, purpose: 'login', userId, userKey, masked: '+82 10-****-' + String(i % 10_000).padStart(4, '0'), country: 'KR' };
  let state = otpDecider.initialState();
  const events: OtpEvent[] = [];
  const run = (c: Parameters<typeof otpDecider.decide>[0]) => {
    const es = otpDecider.decide(c, state);
    state = es.reduce(otpDecider.evolve, state);
    events.push(...es);
    return es;
  };
  const [issued] = run({ type: 'IssueOtp', data: { ...issue, codeHash: hashOtpCode(keyring, stream, '123456'), requester: requesterOf(keyring, caller), destinationEnc: keyring.encrypt('destination', destination), now, policy, caps: NO_CAPS } }) as [OtpIssued];
  run({ type: 'RecordOtpDelivery', data: { ref: { ...issue, issuedAt: issued.data.issuedAt }, provider: 'console', ok: true, providerId: null, now } });
  run({ type: 'VerifyOtp', data: { candidateHash: hashOtpCode(keyring, stream, '000000'), now: now + 1000 } });
  run({ type: 'VerifyOtp', data: { candidateHash: hashOtpCode(keyring, stream, '123456'), now: now + 2000 } });
  const metadata = callerMetadata(caller);
  const sealed = personal.seal(events.map((e) => ({ id: randomUUID(), type: e.type, data: e.data as Record<string, unknown>, metadata })));
  return { stream, events: chainEvents(stream, 0, GENESIS_HASH, sealed) };
};

const NO_CAPS = { perRequesterHour: 0, perRequesterDay: 0, burst: 0 };

const peakRssMb = () => Math.round(process.resourceUsage().maxRSS / 1024);

if (import.meta.main) {
  const { positionals, values } = parseArgs({ allowPositionals: true, options: { events: { type: 'string', default: '1000000' } } });
  const config = loadConfig();
  const store = await openStore(config);
  // The key store as the server opens it (bench/load/seed.ts alike): a server started on this
  // log then finds its root key, as it would on a log it wrote itself.
  const privacy = await openPrivacy(config, store, Date.now);
  const { keyring, personal } = privacy;
  try {
    if (positionals[0] === 'seed') {
      const started = performance.now();
      const tenant = await createTenantService({ store, keyring, now: Date.now, webhookTargetProblem: async () => null }).create({ name: 'bench-replay', settings: BENCH_TENANT_SETTINGS });
      const caller: CallerInfo = { tenantId: tenant.tenantId, keyId: tenant.keyId, requestId: 'bench-replay-seed', clientIp: '127.0.0.1' };
      const cycles = Math.ceil(Number(values.events) / 4);
      const now = Date.now() - 3600_000;
      let next = 0;
      // Many appends in flight: group commit writes them a few thousand events per fsync.
      await Promise.all(
        Array.from({ length: 1000 }, async () => {
          while (next < cycles) {
            const { stream, events } = otpCycle(keyring, personal, caller, next++, now);
            await store.appendToStream(stream, events, { expectedRevision: 'no_stream' });
          }
        }),
      );
      console.log(JSON.stringify({ tenantId: tenant.tenantId, apiKey: tenant.apiKey, events: await store.headPosition(), seconds: (performance.now() - started) / 1000 }));
    } else if (positionals[0] === 'replay') {
      const out = mkdtempSync(join(tmpdir(), 'securekey-bench-replay-'));
      const db = openReadModelDb(join(out, 'rebuilt.db'));
      const cpu = process.cpuUsage();
      try {
        const r = await replay({ store, db, projections: [...nodeProjections(keyring), ...sharedProjections] });
        const seconds = r.durationMs / 1000;
        const { user, system } = process.cpuUsage(cpu);
        console.log(JSON.stringify({ events: r.events, seconds, eventsPerSec: Math.round(r.events / seconds), cpuSeconds: (user + system) / 1e6, peakRssMb: peakRssMb(), errors: r.errors }));
      } finally {
        db.close();
        rmSync(out, { recursive: true, force: true });
      }
    } else throw new Error('usage: replay.ts seed --events N | replay');
  } finally {
    privacy.close();
    await store.close();
  }
}
