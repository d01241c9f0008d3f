// `npm run admin -- webhooks list|show|redeliver`: the delivery log in the shared webhooks.db
// (projections/webhooks/queries.ts). A running server's worker polls it, so a redelivery is sent
// within a second.
import { webhooksProjection } from '../../projections/webhooks/index.ts';
import { deliveryCounts, getDelivery, listDeliveries, redeliver, type DeliveryView } from '../webhooks/deliveries.ts';
import { DomainError } from '../domain/errors.ts';
import { tenantDecider, tenantStream } from '../domain/tenant/index.ts';
import { loadState } from '../eventstore/handle-command.ts';
import { openCaughtUp, type CliContext } from './replay.ts';
import { webhooksDbPath } from '../config.ts';

export const WEBHOOKS_HELP = `  webhooks list --tenant T [--status pending|delivered|dead] [--limit N] [--page-token TOKEN] [--json]
                                                           the tenant's webhook deliveries, newest first
  webhooks show --tenant T --delivery ID [--json]          one delivery: its body, status and attempt log
  webhooks redeliver --tenant T --delivery ID [--json]     queue a delivery again (a running server sends it within a second)`;

export const WEBHOOKS_OPTIONS = {
  status: { type: 'string' },
  delivery: { type: 'string' },
  limit: { type: 'string' },
  'page-token': { type: 'string' },
} as const;

export type WebhooksArgs = { tenant?: string; status?: string; delivery?: string; limit?: string; 'page-token'?: string };

const iso = (ms: number | null) => (ms === null ? '-' : new Date(ms).toISOString());

const limitOf = (v: string | undefined) => {
  if (v === undefined) return undefined;
  if (!/^\d{1,4}$/.test(v.trim()) || Number(v) === 0) throw new DomainError('INVALID_ARGUMENT', `--limit: expected a whole number from 1 to 500, got ${JSON.stringify(v.slice(0, 20))}`);
  return Number(v);
};

const lastResult = (d: DeliveryView) => (d.lastStatusCode !== null ? `HTTP ${d.lastStatusCode}` : d.lastError ? d.lastError : '');

const line = (d: DeliveryView) =>
  [d.deliveryId, d.status.padEnd(9), d.event, d.channel, `attempts ${d.attempts}`, iso(d.createdAt), lastResult(d) && `(last: ${lastResult(d)})`, d.nextAttemptAt !== null ? `next ${iso(d.nextAttemptAt)}` : '']
    .filter(Boolean)
    .join('  ');

export const runWebhooksCommand = async (verb: string | undefined, args: WebhooksArgs, ctx: CliContext): Promise<number> => {
  if (verb !== 'list' && verb !== 'show' && verb !== 'redeliver') {
    throw new DomainError('INVALID_ARGUMENT', `unknown webhooks command ${JSON.stringify(verb ?? '')}: expected list, show or redeliver (see --help)`);
  }
  const tenantId = ctx.need(args.tenant, 'tenant');
  const deliveryId = verb === 'list' ? '' : ctx.need(args.delivery, 'delivery');
  const { state } = await loadState(ctx.store, tenantStream(tenantId), tenantDecider);
  if (state.status !== 'active') throw new DomainError('TENANT_NOT_FOUND', `no such tenant: ${tenantId}`);
  const db = await openCaughtUp(webhooksDbPath(ctx.config), ctx.store, [webhooksProjection]);
  try {
    switch (verb) {
      case 'list': {
        const page = listDeliveries(db, { tenantId, status: args.status, limit: limitOf(args.limit), pageToken: args['page-token'] });
        const counts = deliveryCounts(db, tenantId);
        const summary = `${counts.pending} pending, ${counts.delivered} delivered, ${counts.dead} dead`;
        ctx.out(
          [
            page.deliveries.length ? page.deliveries.map(line).join('\n') : `no${args.status ? ` ${args.status}` : ''} webhook deliveries for ${tenantId}`,
            `(${summary})`,
            ...(page.nextPageToken ? [`more: --page-token ${page.nextPageToken}`] : []),
          ].join('\n'),
          { deliveries: page.deliveries, nextPageToken: page.nextPageToken, counts },
        );
        return 0;
      }
      case 'show': {
        const stored = getDelivery(db, tenantId, deliveryId);
        if (!stored) throw new DomainError('NOT_FOUND', `no webhook delivery ${deliveryId} for tenant ${tenantId}`);
        // The body as sent: the personal values the delivery log keeps sealed, opened.
        const d = { ...stored, body: ctx.privacy.personal.openJson(stored.body, stored.eventId) };
        ctx.out(
          [
            `delivery ${d.deliveryId}: ${d.event} (${d.channel}), event ${d.eventId} at position ${d.position}, recorded ${iso(d.createdAt)}`,
            `status: ${d.status} after ${d.attempts} attempt(s)${d.deliveredAt !== null ? `, delivered ${iso(d.deliveredAt)}` : ''}${d.nextAttemptAt !== null ? `, next attempt ${iso(d.nextAttemptAt)}` : ''}`,
            `body: ${d.body}`,
            d.attemptLog.length ? 'attempts:' : 'attempts: none yet',
            ...d.attemptLog.map((a) => `  #${a.attempt}  ${iso(a.at)}  ${a.statusCode !== null ? `HTTP ${a.statusCode}` : `error: ${a.error ?? 'unknown'}`}  ${a.durationMs} ms`),
          ].join('\n'),
          { delivery: d },
        );
        return 0;
      }
      case 'redeliver': {
        if (!redeliver(db, { tenantId, deliveryId, now: Date.now() })) throw new DomainError('NOT_FOUND', `no webhook delivery ${deliveryId} for tenant ${tenantId}`);
        ctx.out(`delivery ${deliveryId} queued again; a running server sends it within a second`, { redelivered: true, deliveryId });
        return 0;
      }
    }
  } finally {
    db.close();
  }
};
