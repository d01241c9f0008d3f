// What each error code means for a caller, and which codes each route answers besides the ones
// every route may answer. docs/api.md is generated from these tables and ERROR_MAP (npm run
// generate:files); the types make both exhaustive: a new code or a new RPC fails tsc until it is
// described here.
import type { ErrorCode } from '../domain/errors.ts';
import { AdminService } from '../gen/securekey/v1/admin_pb.js';
import { LimitsService } from '../gen/securekey/v1/limits_pb.js';
import { EmailOtpService, SmsOtpService } from '../gen/securekey/v1/otp_pb.js';
import { PushService } from '../gen/securekey/v1/push_pb.js';
import { RecoveryService } from '../gen/securekey/v1/recovery_pb.js';
import { TotpService } from '../gen/securekey/v1/totp_pb.js';
import { UserService } from '../gen/securekey/v1/users_pb.js';
import { WebAuthnService } from '../gen/securekey/v1/webauthn_pb.js';

export const ERROR_MEANING: Record<ErrorCode, string> = {
  INVALID_ARGUMENT: 'A field is missing or malformed, or the body is not a JSON object; the message names the field and what was expected.',
  INVALID_PHONE: 'The phone number is neither E.164 (+821012345678) nor a national number of the default region (01012345678).',
  INVALID_EMAIL: 'The email address is not a valid address.',
  UNAUTHORIZED: 'No API key (or admin token), or an unknown or revoked one.',
  FORBIDDEN: 'Reserved: the caller may not do this.',
  MFA_REQUIRED: 'A tenant MFA policy needs more channels first: `requiredChannels` lists them, `matchedPolicies` names the policies.',
  COUNTRY_NOT_ALLOWED: "The phone number belongs to a region outside the tenant's `smsAllowedCountries`.",
  NOT_FOUND: 'The named item (API key, MFA policy, webhook delivery) does not exist for this tenant.',
  OTP_NOT_FOUND: 'No code is pending for this destination: none was sent, it was used, or a newer one replaced it.',
  NOT_ENROLLED: 'The user has no TOTP enrollment, no passkey or no recovery codes yet.',
  TENANT_NOT_FOUND: 'No tenant with this id.',
  CREDENTIAL_NOT_FOUND: 'No passkey with this credential id for this user.',
  DEVICE_NOT_FOUND: 'No push device with this id, or the user has no active push device.',
  PUSH_NOT_FOUND: 'No push request with this requestId for this tenant (and user, when given).',
  ALREADY_ENROLLED: 'TOTP is already enrolled, or recovery codes are left, for this user: delete first, or set up / generate with `replace: true`.',
  ALREADY_RESPONDED: 'The push request was already approved or denied.',
  CONFLICT: 'A concurrent write won after retries, or the item already exists (e.g. a passkey registered to another user); retry or change the request.',
  OTP_EXPIRED: 'The code is past its lifetime (`otpTtlSeconds`): send a new one.',
  CHALLENGE_EXPIRED: 'The WebAuthn challenge is unknown, used or expired: request new options.',
  PUSH_EXPIRED: 'The push request expired before it was answered: send a new one.',
  VERIFICATION_FAILED: 'Reserved: a verification that cannot be retried failed.',
  TOO_MANY_ATTEMPTS: "The code's attempts are used up (`otpMaxAttempts`): send a new one.",
  RATE_LIMITED: 'Too many requests (per tenant and address — the end user\'s when `X-SecureKey-End-User-IP` is sent —, per key, or without credentials per address), or too many failed TOTP or recovery code attempts: wait `retryAfter` seconds (also the Retry-After header).',
  RESEND_TOO_SOON: 'A code was sent to this destination less than `otpResendCooldownSeconds` ago: wait `retryAfter` seconds.',
  DESTINATION_LIMIT: 'The per-destination cap (`smsPerDestinationHour` / `smsPerDestinationDay`) is reached: wait `retryAfter` seconds.',
  TENANT_QUOTA_EXCEEDED: "The tenant's daily SMS quota (`smsDailyQuota`) is used up; it resets at 00:00 UTC.",
  TOO_MANY_PENDING: 'The user has too many pending push requests (`pushMaxPending`) or was sent too many recently: wait for one to be answered or expire.',
  PAYLOAD_TOO_LARGE: 'The request body exceeds SECUREKEY_BODY_LIMIT_BYTES.',
  ROUTE_NOT_FOUND: 'No such route (see `/api/v1/openapi.json`).',
  METHOD_NOT_ALLOWED: 'The route exists with another HTTP method; the `Allow` header names it.',
  UNIMPLEMENTED: 'The method exists in the proto but is not implemented by this server.',
  INTERNAL: 'A bug on our side; the message never carries details, the server log has them under the request id.',
  UNAVAILABLE: 'The event store or a provider (SMS, email, push) is unreachable: retry shortly (`retryAfter`).',
};

/** Codes any tenant route may answer (malformed input, authentication, limits, infrastructure). */
export const COMMON_ERRORS: readonly ErrorCode[] = ['INVALID_ARGUMENT', 'UNAUTHORIZED', 'RATE_LIMITED', 'PAYLOAD_TOO_LARGE', 'CONFLICT', 'INTERNAL', 'UNAVAILABLE'];

