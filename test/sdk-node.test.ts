// The Node SDK (package subpath securekey/client) against a live server: the seed's Node snippets
// with only the import path, base URL and API key changed (codes read from the SMS gateway and
// SMTP server they were sent to, TOTP tokens computed from the secret, passkeys from a software
// authenticator behind a browser-like navigator), then errors, retries, timeouts and webhooks.
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { generate } from 'otplib';
import {
  SecureKeyError,
  TwoFactorClient,
  verifyWebhookSignature,
  verifyWebhookSignatureV2,
  verifyWebhook,
  WebhookVerificationError,
  type OtpSendResult,
  type OtpVerifyResult,
  type PushSendResult,
  type PushVerifyResult,
  type RecoveryGenerateResult,
  type RecoveryStatusResult,
  type RecoveryVerifyResult,
  type SmsSendOptions,
  type TotpSetupResult,
  type TotpVerifyResult,
  type WebAuthnAuthenticateOptionsResult,
  type WebAuthnAuthenticateVerifyResult,
  type WebAuthnRegisterOptionsResult,
  type WebAuthnRegisterVerifyResult,
} from 'securekey/client';
import { signBody, signV2 } from '../src/webhooks/sign.ts';
import { startPeers, WEBAUTHN_SETTINGS } from '../sdk/node/test/peers.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { until } from './helpers/until.ts';

let s: TestServer;
let peers: Awaited<ReturnType<typeof startPeers>>;
let apiKey: string;

before(async () => {
  peers = await startPeers();
  s = await startTestServer(peers.env);
  ({ apiKey } = await s.createTenant('sdk-node', { settings: WEBAUTHN_SETTINGS }));
});
after(async () => {
  await s?.stop();
  await peers?.close();
});

let phones = 0;
const newPhone = () => {
  const digits = String(20_000_000 + ++phones * 7919 + Math.floor(Math.random() * 1000)).slice(-8);
  return { national: `010${digits}`, e164: `+8210${digits}` };
};

