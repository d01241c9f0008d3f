// Fixed-window counters, one per key (per node, in memory). Answers carry RateLimit-* headers
// (IETF draft) and, when refused, Retry-After. Which keys and limits apply: admission.ts.
//
// Memory is bounded: only live windows are held (each pool's map is kept in the order its windows
// started, so the ended ones are dropped from its front as time passes), at most `maxKeys` of
// them, and a named pool (the anonymous callers', each tenant's) may be held to fewer. When a new key finds no
// room, its hit is refused (`full`) until the oldest window ends; an `unbounded` pool is never
// refused. A live counter is never evicted to make room: eviction would reset it, and whoever can
// create keys (any address rotation) could then wipe the counters of the clients it wants to go on
// guessing as, its own included (docs/security.md).

export type LimitDecision = {
  allowed: boolean;
  limit: number;
  remaining: number;
  resetSeconds: number;
  /** Refused because the limiter holds as many keys as it may (not because this key's limit was reached). */
  full?: true;
};
export type RateLimiter = ReturnType<typeof createRateLimiter>;

type Window = { start: number; count: number };

export type RateLimiterOptions = {
  windowSeconds: number;
  now: () => number;
  /** Keys counted at once, all pools together. */
  maxKeys: number;
  /** Keys a named pool may hold at once (below maxKeys), so that it cannot take the others' room. */
  poolMax?: (pool: string) => number;
  /** Pools never refused for want of room (the operator's: few keys, and it must get in to act on a flood). */
  unbounded?: readonly string[];
  /** Called when a new key was refused for want of room (for metrics and a log line): in its pool
   * (`pool`: the pool held its share) or in all (`all`: the limiter held maxKeys). */
  onFull?: (pool: string | undefined, where: 'pool' | 'all') => void;
};

export const createRateLimiter = (opts: RateLimiterOptions) => {
  // One map per pool (a key always comes with the same pool), each in the order its windows
  // started: a renewed window moves to the end. Keys without a pool are under `undefined`.
  const pools = new Map<string | undefined, Map<string, Window>>();
  let total = 0;
  const windowMs = opts.windowSeconds * 1000;
  // Dropping ended windows is cheap (they are at the fronts) but not free: at most every 1/10
  // window, and whenever a new key would not fit.
  const expireEveryMs = Math.min(1000, windowMs / 10);
  let lastExpiry = opts.now();

  const poolOf = (pool: string | undefined) => {
    let m = pools.get(pool);
    if (!m) pools.set(pool, (m = new Map()));
    return m;
  };
  const expire = (now: number) => {
    lastExpiry = now;
    for (const m of pools.values()) {
      for (const [k, w] of m) {
        if (now - w.start < windowMs) break;
        m.delete(k);
        total--;
      }
    }
    for (const [pool, m] of pools) if (m.size === 0) pools.delete(pool);
  };
  const poolFull = (pool: string | undefined) => pool !== undefined && opts.poolMax !== undefined && (pools.get(pool)?.size ?? 0) >= opts.poolMax(pool);
  const roomFor = (pool: string | undefined) => (pool !== undefined && opts.unbounded?.includes(pool)) || (total < opts.maxKeys && !poolFull(pool));
  const secondsUntil = (end: number, now: number) => Math.max(1, Math.ceil((end - now) / 1000));
  /** Seconds until a window ends that makes room: the pool's oldest when the pool is full, else the oldest of all. */
  const untilRoom = (pool: string | undefined, now: number) => {
    const oldest = (m: Map<string, Window> | undefined) => m?.values().next().value?.start ?? Infinity;
    const start = poolFull(pool) && total < opts.maxKeys ? oldest(pools.get(pool)) : Math.min(...[...pools.values()].map(oldest));
    return Number.isFinite(start) ? secondsUntil(start + windowMs, now) : 1;
  };

  return {
    /** Counts one hit on `key` and says whether it is within `limit` for the current window.
     * `pool`: the named pool (RateLimiterOptions.poolMax) a key of this kind belongs to. */
    hit: (key: string, limit: number, pool?: string): LimitDecision => {
      const now = opts.now();
      if (now - lastExpiry >= expireEveryMs) expire(now);
      const m = poolOf(pool);
      let w = m.get(key);
      if (w && now - w.start >= windowMs) {
        m.delete(key); // renewed below, at the end
        w.start = now;
        w.count = 0;
        m.set(key, w);
      } else if (!w) {
        if (!roomFor(pool)) expire(now);
        if (!roomFor(pool)) {
          opts.onFull?.(pool, total >= opts.maxKeys ? 'all' : 'pool');
          return { allowed: false, limit, remaining: 0, resetSeconds: untilRoom(pool, now), full: true };
        }
        w = { start: now, count: 0 };
        poolOf(pool).set(key, w); // not m: expire may have dropped that map, were it empty
        total++;
      }
      w.count++;
      return { allowed: w.count <= limit, limit, remaining: Math.max(0, limit - w.count), resetSeconds: secondsUntil(w.start + windowMs, now) };
    },
    /** Whether `key` (of `pool`) has used up `limit` in its current window (counts nothing). */
    exhausted: (key: string, limit: number, pool?: string): boolean => {
      const w = pools.get(pool)?.get(key);
      return w !== undefined && opts.now() - w.start < windowMs && w.count >= limit;
    },
    /** Keys currently held, in all and in a pool (a bound on memory, for tests and metrics). */
    size: (pool?: string) => (pool === undefined ? total : (pools.get(pool)?.size ?? 0)),
    /** Keys held by each named pool that holds any. */
    poolSizes: (): [string, number][] => [...pools].flatMap(([pool, m]) => (pool === undefined || m.size === 0 ? [] : [[pool, m.size] as [string, number]])),
  };
};
