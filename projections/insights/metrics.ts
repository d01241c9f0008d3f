// What each event counts for in the insights: channel, metric, the time it is bucketed at and
// (SMS) the destination's country. One table over the event catalogue, like the audit trail's:
// every event type has an entry (an empty list for events that count for nothing), so an added or
// renamed event fails tsc until it is decided here. Only non-personal aggregates come out of it:
// a channel, a metric name, a region code and a time.
import type { Channel } from '../../src/domain/channel.ts';
import { DOMAIN_EVENT_TYPES, type DomainEventType, type EventDataMap } from '../../src/domain/events.ts';
import { throttleDelaySeconds } from '../../src/domain/totp/decider.ts';

/** started: a verification began (a code or push sent, a passkey challenge issued, a TOTP code
 * checked); verified: it succeeded; the rest are the signals an operator watches. */
export const INSIGHT_METRICS = [
  'started',
  'verified',
  'failed',
  'delivery_failed',
  'locked',
  'expired',
  'denied',
  'not_me',
  'number_mismatch',
  'replay',
  'throttled',
  'clone_suspected',
] as const;
export type InsightMetric = (typeof INSIGHT_METRICS)[number];

/** One count: `at` (epoch ms) picks the bucket; country is an ISO region for SMS, '' otherwise. */
export type InsightCount = { channel: Channel; metric: InsightMetric; at: number; country?: string };

type Counts<K extends DomainEventType> = (d: EventDataMap[K], recordedAt: number) => readonly InsightCount[];

const none = () => [];
/** One-time codes count on the hour their code was issued (a cohort), so conversion per bucket is
 * verified / sent of the same codes, and per country. */
const otp =
  (metric: InsightMetric) =>
  (d: { channel: 'sms' | 'email'; country: string | null; issuedAt: number }): InsightCount[] => [{ channel: d.channel, metric, at: d.issuedAt, country: d.country ?? '' }];
const push =
  (...metrics: InsightMetric[]) =>
  (d: { at: number }): InsightCount[] =>
    metrics.map((metric) => ({ channel: 'push', metric, at: d.at }));

const totpAccepted = (d: { at: number }): InsightCount[] => [
  { channel: 'totp', metric: 'started', at: d.at },
  { channel: 'totp', metric: 'verified', at: d.at },
];

export const INSIGHTS: { [K in DomainEventType]: Counts<K> } = {
  TenantCreated: none,
  ApiKeyIssued: none,
  ApiKeyRevoked: none,
  TenantSettingsChanged: none,
  WebhookSecretRotated: none,
  PreviousWebhookSecretRevoked: none,
  PolicyPut: none,
  PolicyDeleted: none,
  OtpIssued: otp('started'),
  OtpDeliverySucceeded: none,
  OtpDeliveryFailed: otp('delivery_failed'),
  OtpAttemptFailed: otp('failed'),
  OtpVerified: otp('verified'),
  OtpLocked: otp('locked'),
  OtpExpired: otp('expired'),
  // Cancelled because the user was erased: not an outcome of the verification.
  OtpCancelled: none,
  // A tenant lifted a destination's caps: not an outcome of a verification.
  OtpLimitsReset: none,
  TotpEnrollmentStarted: none,
  // The first code accepted confirms the enrolment: a verification like the later ones (the
  // codes rejected before it count as failures).
  TotpEnrollmentConfirmed: totpAccepted,
  TotpCodeAccepted: totpAccepted,
  // A rejection that puts its requester under a delay counts as throttled too.
  TotpCodeRejected: (d) => [
    { channel: 'totp', metric: 'started', at: d.at },
    { channel: 'totp', metric: d.reason === 'replay' ? 'replay' : 'failed', at: d.at },
    ...(d.reason === 'mismatch' && throttleDelaySeconds(d.requesterFailures ?? d.failures) > 0 ? [{ channel: 'totp', metric: 'throttled', at: d.at } as const] : []),
  ],
  TotpEnrollmentRemoved: none,
  TotpThrottleReset: none,
  RegistrationChallengeIssued: none,
  // The challenge carries no time of its own: it counts when it was recorded.
  AuthenticationChallengeIssued: (_d, recordedAt) => [{ channel: 'webauthn', metric: 'started', at: recordedAt }],
  ChallengeConsumed: (d) => (d.kind === 'authentication' && d.outcome === 'failed' ? [{ channel: 'webauthn', metric: 'failed', at: d.at }] : []),
  CredentialRegistered: none,
  CredentialUsed: (d) => [{ channel: 'webauthn', metric: 'verified', at: d.at }],
  CredentialCloneSuspected: (d) => [{ channel: 'webauthn', metric: 'clone_suspected', at: d.at }],
  CredentialRemoved: none,
  CredentialOwnerRecorded: none,
  DeviceRegistered: none,
  DeviceUpdated: none,
  DeviceMarkedStale: none,
  DeviceRemoved: none,
  PushRequested: push('started'),
  PushDelivered: none,
  PushDeliveryFailed: push('delivery_failed'),
  PushApproved: push('verified'),
  PushDenied: (d) => push(d.reason === 'number_mismatch' ? 'number_mismatch' : 'denied')(d),
  PushReportedNotMe: push('not_me'),
  PushExpired: push('expired'),
  // The tenant's verify used the approval: counted when it was approved.
  PushApprovalConsumed: none,
  PushRequestOpened: none,
  PushRequestClosed: none,
  PushCancelled: none,
  UserErased: none,
  RecoveryCodesGenerated: none,
  RecoveryCodesLow: none,
  RecoveryCodesRemoved: none,
  // Recovery codes are checked like TOTP codes: each check a start; a used code is a replay.
  RecoveryCodeUsed: (d) => [
    { channel: 'recovery', metric: 'started', at: d.at },
    { channel: 'recovery', metric: 'verified', at: d.at },
  ],
  RecoveryCodeRejected: (d) => [
    { channel: 'recovery', metric: 'started', at: d.at },
    { channel: 'recovery', metric: d.reason === 'used' ? 'replay' : 'failed', at: d.at },
    ...(d.reason === 'mismatch' && throttleDelaySeconds(d.failures) > 0 ? [{ channel: 'recovery', metric: 'throttled', at: d.at } as const] : []),
  ],
};

/** The counts of one event. */
export const insightsOf = <K extends DomainEventType>(type: K, data: EventDataMap[K], recordedAt: number): readonly InsightCount[] => INSIGHTS[type](data, recordedAt);

/** The event types that count for something. */
export const COUNTED_EVENT_TYPES = DOMAIN_EVENT_TYPES.filter((t) => INSIGHTS[t] !== none);