describe("the seed's Node snippets run against a live server", () => {
  test('SMS OTP: send, then verify with the code the gateway received → verified', async () => {
    const client = new TwoFactorClient({
      apiKey,
      baseUrl: s.url,
    });
    // SMS 발송
    const result = await client.sms.send({
      phone: '01012345678',
      purpose: 'login',
    });
    // SMS 검증
    const verify = await client.sms.verify({
      phone: '01012345678',
      code: peers.lastCode('+821012345678'),
    });
    assert.equal(verify.verified, true); // console.log(verify.verified); // true
    assert.equal(result.to, '+82 10-****-5678');
    assert.equal(result.expiresIn, 180);
    assert.equal(result.resendAfter, 30);
    assert.ok(Date.parse(result.expiresAt) > Date.now());
  });

  test('TOTP: setup gives the otpauth URI and a PNG data URL; the token from the secret verifies', async () => {
    const client = new TwoFactorClient({ apiKey, baseUrl: s.url });
    // TOTP 설정 시작
    const setup = await client.totp.setup({
      userId: 'user_123',
      accountName: 'user@example.com',
    });
    // setup.uri → otpauth:// URI
    // setup.qrCodeDataUrl → QR 코드 이미지 (base64 PNG)
    assert.match(setup.uri, /^otpauth:\/\/totp\/.+secret=/);
    assert.match(setup.qrCodeDataUrl, /^data:image\/png;base64,/);
    // TOTP 검증
    const verify = await client.totp.verify({
      userId: 'user_123',
      token: await generate({ secret: setup.secret }),
    });
    assert.equal(verify.verified, true);
  });

  test('Email OTP: send, then verify with the code from the delivered mail → verified', async () => {
    const client = new TwoFactorClient({ apiKey, baseUrl: s.url });
    // Email OTP 발송
    const result = await client.email.send({
      email: 'user@example.com',
      purpose: 'login',
    });
    // Email OTP 검증
    const verify = await client.email.verify({
      email: 'user@example.com',
      code: peers.lastCode('user@example.com'),
    });
    assert.equal(verify.verified, true); // console.log(verify.verified); // true
    assert.equal(result.to, 'u***@example.com');
  });

  test('WebAuthn: options → navigator.credentials.create → registerVerify with the browser objects → options → get → authenticateVerify', async () => {
    const client = new TwoFactorClient({ apiKey, baseUrl: s.url });
    const { navigator } = peers;
    // 1. 등록 옵션 요청 (서버) — userName 필수
    const regOptions = await client.webauthn.registerOptions({
      userId: 'user_123',
      userName: 'user@example.com',
    });
    // 2. 브라우저에서 Credential 생성
    const credential = await navigator.credentials.create({
      publicKey: regOptions.publicKey,
    });
    // 3. 등록 검증 (서버) — 브라우저 credential 필드를 최상위로 전달
    const regResult = await client.webauthn.registerVerify({
      userId: 'user_123',
      id: credential.id,
      rawId: btoa(String.fromCharCode(...new Uint8Array(credential.rawId))),
      type: credential.type,
      response: credential.response,
      deviceName: 'Chrome on MacOS',
    });
    // 4. 인증 옵션 요청 (서버)
    const authOptions = await client.webauthn.authenticateOptions({
      userId: 'user_123',
    });
    // 5. 브라우저에서 Credential 사용
    const assertion = await navigator.credentials.get({
      publicKey: authOptions.publicKey,
    });
    // 6. 인증 검증 (서버)
    const authResult = await client.webauthn.authenticateVerify({
      userId: 'user_123',
      id: assertion.id,
      rawId: btoa(String.fromCharCode(...new Uint8Array(assertion.rawId))),
      type: assertion.type,
      response: assertion.response,
    });

    assert.equal(JSON.stringify(credential.response), '{}', 'the fake browser objects hide their data like real ones');
    assert.equal(regResult.verified, true);
    assert.equal(regResult.credentialId, credential.id);
    assert.equal(authResult.verified, true);
    assert.equal(authResult.credentialId, credential.id);
    assert.equal(authResult.userId, 'user_123');
  });

  test('Push: register the device, send, approve on the device, poll → verified', async () => {
    const client = new TwoFactorClient({ apiKey, baseUrl: s.url });
    // 1. 기기 등록 (FCM 토큰)
    await client.push.registerDevice({
      userId: 'user_123',
      fcmToken: 'fcm_token_from_firebase_sdk',
      deviceName: 'iPhone 15',
      platform: 'ios',
    });
    // 2. Push 인증 요청 발송
    const push = await client.push.send({
      userId: 'user_123',
      title: '로그인 승인 요청',
      body: '새로운 기기에서 로그인을 시도합니다.',
    });
    assert.equal(push.status, 'pending');
    assert.match(push.requestId, /\S/);
    assert.ok(Date.parse(push.expiresAt) > Date.now());
    // 3. 사용자 기기에서 승인/거부 (모바일 앱)
    await client.push.respond(push.requestId, 'approve');
    // 4. 서버에서 결과 폴링 (requestId만 전달)
    const result = await client.push.verify(push.requestId);
    assert.equal(result.verified, true); // console.log(result.verified); // true
    assert.equal(result.status, 'approved');
  });
});

describe('recovery codes through the Node SDK', () => {
  test('generate shows the codes once; verify uses one (typed loosely), status counts, regenerate replaces the set, delete ends it', async () => {
    const client = new TwoFactorClient({ apiKey, baseUrl: s.url });
    const userId = 'user_recovery_sdk';
    const set: RecoveryGenerateResult = await client.recovery.generate({ userId });
    assert.equal(set.codes.length, 10);
    assert.equal(set.remaining, 10);
    for (const c of set.codes) assert.match(c, /^[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}$/);
    const used: RecoveryVerifyResult = await client.recovery.verify({ userId, code: set.codes[0]!.toUpperCase().replaceAll('-', ' ') });
    assert.deepEqual(used, { verified: true, remaining: 9, retryAfter: 0 });
    assert.deepEqual(await client.recovery.verify({ userId, code: set.codes[0]! }), { verified: false, remaining: 9, retryAfter: 0 }, 'a used code is an answer, not an error');
    const status: RecoveryStatusResult = await client.recovery.status({ userId });
    assert.deepEqual([status.enrolled, status.remaining, status.total], [true, 9, 10]);
    assert.ok(Date.parse(status.generatedAt!) > Date.now() - 60_000);

    await assert.rejects(client.recovery.generate({ userId }), (e: unknown) => e instanceof SecureKeyError && e.code === 'ALREADY_ENROLLED' && e.status === 409);
    const fresh = await client.recovery.regenerate({ userId });
    assert.equal((await client.recovery.verify({ userId, code: set.codes[1]! })).verified, false);
    assert.equal((await client.recovery.verify({ userId, code: fresh.codes[1]! })).verified, true);

    assert.deepEqual(await client.recovery.delete({ userId }), { deleted: true });
    await assert.rejects(client.recovery.verify({ userId, code: fresh.codes[2]! }), (e: unknown) => e instanceof SecureKeyError && e.code === 'NOT_ENROLLED' && e.status === 404);
    assert.equal((await client.recovery.status({ userId })).enrolled, false);
  });
});

