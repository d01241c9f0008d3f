// How a tenant's webhook endpoint has been answering, from the delivery log: deliveries by
// status, attempts and failures in the last 24 hours, failures since the last success, the last
// success and failure, and the median duration of recent attempts. For the admin API's endpoint
// health (the console's Webhooks page).
import type { DatabaseSync } from 'node:sqlite';
import { prepared } from '../../projections/sql.ts';
import { deliveryCounts } from './deliveries.ts';

export type EndpointHealth = {
  url: string;
  hasSecret: boolean;
  pending: number;
  delivered: number;
  dead: number;
  attempts24h: number;
  failures24h: number;
  consecutiveFailures: number;
  lastSuccessAt: number | null;
  lastFailure: { at: number; statusCode: number | null; error: string | null } | null;
  medianDurationMs: number;
};

const OK = 'a.status_code BETWEEN 200 AND 299';
const OF_TENANT = 'FROM webhook_attempts a JOIN webhook_deliveries d ON d.delivery_id = a.delivery_id WHERE d.tenant_id = ?';

export const endpointHealth = (db: DatabaseSync, tenantId: string, now: number): EndpointHealth => {
  const endpoint = prepared(db, 'SELECT url, secret_enc FROM webhook_endpoints WHERE tenant_id = ?').get(tenantId) as { url: string; secret_enc: string | null } | undefined;
  const day = prepared(db, `SELECT COUNT(*) AS n, COALESCE(SUM(CASE WHEN ${OK} THEN 0 ELSE 1 END), 0) AS failed ${OF_TENANT} AND a.at >= ?`).get(tenantId, now - 86_400_000) as { n: number; failed: number };
  const lastSuccess = prepared(db, `SELECT MAX(a.at) AS at ${OF_TENANT} AND ${OK}`).get(tenantId) as { at: number | null };
  const lastFailure = prepared(db, `SELECT a.at, a.status_code, a.error ${OF_TENANT} AND NOT (${OK} AND a.status_code IS NOT NULL) ORDER BY a.at DESC LIMIT 1`).get(tenantId) as
    | { at: number; status_code: number | null; error: string | null }
    | undefined;
  const since = lastSuccess.at ?? -1;
  const consecutive = prepared(db, `SELECT COUNT(*) AS n ${OF_TENANT} AND a.at > ? AND NOT (${OK} AND a.status_code IS NOT NULL)`).get(tenantId, since) as { n: number };
  const durations = (prepared(db, `SELECT a.duration_ms AS ms ${OF_TENANT} ORDER BY a.at DESC LIMIT 100`).all(tenantId) as { ms: number }[]).map((r) => r.ms).sort((a, b) => a - b);
  return {
    url: endpoint?.url ?? '',
    hasSecret: !!endpoint?.secret_enc,
    ...deliveryCounts(db, tenantId),
    attempts24h: day.n,
    failures24h: day.failed,
    consecutiveFailures: consecutive.n,
    lastSuccessAt: lastSuccess.at,
    lastFailure: lastFailure ? { at: lastFailure.at, statusCode: lastFailure.status_code, error: lastFailure.error } : null,
    medianDurationMs: durations.length ? durations[Math.floor(durations.length / 2)]! : 0,
  };
};
