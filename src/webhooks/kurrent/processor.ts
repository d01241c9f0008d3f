// Delivers the events a persistent subscription pushes, each exactly as the SQLite worker would
// (same body, headers and signatures), and answers the server with ack / nack per
// decisions.ts. Independent of the client: the subscription hands each event over with its
// retryCount and its own ack/nack, so this part runs (and is tested) without a server.
// Concurrency: everything the server pushes (at most the subscription's bufferSize) is handled
// at once, except that a tenant runs at most perTenantConcurrency deliveries (attempt and
// retry delay) at a time; its other events wait, so a slow receiver only holds its own slots.
// Every event held counts against the node's window (bufferSize) at the server, so a tenant whose
// endpoint is failing keeps at most maxHeldWhenFailing of them; the rest are parked at once
// (decideOnArrival says why they are not nacked for retry).
import { setTimeout as sleep } from 'node:timers/promises';
import type { Keyring } from '../../crypto/keyring.ts';
import { deliveryIdOf } from '../outbox.ts';
import type { StoredEvent } from '../../eventstore/port.ts';
import { toWebhookMessage } from '../events.ts';
import type { BackoffPolicy } from '../decisions.ts';
import type { WebhookLog } from '../worker.ts';
import type { EgressPolicy } from '../egress.ts';
import { describeAttempt, isSuccess, postWebhook } from '../post.ts';
import { decideAfterAttempt, decideBeforeAttempt, decideOnArrival, failingTenantParkReason, planDelivery, type WebhookEndpoint } from './decisions.ts';
import { createTenantSlots } from './tenant-slots.ts';

/** The server's side of one pushed event. */
export type Reply = {
  ack: () => Promise<void>;
  nack: (action: 'retry' | 'park', reason: string) => Promise<void>;
};

export type PushedEvent = {
  /** undefined for an entry the client could not turn into an event. */
  event: StoredEvent | undefined;
  /** How many times the server has re-sent it (0 the first time). */
  retryCount: number;
  reply: Reply;
  /** Aborted when the subscription that pushed it has ended: its ack/nack can no longer reach
   * the server, which re-sends the event to a consumer on its own. */
  signal?: AbortSignal;
};

/** One HTTP attempt (or a park without one), for a caller that wants to record it. */
export type DeliveryAttempt = {
  deliveryId: string;
  eventId: string;
  tenantId: string;
  /** 1-based: retryCount + 1. */
  attempt: number;
  /** Epoch ms. */
  at: number;
  durationMs: number;
  statusCode: number | null;
  error: string | null;
  outcome: 'delivered' | 'retrying' | 'parked';
};

export type DeliveryProcessorOptions = {
  keyring: Pick<Keyring, 'decrypt'>;
  /** The event with its personal values opened (personal-data.ts): the receiver gets them in clear. */
  open: (event: StoredEvent) => StoredEvent;
  /** The tenant's endpoint from this node's read models; undefined when unknown. */
  tenantOf: (tenantId: string) => WebhookEndpoint | undefined;
  /** Which targets may be reached (SSRF rules, ../egress.ts). */
  egress: EgressPolicy;
  /** Tests only: send through this fetch (targets are still checked). */
  fetch?: typeof globalThis.fetch;
  /** Epoch ms. */
  now: () => number;
  log: WebhookLog;
  /** Per request. */
  timeoutMs: number;
  maxRetries: number;
  backoff: BackoffPolicy;
  /** The group's message timeout (persistentSubscriptionSettings(...).messageTimeout). */
  messageTimeoutMs: number;
  /** Deliveries at once per tenant (attempt or retry delay). Default 4. */
  perTenantConcurrency?: number;
  /** Events a tenant whose last attempt failed may hold on this node; more are parked at once.
   * Default twice perTenantConcurrency (the persistent delivery passes failingTenantCap). */
  maxHeldWhenFailing?: number;
  /** Events older than this are acked without being sent. Default 3 days. */
  maxAgeMs?: number;
  /** Waits until this node's read models include `position` (so a URL or secret changed just
   * before the event is seen). A failure or timeout is logged and the current view is used. */
  settle?: (position: number) => Promise<void>;
  onAttempt?: (a: DeliveryAttempt) => void;
  /** [0, 1); jitter. Default Math.random. */
  random?: () => number;
};

