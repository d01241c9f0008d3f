// SMS and email one-time codes end to end through the live API, over real sockets: the seed's
// clients' raw requests, a real HTTP SMS gateway and a real SMTP server receiving the codes, the
// gRPC twin via @grpc/grpc-js, the verify races, supersede and cooldown, and no code, number or
// address in clear in the store, the read models or the logs.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, describe, test } from 'node:test';
import { fromBinary } from '@bufbuild/protobuf';
import { type Metadata, status as GrpcStatus } from '@grpc/grpc-js';
import { ErrorDetailSchema } from '../src/gen/securekey/v1/options_pb.js';
import { SmsOtpService } from '../src/gen/securekey/v1/otp_pb.js';
import { grpcCall, statusDetailBytes } from './helpers/grpc.ts';
import { type MessagingTestServer, startMessagingTestServer } from './helpers/messaging-server.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { smsCode } from './helpers/sms-gateway.ts';
import { mailCodes, startSmtp } from './helpers/smtp.ts';

type Tenant = { tenantId: string; apiKey: string };
type Reply = { status: number; body: any };

/** One POST with exactly these header lines and body bytes; chunked: no Content-Length, body in two chunks. */
const rawPost = (base: string, path: string, headers: Record<string, string>, body: string, opts: { chunked?: boolean } = {}): Promise<Reply & { headers: Record<string, unknown> }> =>
  new Promise((resolve, reject) => {
    const u = new URL(base);
    const bytes = Buffer.from(body, 'utf8');
    const h = opts.chunked ? { ...headers, 'Transfer-Encoding': 'chunked' } : { ...headers, 'Content-Length': String(bytes.length) };
    const req = request({ host: u.hostname, port: u.port, path, method: 'POST', headers: h, setHost: true }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) }));
    });
    req.on('error', reject);
    if (opts.chunked) {
      req.write(bytes.subarray(0, 7));
      req.end(bytes.subarray(7));
    } else req.end(bytes);
  });

/** The seed's HTTP clients: their header lines and how they frame the body. */
const clients = {
  // OkHttp 4.12 adds "; charset=utf-8" to a String body's media type.
  java: (key: string) => ({ headers: { 'X-API-Key': key, 'Content-Type': 'application/json; charset=utf-8', 'User-Agent': 'okhttp/4.12.0', 'Accept-Encoding': 'gzip', Connection: 'Keep-Alive' }, chunked: false }),
  // net/http canonicalises header names ("X-Api-Key") and json.Marshal sorts map keys.
  go: (key: string) => ({ headers: { 'X-Api-Key': key, 'Content-Type': 'application/json', 'User-Agent': 'Go-http-client/1.1', 'Accept-Encoding': 'gzip' }, chunked: false }),
  php: (key: string) => ({ headers: { Accept: '*/*', 'Content-Type': 'application/json', 'X-API-Key': key }, chunked: false }),
  // HttpClient.PostAsJsonAsync: JsonContent has no precomputed length, so the body is chunked.
  csharp: (key: string) => ({ headers: { 'X-API-Key': key, 'Content-Type': 'application/json; charset=utf-8' }, chunked: true }),
  bearer: (key: string) => ({ headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' }, chunked: false }),
};
type Client = keyof typeof clients;

/** Every event in the server's store, data and metadata parsed. */
const storedEvents = (dataDir: string) => {
  const db = new DatabaseSync(join(dataDir, 'events.db'));
  try {
    const rows = db.prepare('SELECT stream, type, data, metadata FROM events ORDER BY position').all() as { stream: string; type: string; data: string; metadata: string }[];
    return rows.map((r) => ({ stream: r.stream, type: r.type, data: JSON.parse(r.data), metadata: JSON.parse(r.metadata) }));
  } finally {
    db.close();
  }
};
const eventsOf = (s: TestServer, tenantId: string) => storedEvents(s.dataDir).filter((e) => e.metadata.tenantId === tenantId);

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

const assertSent = (r: Reply, to: string, resendAfter = 30) => {
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.success, true);
  assert.equal(typeof r.body.message, 'string');
  assert.equal(r.body.data.expiresIn, 180);
  assert.equal(r.body.data.resendAfter, resendAfter);
  assert.equal(r.body.data.to, to);
  assert.match(r.body.data.expiresAt, ISO);
  const left = Date.parse(r.body.data.expiresAt) - Date.now();
  assert.ok(left > 170_000 && left <= 180_000, `expiresAt ${left} ms ahead`);
};

const assertVerify = (r: Reply, verified: boolean, attemptsRemaining: number) => {
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.success, true);
  assert.deepEqual(r.body.data, { verified, attemptsRemaining });
};

