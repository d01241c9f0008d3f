// The webhook projector: outcome events become deliveries to the tenant's webhook URL.
// Derived from the log (rebuilt by a replay): webhook_endpoints (URL and secrets per tenant, from
// the tenant events) and webhook_deliveries (one per event: delivery id from the event id, unique
// on the event's position, so applying an event twice changes nothing).
// Operational, NOT derived, and never cleared by a rebuild: webhook_delivery_state (pending /
// delivered / dead, attempts, next attempt) and webhook_attempts (one row per HTTP attempt). The
// projector only inserts a pending state row when none exists; the worker owns it afterwards.
import type { DatabaseSync } from 'node:sqlite';
import type { EventOfType } from '../../src/domain/events.ts';
import { isOfType, type Recorded } from '../../src/eventstore/recorded.ts';
import { toWebhookMessage, WEBHOOK_EVENT_TYPES, webhookBody } from '../../src/webhooks/events.ts';
import { prepared, projection } from '../runtime.ts';

/** Tables the worker writes: replay --verify does not compare them. */
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

type TenantEventType = 'TenantCreated' | 'TenantSettingsChanged' | 'WebhookSecretRotated';
const TENANT_EVENTS: readonly TenantEventType[] = ['TenantCreated', 'TenantSettingsChanged', 'WebhookSecretRotated'];

const onTenantEvent = (db: DatabaseSync, e: Recorded<EventOfType<TenantEventType>>) => {
  const tenantId = e.data.tenantId;
  if (!tenantId) return;
  prepared(db, 'INSERT OR IGNORE INTO webhook_endpoints (tenant_id) VALUES (?)').run(tenantId);
  switch (e.type) {
    case 'TenantCreated':
    case 'TenantSettingsChanged':
      if (typeof e.data.settings.webhookUrl === 'string') prepared(db, 'UPDATE webhook_endpoints SET url = ? WHERE tenant_id = ?').run(e.data.settings.webhookUrl, tenantId);
      break;
    case 'WebhookSecretRotated':
      prepared(db, 'UPDATE webhook_endpoints SET previous_secret_enc = secret_enc, secret_enc = ?, rotated_at = ? WHERE tenant_id = ?').run(e.data.secretEnc, e.data.at, tenantId);
      break;
  }
};

export const webhooksProjection = projection({
  name: 'webhooks',
  version: 1,
  canHandle: [...TENANT_EVENTS, ...WEBHOOK_EVENT_TYPES],
  init: ensureWebhookSchema,
  // Only the derived tables: delivery state survives a rebuild, so nothing is sent twice.
  reset: (db) => db.exec('DELETE FROM webhook_endpoints; DELETE FROM webhook_deliveries;'),
  evolve: (db, e) => {
    if (isOfType(TENANT_EVENTS, e)) return onTenantEvent(db, e);
    const m = toWebhookMessage(e);
    if (!m) return;
    const endpoint = prepared(db, 'SELECT url FROM webhook_endpoints WHERE tenant_id = ?').get(m.tenantId) as { url: string } | undefined;
    if (!endpoint?.url) return; // no webhook configured when it happened: nothing to deliver
    const id = deliveryIdOf(e.id);
    const at = e.recordedAt.getTime();
    prepared(db, 
      'INSERT OR IGNORE INTO webhook_deliveries (delivery_id, tenant_id, event_id, position, event, channel, body, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    ).run(id, m.tenantId, e.id, e.position, m.event, m.channel, webhookBody(m), at);
    prepared(db, 
      "INSERT OR IGNORE INTO webhook_delivery_state (delivery_id, tenant_id, status, next_attempt_at, updated_at) VALUES (?, ?, 'pending', ?, ?)",
    ).run(id, m.tenantId, at, at);
  },
});
