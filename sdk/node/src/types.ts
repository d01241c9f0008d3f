// Request and result types of the SDK, derived from the protobuf-es types generated from
// proto/securekey/v1 (type-only imports: nothing here exists at run time). A field renamed or
// removed in the proto breaks `tsc` here or in the code that reads it, so the SDK cannot drift.
import type { JsonObject } from '@bufbuild/protobuf';
import type * as otp from '../../../src/gen/securekey/v1/otp_pb.js';
import type * as totp from '../../../src/gen/securekey/v1/totp_pb.js';
import type * as webauthn from '../../../src/gen/securekey/v1/webauthn_pb.js';
import type * as push from '../../../src/gen/securekey/v1/push_pb.js';

/** The proto3 JSON form of a protobuf-es message shape (lowerCamelCase keys; Timestamp → RFC 3339 string). */
export type Json<M> = { [K in Exclude<keyof M, '$typeName' | '$unknown'>]: JsonValueOf<M[K]> };
type JsonValueOf<V> =
  V extends { $typeName: 'google.protobuf.Timestamp' } ? string
  : V extends { $typeName: string } ? Json<V>
  : V extends readonly (infer E)[] ? JsonValueOf<E>[]
  : V extends bigint ? string
  : V extends Uint8Array ? string
  : V;

/** A request: the fields the server requires, plus any other field of the proto message. */
type Request<M, Required extends keyof Json<M>> = Pick<Json<M>, Required> & Partial<Json<M>>;
/** A result: every field of the proto message (the server always fills the ones below). */
type Result<M> = { [K in keyof Json<M>]-?: Exclude<Json<M>[K], undefined> };

// SMS / email OTP
export type SmsSendOptions = Request<otp.SendSmsOtpRequest, 'phone'>;
export type SmsVerifyOptions = Request<otp.VerifySmsOtpRequest, 'phone' | 'code'>;
export type EmailSendOptions = Request<otp.SendEmailOtpRequest, 'email'>;
export type EmailVerifyOptions = Request<otp.VerifyEmailOtpRequest, 'email' | 'code'>;
/** expiresIn, expiresAt (RFC 3339), resendAfter (seconds), to (masked destination). */
export type OtpSendResult = Result<otp.SendOtpResponse>;
/** verified; attemptsRemaining for this code. */
export type OtpVerifyResult = Result<otp.VerifyOtpResponse>;

// TOTP
export type TotpSetupOptions = Request<totp.SetupTotpRequest, 'userId' | 'accountName'>;
/** `token` (or its alias `code`). */
export type TotpVerifyOptions = Request<totp.VerifyTotpRequest, 'userId'>;
export type TotpSetupResult = Result<totp.SetupTotpResponse>;
export type TotpVerifyResult = Result<totp.VerifyTotpResponse>;
export type TotpDeleteResult = Result<totp.DeleteTotpResponse>;

// WebAuthn. `response` (and `credential`) may be the browser's own objects: ArrayBuffers are
// sent as base64url and the response's getters are read (see webauthn-json.ts).
type BrowserValue = JsonObject | object;
type WithBrowserObjects<T> = Omit<T, 'response' | 'credential' | 'clientExtensionResults'> & {
  response?: BrowserValue;
  credential?: BrowserValue;
  clientExtensionResults?: BrowserValue;
};
export type WebAuthnRegisterOptionsOptions = Request<webauthn.RegisterOptionsRequest, 'userId' | 'userName'>;
export type WebAuthnRegisterVerifyOptions = WithBrowserObjects<Request<webauthn.RegisterVerifyRequest, 'userId'>>;
export type WebAuthnAuthenticateOptionsOptions = Request<webauthn.AuthenticateOptionsRequest, never>;
export type WebAuthnAuthenticateVerifyOptions = WithBrowserObjects<Request<webauthn.AuthenticateVerifyRequest, never>>;
/** publicKey: PublicKeyCredentialCreationOptionsJSON. */
export type WebAuthnRegisterOptionsResult = Result<webauthn.RegisterOptionsResponse>;
export type WebAuthnRegisterVerifyResult = Result<webauthn.RegisterVerifyResponse>;
/** publicKey: PublicKeyCredentialRequestOptionsJSON. */
export type WebAuthnAuthenticateOptionsResult = Result<webauthn.AuthenticateOptionsResponse>;
export type WebAuthnAuthenticateVerifyResult = Result<webauthn.AuthenticateVerifyResponse>;

// Push
export type PushRegisterDeviceOptions = Request<push.RegisterDeviceRequest, 'userId' | 'fcmToken' | 'platform'>;
export type PushRegisterDeviceResult = Result<push.RegisterDeviceResponse>;
export type PushSendOptions = Request<push.SendPushRequest, 'userId' | 'title'>;
/** requestId, expiresAt (RFC 3339), status, number (with number matching on). */
export type PushSendResult = Result<push.SendPushResponse>;
export type PushRespondAction = 'approve' | 'deny';
export type PushRespondOptions = Omit<Partial<Json<push.RespondPushRequest>>, 'requestId' | 'action'>;
export type PushRespondResult = Result<push.RespondPushResponse>;
export type PushVerifyOptions = Omit<Partial<Json<push.VerifyPushRequest>>, 'requestId'>;
/** verified; status: pending | approved | denied | expired. */
export type PushVerifyResult = Result<push.VerifyPushResponse>;