/** The domain code in a gRPC error: google.rpc.Status (grpc-status-details-bin) → details (Any) → ErrorDetail. */
const grpcDomainCode = (md: Metadata): string | undefined => {
  const value = statusDetailBytes(md, ErrorDetailSchema.typeName);
  return value && fromBinary(ErrorDetailSchema, value).code;
};

/** A 6-digit code other than `code`. */
const wrong = (code: string) => String((Number(code) + 1) % 1_000_000).padStart(6, '0');

describe('SMS and email OTP through the live API (HTTP gateway, SMTP)', () => {
  let peers: MessagingTestServer | undefined;
  let s: TestServer;
  let gateway: MessagingTestServer['gateway'];
  let smtp: MessagingTestServer['smtp'];
  const tenant = (name: string, settings?: Record<string, unknown>): Promise<Tenant> => s.createTenant(name, settings ? { settings } : {});
  const sendSms = (t: Tenant, body: unknown) => s.call(t.apiKey, '/api/v1/otp/send', body);
  const verifySms = (t: Tenant, body: unknown) => s.call(t.apiKey, '/api/v1/otp/verify', body);

  before(async () => {
    peers = await startMessagingTestServer({
      SECUREKEY_SMS_HTTP_AUTH: 'Bearer gateway-secret',
      SECUREKEY_EMAIL_FROM: 'SecureKey <no-reply@securekey.test>',
      SECUREKEY_DEV_MODE: 'false',
    });
    ({ server: s, gateway, smtp } = peers);
  });
  after(() => peers?.stop());

  for (const client of Object.keys(clients) as Client[]) {
    test(`SMS: the seed's ${client} request bytes send a code the gateway receives, and verify it`, async () => {
      const t = await tenant(`seed-sms-${client}`);
      const c = clients[client](t.apiKey);
      const count = gateway.messages.length;
      const sent = await rawPost(s.url, '/api/v1/otp/send', c.headers, '{"phone":"01012345678","purpose":"login"}', c);
      assertSent(sent, '+82 10-****-5678');
      assert.equal(gateway.messages.length, count + 1);
      const msg = gateway.messages.at(-1)!;
      assert.equal(msg.to, '+821012345678');
      const code = smsCode(msg.text);
      assert.match(code, /^\d{6}$/);

      const verifyBody = (code_: string) => (client === 'go' ? `{"code":"${code_}","phone":"01012345678"}` : `{"phone":"01012345678","code":"${code_}"}`);
      assertVerify(await rawPost(s.url, '/api/v1/otp/verify', c.headers, verifyBody(wrong(code)), c), false, 4);
      assertVerify(await rawPost(s.url, '/api/v1/otp/verify', c.headers, verifyBody(code), c), true, 4);
      const again = await rawPost(s.url, '/api/v1/otp/verify', c.headers, verifyBody(code), c);
      assert.equal(again.status, 404);
      assert.deepEqual(Object.keys(again.body).sort(), ['code', 'error', 'success']);
      assert.equal(again.body.code, 'OTP_NOT_FOUND');
    });
  }

  for (const client of ['java', 'go', 'php', 'csharp'] as const) {
    test(`email: the seed's ${client} request bytes deliver a mail over SMTP whose code verifies`, async () => {
      const t = await tenant(`seed-email-${client}`);
      const c = clients[client](t.apiKey);
      const count = smtp.received.length;
      const sent = await rawPost(s.url, '/api/v1/email-otp/send', c.headers, '{"email":"minji.kim@example.com","purpose":"login"}', c);
      assertSent(sent, 'm***@example.com');
      assert.equal(smtp.received.length, count + 1);
      const { rcptTo, mail } = smtp.received.at(-1)!;
      assert.deepEqual(rcptTo, ['minji.kim@example.com']);
      const codes = mailCodes(mail);
      assert.equal(codes.text, codes.html);
      const body = (code: string) => (client === 'go' ? `{"code":"${code}","email":"minji.kim@example.com"}` : `{"email":"minji.kim@example.com","code":"${code}"}`);
      assertVerify(await rawPost(s.url, '/api/v1/email-otp/verify', c.headers, body(codes.text), c), true, 5);
    });
  }

  test("the Node and Python SDKs' field names: userId and the proto name user_id both reach the code's event; JSON with spaces is fine", async () => {
    const t = await tenant('sdk-fields', { otpResendCooldownSeconds: 0 });
    // Node SDK: client.sms.send({ phone, purpose, userId })
    assertSent(await sendSms(t, { phone: '01012345678', purpose: 'login', userId: 'user_123' }), '+82 10-****-5678', 0);
    // Python (json.dumps default separators), snake_case field name.
    const py = await rawPost(s.url, '/api/v1/otp/send', { 'X-API-Key': t.apiKey, 'Content-Type': 'application/json' }, '{"phone": "+821012345678", "purpose": "signup", "user_id": "user_456"}');
    assertSent(py, '+82 10-****-5678', 0);
    // Stored sealed (docs/privacy.md); the user's export reads it back.
    const issued = eventsOf(s, t.tenantId).filter((e) => e.type === 'OtpIssued');
    assert.deepEqual(issued.map((e) => [String(e.data.userId).slice(0, 4), e.data.purpose]), [['pd1.', 'login'], ['pd1.', 'signup']]);
    for (const [userId, purpose] of [['user_123', 'login'], ['user_456', 'signup']]) {
      const x = (await (await fetch(`${s.url}/api/v1/users/${userId}/export`, { headers: { 'x-api-key': t.apiKey } })).json()) as { data: { events: { type: string; data: Record<string, unknown> }[] } };
      assert.deepEqual(x.data.events.filter((e) => e.type === 'OtpIssued').map((e) => [e.data.userId, e.data.purpose]), [[userId, purpose]]);
    }
    // Both forms of the number are one destination: the national form verifies the E.164-sent code.
    assertVerify(await verifySms(t, { phone: '010-1234-5678', code: gateway.lastCode('+821012345678') }), true, 5);
  });

  test('the SMS text: brand (the tenant name by default), Korean by default or English on request, the code, and no WebOTP line while the tenant has no domain', async () => {
    const t = await tenant('sms-text');
    await sendSms(t, { phone: '01022223333', purpose: 'login' });
    const ko = gateway.messages.at(-1)!;
    assert.equal(ko.headers.authorization, 'Bearer gateway-secret');
    assert.equal(ko.headers['content-type'], 'application/json');
    assert.match(ko.text, /^\[sms-text\] 로그인 인증번호는 \d{6} 입니다\. 3분 안에 입력해 주세요\.$/);
    await sendSms(t, { phone: '01033334444', purpose: 'payment', locale: 'en' });
    const en = gateway.messages.at(-1)!;
    assert.equal(en.to, '+821033334444');
    assert.match(en.text, /^\[sms-text\] Your payment code is \d{6}\. It expires in 3 minutes\.$/);
    // The WebOTP line ("@example.com #123456") is rendered only for a tenant domain (otpWebDomain; test/api-tenant-settings.test.ts).
    assert.doesNotMatch(en.text, /\n@/);
  });

  test('email: compared case-insensitively (User@EXAMPLE.com and user@example.com are one destination), the mail goes to the address as given', async () => {
    const t = await tenant('email-case');
    const sent = await s.call(t.apiKey, '/api/v1/email-otp/send', { email: 'Kim.Minji@EXAMPLE.com', purpose: 'signup', locale: 'en' });
    assertSent(sent, 'K***@example.com');
    const { rcptTo, mail } = smtp.received.at(-1)!;
    assert.deepEqual(rcptTo, ['Kim.Minji@example.com']);
    assert.equal(mail.from?.value[0]?.address, 'no-reply@securekey.test');
    assert.equal(mail.subject, '[email-case] Your sign-up code');
    const { text, html } = mailCodes(mail);
    assert.equal(text, html);
    // One mailbox whatever the casing (otherwise casing would bypass the cooldown and caps).
    assertVerify(await s.call(t.apiKey, '/api/v1/email-otp/verify', { email: 'kim.minji@example.com', code: text }), true, 5);
  });

  test('invalid phone and email are 400 INVALID_PHONE / INVALID_EMAIL without the value echoed', async () => {
    const t = await tenant('invalid');
    const p = await sendSms(t, { phone: '0109', purpose: 'login' });
    assert.equal(p.status, 400);
    assert.equal(p.body.code, 'INVALID_PHONE');
    const e = await s.call(t.apiKey, '/api/v1/email-otp/send', { email: 'not-an-address@', purpose: 'login' });
    assert.equal(e.status, 400);
    assert.equal(e.body.code, 'INVALID_EMAIL');
    assert.doesNotMatch(e.body.error, /not-an-address/);
  });

  test('gRPC twin over @grpc/grpc-js: SendSmsOtp + VerifySmsOtp; an invalid phone is INVALID_ARGUMENT with the INVALID_PHONE detail', async () => {
    const t = await tenant('grpc');
    const addr = `127.0.0.1:${s.port}`;
    const md = { 'x-api-key': t.apiKey };
    const sent = await grpcCall(addr, SmsOtpService.method.sendSmsOtp, { phone: '01044445555', purpose: 'login', userId: 'user_9' }, md);
    assert.ok(sent.ok, sent.ok ? '' : sent.details);
    assert.equal(sent.message.expiresIn, 180);
    assert.equal(sent.message.resendAfter, 30);
    assert.equal(sent.message.to, '+82 10-****-5555');
    const expiresMs = Number(sent.message.expiresAt!.seconds) * 1000;
    assert.ok(Math.abs(expiresMs - (Date.now() + 180_000)) < 10_000);
    const code = gateway.lastCode('+821044445555');

    const miss = await grpcCall(addr, SmsOtpService.method.verifySmsOtp, { phone: '01044445555', code: wrong(code) }, md);
    assert.ok(miss.ok);
    assert.equal(miss.message.verified, false);
    assert.equal(miss.message.attemptsRemaining, 4);
    const hit = await grpcCall(addr, SmsOtpService.method.verifySmsOtp, { phone: '+821044445555', code }, md);
    assert.ok(hit.ok, hit.ok ? '' : hit.details);
    assert.equal(hit.message.verified, true);

    const bad = await grpcCall(addr, SmsOtpService.method.sendSmsOtp, { phone: '12', purpose: 'login' }, md);
    assert.equal(bad.ok, false);
    assert.equal(!bad.ok && bad.code, GrpcStatus.INVALID_ARGUMENT);
    assert.equal(!bad.ok && grpcDomainCode(bad.metadata), 'INVALID_PHONE');
    const used = await grpcCall(addr, SmsOtpService.method.verifySmsOtp, { phone: '01044445555', code }, md);
    assert.equal(!used.ok && used.code, GrpcStatus.NOT_FOUND);
    assert.equal(!used.ok && grpcDomainCode(used.metadata), 'OTP_NOT_FOUND');
    const soon = await grpcCall(addr, SmsOtpService.method.sendSmsOtp, { phone: '01044445555' }, md);
    assert.equal(!soon.ok && soon.code, GrpcStatus.RESOURCE_EXHAUSTED);
    assert.equal(!soon.ok && grpcDomainCode(soon.metadata), 'RESEND_TOO_SOON');
  });

  test('50 concurrent verifies with the right code: exactly one verified:true, 49 OTP_NOT_FOUND', async () => {
    const t = await tenant('race-right');
    await sendSms(t, { phone: '01055556666' });
    const code = gateway.lastCode('+821055556666');
    const replies = await Promise.all(Array.from({ length: 50 }, () => verifySms(t, { phone: '01055556666', code })));
    const ok = replies.filter((r) => r.status === 200);
    assert.equal(ok.length, 1, JSON.stringify(replies.map((r) => r.status)));
    assert.deepEqual(ok[0]!.body.data, { verified: true, attemptsRemaining: 5 });
    const rest = replies.filter((r) => r.status !== 200);
    assert.deepEqual([...new Set(rest.map((r) => `${r.status} ${r.body.code}`))], ['404 OTP_NOT_FOUND']);
    assert.equal(eventsOf(s, t.tenantId).filter((e) => e.type === 'OtpVerified').length, 1);
  });

  test('50 concurrent wrong codes: attempts counted exactly; remaining 4,3,2,1 then the 5th locks (429 TOO_MANY_ATTEMPTS), and the right code is refused', async () => {
    const t = await tenant('race-wrong');
    await sendSms(t, { phone: '01066667777' });
    const code = gateway.lastCode('+821066667777');
    const replies = await Promise.all(Array.from({ length: 50 }, () => verifySms(t, { phone: '01066667777', code: wrong(code) })));
    const ok = replies.filter((r) => r.status === 200);
    assert.deepEqual(ok.map((r) => r.body.data.verified), [false, false, false, false]);
    assert.deepEqual(ok.map((r) => r.body.data.attemptsRemaining).sort(), [1, 2, 3, 4]);
    const refused = replies.filter((r) => r.status !== 200);
    assert.equal(refused.length, 46);
    assert.deepEqual([...new Set(refused.map((r) => `${r.status} ${r.body.code}`))], ['429 TOO_MANY_ATTEMPTS']);
    const events = eventsOf(s, t.tenantId);
    assert.equal(events.filter((e) => e.type === 'OtpAttemptFailed').length, 5);
    assert.equal(events.filter((e) => e.type === 'OtpLocked').length, 1);

    const right = await verifySms(t, { phone: '01066667777', code });
    assert.equal(right.status, 429);
    assert.equal(right.body.code, 'TOO_MANY_ATTEMPTS');
  });

  test('a second send supersedes the first code (cooldown 0 set through the admin API)', async () => {
    const t = await tenant('supersede');
    const patched = await s.admin('PATCH', `/api/v1/admin/tenants/${t.tenantId}/settings`, { settings: { otpResendCooldownSeconds: 0 } });
    assert.equal(patched.status, 200, JSON.stringify(patched.body));
    assert.equal(patched.body.data.settings.otpResendCooldownSeconds, 0);
    const first = await sendSms(t, { phone: '01077778888' });
    assert.equal(first.body.data.resendAfter, 0);
    const code1 = gateway.lastCode('+821077778888');
    await sendSms(t, { phone: '01077778888' });
    const code2 = gateway.lastCode('+821077778888');
    if (code1 !== code2) assertVerify(await verifySms(t, { phone: '01077778888', code: code1 }), false, 4);
    assertVerify(await verifySms(t, { phone: '01077778888', code: code2 }), true, code1 !== code2 ? 4 : 5);
  });

  test('a resend inside the cooldown is 429 RESEND_TOO_SOON with Retry-After, and the pending code still works', async () => {
    const t = await tenant('cooldown');
    await sendSms(t, { phone: '01088889999' });
    const code = gateway.lastCode('+821088889999');
    const count = gateway.messages.length;
    const soon = await sendSms(t, { phone: '01088889999' });
    assert.equal(soon.status, 429);
    assert.equal(soon.body.code, 'RESEND_TOO_SOON');
    const retry = Number(soon.headers.get('retry-after'));
    assert.ok(retry >= 1 && retry <= 30, `Retry-After ${retry}`);
    assert.equal(soon.body.retryAfter, retry);
    assert.equal(gateway.messages.length, count, 'nothing was sent');
    assertVerify(await verifySms(t, { phone: '01088889999', code }), true, 5);
  });

  test('a gateway failure is 503 UNAVAILABLE and leaves no usable code; a new send works at once', async () => {
    const t = await tenant('gateway-down');
    gateway.failWith(500);
    try {
      const r = await sendSms(t, { phone: '01099990000' });
      assert.equal(r.status, 503);
      assert.equal(r.body.code, 'UNAVAILABLE');
    } finally {
      gateway.failWith(0);
    }
    const v = await verifySms(t, { phone: '01099990000', code: '123456' });
    assert.equal(v.status, 404);
    assert.equal(v.body.code, 'OTP_NOT_FOUND');
    assertSent(await sendSms(t, { phone: '01099990000' }), '+82 10-****-0000');
    assertVerify(await verifySms(t, { phone: '01099990000', code: gateway.lastCode('+821099990000') }), true, 5);
  });

  test('no code, phone number or address in clear in any stored event, read-model row or log line', async () => {
    const codes = [...gateway.messages.map((m) => smsCode(m.text)), ...smtp.received.map((r) => mailCodes(r.mail).text)];
    assert.ok(codes.length >= 15, `${codes.length} codes`);
    const phones = [...new Set(gateway.messages.map((m) => m.to))];
    const destinations = [...phones.flatMap((p) => [p, `0${p.slice(3)}`, p.slice(3), `0${p.slice(3, 5)}-${p.slice(5, 9)}-${p.slice(9)}`]), 'minji.kim', 'Kim.Minji', 'kim.minji'];
    scanForSecrets(s, codes, destinations);
  });
});

