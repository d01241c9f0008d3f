// The one table from outcome events to webhook events. Each entry picks the fields a receiver may
// see (a whitelist): never a code, a code hash, a secret, an encrypted value or a full
// destination; the masked destination is fine. Event types that do not exist (yet) simply never
// match. The webhook projector and the audit trail both read tenant and user from here.
import type { StoredEvent } from '../eventstore/port.ts';

export type WebhookChannel = 'sms' | 'email' | 'totp' | 'webauthn' | 'push';

export type WebhookMessage = {
  tenantId: string;
  /** e.g. "verification.succeeded". */
  event: string;
  channel: WebhookChannel;
  /** externalUserId first, then the outcome details. */
  data: Record<string, unknown>;
};

type D = Record<string, unknown>;
type Spec = { event: string; channel: (d: D) => WebhookChannel | null; details: (d: D) => D };

const otpChannel = (d: D): WebhookChannel | null => (d.channel === 'sms' || d.channel === 'email' ? d.channel : null);
const fixed = (c: WebhookChannel) => () => c;
const pick = (d: D, keys: string[]): D => {
  const out: D = {};
  for (const k of keys) if (d[k] !== undefined) out[k] = d[k];
  return out;
};
const otp = (extra: string[]) => (d: D): D => ({ verificationId: d.otpId, purpose: d.purpose, destination: d.masked, ...pick(d, extra) });

export const WEBHOOK_EVENTS: Record<string, Spec> = {
  OtpVerified: { event: 'verification.succeeded', channel: otpChannel, details: otp(['attempts', 'attemptsRemaining']) },
  OtpAttemptFailed: { event: 'verification.failed', channel: otpChannel, details: otp(['attempts', 'attemptsRemaining']) },
  OtpLocked: { event: 'verification.locked', channel: otpChannel, details: otp(['attempts']) },
  OtpExpired: { event: 'verification.expired', channel: otpChannel, details: otp([]) },
  TotpEnrollmentConfirmed: { event: 'totp.enrolled', channel: fixed('totp'), details: () => ({}) },
  TotpCodeAccepted: { event: 'verification.succeeded', channel: fixed('totp'), details: () => ({}) },
  TotpCodeRejected: { event: 'verification.failed', channel: fixed('totp'), details: (d) => pick(d, ['reason', 'failures']) },
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
};

export const WEBHOOK_EVENT_TYPES = Object.keys(WEBHOOK_EVENTS);

const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : null);

/** The tenant of an event: metadata first, then data, then the stream name (`category-tenant.rest`). */
export const tenantOf = (e: Pick<StoredEvent, 'data' | 'metadata' | 'streamName'>): string | null => {
  const fromMeta = str(e.metadata?.tenantId) ?? str(e.data?.tenantId);
  if (fromMeta) return fromMeta;
  const dash = e.streamName.indexOf('-');
  const rest = dash >= 0 ? e.streamName.slice(dash + 1) : '';
  const dot = rest.indexOf('.');
  return str(dot >= 0 ? rest.slice(0, dot) : rest);
};

/** The tenant's own user id (webhooks call it externalUserId), when the event or its metadata carries it. */
export const userOf = (e: Pick<StoredEvent, 'data' | 'metadata'>): string | null => str(e.data?.userId) ?? str(e.metadata?.userId);

/** The webhook an event triggers, or null (not an outcome event, or no tenant). */
export const toWebhookMessage = (e: StoredEvent): WebhookMessage | null => {
  const spec = Object.hasOwn(WEBHOOK_EVENTS, e.type) ? WEBHOOK_EVENTS[e.type] : undefined;
  if (!spec) return null;
  const d = (e.data ?? {}) as D;
  const channel = spec.channel(d);
  const tenantId = tenantOf(e);
  if (!channel || !tenantId) return null;
  return {
    tenantId,
    event: spec.event,
    channel,
    data: { externalUserId: userOf(e), ...spec.details(d), occurredAt: e.recordedAt.toISOString() },
  };
};

/** The body exactly as sent and signed. JSON.stringify(JSON.parse(body)) === body, so receivers
 * that re-serialise the parsed body (the seed's Node example) compute the same signature. */
export const webhookBody = (m: Pick<WebhookMessage, 'event' | 'channel' | 'data'>) => JSON.stringify({ event: m.event, channel: m.channel, data: m.data });
