// The one table from events to webhook events, over the event catalogue (src/domain/events.ts):
// every event type has an entry, null when it is not an outcome a receiver hears about, so an
// added or renamed event fails tsc until it is decided here. Each entry picks the fields a
// receiver may see (a whitelist): never a code, a code hash, a secret, an encrypted value or a
// full destination; the masked destination is fine.
import type { Channel, OtpChannel } from '../domain/channel.ts';
import { DOMAIN_EVENT_TYPES, type DomainEvent, type DomainEventType, type EventDataMap } from '../domain/events.ts';
import type { OtpRef } from '../domain/otp/events.ts';
import type { StoredEvent } from '../eventstore/port.ts';
import { tenantOf, toRecorded, userOf } from '../eventstore/recorded.ts';

export type WebhookMessage = {
  tenantId: string;
  /** e.g. "verification.succeeded". */
  event: string;
  channel: Channel | null;
  /** externalUserId first, then the outcome details. */
  data: Record<string, unknown>;
};

type D = Record<string, unknown>;
/** The webhook an event triggers; Data is the event's data; channel null: not about one channel (user.erased). */
export type WebhookSpec<Data> = { event: string; channel: (d: Data) => Channel | null; details: (d: Data) => D };

/** One entry per event type of E (the catalogue), null when receivers do not hear of it. */
export type WebhookTable<E extends { type: string; data: unknown } = DomainEvent> = { [K in keyof EventDataMap<E>]: WebhookSpec<EventDataMap<E>[K]> | null };

const fixed = (c: Channel) => () => c;
const otpChannel = (d: { channel: OtpChannel }) => d.channel;
const pick = <T extends object>(d: T, keys: (keyof T & string)[]): D => {
  const out: D = {};
  for (const k of keys) if (d[k] !== undefined) out[k] = d[k];
  return out;
};
const otp =
  <T extends OtpRef>(extra: (keyof T & string)[]) =>
  (d: T): D => ({ verificationId: d.otpId, purpose: d.purpose, destination: d.masked, ...pick(d, extra) });

export const WEBHOOK_EVENTS: WebhookTable = {
  OtpVerified: { event: 'verification.succeeded', channel: otpChannel, details: otp(['attempts', 'attemptsRemaining']) },
  OtpAttemptFailed: { event: 'verification.failed', channel: otpChannel, details: otp(['attempts', 'attemptsRemaining']) },
  OtpLocked: { event: 'verification.locked', channel: otpChannel, details: otp(['attempts']) },
  OtpExpired: { event: 'verification.expired', channel: otpChannel, details: otp([]) },
  // Cancelled by an erasure, which has its own webhook (user.erased).
  OtpCancelled: null,
  PushCancelled: null,
  TotpEnrollmentConfirmed: { event: 'totp.enrolled', channel: fixed('totp'), details: () => ({}) },
  TotpCodeAccepted: { event: 'verification.succeeded', channel: fixed('totp'), details: () => ({}) },
  TotpCodeRejected: { event: 'verification.failed', channel: fixed('totp'), details: (d) => pick(d, ['reason', 'failures']) },
  RecoveryCodeUsed: { event: 'recovery.used', channel: fixed('recovery'), details: (d) => pick(d, ['remaining']) },
  RecoveryCodesGenerated: { event: 'recovery.regenerated', channel: fixed('recovery'), details: (d) => ({ count: d.codeHashes.length, replaced: d.replaces !== null }) },
  RecoveryCodesLow: { event: 'recovery.low', channel: fixed('recovery'), details: (d) => pick(d, ['remaining']) },
  RecoveryCodeRejected: { event: 'verification.failed', channel: fixed('recovery'), details: (d) => pick(d, ['reason', 'failures']) },
  CredentialRegistered: { event: 'passkey.registered', channel: fixed('webauthn'), details: (d) => pick(d, ['credentialId', 'deviceName', 'deviceType', 'backedUp']) },
  CredentialUsed: { event: 'verification.succeeded', channel: fixed('webauthn'), details: (d) => pick(d, ['credentialId']) },
  CredentialCloneSuspected: {
    event: 'passkey.clone_suspected',
    channel: fixed('webauthn'),
    details: (d) => pick(d, ['credentialId', 'storedCounter', 'receivedCounter']),
  },
  PushApproved: { event: 'push.approved', channel: fixed('push'), details: (d) => pick(d, ['requestId', 'purpose']) },
  PushDenied: { event: 'push.denied', channel: fixed('push'), details: (d) => pick(d, ['requestId', 'purpose', 'reason', 'notMe']) },
  PushReportedNotMe: { event: 'push.reported', channel: fixed('push'), details: (d) => pick(d, ['requestId', 'purpose']) },
  PushExpired: { event: 'push.expired', channel: fixed('push'), details: (d) => pick(d, ['requestId', 'purpose']) },
  // The erased user cannot be named any more: the receiver matches erasureId with what DELETE answered.
  UserErased: { event: 'user.erased', channel: () => null, details: (d) => pick(d, ['erasureId']) },
  // Not outcomes a receiver hears about.
  TenantCreated: null,
  ApiKeyIssued: null,
  ApiKeyRevoked: null,
  TenantSettingsChanged: null,
  WebhookSecretRotated: null,
  PreviousWebhookSecretRevoked: null,
  PolicyPut: null,
  PolicyDeleted: null,
  OtpIssued: null,
  OtpDeliverySucceeded: null,
  OtpDeliveryFailed: null,
  OtpLimitsReset: null,
  TotpEnrollmentStarted: null,
  TotpEnrollmentRemoved: null,
  TotpThrottleReset: null,
  RecoveryCodesRemoved: null,
  RegistrationChallengeIssued: null,
  AuthenticationChallengeIssued: null,
  ChallengeConsumed: null,
  CredentialRemoved: null,
  // push.approved was already sent when the user approved.
  PushApprovalConsumed: null,
  CredentialOwnerRecorded: null,
  DeviceRegistered: null,
  DeviceUpdated: null,
  DeviceMarkedStale: null,
  DeviceRemoved: null,
  PushRequested: null,
  PushDelivered: null,
  PushDeliveryFailed: null,
  PushRequestOpened: null,
  PushRequestClosed: null,
};

/** The event types that trigger a webhook. */
export const WEBHOOK_EVENT_TYPES = DOMAIN_EVENT_TYPES.filter((t) => WEBHOOK_EVENTS[t] !== null);

const describe = <K extends DomainEventType>(type: K, data: EventDataMap[K]): { event: string; channel: Channel | null; details: D } | null => {
  const spec = WEBHOOK_EVENTS[type];
  return spec && { event: spec.event, channel: spec.channel(data), details: spec.details(data) };
};

/** The webhook an event triggers, or null (not an outcome event, or no tenant). */
export const toWebhookMessage = (stored: StoredEvent): WebhookMessage | null => {
  const e = toRecorded(stored);
  const w = e && describe(e.type, e.data);
  const tenantId = e && tenantOf(e);
  if (!e || !w || !tenantId) return null;
  return { tenantId, event: w.event, channel: w.channel, data: { externalUserId: userOf(e), ...w.details, occurredAt: e.recordedAt.toISOString() } };
};

/** The body exactly as sent and signed. JSON.stringify(JSON.parse(body)) === body, so receivers
 * that re-serialise the parsed body (the seed's Node example) compute the same signature. */
export const webhookBody = (m: Pick<WebhookMessage, 'event' | 'channel' | 'data'>) => JSON.stringify({ event: m.event, channel: m.channel, data: m.data });
