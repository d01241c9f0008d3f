// A read model that throws stops alone. Injected faults: a projection that throws on one event
// type until the test "fixes" it. The commands, the other read models and the webhooks go on;
// the stopped one shows on /readyz, /metrics and in an error log line, tries again with backoff
// and catches up once fixed. A command whose decision needs a stopped read model answers 503
// before it appends anything.
import assert from 'node:assert/strict';
import { DatabaseSync } from 'node:sqlite';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Projection } from '../projections/runtime.ts';
import { startNodeReceiver, type NodeReceiver } from './fixtures/webhook-node-receiver.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { startSmsGateway } from './helpers/sms-gateway.ts';
import { until } from './helpers/until.ts';

/** Projection name → the event type it throws on, while set. */
const faults = new Map<string, string>();
const inject = (name: string, type: string) => {
  if (faults.get(name) === type) throw new Error(`injected fault: ${name} cannot apply ${type}`);
};
const wrapProjection = (p: Projection): Projection => ({
  ...p,
  evolve: (db, e) => {
    inject(p.name, e.type);
    p.evolve(db, e);
  },
  evolveBatch: p.evolveBatch && ((db, events) => {
    for (const e of events) inject(p.name, e.type);
    p.evolveBatch!(db, events);
  }),
});

let s: TestServer;
let sms: Awaited<ReturnType<typeof startSmsGateway>>;
let receiver: NodeReceiver;
before(async () => {
  sms = await startSmsGateway();
  receiver = await startNodeReceiver({ secret: 'unset' });
  s = await startTestServer({ SECUREKEY_SMS_PROVIDER: 'http', SECUREKEY_SMS_HTTP_URL: sms.url }, { wrapProjection, projectionRetry: { baseMs: 50, maxMs: 200 } });
});
after(async () => {
  await s.stop();
  await sms.close();
  await receiver.close();
});

let phones = 0;
const newPhone = () => {
  const rest = String(20_000_000 + ++phones).slice(-8);
  return { national: `010${rest}`, e164: `+8210${rest}` };
};
/** Sends a code and verifies it; the verify's response. */
const sendAndVerify = async (apiKey: string, body: Record<string, unknown> = {}) => {
  const p = newPhone();
  const sent = await s.call(apiKey, '/api/v1/otp/send', { phone: p.national, purpose: 'login', ...body });
  assert.equal(sent.status, 200, JSON.stringify(sent.body));
  return s.call(apiKey, '/api/v1/otp/verify', { phone: p.national, code: sms.lastCode(p.e164) });
};
const readyz = async () => (await fetch(`${s.url}/readyz`)).json() as Promise<{ status: string; behind?: string[]; projections: Record<string, { status: string; lag: number; error?: string; attempts?: number }> }>;
const metrics = async () => (await fetch(`${s.url}/metrics`)).text();
const fix = async (name: string) => {
  faults.delete(name);
  await until(`${name} to catch up`, async () => {
    const r = await readyz();
    return r.projections[name]!.status === 'ok' && r.projections[name]!.lag === 0;
  });
};
const storedCount = (type: string) => {
  const db = new DatabaseSync(join(s.dataDir, 'events.db'), { readOnly: true });
  try {
    return (db.prepare('SELECT COUNT(*) AS n FROM events WHERE type = ?').get(type) as { n: number }).n;
  } finally {
    db.close();
  }
};

describe('a projection that throws (the audit trail on OtpVerified)', () => {
  test('commands, the other read models and the webhooks go on; the stopped one is on /readyz, /metrics and in the log; fixed, it catches up', async () => {
    const r = await s.admin('POST', '/api/v1/admin/tenants', { name: 'isolated', webhookUrl: receiver.url });
    const t = r.body.data as { tenantId: string; apiKey: string; webhookSecret: string };
    receiver.setSecret(t.webhookSecret);
    faults.set('audit', 'OtpVerified');

    // The verify answers what happened (not a 500 after its event was appended), and later calls work.
    for (const userId of ['u1', 'u2']) {
      const v = await sendAndVerify(t.apiKey, { userId });
      assert.equal(v.status, 200, JSON.stringify(v.body));
      assert.equal(v.body.data.verified, true);
    }

    const health = await readyz();
    assert.equal(health.status, 'not ready'); // named: a load balancer may send calls elsewhere meanwhile
    assert.deepEqual(health.behind, ['audit']);
    assert.equal(health.projections.audit!.status, 'failing');
    assert.match(health.projections.audit!.error!, /injected fault: audit cannot apply OtpVerified/);
    assert.ok(health.projections.audit!.lag > 0);
    await until('the other read models to be current', async () => Object.entries((await readyz()).projections).every(([n, p]) => n === 'audit' || (p.status === 'ok' && p.lag === 0)));
    const m = await metrics();
    assert.match(m, /^securekey_projection_failing\{projection="audit"\} 1$/m);
    assert.match(m, /^securekey_projection_failing\{projection="otp-stats"\} 0$/m);
    assert.match(m, /^securekey_projection_errors_total\{projection="audit"\} [1-9]/m);
    assert.match(m, /^securekey_projection_lag_events\{projection="audit"\} [1-9]/m);
    assert.ok(s.logs.some((l) => /"level":"error"/.test(l) && l.includes('"projection":"audit"') && l.includes('it alone stops and tries again')), 'an error log line');

    // Other read models: the stats count both verifications; webhooks are delivered.
    const stats = await s.admin('GET', `/api/v1/admin/tenants/${t.tenantId}/otp-stats`);
    assert.equal(stats.status, 200, JSON.stringify(stats.body));
    assert.equal(stats.body.data.stats[0].verified, 2);
    await until('both webhooks', () => receiver.accepted.filter((a) => a.event === 'verification.succeeded').length === 2);
    // A query of the stopped read model answers 503 rather than a stale page.
    const audit = await s.admin('GET', `/api/v1/admin/tenants/${t.tenantId}/audit`);
    assert.equal(audit.status, 503, JSON.stringify(audit.body));
    assert.equal(audit.body.code, 'UNAVAILABLE');

    await fix('audit');
    const caughtUp = await s.admin('GET', `/api/v1/admin/tenants/${t.tenantId}/audit`);
    assert.equal(caughtUp.status, 200);
    assert.equal(caughtUp.body.data.records.filter((a: { action: string }) => a.action === 'verification.succeeded').length, 2, 'nothing skipped');
    assert.equal((await readyz()).status, 'ready');
  });
});