export type DeliveryProcessor = {
  push: (p: PushedEvent) => void;
  /** Aborts requests and delays in flight without answering the server (it re-sends those
   * events once this consumer is gone) and waits for them. */
  stop: () => Promise<void>;
  /** Events held: delivering, waiting out a delay, or queued behind their tenant. */
  size: () => number;
};

const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err)).split('\n')[0].slice(0, 200);

export const createDeliveryProcessor = (o: DeliveryProcessorOptions): DeliveryProcessor => {
  const { now, log } = o;
  const random = o.random ?? Math.random;
  const maxAgeMs = o.maxAgeMs ?? 3 * 24 * 3600_000;
  const decrypt = (enc: string) => o.keyring.decrypt('webhook-secret', enc);
  const perTenant = o.perTenantConcurrency ?? 4;
  const cap = o.maxHeldWhenFailing ?? 2 * perTenant;
  const slots = createTenantSlots(perTenant, (err) => log.warn({ err: errorText(err) }, 'webhook delivery failed unexpectedly; the server will re-send the event'));
  const stopAc = new AbortController();
  const jobs = new Set<Promise<void>>();
  /** Tenants whose last attempt on this node failed (forgotten once they hold no events). */
  const failing = new Set<string>();

  const record = (a: DeliveryAttempt) => {
    try {
      o.onAttempt?.(a);
    } catch (err) {
      log.warn({ deliveryId: a.deliveryId, err: errorText(err) }, 'webhook attempt could not be recorded');
    }
  };

  const answer = async (what: string, ctx: object, reply: () => Promise<void>) => {
    try {
      await reply();
    } catch (err) {
      log.warn({ ...ctx, err: errorText(err) }, `webhook ${what} did not reach the event store; the server will re-send the event`);
    }
  };

  /** Parks an event of a failing tenant without attempting it (see decideOnArrival). */
  const parkForTenant = (p: PushedEvent & { event: StoredEvent }, tenantId: string, reason: string) => {
    const deliveryId = deliveryIdOf(p.event.id);
    const base = { eventId: p.event.id, tenantId, attempt: p.retryCount + 1, deliveryId };
    log.warn({ ...base, reason }, 'webhook delivery parked');
    record({ ...base, at: now(), durationMs: 0, statusCode: null, error: reason, outcome: 'parked' });
    return answer('nack', base, () => p.reply.nack('park', reason));
  };

  const deliver = async (p: PushedEvent & { event: StoredEvent }, tenantId: string, receivedAt: number) => {
    const signal = p.signal ? AbortSignal.any([stopAc.signal, p.signal]) : stopAc.signal;
    if (signal.aborted) return;
    const e = p.event;
    const base = { eventId: e.id, tenantId, attempt: p.retryCount + 1 };
    const before = decideBeforeAttempt({ heldMs: now() - receivedAt, timeoutMs: o.timeoutMs, messageTimeoutMs: o.messageTimeoutMs });
    if (before !== 'attempt') {
      log.warn({ ...base, reason: before.reason }, 'webhook delivery handed back to the event store');
      return answer('nack', base, () => p.reply.nack('retry', before.reason));
    }
    if (o.settle) {
      try {
        await o.settle(e.position);
      } catch (err) {
        log.warn({ ...base, err: errorText(err) }, 'webhook delivery: read models behind the event; using the current endpoint');
      }
      if (signal.aborted) return;
    }
    let endpoint: WebhookEndpoint | undefined;
    let lookupError: string | undefined;
    try {
      endpoint = o.tenantOf(tenantId);
    } catch (err) {
      lookupError = `endpoint lookup failed: ${errorText(err)}`;
    }
    const started = now();
    const plan = lookupError ? undefined : planDelivery({ event: o.open(e), endpoint, decrypt, now: started, maxAgeMs });
    // Not logged: most are tenants without a webhook URL (the SQLite projector skips those silently
    // too), and on a group's first start, the log's old history.
    if (plan?.kind === 'skip') return answer('ack', base, p.reply.ack);
    const deliveryId = plan?.kind === 'send' ? plan.deliveryId : deliveryIdOf(e.id);
    if (plan?.kind === 'park') {
      log.warn({ ...base, deliveryId, reason: plan.reason }, 'webhook delivery parked');
      record({ deliveryId, eventId: e.id, tenantId, attempt: base.attempt, at: started, durationMs: 0, statusCode: null, error: plan.reason, outcome: 'parked' });
      return answer('nack', base, () => p.reply.nack('park', plan.reason));
    }
    const result = plan ? await postWebhook({ url: plan.url, body: plan.body, headers: plan.headers, timeoutMs: o.timeoutMs, signal, egress: o.egress, fetch: o.fetch }) : { error: lookupError! };
    if (result === 'aborted') return;
    const durationMs = Math.max(0, now() - started);
    const next = decideAfterAttempt({ result, retryCount: p.retryCount, maxRetries: o.maxRetries, backoff: o.backoff, random, timeLeftMs: o.messageTimeoutMs - (now() - receivedAt) });
    const statusCode = 'status' in result ? result.status : null;
    const error = isSuccess(result) ? null : describeAttempt(result);
    const outcome = next === 'ack' ? 'delivered' : next.nack === 'retry' ? 'retrying' : 'parked';
    const ctx = { ...base, deliveryId, statusCode, durationMs };
    record({ deliveryId, eventId: e.id, tenantId, attempt: base.attempt, at: started, durationMs, statusCode, error, outcome });
    if (next === 'ack') failing.delete(tenantId);
    else {
      failing.add(tenantId);
      slots.shed(tenantId, cap); // its newest queued events are parked (see push)
    }
    if (next === 'ack') {
      log.info(ctx, 'webhook delivered');
      return answer('ack', ctx, p.reply.ack);
    }
    if (next.nack === 'park') {
      log.warn({ ...ctx, error, reason: next.reason }, 'webhook delivery failed; parked');
      return answer('nack', ctx, () => p.reply.nack('park', next.reason));
    }
    log.warn({ ...ctx, error, retryInMs: next.delayMs }, 'webhook delivery failed; will retry');
    try {
      await sleep(next.delayMs, undefined, { signal });
    } catch {
      return; // stopping, or the subscription ended: the server re-sends it
    }
    return answer('nack', ctx, () => p.reply.nack('retry', next.reason));
  };

  return {
    push: (p) => {
      const receivedAt = now();
      if (stopAc.signal.aborted) return;
      const { event } = p;
      if (!event) {
        void answer('nack', {}, () => p.reply.nack('park', 'an entry without an event'));
        return;
      }
      const m = toWebhookMessage(event);
      if (!m) {
        void answer('ack', { eventId: event.id }, p.reply.ack); // not an outcome event (or no tenant): nothing to send
        return;
      }
      const { tenantId } = m;
      const pushed = { ...p, event };
      const arrival = decideOnArrival({ held: slots.running(tenantId) + slots.waiting(tenantId), cap, failing: failing.has(tenantId) });
      if (arrival !== 'take') {
        void parkForTenant(pushed, tenantId, arrival.park);
        return;
      }
      const job = slots.run(tenantId, () => deliver(pushed, tenantId, receivedAt), () => void parkForTenant(pushed, tenantId, failingTenantParkReason(cap)));
      jobs.add(job);
      void job.finally(() => {
        jobs.delete(job);
        if (slots.running(tenantId) + slots.waiting(tenantId) === 0) failing.delete(tenantId);
      });
    },
    stop: async () => {
      stopAc.abort();
      while (jobs.size > 0) await Promise.allSettled([...jobs]);
    },
    size: () => slots.size(),
  };
};
