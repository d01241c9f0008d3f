// TwoFactorClient: the seed's Node SDK surface over the JSON API (/api/v1), with no runtime
// dependencies. A class only because the seed constructs it with `new`; everything else is
// plain functions over one transport.
import { createTransport, type ClientOptions, type Transport } from './transport.ts';
import type * as T from './types.ts';
import { toJsonValue } from './webauthn-json.ts';

const BROWSER_FIELDS = ['response', 'credential', 'clientExtensionResults'] as const;

/** Browser credential objects → JSON; undefined fields left out. */
const credentialBody = (opts: object): Record<string, unknown> => {
  const body: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(opts)) {
    if (v === undefined) continue;
    body[k] = (BROWSER_FIELDS as readonly string[]).includes(k) ? toJsonValue(v) : v;
  }
  return body;
};

const smsApi = (t: Transport) => ({
  /** Sends a code. Never retried automatically (a lost answer may hide a delivered SMS). */
  send: (opts: T.SmsSendOptions) => t.post<T.OtpSendResult>('/otp/send', opts),
  /** A wrong code is not an error: { verified: false, attemptsRemaining }. */
  verify: (opts: T.SmsVerifyOptions) => t.post<T.OtpVerifyResult>('/otp/verify', opts),
});

const emailApi = (t: Transport) => ({
  send: (opts: T.EmailSendOptions) => t.post<T.OtpSendResult>('/email-otp/send', opts),
  verify: (opts: T.EmailVerifyOptions) => t.post<T.OtpVerifyResult>('/email-otp/verify', opts),
});

const totpApi = (t: Transport) => ({
  /** Starts an enrollment: { uri (otpauth://), qrCodeDataUrl (PNG data URL), secret (base32) }. */
  setup: (opts: T.TotpSetupOptions) => t.post<T.TotpSetupResult>('/totp/setup', opts),
  verify: (opts: T.TotpVerifyOptions) => t.post<T.TotpVerifyResult>('/totp/verify', opts),
});

const recoveryApi = (t: Transport) => ({
  /** A new set of single-use codes: { codes: ["k7mq-2xw9-hc4t", ...], remaining }. Show them to
   * the user now: they are never shown again. A set with unused codes is replaced only with
   * `replace: true` (ALREADY_ENROLLED otherwise). Never retried automatically. */
  generate: (opts: T.RecoveryGenerateOptions) => t.post<T.RecoveryGenerateResult>('/recovery/generate', opts),
  /** Replaces the whole set (the old codes stop working) and returns the new codes. */
  regenerate: (opts: Omit<T.RecoveryGenerateOptions, 'replace'>) => t.post<T.RecoveryGenerateResult>('/recovery/generate', { ...opts, replace: true }),
  /** Uses one code (case, spaces and dashes do not matter). A wrong or used code is not an error:
   * { verified: false, remaining, retryAfter }. */
  verify: (opts: T.RecoveryVerifyOptions) => t.post<T.RecoveryVerifyResult>('/recovery/verify', opts),
  /** { enrolled, remaining, total, generatedAt }. Safe to retry. */
  status: (opts: T.RecoveryStatusOptions) => t.post<T.RecoveryStatusResult>('/recovery/status', opts, { idempotent: true }),
  /** Every code of the user's set stops working. */
  delete: (opts: T.RecoveryDeleteOptions) => t.post<T.RecoveryDeleteResult>('/recovery/delete', opts),
});

const webauthnApi = (t: Transport) => ({
  /** { publicKey: PublicKeyCredentialCreationOptionsJSON }. Safe to retry (a fresh challenge). */
  registerOptions: (opts: T.WebAuthnRegisterOptionsOptions) => t.post<T.WebAuthnRegisterOptionsResult>('/webauthn/register/options', opts, { idempotent: true }),
  /** The browser credential's fields at the top level (or { userId, credential }). */
  registerVerify: (opts: T.WebAuthnRegisterVerifyOptions) => t.post<T.WebAuthnRegisterVerifyResult>('/webauthn/register/verify', credentialBody(opts)),
  /** { publicKey: PublicKeyCredentialRequestOptionsJSON }. userId may be left out (discoverable sign-in). */
  authenticateOptions: (opts: T.WebAuthnAuthenticateOptionsOptions = {}) => t.post<T.WebAuthnAuthenticateOptionsResult>('/webauthn/authenticate/options', opts, { idempotent: true }),
  authenticateVerify: (opts: T.WebAuthnAuthenticateVerifyOptions) => t.post<T.WebAuthnAuthenticateVerifyResult>('/webauthn/authenticate/verify', credentialBody(opts)),
});

const pushApi = (t: Transport) => ({
  registerDevice: (opts: T.PushRegisterDeviceOptions) => t.post<T.PushRegisterDeviceResult>('/push/devices', opts),
  /** { requestId, expiresAt, status }. Never retried automatically (it notifies the user's phone). */
  send: (opts: T.PushSendOptions) => t.post<T.PushSendResult>('/push/send', opts),
  /** The device's answer (normally sent by your mobile app). */
  respond: (requestId: string, action: T.PushRespondAction, opts: T.PushRespondOptions = {}) =>
    t.post<T.PushRespondResult>('/push/respond', { ...opts, requestId, action }),
  /** Polls the request's status: { verified, status }. Safe to retry. */
  verify: (requestId: string, opts: T.PushVerifyOptions = {}) => t.post<T.PushVerifyResult>('/push/verify', { ...opts, requestId }, { idempotent: true }),
});

export type SmsApi = ReturnType<typeof smsApi>;
export type EmailApi = ReturnType<typeof emailApi>;
export type TotpApi = ReturnType<typeof totpApi>;
export type RecoveryApi = ReturnType<typeof recoveryApi>;
export type WebAuthnApi = ReturnType<typeof webauthnApi>;
export type PushApi = ReturnType<typeof pushApi>;

export class TwoFactorClient {
  readonly sms: SmsApi;
  readonly email: EmailApi;
  readonly totp: TotpApi;
  readonly recovery: RecoveryApi;
  readonly webauthn: WebAuthnApi;
  readonly push: PushApi;

  constructor(options: ClientOptions) {
    const t = createTransport(options);
    this.sms = smsApi(t);
    this.email = emailApi(t);
    this.totp = totpApi(t);
    this.recovery = recoveryApi(t);
    this.webauthn = webauthnApi(t);
    this.push = pushApi(t);
  }
}
