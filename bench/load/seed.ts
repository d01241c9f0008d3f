// Seeding, before and after the server starts.
// - seedStore (its own process, `node bench/load/seed.ts`, before the server starts; the same
//   environment as the server): a tenant with limits raised through its settings, TOTP users
//   already enrolled and confirmed — the events their decider decides, sealed (personal data) and
//   hash-chained as handleCommand does, appended straight to the store, many appends at once so
//   group commit makes it quick — and push devices
//   through the push service. A TOTP step is single-use, so every TOTP verify needs its own user.
// - primeOtpCodes (after the server starts): pending SMS codes sent through the REST API, for the
//   verify scenarios to guess at.
import { requesterOf } from '../../src/app/requester.ts';
import { randomBytes, randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { callerMetadata, type CallerInfo } from '../../src/app/caller.ts';
import { createEventLog } from '../../src/app/event-log.ts';
import { createPushService } from '../../src/app/push.ts';
import { createUserKeys } from '../../src/app/user-keys.ts';
import { createTenantService } from '../../src/app/tenants.ts';
import { loadConfig } from '../../src/config.ts';
import type { Keyring } from '../../src/crypto/keyring.ts';
import { totpDecider, totpStreamName } from '../../src/domain/totp/decider.ts';
import type { TotpCommand, TotpEvent } from '../../src/domain/totp/types.ts';
import { chainEvents, GENESIS_HASH } from '../../src/eventstore/chain.ts';
import { openStore } from '../../src/eventstore/open.ts';
import type { EventStore } from '../../src/eventstore/port.ts';
import { openPrivacy, type Privacy } from '../../src/privacy/open.ts';
import type { PersonalData } from '../../src/privacy/personal-data.ts';
import { createPushSenderFromEnv } from '../../src/senders/push/from-env.ts';

export const totpUserId = (i: number) => `bench-totp-${i}`;
export const pushUserId = (i: number) => `bench-push-${i}`;
/** National Korean mobile numbers 010-XXXX-XXXX; n from 10,000,000 to 99,999,999. */
export const phoneOf = (n: number) => `010${n}`;
/** Phones of the primed codes. */
export const PRIMED_PHONES_FROM = 90_000_000;

/** Raised so that the load measures the path, not the abuse controls (each stays within its range). */
export const BENCH_TENANT_SETTINGS = {
  smsDailyQuota: 10_000_000,
  smsPerDestinationHour: 0,
  smsPerDestinationDay: 0,
  otpMaxAttempts: 20,
  otpTtlSeconds: 3600,
  pushMaxPending: 0,
};

export type Seeded = { tenantId: string; apiKey: string; totpUsersFile: string; totpUsers: number; pushUsers: number; seconds: number };

/** A 160-bit TOTP secret in base32 (RFC 4648), as otplib's generateSecret makes, from one big random read. */
const secretsBase32 = (count: number): string[] => {
  const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const bytes = randomBytes(20 * count);
  return Array.from({ length: count }, (_, i) => {
    let out = '';
    for (let bit = 0; bit < 160; bit += 5) {
      const at = i * 20 + (bit >> 3);
      const two = (bytes[at]! << 8) | (bytes[at + 1] ?? 0);
      out += ALPHABET[(two >> (11 - (bit & 7))) & 31];
    }
    return out;
  });
};

/** Runs `count` tasks, `concurrency` at a time. */
const inParallel = async (count: number, concurrency: number, task: (i: number) => Promise<unknown>) => {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, async () => {
    while (next < count) await task(next++);
  }));
};

/** One user enrolled and confirmed 100 steps (50 minutes) ago, as the TOTP service records it (same
 * events, metadata and chain, in the stream of the user's key as the API finds it: `userKey`, from
 * UserKeys.of): the next verify is the everyday sign-in. With `history`, the user has signed in
 * that many times more before, once a day (every tenth sign-in after one wrong code, as
 * TotpCodeRejected then TotpCodeAccepted): a long stream, as years of use leave it. */
