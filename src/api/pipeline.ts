// What every call goes through, whatever its transport: per-IP limits, authentication,
// the call itself, metrics, and its outcome for the request's one log line (written by the app).
// Errors leave as DomainError; each transport renders them (Connect: ConnectError with an
// ErrorDetail; REST: the envelope).
import { type ContextValues, type Interceptor } from '@connectrpc/connect';
import type { DescMethod } from '@bufbuild/protobuf';
import type { DatabaseSync } from 'node:sqlite';
import type { Logger } from 'pino';
import { safeEqual } from '../crypto/keyring.ts';
import { DomainError } from '../domain/errors.ts';
import { findCaller } from '../../projections/tenants/index.ts';
import { hashApiKey } from '../app/tenants.ts';
import { callerKey, markReached, requestInfoKey, type Caller, type RequestInfo } from './context.ts';
import { toConnectError, toDomainError } from './errors.ts';
import type { Metrics } from './metrics.ts';
import type { RateLimiter } from './rate-limit.ts';
import type { Route } from './routes.ts';

/** How a call ended: the app logs it on the request's one line. */
export type CallOutcome = { method: string; transport: string; code: string; tenantId?: string };

export type PipelineDeps = {
  readDb: () => DatabaseSync;
  adminToken: string;
  limiter: RateLimiter;
  metrics: Metrics;
  logger: Logger;
  onCall: (info: RequestInfo, outcome: CallOutcome) => void;
};

const bearer = (h: Headers) => {
  const auth = h.get('authorization');
  const m = auth ? /^Bearer\s+(\S+)$/i.exec(auth) : null;
  return m?.[1];
};

export const authenticateTenant = (readDb: DatabaseSync, headers: Headers, info: { requestId: string; clientIp: string }): Caller => {
  const key = headers.get('x-api-key') ?? bearer(headers);
  if (!key) throw new DomainError('UNAUTHORIZED', 'missing API key: send "X-API-Key: 2fa_..." or "Authorization: Bearer 2fa_..."');
  const found = findCaller(readDb, hashApiKey(key));
  if (!found || found.key.revoked) throw new DomainError('UNAUTHORIZED', 'unknown or revoked API key');
  return { tenantId: found.key.tenantId, keyId: found.key.keyId, tenant: found.tenant, ...info };
};

const authenticateAdmin = (adminToken: string, headers: Headers) => {
  if (!adminToken) throw new DomainError('UNAUTHORIZED', 'the admin API is disabled: set SECUREKEY_ADMIN_TOKEN (or use `npm run admin`)');
  const token = headers.get('x-admin-token') ?? bearer(headers);
  if (!token || !safeEqual(token, adminToken)) throw new DomainError('UNAUTHORIZED', 'missing or wrong admin token');
};

const setLimitHeaders = (h: Headers, d: { limit: number; remaining: number; resetSeconds: number }) => {
  h.set('ratelimit-limit', String(d.limit));
  h.set('ratelimit-remaining', String(d.remaining));
  h.set('ratelimit-reset', String(d.resetSeconds));
};

/** Applies the per-IP limits of a route; throws RATE_LIMITED (and sets Retry-After) when over. */
export const applyLimits = (limiter: RateLimiter, route: Route, clientIp: string, responseHeader: Headers) => {
  const buckets = ['global', ...(route.option.limit ? [route.option.limit] : [])];
  let tightest: ReturnType<RateLimiter['hit']> | undefined;
  for (const b of buckets) {
    const d = limiter.hit(b, clientIp);
    if (!tightest || !d.allowed || (tightest.allowed && d.remaining < tightest.remaining)) tightest = d;
    if (!d.allowed) break;
  }
  if (!tightest) return;
  setLimitHeaders(responseHeader, tightest);
  if (!tightest.allowed) {
    responseHeader.set('retry-after', String(tightest.resetSeconds));
    throw new DomainError('RATE_LIMITED', `too many requests from this client; retry in ${tightest.resetSeconds} s`, { retryAfterSeconds: tightest.resetSeconds });
  }
};

/** One call as the pipeline sees it, whichever transport carried it. */
export type Call = {
  route: Route;
  /** "rest", "connect", "grpc" or "grpc_web". */
  transport: string;
  requestHeader: Headers;
  /** Rate-limit headers go here. */
  responseHeader: Headers;
  /** The caller is set here for the handler. */
  values: ContextValues;
};

/** Runs `next` (the typed handler) as one call: limits, authentication, then the metrics and the
 * outcome (onCall). Anything thrown leaves as the DomainError the caller may see. */
export const runCall = async <T>(call: Call, deps: PipelineDeps, next: () => Promise<T>): Promise<T> => {
  const { route } = call;
  const name = `${route.service.name}.${route.method.name}`;
  const started = performance.now();
  const info = call.values.get(requestInfoKey);
  markReached(info);
  let code = 'OK';
  let tenantId: string | undefined;
  try {
    applyLimits(deps.limiter, route, info.clientIp, call.responseHeader);
    if (route.option.admin) authenticateAdmin(deps.adminToken, call.requestHeader);
    else {
      const caller = authenticateTenant(deps.readDb(), call.requestHeader, info);
      tenantId = caller.tenantId;
      call.values.set(callerKey, caller);
    }
    return await next();
  } catch (err) {
    const { error, internal } = toDomainError(err);
    code = error.code;
    if (internal) deps.logger.error({ requestId: info.requestId, method: name, err }, 'internal error');
    throw error;
  } finally {
    const seconds = (performance.now() - started) / 1000;
    deps.metrics.requests.inc({ method: name, transport: call.transport, code });
    deps.metrics.duration.observe({ method: name, transport: call.transport }, seconds);
    deps.onCall(info, { method: name, transport: call.transport, code, tenantId });
  }
};

const transportOf = (contentType: string | null) => (contentType?.startsWith('application/grpc-web') ? 'grpc_web' : contentType?.startsWith('application/grpc') ? 'grpc' : 'connect');

/** The pipeline for gRPC, gRPC-Web and Connect: every call of the registered services runs
 * through runCall; failures leave as a ConnectError with our ErrorDetail and the limit headers. */
export const pipelineInterceptor = (routes: readonly Route[], deps: PipelineDeps): Interceptor => {
  const byMethod = new Map<DescMethod, Route>(routes.map((r) => [r.method, r]));
  return (next) => async (req) => {
    const route = byMethod.get(req.method);
    if (!route) throw toConnectError(new DomainError('UNIMPLEMENTED', `${req.method.parent.typeName}.${req.method.name} has no route`));
    const responseHeader = new Headers();
    try {
      const res = await runCall({ route, transport: transportOf(req.header.get('content-type')), requestHeader: req.header, responseHeader, values: req.contextValues }, deps, () => next(req));
      responseHeader.forEach((v, k) => res.header.set(k, v));
      return res;
    } catch (err) {
      throw toConnectError(toDomainError(err).error, responseHeader);
    }
  };
};
