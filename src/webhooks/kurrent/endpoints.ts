// A tenantOf for createPersistentWebhookDelivery, read from the webhook_endpoints table that the
// webhooks projection (projections/webhooks) builds in each node's webhooks.db: the URL, the
// current secret, and the previous one while a rotation's grace period runs (as the SQLite
// worker signs). Rows are read per event (one indexed lookup), so a change is seen at once.
import type { DatabaseSync } from 'node:sqlite';
import { ensureWebhookSchema } from '../outbox.ts';
import { DEFAULT_SECRET_GRACE_MS, type EndpointSecretsRow, signingSecretsEnc } from '../secrets.ts';
import type { WebhookEndpoint } from './decisions.ts';

export type EndpointRow = EndpointSecretsRow & { url: string };

/** Pure: the encrypted secrets to sign with at `now`: the current one, then the previous one
 * while now - rotated_at < graceMs (signingSecretsEnc, the SQLite worker's rule). */
export const endpointOf = (row: EndpointRow | undefined, now: number, graceMs: number): WebhookEndpoint | undefined => {
  if (!row) return undefined;
  return { url: row.url, secretsEnc: signingSecretsEnc(row, now, graceMs) };
};

export const createEndpointLookup = (o: { db: DatabaseSync; now: () => number; secretGraceMs?: number }): ((tenantId: string) => WebhookEndpoint | undefined) => {
  ensureWebhookSchema(o.db);
  const graceMs = o.secretGraceMs ?? DEFAULT_SECRET_GRACE_MS;
  const q = o.db.prepare('SELECT url, secret_enc, previous_secret_enc, rotated_at FROM webhook_endpoints WHERE tenant_id = ?');
  return (tenantId) => endpointOf(q.get(tenantId) as EndpointRow | undefined, o.now(), graceMs);
};
