// The load benchmark's seeded users are the API's users: a TOTP user that bench/load/seed.ts
// appends straight to the store has its events in the stream the API finds for that user id (the
// API's own UserKeys derivation of userKey), of the same shape as an enrollment made through the
// API, and is verified and exported exactly as one.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { generate } from 'otplib';
import { seedStore, totpUserId, type Seeded } from '../bench/load/seed.ts';
import { loadConfig } from '../src/config.ts';
import { totpStreamName } from '../src/domain/totp/decider.ts';
import { openStore } from '../src/eventstore/open.ts';
import { openPrivacy } from '../src/privacy/open.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';

/** What an event looks like, without its values: type, and each field's kind (sealed, a 64-hex key or hash, text, number...). */
const shapeOf = (e: { type: string; data: Record<string, unknown>; metadata: Record<string, unknown> }) => {
  const kinds = (o: Record<string, unknown>) =>
    Object.fromEntries(
      Object.entries(o)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, v]) => [k, typeof v !== 'string' ? typeof v : v.startsWith('pd1.') ? 'sealed' : /^[0-9a-f]{64}$/.test(v) ? 'hex64' : 'text']),
    );
  return { type: e.type, data: kinds(e.data), metadata: kinds(e.metadata) };
};

describe('bench seed: seeded TOTP users are what the API makes', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'securekey-bench-seed-'));
  const masterKey = randomBytes(32).toString('base64');
  let seeded: Seeded;
  let s: TestServer;
  const seededUser = totpUserId(0);
  const apiUser = 'made-by-the-api';

  before(async () => {
    const config = loadConfig({ SECUREKEY_DATA_DIR: dataDir, SECUREKEY_MASTER_KEY: masterKey });
    const store = await openStore(config);
    const privacy = await openPrivacy(config, store, Date.now);
    try {
      seeded = await seedStore({ store, privacy, totpUsers: 2, pushUsers: 0, totpUsersFile: join(dataDir, 'totp-users.tsv') });
    } finally {
      privacy.close();
      await store.close();
    }
    s = await startTestServer({ SECUREKEY_MASTER_KEY: masterKey }, { dataDir, keepData: true });
    const setup = await s.call(seeded.apiKey, '/api/v1/totp/setup', { userId: apiUser, accountName: 'bench-api' });
    assert.equal(setup.status, 200, JSON.stringify(setup.body));
    const token = await generate({ secret: setup.body.data.secret, epoch: Math.floor(Date.now() / 1000) });
    assert.equal((await s.call(seeded.apiKey, '/api/v1/totp/verify', { userId: apiUser, token })).body.data.verified, true);
  });
  after(async () => {
    await s?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const streamOf = (type: string, userKey?: string) => s.events().filter((e) => e.type === type && (!userKey || e.metadata.userKey === userKey));

  test('the seeded enrollment has the shape of an API-made one, userKey included', () => {
    const [apiMade, seededMade] = [streamOf('TotpEnrollmentStarted').find((e) => e.metadata.requestId !== 'bench-seed')!, streamOf('TotpEnrollmentStarted').find((e) => e.metadata.requestId === 'bench-seed')!];
    for (const type of ['TotpEnrollmentStarted', 'TotpEnrollmentConfirmed']) {
      const of = (userKey: string) => streamOf(type, userKey).map(shapeOf);
      assert.deepEqual(of(seededMade.metadata.userKey), of(apiMade.metadata.userKey), type);
    }
    assert.equal(seededMade.stream, totpStreamName(seeded.tenantId, seededMade.metadata.userKey), 'the stream of its userKey');
  });

  test('a seeded user verifies through the API in the stream it was seeded in, and is exported like the API-made one', async () => {
    const secret = readFileSync(join(dataDir, 'totp-users.tsv'), 'utf8').split('\n').find((l) => l.startsWith(`${seededUser}\t`))!.split('\t')[1]!;
    const head = s.head();
    const token = await generate({ secret, epoch: Math.floor(Date.now() / 1000) });
    const r = await s.call(seeded.apiKey, '/api/v1/totp/verify', { userId: seededUser, token });
    assert.equal(r.body.data?.verified, true, JSON.stringify(r.body));
    const [accepted] = s.events(head).filter((e) => e.type === 'TotpCodeAccepted');
    const [enrolled] = s.opened().filter((e) => e.type === 'TotpEnrollmentStarted' && e.metadata.userId === seededUser);
    assert.ok(enrolled, 'the seeded enrollment names its user (sealed)');
    assert.equal(accepted?.stream, s.events().find((e) => e.position === enrolled.position)!.stream, 'the API found the seeded stream');

    type Export = { totp: { status: string } | null; events: { type: string }[] };
    const exportOf = async (userId: string) => {
      const res = await fetch(`${s.url}/api/v1/users/${userId}/export`, { headers: { 'x-api-key': seeded.apiKey } });
      assert.equal(res.status, 200);
      return ((await res.json()) as { data: Export }).data;
    };
    const [mine, theirs] = [await exportOf(seededUser), await exportOf(apiUser)];
    assert.equal(mine.totp?.status, 'confirmed');
    assert.deepEqual(Object.keys(mine).sort(), Object.keys(theirs).sort());
    assert.deepEqual(mine.events.map((e) => e.type), [...theirs.events.map((e) => e.type), 'TotpCodeAccepted'], 'the same history, and the verify just made');
  });
});
