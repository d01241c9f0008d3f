// AdminService: one webhook delivery with its attempts, and the health of a tenant's endpoint,
// from the shared webhook-deliveries database.
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import type { ServiceImpl } from '@connectrpc/connect';
import type { DatabaseSync } from 'node:sqlite';
import type { ReadYourWrites } from '../../app/read-models.ts';
import { DomainError } from '../../domain/errors.ts';
import type { AdminService } from '../../gen/securekey/v1/admin_pb.js';
import { getTenant } from '../../../projections/tenants/index.ts';
import { type DeliveryView, getDelivery } from '../../webhooks/deliveries.ts';
import { endpointHealth } from '../../webhooks/health.ts';

export type AdminWebhooksDeps = {
  readDb: () => DatabaseSync;
  webhookDb: () => DatabaseSync;
  readModels: Pick<ReadYourWrites, 'current'>;
  now: () => number;
  /** The body as sent: the outbox keeps its personal values sealed (src/privacy, openJson). */
  openBody: (body: string, eventId: string) => string;
};

const ts = (ms: number | null) => (ms === null ? undefined : timestampFromMs(ms));

/** A delivery as the proto's WebhookDelivery. */
export const deliveryMessage = (d: DeliveryView) => ({
  deliveryId: d.deliveryId,
  event: d.event,
  channel: d.channel,
  status: d.status,
  attempts: d.attempts,
  lastStatusCode: d.lastStatusCode ?? 0,
  lastError: d.lastError ?? '',
  createdAt: timestampFromMs(d.createdAt),
  nextAttemptAt: ts(d.nextAttemptAt),
  deliveredAt: ts(d.deliveredAt),
});

export const createAdminWebhooksImpl = (deps: AdminWebhooksDeps): Pick<ServiceImpl<typeof AdminService>, 'getWebhookDelivery' | 'getWebhookEndpointHealth'> => {
  const mustExist = (tenantId: string) => {
    if (!tenantId) throw new DomainError('INVALID_ARGUMENT', 'tenantId is required');
    if (!getTenant(deps.readDb(), tenantId)) throw new DomainError('TENANT_NOT_FOUND', 'no such tenant');
  };
  return {
    getWebhookDelivery: async (req) => {
      mustExist(req.tenantId);
      if (!req.deliveryId) throw new DomainError('INVALID_ARGUMENT', 'deliveryId is required');
      await deps.readModels.current(['webhooks']);
      const d = getDelivery(deps.webhookDb(), req.tenantId, req.deliveryId);
      if (!d) throw new DomainError('NOT_FOUND', 'no such delivery for this tenant');
      return {
        delivery: deliveryMessage(d),
        payload: deps.openBody(d.body, d.eventId),
        attempts: d.attemptLog.map((a) => ({ attempt: a.attempt, at: timestampFromMs(a.at), statusCode: a.statusCode ?? 0, error: a.error ?? '', durationMs: a.durationMs })),
      };
    },
    getWebhookEndpointHealth: async (req) => {
      mustExist(req.tenantId);
      await deps.readModels.current(['webhooks']);
      const h = endpointHealth(deps.webhookDb(), req.tenantId, deps.now());
      return {
        url: h.url,
        hasSecret: h.hasSecret,
        pending: h.pending,
        delivered: h.delivered,
        dead: h.dead,
        attempts24h: h.attempts24h,
        failures24h: h.failures24h,
        consecutiveFailures: h.consecutiveFailures,
        lastSuccessAt: ts(h.lastSuccessAt),
        lastFailureAt: ts(h.lastFailure?.at ?? null),
        lastFailureStatusCode: h.lastFailure?.statusCode ?? 0,
        lastFailureError: h.lastFailure?.error ?? '',
        medianDurationMs: h.medianDurationMs,
      };
    },
  };
};
