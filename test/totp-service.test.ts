import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { generate } from 'otplib';
import { createTotpService } from '../src/app/totp.ts';
import { privacyFor } from './helpers/privacy.ts';
import { DomainError } from '../src/domain/errors.ts';
import type { EventStore } from '../src/eventstore/port.ts';
import { createSqliteEventStore } from '../src/eventstore/sqlite/index.ts';

const caller = { tenantId: 'tn_demo', keyId: 'key_1', requestId: 'req_1', clientIp: '127.0.0.1' };
/** 15 s into a 30 s step, so ±30 s never straddles a step boundary by accident. */
const T0 = 1_800_000_015_000;
const step = (ms: number) => Math.floor(ms / 30_000);

let dir: string;
let store: EventStore;
let clock = T0;
let svc: ReturnType<typeof createTotpService>;
let privacy: ReturnType<typeof privacyFor>;
const secretsIssued: string[] = [];

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'securekey-totp-'));
  store = createSqliteEventStore({ path: join(dir, 'events.db'), durable: false });
  privacy = privacyFor(store, () => clock);
  svc = createTotpService({ ...privacy, now: () => clock });
});
after(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

let n = 0;
const newUser = () => `user_${++n}`;
const isCode = (code: string, extras?: object) => (e: unknown) =>
  e instanceof DomainError && e.code === code && (!extras || (assert.deepEqual(e.extras, extras), true));

/** The code an authenticator app shows at `atMs`. */
const codeAt = (secret: string, atMs: number) => generate({ secret, epoch: Math.floor(atMs / 1000) });

const setUp = async (userId = newUser(), opts: { replace?: boolean } = {}) => {
  const res = await svc.setup(caller, { userId, accountName: 'alice@example.com', defaultIssuer: 'Acme Bank', ...opts });
  secretsIssued.push(res.secret);
  return { userId, ...res };
};
const enrolled = async () => {
  const s = await setUp();
  assert.equal((await svc.verify(caller, { userId: s.userId, token: await codeAt(s.secret, clock - 30_000) })).verified, true);
  return s;
};
/** Stored events of a type, personal fields opened. */
const eventsOf = async (type: string) => (await store.readAll()).filter((e) => e.type === type).map(privacy.personal.open);

describe('TOTP setup', () => {
  test('setup returns an otpauth URI, a PNG QR code and the base32 secret; the issuer defaults to the tenant', async () => {
    const { uri, qrCodeDataUrl, secret } = await setUp();
    assert.match(secret, /^[A-Z2-7]{32}$/);
    const url = new URL(uri);
    assert.equal(url.protocol, 'otpauth:');
    assert.equal(url.searchParams.get('secret'), secret);
    assert.equal(url.searchParams.get('issuer'), 'Acme Bank');
    assert.match(decodeURIComponent(url.pathname), /Acme Bank:alice@example.com$/);
    assert.match(qrCodeDataUrl, /^data:image\/png;base64,/);
    assert.deepEqual([...Buffer.from(qrCodeDataUrl.split(',')[1]!, 'base64').subarray(1, 4)], [...Buffer.from('PNG')]);
  });

  test('an issuer in the request wins over the default', async () => {
    const { uri } = await svc.setup(caller, { userId: newUser(), accountName: 'bob', issuer: 'Shop', defaultIssuer: 'Acme' });
    assert.equal(new URL(uri).searchParams.get('issuer'), 'Shop');
  });

  test('the first correct code confirms the enrollment', async () => {
    const { userId, secret } = await setUp();
    const res = await svc.verify(caller, { userId, token: await codeAt(secret, clock) });
    assert.deepEqual({ verified: res.verified, retryAfter: res.retryAfter }, { verified: true, retryAfter: 0 });
    const confirmedEvents = await eventsOf('TotpEnrollmentConfirmed');
    const last = confirmedEvents.at(-1)!;
    assert.equal(last.data.step, step(clock));
    const { hash, prevHash, ...metadata } = last.metadata; // the hash chain (src/eventstore/chain.ts)
    assert.match(String(hash), /^[0-9a-f]{64}$/);
    assert.match(String(prevHash), /^[0-9a-f]{64}$/);
    assert.deepEqual(metadata, { tenantId: 'tn_demo', keyId: 'key_1', requestId: 'req_1', clientIp: '127.0.0.1', userId, userKey: privacy.keyring.hmac('user', userId) });
  });

  test('setup on a pending enrollment replaces it: only the new secret works', async () => {
    const first = await setUp();
    const second = await setUp(first.userId);
    assert.equal((await svc.verify(caller, { userId: first.userId, token: await codeAt(first.secret, clock) })).verified, false);
    assert.equal((await svc.verify(caller, { userId: first.userId, token: await codeAt(second.secret, clock) })).verified, true);
  });

  test('setup on a confirmed enrollment: ALREADY_ENROLLED, unless replace=true', async () => {
    const { userId } = await enrolled();
    await assert.rejects(setUp(userId), isCode('ALREADY_ENROLLED'));
    const replaced = await setUp(userId, { replace: true });
    assert.equal((await svc.verify(caller, { userId, token: await codeAt(replaced.secret, clock) })).verified, true);
  });

  test('verify or delete with nothing set up: NOT_ENROLLED; after delete, NOT_ENROLLED again', async () => {
    const userId = newUser();
    await assert.rejects(svc.verify(caller, { userId, token: '123456' }), isCode('NOT_ENROLLED'));
    await assert.rejects(svc.remove(caller, { userId }), isCode('NOT_ENROLLED'));
    const s = await enrolled();
    assert.equal((await svc.remove(caller, { userId: s.userId })).deleted, true);
    await assert.rejects(svc.verify(caller, { userId: s.userId, token: await codeAt(s.secret, clock) }), isCode('NOT_ENROLLED'));
    await setUp(s.userId); // after delete, a new setup needs no replace
  });
});

describe('TOTP verification', () => {
  test('a code accepted once is refused the second time', async () => {
    const { userId, secret } = await enrolled();
    const token = await codeAt(secret, clock);
    assert.equal((await svc.verify(caller, { userId, token })).verified, true);
    assert.equal((await svc.verify(caller, { userId, token })).verified, false);
  });

  test('two requests racing with the same code: exactly one is verified', async () => {
    const { userId, secret } = await enrolled();
    const token = await codeAt(secret, clock);
    const results = await Promise.all(Array.from({ length: 5 }, () => svc.verify(caller, { userId, token })));
    assert.equal(results.filter((r) => r.verified).length, 1);
  });

  test('a code of an earlier step than one already used is refused', async () => {
    const { userId, secret } = await setUp();
    assert.equal((await svc.verify(caller, { userId, token: await codeAt(secret, clock + 30_000) })).verified, true);
    assert.equal((await svc.verify(caller, { userId, token: await codeAt(secret, clock) })).verified, false);
  });

  test('drift of ±1 step is accepted', async () => {
    const { userId, secret } = await setUp();
    assert.equal((await svc.verify(caller, { userId, token: await codeAt(secret, clock - 30_000) })).verified, true);
    assert.equal((await svc.verify(caller, { userId, token: await codeAt(secret, clock + 30_000) })).verified, true);
    assert.equal((await eventsOf('TotpCodeAccepted')).at(-1)!.data.step, step(clock) + 1);
  });

  test('drift of ±2 steps is refused', async () => {
    const { userId, secret } = await setUp();
    assert.equal((await svc.verify(caller, { userId, token: await codeAt(secret, clock - 60_000) })).verified, false);
    assert.equal((await svc.verify(caller, { userId, token: await codeAt(secret, clock + 60_000) })).verified, false);
  });

  test('the step follows the clock: a code of the current step is accepted a minute later only if still within ±1 step', async () => {
    const { userId, secret } = await setUp();
    const token = await codeAt(secret, clock);
    clock += 60_000;
    assert.equal((await svc.verify(caller, { userId, token })).verified, false);
    assert.equal((await svc.verify(caller, { userId, token: await codeAt(secret, clock) })).verified, true);
  });

  test('a malformed token is a wrong token, not an error; an empty one is INVALID_ARGUMENT', async () => {
    const { userId } = await setUp();
    assert.equal((await svc.verify(caller, { userId, token: 'abcdef' })).verified, false);
    assert.equal((await svc.verify(caller, { userId, token: '12345' })).verified, false);
    await assert.rejects(svc.verify(caller, { userId, token: '' }), isCode('INVALID_ARGUMENT'));
  });
});

describe('TOTP throttling', () => {
  test('failures bring growing delays (RATE_LIMITED with retryAfterSeconds), and a correct code resets them', async () => {
    const { userId, secret } = await setUp();
    const wrong = async () => {
      const good = await codeAt(secret, clock);
      return svc.verify(caller, { userId, token: good === '000000' ? '000001' : '000000' });
    };
    assert.equal((await wrong()).retryAfter, 0);
    assert.equal((await wrong()).retryAfter, 0);
    assert.deepEqual([(await wrong()).verified, (await wrong().catch((e) => e)).code], [false, 'RATE_LIMITED']);
    // failures: 3 → wait 1 s
    await assert.rejects(svc.verify(caller, { userId, token: await codeAt(secret, clock) }), isCode('RATE_LIMITED', { retryAfterSeconds: 1 }));
    clock += 1000;
    assert.equal((await wrong()).retryAfter, 2); // failures: 4 → wait 2 s
    clock += 1000;
    await assert.rejects(wrong(), isCode('RATE_LIMITED', { retryAfterSeconds: 1 }));
    clock += 1000;
    assert.equal((await wrong()).retryAfter, 4); // failures: 5 → wait 4 s
    clock += 4000;
    assert.equal((await wrong()).retryAfter, 8);
    clock += 8000;
    // recovers: a correct code after the delay is accepted and resets the count
    const ok = await svc.verify(caller, { userId, token: await codeAt(secret, clock) });
    assert.deepEqual([ok.verified, ok.retryAfter], [true, 0]);
    assert.equal((await wrong()).retryAfter, 0);
    assert.equal((await wrong()).retryAfter, 0);
  });

  test('the delay is capped at 30 s (a victim behind the same requester waits no longer), and is per user', async () => {
    const { userId, secret } = await setUp();
    let last = 0;
    for (let i = 0; i < 14; i++) {
      const res = await svc.verify(caller, { userId, token: (await codeAt(secret, clock)) === '999999' ? '999998' : '999999' });
      last = res.retryAfter;
      clock += res.retryAfter * 1000;
    }
    assert.equal(last, 30);
    const other = await setUp();
    assert.equal((await svc.verify(caller, { userId: other.userId, token: await codeAt(other.secret, clock) })).verified, true);
  });
});

describe('TOTP storage', () => {
  test('no TOTP secret, account name, user id or client IP appears in clear in any stored event or stream name', async () => {
    const all = await store.readAll();
    assert.ok(all.length > 20 && secretsIssued.length > 10);
    const text = JSON.stringify(all.map((e) => [e.streamName, e.data, e.metadata]));
    for (const secret of secretsIssued) assert.ok(!text.includes(secret), 'secret found in the store');
    assert.ok(!text.includes('alice@example.com') && !text.includes('a***@'));
    assert.doesNotMatch(text, /user_\d/);
    assert.ok(!text.includes(caller.clientIp));
    // Sealed with the user's data key (the secret under the keyring's key as well); opened, as the decider reads them.
    const started = all.find((e) => e.type === 'TotpEnrollmentStarted')!;
    assert.match(String(started.data.secretEnc), /^pd1\./);
    const opened = privacy.personal.open(started);
    assert.match(String(opened.data.secretEnc), /^v1\./);
    assert.equal(opened.data.accountNameMasked, 'a***@example.com');
    assert.equal(opened.metadata.clientIp, caller.clientIp);
  });
});
