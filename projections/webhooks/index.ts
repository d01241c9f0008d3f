// The webhooks projection: the thin client of the outbox (src/webhooks/outbox.ts) that fills it
// from the log. Tenant events set each tenant's endpoint; an outcome event (the table of
// src/webhooks/events.ts) becomes a delivery to the URL the tenant had then.
import type { EventOfType } from '../../src/domain/events.ts';
import { isOfType } from '../../src/eventstore/recorded.ts';
import { toWebhookMessage, WEBHOOK_EVENT_TYPES } from '../../src/webhooks/events.ts';
import { enqueueDelivery, ensureWebhookSchema, resetDerivedTables, revokePreviousEndpointSecret, rotateEndpointSecret, setEndpointUrl } from '../../src/webhooks/outbox.ts';
import { projection } from '../runtime.ts';

type TenantEventType = EventOfType<'TenantCreated' | 'TenantSettingsChanged' | 'WebhookSecretRotated' | 'PreviousWebhookSecretRevoked'>['type'];
const TENANT_EVENTS: readonly TenantEventType[] = ['TenantCreated', 'TenantSettingsChanged', 'WebhookSecretRotated', 'PreviousWebhookSecretRevoked'];

export const webhooksProjection = projection({
  name: 'webhooks',
  version: 1,
  canHandle: [...TENANT_EVENTS, ...WEBHOOK_EVENT_TYPES],
  init: ensureWebhookSchema,
  queryIndexes: ['webhook_deliveries_tenant'],
  reset: resetDerivedTables,
  evolve: (db, e) => {
    if (!isOfType(TENANT_EVENTS, e)) {
      const m = toWebhookMessage(e);
      if (m) enqueueDelivery(db, e, m);
      return;
    }
    if (!e.data.tenantId) return;
    if (e.type === 'WebhookSecretRotated') rotateEndpointSecret(db, e.data.tenantId, e.data.secretEnc, e.data.at);
    else if (e.type === 'PreviousWebhookSecretRevoked') revokePreviousEndpointSecret(db, e.data.tenantId);
    else setEndpointUrl(db, e.data.tenantId, e.data.settings.webhookUrl);
  },
});
