// Every decision of webhook delivery over a KurrentDB persistent subscription, as pure functions
// (no I/O, no clock, no randomness of their own), so all of it is unit-tested without a server.
//
// How the server side works (KurrentDB PersistentSubscription): each event is pushed to one
// consumer of the group (round robin) and stays "in flight" until that consumer acks or nacks it,
// or until `messageTimeout` passes. nack 'retry' and a timeout both re-send the event, to any
// consumer, at once, with retryCount + 1; once retryCount has reached maxRetryCount the server
// parks it instead (`$persistentsubscription-$all::<group>-parked`, replayable by operators).
// nack 'park' parks it at once. So a retry delay (backoff) is served by holding the event before
// the nack, and messageTimeout must cover: waiting for a tenant slot, one HTTP attempt, the delay.
import {
  END,
  ROUND_ROBIN,
  START,
  eventTypeFilter,
  persistentSubscriptionToAllSettingsFromDefaults,
  type PersistentSubscriptionToAllSettings,
  type RegexFilter,
} from '@kurrent/kurrentdb-client';
import { deliveryIdOf } from '../outbox.ts';
import type { StoredEvent } from '../../eventstore/port.ts';
import { toWebhookMessage, WEBHOOK_EVENT_TYPES, webhookBody } from '../events.ts';
import { type AttemptResult, describeAttempt, isSuccess } from '../post.ts';
import { webhookHeaders } from '../sign.ts';
import { backoffDelay, type BackoffPolicy } from '../decisions.ts';

export const DEFAULT_GROUP = 'securekey-webhooks';

/** The parked (dead-letter) stream of a group on $all. Its entries are links to the events. */
export const parkedStreamOf = (group: string) => `$persistentsubscription-$all::${group}-parked`;

/** Kept between the end of our processing and the server's message timeout. */
export const TIMEOUT_SAFETY_MS = 5_000;

// ── the group ───────────────────────────────────────────────────────────────────────────────
const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Exactly our outcome event types (an anchored alternation, so `OtpVerifiedX` does not match). */
export const webhookEventTypeRegex = (types: readonly string[] = WEBHOOK_EVENT_TYPES): string => `^(?:${types.map(escapeRegex).join('|')})$`;

/** The server-side filter of the group: event types, not stream names. */
export const webhookEventFilter = (types: readonly string[] = WEBHOOK_EVENT_TYPES): RegexFilter => eventTypeFilter({ regex: webhookEventTypeRegex(types) });

/** Default message timeout: room for two full "attempt + longest delay" cycles (the second one
 * covers waiting behind the tenant's other events), plus the safety margin, and never under 30 s. */
export const defaultMessageTimeoutMs = (timeoutMs: number, backoff: BackoffPolicy): number =>
  Math.max(30_000, 2 * (timeoutMs + backoff.maxMs) + TIMEOUT_SAFETY_MS);

export type GroupPlan = {
  /** Per HTTP request, ms. */
  timeoutMs: number;
  /** Failed attempts retried before an event is parked (the first attempt is not a retry). */
  maxRetries: number;
  backoff: BackoffPolicy;
  /** 'start': the whole log on the group's first creation (events older than maxAgeMs are then
   * acked without being sent); 'end': only events appended after the group was created. */
  startFrom: 'start' | 'end';
  messageTimeoutMs?: number;
};

/** Settings of the persistent subscription group (used when it is created). */
export const persistentSubscriptionSettings = (p: GroupPlan): PersistentSubscriptionToAllSettings => {
  if (!Number.isInteger(p.maxRetries) || p.maxRetries < 0) throw new RangeError(`maxRetries must be an integer >= 0, got ${p.maxRetries}`);
  if (!(p.timeoutMs > 0)) throw new RangeError(`timeoutMs must be > 0, got ${p.timeoutMs}`);
  const messageTimeout = p.messageTimeoutMs ?? defaultMessageTimeoutMs(p.timeoutMs, p.backoff);
  if (messageTimeout <= p.timeoutMs + TIMEOUT_SAFETY_MS) {
    throw new RangeError(`messageTimeoutMs (${messageTimeout}) must exceed the request timeout (${p.timeoutMs}) by more than ${TIMEOUT_SAFETY_MS} ms`);
  }
  return persistentSubscriptionToAllSettingsFromDefaults({
    startFrom: p.startFrom === 'start' ? START : END,
    resolveLinkTos: false,
    maxRetryCount: p.maxRetries,
    messageTimeout,
    consumerStrategyName: ROUND_ROBIN,
  });
};

