// The auditor's CLI on the data directory of a running server: replay --verify equals live with a
// progress bar, history masks personal data, audit export prints JSONL filtered by user, and an
// event edited directly in SQLite is reported by verify-chain.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { generate } from 'otplib';
import { writeLines } from '../src/cli/audit.ts';
import { jsonOf, runAdmin as admin } from './helpers/cli.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { startSmsGateway } from './helpers/sms-gateway.ts';

describe('auditor CLI (replay, history, audit export, verify-chain) next to a running server', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'securekey-cli-audit-'));
  const masterKey = randomBytes(32).toString('base64');
  const env = { SECUREKEY_DATA_DIR: dataDir, SECUREKEY_MASTER_KEY: masterKey };
  let s: TestServer;
  let sms: Awaited<ReturnType<typeof startSmsGateway>>;
  let tenant: { tenantId: string; apiKey: string; webhookSecret: string };
  const codes: string[] = [];
  let totpSecret = '';

  before(async () => {
    sms = await startSmsGateway();
    s = await startTestServer({ SECUREKEY_MASTER_KEY: masterKey, SECUREKEY_SMS_PROVIDER: 'http', SECUREKEY_SMS_HTTP_URL: sms.url }, { dataDir });
    tenant = await s.createTenant('audited', { webhookUrl: 'http://127.0.0.1:9/hook' });
    // Traffic: alice verifies by SMS (after one wrong code) and enrols TOTP; bob verifies by SMS.
    for (const [userId, phone] of [['alice', '01077778888'], ['bob', '01055556666']] as const) {
      assert.equal((await s.call(tenant.apiKey, '/api/v1/otp/send', { phone, purpose: 'login', userId })).status, 200);
      const code = sms.lastCode(`+82${phone.slice(1)}`);
      codes.push(code);
      if (userId === 'alice') await s.call(tenant.apiKey, '/api/v1/otp/verify', { phone, code: code === '000000' ? '111111' : '000000' });
      assert.equal((await s.call(tenant.apiKey, '/api/v1/otp/verify', { phone, code })).body.data.verified, true);
    }
    const setup = await s.call(tenant.apiKey, '/api/v1/totp/setup', { userId: 'alice', accountName: 'alice@example.com' });
    totpSecret = setup.body.data.secret;
    const token = await generate({ secret: totpSecret, epoch: Math.floor(Date.now() / 1000) });
    assert.equal((await s.call(tenant.apiKey, '/api/v1/totp/verify', { userId: 'alice', token })).body.data.verified, true);
  });
  after(async () => {
    await s.stop();
    await sms.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('replay --verify rebuilds every read model into a fresh file equal to the live ones, with progress on stderr', async () => {
    const out = join(dataDir, 'rebuilt.db');
    // An existing file is never overwritten.
    const [r, existing] = await Promise.all([admin(env, 'replay', '--verify', '--out', out, '--json'), admin(env, 'replay', '--out', join(dataDir, 'events.db'))]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const res = jsonOf(r);
    assert.equal(res.out, out);
    assert.equal(res.verify.ok, true, JSON.stringify(res.verify));
    assert.deepEqual(res.errors, []);
    // Both groups: this node's read models and the shared webhook deliveries.
    for (const t of ['audit_log', 'tenants', 'insights_hourly', 'insights_daily', 'webhook_deliveries', 'webhook_endpoints']) assert.ok(res.verify.equal.includes(t), `${t} in ${res.verify.equal}`);
    assert.ok(res.events > 10);
    assert.match(r.stderr, /replay \[#+\] 100%\s+\d+\/\d+ events\s+[\d,]+ ev\/s\s+ETA/);
    assert.ok(existsSync(out));
    // The insights compared are not empty: the run's SMS and TOTP verifications were counted.
    const rebuilt = new DatabaseSync(out, { readOnly: true });
    const counted = rebuilt.prepare("SELECT channel, metric, SUM(n) AS n FROM insights_daily GROUP BY channel, metric ORDER BY channel, metric").all();
    rebuilt.close();
    assert.deepEqual(counted.map((c) => `${c.channel}.${c.metric}=${c.n}`), ['sms.failed=1', 'sms.started=2', 'sms.verified=2', 'totp.started=1', 'totp.verified=1']);
    assert.notEqual(existing.code, 0);
    assert.match(existing.stderr, /^error: --out: .*events\.db already exists/m);
  });

  test('history of one user or one stream: in order, decoded, with the phone number, codes, secrets and encrypted blobs masked', async () => {
    const db = new DatabaseSync(join(dataDir, 'events.db'), { readOnly: true });
    const rows = db.prepare('SELECT stream, type, data FROM events ORDER BY position').all() as { stream: string; type: string; data: string }[];
    db.close();
    // Alice verified first (the log holds her user id only sealed).
    const otpStream = rows.find((e) => e.type === 'OtpVerified')!.stream;
    const [r, one, bad] = await Promise.all([
      admin(env, 'history', '--tenant', tenant.tenantId, '--user', 'alice'),
      admin(env, 'history', '--stream', otpStream, '--json'),
      admin(env, 'history', '--tenant', tenant.tenantId),
    ]);
    assert.equal(r.code, 0, r.stderr);
    for (const type of ['OtpIssued', 'OtpAttemptFailed', 'OtpVerified', 'TotpEnrollmentStarted']) assert.match(r.stdout, new RegExp(`\\b${type}\\b`));
    const positions = [...r.stdout.matchAll(/^#(\d+) /gm)].map((m) => Number(m[1]));
    assert.ok(positions.length >= 5, r.stdout);
    assert.deepEqual(positions, [...positions].sort((a, b) => a - b), 'log order');
    assert.ok(!r.stdout.includes('bob'), 'only the user asked for');
    const entries = jsonOf(one).entries as { type: string; stream: string }[];
    assert.deepEqual(entries.map((e) => e.type).slice(0, 1), ['OtpIssued']);
    assert.ok(entries.every((e) => e.stream === otpStream));
    // Nothing personal or secret: the hashes and sealed values stored in the log must not appear.
    const sensitive: string[] = [];
    const collect = (v: unknown, k = '') => {
      if (typeof v === 'string' && /Enc$|Hash$|hash$|secret|^code$/i.test(k) && v.length > 8) sensitive.push(v);
      else if (v && typeof v === 'object') for (const [kk, vv] of Object.entries(v)) collect(vv, kk);
    };
    rows.forEach((e) => collect(JSON.parse(e.data)));
    assert.ok(sensitive.length > 3, 'the log holds hashes and sealed secrets');
    for (const output of [r.stdout, one.stdout]) {
      for (const v of sensitive) assert.ok(!output.includes(v), `no stored hash or sealed value in the history: ${v.slice(0, 12)}…`);
      for (const secret of ['1077778888', totpSecret, tenant.apiKey, tenant.webhookSecret]) assert.ok(!output.includes(secret), 'no phone number or secret');
      for (const code of codes) assert.doesNotMatch(output, new RegExp(`(?<!\\w)${code}(?!\\w)`), 'no one-time code');
      assert.doesNotMatch(output, /v1\.[\w-]{8,}\.[\w-]{8,}\./, 'no encrypted blobs');
    }
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /^error: --user is required/m);
  });

  test('audit export prints valid JSONL, filtered by user and time', async () => {
    const [r, future] = await Promise.all([
      admin(env, 'audit', 'export', '--tenant', tenant.tenantId, '--user', 'alice', '--from', '2000-01-01'),
      admin(env, 'audit', 'export', '--user', 'alice', '--from', '2999-01-01T00:00:00Z'),
    ]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.split('\n').filter((l) => l.startsWith('{'));
    const records = lines.map((l) => JSON.parse(l));
    assert.ok(records.length >= 4, r.stdout);
    assert.ok(records.every((x) => x.userId === 'alice' && x.tenantId === tenant.tenantId));
    assert.ok(records.some((x) => x.action === 'verification.succeeded' && x.channel === 'sms'));
    assert.ok(records.some((x) => x.channel === 'totp'));
    assert.ok(!r.stdout.includes('1077778888'));
    assert.equal(future.stdout.split('\n').filter((l) => l.startsWith('{')).length, 0);
  });

  test('verify-chain passes on the untouched log; after an event is edited in SQLite it names its stream and revision, and replay --verify exits 1 listing the differing tables', async () => {
    const clean = await admin(env, 'verify-chain', '--json');
    assert.equal(clean.code, 0, clean.stdout + clean.stderr);
    assert.equal(jsonOf(clean).ok, true);
    assert.ok(jsonOf(clean).chained > 10);
    assert.match(clean.stderr, /verify-chain \[#+\] 100%/);

    const db = new DatabaseSync(join(dataDir, 'events.db'));
    const victim = db.prepare("SELECT position, stream, revision, data FROM events WHERE type = 'OtpVerified' ORDER BY position LIMIT 1").get() as { position: number; stream: string; revision: number; data: string };
    const edited = { ...JSON.parse(victim.data), userId: 'mallory' };
    db.prepare('UPDATE events SET data = ? WHERE position = ?').run(JSON.stringify(edited), victim.position);
    db.close();

    const [r, replayed] = await Promise.all([admin(env, 'verify-chain'), admin(env, 'replay', '--verify', '--out', join(dataDir, 'rebuilt-after-edit.db'))]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /1 problem\(s\):/);
    assert.ok(r.stdout.includes(`hash_mismatch  ${victim.stream}@${victim.revision}  (position ${victim.position}, OtpVerified)`), r.stdout);
    assert.match(r.stderr, new RegExp(`^error: .*${victim.stream.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}@${victim.revision}`, 'm'));
    // The edited event also makes the rebuilt read models differ from the live ones, in both groups.
    assert.equal(replayed.code, 1, replayed.stdout + replayed.stderr);
    assert.match(replayed.stderr, /^error: rebuilt read models differ from the live ones in .*audit_log/m);
    assert.match(replayed.stderr, /webhook_deliveries/);
    assert.match(replayed.stdout, /differing tables:\n {2}audit_log: live \d+ rows, rebuilt \d+; 1 only in live, 1 only in rebuilt/);
    assert.ok(existsSync(join(dataDir, 'rebuilt-after-edit.db')), 'a complete rebuild that differs is kept, to look at');
  });
});

test('audit export waits for drain on a slow reader and loses nothing', async () => {
  const got: string[] = [];
  let drains = 0;
  const slow = new Writable({
    highWaterMark: 64,
    write: (chunk, _enc, done) => void setTimeout(() => (got.push(String(chunk)), done()), 1),
  });
  slow.on('drain', () => drains++);
  const lines = Array.from({ length: 200 }, (_, i) => JSON.stringify({ position: i, filler: 'x'.repeat(40) }));
  assert.equal(await writeLines(lines, slow), 200);
  await new Promise<void>((r) => slow.end(r));
  assert.equal(got.join(''), lines.map((l) => `${l}\n`).join(''));
  assert.ok(drains > 10, `waited for drain ${drains} times`);
});
