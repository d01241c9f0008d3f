// Personal data in events: one table over the event catalogue (src/domain/events.ts) naming, for
// every event type, the data fields that hold personal data and how long they live; an added or
// renamed event fails tsc until it is decided here. The log stores these fields, and the personal
// metadata of every event, sealed with a data key (src/privacy/personal-data.ts, the one place that
// seals and opens them); everything else stays in clear, which is what statistics, rate limits,
// policies and the hash chain read.
import type { DomainEventType, EventDataMap } from './events.ts';

/** state: lives as long as the user's enrollment (sealed with the user's key: only an erasure
 * shreds it). verification: one verification's details (also sealed with the day's key, which the
 * tenant's retentionDays destroys). */
export type PersonalScope = 'state' | 'verification';

export type PersonalSpec<K extends DomainEventType> = {
  fields: readonly (keyof EventDataMap[K] & string)[];
  scope: PersonalScope;
};

/** Metadata fields holding personal data, on every event that has them (src/app/caller.ts). */
export const PERSONAL_METADATA = ['userId', 'clientIp', 'endUserIp', 'userAgent'] as const;

/** No personal data field (personal metadata, if any, is still sealed). */
const state = { fields: [], scope: 'state' } as const;
const verification = { fields: [], scope: 'verification' } as const;
const otpRef = ['userId', 'masked'] as const;

export const PERSONAL_DATA: { [K in DomainEventType]: PersonalSpec<K> } = {
  // tenants and policies: about the tenant, not a person
  TenantCreated: state,
  ApiKeyIssued: state,
  ApiKeyRevoked: state,
  TenantSettingsChanged: state,
  WebhookSecretRotated: state,
  PreviousWebhookSecretRevoked: state,
  PolicyPut: state,
  PolicyDeleted: state,
  // one-time codes: each is one verification
  OtpIssued: { fields: [...otpRef, 'destinationEnc'], scope: 'verification' },
  OtpDeliverySucceeded: { fields: otpRef, scope: 'verification' },
  OtpDeliveryFailed: { fields: otpRef, scope: 'verification' },
  OtpAttemptFailed: { fields: otpRef, scope: 'verification' },
  OtpVerified: { fields: otpRef, scope: 'verification' },
  OtpLocked: { fields: otpRef, scope: 'verification' },
  OtpExpired: { fields: otpRef, scope: 'verification' },
  OtpCancelled: { fields: otpRef, scope: 'verification' },
  OtpLimitsReset: state,
  // TOTP: the enrollment (its secret too: an erasure must leave no usable authenticator) and its uses
  TotpEnrollmentStarted: { fields: ['accountNameMasked', 'secretEnc'], scope: 'state' },
  TotpEnrollmentConfirmed: verification,
  TotpCodeAccepted: verification,
  TotpCodeRejected: verification,
  TotpEnrollmentRemoved: state,
  TotpThrottleReset: state,
  // recovery codes: the set (stored as keyed hashes only) lives with the enrollment, its uses are verifications
  RecoveryCodesGenerated: state,
  RecoveryCodesRemoved: state,
  RecoveryCodeUsed: verification,
  RecoveryCodesLow: verification,
  RecoveryCodeRejected: verification,
  // passkeys
  RegistrationChallengeIssued: verification,
  AuthenticationChallengeIssued: verification,
  ChallengeConsumed: verification,
  CredentialRegistered: { fields: ['deviceName'], scope: 'state' },
  CredentialUsed: verification,
  CredentialCloneSuspected: verification,
  CredentialRemoved: state,
  CredentialOwnerRecorded: { fields: ['userId'], scope: 'state' },
  // push: devices (names, tokens) and requests (the tenant's free text may name the person too)
  DeviceRegistered: { fields: ['deviceName', 'tokenEnc'], scope: 'state' },
  DeviceUpdated: { fields: ['deviceName', 'tokenEnc'], scope: 'state' },
  DeviceMarkedStale: state,
  DeviceRemoved: state,
  PushRequested: { fields: ['userId', 'title', 'body'], scope: 'verification' },
  PushDelivered: verification,
  PushDeliveryFailed: verification,
  PushApproved: { fields: ['userId'], scope: 'verification' },
  PushDenied: { fields: ['userId'], scope: 'verification' },
  PushReportedNotMe: { fields: ['userId'], scope: 'verification' },
  PushExpired: { fields: ['userId'], scope: 'verification' },
  PushCancelled: { fields: ['userId'], scope: 'verification' },
  PushApprovalConsumed: { fields: ['userId'], scope: 'verification' },
  PushRequestOpened: verification,
  PushRequestClosed: verification,
  // privacy: the erasure itself holds no personal data (its caller's address is metadata)
  UserErased: verification,
};

/** The spec of an event type; for a type this version does not know: only its metadata. */
export const personalSpecOf = (type: string): { fields: readonly string[]; scope: PersonalScope } =>
  Object.hasOwn(PERSONAL_DATA, type) ? PERSONAL_DATA[type as DomainEventType] : verification;
