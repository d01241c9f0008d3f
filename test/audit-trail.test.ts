// The audit trail: who, what, when, channel, outcome, truncated IP, masked destination; queries by
// user and time range with page tokens; JSONL export; the auditor's masked history.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { auditJsonLines, openAuditRecord, queryAudit } from '../projections/audit/index.ts';
import { truncateIp } from '../projections/audit/ip.ts';
import { formatHistory, streamHistory, userHistory } from '../src/app/history.ts';
import { createUserKeys } from '../src/app/user-keys.ts';
import { pushInboxStream, pushRequestStream } from '../src/domain/push/streams.ts';
import { totpStreamName } from '../src/domain/totp/decider.ts';
import { DomainError } from '../src/domain/errors.ts';
import { createEnv, type Env } from './fixtures/webhook-env.ts';

let env: Env;
before(async () => {
  env = await createEnv();
});
after(async () => {
  await env.cleanup();
});

test('client IPs are truncated: IPv4 to /24, IPv6 to /48, mapped IPv4 as IPv4, junk to nothing', () => {
  assert.equal(truncateIp('203.0.113.77'), '203.0.113.0');
  assert.equal(truncateIp('2001:db8:1234:5678:9abc::1'), '2001:db8:1234::');
  assert.equal(truncateIp('2001:db8::1'), '2001:db8:0::');
  assert.equal(truncateIp('::1'), '0:0:0::');
  assert.equal(truncateIp('::ffff:198.51.100.23'), '198.51.100.0');
  assert.equal(truncateIp('fe80::1%eth0'), 'fe80:0:0::');
  assert.equal(truncateIp('not-an-ip'), null);
  assert.equal(truncateIp(undefined), null);
});

/** The audit records of a query, personal values opened as the API and the CLI open them. */
const opened = (q: Parameters<typeof queryAudit>[1]) => queryAudit(env.db, q).records.map((r) => openAuditRecord(r, env.personal.openValue));

test('each event becomes one audit record: who, what, when, channel, outcome, truncated IP, masked destination', async () => {
  const t = await env.createTenant();
  const pos = await env.otpVerified(t.tenantId, 'user_a');
  const { records: stored } = queryAudit(env.db, { tenantId: t.tenantId });
  // The read model holds the personal values sealed, as the log does.
  assert.doesNotMatch(JSON.stringify(stored), /user_a|203\.0\.113|\*\*\*\*-5678/);
  const records = opened({ tenantId: t.tenantId });
  assert.deepEqual(records.map((r) => [r.action, r.outcome, r.actor]), [
    ['tenant.created', 'ok', 'cli'],
    ['api_key.issued', 'ok', 'cli'],
    ['otp.issued', 'issued', null],
    ['verification.succeeded', 'success', null],
  ]);
  const v = records.at(-1)!;
  assert.equal(v.position, pos);
  assert.deepEqual(
    { tenantId: v.tenantId, keyId: v.keyId, userId: v.userId, channel: v.channel, clientIp: v.clientIp, destination: v.destination, eventType: v.eventType },
    { tenantId: t.tenantId, keyId: 'key_test', userId: 'user_a', channel: 'sms', clientIp: '203.0.113.0', destination: '+82 10-****-5678', eventType: 'OtpVerified' },
  );
  assert.ok(Math.abs(v.at - Date.now()) < 10_000);
  assert.doesNotMatch(JSON.stringify(records), /203\.0\.113\.77|codeHash|v1\./);
});

test('queries by user and by time range, paginated with page tokens', async () => {
  const t = await env.createTenant();
  for (let i = 0; i < 5; i++) await env.otpVerified(t.tenantId, i % 2 ? 'user_odd' : 'user_even');
  const even = opened({ tenantId: t.tenantId, user: env.userFilter('user_even') });
  assert.equal(even.length, 6); // 3 codes × (issued, verified)
  assert.ok(even.every((r) => r.userId === 'user_even'));

  const pages: number[][] = [];
  let token = '';
  do {
    const page = queryAudit(env.db, { tenantId: t.tenantId, user: env.userFilter('user_even'), limit: 4, pageToken: token });
    pages.push(page.records.map((r) => r.position));
    token = page.nextPageToken;
  } while (token);
  assert.deepEqual(pages.flat(), even.map((r) => r.position));
  assert.deepEqual(pages.map((p) => p.length), [4, 2]);

  const all = queryAudit(env.db, { tenantId: t.tenantId }).records;
  const cut = all[4].at;
  const late = queryAudit(env.db, { tenantId: t.tenantId, from: cut }).records;
  const early = queryAudit(env.db, { tenantId: t.tenantId, to: cut }).records;
  assert.deepEqual([...early, ...late].map((r) => r.position), all.map((r) => r.position));
  assert.ok(late.every((r) => r.at >= cut) && early.every((r) => r.at < cut));

  // Another tenant's records never show.
  assert.equal(queryAudit(env.db, { tenantId: 'tn_nobody' }).records.length, 0);
  assert.throws(() => queryAudit(env.db, { tenantId: t.tenantId, pageToken: '!!' }), DomainError);
  assert.throws(() => queryAudit(env.db, { tenantId: t.tenantId, from: 10, to: 5 }), DomainError);
});

