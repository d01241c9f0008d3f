// Fixed-window counters, one per key (per node, in memory). Answers carry RateLimit-* headers
// (IETF draft) and, when refused, Retry-After. Which keys and limits apply: admission.ts.
//
// Memory is bounded: the map holds only live windows (it is kept in the order windows started, so
// the ended ones are dropped from its front as time passes) and at most `maxKeys` of them; a named
// pool (the anonymous callers') may be held to fewer. When a new key finds no room, its hit is
// refused (`full`) until the oldest window ends; an `unbounded` pool is never refused. A live counter is never evicted to make room:
// eviction would reset it, and whoever can create keys (any address rotation) could then wipe
// the counters of the clients it wants to go on guessing as, its own included (docs/security.md).

export type LimitDecision = {
  allowed: boolean;
  limit: number;
  remaining: number;
  resetSeconds: number;
  /** Refused because the limiter holds as many keys as it may (not because this key's limit was reached). */
  full?: true;
};
export type RateLimiter = ReturnType<typeof createRateLimiter>;

type Window = { start: number; count: number; pool: string | undefined };

export type RateLimiterOptions = {
  windowSeconds: number;
  now: () => number;
  /** Keys counted at once, all pools together. */
  maxKeys: number;
  /** Keys one named pool may hold at once (below maxKeys), so that it cannot take the others' room. */
  poolMax?: Record<string, number>;
  /** Pools never refused for want of room (the operator's: few keys, and it must get in to act on a flood). */
  unbounded?: readonly string[];
  /** Called when a new key was refused for want of room (for metrics and a log line). */
  onFull?: (pool: string | undefined) => void;
};

export const createRateLimiter = (opts: RateLimiterOptions) => {
  // In the order windows started: a renewed window moves to the end.
  const windows = new Map<string, Window>();
  const inPool = new Map<string, number>();
  const windowMs = opts.windowSeconds * 1000;
  // Dropping ended windows is cheap (they are at the front) but not free: at most every 1/10 window,
  // and whenever a new key would not fit.
  const expireEveryMs = Math.min(1000, windowMs / 10);
  let lastExpiry = opts.now();

  const expire = (now: number) => {
    lastExpiry = now;
    for (const [k, w] of windows) {
      if (now - w.start < windowMs) break;
      windows.delete(k);
      if (w.pool !== undefined) inPool.set(w.pool, inPool.get(w.pool)! - 1);
    }
  };
  const roomFor = (pool: string | undefined) =>
    pool === undefined
      ? windows.size < opts.maxKeys
      : opts.unbounded?.includes(pool) || (windows.size < opts.maxKeys && (inPool.get(pool) ?? 0) < (opts.poolMax?.[pool] ?? Infinity));
  const secondsUntil = (end: number, now: number) => Math.max(1, Math.ceil((end - now) / 1000));
  /** Seconds until the oldest window (in the pool when it is the pool that is full) ends. */
  const untilRoom = (pool: string | undefined, now: number) => {
    const poolFull = pool !== undefined && windows.size < opts.maxKeys;
    for (const w of windows.values()) if (!poolFull || w.pool === pool) return secondsUntil(w.start + windowMs, now);
    return 1;
  };

  return {
    /** Counts one hit on `key` and says whether it is within `limit` for the current window.
     * `pool`: the named pool (RateLimiterOptions.poolMax) a new key of this kind belongs to. */
    hit: (key: string, limit: number, pool?: string): LimitDecision => {
      const now = opts.now();
      if (now - lastExpiry >= expireEveryMs) expire(now);
      let w = windows.get(key);
      if (w && now - w.start >= windowMs) {
        windows.delete(key); // renewed below, at the end
        w.start = now;
        w.count = 0;
        windows.set(key, w);
      } else if (!w) {
        if (!roomFor(pool)) expire(now);
        if (!roomFor(pool)) {
          opts.onFull?.(pool);
          return { allowed: false, limit, remaining: 0, resetSeconds: untilRoom(pool, now), full: true };
        }
        w = { start: now, count: 0, pool };
        windows.set(key, w);
        if (pool !== undefined) inPool.set(pool, (inPool.get(pool) ?? 0) + 1);
      }
      w.count++;
      return { allowed: w.count <= limit, limit, remaining: Math.max(0, limit - w.count), resetSeconds: secondsUntil(w.start + windowMs, now) };
    },
    /** Whether `key` has used up `limit` in its current window (counts nothing). */
    exhausted: (key: string, limit: number): boolean => {
      const w = windows.get(key);
      return w !== undefined && opts.now() - w.start < windowMs && w.count >= limit;
    },
    /** Keys currently held, in all and in a pool (a bound on memory, for tests and metrics). */
    size: (pool?: string) => (pool === undefined ? windows.size : (inPool.get(pool) ?? 0)),
  };
};
