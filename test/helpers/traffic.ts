// A seeded run for the insights: real API calls against a live server (SMS through the test
// gateway, push through the console sender, TOTP with real codes, passkeys with a software
// authenticator), spread over hours by the server's test clock, and older SMS traffic days and
// weeks back for the longer ranges. Returns what it did, so tests can check the counts.
import assert from 'node:assert/strict';
import { generate } from 'otplib';
import { createSoftAuthenticator } from '../fixtures/webauthn-authenticator.ts';
import type { TestClock } from './clock.ts';
import type { TestServer } from './server.ts';
import type { startSmsGateway } from './sms-gateway.ts';

type Gateway = Awaited<ReturnType<typeof startSmsGateway>>;

/** Phone numbers by country (E.164), each a distinct destination. */
const PHONES = {
  KR: (i: number) => `+82105555${String(1000 + i)}`,
  US: (i: number) => `+1650253${String(1000 + i)}`,
  GB: (i: number) => `+447400${String(100000 + i)}`,
};

const wrong = (code: string) => String((Number(code) + 1) % 1_000_000).padStart(6, '0');

/** SMS in three countries (US pumping-like: sends, no verifications), email, push approvals,
 * denials, a "not me" and a number-matching failure, TOTP failures up to a throttle. The clock
 * moves an hour between rounds. */
export const seedTraffic = async (s: TestServer, sms: Gateway, clock: TestClock, tenant: { tenantId: string; apiKey: string }, opts: { rounds?: number } = {}) => {
  const rounds = opts.rounds ?? 3;
  const { apiKey } = tenant;
  const allowed = await s.admin('PATCH', `/api/v1/admin/tenants/${tenant.tenantId}/settings`, { settings: { smsAllowedCountries: ['KR', 'US', 'GB'] } });
  assert.equal(allowed.status, 200, JSON.stringify(allowed.body));
  const call = async (path: string, body: Record<string, unknown>) => {
    const r = await s.call(apiKey, path, body);
    assert.equal(r.status, 200, `${path}: ${JSON.stringify(r.body)}`);
    return r.body.data;
  };
  const done = { smsSent: { KR: 0, US: 0, GB: 0 }, smsVerified: { KR: 0, US: 0, GB: 0 }, email: 0, pushApproved: 0, pushDenied: 0, notMe: 0, numberMismatch: 0, totpFailed: 0, totpThrottled: 0, passkeys: { started: 0, verified: 0, failed: 0, cloneSuspected: 0 } };
  let n = 0;
  for (let round = 0; round < rounds; round++) {
    // Korea converts, the US does not (pumping), Britain half.
    for (const [country, sends, verifies] of [['KR', 2, 2], ['US', 4, 0], ['GB', 2, 1]] as const) {
      for (let i = 0; i < sends; i++) {
        const phone = PHONES[country](n++);
        await call('/api/v1/otp/send', { phone, purpose: 'login', userId: `user${n}` });
        done.smsSent[country]++;
        if (i < verifies) {
          const code = sms.lastCode(phone);
          await call('/api/v1/otp/verify', { phone, code: wrong(code) });
          assert.equal((await call('/api/v1/otp/verify', { phone, code })).verified, true);
          done.smsVerified[country]++;
        }
      }
    }
    await call('/api/v1/email-otp/send', { email: `u${round}@example.com`, purpose: 'login' });
    done.email++;
    // Push: approve, deny, "not me".
    const userId = `pushuser${round}`;
    await call('/api/v1/push/devices', { userId, fcmToken: `fcm-token-${round}-${'x'.repeat(20)}`, platform: 'android' });
    for (const answer of [{ action: 'approve' }, { action: 'deny' }, { action: 'deny', notMe: true }]) {
      const sent = await call('/api/v1/push/send', { userId, title: 'Sign in?' });
      await call('/api/v1/push/respond', { requestId: sent.requestId, number: sent.number || undefined, ...answer });
    }
    done.pushApproved++;
    done.pushDenied += 2;
    done.notMe++;
    clock.advance(3_600_000);
  }
  // Number matching on: a wrong number is a number-matching failure.
  const mm = await s.admin('PATCH', `/api/v1/admin/tenants/${tenant.tenantId}/settings`, { settings: { pushNumberMatching: true } });
  assert.equal(mm.status, 200, JSON.stringify(mm.body));
  const sent = await call('/api/v1/push/send', { userId: 'pushuser0', title: 'Sign in?' });
  await call('/api/v1/push/respond', { requestId: sent.requestId, action: 'approve', number: sent.number === 99 ? 10 : sent.number + 1 });
  done.numberMismatch++;
  // TOTP: three wrong codes; the third puts the user under a delay (throttled).
  const setup = await call('/api/v1/totp/setup', { userId: 'totpuser', accountName: 'totp@example.com' });
  const right = await generate({ secret: setup.secret, epoch: Math.floor(clock.now() / 1000) });
  for (let i = 0; i < 3; i++) {
    assert.equal((await call('/api/v1/totp/verify', { userId: 'totpuser', token: String((Number(right) + 500_000 + i) % 1_000_000).padStart(6, '0') })).verified, false);
    done.totpFailed++;
  }
  done.totpThrottled++;
  done.passkeys = await seedPasskeyFailures(s, tenant, { failures: 2 });
  return done;
};

