// Who is calling, and may they: every API request is identified from its headers and counted
// before anything else is read, so whatever the server later refuses (a bad body, an unknown key,
// an undecodable message) has already counted. The limits model (docs/security.md):
//   - no valid credentials: one stricter bucket per client address ("unauthenticated");
//   - a tenant key: per (tenant, address) "global", "send" and "verify" buckets — the seed's
//     100/3/10 per minute — where the address is the end user's when the tenant passes it in
//     X-SecureKey-End-User-IP (so its users, not its server, are limited), and a bucket per key;
//     a tenant's settings may override each limit;
//   - the admin token: a per-address bucket of the per-key size.
// A request for a method without the credentials it needs is refused here (UNAUTHORIZED), before
// its body is read.
// IPv6 addresses count per /64 (one host usually holds a whole /64). Counters live in this node's
// memory: with several nodes each counts on its own. That memory is bounded (rate-limit.ts): at most
// SECUREKEY_RATE_LIMIT_MAX_KEYS counters, of which anonymous callers may hold half, so that a flood
// from many addresses cannot take the room of tenants' end users, and one tenant at most
// SECUREKEY_RATE_LIMIT_TENANT_PERCENT, so that one tenant's flood (its keys claiming ever new end-user
// addresses) cannot take the room of the others' (the admin token's few per-address counters are
// never refused, so the operator gets in during a flood); a key over its own limit makes no new
// per-address counters, so a key cannot fill the room faster than its limit lets it. A request
// that needs a new counter when there is no room is refused (RATE_LIMITED), never let through
// uncounted and never by wiping someone else's counter.
import { isIP } from 'node:net';
import type { DatabaseSync } from 'node:sqlite';
import { hashApiKey } from '../app/tenants.ts';
import { safeEqual } from '../crypto/keyring.ts';
import { clientNetOf } from '../domain/address.ts';
import { DomainError } from '../domain/errors.ts';
import type { TenantSettings } from '../domain/tenant/index.ts';
import { findCaller } from '../../projections/tenants/index.ts';
import type { Caller, Identity, RequestInfo } from './context.ts';
import { createRateLimiter, type LimitDecision, type RateLimiter } from './rate-limit.ts';
import type { Route } from './routes.ts';

/** The request header (gRPC: metadata) in which a tenant passes its end user's IP address. */
export const END_USER_IP_HEADER = 'x-securekey-end-user-ip';

export type Limits = {
  /** Requests per window from one address without valid credentials. */
  unauthenticated: number;
  /** Requests per window per (tenant, client or end-user address); the admin token per address. */
  global: number;
  /** Code sends (SMS, email, push) per window per (tenant, address). */
  send: number;
  /** Verification attempts per window per (tenant, address). */
  verify: number;
  /** Requests per window per API key, whatever the address. */
  perKey: number;
};

/** Who sent a request. `refusal`: the UNAUTHORIZED an anonymous request gets when it reaches a method. */

type NodeHeaders = Record<string, string | string[] | undefined>;
const headerOf = (h: NodeHeaders, name: string): string | undefined => {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
};
const bearerOf = (h: NodeHeaders) => /^Bearer\s+(\S+)$/i.exec(headerOf(h, 'authorization') ?? '')?.[1];

/** "::ffff:203.0.113.7" → "203.0.113.7", lower case. */
const canonicalIp = (ip: string) => ip.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '').toLowerCase();

/** A tenant's limits: its settings' overrides (0: the server's) over the server's. */
export const tenantLimits = (server: Limits, s: TenantSettings | undefined): Limits => ({
  unauthenticated: server.unauthenticated,
  global: s?.rateLimitGlobal || server.global,
  send: s?.rateLimitSend || server.send,
  verify: s?.rateLimitVerify || server.verify,
  perKey: s?.rateLimitPerKey || server.perKey,
});

/** The pool anonymous callers' counters belong to (at most ANONYMOUS_SHARE of the limiter's room). */
export const ANONYMOUS_POOL = 'anonymous';
export const ANONYMOUS_SHARE = 0.5;
/** The admin token's counters (per address): never refused for want of room, so that the operator
 * can reach the server during a flood; only the admin token makes them. */
const ADMIN_POOL = 'admin';
/** Every other pool is a tenant's, named by its id ("tn_…"): its keys' and its callers' counters. */
const isTenantPool = (pool: string) => pool !== ANONYMOUS_POOL && pool !== ADMIN_POOL;
/** The pool label of metrics and logs: a tenant's id is not a label (one series per tenant). */
const poolLabel = (pool: string | undefined) => (pool === undefined ? 'all' : isTenantPool(pool) ? 'tenant' : pool);

