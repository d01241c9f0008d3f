// Per-client-IP fixed-window limits (the seed's: 100/min global, 3/min sends, 10/min verifications).
// Answers carry RateLimit-* headers (IETF draft) and, when refused, Retry-After.

export type LimitDecision = { allowed: boolean; limit: number; remaining: number; resetSeconds: number };
export type RateLimiter = ReturnType<typeof createRateLimiter>;

export const createRateLimiter = (opts: { limits: Record<string, number>; windowSeconds: number; now: () => number }) => {
  const windows = new Map<string, { start: number; count: number }>();
  const windowMs = opts.windowSeconds * 1000;
  let lastSweep = opts.now();

  const sweep = (now: number) => {
    if (now - lastSweep < windowMs) return;
    lastSweep = now;
    for (const [k, w] of windows) if (now - w.start >= windowMs) windows.delete(k);
  };

  return {
    /** Counts one hit on the bucket for this key and says whether it is allowed. */
    hit: (bucket: string, key: string): LimitDecision => {
      const limit = opts.limits[bucket];
      if (limit === undefined) throw new Error(`unknown rate-limit bucket ${bucket}`);
      const now = opts.now();
      sweep(now);
      const id = `${bucket}\u0000${key}`;
      let w = windows.get(id);
      if (!w || now - w.start >= windowMs) {
        w = { start: now, count: 0 };
        windows.set(id, w);
      }
      w.count++;
      const resetSeconds = Math.max(1, Math.ceil((w.start + windowMs - now) / 1000));
      return { allowed: w.count <= limit, limit, remaining: Math.max(0, limit - w.count), resetSeconds };
    },
  };
};
