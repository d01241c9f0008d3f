import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { startTestServer, type TestServer } from './helpers/server.ts';

const exec = promisify(execFile);

/** Runs exactly `npm run admin -- ...`; returns the JSON object the CLI printed (npm's banner lines are not JSON). */
const admin = async (env: Record<string, string>, ...args: string[]) => {
  const { stdout } = await exec('npm', ['run', 'admin', '--', ...args], { env: { ...process.env, ...env }, cwd: process.cwd() });
  const json = stdout.split('\n').filter((l) => l.startsWith('{'));
  assert.equal(json.length, 1, `one JSON object expected, got: ${stdout}`);
  return JSON.parse(json[0]!);
};

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

  const untilStatus = async (key: string, wanted: (status: number) => boolean) => {
    const started = Date.now();
    for (;;) {
      const r = await s.call(key, '/api/v1/totp/setup', { userId: 'u1', accountName: 'a@example.com' });
      if (wanted(r.status)) return Date.now() - started;
      if (Date.now() - started > 5000) assert.fail(`still ${r.status} after 5 s`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };

  test('`tenant create --json` prints tenantId and apiKey, and the running server accepts the key within a second', async () => {
    const created = await admin(env, 'tenant', 'create', '--name', 'acme', '--webhook-url', 'https://example.com/hook', '--json');
    assert.match(created.tenantId, /^tn_/);
    assert.match(created.apiKey, /^2fa_[A-Za-z0-9_-]{32}$/); // 192 bits
    assert.match(created.webhookSecret, /^whsec_/);
    const ms = await untilStatus(created.apiKey, (st) => st !== 401);
    assert.ok(ms < 1000, `accepted after ${ms} ms`);

    const listed = await admin(env, 'tenant', 'list', '--json');
    const t = listed.tenants.find((x: { tenantId: string }) => x.tenantId === created.tenantId);
    assert.equal(t.name, 'acme');
    assert.ok(!JSON.stringify(listed).includes(created.apiKey), 'keys are never listed');

    const issued = await admin(env, 'key', 'issue', '--tenant', created.tenantId, '--name', 'ci', '--json');
    await untilStatus(issued.apiKey, (st) => st !== 401);
    await admin(env, 'key', 'revoke', '--tenant', created.tenantId, '--key', issued.keyId, '--json');
    const revokedAfter = await untilStatus(issued.apiKey, (st) => st === 401);
    assert.ok(revokedAfter < 1000, `refused after ${revokedAfter} ms`);
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

  test('bad usage answers with a clear message and a non-zero exit', async () => {
    await assert.rejects(exec('npm', ['run', 'admin', '--', 'key', 'issue'], { env: { ...process.env, ...env } }), (e: { stderr: string; code: number }) => {
      assert.match(e.stderr, /--tenant is required/);
      assert.notEqual(e.code, 0);
      return true;
    });
    await assert.rejects(exec('npm', ['run', 'admin', '--', 'key', 'revoke', '--tenant', 'tn_nope', '--key', 'key_x'], { env: { ...process.env, ...env } }), (e: { stderr: string }) => {
      assert.match(e.stderr, /no such tenant/);
      return true;
    });
  });
});
