// At most `perTenant` jobs run at once for one tenant; the others wait in that tenant's queue,
// oldest first. Tenants never wait for each other, so a slow receiver holds only its own slots.
export type TenantSlots = {
  /** Runs job when the tenant has a free slot; resolves (never rejects) when it has finished. */
  run: (tenantId: string, job: () => Promise<void>) => Promise<void>;
  running: (tenantId: string) => number;
  waiting: (tenantId: string) => number;
  /** Jobs running or waiting, all tenants. */
  size: () => number;
};

export const createTenantSlots = (perTenant: number, onJobError: (err: unknown) => void = () => {}): TenantSlots => {
  if (!Number.isInteger(perTenant) || perTenant < 1) throw new RangeError(`perTenant must be an integer >= 1, got ${perTenant}`);
  const active = new Map<string, number>();
  const queues = new Map<string, Array<() => void>>();
  let size = 0;

  const release = (tenantId: string) => {
    const next = queues.get(tenantId)?.shift();
    if (queues.get(tenantId)?.length === 0) queues.delete(tenantId);
    if (next) return next(); // the slot passes straight to the next job
    const n = (active.get(tenantId) ?? 1) - 1;
    if (n > 0) active.set(tenantId, n);
    else active.delete(tenantId);
  };

  return {
    run: (tenantId, job) => {
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
        } else {
          const q = queues.get(tenantId) ?? [];
          q.push(start);
          queues.set(tenantId, q);
        }
      });
    },
    running: (tenantId) => active.get(tenantId) ?? 0,
    waiting: (tenantId) => queues.get(tenantId)?.length ?? 0,
    size: () => size,
  };
};