/** securekey_rate_limit_keys: the counters held in all, by anonymous callers, and by the tenant holding the most. */
export const rateLimitKeys = (limiter: RateLimiter): Record<string, number> => {
  let largest = 0;
  for (const [pool, n] of limiter.poolSizes()) if (isTenantPool(pool) && n > largest) largest = n;
  return { all: limiter.size(), [ANONYMOUS_POOL]: limiter.size(ANONYMOUS_POOL), largest_tenant: largest };
};

const FULL_MESSAGE = 'this server is counting too many clients at once to admit a new one';

/** The limiter admission counts with: at most `maxKeys` counters, ANONYMOUS_SHARE of them for
 * anonymous callers and `tenantPercent` % for each tenant. A caller refused for want of room is
 * counted (securekey_rate_limit_full_total) and logged, once per window and pool at most so that a
 * flood does not flood the log too. */
export const createAdmissionLimiter = (o: {
  windowSeconds: number;
  maxKeys: number;
  tenantPercent: number;
  now: () => number;
  metrics: { rateLimitFull: { inc: (labels: { pool: string }) => void } };
  logger: { warn: (obj: object, msg: string) => void };
}): RateLimiter => {
  const loggedAt = new Map<string, number>();
  const anonymousMax = Math.floor(o.maxKeys * ANONYMOUS_SHARE);
  const tenantMax = Math.max(1, Math.floor((o.maxKeys * o.tenantPercent) / 100));
  return createRateLimiter({
    windowSeconds: o.windowSeconds,
    now: o.now,
    maxKeys: o.maxKeys,
    poolMax: (pool) => (pool === ANONYMOUS_POOL ? anonymousMax : isTenantPool(pool) ? tenantMax : Infinity),
    unbounded: [ADMIN_POOL],
    onFull: (name, where) => {
      const pool = where === 'all' ? 'all' : poolLabel(name);
      o.metrics.rateLimitFull.inc({ pool });
      // Once per window for the whole and for each pool; a tenant's is named by its id (not personal data).
      const key = where === 'all' ? 'all' : (name ?? 'all');
      if (o.now() - (loggedAt.get(key) ?? -Infinity) < o.windowSeconds * 1000) return;
      loggedAt.set(key, o.now());
      o.logger.warn({ pool, ...(pool === 'tenant' ? { tenantId: name } : {}), maxKeys: o.maxKeys }, 'rate limiter full: refusing callers that need a new counter (429) until windows end; see securekey_rate_limit_full_total');
    },
  });
};

export type AdmissionDeps = {
  readDb: () => DatabaseSync;
  adminToken: string;
  limiter: RateLimiter;
  limits: Limits;
};

export type Admission =
  | { ok: true; identity: Identity; decision: LimitDecision }
  | { ok: false; error: DomainError; decision?: LimitDecision };

/** Identifies a request from its headers and counts it (createAdmission). */
export type Admit = ReturnType<typeof createAdmission>;

