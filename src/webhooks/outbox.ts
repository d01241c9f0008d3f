// The webhook outbox, in the webhooks database every node of a data directory shares. Its tables:
// - derived from the log (rebuilt by a replay), written by the webhooks projection through the
//   functions below: webhook_endpoints (URL and secrets per tenant) and webhook_deliveries (one
//   per outcome event: id from the event id, unique on its position, so a replay adds nothing);
// - operational, never cleared by a rebuild: webhook_delivery_state (pending / delivered / dead,
//   attempts, next attempt) and webhook_attempts (one row per HTTP attempt). A delivery gets a
//   pending state row once; the delivery worker (worker.ts) owns it afterwards.
import type { DatabaseSync } from 'node:sqlite';
import { prepared } from '../../projections/sql.ts';
import type { EndpointSecretsRow } from './secrets.ts';
import { webhookBody, type WebhookMessage } from './events.ts';

/** Tables the worker writes: a rebuild keeps them and replay --verify does not compare them. */
export const WEBHOOK_OPERATIONAL_TABLES = ['webhook_delivery_state', 'webhook_attempts'];

export const deliveryIdOf = (eventId: string) => `whd_${eventId}`;

export const ensureWebhookSchema = (db: DatabaseSync) =>
  db.exec(`
    CREATE TABLE IF NOT EXISTS webhook_endpoints (
      tenant_id TEXT PRIMARY KEY, url TEXT NOT NULL DEFAULT '', secret_enc TEXT, previous_secret_enc TEXT, rotated_at INTEGER);
    CREATE TABLE IF NOT EXISTS webhook_deliveries (
      delivery_id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, event_id TEXT NOT NULL, position INTEGER NOT NULL UNIQUE,
      event TEXT NOT NULL, channel TEXT NOT NULL, body TEXT NOT NULL, created_at INTEGER NOT NULL);
    CREATE INDEX IF NOT EXISTS webhook_deliveries_tenant ON webhook_deliveries(tenant_id, position);
    CREATE TABLE IF NOT EXISTS webhook_delivery_state (
      delivery_id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, status TEXT NOT NULL,
      attempts INTEGER NOT NULL DEFAULT 0, round_attempts INTEGER NOT NULL DEFAULT 0,
      last_status_code INTEGER, last_error TEXT, next_attempt_at INTEGER NOT NULL,
      delivered_at INTEGER, updated_at INTEGER NOT NULL);
    CREATE INDEX IF NOT EXISTS webhook_state_due ON webhook_delivery_state(status, next_attempt_at);
    CREATE INDEX IF NOT EXISTS webhook_state_tenant_due ON webhook_delivery_state(status, tenant_id, next_attempt_at);
    CREATE TABLE IF NOT EXISTS webhook_attempts (
      delivery_id TEXT NOT NULL, attempt INTEGER NOT NULL, at INTEGER NOT NULL, status_code INTEGER,
      error TEXT, duration_ms INTEGER NOT NULL, PRIMARY KEY (delivery_id, attempt));`);

/** Clears the derived tables for a rebuild; delivery state stays, so nothing is sent twice. */
export const resetDerivedTables = (db: DatabaseSync) => db.exec('DELETE FROM webhook_endpoints; DELETE FROM webhook_deliveries;');

const ensureEndpoint = (db: DatabaseSync, tenantId: string) => prepared(db, 'INSERT OR IGNORE INTO webhook_endpoints (tenant_id) VALUES (?)').run(tenantId);

/** The tenant's endpoint, with its webhook URL when one is given ("" removes it). */
export const setEndpointUrl = (db: DatabaseSync, tenantId: string, url: string | undefined) => {
  ensureEndpoint(db, tenantId);
  if (url !== undefined) prepared(db, 'UPDATE webhook_endpoints SET url = ? WHERE tenant_id = ?').run(url, tenantId);
};

/** A new signing secret; the previous one stays for the rotation's grace period. */
export const rotateEndpointSecret = (db: DatabaseSync, tenantId: string, secretEnc: string, at: number) => {
  ensureEndpoint(db, tenantId);
  prepared(db, 'UPDATE webhook_endpoints SET previous_secret_enc = secret_enc, secret_enc = ?, rotated_at = ? WHERE tenant_id = ?').run(secretEnc, at, tenantId);
};

/** The previous secret stops signing now (PreviousWebhookSecretRevoked). */
export const revokePreviousEndpointSecret = (db: DatabaseSync, tenantId: string) => {
  ensureEndpoint(db, tenantId);
  prepared(db, 'UPDATE webhook_endpoints SET previous_secret_enc = NULL WHERE tenant_id = ?').run(tenantId);
};

export type EndpointRow = EndpointSecretsRow & { url: string };

export const endpointOf = (db: DatabaseSync, tenantId: string): EndpointRow | undefined =>
  prepared(db, 'SELECT url, secret_enc, previous_secret_enc, rotated_at FROM webhook_endpoints WHERE tenant_id = ?').get(tenantId) as EndpointRow | undefined;

/** Queues the delivery of an outcome event to its tenant's URL, when the tenant had one then. */
export const enqueueDelivery = (db: DatabaseSync, e: { id: string; position: number; recordedAt: Date }, m: WebhookMessage) => {
  if (!endpointOf(db, m.tenantId)?.url) return; // no webhook configured when it happened: nothing to deliver
  const id = deliveryIdOf(e.id);
  const at = e.recordedAt.getTime();
  prepared(db, 'INSERT OR IGNORE INTO webhook_deliveries (delivery_id, tenant_id, event_id, position, event, channel, body, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)').run(
    id,
    m.tenantId,
    e.id,
    e.position,
    m.event,
    m.channel ?? '',
    webhookBody(m),
    at,
  );
  prepared(db, "INSERT OR IGNORE INTO webhook_delivery_state (delivery_id, tenant_id, status, next_attempt_at, updated_at) VALUES (?, ?, 'pending', ?, ?)").run(id, m.tenantId, at, at);
};