/** Passkey sign-ins of one user over the live API with a software authenticator: one that
 * succeeds, then `failures` that fail (an assertion made for another origin; one carrying the
 * signature of an earlier ceremony, i.e. a replayed response), then one whose signature counter
 * went backwards (a suspected clone). Each is a real ceremony: options, then verify. */
export const seedPasskeyFailures = async (s: TestServer, tenant: { apiKey: string }, opts: { failures: number; userId?: string }) => {
  const origin = `http://localhost:${s.port}`;
  const userId = opts.userId ?? 'passkeyuser';
  const auth = createSoftAuthenticator({ origin });
  const call = async (path: string, body: Record<string, unknown>) => {
    const r = await s.call(tenant.apiKey, path, body);
    assert.equal(r.status, 200, `${path}: ${JSON.stringify(r.body)}`);
    return r.body.data;
  };
  const registration = await call('/api/v1/webauthn/register/options', { userId });
  assert.equal((await call('/api/v1/webauthn/register/verify', { userId, credential: auth.register(registration.publicKey) })).verified, true);
  const done = { started: 0, verified: 0, failed: 0, cloneSuspected: 0 };
  const signIn = async (make: (options: Parameters<typeof auth.authenticate>[0]) => ReturnType<typeof auth.authenticate>) => {
    const { publicKey } = await call('/api/v1/webauthn/authenticate/options', { userId });
    done.started++;
    return (await call('/api/v1/webauthn/authenticate/verify', { userId, credential: make(publicKey) })).verified as boolean;
  };
  let earlier: ReturnType<typeof auth.authenticate> | undefined;
  assert.equal(await signIn((o) => (earlier = auth.authenticate(o))), true);
  done.verified++;
  for (let i = 0; i < opts.failures; i++) {
    const bad = (o: Parameters<typeof auth.authenticate>[0]) => {
      if (i % 2 === 0) return auth.authenticate(o, { origin: 'https://evil.example' });
      const fresh = auth.authenticate(o);
      return { ...fresh, response: { ...fresh.response, signature: earlier!.response.signature } };
    };
    assert.equal(await signIn(bad), false);
    done.failed++;
  }
  assert.equal(await signIn((o) => auth.authenticate(o, { counter: 0 })), false);
  done.cloneSuspected++;
  return done;
};

/** Phones for the older traffic, apart from seedTraffic's. */
const OLDER_PHONE = (i: number) => `+82107777${String(1000 + i)}`;

/** Older SMS traffic, each code sent and verified: for each [days ago, codes], the clock moves
 * to that many days before now (oldest first: a clock only moves forward) and sends them.
 * Returns when (epoch ms) each age's codes were sent. */
export const seedOlderTraffic = async (s: TestServer, sms: Gateway, clock: TestClock, tenant: { apiKey: string }, ages: readonly (readonly [days: number, codes: number])[]) => {
  let n = 0;
  const sent: { days: number; codes: number; at: number }[] = [];
  for (const [days, codes] of [...ages].sort((a, b) => b[0] - a[0])) {
    const at = Date.now() - days * 86_400_000;
    assert.ok(clock.now() <= at, `the clock (${new Date(clock.now()).toISOString()}) is already past ${days} days ago`);
    clock.advance(at - clock.now());
    for (let i = 0; i < codes; i++) {
      const phone = OLDER_PHONE(n++);
      const issued = await s.call(tenant.apiKey, '/api/v1/otp/send', { phone, purpose: 'login' });
      assert.equal(issued.status, 200, JSON.stringify(issued.body));
      const verified = await s.call(tenant.apiKey, '/api/v1/otp/verify', { phone, code: sms.lastCode(phone) });
      assert.equal(verified.body.data?.verified, true, JSON.stringify(verified.body));
    }
    sent.push({ days, codes, at });
  }
  return sent;
};
