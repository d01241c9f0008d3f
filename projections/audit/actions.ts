// What each event means in the audit trail: action, channel and outcome. One table; event types
// that do not exist (yet) simply never match. Internal bookkeeping events (inbox entries, owner
// records) are left out.
type D = Record<string, unknown>;
type Channel = 'sms' | 'email' | 'totp' | 'webauthn' | 'push' | null;
export type AuditSpec = { action: string; channel: (d: D) => Channel; outcome: (d: D) => string };

const c = (ch: Channel) => () => ch;
const otpCh = (d: D): Channel => (d.channel === 'sms' || d.channel === 'email' ? d.channel : null);
const o = (s: string) => () => s;
const spec = (action: string, channel: (d: D) => Channel, outcome: (d: D) => string): AuditSpec => ({ action, channel, outcome });

export const AUDIT_ACTIONS: Record<string, AuditSpec> = {
  // tenants and admin
  TenantCreated: spec('tenant.created', c(null), o('ok')),
  ApiKeyIssued: spec('api_key.issued', c(null), o('ok')),
  ApiKeyRevoked: spec('api_key.revoked', c(null), o('ok')),
  TenantSettingsChanged: spec('tenant.settings_changed', c(null), o('ok')),
  WebhookSecretRotated: spec('webhook.secret_rotated', c(null), o('ok')),
  PolicyPut: spec('policy.put', c(null), o('ok')),
  PolicyDeleted: spec('policy.deleted', c(null), o('ok')),
  // one-time codes (sms, email)
  OtpIssued: spec('otp.issued', otpCh, o('issued')),
  OtpDeliverySucceeded: spec('otp.sent', otpCh, o('delivered')),
  OtpDeliveryFailed: spec('otp.send_failed', otpCh, o('failed')),
  OtpAttemptFailed: spec('verification.failed', otpCh, o('failure')),
  OtpVerified: spec('verification.succeeded', otpCh, o('success')),
  OtpLocked: spec('verification.locked', otpCh, o('locked')),
  OtpExpired: spec('verification.expired', otpCh, o('expired')),
  // TOTP
  TotpEnrollmentStarted: spec('totp.enrollment_started', c('totp'), o('pending')),
  TotpEnrollmentConfirmed: spec('totp.enrolled', c('totp'), o('success')),
  TotpCodeAccepted: spec('verification.succeeded', c('totp'), o('success')),
  TotpCodeRejected: spec('verification.failed', c('totp'), (d) => (d.reason === 'replay' ? 'replay' : 'failure')),
  TotpEnrollmentRemoved: spec('totp.removed', c('totp'), o('ok')),
  // passkeys
  RegistrationChallengeIssued: spec('passkey.registration_started', c('webauthn'), o('pending')),
  AuthenticationChallengeIssued: spec('passkey.authentication_started', c('webauthn'), o('pending')),
  ChallengeConsumed: spec('passkey.challenge_consumed', c('webauthn'), (d) => String(d.outcome ?? 'unknown')),
  CredentialRegistered: spec('passkey.registered', c('webauthn'), o('success')),
  CredentialUsed: spec('verification.succeeded', c('webauthn'), o('success')),
  CredentialCloneSuspected: spec('passkey.clone_suspected', c('webauthn'), o('suspicious')),
  CredentialRemoved: spec('passkey.removed', c('webauthn'), o('ok')),
  // push
  DeviceRegistered: spec('push.device_registered', c('push'), o('ok')),
  DeviceUpdated: spec('push.device_updated', c('push'), o('ok')),
  DeviceMarkedStale: spec('push.device_stale', c('push'), o('stale')),
  DeviceRemoved: spec('push.device_removed', c('push'), o('ok')),
  PushRequested: spec('push.requested', c('push'), o('pending')),
  PushDelivered: spec('push.delivered', c('push'), o('delivered')),
  PushDeliveryFailed: spec('push.delivery_failed', c('push'), o('failed')),
  PushApproved: spec('push.approved', c('push'), o('success')),
  PushDenied: spec('push.denied', c('push'), (d) => (d.reason === 'number_mismatch' ? 'number_mismatch' : 'denied')),
  PushReportedNotMe: spec('push.reported', c('push'), o('reported')),
  PushExpired: spec('push.expired', c('push'), o('expired')),
};
