// At most `perTenant` jobs run at once for one tenant; the others wait in that tenant's queue,
// oldest first. Tenants never wait for each other, so a slow receiver holds only its own slots.
// A tenant's waiting jobs can be shed (newest first): they never run, and their onShed is called.
export type TenantSlots = {
  /** Runs job when the tenant has a free slot; resolves (never rejects) when it has finished, or
   * when it was shed before starting (then onShed ran instead). */
  run: (tenantId: string, job: () => Promise<void>, onShed?: () => void) => Promise<void>;
  /** Sheds the tenant's waiting jobs, newest first, until it has at most `keep` jobs (running and
   * waiting); returns how many were shed. Running jobs are never shed. */
  shed: (tenantId: string, keep: number) => number;
  running: (tenantId: string) => number;
  waiting: (tenantId: string) => number;
  /** Jobs running or waiting, all tenants. */
  size: () => number;
};

type Waiting = { start: () => void; shed: () => void };

export const createTenantSlots = (perTenant: number, onJobError: (err: unknown) => void = () => {}): TenantSlots => {
  if (!Number.isInteger(perTenant) || perTenant < 1) throw new RangeError(`perTenant must be an integer >= 1, got ${perTenant}`);
  const active = new Map<string, number>();
  const queues = new Map<string, Waiting[]>();
  let size = 0;

  const release = (tenantId: string) => {
    const next = queues.get(tenantId)?.shift();
    if (queues.get(tenantId)?.length === 0) queues.delete(tenantId);
    if (next) return next.start(); // the slot passes straight to the next job
    const n = (active.get(tenantId) ?? 1) - 1;
    if (n > 0) active.set(tenantId, n);
    else active.delete(tenantId);
  };

  return {
    run: (tenantId, job, onShed) => {
      size++;
      return new Promise<void>((done) => {
        const start = () => {
          Promise.resolve()
            .then(job)
            .catch(onJobError)
            .finally(() => {
              size--;
              release(tenantId);
              done();
            });
        };
        const n = active.get(tenantId) ?? 0;
        if (n < perTenant) {
          active.set(tenantId, n + 1);
          start();
          return;
        }
        const shed = () => {
          size--;
          try {
            onShed?.();
          } catch (err) {
            onJobError(err);
          }
          done();
        };
        const q = queues.get(tenantId) ?? [];
        q.push({ start, shed });
        queues.set(tenantId, q);
      });
    },
    shed: (tenantId, keep) => {
      const q = queues.get(tenantId);
      if (!q) return 0;
      const excess = Math.min(q.length, (active.get(tenantId) ?? 0) + q.length - Math.max(0, keep));
      if (excess <= 0) return 0;
      const dropped = q.splice(q.length - excess, excess);
      if (q.length === 0) queues.delete(tenantId);
      for (const w of dropped.reverse()) w.shed();
      return dropped.length;
    },
    running: (tenantId) => active.get(tenantId) ?? 0,
    waiting: (tenantId) => queues.get(tenantId)?.length ?? 0,
    size: () => size,
  };
};