export const enrolledTotpUser = (keyring: Keyring, personal: PersonalData, caller: CallerInfo, user: { userId: string; userKey: string }, secret: string, now: number, history = 0) => {
  const DAY = 86_400_000;
  const stepNow = Math.floor(now / 30_000) - 100;
  const requester = requesterOf(keyring, caller);
  const secretEnc = keyring.encrypt('totp', secret);
  const decided: TotpEvent[] = [];
  let state = totpDecider.initialState();
  const decide = (command: TotpCommand) => {
    const events = totpDecider.decide(command, state);
    state = events.reduce(totpDecider.evolve, state);
    decided.push(...events);
  };
  const since = now - history * DAY;
  decide({ type: 'StartTotpEnrollment', data: { secretEnc, algorithm: 'sha1', digits: 6, period: 30, issuer: 'SecureKey', accountNameMasked: 'b***', replace: false, now: since } });
  decide({ type: 'VerifyTotpCode', data: { secretEnc, matchedStep: stepNow - history, now: since, requester } });
  for (let day = 1, uses = 0; uses < history; day++) {
    const at = since + day * DAY - 3_600_000;
    if (day % 10 === 0 && uses + 1 < history) {
      decide({ type: 'VerifyTotpCode', data: { secretEnc, matchedStep: null, now: at, requester } });
      uses++;
    }
    decide({ type: 'VerifyTotpCode', data: { secretEnc, matchedStep: stepNow - history + uses + 1, now: at, requester } });
    uses++;
  }
  const stream = totpStreamName(caller.tenantId, user.userKey);
  const metadata = { ...callerMetadata(caller), ...user };
  const sealed = personal.seal(decided.map((e) => ({ id: randomUUID(), type: e.type, data: e.data, metadata })));
  return { stream, events: chainEvents(stream, 0, GENESIS_HASH, sealed) };
};

/** totpHistory: sign-ins each TOTP user already made (events in their stream beyond the two of the enrollment). */
export const seedStore = async (o: { store: EventStore; privacy: Privacy; totpUsers: number; totpHistory?: number; pushUsers: number; totpUsersFile: string }): Promise<Seeded> => {
  const started = performance.now();
  const now = Date.now;
  const { keyring, personal } = o.privacy;
  // The bench tenant has no webhook: no target to check.
  const tenant = await createTenantService({ store: o.store, keyring, now, webhookTargetProblem: async () => null }).create({ name: 'bench', settings: BENCH_TENANT_SETTINGS });
  const caller: CallerInfo = { tenantId: tenant.tenantId, keyId: tenant.keyId, requestId: 'bench-seed', clientIp: '127.0.0.1' };

  // The API's own derivation of a user's stream key (src/app/user-keys.ts), not a copy of it.
  const users = createUserKeys({ store: o.store, keyring });
  const secrets = secretsBase32(o.totpUsers);
  const history = o.totpHistory ?? 0;
  await inParallel(o.totpUsers, history > 100 ? 20 : 500, async (i) => {
    const userId = totpUserId(i);
    const { stream, events } = enrolledTotpUser(keyring, personal, caller, { userId, userKey: await users.of(caller.tenantId, userId) }, secrets[i]!, now(), history);
    await o.store.appendToStream(stream, events, { expectedRevision: 'no_stream' });
  });
  writeFileSync(o.totpUsersFile, secrets.map((s, i) => `${totpUserId(i)}\t${s}\n`).join(''));

  const events = createEventLog(o.store, personal);
  const push = createPushService({ events, users, keyring, now, sender: await createPushSenderFromEnv({ SECUREKEY_PUSH_SENDER: 'console' }), log: console });
  await inParallel(o.pushUsers, 200, (i) => push.registerDevice(caller, { userId: pushUserId(i), fcmToken: `bench-fcm-token-${i}`, platform: 'android', deviceName: 'bench' }));

  return { tenantId: tenant.tenantId, apiKey: tenant.apiKey, totpUsersFile: o.totpUsersFile, totpUsers: o.totpUsers, pushUsers: o.pushUsers, seconds: (performance.now() - started) / 1000 };
};

/** Sends `count` SMS codes to phoneOf(PRIMED_PHONES_FROM + i) through the API. */
export const primeOtpCodes = async (url: string, apiKey: string, count: number, concurrency = 32) => {
  await inParallel(count, concurrency, async (i) => {
    const r = await fetch(`${url}/api/v1/otp/send`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': apiKey },
      body: JSON.stringify({ phone: phoneOf(PRIMED_PHONES_FROM + i), purpose: 'login' }),
    });
    const text = await r.text();
    if (r.status !== 200) throw new Error(`priming OTP code ${i}: ${r.status} ${text.slice(0, 200)}`);
  });
};

if (import.meta.main) {
  const { values } = parseArgs({ options: { 'totp-users': { type: 'string', default: '0' }, 'totp-history': { type: 'string', default: '0' }, 'push-users': { type: 'string', default: '0' }, 'totp-users-file': { type: 'string' } } });
  const config = loadConfig();
  const store = await openStore(config);
  const privacy = await openPrivacy(config, store, Date.now);
  try {
    const seeded = await seedStore({
      store,
      privacy,
      totpUsers: Number(values['totp-users']),
      totpHistory: Number(values['totp-history']),
      pushUsers: Number(values['push-users']),
      totpUsersFile: values['totp-users-file'] ?? `${config.dataDir}/bench-totp-users.tsv`,
    });
    console.log(JSON.stringify(seeded));
  } finally {
    privacy.close();
    await store.close();
  }
}