// ── the group as the server has it ──────────────────────────────────────────────────────
/** What the processor times its retries against. messageTimeoutMs: Infinity when the group does
 * not time messages out (KurrentDB's messageTimeout 0). */
export type GroupLimits = { maxRetries: number; messageTimeoutMs: number };

/** The limits the processor must follow: the group's own, read back from the server, not this
 * node's configuration. A group keeps the settings it was created with, so after a configuration
 * change (or with nodes configured differently) following the configuration would park events
 * the server still retries (a lower maxRetries) or hold events past the server's timeout, which
 * then re-sends them to another node (a longer messageTimeout). `differences` lists what differs
 * from the configuration, for a warning; `unusable` says why a group cannot be followed at all. */
export const groupLimits = (o: { configured: GroupLimits; server: { maxRetryCount: number; messageTimeout: number }; timeoutMs: number }): { limits: GroupLimits; differences: string[] } | { unusable: string } => {
  const messageTimeoutMs = o.server.messageTimeout > 0 ? o.server.messageTimeout : Infinity;
  const limits = { maxRetries: o.server.maxRetryCount, messageTimeoutMs };
  if (!(messageTimeoutMs > o.timeoutMs + TIMEOUT_SAFETY_MS)) {
    return {
      unusable: `the group's message timeout (${messageTimeoutMs} ms) leaves no room for one webhook request (${o.timeoutMs} ms) plus ${TIMEOUT_SAFETY_MS} ms: update the group's messageTimeout, or delete the group so that it is created again from this configuration`,
    };
  }
  const differences: string[] = [];
  if (limits.maxRetries !== o.configured.maxRetries) differences.push(`maxRetryCount ${limits.maxRetries} (configured ${o.configured.maxRetries})`);
  if (limits.messageTimeoutMs !== o.configured.messageTimeoutMs) differences.push(`messageTimeout ${messageTimeoutMs} ms (configured ${o.configured.messageTimeoutMs} ms)`);
  return { limits, differences };
};

// ── a failing tenant ────────────────────────────────────────────────────────────────────────
/** The most events a tenant whose endpoint is failing may hold on one node (being attempted,
 * waiting out a retry delay, or queued for a slot): twice its concurrency, and never more than a
 * quarter of the node's window (bufferSize), so a failing tenant leaves at least three quarters
 * of every node's window to the others. */
export const failingTenantCap = (perTenantConcurrency: number, bufferSize: number): number => Math.max(1, Math.min(2 * perTenantConcurrency, Math.floor(bufferSize / 4)));

/** What to do with an event of a tenant that already holds `held` events on this node (or with
 * its newest queued events, when it has just failed): while its endpoint is failing, only `cap`
 * are kept and the rest are parked at once (redelivered by an operator's replay of the parked
 * messages). Parked, not nacked for retry: the server re-sends retried events before any new
 * one, straight back to a consumer with room, so they would only bounce here (each bounce
 * spending a retry) while every other tenant's events kept waiting behind them. A tenant whose
 * endpoint works is never capped: its events queue for its slots. */
export const decideOnArrival = (o: { held: number; cap: number; failing: boolean }): 'take' | { park: string } =>
  o.failing && o.held >= o.cap ? { park: failingTenantParkReason(o.cap) } : 'take';

export const failingTenantParkReason = (cap: number) =>
  `its endpoint is failing and it already has ${cap} deliveries in progress on this node; parked so that other tenants' webhooks are not held up (replay the parked messages once the endpoint works)`;

// ── one event ───────────────────────────────────────────────────────────────────────────────
/** A tenant's webhook endpoint as a node's read model knows it. secretsEnc: the current secret
 * first, then the previous one while a rotation's grace period runs, each as
 * keyring.encrypt('webhook-secret', …) wrote it. */
export type WebhookEndpoint = { url: string; secretsEnc: string[] };

export type DeliveryPlan =
  /** Ack without sending. */
  | { kind: 'skip'; reason: string }
  /** nack 'park' without sending: it cannot succeed until an operator acts. */
  | { kind: 'park'; reason: string }
  | { kind: 'send'; tenantId: string; deliveryId: string; url: string; body: string; headers: Record<string, string> };

