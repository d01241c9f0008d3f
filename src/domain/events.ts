// The event catalogue: every event of every aggregate, in one typed union. Tables keyed by event
// type (the audit trail's, the webhooks') are mapped over it, so adding or renaming an event fails
// tsc until each of them decides about it.
import type { OtpEvent } from './otp/events.ts';
import type { PolicyEvent } from './policy/index.ts';
import type { RecoveryEvent } from './recovery/types.ts';
import type { DeviceEvent, InboxEvent, PushRequestEvent } from './push/index.ts';
import type { TenantEvent } from './tenant/index.ts';
import type { TotpEvent } from './totp/types.ts';
import type { UserEvent } from './user/index.ts';
import type { CredentialOwnerRecorded } from './webauthn/discoverable.ts';
import type { WebAuthnEvent } from './webauthn/types.ts';

export type DomainEvent =
  | TenantEvent
  | PolicyEvent
  | OtpEvent
  | TotpEvent
  | RecoveryEvent
  | WebAuthnEvent
  | CredentialOwnerRecorded
  | DeviceEvent
  | PushRequestEvent
  | InboxEvent
  | UserEvent;

export type DomainEventType = DomainEvent['type'];

/** The event of one type. */
export type EventOfType<T extends DomainEventType> = Extract<DomainEvent, { type: T }>;

/** Event type → its data (of the catalogue, or of another union E), for tables whose entries read
 * the data of their own type. */
export type EventDataMap<E extends { type: string; data: unknown } = DomainEvent> = { [X in E as X['type']]: X['data'] };

/** The catalogue at run time: every type once (tsc checks it against the union, both ways). */
const CATALOGUE: Record<DomainEventType, true> = {
  TenantCreated: true,
  ApiKeyIssued: true,
  ApiKeyRevoked: true,
  TenantSettingsChanged: true,
  WebhookSecretRotated: true,
  PreviousWebhookSecretRevoked: true,
  PolicyPut: true,
  PolicyDeleted: true,
  OtpIssued: true,
  OtpDeliverySucceeded: true,
  OtpDeliveryFailed: true,
  OtpAttemptFailed: true,
  OtpVerified: true,
  OtpLocked: true,
  OtpExpired: true,
  OtpCancelled: true,
  OtpLimitsReset: true,
  TotpEnrollmentStarted: true,
  TotpEnrollmentConfirmed: true,
  TotpCodeAccepted: true,
  TotpCodeRejected: true,
  TotpEnrollmentRemoved: true,
  TotpThrottleReset: true,
  RecoveryCodesGenerated: true,
  RecoveryCodeUsed: true,
  RecoveryCodesLow: true,
  RecoveryCodeRejected: true,
  RecoveryCodesRemoved: true,
  RegistrationChallengeIssued: true,
  AuthenticationChallengeIssued: true,
  ChallengeConsumed: true,
  CredentialRegistered: true,
  CredentialUsed: true,
  CredentialCloneSuspected: true,
  CredentialRemoved: true,
  CredentialOwnerRecorded: true,
  DeviceRegistered: true,
  DeviceUpdated: true,
  DeviceMarkedStale: true,
  DeviceRemoved: true,
  PushRequested: true,
  PushDelivered: true,
  PushDeliveryFailed: true,
  PushApproved: true,
  PushDenied: true,
  PushReportedNotMe: true,
  PushExpired: true,
  PushCancelled: true,
  PushApprovalConsumed: true,
  PushRequestOpened: true,
  PushRequestClosed: true,
  UserErased: true,
};

export const isDomainEventType = (type: string): type is DomainEventType => Object.hasOwn(CATALOGUE, type);

/** Every event type, in catalogue order. */
export const DOMAIN_EVENT_TYPES: readonly DomainEventType[] = Object.keys(CATALOGUE).filter(isDomainEventType);
