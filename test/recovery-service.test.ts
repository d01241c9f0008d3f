// Recovery codes through the application service on a real SQLite store: shown once and stored as
// keyed hashes, single use under races, TOTP's throttle, whole-set replacement, input checked
// before anything is written, the user id only where TOTP's events carry it.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createRecoveryService, drawRecoveryCode } from '../src/app/recovery.ts';
import { privacyFor } from './helpers/privacy.ts';
import { DomainError } from '../src/domain/errors.ts';
import { RECOVERY_ALPHABET } from '../src/domain/recovery/code.ts';
import type { EventStore } from '../src/eventstore/port.ts';
import { createSqliteEventStore } from '../src/eventstore/sqlite/index.ts';

const caller = (i = 0) => ({ tenantId: 'tn_demo', keyId: 'key_1', requestId: `req_${i}`, clientIp: '127.0.0.1' });
const T0 = 1_800_000_000_000;

let dir: string;
let store: EventStore;
let clock = T0;
let svc: ReturnType<typeof createRecoveryService>;
let privacy: ReturnType<typeof privacyFor>;
let ids = 0;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'securekey-recovery-'));
  store = createSqliteEventStore({ path: join(dir, 'events.db'), durable: false });
  privacy = privacyFor(store, () => clock);
  svc = createRecoveryService({ ...privacy, now: () => clock, newId: () => `set_${++ids}` });
});
after(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

let n = 0;
const newUser = () => `user_${++n}`;
const isCode = (code: string) => (e: unknown) => e instanceof DomainError && e.code === code;
const outcome = (r: PromiseSettledResult<{ verified: boolean }>) =>
  r.status === 'fulfilled' ? `verified:${r.value.verified}` : r.reason instanceof DomainError ? r.reason.code : `unexpected ${r.reason}`;
const tally = (xs: string[]) => xs.reduce<Record<string, number>>((m, x) => ((m[x] = (m[x] ?? 0) + 1), m), {});
/** Nothing appended while `run` is refused with `code`. */
const refusedWithNothingWritten = async (code: string, run: () => Promise<unknown>) => {
  const head = await store.headPosition();
  await assert.rejects(run(), isCode(code));
  assert.equal(await store.headPosition(), head, `${code} appended nothing`);
};

describe('recovery codes, in process', () => {
  test('a set of the asked size: distinct codes of 12 symbols of the alphabet in three groups of four', async () => {
    const { codes } = await svc.generate(caller(), { userId: newUser(), count: 10 });
    assert.equal(codes.length, 10);
    assert.equal(new Set(codes).size, 10);
    for (const c of codes) assert.match(c, new RegExp(`^[${RECOVERY_ALPHABET}]{4}-[${RECOVERY_ALPHABET}]{4}-[${RECOVERY_ALPHABET}]{4}$`));
  });

  test('drawn symbols are spread over the whole alphabet', () => {
    const seen = new Set(Array.from({ length: 200 }, drawRecoveryCode).join(''));
    assert.equal(seen.size, RECOVERY_ALPHABET.length);
  });

  test('codes are shown once and stored only as keyed hashes; the user id only sealed in the metadata and as a keyed hash in the stream name, as with TOTP', async () => {
    const userId = 'alice@example.com';
    const from = await store.headPosition();
    const { codes } = await svc.generate(caller(), { userId, count: 10 });
    await svc.verify(caller(), { userId, code: codes[0]! });
    await svc.verify(caller(), { userId, code: 'zzzz-zzzz-zzzz' });
    const events = await store.readAll({ fromPosition: from });
    assert.deepEqual(events.map((e) => e.type), ['RecoveryCodesGenerated', 'RecoveryCodeUsed', 'RecoveryCodeRejected']);
    const everything = JSON.stringify(events.map((e) => [e.streamName, e.data]));
    for (const c of codes) {
      assert.ok(!everything.includes(c) && !everything.includes(c.replaceAll('-', '')), 'no code in clear');
    }
    assert.ok(!everything.includes(userId), 'no user id in stream names or data');
    assert.ok(!JSON.stringify(events.map((e) => e.metadata)).includes(userId), 'the user id in the metadata is sealed');
    for (const e of events) {
      assert.equal(privacy.personal.open(e).metadata.userId, userId);
      assert.equal(e.streamName, `recovery-tn_demo.${privacy.keyring.hmac('user', userId)}`);
    }
    const hashes = events[0]!.data.codeHashes as string[];
    assert.equal(hashes.length, 10);
    for (const h of hashes) assert.match(h, /^[0-9a-f]{64}$/);
    const status = await svc.status(caller(), { userId });
    assert.deepEqual(Object.keys(status).sort(), ['enrolled', 'generatedAt', 'remaining', 'total'], 'the codes are never shown again');
  });

  test('each code works once, typed in any case with spaces or dashes; the count goes down', async () => {
    const userId = newUser();
    const { codes } = await svc.generate(caller(), { userId, count: 10 });
    const first = await svc.verify(caller(), { userId, code: ` ${codes[0]!.toUpperCase().replaceAll('-', ' ')} ` });
    assert.deepEqual([first.verified, first.remaining, first.retryAfter], [true, 9, 0]);
    const again = await svc.verify(caller(), { userId, code: codes[0]! });
    assert.deepEqual([again.verified, again.remaining], [false, 9]);
    const second = await svc.verify(caller(), { userId, code: codes[1]!.replaceAll('-', '') });
    assert.deepEqual([second.verified, second.remaining], [true, 8]);
    assert.deepEqual(await svc.status(caller(), { userId }), { enrolled: true, remaining: 8, total: 10, generatedAt: clock });
  });

  test('50 concurrent uses of one code: exactly one verified, one RecoveryCodeUsed in the log', async () => {
    const userId = newUser();
    const { codes } = await svc.generate(caller(), { userId, count: 10 });
    const from = await store.headPosition();
    const results = await Promise.allSettled(Array.from({ length: 50 }, (_, i) => svc.verify(caller(i), { userId, code: codes[4]! })));
    assert.deepEqual(tally(results.map(outcome)), { 'verified:true': 1, 'verified:false': 49 });
    const events = await store.readAll({ fromPosition: from });
    assert.equal(events.filter((e) => e.type === 'RecoveryCodeUsed').length, 1);
    assert.deepEqual(new Set(events.filter((e) => e.type === 'RecoveryCodeRejected').map((e) => e.data.reason)), new Set(['used']));
    assert.equal((await svc.status(caller(), { userId })).remaining, 9);
  });

  test('50 concurrent uses of all ten codes, five racers each: each code succeeds exactly once and none is left', async () => {
    const userId = newUser();
    const { codes } = await svc.generate(caller(), { userId, count: 10 });
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => svc.verify(caller(i), { userId, code: codes[i % 10]! }).then((r) => (r.verified ? codes[i % 10] : null))));
    const winners = results.filter((c) => c !== null);
    assert.deepEqual([...winners].sort(), [...codes].sort());
    assert.equal((await svc.status(caller(), { userId })).remaining, 0);
  });

  test("50 concurrent wrong codes: failures counted exactly; once TOTP's delay starts, RATE_LIMITED and nothing written", async () => {
    const userId = newUser();
    const { codes } = await svc.generate(caller(), { userId, count: 10 });
    const from = await store.headPosition();
    const results = await Promise.allSettled(Array.from({ length: 50 }, (_, i) => svc.verify(caller(i), { userId, code: 'zzzz-zzzz-zzzz' })));
    assert.deepEqual(tally(results.map(outcome)), { 'verified:false': 3, RATE_LIMITED: 47 });
    const failures = (await store.readAll({ fromPosition: from })).map((e) => e.data.failures);
    assert.deepEqual(failures, [1, 2, 3]);
    // The right code waits too, then works.
    await refusedWithNothingWritten('RATE_LIMITED', () => svc.verify(caller(), { userId, code: codes[0]! }));
    clock += 1000;
    assert.equal((await svc.verify(caller(), { userId, code: codes[0]! })).verified, true);
  });

  test('a wrong code answers how long to wait once the delay starts', async () => {
    const userId = newUser();
    await svc.generate(caller(), { userId, count: 10 });
    const answers = [];
    for (let i = 0; i < 3; i++) answers.push((await svc.verify(caller(), { userId, code: 'zzzz-zzzz-zzzz' })).retryAfter);
    assert.deepEqual(answers, [0, 0, 1]);
  });

  test('regenerating replaces the whole set (only with replace): the old codes stop working', async () => {
    const userId = newUser();
    const old = await svc.generate(caller(), { userId, count: 10 });
    await refusedWithNothingWritten('ALREADY_ENROLLED', () => svc.generate(caller(), { userId, count: 10 }));
    const fresh = await svc.generate(caller(), { userId, count: 6, replace: true });
    assert.equal(fresh.codes.length, 6);
    assert.equal((await svc.verify(caller(), { userId, code: old.codes[1]! })).verified, false);
    const r = await svc.verify(caller(), { userId, code: fresh.codes[1]! });
    assert.deepEqual([r.verified, r.remaining], [true, 5]);
  });

  test('deleted codes stop working: NOT_ENROLLED', async () => {
    const userId = newUser();
    const { codes } = await svc.generate(caller(), { userId, count: 10 });
    await svc.remove(caller(), { userId });
    await refusedWithNothingWritten('NOT_ENROLLED', () => svc.verify(caller(), { userId, code: codes[0]! }));
    assert.deepEqual(await svc.status(caller(), { userId }), { enrolled: false, remaining: 0, total: 0, generatedAt: 0 });
  });

  test('hostile input is refused before anything is written: long or malformed code, long or empty user id, long purpose, count out of range, unknown user', async () => {
    const userId = newUser();
    await svc.generate(caller(), { userId, count: 10 });
    await refusedWithNothingWritten('INVALID_ARGUMENT', () => svc.verify(caller(), { userId, code: 'k'.repeat(65) }));
    await refusedWithNothingWritten('INVALID_ARGUMENT', () => svc.verify(caller(), { userId, code: '   ' }));
    await refusedWithNothingWritten('INVALID_ARGUMENT', () => svc.verify(caller(), { userId, code: 'k7mq-2xw9' }));
    await refusedWithNothingWritten('INVALID_ARGUMENT', () => svc.verify(caller(), { userId, code: 'k7mq-2xw9-hc4t', purpose: 'p'.repeat(65) }));
    await refusedWithNothingWritten('INVALID_ARGUMENT', () => svc.verify(caller(), { userId: 'u'.repeat(257), code: 'k7mq-2xw9-hc4t' }));
    await refusedWithNothingWritten('INVALID_ARGUMENT', () => svc.generate(caller(), { userId: 'u'.repeat(257), count: 10 }));
    await refusedWithNothingWritten('INVALID_ARGUMENT', () => svc.generate(caller(), { userId: '', count: 10 }));
    await refusedWithNothingWritten('INVALID_ARGUMENT', () => svc.generate(caller(), { userId: newUser(), count: 4 }));
    await refusedWithNothingWritten('INVALID_ARGUMENT', () => svc.generate(caller(), { userId: newUser(), count: 21 }));
    await refusedWithNothingWritten('NOT_ENROLLED', () => svc.verify(caller(), { userId: newUser(), code: 'k7mq-2xw9-hc4t' }));
    await refusedWithNothingWritten('NOT_ENROLLED', () => svc.remove(caller(), { userId: newUser() }));
  });

  test("one tenant's codes do not work for another tenant's user of the same id", async () => {
    const userId = newUser();
    const { codes } = await svc.generate(caller(), { userId, count: 10 });
    await assert.rejects(svc.verify({ ...caller(), tenantId: 'tn_other' }, { userId, code: codes[0]! }), isCode('NOT_ENROLLED'));
    await svc.generate({ ...caller(), tenantId: 'tn_other' }, { userId, count: 10 });
    assert.equal((await svc.verify({ ...caller(), tenantId: 'tn_other' }, { userId, code: codes[0]! })).verified, false);
  });
});
