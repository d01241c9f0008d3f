// The key store, the vault and the personal-data codec (src/privacy), without a server: data keys
// made once per owner and shared between processes, destroyed for good (tombstones, bytes gone
// from the file and its WAL), sealed values bound to their event, opened as "[erased]" once a key
// they need is gone, and the master key checked and rotated without touching anything else.
import assert from 'node:assert/strict';
import { hkdfSync, randomBytes, randomUUID } from 'node:crypto';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { createKeyring } from '../src/crypto/keyring.ts';
import { PERSONAL_DATA } from '../src/domain/personal.ts';
import { DOMAIN_EVENT_TYPES } from '../src/domain/events.ts';
import { createSqliteKeyStore } from '../src/privacy/keystore-sqlite.ts';
import { createPersonalData, dayOf, ERASED, userDayKey } from '../src/privacy/personal-data.ts';
import { KeyDestroyedError, openVault, rotateMasterKey, WrongMasterKeyError } from '../src/privacy/vault.ts';
import { credentialOwnerDecider } from '../src/domain/webauthn/discoverable.ts';
import { createSqliteEventStore } from '../src/eventstore/sqlite/index.ts';
import { privacyFor } from './helpers/privacy.ts';

const dir = mkdtempSync(join(tmpdir(), 'securekey-keys-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const freshPath = () => join(dir, `keys-${++n}.db`);
const T = Date.UTC(2026, 10, 2, 12);

const stack = (path: string, masterKey: Buffer, cacheSize?: number, now = () => T) => {
  const keyStore = createSqliteKeyStore(path);
  const vault = openVault({ keyStore, masterKey, now, logHasEvents: false, cacheSize });
  return { keyStore, vault, personal: createPersonalData({ vault, now }) };
};

/** A user's event as an application service hands it to the log. */
const event = (type: string, data: Record<string, unknown>, metadata: Record<string, unknown> = {}): { id: string; type: string; data: Record<string, unknown>; metadata: Record<string, unknown> } => ({
  id: randomUUID(),
  type,
  data,
  metadata: { tenantId: 'tn_a', keyId: 'key_1', requestId: 'req_1', clientIp: '203.0.113.77', ...metadata },
});

describe('the key store and the vault', () => {
  test('an owner gets one data key, made on first use, the same in every process sharing keys.db', () => {
    const path = freshPath();
    const key = randomBytes(32);
    const a = stack(path, key);
    const b = stack(path, key);
    const first = a.vault.current('tn_a', 'user', 'uk1');
    assert.deepEqual(b.vault.current('tn_a', 'user', 'uk1'), first);
    assert.notEqual(a.vault.current('tn_a', 'user', 'uk2').keyId, first.keyId);
    assert.notEqual(a.vault.current('tn_b', 'user', 'uk1').keyId, first.keyId, 'per tenant');
    assert.deepEqual(a.vault.key(first.keyId), first.key);
    assert.deepEqual(b.vault.root, a.vault.root, 'one root key');
    a.keyStore.close();
    b.keyStore.close();
  });

  test('a data key handed out is a copy: wiping it leaves the cache whole, and keys stay right as the cache evicts and reuses its slots', () => {
    const path = freshPath();
    const key = randomBytes(32);
    const a = stack(path, key);
    const made = a.vault.current('tn_a', 'user', 'uk1');
    const expected = Buffer.from(made.key);
    made.key.fill(0);
    assert.deepEqual(a.vault.current('tn_a', 'user', 'uk1').key, expected);
    const b = stack(path, key, 3); // another process with room for three keys: the key is unwrapped from keys.db
    const byId = b.vault.key(made.keyId)!;
    assert.deepEqual(byId, expected);
    byId.fill(0);
    assert.deepEqual(b.vault.key(made.keyId), expected);
    // Ten owners through three slots, twice round: each key read back is its own.
    const ids = Array.from({ length: 10 }, (_, i) => a.vault.current('tn_a', 'user', `u${i}`));
    for (let round = 0; round < 2; round++) for (const { keyId, key: k } of ids) assert.deepEqual(b.vault.key(keyId), k);
    a.keyStore.close();
    b.keyStore.close();
  });

  test("a destroyed key is gone for good: unknown to every process, never made again for its owner, its bytes out of keys.db and its WAL", () => {
    const path = freshPath();
    const key = randomBytes(32);
    const a = stack(path, key);
    const b = stack(path, key);
    const { keyId } = a.vault.current('tn_a', 'user', 'uk1');
    assert.ok(b.vault.key(keyId), 'the other process has it cached');
    const wrapped = a.keyStore.byId(keyId)!.wrapped;
    assert.equal(a.vault.destroy('tn_a', 'user', 'uk1'), 1);
    assert.equal(a.vault.key(keyId), undefined);
    assert.throws(() => a.vault.current('tn_a', 'user', 'uk1'), KeyDestroyedError);
    // What the erasure follower does on UserErased: already gone here, dropped from the cache.
    assert.equal(b.vault.destroy('tn_a', 'user', 'uk1'), 0);
    assert.equal(b.vault.key(keyId), undefined);
    assert.throws(() => b.vault.current('tn_a', 'user', 'uk1'), KeyDestroyedError);
    for (const f of [path, `${path}-wal`]) if (existsSync(f)) assert.ok(!readFileSync(f).includes(Buffer.from(wrapped.split('.')[2]!)), `${f} still holds the key`);
    a.keyStore.close();
    b.keyStore.close();
  });

  test('a key store restored from a backup older than an erasure holds the key again; destroying it once more (the erasure follower, on UserErased) shreds it', () => {
    const path = freshPath();
    const key = randomBytes(32);
    const live = stack(path, key);
    const { keyId } = live.vault.current('tn_a', 'user', 'uk-restored');
    live.keyStore.close();
    const backup = `${path}.backup`;
    copyFileSync(path, backup);
    const erasing = stack(path, key);
    assert.equal(erasing.vault.destroy('tn_a', 'user', 'uk-restored'), 1);
    erasing.keyStore.close();
    const restored = stack(backup, key);
    assert.ok(restored.vault.key(keyId), 'the backup brought the key back');
    assert.equal(restored.vault.destroy('tn_a', 'user', 'uk-restored'), 1);
    assert.equal(restored.vault.key(keyId), undefined);
    restored.keyStore.close();
  });

  test('retention destroys the day keys before a day; a process that runs it stops using them from its cache at once', () => {
    const path = freshPath();
    const key = randomBytes(32);
    const a = stack(path, key);
    const b = stack(path, key);
    const old = a.vault.current('tn_a', 'day', '100');
    const kept = a.vault.current('tn_a', 'day', '101');
    const other = a.vault.current('tn_b', 'day', '100');
    assert.ok(b.vault.key(old.keyId));
    assert.equal(a.vault.destroyDaysBefore('tn_a', 101), 1);
    assert.equal(b.vault.destroyDaysBefore('tn_a', 101), 0, 'already destroyed');
    assert.equal(b.vault.key(old.keyId), undefined, 'its cached copy is retired too');
    assert.ok(b.vault.key(kept.keyId) && b.vault.key(other.keyId));
    a.keyStore.close();
    b.keyStore.close();
  });

  test('the root key is random on a new installation and the master key itself under a log that predates the key store', () => {
    const key = randomBytes(32);
    const fresh = openVault({ keyStore: createSqliteKeyStore(':memory:'), masterKey: key, now: () => T, logHasEvents: false });
    const legacy = openVault({ keyStore: createSqliteKeyStore(':memory:'), masterKey: key, now: () => T, logHasEvents: true });
    assert.notDeepEqual(fresh.root, key);
    assert.deepEqual(legacy.root, key);
    assert.equal(createKeyring(legacy.root).hmac('user', 'u1'), createKeyring(key).hmac('user', 'u1'), 'stream names stay as they were');
  });

  test('another master key does not open the key store', () => {
    const path = freshPath();
    stack(path, randomBytes(32)).keyStore.close();
    assert.throws(() => stack(path, randomBytes(32)), WrongMasterKeyError);
  });

  test('master key rotation re-wraps every key: the new key opens all of it, the old one nothing', () => {
    const path = freshPath();
    const oldKey = randomBytes(32);
    const newKey = randomBytes(32);
    const before = stack(path, oldKey);
    const user = before.vault.current('tn_a', 'user', 'uk1');
    const day = before.vault.current('tn_a', 'day', '100');
    const sealed = before.personal.seal([event('DeviceRegistered', { deviceId: 'd1', deviceName: 'Galaxy', tokenEnc: 'v1.x', tokenHash: 'h', platform: 'android', at: T }, { userKey: 'uk1' })])[0]!;
    const root = before.vault.root;
    before.keyStore.close();

    const store = createSqliteKeyStore(path);
    assert.throws(() => rotateMasterKey(store, randomBytes(32), newKey), WrongMasterKeyError, 'only the current key may rotate');
    assert.deepEqual(rotateMasterKey(store, oldKey, newKey), { keys: 2 });
    store.close();

    assert.throws(() => stack(path, oldKey), WrongMasterKeyError);
    const after = stack(path, newKey);
    assert.deepEqual(after.vault.root, root);
    assert.deepEqual(after.vault.key(user.keyId), user.key);
    assert.deepEqual(after.vault.key(day.keyId), day.key);
    assert.equal(after.personal.open(sealed).data.deviceName, 'Galaxy');
    after.keyStore.close();
  });
});

describe('sealing and opening personal data', () => {
  const { vault, personal } = stack(':memory:', randomBytes(32));

  test('every event type of the catalogue says which of its fields are personal', () => {
    assert.deepEqual(Object.keys(PERSONAL_DATA).sort(), [...DOMAIN_EVENT_TYPES].sort());
  });

  test("the table's fields and the personal metadata are sealed, bound to the event's id; everything else stays in clear", () => {
    const e = event('OtpVerified', { otpId: 'o1', channel: 'sms', purpose: 'login', userId: 'alice', userKey: 'uk-alice', masked: '+82 10-****-5678', country: 'KR', issuedAt: T, attempts: 0, attemptsRemaining: 5, verifiedAt: T }, { userId: 'alice' });
    const [sealed] = personal.seal([e]);
    for (const v of [sealed!.data.userId, sealed!.data.masked, sealed!.metadata.userId, sealed!.metadata.clientIp]) assert.match(String(v), /^pd1\.[\w-]{22}\.[\w-]{22}\.[\w-]+$/);
    assert.deepEqual([sealed!.data.otpId, sealed!.data.userKey, sealed!.data.country, sealed!.metadata.tenantId], ['o1', 'uk-alice', 'KR', 'tn_a']);
    assert.deepEqual(personal.open(sealed!), e);
    // What a decider folds: the data opened, the metadata as stored (deciders never read it).
    const folded = personal.openData(sealed!);
    assert.deepEqual(folded.data, e.data);
    assert.deepEqual(folded.metadata, sealed!.metadata);
    // Moved to another event, a value no longer opens.
    assert.throws(() => personal.openValue(sealed!.data.userId, randomUUID()), /does not open with its key/);
    // Events without personal data are left as they are (no key is made for them).
    const tenantEvent = { id: randomUUID(), type: 'PolicyDeleted', data: { name: 'p', at: T }, metadata: { tenantId: 'tn_a', actor: 'admin' } };
    assert.equal(personal.seal([tenantEvent])[0], tenantEvent);
  });

  test("a verification needs the user's key AND the day's key: destroying either reads [erased]; an enrollment needs only the user's", () => {
    const verification = (userKey: string) => personal.seal([event('PushApproved', { requestId: 'pr_1', userId: 'bob', purpose: 'login', at: T }, { userKey })])[0]!;
    const enrollment = (userKey: string) => personal.seal([event('CredentialRegistered', { credentialId: 'c', deviceName: "Bob's iPhone", at: T }, { userKey })])[0]!;
    const v1 = verification('uk-1');
    const e1 = enrollment('uk-1');
    const v2 = verification('uk-2');
    const e2 = enrollment('uk-2');
    // Erasure of user 1: both of theirs go, user 2's stay.
    vault.destroy('tn_a', 'user', 'uk-1');
    assert.deepEqual([personal.open(v1).data.userId, personal.open(v1).metadata.clientIp, personal.open(e1).data.deviceName], [ERASED, ERASED, ERASED]);
    assert.deepEqual([personal.open(v2).data.userId, personal.open(e2).data.deviceName], ['bob', "Bob's iPhone"]);
    // Retention of today: user 2's verification goes, the enrollment stays.
    vault.destroyDaysBefore('tn_a', dayOf(T) + 1);
    assert.deepEqual([personal.open(v2).data.userId, personal.open(e2).data.deviceName], [ERASED, "Bob's iPhone"]);
    // The same answer every time: a destroyed key never comes back.
    assert.deepEqual(personal.open(v1), personal.open(v1));
  });

  test("the user-and-day key is HKDF-SHA256 of both keys (RFC 5869), the key node's hkdfSync derives: values sealed before stay readable", () => {
    for (let i = 0; i < 20; i++) {
      const [user, day] = [randomBytes(32), randomBytes(32)];
      const expected = Buffer.from(hkdfSync('sha256', Buffer.concat([user, day]), Buffer.alloc(0), 'securekey:personal-data:user-day', 32));
      assert.deepEqual(userDayKey(user, day), expected);
    }
  });

  test("sealing for an erased user is refused (CONFLICT): nothing is written under a destroyed key", () => {
    assert.throws(() => personal.seal([event('DeviceRemoved', { deviceId: 'd', at: T }, { userKey: 'uk-1' })]), { code: 'CONFLICT' });
  });

  test('values written before sealing existed pass through; a webhook body opens every sealed value of its event', () => {
    const legacy = event('PushApproved', { requestId: 'pr_1', userId: 'carol', purpose: 'login', at: T });
    assert.deepEqual(personal.open(legacy), legacy);
    const [sealed] = personal.seal([event('OtpVerified', { otpId: 'o', channel: 'sms', purpose: 'login', userId: 'dave', userKey: 'uk-dave', masked: 'd***@x.com', country: null, issuedAt: T, attempts: 0, attemptsRemaining: 5, verifiedAt: T }, { tenantId: 'tn_other' })]);
    const body = JSON.stringify({ event: 'verification.succeeded', channel: 'sms', data: { externalUserId: sealed!.data.userId, destination: sealed!.data.masked, attempts: 0 } });
    assert.equal(personal.openJson(body, sealed!.id), JSON.stringify({ event: 'verification.succeeded', channel: 'sms', data: { externalUserId: 'dave', destination: 'd***@x.com', attempts: 0 } }));
  });
});

test('a state the aggregate cache folded before a key was destroyed is folded again: its personal values then read [erased]', async () => {
  const store = createSqliteEventStore({ path: join(dir, 'cache-events.db'), durable: false });
  try {
    const p = privacyFor(store, () => T);
    const stream = 'webauthncred-tn_a.cred1';
    const metadata = { tenantId: 'tn_a', userKey: 'uk-cached' };
    await p.events.handle(stream, credentialOwnerDecider, { type: 'RecordCredentialOwner', data: { credentialId: 'cred1', userKey: 'uk-cached', userId: 'erin', now: T } }, { metadata });
    assert.equal((await p.events.load(stream, credentialOwnerDecider)).state.owner?.userId, 'erin');
    assert.ok(!JSON.stringify(await store.readStream(stream)).includes('erin'), 'sealed in the log');
    p.vault.destroy('tn_a', 'user', 'uk-cached');
    assert.equal((await p.events.load(stream, credentialOwnerDecider)).state.owner?.userId, ERASED);
  } finally {
    await store.close();
  }
});
