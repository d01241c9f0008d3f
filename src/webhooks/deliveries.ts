// The delivery log of the outbox (outbox.ts): listing (newest first, by status, paginated), one
// delivery with its attempts, and redeliver. Used by the admin API and the CLI.
import type { DatabaseSync } from 'node:sqlite';
import { clampLimit, decodePageToken, encodePageToken, prepared } from '../../projections/sql.ts';
import { DomainError } from '../domain/errors.ts';

export type DeliveryStatus = 'pending' | 'delivered' | 'dead';
export const DELIVERY_STATUSES: readonly DeliveryStatus[] = ['pending', 'delivered', 'dead'];

export type DeliveryView = {
  deliveryId: string;
  tenantId: string;
  eventId: string;
  position: number;
  event: string;
  channel: string;
  status: DeliveryStatus;
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  /** Epoch ms: when the event was recorded. */
  createdAt: number;
  /** Epoch ms; null once delivered or dead. */
  nextAttemptAt: number | null;
  deliveredAt: number | null;
};

export type AttemptView = { attempt: number; at: number; statusCode: number | null; error: string | null; durationMs: number };

const SELECT = `SELECT d.delivery_id, d.tenant_id, d.event_id, d.position, d.event, d.channel, d.created_at,
  COALESCE(s.status, 'pending') AS status, COALESCE(s.attempts, 0) AS attempts, s.last_status_code, s.last_error,
  COALESCE(s.next_attempt_at, d.created_at) AS next_attempt_at, s.delivered_at
  FROM webhook_deliveries d LEFT JOIN webhook_delivery_state s ON s.delivery_id = d.delivery_id`;

type Row = {
  delivery_id: string;
  tenant_id: string;
  event_id: string;
  position: number;
  event: string;
  channel: string;
  created_at: number;
  status: DeliveryStatus;
  attempts: number;
  last_status_code: number | null;
  last_error: string | null;
  next_attempt_at: number;
  delivered_at: number | null;
  body?: string;
};
type AttemptRow = { attempt: number; at: number; status_code: number | null; error: string | null; duration_ms: number };

const toView = (r: Row): DeliveryView => ({
  deliveryId: r.delivery_id,
  tenantId: r.tenant_id,
  eventId: r.event_id,
  position: r.position,
  event: r.event,
  channel: r.channel,
  status: r.status,
  attempts: r.attempts,
  lastStatusCode: r.last_status_code ?? null,
  lastError: r.last_error ?? null,
  createdAt: r.created_at,
  nextAttemptAt: r.status === 'pending' ? r.next_attempt_at : null,
  deliveredAt: r.delivered_at ?? null,
});

/** Newest first. status: '' or undefined for all. */
export const listDeliveries = (
  db: DatabaseSync,
  q: { tenantId: string; status?: string; limit?: number; pageToken?: string },
): { deliveries: DeliveryView[]; nextPageToken: string } => {
  const status = q.status || undefined;
  if (status && !DELIVERY_STATUSES.includes(status as DeliveryStatus)) {
    throw new DomainError('INVALID_ARGUMENT', `status: expected one of ${DELIVERY_STATUSES.join(', ')}, got ${JSON.stringify(status.slice(0, 20))}`);
  }
  const limit = clampLimit(q.limit);
  const before = decodePageToken(q.pageToken) ?? Number.MAX_SAFE_INTEGER;
  const rows = db
    .prepare(`${SELECT} WHERE d.tenant_id = ? AND d.position < ? ${status ? "AND COALESCE(s.status, 'pending') = ?" : ''} ORDER BY d.position DESC LIMIT ?`)
    .all(...([q.tenantId, before, ...(status ? [status] : []), limit + 1] as (string | number)[]));
  const page = (rows as Row[]).slice(0, limit).map(toView);
  return { deliveries: page, nextPageToken: rows.length > limit ? encodePageToken(page[page.length - 1].position) : '' };
};

export const getDelivery = (db: DatabaseSync, tenantId: string, deliveryId: string): (DeliveryView & { body: string; attemptLog: AttemptView[] }) | undefined => {
  const r = prepared(db, `${SELECT.replace('d.created_at,', 'd.created_at, d.body,')} WHERE d.tenant_id = ? AND d.delivery_id = ?`).get(tenantId, deliveryId) as Row | undefined;
  if (!r) return undefined;
  return { ...toView(r), body: r.body ?? '', attemptLog: listAttempts(db, deliveryId) };
};

export const listAttempts = (db: DatabaseSync, deliveryId: string): AttemptView[] =>
  db
    .prepare('SELECT attempt, at, status_code, error, duration_ms FROM webhook_attempts WHERE delivery_id = ? ORDER BY attempt')
    .all(deliveryId)
    .map((row) => row as AttemptRow)
    .map((r) => ({ attempt: r.attempt, at: r.at, statusCode: r.status_code ?? null, error: r.error ?? null, durationMs: r.duration_ms }));

/** Queues a delivery again, whatever its status, with a fresh retry budget. False when the tenant
 * has no such delivery. The worker sends it on its next pass (call worker.kick() to hurry it). */
export const redeliver = (db: DatabaseSync, q: { tenantId: string; deliveryId: string; now: number }): boolean => {
  const d = prepared(db, 'SELECT delivery_id FROM webhook_deliveries WHERE tenant_id = ? AND delivery_id = ?').get(q.tenantId, q.deliveryId);
  if (!d) return false;
  prepared(db, 
    `INSERT INTO webhook_delivery_state (delivery_id, tenant_id, status, next_attempt_at, updated_at) VALUES (?, ?, 'pending', ?, ?)
     ON CONFLICT (delivery_id) DO UPDATE SET status = 'pending', round_attempts = 0, next_attempt_at = excluded.next_attempt_at, updated_at = excluded.updated_at`,
  ).run(q.deliveryId, q.tenantId, q.now, q.now);
  return true;
};

/** Counts per status for one tenant (for the CLI summary and metrics). */
export const deliveryCounts = (db: DatabaseSync, tenantId?: string): Record<DeliveryStatus, number> => {
  const rows = db
    .prepare(`SELECT status, COUNT(*) AS n FROM webhook_delivery_state ${tenantId ? 'WHERE tenant_id = ?' : ''} GROUP BY status`)
    .all(...(tenantId ? [tenantId] : [])) as { status: DeliveryStatus; n: number }[];
  const out: Record<DeliveryStatus, number> = { pending: 0, delivered: 0, dead: 0 };
  for (const r of rows) out[r.status] = r.n;
  return out;
};