/** A local HTTP peer in front of the live server that misbehaves as told, request by request. */
const startFlakyProxy = async (script: ('reset' | '503' | 'hang' | 'proxy')[]) => {
  const seen: string[] = [];
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    seen.push(req.url ?? '');
    const step = script[seen.length - 1] ?? 'proxy';
    if (step === 'reset') return req.socket.destroy();
    if (step === 'hang') return;
    if (step === '503')
      return res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '0' }).end(JSON.stringify({ success: false, error: 'store unavailable', code: 'UNAVAILABLE' }));
    const r = await fetch(s.url + req.url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': String(req.headers['x-api-key']) }, body: Buffer.concat(chunks) });
    const retryAfter = r.headers.get('retry-after');
    res.writeHead(r.status, { 'content-type': 'application/json', ...(retryAfter ? { 'retry-after': retryAfter } : {}) }).end(await r.text());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
};

describe('errors, retries and timeouts', () => {
  const rejectsWith = (expected: Partial<SecureKeyError>) => (e: unknown) => {
    assert.ok(e instanceof SecureKeyError, String(e));
    for (const [k, v] of Object.entries(expected)) assert.deepEqual(e[k as keyof SecureKeyError], v, k);
    return true;
  };

  test('an unknown API key throws SecureKeyError UNAUTHORIZED with status 401', async () => {
    const client = new TwoFactorClient({ apiKey: '2fa_not_a_real_key', baseUrl: s.url });
    await assert.rejects(client.sms.send({ phone: '01012345678', purpose: 'login' }), rejectsWith({ code: 'UNAUTHORIZED', status: 401, name: 'SecureKeyError' }));
  });

  test('a wrong code is an answer, not an error: verified false with attemptsRemaining', async () => {
    const client = new TwoFactorClient({ apiKey, baseUrl: s.url });
    const p = newPhone();
    await client.sms.send({ phone: p.national, purpose: 'login' });
    const code = peers.lastCode(p.e164);
    const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, '0');
    const v: OtpVerifyResult = await client.sms.verify({ phone: p.national, code: wrong });
    assert.deepEqual(v, { verified: false, attemptsRemaining: 4 });
  });

  test('domain errors carry the server code and status: INVALID_PHONE 400, OTP_NOT_FOUND 404, PUSH_NOT_FOUND 404', async () => {
    const client = new TwoFactorClient({ apiKey, baseUrl: s.url });
    await assert.rejects(client.sms.send({ phone: '123', purpose: 'login' }), rejectsWith({ code: 'INVALID_PHONE', status: 400 }));
    await assert.rejects(client.sms.verify({ phone: newPhone().national, code: '123456' }), rejectsWith({ code: 'OTP_NOT_FOUND', status: 404 }));
    await assert.rejects(client.push.verify('pr_does_not_exist'), rejectsWith({ code: 'PUSH_NOT_FOUND', status: 404 }));
  });

  test('MFA_REQUIRED carries requiredChannels and matchedPolicies, as in the seed envelope', async () => {
    const t = await s.createTenant('sdk-node-mfa');
    const policy = await s.admin('POST', `/api/v1/admin/tenants/${t.tenantId}/policies`, {
      name: '결제 시 추가 인증',
      match: { purpose: 'payment' },
      requiredChannels: ['sms', 'totp'],
      withinSeconds: 300,
    });
    assert.equal(policy.status, 200, JSON.stringify(policy.body));
    const client = new TwoFactorClient({ apiKey: t.apiKey, baseUrl: s.url });
    const p = newPhone();
    await client.sms.send({ phone: p.national, purpose: 'payment', userId: 'user_mfa' });
    await assert.rejects(
      client.sms.verify({ phone: p.national, code: peers.lastCode(p.e164) }),
      rejectsWith({ code: 'MFA_REQUIRED', status: 403, requiredChannels: ['totp'], matchedPolicies: ['결제 시 추가 인증'] }),
    );
  });

  test('a send refused with 429 is not retried; retryAfter is on the error', async () => {
    const proxy = await startFlakyProxy([]);
    try {
      const client = new TwoFactorClient({ apiKey, baseUrl: proxy.url });
      const p = newPhone();
      await client.sms.send({ phone: p.national, purpose: 'login' });
      await assert.rejects(client.sms.send({ phone: p.national, purpose: 'login' }), (e: unknown) => {
        assert.ok(e instanceof SecureKeyError);
        assert.equal(e.status, 429);
        assert.equal(e.code, 'RESEND_TOO_SOON');
        assert.ok(e.retryAfter !== undefined && e.retryAfter > 0 && e.retryAfter <= 30, String(e.retryAfter));
        return true;
      });
      assert.equal(proxy.seen.length, 2);
      assert.equal(peers.sms.filter((m) => m.to === p.e164).length, 1);
    } finally {
      await proxy.close();
    }
  });

  test('sends are never retried after a connection reset or a 503; the error says what happened', async () => {
    const proxy = await startFlakyProxy(['reset', '503']);
    try {
      const client = new TwoFactorClient({ apiKey, baseUrl: proxy.url });
      const p = newPhone();
      await assert.rejects(client.sms.send({ phone: p.national, purpose: 'login' }), rejectsWith({ code: 'NETWORK_ERROR', status: 0 }));
      await assert.rejects(client.sms.send({ phone: p.national, purpose: 'login' }), rejectsWith({ code: 'UNAVAILABLE', status: 503, retryAfter: 0 }));
      assert.equal(proxy.seen.length, 2);
    } finally {
      await proxy.close();
    }
  });

  test('idempotent calls (push status polls, WebAuthn options) are retried after a reset and a 503', async () => {
    const client0 = new TwoFactorClient({ apiKey, baseUrl: s.url });
    await client0.push.registerDevice({ userId: 'user_retry', fcmToken: `tok_${randomBytes(8).toString('hex')}`, platform: 'android' });
    const push: PushSendResult = await client0.push.send({ userId: 'user_retry', title: '로그인 승인 요청' });

    const proxy = await startFlakyProxy(['reset', '503', 'proxy', '503', 'proxy']);
    try {
      const client = new TwoFactorClient({ apiKey, baseUrl: proxy.url });
      const r = await client.push.verify(push.requestId);
      assert.deepEqual(r, { verified: false, status: 'pending' });
      assert.deepEqual(proxy.seen, ['/api/v1/push/verify', '/api/v1/push/verify', '/api/v1/push/verify']);
      const o = await client.webauthn.authenticateOptions({ userId: 'user_123' });
      assert.equal(typeof o.publicKey.challenge, 'string');
      assert.equal(proxy.seen.length, 5);
    } finally {
      await proxy.close();
    }
  });

  test('retries are bounded (retries: 1 → two attempts) and can be switched off (retries: 0)', async () => {
    const proxy = await startFlakyProxy(['503', '503', '503', 'proxy']);
    try {
      await assert.rejects(new TwoFactorClient({ apiKey, baseUrl: proxy.url, retries: 1 }).push.verify('pr_x'), rejectsWith({ code: 'UNAVAILABLE' }));
      assert.equal(proxy.seen.length, 2);
      await assert.rejects(new TwoFactorClient({ apiKey, baseUrl: proxy.url, retries: 0 }).push.verify('pr_x'), rejectsWith({ code: 'UNAVAILABLE' }));
      assert.equal(proxy.seen.length, 3);
    } finally {
      await proxy.close();
    }
  });

  test('a server that does not answer within timeoutMs gives TIMEOUT, without retrying even an idempotent call', async () => {
    const proxy = await startFlakyProxy(['hang', 'hang']);
    try {
      const client = new TwoFactorClient({ apiKey, baseUrl: proxy.url, timeoutMs: 150 });
      const started = Date.now();
      await assert.rejects(client.push.verify('pr_x'), rejectsWith({ code: 'TIMEOUT', status: 0 }));
      assert.ok(Date.now() - started < 5000, 'the server never answers: only the timeout ends the call');
      assert.equal(proxy.seen.length, 1);
    } finally {
      await proxy.close();
    }
  });

  test('baseUrl may end with a slash or with /api/v1; a missing key or a non-http URL is refused at construction', async () => {
    for (const baseUrl of [`${s.url}/`, `${s.url}/api/v1`, `${s.url}/api/v1/`]) {
      const r = await new TwoFactorClient({ apiKey, baseUrl }).webauthn.authenticateOptions({ userId: 'user_123' });
      assert.ok(r.publicKey);
    }
    assert.throws(() => new TwoFactorClient({ apiKey: '', baseUrl: s.url }), TypeError);
    assert.throws(() => new TwoFactorClient({ apiKey, baseUrl: 'ftp://example.com' }), TypeError);
    assert.throws(() => new TwoFactorClient({ apiKey, baseUrl: 'securekey.example.com' }), TypeError);
  });
});