describe('a read model a decision needs is stopped', () => {
  test('a send whose limits read the stopped otp-counters answers 503 before appending anything; fixed, it goes through', async () => {
    const t = await s.createTenant('counters');
    faults.set('otp-counters', 'OtpIssued');
    const first = newPhone();
    assert.equal((await s.call(t.apiKey, '/api/v1/otp/send', { phone: first.national, purpose: 'login' })).status, 200); // nothing waits after it
    await until('otp-counters to stop', async () => (await readyz()).projections['otp-counters']!.status === 'failing');

    const issued = storedCount('OtpIssued');
    const texts = sms.messages.length;
    const second = newPhone();
    const refused = await s.call(t.apiKey, '/api/v1/otp/send', { phone: second.national, purpose: 'login' });
    assert.equal(refused.status, 503, JSON.stringify(refused.body));
    assert.equal(refused.body.code, 'UNAVAILABLE');
    assert.match(refused.body.error, /otp-counters read model is not current; nothing was written/);
    assert.equal(storedCount('OtpIssued'), issued, 'no event appended');
    assert.equal(sms.messages.length, texts, 'no text sent');
    // A verification does not read the counters: it goes on.
    const v = await s.call(t.apiKey, '/api/v1/otp/verify', { phone: first.national, code: sms.lastCode(first.e164) });
    assert.equal(v.body.data.verified, true);

    await fix('otp-counters');
    assert.equal((await s.call(t.apiKey, '/api/v1/otp/send', { phone: second.national, purpose: 'login' })).status, 200);
  });

  test('a verification under an MFA policy answers 503 before it spends the code while mfa-verifications is stopped; tenants without a policy go on', async () => {
    const gated = await s.createTenant('gated');
    const policy = await s.admin('POST', `/api/v1/admin/tenants/${gated.tenantId}/policies`, { name: 'pay', match: { purpose: 'payment' }, requiredChannels: ['sms', 'totp'] });
    assert.equal(policy.status, 200, JSON.stringify(policy.body));
    const free = await s.createTenant('free');
    faults.set('mfa-verifications', 'OtpVerified');
    assert.equal((await sendAndVerify(free.apiKey, { userId: 'f1' })).body.data.verified, true); // now mfa-verifications stops
    await until('mfa-verifications to stop', async () => (await readyz()).projections['mfa-verifications']!.status === 'failing');
    assert.equal((await sendAndVerify(free.apiKey, { userId: 'f2' })).body.data.verified, true, 'no policy: not gated');

    const p = newPhone();
    assert.equal((await s.call(gated.apiKey, '/api/v1/otp/send', { phone: p.national, purpose: 'payment', userId: 'g1' })).status, 200);
    const code = sms.lastCode(p.e164);
    const verified = storedCount('OtpVerified');
    const refused = await s.call(gated.apiKey, '/api/v1/otp/verify', { phone: p.national, code });
    assert.equal(refused.status, 503, JSON.stringify(refused.body));
    assert.equal(storedCount('OtpVerified'), verified, 'the code was not spent');

    await fix('mfa-verifications');
    const again = await s.call(gated.apiKey, '/api/v1/otp/verify', { phone: p.national, code });
    assert.equal(again.status, 403, JSON.stringify(again.body)); // the same code verifies now; the policy wants TOTP too
    assert.equal(again.body.code, 'MFA_REQUIRED');
    assert.deepEqual(again.body.requiredChannels, ['totp']);
  });
});