describe('console senders in production mode', () => {
  test('the console lines are masked and hold no code; nothing personal is stored or logged', async () => {
    const smtp = await startSmtp();
    const s = await startTestServer({ SECUREKEY_SMS_PROVIDER: 'console', SECUREKEY_DEV_MODE: 'false', SECUREKEY_SMTP_URL: smtp.url, SECUREKEY_EMAIL_FROM: 'no-reply@securekey.test' });
    try {
      const t = await s.createTenant('console');
      assertSent(await s.call(t.apiKey, '/api/v1/otp/send', { phone: '01012121212', purpose: 'login', userId: 'user_1' }), '+82 10-****-1212');
      const wrongTry = await s.call(t.apiKey, '/api/v1/otp/verify', { phone: '01012121212', code: '000000' });
      assert.equal(wrongTry.status, 200);
      await s.call(t.apiKey, '/api/v1/email-otp/send', { email: 'Secret.Person@Example.org' });
      const code = mailCodes(smtp.received[0]!.mail).text;
      assertVerify(await s.call(t.apiKey, '/api/v1/email-otp/verify', { email: 'Secret.Person@example.org', code }), true, 5);
      const consoleLines = s.logs.map((l) => JSON.parse(l)).filter((l) => l.sender === 'console-sms');
      assert.equal(consoleLines.length, 1);
      assert.match(consoleLines[0].msg, /\+82 10-\*+-1212/);
      assert.doesNotMatch(consoleLines[0].msg, /(?<!\d)\d{6}(?!\d)/, 'an SMS code in the console line');
      scanForSecrets(s, [code], ['+821012121212', '01012121212', '1012121212', '010-1212-1212', 'Secret.Person', 'secret.person']);
    } finally {
      await s.stop();
      await smtp.close();
    }
  });
});

