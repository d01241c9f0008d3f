// Lock-out as a weapon, tried over the live API with the clock moved instead of waiting: an attacker
// who triggers sends to a victim's phone, or guesses the victim's TOTP codes, cannot deny the victim
// for longer than a short bounded time, and the tenant can lift what is left (docs/security.md).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { generate } from 'otplib';
import { createTestClock } from './helpers/clock.ts';
import { adminJson } from './helpers/cli.ts';
import { startMessagingTestServer, type MessagingTestServer } from './helpers/messaging-server.ts';

const END_USER = 'x-securekey-end-user-ip';
const ATTACKER = '203.0.113.66';
const VICTIM = '198.51.100.7';

describe('lock-out resistance', () => {
  let m: MessagingTestServer;
  let apiKey: string;
  let tenantId: string;
  const clock = createTestClock();
  before(async () => {
    m = await startMessagingTestServer({}, { now: clock.now });
    ({ apiKey, tenantId } = await m.server.createTenant('lockout'));
    // No resend cooldown, so that the caps themselves are what is tried.
    await m.server.admin('PATCH', `/api/v1/admin/tenants/${tenantId}/settings`, { settings: { otpResendCooldownSeconds: 0 } });
  });
  after(() => m.stop());

  let n = 0;
  const newPhone = () => {
    n++;
    return { national: `0105${String(n).padStart(3, '0')}1234`, e164: `+82105${String(n).padStart(3, '0')}1234` };
  };
  const send = (phone: string, ip?: string) => m.server.post('/api/v1/otp/send', { phone, purpose: 'login' }, { 'x-api-key': apiKey, ...(ip ? { [END_USER]: ip } : {}) });
  const verifySms = (phone: string, code: string, ip?: string) => m.server.post('/api/v1/otp/verify', { phone, code }, { 'x-api-key': apiKey, ...(ip ? { [END_USER]: ip } : {}) });

  test('five sends an attacker triggers do not use up the victim\'s caps: the victim (their own address) still gets a code and signs in', async () => {
    const p = newPhone();
    const attacker = [];
    for (let i = 0; i < 6; i++) attacker.push((await send(p.national, ATTACKER)).status);
    assert.deepEqual(attacker, [200, 200, 200, 200, 200, 429], 'the attacker hits the per-requester hourly cap');
    const mine = await send(p.national, VICTIM);
    assert.equal(mine.status, 200, JSON.stringify(mine.body));
    const v = await verifySms(p.national, m.gateway.lastCode(p.e164)!, VICTIM);
    assert.equal(v.body.data.verified, true);
  });

  test('bombing from many addresses is capped per 10 minutes, and what it denies the victim lasts at most those 10 minutes', async () => {
    const p = newPhone();
    for (let i = 0; i < 10; i++) assert.equal((await send(p.national, `203.0.113.${100 + i}`)).status, 200);
    const denied = await send(p.national, VICTIM);
    assert.equal(denied.status, 429);
    assert.equal(denied.body.code, 'DESTINATION_LIMIT');
    const wait = Number(denied.headers.get('retry-after'));
    assert.ok(wait > 0 && wait <= 600, `bounded: ${wait} s`);
    clock.advance(wait * 1000);
    assert.equal((await send(p.national, VICTIM)).status, 200, 'the victim gets a code once the burst window has passed');
  });

  test('ten sends in a day from one requester do not stop the victim either (the daily cap is per requester)', async () => {
    const p = newPhone();
    for (let i = 0; i < 5; i++) assert.equal((await send(p.national, ATTACKER)).status, 200);
    clock.advance(3_601_000);
    for (let i = 0; i < 5; i++) assert.equal((await send(p.national, ATTACKER)).status, 200);
    clock.advance(3_601_000);
    const blocked = await send(p.national, ATTACKER);
    assert.equal(blocked.status, 429, 'the attacker is out for the day');
    assert.ok(Number(blocked.headers.get('retry-after')) > 3600);
    assert.equal((await send(p.national, VICTIM)).status, 200);
  });

  test('without end-user addresses attacker and victim look alike: the tenant resets the destination\'s limits and the victim gets a code at once', async () => {
    const p = newPhone();
    for (let i = 0; i < 5; i++) assert.equal((await send(p.national)).status, 200);
    assert.equal((await send(p.national)).status, 429, 'the victim, behind the same requester, is refused');
    const reset = await m.server.post('/api/v1/limits/reset', { phone: p.national }, { 'x-api-key': apiKey });
    assert.equal(reset.status, 200, JSON.stringify(reset.body));
    assert.deepEqual(reset.body.data, { phoneReset: true, emailReset: false, totpReset: false });
    assert.equal((await send(p.national)).status, 200);
    const code = m.gateway.lastCode(p.e164)!;
    assert.equal((await verifySms(p.national, code)).body.data.verified, true);
  });

  test('the operator can do the same through the admin API and the CLI', async () => {
    const p = newPhone();
    for (let i = 0; i < 5; i++) await send(p.national);
    assert.equal((await send(p.national)).status, 429);
    const viaAdmin = await m.server.admin('POST', `/api/v1/admin/tenants/${tenantId}/limits/reset`, { phone: p.national });
    assert.equal(viaAdmin.body.data.phoneReset, true);
    assert.equal((await send(p.national)).status, 200);

    const q = newPhone();
    for (let i = 0; i < 5; i++) await send(q.national);
    assert.equal((await send(q.national)).status, 429);
    const env = { SECUREKEY_DATA_DIR: m.server.dataDir, SECUREKEY_MASTER_KEY: m.server.config.masterKey.toString('base64') };
    const viaCli = await adminJson(env, 'limits', 'reset', '--tenant', tenantId, '--phone', q.national, '--json');
    assert.equal(viaCli.phoneReset, true);
    assert.equal((await send(q.national)).status, 200, 'the running server sees the reset the CLI wrote');
  });

  // ── TOTP ──────────────────────────────────────────────────────────────────────────────────
  let u = 0;
  /** A confirmed TOTP user and a function for the code at the server's current time. */
  const enrolled = async () => {
    const userId = `totp-${++u}`;
    const setup = await m.server.call(apiKey, '/api/v1/totp/setup', { userId, accountName: `${userId}@example.com` });
    const secret = setup.body.data.secret as string;
    const code = () => generate({ secret, epoch: Math.floor(clock.now() / 1000) });
    assert.equal((await m.server.call(apiKey, '/api/v1/totp/verify', { userId, token: await code() })).body.data.verified, true);
    clock.advance(30_000); // the confirming step is used: the next code is the next step's
    return { userId, code };
  };
  const totp = (userId: string, token: string, ip?: string) => m.server.post('/api/v1/totp/verify', { userId, token }, { 'x-api-key': apiKey, ...(ip ? { [END_USER]: ip } : {}) });
  const wrong = async (c: Promise<string>) => ((await c) === '000000' ? '111111' : '000000');

  test("TOTP: an attacker's wrong guesses from another address do not delay the victim's correct code", async () => {
    const { userId, code } = await enrolled();
    const guesses = [];
    for (let i = 0; i < 3; i++) guesses.push((await totp(userId, await wrong(code()), ATTACKER)).body.data);
    assert.deepEqual(guesses.map((g) => g.verified), [false, false, false]);
    assert.ok(guesses[2].retryAfter > 0, 'the attacker now waits');
    assert.equal((await totp(userId, await wrong(code()), ATTACKER)).body.code, 'RATE_LIMITED');
    const mine = await totp(userId, await code(), VICTIM);
    assert.equal(mine.status, 200, JSON.stringify(mine.body));
    assert.equal(mine.body.data.verified, true);
  });

  test('TOTP: behind one requester, the victim waits at most 30 s after any number of wrong guesses', async () => {
    const { userId, code } = await enrolled();
    let longest = 0;
    for (let i = 0; i < 20; i++) {
      const r = await totp(userId, await wrong(code()));
      assert.equal(r.status, 200, JSON.stringify(r.body));
      const wait = Number(r.body.data.retryAfter);
      longest = Math.max(longest, wait);
      assert.ok(wait <= 30, `delay ${wait} s`);
      if (i < 19) clock.advance(wait * 1000);
    }
    assert.equal(longest, 30, 'the delay grew to its cap');
    const refused = await totp(userId, await code());
    assert.equal(refused.status, 429);
    assert.ok(Number(refused.body.retryAfter) <= 30);
    clock.advance(30_000);
    assert.equal((await totp(userId, await code())).body.data.verified, true);
  });

  test('TOTP: 100 wrong codes in a row lock the enrollment (NIST 800-63B); the tenant\'s reset lifts it; so does enrolling again', async () => {
    const { userId, code } = await enrolled();
    // From many addresses, so that no requester delay slows the attack down.
    for (let i = 0; i < 34; i++) for (let k = 0; k < 3; k++) await totp(userId, await wrong(code()), `203.0.114.${i}`);
    const locked = await totp(userId, await code(), VICTIM);
    assert.equal(locked.status, 429);
    assert.equal(locked.body.code, 'TOO_MANY_ATTEMPTS');
    const reset = await m.server.post('/api/v1/limits/reset', { userId }, { 'x-api-key': apiKey });
    assert.equal(reset.body.data.totpReset, true);
    assert.equal((await totp(userId, await code(), VICTIM)).body.data.verified, true);

    // Locked again, then deleted and enrolled anew: the new secret starts with a clean slate.
    clock.advance(30_000);
    for (let i = 0; i < 34; i++) for (let k = 0; k < 3; k++) await totp(userId, await wrong(code()), `203.0.115.${i}`);
    assert.equal((await totp(userId, await code(), VICTIM)).body.code, 'TOO_MANY_ATTEMPTS');
    assert.equal((await m.server.call(apiKey, '/api/v1/totp/delete', { userId })).status, 200);
    const again = await m.server.call(apiKey, '/api/v1/totp/setup', { userId, accountName: 'again@example.com' });
    const fresh = () => generate({ secret: again.body.data.secret as string, epoch: Math.floor(clock.now() / 1000) });
    assert.equal((await totp(userId, await fresh(), VICTIM)).body.data.verified, true);
  });
});