describe('webhook signatures', () => {
  const secret = 'whsec_test_0123456789';
  const payload = { event: 'verification.succeeded', channel: 'sms', data: { externalUserId: 'user_123' } };
  const raw = JSON.stringify(payload);

  test('verifyWebhookSignature accepts what the server signs and what the seed receiver computes, and nothing else', () => {
    const seedExpected = 'sha256=' + createHmac('sha256', secret).update(JSON.stringify(JSON.parse(raw))).digest('hex');
    assert.equal(signBody(secret, raw), seedExpected);
    assert.equal(verifyWebhookSignature(raw, signBody(secret, raw), secret), true);
    assert.equal(verifyWebhookSignature(Buffer.from(raw), [seedExpected], secret), true);
    assert.equal(verifyWebhookSignature(raw + ' ', seedExpected, secret), false);
    assert.equal(verifyWebhookSignature(raw, seedExpected, 'other-secret'), false);
    assert.equal(verifyWebhookSignature(raw, seedExpected.slice(0, -2), secret), false);
    assert.equal(verifyWebhookSignature(raw, seedExpected.replace('sha256=', 'sha1='), secret), false);
    assert.equal(verifyWebhookSignature(raw, undefined, secret), false);
    assert.equal(verifyWebhookSignature(raw, seedExpected, ''), false);
  });

  test('a real delivery from the live server passes both helpers, also after the seed receiver re-serialises the body', async () => {
    const got: { raw: string; headers: Record<string, string | string[] | undefined> }[] = [];
    const receiver = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      got.push({ raw: Buffer.concat(chunks).toString('utf8'), headers: req.headers });
      res.writeHead(200).end();
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    try {
      const t = await s.createTenant('sdk-node-hooks', { webhookUrl: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/webhook/securekey` });
      const client = new TwoFactorClient({ apiKey: t.apiKey, baseUrl: s.url });
      const p = newPhone();
      await client.sms.send({ phone: p.national, purpose: 'login', userId: 'user_hook' });
      assert.equal((await client.sms.verify({ phone: p.national, code: peers.lastCode(p.e164) })).verified, true);
      const d = await until('a webhook delivery', () => got[0], 10_000);
      assert.ok(d, 'a webhook delivery arrived');
      const payload = JSON.parse(d.raw);
      assert.equal(payload.channel, 'sms');
      assert.equal(payload.data.externalUserId, 'user_hook');
      assert.equal(verifyWebhookSignature(d.raw, d.headers['x-securekey-signature'], t.webhookSecret), true);
      assert.equal(verifyWebhookSignature(JSON.stringify(payload), d.headers['x-securekey-signature'], t.webhookSecret), true);
      assert.equal(verifyWebhookSignatureV2(d.raw, d.headers['x-securekey-signature-v2'], t.webhookSecret), true);
      assert.equal(verifyWebhookSignature(d.raw, d.headers['x-securekey-signature'], 'not-the-secret'), false);
      // The default for receivers: V2 and the payload in one call.
      assert.equal(verifyWebhook(d.raw, d.headers, t.webhookSecret).data.externalUserId, 'user_hook');
      assert.throws(() => verifyWebhook(d.raw.replace('user_hook', 'user_evil'), d.headers, t.webhookSecret), WebhookVerificationError);
      assert.throws(() => verifyWebhook(d.raw, { ...d.headers, 'x-securekey-signature-v2': undefined }, t.webhookSecret), WebhookVerificationError);
    } finally {
      await new Promise<void>((r) => {
        receiver.close(() => r());
        receiver.closeAllConnections();
      });
    }
  });

  test('verifyWebhookSignatureV2 checks the timestamped signature, either secret during a rotation, and refuses stale timestamps', () => {
    const t = 1_800_000_000;
    const header = signV2([secret, 'previous-secret'], raw, t);
    assert.equal(verifyWebhookSignatureV2(raw, header, secret, { nowSeconds: t + 10 }), true);
    assert.equal(verifyWebhookSignatureV2(raw, header, 'previous-secret', { nowSeconds: t + 10 }), true);
    assert.equal(verifyWebhookSignatureV2(raw, header, 'third-secret', { nowSeconds: t + 10 }), false);
    assert.equal(verifyWebhookSignatureV2(raw, header, secret, { nowSeconds: t + 301 }), false);
    assert.equal(verifyWebhookSignatureV2(raw, header.replace(`t=${t}`, `t=${t + 1}`), secret, { nowSeconds: t }), false);
  });

  test('verifyWebhook takes a fetch Headers too, and refuses a replay of an old delivery', () => {
    const t = 1_800_000_000;
    const body = JSON.stringify({ event: 'verification.succeeded', channel: 'sms', data: { externalUserId: 'u1' } });
    const headers = new Headers({ 'X-SecureKey-Signature-V2': signV2([secret], body, t) });
    assert.equal(verifyWebhook(body, headers, secret, { nowSeconds: t + 5 }).event, 'verification.succeeded');
    assert.throws(() => verifyWebhook(body, headers, secret, { nowSeconds: t + 3600 }), /too old/);
  });
});

// Type-level checks (run by tsc in `npm test`): the SDK's types are the proto's, so a renamed
// proto field fails here or in the snippets above.
const _typeChecks = () => {
  const ok: SmsSendOptions = { phone: '01012345678', purpose: 'login', userId: 'u', locale: 'en' };
  // @ts-expect-error — not a field of SendSmsOtpRequest
  const misspelled: SmsSendOptions = { phon: '01012345678' };
  // @ts-expect-error — phone is required
  const missing: SmsSendOptions = { purpose: 'login' };
  const setup: TotpSetupResult = { uri: '', qrCodeDataUrl: '', secret: '' };
  // @ts-expect-error — results hold exactly the proto's fields
  const extra: OtpVerifyResult = { verified: true, attemptsRemaining: 1, foo: 1 };
  return [ok, misspelled, missing, setup, extra];
};
void _typeChecks;
/** Every result field the seed and the contract name: Pick fails tsc if one is renamed or removed in the proto. */
type Has<T, K extends keyof T> = Pick<T, K>;
export type SeedResultFields = [
  Has<OtpSendResult, 'expiresIn' | 'expiresAt' | 'resendAfter' | 'to'>,
  Has<OtpVerifyResult, 'verified' | 'attemptsRemaining'>,
  Has<TotpSetupResult, 'uri' | 'qrCodeDataUrl' | 'secret'>,
  Has<TotpVerifyResult, 'verified'>,
  Has<WebAuthnRegisterOptionsResult, 'publicKey'>,
  Has<WebAuthnAuthenticateOptionsResult, 'publicKey'>,
  Has<WebAuthnRegisterVerifyResult, 'verified' | 'credentialId'>,
  Has<WebAuthnAuthenticateVerifyResult, 'verified' | 'credentialId' | 'userId'>,
  Has<PushSendResult, 'requestId' | 'expiresAt' | 'status'>,
  Has<PushVerifyResult, 'verified' | 'status'>,
];
