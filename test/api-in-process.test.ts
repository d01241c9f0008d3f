// The proto ↔ application mapping, in process: the typed services and their pipeline (limits,
// authentication, error details) registered on Connect's router transport, called with the
// generated clients. No socket: transport behaviour is tested over real sockets elsewhere.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { timestampMs } from '@bufbuild/protobuf/wkt';
import { Code, ConnectError, createClient, createRouterTransport, type Transport } from '@connectrpc/connect';
import { generate } from 'otplib';
import pino from 'pino';
import { pipelineInterceptor } from '../src/api/pipeline.ts';
import { buildRoutes } from '../src/api/routes.ts';
import { loadConfig } from '../src/config.ts';
import { AdminService } from '../src/gen/securekey/v1/admin_pb.js';
import { ErrorDetailSchema } from '../src/gen/securekey/v1/options_pb.js';
import { SmsOtpService } from '../src/gen/securekey/v1/otp_pb.js';
import { PushService } from '../src/gen/securekey/v1/push_pb.js';
import { TotpService } from '../src/gen/securekey/v1/totp_pb.js';
import { WebAuthnService } from '../src/gen/securekey/v1/webauthn_pb.js';
import { composeSecureKey } from '../src/securekey.ts';
import { ADMIN_TOKEN } from './helpers/server.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'securekey-inproc-'));
const logs: string[] = [];
let core: Awaited<ReturnType<typeof composeSecureKey>>;
let transport: Transport;
let apiKey: string;
let tenantId: string;