export const createAdmission = (deps: AdmissionDeps) => {
  const anonymous = (message: string): Identity => ({ kind: 'anonymous', refusal: new DomainError('UNAUTHORIZED', message) });

  const identify = (headers: NodeHeaders, route: Route | undefined, info: Pick<RequestInfo, 'requestId' | 'clientIp'>): Identity | DomainError => {
    if (!route) return anonymous('no such method');
    if (route.option.admin) {
      if (!deps.adminToken) return anonymous('the admin API is disabled: set SECUREKEY_ADMIN_TOKEN (or use `npm run admin`)');
      const token = headerOf(headers, 'x-admin-token') ?? bearerOf(headers);
      return token && safeEqual(token, deps.adminToken) ? { kind: 'admin' } : anonymous('missing or wrong admin token');
    }
    const key = headerOf(headers, 'x-api-key') ?? bearerOf(headers);
    if (!key) return anonymous('missing API key: send "X-API-Key: 2fa_..." or "Authorization: Bearer 2fa_..."');
    const found = findCaller(deps.readDb(), hashApiKey(key));
    if (!found || found.key.revoked) return anonymous('unknown or revoked API key');
    const given = headerOf(headers, END_USER_IP_HEADER)?.trim();
    if (given !== undefined && !isIP(given)) {
      return new DomainError('INVALID_ARGUMENT', `${END_USER_IP_HEADER}: expected the end user's IPv4 or IPv6 address`);
    }
    const caller: Caller = { tenantId: found.key.tenantId, keyId: found.key.keyId, tenant: found.tenant, requestId: info.requestId, clientIp: info.clientIp, ...(given ? { endUserIp: canonicalIp(given) } : {}) };
    return { kind: 'tenant', caller };
  };

  const anonKey = (clientIp: string) => `anon|${clientNetOf(clientIp)}`;
  /** The pool a caller's counters belong to: anonymous, admin, or its tenant's (by id). */
  const poolOf = (identity: Identity) => (identity.kind === 'tenant' ? identity.caller.tenantId : identity.kind === 'admin' ? ADMIN_POOL : ANONYMOUS_POOL);
  const refusal = (d: LimitDecision, message: string) =>
    new DomainError('RATE_LIMITED', `${d.full ? FULL_MESSAGE : message}; retry in ${d.resetSeconds} s`, { retryAfterSeconds: d.resetSeconds });

  /** The buckets a request counts against, in order, each with its limit and what to say when full. */
  const bucketsOf = (identity: Identity, route: Route | undefined, clientIp: string): [string, number, string][] => {
    const net = clientNetOf(clientIp);
    if (identity.kind === 'anonymous') return [[anonKey(clientIp), deps.limits.unauthenticated, 'too many unauthenticated requests from this address']];
    // The admin token is the operator's key: it has a key's bucket.
    if (identity.kind === 'admin') return [[`admin|${net}`, deps.limits.perKey, 'too many admin requests from this address']];
    const { caller } = identity;
    const l = tenantLimits(deps.limits, caller.tenant.settings);
    const who = `${caller.tenantId}|${clientNetOf(caller.endUserIp ?? clientIp)}`;
    const by = caller.endUserIp ? 'for this end user' : 'from this address';
    const out: [string, number, string][] = [[`global|${who}`, l.global, `too many requests ${by}`]];
    if (route?.option.limit === 'send') out.push([`send|${who}`, l.send, `too many codes requested ${by}`]);
    if (route?.option.limit === 'verify') out.push([`verify|${who}`, l.verify, `too many verification attempts ${by}`]);
    out.push([`key|${caller.keyId}`, l.perKey, 'too many requests with this API key']);
    return out;
  };

  /** Identifies the request and counts it; refused when a bucket is full (RATE_LIMITED, with the
   * seconds to wait) or the end-user address is malformed. */
  return (headers: NodeHeaders, route: Route | undefined, info: Pick<RequestInfo, 'requestId' | 'clientIp'>): Admission => {
    const identity = identify(headers, route, info);
    if (identity instanceof DomainError) {
      const counted = deps.limiter.hit(anonKey(info.clientIp), deps.limits.unauthenticated, ANONYMOUS_POOL);
      return { ok: false, error: identity, decision: counted };
    }
    const buckets = bucketsOf(identity, route, info.clientIp);
    const pool = poolOf(identity);
    // A key over its own limit is refused before any per-address counter is made for it: claiming
    // ever new end-user addresses must not grow the limiter faster than the key's limit allows.
    const [perKey, perKeyLimit, perKeyMessage] = buckets.at(-1)!;
    if (identity.kind === 'tenant' && deps.limiter.exhausted(perKey, perKeyLimit, pool)) {
      const d = deps.limiter.hit(perKey, perKeyLimit, pool);
      return { ok: false, decision: d, error: refusal(d, perKeyMessage) };
    }
    let tightest: LimitDecision | undefined;
    for (const [key, limit, message] of buckets) {
      const d = deps.limiter.hit(key, limit, pool);
      if (!d.allowed) return { ok: false, decision: d, error: refusal(d, message) };
      if (!tightest || d.remaining < tightest.remaining) tightest = d;
    }
    // A method that needs credentials it did not get: refused before its body is read.
    if (identity.kind === 'anonymous' && route) return { ok: false, error: identity.refusal, decision: tightest };
    return { ok: true, identity, decision: tightest! };
  };
};

/** The RateLimit-* headers of a decision (and Retry-After when refused). */
export const limitHeaders = (d: LimitDecision | undefined): Record<string, string> =>
  d
    ? {
        'ratelimit-limit': String(d.limit),
        'ratelimit-remaining': String(d.remaining),
        'ratelimit-reset': String(d.resetSeconds),
        ...(d.allowed ? {} : { 'retry-after': String(d.resetSeconds) }),
      }
    : {};
