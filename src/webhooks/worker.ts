// The delivery worker: sends due deliveries (webhook_delivery_state, see projections/webhooks),
// at least once. Each pick takes a lease (next_attempt_at pushed past the request's timeout), so a
// crash mid-request means a retry after the lease, never a loss; several workers may share a db.
// A failure retries with exponential backoff and jitter until the retry budget is spent (dead).
// Concurrency is capped per tenant, and every tenant with due work is served on each pass, so a
// slow or dead receiver only ever holds its own tenant's slots.
import type { DatabaseSync } from 'node:sqlite';
import type { Keyring } from '../crypto/keyring.ts';
import { immediate } from '../../projections/sql.ts';
import { afterAttempt, type AttemptOutcome, type BackoffPolicy, planAttempt } from './decisions.ts';
import { endpointOf, ensureWebhookSchema } from './outbox.ts';
import type { EgressPolicy } from './egress.ts';
import { postWebhook } from './post.ts';
import { DEFAULT_SECRET_GRACE_MS } from './secrets.ts';

/** pino-compatible. */
export type WebhookLog = {
  info: (obj: object, msg: string) => void;
  warn: (obj: object, msg: string) => void;
};

export type WebhookWorkerOptions = {
  db: DatabaseSync;
  keyring: Keyring;
  /** The body as sent: the personal values the projection stored sealed, opened (personal-data.ts openJson). */
  openBody: (body: string, eventId: string) => string;
  /** Epoch ms. */
  now: () => number;
  /** Which targets may be reached (SSRF rules, egress.ts). */
  egress: EgressPolicy;
  log: WebhookLog;
  /** Per request. */
  timeoutMs: number;
  /** Attempts before a delivery is dead (per (re)delivery round). */
  maxAttempts: number;
  backoff: BackoffPolicy;
  /** In-flight requests per tenant. Default 4. */
  perTenantConcurrency?: number;
  /** In-flight requests overall. Default 64. */
  concurrency?: number;
  /** Longest sleep between passes (new deliveries are found this fast without kick()). Default 500. */
  pollMs?: number;
  /** A delivery still unsent this long after its event is dropped (dead) instead of sent, so a
   * rebuilt database does not replay old history to receivers. Default 3 days. */
  maxAgeMs?: number;
  /** After a rotation, deliveries are also signed with the previous secret for this long. Default 24 h. */
  secretGraceMs?: number;
  /** [0, 1); jitter. Default Math.random. */
  random?: () => number;
};

export type WebhookWorker = {
  start: () => void;
  /** Aborts requests in flight (they are retried on the next start, not counted) and waits for them. */
  stop: () => Promise<void>;
  /** Run a pass now (after a redeliver, or when the projector produced deliveries). */
  kick: () => void;
};

type Due = { delivery_id: string; tenant_id: string; event_id: string; body: string; created_at: number; attempts: number; round_attempts: number };

