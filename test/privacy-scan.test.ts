// The scan: after the full flow of every channel over the live API (SMS and email codes, TOTP,
// passkeys, push, with webhooks delivered), nothing the user gave us is in clear in any file of the
// data directory (event log, read models, webhook outbox, key store, each with its WAL and journal)
// nor in the server's log: not the user id, the device names, the account name, the client IP,
// the phone number, the email address or the push token. Searched as bytes, while the server runs
// (WAL files full) and again after it stopped (WALs checkpointed into the databases).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DatabaseSync } from 'node:sqlite';
import { type Person, type PrivacyWorld, startPrivacyWorld } from './fixtures/privacy-world.ts';
import { startTestServer } from './helpers/server.ts';
import { until } from './helpers/until.ts';

const tag = randomBytes(4).toString('hex');
const person: Person = {
  userId: `scan-user-${tag}`,
  phone: '01055517788',
  email: `scan.${tag}@example.net`,
  accountName: `scan.account.${tag}@example.net`,
  pushDeviceName: `Pixel of ${tag}`,
  passkeyName: `YubiKey of ${tag}`,
  ip: '192.0.2.187',
};

/** What must never be found in clear, each with a name for the failure message. */
const needles: Record<string, string> = {
  'user id': person.userId,
  'push device name': person.pushDeviceName,
  'passkey name': person.passkeyName,
  'account name': person.accountName,
  'client IP': person.ip,
  email: person.email,
  'phone (national)': person.phone,
  'phone (E.164)': `+82${person.phone.slice(1)}`,
  'push token': `fcm-${person.userId}-token`,
};

const filesUnder = (dir: string): string[] =>
  readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });

/** "<file>: <what>" for every needle found in a file of the directory or in the log lines. */
const findings = (dir: string, logs: readonly string[]) => {
  const found: string[] = [];
  const sources = [...filesUnder(dir).map((f) => ({ name: f, bytes: readFileSync(f) })), { name: 'server log', bytes: Buffer.from(logs.join('\n')) }];
  for (const { name, bytes } of sources) for (const [what, value] of Object.entries(needles)) if (bytes.includes(Buffer.from(value))) found.push(`${name}: ${what}`);
  return found;
};

describe('the scan: no personal data in clear in the data directory or the log', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'securekey-scan-'));
  const masterKey = randomBytes(32).toString('base64');
  let w: PrivacyWorld;
  let stopped = false;

  before(async () => {
    w = await startPrivacyWorld({ dataDir, env: { SECUREKEY_MASTER_KEY: masterKey } });
    await w.fullFlow(person);
    // The webhooks of the flow delivered: the outbox and its attempts are written too.
    await until('webhooks delivered', () => w.receiver.accepted.some((a) => a.event === 'push.approved' && a.data.externalUserId === person.userId));
  });
  after(async () => {
    if (!stopped) await w.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('the flow did reach every place the scan looks: the receiver got the user id in clear, the data directory has its databases and WALs', () => {
    assert.ok(w.receiver.accepted.some((a) => a.data.externalUserId === person.userId));
    const names = readdirSync(dataDir);
    for (const f of ['events.db', 'readmodels.db', 'webhooks.db', 'keys.db']) assert.ok(names.includes(f), `${f} missing: ${names.join(', ')}`);
    assert.ok(names.some((n) => n.endsWith('-wal')), names.join(', '));
    // The personal values are there, sealed ("pd1.<key ids>.<ciphertext>"), in the log and the outbox.
    for (const f of ['events.db', 'webhooks.db']) assert.ok(filesUnder(dataDir).filter((p) => p.includes(f)).some((p) => readFileSync(p).includes('pd1.')), `${f} holds no sealed value`);
    assert.ok(w.s.logs.length > 20);
  });

  test('while the server runs: no database, WAL or log line holds a user id, device name, account name, client IP, phone, email or token', () => {
    assert.deepEqual(findings(dataDir, w.s.logs), []);
  });

  test('after the server stopped (WALs checkpointed): still nothing', async () => {
    await w.stop();
    stopped = true;
    assert.deepEqual(findings(dataDir, w.s.logs), []);
  });

  test('after a restart, cold loads of every stream of the user leave snapshots (src/stream-snapshots): still nothing', async () => {
    const s = await startTestServer({ SECUREKEY_MASTER_KEY: masterKey }, { dataDir, snapshotMinEvents: 1 });
    try {
      const exported = await fetch(`${s.url}/api/v1/users/${encodeURIComponent(person.userId)}/export`, { headers: { 'x-api-key': w.tenant.apiKey } });
      assert.equal(exported.status, 200); // folds the user's TOTP, recovery, passkey and push device streams
      await s.post('/api/v1/otp/verify', { phone: person.phone, code: '000000' }, { 'x-api-key': w.tenant.apiKey });
    } finally {
      await s.stop();
    }
    const db = new DatabaseSync(join(dataDir, 'snapshots.db'), { readOnly: true });
    const streams = (db.prepare('SELECT stream FROM stream_snapshots').all() as { stream: string }[]).map((r) => r.stream.split('-')[0]);
    db.close();
    for (const category of ['totp', 'recovery', 'webauthn']) assert.ok(streams.includes(category), `a snapshot of the ${category} stream: ${streams.join(', ')}`);
    assert.deepEqual(findings(dataDir, [...w.s.logs, ...s.logs]), []);
  });
});
