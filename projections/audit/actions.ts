// What each event means in the audit trail: action, channel and outcome. One table over the event
// catalogue (src/domain/events.ts): every event type has an entry, null for internal bookkeeping
// (inbox entries, owner records), so an added or renamed event fails tsc until it is decided here.
import type { Channel, OtpChannel } from '../../src/domain/channel.ts';
import { DOMAIN_EVENT_TYPES, type DomainEvent, type DomainEventType, type EventDataMap } from '../../src/domain/events.ts';

/** An event's meaning in the audit trail; D is its data. */
export type AuditSpec<D> = {
  action: string;
  channel: (d: D) => Channel | null;
  outcome: (d: D) => string;
};

/** One entry per event type of E (the catalogue), null for bookkeeping events. */
export type AuditTable<E extends { type: string; data: unknown } = DomainEvent> = { [K in keyof EventDataMap<E>]: AuditSpec<EventDataMap<E>[K]> | null };

const none = () => null;
const fixed = (ch: Channel) => () => ch;
const otp = (d: { channel: OtpChannel }) => d.channel;
const o = (s: string) => () => s;

export const AUDIT_ACTIONS: AuditTable = {
  // tenants and admin
  TenantCreated: { action: 'tenant.created', channel: none, outcome: o('ok') },
  ApiKeyIssued: { action: 'api_key.issued', channel: none, outcome: o('ok') },
  ApiKeyRevoked: { action: 'api_key.revoked', channel: none, outcome: o('ok') },
  TenantSettingsChanged: { action: 'tenant.settings_changed', channel: none, outcome: o('ok') },
  WebhookSecretRotated: { action: 'webhook.secret_rotated', channel: none, outcome: o('ok') },
  PreviousWebhookSecretRevoked: { action: 'webhook.previous_secret_revoked', channel: none, outcome: o('ok') },
  PolicyPut: { action: 'policy.put', channel: none, outcome: o('ok') },
  PolicyDeleted: { action: 'policy.deleted', channel: none, outcome: o('ok') },
  // one-time codes (sms, email)
  OtpIssued: { action: 'otp.issued', channel: otp, outcome: o('issued') },
  OtpDeliverySucceeded: { action: 'otp.sent', channel: otp, outcome: o('delivered') },
  OtpDeliveryFailed: { action: 'otp.send_failed', channel: otp, outcome: o('failed') },
  OtpAttemptFailed: { action: 'verification.failed', channel: otp, outcome: o('failure') },
  OtpVerified: { action: 'verification.succeeded', channel: otp, outcome: o('success') },
  OtpLocked: { action: 'verification.locked', channel: otp, outcome: o('locked') },
  OtpExpired: { action: 'verification.expired', channel: otp, outcome: o('expired') },
  OtpCancelled: { action: 'verification.cancelled', channel: otp, outcome: (d) => d.reason },
  OtpLimitsReset: { action: 'limits.reset', channel: otp, outcome: o('ok') },
  // TOTP
  TotpEnrollmentStarted: { action: 'totp.enrollment_started', channel: fixed('totp'), outcome: o('pending') },
  TotpEnrollmentConfirmed: { action: 'totp.enrolled', channel: fixed('totp'), outcome: o('success') },
  TotpCodeAccepted: { action: 'verification.succeeded', channel: fixed('totp'), outcome: o('success') },
  TotpCodeRejected: { action: 'verification.failed', channel: fixed('totp'), outcome: (d) => (d.reason === 'replay' ? 'replay' : 'failure') },
  TotpEnrollmentRemoved: { action: 'totp.removed', channel: fixed('totp'), outcome: o('ok') },
  TotpThrottleReset: { action: 'limits.reset', channel: fixed('totp'), outcome: o('ok') },
  // recovery codes
  RecoveryCodesGenerated: { action: 'recovery.generated', channel: fixed('recovery'), outcome: (d) => (d.replaces ? 'replaced' : 'ok') },
  RecoveryCodeUsed: { action: 'verification.succeeded', channel: fixed('recovery'), outcome: o('success') },
  RecoveryCodesLow: { action: 'recovery.low', channel: fixed('recovery'), outcome: o('low') },
  RecoveryCodeRejected: { action: 'verification.failed', channel: fixed('recovery'), outcome: (d) => (d.reason === 'used' ? 'used' : 'failure') },
  RecoveryCodesRemoved: { action: 'recovery.removed', channel: fixed('recovery'), outcome: o('ok') },
  // passkeys
  RegistrationChallengeIssued: { action: 'passkey.registration_started', channel: fixed('webauthn'), outcome: o('pending') },
  AuthenticationChallengeIssued: { action: 'passkey.authentication_started', channel: fixed('webauthn'), outcome: o('pending') },
  ChallengeConsumed: { action: 'passkey.challenge_consumed', channel: fixed('webauthn'), outcome: (d) => d.outcome },
  CredentialRegistered: { action: 'passkey.registered', channel: fixed('webauthn'), outcome: o('success') },
  CredentialUsed: { action: 'verification.succeeded', channel: fixed('webauthn'), outcome: o('success') },
  CredentialCloneSuspected: { action: 'passkey.clone_suspected', channel: fixed('webauthn'), outcome: o('suspicious') },
  CredentialRemoved: { action: 'passkey.removed', channel: fixed('webauthn'), outcome: o('ok') },
  CredentialOwnerRecorded: null,
  // push
  DeviceRegistered: { action: 'push.device_registered', channel: fixed('push'), outcome: o('ok') },
  DeviceUpdated: { action: 'push.device_updated', channel: fixed('push'), outcome: o('ok') },
  DeviceMarkedStale: { action: 'push.device_stale', channel: fixed('push'), outcome: o('stale') },
  DeviceRemoved: { action: 'push.device_removed', channel: fixed('push'), outcome: o('ok') },
  PushRequested: { action: 'push.requested', channel: fixed('push'), outcome: o('pending') },
  PushDelivered: { action: 'push.delivered', channel: fixed('push'), outcome: o('delivered') },
  PushDeliveryFailed: { action: 'push.delivery_failed', channel: fixed('push'), outcome: o('failed') },
  PushApproved: { action: 'push.approved', channel: fixed('push'), outcome: o('success') },
  PushDenied: { action: 'push.denied', channel: fixed('push'), outcome: (d) => (d.reason === 'number_mismatch' ? 'number_mismatch' : 'denied') },
  PushReportedNotMe: { action: 'push.reported', channel: fixed('push'), outcome: o('reported') },
  PushExpired: { action: 'push.expired', channel: fixed('push'), outcome: o('expired') },
  PushCancelled: { action: 'push.cancelled', channel: fixed('push'), outcome: (d) => d.reason },
  PushApprovalConsumed: { action: 'verification.succeeded', channel: fixed('push'), outcome: o('success') },
  PushRequestOpened: null,
  PushRequestClosed: null,
  // privacy
  UserErased: { action: 'user.erased', channel: none, outcome: o('ok') },
};

/** The audit entry of an event: action, channel, outcome; null for bookkeeping events. */
export const auditEntryOf = <K extends DomainEventType>(type: K, data: EventDataMap[K]): { action: string; channel: Channel | null; outcome: string } | null => {
  const spec = AUDIT_ACTIONS[type];
  return spec && { action: spec.action, channel: spec.channel(data), outcome: spec.outcome(data) };
};

/** The event types that have an audit entry. */
export const AUDITED_EVENT_TYPES = DOMAIN_EVENT_TYPES.filter((t) => AUDIT_ACTIONS[t] !== null);
