// Fixed-window counters, one per key (per node, in memory). Answers carry RateLimit-* headers
// (IETF draft) and, when refused, Retry-After. Which keys and limits apply: admission.ts.

export type LimitDecision = { allowed: boolean; limit: number; remaining: number; resetSeconds: number };
export type RateLimiter = ReturnType<typeof createRateLimiter>;

export const createRateLimiter = (opts: { windowSeconds: number; now: () => number }) => {
  const windows = new Map<string, { start: number; count: number }>();
  const windowMs = opts.windowSeconds * 1000;
  let lastSweep = opts.now();

  const sweep = (now: number) => {
    if (now - lastSweep < windowMs) return;
    lastSweep = now;
    for (const [k, w] of windows) if (now - w.start >= windowMs) windows.delete(k);
  };

  return {
    /** Counts one hit on `key` and says whether it is within `limit` for the current window. */
    hit: (key: string, limit: number): LimitDecision => {
      const now = opts.now();
      sweep(now);
      let w = windows.get(key);
      if (!w || now - w.start >= windowMs) {
        w = { start: now, count: 0 };
        windows.set(key, w);
      }
      w.count++;
      const resetSeconds = Math.max(1, Math.ceil((w.start + windowMs - now) / 1000));
      return { allowed: w.count <= limit, limit, remaining: Math.max(0, limit - w.count), resetSeconds };
    },
    /** Keys currently counted (a bound on memory, for tests and metrics). */
    size: () => windows.size,
  };
};