export const createWebhookWorker = (o: WebhookWorkerOptions): WebhookWorker => {
  const { db, keyring, now, log } = o;
  const perTenant = o.perTenantConcurrency ?? 4;
  const maxInFlight = o.concurrency ?? 64;
  const pollMs = o.pollMs ?? 500;
  const maxAgeMs = o.maxAgeMs ?? 3 * 24 * 3600_000;
  const graceMs = o.secretGraceMs ?? DEFAULT_SECRET_GRACE_MS;
  const random = o.random ?? Math.random;
  const leaseMs = o.timeoutMs + 5_000;
  ensureWebhookSchema(db);

  const q = {
    dueTenants: db.prepare(
      "SELECT tenant_id FROM webhook_delivery_state WHERE status = 'pending' AND next_attempt_at <= ? GROUP BY tenant_id ORDER BY MIN(next_attempt_at)",
    ),
    dueOfTenant: db.prepare(
      `SELECT s.delivery_id, s.tenant_id, d.event_id, d.body, d.created_at, s.attempts, s.round_attempts
       FROM webhook_delivery_state s JOIN webhook_deliveries d ON d.delivery_id = s.delivery_id
       WHERE s.status = 'pending' AND s.tenant_id = ? AND s.next_attempt_at <= ? ORDER BY s.next_attempt_at, d.position LIMIT ?`,
    ),
    lease: db.prepare("UPDATE webhook_delivery_state SET next_attempt_at = ?, updated_at = ? WHERE delivery_id = ? AND status = 'pending' AND next_attempt_at <= ?"),
    nextDue: db.prepare("SELECT MIN(next_attempt_at) AS t FROM webhook_delivery_state WHERE status = 'pending'"),
    attempt: db.prepare('INSERT OR REPLACE INTO webhook_attempts (delivery_id, attempt, at, status_code, error, duration_ms) VALUES (?, ?, ?, ?, ?, ?)'),
    delivered: db.prepare(
      "UPDATE webhook_delivery_state SET status = 'delivered', attempts = ?, round_attempts = ?, last_status_code = ?, last_error = NULL, delivered_at = ?, updated_at = ? WHERE delivery_id = ?",
    ),
    failed: db.prepare(
      'UPDATE webhook_delivery_state SET status = ?, attempts = ?, round_attempts = ?, last_status_code = ?, last_error = ?, next_attempt_at = ?, updated_at = ? WHERE delivery_id = ?',
    ),
    release: db.prepare("UPDATE webhook_delivery_state SET next_attempt_at = ?, updated_at = ? WHERE delivery_id = ? AND status = 'pending'"),
  };

  const inFlight = new Map<string, Promise<void>>();
  const perTenantInFlight = new Map<string, number>();
  let stopAc: AbortController | undefined;
  let timer: NodeJS.Timeout | undefined;
  let running = false;
  let passQueued = false;

  const record = (d: Due, started: number, out: AttemptOutcome) => {
    const t = now();
    const attempts = d.attempts + 1;
    const round = d.round_attempts + 1;
    immediate(db, () => {
      q.attempt.run(d.delivery_id, attempts, started, out.statusCode, out.status === 'delivered' ? null : out.error, Math.max(0, t - started));
      if (out.status === 'delivered') q.delivered.run(attempts, round, out.statusCode, t, t, d.delivery_id);
      else q.failed.run(out.status, attempts, round, out.statusCode, out.error, out.status === 'dead' ? t : out.nextAttemptAt, t, d.delivery_id);
    });
    const ctx = { deliveryId: d.delivery_id, tenantId: d.tenant_id, attempt: attempts, statusCode: out.statusCode };
    if (out.status === 'delivered') log.info(ctx, 'webhook delivered');
    else log.warn({ ...ctx, error: out.error, dead: out.status === 'dead' }, 'webhook delivery failed');
  };

  // One attempt: the plan, the POST, the outcome recorded. Never throws but for the database.
  const attempt = async (d: Due, signal: AbortSignal) => {
    const started = now();
    // The body as sent: the personal values the outbox keeps sealed, opened.
    const body = o.openBody(d.body, d.event_id);
    const delivery = { deliveryId: d.delivery_id, eventId: d.event_id, body, createdAt: d.created_at, attempts: d.attempts, roundAttempts: d.round_attempts };
    const plan = planAttempt({ delivery, endpoint: endpointOf(db, d.tenant_id), decrypt: (enc) => keyring.decrypt('webhook-secret', enc), now: started, maxAgeMs, secretGraceMs: graceMs });
    if (plan.kind === 'dead') return record(d, started, { status: 'dead', statusCode: null, error: plan.reason });
    const result = await postWebhook({ url: plan.url, body, headers: plan.headers, timeoutMs: o.timeoutMs, signal, egress: o.egress });
    if (result === 'aborted') {
      q.release.run(now(), now(), d.delivery_id); // shutting down: due again at the next start
      return;
    }
    if ('refused' in result) log.warn({ deliveryId: d.delivery_id, tenantId: d.tenant_id, reason: result.error }, 'webhook target refused');
    record(d, started, afterAttempt({ result, roundAttempts: d.round_attempts + 1, maxAttempts: o.maxAttempts, backoff: o.backoff, random, now: now() }));
  };

  const launch = (d: Due, signal: AbortSignal) => {
    perTenantInFlight.set(d.tenant_id, (perTenantInFlight.get(d.tenant_id) ?? 0) + 1);
    const p = attempt(d, signal)
      .catch((err) => log.warn({ deliveryId: d.delivery_id, err }, 'webhook worker could not record an attempt'))
      .finally(() => {
        inFlight.delete(d.delivery_id);
        const n = (perTenantInFlight.get(d.tenant_id) ?? 1) - 1;
        if (n > 0) perTenantInFlight.set(d.tenant_id, n);
        else perTenantInFlight.delete(d.tenant_id);
        schedule(0);
      });
    inFlight.set(d.delivery_id, p);
  };

  // One pass: every tenant with due work gets up to its free slots, oldest work first.
  const pass = () => {
    passQueued = false;
    if (!running || !stopAc) return;
    const signal = stopAc.signal;
    try {
      const t = now();
      for (const { tenant_id } of q.dueTenants.all(t) as { tenant_id: string }[]) {
        const free = Math.min(perTenant - (perTenantInFlight.get(tenant_id) ?? 0), maxInFlight - inFlight.size);
        if (maxInFlight - inFlight.size <= 0) break;
        if (free <= 0) continue;
        for (const d of q.dueOfTenant.all(tenant_id, t, free) as Due[]) {
          if (inFlight.has(d.delivery_id)) continue;
          if (q.lease.run(t + leaseMs, t, d.delivery_id, t).changes !== 1) continue; // another worker took it
          launch(d, signal);
        }
      }
      const next = (q.nextDue.get() as { t: number | null }).t;
      schedule(next === null ? pollMs : Math.min(pollMs, Math.max(0, next - now())));
    } catch (err) {
      log.warn({ err }, 'webhook worker pass failed; retrying');
      schedule(pollMs);
    }
  };

  const schedule = (ms: number) => {
    if (!running) return;
    if (ms <= 0) {
      if (passQueued) return;
      passQueued = true;
      clearTimeout(timer);
      setImmediate(pass);
      return;
    }
    if (passQueued) return;
    clearTimeout(timer);
    timer = setTimeout(pass, ms);
  };

  return {
    start: () => {
      if (running) return;
      running = true;
      stopAc = new AbortController();
      schedule(0);
    },
    stop: async () => {
      if (!running) return;
      running = false;
      clearTimeout(timer);
      stopAc?.abort();
      await Promise.allSettled([...inFlight.values()]);
    },
    kick: () => schedule(0),
  };
};
