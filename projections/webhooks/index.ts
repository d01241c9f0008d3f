// The webhooks projection: the thin client of the outbox (src/webhooks/outbox.ts) that fills it
// from the log. Tenant events set each tenant's endpoint; an outcome event (the table of
// src/webhooks/events.ts) becomes a delivery to the URL the tenant had then.
import type { EventOfType } from '../../src/domain/events.ts';
import type { DatabaseSync } from 'node:sqlite';
import { isOfType, type Recorded, tenantOf } from '../../src/eventstore/recorded.ts';
import { toWebhookMessage, WEBHOOK_EVENT_TYPES } from '../../src/webhooks/events.ts';
import { endpointOf, enqueueDelivery, ensureWebhookSchema, resetDerivedTables, revokePreviousEndpointSecret, rotateEndpointSecret, setEndpointUrl } from '../../src/webhooks/outbox.ts';
import { projection } from '../runtime.ts';

type TenantEventType = EventOfType<'TenantCreated' | 'TenantSettingsChanged' | 'WebhookSecretRotated' | 'PreviousWebhookSecretRevoked'>['type'];
const TENANT_EVENTS: readonly TenantEventType[] = ['TenantCreated', 'TenantSettingsChanged', 'WebhookSecretRotated', 'PreviousWebhookSecretRevoked'];

export const webhooksProjection = projection({
  name: 'webhooks',
  version: 1,
  canHandle: [...TENANT_EVENTS, ...WEBHOOK_EVENT_TYPES],
  init: ensureWebhookSchema,
  // No index dropped in a bulk catch-up (bulk.ts): the outbox is one file for every node of the
  // data directory, and the others query it meanwhile. Its deliveries are only those of tenants
  // with a URL, each appended to its tenant's end of the index.
  reset: resetDerivedTables,
  evolve: (db, e) => apply(db, e),
  // Outcome events of tenants without a webhook URL (most of a log) are passed over after one
  // look at their endpoint per batch, kept until one of that tenant's own events.
  evolveBatch: (db, events) => {
    const hasUrl = new Map<string, boolean>();
    for (const e of events) {
      if (isOfType(TENANT_EVENTS, e)) {
        hasUrl.delete(e.data.tenantId);
        apply(db, e);
        continue;
      }
      const tenantId = tenantOf(e);
      if (!tenantId) continue;
      let has = hasUrl.get(tenantId);
      if (has === undefined) hasUrl.set(tenantId, (has = Boolean(endpointOf(db, tenantId)?.url)));
      if (has) apply(db, e);
    }
  },
});

const apply = (db: DatabaseSync, e: Recorded<EventOfType<TenantEventType | (typeof WEBHOOK_EVENT_TYPES)[number]>>) => {
  if (!isOfType(TENANT_EVENTS, e)) {
    const m = toWebhookMessage(e);
    if (m) enqueueDelivery(db, e, m);
    return;
  }
  if (!e.data.tenantId) return;
  if (e.type === 'WebhookSecretRotated') rotateEndpointSecret(db, e.data.tenantId, e.data.secretEnc, e.data.at);
  else if (e.type === 'PreviousWebhookSecretRevoked') revokePreviousEndpointSecret(db, e.data.tenantId);
  else setEndpointUrl(db, e.data.tenantId, e.data.settings.webhookUrl);
};