// Hashes, UUIDs, ciphertexts: random-looking tokens in which six digits can occur by chance.
const OPAQUE = /^(?:[0-9a-f]{32,}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[A-Za-z0-9+/_.:-]{24,}={0,2})$/i;

/** Every string and number in a value (object keys too); strings holding JSON are opened. */
const leaves = (v: unknown, out: (string | number)[] = []): (string | number)[] => {
  if (typeof v === 'string') {
    const t = v.trim();
    if (/^[[{]/.test(t)) {
      try {
        return leaves(JSON.parse(t), out);
      } catch {
        /* not JSON */
      }
    }
    out.push(v);
  } else if (typeof v === 'number' || typeof v === 'bigint') out.push(Number(v));
  else if (v instanceof Uint8Array) out.push(Buffer.from(v).toString('latin1'));
  else if (Array.isArray(v)) v.forEach((x) => leaves(x, out));
  else if (v && typeof v === 'object') Object.entries(v).forEach(([k, x]) => (out.push(k), leaves(x, out)));
  return out;
};

const checkLeaves = (where: string, values: (string | number)[], codes: string[], destinations: string[]) => {
  for (const v of values) {
    const s = String(v);
    for (const d of destinations) assert.ok(!s.includes(d), `${where}: a destination in clear in ${JSON.stringify(s)}`);
    for (const c of codes) {
      if (typeof v === 'number') assert.notEqual(s, c, `${where}: a code as a number`);
      else if (!OPAQUE.test(s)) assert.ok(!new RegExp(`(?<!\\d)${c}(?!\\d)`).test(s), `${where}: a code in ${JSON.stringify(s)}`);
    }
  }
};

/** Every row of every table of a SQLite file, as leaves. */
const tableLeaves = (file: string) => {
  const db = new DatabaseSync(file, { readOnly: true });
  try {
    const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((t) => t.name);
    assert.ok(tables.length > 0);
    return tables.map((name) => ({ name, values: leaves(db.prepare(`SELECT * FROM "${name}"`).all()) }));
  } finally {
    db.close();
  }
};

/** Scans the server's event store, read models and logs. */
const scanForSecrets = (s: TestServer, codes: string[], destinations: string[]) => {
  // The scan catches a planted leak.
  assert.throws(() => checkLeaves('self-test', [`sent ${codes[0]} to you`], codes, destinations));
  assert.throws(() => checkLeaves('self-test', [`to ${destinations[0]}`], codes, destinations));
  let rows = 0;
  for (const file of ['events.db', 'readmodels.db']) {
    for (const t of tableLeaves(join(s.dataDir, file))) {
      rows += t.values.length;
      checkLeaves(`${file}:${t.name}`, t.values, codes, destinations);
    }
  }
  assert.ok(rows > 50);
  assert.ok(s.logs.length > 5);
  for (const line of s.logs) checkLeaves('log', leaves(line), codes, destinations);
  const events = storedEvents(s.dataDir);
  assert.ok(events.some((e) => e.type === 'OtpIssued'));
  for (const e of events) checkLeaves('stream name', [e.stream], codes, destinations);
};
