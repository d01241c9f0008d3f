// Request and result types of the SDK, over the proto3 JSON shapes in api-types.ts (generated
// from proto/securekey/v1 and pinned to protobuf-es' types by test/sdk-api-types.pin.ts): a field
// renamed or removed in the proto breaks `tsc` here or in the code that reads it.
import type * as A from './api-types.ts';

export type { JsonObject, JsonValue } from './api-types.ts';

/** A request: the fields the server requires, plus any other field of the proto message. */
type Request<M, Required extends keyof M> = Pick<M, Required> & Partial<M>;
/** A result: every field of the proto message (the server always fills the ones below). */
type Result<M> = { [K in keyof M]-?: Exclude<M[K], undefined> };

// SMS / email OTP
export type SmsSendOptions = Request<A.SendSmsOtpRequest, 'phone'>;
export type SmsVerifyOptions = Request<A.VerifySmsOtpRequest, 'phone' | 'code'>;
export type EmailSendOptions = Request<A.SendEmailOtpRequest, 'email'>;
export type EmailVerifyOptions = Request<A.VerifyEmailOtpRequest, 'email' | 'code'>;
/** expiresIn, expiresAt (RFC 3339), resendAfter (seconds), to (masked destination). */
export type OtpSendResult = Result<A.SendOtpResponse>;
/** verified; attemptsRemaining for this code. */
export type OtpVerifyResult = Result<A.VerifyOtpResponse>;

// TOTP
export type TotpSetupOptions = Request<A.SetupTotpRequest, 'userId' | 'accountName'>;
/** `token` (or its alias `code`). */
export type TotpVerifyOptions = Request<A.VerifyTotpRequest, 'userId'>;
export type TotpSetupResult = Result<A.SetupTotpResponse>;
export type TotpVerifyResult = Result<A.VerifyTotpResponse>;
export type TotpDeleteResult = Result<A.DeleteTotpResponse>;

// Recovery codes
export type RecoveryGenerateOptions = Request<A.GenerateRecoveryCodesRequest, 'userId'>;
/** codes (grouped, "k7mq-2xw9-hc4t": shown this once); remaining. */
export type RecoveryGenerateResult = Result<A.GenerateRecoveryCodesResponse>;
/** `code` as the user typed it; `purpose` for MFA policies. */
export type RecoveryVerifyOptions = Request<A.VerifyRecoveryCodeRequest, 'userId' | 'code'>;
/** verified; remaining unused codes; retryAfter (seconds) after repeated failures. */
export type RecoveryVerifyResult = Result<A.VerifyRecoveryCodeResponse>;
export type RecoveryStatusOptions = Request<A.GetRecoveryStatusRequest, 'userId'>;
/** enrolled, remaining, total; generatedAt (RFC 3339) when enrolled. */
export type RecoveryStatusResult = Omit<Result<A.GetRecoveryStatusResponse>, 'generatedAt'> & Pick<A.GetRecoveryStatusResponse, 'generatedAt'>;
export type RecoveryDeleteOptions = Request<A.DeleteRecoveryCodesRequest, 'userId'>;
export type RecoveryDeleteResult = Result<A.DeleteRecoveryCodesResponse>;

// WebAuthn. `response` (and `credential`) may be the browser's own objects: ArrayBuffers are
// sent as base64url and the response's getters are read (see webauthn-json.ts).
type BrowserValue = A.JsonObject | object;
type WithBrowserObjects<T> = Omit<T, 'response' | 'credential' | 'clientExtensionResults'> & {
  response?: BrowserValue;
  credential?: BrowserValue;
  clientExtensionResults?: BrowserValue;
};
export type WebAuthnRegisterOptionsOptions = Request<A.RegisterOptionsRequest, 'userId' | 'userName'>;
export type WebAuthnRegisterVerifyOptions = WithBrowserObjects<Request<A.RegisterVerifyRequest, 'userId'>>;
export type WebAuthnAuthenticateOptionsOptions = Request<A.AuthenticateOptionsRequest, never>;
export type WebAuthnAuthenticateVerifyOptions = WithBrowserObjects<Request<A.AuthenticateVerifyRequest, never>>;
/** publicKey: PublicKeyCredentialCreationOptionsJSON. */
export type WebAuthnRegisterOptionsResult = Result<A.RegisterOptionsResponse>;
export type WebAuthnRegisterVerifyResult = Result<A.RegisterVerifyResponse>;
/** publicKey: PublicKeyCredentialRequestOptionsJSON. */
export type WebAuthnAuthenticateOptionsResult = Result<A.AuthenticateOptionsResponse>;
export type WebAuthnAuthenticateVerifyResult = Result<A.AuthenticateVerifyResponse>;

// Push
export type PushRegisterDeviceOptions = Request<A.RegisterDeviceRequest, 'userId' | 'fcmToken' | 'platform'>;
export type PushRegisterDeviceResult = Result<A.RegisterDeviceResponse>;
export type PushSendOptions = Request<A.SendPushRequest, 'userId' | 'title'>;
/** requestId, expiresAt (RFC 3339), status, number (with number matching on). */
export type PushSendResult = Result<A.SendPushResponse>;
export type PushRespondAction = 'approve' | 'deny';
export type PushRespondOptions = Omit<Partial<A.RespondPushRequest>, 'requestId' | 'action'>;
export type PushRespondResult = Result<A.RespondPushResponse>;
export type PushVerifyOptions = Omit<Partial<A.VerifyPushRequest>, 'requestId'>;
/** verified; status: pending | approved | denied | expired. */
export type PushVerifyResult = Result<A.VerifyPushResponse>;