type RouteErrors<S extends { method: object }> = Record<keyof S['method'], readonly ErrorCode[]>;

const OTP_SEND: readonly ErrorCode[] = ['RESEND_TOO_SOON', 'DESTINATION_LIMIT'];
const OTP_VERIFY: readonly ErrorCode[] = ['OTP_NOT_FOUND', 'OTP_EXPIRED', 'TOO_MANY_ATTEMPTS', 'MFA_REQUIRED'];

/** Codes each route answers besides COMMON_ERRORS, by service type name and method (local name). */
export const ROUTE_ERRORS: Record<string, Record<string, readonly ErrorCode[]>> = {
  [SmsOtpService.typeName]: {
    sendSmsOtp: ['INVALID_PHONE', 'COUNTRY_NOT_ALLOWED', ...OTP_SEND, 'TENANT_QUOTA_EXCEEDED'],
    verifySmsOtp: ['INVALID_PHONE', ...OTP_VERIFY],
  } satisfies RouteErrors<typeof SmsOtpService>,
  [EmailOtpService.typeName]: {
    sendEmailOtp: ['INVALID_EMAIL', ...OTP_SEND],
    verifyEmailOtp: ['INVALID_EMAIL', ...OTP_VERIFY],
  } satisfies RouteErrors<typeof EmailOtpService>,
  [TotpService.typeName]: {
    setupTotp: ['ALREADY_ENROLLED'],
    verifyTotp: ['NOT_ENROLLED', 'MFA_REQUIRED'],
    deleteTotp: ['NOT_ENROLLED'],
  } satisfies RouteErrors<typeof TotpService>,
  [RecoveryService.typeName]: {
    generateRecoveryCodes: ['ALREADY_ENROLLED'],
    verifyRecoveryCode: ['NOT_ENROLLED', 'MFA_REQUIRED'],
    getRecoveryStatus: [],
    deleteRecoveryCodes: ['NOT_ENROLLED'],
  } satisfies RouteErrors<typeof RecoveryService>,
  [WebAuthnService.typeName]: {
    registerOptions: [],
    registerVerify: ['CHALLENGE_EXPIRED'],
    authenticateOptions: ['NOT_ENROLLED'],
    authenticateVerify: ['CHALLENGE_EXPIRED', 'CREDENTIAL_NOT_FOUND', 'MFA_REQUIRED'],
    listCredentials: [],
    removeCredential: ['CREDENTIAL_NOT_FOUND'],
  } satisfies RouteErrors<typeof WebAuthnService>,
  [UserService.typeName]: {
    eraseUser: [],
    exportUser: [],
  } satisfies RouteErrors<typeof UserService>,
  [PushService.typeName]: {
    registerDevice: [],
    listDevices: [],
    removeDevice: ['DEVICE_NOT_FOUND'],
    sendPush: ['DEVICE_NOT_FOUND', 'TOO_MANY_PENDING'],
    respondPush: ['PUSH_NOT_FOUND', 'PUSH_EXPIRED', 'ALREADY_RESPONDED'],
    verifyPush: ['PUSH_NOT_FOUND', 'MFA_REQUIRED'],
  } satisfies RouteErrors<typeof PushService>,
  [LimitsService.typeName]: {
    resetLimits: ['INVALID_PHONE', 'INVALID_EMAIL'],
  } satisfies RouteErrors<typeof LimitsService>,
  [AdminService.typeName]: {
    createTenant: [],
    listTenants: [],
    getTenant: ['TENANT_NOT_FOUND'],
    updateTenantSettings: ['TENANT_NOT_FOUND'],
    issueKey: ['TENANT_NOT_FOUND'],
    revokeKey: ['TENANT_NOT_FOUND', 'NOT_FOUND'],
    rotateWebhookSecret: ['TENANT_NOT_FOUND'],
    revokePreviousWebhookSecret: ['TENANT_NOT_FOUND'],
    resetTenantLimits: ['TENANT_NOT_FOUND', 'INVALID_PHONE', 'INVALID_EMAIL'],
    putPolicy: ['TENANT_NOT_FOUND'],
    listPolicies: ['TENANT_NOT_FOUND'],
    deletePolicy: ['TENANT_NOT_FOUND', 'NOT_FOUND'],
    listWebhookDeliveries: ['TENANT_NOT_FOUND'],
    redeliverWebhook: ['TENANT_NOT_FOUND', 'NOT_FOUND'],
    queryAudit: ['TENANT_NOT_FOUND'],
    getOtpStats: ['TENANT_NOT_FOUND'],
    getSettingsSchema: [],
    getWebhookDelivery: ['TENANT_NOT_FOUND', 'NOT_FOUND'],
    getWebhookEndpointHealth: ['TENANT_NOT_FOUND'],
    getInsights: ['TENANT_NOT_FOUND'],
    getServerMetrics: [],
    getSystemStatus: [],
  } satisfies RouteErrors<typeof AdminService>,
};