before(async () => {
  const config = loadConfig({
    SECUREKEY_DATA_DIR: dataDir,
    SECUREKEY_ADMIN_TOKEN: ADMIN_TOKEN,
    SECUREKEY_MASTER_KEY: randomBytes(32).toString('base64'),
    SECUREKEY_DEV_MODE: 'true', // the console SMS sender prints the text, code included
    SECUREKEY_PUBLIC_URL: 'https://login.example.com',
    SECUREKEY_RATE_LIMIT_SEND: '1000',
  });
  core = await composeSecureKey(config, { logger: pino({ level: 'info' }, { write: (l: string) => void logs.push(l) }) });
  const interceptors = [pipelineInterceptor(buildRoutes(), { ...core.pipeline, onCall: () => {} })];
  transport = createRouterTransport((router) => {
    for (const s of core.services) s.register(router, { interceptors });
  });
  const created = await createClient(AdminService, transport).createTenant({ name: 'in-process' }, { headers: { 'x-admin-token': ADMIN_TOKEN } });
  ({ apiKey, tenantId } = created);
});
after(async () => {
  await core.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const auth = () => ({ headers: { 'x-api-key': apiKey } });
const lastSmsCode = () => /\b(\d{6})\b/.exec(logs.filter((l) => l.includes('[sms:console]')).at(-1) ?? '')?.[1];

/** The ConnectError a call failed with, its gRPC code and our ErrorDetail code. */
const failure = async (call: Promise<unknown>) => {
  const err = await call.then(
    () => assert.fail('expected the call to fail'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof ConnectError, String(err));
  return { code: err.code, detail: err.findDetails(ErrorDetailSchema)[0]?.code, message: err.rawMessage };
};

describe('SmsOtpService maps phone, purpose and the answer both ways', () => {
  test('send answers expiresIn, expiresAt (a Timestamp), resendAfter and the masked number; verify answers verified and attemptsRemaining', async () => {
    const sms = createClient(SmsOtpService, transport);
    const started = Date.now();
    const sent = await sms.sendSmsOtp({ phone: '01012345678', purpose: 'login' }, auth());
    assert.equal(sent.expiresIn, 180);
    assert.equal(sent.resendAfter, 30);
    assert.equal(sent.to, '+82 10-****-5678');
    const expiresAt = timestampMs(sent.expiresAt!);
    assert.ok(expiresAt >= started + 179_000 && expiresAt <= Date.now() + 181_000, String(expiresAt - started));
    const code = lastSmsCode()!;
    const wrong = code === '000000' ? '111111' : '000000';
    assert.deepEqual({ ...(await sms.verifySmsOtp({ phone: '01012345678', code: wrong }, auth())) }, { $typeName: 'securekey.v1.VerifyOtpResponse', verified: false, attemptsRemaining: 4 });
    assert.equal((await sms.verifySmsOtp({ phone: '+821012345678', code }, auth())).verified, true);
  });

  test('domain errors arrive as the gRPC code of the error table with our ErrorDetail', async () => {
    const sms = createClient(SmsOtpService, transport);
    assert.deepEqual(await failure(sms.verifySmsOtp({ phone: '01099998888', code: '123456' }, auth())), { code: Code.NotFound, detail: 'OTP_NOT_FOUND', message: 'no code is pending for this destination; send one first' });
    assert.equal((await failure(sms.sendSmsOtp({ phone: '12', purpose: 'login' }, auth()))).detail, 'INVALID_PHONE');
    assert.deepEqual(await failure(sms.sendSmsOtp({ phone: '01012345678' })), { code: Code.Unauthenticated, detail: 'UNAUTHORIZED', message: 'missing API key: send "X-API-Key: 2fa_..." or "Authorization: Bearer 2fa_..."' });
  });
});

describe('the other services', () => {
  test('TotpService: setup answers the otpauth URI, the QR code and the secret; verify takes `code` as well as `token`', async () => {
    const totp = createClient(TotpService, transport);
    const setup = await totp.setupTotp({ userId: 'u1', accountName: 'alice@example.com', issuer: 'Acme' }, auth());
    assert.match(setup.uri, /^otpauth:\/\/totp\/Acme:alice%40example\.com\?/);
    assert.match(setup.qrCodeDataUrl, /^data:image\/png;base64,/);
    assert.equal((await totp.verifyTotp({ userId: 'u1', code: await generate({ secret: setup.secret }) }, auth())).verified, true);
  });

  test('WebAuthnService: registration options arrive as a Struct with the tenant relying party', async () => {
    const r = await createClient(WebAuthnService, transport).registerOptions({ userId: 'u1', userName: 'alice' }, auth());
    const pk = r.publicKey!;
    assert.deepEqual(pk.rp, { name: 'in-process', id: 'login.example.com' });
    assert.equal(typeof pk.challenge, 'string');
  });

  test('PushService: device, send, approve and verify map requestId, status and the user', async () => {
    const push = createClient(PushService, transport);
    const dev = await push.registerDevice({ userId: 'u2', fcmToken: `tok_${randomBytes(8).toString('hex')}`, platform: 'android', deviceName: 'Pixel' }, auth());
    assert.match(dev.deviceId, /^dev_/);
    const sent = await push.sendPush({ userId: 'u2', title: 'Login?' }, auth());
    assert.match(sent.requestId, /^pr_[A-Za-z0-9_-]{22}$/);
    assert.equal(sent.status, 'pending');
    assert.equal((await push.respondPush({ requestId: sent.requestId, action: 'approve' }, auth())).status, 'approved');
    assert.deepEqual({ ...(await push.verifyPush({ requestId: sent.requestId, userId: 'u2' }, auth())) }, { $typeName: 'securekey.v1.VerifyPushResponse', verified: true, status: 'approved' });
  });

  test('AdminService: settings go through the message and back; the admin token is required', async () => {
    const admin = createClient(AdminService, transport);
    const t = await admin.updateTenantSettings({ tenantId, settings: { otpLength: 8, smsAllowedCountries: ['kr', 'us'] } }, { headers: { 'x-admin-token': ADMIN_TOKEN } });
    assert.equal(t.settings?.otpLength, 8);
    assert.deepEqual(t.settings?.smsAllowedCountries, ['KR', 'US']);
    assert.equal((await failure(admin.getTenant({ tenantId }))).code, Code.Unauthenticated);
    assert.equal((await failure(admin.updateTenantSettings({ tenantId, settings: { otpMaxAttempts: 50 } }, { headers: { 'x-admin-token': ADMIN_TOKEN } }))).code, Code.InvalidArgument);
  });
});
