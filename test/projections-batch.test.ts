// Read models applied a batch at a time (evolveBatch: statements looked up once, counts added up in
// memory) equal the same read models applied one event at a time through evolve, over a log that
// mixes tenants, days, countries, failed deliveries, locks, resets, TOTP and an erasure; and a
// replay (its query-only indexes built at the end, pragmas of a bulk load) gives the same tables
// and the same indexes as the live file, and leaves the file in WAL mode.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DatabaseSync } from 'node:sqlite';
import { after, before, test } from 'node:test';
import { nodeProjections, sharedProjections } from '../projections/index.ts';
import { createProjectionRunner, type Projection } from '../projections/runtime.ts';
import { openReadModelDb } from '../projections/sql.ts';
import { replay } from '../src/app/replay.ts';
import { createKeyring } from '../src/crypto/keyring.ts';
import { otpStream } from '../src/domain/otp/stream.ts';
import type { EventStore, NewEvent } from '../src/eventstore/port.ts';
import { createSqliteEventStore } from '../src/eventstore/sqlite/index.ts';

const DAY = 86_400_000;
const T0 = Date.UTC(2027, 2, 1, 22, 0, 0);
const keyring = createKeyring(Buffer.alloc(32, 7));
let dir: string;
let store: EventStore;

/** The events the OTP, TOTP and user services record, with the fields the read models read. */
const seed = async () => {
  // tenant_1 has a webhook URL for the middle of the log: its outcome events then become deliveries.
  const tenantEvent = (type: string, data: Record<string, unknown>) => store.appendToStream('tenant-tenant_1', [{ type, data: { tenantId: 'tenant_1', at: T0, ...data }, metadata: { tenantId: 'tenant_1' } }]);
  await tenantEvent('TenantCreated', { name: 'one', settings: {} });
  const appends: Promise<unknown>[] = [];
  for (let i = 0; i < 400; i++) {
    if (i === 100 || i === 300) {
      await Promise.all(appends);
      await tenantEvent('TenantSettingsChanged', { settings: { webhookUrl: i === 100 ? 'https://hooks.example/one' : '' } });
    }
    const tenantId = `tenant_${i % 3}`;
    const channel = i % 5 === 0 ? 'email' : 'sms';
    const country = channel === 'email' ? null : ['KR', 'US', 'GB'][i % 3];
    const stream = otpStream(tenantId, channel, keyring.hmac('destination', `dest-${i % 150}`));
    // Times spread over four days, a few out of order (clocks of several nodes).
    const issuedAt = T0 + i * 900_000 - (i % 17 === 0 ? 3 * DAY : 0);
    const userId = `user_${i % 40}`;
    const ref = { otpId: `otp_${i}`, channel, purpose: 'login', userId, userKey: i % 4 === 0 ? null : keyring.hmac('user', userId), masked: '***', country, issuedAt };
    const meta = { tenantId, keyId: `key_${tenantId}`, requestId: `req_${i}`, clientIp: '203.0.113.9' };
    const events: NewEvent[] = [{ type: 'OtpIssued', data: { ...ref, requester: `requester_${i % 7}`, expiresAt: issuedAt + 600_000, maxAttempts: 3, supersedes: null } }];
    if (i % 9 === 0) events.push({ type: 'OtpDeliveryFailed', data: { ...ref, provider: 'http', error: 'refused' } });
    else {
      events.push({ type: 'OtpDeliverySucceeded', data: { ...ref, provider: 'console', providerId: null, deliveredAt: issuedAt } });
      if (i % 2 === 0) events.push({ type: 'OtpAttemptFailed', data: { ...ref, attempts: 1, attemptsRemaining: 2, attemptedAt: issuedAt + 1000 } });
      if (i % 11 === 0) events.push({ type: 'OtpLocked', data: { ...ref, attempts: 3, lockedAt: issuedAt + 2000 } });
      else events.push({ type: 'OtpVerified', data: { ...ref, attempts: 1, attemptsRemaining: 2, verifiedAt: issuedAt + 3000 } });
    }
    if (i % 50 === 49) events.push({ type: 'OtpLimitsReset', data: { channel, at: issuedAt + 4000 } });
    appends.push(store.appendToStream(stream, events.map((e) => ({ ...e, metadata: meta }))));
    if (i % 10 === 0) {
      const userKey = keyring.hmac('user', userId);
      appends.push(store.appendToStream(`totp-${tenantId}.${userKey}`, [{ type: 'TotpCodeAccepted', data: { step: i, at: issuedAt + 5000 }, metadata: { ...meta, userKey } }]));
    }
  }
  await Promise.all(appends);
  // A send three days old (another node's clock) between two sends of the same time: the second
  // one's prune must still find it, though the first one's pruned up to the same time.
  for (const [i, issuedAt] of [[900, T0 + 5 * DAY], [901, T0 + 2 * DAY], [902, T0 + 5 * DAY]]) {
    const stream = otpStream('tenant_0', 'sms', keyring.hmac('destination', `late-${i}`));
    const ref = { otpId: `otp_${i}`, channel: 'sms', purpose: 'login', userId: null, userKey: null, masked: '***', country: 'KR', issuedAt };
    await store.appendToStream(stream, [{ type: 'OtpIssued', data: { ...ref, requester: null, expiresAt: issuedAt + 600_000, maxAttempts: 3, supersedes: null }, metadata: { tenantId: 'tenant_0' } }]);
  }
  const erased = keyring.hmac('user', 'user_3');
  await store.appendToStream(`user-tenant_0.${erased}`, [{ type: 'UserErased', data: { erasureId: 'er_1', erasedUserKey: erased, generation: 1, at: T0 + 5 * DAY }, metadata: { tenantId: 'tenant_0' } }]);
};

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'securekey-batch-'));
  store = createSqliteEventStore({ path: join(dir, 'events.db'), durable: false });
  await seed();
});
after(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

const tables = (db: DatabaseSync) =>
  (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as { name: string }[]).map((r) => r.name);
const dump = (db: DatabaseSync) => Object.fromEntries(tables(db).map((t) => [t, db.prepare(`SELECT * FROM "${t}" ORDER BY rowid`).all()]));
const indexes = (db: DatabaseSync) => db.prepare("SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name").all();

const build = async (name: string, projections: Projection[], batchSize: number) => {
  const db = openReadModelDb(join(dir, name));
  const runner = createProjectionRunner({ store, db, projections, batchSize });
  await runner.start();
  await runner.stop();
  return db;
};

test('every read model applied in batches equals the same read model applied one event at a time', async () => {
  const all = () => [...nodeProjections(keyring), ...sharedProjections];
  const oneByOne = await build('one-by-one.db', all().map((p) => ({ ...p, evolveBatch: undefined })), 1);
  const batched = await build('batched.db', all(), 64);
  try {
    const [a, b] = [dump(oneByOne), dump(batched)];
    for (const t of ['otp_sends', 'otp_tenant_daily', 'otp_stats_daily', 'insights_hourly', 'insights_daily', 'mfa_verifications', 'audit_log', 'webhook_deliveries']) assert.ok((a[t] as unknown[]).length > 0, `${t} has rows`);
    assert.deepEqual(b, a);
  } finally {
    oneByOne.close();
    batched.close();
  }
});

test('a replay into a fresh file equals the live read models, has the same indexes and is left in WAL mode', async () => {
  const live = await build('live.db', nodeProjections(keyring), 7);
  const fresh = openReadModelDb(join(dir, 'rebuilt.db'));
  try {
    const r = await replay({ store, db: fresh, projections: nodeProjections(keyring), verify: live });
    assert.deepEqual(r.errors, []);
    assert.equal(r.verify!.ok, true, JSON.stringify(r.verify!.tables));
    assert.deepEqual(indexes(fresh), indexes(live));
    assert.equal((fresh.prepare('PRAGMA journal_mode').get() as { journal_mode: string }).journal_mode, 'wal');
    assert.equal((fresh.prepare('PRAGMA synchronous').get() as { synchronous: number }).synchronous, 1);
  } finally {
    live.close();
    fresh.close();
  }
});

test('when a batch throws, the events before the failing one are applied and the projection stops exactly at it', async () => {
  const logDir = await mkdtemp(join(tmpdir(), 'securekey-batch-fail-'));
  const log = createSqliteEventStore({ path: join(logDir, 'events.db'), durable: false });
  const db = openReadModelDb(join(logDir, 'rm.db'));
  const sum: Projection = {
    name: 'sum',
    canHandle: ['Added'],
    init: (d) => d.exec('CREATE TABLE IF NOT EXISTS sum (position INTEGER PRIMARY KEY, n INTEGER NOT NULL)'),
    evolve: (d, e) => {
      if (e.data.n === 13) throw new Error('unlucky');
      d.prepare('INSERT INTO sum (position, n) VALUES (?, ?)').run(e.position, e.data.n as number);
    },
    evolveBatch: (d, events) => {
      const insert = d.prepare('INSERT INTO sum (position, n) VALUES (?, ?)');
      for (const e of events) insert.run(e.position, e.data.n as number); // writes the 13 too...
      if (events.some((e) => e.data.n === 13)) throw new Error('unlucky'); // ...then throws: all of it is undone
    },
  };
  const failures: number[] = [];
  const runner = createProjectionRunner({ store: log, db, projections: [sum], batchSize: 50, onError: (_n, _e, f) => f && failures.push(f.position), retry: { baseMs: 60_000 } });
  try {
    let bad = 0;
    for (let n = 1; n <= 20; n++) {
      const r = await log.appendToStream('adds', [{ type: 'Added', data: { n } }]);
      if (n === 13) bad = r.position;
    }
    await runner.start();
    assert.deepEqual(failures, [bad]);
    assert.equal(runner.checkpoints().sum, bad - 1);
    assert.deepEqual((db.prepare('SELECT n FROM sum ORDER BY position').all() as { n: number }[]).map((r) => r.n), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  } finally {
    await runner.stop();
    await log.close();
    db.close();
    await rm(logDir, { recursive: true, force: true });
  }
});

test('a replay drops a rare index and builds it back just before the first batch with an event that needs it, also when that batch is taken again event by event', async () => {
  const logDir = await mkdtemp(join(tmpdir(), 'securekey-rare-index-'));
  const log = createSqliteEventStore({ path: join(logDir, 'events.db'), durable: false });
  const db = openReadModelDb(join(logDir, 'rebuilt.db'));
  const hasIndex = (d: DatabaseSync) => d.prepare("SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = 'item_key'").get() !== undefined;
  const seen: [type: string, n: number, indexed: boolean][] = [];
  let failOnce = true;
  const items: Projection = {
    name: 'items',
    canHandle: ['Added', 'Erased'],
    init: (d) => d.exec('CREATE TABLE IF NOT EXISTS item (position INTEGER PRIMARY KEY, key TEXT NOT NULL); CREATE INDEX IF NOT EXISTS item_key ON item(key);'),
    rareIndexes: [{ name: 'item_key', neededBy: ['Erased'] }],
    evolve: (d, e) => {
      seen.push([e.type, e.data.n as number, hasIndex(d)]);
      if (e.type === 'Added') d.prepare('INSERT INTO item (position, key) VALUES (?, ?)').run(e.position, `k${(e.data.n as number) % 3}`);
      else d.prepare('DELETE FROM item WHERE key = ?').run(`k${(e.data.n as number) % 3}`);
    },
    evolveBatch: (d, events) => {
      for (const e of events) items.evolve(d, e);
      // The batch with the erasure fails once after the index was built (before its savepoint).
      if (failOnce && events.some((e) => e.type === 'Erased')) {
        failOnce = false;
        throw new Error('once');
      }
    },
  };
  try {
    for (let n = 1; n <= 30; n++) await log.appendToStream('items', [{ type: n === 25 ? 'Erased' : 'Added', data: { n } }]);
    const r = await replay({ store: log, db, projections: [items] });
    assert.deepEqual(r.errors, []);
    // Batches of the whole log: seen in the failed batch, then event by event after its rollback.
    const retried = seen.slice(30);
    assert.ok(seen.slice(0, 30).every(([, , i]) => i), 'the batch holding the erasure had the index from its first event');
    assert.deepEqual(retried.filter(([t]) => t === 'Erased'), [['Erased', 25, true]], 'still there for the event that needs it after the rollback');
    assert.ok(retried.every(([, , i]) => i), 'built once: the rollback of the batch does not undo it, so taken again one by one no event waits for it');
    assert.equal(hasIndex(db), true);
    // 24 added, the 8 of key k1 among them erased, 5 added after.
    assert.equal((db.prepare('SELECT count(*) AS n FROM item').get() as { n: number }).n, 24 - 8 + 5);
  } finally {
    db.close();
    await log.close();
    await rm(logDir, { recursive: true, force: true });
  }
});