/** What to do with an event the subscription pushed. now: epoch ms. decrypt: the keyring's
 * 'webhook-secret' decryption (throws on a wrong master key). */
export const planDelivery = (o: {
  event: StoredEvent;
  endpoint: WebhookEndpoint | undefined;
  decrypt: (enc: string) => string;
  now: number;
  maxAgeMs: number;
}): DeliveryPlan => {
  const m = toWebhookMessage(o.event);
  if (!m) return { kind: 'skip', reason: 'not a webhook event' };
  if (o.now - o.event.recordedAt.getTime() > o.maxAgeMs) return { kind: 'skip', reason: `not sent: the event is older than ${Math.round(o.maxAgeMs / 3600_000)} h` };
  if (!o.endpoint?.url) return { kind: 'skip', reason: 'no webhook URL configured' };
  if (o.endpoint.secretsEnc.length === 0) return { kind: 'park', reason: 'no webhook secret: rotate the webhook secret, then replay the parked messages' };
  let secrets: string[];
  try {
    secrets = o.endpoint.secretsEnc.map((enc) => o.decrypt(enc));
  } catch {
    return { kind: 'park', reason: 'webhook secret cannot be decrypted with this master key' };
  }
  const body = webhookBody(m);
  const deliveryId = deliveryIdOf(o.event.id);
  const headers = webhookHeaders({ secret: secrets[0], previousSecret: secrets[1] ?? null, body, t: Math.floor(o.now / 1000), eventId: o.event.id, deliveryId });
  return { kind: 'send', tenantId: m.tenantId, deliveryId, url: o.endpoint.url, body, headers };
};

export type AfterAttempt = 'ack' | { nack: 'retry'; delayMs: number; reason: string } | { nack: 'park'; reason: string };

/** After one HTTP attempt: 2xx acks; a failure is retried after an exponential, jittered delay
 * while retryCount < maxRetries, and parked after that. timeLeftMs (optional): how long until the
 * server's message timeout for this event; the delay is shortened to end before it (less the
 * safety margin), so the server never re-sends an event that is only waiting out its delay. */
export const decideAfterAttempt = (o: {
  result: AttemptResult;
  retryCount: number;
  maxRetries: number;
  backoff: BackoffPolicy;
  /** [0, 1). */
  random: () => number;
  timeLeftMs?: number;
}): AfterAttempt => {
  if (isSuccess(o.result)) return 'ack';
  const what = describeAttempt(o.result);
  const attempts = o.retryCount + 1;
  if (o.retryCount >= o.maxRetries) return { nack: 'park', reason: `${what} (attempt ${attempts} of ${o.maxRetries + 1}; retries exhausted)` };
  let delayMs = backoffDelay(attempts, o.backoff, o.random);
  if (o.timeLeftMs !== undefined) delayMs = Math.max(0, Math.min(delayMs, o.timeLeftMs - TIMEOUT_SAFETY_MS));
  return { nack: 'retry', delayMs, reason: `${what} (attempt ${attempts} of ${o.maxRetries + 1})` };
};

/** Before an attempt: an event that waited so long on this node (behind its tenant's other
 * events) that one more request could outlast the server's message timeout is handed back now,
 * rather than sent while the server may already be sending it to another node. */
export const decideBeforeAttempt = (o: { heldMs: number; timeoutMs: number; messageTimeoutMs: number }): 'attempt' | { nack: 'retry'; reason: string } =>
  o.heldMs + o.timeoutMs + TIMEOUT_SAFETY_MS < o.messageTimeoutMs
    ? 'attempt'
    : { nack: 'retry', reason: `waited ${Math.round(o.heldMs / 1000)} s for a free slot of its tenant on this node; handed back` };

/** The group already exists (created by another node, or by this one before a restart): the
 * client's PersistentSubscriptionExistsError (checked by its `type` tag, so any copy of the
 * class counts), or a bare gRPC ALREADY_EXISTS (code 6) from a server that sends no tag. */
export const isGroupExistsError = (err: unknown): boolean => {
  const e = err as { type?: unknown; code?: unknown } | null;
  return e?.type === 'persistent-subscription-exists' || (e?.type === undefined && e?.code === 6);
};

/** Delay before resubscribing after the subscription failed `failures` times in a row. */
export const reconnectDelay = (failures: number, random: () => number): number => backoffDelay(failures, { baseMs: 500, maxMs: 30_000 }, random);