test("a user's records are found by stream key, and those of events older than sealing by the user id they hold in clear", async () => {
  const t = await env.createTenant();
  await env.otpVerified(t.tenantId, 'user_new');
  // An event from before sealing and stream keys: the user id in clear, no userKey.
  const legacy = await env.store.appendToStream(`legacyotp-${t.tenantId}.x`, [{ type: 'OtpVerified', data: { otpId: 'otp_old', channel: 'sms', purpose: 'login', userId: 'user_new', masked: '+82 10-****-5678', attempts: 0, attemptsRemaining: 5, verifiedAt: Date.now() }, metadata: { tenantId: t.tenantId } }]);
  await env.runner.waitFor(legacy.position);
  const found = queryAudit(env.db, { tenantId: t.tenantId, user: env.userFilter('user_new') }).records;
  assert.equal(found.length, 3); // issued and verified (sealed, by key), and the old one (by id)
  assert.equal(found.at(-1)!.position, legacy.position);
  assert.equal(found.at(-1)!.userId, 'user_new');
  assert.equal(queryAudit(env.db, { tenantId: t.tenantId, user: env.userFilter('someone_else') }).records.length, 0);
});

test('the JSONL export is one parseable record per line, in order, filterable', async () => {
  const t = await env.createTenant();
  await env.otpVerified(t.tenantId, 'user_x');
  const lines = [...auditJsonLines(env.db, env.personal.openValue, { tenantId: t.tenantId }, 2)];
  assert.equal(lines.length, 4);
  const parsed = lines.map((l) => JSON.parse(l));
  assert.ok(lines.every((l) => !l.includes('\n')));
  assert.deepEqual(parsed.map((r) => r.action), ['tenant.created', 'api_key.issued', 'otp.issued', 'verification.succeeded']);
  assert.ok(parsed.every((r, i) => i === 0 || r.position > parsed[i - 1].position));
  assert.equal(parsed.at(-1).userId, 'user_x');
  const everyone = [...auditJsonLines(env.db, env.personal.openValue)];
  assert.ok(everyone.length > lines.length);
});

test("an auditor's user history is in order, decoded, with personal data masked", async () => {
  const t = await env.createTenant();
  const userId = 'user_hist';
  const userKey = env.keyring.hmac('user', userId);
  const meta = env.meta(t.tenantId);
  await env.emit(totpStreamName(t.tenantId, userKey), [{ type: 'TotpEnrollmentStarted', data: { secretEnc: env.keyring.encrypt('totp', 'JBSWY3DPEHPK3PXP'), algorithm: 'sha1', digits: 6, period: 30, issuer: 'Shop', accountNameMasked: 'a***@example.com', startedAt: 1 } }], meta);
  await env.otpVerified(t.tenantId, userId);
  await env.otpVerified(t.tenantId, 'someone_else');
  await env.emit(pushInboxStream(t.tenantId, userKey), [{ type: 'PushRequestOpened', data: { requestId: 'pr_1', at: 2, expiresAt: 3 } }], meta);
  await env.emit(
    pushRequestStream(t.tenantId, 'pr_1'),
    [
      { type: 'PushRequested', data: { requestId: 'pr_1', userId, userIdHash: userKey, title: 'Approve login for Alice Kim?', body: 'From Seoul', purpose: 'login', expiresAt: 3, number: 42, choices: [42, 17, 88], at: 2 } },
      { type: 'PushApproved', data: { requestId: 'pr_1', userId, purpose: 'login', at: 3 } },
    ],
    meta,
  );

  for (const auditDb of [env.db, undefined]) {
    const users = createUserKeys({ store: env.store, keyring: env.keyring });
    const h = await userHistory({ store: env.store, keyring: env.keyring, personal: env.personal, users, tenantId: t.tenantId, userId, auditDb });
    assert.deepEqual(h.map((e) => e.type), ['TotpEnrollmentStarted', 'OtpIssued', 'OtpVerified', 'PushRequestOpened', 'PushRequested', 'PushApproved']);
    assert.ok(h.every((e, i) => i === 0 || e.position > h[i - 1].position));
    const text = JSON.stringify(h) + formatHistory(h);
    for (const secret of ['JBSWY3DPEHPK3PXP', 'v1.', 'Alice', 'Seoul', '203.0.113.77', '"number":42', 'someone_else']) assert.ok(!text.includes(secret), `must not show ${secret}`);
    assert.equal(h[0].data.secretEnc, '[redacted]');
    assert.equal(h[1].data.codeHash, '[redacted]');
    assert.equal(h[1].data.destinationEnc, '[redacted]');
    assert.equal(h[2].data.masked, '+82 10-****-5678');
    assert.equal(h[2].by.clientIp, '203.0.113.0');
    assert.equal(h[4].data.userIdHash, '[redacted]');
    assert.ok(h.every((e) => !JSON.stringify(e).includes('prevHash')), 'chain hashes are not printed');
  }
  const lines = formatHistory(await streamHistory(env.store, env.personal, pushRequestStream(t.tenantId, 'pr_1'))).split('\n');
  assert.equal(lines.length, 2);
  assert.match(lines[1], /^#\d+ {2}\S+Z {2}push-.*@1 {2}PushApproved {2}requestId=pr_1 userId=user_hist purpose=login at=3 {2}\(key key_test, ip 203\.0\.113\.0\)$/);
});
