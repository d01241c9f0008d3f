// Retention, the admin CLI's user commands and master key rotation, on a live server:
// - a tenant's retentionDays makes the scheduled job (server clock injected) destroy the day keys
//   of days past the limit: the verification events' personal values read [erased] in the audit
//   trail, the enrollment's stay, the statistics are unchanged, and /metrics counts it;
// - `npm run admin -- user export` and `user erase` work next to the running server, which follows
//   the erasure through the log; `history` and `audit export` then show the user's events [erased];
// - `npm run admin -- master-key rotate` re-wraps the key store: the server starts with the new
//   key and reads everything as before (no event rewritten: verify-chain passes), the old key is
//   refused with a sentence; a data directory that lost keys.db refuses to start until it is restored.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { generate } from 'otplib';
import { loadConfig } from '../src/config.ts';
import { startSecureKey } from '../src/securekey.ts';
import { startFailure } from '../src/startup.ts';
import { adminJson, runAdmin } from './helpers/cli.ts';
import { ADMIN_TOKEN, startTestServer, type TestServer } from './helpers/server.ts';
import { startSmsGateway } from './helpers/sms-gateway.ts';
import { until } from './helpers/until.ts';

const DAY = 86_400_000;

describe('retention, the CLI user commands and master key rotation', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'securekey-retention-'));
  const oldKey = randomBytes(32).toString('base64');
  const newKey = randomBytes(32).toString('base64');
  let clock = Date.now();
  let s: TestServer;
  let sms: Awaited<ReturnType<typeof startSmsGateway>>;
  let tenant: { tenantId: string; apiKey: string };
  let totpSecret = '';
  const user = `ret-${randomBytes(3).toString('hex')}`;
  const other = `cli-${randomBytes(3).toString('hex')}`;
  const ip = '198.51.100.77';

  const start = (key: string) =>
    startTestServer({ SECUREKEY_MASTER_KEY: key, SECUREKEY_SMS_PROVIDER: 'http', SECUREKEY_SMS_HTTP_URL: sms.url, SECUREKEY_TRUST_PROXY: 'true' }, { dataDir, now: () => clock, retentionEveryMs: 100 });
  const call = async (path: string, body: unknown) => {
    const r = await s.post(path, body, { 'x-api-key': tenant.apiKey, 'x-forwarded-for': ip });
    assert.equal(r.status, 200, `${path}: ${JSON.stringify(r.body)}`);
    return r.body.data;
  };
  const audit = async (userId: string) => {
    const r = await s.admin('GET', `/api/v1/admin/tenants/${tenant.tenantId}/audit?userId=${encodeURIComponent(userId)}&limit=1000`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body.data.records as Record<string, string>[];
  };
  const day = new Date(clock).toISOString().slice(0, 10);
  const stats = async () => (await s.admin('GET', `/api/v1/admin/tenants/${tenant.tenantId}/otp-stats?day=${day}`)).body.data.stats;
  const metric = async (name: string) => Number(new RegExp(`^${name} (\\d+)`, 'm').exec(await (await fetch(`${s.url}/metrics`)).text())?.[1] ?? NaN);
  const cliEnv = (key: string) => ({ SECUREKEY_DATA_DIR: dataDir, SECUREKEY_MASTER_KEY: key, SECUREKEY_ADMIN_TOKEN: ADMIN_TOKEN });

  before(async () => {
    sms = await startSmsGateway();
    s = await start(oldKey);
    tenant = await s.createTenant('retained');
    const patched = await s.admin('PATCH', `/api/v1/admin/tenants/${tenant.tenantId}/settings`, { settings: { retentionDays: 1 } });
    assert.equal(patched.status, 200, JSON.stringify(patched.body));
    await call('/api/v1/otp/send', { phone: '01066601234', purpose: 'login', userId: user });
    assert.equal((await call('/api/v1/otp/verify', { phone: '01066601234', code: sms.lastCode('+821066601234') })).verified, true);
    totpSecret = (await call('/api/v1/totp/setup', { userId: user, accountName: 'kept@example.org' })).secret;
    assert.equal((await call('/api/v1/totp/verify', { userId: user, token: await generate({ secret: totpSecret }) })).verified, true);
    await call('/api/v1/push/devices', { userId: other, fcmToken: 'fcm-cli-token', platform: 'ios', deviceName: 'CLI iPhone' });
  });
  after(async () => {
    await s?.stop();
    await sms.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('before the limit nothing is shredded: the audit trail names the user and the client', async () => {
    const records = await audit(user);
    assert.ok(records.length >= 5);
    assert.ok(records.every((r) => r.userId === user && r.clientIp === '198.51.100.0'), JSON.stringify(records));
    assert.equal(await metric('securekey_retention_keys_destroyed_total'), 0);
  });

  test("past retentionDays the job shreds the verification events' personal data; the enrollment, the events and the statistics stay", async () => {
    const before = await stats();
    const count = (await audit(user)).length;
    clock += 2 * DAY + 1000;
    await until('the retention job destroyed a day key', async () => (await metric('securekey_retention_keys_destroyed_total')) >= 1);
    assert.ok((await metric('securekey_retention_runs_total')) >= 2);
    // The records stay (found by the keyed hash of the user id); their personal values read
    // [erased] but the enrollment's (sealed with the user's key alone).
    const records = await audit(user);
    assert.equal(records.length, count);
    const [kept, shredded] = [records.filter((r) => r.action === 'totp.enrollment_started'), records.filter((r) => r.action !== 'totp.enrollment_started')];
    assert.deepEqual(kept.map((r) => [r.userId, r.clientIp]), [[user, '198.51.100.0']]);
    assert.ok(shredded.every((r) => r.userId === '[erased]' && r.clientIp === '[erased]'), JSON.stringify(shredded));
    assert.ok(shredded.some((r) => r.action === 'verification.succeeded' && r.channel === 'sms' && r.destination === '[erased]'));
    assert.deepEqual(await stats(), before);
    // The enrollment still works: the TOTP secret was not shredded.
    assert.equal((await call('/api/v1/totp/verify', { userId: user, token: await generate({ secret: totpSecret, epoch: Math.floor(clock / 1000) + 30 }) })).verified, true);
  });

  test('the CLI exports and erases a user next to the running server, which follows the erasure', async () => {
    const env = cliEnv(oldKey);
    const exported = await runAdmin(env, 'user', 'export', '--tenant', tenant.tenantId, '--user', other);
    assert.equal(exported.code, 0, exported.stderr);
    const x = JSON.parse(exported.stdout.slice(exported.stdout.indexOf('\n{') + 1));
    assert.deepEqual(x.summary.pushDevices.map((d: { deviceName: string }) => d.deviceName), ['CLI iPhone']);
    const r = await adminJson(env, 'user', 'erase', '--tenant', tenant.tenantId, '--user', other, '--json');
    assert.equal(r.erased, true);
    assert.match(r.erasureId, /^ers_/);
    await until('the server follows the erasure', async () => (await s.post('/api/v1/push/devices/list', { userId: other }, { 'x-api-key': tenant.apiKey })).body.data.devices.length === 0);
    const records = await audit(other);
    assert.ok(records.some((r) => r.action === 'user.erased'));
    // The device's event names the user by its stream only; its client address is shredded.
    assert.ok(records.filter((r) => r.action !== 'user.erased').every((r) => ['', '[erased]'].includes(r.userId) && r.clientIp === '[erased]'), JSON.stringify(records));
    // The auditor's CLI shows the erased user's events with [erased] values.
    const [history, exported2] = await Promise.all([
      runAdmin(env, 'history', '--tenant', tenant.tenantId, '--user', other),
      runAdmin(env, 'audit', 'export', '--tenant', tenant.tenantId, '--user', other),
    ]);
    for (const r of [history, exported2]) {
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /\[erased\]/);
      assert.ok(!r.stdout.includes('CLI iPhone') && !r.stdout.includes(ip) && !r.stdout.includes('198.51.100.0'), r.stdout);
    }
    assert.match(history.stdout, /DeviceRegistered/);
    assert.match(history.stdout, /UserErased/);
    // `retention run` does now what the server's job does (here: nothing left past the limit).
    const retention = await adminJson(env, 'retention', 'run', '--json');
    assert.deepEqual([retention.tenants, retention.keysDestroyed], [1, 0]);
    const bad = await runAdmin(env, 'user', 'erase', '--tenant', tenant.tenantId);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /--user is required/);
  });

  test('master-key rotate re-wraps the key store: the new key reads everything, no event is rewritten, the old key is refused', async () => {
    await s.stop();
    const keyFile = join(dataDir, '..', `new-key-${randomBytes(3).toString('hex')}`);
    writeFileSync(keyFile, `${newKey}\n`, { mode: 0o600 });
    try {
      const r = await adminJson(cliEnv(oldKey), 'master-key', 'rotate', '--new-key-file', keyFile, '--json');
      assert.equal(r.rotated, true);
      assert.ok(r.keys >= 2, JSON.stringify(r));
    } finally {
      rmSync(keyFile, { force: true });
    }
    const refused = await startSecureKey(loadConfig({ ...cliEnv(oldKey), PORT: '0', HOST: '127.0.0.1' }), { now: () => clock }).then(
      () => 'started',
      (err: unknown) => startFailure(err, undefined),
    );
    assert.match(String(refused), /^cannot start: the master key does not open the key store/);
    s = await start(newKey);
    clock += 120_000; // a TOTP step not used yet
    assert.equal((await call('/api/v1/totp/verify', { userId: user, token: await generate({ secret: totpSecret, epoch: Math.floor(clock / 1000) }) })).verified, true);
    // Read with the re-wrapped keys: the enrollment and the verifications made since the retention
    // run (sealed with a day key it kept) name the user.
    const named = (await audit(user)).filter((r) => r.userId === user).map((r) => r.action);
    assert.deepEqual(named, ['totp.enrollment_started', 'verification.succeeded', 'verification.succeeded']);
    const chain = await adminJson(cliEnv(newKey), 'verify-chain', '--json');
    assert.deepEqual([chain.ok, chain.problemCount], [true, 0]);
    const old = await runAdmin(cliEnv(oldKey), 'verify-chain');
    assert.equal(old.code, 1);
    assert.match(old.stderr, /the master key does not open the key store/);
  });

  test('a data directory whose keys.db is missing refuses to start (the log holds sealed values), and starts again once it is restored', async () => {
    await s.stop();
    const aside = join(dataDir, '..', `keys-aside-${randomBytes(3).toString('hex')}`);
    renameSync(join(dataDir, 'keys.db'), aside);
    try {
      const refused = await startSecureKey(loadConfig({ ...cliEnv(newKey), PORT: '0', HOST: '127.0.0.1' }), { now: () => clock }).then(
        () => 'started',
        (err: unknown) => startFailure(err, undefined),
      );
      assert.match(String(refused), /^cannot start: the event log holds personal data sealed with the keys of a key store \(keys\.db\) that this data directory lacks/);
      const cli = await runAdmin(cliEnv(newKey), 'verify-chain');
      assert.equal(cli.code, 1);
      assert.match(cli.stderr, /restore keys\.db from your backup/);
    } finally {
      for (const suffix of ['', '-wal', '-shm']) rmSync(join(dataDir, `keys.db${suffix}`), { force: true });
      renameSync(aside, join(dataDir, 'keys.db'));
    }
    s = await start(newKey);
    assert.ok((await audit(user)).some((r) => r.userId === user));
  });
});
