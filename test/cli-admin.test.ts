import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { adminJson as admin, runAdmin } from './helpers/cli.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { until } from './helpers/until.ts';

describe('admin CLI on the same data directory as a running server', () => {
  let s: TestServer;
  let env: Record<string, string>;
  const dataDir = mkdtempSync(join(tmpdir(), 'securekey-cli-'));
  before(async () => {
    const masterKey = randomBytes(32).toString('base64');
    env = { SECUREKEY_DATA_DIR: dataDir, SECUREKEY_MASTER_KEY: masterKey };
    s = await startTestServer({ SECUREKEY_MASTER_KEY: masterKey }, { dataDir });
  });
  after(async () => {
    await s.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** Waits until the server answers the key with a wanted status: a key written by another process
   * takes effect without a restart. How fast belongs to the benchmarks, not to a wall-clock
   * assertion on a shared machine. */
  const untilStatus = async (key: string, wanted: (status: number) => boolean) =>
    until('the wanted status', async () => wanted((await s.call(key, '/api/v1/totp/setup', { userId: 'u1', accountName: 'a@example.com' })).status));

  test('`tenant create --json` prints tenantId and apiKey, and the running server accepts the key without a restart, and refuses it once revoked', async () => {
    const created = await admin(env, 'tenant', 'create', '--name', 'acme', '--webhook-url', 'https://example.com/hook', '--json');
    assert.match(created.tenantId, /^tn_/);
    assert.match(created.apiKey, /^2fa_[A-Za-z0-9_-]{32}$/); // 192 bits
    assert.match(created.webhookSecret, /^whsec_/);
    await untilStatus(created.apiKey, (st) => st !== 401);

    const listed = await admin(env, 'tenant', 'list', '--json');
    const t = listed.tenants.find((x: { tenantId: string }) => x.tenantId === created.tenantId);
    assert.equal(t.name, 'acme');
    assert.ok(!JSON.stringify(listed).includes(created.apiKey), 'keys are never listed');

    const issued = await admin(env, 'key', 'issue', '--tenant', created.tenantId, '--name', 'ci', '--json');
    await untilStatus(issued.apiKey, (st) => st !== 401);
    await admin(env, 'key', 'revoke', '--tenant', created.tenantId, '--key', issued.keyId, '--json');
    await untilStatus(issued.apiKey, (st) => st === 401);
  });

  test('the store holds the key only as a hash', async () => {
    const created = await admin(env, 'tenant', 'create', '--name', 'hashcheck', '--json');
    const { DatabaseSync } = await import('node:sqlite');
    const db = new DatabaseSync(join(dataDir, 'events.db'), { readOnly: true });
    const rows = db.prepare('SELECT * FROM events').all();
    db.close();
    const dump = JSON.stringify(rows);
    assert.ok(dump.includes(created.tenantId));
    assert.ok(!dump.includes(created.apiKey));
    assert.ok(!dump.includes(created.apiKey.slice(4)));
  });

  test('`tenant settings --set` changes settings through the aggregate, read by the table types; the server applies them', async () => {
    const created = await admin(env, 'tenant', 'create', '--name', 'tuned', '--json');
    const set = await admin(env, 'tenant', 'settings', '--tenant', created.tenantId, '--set', 'otpLength=8', '--set', 'smsAllowedCountries=KR,us', '--json');
    assert.deepEqual(set.settings, { otpLength: 8, smsAllowedCountries: ['KR', 'US'] });
    await until('the server to apply them', async () => (await s.admin('GET', `/api/v1/admin/tenants/${created.tenantId}`)).body.data?.settings.otpLength === 8, 5000);
    const typo = await runAdmin(env, 'tenant', 'settings', '--tenant', created.tenantId, '--set', 'otpLenght=6', '--set', 'otpMaxAttempts=50');
    assert.notEqual(typo.code, 0);
    assert.match(typo.stderr, /unknown setting "otpLenght"/);
  });

  test('bad usage answers with a clear message and a non-zero exit', async () => {
    const missing = await runAdmin(env, 'key', 'issue');
    assert.match(missing.stderr, /--tenant is required/);
    assert.notEqual(missing.code, 0);
    const unknown = await runAdmin(env, 'key', 'revoke', '--tenant', 'tn_nope', '--key', 'key_x');
    assert.match(unknown.stderr, /no such tenant/);
    assert.notEqual(unknown.code, 0);
  });
});
